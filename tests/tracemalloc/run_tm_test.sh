#!/usr/bin/env bash
# Runs one tracemalloc test file (stdlib unittest) against the build selected
# with --config=py312 / --config=py313. Everything comes from runfiles:
#
#   run_tm_test.sh PYTHON RUNNER LAUNCHER LEAKY_SO TEST_FILE [unittest args]
#
# PYTHON is //:python_interpreter (a symlink into the CPython prefix); the
# version (--python X.Y) is taken from its file name and the prefix
# (INTERPSAN_PYTHON3XX) from its real path, so the launcher and the runner
# use exactly the CPython the build was configured for. INTERPSAN_RUNNER
# keeps the launcher from invoking Bazel inside a test.
set -euo pipefail

if [[ $# -lt 5 ]]; then
  echo "usage: $0 PYTHON RUNNER LAUNCHER LEAKY_SO TEST_FILE [ARGS...]" >&2
  exit 2
fi
python_rel="$1" runner_rel="$2" launcher_rel="$3" leaky_rel="$4" test_rel="$5"
shift 5

here="$PWD"  # the runfiles tree of this workspace (Bazel's test cwd)
python_real="$(realpath "$python_rel")"
python_name="$(basename "$python_real")"       # python3.12
version="${python_name#python}"                # 3.12
case "$version" in
  3.12|3.13) ;;
  *) echo "run_tm_test.sh: cannot tell the Python version from $python_real" >&2; exit 1 ;;
esac
prefix="$(dirname "$(dirname "$python_real")")"

export "INTERPSAN_PYTHON${version/./}=$prefix"
export INTERPSAN_RUNNER="$here/$runner_rel"
export INTERPSAN_TM_PYTHON_VERSION="$version"
export INTERPSAN_TM_LAUNCHER="$here/$launcher_rel"
export INTERPSAN_TM_EXTENSIONS="$here/$(dirname "$leaky_rel")"
export INTERPSAN_TM_PROGRAMS="$here/$(dirname "$test_rel")/programs"
export PYTHONDONTWRITEBYTECODE=1
unset PYTHONMALLOC PYTHONHOME PYTHONTRACEMALLOC

cd "$here/$(dirname "$test_rel")"
exec "$python_real" -B "$(basename "$test_rel")" "$@"
