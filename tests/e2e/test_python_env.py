"""The Python the user runs (README "Usage", --python): through the command
line, a program under `tools/interpsan run` sees exactly what it sees under
that plain python -- sys.executable, sys.prefix, sys.exec_prefix,
sys.base_prefix, sys.path (a venv's site-packages, a .pth path line as
legacy editable installs write, a .pth import line as modern editable
installs write), sys.orig_argv, /proc/self/cmdline's first entries and, on
3.13 (where ctypes loads in an own-GIL interpreter), Py_GetArgcArgv -- in
every interpreter. The venv is made by the test with `python -m venv` from
the CPython under test and holds local packages only (no network):

  - activated (VIRTUAL_ENV and PATH, no --python): `run -- -c "import envprobe"`
  - `--python VENV/bin/python`, not activated: `run -- -m envprobe`
  - `--python X.Y` with PYTHONPATH: the base installation, as before
  - a script through a symlinked directory (sys.path[0] resolved, __file__
    and the code's file name absolute), and PYTHONSAFEPATH

Pythons interpsan cannot serve are refused with one line and status 2:
another version (Debian's python3, also statically linked), a python based
on another installation than the runner's libpython (refused by the launcher,
and by the runner itself when started directly), something that is not a
Python, a path that does not exist.
"""

import json
import os
import shutil
import subprocess
import sys
import unittest

import e2e_lib
from e2e_lib import EXIT_OK, EXIT_USAGE, LAUNCHER, VERSION, E2ETestCase

import cli_testing  # noqa: E402  (on the path through e2e_lib)

N = 4
TIMEOUT = 120

# What a program can see of the Python running it. Runs unchanged under
# plain python and in interpsan's interpreters.
ENVPROBE = r"""
import json, sys
info = {
    "executable": sys.executable,
    "prefix": sys.prefix,
    "exec_prefix": sys.exec_prefix,
    "base_prefix": sys.base_prefix,
    "base_exec_prefix": sys.base_exec_prefix,
    "path": sys.path,
    "orig_argv": sys.orig_argv,
    "argv": sys.argv,
}
with open("/proc/self/cmdline", "rb") as f:
    cmdline = [a.decode() for a in f.read().split(b"\0")]
info["cmdline"] = cmdline[:len(sys.orig_argv)]
if sys.version_info >= (3, 13):
    import ctypes
    argc = ctypes.c_int()
    argv = ctypes.POINTER(ctypes.c_wchar_p)()
    ctypes.pythonapi.Py_GetArgcArgv(ctypes.byref(argc), ctypes.byref(argv))
    info["Py_GetArgcArgv"] = [argv[i] for i in range(argc.value)]
import legacy_editable, modern_editable, venvpkg
info["imported"] = [m.__file__ for m in (venvpkg, legacy_editable, modern_editable)]
# One file per interpreter (stdout is shared by all of them).
import os, tempfile
fd, _ = tempfile.mkstemp(dir=os.environ["ENVPROBE_DIR"], suffix=".json")
os.write(fd, json.dumps(info, sort_keys=True).encode())
os.close(fd)
"""

# What a modern editable install (setuptools' __editable__ finder) puts in
# site-packages: a .pth whose import line installs a meta-path finder.
EDITABLE_FINDER = r"""
import importlib.machinery, importlib.util, os, sys
SRC = {src!r}

class _Finder:
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name != "modern_editable":
            return None
        return importlib.util.spec_from_file_location(
            name, os.path.join(SRC, "modern_editable", "__init__.py"))

def install():
    if _Finder not in sys.meta_path:
        sys.meta_path.append(_Finder)
"""


def base_prefix():
    """The prefix of the CPython under test (run_cli_test.sh exports it)."""
    prefix = os.environ.get("INTERPSAN_PYTHON" + VERSION.replace(".", ""))
    if prefix:
        return prefix
    return os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))


