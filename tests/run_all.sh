#!/usr/bin/env bash
# Runs every interpsan test: unit, end-to-end and sanitizer runs, for
# CPython 3.12 and 3.13. Prints "N passed, M failed" and exits non-zero if
# anything failed. Installs and builds what is missing on first use.
set -uo pipefail
cd "$(dirname "$0")/.."
tools/install_prerequisites.sh || exit 2

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
if [[ -x tests/sanitizers/run_sanitizers.sh ]]; then
  for version in py312 py313; do
    for sanitizer in asan tsan; do
      run_suite "$version+$sanitizer" --config="$version-$sanitizer" \
        //tests/unit/... //tests/sanitizers/...
    done
  done
fi

echo
echo "interpsan tests: $passed passed, $failed failed"
if [[ ${#failures[@]} -gt 0 ]]; then
  echo "failing suites: ${failures[*]}"
  exit 1
fi
