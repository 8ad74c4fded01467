// The C-API boundary checks (see capi_boundary_checks.h), and the check
// for executing another interpreter's code through the C API.
//
// Chosen functions: the object-taking calls that extension code (C, C++,
// Cython, pybind11, PyO3) makes most, by the evidence of what those
// generators emit: container mutation (PyList_*, PyDict_*, PyTuple_SetItem),
// attribute and item access, calls, exceptions, module setup, and the
// function forms of refcounting (Py_IncRef/Py_DecRef, which the limited API
// and PyO3 use). Variadic functions (PyErr_Format, PyObject_CallFunction)
// cannot be forwarded portably and are left out.
#include "debug/capi_boundary_checks.h"

#include <Python.h>
#include <dlfcn.h>
#include <link.h>

#include <atomic>
#include <string>

#include "debug/check_table.h"
#include "debug/cross_interpreter_error.h"
#include "debug/report.h"
#include "runtime/anomaly.h"
#include "runtime/interpreter_registry.h"
#include "runtime/object_owner.h"

namespace interpsan {
namespace {

struct RangeSearch {
  uintptr_t base;
};

int CollectExecutable(struct dl_phdr_info* info, size_t, void* data) {
  auto* search = static_cast<RangeSearch*>(data);
  if (info->dlpi_addr != search->base) return 0;
  for (int i = 0; i < info->dlpi_phnum && g_code_range_count < kMaxCodeRanges;
       i++) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X)) {
      g_code_ranges[g_code_range_count].start = info->dlpi_addr + ph.p_vaddr;
      g_code_ranges[g_code_range_count].end =
          info->dlpi_addr + ph.p_vaddr + ph.p_memsz;
      g_code_range_count++;
    }
  }
  return 1;
}

void AddModuleOf(const void* address) {
  Dl_info info;
  if (dladdr(address, &info) == 0) return;
  RangeSearch search{reinterpret_cast<uintptr_t>(info.dli_fbase)};
  dl_iterate_phdr(&CollectExecutable, &search);
}

std::string TypeName(PyObject* obj) { return ObjectTypeName(obj); }

}  // namespace

CodeRange g_code_ranges[kMaxCodeRanges];
int g_code_range_count = 0;
bool g_capi_active = false;

void InitCallerRanges() {
  if (g_code_range_count > 0) return;
  // libpython: found through a function only it defines (Py_IncRef is
  // interposed here, so use one that is not).
  AddModuleOf(reinterpret_cast<void*>(&Py_GetVersion));
  AddModuleOf(reinterpret_cast<void*>(&InitCallerRanges));  // interpsan
  g_capi_active = g_code_range_count >= 2 && (g_enabled_checks & kCheckCapi);
}

__attribute__((noinline, cold)) bool ReportCapiArgument(
    const char* function, int index, PyObject* arg, bool is_callable,
    Refusal refusal, OwnerSlot owner, OwnerSlot current) {
  InterpreterInfo own = InterpreterRegistry::Info(owner);
  const KindInfo& kind = is_callable ? kinds::kCrossInterpreterCall
                                     : kinds::kCrossInterpreterArgument;
  Violation v;
  v.kind = kind.kind;
  v.check = kind.check;
  v.fix = kind.fix;
  v.current = current;
  v.owner = owner;
  v.object_type = TypeName(arg);
  v.address = arg;
  v.size = 0;
  v.is_object = true;
  v.capi_function = function;
  v.capi_argument = index;
  v.message = std::string(function) + "() called by " +
              InterpreterName(current) + " with argument " +
              std::to_string(index) + ", a '" + v.object_type + "' owned by " +
              InterpreterName(owner) + (own.ended ? " (ended)" : "");
  if (is_callable) {
    v.message += ": " + InterpreterName(owner) + "'s code is about to run in " +
                 InterpreterName(current);
  }
  v.resolution = refusal == Refusal::kRaise      ? "refused"
                 : refusal == Refusal::kAnswerNo ? "refused-answer-no"
                                                 : "made-immortal";
  bool counted;
  {
    ReentryGuard guard;
    counted = ReportViolation(v);  // returns only with --keep-going
  }
  if (!counted) return false;  // suppressed: the user sanctioned this call
  if (refusal == Refusal::kImmortalize) MakeImmortal(arg);
  if (refusal != Refusal::kRaise)
    return true;  // the pending exception untouched
  RaiseCrossInterpreterError(
      std::string(function) + "() refused by interpsan: argument " +
      std::to_string(index) + " is a '" + v.object_type + "' owned by " +
      InterpreterName(owner) + (own.ended ? " (ended)" : "") +
      ", not by the caller, " + InterpreterName(current) + " (" + v.kind + ")");
  return true;
}

