// holder_lookup.h: which module's structures hold an object.
//
// When a violation is reported, the stack says who acted; the holder says
// whose memory kept the object across interpreters, which is the module to
// fix when no extension is on the stack (CPython finalizing a static
// type's tuples) or the only one there is the interpreters module running
// someone else's code. A holder is, in the order looked for:
//   - a static type of an extension (its PyTypeObject lives in the
//     extension's writable static memory): the slot that points at the
//     object (tp_dict, tp_bases, tp_mro, tp_subclasses, tp_cache), or,
//     when CPython already cleared that slot on the way to deallocating
//     the object, the type the object still describes (an MRO tuple whose
//     first item is the type, a bases tuple equal to the type's bases, a
//     dict whose method descriptors name the type);
//   - any other static variable of an extension (by its ELF address: the
//     supervisor names the variable from the symbol table), also an
//     Argument Clinic `_parser` whose kwtuple CPython already cleared
//     (found by its keyword names; slot "kwtuple");
//   - an extension module's state (PyModule_GetState) or its module dict,
//     in the current interpreter's sys.modules.
// libpython, interpsan itself, the C runtime and the interpreters modules
// (_interpreters, _xxsubinterpreters, ...) are never holders.
//
// Cold path only: a lookup scans the writable static memory of every
// loaded extension (a few hundred KiB) and reads memory through checked
// copies, so a stale pointer cannot fault. Thread-safe (reads only; the
// module scan needs the current interpreter's GIL and is skipped without
// it). Not async-signal-safe.
#ifndef INTERPSAN_DEBUG_HOLDER_LOOKUP_H_
#define INTERPSAN_DEBUG_HOLDER_LOOKUP_H_

#include <cstdint>
#include <string>

namespace interpsan {

struct Holder {
  // "static-type", "static-variable", "module-state", "module-dict"; empty
  // when no holder was found.
  std::string kind;
  std::string module;       // extension name, e.g. "_datetime"
  std::string module_path;  // its shared object
  std::string type;         // static-type: tp_name, e.g. "datetime.timezone"
  std::string slot;         // static-type: "tp_mro", ...; module-dict: the key
  // static-variable: the ELF address of the pointer in module_path (for nm).
  uintptr_t static_offset = 0;
  bool found() const { return !kind.empty(); }
};

// Finds what holds `object` (a PyObject*). Returns an empty Holder if no
// extension structure does.
Holder FindHolder(const void* object);

}  // namespace interpsan

#endif  // INTERPSAN_DEBUG_HOLDER_LOOKUP_H_
