"""Runs each project's own test suite (suites.py) under plain python and
under interpsan (`run -n 4 --keep-going --report`) in one version's venv,
and writes what happened to OUT/NAME.json: the baseline's counts, each
interpreter's counts, exit status, report directory, and the findings.

    python3 tests/realworld/run_suites.py --version 3.13 --out DIR [NAME...]

Used by test_realworld.py; runnable alone to look at a project.
"""

import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # tests/, for cli_testing

import cli_testing  # noqa: E402
from suites import SUITES, args_for  # noqa: E402

SUMMARY_RE = re.compile(r"^(?:=+ )?(\d+ \w+.*) in [0-9.]+s")


def setup_venv(version):
    out = subprocess.run(
        [os.path.join(HERE, "setup_venvs.sh"), version],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    return out.strip().splitlines()[-1]


def pytest_counts(output):
    """pytest's closing line -> {"passed": n, "failed": n, ...}."""
    counts = {}
    for line in output.splitlines():
        m = SUMMARY_RE.match(line.strip())
        if m:
            counts = {}
            for part in m.group(1).split(","):
                num, _, what = part.strip().partition(" ")
                if num.isdigit():
                    counts[what] = int(num)
    return counts


def run_project(version, venv_python, name, out_dir, timeout=3600):
    suite = SUITES[name]
    cwd = os.path.join(os.path.dirname(os.path.dirname(venv_python)), "suites", name)
    pytest_args = ["-m", "pytest", "-p", "no:cacheprovider", "-q"] + args_for(name, version)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.update(suite["env"])

    baseline = subprocess.run(
        [venv_python] + pytest_args,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    base_counts = pytest_counts(baseline.stdout)

    report_dir = os.path.join(out_dir, "%s-report" % name)
    os.makedirs(report_dir, exist_ok=True)
    python_args = ["--python", venv_python]
    args = (
        [cli_testing.LAUNCHER]
        + python_args
        + [
            "run",
            "-n",
            "4",
            "--keep-going",
            "--report",
            report_dir,
            "--timeout",
            str(timeout - 60),
            "--",
        ]
        + pytest_args
    )
    result = cli_testing.run(args, env, timeout, report_dir=report_dir, cwd=cwd)
    record = {
        "project": name,
        "version": version,
        "command": args,
        "cwd": cwd,
        "baseline": {
            "status": baseline.returncode,
            "counts": base_counts,
            "tail": baseline.stdout[-3000:],
        },
        "status": result.status,
        "report_dir": report_dir,
        "stderr_tail": result.stderr[-6000:],
        "interpreters": (result.report or {}).get("interpreters"),
        "violations": (result.report or {}).get("violations"),
        "suppressed": (result.report or {}).get("suppressed"),
    }
    with open(os.path.join(out_dir, name + ".json"), "w", encoding="utf-8") as f:
        json.dump(record, f, indent=1)
    return record


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--version", required=True, choices=["3.12", "3.13"])
    parser.add_argument("--out", required=True)
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    venv_python = setup_venv(args.version)
    for name in args.names or list(SUITES):
        r = run_project(args.version, venv_python, name, args.out)
        print(
            "%s %s: baseline %s; interpsan exit %s; %s"
            % (
                name,
                args.version,
                r["baseline"]["counts"],
                r["status"],
                [i.get("tests") for i in r["interpreters"] or []],
            )
        )
        print("  violations: %d" % len(r["violations"] or []))


if __name__ == "__main__":
    main()
