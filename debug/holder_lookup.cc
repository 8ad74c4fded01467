#include "debug/holder_lookup.h"

#include <Python.h>
#include <stddef.h>

#include <cstring>

#include "debug/native_stack.h"
#include "runtime/python_shim.h"
#include "runtime/static_memory_map.h"

namespace interpsan {
namespace {

// Reads `n` bytes at `src` without faulting on a stale pointer.
bool Read(void* dst, const void* src, size_t n) {
  return src != nullptr && interpsan_shim_safe_copy(dst, src, n) == 0;
}

template <typename T>
bool ReadField(const void* base, size_t offset, T* out) {
  return Read(out, static_cast<const char*>(base) + offset, sizeof(T));
}

// Modules whose memory never counts as an extension's: libpython,
// interpsan, the C runtime, the main executable, the interpreters modules.
bool IsExcluded(const std::string& path) {
  return IsInfrastructureModule(path) || IsInterpretersModule(path) ||
         IsMainExecutable(path);
}

// The extension whose writable static memory holds `p`, or nullptr.
const std::string* ExtensionStaticOf(const void* p) {
  const std::string* module = StaticMemoryMap::ModuleOf(p);
  if (module == nullptr || IsExcluded(*module)) return nullptr;
  return module;
}

// True if `p` is a type object: its type is `type` or a metaclass (a
// subclass of type, flagged Py_TPFLAGS_TYPE_SUBCLASS, itself an instance
// of `type`). Any word of static memory is tried as a type, so a random
// pointer whose target merely has the flag bit set must not pass.
bool IsTypeObject(const void* p) {
  const void* meta = nullptr;
  if (!ReadField(p, offsetof(PyObject, ob_type), &meta) || meta == nullptr)
    return false;
  if (meta == &PyType_Type) return true;
  unsigned long flags = 0;
  const void* meta_type = nullptr;
  return ReadField(meta, offsetof(PyTypeObject, tp_flags), &flags) &&
         (flags & Py_TPFLAGS_TYPE_SUBCLASS) != 0 &&
         ReadField(meta, offsetof(PyObject, ob_type), &meta_type) &&
         meta_type == &PyType_Type;
}

// A static (non-heap) type in an extension's static memory: fills the
// holder's module and type name.
bool DescribeStaticType(const void* type, Holder* out) {
  const std::string* module = ExtensionStaticOf(type);
  if (module == nullptr || !IsTypeObject(type)) return false;
  unsigned long flags = 0;
  if (!ReadField(type, offsetof(PyTypeObject, tp_flags), &flags) ||
      (flags & Py_TPFLAGS_HEAPTYPE)) {
    return false;
  }
  const char* name_ptr = nullptr;
  char name[128] = {0};
  if (ReadField(type, offsetof(PyTypeObject, tp_name), &name_ptr) &&
      name_ptr != nullptr) {
    // Byte by byte up to the terminator: the name may end near the end of
    // a mapping.
    for (size_t i = 0;
         i + 1 < sizeof(name) && Read(&name[i], name_ptr + i, 1) && name[i];
         i++) {
    }
  }
  // A real type has a printable name ("module.Name"); bytes that only look
  // like a type where a static variable is (fastcache's `cache`) do not.
  if (name[0] == 0) return false;
  for (const char* c = name; *c; c++) {
    if (*c < 0x21 || *c > 0x7e) return false;
  }
  out->kind = "static-type";
  out->module_path = *module;
  out->module = ExtensionNameFromPath(*module);
  out->type = name;
  return true;
}

struct TypeSlot {
  size_t offset;
  const char* name;
  PyTypeObject* holds;  // the type of what the slot points to (any: null)
};
const TypeSlot kTypeSlots[] = {
    {offsetof(PyTypeObject, tp_dict), "tp_dict", &PyDict_Type},
    {offsetof(PyTypeObject, tp_bases), "tp_bases", &PyTuple_Type},
    {offsetof(PyTypeObject, tp_mro), "tp_mro", &PyTuple_Type},
    {offsetof(PyTypeObject, tp_subclasses), "tp_subclasses", &PyDict_Type},
    {offsetof(PyTypeObject, tp_cache), "tp_cache", nullptr},
};

// A pointer to `object` somewhere in an extension's static memory: inside
// a static type (which slot), or a static variable.
bool FindStaticPointer(const void* object, Holder* out) {
  StaticMemoryMap::RefreshIfChanged();
  const StaticMemorySnapshot* snap = StaticMemoryMap::Current();
  if (snap == nullptr) return false;
  Holder variable;
  const void* object_type = nullptr;
  ReadField(object, offsetof(PyObject, ob_type), &object_type);
  for (const StaticRange& r : snap->ranges) {
    const std::string& module = snap->modules[r.module];
    if (IsExcluded(module)) continue;
    for (uintptr_t a = (r.start + 7) & ~uintptr_t{7}; a + 8 <= r.end; a += 8) {
      if (*reinterpret_cast<const void* const*>(a) != object) continue;
      for (const TypeSlot& slot : kTypeSlots) {
        if (a < r.start + slot.offset) continue;
        if (slot.holds != nullptr && object_type != slot.holds) continue;
        const void* type = reinterpret_cast<const void*>(a - slot.offset);
        if (DescribeStaticType(type, out)) {
          out->slot = slot.name;
          return true;
        }
      }
      if (!variable.found()) {
        variable.kind = "static-variable";
        variable.module_path = module;
        variable.module = ExtensionNameFromPath(module);
        variable.static_offset = a - r.start + r.file_vaddr;
      }
    }
  }
  if (!variable.found()) return false;
  *out = variable;
  return true;
}

// True if `parser` made its kwtuple at some point: of several parsers with
// the same keywords (bisect_right and insort_right), only one used may
// have held this tuple. The flag survives _PyArg_Fini, which only clears
// kwtuple. 3.12: `initialized` (1 once parser_init ran); 3.13: the `once`
// flag of _PyOnceFlag_CallOnce (0 until then). One field differs, so it
// stays here rather than in the per-version shims.
bool ParserWasInitialized(const _PyArg_Parser* parser) {
#if PY_VERSION_HEX >= 0x030D0000
  return parser->once.v != 0;
#else
  return parser->initialized == 1;
#endif
}

// Argument Clinic's keyword tuple: a tuple of the keyword names of a
// static _PyArg_Parser (`_parser` in clinic output), which CPython's
// _PyArg_Fini clears (Py_CLEAR) at finalization before releasing it. The
// parser is found by its keywords: keywords[pos..] equal the tuple's
// strings, then a NULL, and its kwtuple slot is empty (or this tuple).
bool FindClearedKeywordTuple(const void* object, const void* const* items,
                             Py_ssize_t n, Holder* out) {
  std::string names[64];
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject* item =
        const_cast<PyObject*>(static_cast<const PyObject*>(items[i]));
    const void* type = nullptr;
    if (!ReadField(item, offsetof(PyObject, ob_type), &type) ||
        type != &PyUnicode_Type || !PyUnicode_IS_COMPACT_ASCII(item)) {
      return false;  // keyword names are ASCII str
    }
    names[i].assign(static_cast<const char*>(PyUnicode_DATA(item)),
                    static_cast<size_t>(PyUnicode_GET_LENGTH(item)));
  }
  const StaticMemorySnapshot* snap = StaticMemoryMap::Current();
  if (snap == nullptr) return false;
  for (const StaticRange& r : snap->ranges) {
    const std::string& module = snap->modules[r.module];
    if (IsExcluded(module)) continue;
    for (uintptr_t p = (r.start + 7) & ~uintptr_t{7};
         p + sizeof(_PyArg_Parser) <= r.end; p += 8) {
      const auto* parser = reinterpret_cast<const _PyArg_Parser*>(p);
      if ((parser->kwtuple != nullptr && parser->kwtuple != object) ||
          parser->keywords == nullptr || parser->pos < 0 || parser->pos > 64 ||
          !ParserWasInitialized(parser)) {
        continue;
      }
      const char* kw[65];
      size_t count = static_cast<size_t>(parser->pos + n + 1);
      if (count > 65 || !Read(kw, parser->keywords, sizeof(char*) * count) ||
          kw[count - 1] != nullptr) {
        continue;
      }
      bool same = true;
      for (Py_ssize_t i = 0; i < n && same; i++) {
        const char* want = kw[parser->pos + i];
        char got[128];
        size_t len = names[i].size();
        same = want != nullptr && len + 1 <= sizeof(got) &&
               Read(got, want, len + 1) && got[len] == '\0' &&
               names[i].compare(0, len, got, len) == 0;
      }
      if (!same) continue;
      out->kind = "static-variable";
      out->module_path = module;
      out->module = ExtensionNameFromPath(module);
      out->slot = "kwtuple";
      out->static_offset = p - r.start + r.file_vaddr;
      return true;
    }
  }
  return false;
}

// CPython clears a static type's slot (Py_CLEAR: the slot first, then the
// reference) before the object it held is deallocated, e.g. 3.13's
// _PyTypes_FiniExtTypes releasing an extension's static types. The object
// still says whose it was.
bool FindClearedTypeSlot(const void* object, Holder* out) {
  // Only for an object being deallocated (count 0): nobody else can be
  // changing it, so reading its items is safe.
  Py_ssize_t refcnt = -1;
  if (!ReadField(object, offsetof(PyObject, ob_refcnt), &refcnt) ||
      refcnt != 0) {
    return false;
  }
  const void* type = nullptr;
  if (!ReadField(object, offsetof(PyObject, ob_type), &type)) return false;
  if (type == &PyTuple_Type) {
    Py_ssize_t n = 0;
    if (!ReadField(object, offsetof(PyVarObject, ob_size), &n) || n < 1 ||
        n > 64) {
      return false;
    }
    const void* items[64];
    if (!Read(
            items,
            static_cast<const char*>(object) + offsetof(PyTupleObject, ob_item),
            sizeof(void*) * static_cast<size_t>(n))) {
      return false;
    }
    bool all_types = true;
    for (Py_ssize_t i = 0; i < n && all_types; i++) {
      all_types = items[i] != nullptr && IsTypeObject(items[i]);
    }
    if (!all_types) return FindClearedKeywordTuple(object, items, n, out);
    // An MRO: the type itself first, `object` last, and the type's own
    // tp_mro gone (or still this tuple).
    const void* mro = object;
    if (items[n - 1] == &PyBaseObject_Type &&
        ReadField(items[0], offsetof(PyTypeObject, tp_mro), &mro) &&
        (mro == nullptr || mro == object) &&
        DescribeStaticType(items[0], out)) {
      out->slot = "tp_mro";
      return true;
    }
    // Bases: a static type whose tp_bases is gone and whose tp_base is the
    // first of these. Found by scanning extensions' static memory for
    // type objects.
    const StaticMemorySnapshot* snap = StaticMemoryMap::Current();
    if (snap == nullptr) return false;
    for (const StaticRange& r : snap->ranges) {
      if (IsExcluded(snap->modules[r.module])) continue;
      for (uintptr_t a = (r.start + 7) & ~uintptr_t{7}; a + 8 <= r.end;
           a += 8) {
        if (a < r.start + offsetof(PyObject, ob_type) ||
            *reinterpret_cast<const void* const*>(a) != &PyType_Type) {
          continue;
        }
        const void* candidate =
            reinterpret_cast<const void*>(a - offsetof(PyObject, ob_type));
        const void* bases = object;
        const void* base = nullptr;
        if (ReadField(candidate, offsetof(PyTypeObject, tp_bases), &bases) &&
            (bases == nullptr || bases == object) &&
            ReadField(candidate, offsetof(PyTypeObject, tp_base), &base) &&
            base == items[0] && DescribeStaticType(candidate, out)) {
          out->slot = "tp_bases";
          return true;
        }
      }
    }
    return false;
  }
  if (type == &PyDict_Type) {
    // A type's dict: its method descriptors name the type.
    PyObject* dict =
        const_cast<PyObject*>(static_cast<const PyObject*>(object));
    Py_ssize_t pos = 0;
    PyObject* key;
    PyObject* value;
    while (PyDict_Next(dict, &pos, &key, &value)) {
      PyTypeObject* vt = Py_TYPE(value);
      if (vt != &PyMethodDescr_Type && vt != &PyClassMethodDescr_Type &&
          vt != &PyGetSetDescr_Type && vt != &PyMemberDescr_Type &&
          vt != &PyWrapperDescr_Type) {
        continue;
      }
      const void* owner_type = PyDescr_TYPE(value);
      const void* tp_dict = object;
      if (ReadField(owner_type, offsetof(PyTypeObject, tp_dict), &tp_dict) &&
          (tp_dict == nullptr || tp_dict == object) &&
          DescribeStaticType(owner_type, out)) {
        out->slot = "tp_dict";
        return true;
      }
      return false;  // the first descriptor decides
    }
  }
  return false;
}

// The state or the dict of an extension module in the current
// interpreter's sys.modules.
bool FindModuleHolder(const void* object, Holder* out) {
  if (interpsan_shim_current_tstate() == nullptr) return false;
  PyObject* modules =
      PySys_GetObject("modules");  // borrowed; keeps any exception
  if (modules == nullptr || !PyDict_Check(modules)) return false;
  Py_ssize_t pos = 0;
  PyObject* name;
  PyObject* module;
  while (PyDict_Next(modules, &pos, &name, &module)) {
    if (!PyModule_Check(module)) continue;
    PyModuleDef* def = PyModule_GetDef(module);
    if (def == nullptr) continue;
    const std::string* path = ExtensionStaticOf(def);
    if (path == nullptr) continue;
    Holder h;
    h.module_path = *path;
    h.module = def->m_name ? def->m_name : ExtensionNameFromPath(*path);
    void* state = PyModule_GetState(module);
    if (state != nullptr && def->m_size > 0) {
      const char* p = static_cast<const char*>(state);
      for (Py_ssize_t off = 0; off + 8 <= def->m_size; off += 8) {
        if (*reinterpret_cast<const void* const*>(p + off) == object) {
          h.kind = "module-state";
          *out = h;
          return true;
        }
      }
    }
    PyObject* dict = PyModule_GetDict(module);
    if (dict == object) {
      h.kind = "module-dict";
      *out = h;
      return true;
    }
    Py_ssize_t dpos = 0;
    PyObject* key;
    PyObject* value;
    while (dict != nullptr && PyDict_Next(dict, &dpos, &key, &value)) {
      if (value == object) {
        h.kind = "module-dict";
        const char* k = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : nullptr;
        if (k == nullptr) PyErr_Clear();
        h.slot = k ? k : "";
        *out = h;
        return true;
      }
    }
  }
  return false;
}

}  // namespace

Holder FindHolder(const void* object) {
  Holder holder;
  if (object == nullptr) return holder;
  if (FindStaticPointer(object, &holder)) return holder;
  holder = Holder();
  if (FindClearedTypeSlot(object, &holder)) return holder;
  holder = Holder();
  if (FindModuleHolder(object, &holder)) return holder;
  return Holder();
}

}  // namespace interpsan
