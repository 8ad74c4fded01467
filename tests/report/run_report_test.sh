#!/usr/bin/env bash
# Runs one test file of tests/report (stdlib unittest) against the build
# selected with --config=py312 / --config=py313, from runfiles:
#
#   run_report_test.sh PYTHON RUNNER LAUNCHER DEMO TEST_FILE [unittest args]
#
# Like tests/run_cli_test.sh: the CPython version and prefix come from
# //:python_interpreter's real path, and INTERPSAN_RUNNER keeps the launcher
# from invoking Bazel inside a test.
set -euo pipefail

if [[ $# -lt 5 ]]; then
  echo "usage: $0 PYTHON RUNNER LAUNCHER DEMO TEST_FILE [ARGS...]" >&2
  exit 2
fi
python_rel="$1" runner_rel="$2" launcher_rel="$3" demo_rel="$4" test_rel="$5"
shift 5

here="$PWD"
python_real="$(realpath "$python_rel")"
python_name="$(basename "$python_real")"
version="${python_name#python}"
case "$version" in
  3.12|3.13) ;;
  *) echo "run_report_test.sh: cannot tell the Python version from $python_real" >&2; exit 1 ;;
esac
prefix="$(dirname "$(dirname "$python_real")")"

export "INTERPSAN_PYTHON${version/./}=$prefix"
export INTERPSAN_RUNNER="$here/$runner_rel"
export INTERPSAN_REPORT_TEST_PYTHON_VERSION="$version"
export INTERPSAN_REPORT_TEST_LAUNCHER="$here/$launcher_rel"
export INTERPSAN_REPORT_TEST_DEMO="$here/$demo_rel"
export INTERPSAN_REPORT_TEST_TOOLS="$here/$(dirname "$launcher_rel")/report"
export PYTHONDONTWRITEBYTECODE=1
unset PYTHONMALLOC PYTHONHOME

cd "$here/$(dirname "$test_rel")"
exec "$python_real" -B "$(basename "$test_rel")" "$@"
