#!/usr/bin/env bash
# Runs the real-extension suites (test_realworld.py) for CPython 3.12 and
# 3.13: sets up the venvs first (setup_venvs.sh: the four extensions built
# from their pinned sdists, pytest; built once and reused), then runs each
# project's own tests in 4 interpreters through tools/interpsan.
# Ends with "real-world suites: N passed, M failed".
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
versions="${INTERPSAN_TEST_VERSIONS:-3.12 3.13}"
python="$("$here/setup_venvs.sh" $versions | tail -1)" || {
  echo "real-world suites: 0 passed, 1 failed (set-up failed)"; exit 1; }
log="$(mktemp)"
"$python" -B "$here/test_realworld.py" -v 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
ran=$(sed -nE 's/^Ran ([0-9]+) tests?.*/\1/p' "$log" | tail -1)
bad=$(grep -cE "^(FAIL|ERROR):" "$log")
rm -f "$log"
[[ -z "$ran" ]] && { echo "real-world suites: 0 passed, 1 failed"; exit 1; }
echo "real-world suites: $((ran - bad)) passed, $bad failed"
[[ $status -eq 0 && $bad -eq 0 ]]
