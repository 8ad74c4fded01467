#!/usr/bin/env python3
"""interpsan on a real extension's own test suite (stdlib only).

The suite is multidict's pytest suite (about 1,300 tests, C extension and
pure-Python variants), the extension built from its sdist in a venv per
CPython, with the versions pinned in tools/bench/bench_real_suite_requirements.txt.
In one run, interleaved (A B C ... A B C ..., the order rotated each
repetition), per CPython version:

  plain        VENV/bin/python -m pytest ...            (no interpsan)
  n1-none      tools/interpsan --python VENV/bin/python run -n 1 --checks none
  n1-all       ... -n 1 --checks all
  n1-CHECK     ... -n 1 --checks CHECK, for each check alone
  n4-*         the same with -n 4 (every interpreter runs the whole suite)

Every interpsan row runs through the whole command line (supervisor, report
and all), with --keep-going, as a user would. Per row: wall time and CPU
time (user+sys of everything the row started), medians over --reps; then
the ratios to `plain` and to `none` at the same -n. A row whose tests did
not all pass, or that found violations, is flagged: a fast wrong run is not
a result.

Set-up (first run, or --setup-only): python -m venv, pip install (multidict
built from source: --no-binary multidict), and the suite's tests/ taken from
the same sdist (pip download --no-binary). Cached in --work (default
~/.cache/interpsan/bench_real_suite).

usage: python3 tools/bench/bench_real_suite.py [--python 3.12] [--python 3.13]
           [--reps 1] [--only n1-none,n1-all,...] [--json FILE] [--work DIR]
           [--setup-only] [--audit changed|each-test|end]
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import bench_lib  # noqa: E402  (find_python, build_runner, private_copy)

LAUNCHER = os.path.join(ROOT, "tools", "interpsan")
REQUIREMENTS = os.path.join(HERE, "bench_real_suite_requirements.txt")
CHECKS = ("free", "domain", "dealloc", "capi", "refcount", "audit")
TARGET = 1.3  # issue 13: --checks all / --checks none, at -n 1 and -n 4

# The suite minus what needs other tools: the benchmarks (pytest-codspeed),
# mypy, and the leak tests and isolated scripts (objgraph in subprocesses).
PYTEST_ARGS = [
    # --capture=sys: pytest's default fd capture dup2()s the process-wide
    # file descriptors 1 and 2 around every test, so interpreters running
    # side by side in one process would capture (and lose) each other's
    # output. Every row, plain included, captures the same way.
    "-m",
    "pytest",
    "-q",
    "-p",
    "no:cacheprovider",
    "--capture=sys",
    "tests",
    "--ignore=tests/test_multidict_benchmarks.py",
    "--ignore=tests/test_views_benchmarks.py",
    "--ignore=tests/test_mypy.py",
    "--ignore=tests/isolated",
    "--ignore=tests/test_leaks.py",
]
# multidict's own pytest.ini turns on coverage and -W error; this is the
# part that runs the tests as its CI does, minus coverage.
PYTEST_INI = """\
[pytest]
markers =
    leaks: memory leak tests
    c_extension: tests running the C extension
