"""The audit through the command line: what the audit after each test
finds, it finds once (not once per test), and nothing it finds is lost when
the bug is gone again before the program ends.

programs/transient_static.py keeps interpreter 0's list in broken_queue's C
static array for 101 tests of every other interpreter, then removes it.
"""

import json
import os
import sys
import unittest

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(_HERE))  # tests/: cli_testing
import cli_testing  # noqa: E402
from cli_testing import EXIT_OK, EXIT_USAGE, EXIT_VIOLATION, LAUNCHER, VERSION  # noqa: E402

PROGRAMS = os.environ.get("INTERPSAN_TEST_PROGRAMS") or os.path.join(_HERE, "programs")
EXTENSIONS = os.environ.get("INTERPSAN_TEST_EXTENSIONS") or cli_testing.default_extensions(
    "extensions"
)
RUN_TIMEOUT = 120


def run(audit, n=4, own=False):
    """`interpsan run -n N --keep-going --checks audit [--audit A] -- transient_static.py`."""
    report_dir = cli_testing.scratch_dir("report-audit-")
    markers = cli_testing.scratch_dir("markers-")
    args = [LAUNCHER, "--python", VERSION, "run", "-n", str(n), "--keep-going", "--checks", "audit"]
    if audit is not None:
        args += ["--audit", audit]
    args += [
        "--report",
        report_dir,
        "--",
        os.path.join(PROGRAMS, "transient_static.py"),
        markers,
    ] + (["own"] if own else [])
    env = cli_testing.environment(EXTENSIONS, {"TRANSIENT_OTHERS": str(n - 1)})
    return cli_testing.run(args, env, RUN_TIMEOUT, report_dir)


class TransientStaticTest(unittest.TestCase):
    maxDiff = None

    def assertFoundOnce(self, r):
        self.assertEqual(r.status, EXIT_VIOLATION, r.describe())
        statics = [v for v in r.report["violations"] if v["kind"] == "static-object-reference"]
        # One finding: the same static, the same object.
        self.assertEqual(len(statics), 1, r.describe())
        v = statics[0]
        self.assertEqual(v["extension"], "broken_queue", r.describe())
        self.assertEqual(v.get("variable"), "queue", r.describe())
        self.assertEqual(v["object_type"], "list", r.describe())
        self.assertEqual(v["owner_index"], 0, r.describe())
        # Counted once per interpreter that held it (3), not once per test
        # end that saw it (3 x 101).
        self.assertEqual(v.get("count", 1), 3, r.describe())
        self.assertEqual(sorted(v.get("interpreter_indexes", [])), [1, 2, 3], r.describe())
        # The test that was running is named, and the holder (the variable,
        # above); the audit's own stacks (bootstrap, pytest, the eval loop)
        # are not shown as if they were the bug's.
        self.assertTrue(v.get("test", "").endswith("test_000_put_or_wait"), r.describe())
        self.assertEqual(v["python_traceback"], [], r.describe())
        self.assertEqual(v["native_stack"], [], r.describe())
        # Every test passed (the program did its part), nothing else found.
        others = [v for v in r.report["violations"] if v["kind"] != "static-object-reference"]
        self.assertEqual(others, [], r.describe())
        for interp in r.report["interpreters"]:
            self.assertEqual(interp["tests"]["run"], 102, r.describe())
            self.assertEqual(interp["tests"]["failed"] + interp["tests"]["errors"], 0, r.describe())

    def test_default_audit_finds_it_once(self):
        self.assertFoundOnce(run(None))

    def test_changed_finds_it_once(self):
        self.assertFoundOnce(run("changed"))

    def test_each_test_finds_it_once(self):
        self.assertFoundOnce(run("each-test"))

    def test_end_only_misses_it(self):
        # The control that shows the bug is transient: the audit at the end
        # of the program alone cannot see it (the static is empty by then).
        r = run("end")
        self.assertEqual(r.status, EXIT_OK, r.describe())
        self.assertEqual(r.report["violations"], [], r.describe())

    def test_own_object_in_static_is_silent(self):
        # One interpreter keeping its own list in the static across tests.
        r = run(None, n=1, own=True)
        self.assertEqual(r.status, EXIT_OK, r.describe())
        self.assertEqual(r.report["violations"], [], r.describe())

    def test_bad_audit_word_is_a_usage_error(self):
        r = run("sometimes")
        self.assertEqual(r.status, EXIT_USAGE, r.describe())
        self.assertIn("--audit", r.stderr, r.describe())


if __name__ == "__main__":
    unittest.main(verbosity=2)
