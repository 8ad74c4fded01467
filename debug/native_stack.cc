#include "debug/native_stack.h"

#include <Python.h>
#include <cxxabi.h>
#include <dlfcn.h>
#include <errno.h>  // program_invocation_name
#include <libunwind.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace interpsan {
namespace {

std::string ModuleOfAddress(const void* addr) {
  Dl_info info;
  if (dladdr(addr, &info) != 0 && info.dli_fname != nullptr) {
    return info.dli_fname;
  }
  return "";
}

const std::string& SelfModule() {
  static const std::string* self =
      new std::string(ModuleOfAddress(reinterpret_cast<void*>(&SelfModule)));
  return *self;
}

const std::string& PythonModule() {
  static const std::string* py =
      new std::string(ModuleOfAddress(reinterpret_cast<void*>(&Py_GetVersion)));
  return *py;
}

std::string Basename(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::vector<NativeFrame> CaptureNativeStack(int skip, int max_frames) {
  std::vector<void*> pcs(max_frames + skip + 1);
  int n = unw_backtrace(pcs.data(), static_cast<int>(pcs.size()));
  std::vector<NativeFrame> frames;
  for (int i = skip + 1; i < n; i++) {
    NativeFrame f{pcs[i], "", "", 0, 0};
    Dl_info info;
    // pc - 1: a return address may already point into the next function.
    void* lookup = static_cast<char*>(pcs[i]) - 1;
    if (dladdr(lookup, &info) != 0) {
      if (info.dli_fname) f.module = info.dli_fname;
      f.module_offset = reinterpret_cast<uintptr_t>(pcs[i]) -
                        reinterpret_cast<uintptr_t>(info.dli_fbase);
      if (info.dli_sname) {
        int status = 0;
        char* demangled =
            abi::__cxa_demangle(info.dli_sname, nullptr, nullptr, &status);
        f.symbol = (status == 0 && demangled) ? demangled : info.dli_sname;
        free(demangled);
        f.symbol_offset = reinterpret_cast<uintptr_t>(pcs[i]) -
                          reinterpret_cast<uintptr_t>(info.dli_saddr);
      }
    }
    frames.push_back(std::move(f));
  }
  return frames;
}

bool IsInfrastructureModule(const std::string& path) {
  if (path.empty() || path == SelfModule() || path == PythonModule()) {
    return true;
  }
  std::string base = Basename(path);
  static const char* const kSystem[] = {
      "libc.so",      "libc-",      "ld-linux", "libstdc++",  "libgcc_s",
      "libunwind",    "libpthread", "libm.so",  "libdl.so",   "libpython3",
      "libinterpsan", "libasan",    "libtsan",  "linux-vdso",
  };
  for (const char* prefix : kSystem) {
    if (base.compare(0, strlen(prefix), prefix) == 0) return true;
  }
  return false;
}

bool IsInterpretersModule(const std::string& path) {
  std::string name = ExtensionNameFromPath(path);
  return name == "_interpreters" || name == "_xxsubinterpreters" ||
         name == "_interpchannels" || name == "_xxinterpchannels" ||
         name == "_interpqueues" || name == "_xxinterpqueues";
}

bool IsMainExecutable(const std::string& path) {
  static const std::string* exe = [] {
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    return new std::string(n > 0 ? std::string(buf, static_cast<size_t>(n))
                                 : "");
  }();
  if (path.empty()) return false;
  // dladdr names the main program by its argv[0] (glibc), which may be a
  // bare name found on PATH.
  if (path == program_invocation_name) return true;
  if (exe->empty()) return false;
  if (path == *exe) return true;
  char resolved[4096];
  return realpath(path.c_str(), resolved) != nullptr && *exe == resolved;
}

size_t FirstForeignFrame(const std::vector<NativeFrame>& stack) {
  for (size_t i = 0; i < stack.size(); i++) {
    if (stack[i].module != SelfModule()) return i;
  }
  return 0;
}

int FindExtensionFrame(const std::vector<NativeFrame>& stack) {
  for (size_t i = 0; i < stack.size(); i++) {
    const std::string& module = stack[i].module;
    if (!IsInfrastructureModule(module) && !IsInterpretersModule(module) &&
        !IsMainExecutable(module)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

std::string ExtensionNameFromPath(const std::string& path) {
  std::string base = Basename(path);
  size_t dot = base.find('.');
  return dot == std::string::npos ? base : base.substr(0, dot);
}

}  // namespace interpsan
