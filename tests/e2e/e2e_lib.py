"""Shared helpers of the end-to-end tests: run `tools/interpsan` as a user
would (through the command line, as a subprocess) and read report.json.

Under Bazel, tests/run_cli_test.sh sets (from runfiles):
  INTERPSAN_TEST_LAUNCHER        tools/interpsan
  INTERPSAN_RUNNER              the built runner (so the launcher does not
                                call Bazel)
  INTERPSAN_PYTHON312 / 313     the prefix of the selected CPython
  INTERPSAN_TEST_PYTHON_VERSION  "3.12" or "3.13" (passed as --python)
  INTERPSAN_TEST_EXTENSIONS      the folder of the built test extensions
  INTERPSAN_TEST_PROGRAMS        tests/e2e/programs
Outside Bazel the defaults point into the source tree and bazel-bin, and the
launcher builds the runner itself, e.g.
  python3.12 tests/e2e/test_cli.py -v
"""

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import unittest

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(os.path.dirname(_HERE))

VERSION = os.environ.get("INTERPSAN_TEST_PYTHON_VERSION") or "%d.%d" % sys.version_info[:2]
LAUNCHER = os.environ.get("INTERPSAN_TEST_LAUNCHER") or os.path.join(_ROOT, "tools", "interpsan")
PROGRAMS = os.environ.get("INTERPSAN_TEST_PROGRAMS") or os.path.join(_HERE, "programs")
EXTENSIONS = os.environ.get("INTERPSAN_TEST_EXTENSIONS") or os.path.join(
    _ROOT, "bazel-out", "k8-optpy" + VERSION.replace(".", ""), "bin", "tests", "extensions"
)

# Exit statuses (PRODUCT.md).
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_VIOLATION = 3
EXIT_CRASH = 4
EXIT_TIMEOUT = 5

# One interpsan run takes about a second; this only catches hangs.
RUN_TIMEOUT = 60


def program(name):
    return os.path.join(PROGRAMS, name)


