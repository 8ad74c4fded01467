"""The `interpsan` command of an installed wheel (also `python -m interpsan`).

It does what the checkout's launcher (tools/interpsan) does, with the
wheel's files instead of a checkout and Bazel: pick the Python, then hand
over to the supervisor (tools/supervisor/interpsan.py, packaged unchanged) running on
that Python, with the bundled runner as `--runner` (INTERPSAN_RUNNER
semantics: a path, so nothing is built).

    interpsan [--python 3.X|PATH] run [options] -- PYTHON_ARGS...
    interpsan [--python 3.X|PATH] exec [options] -- PROGRAM ARGS...
    interpsan report DIR
    interpsan cflags

The Python: `--python PATH` (any CPython of the wheel's version, a venv's
bin/python included), else an active virtual environment ($VIRTUAL_ENV) of
the wheel's version, else the Python this package is installed in
(sys.executable). `--python 3.X` means the latter and must name the wheel's
version. The runner links libpython3.X.so dynamically; it is found in that
Python's base installation (sys.base_prefix/lib, or sysconfig's LIBDIR) via
LD_LIBRARY_PATH, not in the build machine's path that Bazel wrote into the
runner's RUNPATH.
"""

import json
import os
import subprocess
import sys

from interpsan import PACKAGE_DIR, REPORT_DIR, RUNNER, SUPERVISOR, build_info

EXIT_USAGE = 2

# What a Python says about itself: evaluated here (_facts_here) and, to
# describe another Python, run by it (_FACTS_CODE).
_FACTS_EXPRESSION = r"""{
    "implementation": sys.implementation.name,
    "version": "%d.%d" % sys.version_info[:2],
    "full_version": sys.version.split()[0],
    "executable": sys.executable,
    "base_prefix": sys.base_prefix,
    "libdir": sysconfig.get_config_var("LIBDIR"),
    "soname": sysconfig.get_config_var("INSTSONAME"),
    "shared": bool(sysconfig.get_config_var("Py_ENABLE_SHARED")),
}"""
_FACTS_CODE = "import json, sys, sysconfig\nprint(json.dumps(%s))\n" % _FACTS_EXPRESSION


class UsageError(Exception):
    pass


def _facts_here():
    import sysconfig

    return eval(_FACTS_EXPRESSION, {"sys": sys, "sysconfig": sysconfig})


