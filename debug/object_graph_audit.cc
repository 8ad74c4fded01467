#include "debug/object_graph_audit.h"

#include <Python.h>

#include <atomic>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "debug/check_table.h"
#include "debug/native_stack.h"
#include "debug/object_violation.h"
#include "debug/report.h"
#include "debug/sanctioned_sharing.h"
#include "runtime/anomaly.h"
#include "runtime/arena_map.h"
#include "runtime/interpreter_registry.h"
#include "runtime/invariant.h"
#include "runtime/object_owner.h"
#include "runtime/python_shim.h"
#include "runtime/static_memory_map.h"

namespace interpsan {
namespace {

// ---- findings seen by earlier audits
// ------------------------------------------

enum FindingKind { kForeignReference, kStaticObjectReference };

// (kind, interpreter id, holder address, object address). The interpreter
// is part of the key: every interpreter that holds the object is an
// offender (keep-going gives each of them status violation).
using FindingKey = std::tuple<int, int64_t, uintptr_t, uintptr_t>;
std::mutex g_seen_mu;
std::set<FindingKey>* g_seen = nullptr;  // guarded by g_seen_mu; never freed

// True the first time this (kind, interpreter, holder, object) is seen.
bool FirstSighting(FindingKind kind, int64_t interpreter, const void* holder,
                   const void* object) {
  std::lock_guard<std::mutex> lock(g_seen_mu);
  if (g_seen == nullptr) g_seen = new std::set<FindingKey>();
  return g_seen
      ->insert(FindingKey(kind, interpreter,
                          reinterpret_cast<uintptr_t>(holder),
                          reinterpret_cast<uintptr_t>(object)))
      .second;
}

// ---- what each interpreter saw at its last audit
// ------------------------------

struct InterpreterAuditState {
  // Range start -> the range's 8-byte words at the last audit (zero before
  // the first, so the first audit checks every non-null word).
  std::map<uintptr_t, std::vector<uintptr_t>> statics;
  // Extension files imported, cached while sys.modules' size and the set of
  // loaded objects stay the same.
  Py_ssize_t modules_size = -1;
  const void* modules_dict = nullptr;
  const StaticMemorySnapshot* map_seen = nullptr;
  std::set<std::string> imported;
  // Real paths of the objects in the static map (realpath is a few
  // syscalls; the audit after every test must not repeat them). Kept per
  // interpreter, so that no audit waits for another interpreter's lock.
  std::map<std::string, std::string> real;
  // gc.get_count()'s generation-1 and -2 counters at the last audit: while
  // they stay the same, no collection of generation 0 or 1 ran, so
  // generation 1 holds nothing new (see YoungGenerationsToWalk).
  long gc_count1 = -1, gc_count2 = -1;
  // An empty list made at the end of the last audit after a test (a strong
  // reference; released by the next full audit). The GC appends every
  // object it starts tracking to the tail of generation 0, and
  // gc.get_objects(0) lists generation 0 from head to tail: while no
  // collection has run, what follows the marker is what was tracked since
  // the last audit (new containers, and dicts that became tracked because
  // a container was stored in them), and the rest was walked then.
  PyObject* marker = nullptr;
};

std::mutex g_states_mu;
// By interpreter id (ids are never reused). Entries are only touched under
// their interpreter's GIL; the mutex guards the map's shape. Never freed.
std::map<int64_t, InterpreterAuditState>* g_states = nullptr;

InterpreterAuditState* StateOf(int64_t interpreter) {
  // A thread audits one interpreter, test after test: no lock then.
  thread_local int64_t t_interpreter = -1;
  thread_local InterpreterAuditState* t_state = nullptr;
  if (t_interpreter == interpreter) return t_state;
  std::lock_guard<std::mutex> lock(g_states_mu);
  t_interpreter = interpreter;
  if (g_states == nullptr)
    g_states = new std::map<int64_t, InterpreterAuditState>();
  t_state = &(*g_states)[interpreter];
  return t_state;
}

std::string RealPath(const std::string& path) {
  char resolved[PATH_MAX];
  return realpath(path.c_str(), resolved) ? resolved : path;
}

const std::string& RealPathOf(InterpreterAuditState* state,
                              const std::string& path) {
  auto it = state->real.find(path);
  if (it == state->real.end())
    it = state->real.emplace(path, RealPath(path)).first;
  return it->second;
}

// ---- the object graph
// ------------------------------------------------------------

// A foreign reference found during a walk, reported after the walk (so that
// nothing runs Python code, or allocates objects, in the middle of
// tp_traverse). The referent is described, never referenced: touching its
// refcount from this interpreter would be the very bug being reported.
struct PendingReference {
  PyObject* referrer;  // a strong reference (the referrer is ours)
  const void* ref;
  OwnerSlot owner;
  std::string ref_type;
};

struct AuditState {
  OwnerSlot current;
  int64_t interpreter_id;
  PyObject* referrer;
  // One report per (referrer type, referent type) per walk: a list of
  // 10,000 foreign floats is one finding, not 10,000.
  std::set<std::pair<const void*, const void*>> seen_types;
  std::vector<PendingReference> pending;
  int findings;
  const void* last_type = nullptr;  // NoteStaticType's memo
};

std::string ModuleNameOf(PyObject* obj) {
  if (PyModule_Check(obj)) {
    const char* name = PyModule_GetName(obj);
    if (name == nullptr) PyErr_Clear();
    return name ? name : "";
  }
  const char* tp = Py_TYPE(obj)->tp_name;
  const char* dot = strrchr(tp, '.');
  return dot ? std::string(tp, dot - tp) : "";
}

// The extension whose static memory points at `obj` (a static type's
// tp_dict, a cached object), or "" if none does.
std::string StaticHolderOf(const PyObject* obj) {
  const StaticMemorySnapshot* snap = StaticMemoryMap::Current();
  if (snap == nullptr) return "";
  for (const StaticRange& r : snap->ranges) {
    const std::string& module = snap->modules[r.module];
    if (module.empty() || IsInfrastructureModule(module)) continue;
    for (uintptr_t a = (r.start + 7) & ~uintptr_t{7}; a + 8 <= r.end; a += 8) {
      if (*reinterpret_cast<const void* const*>(a) == obj) return module;
    }
  }
  return "";
}

int Visit(PyObject* ref, void* arg) {
  auto* st = static_cast<AuditState*>(arg);
  if (ref == nullptr) return 0;
  OwnerSlot owner = OwnerOfObject(ref);
  if (owner == kNoOwner || owner == st->current) return 0;
  // Seen by an earlier audit (or earlier in this one): already reported.
  if (!FirstSighting(kForeignReference, st->interpreter_id, st->referrer,
                     ref)) {
    return 0;
  }
  // Visit runs only inside WalkObjects' tp_traverse, which names the
  // referrer first: the pending entry holds a reference to it.
  INTERPSAN_CHECK(st->referrer != nullptr);
  auto key = std::make_pair(static_cast<const void*>(Py_TYPE(st->referrer)),
                            static_cast<const void*>(Py_TYPE(ref)));
  if (!st->seen_types.insert(key).second) return 0;
  Py_INCREF(st->referrer);
  st->pending.push_back({st->referrer, ref, owner, ObjectTypeName(ref)});
  return 0;
}

// Who holds the dict `referrer`: a module, a type, or an extension's static
// memory. `objects` is this interpreter's gc.get_objects() (fetched once).
std::string DescribeHolder(PyObject* referrer, PyObject** objects,
                           std::string* extension_hint) {
  std::string holder = Py_TYPE(referrer)->tp_name;
  if (!PyDict_Check(referrer)) return holder;
  // A dict is usually someone's __dict__: say whose, it is what a reader
  // can look for.
  std::string module = StaticHolderOf(referrer);
  if (!module.empty()) {
    *extension_hint = ExtensionNameFromPath(module);
    return "dict held in the static memory of " + module +
           " (a static type's __dict__ or a cached dict)";
  }
  if (*objects == nullptr) {
    PyObject* gc = PyImport_ImportModule("gc");
    *objects = gc ? PyObject_CallMethod(gc, "get_objects", nullptr) : nullptr;
    Py_XDECREF(gc);
    if (*objects == nullptr) {
      PyErr_Clear();
      return holder;
    }
  }
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(*objects); i++) {
    PyObject* o = PyList_GET_ITEM(*objects, i);
    PyTypeObject* t = Py_TYPE(o);
    if (PyModule_Check(o) && PyModule_GetDict(o) == referrer) {
      return "__dict__ of module " + ModuleNameOf(o);
    }
    if (PyType_Check(o) &&
        reinterpret_cast<PyTypeObject*>(o)->tp_dict == referrer) {
      return std::string("__dict__ of type ") +
             reinterpret_cast<PyTypeObject*>(o)->tp_name;
    }
    if (t->tp_dict == referrer) {
      return std::string("__dict__ of type ") + t->tp_name +
             ((t->tp_flags & Py_TPFLAGS_HEAPTYPE) ? "" : " (a static type)");
    }
  }
  return holder;
}

void ReportPending(AuditState* st, const char* checkpoint,
                   PyObject* all_objects) {
  PyObject* objects = all_objects;
  Py_XINCREF(objects);
  for (PendingReference& p : st->pending) {
    Violation v = ObjectViolation(kinds::kForeignReference, p.ref, p.ref_type,
                                  p.owner, st->current);
    std::string holder =
        DescribeHolder(p.referrer, &objects, &v.extension_hint);
    if (v.extension_hint.empty()) v.extension_hint = ModuleNameOf(p.referrer);
    v.message = "at " + std::string(checkpoint) + ", a '" + holder + "' of " +
                InterpreterName(st->current) + " references a '" +
                v.object_type + "' owned by " +
                OwnerName(p.owner, " (ended: the reference dangles)");
    st->findings++;
    ReportViolation(v);
    Py_DECREF(p.referrer);
  }
  st->pending.clear();
  Py_XDECREF(objects);
}

// Static types of extensions, by the interpreters seen using them.
std::mutex g_types_mu;
std::map<const void*, OwnerSlot>* g_static_type_users = nullptr;
std::set<const void*>* g_static_types_reported = nullptr;

bool IsExtensionPath(const std::string& path) {
  return !path.empty() && !IsInfrastructureModule(path);
}

void NoteStaticType(PyTypeObject* type, OwnerSlot current, AuditState* st) {
  // Objects of one type come in runs (a list of dicts): one look per run.
  if (type == st->last_type) return;
  st->last_type = type;
  if (type->tp_flags & Py_TPFLAGS_HEAPTYPE) return;
  const std::string* module = StaticMemoryMap::ModuleOf(type);
  if (module == nullptr || !IsExtensionPath(*module)) return;
  OwnerSlot other = kNoOwner;
  {
    std::lock_guard<std::mutex> lock(g_types_mu);
    if (g_static_type_users == nullptr) {
      g_static_type_users = new std::map<const void*, OwnerSlot>();
      g_static_types_reported = new std::set<const void*>();
    }
    auto it = g_static_type_users->find(type);
    if (it == g_static_type_users->end()) {
      (*g_static_type_users)[type] = current;
      return;
    }
    if (it->second == current || g_static_types_reported->count(type)) return;
    g_static_types_reported->insert(type);
    other = it->second;
  }
  // The type is named by its tp_name here ("mod.T"), not as a class.
  Violation v = ObjectViolation(kinds::kSharedStaticType, type, type->tp_name,
                                other, current);
  v.extension_hint = ExtensionNameFromPath(*module);
  v.message =
      "static type '" + v.object_type + "' of " + *module + " is used by " +
      InterpreterName(other) + " and " + InterpreterName(current) +
      ": its dict, subclasses list and refcount are shared between GILs";
  st->findings++;
  ReportViolation(v);
}

// Walks the objects of `objects` (a list from gc.get_objects) from index
// `from` on.
void WalkObjects(PyObject* objects, AuditState* st, Py_ssize_t from = 0) {
  for (Py_ssize_t i = from; i < PyList_GET_SIZE(objects); i++) {
    PyObject* obj = PyList_GET_ITEM(objects, i);
    NoteStaticType(Py_TYPE(obj), st->current, st);
    traverseproc traverse = Py_TYPE(obj)->tp_traverse;
    if (traverse == nullptr) continue;
    st->referrer = obj;
    traverse(obj, &Visit, st);
  }
}

// The young generations to walk after a test: 0 always; 1 too unless no
// collection of generation 0 or 1 ran since this interpreter's last audit.
// gc.get_count() is (allocations, generation-0 collections since the last
// generation-1 collection, generation-1 collections since the last full
// one); a collection of generation g adds one to counter g+1 and zeroes
// counters 0..g, on 3.12 and 3.13 alike. So (count1, count2) unchanged
// means no generation-0 or -1 collection ran, and generation 1 holds only
// what it held (and was walked) at the last audit, minus the dead -- except
// after a full collection from (0, 0), which leaves generation 1 empty.
// Returns -1 with a Python error set.
int YoungGenerationsToWalk(InterpreterAuditState* state) {
  PyObject* gc = PyImport_ImportModule("gc");
  PyObject* counts =
      gc ? PyObject_CallMethod(gc, "get_count", nullptr) : nullptr;
  Py_XDECREF(gc);
  if (counts == nullptr) return -1;
  long count1 = -1, count2 = -1;
  if (PyTuple_Check(counts) && PyTuple_GET_SIZE(counts) == 3) {
    count1 = PyLong_AsLong(PyTuple_GET_ITEM(counts, 1));
    count2 = PyLong_AsLong(PyTuple_GET_ITEM(counts, 2));
  }
  Py_DECREF(counts);
  if (PyErr_Occurred()) return -1;
  bool unchanged =
      count1 >= 0 && count1 == state->gc_count1 && count2 == state->gc_count2;
  state->gc_count1 = count1;
  state->gc_count2 = count2;
  return unchanged ? 1 : 2;
}

// gc.get_objects(generation) (generation < 0: all).
PyObject* GcObjects(int generation) {
  PyObject* gc = PyImport_ImportModule("gc");
  if (gc == nullptr) return nullptr;
  PyObject* objects =
      generation < 0 ? PyObject_CallMethod(gc, "get_objects", nullptr)
                     : PyObject_CallMethod(gc, "get_objects", "i", generation);
  Py_DECREF(gc);
  return objects;
}

// ---- extensions' static memory
// ------------------------------------------------

// Extension files this interpreter imported (sys.modules' __file__), real
// paths. Recomputed only when sys.modules grew or shrank or objects were
// loaded since the last call.
const std::set<std::string>& ImportedExtensions(InterpreterAuditState* state) {
  PyObject* modules = PyImport_GetModuleDict();
  const StaticMemorySnapshot* map = StaticMemoryMap::Current();
  Py_ssize_t size = modules ? PyDict_Size(modules) : 0;
  if (size == state->modules_size && modules == state->modules_dict &&
      map == state->map_seen) {
    return state->imported;
  }
  state->imported.clear();
  state->modules_size = size;
  state->modules_dict = modules;
  state->map_seen = map;
  PyObject* values = modules ? PyDict_Values(modules) : nullptr;
  if (values == nullptr) {
    PyErr_Clear();
    state->modules_size = -1;
    return state->imported;
  }
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(values); i++) {
    PyObject* item = PyList_GET_ITEM(values, i);
    // A module's __file__ is in its dict: no attribute lookup (and no
    // __getattr__ hook of the user's) needed.
    if (!PyModule_Check(item)) continue;
    PyObject* dict = PyModule_GetDict(item);
    PyObject* file =
        dict ? PyDict_GetItemString(dict, "__file__") : nullptr;  // borrowed
    const char* path =
        (file && PyUnicode_Check(file)) ? PyUnicode_AsUTF8(file) : nullptr;
    if (path == nullptr) {
      PyErr_Clear();
      continue;
    }
    size_t n = strlen(path);
    if (n > 3 && strcmp(path + n - 3, ".so") == 0)
      state->imported.insert(RealPathOf(state, path));
  }
  Py_DECREF(values);
  return state->imported;
}

