// fatal_signal_handler.h: interpsan's process-wide faulthandler.
//
// On SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT it writes, to stderr and
// as events for report.json: the signal and faulting address, the current
// thread and its interpreter, the Python traceback of every thread of every
// interpreter (grouped by interpreter), and the native stack of the
// faulting thread (module+offset; the supervisor symbolizes it later). Then
// it restores the previous handler and re-raises, so a core dump still
// happens where core dumps are enabled.
//
// SIGUSR1 dumps every interpreter's threads on demand and carries on; sent
// by the supervisor (the watchdog, --timeout), it also collects the native
// stack of every thread (each thread reports its own, via SIGUSR2) and ends
// the process with status 5. Queued by the supervisor with sigqueue(3) and a
// value of 130 or 143 (the user pressed Ctrl-C, or the supervisor got
// SIGTERM), it does the same under the reason "interrupted" and ends the
// process with that value as its status.
//
// The handler is async-signal-safe: no malloc, no locks, no stdio; buffers
// and alternate signal stacks are allocated at install time; every read of
// CPython memory is a checked copy. Re-entry (a fault inside the handler)
// and concurrent faults in several threads are resolved by a
// compare-and-swap on the dumping thread's id; either way the process ends
// with what was already written.
//
// A dump that ends the process (crash, timeout, interrupted) runs under a
// time limit, as Abseil's failure signal handler does: alarm(2) is armed
// (async-signal-safe) before the dump starts, with interpsan's own SIGALRM
// handler installed in place of any the program had. If the dump hangs (a
// lock held by a frozen thread, a read that blocks), SIGALRM ends the
// process anyway: a line on stderr, dump_end with complete=false, then the
// original signal re-raised (crash) or the same exit status (timeout,
// interrupted). An on-demand dump (SIGUSR1 from elsewhere, dump_traceback)
// keeps the process alive and has no limit.
#ifndef INTERPSAN_FAULTHANDLER_FATAL_SIGNAL_HANDLER_H_
#define INTERPSAN_FAULTHANDLER_FATAL_SIGNAL_HANDLER_H_

namespace interpsan {

struct FaultHandlerOptions {
  int text_fd = 2;     // readable dump
  int events_fd = -1;  // JSON events for the supervisor, -1 for none
  int timeout_exit_code = 5;
  // Called at the end of every dump that ends the process (crash, timeout,
  // interrupted), with the events descriptor: writes what would otherwise
  // be written only at a normal exit (the violation repeat counts). Must be
  // async-signal-safe. May be null.
  void (*dump_epilogue)(int events_fd) = nullptr;
  // For tests only: fault deliberately inside the crash dump, after the
  // header, to prove that such a fault still ends with what was written.
  bool fault_inside_dump_for_testing = false;
  // Seconds a dump that ends the process may take before SIGALRM ends it
  // (0: no limit). The slowest measured dump (tools/bench/bench_dump.md) takes
  // well under a second; the watchdog's SIGUSR2 round adds at most 1 s.
  unsigned dump_time_limit_seconds = 10;
  // For tests only: hang deliberately inside the crash dump, after the
  // header, to prove that the time limit still ends the process.
  bool hang_inside_dump_for_testing = false;
};

// Installs the handlers (idempotent) and an alternate stack for the
// calling thread. Call before any interpreter starts.
void InstallFaultHandler(const FaultHandlerOptions& options);

// Gives the calling thread an alternate signal stack (so a stack overflow
// can still be reported). Call on every thread that runs Python.
void EnsureAltStack();

// Adds (or, with fd < 0, removes) an extra descriptor that fatal dumps are
// also written to: interpsan.faulthandler.enable(file=...). At most 16.
void SetExtraDumpFd(int slot, int fd);

// interpsan.faulthandler.register(): on `sig`, dump every interpreter's
// Python threads (all_threads) or the receiving thread's to `fd`, then call
// the previous handler if `chain`. Returns false for the fatal signals
// (they are always handled) and for invalid signals.
bool RegisterDumpSignal(int sig, int fd, bool all_threads, bool chain);
// Returns false if `sig` was not registered.
bool UnregisterDumpSignal(int sig);

// A text dump outside signal context (dump_traceback, watchdog threads).
// `header` (may be null) is written first.
void DumpTracebacksNow(int fd, bool all_threads, const char* header);

}  // namespace interpsan

#endif  // INTERPSAN_FAULTHANDLER_FATAL_SIGNAL_HANDLER_H_
