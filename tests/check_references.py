#!/usr/bin/env python3
"""Fails when a comment or document in the repository points at a file that
is not in it (issue 12: "no comment points at a file that is not there").

What counts as a reference, and why:
- a path that starts with one of the repository's top-level folders
  (`debug/report.cc`, `tools/supervisor/interpsan.py`): it must exist;
- a bare file name with an extension only our own kind of file has
  (`event_log.h`, `report.cc`, `PRODUCT.md`, `checks.inc`): some file of that
  name must exist in the repository, unless it is in EXTERNAL below with a
  reason. Bare `.c`, `.py`, `.sh` and `.txt` names are not checked: in prose
  they are mostly CPython's files (`getargs.c`) or placeholders (`app.py`).

Only comments are read in source files (`//`, `/* */`, `#`, and in Python
the text of triple-quoted strings, docstrings included): other string
literals name files the tests create at run time. Markdown is read whole,
outside fenced code blocks.

Usage: tests/check_references.py [ROOT]   (exit 1 and one line per stale
reference; exit 0 and a count when all resolve)
"""

import os
import re
import sys

TOP_LEVEL = (
    "runtime",
    "debug",
    "faulthandler",
    "tracemalloc",
    "tools",
    "tests",
    "third_party",
    ".ci",
)
EXTENSIONS = ("cc", "h", "c", "py", "md", "sh", "bzl", "inc", "supp", "txt")
BARE_CHECKED = (".cc", ".h", ".md", ".inc", ".supp", ".bzl")
# CPython source folders: a reference under them is CPython's, not ours.
CPYTHON_DIRS = (
    "Python",
    "Objects",
    "Modules",
    "Include",
    "Lib",
    "Parser",
    "Programs",
    "Misc",
    "Tools",
    "PC",
    "Doc",
)
# Files that are not ours and are named without a CPython folder. Each is
# named on purpose: a new entry needs a reason.
EXTERNAL = {
    "Python.h": "CPython's public header (we also ship a wrapper in debug/include)",
    "pyconfig.h": "CPython's build configuration header",
    "getpath.py": "CPython's path calculation (Modules/getpath.py)",
    "site.py": "the stdlib's site module",
    "conftest.py": "pytest's per-directory configuration file name",
    "setup.py": "setuptools' build script name",
    "pyvenv.cfg": "a venv's configuration file",
    "allocator_interface.h": "the sanitizer runtimes' header (sanitizer/)",
    "pytypes.h": "pybind11's header (pybind11/pytypes.h, from PyPI)",
}
SKIP_DIRS = {
    ".git",
    "bazel-bin",
    "bazel-out",
    "bazel-testlogs",
    "dist",
    "build",
    "node_modules",
    "__pycache__",
    ".venvs",
}

PATH_RE = re.compile(
    r"(?<![\w./-])((?:%s)/[\w./<>*-]*\.(?:%s))(?![\w])"
    % ("|".join(re.escape(t) for t in TOP_LEVEL), "|".join(EXTENSIONS))
)
NAME_RE = re.compile(r"(?<![\w./%%-])((?:[\w-]+/)*[\w-]+\.(?:%s))(?![\w(])" % "|".join(EXTENSIONS))


def comments(path, text):
    """Yields (line number, comment text) for the comments of one file."""
    base = os.path.basename(path)
    if base.endswith(".md"):
        fenced = False
        for n, line in enumerate(text.splitlines(), 1):
            if line.lstrip().startswith("```"):
                fenced = not fenced
                continue
            if not fenced:
                yield n, re.sub(r"`[^`]*\$\([^`]*`", "", line)
        return
    if base.endswith((".cc", ".h", ".c", ".inc")):
        in_block = False
        for n, line in enumerate(text.splitlines(), 1):
            if in_block:
                end = line.find("*/")
                yield n, line if end < 0 else line[:end]
                in_block = end < 0
                continue
            start = line.find("/*")
            slashes = line.find("//")
            if slashes >= 0 and (start < 0 or slashes < start):
                if '"' not in line[:slashes]:
                    yield n, line[slashes:]
            elif start >= 0:
                end = line.find("*/", start)
                yield n, line[start:] if end < 0 else line[start:end]
                in_block = end < 0
        return
    if (
        base.endswith((".py", ".sh", ".bzl"))
        or base in ("BUILD", "WORKSPACE")
        or base.startswith(".")
        or "." not in base
    ):
        in_triple = False
        for n, line in enumerate(text.splitlines(), 1):
            stripped = line.lstrip()
            if base.endswith(".py") and (line.count('"""') % 2 == 1 or in_triple):
                yield n, line
                if line.count('"""') % 2 == 1:
                    in_triple = not in_triple
                continue
            if stripped.startswith("#") and not stripped.startswith("#!"):
                yield n, stripped
            elif "  # " in line and line.count('"') % 2 == 0 and line.count("'") % 2 == 0:
                yield n, line[line.index("  # ") :]


def all_files(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith("bazel-")]
        for name in filenames:
            yield os.path.relpath(os.path.join(dirpath, name), root)


def check(root):
    files = list(all_files(root))
    names = {os.path.basename(f) for f in files}
    paths = set(files)
    stale = []
    checked = 0
    for rel in files:
        if rel.startswith("tests/check_references.py"):
            continue
        try:
            with open(os.path.join(root, rel), encoding="utf-8") as f:
                text = f.read()
        except (UnicodeDecodeError, OSError):
            continue
        for n, comment in comments(rel, text):
            for m in PATH_RE.finditer(comment):
                ref = m.group(1).rstrip(".")
                checked += 1
                if any(c in ref for c in "<>*") or re.search(r"\.X\b|XX|/[A-Z]+\.\w+$", ref):
                    continue  # a pattern, not one file
                if ref not in paths and not os.path.exists(os.path.join(root, ref)):
                    stale.append("%s:%d: %s" % (rel, n, ref))
            for m in NAME_RE.finditer(comment):
                ref = m.group(1)
                if "/" in ref:
                    first = ref.split("/", 1)[0]
                    if first in TOP_LEVEL or first in CPYTHON_DIRS:
                        continue  # a repository path (above) or CPython's
                    ref_name = os.path.basename(ref)
                else:
                    ref_name = ref
                if not ref_name.endswith(BARE_CHECKED):
                    continue
                if ref_name.startswith(("pycore_", "cpython/")):
                    continue  # CPython's internal headers
                checked += 1
                if ref_name in names or ref_name in EXTERNAL:
                    continue
                stale.append("%s:%d: %s" % (rel, n, ref))
    return checked, stale


def main(argv):
    root = (
        argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    )
    checked, stale = check(os.path.abspath(root))
    for line in stale:
        print("stale reference: " + line)
    if stale:
        print("check_references: %d of %d references point at nothing" % (len(stale), checked))
        return 1
    print("check_references: all %d file references resolve" % checked)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
