// The C-API boundary checks (see capi_boundary_checks.h), and the check
// for executing another interpreter's code through the C API.
//
// Chosen functions (listed in capi_wrapped_functions.inc, one line each;
// every wrapper below is generated from that list): the object-taking
// calls that extension code (C, C++, Cython, pybind11, PyO3) makes most,
// by the evidence of what those generators emit: container mutation
// (PyList_*, PyDict_*, PyTuple_SetItem), attribute and item access, calls,
// exceptions, module setup, and the function forms of refcounting
// (Py_IncRef/Py_DecRef, which the limited API and PyO3 use). Variadic
// functions (PyErr_Format, PyObject_CallFunction) cannot be forwarded
// portably and are left out.
#include "debug/capi_boundary_checks.h"

#include <Python.h>
#include <dlfcn.h>
#include <link.h>

#include <atomic>
#include <string>

#include "debug/check_table.h"
#include "debug/cross_interpreter_error.h"
#include "debug/object_violation.h"
#include "debug/report.h"
#include "runtime/anomaly.h"
#include "runtime/interpreter_registry.h"
#include "runtime/invariant.h"
#include "runtime/object_owner.h"

namespace interpsan {
namespace {

// Code ranges of libpython and interpsan (filled by InitCallerRanges).
struct CodeRange {
  uintptr_t start = 0, end = 0;
};
constexpr int kMaxCodeRanges = 8;
CodeRange g_code_ranges[kMaxCodeRanges];
int g_code_range_count = 0;
// True once InitCallerRanges ran and the capi check is on.
bool g_capi_active = false;

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

}  // namespace

void InitCallerRanges() {
  if (g_code_range_count > 0) return;
  // libpython: found through a function only it defines (Py_IncRef is
  // interposed here, so use one that is not).
  AddModuleOf(reinterpret_cast<void*>(&Py_GetVersion));
  AddModuleOf(reinterpret_cast<void*>(&InitCallerRanges));  // interpsan
  g_capi_active = g_code_range_count >= 2 && (g_enabled_checks & kCheckCapi);
}

namespace {

// True if `return_address` lies in an extension (not libpython, not
// interpsan). Inline: every interposed call asks.
inline bool CalledFromExtension(const void* return_address) {
  uintptr_t a = reinterpret_cast<uintptr_t>(return_address);
  for (int i = 0; i < g_code_range_count; i++) {
    if (a >= g_code_ranges[i].start && a < g_code_ranges[i].end) return false;
  }
  return true;
}

// Reports argument `position` of `function`, `arg`, owned by `owner`, not
// by the calling interpreter `current`. Returns true if the call must not
// be performed: a violation was reported (or repeated) and the run goes
// on; `refusal` has then been done instead. False if a suppression
// sanctioned the call.
__attribute__((noinline, cold)) bool ReportCapiArgument(
    const char* function, int position, PyObject* arg, bool is_callable,
    Refusal refusal, OwnerSlot owner, OwnerSlot current) {
  const KindInfo& kind = is_callable ? kinds::kCrossInterpreterCall
                                     : kinds::kCrossInterpreterArgument;
  Violation v = ObjectViolation(kind, arg, ObjectTypeName(arg), owner, current);
  v.capi_function = function;
  v.capi_argument = position;
  const std::string culprit =
      "a '" + v.object_type + "' owned by " + OwnerName(owner);
  v.message = std::string(function) + "() called by " +
              InterpreterName(current) + " with argument " +
              std::to_string(position) + ", " + culprit;
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
      std::to_string(position) + " is " + culprit + ", not by the caller, " +
      InterpreterName(current) + " (" + v.kind + ")");
  return true;
}

// One checked call from an extension: the arguments of one wrapper, asked
// in order. The calling interpreter is looked up once, at the first
// argument some interpreter owns (immortal and static objects, and the
// common None/True/small ints, need no lookup at all).
class CapiCall {
 public:
  // At most this many objects of an ARRAY are looked at: the check's cost
  // per call stays bounded.
  static constexpr Py_ssize_t kMaxArrayChecked = 16;

  CapiCall(const char* function, Refusal refusal)
      : function_(function), refusal_(refusal) {}

  // False while the check is off or interpsan itself is calling.
  static bool Active() {
    return (g_enabled_checks & kCheckCapi) && !ReentryGuard::active;
  }

  // True if `arg`, argument `position`, refuses the call (see
  // ReportCapiArgument).
  bool Refuses(int position, PyObject* arg, bool is_callable) {
    if (arg == nullptr) return false;
    OwnerSlot owner = OwnerOfObject(arg);
    if (owner == kNoOwner) return false;
    if (current_ == kNoOwner) {
      current_ = InterpreterRegistry::CurrentSlot();
      if (current_ == kNoOwner) return false;  // no thread state: not ours
    }
    if (__builtin_expect(owner == current_, 1)) return false;
    return ReportCapiArgument(function_, position, arg, is_callable, refusal_,
                              owner, current_);
  }

  // The same for the objects of an array, positions position, position+1...
  bool RefusesAny(int position, PyObject* const* args, Py_ssize_t count) {
    for (Py_ssize_t i = 0; i < count && i < kMaxArrayChecked; i++) {
      if (Refuses(position + static_cast<int>(i), args[i], false)) return true;
    }
    return false;
  }

