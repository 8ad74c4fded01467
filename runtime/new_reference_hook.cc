#include "runtime/new_reference_hook.h"

#include <Python.h>

#include <atomic>

#include "runtime/allocation_tracer.h"
#include "runtime/allocator_hooks.h"
#include "runtime/python_shim.h"
#include "runtime/symbol_interposition.h"

namespace {

using NewReferenceFn = void (*)(PyObject*);
// Resolved once (InitNewReferenceHook, before any interpreter); atomic
// because a process without the runner's set-up resolves it on first use.
std::atomic<NewReferenceFn> g_real_new_reference{nullptr};

}  // namespace

namespace {

// The hook's slow paths, out of line so that the common one (not tracing)
// is a frameless tail call.
__attribute__((noinline)) void NewReferenceUnresolved(PyObject* op) {
  interpsan::InitNewReferenceHook();
  g_real_new_reference.load(std::memory_order_acquire)(op);
  if (interpsan::g_tracing.load(std::memory_order_relaxed)) {
    interpsan::AllocatorHooks::RetraceBlock(reinterpret_cast<char*>(op) -
                                            interpsan_shim_preheader_size(op));
  }
}

__attribute__((noinline)) void NewReferenceTraced(NewReferenceFn real,
                                                  PyObject* op) {
  real(op);
  // The object's memory block starts before any GC/managed-dict pre-header.
  interpsan::AllocatorHooks::RetraceBlock(reinterpret_cast<char*>(op) -
                                          interpsan_shim_preheader_size(op));
}

}  // namespace

extern "C" __attribute__((visibility("default"))) void _Py_NewReference(
    PyObject* op) {
  NewReferenceFn real = g_real_new_reference.load(std::memory_order_relaxed);
  if (__builtin_expect(real == nullptr, 0)) return NewReferenceUnresolved(op);
  if (__builtin_expect(!interpsan::g_tracing.load(std::memory_order_relaxed),
                       1)) {
    return real(op);  // a tail call: this hook's whole cost when not tracing
  }
  return NewReferenceTraced(real, op);
}

namespace interpsan {

bool InitNewReferenceHook() {
  return ResolveNext(&g_real_new_reference, "_Py_NewReference");
}

bool NewReferenceHookActive() {
  return ProcessBindsTo("_Py_NewReference",
                        reinterpret_cast<void*>(&_Py_NewReference)) &&
         g_real_new_reference.load() != nullptr;
}

}  // namespace interpsan
