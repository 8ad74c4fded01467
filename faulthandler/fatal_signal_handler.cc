#include "faulthandler/fatal_signal_handler.h"

#include <libunwind.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "faulthandler/signal_safe_writer.h"
#include "faulthandler/thread_dump.h"
#include "runtime/python_shim.h"

namespace interpsan {
namespace {

constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
constexpr size_t kAltStackSize = 256 * 1024;  // generous: sanitizers need room
constexpr int kMaxExtraFds = 16;

FaultHandlerOptions g_options;
struct sigaction g_previous[NSIG];
bool g_installed = false;

// The thread (kernel tid) currently dumping; 0 if none.
std::atomic<long> g_dumping_tid{0};
// Threads that answered a SIGUSR2 native-stack request.
std::atomic<int> g_native_acks{0};
std::atomic<int> g_extra_fds[kMaxExtraFds];
// The reason under which threads answering SIGUSR2 report their native
// stacks: "timeout" or "interrupted" (a string literal).
std::atomic<const char*> g_native_reason{"timeout"};

// sigqueue(3) values the supervisor sends with SIGUSR1 to stop the run
// (tools/supervisor/interpsan.py): the exit statuses of a run stopped by SIGINT
// and by SIGTERM.
constexpr int kInterruptedBySigint = 130;
constexpr int kInterruptedBySigterm = 143;

// Static storage for the dump: never allocated in the handler.
char g_text_buf[64 * 1024];
char g_json_buf[64 * 1024];
char g_maps_buf[512 * 1024];
DumpScratch g_scratch;

thread_local bool t_has_alt_stack = false;

void SleepMs(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

void RestoreAndRaise(int sig) {
  struct sigaction previous = g_previous[sig];
  if (previous.sa_handler == SIG_IGN) previous.sa_handler = SIG_DFL;
  sigaction(sig, &previous, nullptr);
  raise(sig);
}

// How the process ends if the dump under way overruns its time limit: the
// fatal signal to re-raise (crash), or the exit status (timeout,
// interrupted; also the crash's status should the re-raised signal not end
// the process). Written before alarm() is armed, read by the SIGALRM
// handler.
std::atomic<int> g_deadline_signal{0};
std::atomic<int> g_deadline_exit_status{0};
std::atomic<const char*> g_deadline_reason{"crash"};

void DumpDeadlineHandler(int, siginfo_t*, void*) {
  static const char kMsg[] =
      "\n==interpsan== the dump did not finish within its time limit; "
      "ending the process with what was written\n";
  WriteAll(g_options.text_fd, kMsg, sizeof(kMsg) - 1);
  if (g_options.events_fd >= 0) {
    char buf[128];
    SignalSafeWriter json(buf, sizeof(buf), g_options.events_fd);
    json.Str("{\"event\":\"dump_end\",\"reason\":\"");
    json.Str(g_deadline_reason.load());
    json.Str("\",\"complete\":false}\n");
    json.Flush();
  }
  int sig = g_deadline_signal.load();
  if (sig != 0) RestoreAndRaise(sig);
  _exit(g_deadline_exit_status.load());
}

// Arms the time limit of a dump that ends the process (see the header).
// Async-signal-safe: sigaction and alarm are.
void ArmDumpDeadline(const char* reason, int sig, int exit_status) {
  if (g_options.dump_time_limit_seconds == 0) return;
  g_deadline_reason.store(reason);
  g_deadline_signal.store(sig);
  g_deadline_exit_status.store(exit_status);
  struct sigaction action = {};
  action.sa_sigaction = &DumpDeadlineHandler;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  sigaction(SIGALRM, &action, nullptr);
  alarm(g_options.dump_time_limit_seconds);
}

// `ends_process`: the process ends after this dump (crash, watchdog,
// interrupt), so the epilogue writes what a normal exit would have.
void Dump(const char* reason, int sig, siginfo_t* info, void* ucontext,
          bool all_native, bool ends_process) {
  PyThreadState* current = interpsan_shim_current_tstate();
  SignalSafeWriter text(g_text_buf, sizeof(g_text_buf), g_options.text_fd);
  // The readable dump also goes where interpsan.faulthandler.enable(file=)
  // asked for it.
  text.set_mirrors(g_extra_fds, kMaxExtraFds);
  SignalSafeWriter json(g_json_buf, sizeof(g_json_buf), g_options.events_fd);
  SignalSafeWriter* json_ptr = g_options.events_fd >= 0 ? &json : nullptr;
  DumpHeader(&text, json_ptr, reason, sig, info, current);
  if (g_options.fault_inside_dump_for_testing && sig != SIGUSR1) {
    *static_cast<volatile int*>(nullptr) = 1;
  }
  if (g_options.hang_inside_dump_for_testing && sig != SIGUSR1) {
    for (;;) SleepMs(1000);
  }
  DumpPythonThreads(&text, json_ptr, reason, current, /*all_threads=*/true,
                    &g_scratch);
  DumpNativeStack(&text, json_ptr, reason, g_maps_buf, sizeof(g_maps_buf),
                  sig == SIGUSR1 ? "Native stack of the dumping thread"
                                 : "Native stack of the faulting thread",
                  ucontext);
  if (all_native) {
    // Ask every other thread for its own native stack (SIGUSR2). Threads
    // blocked in a lock or a syscall still run the handler.
    int n = interpsan_shim_list_threads_safe(g_scratch.threads,
                                             DumpScratch::kMaxThreads);
    long self = syscall(SYS_gettid);
    int asked = 0;
    g_native_acks.store(0);
    for (int i = 0; i < n; i++) {
      long tid = static_cast<long>(g_scratch.threads[i].native_thread_id);
      if (tid <= 0 || tid == self) continue;
      if (syscall(SYS_tgkill, getpid(), tid, SIGUSR2) == 0) asked++;
    }
    for (int waited = 0; waited < 200 && g_native_acks.load() < asked;
         waited++) {
      SleepMs(5);
    }
  }
  if (ends_process && g_options.dump_epilogue != nullptr &&
      json_ptr != nullptr) {
    g_options.dump_epilogue(g_options.events_fd);
  }
  DumpEnd(json_ptr, reason, true);
}

void FatalHandler(int sig, siginfo_t* info, void* ucontext) {
  int saved_errno = errno;
  long tid = syscall(SYS_gettid);
  long expected = 0;
  if (!g_dumping_tid.compare_exchange_strong(expected, tid)) {
    if (expected == tid) {
      // A fault inside our own dump: keep what was written, and die.
      static const char kMsg[] =
          "\n==interpsan== fault inside the crash handler; the dump above is "
          "incomplete\n";
      WriteAll(g_options.text_fd, kMsg, sizeof(kMsg) - 1);
      static const char kEnd[] =
          "{\"event\":\"dump_end\",\"reason\":\"crash\",\"complete\":false}\n";
      WriteAll(g_options.events_fd, kEnd, sizeof(kEnd) - 1);
      RestoreAndRaise(sig);
      return;
    }
    // Another thread is dumping and will end the process. Wait for it, but
    // never forever: a dump that hangs must not hide this fault.
    for (int i = 0; i < 100; i++) SleepMs(100);
    RestoreAndRaise(sig);
    errno = saved_errno;
    return;
  }
  ArmDumpDeadline("crash", sig, 128 + sig);
  Dump("crash", sig, info, ucontext, /*all_native=*/false,
       /*ends_process=*/true);
  RestoreAndRaise(sig);
  errno = saved_errno;
}

void DumpRequestHandler(int sig, siginfo_t* info, void* ucontext) {
  int saved_errno = errno;
  long tid = syscall(SYS_gettid);
  long expected = 0;
  if (!g_dumping_tid.compare_exchange_strong(expected, tid)) {
    errno = saved_errno;
    return;  // a dump is under way already
  }
  // From our supervisor: the watchdog fired (kill), or the run is being
  // stopped by Ctrl-C / SIGTERM (sigqueue with the exit status as value).
  bool from_supervisor = info != nullptr && info->si_pid == getppid();
  int interrupted = 0;
  if (from_supervisor && info->si_code == SI_QUEUE) {
    int value = info->si_value.sival_int;
    if (value == kInterruptedBySigint || value == kInterruptedBySigterm) {
      interrupted = value;
    }
  }
  bool watchdog = from_supervisor && info->si_code == SI_USER;
  const char* reason = interrupted ? "interrupted"
                       : watchdog  ? "timeout"
                                   : "request";
  g_native_reason.store(reason);
  if (interrupted) ArmDumpDeadline(reason, 0, interrupted);
  if (watchdog) ArmDumpDeadline(reason, 0, g_options.timeout_exit_code);
  Dump(reason, sig, info, ucontext, /*all_native=*/watchdog || interrupted,
       /*ends_process=*/watchdog || interrupted);
  if (interrupted) _exit(interrupted);
  if (watchdog) _exit(g_options.timeout_exit_code);
  g_dumping_tid.store(0);
  errno = saved_errno;
}

// Each thread reports its own native stack when the watchdog asks.
void NativeStackHandler(int, siginfo_t*, void* ucontext) {
  int saved_errno = errno;
  char text_buf[8 * 1024];
  char json_buf[16 * 1024];
  SignalSafeWriter text(text_buf, sizeof(text_buf), g_options.text_fd);
  SignalSafeWriter json(json_buf, sizeof(json_buf), g_options.events_fd);
  // The dumping thread loaded /proc/self/maps into g_maps_buf already;
  // re-reading it here would race with that buffer, so use a local copy.
  char maps[64 * 1024];
  DumpNativeStack(&text, g_options.events_fd >= 0 ? &json : nullptr,
                  g_native_reason.load(), maps, sizeof(maps),
                  "Native stack of thread", ucontext);
  g_native_acks.fetch_add(1);
  errno = saved_errno;
}

void Handle(int sig, void (*fn)(int, siginfo_t*, void*), int flags) {
  struct sigaction action = {};
  action.sa_sigaction = fn;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_SIGINFO | SA_ONSTACK | flags;
  sigaction(sig, &action, &g_previous[sig]);
}

struct UserSignal {
  std::atomic<int> fd{-1};
  std::atomic<bool> all_threads{true};
  std::atomic<bool> chain{false};
  struct sigaction previous;
};
UserSignal g_user_signals[NSIG];

void UserSignalHandler(int sig, siginfo_t* info, void* ucontext) {
  int saved_errno = errno;
  UserSignal& user = g_user_signals[sig];
  int fd = user.fd.load();
  long tid = syscall(SYS_gettid);
  long expected = 0;
  if (fd >= 0 && g_dumping_tid.compare_exchange_strong(expected, tid)) {
    SignalSafeWriter text(g_text_buf, sizeof(g_text_buf), fd);
    DumpPythonThreads(&text, nullptr, "request",
                      interpsan_shim_current_tstate(), user.all_threads.load(),
                      &g_scratch);
    g_dumping_tid.store(0);
  }
  if (user.chain.load()) {
    const struct sigaction& prev = user.previous;
    if (prev.sa_flags & SA_SIGINFO) {
      if (prev.sa_sigaction != nullptr) prev.sa_sigaction(sig, info, ucontext);
    } else if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN &&
               prev.sa_handler != nullptr) {
      prev.sa_handler(sig);
    }
  }
  errno = saved_errno;
}

}  // namespace

bool RegisterDumpSignal(int sig, int fd, bool all_threads, bool chain) {
  if (sig <= 0 || sig >= NSIG || sig == SIGKILL || sig == SIGSTOP) return false;
  for (int fatal : kFatalSignals) {
    if (sig == fatal) return false;
  }
  UserSignal& user = g_user_signals[sig];
  user.all_threads.store(all_threads);
  user.chain.store(chain);
  bool was_registered = user.fd.exchange(fd) >= 0;
  if (!was_registered) {
    struct sigaction action = {};
    action.sa_sigaction = &UserSignalHandler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigaction(sig, &action, &user.previous);
  }
  return true;
}

bool UnregisterDumpSignal(int sig) {
  if (sig <= 0 || sig >= NSIG) return false;
  UserSignal& user = g_user_signals[sig];
  if (user.fd.exchange(-1) < 0) return false;
  sigaction(sig, &user.previous, nullptr);
  return true;
}

void DumpTracebacksNow(int fd, bool all_threads, const char* header) {
  // Not in a signal handler: ordinary heap buffers are fine here.
  auto* scratch = new DumpScratch;
  char* buf = new char[64 * 1024];
  SignalSafeWriter text(buf, 64 * 1024, fd);
  if (header != nullptr) text.Str(header).Flush();
  DumpPythonThreads(&text, nullptr, "request", interpsan_shim_current_tstate(),
                    all_threads, scratch);
  delete[] buf;
  delete scratch;
}

void EnsureAltStack() {
  if (t_has_alt_stack) return;
  stack_t current;
  if (sigaltstack(nullptr, &current) == 0 && !(current.ss_flags & SS_DISABLE) &&
      current.ss_size >= kAltStackSize) {
    t_has_alt_stack = true;
    return;
  }
  void* mem = mmap(nullptr, kAltStackSize, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return;
  stack_t ss = {};
  ss.ss_sp = mem;
  ss.ss_size = kAltStackSize;
  if (sigaltstack(&ss, nullptr) == 0) t_has_alt_stack = true;
  // The stack stays mapped for the life of the process: a thread may exit
  // while a signal is being delivered on it.
}

void SetExtraDumpFd(int slot, int fd) {
  if (slot < 0 || slot >= kMaxExtraFds) return;
  g_extra_fds[slot].store(fd, std::memory_order_relaxed);
}

void InstallFaultHandler(const FaultHandlerOptions& options) {
  EnsureAltStack();
  if (g_installed) return;
  g_installed = true;
  g_options = options;
  for (auto& fd : g_extra_fds) fd.store(-1);
  // Warm up libunwind so that its lazy initialisation (which may allocate)
  // does not happen inside a handler.
  void* pcs[4];
  unw_backtrace(pcs, 4);
  for (int sig : kFatalSignals) Handle(sig, &FatalHandler, SA_NODEFER);
  Handle(SIGUSR1, &DumpRequestHandler, SA_RESTART);
  Handle(SIGUSR2, &NativeStackHandler, SA_RESTART);
}

}  // namespace interpsan
