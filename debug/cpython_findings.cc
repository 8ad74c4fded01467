#include "debug/cpython_findings.h"

#include <Python.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <set>
#include <sstream>
#include <string>

#include "debug/cpython_findings_list.h"  // kCPythonFindings: the .supp text
#include "debug/native_stack.h"
#include "debug/report.h"
#include "runtime/event_log.h"
#include "runtime/json_writer.h"
#include "runtime/python_shim.h"
#include "runtime/static_memory_map.h"

namespace interpsan {
namespace {

struct Defaults {
  bool enabled = false;
  std::vector<Suppression> list;
  std::string libpython;    // realpath
  std::string lib_dynload;  // realpath, with a trailing '/'
};

std::once_flag g_once;
Defaults* g_defaults = nullptr;
std::atomic<int> g_count{0};

std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  return realpath(path.c_str(), buf) != nullptr ? std::string(buf) : path;
}

// The same FIELD:GLOB lines as --suppressions (report.cc's
// LoadSuppressions), from the compiled-in text.
std::vector<Suppression> Parse(const char* text) {
  std::vector<Suppression> out;
  std::stringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    size_t hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    Suppression s;
    std::stringstream terms(line);
    std::string term;
    while (terms >> term) {
      size_t colon = term.find(':');
      if (colon == std::string::npos) continue;
      s.terms.push_back({term.substr(0, colon), term.substr(colon + 1)});
    }
    if (!s.terms.empty()) {
      s.text = line;
      out.push_back(std::move(s));
    }
  }
  return out;
}

void Init() {
  auto* d = new Defaults();
  const char* env = getenv("INTERPSAN_DEFAULT_SUPPRESSIONS");
  d->enabled = env == nullptr || strcmp(env, "0") != 0;
  d->list = Parse(kCPythonFindings);
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&Py_GetVersion), &info) != 0 &&
      info.dli_fname != nullptr) {
    d->libpython = RealPath(info.dli_fname);
    std::string dir = d->libpython.substr(0, d->libpython.rfind('/'));
    // <prefix>/lib/libpython3.X.so -> <prefix>/lib/python3.X/lib-dynload
    std::string version = interpsan_shim_version();
    d->lib_dynload = RealPath(dir + "/python" + version + "/lib-dynload") + "/";
  }
  g_defaults = d;
}

const Defaults& Get() {
  std::call_once(g_once, Init);
  return *g_defaults;
}

// The shared object a finding is attributed to: the extension frame's, a
// static variable's, or the stdlib extension named by the audit's hint;
// "" if only CPython (and interpsan) is involved.
bool AttributedToCPython(const Defaults& d, const Violation& v,
                         const std::vector<NativeFrame>& stack, int ext) {
  if (ext >= 0) return IsCPythonModulePath(stack[ext].module);
  if (!v.static_module.empty()) return IsCPythonModulePath(v.static_module);
  if (!v.extension_hint.empty()) {
    // A name only (an audit's holder): CPython's if the stdlib's extension
    // directory has that module and no imported third-party module of
    // that name shadows it (the hint then names the stdlib's).
    std::string prefix = d.lib_dynload + v.extension_hint + ".cpython-";
    const StaticMemorySnapshot* snap = StaticMemoryMap::Current();
    if (snap == nullptr) return false;
    bool stdlib = false;
    for (const std::string& module : snap->modules) {
      if (ExtensionNameFromPath(module) != v.extension_hint) continue;
      if (RealPath(module).compare(0, prefix.size(), prefix) != 0) return false;
      stdlib = true;
    }
    return stdlib;
  }
  return true;  // nothing but CPython on the stack
}

}  // namespace

bool IsCPythonModulePath(const std::string& path) {
  const Defaults& d = Get();
  if (path.empty() || d.libpython.empty()) return false;
  std::string real = RealPath(path);
  return real == d.libpython ||
         (real.size() > d.lib_dynload.size() &&
          real.compare(0, d.lib_dynload.size(), d.lib_dynload) == 0 &&
          real.find('/', d.lib_dynload.size()) == std::string::npos);
}

CPythonFinding ClassifyCPythonFinding(const Violation& v,
                                      const std::vector<PythonFrame>& traceback,
                                      const std::vector<NativeFrame>& stack,
                                      int extension_frame) {
  const Defaults& d = Get();
  if (!d.enabled || d.list.empty()) return CPythonFinding::kNo;
  if (!IsSuppressed(d.list, v, traceback, stack, extension_frame) ||
      !AttributedToCPython(d, v, stack, extension_frame)) {
    return CPythonFinding::kNo;
  }
  // Each distinct site once, as facts (the report lists CPython's findings
  // apart from the user's; --no-default-suppressions shows them in full).
  // The report path only: a mutex is fine here.
  {
    std::string extension =
        extension_frame >= 0
            ? ExtensionNameFromPath(stack[extension_frame].module)
            : v.extension_hint;
    std::string key =
        std::string(v.kind) + '\0' + extension + '\0' + v.object_type;
    static std::mutex* sites_mu = new std::mutex;
    static std::set<std::string>* sites = new std::set<std::string>;
    bool first;
    {
      std::lock_guard<std::mutex> lock(*sites_mu);
      first = sites->insert(key).second;
    }
    if (first) {
      std::string out;
      JsonObject o(&out);
      o.Str("event", "cpython_finding")
          .Str("kind", v.kind)
          .Str("extension", extension)
          .Str("object_type", v.object_type);
      o.End();
      EventLog::Write(out);
    }
  }
  int count = g_count.fetch_add(1, std::memory_order_relaxed) + 1;
  // As it changes, rate-limited (a crash keeps the last power of two); the
  // exact total at exit (below).
  if ((count & (count - 1)) == 0) {
    EventLog::Write("{\"event\":\"suppressed_cpython\",\"count\":" +
                    std::to_string(count) + "}");
  }
  return v.capi_function != nullptr ? CPythonFinding::kProceed
                                    : CPythonFinding::kContain;
}

int CPythonFindingCount() { return g_count.load(std::memory_order_relaxed); }

namespace {
__attribute__((destructor)) void WriteFinalCount() {
  int count = g_count.load(std::memory_order_relaxed);
  if (count > 0 && EventLog::fd() >= 0) {
    EventLog::Write("{\"event\":\"suppressed_cpython\",\"count\":" +
                    std::to_string(count) + "}");
  }
}
}  // namespace

}  // namespace interpsan
