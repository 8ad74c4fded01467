"""Death tests for the hard cases of the crash handler, through the command
line, in runs of 4 own-GIL interpreters:

  - two native threads fault at the same moment: one dumps, the other
    waits; still exit status 4 and a complete crash object;
  - the handler itself faults after writing its header
    (INTERPSAN_TEST_FAULT_IN_HANDLER=1, a test hook of the runner): still
    status 4 and a report.json whose crash names the original signal, with
    crash.complete == false;
  - the handler hangs after writing its header
    (INTERPSAN_TEST_HANG_IN_HANDLER=1, which also shortens the dump's time
    limit to 1 s): the alarm still ends the process with the original
    signal, status 4, crash.complete == false;
  - the arena ownership table missing (INTERPSAN_TEST_NO_ARENA_MAP=1, as
    when its mmap fails): the run says so in report.json's coverage and on
    stderr, and raises no false invalid-free (the allocator hooks stay out);
  - a fault during interpreter teardown (an atexit handler, which runs
    inside Py_EndInterpreter): status 4, attributed to that interpreter."""

import os

import fh_lib
from fh_lib import EXIT_CRASH, EXIT_OK, FaulthandlerTestCase, names, run_program, scratch_dir


class ThreadPairTest(FaulthandlerTestCase):
    def test_two_threads_fault_at_once(self):
        r = run_program("thread_pair.py", scratch_dir("markers-"), "1")
        # The faulting threads are native threads without a Python thread
        # state: no interpreter to name (crash.interpreter_index is -1).
        crash = self.assertCrash(r, "SIGSEGV", None, "fault_after_barrier")
        d = r.describe()
        self.assertEqual(crash.get("address"), "0x0", d)
        self.assertEqual(crash.get("interpreter_index"), -1, d)
        self.assertIn("which runs no Python", r.stderr, d)
        # Exactly one thread dumped; the other waited for it.
        self.assertEqual(r.stderr.count("==interpsan== FATAL:"), 1, d)
        # The dumping thread re-raised at once: the second fault did not
        # hold the process for its 10 s grace period.
        self.assertLess(r.elapsed, 9, d)
        # Every Python thread of every interpreter is in the dump; the
        # interpreter that started the pair waits in crash_two_threads().
        self.assertThreadWaitingIn(r, crash, 1, "crash_two_threads")
        for index in range(fh_lib.N):
            self.assertThreadWaitingIn(r, crash, index, "helper_of_interpreter_%d" % index)
            if index != 1:
                self.assertThreadWaitingIn(r, crash, index, "waiting_in_interpreter_%d" % index)
        self.assertFalse(any(t.get("current") for t in crash["threads"]), d)
        # No interpreter finished its program.
        for interp in r.report["interpreters"]:
            self.assertEqual(interp["status"], "crashed", d)


class FaultInHandlerTest(FaulthandlerTestCase):
    def test_fault_inside_the_crash_handler(self):
        # The program faults with SIGFPE; the handler then faults (SIGSEGV)
        # right after writing the dump's header.
        r = run_program(
            "fatal_signal.py",
            "fpe",
            scratch_dir("markers-"),
            "3",
            env={"INTERPSAN_TEST_FAULT_IN_HANDLER": "1"},
        )
        d = r.describe()
        self.assertStatus(r, EXIT_CRASH)
        crash = r.report.get("crash")
        self.assertIsInstance(crash, dict, d)
        # The report keeps what the header said: the original signal and
        # the faulting interpreter.
        self.assertEqual(crash.get("signal"), "SIGFPE", d)
        self.assertEqual(crash.get("signal_number"), 8, d)
        self.assertEqual(crash.get("interpreter_index"), 3, d)
        self.assertEqual(crash.get("interpreter"), self.interpreter(r, 3)["id"], d)
        self.assertIs(crash.get("complete"), False, d)
        self.assertIn("==interpsan== FATAL: SIGFPE", r.stderr, d)
        self.assertIn("fault inside the crash handler", r.stderr, d)
        # Nothing after the header was written.
        self.assertEqual(crash.get("threads"), [], d)


class HangInHandlerTest(FaulthandlerTestCase):
    def test_hanging_crash_dump_is_ended_by_its_time_limit(self):
        # The program faults with SIGFPE; the handler then sleeps forever
        # right after writing the dump's header. Without the alarm the run
        # would hang until the test's own timeout.
        r = run_program(
            "fatal_signal.py",
            "fpe",
            scratch_dir("markers-"),
            "3",
            env={"INTERPSAN_TEST_HANG_IN_HANDLER": "1"},
        )
        d = r.describe()
        self.assertStatus(r, EXIT_CRASH)
        crash = r.report.get("crash")
        self.assertIsInstance(crash, dict, d)
        # Ended by the original signal, re-raised from the SIGALRM handler.
        self.assertEqual(crash.get("signal"), "SIGFPE", d)
        self.assertEqual(crash.get("interpreter_index"), 3, d)
        self.assertIs(crash.get("complete"), False, d)
        self.assertEqual(crash.get("threads"), [], d)
        self.assertIn("the dump did not finish within its time limit", r.stderr, d)
        # 1 s of limit; the run itself takes a few seconds at most.
        self.assertLess(r.elapsed, 20, d)

    def test_a_dump_that_finishes_is_not_cut_short(self):
        # The same crash without the hook: the alarm armed for the dump
        # never fires, the dump is complete.
        r = run_program("fatal_signal.py", "fpe", scratch_dir("markers-"), "3")
        d = r.describe()
        self.assertStatus(r, EXIT_CRASH)
        crash = r.report.get("crash")
        self.assertIsInstance(crash, dict, d)
        self.assertEqual(crash.get("signal"), "SIGFPE", d)
        self.assertIs(crash.get("complete"), True, d)
        self.assertNotIn("time limit", r.stderr, d)


