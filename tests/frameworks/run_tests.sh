#!/usr/bin/env bash
# Runs the framework end-to-end tests (test_frameworks.py) for CPython 3.12
# and 3.13: sets up the venvs first (setup_venvs.sh: pinned Cython,
# pybind11 and pytest from PyPI, built once and reused), then runs the tests
# through tools/interpsan. Ends with "framework tests: N passed, M failed".
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
versions="${INTERPSAN_TEST_VERSIONS:-3.12 3.13}"
python="$("$here/setup_venvs.sh" ${versions%% *} | tail -1)" || {
  echo "framework tests: 0 passed, 1 failed (set-up failed)"; exit 1; }
log="$(mktemp)"
# The base interpreter of a venv runs the driver (stdlib unittest only).
"$python" -B "$here/test_frameworks.py" -v 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
ran=$(sed -nE 's/^Ran ([0-9]+) tests?.*/\1/p' "$log" | tail -1)
bad=$(grep -cE "^(FAIL|ERROR):" "$log")
rm -f "$log"
[[ -z "$ran" ]] && { echo "framework tests: 0 passed, 1 failed"; exit 1; }
echo "framework tests: $((ran - bad)) passed, $bad failed"
[[ $status -eq 0 && $bad -eq 0 ]]
