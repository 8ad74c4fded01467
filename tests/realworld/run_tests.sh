#!/usr/bin/env bash
# Runs the real-extension suites (test_realworld.py) for CPython 3.12 and
# 3.13: sets up the venvs first (setup_venvs.sh: the four extensions built
# from their pinned sdists, pytest; built once and reused), then runs each
# project's own tests in 4 interpreters through tools/interpsan.
# Ends with "real-world suites: N passed, M failed".
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../venv_suite.sh"
versions="${INTERPSAN_TEST_VERSIONS:-3.12 3.13}"
venv_suite_main "real-world suites" "$here" test_realworld.py $versions