// Is `p` the start of a live object? Its type pointer must lead, in at
// most two steps, to `type` itself (a type, or an instance of a metaclass).
bool LooksLikeObject(const void* p) {
  const void* type = nullptr;
  if (interpsan_shim_safe_copy(&type, &static_cast<const PyObject*>(p)->ob_type,
                               sizeof(type)) < 0 ||
      type == nullptr) {
    return false;
  }
  const void* meta = nullptr;
  if (interpsan_shim_safe_copy(&meta,
                               &static_cast<const PyObject*>(type)->ob_type,
                               sizeof(meta)) < 0 ||
      meta == nullptr) {
    return false;
  }
  if (meta == &PyType_Type) return true;
  const void* metameta = nullptr;
  return interpsan_shim_safe_copy(&metameta,
                                  &static_cast<const PyObject*>(meta)->ob_type,
                                  sizeof(metameta)) == 0 &&
         metameta == &PyType_Type;
}

// Checks the static word at `a` (value `value`); reports a foreign object.
int CheckStaticWord(uintptr_t a, const void* value, const StaticRange& r,
                    const std::string& module, OwnerSlot current,
                    int64_t interpreter_id, const char* checkpoint) {
  OwnerSlot owner = ArenaMap::Lookup(value);
  if (owner == kNoOwner || owner == current) return 0;
  // ScanStatics hands over aligned words of the range only: the offset
  // reported (the variable the supervisor names) is inside the segment.
  INTERPSAN_CHECK(a % 8 == 0 && a >= r.start && a + 8 <= r.end);
  if (!LooksLikeObject(value)) return 0;
  PyObject* obj = const_cast<PyObject*>(static_cast<const PyObject*>(value));
  if (_Py_IsImmortal(obj)) return 0;
  // CPython's own sharing (sanctioned_sharing.h) is not a finding.
  if (SanctionedStaticReference(reinterpret_cast<const void*>(a), obj, owner) !=
      SanctionedMechanism::kNone) {
    return 0;
  }
  if (!FirstSighting(kStaticObjectReference, interpreter_id,
                     reinterpret_cast<const void*>(a), value)) {
    return 0;
  }
  Violation v = ObjectViolation(kinds::kStaticObjectReference, obj,
                                ObjectTypeName(obj), owner, current);
  v.extension_hint = ExtensionNameFromPath(module);
  v.static_module = module;
  v.static_offset = a - r.start + r.file_vaddr;
  v.message = "static memory of " + module + " (offset " +
              std::to_string(v.static_offset) + ") holds a '" + v.object_type +
              "' owned by " +
              OwnerName(owner, " (ended: the pointer dangles)") + ", and " +
              InterpreterName(current) +
              " imported the extension: a static PyObject* shared by "
              "interpreters (found at " +
              checkpoint + ")";
  ReportViolation(v);
  return 1;
}

