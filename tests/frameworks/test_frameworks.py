"""End-to-end tests of interpsan on modules written with the frameworks
extensions are written in: Cython (>= 3.1, `subinterpreters_compatible=
own_gil`) and pybind11 (>= 3.0, `py::multiple_interpreters::
per_interpreter_gil()`), each pinned in requirements.txt and installed from
PyPI into a venv per CPython version by setup_venvs.sh, with pytest from
PyPI running the tests in suite/ in 4 own-GIL interpreters through the
command line, as a user would:

    tools/interpsan --python VENV/bin/python run -n 4 -- -m pytest suite/test_X.py

For each version:
- the broken variants (cy_shared_cache: a `cdef object` global;
  pb_static_cache: a `static py::object` cache) are caught, attributed to
  the module and to the .pyx/.cpp line marked `# BUG` / `// BUG`, and
  their tests still pass in every interpreter;
- the isolated variants (cy_isolated_heaptypes, pb_isolated) get no
  finding of their own, and whatever else is reported is CPython's
  (a stdlib extension or libpython), not theirs;
- cy_isolated, the same Cython code built only as Cython documents
  (directive + CYTHON_USE_MODULE_STATE=1), gets exactly the findings that
  Cython 3.3.1 causes in that mode (README.md: its cdef classes are static
  types shared by all interpreters, its cached builtins are C statics),
  and nothing else.

Run by run_tests.sh (which tests/run_all.sh calls); INTERPSAN_TEST_VERSIONS
("3.12 3.13" by default) picks the versions, INTERPSAN_TEST_LAUNCHER the
launcher.
"""

import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # tests/, for cli_testing

import cli_testing  # noqa: E402

SUITE = os.path.join(HERE, "suite")
SRC = os.path.join(HERE, "src")
VERSIONS = os.environ.get("INTERPSAN_TEST_VERSIONS", "3.12 3.13").split()
TIMEOUT = 600


def bug_line(path, marker):
    """The 1-based line of `path` carrying the comment MARKER ("# BUG")."""
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if marker + ":" in line:
                return lineno
    raise AssertionError("no %r line in %s" % (marker, path))


