"""Run by tests/wheel/wheel_test.py with pytest under `interpsan run -n 4`
from a venv holding nothing but the interpsan wheel and pytest: every test
must pass in every interpreter, and nothing may be reported.

INTERPSAN_WHEEL_TEST_VENV names that venv.
"""

import json
import os
import sys
import threading

import interpsan

VENV = os.environ["INTERPSAN_WHEEL_TEST_VENV"]


def test_builtin_interpsan_module_not_the_installed_package():
    # The runner's built-in module comes before site-packages' interpsan.
    assert 0 <= interpsan.index < 4
    assert not hasattr(interpsan, "__path__")


def test_runs_the_runner_from_the_wheel():
    exe = os.path.realpath("/proc/self/exe")
    site = os.path.realpath(os.path.join(
        VENV, "lib", "python%d.%d" % sys.version_info[:2], "site-packages"))
    assert exe == os.path.join(site, "interpsan", "tools", "runner", "interpsan_runner")


def test_the_venv_is_the_python():
    assert os.path.realpath(sys.prefix) == os.path.realpath(VENV)
    # The venv's python as the command was started (bin/python or
    # bin/python3.X: the console script's shebang), as under plain python.
    assert os.path.dirname(sys.executable) == os.path.join(VENV, "bin")
    assert os.path.basename(sys.executable).startswith("python")
    assert os.path.samefile(sys.executable, os.path.join(VENV, "bin", "python"))
    import pytest

    assert os.path.realpath(pytest.__file__).startswith(os.path.realpath(VENV) + os.sep)


def test_libpython_from_the_base_installation():
    soname = "libpython%d.%d.so" % sys.version_info[:2]
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if soname in line}
    expected_dir = os.path.realpath(os.path.join(sys.base_prefix, "lib"))
    assert paths, "no %s mapped" % soname
    assert {os.path.dirname(os.path.realpath(p)) for p in paths} == {expected_dir}


def test_threads_and_containers_of_this_interpreter():
    # Correct code that allocates, shares and frees objects between threads
    # of one interpreter: nothing to report.
    results = {}

    def work(n):
        data = {"n": n, "items": [str(i) * 3 for i in range(500)]}
        results[n] = json.loads(json.dumps(data))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 1, 2, 3]
    assert all(len(r["items"]) == 500 for r in results.values())