// Scans the writable static memory of the extensions this interpreter
// imported. `full`: every word; else only the words that changed since
// this interpreter's last scan (the copy is updated either way).
int ScanStatics(OwnerSlot current, int64_t interpreter_id,
                InterpreterAuditState* state, bool full,
                const char* checkpoint) {
  const StaticMemorySnapshot* snap = StaticMemoryMap::Current();
  if (snap == nullptr) return 0;
  const std::set<std::string>& imported = ImportedExtensions(state);
  int findings = 0;
  for (const StaticRange& r : snap->ranges) {
    const std::string& module = snap->modules[r.module];
    if (module.empty() || IsInfrastructureModule(module)) continue;
    if (!imported.count(RealPathOf(state, module))) continue;
    uintptr_t start = (r.start + 7) & ~uintptr_t{7};
    if (start + 8 > r.end) continue;
    size_t words = (r.end - start) / 8;
    const uintptr_t* live = reinterpret_cast<const uintptr_t*>(start);
    std::vector<uintptr_t>& seen = state->statics[r.start];
    if (seen.size() != words) seen.assign(words, 0);
    // Compare in blocks: most of a segment is unchanged between two tests.
    constexpr size_t kBlock = 64;
    for (size_t b = 0; b < words; b += kBlock) {
      size_t n = words - b < kBlock ? words - b : kBlock;
      if (!full && memcmp(&seen[b], live + b, n * sizeof(uintptr_t)) == 0)
        continue;
      for (size_t w = b; w < b + n; w++) {
        uintptr_t value = live[w];
        if (!full && value == seen[w]) continue;
        seen[w] = value;
        if (value == 0) continue;
        findings +=
            CheckStaticWord(start + w * 8, reinterpret_cast<const void*>(value),
                            r, module, current, interpreter_id, checkpoint);
      }
    }
  }
  return findings;
}

