#!/usr/bin/env bash
# Fails when a C or C++ file of ours is not formatted as the checked-in
# .clang-format says (Google style), or a Python file as `ruff format` with
# the checked-in .ruff.toml says; prints the files and the command that
# fixes them. third_party/ is not ours; .inc fragments (the X-macro check
# table, the shim's shared body) are laid out by hand as tables; the
# programs the tests run keep their line numbers (.ruff.toml). Run by
# tests/run_all.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || {
  echo "check_format: clang-format is missing (tools/setup/install_prerequisites.sh --tests installs it)"
  exit 1
}
bad=()
while IFS= read -r f; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done < <(git ls-files '*.cc' '*.h' '*.c' | grep -v '^third_party/')
if [[ ${#bad[@]} -gt 0 ]]; then
  printf 'not formatted: %s\n' "${bad[@]}"
  echo "check_format: ${#bad[@]} files; fix with: clang-format -i ${bad[*]}"
  exit 1
fi
ruff="$PWD/.venvs/tests-3.12/bin/ruff"
[[ -x "$ruff" ]] || {
  echo "check_format: $ruff is missing (tools/setup/install_prerequisites.sh --tests installs it)"
  exit 1
}
if ! "$ruff" format --check --quiet . >/dev/null 2>&1; then
  "$ruff" format --check . 2>&1 | grep -E '^(Would reformat|unformatted)|-->' | head -40
  echo "check_format: Python files not formatted; fix with: $ruff format ."
  exit 1
fi
echo "check_format: every C/C++ and Python file is formatted"
