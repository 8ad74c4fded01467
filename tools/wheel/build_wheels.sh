#!/usr/bin/env bash
# Builds interpsan's wheels from this checkout, Bazel doing the compiling:
#
#   tools/wheel/build_wheels.sh [3.12] [3.13]     (default: both)
#
# gives dist/interpsan-VERSION-cp312-cp312-linux_x86_64.whl and ...cp313...
# Install one with `pip install dist/interpsan-*-cp312-*.whl` into any venv
# of that CPython version: `interpsan run/exec/report` and `python -m
# interpsan` then work with no checkout, Bazel or compiler.
#
# What goes in (tools/wheel/pyproject.toml lists it): the entry point
# (tools/wheel/interpsan/), the supervisor scripts from tools/ unchanged, the
# suppressions, and what `bazel build --config=pyXY` makes of
# //tools/runner:interpsan_runner, //tools/runner:libinterpsan_preload.so and
# //tools/example:fastcache.so. The build backend (setuptools, pinned in
# tools/wheel/build-requirements.txt) runs in a build venv per version under
# ${XDG_CACHE_HOME:-~/.cache}/interpsan/wheel-build.
#
# Platform tag linux_x86_64, not manylinux: the runner links against the
# libpython3.X.so of the CPython it was built with (here pyenv's; this
# machine has no manylinux/distribution CPython to build against) and against
# the system's libunwind.so.8 and libstdc++, so the wheel is for machines
# like this one: glibc Linux x86-64 with libunwind8 installed and a CPython
# 3.X built with --enable-shared.
#
# Environment: INTERPSAN_PYTHON312/313 as for tools/interpsan (prefix of the
# CPython to build against); DIST_DIR (default ROOT/dist).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIST_DIR="${DIST_DIR:-$ROOT/dist}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/interpsan/wheel-build"
VERSIONS=("$@")
[[ ${#VERSIONS[@]} -gt 0 ]] || VERSIONS=(3.12 3.13)

die() { echo "build_wheels: error: $*" >&2; exit 2; }

for v in "${VERSIONS[@]}"; do
  case "$v" in 3.12|3.13) ;; *) die "unknown Python version '$v' (supported: 3.12, 3.13)" ;; esac
done

# The same CPython the launcher (and python_configure.bzl) would pick.
find_python() {
  local version="$1" prefix
  prefix="$("$ROOT/tools/setup/python_prefix.sh" "$version" || true)"
  [[ -n "$prefix" && -x "$prefix/bin/python$version" ]] ||
    die "CPython $version not found (install it with pyenv, or set INTERPSAN_PYTHON${version/./} to its prefix)"
  echo "$prefix/bin/python$version"
}

"$ROOT/tools/setup/install_prerequisites.sh"
mkdir -p "$DIST_DIR" "$CACHE"
STAGES=()
cleanup() { for s in "${STAGES[@]}"; do rm -rf "$s"; done; }
trap cleanup EXIT

package_version="$(tr -d ' \n' < "$ROOT/tools/wheel/VERSION")"
commit="$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
if [[ "$commit" != unknown && -n "$(git -C "$ROOT" status --porcelain -- . 2>/dev/null)" ]]; then
  commit="$commit+modified"
fi

for version in "${VERSIONS[@]}"; do
  tag="py${version/./}"
  python="$(find_python "$version")"
  echo "build_wheels: $version: bazel build --config=$tag" >&2
  (cd "$ROOT" && bazel build --config="$tag" //tools/runner:interpsan_runner \
      //tools/runner:libinterpsan_preload.so //tools/example:fastcache.so)
  bin="$(cd "$ROOT" && bazel info --config="$tag" bazel-bin 2>/dev/null)"

  # Build venv with the pinned backend (re-made when the pins change).
  venv="$CACHE/venv-$version"
  want="$(cat "$ROOT/tools/wheel/build-requirements.txt")"
  if [[ ! -x "$venv/bin/python" || "$(cat "$venv/.requirements" 2>/dev/null)" != "$want" ]]; then
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      -r "$ROOT/tools/wheel/build-requirements.txt"
    printf '%s' "$want" > "$venv/.requirements"
  fi

  # Stage the wheel's tree: tools/ here mirrors the checkout's tools/ and
  # bazel-bin/tools/, so the supervisor's paths relative to the runner hold.
  stage="$(mktemp -d "${TMPDIR:-/tmp}/interpsan-wheel-$tag.XXXXXX")"
  STAGES+=("$stage")
  cp "$ROOT/tools/wheel/pyproject.toml" "$ROOT/tools/wheel/setup.py" \
     "$ROOT/tools/wheel/README.md" "$stage/"
  pkg="$stage/interpsan"
  mkdir -p "$pkg"/tools/{supervisor,report/assets,runner,suppressions,example} "$pkg/debug/include"
  cp "$ROOT"/tools/wheel/interpsan/*.py "$pkg/"
  cp "$ROOT/tools/supervisor/interpsan.py" "$pkg/tools/supervisor/"
  cp "$ROOT"/tools/report/*.py "$pkg/tools/report/"
  cp "$ROOT"/tools/report/assets/* "$pkg/tools/report/assets/"
  cp "$ROOT"/tools/suppressions/*.supp "$pkg/tools/suppressions/"
  cp "$ROOT/tools/example/demo.py" "$pkg/tools/example/"
  cp "$ROOT/debug/include/Python.h" "$pkg/debug/include/"
  cp "$ROOT/debug/events_schema.json" "$pkg/debug/"
  cp "$ROOT/debug/checks.inc" "$pkg/debug/"
  install -m 0755 "$bin/tools/runner/interpsan_runner" "$bin/tools/runner/libinterpsan_preload.so" "$pkg/tools/runner/"
  install -m 0755 "$bin/tools/example/fastcache.so" "$pkg/tools/example/"
  "$python" - "$pkg/_build_info.json" "$package_version" "$version" "$commit" <<'EOF'
import json, sys, platform
path, version, python_version, commit = sys.argv[1:]
with open(path, "w") as f:
    json.dump({"version": version, "python_version": python_version,
               "python_build": platform.python_version(), "commit": commit}, f, indent=1)
    f.write("\n")
EOF

  rm -f "$DIST_DIR"/interpsan-*-cp${version/./}-*.whl
  "$venv/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-deps \
    --no-build-isolation --no-index -w "$DIST_DIR" "$stage"
  ls "$DIST_DIR"/interpsan-*-cp${version/./}-*.whl
done