def marker_line(name, marker):
    """The 1-based line of `name` (a program) carrying the comment `# MARKER`."""
    with open(program(name), encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if line.rstrip().endswith("# " + marker):
                return lineno
    raise AssertionError("no '# %s' line in %s" % (marker, name))


def scratch_dir(prefix):
    base = os.environ.get("TEST_TMPDIR") or None
    return tempfile.mkdtemp(prefix=prefix, dir=base)


def _no_core_dumps():
    # The crash tests kill the checked process with SIGSEGV on purpose.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class Result:
    def __init__(self, args, status, stdout, stderr, report_dir):
        self.args = args
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.report_dir = report_dir
        self.report_path = os.path.join(report_dir, "report.json") if report_dir else None
        self.report = None
        if self.report_path and os.path.exists(self.report_path):
            with open(self.report_path, encoding="utf-8") as f:
                self.report = json.load(f)

    def describe(self):
        """Everything needed to understand a failure, for assertion messages."""
        report = json.dumps(self.report, indent=1)[:6000] if self.report else "(no report.json)"
        return "\n$ %s\nexit status: %s\n--- stderr (tail) ---\n%s\n--- stdout (tail) ---\n%s\n--- report.json ---\n%s" % (
            " ".join(self.args),
            self.status,
            self.stderr[-4000:],
            self.stdout[-2000:],
            report,
        )


def interpsan(*cli_args, python=None, report_dir=None):
    """Runs `tools/interpsan --python X.Y CLI_ARGS...` and returns a Result."""
    args = [LAUNCHER, "--python", python or VERSION] + list(cli_args)
    env = dict(os.environ)
    paths = [EXTENSIONS] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # programs/ is the source tree
    # A session of its own, so that a hung run can be stopped with everything
    # it started (the supervisor and the checked process).
    proc = subprocess.Popen(
        args,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        preexec_fn=_no_core_dumps,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        stdout, stderr = proc.communicate()
        stderr += "\n[e2e: killed after %ss without exiting]\n" % RUN_TIMEOUT
        return Result(args, "hung", stdout, stderr, report_dir)
    return Result(args, proc.returncode, stdout, stderr, report_dir)


def run_program(name, *program_args, n=4, keep_going=False, checks=None, options=()):
    """`interpsan run -n N [--keep-going] [--checks C] --report DIR -- programs/NAME ARGS`."""
    report_dir = scratch_dir("report-%s-" % os.path.splitext(name)[0])
    cli = ["run", "-n", str(n)]
    if keep_going:
        cli.append("--keep-going")
    if checks is not None:
        cli += ["--checks", checks]
    cli += list(options)
    cli += ["--report", report_dir, "--", program(name)] + list(program_args)
    return interpsan(*cli, report_dir=report_dir)


class E2ETestCase(unittest.TestCase):
    maxDiff = None

    # ---- assertions on a whole run ---------------------------------------

    def assertStatus(self, result, status):
        self.assertEqual(result.status, status, "unexpected exit status" + result.describe())
        if result.report_dir:
            self.assertIsNotNone(result.report, "report.json missing" + result.describe())
            if "exit_status" in result.report:  # an extra key; must agree if present
                self.assertEqual(result.report["exit_status"], status, result.describe())

    def assertInterpreters(self, result, n=4):
        """Well-formed interpreters list: indices 0..n-1, distinct ids, own GIL.
        An interpreter the run stopped (fatal violation, crash) before it was
        created has no id yet; every other one has an id."""
        interps = result.report["interpreters"]
        self.assertEqual([i["index"] for i in interps], list(range(n)), result.describe())
        ids = []
        for interp in interps:
            if interp["id"] is None and interp["status"] in ("stopped", "crashed"):
                continue
            self.assertIsInstance(interp["id"], int, result.describe())
            ids.append(interp["id"])
        self.assertEqual(len(set(ids)), len(ids), "interpreter ids not distinct" + result.describe())
        for interp in interps:
            self.assertIs(interp["own_gil"], True, result.describe())
            for key in ("run", "failed", "errors", "skipped"):
                self.assertIn(key, interp["tests"], result.describe())
        return interps

    def interpreter_by_id(self, result, interp_id):
        for interp in result.report["interpreters"]:
            if interp["id"] == interp_id:
                return interp
        self.fail("no interpreter with id %r in report" % interp_id + result.describe())

    def assertClean(self, result, n=4):
        """Status 0, no violations, every interpreter ran to the end with 0."""
        self.assertStatus(result, EXIT_OK)
        self.assertEqual(result.report["violations"], [], result.describe())
        self.assertNotIn("crash", result.report, result.describe())
        for interp in self.assertInterpreters(result, n):
            self.assertEqual(interp["status"], "ok", result.describe())
            self.assertEqual(interp["exit_code"], 0, result.describe())
        self.assertNotIn("==interpsan== ERROR", result.stderr, result.describe())

    # ---- assertions on one violation ---------------------------------------

    def assertViolation(self, result, violation, kind, object_type, extension,
                        program_name, marker="VIOLATION", same_interpreter=False):
        """`violation` is a report.json violation with the given kind, object
        type (exact, or a prefix when it ends with "*"), extension, both
        interpreter ids (different unless same_interpreter), and a Python
        traceback whose innermost frame is `program_name`'s line marked
        `# MARKER`."""
        d = result.describe()
        self.assertEqual(violation["kind"], kind, d)
        if object_type.endswith("*"):
            self.assertTrue(violation["object_type"].startswith(object_type[:-1]),
                            "object_type %r" % violation["object_type"] + d)
        else:
            self.assertEqual(violation["object_type"], object_type, d)
        self.assertEqual(violation["extension"], extension, d)

        acting = violation["interpreter"]
        owner = violation["owner_interpreter"]
        self.assertIsInstance(acting, int, d)
        self.assertIsInstance(owner, int, d)
        if same_interpreter:
            self.assertEqual(acting, owner, d)
        else:
            self.assertNotEqual(acting, owner, "acting and owning interpreter are the same" + d)
        # The ids name interpreters of this run (at the indices reported).
        acting_entry = self.interpreter_by_id(result, acting)
        owner_entry = self.interpreter_by_id(result, owner)
        if "interpreter_index" in violation:
            self.assertEqual(acting_entry["index"], violation["interpreter_index"], d)
        if "owner_index" in violation:
            self.assertEqual(owner_entry["index"], violation["owner_index"], d)
        self.assertEqual(acting_entry["status"], "violation", d)

        self.assertTrue(violation.get("object_address"), d)
        self.assertIsInstance(violation.get("native_stack"), list, d)
        self.assertTrue(violation.get("message"), d)

        tb = violation["python_traceback"]
        self.assertTrue(tb, "empty python_traceback" + d)
        innermost = tb[-1]
        self.assertEqual(os.path.basename(innermost["filename"]), program_name, d)
        self.assertEqual(innermost["lineno"], marker_line(program_name, marker), d)
        self.assertEqual(innermost["name"], "<module>", d)
        for frame in tb:
            self.assertEqual(set(frame) >= {"filename", "lineno", "name"}, True, d)

    def assertFatalViolation(self, result, kind, object_type, extension, program_name,
                             marker="VIOLATION", same_interpreter=False):
        """Default mode: the first violation ends the run with status 3 and a
        report naming exactly that violation."""
        self.assertStatus(result, EXIT_VIOLATION)
        self.assertInterpreters(result)
        violations = result.report["violations"]
        self.assertEqual(len(violations), 1, "expected exactly one violation" + result.describe())
        self.assertViolation(result, violations[0], kind, object_type, extension,
                             program_name, marker, same_interpreter)
        self.assertEqual(violations[0].get("count", 1), 1, result.describe())
        self.assertNotIn("crash", result.report, result.describe())
        self.assertIn("==interpsan== ERROR: " + kind, result.stderr, result.describe())
        return violations[0]


def tool_bug(reason, versions=None):
    """Marks a test that fails because interpsan itself is wrong (`reason`
    says how), as unittest.expectedFailure, on `versions` (all if None).
    When the tool is fixed the test shows up as an unexpected success, which
    fails the run: then remove the mark. INTERPSAN_E2E_IGNORE_TOOL_BUGS=1
    runs such tests normally, to see how they fail."""

    def decorate(test):
        if versions is not None and VERSION not in versions:
            return test
        if os.environ.get("INTERPSAN_E2E_IGNORE_TOOL_BUGS"):
            return test  # to see the actual failure
        test.tool_bug = reason
        return unittest.expectedFailure(test)

    return decorate


def main():
    unittest.main(verbosity=2)
