#include "debug/report.h"

#include <Python.h>
#include <fnmatch.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "debug/cpython_findings.h"
#include "runtime/allocation_tracer.h"
#include "runtime/allocator_hooks.h"
#include "runtime/event_log.h"
#include "runtime/interpreter_registry.h"
#include "runtime/json_writer.h"
#include "runtime/python_shim.h"

namespace interpsan {
namespace {

ReportOptions g_options;
std::mutex g_report_mu;
// Site key -> (report id, count), and the run indexes of the interpreters
// that hit it. Guarded by g_report_mu.
std::map<std::string, std::pair<int, int>>* g_sites = nullptr;
std::map<int, std::set<int>>* g_site_interpreters = nullptr;
std::atomic<int> g_total{0};
std::atomic<int> g_suppressed{0};
std::vector<Suppression>* g_suppressions = nullptr;
int g_next_id = 1;

// The repeat count of each site by report id, readable from a signal
// handler (WriteViolationCountsSignalSafe): a crash or a stop of the run
// writes them exactly. Written under g_report_mu; sites with an id of
// kSignalSafeSites or more are counted in g_sites only (their count events
// are the rate-limited ones).
constexpr int kSignalSafeSites = 4096;
std::atomic<int> g_site_counts[kSignalSafeSites];
std::atomic<int> g_last_site_id{0};
std::atomic<bool> g_sites_beyond_signal_safe{false};

bool IsPowerOfTwo(int n) { return n > 0 && (n & (n - 1)) == 0; }

// One violation_count event (count so far, every interpreter that hit the
// site). Caller holds g_report_mu.
void WriteCountEvent(int id, int count) {
  std::string indexes;
  for (int index : (*g_site_interpreters)[id]) {
    if (!indexes.empty()) indexes += ",";
    indexes += std::to_string(index);
  }
  EventLog::Write("{\"event\":\"violation_count\",\"id\":" +
                  std::to_string(id) + ",\"count\":" + std::to_string(count) +
                  ",\"interpreter_indexes\":[" + indexes + "]}");
}

bool IsMainInterpreter(OwnerSlot slot, const InterpreterInfo& info) {
  // Every runtime's first interpreter has id 0 (PyInterpreterState_New).
  return slot == kMainSlot || info.id == 0;
}

// The same words as the report's (tools/report/report_labels.py,
// interpreter_label): "the main interpreter (id 0)", "interpreter 9 (index 2)",
// "interpreter 7 (index 0, ended)".
std::string InterpreterLabel(OwnerSlot slot) {
  if (slot == kNoOwner) return "no interpreter";
  InterpreterInfo info = InterpreterRegistry::Info(slot);
  std::string label;
  std::string details;
  if (IsMainInterpreter(slot, info)) {
    label = "the main interpreter";
    details = "id " + std::to_string(info.id);
  } else {
    label = "interpreter " + std::to_string(info.id);
    if (info.index >= 0) details = "index " + std::to_string(info.index);
  }
  if (info.ended) details += details.empty() ? "ended" : ", ended";
  if (!details.empty()) label += " (" + details + ")";
  return label;
}

std::string TracebackJson(const std::vector<PythonFrame>& tb) {
  std::string out = "[";
  for (size_t i = 0; i < tb.size(); i++) {
    if (i) out += ",";
    JsonObject o(&out);
    o.Str("filename", tb[i].filename)
        .Int("lineno", tb[i].lineno)
        .Str("name", tb[i].name);
    o.End();
  }
  return out + "]";
}

std::string SiteKey(const Violation& v, const std::vector<PythonFrame>& tb,
                    const std::vector<NativeFrame>& stack, int ext) {
  std::string key = v.kind;
  key += '|';
  if (ext >= 0) {
    key += stack[ext].module + '|' + stack[ext].symbol;
  }
  key += '|';
  if (!tb.empty()) {
    key += tb.back().filename + ':' + std::to_string(tb.back().lineno);
  }
  key += '|' + v.object_type + '|' + v.extension_hint + '|' + v.static_module +
         std::to_string(v.static_offset);
  return key;
}

}  // namespace

void ConfigureReports(const ReportOptions& options) { g_options = options; }

std::string InterpreterName(OwnerSlot slot) {
  if (slot == kNoOwner) return "no interpreter";
  InterpreterInfo info = InterpreterRegistry::Info(slot);
  if (IsMainInterpreter(slot, info)) return "the main interpreter";
  return "interpreter " + std::to_string(info.id);
}

std::string ObjectTypeName(const void* object) {
  PyObject* op = static_cast<PyObject*>(const_cast<void*>(object));
  PyTypeObject* type = Py_TYPE(op);
  if (!PyType_Check(op)) return type->tp_name;
  std::string name =
      std::string("class ") + reinterpret_cast<PyTypeObject*>(op)->tp_name;
  if (type != &PyType_Type) {
    name += std::string(" (metaclass ") + type->tp_name + ")";
  }
  return name;
}

namespace {
thread_local std::string* t_current_test = nullptr;
}  // namespace

void SetCurrentTest(const std::string& test) {
  if (t_current_test == nullptr) t_current_test = new std::string();
  *t_current_test = test;
}

bool LoadSuppressions(const std::string& path, std::vector<Suppression>* out,
                      std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read suppressions file '" + path + "'";
    return false;
  }
  std::string line;
  for (int lineno = 1; std::getline(in, line); lineno++) {
    size_t hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos) continue;
    size_t e = line.find_last_not_of(" \t\r");
    line = line.substr(b, e - b + 1);
    Suppression suppression;
    suppression.text = line;
    std::stringstream terms(line);
    std::string term;
    while (terms >> term) {
      size_t colon = term.find(':');
      std::string field =
          colon == std::string::npos ? "" : term.substr(0, colon);
      if (field != "kind" && field != "extension" && field != "type" &&
          field != "function" && field != "file") {
        *error = path + ":" + std::to_string(lineno) + ": '" + term +
                 "' is not FIELD:PATTERN with FIELD one of kind, extension, "
                 "type, function, file";
        return false;
      }
      suppression.terms.push_back({field, term.substr(colon + 1)});
    }
    out->push_back(std::move(suppression));
  }
  return true;
}

