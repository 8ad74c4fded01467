// native_stack.h: the native call stack of the current thread, symbolized,
// and the extension module it implicates.
//
// Capture uses libunwind; symbolization uses dladdr and the C++ demangler.
// Not async-signal-safe (symbolization allocates): the faulthandler has its
// own signal-safe path.
#ifndef INTERPSAN_DEBUG_NATIVE_STACK_H_
#define INTERPSAN_DEBUG_NATIVE_STACK_H_

#include <cstdint>
#include <string>
#include <vector>

namespace interpsan {

struct NativeFrame {
  void* pc;
  std::string module;  // full path of the object file
  std::string symbol;  // demangled, may be empty
  uintptr_t module_offset;
  uintptr_t symbol_offset;
};

// Captures the calling thread's stack, skipping `skip` innermost frames.
std::vector<NativeFrame> CaptureNativeStack(int skip, int max_frames = 48);

// True for modules that are never to blame: interpsan itself, libpython,
// the C/C++ runtime, the dynamic loader.
bool IsInfrastructureModule(const std::string& path);

// True for CPython's interpreters modules (_interpreters, _xxsubinterpreters,
// _interpchannels, _interpqueues and their _xx forms): they run other
// modules' code in an interpreter, so being on the stack blames nothing.
bool IsInterpretersModule(const std::string& path);

// True for the process's main executable (`python3` in exec mode): its
// frames (_start, main, Py_BytesMain) are never an extension's.
bool IsMainExecutable(const std::string& path);

// The innermost frame not in interpsan's own module (0 if none is).
size_t FirstForeignFrame(const std::vector<NativeFrame>& stack);

// The innermost frame that belongs to an extension module (not
// infrastructure, not an interpreters module, not the main executable),
// or -1.
int FindExtensionFrame(const std::vector<NativeFrame>& stack);

// "broken_static_list" for
// ".../broken_static_list.cpython-312-x86_64-linux-gnu.so".
std::string ExtensionNameFromPath(const std::string& path);

}  // namespace interpsan

#endif  // INTERPSAN_DEBUG_NATIVE_STACK_H_
