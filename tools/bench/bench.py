#!/usr/bin/env python3
"""interpsan benchmark harness (stdlib only; runs with any python3).

Measures, in one run, on the allocation-heavy workload tools/bench/bench_workload.py:

  stock      plain `pythonX.Y tools/bench/bench_workload.py` (no runner, no hooks)
  n1-none    runner -n 1 --checks none      n1-all    runner -n 1 --checks all
  n2-none    runner -n 2 --checks none      n2-all    runner -n 2 --checks all
  (with --launcher also the whole `tools/interpsan run -n 2 ...` command)

and prints medians plus the ratios the product is held to (README, "Performance"):

  checks all / none   at -n 2 (and -n 1)             target <= 1.25
  2 interpreters / 1  with --checks all (wall time)   target <= 1.15
  2 interpreters / 1  with --checks none (stock CPython's own scaling)

Three numbers per run: the start-up-inclusive wall time of the whole process,
the in-interpreter elapsed time the workload prints (for -n 2 the slower
interpreter's), and the CPU time (user+sys) of the process. Configurations
are interleaved (A B C ... A B C ..., the order rotated each repetition)
because the machine is shared and noisy; medians over the repetitions are
reported, and every ratio both as ratio of medians and as the median of the
per-repetition (paired) ratios. When the load average is above the number of
CPUs, wall-time scaling says more about the other processes than about us;
the CPU column and --perf's cycle counts (counted for our threads only) are
then the numbers to trust.

The runner is the launcher-built binary (`bazel build --config=pyXY
//tools/runner:interpsan_runner`), copied to a temporary directory so that a
concurrent rebuild cannot swap it mid-benchmark; --runner PATH or
$INTERPSAN_RUNNER (single version only) use a given binary instead.

--perf: `perf stat` cycles and instructions (user mode, our threads only) of
every configuration, at two workload sizes; the difference is the cost of the
extra rounds alone, start-up excluded. Gives the checks all / none ratio in
instructions and cycles, and the scaling as cycles(-n 2) / (2 x cycles(-n 1))
(1.0 = no contention between the interpreters), robust to other load.

--callgrind: valgrind callgrind instruction counts (deterministic) of stock
python and runner -n 1 --checks none/all, same two-size difference, and the
functions where the extra instructions go.

A benchmark is not a test: the exit status is 0 whatever the ratios are
(non-zero only if the benchmark could not run at all).

usage: python3 tools/bench/bench.py [--python 3.12] [--python 3.13] [--reps 5]
                              [--rounds N] [--json FILE] [--launcher]
                              [--perf] [--callgrind] [--runner PATH]
"""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_lib as lib  # noqa: E402  (finding CPython and the runner, running, medians)

ROOT = lib.ROOT
WORKLOAD = lib.WORKLOAD
LAUNCHER = lib.LAUNCHER
log = lib.log
med = lib.med
runner_cmd = lib.runner_cmd

TARGET_CHECKS = 1.25
TARGET_SCALING = 1.15


# ---- configurations ----------------------------------------------------------------

LABELS = {
    "stock": "stock python (no runner)",
    "n1-none": "runner -n 1 --checks none",
    "n1-all": "runner -n 1 --checks all",
    "n2-none": "runner -n 2 --checks none",
    "n2-all": "runner -n 2 --checks all",
    "cli-n2-none": "tools/interpsan run -n 2 --checks none",
    "cli-n2-all": "tools/interpsan run -n 2 --checks all",
}


def configs_for(version, python, runner, with_launcher):
    """[(name, command without the rounds argument, interpreters)]."""
    out = [("stock", [python, WORKLOAD], 1)]
    for n in (1, 2):
        for checks in ("none", "all"):
            out.append(
                ("n%d-%s" % (n, checks), runner_cmd(runner, [WORKLOAD], n=n, checks=checks), n)
            )
    if with_launcher:
        for checks in ("none", "all"):
            out.append(
                (
                    "cli-n2-%s" % checks,
                    [
                        LAUNCHER,
                        "--python",
                        version,
                        "run",
                        "-n",
                        "2",
                        "--checks",
                        checks,
                        "--",
                        WORKLOAD,
                    ],
                    2,
                )
            )
    return out


