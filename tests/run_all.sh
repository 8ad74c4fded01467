#!/usr/bin/env bash
# Runs every interpsan test: unit, end-to-end and sanitizer runs, for
# CPython 3.12 and 3.13. Prints "N passed, M failed" and exits non-zero if
# anything failed. Installs and builds what is missing on first use,
# including the test venvs with tests/requirements.txt's pinned packages
# (pytest), .venvs/tests-3.12 and .venvs/tests-3.13.
set -uo pipefail
cd "$(dirname "$0")/.."
tools/setup/install_prerequisites.sh --tests || exit 2

passed=0
failed=0
failures=()
run_suite() {  # run_suite LABEL BAZEL-ARGS...
  local label="$1"; shift
  local log
  log="$(mktemp)"
  echo "=== $label: bazel test $*"
  bazel test "$@" 2>&1 | tee "$log" | grep -E "^(//|FAIL|ERROR)|Executed|PASSED|FAILED|NO STATUS" || true
  local p f
  p=$(grep -cE "^//.* PASSED" "$log")
  f=$(grep -cE "^//.* (FAILED|TIMEOUT|NO STATUS|FAILED TO BUILD)" "$log")
  if ! grep -qE "^//" "$log" || grep -q "^ERROR:" "$log"; then
    # A build error shows no per-test line: count the whole suite as failed.
    if [[ "$f" -eq 0 ]]; then f=1; fi
  fi
  passed=$((passed + p))
  failed=$((failed + f))
  if [[ "$f" -gt 0 ]]; then failures+=("$label"); fi
  rm -f "$log"
}

for version in py312 py313; do
  run_suite "$version" --config="$version" //...
done
# ASan (with LeakSanitizer) and TSan runs of our own runtime, with the
# sanitizer suppression files for CPython's own problems.
for version in py312 py313; do
  log="$(mktemp)"
  tests/sanitizers/run_sanitizers.sh --config="$version" 2>&1 | tee "$log"
  summary="$(grep -E "^sanitizer tests" "$log" | tail -1)"
  p=$(sed -nE 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\1/p' <<<"$summary")
  f=$(sed -nE 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\2/p' <<<"$summary")
  [[ -z "$p" ]] && p=0
  [[ -z "$f" ]] && f=1
  passed=$((passed + p))
  failed=$((failed + f))
  if [[ "$f" -gt 0 ]]; then failures+=("$version+sanitizers"); fi
  rm -f "$log"
done

# Checks and suites that run outside Bazel: each counts as one test.
run_script() {  # run_script LABEL COMMAND...
  local label="$1"; shift
  echo "=== $label: $*"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failures+=("$label")
  fi
}
# No comment or document names a file that is not in the repository.
run_script references python3 tests/check_references.py
# Our C/C++ is formatted as .clang-format says.
run_script format tests/check_format.sh
# Cython (own_gil) and pybind11 (per_interpreter_gil) modules, correct and
# broken, built in venvs from pinned PyPI packages (tests/frameworks: set up
# on first use, cached), run with pytest in 4 interpreters through the CLI.
run_script frameworks tests/frameworks/run_tests.sh
# Real PyPI extensions' own suites in 4 interpreters (tests/realworld). The
# test command runs the three quick ones; multidict's suite (about 30
# minutes for both versions here) runs with
# INTERPSAN_TEST_PROJECTS=multidict tests/realworld/run_tests.sh.
run_script realworld env INTERPSAN_TEST_PROJECTS="${INTERPSAN_TEST_PROJECTS:-markupsafe crc32c xxhash}" \
  tests/realworld/run_tests.sh
# Wheels built from this checkout, installed into fresh venvs, run with no
# Bazel or compiler on PATH (both versions).
run_script wheel tests/wheel/wheel_test.sh

echo
echo "interpsan tests: $passed passed, $failed failed"
if [[ ${#failures[@]} -gt 0 ]]; then
  echo "failing suites: ${failures[*]}"
  exit 1
fi
