#include "harness/base/sizes.hpp"

#include <gtest/gtest.h>

#include "harness/base/error.hpp"

namespace ipcatlas {
namespace {

using Sizes = std::vector<std::size_t>;

TEST(ParseSize, AcceptsPlainNumbersAndBinarySuffixes) {
  EXPECT_EQ(parse_size("0"), 0u);
  EXPECT_EQ(parse_size("4096"), 4096u);
  EXPECT_EQ(parse_size("4K"), 4096u);
  EXPECT_EQ(parse_size("4k"), 4096u);
  EXPECT_EQ(parse_size("1M"), 1048576u);
  EXPECT_EQ(parse_size("1G"), std::size_t{1} << 30);
}

TEST(ParseSize, RejectsGarbageNamingIt) {
  for (const char* bad : {"", "abc", "4KB", "-1", "1.5M", "K", "12x"}) {
    try {
      parse_size(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(ParseSize, RejectsSizesOverTheLimit) {
  EXPECT_THROW(parse_size("2G"), UsageError);
  EXPECT_THROW(parse_size("1073741825"), UsageError);
  EXPECT_THROW(parse_size("99999999999999999999999"), UsageError);
  EXPECT_EQ(parse_size("1073741824"), kMaxMessageBytes);
}

TEST(ParseSizeList, ListsAreSortedAndDeduplicated) {
  EXPECT_EQ(parse_size_list("1,64,4K,1M"), (Sizes{1, 64, 4096, 1048576}));
  EXPECT_EQ(parse_size_list("64,1,64"), (Sizes{1, 64}));
}

TEST(ParseSizeList, RangesAreMinPowersOfTwoBetweenAndMax) {
  EXPECT_EQ(parse_size_list("1:16"), (Sizes{1, 2, 4, 8, 16}));
  EXPECT_EQ(parse_size_list("3:20"), (Sizes{3, 4, 8, 16, 20}));
  EXPECT_EQ(parse_size_list("0:4"), (Sizes{0, 1, 2, 4}));
  EXPECT_EQ(parse_size_list("8:8"), (Sizes{8}));
  EXPECT_EQ(parse_size_list("1:4M").size(), 23u);
  EXPECT_EQ(parse_size_list("1:4M").back(), 4u << 20);
}

TEST(ParseSizeList, MixesListsAndRanges) {
  EXPECT_EQ(parse_size_list("0,1K:4K,1M"), (Sizes{0, 1024, 2048, 4096, 1048576}));
}

TEST(ParseSizeList, RejectsBadItems) {
  EXPECT_THROW(parse_size_list("0:abc"), UsageError);
  EXPECT_THROW(parse_size_list("16:1"), UsageError);
  EXPECT_THROW(parse_size_list("1,,2"), UsageError);
  EXPECT_THROW(parse_size_list(""), UsageError);
  EXPECT_THROW(parse_size_list("1:4G"), UsageError);
  try {
    parse_size_list("0:abc");
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("'abc'"), std::string::npos) << e.what();
  }
}

TEST(FormatSize, UsesTheLargestExactSuffix) {
  EXPECT_EQ(format_size(0), "0");
  EXPECT_EQ(format_size(1000), "1000");
  EXPECT_EQ(format_size(4096), "4K");
  EXPECT_EQ(format_size(3 << 20), "3M");
  EXPECT_EQ(format_size((1 << 20) + 1024), "1025K");
}

}  // namespace
}  // namespace ipcatlas
