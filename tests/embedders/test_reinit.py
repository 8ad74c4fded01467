"""`tools/interpsan exec` on an embedding application that initialises and
finalises CPython more than once (reinit_embedder.c): every round runs,
nothing is reported, and own-GIL subinterpreters created in a later round
are checked as usual (a deliberate cross-interpreter deallocation is
caught; the correct variant is clean)."""

import os
import sys
import unittest

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(_HERE))  # tests/: cli_testing
import cli_testing  # noqa: E402
from cli_testing import (
    EXIT_OK,
    EXIT_VIOLATION,
    LAUNCHER,
    VERSION,  # noqa: E402
    scratch_dir,
)

# run_cli_test.sh passes the embedder as its "extension": its folder.
EMBEDDER = os.path.join(
    os.environ.get("INTERPSAN_TEST_EXTENSIONS") or cli_testing.default_extensions("embedders"),
    "reinit_embedder",
)


def run_embedder(*embedder_args, keep_going=True):
    report_dir = scratch_dir("report-reinit-")
    cli = [LAUNCHER, "--python", VERSION, "exec"] + (["--keep-going"] if keep_going else [])
    cli += ["--report", report_dir, "--", EMBEDDER] + list(embedder_args)
    return cli_testing.run(cli, cli_testing.environment(os.path.dirname(EMBEDDER)), 300, report_dir)


class ReinitTest(unittest.TestCase):
    maxDiff = None

    def assertCleanRounds(self, r, rounds):
        d = r.describe()
        self.assertEqual(r.status, EXIT_OK, d)
        self.assertIsNotNone(r.report, d)
        self.assertEqual(r.report["violations"], [], d)
        self.assertNotIn("crash", r.report, d)
        for k in range(1, rounds + 1):
            self.assertIn("round %d ok" % k, r.stdout, d)
        self.assertIn("embedder done", r.stdout, d)
        self.assertNotIn("==interpsan== ERROR", r.stderr, d)

    def test_two_rounds(self):
        self.assertCleanRounds(run_embedder("rounds", "2"), 2)

    def test_three_rounds_fatal_mode(self):
        # Default (first violation fatal): nothing to stop at.
        self.assertCleanRounds(run_embedder("rounds", "3", keep_going=False), 3)

    def test_custom_config_rounds(self):
        # Py_InitializeFromConfig with an isolated config, own argv and
        # program name, twice.
        self.assertCleanRounds(run_embedder("config", "2"), 2)

    def test_subinterpreters_in_second_round_correct(self):
        r = run_embedder("subinterpreters", "correct")
        self.assertCleanRounds(r, 2)
        # Round 2's main interpreter and its 2 own-GIL subinterpreters were
        # seen (and announced) like any others.
        own_gil = [i for i in r.report["interpreters"] if i.get("own_gil")]
        self.assertEqual(len(own_gil), 2, r.describe())

    def test_subinterpreters_in_every_round(self):
        # Each runtime's subinterpreters end with it; the next runtime's may
        # reuse their addresses and ids.
        r = run_embedder("subinterpreters-each", "3")
        self.assertCleanRounds(r, 3)
        own_gil = [i for i in r.report["interpreters"] if i.get("own_gil")]
        self.assertEqual(len(own_gil), 6, r.describe())

    def test_subinterpreters_in_second_round_broken(self):
        r = run_embedder("subinterpreters", "broken")
        d = r.describe()
        self.assertEqual(r.status, EXIT_VIOLATION, d)
        self.assertIn("embedder done", r.stdout, d)
        deallocs = [
            v
            for v in r.report["violations"]
            if v["kind"] == "cross-interpreter-dealloc" and v["object_type"] == "list"
        ]
        self.assertTrue(deallocs, d)
        for v in deallocs:
            # The second runtime's main interpreter (id 0, not ended) owns
            # the list; a subinterpreter released it.
            self.assertEqual(v["owner_interpreter"], 0, d)
            self.assertFalse(v.get("owner_ended"), d)
            self.assertNotEqual(v["interpreter"], 0, d)
        # Nothing but the deliberate bug.
        self.assertEqual(len(deallocs), len(r.report["violations"]), d)

    def test_broken_is_fatal_without_keep_going(self):
        r = run_embedder("subinterpreters", "broken", keep_going=False)
        d = r.describe()
        self.assertEqual(r.status, EXIT_VIOLATION, d)
        self.assertEqual(
            [v["kind"] for v in r.report["violations"]], ["cross-interpreter-dealloc"], d
        )
        self.assertIn("round 1 ok", r.stdout, d)


if __name__ == "__main__":
    unittest.main(verbosity=2)
