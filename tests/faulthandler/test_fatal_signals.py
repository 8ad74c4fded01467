"""Death tests, one per fatal signal: in a run of 4 own-GIL interpreters,
one interpreter's main thread faults in a C function of the crashers
extension while every other thread of every interpreter (each interpreter's
main thread and a second Python thread) waits in a Python function named
after its interpreter. Each test proves, through the command line:

  - exit status 4 and report.json's crash.signal names the signal;
  - crash.interpreter / crash.interpreter_index name the faulting
    interpreter (and interpreters[].status says "crashed" for it);
  - crash.native_stack, symbolized by the supervisor, names the faulting C
    function (a static function of crashers.so);
  - crash.threads has the Python traceback of EVERY thread of EVERY
    interpreter, each attributed to its own interpreter: the faulting thread
    (current) in fault_in_interpreter(), the others in
    waiting_in_interpreter_N() / helper_of_interpreter_N();
  - the readable dump went to stderr."""

import os
import shutil

import fh_lib
from fh_lib import FaulthandlerTestCase, names, run_program, scratch_dir

FAULT_INDEX = 2


class FatalSignalTest(FaulthandlerTestCase):
    def check(self, kind, signal_name, c_function):
        r = run_program("fatal_signal.py", kind, scratch_dir("markers-"), str(FAULT_INDEX))
        crash = self.assertCrash(r, signal_name, FAULT_INDEX, c_function)
        d = r.describe()

        # The faulting thread: current, in the faulting interpreter, in
        # fault_in_interpreter() called from the program's top level.
        current = [t for t in crash["threads"] if t.get("current")]
        self.assertEqual(len(current), 1, "expected one current thread" + d)
        self.assertEqual(current[0]["interpreter_index"], FAULT_INDEX, d)
        self.assertEqual(names(current[0])[-1], "fault_in_interpreter", d)
        # Frames carry the program's file name (cut short past 199 bytes:
        # see test_long_file_name).
        filename = current[0]["python_traceback"][-1]["filename"]
        self.assertTrue(
            filename and fh_lib.program("fatal_signal.py").startswith(filename),
            "innermost frame's file %r" % filename + d,
        )
        self.assertEqual(current[0].get("native_thread_id"), crash.get("native_thread_id"), d)

        # Every thread of every interpreter, in its own interpreter.
        for index in range(fh_lib.N):
            threads = self.threads_of(r, crash, index)
            self.assertEqual(
                len(threads), 2, "interpreter %d: expected its main and helper thread" % index + d
            )
            self.assertThreadWaitingIn(r, crash, index, "helper_of_interpreter_%d" % index)
            if index != FAULT_INDEX:
                waiter = self.assertThreadWaitingIn(
                    r, crash, index, "waiting_in_interpreter_%d" % index
                )
                self.assertIs(waiter.get("current"), False, d)
        # No thread is attributed to an interpreter of another index.
        for t in crash["threads"]:
            for name in names(t):
                for index in range(fh_lib.N):
                    if name.endswith("_interpreter_%d" % index):
                        self.assertEqual(t["interpreter_index"], index, d)
        # The main interpreter's thread (waiting for the others) is listed
        # as well, without Python frames of its own.
        main = [t for t in crash["threads"] if t.get("main_interpreter")]
        self.assertEqual(len(main), 1, d)

        # The readable dump on stderr shows the same.
        self.assertIn(
            "Interpreter %d (index %d):" % (crash["interpreter"], FAULT_INDEX), r.stderr, d
        )
        for index in range(fh_lib.N):
            self.assertIn(" in helper_of_interpreter_%d\n" % index, r.stderr, d)
        self.assertIn(" in fault_in_interpreter\n", r.stderr, d)
        return r, crash

    def test_sigsegv(self):
        r, crash = self.check("segv", "SIGSEGV", "segv")
        self.assertEqual(crash.get("signal_number"), 11, r.describe())
        self.assertEqual(crash.get("address"), "0x0", r.describe())
        # The faulting frame is the innermost one.
        self.assertIn(" segv (crashers.so+", crash["native_stack"][0], r.describe())

    def test_sigbus(self):
        r, crash = self.check("bus", "SIGBUS", "bus")
        self.assertEqual(crash.get("signal_number"), 7, r.describe())
        self.assertIn(" bus (crashers.so+", crash["native_stack"][0], r.describe())

    def test_sigfpe(self):
        r, crash = self.check("fpe", "SIGFPE", "fpe")
        self.assertEqual(crash.get("signal_number"), 8, r.describe())
        self.assertIn(" fpe (crashers.so+", crash["native_stack"][0], r.describe())

    def test_sigill(self):
        # ill() is a single ud2 instruction: see test_sigill_faulting_frame.
        r, crash = self.check("ill", "SIGILL", None)
        self.assertEqual(crash.get("signal_number"), 4, r.describe())
        self.assertIn("(crashers.so+", crash["native_stack"][0], r.describe())

    def test_sigill_faulting_frame(self):
        r, crash = self.check("ill", "SIGILL", "ill")
        self.assertIn(" ill (crashers.so+", crash["native_stack"][0], r.describe())

    def test_sigabrt(self):
        # abort() raises SIGABRT inside libc: the crashers frame is further
        # up the stack, below libc's own.
        r, crash = self.check("abort", "SIGABRT", "call_abort")
        self.assertEqual(crash.get("signal_number"), 6, r.describe())


class LongFileNameTest(FaulthandlerTestCase):
    def test_long_file_name(self):
        # The same program, from a directory whose path is over 200 bytes.
        deep = os.path.join(scratch_dir("long-"), *(["d" * 60] * 4))
        os.makedirs(deep)
        for name in ("fatal_signal.py", "waiting.py"):
            shutil.copy(fh_lib.program(name), deep)
        r = run_program(
            os.path.join(deep, "fatal_signal.py"), "segv", scratch_dir("markers-"), str(FAULT_INDEX)
        )
        crash = self.assertCrash(r, "SIGSEGV", FAULT_INDEX, "segv")
        current = [t for t in crash["threads"] if t.get("current")]
        self.assertEqual(len(current), 1, r.describe())
        self.assertTrue(
            current[0]["python_traceback"][-1]["filename"].endswith("/fatal_signal.py"),
            current[0]["python_traceback"][-1]["filename"] + r.describe(),
        )
        self.assertIn('fatal_signal.py", line ', r.stderr, r.describe())


if __name__ == "__main__":
    fh_lib.main()
