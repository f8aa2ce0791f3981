// --inject-fault's values: what parse_fault() accepts, how it refuses the
// rest (one line naming the text and what is accepted), and that to_string()
// reads back as what was given (the context's injected_fault).
#include "mechanisms/support/fault_injection.hpp"

#include <gtest/gtest.h>

#include <string>

#include "harness/base/error.hpp"

namespace ipcatlas {
namespace {

TEST(ParseFault, TheFailuresKeepTheirMeaning) {
  EXPECT_EQ(parse_fault("corrupt").kind, FaultPlan::Kind::corrupt);
  EXPECT_EQ(parse_fault("kill").kind, FaultPlan::Kind::kill);
  const FaultPlan hang = parse_fault("hang");
  EXPECT_EQ(hang.kind, FaultPlan::Kind::hang);
  EXPECT_EQ(hang.rank, 1);
  EXPECT_EQ(hang.from_batch, 1u);
  EXPECT_EQ(hang.delay_ns, 0u);
}

TEST(ParseFault, DelayTakesWholeNanosecondsUpToTenMilliseconds) {
  for (const auto& [text, ns] : {std::pair{"delay:0", 0ull}, std::pair{"delay:1", 1ull}, std::pair{"delay:300", 300ull},
                                 std::pair{"delay:007", 7ull}, std::pair{"delay:10000000", 10'000'000ull}}) {
    SCOPED_TRACE(text);
    const FaultPlan plan = parse_fault(text);
    EXPECT_EQ(plan.kind, FaultPlan::Kind::delay);
    EXPECT_EQ(plan.delay_ns, ns);
  }
  EXPECT_EQ(kMaxFaultDelayNs, 10'000'000u);
}

// One line, naming the bad text and what would be accepted.
void expect_refused(const std::string& text, const std::string& accepted) {
  SCOPED_TRACE(text);
  try {
    parse_fault(text);
    ADD_FAILURE() << "accepted";
  } catch (const UsageError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("'" + text + "'"), std::string::npos) << message;
    EXPECT_NE(message.find(accepted), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(ParseFault, EveryOtherTextIsAUsageErrorNamingIt) {
  const std::string range = "delay:NS takes NS, whole nanoseconds from 0 to 10000000 (10 ms)";
  for (const char* text :
       {"delay:", "delay:-5", "delay:abc", "delay:1.5", "delay:99999999999", "delay:10000001", "delay:+5", "delay: 5",
        "delay:5 ", "delay:1e3", "delay:0x10", "delay:5ns", "delay:18446744073709551616", "delay:300:1"})
    expect_refused(text, range);
  for (const char* text : {"delay", "Delay:5", "explode", "", "corrupt:1", "delay=5"})
    expect_refused(text, "(expected corrupt, kill, hang or delay:NS)");
}

TEST(FaultText, ReadsBackAsGiven) {
  for (const char* text : {"corrupt", "kill", "hang", "delay:0", "delay:300", "delay:10000000"})
    EXPECT_EQ(to_string(parse_fault(text)), text);
  EXPECT_EQ(to_string(parse_fault("delay:007")), "delay:7");
  EXPECT_EQ(to_string(FaultPlan{}), "");
}

}  // namespace
}  // namespace ipcatlas