xfail_strict = true
"""

log = bench_lib.log


def pinned(name):
    with open(REQUIREMENTS) as f:
        for line in f:
            line = line.split("#")[0].strip()
            if line.startswith(name + "=="):
                return line.split("==", 1)[1]
    raise SystemExit("bench: %s is not pinned in %s" % (name, REQUIREMENTS))


def setup(version, work):
    """The venv (multidict built from source) and the suite; returns
    (venv python, suite dir)."""
    base = bench_lib.find_python(version)
    venv = os.path.join(work, "venv-" + version)
    python = os.path.join(venv, "bin", "python")
    stamp = os.path.join(venv, ".requirements")
    with open(REQUIREMENTS) as f:
        wanted = f.read()
    if not (os.path.exists(stamp) and open(stamp).read() == wanted):
        log("creating %s (multidict built from its sdist) ..." % venv)
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([base, "-m", "venv", venv], check=True)
        subprocess.run(
            [
                python,
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "--no-binary",
                "multidict",
                "-r",
                REQUIREMENTS,
            ],
            check=True,
        )
        with open(stamp, "w") as f:
            f.write(wanted)
    version_md = pinned("multidict")
    suite = os.path.join(work, "multidict-%s-suite" % version_md)
    if not os.path.isdir(os.path.join(suite, "tests")):
        log("fetching multidict %s's test suite (its sdist) ..." % version_md)
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [
                    python,
                    "-m",
                    "pip",
                    "download",
                    "-q",
                    "--disable-pip-version-check",
                    "--no-deps",
                    "--no-binary",
                    ":all:",
                    "-d",
                    tmp,
                    "multidict==" + version_md,
                ],
                check=True,
            )
            sdist = os.path.join(tmp, "multidict-%s.tar.gz" % version_md)
            prefix = "multidict-%s/tests/" % version_md
            staging = suite + ".tmp"
            shutil.rmtree(staging, ignore_errors=True)
            os.makedirs(staging)
            with tarfile.open(sdist) as tar:
                members = [
                    m
                    for m in tar.getmembers()
                    if m.name.startswith(prefix) and (m.isfile() or m.isdir())
                ]
                for m in members:
                    m.name = m.name[len("multidict-%s/" % version_md) :]
                tar.extractall(staging, members=members)
            # Not the sdist's multidict/ package: the tests must import the
            # extension built in the venv.
            with open(os.path.join(staging, "pytest.ini"), "w") as f:
                f.write(PYTEST_INI)
            shutil.rmtree(suite, ignore_errors=True)
            os.rename(staging, suite)
    return python, suite


# ---- configurations --------------------------------------------------------------


def configs(python, version, audit):
    """[(name, argv, n)]: plain, then per -n: none, all, each check alone.
    With CPython's own known bugs suppressed, as a user's CI would run."""
    supp = os.path.join(ROOT, "tools", "suppressions", "cpython-%s.supp" % version)
    out = [("plain", [python] + PYTEST_ARGS, 0)]
    for n in (1, 4):
        for checks in ("none", "all") + CHECKS:
            argv = [
                LAUNCHER,
                "--python",
                python,
                "run",
                "-n",
                str(n),
                "--checks",
                checks,
                "--suppressions",
                supp,
                "--keep-going",
            ]
            if audit:
                argv += ["--audit", audit]
            out.append(("n%d-%s" % (n, checks), argv, n))
    return out


PASSED_RE = re.compile(r"(\d+) passed")
FAILED_RE = re.compile(r"(\d+) (failed|error)")


def run_once(name, argv, n, env, suite, tmp):
    """Runs one row; returns {wall, cpu, passed, failed, violations, status}."""
    cmd = list(argv)
    report = None
    if n:
        report = tempfile.mkdtemp(prefix="report-", dir=tmp)
        cmd = (
            cmd[: cmd.index("--keep-going") + 1]
            + ["--report", report]
            + cmd[cmd.index("--keep-going") + 1 :]
            + ["--"]
            + PYTEST_ARGS
        )
    proc, wall, cpu = bench_lib.timed_run(cmd, env, cwd=suite, merge_stderr=True)
    passed = sum(int(m) for m in PASSED_RE.findall(proc.stdout))
    failed = sum(int(m[0]) for m in FAILED_RE.findall(proc.stdout))
    violations = None
    if report:
        # The tests each interpreter ran, from report.json: the interpreters'
        # outputs share one stdout.
        try:
            with open(os.path.join(report, "report.json")) as f:
                data = json.load(f)
            violations = sum(v.get("count", 1) for v in data["violations"])
            counts = [i.get("tests", {}) for i in data["interpreters"]]
            failed = sum(c.get("failed", 0) + c.get("errors", 0) for c in counts)
            passed = (
                sum(c.get("run", 0) for c in counts)
                - failed
                - sum(c.get("skipped", 0) for c in counts)
            )
        except (OSError, ValueError, KeyError):
            violations = None
        shutil.rmtree(report, ignore_errors=True)
    result = {
        "wall": wall,
        "cpu": cpu,
        "passed": passed,
        "failed": failed,
        "violations": violations,
        "status": proc.returncode,
    }
    if proc.returncode != 0:
        result["tail"] = proc.stdout[-1500:]
    return result


def measure(version, args, tmp):
    python, suite = setup(version, args.work)
    if args.setup_only:
        return None
    runner = os.environ.get("INTERPSAN_RUNNER") if len(args.python) == 1 else None
    runner = bench_lib.private_copy(runner or bench_lib.build_runner(version), tmp, version)
    env = dict(os.environ)
    env["INTERPSAN_RUNNER"] = runner
    env.pop("PYTHONMALLOC", None)
    env.pop("PYTHONPATH", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    rows = configs(python, version, args.audit)
    if args.only:
        keep = set(args.only.split(","))
        rows = [r for r in rows if r[0] in keep or r[0] == "plain"]
    results = {name: [] for name, _, _ in rows}
    for rep in range(args.reps):
        order = rows[rep % len(rows) :] + rows[: rep % len(rows)]
        for name, argv, n in order:
            r = run_once(name, argv, n, env, suite, tmp)
            results[name].append(r)
            log(
                "%s rep %d %-12s wall %6.2fs cpu %6.2fs  %d passed%s%s  status %d"
                % (
                    version,
                    rep + 1,
                    name,
                    r["wall"],
                    r["cpu"],
                    r["passed"],
                    ", %d failed" % r["failed"] if r["failed"] else "",
                    ", %s violations" % r["violations"] if r["violations"] else "",
                    r["status"],
                )
            )
    return {
        "version": version,
        "python": python,
        "rows": [r[0] for r in rows],
        "results": results,
        "load": os.getloadavg(),
    }


def med(results, name, key):
    return statistics.median(r[key] for r in results[name])


def report(m, reps):
    res = m["results"]
    plain = res["plain"][0]["passed"]
    print(
        "\n== CPython %s: multidict %s's suite (%d tests per interpreter), "
        "medians of %d, load average %.1f/%.1f/%.1f =="
        % (m["version"], pinned("multidict"), plain, reps, *m["load"])
    )
    print(
        "%-12s %8s %8s %9s %9s %9s %9s  %s"
        % ("row", "wall s", "cpu s", "wall/plain", "cpu/plain", "wall/none", "cpu/none", "tests")
    )
    for name in m["rows"]:
        wall, cpu = med(res, name, "wall"), med(res, name, "cpu")
        n = name.split("-")[0]
        none = n + "-none" if name != "plain" else None
        ratios = [wall / med(res, "plain", "wall"), cpu / med(res, "plain", "cpu")]
        if none in res:
            ratios += [wall / med(res, none, "wall"), cpu / med(res, none, "cpu")]
        else:
            ratios += [float("nan")] * 2
        last = res[name][-1]
        expected = plain * (int(n[1:]) if name != "plain" else 1)
        note = "%d passed" % last["passed"]
        if last["passed"] != expected or last["failed"]:
            note += " (expected %d, %d failed: CHECK THIS ROW)" % (expected, last["failed"])
        if last["violations"]:
            note += ", %d violations" % last["violations"]
        if last["status"] not in (0, 3):
            note += ", exit status %d" % last["status"]
        print(
            "%-12s %8.2f %8.2f %9.2f %9.2f %9.2f %9.2f  %s"
            % ((name, wall, cpu) + tuple(ratios) + (note,))
        )
    for n in ("n1", "n4"):
        if n + "-all" in res and n + "-none" in res:
            r = med(res, n + "-all", "wall") / med(res, n + "-none", "wall")
            # Paired: each repetition's all / none (run next to each other,
            # under the same neighbours), then the median.
            pairs = list(zip(res[n + "-all"], res[n + "-none"]))
            pw = statistics.median(a["wall"] / b["wall"] for a, b in pairs)
            pc = statistics.median(a["cpu"] / b["cpu"] for a, b in pairs)
            print(
                "%s: --checks all / --checks none = %.2fx wall (paired %.2fx; cpu paired "
                "%.2fx) (target <= %.2f on wall: %s)"
                % (
                    n.replace("n", "-n "),
                    r,
                    pw,
                    pc,
                    TARGET,
                    "holds" if r <= TARGET else "DOES NOT HOLD",
                )
            )


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--python", action="append", choices=("3.12", "3.13"))
    p.add_argument("--reps", type=int, default=1)
    p.add_argument("--only", help="comma list of rows (plain always runs)")
    p.add_argument(
        "--audit",
        choices=("changed", "each-test", "end"),
        help="pass --audit to every interpsan row (default: interpsan's)",
    )
    p.add_argument("--json")
    p.add_argument("--work", default=os.path.expanduser("~/.cache/interpsan/bench_real_suite"))
    p.add_argument("--setup-only", action="store_true")
    args = p.parse_args(argv)
    args.python = args.python or ["3.12", "3.13"]
    os.makedirs(args.work, exist_ok=True)
    out = []
    with tempfile.TemporaryDirectory(prefix="bench-real-suite-") as tmp:
        for version in args.python:
            m = measure(version, args, tmp)
            if m is not None:
                report(m, args.reps)
                out.append(m)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
