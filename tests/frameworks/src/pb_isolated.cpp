// A pybind11 (>= 3.0) module declared for own-GIL subinterpreters as
// pybind11 documents it: PYBIND11_MODULE with
// py::multiple_interpreters::per_interpreter_gil(), which emits the
// Py_mod_multiple_interpreters = Py_MOD_PER_INTERPRETER_GIL_SUPPORTED slot
// and gives every interpreter its own pybind11 internals (type registry).
// It binds a class and keeps no Python object in a static: interpsan must
// stay silent on it.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

namespace py = pybind11;

namespace {

class Accumulator {
 public:
  explicit Accumulator(std::string name) : name_(std::move(name)) {}
  long Add(long value) {
    values_.push_back(value);
    return static_cast<long>(values_.size());
  }
  long Total() const {
    long total = 0;
    for (long v : values_) total += v;
    return total;
  }
  const std::string& name() const { return name_; }
  std::vector<long> values() const { return values_; }

 private:
  std::string name_;
  std::vector<long> values_;
};

}  // namespace

PYBIND11_MODULE(pb_isolated, m, py::multiple_interpreters::per_interpreter_gil()) {
  py::class_<Accumulator>(m, "Accumulator")
      .def(py::init<std::string>())
      .def("add", &Accumulator::Add)
      .def("total", &Accumulator::Total)
      .def_property_readonly("name", &Accumulator::name)
      .def_property_readonly("values", &Accumulator::values)
      .def("__repr__", [](const Accumulator& a) {
        return "<Accumulator " + a.name() + ">";
      });
  m.def("join", [](const py::list& items) {
    return py::str(",").attr("join")(items);  // calls into the interpreter
  });
  m.def("histogram", [](const py::iterable& items) {
    py::dict counts;  // a new dict per call: owned by the caller's interpreter
    for (py::handle item : items) {
      counts[item] = counts.contains(item) ? counts[item].cast<long>() + 1 : 1;
    }
    return counts;
  });
}
