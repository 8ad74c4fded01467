#include "faulthandler/thread_dump.h"

// Local unwinding only: the _UL* entry points live in libunwind.so itself.
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "faulthandler/module_map.h"
#include "runtime/interpreter_registry.h"

namespace interpsan {
namespace {

bool Equal(const char* a, const char* b) {
  while (*a && *a == *b) {
    a++;
    b++;
  }
  return *a == *b;
}

// Drops the runner's own outermost frames (its bootstrap and runpy), as
// python's own tracebacks do not show the interpreter's entry machinery.
int TrimRunnerFrames(const InterpsanFrame* frames, int n) {
  while (n > 1 && (Equal(frames[n - 1].filename, "<interpsan-bootstrap>") ||
                   Equal(frames[n - 1].filename, "<frozen runpy>"))) {
    n--;
  }
  return n;
}

int Capture(PyThreadState* tstate, DumpScratch* s) {
  return TrimRunnerFrames(s->frames,
                          interpsan_shim_capture_traceback_safe(
                              tstate, s->frames, DumpScratch::kMaxFrames));
}

void InterpreterTitle(SignalSafeWriter* text, int64_t id, bool is_main) {
  text->Str("Interpreter ").Dec(id);
  int index = InterpreterRegistry::IndexOfId(id);
  if (is_main) {
    text->Str(" (main)");
  } else if (index >= 0) {
    text->Str(" (index ").Dec(index).Str(")");
  }
  text->Str(":\n");
}

void ThreadJson(SignalSafeWriter* json, const char* reason,
                const InterpsanThreadInfo& t, bool current,
                const InterpsanFrame* frames, int n) {
  json->Str("{\"event\":\"dump_thread\",\"reason\":").JsonStr(reason);
  json->Str(",\"interpreter\":").Dec(t.interp_id);
  json->Str(",\"interpreter_index\":")
      .Dec(InterpreterRegistry::IndexOfId(t.interp_id));
  json->Str(",\"main_interpreter\":").Str(t.is_main_interp ? "true" : "false");
  json->Str(",\"thread_id\":").Dec(static_cast<int64_t>(t.thread_id));
  json->Str(",\"native_thread_id\":")
      .Dec(static_cast<int64_t>(t.native_thread_id));
  json->Str(",\"current\":").Str(current ? "true" : "false");
  json->Str(",\"python_traceback\":[");
  // Most recent call last, like report.json's other tracebacks.
  for (int i = n - 1; i >= 0; i--) {
    json->Str("{\"filename\":").JsonStr(frames[i].filename);
    json->Str(",\"lineno\":").Dec(frames[i].lineno);
    json->Str(",\"name\":").JsonStr(frames[i].name).Char('}');
    if (i > 0) json->Char(',');
  }
  json->Str("]}\n");
  json->Flush();
}

void ThreadText(SignalSafeWriter* text, const InterpsanThreadInfo& t,
                bool current, const InterpsanFrame* frames, int n) {
  text->Str(current ? "  Current thread " : "  Thread ")
      .Hex(t.thread_id)
      .Str(" (tid ")
      .Dec(static_cast<int64_t>(t.native_thread_id))
      .Str(") (most recent call first):\n");
  if (n == 0) text->Str("    <no Python frame>\n");
  for (int i = 0; i < n; i++) {
    text->Str("    File \"")
        .Str(frames[i].filename)
        .Str("\", line ")
        .Dec(frames[i].lineno)
        .Str(" in ")
        .Str(frames[i].name)
        .Char('\n');
  }
  text->Flush();
}

}  // namespace

const char* SignalName(int sig) {
  switch (sig) {
    case SIGSEGV:
      return "SIGSEGV";
    case SIGBUS:
      return "SIGBUS";
    case SIGFPE:
      return "SIGFPE";
    case SIGILL:
      return "SIGILL";
    case SIGABRT:
      return "SIGABRT";
    case SIGUSR1:
      return "SIGUSR1";
    case SIGUSR2:
      return "SIGUSR2";
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    default:
      return "signal";
  }
}

const char* SignalDescription(int sig) {
  switch (sig) {
    case SIGSEGV:
      return "Segmentation fault";
    case SIGBUS:
      return "Bus error";
    case SIGFPE:
      return "Floating-point exception";
    case SIGILL:
      return "Illegal instruction";
    case SIGABRT:
      return "Aborted";
    default:
      return "Signal";
  }
}

void DumpHeader(SignalSafeWriter* text, SignalSafeWriter* json,
                const char* reason, int sig, const siginfo_t* info,
                PyThreadState* current) {
  int64_t interp_id = -1;
  unsigned long thread_id = 0;
  if (current != nullptr) {
    InterpsanThreadInfo all[64];
    int n = interpsan_shim_list_threads_safe(all, 64);
    for (int i = 0; i < n; i++) {
      if (all[i].tstate == current) {
        interp_id = all[i].interp_id;
        thread_id = all[i].thread_id;
      }
    }
  }
  int64_t tid = syscall(SYS_gettid);
  // si_addr means something only for faults raised by the CPU.
  bool fault =
      sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE;
  uint64_t address = (info != nullptr && fault)
                         ? reinterpret_cast<uint64_t>(info->si_addr)
                         : 0;
  int index = InterpreterRegistry::IndexOfId(interp_id);
  if (text != nullptr) {
    text->Str("\n==interpsan== ");
    if (sig == SIGUSR1 || sig == 0) {
      text->Str(reason).Str(": dumping every interpreter's threads\n");
    } else {
      text->Str("FATAL: ")
          .Str(SignalName(sig))
          .Str(" (")
          .Str(SignalDescription(sig))
          .Str(")");
      if (sig == SIGSEGV || sig == SIGBUS)
        text->Str(" at address ").Hex(address);
      text->Char('\n');
    }
    text->Str("==interpsan== in thread ")
        .Hex(thread_id)
        .Str(" (tid ")
        .Dec(tid)
        .Str(")");
    if (interp_id >= 0) {
      text->Str(" of interpreter ").Dec(interp_id);
      if (index >= 0) text->Str(" (index ").Dec(index).Str(")");
    } else {
      text->Str(", which runs no Python");
    }
    text->Str("\n\n");
    text->Flush();
  }
  if (json != nullptr) {
    json->Str("{\"event\":\"dump_begin\",\"reason\":").JsonStr(reason);
    json->Str(",\"signal\":").JsonStr(SignalName(sig));
    json->Str(",\"signal_number\":").Dec(sig);
    json->Str(",\"address\":\"").Hex(address).Char('"');
    json->Str(",\"interpreter\":").Dec(interp_id);
    json->Str(",\"interpreter_index\":").Dec(index);
    json->Str(",\"thread\":").Dec(static_cast<int64_t>(thread_id));
    json->Str(",\"native_thread_id\":").Dec(tid).Str("}\n");
    json->Flush();
  }
}

void DumpPythonThreads(SignalSafeWriter* text, SignalSafeWriter* json,
                       const char* reason, PyThreadState* current,
                       bool all_threads, DumpScratch* s) {
  int n =
      interpsan_shim_list_threads_safe(s->threads, DumpScratch::kMaxThreads);
  int64_t current_interp = -2;
  for (int i = 0; i < n; i++) {
    if (s->threads[i].tstate == current)
      current_interp = s->threads[i].interp_id;
  }
  // Pass 0: the current interpreter (current thread first); pass 1: the
  // others, in CPython's order.
  for (int pass = 0; pass < 2; pass++) {
    int64_t shown = -3;
    for (int i = 0; i < n; i++) {
      const InterpsanThreadInfo& t = s->threads[i];
      bool in_current = t.interp_id == current_interp;
      if ((pass == 0) != in_current) continue;
      if (!all_threads && t.tstate != current) continue;
      if (t.interp_id != shown) {
        shown = t.interp_id;
        if (text != nullptr) {
          InterpreterTitle(text, t.interp_id, t.is_main_interp);
          // In pass 0, print the current thread before its siblings.
          if (pass == 0 && current != nullptr) {
            for (int j = 0; j < n; j++) {
              if (s->threads[j].tstate != current) continue;
              int nf = Capture(current, s);
              ThreadText(text, s->threads[j], true, s->frames, nf);
              if (json)
                ThreadJson(json, reason, s->threads[j], true, s->frames, nf);
            }
          }
        }
      }
      if (pass == 0 && t.tstate == current && text != nullptr) continue;
      int nf = Capture(t.tstate, s);
      bool is_current = t.tstate == current;
      if (text != nullptr) ThreadText(text, t, is_current, s->frames, nf);
      if (json != nullptr)
        ThreadJson(json, reason, t, is_current, s->frames, nf);
    }
    if (text != nullptr && shown != -3) {
      text->Char('\n');
      text->Flush();
    }
  }
}

void DumpNativeStack(SignalSafeWriter* text, SignalSafeWriter* json,
                     const char* reason, char* maps_buf, size_t maps_size,
                     const char* title, void* ucontext) {
  void* pcs[80];
  int n = 0;
  if (ucontext != nullptr) {
    // Unwind from the interrupted context itself: the handler's frames and
    // the signal trampoline never appear, and the faulting frame is #0 even
    // when the fault left no usable return address.
    unw_cursor_t cursor;
    if (unw_init_local2(&cursor, static_cast<unw_context_t*>(ucontext),
                        UNW_INIT_SIGNAL_FRAME) == 0) {
      do {
        unw_word_t ip = 0;
        if (unw_get_reg(&cursor, UNW_REG_IP, &ip) < 0 || ip == 0) break;
        pcs[n++] = reinterpret_cast<void*>(ip);
      } while (n < 80 && unw_step(&cursor) > 0);
    }
  }
  if (n == 0) n = unw_backtrace(pcs, 80);
  ModuleMap map;
  bool have_map = map.Load(maps_buf, maps_size);
  int64_t tid = syscall(SYS_gettid);
  if (text != nullptr) {
    text->Str(title).Str(" (tid ").Dec(tid).Str("):\n");
  }
  if (json != nullptr) {
    json->Str("{\"event\":\"dump_native\",\"reason\":").JsonStr(reason);
    json->Str(",\"native_thread_id\":").Dec(tid).Str(",\"native_frames\":[");
  }
  char path[256];
  for (int i = 0; i < n; i++) {
    uintptr_t pc = reinterpret_cast<uintptr_t>(pcs[i]);
    uintptr_t offset = 0;
    bool resolved = have_map && map.Resolve(pc, path, sizeof(path), &offset);
    if (text != nullptr) {
      text->Str("  #").Dec(i).Char(' ').Hex(pc);
      if (resolved) text->Str(" in ").Str(path).Char('+').Hex(offset);
      text->Char('\n');
    }
    if (json != nullptr) {
      if (i > 0) json->Char(',');
      json->Str("{\"pc\":\"")
          .Hex(pc)
          .Str("\",\"module\":")
          .JsonStr(resolved ? path : "");
      json->Str(",\"offset\":\"").Hex(offset).Char('"');
      // Frame #0 of an interrupted context is the faulting instruction
      // itself, not a return address: symbolize it as is.
      if (i == 0 && ucontext != nullptr) json->Str(",\"exact\":true");
      json->Char('}');
    }
  }
  if (text != nullptr) {
    text->Str("  (symbolized in report.json)\n\n");
    text->Flush();
  }
  if (json != nullptr) {
    json->Str("]}\n");
    json->Flush();
  }
}

void DumpEnd(SignalSafeWriter* json, const char* reason, bool complete) {
  if (json == nullptr) return;
  json->Str("{\"event\":\"dump_end\",\"reason\":").JsonStr(reason);
  json->Str(",\"complete\":").Str(complete ? "true" : "false").Str("}\n");
  json->Flush();
}

}  // namespace interpsan