 private:
  const char* const function_;
  const Refusal refusal_;
  OwnerSlot current_ = kNoOwner;
};

// Drops the reference a refused PyList_SetItem/PyTuple_SetItem stole, as
// the real functions do on failure, unless `item` is another
// interpreter's (then it is leaked: dropping it would be one more
// cross-interpreter refcount change, or deallocation).
void ReleaseStolenReference(PyObject* item) {
  if (item == nullptr) return;
  OwnerSlot owner = OwnerOfObject(item);
  if (owner == kNoOwner || owner == InterpreterRegistry::CurrentSlot()) {
    Py_DECREF(item);
  }
}

// libpython's definition of `name`, the one ours stands in for, found
// once and kept in *real. Every function of the list exists in libpython
// 3.12 and 3.13, which is loaded after the runner or the preload library:
// none found is a bug of interpsan's. (A process without libpython, such as
// a shell that inherited LD_PRELOAD, never calls these.)
template <typename Fn>
__attribute__((noinline, cold)) Fn ResolveRealFunction(std::atomic<Fn>* real,
                                                       const char* name) {
  Fn fn = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
  INTERPSAN_CHECK(fn != nullptr);
  real->store(fn, std::memory_order_release);
  return fn;
}

template <typename Fn>
inline Fn RealFunction(std::atomic<Fn>* real, const char* name) {
  Fn fn = real->load(std::memory_order_acquire);
  return __builtin_expect(fn != nullptr, 1) ? fn
                                            : ResolveRealFunction(real, name);
}

}  // namespace
}  // namespace interpsan

// ---- the interposed C-API functions, generated from the list ---------------

// capi_wrapped_functions.inc's checked arguments become (role, ...) tuples,
// and CAPI_FOR_EACH applies a macro to each: CAPI_OR_REFUSES chains the
// checks with || (the first foreign argument decides and is the one
// reported), CAPI_RELEASE releases what a refused call stole.
#define ARG(position, object) (Arg, position, object)
#define CALLABLE(position, object) (Callable, position, object)
#define STOLEN(position, object) (Stolen, position, object)
#define ARRAY(position, objects, count) (Array, position, objects, count)

#define CAPI_FE_1(m, a) m a
#define CAPI_FE_2(m, a, b) m a m b
#define CAPI_FE_3(m, a, b, c) m a m b m c
#define CAPI_FE_4(m, a, b, c, d) m a m b m c m d
#define CAPI_FE_PICK(_1, _2, _3, _4, name, ...) name
// At most four checked arguments a function (a fifth does not compile).
#define CAPI_FOR_EACH(m, ...)                                           \
  CAPI_FE_PICK(__VA_ARGS__, CAPI_FE_4, CAPI_FE_3, CAPI_FE_2, CAPI_FE_1, \
               unused)                                                  \
  (m, __VA_ARGS__)

#define CAPI_OR_REFUSES(role, ...) || CAPI_REFUSES_##role(__VA_ARGS__)
#define CAPI_REFUSES_Arg(position, object) call.Refuses(position, object, false)
#define CAPI_REFUSES_Callable(position, object) \
  call.Refuses(position, object, true)
#define CAPI_REFUSES_Stolen(position, object) \
  call.Refuses(position, object, false)
#define CAPI_REFUSES_Array(position, objects, count) \
  call.RefusesAny(position, objects, count)

#define CAPI_RELEASE(role, ...) CAPI_RELEASE_##role(__VA_ARGS__)
#define CAPI_RELEASE_Arg(position, object)
#define CAPI_RELEASE_Callable(position, object)
#define CAPI_RELEASE_Stolen(position, object) \
  interpsan::ReleaseStolenReference(object);
#define CAPI_RELEASE_Array(position, objects, count)

#define CAPI_UNPAREN(...) __VA_ARGS__

// Each line makes two functions. The definition under libpython's name is
// the path every call takes, CPython's own included: while the check is
// off, two loads and a jump to libpython's function; while it is on (or
// before libpython's function is known), a jump to CheckedX with the
// caller's address. CheckedX tells CPython's own calls from extensions'
// and checks the latter's arguments. No static-local guard: the wrapper
// stays free of stack frames.
#define INTERPSAN_CAPI(ret, name, params, forwarded, refused, refusal, ...)   \
  namespace interpsan {                                                       \
  namespace {                                                                 \
  std::atomic<decltype(&::name)> g_real_##name{nullptr};                      \
  __attribute__((noinline))                                                   \
  ret Checked##name(const void* caller, CAPI_UNPAREN params) {                \
    if (g_capi_active && CalledFromExtension(caller) && CapiCall::Active()) { \
      CapiCall call(#name, Refusal::refusal);                                 \
      if (false CAPI_FOR_EACH(CAPI_OR_REFUSES, __VA_ARGS__)) {                \
        CAPI_FOR_EACH(CAPI_RELEASE, __VA_ARGS__)                              \
        return refused;                                                       \
      }                                                                       \
    }                                                                         \
    return RealFunction(&g_real_##name, #name) forwarded;                     \
  }                                                                           \
  }                                                                           \
  }                                                                           \
  extern "C" __attribute__((visibility("default"), noinline))                 \
  ret name params {                                                           \
    const auto real =                                                         \
        interpsan::g_real_##name.load(std::memory_order_relaxed);             \
    if (__builtin_expect(interpsan::g_capi_active || real == nullptr, 0)) {   \
      return interpsan::Checked##name(__builtin_return_address(0),            \
                                      CAPI_UNPAREN forwarded);                \
    }                                                                         \
    return real forwarded;                                                    \
  }

#include "debug/capi_wrapped_functions.inc"

#undef ARG
#undef CALLABLE
#undef STOLEN
#undef ARRAY
