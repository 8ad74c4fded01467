// thread_dump.h: the dump of every thread of every interpreter, and of the
// native stack, shared by the crash handler, the watchdog/SIGUSR1 dump and
// interpsan.faulthandler.dump_traceback.
//
// Two outputs at once: readable text in faulthandler's familiar format,
// grouped under each interpreter (current interpreter and thread first),
// and JSON events for report.json. Async-signal-safe: every read of
// CPython's memory goes through the shim's safe copies, all buffers belong
// to the caller, output is write(2).
#ifndef INTERPSAN_FAULTHANDLER_THREAD_DUMP_H_
#define INTERPSAN_FAULTHANDLER_THREAD_DUMP_H_

#include <csignal>
#include <cstddef>
#include <cstdint>

#include "faulthandler/signal_safe_writer.h"
#include "runtime/python_shim.h"

namespace interpsan {

// Caller-owned scratch space for one dump.
struct DumpScratch {
  static constexpr int kMaxThreads = 256;
  static constexpr int kMaxFrames = 100;
  InterpsanThreadInfo threads[kMaxThreads];
  InterpsanFrame frames[kMaxFrames];
};

// "SIGSEGV"; "signal" if unknown. Signal-safe.
const char* SignalName(int sig);
// "Segmentation fault". Signal-safe.
const char* SignalDescription(int sig);

// Writes the dump header (text) and a "dump_begin" event (json).
// `reason` is "crash", "timeout" or "request".
void DumpHeader(SignalSafeWriter* text, SignalSafeWriter* json,
                const char* reason, int sig, const siginfo_t* info,
                PyThreadState* current);

// Python tracebacks of every thread (all_threads) or of `current` only.
// json may be null (text only).
void DumpPythonThreads(SignalSafeWriter* text, SignalSafeWriter* json,
                       const char* reason, PyThreadState* current,
                       bool all_threads, DumpScratch* scratch);

// The calling thread's native stack, module+offset resolved through
// /proc/self/maps read into maps_buf. In a signal handler, pass the
// handler's ucontext: the stack is then unwound from the interrupted
// instruction, without the handler's own frames.
void DumpNativeStack(SignalSafeWriter* text, SignalSafeWriter* json,
                     const char* reason, char* maps_buf, size_t maps_size,
                     const char* title, void* ucontext);

// A "dump_end" event.
void DumpEnd(SignalSafeWriter* json, const char* reason, bool complete);

}  // namespace interpsan

#endif  // INTERPSAN_FAULTHANDLER_THREAD_DUMP_H_
