#!/usr/bin/env bash
# Creates one virtual environment per CPython version (pyenv's 3.12.x and
# 3.13.x, as tools/interpsan finds them), installs the pinned packages of
# requirements.txt into it from PyPI, and builds the framework test modules
# (src/: Cython and pybind11) into its site-packages. The only step that
# needs the network is the pip install; a venv whose inputs did not change
# since its last set-up is reused as is (a stamp holds their hash).
#
#   tests/frameworks/setup_venvs.sh [3.12 3.13]
#
# Prints the venvs' python paths, one a line. Environment:
#   INTERPSAN_FRAMEWORK_VENVS  where the venvs go
#                              (default: ~/.cache/interpsan/frameworks)
#   INTERPSAN_PYTHON312/313    prefix of a CPython (default: pyenv's)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../venv_suite.sh"

inputs_hash() {  # what the venv is made of: pins, sources, build script
  # and the checkout they are in: the modules' debug information names their
  # sources by absolute path, which the tests compare with this checkout's.
  { echo "$here"; cd "$here" && cat requirements.txt build_modules.py src/*; } | sha256sum | cut -d' ' -f1
}

build() {  # VENV: the pinned packages, then the modules into site-packages
  local venv="$1"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$here/requirements.txt" >&2
  "$venv/bin/python" "$here/build_modules.py" >"$venv/build.log" 2>&1 || {
    cat "$venv/build.log" >&2
    echo "setup_venvs: building the framework modules failed" >&2
    exit 1
  }
}

venv_suite_setup \
  "${INTERPSAN_FRAMEWORK_VENVS:-${XDG_CACHE_HOME:-$HOME/.cache}/interpsan/frameworks}" \
  .interpsan-frameworks-stamp inputs_hash build "$@"