def python_facts(executable):
    """Version and libpython location of `executable` (a Python)."""
    if os.path.abspath(executable) == os.path.abspath(sys.executable):
        return _facts_here()
    try:
        out = subprocess.run(
            [executable, "-I", "-c", _FACTS_CODE], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise UsageError("cannot run %s: %s" % (executable, exc))
    if out.returncode != 0:
        raise UsageError(
            "%s is not a Python interpsan can use (it failed: %s)"
            % (executable, (out.stderr.strip().splitlines() or ["?"])[-1])
        )
    try:
        return json.loads(out.stdout)
    except ValueError:
        raise UsageError("%s is not a Python interpsan can use" % executable)


def choose_python(option, wanted):
    """The Python executable to run: `option` (--python's value or None),
    else $VIRTUAL_ENV's, else this one. `wanted` is the wheel's version."""
    if option is not None:
        if option == wanted:
            return sys.executable
        if "/" not in option:
            if option in ("3.12", "3.13"):
                raise UsageError(
                    "this interpsan is installed for Python %s; for %s install the cp%s "
                    "wheel into a %s environment"
                    % (wanted, option, option.replace(".", ""), option)
                )
            raise UsageError(
                "unknown Python '%s' (expected %s or the path of a Python %s "
                "executable)" % (option, wanted, wanted)
            )
        if not (os.path.isfile(option) and os.access(option, os.X_OK)):
            raise UsageError("--python %s: no such executable" % option)
        return os.path.abspath(option)
    venv = os.environ.get("VIRTUAL_ENV")
    if venv:
        candidate = os.path.join(venv, "bin", "python")
        if os.path.abspath(candidate) != os.path.abspath(sys.executable) and os.access(
            candidate, os.X_OK
        ):
            try:
                version = python_facts(candidate)["version"]
            except UsageError:
                version = None
            if version == wanted:
                return candidate
            sys.stderr.write(
                "interpsan: note: the active virtual environment %s is not Python %s; "
                "using %s\n" % (venv, wanted, sys.executable)
            )
    return sys.executable


def libpython_dir(facts, executable, info):
    """The directory holding the libpython the runner must load: the base
    installation of `executable` (a venv has none of its own)."""
    wanted = info["python_version"]
    if facts.get("implementation") != "cpython":
        raise UsageError("%s is not CPython" % executable)
    if facts["version"] != wanted:
        raise UsageError(
            "%s is Python %s, but this interpsan is built for %s"
            % (executable, facts["version"], wanted)
        )
    # The runner reads CPython's internal structures (runtime/python_shim_*),
    # compiled from the headers of the build it was made with; they are not
    # an ABI promise across patch releases.
    if facts.get("full_version") != info["python_build"]:
        raise UsageError(
            "%s is CPython %s, but this interpsan wheel is built against CPython %s's "
            "internal headers; build one for it from a checkout: INTERPSAN_PYTHON%s=%s "
            "tools/wheel/build_wheels.sh %s"
            % (
                executable,
                facts.get("full_version"),
                info["python_build"],
                wanted.replace(".", ""),
                facts["base_prefix"],
                wanted,
            )
        )
    if not facts.get("shared") or not facts.get("soname"):
        raise UsageError(
            "%s has no shared libpython (built without --enable-shared); "
            "interpsan's runner needs libpython%s.so" % (executable, wanted)
        )
    candidates = [os.path.join(facts["base_prefix"], "lib")]
    if facts.get("libdir"):
        candidates.append(facts["libdir"])
    for directory in candidates:
        if os.path.exists(os.path.join(directory, facts["soname"])):
            return directory
    raise UsageError(
        "cannot find %s of %s (looked in %s)" % (facts["soname"], executable, ", ".join(candidates))
    )


def run_environment(libdir):
    env = dict(os.environ)
    old = env.get("LD_LIBRARY_PATH")
    env["LD_LIBRARY_PATH"] = libdir + (":" + old if old else "")
    return env


def _split_launcher_options(argv):
    """Takes the launcher's own leading options (--python) off argv."""
    python = None
    argv = list(argv)
    while argv:
        if argv[0] == "--python":
            if len(argv) < 2:
                raise UsageError("--python needs a version or the path of a Python executable")
            python = argv[1]
            argv = argv[2:]
        elif argv[0].startswith("--python="):
            python = argv[0][len("--python=") :]
            argv = argv[1:]
        else:
            break
    return python, argv


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    info = build_info()
    wanted = info["python_version"]
    supervisor = SUPERVISOR
    try:
        python_option, argv = _split_launcher_options(argv)
        command = argv[0] if argv else ""
        if command == "cflags":
            print("-I" + os.path.join(PACKAGE_DIR, "debug", "include"))
            return 0
        python = choose_python(python_option, wanted)
        if command == "report":
            cmd = [python, os.path.join(REPORT_DIR, "report_render.py")] + argv
            env = dict(os.environ)
        elif command in ("", "-h", "--help", "help"):
            cmd = [python, supervisor, "--runner", "none", "--python-version", wanted, "--help"]
            env = dict(os.environ)
        else:
            facts = python_facts(python)
            env = run_environment(libpython_dir(facts, python, info))
            # The supervisor's contract (tools/supervisor/interpsan.py): the Python the
            # user runs is --python-executable (what its sys.executable says,
            # as the checkout's launcher passes it); the runner gets it as
            # argv[0], so getpath computes sys.prefix and sys.path for it.
            cmd = [
                python,
                supervisor,
                "--runner",
                RUNNER,
                "--python-version",
                wanted,
                "--python-executable",
                facts.get("executable") or python,
            ] + argv
    except UsageError as exc:
        sys.stderr.write("interpsan: error: %s\n" % exc)
        return EXIT_USAGE
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(cmd[0], cmd, env)
