#!/usr/bin/env bash
# Runs one command-line test file (stdlib unittest) of tests/e2e,
# tests/faulthandler or tests/tracemalloc against the build selected with
# --config=py312 / --config=py313. Everything comes from runfiles:
#
#   run_cli_test.sh PYTHON RUNNER LAUNCHER SOME_EXTENSION.so TEST_FILE [unittest args]
#
# PYTHON is //:python_interpreter (a symlink into the CPython prefix); the
# version (--python X.Y) is taken from its file name and the prefix
# (INTERPSAN_PYTHON3XX) from its real path, so the launcher and the runner
# use exactly the CPython the build was configured for. INTERPSAN_RUNNER
# keeps the launcher from invoking Bazel inside a test. The test libraries
# (e2e_lib.py, fh_lib.py, tm_lib.py) read the INTERPSAN_TEST_* variables.
set -euo pipefail

if [[ $# -lt 5 ]]; then
  echo "usage: $0 PYTHON RUNNER LAUNCHER EXTENSION_SO TEST_FILE [ARGS...]" >&2
  exit 2
fi
python_rel="$1" runner_rel="$2" launcher_rel="$3" extension_rel="$4" test_rel="$5"
shift 5

here="$PWD"  # the runfiles tree of this workspace (Bazel's test cwd)
python_real="$(realpath "$python_rel")"
python_name="$(basename "$python_real")"       # python3.12
version="${python_name#python}"                # 3.12
case "$version" in
  3.12|3.13) ;;
  *) echo "$0: cannot tell the Python version from $python_real" >&2; exit 1 ;;
esac
prefix="$(dirname "$(dirname "$python_real")")"

export "INTERPSAN_PYTHON${version/./}=$prefix"
export INTERPSAN_RUNNER="$here/$runner_rel"
export INTERPSAN_TEST_PYTHON_VERSION="$version"
export INTERPSAN_TEST_LAUNCHER="$here/$launcher_rel"
export INTERPSAN_TEST_EXTENSIONS="$here/$(dirname "$extension_rel")"
export INTERPSAN_TEST_PROGRAMS="$here/$(dirname "$test_rel")/programs"
# tools/suppressions/*.supp, next to the launcher's real path in the source
# tree.
export INTERPSAN_TEST_SUPPRESSIONS="$(dirname "$(realpath "$launcher_rel")")/suppressions"
export PYTHONDONTWRITEBYTECODE=1
unset PYTHONMALLOC PYTHONHOME PYTHONTRACEMALLOC INTERPSAN_TEST_FAULT_IN_HANDLER

cd "$here/$(dirname "$test_rel")"
exec "$python_real" -B "$(basename "$test_rel")" "$@"