bool CheckCapiArgument(const char* function, int index, PyObject* arg,
                       bool is_callable, Refusal refusal) {
  if (arg == nullptr || !(g_enabled_checks & kCheckCapi) ||
      ReentryGuard::active) {
    return false;
  }
  OwnerSlot owner = OwnerOfObject(arg);
  if (owner == kNoOwner) return false;
  OwnerSlot current = InterpreterRegistry::CurrentSlot();
  if (__builtin_expect(current == kNoOwner || current == owner, 1))
    return false;
  return ReportCapiArgument(function, index, arg, is_callable, refusal, owner,
                            current);
}

void ReleaseStolenReference(PyObject* item) {
  if (item == nullptr) return;
  OwnerSlot owner = OwnerOfObject(item);
  if (owner == kNoOwner || owner == InterpreterRegistry::CurrentSlot()) {
    Py_DECREF(item);
  }
  // Another interpreter's item: dropping the reference here would be one
  // more cross-interpreter refcount change (or deallocation). Leaked.
}

}  // namespace interpsan

// ---- the interposed C-API functions
// -------------------------------------------

namespace {

template <typename Fn>
Fn Next(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

#define INTERPSAN_EXPORT \
  extern "C" __attribute__((visibility("default"), noinline))
#define FROM_EXTENSION()                            \
  (__builtin_expect(interpsan::g_capi_active, 0) && \
   interpsan::CalledFromExtension(__builtin_return_address(0)))
// True if the call must be refused (see capi_boundary_checks.h); the
// exception is then set. Chained with ||: the first foreign argument
// decides, and is the one reported.
#define CHECK_ARG(fn, i, obj) interpsan::CheckCapiArgument(fn, i, obj, false)
#define CHECK_CALLABLE(fn, i, obj) \
  interpsan::CheckCapiArgument(fn, i, obj, true)
#define CHECK_ARG_ANSWER_NO(fn, i, obj) \
  interpsan::CheckCapiArgument(fn, i, obj, false, interpsan::Refusal::kAnswerNo)
#define CHECK_ARG_IMMORTALIZE(fn, i, obj)         \
  interpsan::CheckCapiArgument(fn, i, obj, false, \
                               interpsan::Refusal::kImmortalize)
#define REAL(name) static const auto real = Next<decltype(&::name)>(#name)

}  // namespace

INTERPSAN_EXPORT int PyList_Append(PyObject* list, PyObject* item) {
  REAL(PyList_Append);
  if (FROM_EXTENSION() && (CHECK_ARG("PyList_Append", 1, list) ||
                           CHECK_ARG("PyList_Append", 2, item))) {
    return -1;
  }
  return real(list, item);
}

INTERPSAN_EXPORT int PyList_Insert(PyObject* list, Py_ssize_t i,
                                   PyObject* item) {
  REAL(PyList_Insert);
  if (FROM_EXTENSION() && (CHECK_ARG("PyList_Insert", 1, list) ||
                           CHECK_ARG("PyList_Insert", 3, item))) {
    return -1;
  }
  return real(list, i, item);
}

// PyList_SetItem and PyTuple_SetItem steal `item` even when they fail
// (Objects/listobject.c, tupleobject.c: Py_XDECREF(newitem) on every error
// path): a refused call releases it the same way.
INTERPSAN_EXPORT int PyList_SetItem(PyObject* list, Py_ssize_t i,
                                    PyObject* item) {
  REAL(PyList_SetItem);
  if (FROM_EXTENSION() && (CHECK_ARG("PyList_SetItem", 1, list) ||
                           CHECK_ARG("PyList_SetItem", 3, item))) {
    interpsan::ReleaseStolenReference(item);
    return -1;
  }
  return real(list, i, item);
}

INTERPSAN_EXPORT PyObject* PyList_GetItem(PyObject* list, Py_ssize_t i) {
  REAL(PyList_GetItem);
  if (FROM_EXTENSION() && CHECK_ARG("PyList_GetItem", 1, list)) return nullptr;
  return real(list, i);
}

INTERPSAN_EXPORT int PyTuple_SetItem(PyObject* tuple, Py_ssize_t i,
                                     PyObject* item) {
  REAL(PyTuple_SetItem);
  if (FROM_EXTENSION() && (CHECK_ARG("PyTuple_SetItem", 1, tuple) ||
                           CHECK_ARG("PyTuple_SetItem", 3, item))) {
    interpsan::ReleaseStolenReference(item);
    return -1;
  }
  return real(tuple, i, item);
}

INTERPSAN_EXPORT int PyDict_SetItem(PyObject* dict, PyObject* key,
                                    PyObject* value) {
  REAL(PyDict_SetItem);
  if (FROM_EXTENSION() && (CHECK_ARG("PyDict_SetItem", 1, dict) ||
                           CHECK_ARG("PyDict_SetItem", 2, key) ||
                           CHECK_ARG("PyDict_SetItem", 3, value))) {
    return -1;
  }
  return real(dict, key, value);
}

INTERPSAN_EXPORT int PyDict_SetItemString(PyObject* dict, const char* key,
                                          PyObject* value) {
  REAL(PyDict_SetItemString);
  if (FROM_EXTENSION() && (CHECK_ARG("PyDict_SetItemString", 1, dict) ||
                           CHECK_ARG("PyDict_SetItemString", 3, value))) {
    return -1;
  }
  return real(dict, key, value);
}

// PyDict_GetItem and PyDict_GetItemString report no errors: NULL means
// "not there", and they leave the caller's pending exception, if any, as
// it was (Objects/dictobject.c saves and restores it). A refused lookup is
// therefore a miss, with the exception state untouched.
INTERPSAN_EXPORT PyObject* PyDict_GetItem(PyObject* dict, PyObject* key) {
  REAL(PyDict_GetItem);
  if (FROM_EXTENSION() && (CHECK_ARG_ANSWER_NO("PyDict_GetItem", 1, dict) ||
                           CHECK_ARG_ANSWER_NO("PyDict_GetItem", 2, key))) {
    return nullptr;
  }
  return real(dict, key);
}

INTERPSAN_EXPORT PyObject* PyDict_GetItemWithError(PyObject* dict,
                                                   PyObject* key) {
  REAL(PyDict_GetItemWithError);
  if (FROM_EXTENSION() && (CHECK_ARG("PyDict_GetItemWithError", 1, dict) ||
                           CHECK_ARG("PyDict_GetItemWithError", 2, key))) {
    return nullptr;
  }
  return real(dict, key);
}

INTERPSAN_EXPORT PyObject* PyDict_GetItemString(PyObject* dict,
                                                const char* key) {
  REAL(PyDict_GetItemString);
  if (FROM_EXTENSION() &&
      CHECK_ARG_ANSWER_NO("PyDict_GetItemString", 1, dict)) {
    return nullptr;
  }
  return real(dict, key);
}

INTERPSAN_EXPORT int PyDict_DelItem(PyObject* dict, PyObject* key) {
  REAL(PyDict_DelItem);
  if (FROM_EXTENSION() && (CHECK_ARG("PyDict_DelItem", 1, dict) ||
                           CHECK_ARG("PyDict_DelItem", 2, key))) {
    return -1;
  }
  return real(dict, key);
}

INTERPSAN_EXPORT PyObject* PyObject_GetAttr(PyObject* obj, PyObject* name) {
  REAL(PyObject_GetAttr);
  if (FROM_EXTENSION() && (CHECK_ARG("PyObject_GetAttr", 1, obj) ||
                           CHECK_ARG("PyObject_GetAttr", 2, name))) {
    return nullptr;
  }
  return real(obj, name);
}

INTERPSAN_EXPORT PyObject* PyObject_GetAttrString(PyObject* obj,
                                                  const char* name) {
  REAL(PyObject_GetAttrString);
  if (FROM_EXTENSION() && CHECK_ARG("PyObject_GetAttrString", 1, obj))
    return nullptr;
  return real(obj, name);
}

INTERPSAN_EXPORT int PyObject_SetAttr(PyObject* obj, PyObject* name,
                                      PyObject* value) {
  REAL(PyObject_SetAttr);
  if (FROM_EXTENSION() && (CHECK_ARG("PyObject_SetAttr", 1, obj) ||
                           CHECK_ARG("PyObject_SetAttr", 2, name) ||
                           CHECK_ARG("PyObject_SetAttr", 3, value))) {
    return -1;
  }
  return real(obj, name, value);
}

INTERPSAN_EXPORT int PyObject_SetAttrString(PyObject* obj, const char* name,
                                            PyObject* value) {
  REAL(PyObject_SetAttrString);
  if (FROM_EXTENSION() && (CHECK_ARG("PyObject_SetAttrString", 1, obj) ||
                           CHECK_ARG("PyObject_SetAttrString", 3, value))) {
    return -1;
  }
  return real(obj, name, value);
}

INTERPSAN_EXPORT PyObject* PyObject_GetItem(PyObject* obj, PyObject* key) {
  REAL(PyObject_GetItem);
  if (FROM_EXTENSION() && (CHECK_ARG("PyObject_GetItem", 1, obj) ||
                           CHECK_ARG("PyObject_GetItem", 2, key))) {
    return nullptr;
  }
  return real(obj, key);
}

INTERPSAN_EXPORT int PyObject_SetItem(PyObject* obj, PyObject* key,
                                      PyObject* value) {
  REAL(PyObject_SetItem);
  if (FROM_EXTENSION() && (CHECK_ARG("PyObject_SetItem", 1, obj) ||
                           CHECK_ARG("PyObject_SetItem", 2, key) ||
                           CHECK_ARG("PyObject_SetItem", 3, value))) {
    return -1;
  }
  return real(obj, key, value);
}

INTERPSAN_EXPORT PyObject* PyObject_Call(PyObject* callable, PyObject* args,
                                         PyObject* kwargs) {
  REAL(PyObject_Call);
  if (FROM_EXTENSION() && (CHECK_CALLABLE("PyObject_Call", 1, callable) ||
                           CHECK_ARG("PyObject_Call", 2, args) ||
                           CHECK_ARG("PyObject_Call", 3, kwargs))) {
    return nullptr;
  }
  return real(callable, args, kwargs);
}

INTERPSAN_EXPORT PyObject* PyObject_CallObject(PyObject* callable,
                                               PyObject* args) {
  REAL(PyObject_CallObject);
  if (FROM_EXTENSION() && (CHECK_CALLABLE("PyObject_CallObject", 1, callable) ||
                           CHECK_ARG("PyObject_CallObject", 2, args))) {
    return nullptr;
  }
  return real(callable, args);
}

INTERPSAN_EXPORT PyObject* PyObject_CallNoArgs(PyObject* callable) {
  REAL(PyObject_CallNoArgs);
  if (FROM_EXTENSION() && CHECK_CALLABLE("PyObject_CallNoArgs", 1, callable))
    return nullptr;
  return real(callable);
}

INTERPSAN_EXPORT PyObject* PyObject_CallOneArg(PyObject* callable,
                                               PyObject* arg) {
  REAL(PyObject_CallOneArg);
  if (FROM_EXTENSION() && (CHECK_CALLABLE("PyObject_CallOneArg", 1, callable) ||
                           CHECK_ARG("PyObject_CallOneArg", 2, arg))) {
    return nullptr;
  }
  return real(callable, arg);
}

INTERPSAN_EXPORT PyObject* PyObject_Vectorcall(PyObject* callable,
                                               PyObject* const* args,
                                               size_t nargsf,
                                               PyObject* kwnames) {
  REAL(PyObject_Vectorcall);
  if (FROM_EXTENSION()) {
    if (CHECK_CALLABLE("PyObject_Vectorcall", 1, callable)) return nullptr;
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    for (Py_ssize_t i = 0; i < n && i < 16; i++) {
      if (CHECK_ARG("PyObject_Vectorcall", static_cast<int>(i) + 2, args[i]))
        return nullptr;
    }
  }
  return real(callable, args, nargsf, kwnames);
}

INTERPSAN_EXPORT PyObject* PyEval_EvalCode(PyObject* code, PyObject* globals,
                                           PyObject* locals) {
  REAL(PyEval_EvalCode);
  if (FROM_EXTENSION() && (CHECK_CALLABLE("PyEval_EvalCode", 1, code) ||
                           CHECK_CALLABLE("PyEval_EvalCode", 2, globals) ||
                           CHECK_ARG("PyEval_EvalCode", 3, locals))) {
    return nullptr;
  }
  return real(code, globals, locals);
}

// The PyErr_Set* functions have no error return: their job is to leave an
// exception set, and a refused one leaves CrossInterpreterError instead
// (the caller returns its error value next, as it was about to).
INTERPSAN_EXPORT void PyErr_SetObject(PyObject* type, PyObject* value) {
  REAL(PyErr_SetObject);
  if (FROM_EXTENSION() && (CHECK_ARG("PyErr_SetObject", 1, type) ||
                           CHECK_ARG("PyErr_SetObject", 2, value))) {
    return;
  }
  real(type, value);
}

INTERPSAN_EXPORT void PyErr_SetString(PyObject* type, const char* message) {
  REAL(PyErr_SetString);
  if (FROM_EXTENSION() && CHECK_ARG("PyErr_SetString", 1, type)) return;
  real(type, message);
}

INTERPSAN_EXPORT void PyErr_SetNone(PyObject* type) {
  REAL(PyErr_SetNone);
  if (FROM_EXTENSION() && CHECK_ARG("PyErr_SetNone", 1, type)) return;
  real(type);
}

// No error return either: a refused match answers "no", and the pending
// exception becomes CrossInterpreterError, which the caller then
// propagates as it would any exception it does not handle.
INTERPSAN_EXPORT int PyErr_ExceptionMatches(PyObject* exc) {
  REAL(PyErr_ExceptionMatches);
  if (FROM_EXTENSION() && CHECK_ARG("PyErr_ExceptionMatches", 1, exc)) return 0;
  return real(exc);
}

// PyModule_AddObjectRef never steals; PyModule_AddObject steals only on
// success, so after a refusal (-1) the caller still owns `value`, as
// documented for any failure.
INTERPSAN_EXPORT int PyModule_AddObjectRef(PyObject* module, const char* name,
                                           PyObject* value) {
  REAL(PyModule_AddObjectRef);
  if (FROM_EXTENSION() && (CHECK_ARG("PyModule_AddObjectRef", 1, module) ||
                           CHECK_ARG("PyModule_AddObjectRef", 3, value))) {
    return -1;
  }
  return real(module, name, value);
}

INTERPSAN_EXPORT int PyModule_AddObject(PyObject* module, const char* name,
                                        PyObject* value) {
  REAL(PyModule_AddObject);
  if (FROM_EXTENSION() && (CHECK_ARG("PyModule_AddObject", 1, module) ||
                           CHECK_ARG("PyModule_AddObject", 3, value))) {
    return -1;
  }
  return real(module, name, value);
}

INTERPSAN_EXPORT int PyModule_AddType(PyObject* module, PyTypeObject* type) {
  REAL(PyModule_AddType);
  if (FROM_EXTENSION() &&
      (CHECK_ARG("PyModule_AddType", 1, module) ||
       CHECK_ARG("PyModule_AddType", 2, reinterpret_cast<PyObject*>(type)))) {
    return -1;
  }
  return real(module, type);
}

INTERPSAN_EXPORT int PyObject_IsInstance(PyObject* obj, PyObject* cls) {
  REAL(PyObject_IsInstance);
  if (FROM_EXTENSION() && (CHECK_ARG("PyObject_IsInstance", 1, obj) ||
                           CHECK_ARG("PyObject_IsInstance", 2, cls))) {
    return -1;
  }
  return real(obj, cls);
}

// Py_IncRef/Py_DecRef cannot fail. Skipping one would unbalance the count
// that the caller's later operations assume; performing it races with the
// owner's own (non-atomic) refcounting. A refused one makes the object
// immortal instead (PEP 683): from then on every Py_INCREF/Py_DECREF in
// any interpreter leaves it alone (3.12/3.13 Include/object.h test
// _Py_IsImmortal first), and it is never deallocated: a leak, never a
// corruption. No exception is set: these functions cannot report one.
INTERPSAN_EXPORT void Py_IncRef(PyObject* obj) {
  REAL(Py_IncRef);
  if (FROM_EXTENSION() && CHECK_ARG_IMMORTALIZE("Py_IncRef", 1, obj)) return;
  real(obj);
}

INTERPSAN_EXPORT void Py_DecRef(PyObject* obj) {
  REAL(Py_DecRef);
  if (FROM_EXTENSION() && CHECK_ARG_IMMORTALIZE("Py_DecRef", 1, obj)) return;
  real(obj);
}

INTERPSAN_EXPORT void* PyCapsule_GetPointer(PyObject* capsule,
                                            const char* name) {
  REAL(PyCapsule_GetPointer);
  if (FROM_EXTENSION() && CHECK_ARG("PyCapsule_GetPointer", 1, capsule))
    return nullptr;
  return real(capsule, name);
}

// PyCapsule_IsValid sets no exception: a refused one answers "not valid".
INTERPSAN_EXPORT int PyCapsule_IsValid(PyObject* capsule, const char* name) {
  REAL(PyCapsule_IsValid);
  if (FROM_EXTENSION() && CHECK_ARG_ANSWER_NO("PyCapsule_IsValid", 1, capsule))
    return 0;
  return real(capsule, name);
}