def setup_venv(version):
    out = subprocess.run(
        [os.path.join(HERE, "setup_venvs.sh"), version],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    return out.strip().splitlines()[-1]


class FrameworkRun:
    """Runs tools/interpsan on one test file of suite/ in one version's
    venv and keeps the Result."""

    def __init__(self, version):
        self.version = version
        self.venv_python = setup_venv(version)
        self.base_prefix = subprocess.run(
            [self.venv_python, "-c", "import sys; print(sys.base_prefix)"],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout.strip()

    def run(self, test_file, keep_going=True):
        report_dir = cli_testing.scratch_dir("frameworks-")
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        # Bytecode is written (into the venv at set-up, suite/__pycache__
        # here), as a user's runs do: 4 interpreters each compiling all of
        # pytest afresh is not what is tested here.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        python_args = ["--python", self.venv_python]
        args = (
            [cli_testing.LAUNCHER]
            + python_args
            + ["run", "-n", "4"]
            + (["--keep-going"] if keep_going else [])
            + [
                "--report",
                report_dir,
                "--timeout",
                "180",
                "--",
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                os.path.join(SUITE, test_file),
            ]
        )
        return cli_testing.run(args, env, TIMEOUT, report_dir=report_dir, cwd=SUITE)

    def is_cpythons(self, violation):
        """A finding in CPython itself: attributed to a stdlib extension of
        the base installation, or to no extension with only libpython and
        the runner on the native stack."""
        path = violation.get("extension_path") or violation.get("static_module") or ""
        if violation.get("extension"):
            return path.startswith(self.base_prefix + os.sep)
        modules = {
            os.path.basename(f.get("module") or "") for f in violation.get("native_frames", [])
        }
        return all(
            m.startswith(("libpython", "interpsan_runner", "runner", "libc.", "libstdc++"))
            for m in modules
            if m
        )


class FrameworkTests(unittest.TestCase):
    runs = {}

    @classmethod
    def setUpClass(cls):
        for version in VERSIONS:
            cls.runs[version] = FrameworkRun(version)

    def assert_tests_passed(self, result, count):
        self.assertIsNotNone(result.report, result.describe())
        interpreters = result.report["interpreters"]
        self.assertEqual(len(interpreters), 4, result.describe())
        for interp in interpreters:
            self.assertEqual(
                interp["tests"],
                {"run": count, "failed": 0, "errors": 0, "skipped": 0},
                result.describe(),
            )

    def own(self, result, module):
        return [v for v in result.report["violations"] if v.get("extension") == module]

    def others(self, result, module):
        return [v for v in result.report["violations"] if v.get("extension") != module]

    def assert_only_cpython_besides(self, fw, result, module):
        foreign = [v for v in self.others(result, module) if not fw.is_cpythons(v)]
        self.assertEqual(foreign, [], result.describe())
        want = cli_testing.EXIT_VIOLATION if result.report["violations"] else cli_testing.EXIT_OK
        self.assertEqual(result.status, want, result.describe())

    def check_broken(self, version, module, test_file, source, marker):
        # Without --keep-going: the first violation stops the run, as it
        # would for a user. (Carrying on lets four GILs mutate one dict at
        # once, which can crash it: that race is the bug itself.)
        fw = self.runs[version]
        result = fw.run(test_file, keep_going=False)
        self.assertEqual(result.status, cli_testing.EXIT_VIOLATION, result.describe())
        where = "%s:%d" % (os.path.join(SRC, source), bug_line(os.path.join(SRC, source), marker))
        caught = [
            v
            for v in self.own(result, module)
            if v["kind"] == "cross-interpreter-argument"
            and v["object_type"] == "dict"
            and any(f.get("location", "").startswith(where) for f in v.get("native_frames", []))
        ]
        self.assertTrue(
            caught, "no cross-interpreter-argument at %s\n%s" % (where, result.describe())
        )
        # The summary line names the extension; for Cython, whose code is
        # the innermost frame, the .pyx line too (shown relative to the
        # workspace when under it). pybind11's innermost frame is its own
        # header template (pytypes.h), the .cpp line two frames further out.
        summary = [
            l
            for l in result.stderr.splitlines()
            if l.startswith("interpsan:   cross-interpreter-argument in %s:" % module)
        ]
        self.assertTrue(summary, result.describe())
        if source.endswith(".pyx"):
            self.assertIn(
                "frameworks/src/%s:%d" % (source, int(where.rsplit(":", 1)[1])),
                summary[0],
                result.describe(),
            )
        self.assertEqual(
            [v for v in self.others(result, module) if not fw.is_cpythons(v)], [], result.describe()
        )
        return result

    def check_isolated(self, version, module, test_file, count):
        fw = self.runs[version]
        result = fw.run(test_file)
        self.assert_tests_passed(result, count)
        self.assertEqual(self.own(result, module), [], result.describe())
        self.assert_only_cpython_besides(fw, result, module)


def add_tests():
    for version in VERSIONS:
        tag = version.replace(".", "")

        def broken_cython(self, version=version):
            self.check_broken(
                version,
                "cy_shared_cache",
                "test_cy_shared_cache.py",
                "cy_shared_cache.pyx",
                "# BUG",
            )

        def broken_pybind11(self, version=version):
            self.check_broken(
                version,
                "pb_static_cache",
                "test_pb_static_cache.py",
                "pb_static_cache.cpp",
                "// BUG",
            )

        def isolated_cython(self, version=version):
            self.check_isolated(
                version, "cy_isolated_heaptypes", "test_cy_isolated_heaptypes.py", 3
            )

        def isolated_pybind11(self, version=version):
            self.check_isolated(version, "pb_isolated", "test_pb_isolated.py", 2)

        def cython_documented_mode(self, version=version):
            fw = self.runs[version]
            result = fw.run("test_cy_isolated.py")
            self.assertEqual(result.status, cli_testing.EXIT_VIOLATION, result.describe())
            # The interpreter whose module exec ran first owns the static
            # types' dicts and passes. With --keep-going, interpsan refuses
            # the others' writes into that dict (interpsan.CrossInterpreterError
            # raised from their module exec), so their import fails: no
            # interpreter may fail a test it collected, though.
            counts = [i["tests"] for i in result.report["interpreters"]]
            self.assertIn(
                {"run": 3, "failed": 0, "errors": 0, "skipped": 0}, counts, result.describe()
            )
            for c in counts:
                self.assertEqual(c["failed"], 0, result.describe())
            static_types = {
                "__pyx_type_11cy_isolated_Accumulator",
                "__pyx_type_11cy_isolated___pyx_scope_struct__make_scaler",
            }
            builtins = {"__pyx_builtin_sum", "__pyx_builtin_max"}
            seen = set()
            for v in self.own(result, "cy_isolated"):
                functions = [f.get("function") for f in v.get("native_frames", [])]
                if v["kind"] == "static-object-reference":
                    # The static types' tp_dict/tp_mro/tp_bases/subclass
                    # weakrefs, or a cached builtin of another interpreter.
                    self.assertIn(v.get("variable"), static_types | builtins, v)
                    seen.add(v["variable"])
                elif v["kind"] == "foreign-reference":
                    # Reached through a static type's __dict__.
                    self.assertIn("static type's __dict__", v["message"], v)
                    seen.add("foreign-reference")
                else:
                    # Module exec in a 2nd interpreter storing its methods
                    # into the static type's dict (replacing the first
                    # interpreter's, so deallocating them there).
                    self.assertIn(
                        v["kind"], ("cross-interpreter-argument", "cross-interpreter-dealloc"), v
                    )
                    self.assertTrue(
                        {"__Pyx__SetItemOnTypeDict", "__Pyx_setup_reduce"} & set(functions), v
                    )
                    seen.add("type-dict-write")
            # Deterministic: every interpreter after the first writes into
            # the first one's type dict. The cached builtins are seen only
            # if an audit runs after another interpreter's module exec
            # overwrote them (timing), so they are allowed, not required.
            self.assertIn("type-dict-write", seen, result.describe())
            self.assert_only_cpython_besides(fw, result, "cy_isolated")

        for name, fn in [
            ("broken_cython", broken_cython),
            ("broken_pybind11", broken_pybind11),
            ("isolated_cython", isolated_cython),
            ("isolated_pybind11", isolated_pybind11),
            ("cython_documented_mode", cython_documented_mode),
        ]:
            setattr(FrameworkTests, "test_%s_py%s" % (name, tag), fn)


add_tests()

if __name__ == "__main__":
    unittest.main()