void SetSuppressions(std::vector<Suppression> suppressions) {
  g_suppressions = new std::vector<Suppression>(std::move(suppressions));
}

bool IsSuppressed(const std::vector<Suppression>& suppressions,
                  const Violation& v, const std::vector<PythonFrame>& traceback,
                  const std::vector<NativeFrame>& stack, int extension_frame) {
  auto match = [](const std::string& pattern, const std::string& text) {
    return fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
  };
  auto term_matches = [&](const SuppressionTerm& t) {
    if (t.field == "kind") return match(t.pattern, v.kind);
    if (t.field == "type") return match(t.pattern, v.object_type);
    if (t.field == "extension") {
      std::string name =
          extension_frame >= 0
              ? ExtensionNameFromPath(stack[extension_frame].module)
              : v.extension_hint;
      return !name.empty() && match(t.pattern, name);
    }
    if (t.field == "function") {
      for (const NativeFrame& f : stack) {
        if (!f.symbol.empty() && match(t.pattern, f.symbol)) return true;
      }
      return false;
    }
    for (const PythonFrame& f : traceback) {  // "file"
      if (match(t.pattern, f.filename)) return true;
    }
    return false;
  };
  for (const Suppression& s : suppressions) {
    bool all = !s.terms.empty();
    for (const SuppressionTerm& t : s.terms) all = all && term_matches(t);
    if (all) return true;
  }
  return false;
}

std::vector<PythonFrame> CapturePythonTraceback() {
  InterpsanFrame frames[64];
  int n = interpsan_shim_capture_traceback(interpsan_shim_current_tstate(),
                                           frames, 64);
  // The runner's own frames (its bootstrap and runpy) sit below the user's
  // program: leave them out, as python's own tracebacks do.
  int outermost = n - 1;
  while (outermost > 0 &&
         (strcmp(frames[outermost].filename, "<interpsan-bootstrap>") == 0 ||
          strcmp(frames[outermost].filename, "<frozen runpy>") == 0)) {
    outermost--;
  }
  std::vector<PythonFrame> out;
  for (int i = outermost; i >= 0; i--) {
    out.push_back({frames[i].filename, frames[i].name, frames[i].lineno});
  }
  return out;
}

