// --checks parsing and how checks name bare blocks.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "debug/checks.h"

namespace interpsan {
namespace {

uint32_t Parse(const std::string& list, std::string* error = nullptr) {
  uint32_t bits = 0xdeadbeef;
  std::string ignored;
  EXPECT_TRUE(ParseChecks(list, &bits, error ? error : &ignored)) << list;
  return bits;
}

TEST(ParseChecksTest, AllAndNone) {
  EXPECT_EQ(Parse("all"), static_cast<uint32_t>(kCheckAll));
  EXPECT_EQ(Parse("all"),
            static_cast<uint32_t>(kCheckFree | kCheckDomain | kCheckDealloc |
                                  kCheckCapi | kCheckRefcount | kCheckAudit));
  EXPECT_EQ(Parse("none"), 0u);
}

TEST(ParseChecksTest, SingleNames) {
  EXPECT_EQ(Parse("free"), static_cast<uint32_t>(kCheckFree));
  EXPECT_EQ(Parse("domain"), static_cast<uint32_t>(kCheckDomain));
  EXPECT_EQ(Parse("dealloc"), static_cast<uint32_t>(kCheckDealloc));
}

TEST(ParseChecksTest, CommaLists) {
  EXPECT_EQ(Parse("free,dealloc"),
            static_cast<uint32_t>(kCheckFree | kCheckDealloc));
  EXPECT_EQ(Parse("dealloc,free"),
            static_cast<uint32_t>(kCheckFree | kCheckDealloc));
  EXPECT_EQ(Parse("free,domain,dealloc"),
            static_cast<uint32_t>(kCheckAllBlock));
  EXPECT_EQ(Parse("free,free"), static_cast<uint32_t>(kCheckFree));
}

TEST(ParseChecksTest, UnknownNamesAreRejectedAndNamed) {
  uint32_t bits = 0x1234;
  std::string error;
  EXPECT_FALSE(ParseChecks("bogus", &bits, &error));
  EXPECT_NE(error.find("'bogus'"), std::string::npos) << error;
  EXPECT_NE(error.find(CheckNames()), std::string::npos) << error;
  EXPECT_EQ(bits, 0x1234u) << "output untouched on error";

  error.clear();
  EXPECT_FALSE(ParseChecks("free,bogus", &bits, &error));
  EXPECT_NE(error.find("'bogus'"), std::string::npos) << error;
  EXPECT_EQ(bits, 0x1234u);

  // Names are exact: no case folding, no spaces, "all" only on its own.
  EXPECT_FALSE(ParseChecks("Free", &bits, &error));
  EXPECT_FALSE(ParseChecks("free, dealloc", &bits, &error));
  EXPECT_FALSE(ParseChecks("all,free", &bits, &error));
  EXPECT_FALSE(ParseChecks("free,,dealloc", &bits, &error));
}

TEST(ParseChecksTest, CheckNamesListsEveryAcceptedName) {
  std::string names = CheckNames();
  for (const char* name : {"all", "none", "free", "domain", "dealloc"}) {
    EXPECT_NE(names.find(name), std::string::npos) << name;
    uint32_t bits;
    std::string error;
    EXPECT_TRUE(ParseChecks(name, &bits, &error)) << name << ": " << error;
  }
}

TEST(DescribeBlockTest, NamesTheAllocatingApiAndSize) {
  EXPECT_EQ(DescribeBlock(Domain::kObj, 64),
            "PyObject_Malloc block (64 bytes)");
  EXPECT_EQ(DescribeBlock(Domain::kMem, 10), "PyMem_Malloc block (10 bytes)");
  EXPECT_EQ(DescribeBlock(Domain::kRaw, 0), "PyMem_RawMalloc block (0 bytes)");
}

}  // namespace
}  // namespace interpsan
