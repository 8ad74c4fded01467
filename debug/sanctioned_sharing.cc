#include "debug/sanctioned_sharing.h"

#include <Python.h>

#include <cstring>

#include "runtime/interpreter_registry.h"
#include "runtime/python_shim.h"
#include "runtime/static_memory_map.h"

namespace interpsan {
namespace {

// More keywords than any Clinic function has; bounds the walk of a
// `keywords` array that is not what it seems.
constexpr int kMaxKeywords = 256;

// `str` is an interned-immortal compact ASCII string equal to `name`.
// new_kwtuple (3.13) interns every name with _PyUnicode_InternImmortal, so a
// mortal or non-ASCII item means the tuple is not one getargs.c made.
bool IsImmortalName(PyObject* str, const char* name) {
  if (!PyUnicode_CheckExact(str) || !_Py_IsImmortal(str) ||
      !PyUnicode_IS_COMPACT_ASCII(str)) {
    return false;
  }
  size_t len = strlen(name);
  return static_cast<size_t>(PyUnicode_GET_LENGTH(str)) == len &&
         memcmp(PyUnicode_DATA(str), name, len) == 0;
}

// The keyword tuple of an initialised Argument Clinic parser, created by
// getargs.c in the main interpreter (3.13's _parser_init), at `word`.
bool IsMainInterpreterKeywordTuple(const void* word, PyObject* value,
                                   OwnerSlot owner) {
  if (!interpsan_shim_kwtuple_created_in_main()) return false;  // 3.12
  // Owned by the running main interpreter (slot 1 is always the main
  // interpreter; a re-initialised runtime's main keeps it).
  if (owner != kMainSlot || InterpreterRegistry::Info(owner).ended)
    return false;
  InterpsanArgParser parser;
  if (!interpsan_shim_arg_parser_of_kwtuple_field(word, &parser)) return false;
  if (parser.kwtuple != value || !parser.kwtuple_owned) return false;
  // The whole parser lies in the static memory of the module holding the
  // word (a Clinic `static _PyArg_Parser _parser`).
  const std::string* module = StaticMemoryMap::ModuleOf(word);
  if (module == nullptr || StaticMemoryMap::ModuleOf(parser.parser) != module)
    return false;
  // The tuple is exactly the parser's keyword names after the positional-
  // only ones, as new_kwtuple(keywords, len, pos) builds it.
  if (!PyTuple_CheckExact(value) || parser.keywords == nullptr ||
      parser.pos < 0) {
    return false;
  }
  int len = 0;
  while (len <= kMaxKeywords && parser.keywords[len] != nullptr) len++;
  if (len > kMaxKeywords || parser.pos > len) return false;
  if (PyTuple_GET_SIZE(value) != len - parser.pos) return false;
  for (int i = parser.pos; i < len; i++) {
    if (!IsImmortalName(PyTuple_GET_ITEM(value, i - parser.pos),
                        parser.keywords[i])) {
      return false;
    }
  }
  return true;
}

}  // namespace

SanctionedMechanism SanctionedStaticReference(const void* word, PyObject* value,
                                              OwnerSlot owner) {
  if (IsMainInterpreterKeywordTuple(word, value, owner)) {
    return SanctionedMechanism::kArgClinicKeywordTuple;
  }
  return SanctionedMechanism::kNone;
}

const char* SanctionedMechanismName(SanctionedMechanism mechanism) {
  switch (mechanism) {
    case SanctionedMechanism::kArgClinicKeywordTuple:
      return "argument-clinic-keyword-tuple";
    case SanctionedMechanism::kNone:
      break;
  }
  return "none";
}

}  // namespace interpsan
