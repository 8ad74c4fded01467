# Sourced by the suites that need a virtual environment per CPython version
# (tests/frameworks, tests/realworld): one way to set up and reuse the venvs
# (setup_venvs.sh) and one way to run a suite's unittest driver and print
# its tally (run_tests.sh).

# base_python X.Y: the same CPython tools/interpsan --python X.Y uses.
source "$(dirname "${BASH_SOURCE[0]}")/base_python.sh"

# venv_suite_setup ROOT STAMP HASH_FN BUILD_FN [X.Y ...]
# For each version (default 3.12 3.13): ROOT/pyX.Y, a venv of base_python
# X.Y, made by `python -m venv` then `BUILD_FN VENV` (which installs and
# builds what the suite needs; output on stderr). It is reused as is while
# HASH_FN's output (what the venv is made of) and the CPython's version are
# those its stamp file VENV/STAMP recorded at its last set-up. Prints each
# venv's python, one a line.
venv_suite_setup() {
  local root="$1" stamp_name="$2" hash_fn="$3" build_fn="$4"
  shift 4
  local versions=("$@") version python venv stamp want
  [[ ${#versions[@]} -gt 0 ]] || versions=(3.12 3.13)
  for version in "${versions[@]}"; do
    python="$(base_python "$version")"
    venv="$root/py$version"
    stamp="$venv/$stamp_name"
    want="$("$hash_fn") $("$python" -c 'import sys; print(sys.version.split()[0])')"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$venv/bin/python" ]]; then
      echo "$venv/bin/python"
      continue
    fi
    echo "setup_venvs: setting up $venv" >&2
    rm -rf "$venv"
    mkdir -p "$root"
    "$python" -m venv "$venv" >&2
    "$build_fn" "$venv"
    echo "$want" >"$stamp"
    echo "$venv/bin/python"
  done
}

# venv_suite_run TITLE PYTHON DRIVER.py
# Runs the unittest driver with PYTHON (-B -v), its output shown as it
# goes, then prints "TITLE: N passed, M failed" (no "Ran N tests" line:
# "0 passed, 1 failed"). Returns 0 only if every test passed.
venv_suite_run() {
  local title="$1" python="$2" driver="$3" log status ran bad
  log="$(mktemp)"
  "$python" -B "$driver" -v 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  ran=$(sed -nE 's/^Ran ([0-9]+) tests?.*/\1/p' "$log" | tail -1)
  bad=$(grep -cE "^(FAIL|ERROR):" "$log")
  rm -f "$log"
  if [[ -z "$ran" ]]; then
    echo "$title: 0 passed, 1 failed"
    return 1
  fi
  echo "$title: $((ran - bad)) passed, $bad failed"
  [[ $status -eq 0 && $bad -eq 0 ]]
}

# venv_suite_main TITLE DIR DRIVER.py [X.Y ...]
# A suite's run_tests.sh: sets up the venvs (DIR/setup_venvs.sh X.Y ...)
# and runs DIR/DRIVER.py with the last one's python (venv_suite_run). A
# failed set-up ends with "TITLE: 0 passed, 1 failed (set-up failed)".
venv_suite_main() {
  local title="$1" dir="$2" driver="$3" python
  shift 3
  python="$("$dir/setup_venvs.sh" "$@" | tail -1)" || {
    echo "$title: 0 passed, 1 failed (set-up failed)"
    return 1
  }
  venv_suite_run "$title" "$python" "$dir/$driver"
}
