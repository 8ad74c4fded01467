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

// The start of op's memory block: before any GC/managed-dict pre-header.
// Inline (a flags test) rather than interpsan_shim_preheader_size's call:
// this runs for every new object while tracing.
inline const void* BlockOf(PyObject* op) {
  return reinterpret_cast<char*>(op) -
         interpsan_preheader_size_of_flags(Py_TYPE(op)->tp_flags);
}

// The hook's slow path, out of line so that the common one (not tracing)
// is a frameless tail call.
__attribute__((noinline)) void NewReferenceUnresolved(PyObject* op) {
  interpsan::InitNewReferenceHook();
  g_real_new_reference.load(std::memory_order_acquire)(op);
  if (interpsan::g_tracing.load(std::memory_order_relaxed)) {
    interpsan::AllocatorHooks::RetraceBlock(BlockOf(op));
  }
}

// Tracing: the object's block is retraced before CPython's own
// _Py_NewReference runs (as stock tracemalloc does in 3.12's
// new_reference), so that the real one is always a tail call and the hook
// needs no stack frame (nor does its not-tracing path). Retracing reads
// only the block's trace record, never the object.
inline void NewReferenceTraced(NewReferenceFn real, PyObject* op) {
  const void* block = BlockOf(op);
  // The block this thread just allocated (and traced) for this object.
  if (interpsan::AllocatorHooks::TakeLastTraced(block)) return real(op);
  // A reused block (a freelist's): retraced, then real(op), in one frame.
  return interpsan::AllocatorHooks::RetraceBlockThen(block, real, op);
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
