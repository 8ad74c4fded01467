"""The pip-installed interpsan, tested the way a user meets it.

    tests/wheel/wheel_test.sh [--no-build] [3.12] [3.13]

Builds the wheels with the documented command (tools/wheel/build_wheels.sh,
unless --no-build: then dist/ must hold them), and for each version:
creates a fresh venv, installs the wheel (pip --no-index --no-deps) and the
pinned pytest (tests/wheel/requirements.txt, from a wheel cache this test
fills once from PyPI), then, from a directory outside the checkout with a
PATH that has no Bazel and no compiler, runs:
  - the bundled example under `interpsan run -n 4` (exit 3, fastcache named
    in report.json), `interpsan report` and `python -m interpsan`;
  - a small pytest suite (tests/wheel/suite) under `interpsan run -n 4`
    (exit 0, every test passing in every interpreter, nothing reported);
  - `interpsan exec`, `interpsan cflags`, a wrong `--python`;
  - the runner's libpython resolution (ldd, with the entry point's
    environment) against sys.base_prefix/lib.
"""

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(ROOT, "tests", "wheel")
DIST = os.path.join(ROOT, "dist")
CACHE = os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
    "interpsan",
    "wheel-test-pip",
)
# Run-time tools a machine without a compiler still has; the supervisor
# symbolizes with addr2line and nm (binutils).
PATH_TOOLS = ("sh", "bash", "env", "cat", "ls", "grep", "sed", "uname", "addr2line", "nm", "ldd")
COMPILERS = ("bazel", "gcc", "g++", "cc", "c++", "clang", "ld")


def find_base_python(version):
    """The CPython X.Y the launcher would use (pyenv or INTERPSAN_PYTHON3XX)."""
    prefix = os.environ.get("INTERPSAN_PYTHON" + version.replace(".", ""))
    if not prefix:
        root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
        found = sorted(
            glob.glob(os.path.join(root, "versions", version + ".*")),
            key=lambda p: [int(x) for x in os.path.basename(p).split(".") if x.isdigit()],
        )
        found = [p for p in found if os.path.basename(p)[len(version) + 1 :].isdigit()]
        prefix = found[-1] if found else None
    python = prefix and os.path.join(prefix, "bin", "python" + version)
    if not python or not os.access(python, os.X_OK):
        raise RuntimeError("CPython %s not found" % version)
    return python


def run(cmd, **kwargs):
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", 600)
    return subprocess.run(cmd, **kwargs)


