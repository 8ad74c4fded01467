#!/usr/bin/env bash
# The one place that decides which CPython X.Y interpsan builds and runs with:
#
#   tools/setup/python_prefix.sh X.Y
#
# prints its prefix: $INTERPSAN_PYTHON<X><Y> if set, else pyenv's newest
# X.Y.Z ($PYENV_ROOT, default ~/.pyenv). Prints nothing and exits 1 if there
# is none. Runs in whatever process asks: the launcher, the set-up scripts,
# the benchmarks, and Bazel's repository rule (third_party/python_configure.bzl).
set -euo pipefail
version="${1:?usage: python_prefix.sh X.Y}"
var="INTERPSAN_PYTHON${version/./}"
if [[ -n "${!var:-}" ]]; then
  echo "${!var}"
  exit 0
fi
root="${PYENV_ROOT:-$HOME/.pyenv}"
prefix="$(ls -d "$root/versions/$version".* 2>/dev/null | grep -E "/$version\.[0-9]+$" | sort -V | tail -1 || true)"
[[ -n "$prefix" ]] || exit 1
echo "$prefix"