def base_python():
    return os.path.join(base_prefix(), "bin", "python" + VERSION)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def make_venv(root):
    """A venv of the CPython under test holding: envprobe and venvpkg
    (site-packages), legacy_editable (a .pth path line to a source tree),
    modern_editable (a .pth import line installing a finder)."""
    venv = os.path.join(root, "venv")
    subprocess.run(
        [base_python(), "-m", "venv", "--without-pip", venv],
        check=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    site = os.path.join(venv, "lib", "python" + VERSION, "site-packages")
    write(os.path.join(site, "envprobe.py"), ENVPROBE)
    write(os.path.join(site, "venvpkg", "__init__.py"), "NAME = 'venvpkg'\n")
    legacy_src = os.path.join(root, "legacy-src")
    write(os.path.join(legacy_src, "legacy_editable", "__init__.py"), "")
    write(os.path.join(site, "__editable__.legacy_editable-1.0.pth"), legacy_src + "\n")
    modern_src = os.path.join(root, "modern-src")
    write(os.path.join(modern_src, "modern_editable", "__init__.py"), "")
    write(
        os.path.join(site, "__editable___modern_editable_1_0_finder.py"),
        EDITABLE_FINDER.format(src=modern_src),
    )
    write(
        os.path.join(site, "__editable__.modern_editable-1.0.pth"),
        "import __editable___modern_editable_1_0_finder; "
        "__editable___modern_editable_1_0_finder.install()\n",
    )
    return venv


def clean_env(extra=None):
    """The test's environment without Python variables, plus `extra`, and a
    fresh ENVPROBE_DIR where each probe writes what it saw."""
    env = dict(os.environ)
    for var in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONDONTWRITEBYTECODE"):
        env.pop(var, None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["ENVPROBE_DIR"] = cli_testing.scratch_dir("envprobe-")
    env.update(extra or {})
    return env


def probes(env):
    """What the probes of one run saw (and clears them for the next run)."""
    out = []
    directory = env["ENVPROBE_DIR"]
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        with open(path, encoding="utf-8") as f:
            out.append(json.load(f))
        os.unlink(path)
    return out


class PythonEnvTest(E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = cli_testing.scratch_dir("pyenv-")
        cls.venv = make_venv(cls.root)
        cls.venv_python = os.path.join(cls.venv, "bin", "python")
        cls.cwd = os.path.join(cls.root, "work")
        os.makedirs(cls.cwd)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def plain(self, argv, env):
        p = subprocess.run(
            argv,
            env=env,
            cwd=self.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            timeout=TIMEOUT,
        )
        self.assertEqual(p.returncode, 0, p.stderr)
        out = probes(env)
        self.assertEqual(len(out), 1, p.stdout + p.stderr)
        return out[0]

    def interpsan(self, cli_args, env):
        """`tools/interpsan CLI_ARGS` with --report DIR after `run`."""
        report_dir = cli_testing.scratch_dir("report-pyenv-")
        i = cli_args.index("run") + 1
        args = [LAUNCHER] + cli_args[:i] + ["--report", report_dir] + cli_args[i:]
        return cli_testing.run(args, env, TIMEOUT, report_dir, cwd=self.cwd)

    def assertSameInEveryInterpreter(self, r, env, expected):
        d = r.describe()
        self.assertEqual(r.status, EXIT_OK, d)
        self.assertClean(r, N)
        seen = probes(env)
        self.assertEqual(len(seen), N, d)
        for info in seen:
            self.assertEqual(info, expected, d)

    def test_activated_venv(self):
        env = clean_env(
            {
                "VIRTUAL_ENV": self.venv,
                "PATH": os.path.join(self.venv, "bin") + os.pathsep + os.environ["PATH"],
            }
        )
        expected = self.plain([self.venv_python, "-c", "import envprobe"], env)
        # What the test relies on, under plain python itself.
        self.assertEqual(expected["prefix"], self.venv)
        self.assertEqual(expected["executable"], self.venv_python)
        self.assertEqual(os.path.realpath(expected["base_prefix"]), os.path.realpath(base_prefix()))
        site = os.path.join(self.venv, "lib", "python" + VERSION, "site-packages")
        self.assertIn(site, expected["path"])
        self.assertIn(os.path.join(self.root, "legacy-src"), expected["path"])
        self.assertEqual(expected["imported"][0], os.path.join(site, "venvpkg", "__init__.py"))
        self.assertEqual(
            expected["imported"][2],
            os.path.join(self.root, "modern-src", "modern_editable", "__init__.py"),
        )
        r = self.interpsan(["run", "-n", str(N), "--", "-c", "import envprobe"], env)
        self.assertSameInEveryInterpreter(r, env, expected)

    def test_python_path_without_activation(self):
        env = clean_env()
        expected = self.plain([self.venv_python, "-m", "envprobe"], env)
        self.assertEqual(expected["prefix"], self.venv)
        self.assertEqual(expected["orig_argv"], [self.venv_python, "-m", "envprobe"])
        r = self.interpsan(
            ["--python", self.venv_python, "run", "-n", str(N), "--", "-m", "envprobe"], env
        )
        self.assertSameInEveryInterpreter(r, env, expected)

    def test_script_through_a_symlinked_directory(self):
        # python resolves the script's directory for sys.path[0] and makes
        # __file__ and the code's file name absolute; sys.argv[0] stays as
        # typed.
        real = os.path.join(self.root, "scripts-real")
        write(
            os.path.join(real, "show.py"),
            "import json, os, sys, tempfile\n"
            "info = {'file': __file__, 'path': sys.path,\n"
            "        'co_filename': sys._getframe().f_code.co_filename,\n"
            "        'argv': sys.argv, 'orig_argv': sys.orig_argv}\n"
            "fd, _ = tempfile.mkstemp(dir=os.environ['ENVPROBE_DIR'])\n"
            "os.write(fd, json.dumps(info).encode())\n",
        )
        link = os.path.join(self.cwd, "scripts")
        if not os.path.islink(link):
            os.symlink(real, link)
        env = clean_env()
        script = os.path.join("scripts", "show.py")
        p = subprocess.run(
            [self.venv_python, script, "arg"],
            env=env,
            cwd=self.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            timeout=TIMEOUT,
        )
        self.assertEqual(p.returncode, 0, p.stderr)
        (expected,) = probes(env)
        self.assertEqual(expected["path"][0], real)
        self.assertEqual(expected["file"], os.path.join(self.cwd, script))
        r = self.interpsan(
            ["--python", self.venv_python, "run", "-n", str(N), "--", script, "arg"], env
        )
        d = r.describe()
        self.assertClean(r, N)
        seen = probes(env)
        self.assertEqual(len(seen), N, d)
        for info in seen:
            self.assertEqual(info, expected, d)

    def test_safe_path(self):
        # PYTHONSAFEPATH (-P): no '' (or script directory) in front of sys.path.
        env = clean_env({"PYTHONSAFEPATH": "1"})
        expected = self.plain([self.venv_python, "-c", "import envprobe"], env)
        self.assertNotIn("", expected["path"])
        r = self.interpsan(
            ["--python", self.venv_python, "run", "-n", str(N), "--", "-c", "import envprobe"], env
        )
        self.assertSameInEveryInterpreter(r, env, expected)

    def test_version_with_pythonpath(self):
        # The base installation (no venv): the probe's packages come from
        # PYTHONPATH, which both honour the same way.
        site = os.path.join(self.venv, "lib", "python" + VERSION, "site-packages")
        extra = os.pathsep.join(
            [site, os.path.join(self.root, "legacy-src"), os.path.join(self.root, "modern-src")]
        )
        env = clean_env({"PYTHONPATH": extra})
        expected = self.plain([base_python(), "-c", "import envprobe"], env)
        self.assertEqual(os.path.realpath(expected["prefix"]), os.path.realpath(base_prefix()))
        r = self.interpsan(
            ["--python", VERSION, "run", "-n", str(N), "--", "-c", "import envprobe"], env
        )
        self.assertSameInEveryInterpreter(r, env, expected)


class DatetimeStaticTypesTest(E2ETestCase):
    """pytest imports datetime. On CPython 3.13, 8 own-GIL interpreters
    importing _datetime at once (weak references to its static classes
    included) abort or crash in Py_EndInterpreter nearly every time, in
    plain python with _interpreters too (CPython gh-136421); the runner
    initializes those types in the main interpreter first (runner_main.cc,
    InitializeSharedStaticTypes). 10 runs of 8 interpreters: every one
    clean. On 3.12, datetime falls back to _pydatetime in an isolated
    interpreter; the same program must be clean there too."""

    def test_concurrent_datetime_imports(self):
        code = (
            "import datetime, weakref\n"
            "r = weakref.ref(datetime.datetime)\n"
            "assert datetime.datetime(2024, 1, 2).isoformat() == '2024-01-02T00:00:00'\n"
        )
        for _ in range(10):
            report_dir = cli_testing.scratch_dir("report-datetime-")
            r = cli_testing.run(
                [
                    LAUNCHER,
                    "--python",
                    VERSION,
                    "run",
                    "-n",
                    "8",
                    "--report",
                    report_dir,
                    "--",
                    "-c",
                    code,
                ],
                clean_env(),
                TIMEOUT,
                report_dir,
            )
            self.assertClean(r, 8)


class RefusalTest(E2ETestCase):
    """Pythons interpsan cannot serve: one line on stderr, status 2, no run."""

    @classmethod
    def setUpClass(cls):
        cls.root = cli_testing.scratch_dir("refuse-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def refuse(self, python, *, env=None):
        args = [LAUNCHER, "--python", python, "run", "-n", "2", "--", "-c", "print('ran')"]
        r = cli_testing.run(args, env or clean_env(), TIMEOUT)
        d = r.describe()
        self.assertEqual(r.status, EXIT_USAGE, d)
        self.assertNotIn("ran", r.stdout, d)
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 1, d)
        self.assertTrue(lines[0].startswith("interpsan: error: "), d)
        return lines[0]

    def other_installation(self):
        """A CPython VERSION installation of its own (sys.base_prefix is its
        own directory) sharing the tested one's files: a copy of the python
        binary (still linked to the tested libpython) beside a link to its
        standard library."""
        other = os.path.join(self.root, "other-cpython")
        os.makedirs(os.path.join(other, "bin"), exist_ok=True)
        os.makedirs(os.path.join(other, "lib"), exist_ok=True)
        python = os.path.join(other, "bin", "python" + VERSION)
        if not os.path.exists(python):
            shutil.copy2(base_python(), python)
            os.symlink(
                os.path.join(base_prefix(), "lib", "python" + VERSION),
                os.path.join(other, "lib", "python" + VERSION),
            )
        out = subprocess.run(
            [python, "-c", "import sys; print(sys.base_prefix)"],
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        ).stdout.strip()
        self.assertEqual(out, other)  # what makes it another installation
        return python, os.path.realpath(other)

    def test_another_installation(self):
        python, other = self.other_installation()
        line = self.refuse(python)
        self.assertIn("is based on %s (CPython %s." % (other, VERSION), line)
        self.assertIn("INTERPSAN_PYTHON%s=%s" % (VERSION.replace(".", ""), other), line)

    def test_venv_of_another_installation_when_activated(self):
        python, other = self.other_installation()
        venv = os.path.join(self.root, "other-venv")
        subprocess.run([python, "-m", "venv", "--without-pip", venv], check=True)
        env = clean_env({"VIRTUAL_ENV": venv})
        args = [LAUNCHER, "run", "-n", "2", "--", "-c", "print('ran')"]
        r = cli_testing.run(args, env, TIMEOUT)
        d = r.describe()
        self.assertEqual(r.status, EXIT_USAGE, d)
        self.assertEqual(len(r.stderr.splitlines()), 1, d)
        self.assertIn("the active virtual environment's python %s/bin/python" % venv, r.stderr, d)
        self.assertIn("is based on %s" % other, r.stderr, d)

    def test_runner_refuses_another_installation_itself(self):
        # Started directly (not through the launcher), the runner checks the
        # base installation getpath computed against the libpython it loaded.
        runner = os.environ.get("INTERPSAN_RUNNER")
        if not runner:
            self.skipTest("INTERPSAN_RUNNER is not set (outside Bazel)")
        python, other = self.other_installation()
        env = clean_env({"INTERPSAN_OPTIONS": "interpreters=1 checks=none"})
        p = subprocess.run(
            [python, "-c", "print('ran')"],
            executable=runner,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            timeout=TIMEOUT,
        )
        self.assertEqual(p.returncode, EXIT_USAGE, p.stderr)
        self.assertNotIn("ran", p.stdout)
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        self.assertIn(
            "%s is based on %s, but this runner is linked with the libpython of %s"
            % (python, other, os.path.realpath(base_prefix())),
            p.stderr,
        )

    def test_another_version(self):
        system = shutil.which("python3", path="/usr/bin:/bin")
        if system is None:
            self.skipTest("no system python3")
        version = subprocess.run(
            [system, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        ).stdout.strip()
        if version in ("3.12", "3.13"):
            self.skipTest("the system python3 is %s, a supported version" % version)
        ldd = subprocess.run(
            ["ldd", os.path.realpath(system)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ).stdout
        line = self.refuse(system)
        self.assertIn("it is CPython %s (supported: 3.12, 3.13)" % version, line)
        # Debian's python3 is linked statically with libpython: said too.
        if "libpython" not in ldd:
            self.assertIn("it has no shared libpython", line)
        else:
            self.assertNotIn("no shared libpython", line)

    def test_not_a_python(self):
        line = self.refuse("/bin/true")
        self.assertEqual(line, "interpsan: error: --python /bin/true: does not run as a Python")

    def test_no_such_file(self):
        missing = os.path.join(self.root, "no", "python")
        line = self.refuse(missing)
        self.assertEqual(line, "interpsan: error: --python %s: no such executable" % missing)

    def test_unknown_version(self):
        line = self.refuse("3.11")
        self.assertIn("unknown Python version '3.11'", line)


if __name__ == "__main__":
    e2e_lib.main()
