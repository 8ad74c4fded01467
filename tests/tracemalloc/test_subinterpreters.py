"""Acceptance (issue 5): no hang and no crash where stock tracemalloc hangs:
inside an interpsan run, tracemalloc.start(), then own-GIL subinterpreters
created, run and destroyed from Python in a loop, then stop(); on 3.12
(_xxsubinterpreters) and 3.13 (_interpreters). Every run is under the
watchdog (--timeout), so a hang ends as exit status 5, not as a stuck test."""

import time

import tm_lib

PROGRAM = "subinterpreters_while_tracing.py"
WATCHDOG = 60


class SubinterpretersWhileTracing(tm_lib.TracemallocTestCase):
    def check(self, n, trace_malloc, rounds):
        start = time.monotonic()
        result = tm_lib.run_program(
            PROGRAM,
            str(rounds),
            n=n,
            trace_malloc=trace_malloc,
            options=["--timeout", str(WATCHDOG)],
        )
        elapsed = time.monotonic() - start
        self.assertNotEqual(
            result.status, tm_lib.EXIT_TIMEOUT, "hung (watchdog fired)" + result.describe()
        )
        self.assertClean(result, n)
        self.assertEqual(result.stdout.count("%d rounds ok" % rounds), n, result.describe())
        self.assertLess(elapsed, WATCHDOG, result.describe())
        return result

    def test_one_interpreter(self):
        self.check(1, 0, 20)

    def test_four_interpreters(self):
        self.check(4, 0, 10)

    def test_four_interpreters_traced_from_the_start(self):
        # --trace-malloc on as well: the subinterpreters the program creates
        # are traced by default too.
        result = self.check(4, 5, 10)
        self.assertIn("tracemalloc", result.report, result.describe())


if __name__ == "__main__":
    tm_lib.main()
