#include "debug/object_graph_audit.h"

#include <Python.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "debug/native_stack.h"
#include "debug/report.h"
#include "debug/sanctioned_sharing.h"
#include "runtime/anomaly.h"
#include "runtime/arena_map.h"
#include "runtime/interpreter_registry.h"
#include "runtime/object_owner.h"
#include "runtime/python_shim.h"
#include "runtime/static_memory_map.h"

namespace interpsan {
namespace {

struct AuditState {
  OwnerSlot current;
  PyObject* objects;  // the gc.get_objects() list being walked
  PyObject* referrer;
  const char* checkpoint;
  int findings;
  std::set<std::pair<const void*, const void*>>* seen_types;  // (referrer type, referent type)
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
  // One report per (referrer type, referent type): a list of 10,000
  // foreign floats is one finding, not 10,000.
  auto key = std::make_pair(static_cast<const void*>(Py_TYPE(st->referrer)),
                            static_cast<const void*>(Py_TYPE(ref)));
  if (!st->seen_types->insert(key).second) return 0;
  InterpreterInfo own = InterpreterRegistry::Info(owner);
  InterpreterInfo cur = InterpreterRegistry::Info(st->current);
  Violation v;
  v.kind = "foreign-reference";
  v.check = "audit";
  v.current = st->current;
  v.owner = owner;
  v.object_type = Py_TYPE(ref)->tp_name;
  v.address = ref;
  v.size = 0;
  v.is_object = true;
  std::string holder = Py_TYPE(st->referrer)->tp_name;
  // A dict is usually someone's __dict__: say whose, it is what a reader
  // can look for.
  if (PyDict_Check(st->referrer)) {
    std::string module = StaticHolderOf(st->referrer);
    if (!module.empty()) {
      holder = "dict held in the static memory of " + module +
               " (a static type's __dict__ or a cached dict)";
      v.extension_hint = ExtensionNameFromPath(module);
    }
    for (Py_ssize_t i = 0; module.empty() && i < PyList_GET_SIZE(st->objects); i++) {
      PyObject* o = PyList_GET_ITEM(st->objects, i);
      PyTypeObject* t = Py_TYPE(o);
      if (PyModule_Check(o) && PyModule_GetDict(o) == st->referrer) {
        holder = "__dict__ of module " + ModuleNameOf(o);
        break;
      }
      if (PyType_Check(o) && reinterpret_cast<PyTypeObject*>(o)->tp_dict == st->referrer) {
        holder = std::string("__dict__ of type ") + reinterpret_cast<PyTypeObject*>(o)->tp_name;
        break;
      }
      if (t->tp_dict == st->referrer) {
        holder = std::string("__dict__ of type ") + t->tp_name +
                 ((t->tp_flags & Py_TPFLAGS_HEAPTYPE) ? "" : " (a static type)");
        break;
      }
    }
  }
  if (v.extension_hint.empty()) v.extension_hint = ModuleNameOf(st->referrer);
  v.message = "at " + std::string(st->checkpoint) + ", a '" + holder +
              "' of interpreter " + std::to_string(cur.id) + " references a '" +
              v.object_type + "' owned by interpreter " + std::to_string(own.id) +
              (own.ended ? " (ended: the reference dangles)" : "");
  v.fix = "each interpreter must build its own objects; keep per-interpreter "
          "data in module state (PEP 630) and never store another "
          "interpreter's objects";
  st->findings++;
  ReportViolation(v);
  return 0;
}

// Static types of extensions, by the interpreters seen using them.
std::mutex g_types_mu;
std::map<const void*, OwnerSlot>* g_static_type_users = nullptr;
std::set<const void*>* g_static_types_reported = nullptr;

bool IsExtensionPath(const std::string& path) {
  return !path.empty() && !IsInfrastructureModule(path);
}

void NoteStaticType(PyTypeObject* type, OwnerSlot current, AuditState* st) {
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
  InterpreterInfo own = InterpreterRegistry::Info(other);
  InterpreterInfo cur = InterpreterRegistry::Info(current);
  Violation v;
  v.kind = "shared-static-type";
  v.check = "audit";
  v.current = current;
  v.owner = other;
  v.object_type = type->tp_name;
  v.address = type;
  v.size = 0;
  v.is_object = true;
  v.extension_hint = ExtensionNameFromPath(*module);
  v.message = "static type '" + v.object_type + "' of " + *module +
              " is used by interpreter " + std::to_string(own.id) +
              " and interpreter " + std::to_string(cur.id) +
              ": its dict, subclasses list and refcount are shared between GILs";
  v.fix = "create the type per interpreter with PyType_FromModuleAndSpec and "
          "keep it in module state (PEP 630, PEP 687)";
  st->findings++;
  ReportViolation(v);
}

// Extension files this interpreter imported (sys.modules' __file__).
std::set<std::string> ImportedExtensions() {
  std::set<std::string> out;
  PyObject* modules = PyImport_GetModuleDict();
  PyObject* values = modules ? PyDict_Values(modules) : nullptr;
  if (values == nullptr) {
    PyErr_Clear();
    return out;
  }
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(values); i++) {
    PyObject* file = PyObject_GetAttrString(PyList_GET_ITEM(values, i), "__file__");
    if (file == nullptr) {
      PyErr_Clear();
      continue;
    }
    const char* path = PyUnicode_Check(file) ? PyUnicode_AsUTF8(file) : nullptr;
    if (path == nullptr) PyErr_Clear();
    if (path != nullptr) {
      std::string p = path;
      if (p.size() > 3 && p.compare(p.size() - 3, 3, ".so") == 0) {
        char resolved[4096];
        out.insert(realpath(path, resolved) ? resolved : p);
      }
    }
    Py_DECREF(file);
  }
  Py_DECREF(values);
  return out;
}

// Is `p` the start of a live object? Its type pointer must lead, in at
// most two steps, to `type` itself (a type, or an instance of a metaclass).
bool LooksLikeObject(const void* p) {
  const void* type = nullptr;
  if (interpsan_shim_safe_copy(&type, &static_cast<const PyObject*>(p)->ob_type,
                               sizeof(type)) < 0 || type == nullptr) {
    return false;
  }
  const void* meta = nullptr;
  if (interpsan_shim_safe_copy(&meta, &static_cast<const PyObject*>(type)->ob_type,
                               sizeof(meta)) < 0 || meta == nullptr) {
    return false;
  }
  if (meta == &PyType_Type) return true;
  const void* metameta = nullptr;
  return interpsan_shim_safe_copy(&metameta,
                                  &static_cast<const PyObject*>(meta)->ob_type,
                                  sizeof(metameta)) == 0 &&
         metameta == &PyType_Type;
}

int ScanStatics(OwnerSlot current, const char* checkpoint) {
  StaticMemoryMap::RefreshIfChanged();
  const StaticMemorySnapshot* snap = StaticMemoryMap::Current();
  if (snap == nullptr) return 0;
  std::set<std::string> imported = ImportedExtensions();
  int findings = 0;
  std::set<uintptr_t> reported;
  for (const StaticRange& r : snap->ranges) {
    const std::string& module = snap->modules[r.module];
    char resolved[4096];
    std::string real = realpath(module.c_str(), resolved) ? resolved : module;
    if (!imported.count(real)) continue;
    uintptr_t start = (r.start + 7) & ~uintptr_t{7};
    for (uintptr_t a = start; a + 8 <= r.end; a += 8) {
      const void* value = *reinterpret_cast<const void* const*>(a);
      OwnerSlot owner = ArenaMap::Lookup(value);
      if (owner == kNoOwner || owner == current) continue;
      if (!LooksLikeObject(value)) continue;
      PyObject* obj = const_cast<PyObject*>(static_cast<const PyObject*>(value));
      if (_Py_IsImmortal(obj) || !reported.insert(a).second) continue;
      // CPython's own sharing (sanctioned_sharing.h) is not a finding.
      if (SanctionedStaticReference(reinterpret_cast<const void*>(a), obj, owner) !=
          SanctionedMechanism::kNone) {
        continue;
      }
      InterpreterInfo own = InterpreterRegistry::Info(owner);
      InterpreterInfo cur = InterpreterRegistry::Info(current);
      Violation v;
      v.kind = "static-object-reference";
      v.check = "audit";
      v.current = current;
      v.owner = owner;
      v.object_type = Py_TYPE(obj)->tp_name;
      v.address = obj;
      v.size = 0;
  v.is_object = true;
      v.extension_hint = ExtensionNameFromPath(module);
      v.static_module = module;
      v.static_offset = a - r.start + r.file_vaddr;
      v.message = "static memory of " + module + " (offset " +
                  std::to_string(v.static_offset) + ") holds a '" +
                  v.object_type + "' owned by interpreter " + std::to_string(own.id) +
                  (own.ended ? " (ended: the pointer dangles)" : "") +
                  ", and interpreter " + std::to_string(cur.id) +
                  " imported the extension: a static PyObject* shared by "
                  "interpreters (found at " + checkpoint + ")";
      v.fix = "move the cached object from the C static into module state "
              "(PEP 630: PyModule_GetState), one per interpreter";
      findings++;
      ReportViolation(v);
    }
  }
  return findings;
}

}  // namespace

int AuditCurrentInterpreter(const char* checkpoint) {
  if (!(g_enabled_checks & kCheckAudit) || ReentryGuard::active) return 0;
  OwnerSlot current = InterpreterRegistry::CurrentSlot();
  if (current == kNoOwner) return 0;
  StaticMemoryMap::RefreshIfChanged();  // extensions imported since the last look
  PyObject* gc = PyImport_ImportModule("gc");
  if (gc == nullptr) return -1;
  PyObject* objects = PyObject_CallMethod(gc, "get_objects", nullptr);
  Py_DECREF(gc);
  if (objects == nullptr) return -1;
  std::set<std::pair<const void*, const void*>> seen;
  AuditState st{current, objects, nullptr, checkpoint, 0, &seen};
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(objects); i++) {
    PyObject* obj = PyList_GET_ITEM(objects, i);
    NoteStaticType(Py_TYPE(obj), current, &st);
    traverseproc traverse = Py_TYPE(obj)->tp_traverse;
    if (traverse == nullptr) continue;
    st.referrer = obj;
    traverse(obj, &Visit, &st);
  }
  Py_DECREF(objects);
  return st.findings + ScanStatics(current, checkpoint);
}

}  // namespace interpsan
