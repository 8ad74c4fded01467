#!/usr/bin/env bash
# Installs what interpsan needs from Debian's packages, if missing: Bazel
# (offline bootstrap build), libunwind, GoogleTest, a C++ compiler and
# addr2line. Quiet when everything is there. Used by tools/interpsan,
# tests/run_all.sh and .ci/run.
set -euo pipefail

PACKAGES=(bazel-bootstrap libunwind-dev libgtest-dev libbenchmark-dev g++ binutils)
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
echo "interpsan: installing ${missing[*]} (first use)..." >&2
log="${TMPDIR:-/tmp}/interpsan-apt.log"
if ! { as_root apt-get update && as_root apt-get install -y "${missing[@]}"; } >"$log" 2>&1; then
  tail -20 "$log" >&2
  echo "interpsan: error: could not install ${missing[*]}; see $log" >&2
  exit 2
fi