// Where the object or block was allocated (its owner's side), from the
// trace id in its owner record: empty unless --trace-malloc was on.
std::vector<PythonFrame> AllocationTraceback(const Violation& v) {
  std::vector<PythonFrame> out;
  if (g_tracer.frames == nullptr || v.address == nullptr) return out;
  const void* block = v.address;
  if (v.is_object) {
    block = static_cast<const char*>(v.address) -
            interpsan_shim_preheader_size(
                const_cast<PyObject*>(static_cast<const PyObject*>(v.address)));
  }
  uint32_t id = AllocatorHooks::TraceIdOf(block);
  if (id == 0) return out;
  InterpsanFrame frames[64];
  int n = g_tracer.frames(id, frames, 64);
  for (int i = n - 1; i >= 0; i--) {
    out.push_back({frames[i].filename, frames[i].name, frames[i].lineno});
  }
  return out;
}

std::string FormatViolationJson(const Violation& v,
                                const std::vector<PythonFrame>& traceback,
                                const std::vector<NativeFrame>& stack,
                                int extension_frame) {
  InterpreterInfo cur = InterpreterRegistry::Info(v.current);
  InterpreterInfo own = InterpreterRegistry::Info(v.owner);
  char addr[32];
  snprintf(addr, sizeof(addr), "%p", v.address);
  // The native frames as facts (module, offset, dladdr's symbol): the
  // supervisor symbolizes them once, outside the checked process, and
  // writes report.json's native_stack from them (tools/report/symbolize.py).
  std::string frames = "[";
  for (size_t i = 0; i < stack.size(); i++) {
    if (i) frames += ",";
    char offset[32];
    snprintf(offset, sizeof(offset), "0x%lx",
             static_cast<unsigned long>(stack[i].module_offset));
    JsonObject f(&frames);
    f.Str("module", stack[i].module)
        .Str("offset", offset)
        .Str("symbol", stack[i].symbol);
    f.End();
  }
  frames += "]";
  std::string out;
  JsonObject o(&out);
  o.Str("kind", v.kind)
      .Str("check", v.check)
      .Int("interpreter", cur.id)
      .Int("interpreter_index", cur.index)
      .Int("owner_interpreter", own.id)
      .Int("owner_index", own.index)
      .Bool("owner_ended", own.ended)
      .Str("object_type", v.object_type)
      .Str("object_address", addr)
      .Int("size", static_cast<int64_t>(v.size));
  if (extension_frame >= 0) {
    o.Str("extension", ExtensionNameFromPath(stack[extension_frame].module))
        .Str("extension_path", stack[extension_frame].module)
        .Str("extension_function", stack[extension_frame].symbol);
  } else if (!v.extension_hint.empty()) {
    o.Str("extension", v.extension_hint);
    if (v.holder.found() && v.holder.module == v.extension_hint) {
      o.Str("extension_path", v.holder.module_path);
    }
  } else {
    o.Null("extension");
  }
  if (!v.static_module.empty()) {
    char off[32];
    snprintf(off, sizeof(off), "0x%lx",
             static_cast<unsigned long>(v.static_offset));
    o.Str("static_module", v.static_module).Str("static_offset", off);
  }
  if (t_current_test != nullptr && !t_current_test->empty()) {
    o.Str("test", *t_current_test);
  }
  if (v.capi_function != nullptr) {
    o.Str("capi_function", v.capi_function)
        .Int("capi_argument", v.capi_argument);
  }
  if (v.source_file != nullptr) {
    o.Str("source_file", v.source_file).Int("source_line", v.source_line);
    if (v.source_function != nullptr)
      o.Str("source_function", v.source_function);
  }
  if (!g_options.fatal && v.resolution != nullptr)
    o.Str("resolution", v.resolution);
  if (v.holder.found()) {
    std::string holder;
    JsonObject h(&holder);
    h.Str("kind", v.holder.kind)
        .Str("module", v.holder.module)
        .Str("module_path", v.holder.module_path);
    if (!v.holder.type.empty()) h.Str("type", v.holder.type);
    if (!v.holder.slot.empty()) h.Str("slot", v.holder.slot);
    if (v.holder.kind == "static-variable") {
      char off[32];
      snprintf(off, sizeof(off), "0x%lx",
               static_cast<unsigned long>(v.holder.static_offset));
      h.Str("static_offset", off);
    }
    h.End();
    o.Raw("holder", holder);
  }
  o.Raw("python_traceback", TracebackJson(traceback))
      .Raw("allocation_traceback", TracebackJson(AllocationTraceback(v)))
      .Raw("native_frames", frames)
      .Str("message", v.message)
      .Str("fix", v.fix);
  o.End();
  return out;
}