class TeardownCrashTest(FaulthandlerTestCase):
    def test_crash_in_atexit_during_py_end_interpreter(self):
        r = run_program("teardown.py", scratch_dir("markers-"), "3")
        crash = self.assertCrash(r, "SIGSEGV", 3, "segv")
        d = r.describe()
        # The program itself had finished with 0 before teardown began.
        self.assertEqual(self.interpreter(r, 3)["exit_code"], 0, d)
        current = [t for t in crash["threads"] if t.get("current")]
        self.assertEqual(len(current), 1, d)
        self.assertEqual(current[0]["interpreter_index"], 3, d)
        self.assertEqual(names(current[0]), ["crash_at_exit"], d)
        # Native stack: segv <- ... <- Py_EndInterpreter <- the runner.
        self.assertNativeStackHas(r, crash["native_stack"], "Py_EndInterpreter")
        for index in range(3):
            self.assertThreadWaitingIn(r, crash, index, "waiting_in_interpreter_%d" % index)
            self.assertThreadWaitingIn(r, crash, index, "helper_of_interpreter_%d" % index)


class AllocatorSwapRaceTest(FaulthandlerTestCase):
    """A run that must NOT crash. CPython 3.12 briefly installs its default
    RAW allocator, process-wide, while it creates each subinterpreter
    (_Py_ClearStandardStreamEncoding: _PyMem_SetDefaultAllocator ...
    PyMem_SetAllocator(old)); a RAW block that another interpreter's thread
    allocates or frees inside that window crossed allocators, and since
    interpsan's RAW blocks carry a header, about one run in 10-30 of any
    program with -n 4 died at start-up (glibc "free(): invalid pointer",
    SIGSEGV in _int_free, or an invalid-free violation in
    unicode_decode_locale). runtime/allocator_swap_guard.cc now interposes
    _PyMem_SetDefaultAllocator so the window never opens.

    alloc_swap_widener.so (LD_PRELOAD) also defines
    _PyMem_SetDefaultAllocator and sleeps 20 ms inside the window: while the
    runner's own definition exists it shadows the preload's (the executable
    comes first in symbol lookup) and nothing changes; without the guard the
    widener's runs, and this test crashed 10 times out of 10 on 3.12 (a stock
    python3.12 creating subinterpreters on 4 threads under the same preload
    did not crash). 3.13 opens no such window."""

    def test_no_crash_when_cpython_swaps_the_raw_allocator(self):
        widener = os.path.join(fh_lib.EXTENSIONS, "alloc_swap_widener.so")
        for attempt in range(2):
            r = run_program(
                None,
                n=4,
                env={"LD_PRELOAD": widener},
                python_args=["-c", "import os\nfor _ in range(50): os.listdir('/')"],
            )
            d = r.describe()
            self.assertNotIn("crash", r.report or {}, d)
            self.assertStatus(r, EXIT_OK)
            self.assertEqual(r.report["violations"], [], d)


class DegradedModeTest(FaulthandlerTestCase):
    PROGRAM = [
        "-c",
        "import json\nd = {i: str(i) * 5 for i in range(20000)}\nassert len(json.dumps(d)) > 0",
    ]
    WARNING = "the arena ownership table could not be mapped"

    def test_missing_arena_map_is_in_coverage_and_raises_no_false_alarm(self):
        # Before the hooks were kept out, every pymalloc free in this mode
        # was reported as invalid-free (from Py_Initialize on).
        r = run_program(
            None, n=4, env={"INTERPSAN_TEST_NO_ARENA_MAP": "1"}, python_args=self.PROGRAM
        )
        d = r.describe()
        self.assertStatus(r, EXIT_OK)
        self.assertEqual(r.report["violations"], [], d)
        coverage = r.report["coverage"]
        self.assertIs(coverage["arena_map"], False, d)
        self.assertIs(coverage["interpreter_lifecycle_interposed"], True, d)
        self.assertEqual(r.stderr.count(self.WARNING), 1, d)

    def test_full_coverage_is_reported_as_such(self):
        r = run_program(None, n=4, python_args=self.PROGRAM)
        d = r.describe()
        self.assertStatus(r, EXIT_OK)
        coverage = r.report["coverage"]
        for fact in (
            "arena_map",
            "interpreter_lifecycle_interposed",
            "dealloc_interposed",
            "new_reference_interposed",
        ):
            self.assertIs(coverage[fact], True, fact + d)
        self.assertNotIn(self.WARNING, r.stderr, d)


if __name__ == "__main__":
    fh_lib.main()