# ---- wall time -------------------------------------------------------------------


def measure_wall(configs, env, args, version):
    return lib.measure_interleaved(
        configs,
        lambda c: lib.run_once(c[1] + [str(args.rounds)], env, c[2]),
        args.reps,
        args.warmup,
        "%s: wall time" % version,
    )


def summarize_wall(configs, results):
    rows = {}
    for name, cmd, n in configs:
        rs = results[name]
        walls = [r["wall"] for r in rs]
        rows[name] = {
            "interpreters": n,
            "command": cmd,
            "wall_median": med(walls),
            "wall_min": min(walls),
            "wall_max": max(walls),
            "elapsed_median": med([max(r["elapsed"]) for r in rs]),  # slowest interpreter
            "cpu_median": med([r["cpu"] for r in rs]),
            "runs": rs,
        }
    return rows


# The wall-time table's ratios: key -> (value of a run, per interpreter?).
# CPU time grows with the work: per interpreter it is comparable.
FIELDS = {
    "wall": (lambda r: r["wall"], False),
    "elapsed": (lambda r: max(r["elapsed"]), False),  # the slowest interpreter
    "cpu_per_interpreter": (lambda r: r["cpu"], True),
}


RATIOS = [
    # (label, numerator, denominator, target)
    ("checks all / none, -n 2", "n2-all", "n2-none", TARGET_CHECKS),
    ("checks all / none, -n 1", "n1-all", "n1-none", TARGET_CHECKS),
    ("2 interpreters / 1, --checks all", "n2-all", "n1-all", TARGET_SCALING),
    ("2 interpreters / 1, --checks none", "n2-none", "n1-none", None),
    ("runner -n 1 --checks none / stock", "n1-none", "stock", None),
    ("runner -n 1 --checks all / stock", "n1-all", "stock", None),
    ("CLI / runner, -n 2 --checks none", "cli-n2-none", "n2-none", None),
    ("CLI / runner, -n 2 --checks all", "cli-n2-all", "n2-all", None),
]


# Our scaling relative to stock CPython's on the same machine at the
# same moment: (n2-all / n1-all) / (n2-none / n1-none).
SCALING = ("scaling, checks all vs none", ("n2-all", "n1-all", "n2-none", "n1-none"))


def wall_ratios(configs, results):
    return lib.ratio_table(configs, results, RATIOS, FIELDS, SCALING)


def print_wall(version, python, results, ratios, args, load):
    w = sys.stdout.write
    lib.write_wall_header(
        "interpsan benchmark: CPython %s (%s)" % (version, python), args.rounds, args, load
    )
    lib.write_row_table(
        40,
        [
            (
                LABELS.get(name, name),
                [r["wall"] for r in rs],
                [max(r["elapsed"]) for r in rs],
                [r["cpu"] for r in rs],
            )
            for name, rs in results.items()
        ],
    )
    w(
        "\n%-35s %14s %14s %14s  %s\n"
        % ("ratio: of medians (paired)", "wall", "in-interp", "cpu/interp", "target (on wall)")
    )
    for label, r in ratios.items():
        cells = []
        for key in ("wall", "elapsed", "cpu_per_interpreter"):
            cells.append("%6.3f (%5.3f)" % (r[key]["of_medians"], r[key]["paired_median"]))
        verdict = ""
        if r["target"] is not None:
            verdict = "<= %.2f %s" % (
                r["target"],
                "met" if r["wall"]["of_medians"] <= r["target"] else "NOT met",
            )
        w("%-35s %s  %s\n" % (label, " ".join(cells), verdict))
    w(
        "   ('scaling, checks all vs none' = (n2-all / n1-all) / (n2-none / n1-none): how much\n"
        "    worse interpsan scales than stock CPython here; 1.0 = no contention of its own)\n"
    )
    if lib.overloaded(load):
        w(
            "   note: load average above the CPU count: wall-time scaling is dominated by other\n"
            "   processes; see cpu/interp (1.0 = no extra CPU per interpreter) and --perf cycles.\n"
        )
    sys.stdout.flush()


