// DELIBERATELY BROKEN. Declares per_interpreter_gil() like pb_isolated.cpp
// but memoizes into a function-local `static py::object`: the dict is
// created by the first interpreter that calls remember() and then written
// by every other interpreter, each under its own GIL.
#include <pybind11/pybind11.h>

namespace py = pybind11;

PYBIND11_MODULE(pb_static_cache, m, py::multiple_interpreters::per_interpreter_gil()) {
  m.def("remember", [](const py::object& key) {
    // Heap-allocated and never destroyed, so no destructor runs after the
    // interpreters are gone; the bug is the sharing, not the teardown.
    static py::object& cache = *new py::object(py::dict());
    cache[key] = py::len(cache);  // BUG: another interpreter's dict
    return py::len(cache);
  });
}
