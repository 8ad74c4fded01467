#!/usr/bin/env bash
# Runs the framework end-to-end tests (test_frameworks.py) for CPython 3.12
# and 3.13: sets up the venvs first (setup_venvs.sh: pinned Cython,
# pybind11 and pytest from PyPI, built once and reused), then runs the tests
# through tools/interpsan. Ends with "framework tests: N passed, M failed".
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../venv_suite.sh"
versions="${INTERPSAN_TEST_VERSIONS:-3.12 3.13}"
# The base interpreter of a venv runs the driver (stdlib unittest only).
venv_suite_main "framework tests" "$here" test_frameworks.py ${versions%% *}