# ---- perf: cycles and instructions ---------------------------------------------------

PERF_EVENTS = ("cycles:u", "instructions:u", "task-clock")


def perf_works():
    return lib.perf_works()


def measure_perf(configs, env, args, version):
    small, large = args.perf_rounds
    measured = [c for c in configs if not c[0].startswith("cli-")]
    per_round, raw = lib.perf_per_round(
        measured, env, args.perf_rounds, args.perf_reps, PERF_EVENTS, version
    )
    n_of = {name: n for name, _, n in configs}
    out = {
        "rounds": [small, large],
        "reps": args.perf_reps,
        "per_round": per_round,
        "raw": raw,
        "ratios": {},
    }
    pr = per_round
    for label, num, den in (
        ("checks all / none, -n 1", "n1-all", "n1-none"),
        ("checks all / none, -n 2", "n2-all", "n2-none"),
        ("runner -n 1 --checks none / stock", "n1-none", "stock"),
        ("2 interpreters / 1 per interp, --checks all", "n2-all", "n1-all"),
        ("2 interpreters / 1 per interp, --checks none", "n2-none", "n1-none"),
    ):
        scale = n_of[num] / n_of[den]
        out["ratios"][label] = {
            ev: pr[num][ev] / pr[den][ev] / scale for ev in ("instructions", "cycles", "task-clock")
        }
    out["ratios"]["scaling, checks all vs none"] = {
        ev: (pr["n2-all"][ev] / pr["n1-all"][ev]) / (pr["n2-none"][ev] / pr["n1-none"][ev])
        for ev in ("instructions", "cycles", "task-clock")
    }
    return out


def print_perf(pf):
    w = sys.stdout.write
    small, large = pf["rounds"]
    w(
        "\nperf stat (user-mode cycles and instructions of our threads only; per workload round\n"
        "= difference between %d and %d rounds, start-up excluded; median of %d repetitions)\n"
        % (small, large, pf["reps"])
    )
    hdr = "%-40s %14s %14s %6s %10s" % (
        "configuration (all interpreters)",
        "instr/round",
        "cycles/round",
        "IPC",
        "ms/round",
    )
    w(hdr + "\n" + "-" * len(hdr) + "\n")
    for name, c in pf["per_round"].items():
        ipc = c["instructions"] / c["cycles"] if c["cycles"] else float("nan")
        w(
            "%-40s %14.0f %14.0f %6.2f %10.2f\n"
            % (LABELS.get(name, name), c["instructions"], c["cycles"], ipc, c["task-clock"])
        )
    w("\n%-46s %12s %8s %10s\n" % ("ratio", "instructions", "cycles", "task-clock"))
    for label, r in pf["ratios"].items():
        w("%-46s %12.3f %8.3f %10.3f\n" % (label, r["instructions"], r["cycles"], r["task-clock"]))
    w(
        "   ('per interp' rows: 1.000 = the second interpreter costs exactly what the first does;\n"
        "    above 1 in cycles but not instructions = contention: shared caches, cache lines,\n"
        "    locks. 'scaling, checks all vs none' = our per-interpreter growth over stock\n"
        "    CPython's: 1.000 = interpsan adds no contention of its own)\n"
    )
    sys.stdout.flush()


# ---- callgrind --------------------------------------------------------------------


def callgrind_run(cmd, env, outfile):
    # runner_cmd's `env VAR=... runner ...`: valgrind would measure `env`
    # (it does not follow the exec), so the variables go in the environment.
    if cmd and cmd[0] == "env":
        env = dict(env)
        cmd = list(cmd[1:])
        while cmd and "=" in cmd[0] and not cmd[0].startswith("/"):
            name, value = cmd.pop(0).split("=", 1)
            env[name] = value
    p = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + outfile] + cmd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    m = re.search(r"Collected\s*:\s*(\d+)", p.stderr)
    if p.returncode != 0 or not m:
        raise RuntimeError(
            "callgrind %s: exit %d\n%s" % (" ".join(cmd), p.returncode, p.stderr[-2000:])
        )
    return int(m.group(1))


