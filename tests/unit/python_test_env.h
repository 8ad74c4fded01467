// python_test_env.h: starting CPython inside a GoogleTest process.
//
// Each cc_test is its own process, so a test may initialize CPython once,
// with or without interpsan's hooks installed first. The helpers use the
// CPython that Bazel was configured with (--config=py312|py313), ignore the
// PYTHON* environment variables, and let gtest and the sanitizers keep their
// signal handlers.
//
// Thread safety: InitializePythonForTest and FinalizePythonForTest run on the
// main thread; the others need the calling interpreter's GIL, except
// NewOwnGilInterpreter, which needs a thread with no thread state.
#ifndef INTERPSAN_TESTS_UNIT_PYTHON_TEST_ENV_H_
#define INTERPSAN_TESTS_UNIT_PYTHON_TEST_ENV_H_

#include <string>

typedef struct _ts PyThreadState;

namespace interpsan {
namespace testing {

// Py_InitializeFromConfig with the configured home. Aborts with CPython's
// message if it fails. Returns with the main interpreter's GIL held.
void InitializePythonForTest();

// Py_FinalizeEx; returns its result (0 on success).
int FinalizePythonForTest();

// Runs `code` in the current interpreter's __main__. Returns false (and
// prints the exception) if it raised.
bool RunPython(const char* code);

// Evaluates `expression` in the current interpreter's __main__ and returns
// str() of the result, or "<error>" (exception printed).
std::string EvalToString(const char* expression);

// Creates an interpreter with its own GIL and obmalloc state (PEP 684), as
// interpsan's runner does, and makes it current on the calling thread.
// Returns its thread state, or nullptr (message printed) on failure.
PyThreadState* NewOwnGilInterpreter();

}  // namespace testing
}  // namespace interpsan

#endif  // INTERPSAN_TESTS_UNIT_PYTHON_TEST_ENV_H_
