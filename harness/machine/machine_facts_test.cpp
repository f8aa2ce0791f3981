#include "harness/machine/machine_facts.hpp"

#include <gtest/gtest.h>

#include "harness/testing/fake_root.hpp"
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "harness/machine/doctor.hpp"

namespace ipcatlas {
namespace {

namespace fs = std::filesystem;
using Verdict = Fact::Verdict;

const std::vector<std::string> kFactKeys{"kernel",  "cpu_model",   "hypervisor",  "ptrace_scope",
                                         "seccomp", "thp",         "governor",    "turbo",
                                         "smt",     "mitigations", "clocksource", "numa_balancing"};

using testing::FakeRoot;

Fact fact_named(const std::vector<Fact>& facts, const std::string& key) {
  for (const Fact& f : facts)
    if (f.key == key) return f;
  ADD_FAILURE() << "no fact " << key;
  return {};
}

Fact read_fact(const FakeRoot& root, const std::string& key) { return fact_named(machine_facts(root.str()), key); }

TEST(MachineFacts, EmptyRootStillGivesEveryKeyInOrder) {
  const FakeRoot root;
  const std::vector<Fact> facts = machine_facts(root.str());
  ASSERT_EQ(facts.size(), kFactKeys.size());
  for (std::size_t i = 0; i < facts.size(); ++i) {
    EXPECT_EQ(facts[i].key, kFactKeys[i]);
    EXPECT_FALSE(facts[i].title.empty());
    EXPECT_FALSE(facts[i].value.empty()) << facts[i].key;
  }
}

TEST(MachineFacts, KernelAndCpuModel) {
  const FakeRoot root;
  root.write("proc/sys/kernel/osrelease", "6.1.0-18-amd64\n");
  root.write("proc/cpuinfo", "processor\t: 0\nmodel name\t: AMD EPYC 7763\nflags\t\t: fpu sse2\n\n"
                             "processor\t: 1\nmodel name\t: other\n");
  EXPECT_EQ(read_fact(root, "kernel").value, "6.1.0-18-amd64");
  EXPECT_EQ(read_fact(root, "cpu_model").value, "AMD EPYC 7763");
}

TEST(MachineFacts, CpuModelFallsBackToProcessorLine) {
  const FakeRoot root;
  root.write("proc/cpuinfo", "Processor\t: ARMv7 Processor rev 5 (v7l)\nprocessor\t: 0\n");
  EXPECT_EQ(read_fact(root, "cpu_model").value, "ARMv7 Processor rev 5 (v7l)");
}

TEST(MachineFacts, HypervisorFromFlagsWithFakeRootHasNoVendor) {
  const FakeRoot root;
  root.write("proc/cpuinfo", "model name\t: X\nflags\t\t: fpu hypervisor sse2\n");
  const Fact f = read_fact(root, "hypervisor");
  EXPECT_EQ(f.value, "present (vendor unknown)");
  EXPECT_EQ(f.verdict, Verdict::warn);
  EXPECT_NE(f.hint.find("pin vCPUs"), std::string::npos);
}

TEST(MachineFacts, HypervisorNoneAndSysfsType) {
  const FakeRoot root;
  root.write("proc/cpuinfo", "model name\t: X\nflags\t\t: fpu sse2 hypervisor_x\n");
  EXPECT_EQ(read_fact(root, "hypervisor").value, "none");
  EXPECT_EQ(read_fact(root, "hypervisor").verdict, Verdict::ok);
  root.write("sys/hypervisor/type", "xen\n");
  EXPECT_EQ(read_fact(root, "hypervisor").value, "xen");
  EXPECT_EQ(read_fact(root, "hypervisor").verdict, Verdict::warn);
}

struct PtraceCase {
  const char* file;  // nullptr: no Yama
  const char* value;
  Verdict verdict;
  const char* hint_part;
};

TEST(MachineFacts, PtraceScopeEveryMode) {
  const PtraceCase cases[] = {
      {nullptr, "not loaded (no Yama)", Verdict::ok, ""},
      {"0\n", "0 (classic ptrace permissions)", Verdict::ok, ""},
      {"1\n", "1 (restricted: only a parent or a PR_SET_PTRACER-declared tracer)", Verdict::info, "PR_SET_PTRACER"},
      {"2\n", "2 (admin-only: needs CAP_SYS_PTRACE)", Verdict::warn, "kernel.yama.ptrace_scope=1"},
      {"3\n", "3 (no attach)", Verdict::warn, "until reboot"},
  };
  for (const PtraceCase& c : cases) {
    const FakeRoot root;
    if (c.file != nullptr) root.write("proc/sys/kernel/yama/ptrace_scope", c.file);
    const Fact f = read_fact(root, "ptrace_scope");
    EXPECT_EQ(f.value, c.value);
    EXPECT_EQ(f.verdict, c.verdict) << c.value;
    EXPECT_NE(f.hint.find(c.hint_part), std::string::npos) << f.hint;
    if (c.verdict == Verdict::ok) {
      EXPECT_EQ(f.hint, "");
    }
  }
}

TEST(MachineFacts, SeccompDisabledAndFilter) {
  const FakeRoot root;
  root.write("proc/self/status", "Name:\tx\nSeccomp:\t0\nSeccomp_filters:\t0\n");
  EXPECT_EQ(read_fact(root, "seccomp").value, "0 (disabled, 0 filters)");
  EXPECT_EQ(read_fact(root, "seccomp").verdict, Verdict::ok);
  root.write("proc/self/status", "Name:\tx\nSeccomp:\t2\nSeccomp_filters:\t3\n");
  const Fact f = read_fact(root, "seccomp");
  EXPECT_EQ(f.value, "2 (filter, 3 filters)");
  EXPECT_EQ(f.verdict, Verdict::warn);
  EXPECT_NE(f.hint.find("process_vm_readv"), std::string::npos);
}

TEST(MachineFacts, ThpTakesTheBracketedChoice) {
  const FakeRoot root;
  EXPECT_EQ(read_fact(root, "thp").value, "not available");
  root.write("sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never\n");
  EXPECT_EQ(read_fact(root, "thp").value, "madvise");
  EXPECT_EQ(read_fact(root, "thp").hint, "");
  root.write("sys/kernel/mm/transparent_hugepage/enabled", "[always] madvise never\n");
  EXPECT_EQ(read_fact(root, "thp").value, "always");
  EXPECT_NE(read_fact(root, "thp").hint.find("first touch"), std::string::npos);
}

TEST(MachineFacts, GovernorMissingPerformancePowersave) {
  const FakeRoot root;
  Fact f = read_fact(root, "governor");
  EXPECT_EQ(f.value, "no cpufreq driver");
  EXPECT_EQ(f.verdict, Verdict::info);
  EXPECT_NE(f.hint.find("VMs"), std::string::npos);
  root.write("sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "performance\n");
  EXPECT_EQ(read_fact(root, "governor").verdict, Verdict::ok);
  root.write("sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "powersave\n");
  f = read_fact(root, "governor");
  EXPECT_EQ(f.value, "powersave");
  EXPECT_EQ(f.verdict, Verdict::warn);
  EXPECT_NE(f.hint.find("cpupower frequency-set -g performance"), std::string::npos);
}

TEST(MachineFacts, TurboFromIntelPstateOrCpufreqBoost) {
  const FakeRoot root;
  EXPECT_EQ(read_fact(root, "turbo").value, "unknown (no intel_pstate or cpufreq boost control)");
  root.write("sys/devices/system/cpu/cpufreq/boost", "0\n");
  EXPECT_EQ(read_fact(root, "turbo").value, "off");
  root.write("sys/devices/system/cpu/intel_pstate/no_turbo", "0\n");
  EXPECT_EQ(read_fact(root, "turbo").value, "on");
  EXPECT_NE(read_fact(root, "turbo").hint.find("no_turbo"), std::string::npos);
}

TEST(MachineFacts, SmtWithControl) {
  const FakeRoot root;
  EXPECT_EQ(read_fact(root, "smt").value, "unknown");
  root.write("sys/devices/system/cpu/smt/active", "1\n");
  root.write("sys/devices/system/cpu/smt/control", "on\n");
  EXPECT_EQ(read_fact(root, "smt").value, "on (control: on)");
  EXPECT_NE(read_fact(root, "smt").hint.find("hyperthreads"), std::string::npos);
}

TEST(MachineFacts, MitigationsCountedByFirstWord) {
  const FakeRoot root;
  const std::string dir = "sys/devices/system/cpu/vulnerabilities/";
  root.write(dir + "meltdown", "Not affected\n");
  root.write(dir + "mds", "Not affected\n");
  root.write(dir + "spectre_v1", "Mitigation: usercopy/swapgs barriers\n");
  root.write(dir + "itlb_multihit", "KVM: Mitigation: VMX disabled\n");
  root.write(dir + "retbleed", "Vulnerable\n");
  root.write(dir + "srbds", "Unknown: Dependent on hypervisor status\n");
  root.write("proc/cmdline", "root=/dev/sda1 quiet\n");
  Fact f = read_fact(root, "mitigations");
  EXPECT_EQ(f.value, "6 items: 2 mitigated, 2 not affected, 1 vulnerable (retbleed), 1 other");
  EXPECT_EQ(f.verdict, Verdict::info);
  EXPECT_NE(f.hint.find("mitigations= boot option"), std::string::npos);
  root.write("proc/cmdline", "root=/dev/sda1 mitigations=off quiet\n");
  EXPECT_EQ(read_fact(root, "mitigations").value,
            "6 items: 2 mitigated, 2 not affected, 1 vulnerable (retbleed), 1 other; "
            "mitigations=off on the kernel command line");
}

TEST(MachineFacts, MitigationsWithoutAnyMitigationHaveNoHint) {
  const FakeRoot root;
  EXPECT_EQ(read_fact(root, "mitigations").value, "unknown");
  root.write("sys/devices/system/cpu/vulnerabilities/meltdown", "Not affected\n");
  EXPECT_EQ(read_fact(root, "mitigations").value, "1 item: 1 not affected");
  EXPECT_EQ(read_fact(root, "mitigations").hint, "");
}

TEST(MachineFacts, ClocksourceHpetWarnsTscIsFine) {
  const FakeRoot root;
  const std::string file = "sys/devices/system/clocksource/clocksource0/current_clocksource";
  root.write(file, "hpet\n");
  EXPECT_EQ(read_fact(root, "clocksource").verdict, Verdict::warn);
  EXPECT_NE(read_fact(root, "clocksource").hint.find("tsc unstable"), std::string::npos);
  root.write(file, "tsc\n");
  EXPECT_EQ(read_fact(root, "clocksource").verdict, Verdict::ok);
  root.write(file, "kvm-clock\n");
  EXPECT_EQ(read_fact(root, "clocksource").verdict, Verdict::ok);
}

TEST(MachineFacts, NumaBalancing) {
  const FakeRoot root;
  EXPECT_EQ(read_fact(root, "numa_balancing").value, "not available");
  root.write("proc/sys/kernel/numa_balancing", "0\n");
  EXPECT_EQ(read_fact(root, "numa_balancing").value, "off");
  root.write("proc/sys/kernel/numa_balancing", "1\n");
  EXPECT_EQ(read_fact(root, "numa_balancing").value, "on");
  EXPECT_NE(read_fact(root, "numa_balancing").hint.find("kernel.numa_balancing=0"), std::string::npos);
}

TEST(MachineFacts, UnreadableIsReportedMissingIsHandled) {
  const FakeRoot root;
  root.make_unreadable("proc/sys/kernel/yama/ptrace_scope");
  root.make_unreadable("proc/sys/kernel/osrelease");
  const Fact scope = read_fact(root, "ptrace_scope");
  EXPECT_EQ(scope.value, "unreadable: " + root.str() + "/proc/sys/kernel/yama/ptrace_scope: EISDIR");
  EXPECT_EQ(scope.verdict, Verdict::info);
  EXPECT_EQ(read_fact(root, "kernel").value, "unreadable: " + root.str() + "/proc/sys/kernel/osrelease: EISDIR");
  // Missing files that mean something are not "unreadable".
  EXPECT_EQ(read_fact(root, "governor").value, "no cpufreq driver");
  EXPECT_EQ(read_fact(root, "thp").value, "not available");
}

TEST(MachineFacts, OnTheRealMachineEveryKeyHasAValue) {
  const std::vector<Fact> facts = machine_facts();
  ASSERT_EQ(facts.size(), kFactKeys.size());
  for (std::size_t i = 0; i < facts.size(); ++i) {
    EXPECT_EQ(facts[i].key, kFactKeys[i]);
    EXPECT_FALSE(facts[i].value.empty()) << facts[i].key;
  }
}

std::vector<Fact> sample_facts() {
  return {{"kernel", "Kernel", "6.1.0", Verdict::info, ""},
          {"governor", "Frequency governor", "powersave", Verdict::warn, "set the performance governor"},
          {"clocksource", "Clock source", "tsc", Verdict::ok, ""}};
}

TEST(Doctor, TablePrintsVerdictsHintsAndSummary) {
  std::ostringstream out;
  EXPECT_EQ(print_doctor_report(out, sample_facts(), false), 0);
  const std::string text = out.str();
  EXPECT_NE(text.find("Kernel              [info]  6.1.0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Frequency governor  [WARN]  powersave\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Clock source        [ ok ]  tsc\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\n                            → set the performance governor\n"), std::string::npos) << text;
  EXPECT_NE(text.find("1 warning\n"), std::string::npos);
  EXPECT_NE(text.find("each warning is recorded in the results' context"), std::string::npos);
}

TEST(Doctor, TableWithoutWarningsSaysSo) {
  std::ostringstream out;
  print_doctor_report(out, {{"kernel", "Kernel", "6.1.0", Verdict::info, ""}}, false);
  EXPECT_NE(out.str().find("0 warnings\n"), std::string::npos);
  EXPECT_EQ(out.str().find("Results are still produced"), std::string::npos);
}

TEST(Doctor, LongHintsAreWrappedUnderTheValue) {
  std::ostringstream out;
  const std::string hint(30, 'a');
  print_doctor_report(out, {{"k", "K", "v", Verdict::warn, hint + " " + hint + " " + hint}}, false);
  EXPECT_NE(out.str().find("→ " + hint + " " + hint + "\n" + std::string(13, ' ') + hint + "\n"), std::string::npos)
      << out.str();
}

TEST(Doctor, JsonHasEveryFieldOfEveryFact) {
  std::ostringstream out;
  EXPECT_EQ(print_doctor_report(out, sample_facts(), true), 0);
  const nlohmann::json doc = nlohmann::json::parse(out.str());
  ASSERT_EQ(doc.at("facts").size(), 3u);
  const nlohmann::json& governor = doc["facts"][1];
  EXPECT_EQ(governor.at("key"), "governor");
  EXPECT_EQ(governor.at("title"), "Frequency governor");
  EXPECT_EQ(governor.at("value"), "powersave");
  EXPECT_EQ(governor.at("verdict"), "warn");
  EXPECT_EQ(governor.at("hint"), "set the performance governor");
  EXPECT_EQ(doc["facts"][2].at("verdict"), "ok");
}

TEST(Doctor, WarningsForTheContextAreWarningsAndHintedInformation) {
  const std::vector<Fact> facts{{"kernel", "Kernel", "6.1.0", Verdict::info, ""},
                                {"governor", "Frequency governor", "powersave", Verdict::warn, "set performance"},
                                {"mitigations", "Mitigations", "2 vulnerable", Verdict::info, "compare alike kernels"},
                                {"thp", "THP", "madvise", Verdict::ok, ""}};
  const nlohmann::json doc = nlohmann::json::parse(doctor_warnings_json(facts));
  ASSERT_TRUE(doc.is_array());
  ASSERT_EQ(doc.size(), 2u) << doc;
  EXPECT_EQ(doc[0], (nlohmann::json{{"key", "governor"},
                                    {"title", "Frequency governor"},
                                    {"value", "powersave"},
                                    {"verdict", "warn"},
                                    {"hint", "set performance"}}));
  EXPECT_EQ(doc[1].at("key"), "mitigations");
  EXPECT_EQ(doctor_warnings_json({facts[0], facts[3]}), "[]");
}

}  // namespace
}  // namespace ipcatlas
