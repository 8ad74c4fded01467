#!/usr/bin/env bash
# The test program of interpsan_test() (tools/bazel/interpsan_test.bzl): runs a
# Python program under tools/interpsan inside `bazel test`.
#
#   interpsan_test_runner.sh PYTHON RUNNER LAUNCHER RENDERER SHARD_HELPER \
#       WANT_VERSION MODE PACKAGE_DIR [INTERPSAN_OPTION...] -- PROGRAM [ARGS...]
#
# The first five are runfiles paths (//:python_interpreter, the runner, the
# launcher, tools/report/report_render.py, tools/runner/interpsan_shard.py). WANT_VERSION is
# "3.12", "3.13" or "any". MODE is "run" or "exec"; in exec mode the
# word @PYTHON@ in PROGRAM stands for the selected python. PACKAGE_DIR is
# the test's package folder in runfiles (put on PYTHONPATH).
#
# Bazel's test environment is honoured: TEST_SHARD_INDEX/TEST_TOTAL_SHARDS
# (exported to the program as INTERPSAN_SHARD_INDEX/INTERPSAN_TOTAL_SHARDS,
# and TEST_SHARD_STATUS_FILE touched), XML_OUTPUT_FILE (interpsan's JUnit),
# TEST_UNDECLARED_OUTPUTS_DIR (report.json, events.jsonl, report.html under
# interpsan/) or TEST_TMPDIR when there is none.
set -euo pipefail

if [[ $# -lt 9 ]]; then
  echo "usage: $0 PYTHON RUNNER LAUNCHER RENDERER SHARD_HELPER WANT_VERSION MODE PACKAGE_DIR [OPTIONS] -- PROGRAM..." >&2
  exit 2
fi
python_rel="$1" runner_rel="$2" launcher_rel="$3" renderer_rel="$4" shard_rel="$5"
want_version="$6" mode="$7" package_dir="$8"
shift 8
options=()
while [[ $# -gt 0 && "$1" != "--" ]]; do
  options+=("$1")
  shift
done
[[ $# -gt 0 ]] && shift  # the "--"
if [[ $# -eq 0 ]]; then
  echo "interpsan_test: no program to run" >&2
  exit 2
fi

here="$PWD"  # this workspace's runfiles tree (Bazel's test working directory)
abs() { case "$1" in /*) echo "$1" ;; *) echo "$here/$1" ;; esac; }

# The CPython the build was configured for: //:python_interpreter is a
# symlink into its prefix.
python_real="$(realpath "$(abs "$python_rel")")"
python_name="$(basename "$python_real")"   # python3.12
version="${python_name#python}"            # 3.12
case "$version" in
  3.12|3.13) ;;
  *) echo "interpsan_test: cannot tell the Python version from $python_real" >&2; exit 1 ;;
esac
if [[ "$want_version" != "any" && "$want_version" != "$version" ]]; then
  echo "interpsan_test: this test asks for python = \"$want_version\", but the build is configured" \
       "for $version: run it with --config=py${want_version/./}" >&2
  exit 1
fi
prefix="$(dirname "$(dirname "$python_real")")"
export "INTERPSAN_PYTHON${version/./}=$prefix"
# The runner built by this Bazel invocation: the launcher must not build.
export INTERPSAN_RUNNER="$(abs "$runner_rel")"
export INTERPSAN_BIN_DIR="$here"

# Sharding.
if [[ -n "${TEST_TOTAL_SHARDS:-}" ]]; then
  [[ -n "${TEST_SHARD_STATUS_FILE:-}" ]] && touch "$TEST_SHARD_STATUS_FILE"
  export INTERPSAN_TOTAL_SHARDS="$TEST_TOTAL_SHARDS"
  export INTERPSAN_SHARD_INDEX="${TEST_SHARD_INDEX:-0}"
fi

# Where the report goes: one directory per test (and per shard, as Bazel
# gives each shard its own TEST_UNDECLARED_OUTPUTS_DIR).
out_base="${TEST_UNDECLARED_OUTPUTS_DIR:-${TEST_TMPDIR:-$(mktemp -d)}}"
report_dir="$out_base/interpsan"
mkdir -p "$report_dir"
junit=()
if [[ -n "${XML_OUTPUT_FILE:-}" ]]; then
  mkdir -p "$(dirname "$XML_OUTPUT_FILE")"
  junit=(--junit "$XML_OUTPUT_FILE")
fi

# The program imports from its runfiles: the shard helper's folder, the
# test's package folder and the workspace root (a script's own folder is
# added by interpsan run, like python does).
program=()
for word in "$@"; do
  if [[ "$word" == "@PYTHON@" ]]; then
    program+=("$python_real")
  else
    program+=("$word")
  fi
done
pythonpath="$(dirname "$(abs "$shard_rel")"):$(abs "$package_dir"):$here"
export PYTHONPATH="$pythonpath${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
unset PYTHONMALLOC PYTHONHOME

echo "interpsan_test: CPython $version, shard $(( ${INTERPSAN_SHARD_INDEX:-0} + 1 )) of ${INTERPSAN_TOTAL_SHARDS:-1}, report in $report_dir" >&2
status=0
"$(abs "$launcher_rel")" --python "$version" "$mode" "${options[@]}" --report "$report_dir" \
  "${junit[@]}" -- "${program[@]}" || status=$?

# A person reads the test log: the text summary, and report.html beside
# report.json.
if [[ -f "$report_dir/report.json" ]]; then
  echo "---- interpsan report (exit status $status) ----"
  "$python_real" -B "$(abs "$renderer_rel")" report "$report_dir" || true
fi
exit "$status"
