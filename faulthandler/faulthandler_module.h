// faulthandler_module.h: `interpsan.faulthandler`, the stdlib faulthandler
// API backed by interpsan's process-wide handler, importable in own-GIL
// subinterpreters (where stock faulthandler raises ImportError). In
// interpreters started by tools/interpsan it is also what
// `import faulthandler` returns, so pytest runs there unmodified.
//
// enable/disable/is_enabled: the process-wide handler is always on; enable
//   adds the file to the places fatal dumps are written to.
// dump_traceback: every interpreter's threads (all_threads) or this one.
// dump_traceback_later/cancel_dump_traceback_later: a watchdog thread per
//   interpreter.
// register/unregister: dump on a user signal.
#ifndef INTERPSAN_FAULTHANDLER_FAULTHANDLER_MODULE_H_
#define INTERPSAN_FAULTHANDLER_FAULTHANDLER_MODULE_H_

#include <Python.h>

extern "C" PyObject* PyInit__interpsan_faulthandler(void);

#endif  // INTERPSAN_FAULTHANDLER_FAULTHANDLER_MODULE_H_
