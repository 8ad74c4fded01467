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

// "#3 0x7f.. in list_resize+0x2a (libpython3.12.so.1.0+0x12345)"
std::string FormatNativeFrame(int index, const NativeFrame& frame);

// True for modules that are never to blame: interpsan itself, libpython,
// the C/C++ runtime, the dynamic loader.
bool IsInfrastructureModule(const std::string& path);

// The innermost frame not in interpsan's own module (0 if none is).
size_t FirstForeignFrame(const std::vector<NativeFrame>& stack);

// The innermost frame that belongs to an extension module, or -1.
int FindExtensionFrame(const std::vector<NativeFrame>& stack);

// "broken_static_list" for ".../broken_static_list.cpython-312-x86_64-linux-gnu.so".
std::string ExtensionNameFromPath(const std::string& path);

}  // namespace interpsan

#endif  // INTERPSAN_DEBUG_NATIVE_STACK_H_
