#!/usr/bin/env bash
# Installs what interpsan needs from Debian's packages, if missing: Bazel
# (offline bootstrap build), libunwind, GoogleTest, a C++ compiler and
# addr2line. Quiet when everything is there. Used by tools/interpsan,
# tests/run_all.sh and .ci/run.
#
#   tools/setup/install_prerequisites.sh          Debian's packages
#   tools/setup/install_prerequisites.sh --tests  and clang-format, and the test venvs: one per
#       CPython (3.12, 3.13: $INTERPSAN_PYTHON3XX or pyenv's newest) in
#       .venvs/tests-3.X of the checkout, with tests/requirements.txt's
#       pinned packages from PyPI. Re-created when the requirements or the
#       base CPython change; a failure is an error (status 2), never a skip.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
with_tests=0
case "${1:-}" in
  "") ;;
  --tests) with_tests=1 ;;
  *) echo "usage: $0 [--tests]" >&2; exit 2 ;;
esac

PACKAGES=(bazel-bootstrap libunwind-dev libgtest-dev libbenchmark-dev g++ binutils)
# The test command also checks the C/C++ formatting (tests/check_format.sh).
[[ $with_tests -eq 1 ]] && PACKAGES+=(clang-format)
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
  echo "interpsan: installing ${missing[*]} (first use)..." >&2
  log="${TMPDIR:-/tmp}/interpsan-apt.log"
  if ! { as_root apt-get update && as_root apt-get install -y "${missing[@]}"; } >"$log" 2>&1; then
    tail -20 "$log" >&2
    echo "interpsan: error: could not install ${missing[*]}; see $log" >&2
    exit 2
  fi
fi
[[ $with_tests -eq 1 ]] || exit 0

# ---- the test venvs -----------------------------------------------------------
requirements="$ROOT/tests/requirements.txt"
for version in 3.12 3.13; do
  prefix="$("$ROOT/tools/setup/python_prefix.sh" "$version" || true)"
  base="$prefix/bin/python$version"
  if [[ -z "$prefix" || ! -x "$base" ]]; then
    echo "interpsan: error: CPython $version not found for the test venvs (install it with pyenv, or set INTERPSAN_PYTHON${version/./})" >&2
    exit 2
  fi
  venv="$ROOT/.venvs/tests-$version"
  stamp="$(realpath "$base") $(sha256sum "$requirements" | cut -d' ' -f1)"
  if [[ -x "$venv/bin/python" && "$(cat "$venv/.interpsan-stamp" 2>/dev/null)" == "$stamp" ]]; then
    continue
  fi
  echo "interpsan: creating the test venv $venv (tests/requirements.txt)..." >&2
  log="${TMPDIR:-/tmp}/interpsan-venv-$version.log"
  rm -rf "$venv"
  if ! { "$base" -m venv "$venv" &&
         "$venv/bin/python" -m pip install --disable-pip-version-check --no-input \
           -r "$requirements"; } >"$log" 2>&1; then
    tail -20 "$log" >&2
    echo "interpsan: error: could not create the test venv $venv; see $log" >&2
    exit 2
  fi
  echo "$stamp" >"$venv/.interpsan-stamp"
done
