// The scope of the default suppressions (debug/cpython_findings.h): only
// CPython's own modules -- libpython and the stdlib's extension directory
// of the CPython this test links -- count as CPython's.
#include "debug/cpython_findings.h"

#include <Python.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>

#include <string>

#include "gtest/gtest.h"

namespace interpsan {
namespace {

std::string LibpythonPath() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&Py_GetVersion), &info) == 0) return "";
  char buf[PATH_MAX];
  return realpath(info.dli_fname, buf) ? buf : info.dli_fname;
}

std::string LibDynload() {
  std::string lib = LibpythonPath();
  std::string version =
      std::to_string(PY_MAJOR_VERSION) + "." + std::to_string(PY_MINOR_VERSION);
  return lib.substr(0, lib.rfind('/')) + "/python" + version + "/lib-dynload";
}

TEST(CPythonFindingsTest, LibpythonAndTheStdlibExtensionsAreCPythons) {
  ASSERT_FALSE(LibpythonPath().empty());
  EXPECT_TRUE(IsCPythonModulePath(LibpythonPath()));
  std::string suffix = ".cpython-" + std::to_string(PY_MAJOR_VERSION) +
                       std::to_string(PY_MINOR_VERSION) +
                       "-x86_64-linux-gnu.so";
  EXPECT_TRUE(IsCPythonModulePath(LibDynload() + "/_bisect" + suffix));
  EXPECT_TRUE(IsCPythonModulePath(LibDynload() + "/_datetime" + suffix));
}

TEST(CPythonFindingsTest, EverythingElseIsNot) {
  std::string suffix = ".cpython-" + std::to_string(PY_MAJOR_VERSION) +
                       std::to_string(PY_MINOR_VERSION) +
                       "-x86_64-linux-gnu.so";
  std::string lib = LibpythonPath();
  std::string prefix_lib = lib.substr(0, lib.rfind('/'));
  std::string version =
      std::to_string(PY_MAJOR_VERSION) + "." + std::to_string(PY_MINOR_VERSION);
  // A third-party extension named like a stdlib one, in site-packages.
  EXPECT_FALSE(IsCPythonModulePath(prefix_lib + "/python" + version +
                                   "/site-packages/_bisect" + suffix));
  // Below lib-dynload, or beside it.
  EXPECT_FALSE(IsCPythonModulePath(LibDynload() + "/vendor/_bisect" + suffix));
  EXPECT_FALSE(IsCPythonModulePath(LibDynload() + "-extra/_bisect" + suffix));
  EXPECT_FALSE(IsCPythonModulePath("/tmp/clinic_parsers.so"));
  EXPECT_FALSE(IsCPythonModulePath(""));
}

}  // namespace
}  // namespace interpsan
