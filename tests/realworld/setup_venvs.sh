#!/usr/bin/env bash
# Creates one virtual environment per CPython version (pyenv's 3.12.x and
# 3.13.x, as tools/interpsan finds them) holding the extensions of
# requirements.txt built from their sdists (pip --no-binary :all:, build
# back-end pinned in test-requirements.txt, no build isolation), pytest, and
# a copy of each project's own test directory (and pytest config) from the
# same sdist under VENV/suites/NAME, so that the tests import the installed,
# compiled package and never the sdist's source tree.
#
#   tests/realworld/setup_venvs.sh [3.12 3.13]
#
# Prints the venvs' python paths, one a line. The only step that needs the
# network is pip; a venv whose inputs did not change is reused (stamp).
# Builds one sdist at a time. Environment:
#   INTERPSAN_REALWORLD_VENVS  where the venvs go
#                              (default: ~/.cache/interpsan/realworld)
#   INTERPSAN_PYTHON312/313    prefix of a CPython (default: pyenv's)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../venv_suite.sh"

inputs_hash() {  # the pins and the set-up itself
  cat "$here/requirements.txt" "$here/test-requirements.txt" "$here/setup_venvs.sh" |
    sha256sum | cut -d' ' -f1
}

build() {  # VENV: the sdists built one at a time, each project's own tests
  local venv="$1" pin name archive top part
  local pip=("$venv/bin/python" -m pip --disable-pip-version-check --quiet)
  "${pip[@]}" install -r "$here/test-requirements.txt" >&2
  mkdir -p "$venv/sdists" "$venv/suites"
  grep -vE '^\s*(#|$)' "$here/requirements.txt" | while read -r pin; do
    name="${pin%%==*}"
    "${pip[@]}" download --no-deps --no-binary :all: --no-build-isolation -d "$venv/sdists" "$pin" >&2
    archive="$(ls "$venv/sdists/"*.tar.gz | grep -i "/${name//-/[-_]}-" | sed -n 1p)"
    "${pip[@]}" install --no-deps --no-build-isolation "$archive" >&2
    # The project's own tests, from the sdist that was built.
    top="$(tar tzf "$archive" | sed -n '1s#/.*##p')"
    tar xzf "$archive" -C "$venv/sdists"
    mkdir -p "$venv/suites/$name"
    for part in tests test pytest.ini conftest.py; do
      if [[ -e "$venv/sdists/$top/$part" ]]; then cp -r "$venv/sdists/$top/$part" "$venv/suites/$name/"; fi
    done
  done
}

venv_suite_setup \
  "${INTERPSAN_REALWORLD_VENVS:-${XDG_CACHE_HOME:-$HOME/.cache}/interpsan/realworld}" \
  .interpsan-realworld-stamp inputs_hash build "$@"