class WheelInVenv:
    """Mixed into one TestCase per version (VERSION)."""

    VERSION = None

    @classmethod
    def setUpClass(cls):
        tag = "cp" + cls.VERSION.replace(".", "")
        wheels = glob.glob(os.path.join(DIST, "interpsan-*-%s-%s-*.whl" % (tag, tag)))
        if len(wheels) != 1:
            raise RuntimeError("expected one %s wheel in %s, found %s" % (tag, DIST, wheels))
        cls.wheel = wheels[0]
        cls.work = tempfile.mkdtemp(prefix="interpsan-wheel-test-%s-" % tag)
        cls.venv = os.path.join(cls.work, "venv")
        cls.python = os.path.join(cls.venv, "bin", "python")
        base = find_base_python(cls.VERSION)
        cls.check(run([base, "-m", "venv", cls.venv]), "creating the venv")
        pip = [cls.python, "-m", "pip", "--disable-pip-version-check", "--no-input"]
        requirements = os.path.join(HERE, "requirements.txt")
        # The pinned pytest, into the cache once (from PyPI), then offline.
        cls.check(
            run(
                pip
                + [
                    "download",
                    "--quiet",
                    "--only-binary=:all:",
                    "--require-hashes",
                    "--find-links",
                    CACHE,
                    "-d",
                    CACHE,
                    "-r",
                    requirements,
                ]
            ),
            "filling the wheel cache",
        )
        cls.check(
            run(pip + ["install", "--quiet", "--no-index", "--no-deps", cls.wheel]),
            "pip install of the wheel",
        )
        cls.check(
            run(
                pip
                + [
                    "install",
                    "--quiet",
                    "--no-index",
                    "--find-links",
                    CACHE,
                    "--require-hashes",
                    "-r",
                    requirements,
                ]
            ),
            "pip install of pytest",
        )
        # PATH: the venv's bin and symlinks to a few run-time tools. No
        # Bazel, no compiler; the checkout is not the working directory.
        tools = os.path.join(cls.work, "path")
        os.mkdir(tools)
        for name in PATH_TOOLS:
            where = shutil.which(name)
            if where:
                os.symlink(where, os.path.join(tools, name))
        cls.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("INTERPSAN_")
            and k not in ("VIRTUAL_ENV", "PYTHONPATH", "LD_LIBRARY_PATH")
        }
        cls.env["PATH"] = os.path.join(cls.venv, "bin") + os.pathsep + tools
        cls.env["INTERPSAN_WHEEL_TEST_VENV"] = cls.venv
        cls.cwd = os.path.join(cls.work, "cwd")
        os.mkdir(cls.cwd)
        cls.interpsan = os.path.join(cls.venv, "bin", "interpsan")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    @staticmethod
    def check(result, what):
        if result.returncode != 0:
            raise RuntimeError(
                "%s failed (%d):\n%s%s" % (what, result.returncode, result.stdout, result.stderr)
            )

    def sh(self, cmd, **kwargs):
        return run(cmd, env=self.env, cwd=self.cwd, **kwargs)

    def installed(self, *parts):
        site = run(
            [self.python, "-c", "import interpsan, os; print(interpsan.PACKAGE_DIR)"],
            env=self.env,
            cwd=self.cwd,
        ).stdout.strip()
        return os.path.join(site, *parts)

    def suppressions(self):
        return self.installed("tools", "suppressions", "cpython-%s.supp" % self.VERSION)

    def test_no_bazel_no_compiler_no_checkout(self):
        for name in COMPILERS:
            r = self.sh(["sh", "-c", "command -v %s" % name])
            self.assertNotEqual(r.returncode, 0, "%s is on PATH: %s" % (name, r.stdout))
        package = self.installed()
        self.assertTrue(
            package.startswith(os.path.realpath(self.venv)) or package.startswith(self.venv),
            package,
        )
        self.assertFalse(package.startswith(ROOT + os.sep), package)

    def test_help(self):
        for cmd in ([self.interpsan, "--help"], [self.python, "-m", "interpsan", "--help"]):
            r = self.sh(cmd)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("usage: interpsan", r.stdout)

    def test_bundled_example_is_caught(self):
        demo = self.sh([self.python, "-m", "interpsan.example"]).stdout.strip()
        self.assertTrue(os.path.isfile(demo), demo)
        report_dir = os.path.join(self.work, "example-report")
        r = self.sh([self.interpsan, "run", "-n", "4", "--report", report_dir, "--", demo])
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        with open(os.path.join(report_dir, "report.json")) as f:
            report = json.load(f)
        self.assertEqual(report["exit_status"], 3)
        self.assertTrue(report["violations"])
        first = report["violations"][0]
        self.assertEqual(first.get("extension"), "fastcache", first)
        self.assertEqual(first.get("extension_function"), "cached", first)
        self.assertRegex(first.get("extension_location", ""), r"fastcache\.c:\d+")
        self.assertTrue(report["python"].startswith(self.VERSION), report["python"])
        # The same report again, through `python -m interpsan report`.
        again = self.sh([self.python, "-m", "interpsan", "report", report_dir])
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn("fastcache", again.stdout)
        self.assertTrue(os.path.isfile(os.path.join(report_dir, "report.html")))
        # The page's flame-graph stylesheet and script are the wheel's asset
        # files (tools/report/assets/), not strings in the code.
        with open(os.path.join(report_dir, "report.html"), encoding="utf-8") as f:
            page = f.read()
        for asset in ("flame.css", "flame.js"):
            with open(self.installed("tools", "report", "assets", asset), encoding="utf-8") as f:
                text = f.read()
            self.assertTrue(text.strip(), asset)
            self.assertIn(text, page, asset)

    def test_pytest_suite_is_clean_in_every_interpreter(self):
        suite = os.path.join(self.work, "suite")
        shutil.copytree(os.path.join(HERE, "suite"), suite)
        report_dir = os.path.join(self.work, "pytest-report")
        r = self.sh(
            [
                self.interpsan,
                "run",
                "-n",
                "4",
                "--report",
                report_dir,
                "--suppressions",
                self.suppressions(),
                "--",
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                suite,
            ]
        )
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(os.path.join(report_dir, "report.json")) as f:
            report = json.load(f)
        self.assertEqual(report["violations"], [])
        self.assertEqual(len(report["interpreters"]), 4)
        with open(os.path.join(suite, "test_in_venv.py")) as f:
            count = sum(1 for line in f if line.startswith("def test_"))
        for interp in report["interpreters"]:
            self.assertEqual(interp["status"], "ok", interp)
            self.assertEqual(interp["tests"]["run"], count, interp)
            self.assertEqual(interp["tests"]["failed"] + interp["tests"]["errors"], 0, interp)

    def test_exec_mode(self):
        r = self.sh(
            [
                self.interpsan,
                "exec",
                "--",
                "python",
                "-c",
                "import interpsan, sys; print('index', interpsan.index, sys.prefix)",
            ]
        )
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("index 0 " + self.venv, r.stdout)

    def test_active_venv_is_used(self):
        # interpsan installed in one venv (pipx style), the user's project in
        # another, activated: the program runs on the project's Python.
        project = os.path.join(self.work, "project-venv")
        base = find_base_python(self.VERSION)
        self.check(run([base, "-m", "venv", "--without-pip", project]), "creating a project venv")
        site = run(
            [
                os.path.join(project, "bin", "python"),
                "-c",
                "import sysconfig; print(sysconfig.get_path('purelib'))",
            ]
        ).stdout.strip()
        with open(os.path.join(site, "wheel_test_project_pkg.py"), "w") as f:
            f.write("VALUE = 42\n")
        env = dict(self.env, VIRTUAL_ENV=project)
        code = (
            "import sys, wheel_test_project_pkg as p; "
            "assert p.VALUE == 42; assert sys.prefix == %r, sys.prefix" % project
        )
        r = run([self.interpsan, "run", "-n", "2", "--", "-c", code], env=env, cwd=self.cwd)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_cpython_elsewhere_than_the_build_machines(self):
        # The runner's RUNPATH names the build machine's CPython; a CPython
        # installed anywhere else must still be served: the entry point
        # points the runner at the venv's base libpython. A copy of the
        # installation at another path stands in for "another machine".
        base = find_base_python(self.VERSION)
        prefix = os.path.dirname(os.path.dirname(base))
        moved = os.path.join(self.work, "cpython-elsewhere")
        os.makedirs(os.path.join(moved, "bin"))
        shutil.copy2(base, os.path.join(moved, "bin"))
        lib = os.path.join(prefix, "lib")
        shutil.copytree(
            os.path.join(lib, "python" + self.VERSION),
            os.path.join(moved, "lib", "python" + self.VERSION),
            symlinks=True,
            ignore=shutil.ignore_patterns("test", "__pycache__", "site-packages"),
        )
        for name in os.listdir(lib):
            if name.startswith("libpython" + self.VERSION + ".so"):
                shutil.copy2(
                    os.path.join(lib, name), os.path.join(moved, "lib"), follow_symlinks=False
                )
        venv = os.path.join(self.work, "venv-elsewhere")
        self.check(
            run(
                [
                    os.path.join(moved, "bin", "python" + self.VERSION),
                    "-m",
                    "venv",
                    "--without-pip",
                    venv,
                ]
            ),
            "creating a venv of the moved CPython",
        )
        python = os.path.join(venv, "bin", "python")
        self.check(
            run(
                [
                    self.python,
                    "-m",
                    "pip",
                    "--disable-pip-version-check",
                    "--python",
                    python,
                    "install",
                    "--quiet",
                    "--no-index",
                    "--no-deps",
                    self.wheel,
                ]
            ),
            "pip install into the moved CPython's venv",
        )
        soname = "libpython%s.so" % self.VERSION
        code = (
            "import sys, os; maps = open('/proc/self/maps').read().split(); "
            "libs = {os.path.dirname(p) for p in maps if %r in p}; "
            "assert libs == {os.path.join(sys.base_prefix, 'lib')}, (libs, sys.base_prefix); "
            "assert sys.prefix == %r, sys.prefix" % (soname, venv)
        )
        r = self.sh([os.path.join(venv, "bin", "interpsan"), "run", "-n", "2", "--", "-c", code])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # Control: the same supervisor command without the entry point's
        # environment loads the build machine's libpython and is refused.
        site = run(
            [python, "-c", "import interpsan; print(interpsan.PACKAGE_DIR)"], env=self.env
        ).stdout.strip()
        r = self.sh(
            [
                python,
                os.path.join(site, "tools", "supervisor", "interpsan.py"),
                "--runner",
                os.path.join(site, "tools", "runner", "interpsan_runner"),
                "--python-version",
                self.VERSION,
                "--python-executable",
                python,
                "run",
                "-n",
                "2",
                "--",
                "-c",
                "pass",
            ]
        )
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("linked with the libpython of", r.stderr)

    def test_cflags(self):
        r = self.sh([self.interpsan, "cflags"])
        self.assertEqual(r.returncode, 0, r.stderr)
        include = r.stdout.strip()
        self.assertTrue(include.startswith("-I"), include)
        self.assertTrue(os.path.isfile(os.path.join(include[2:], "Python.h")), include)

    def test_other_version_refused(self):
        other = "3.13" if self.VERSION == "3.12" else "3.12"
        r = self.sh([self.interpsan, "--python", other, "run", "--", "-c", "pass"])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn("cp" + other.replace(".", ""), r.stderr)

    def test_runner_loads_the_base_libpython(self):
        # What ldd resolves under the environment the entry point gives the
        # runner: the libpython of the venv's base installation.
        code = (
            "import json, sys; from interpsan import _cli, RUNNER; "
            "f = _cli.python_facts(sys.executable); "
            "d = _cli.libpython_dir(f, sys.executable, _cli.build_info()); "
            "print(json.dumps([RUNNER, _cli.run_environment(d)['LD_LIBRARY_PATH'], "
            "f['soname'], sys.base_prefix]))"
        )
        r = self.sh([self.python, "-c", code])
        self.assertEqual(r.returncode, 0, r.stderr)
        runner, ld_path, soname, base_prefix = json.loads(r.stdout)
        env = dict(self.env, LD_LIBRARY_PATH=ld_path)
        ldd = run(["ldd", runner], env=env)
        self.assertEqual(ldd.returncode, 0, ldd.stderr)
        lines = [l for l in ldd.stdout.splitlines() if soname in l]
        self.assertEqual(len(lines), 1, ldd.stdout)
        resolved = lines[0].split("=>")[1].split("(")[0].strip()
        self.assertEqual(
            os.path.realpath(os.path.dirname(resolved)),
            os.path.realpath(os.path.join(base_prefix, "lib")),
        )
        self.assertNotIn("not found", ldd.stdout)


def main(argv):
    build = True
    versions = []
    for arg in argv:
        if arg == "--no-build":
            build = False
        elif arg in ("3.12", "3.13"):
            versions.append(arg)
        else:
            sys.stderr.write("usage: wheel_test.sh [--no-build] [3.12] [3.13]\n")
            return 2
    versions = versions or ["3.12", "3.13"]
    if build:
        built = subprocess.run([os.path.join(ROOT, "tools", "wheel", "build_wheels.sh")] + versions)
        if built.returncode != 0:
            sys.stderr.write(
                "wheel_test: tools/wheel/build_wheels.sh failed (%d)\n" % built.returncode
            )
            return 1
    suite = unittest.TestSuite()
    loader = unittest.TestLoader()
    for version in versions:
        case = type(
            "WheelInVenv%s" % version.replace(".", ""),
            (WheelInVenv, unittest.TestCase),
            {"VERSION": version},
        )
        suite.addTests(loader.loadTestsFromTestCase(case))
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
