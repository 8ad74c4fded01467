"""Four real extensions from PyPI that declare
Py_MOD_PER_INTERPRETER_GIL_SUPPORTED (markupsafe, multidict, crc32c,
xxhash; pinned in requirements.txt, built from their sdists by
setup_venvs.sh), each running its own test suite (suites.py) in 4 own-GIL
interpreters through the command line:

    tools/interpsan --python VENV/bin/python run -n 4 --keep-going --report DIR -- -m pytest ...

For each project and CPython version: the suite passes under plain python;
every test that passes there passes in every interpreter (same count, no
failure, no error); and every finding interpsan reports is one triaged in
TRIAGE below (and FINDINGS.md) with its evidence. Anything else fails the
test: a new finding is either a real bug to write up or a false alarm to
fix in interpsan.

Run by run_tests.sh (which tests/run_all.sh calls). INTERPSAN_TEST_VERSIONS
picks the versions ("3.12 3.13"), INTERPSAN_TEST_PROJECTS the projects.
"""

import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))  # tests/, for cli_testing

import cli_testing  # noqa: E402
import run_suites  # noqa: E402
from suites import SUITES  # noqa: E402

VERSIONS = os.environ.get("INTERPSAN_TEST_VERSIONS", "3.12 3.13").split()
PROJECTS = os.environ.get("INTERPSAN_TEST_PROJECTS", " ".join(SUITES)).split()


# version -> [(name, predicate(violation, base_prefix))]: every finding
# must satisfy one. Empty: with interpsan's default suppressions (CPython's
# own known findings, scoped to libpython and the stdlib) these four suites
# report nothing at all (FINDINGS.md).
TRIAGE = {
    "3.12": [],
    "3.13": [],
}


class RealWorldTests(unittest.TestCase):
    out = None

    @classmethod
    def setUpClass(cls):
        cls.out = tempfile.mkdtemp(prefix="realworld-", dir=os.environ.get("TEST_TMPDIR"))
        cls.venvs = {v: run_suites.setup_venv(v) for v in VERSIONS}
        cls.base_prefix = {
            v: subprocess.run(
                [p, "-c", "import sys; print(sys.base_prefix)"],
                check=True,
                stdout=subprocess.PIPE,
                text=True,
            ).stdout.strip()
            for v, p in cls.venvs.items()
        }

    def check(self, version, name):
        record = run_suites.run_project(
            version, self.venvs[version], name, os.path.join(self.out, version)
        )
        describe = "%s %s: %s\n%s" % (
            name,
            version,
            " ".join(record["command"]),
            record["stderr_tail"][-4000:],
        )
        base = record["baseline"]
        self.assertEqual(base["status"], 0, "plain python fails:\n" + base["tail"])
        passed = base["counts"].get("passed", 0)
        self.assertGreater(passed, 0, base["tail"])
        self.assertIn(record["status"], (cli_testing.EXIT_OK, cli_testing.EXIT_VIOLATION), describe)
        interps = record["interpreters"] or []
        self.assertEqual(len(interps), 4, describe)
        for interp in interps:
            t = interp["tests"]
            self.assertEqual((t["failed"], t["errors"]), (0, 0), describe)
            self.assertEqual(
                t["run"] - t["skipped"],
                passed,
                "interpreter %s: %s vs plain python's %d passed\n%s"
                % (interp.get("index"), t, passed, describe),
            )
        unexplained = [
            v
            for v in record["violations"] or []
            if not any(pred(v, self.base_prefix[version]) for _, pred in TRIAGE[version])
        ]
        self.assertEqual(unexplained, [], describe)
        want = cli_testing.EXIT_VIOLATION if record["violations"] else cli_testing.EXIT_OK
        self.assertEqual(record["status"], want, describe)


def add_tests():
    for version in VERSIONS:
        for name in PROJECTS:

            def test(self, version=version, name=name):
                self.check(version, name)

            setattr(RealWorldTests, "test_%s_py%s" % (name, version.replace(".", "")), test)


add_tests()

if __name__ == "__main__":
    unittest.main()
