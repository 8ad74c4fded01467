// Tests of tools/runner/options.h: INTERPSAN_OPTIONS, the one configuration
// path of the runner and the preload library.
#include "tools/runner/options.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <string>

#include "debug/checks.h"

namespace interpsan {
namespace {

TEST(ProcessOptionsTest, EmptyGivesTheDefaults) {
  ProcessOptions opt;
  std::string error;
  ASSERT_TRUE(ParseProcessOptions("", &opt, &error)) << error;
  EXPECT_EQ(opt.events_path, "");
  EXPECT_EQ(opt.interpreters, 4);
  EXPECT_EQ(opt.checks_list, "all");
  uint32_t all = 0;
  ASSERT_TRUE(ParseChecks("all", &all, &error));
  EXPECT_EQ(opt.checks, all);
  EXPECT_FALSE(opt.keep_going);
  EXPECT_EQ(opt.trace_frames, 0);
  EXPECT_TRUE(opt.suppressions.empty());
}

TEST(ProcessOptionsTest, EveryKey) {
  char dir[] = "/tmp/interpsan-options-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  // A path with a space and a '%': percent-encoded by the supervisor.
  std::string supp = std::string(dir) + "/my 100% app.supp";
  FILE* f = fopen(supp.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("kind:cross-interpreter-free extension:fastcache*\n", f);
  fclose(f);
  std::string encoded = std::string(dir) + "/my%20100%25%20app.supp";

  ProcessOptions opt;
  std::string error;
  ASSERT_TRUE(ParseProcessOptions(
      "events=/tmp/r/events.jsonl  interpreters=8 checks=free,dealloc "
      "keep_going=1 trace_malloc=25 suppressions=" +
          encoded,
      &opt, &error))
      << error;
  EXPECT_EQ(opt.events_path, "/tmp/r/events.jsonl");
  EXPECT_EQ(opt.interpreters, 8);
  EXPECT_EQ(opt.checks_list, "free,dealloc");
  uint32_t expected = 0;
  ASSERT_TRUE(ParseChecks("free,dealloc", &expected, &error));
  EXPECT_EQ(opt.checks, expected);
  EXPECT_TRUE(opt.keep_going);
  EXPECT_EQ(opt.trace_frames, 25);
  EXPECT_EQ(opt.suppressions_path, supp);
  ASSERT_EQ(opt.suppressions.size(), 1u);
  remove(supp.c_str());
  rmdir(dir);
}

TEST(ProcessOptionsTest, ChecksNone) {
  ProcessOptions opt;
  std::string error;
  ASSERT_TRUE(ParseProcessOptions("checks=none", &opt, &error)) << error;
  EXPECT_EQ(opt.checks, 0u);
}

// Every malformed value is refused with one line naming the problem, and
// *out is left as it was.
TEST(ProcessOptionsTest, RefusesWhatItDoesNotKnow) {
  struct Case {
    const char* text;
    const char* error_has;
  } cases[] = {
      {"bogus=1", "unknown option 'bogus'"},
      {"interpreters", "malformed word 'interpreters'"},
      {"interpreters=0", "from 1 to 1024"},
      {"interpreters=1025", "from 1 to 1024"},
      {"interpreters=4x", "from 1 to 1024"},
      {"interpreters=", "from 1 to 1024"},
      {"trace_malloc=-1", "--trace-malloc"},
      {"trace_malloc=100000", "--trace-malloc"},
      {"keep_going=yes", "keep_going must be 0 or 1"},
      {"checks=free,nonsense", "nonsense"},
      {"events=/a%2", "malformed word"},
      {"events=/a%zz", "malformed word"},
      {"events=/a%00b", "malformed word"},  // no NUL inside a path
      {"suppressions=/nonexistent/x.supp", "/nonexistent/x.supp"},
  };
  for (const Case& c : cases) {
    ProcessOptions opt;
    opt.interpreters = 7;
    std::string error;
    EXPECT_FALSE(ParseProcessOptions(c.text, &opt, &error)) << c.text;
    EXPECT_NE(error.find(c.error_has), std::string::npos)
        << c.text << " -> " << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    EXPECT_EQ(opt.interpreters, 7) << c.text;
  }
}

TEST(ProcessOptionsTest, ReadFromTheEnvironmentRemovesIt) {
  ProcessOptions opt;
  bool present = true;
  std::string error;
  unsetenv(kOptionsVariable);
  EXPECT_FALSE(ReadOptionsFromEnvironment(&opt, &present, &error));
  EXPECT_FALSE(present);

  setenv(kOptionsVariable, "interpreters=3", 1);
  ASSERT_TRUE(ReadOptionsFromEnvironment(&opt, &present, &error)) << error;
  EXPECT_TRUE(present);
  EXPECT_EQ(opt.interpreters, 3);
  // The program under test and its subprocesses do not see it.
  EXPECT_EQ(getenv(kOptionsVariable), nullptr);

  setenv(kOptionsVariable, "interpreters=none", 1);
  EXPECT_FALSE(ReadOptionsFromEnvironment(&opt, &present, &error));
  EXPECT_TRUE(present);
  EXPECT_NE(error.find("from 1 to 1024"), std::string::npos) << error;
  EXPECT_EQ(getenv(kOptionsVariable), nullptr);
}

}  // namespace
}  // namespace interpsan
