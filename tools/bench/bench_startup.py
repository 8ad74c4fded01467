#!/usr/bin/env python3
"""Start-up cost of interpsan against plain python (stdlib only).

Issue 13 holds the runner's own start-up to at most 50 ms over plain
python. In one run, interleaved (A B C D A B C D ..., the order rotated each
repetition), per CPython version, each running `-c pass`:

  plain        pythonX.Y -c pass
  runner-none  the runner, -n 1 --checks none -c pass
  runner-all   the runner, -n 1 --checks all -c pass
  launcher     tools/interpsan --python X.Y run -n 1 -- -c pass (the whole
               command: launcher, supervisor, runner, report; the runner
               given by INTERPSAN_RUNNER, so no Bazel call)

Wall time of the whole process (median of --reps, default 11) and CPU time
(user+sys); then each row's difference from plain in ms and ratio, as the
ratio of medians and the median of the per-repetition (paired) ratios.
The runner's options come in its environment (INTERPSAN_OPTIONS), not
through `env`, so no extra exec is counted.

A benchmark is not a test: the exit status is 0 whatever the numbers are.

usage: python3 tools/bench/bench_startup.py [--python 3.12] [--python 3.13]
           [--reps 11] [--warmup 2] [--runner PATH] [--json FILE]
           [--no-launcher]
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_lib as lib  # noqa: E402

TARGET_MS = 50.0  # the runner's own start-up over plain python

LABELS = {
    "plain": "plain pythonX.Y -c pass",
    "runner-none": "runner -n 1 --checks none -c pass",
    "runner-all": "runner -n 1 --checks all -c pass",
    "launcher": "tools/interpsan run -n 1 -- -c pass",
}


def configs_for(version, python, runner, tmpdir):
    """[(name, argv, environment, executable or None)]."""
    env = lib.clean_env(runner)

    def runner_env(checks):
        e = dict(env)
        e["INTERPSAN_OPTIONS"] = "interpreters=1 checks=%s events=%s" % (
            checks,
            os.path.join(tmpdir, "events-%s.jsonl" % checks),
        )
        return e

    # The runner rows: argv[0] names the python, as the supervisor starts it.
    return [
        ("plain", [python, "-c", "pass"], env, None),
        ("runner-none", [python, "-c", "pass"], runner_env("none"), runner),
        ("runner-all", [python, "-c", "pass"], runner_env("all"), runner),
        (
            "launcher",
            [lib.LAUNCHER, "--python", version, "run", "-n", "1", "--", "-c", "pass"],
            env,
            None,
        ),
    ]


def bench_version(version, args, tmpdir):
    python = lib.find_python(version)
    runner, origin = lib.runner_for(version, args, tmpdir)
    configs = configs_for(version, python, runner, tmpdir)
    if args.no_launcher:
        configs = [c for c in configs if c[0] != "launcher"]
    load0 = os.getloadavg()[0]
    results = lib.measure_interleaved(
        configs,
        lambda c: lib.run_once(c[1], c[2], executable=c[3]),
        args.reps,
        args.warmup,
        "%s: start-up" % version,
    )
    load = (load0, os.getloadavg()[0])
    rows = {}
    for name, cmd, _, exe in configs:
        walls = [r["wall"] for r in results[name]]
        cpus = [r["cpu"] for r in results[name]]
        row = {"command": cmd, "executable": exe, "wall": walls, "cpu": cpus}
        if name != "plain":
            base_w = [r["wall"] for r in results["plain"]]
            row["over_plain_ms"] = 1000.0 * (lib.med(walls) - lib.med(base_w))
            row["over_plain_paired_ms"] = 1000.0 * lib.med([a - b for a, b in zip(walls, base_w)])
            row["ratio"] = lib.paired_ratio(walls, base_w)
        rows[name] = row
    print_version(version, python, rows, args, load)
    return {"python": python, "runner": origin, "reps": args.reps, "load": load, "rows": rows}


def print_version(version, python, rows, args, load):
    w = sys.stdout.write
    w("\n== interpsan start-up: CPython %s (%s)\n" % (version, python))
    w(
        "   `-c pass`; %d repetitions (+%d warm-up), interleaved, medians; %d CPUs; "
        "load average %.2f at start, %.2f at end\n\n"
        % (args.reps, args.warmup, os.cpu_count() or 0, load[0], load[1])
    )
    hdr = "%-38s %9s %17s %8s %17s %14s" % (
        "configuration",
        "wall ms",
        "(min..max)",
        "cpu ms",
        "over plain ms",
        "ratio",
    )
    w(hdr + "\n" + "-" * len(hdr) + "\n")
    for name, row in rows.items():
        walls = row["wall"]
        over = ratio = ""
        if "ratio" in row:
            over = "%+7.1f (%+6.1f)" % (row["over_plain_ms"], row["over_plain_paired_ms"])
            ratio = "%5.2f (%5.2f)" % (row["ratio"]["of_medians"], row["ratio"]["paired_median"])
        w(
            "%-38s %9.1f %17s %8.1f %17s %14s\n"
            % (
                LABELS[name].replace("X.Y", version),
                1000 * lib.med(walls),
                "(%.1f..%.1f)" % (1000 * min(walls), 1000 * max(walls)),
                1000 * lib.med(row["cpu"]),
                over,
                ratio,
            )
        )
    worst = max(rows["runner-none"]["over_plain_ms"], rows["runner-all"]["over_plain_ms"])
    w(
        "\n   the runner's own start-up over plain python: %+.1f ms (target <= %.0f ms: %s)\n"
        "   (over plain / ratio: of medians, then the median of the paired repetitions)\n"
        % (worst, TARGET_MS, "met" if worst <= TARGET_MS else "NOT met")
    )
    if lib.overloaded(load):
        w("   note: load average above the CPU count: the wall times are noisy.\n")
    sys.stdout.flush()


def main(argv):
    lib.set_program("bench_startup")
    p = lib.argument_parser("bench_startup.py", __doc__, reps=11, warmup=2)
    p.add_argument("--no-launcher", action="store_true", help="leave out the whole-command row")
    args = p.parse_args(argv)
    lib.check_common_args(p, args)
    return lib.main_loop(args, bench_version, {"tool": "interpsan start-up bench"})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
