#!/usr/bin/env bash
# Runs interpsan's unit and sanitizer tests under AddressSanitizer (with
# LeakSanitizer) and ThreadSanitizer for one CPython version.
#
#   tests/sanitizers/run_sanitizers.sh [--config=py312|--config=py313]
#                                      [--sanitizer=asan|tsan]... [BAZEL-ARGS...]
#
# Defaults: --config=py312, both sanitizers. Each sanitizer gets its own
# output tree (--platform_suffix), so switching between plain, ASan and TSan
# builds does not rebuild everything. Sanitizer options and the suppression
# files next to this script reach the tests through --test_env. Prints one
# line per test and a summary; exits 0 only if every test passed (2 on a
# usage error).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
workspace="$(cd "$here/../.." && pwd)"
cd "$workspace" || exit 2

python_config="py312"
sanitizers=()
extra=()
for arg in "$@"; do
  case "$arg" in
    --config=py312|--config=py313) python_config="${arg#--config=}" ;;
    --config=*) echo "run_sanitizers.sh: expected --config=py312 or --config=py313, got $arg" >&2; exit 2 ;;
    --sanitizer=asan|--sanitizer=tsan) sanitizers+=("${arg#--sanitizer=}") ;;
    --sanitizer=*) echo "run_sanitizers.sh: expected --sanitizer=asan or --sanitizer=tsan, got $arg" >&2; exit 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) extra+=("$arg") ;;
  esac
done
[[ ${#sanitizers[@]} -eq 0 ]] && sanitizers=(asan tsan)

targets=(//tests/unit/... //tests/sanitizers/...)
tsan_supp="$here/tsan_suppressions.txt"
lsan_supp="$here/lsan_suppressions.txt"
# Test results are cached by their inputs: make an edited suppression file
# one of them.
supp_hash="$(cat "$tsan_supp" "$lsan_supp" | cksum | cut -d' ' -f1)"

total_pass=0
total_fail=0
failed_runs=()
logdir="$(mktemp -d "${TMPDIR:-/tmp}/interpsan-sanitizers.XXXXXX")"

for sanitizer in "${sanitizers[@]}"; do
  label="$python_config+$sanitizer"
  log="$logdir/$label.log"
  env_args=(
    "--test_env=INTERPSAN_SUPPRESSIONS_HASH=$supp_hash"
    "--test_env=ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:print_summary=1"
    "--test_env=LSAN_OPTIONS=suppressions=$lsan_supp:print_suppressions=0"
    "--test_env=TSAN_OPTIONS=suppressions=$tsan_supp:print_suppressions=0:second_deadlock_stack=1:halt_on_error=0"
  )
  echo "=== $label: bazel test --config=$python_config --config=$sanitizer ${targets[*]}"
  bazel test --config="$python_config" --config="$sanitizer" \
    --platform_suffix="$python_config-$sanitizer" \
    "${env_args[@]}" "${extra[@]}" "${targets[@]}" >"$log" 2>&1
  status=$?
  # One line per test target.
  grep -E "^//[^ ]+ +(\(cached\) )?(PASSED|FAILED|TIMEOUT|NO STATUS|FLAKY|FAILED TO BUILD)" "$log" | sed 's/^/  /'
  # What the sanitizers (and failing tests) said, once per distinct report.
  {
    grep -hE "SUMMARY: (AddressSanitizer|ThreadSanitizer)|^\[  FAILED  \] [A-Za-z0-9_./]+$" "$log" \
      | sed 's/^\[  DEATH   \] //'
    # For leaks, the frame that allocated (after the malloc interceptor).
    grep -hE -A2 "^(\[  DEATH   \] )?Direct leak of" "$log" \
      | grep -E "#1 " | sed -E 's/^.*#1 0x[0-9a-f]+ (in )?/leak allocated in: /'
  } | sort | uniq -c | sed 's/^/    /'
  pass=$(grep -cE "^//[^ ]+ +(\(cached\) )?PASSED" "$log")
  fail=$(grep -cE "^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|NO STATUS|FLAKY|FAILED TO BUILD)" "$log")
  if [[ $status -ne 0 && $fail -eq 0 ]]; then
    # A build or configuration error prints no per-test line.
    grep -E "^ERROR:" "$log" | head -5 | sed 's/^/  /'
    fail=1
  fi
  total_pass=$((total_pass + pass))
  total_fail=$((total_fail + fail))
  if [[ $fail -gt 0 ]]; then failed_runs+=("$label"); fi
  echo "  $label: $pass passed, $fail failed (full log: $log)"
done

echo
echo "sanitizer tests ($python_config): $total_pass passed, $total_fail failed"
if [[ ${#failed_runs[@]} -gt 0 ]]; then
  echo "failing runs: ${failed_runs[*]}"
  echo "per-test logs: bazel-out/k8-opt$python_config-<asan|tsan>/testlogs/"
  exit 1
fi
exit 0