def callgrind_self_costs(outfile):
    """{function: self Ir} from callgrind_annotate's function list. Code
    inlined from headers is listed under the header's name; it is summed into
    its function here, and recursion levels (f'2) into f."""
    p = subprocess.run(
        ["callgrind_annotate", "--auto=no", "--threshold=100", outfile],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    costs = {}
    in_list = False
    for line in p.stdout.splitlines():
        if re.match(r"^Ir\s+file:function", line):
            in_list = True
            continue
        if not in_list or line.startswith("-"):
            continue
        m = re.match(r"\s*([\d,]+)\s+(?:\([^)]*\)\s+)?([^:]*):(.*?)(?:\s+\[([^\]]*)\])?$", line)
        if not m:
            if costs and not line.strip():
                break
            continue
        fn = re.sub(r"'\d+$", "", m.group(3).strip())
        costs[fn] = costs.get(fn, 0) + int(m.group(1).replace(",", ""))
    return costs


def measure_callgrind(configs, env, args, tmpdir, version):
    """Instruction counts of stock / n1-none / n1-all at two workload sizes;
    per round = difference (start-up excluded); plus per-function deltas."""
    small, large = args.callgrind_rounds
    wanted = ("stock", "n1-none", "n1-all")
    cmds = {name: cmd for name, cmd, _ in configs if name in wanted}
    res, files = {}, {}
    for name in wanted:
        for rounds in (small, large):
            f = os.path.join(tmpdir, "callgrind.%s.%s.%d.out" % (version, name, rounds))
            files[(name, rounds)] = f
            res[(name, rounds)] = callgrind_run(cmds[name] + [str(rounds)], env, f)
            log(
                "%s: callgrind %s, %d rounds: %d instructions"
                % (version, name, rounds, res[(name, rounds)])
            )
    per_round = {
        name: (res[(name, large)] - res[(name, small)]) / (large - small) for name in wanted
    }

    def per_function(name):
        big = callgrind_self_costs(files[(name, large)])
        little = callgrind_self_costs(files[(name, small)])
        return {
            fn: (big.get(fn, 0) - little.get(fn, 0)) / (large - small)
            for fn in set(big) | set(little)
        }

    funcs = {name: per_function(name) for name in wanted}
    out = {
        "rounds": [small, large],
        "counts": {"%s/%d" % k: v for k, v in res.items()},
        "per_round": per_round,
        "ratio_all_none": per_round["n1-all"] / per_round["n1-none"],
        "ratio_none_stock": per_round["n1-none"] / per_round["stock"],
        "whole_run_ratio_all_none": res[("n1-all", large)] / res[("n1-none", large)],
    }
    for key, a, b in (
        ("extra_all_vs_none", "n1-all", "n1-none"),
        ("extra_none_vs_stock", "n1-none", "stock"),
    ):
        fa, fb = funcs[a], funcs[b]
        diff = {fn: fa.get(fn, 0) - fb.get(fn, 0) for fn in set(fa) | set(fb)}
        top = sorted(diff.items(), key=lambda kv: -abs(kv[1]))[: args.top]
        out[key] = [
            {
                "function": fn,
                "extra_per_round": d,
                "per_round_" + a: fa.get(fn, 0),
                "per_round_" + b: fb.get(fn, 0),
            }
            for fn, d in top
        ]
    return out


def print_callgrind(cg):
    w = sys.stdout.write
    small, large = cg["rounds"]
    pr = cg["per_round"]
    w(
        "\ncallgrind instructions, -n 1 (per workload round = difference between %d and %d "
        "rounds, start-up excluded; deterministic)\n" % (small, large)
    )
    w(
        "   per round: stock python %.0f, runner --checks none %.0f, --checks all %.0f\n"
        % (pr["stock"], pr["n1-none"], pr["n1-all"])
    )
    w(
        "   checks all / none %.3f (whole run at %d rounds: %.3f); runner none / stock %.3f\n"
        % (cg["ratio_all_none"], large, cg["whole_run_ratio_all_none"], cg["ratio_none_stock"])
    )
    for key, a, b in (
        ("extra_all_vs_none", "n1-all", "n1-none"),
        ("extra_none_vs_stock", "n1-none", "stock"),
    ):
        total = pr[a] - pr[b]
        w(
            "   where the difference %s - %s goes (self instructions per round; total %+.0f):\n"
            % (a, b, total)
        )
        for t in cg[key]:
            share = 100.0 * t["extra_per_round"] / total if total else 0.0
            w("     %+12.0f %6.1f%%  %s\n" % (t["extra_per_round"], share, t["function"][:110]))
    sys.stdout.flush()


# ---- main -------------------------------------------------------------------------


def parse_args(argv):
    p = lib.argument_parser("bench.py", __doc__)
    lib.add_workload_args(
        p,
        rounds=None,
        rounds_help="workload rounds per interpreter (default: the workload's, ~1-2 s)",
        perf_reps=5,
        perf_rounds=None,
        perf_rounds_help="workload sizes for --perf (default 10 and --rounds)",
    )
    p.add_argument(
        "--launcher",
        action="store_true",
        help="also time whole `tools/interpsan run -n 2` invocations",
    )
    p.add_argument(
        "--perf", action="store_true", help="perf stat cycles/instructions of every configuration"
    )
    p.add_argument(
        "--callgrind",
        action="store_true",
        help="callgrind instruction counts for -n 1 checks none vs all, and where "
        "the extra instructions go",
    )
    p.add_argument(
        "--callgrind-rounds",
        type=int,
        nargs=2,
        default=(2, 12),
        metavar=("SMALL", "LARGE"),
        help="workload sizes for --callgrind (2 12)",
    )
    p.add_argument("--top", type=int, default=15, help="functions listed by --callgrind")
    args = p.parse_args(argv)
    lib.check_common_args(p, args)
    if args.perf_reps < 1:
        p.error("repetitions must be at least 1")
    if args.rounds is None:
        sys.path.insert(0, os.path.dirname(WORKLOAD))
        import bench_workload

        args.rounds = bench_workload.DEFAULT_ROUNDS
    if args.perf_rounds is None:
        args.perf_rounds = (min(10, args.rounds // 2), args.rounds)
    for sizes in (args.perf_rounds, args.callgrind_rounds):
        lib.check_sizes(p, sizes)
    return args


def bench_version(version, args, tmpdir):
    python = lib.find_python(version)
    runner, origin = lib.runner_for(version, args, tmpdir)
    env = lib.clean_env(runner)
    configs = configs_for(version, python, runner, args.launcher)
    entry = {"python": python, "runner": origin, "rounds": args.rounds}
    if not args.no_timing:
        load0 = os.getloadavg()[0]
        results = measure_wall(configs, env, args, version)
        load = (load0, os.getloadavg()[0])
        rows = summarize_wall(configs, results)
        ratios = wall_ratios(configs, results)
        print_wall(version, python, results, ratios, args, load)
        entry.update(
            {
                "reps": args.reps,
                "warmup": args.warmup,
                "load_average": load,
                "configs": rows,
                "ratios": ratios,
            }
        )
    if args.perf:
        if perf_works():
            entry["perf"] = measure_perf(configs, env, args, version)
            print_perf(entry["perf"])
        else:
            log("perf cannot count cycles/instructions here; skipping --perf")
    if args.callgrind:
        if shutil.which("valgrind") and shutil.which("callgrind_annotate"):
            entry["callgrind"] = measure_callgrind(configs, env, args, tmpdir, version)
            print_callgrind(entry["callgrind"])
        else:
            log("valgrind/callgrind_annotate not found; skipping --callgrind")
    return entry


def main(argv):
    args = parse_args(argv)
    return lib.main_loop(args, bench_version, {"tool": "interpsan bench"})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
