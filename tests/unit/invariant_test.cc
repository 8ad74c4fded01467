// INTERPSAN_CHECK (runtime/invariant.h): silent while the condition holds,
// evaluated once; on failure one line on stderr (file:line: condition) and
// SIGABRT, from ordinary code and from inside a signal handler.
#include "runtime/invariant.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <string>

// Deliberately after invariant.h: the check table's rows use the same
// macro name (an X-macro), and reading the table must leave the invariant
// macro defined (debug/check_table.h sets it aside meanwhile).
#include "debug/check_table.h"

namespace interpsan {
namespace {

void CheckIsTwo(int value) { INTERPSAN_CHECK(value == 2); }
constexpr int kCheckIsTwoLine = __LINE__ - 1;

// What a failure of CheckIsTwo prints, exactly (a regular expression).
std::string ExpectedLine() {
  return "interpsan: invariant failed: tests/unit/invariant_test\\.cc:" +
         std::to_string(kCheckIsTwoLine) + ": value == 2\n";
}

TEST(InvariantTest, HoldingConditionIsSilentAndEvaluatedOnce) {
  int evaluations = 0;
  INTERPSAN_CHECK(++evaluations == 1);
  EXPECT_EQ(evaluations, 1);
  CheckIsTwo(2);
}

TEST(InvariantDeathTest, FailureNamesFileLineAndConditionThenAborts) {
  testing::FLAGS_gtest_death_test_style = "threadsafe";  // fork and re-exec
  EXPECT_EXIT(CheckIsTwo(3), testing::KilledBySignal(SIGABRT), ExpectedLine());
}

void FailInHandler(int) { CheckIsTwo(0); }

TEST(InvariantDeathTest, FailsTheSameWayInsideASignalHandler) {
  testing::FLAGS_gtest_death_test_style = "threadsafe";
  EXPECT_EXIT(
      {
        signal(SIGUSR1, &FailInHandler);
        raise(SIGUSR1);
      },
      testing::KilledBySignal(SIGABRT), ExpectedLine());
}

TEST(InvariantTest, CheckTableReadAfterwardsLeavesTheMacroDefined) {
  // The table is intact (its rows were read with the X-macro) ...
  EXPECT_STREQ(kCheckTable[0].name, "free");
  EXPECT_STREQ(kinds::kCrossInterpreterFree.check, "free");
  // ... and INTERPSAN_CHECK is the invariant again (this would not
  // compile with a 4-argument macro or none).
  int value = 2;
  INTERPSAN_CHECK(value == 2);
}

}  // namespace
}  // namespace interpsan
