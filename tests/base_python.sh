# Sourced by the test set-up scripts (tests/frameworks, tests/realworld):
# base_python X.Y prints the CPython X.Y executable that `tools/interpsan
# --python X.Y` uses ($INTERPSAN_PYTHON3XX's prefix, else pyenv's newest
# X.Y.Z), or says it is missing on stderr and returns 1.
base_python() {
  local version="$1" var="INTERPSAN_PYTHON${1/./}" prefix=""
  if [[ -n "${!var:-}" ]]; then
    prefix="${!var}"
  else
    local root="${PYENV_ROOT:-$HOME/.pyenv}"
    prefix="$(ls -d "$root/versions/$version".* 2>/dev/null | grep -E "/$version\.[0-9]+$" | sort -V | tail -1 || true)"
  fi
  if [[ -z "$prefix" || ! -x "$prefix/bin/python$version" ]]; then
    echo "setup_venvs: CPython $version not found" >&2
    return 1
  fi
  echo "$prefix/bin/python$version"
}