std::string FormatViolationText(const Violation& v,
                                const std::vector<PythonFrame>& traceback,
                                const std::vector<NativeFrame>& stack,
                                int extension_frame) {
  // One line: the supervisor prints the whole finding, symbolized, when the
  // run ends (tools/report/report_render.py), and report.json has it all.
  std::string out = "==interpsan== ERROR: ";
  out += v.kind;
  out += ": " + v.message;
  out +=
      "; owner: " + (v.owner == kNoOwner
                         ? std::string("no owning interpreter (unknown block)")
                         : InterpreterLabel(v.owner));
  out += "; acting: " + InterpreterLabel(v.current);
  if (extension_frame >= 0) {
    out +=
        "; extension: " + ExtensionNameFromPath(stack[extension_frame].module);
    if (!stack[extension_frame].symbol.empty()) {
      out += ", in " + stack[extension_frame].symbol + "()";
    }
  } else if (!v.extension_hint.empty()) {
    out += "; extension: " + v.extension_hint;
  }
  if (!traceback.empty()) {
    const PythonFrame& f = traceback.back();
    out +=
        "; at " + f.filename + ":" + std::to_string(f.lineno) + " in " + f.name;
  } else if (t_current_test != nullptr && !t_current_test->empty()) {
    out += "; test: " + *t_current_test;
  }
  // A message of several lines stays one line on stderr.
  for (char& c : out) {
    if (c == '\n') c = ' ';
  }
  return out + "\n";
}

bool ReportViolation(Violation v) {
  std::vector<PythonFrame> traceback;
  std::vector<NativeFrame> stack;
  // An audit's finding (debug/object_graph_audit.h) has no stack of its own:
  // the stacks at hand are the audit's caller's. The test that was running
  // ("test") and the holder (in the message) say where it is.
  if (v.check == nullptr || strcmp(v.check, "audit") != 0) {
    traceback = CapturePythonTraceback();
    // Start at the first frame outside interpsan: the reporter, the check
    // and the hook are noise to the reader.
    stack = CaptureNativeStack(0);
    stack.erase(stack.begin(), stack.begin() + FirstForeignFrame(stack));
  }
  int ext = FindExtensionFrame(stack);
  // No extension on the stack: the module whose structures hold the
  // object is the one to blame (and to match suppressions against).
  bool holder_looked_up = false;
  if (v.is_object && ext < 0 && v.extension_hint.empty()) {
    v.holder = FindHolder(v.address);
    holder_looked_up = true;
    v.extension_hint = v.holder.module;
  }
  CPythonFinding own =
      ClassifyCPythonFinding(v, traceback, stack, ext);  // cpython_findings.h
  if (own != CPythonFinding::kNo) return own == CPythonFinding::kContain;
  if (g_suppressions != nullptr &&
      IsSuppressed(*g_suppressions, v, traceback, stack, ext)) {
    int suppressed = g_suppressed.fetch_add(1, std::memory_order_relaxed) + 1;
    // As they change (rate-limited), so a crash does not lose them.
    if (IsPowerOfTwo(suppressed)) {
      EventLog::Write("{\"event\":\"suppressed\",\"count\":" +
                      std::to_string(suppressed) + "}");
    }
    return false;
  }
  std::string key = SiteKey(v, traceback, stack, ext);

  std::lock_guard<std::mutex> lock(g_report_mu);
  g_total.fetch_add(1, std::memory_order_relaxed);
  if (g_sites == nullptr)
    g_sites = new std::map<std::string, std::pair<int, int>>();
  if (g_site_interpreters == nullptr)
    g_site_interpreters = new std::map<int, std::set<int>>();
  int acting_index = InterpreterRegistry::Info(v.current).index;
  auto it = g_sites->find(key);
  if (it != g_sites->end()) {
    // A repeat: counted, not printed again. The count is written as it
    // changes, so that a run that ends in a crash or is killed keeps it:
    // exactly by the dump's epilogue (WriteViolationCountsSignalSafe) and
    // at a normal exit (FlushViolationCounts); as an event when it reaches
    // a power of two or another interpreter hits the site, which bounds a
    // hot site to about 31 + N events and survives even SIGKILL (then the
    // count read back is at least half the real one).
    int id = it->second.first;
    int count = ++it->second.second;
    if (id < kSignalSafeSites) {
      g_site_counts[id].store(count, std::memory_order_relaxed);
    }
    bool new_interpreter =
        (*g_site_interpreters)[id].insert(acting_index).second;
    if (new_interpreter || IsPowerOfTwo(count)) WriteCountEvent(id, count);
    return true;
  }
  int id = g_next_id++;
  (*g_sites)[key] = {id, 1};
  (*g_site_interpreters)[id].insert(acting_index);
  if (id < kSignalSafeSites) {
    g_site_counts[id].store(1, std::memory_order_relaxed);
    g_last_site_id.store(id, std::memory_order_release);
  } else {
    g_sites_beyond_signal_safe.store(true, std::memory_order_relaxed);
  }

  // A new site: say what holds the object (the stack may name the actor
  // only). Looked up once per site, never on a repeat.
  if (v.is_object && !holder_looked_up) v.holder = FindHolder(v.address);
  std::string json = FormatViolationJson(v, traceback, stack, ext);
  // Tag the event so the supervisor can match later count updates.
  std::string event = "{\"event\":\"violation\",\"id\":" + std::to_string(id) +
                      ",\"violation\":" + json + "}";
  EventLog::Write(event);
  std::string text = FormatViolationText(v, traceback, stack, ext);
  if (g_options.fatal) {
    text +=
        "==interpsan== ABORTING on the first violation (use --keep-going "
        "to report all of them and continue)\n";
  }
  fputs(text.c_str(), stderr);
  fflush(stderr);
  if (g_options.fatal) {
    fflush(stdout);
    _exit(g_options.fatal_exit_code);
  }
  return true;
}

