# Sourced by the test set-up scripts (tests/frameworks, tests/realworld):
# base_python X.Y prints the CPython X.Y executable that `tools/interpsan
# --python X.Y` uses ($INTERPSAN_PYTHON3XX's prefix, else pyenv's newest
# X.Y.Z), or says it is missing on stderr and returns 1.
base_python() {
  local version="$1" prefix
  prefix="$("$(dirname "${BASH_SOURCE[0]}")/../tools/setup/python_prefix.sh" "$version" || true)"
  if [[ -z "$prefix" || ! -x "$prefix/bin/python$version" ]]; then
    echo "setup_venvs: CPython $version not found" >&2
    return 1
  fi
  echo "$prefix/bin/python$version"
}