// full: the whole object graph and every static word; else the young
// generations and the static words that changed.
int Audit(const char* checkpoint, bool full) {
  if (!(g_enabled_checks & kCheckAudit) || ReentryGuard::active) return 0;
  OwnerSlot current = InterpreterRegistry::CurrentSlot();
  if (current == kNoOwner) return 0;
  StaticMemoryMap::RefreshIfChanged();  // extensions imported since the last
                                        // look
  int64_t interpreter_id = PyInterpreterState_GetID(PyInterpreterState_Get());
  InterpreterAuditState* state = StateOf(interpreter_id);
  AuditState st{current, interpreter_id, nullptr, {}, {}, 0};
  PyObject* all = nullptr;
  if (full) {
    // The next audit after a test walks both young generations whole.
    state->gc_count1 = state->gc_count2 = -1;
    Py_CLEAR(state->marker);
    all = GcObjects(-1);
    if (all == nullptr) return -1;
    WalkObjects(all, &st);
  } else {
    // The young generations: what was tracked since the last collections
    // (a test's new objects that survived it are there, unless a
    // generation-1 collection promoted them to generation 2 during the
    // test). Without a collection since the last audit, only generation
    // 0's objects after the marker are new.
    int generations = YoungGenerationsToWalk(state);
    if (generations < 0) return -1;
    for (int generation = 0; generation < generations; generation++) {
      PyObject* young = GcObjects(generation);
      if (young == nullptr) {
        for (PendingReference& pending : st.pending)
          Py_DECREF(pending.referrer);
        return -1;
      }
      Py_ssize_t from = 0;
      if (generation == 0 && generations == 1 && state->marker != nullptr) {
        for (Py_ssize_t i = PyList_GET_SIZE(young) - 1; i >= 0; i--) {
          if (PyList_GET_ITEM(young, i) == state->marker) {
            from = i + 1;
            break;
          }
        }
      }
      WalkObjects(young, &st, from);
      Py_DECREF(young);
    }
  }
  ReportPending(&st, checkpoint, all);
  Py_XDECREF(all);
  int findings = st.findings +
                 ScanStatics(current, interpreter_id, state, full, checkpoint);
  if (!full) {
    // Made last, so that it follows everything the audit itself tracked.
    PyObject* marker = PyList_New(0);
    if (marker == nullptr) PyErr_Clear();
    Py_XSETREF(state->marker, marker);
  }
  return findings;
}

}  // namespace

namespace {
std::atomic<AuditMode> g_mode{AuditMode::kChanged};
}  // namespace

void SetAuditMode(const std::string& word) {
  g_mode.store(word == "each-test" ? AuditMode::kEachTest
               : word == "end"     ? AuditMode::kEnd
                                   : AuditMode::kChanged,
               std::memory_order_relaxed);
}

AuditMode CurrentAuditMode() { return g_mode.load(std::memory_order_relaxed); }

int AuditCurrentInterpreter(const char* checkpoint) {
  return Audit(checkpoint, true);
}

int AuditAfterTest(const char* checkpoint) {
  switch (CurrentAuditMode()) {
    case AuditMode::kEnd:
      return 0;
    case AuditMode::kEachTest:
      return Audit(checkpoint, true);
    case AuditMode::kChanged:
      break;
  }
  return Audit(checkpoint, false);
}

}  // namespace interpsan