void FlushViolationCounts() {
  std::lock_guard<std::mutex> lock(g_report_mu);
  int suppressed = g_suppressed.load(std::memory_order_relaxed);
  if (suppressed > 0) {
    EventLog::Write("{\"event\":\"suppressed\",\"count\":" +
                    std::to_string(suppressed) + "}");
  }
  if (g_sites != nullptr) {
    for (const auto& site : *g_sites) {
      if (site.second.second > 1)
        WriteCountEvent(site.second.first, site.second.second);
    }
  }
  // The counts above are final: the supervisor reports them as exact.
  EventLog::Write("{\"event\":\"violation_counts_final\"}");
}

namespace {

// Appends the decimal form of `n` (>= 0) at `p`; returns the new end.
char* AppendDecimal(char* p, long n) {
  char digits[24];
  int len = 0;
  do {
    digits[len++] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n > 0);
  while (len > 0) *p++ = digits[--len];
  return p;
}

char* AppendText(char* p, const char* text) {
  while (*text) *p++ = *text++;
  return p;
}

void WriteAllSignalSafe(int fd, const char* p, size_t left) {
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace

void WriteViolationCountsSignalSafe(int fd) {
  if (fd < 0) return;
  char line[128];
  int suppressed = g_suppressed.load(std::memory_order_relaxed);
  if (suppressed > 0) {
    char* p = AppendText(line, "{\"event\":\"suppressed\",\"count\":");
    p = AppendDecimal(p, suppressed);
    p = AppendText(p, "}\n");
    WriteAllSignalSafe(fd, line, static_cast<size_t>(p - line));
  }
  int last = g_last_site_id.load(std::memory_order_acquire);
  for (int id = 1; id <= last && id < kSignalSafeSites; id++) {
    int count = g_site_counts[id].load(std::memory_order_relaxed);
    if (count <= 1) continue;
    char* p = AppendText(line, "{\"event\":\"violation_count\",\"id\":");
    p = AppendDecimal(p, id);
    p = AppendText(p, ",\"count\":");
    p = AppendDecimal(p, count);
    p = AppendText(p, "}\n");
    WriteAllSignalSafe(fd, line, static_cast<size_t>(p - line));
  }
  // Sites beyond kSignalSafeSites keep their rate-limited counts only: not
  // final then.
  if (!g_sites_beyond_signal_safe.load(std::memory_order_relaxed)) {
    static const char kFinal[] = "{\"event\":\"violation_counts_final\"}\n";
    WriteAllSignalSafe(fd, kFinal, sizeof(kFinal) - 1);
  }
}

int DistinctViolationCount() {
  std::lock_guard<std::mutex> lock(g_report_mu);
  return g_sites ? static_cast<int>(g_sites->size()) : 0;
}

int TotalViolationCount() { return g_total.load(std::memory_order_relaxed); }

}  // namespace interpsan
