#include "tracemalloc/tracemalloc_module.h"

#include <unordered_map>

#include "runtime/allocator_hooks.h"
#include "runtime/anomaly.h"
#include "runtime/interpreter_registry.h"
#include "runtime/per_interpreter_module.h"
#include "runtime/python_shim.h"
#include "tracemalloc/tracemalloc_api_py.h"
#include "tracemalloc/tracer.h"

namespace {

using interpsan::InterpreterRegistry;
using interpsan::OwnerSlot;
using interpsan::Tracer;

OwnerSlot Here() { return InterpreterRegistry::CurrentSlot(); }

PyObject* Start(PyObject*, PyObject* args) {
  int nframe = 1;
  if (!PyArg_ParseTuple(args, "|i:start", &nframe)) return nullptr;
  if (nframe < 1 || nframe > interpsan::kMaxTraceFrames) {
    PyErr_Format(PyExc_ValueError,
                 "the number of frames must be in range [1; %d]",
                 interpsan::kMaxTraceFrames);
    return nullptr;
  }
  if (!interpsan::AllocatorHooks::installed()) {
    PyErr_SetString(PyExc_RuntimeError,
                    "interpsan's allocator hooks are not installed in this "
                    "process (it was started with --checks none and without "
                    "--trace-malloc)");
    return nullptr;
  }
  Tracer::Start(Here(), nframe);
  Py_RETURN_NONE;
}

PyObject* Stop(PyObject*, PyObject*) {
  Tracer::Stop(Here());
  Py_RETURN_NONE;
}

PyObject* IsTracing(PyObject*, PyObject*) {
  return PyBool_FromLong(Tracer::IsTracing(Here()));
}

PyObject* ClearTraces(PyObject*, PyObject*) {
  Tracer::ClearTraces(Here());
  Py_RETURN_NONE;
}

PyObject* GetTracebackLimit(PyObject*, PyObject*) {
  return PyLong_FromLong(Tracer::Frames(Here()));
}

PyObject* GetTracedMemory(PyObject*, PyObject*) {
  OwnerSlot slot = Here();
  if (!Tracer::IsTracing(slot)) return Py_BuildValue("(ii)", 0, 0);
  return Py_BuildValue("(LL)",
                       static_cast<long long>(Tracer::CurrentBytes(slot)),
                       static_cast<long long>(Tracer::PeakBytes(slot)));
}

PyObject* ResetPeak(PyObject*, PyObject*) {
  Tracer::ResetPeak(Here());
  Py_RETURN_NONE;
}

PyObject* GetTracemallocMemory(PyObject*, PyObject*) {
  return PyLong_FromSize_t(interpsan::TracebackTable::MemoryUsage());
}

// ((filename, lineno), ...) most recent first, as _tracemalloc returns.
PyObject* TracebackTuple(const interpsan::TraceRecord& r) {
  // No Python frame at all (C start-up code): one "<unknown>" frame, as
  // stock tracemalloc reports it.
  if (r.nframes == 0) return Py_BuildValue("((si))", "<unknown>", 0);
  PyObject* tb = PyTuple_New(r.nframes);
  if (tb == nullptr) return nullptr;
  for (int i = 0; i < r.nframes; i++) {
    const InterpsanFrame& f = interpsan::TracebackTable::Frame(r.frames[i]);
    PyObject* frame = Py_BuildValue("(si)", f.filename, f.lineno);
    if (frame == nullptr) {
      Py_DECREF(tb);
      return nullptr;
    }
    PyTuple_SET_ITEM(tb, i, frame);
  }
  return tb;
}

// _get_traces(all_interpreters=False): one (domain, size, traceback,
// total_nframe, interpreter_id) per live block. Blocks with the same
// traceback share one tuple object; their sizes add up to the trace's
// exact total.
PyObject* GetTraces(PyObject*, PyObject* args) {
  int all = 0;
  if (!PyArg_ParseTuple(args, "|p:_get_traces", &all)) return nullptr;
  OwnerSlot slot = Here();
  PyObject* list = PyList_New(0);
  if (list == nullptr) return nullptr;
  if (!all && !Tracer::IsTracing(slot)) return list;
  // Our own allocations here must not be traced (stock tracemalloc does the
  // same while it takes a snapshot).
  interpsan::ReentryGuard guard;
  bool failed = false;
  Tracer::ForEachLiveTrace(
      all ? interpsan::kNoOwner : slot, true,
      [&](interpsan::TraceId, const interpsan::TraceRecord& r, int64_t bytes,
          int64_t blocks) {
        if (failed) return;
        PyObject* tb = TracebackTuple(r);
        if (tb == nullptr) {
          failed = true;
          return;
        }
        int64_t id = InterpreterRegistry::Info(r.slot).id;
        int64_t each = bytes / blocks;
        int64_t rest = bytes - each * blocks;
        auto build = [&](int64_t size) {
          return Py_BuildValue("(iLOiL)", static_cast<int>(r.domain),
                               static_cast<long long>(size), tb,
                               // "<unknown>" stands in for no frame, as
                               // in stock tracemalloc: a depth of 1.
                               r.nframes == 0 ? 1 : static_cast<int>(r.depth),
                               static_cast<long long>(id));
        };
        PyObject* first = build(each + rest);
        PyObject* other = nullptr;
        if (first != nullptr && blocks > 1) {
          other = rest == 0 ? Py_NewRef(first) : build(each);
        }
        if (first == nullptr || (blocks > 1 && other == nullptr) ||
            PyList_Append(list, first) < 0) {
          failed = true;
        }
        for (int64_t i = 1; i < blocks && !failed; i++) {
          if (PyList_Append(list, other) < 0) failed = true;
        }
        Py_XDECREF(first);
        Py_XDECREF(other);
        Py_DECREF(tb);
      });
  if (failed) {
    Py_DECREF(list);
    return nullptr;
  }
  return list;
}

PyObject* GetObjectTraceback(PyObject*, PyObject* obj) {
  const char* block =
      reinterpret_cast<const char*>(obj) - interpsan_shim_preheader_size(obj);
  uint32_t id = interpsan::AllocatorHooks::TraceIdOf(block);
  interpsan::TraceRecord r;
  // Like stock: nothing once tracing stopped or the traces were cleared.
  if (id == 0 || !Tracer::IsCurrentTrace(Here(), id) ||
      !interpsan::TracebackTable::Get(id, &r)) {
    Py_RETURN_NONE;
  }
  return TracebackTuple(r);
}

PyObject* ReportTop(PyObject*, PyObject* args) {
  int limit = 10;
  if (!PyArg_ParseTuple(args, "|i", &limit)) return nullptr;
  OwnerSlot slot = Here();
  if (Tracer::IsTracing(slot))
    Tracer::ReportTop(slot, static_cast<size_t>(limit));
  Py_RETURN_NONE;
}

PyObject* InterpreterId(PyObject*, PyObject*) {
  return PyLong_FromLongLong(
      PyInterpreterState_GetID(PyInterpreterState_Get()));
}

PyMethodDef kMethods[] = {
    {"start", Start, METH_VARARGS, "start(nframe=1): trace this interpreter."},
    {"stop", Stop, METH_NOARGS,
     "stop(): stop tracing this interpreter, clear its traces."},
    {"is_tracing", IsTracing, METH_NOARGS, nullptr},
    {"clear_traces", ClearTraces, METH_NOARGS, nullptr},
    {"get_traceback_limit", GetTracebackLimit, METH_NOARGS, nullptr},
    {"get_traced_memory", GetTracedMemory, METH_NOARGS,
     "(current, peak) traced bytes of this interpreter."},
    {"reset_peak", ResetPeak, METH_NOARGS, nullptr},
    {"get_tracemalloc_memory", GetTracemallocMemory, METH_NOARGS,
     "Bytes used by interpsan's trace tables (all interpreters)."},
    {"_get_traces", GetTraces, METH_VARARGS, nullptr},
    {"_get_object_traceback", GetObjectTraceback, METH_O, nullptr},
    {"_report_top", ReportTop, METH_VARARGS, nullptr},
    {"_interpreter_id", InterpreterId, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr},
};

interpsan::PerInterpreterModule g_module({
    "_interpsan_tracemalloc",
    "interpsan's process-wide tracemalloc, per interpreter (C half).",
    kMethods,
});

}  // namespace

extern "C" PyObject* PyInit__interpsan_tracemalloc(void) {
  return g_module.Init();
}

namespace interpsan {

PyObject* CreateTracemallocApiModule() {
  PyObject* modules = PyImport_GetModuleDict();
  PyObject* existing = PyDict_GetItemString(modules, "interpsan.tracemalloc");
  if (existing != nullptr) return Py_NewRef(existing);
  PyObject* code = Py_CompileString(kTracemallocApiPy,
                                    "<interpsan.tracemalloc>", Py_file_input);
  if (code == nullptr) return nullptr;
  PyObject* module = PyImport_ExecCodeModule("interpsan.tracemalloc", code);
  Py_DECREF(code);
  return module;
}

}  // namespace interpsan
