#!/usr/bin/env bash
# The pip-installed interpsan, end to end (see wheel_test.py):
#   tests/wheel/wheel_test.sh [--no-build] [3.12] [3.13]
# Builds dist/ with tools/wheel/build_wheels.sh, installs each wheel into a fresh
# venv and runs the bundled example and a pytest suite with no Bazel on PATH.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Any CPython 3.12/3.13 can drive the test; each venv uses its own version.
root="${PYENV_ROOT:-$HOME/.pyenv}"
python="$(ls -d "$root"/versions/3.1[23].* 2>/dev/null | grep -E '/3\.1[23]\.[0-9]+$' | sort -V | tail -1 || true)"
if [[ -n "${INTERPSAN_PYTHON312:-}" ]]; then python="$INTERPSAN_PYTHON312"; fi
[[ -n "$python" ]] || { echo "wheel_test: no CPython 3.12/3.13 found" >&2; exit 2; }
exec "$python/bin/python3" "$ROOT/tests/wheel/wheel_test.py" "$@"
