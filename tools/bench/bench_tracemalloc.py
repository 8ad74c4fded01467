#!/usr/bin/env python3
"""Benchmark of interpsan's per-interpreter tracemalloc (issue 5); stdlib
only, runs with any python3. Same harness as tools/bench/bench.py (the
shared tools/bench/bench_lib.py: CPython, the runner, interleaving, medians,
perf), same workload
(tools/bench/bench_workload.py: json and container churn, allocation-heavy).

Configurations, all run in one go, interleaved (A B C ... A B C ..., the
order rotated each repetition), medians reported:

  off        runner -n 1 --checks none --trace-malloc 0   (no hooks at all)
  t1         runner -n 1 --checks none --trace-malloc 1
  t25        runner -n 1 --checks none --trace-malloc 25
  off-n2     runner -n 2 --checks none --trace-malloc 0
  t1-n2      runner -n 2 --checks none --trace-malloc 1
  stock      pythonX.Y bench_workload.py                 (main interpreter)
  stock-t1   pythonX.Y -X tracemalloc=1 bench_workload.py
  stock-t25  pythonX.Y -X tracemalloc=25 bench_workload.py
  memray     memray run --aggregate bench_workload.py    (memray, pinned below,
             in a venv of the same CPython; malloc/free only, its default)
  memray-py  memray run --aggregate --trace-python-allocators
             bench_workload.py (pymalloc too: the scope of tracemalloc)

Ratios printed (targets are printed, never asserted):

  tracing 1 frame / off          target <= 2.0
  tracing 1 frame / stock        target <= 1.5 (issue 13), beside memray's
  tracing 25 frames / off        target <= 3.5
  stock tracemalloc=1 / stock    (the product brief: about 9x)
  stock tracemalloc=25 / stock   (about 19x)
  2 interpreters / 1, tracing on (wall time) target <= 1.15
  memray / stock, memray --trace-python-allocators / stock, and interpsan
  tracing 1 frame against both (an anchor from outside the project)

each as wall time (whole process, start-up included), in-interpreter time
(what the workload prints; the slower interpreter for -n 2) and CPU time per
interpreter; and with `perf stat -e instructions:u,cycles:u` at two workload
sizes, whose difference cancels start-up (per-round instructions and cycles;
for -n 2, cycles(2) / (2 x cycles(1)) = 1.0 means no contention).

Memory per traced block (not counting traceback storage): a probe program
allocates many blocks of one kind, kept alive, and reads VmRSS from
/proc/self/status before and after, once with tracing on and once with
tracing stopped (same process configuration: runner --trace-malloc 1, and
tracemalloc.stop() in the "off" run); (delta_on - delta_off) / blocks is the
cost per traced block. The design's numbers are printed next to it: blocks
with a header (mem/raw domains, obj blocks over 512 bytes) keep the trace id
in the existing 16-byte header (0 extra bytes); pymalloc small blocks use a
side table of 4 bytes per 16 bytes of arena (runtime/small_block_traces.h),
i.e. size_class / 4 bytes per block. The same probe under stock
tracemalloc (-X tracemalloc=1 vs off) gives its cost per block.

A benchmark is not a test: the exit status is 0 whatever the ratios are
(non-zero only if it could not run at all).

usage: python3 tools/bench/bench_tracemalloc.py [--python 3.12] [--python 3.13]
           [--reps 5] [--warmup 1] [--rounds 30] [--perf-reps 3]
           [--perf-rounds 8 24] [--no-perf] [--no-timing] [--no-memory]
           [--runner PATH] [--json FILE] [--no-memray]

memray comes from PyPI (MEMRAY_REQUIREMENT below), pip-installed on first
use into a venv of the benchmarked CPython under
~/.cache/interpsan/bench-memray/pyX.Y (INTERPSAN_MEMRAY_VENVS to change):
the only step that needs the network. --no-memray leaves it out.
"""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_lib as lib  # noqa: E402  (finding CPython and the runner, running, medians, perf)

ROOT = lib.ROOT
WORKLOAD = lib.WORKLOAD

# memray, pinned (the version the README's numbers were measured with).
MEMRAY_REQUIREMENT = "memray==1.20.0"

TARGET_T1 = 2.0
TARGET_T1_STOCK = 1.5  # issue 13: --trace-malloc 1 / plain python
TARGET_T25 = 3.5
TARGET_SCALING = 1.15


log = lib.log
med = lib.med


# ---- configurations ----------------------------------------------------------------

LABELS = {
    "off": "runner -n 1 --checks none --trace-malloc 0",
    "t1": "runner -n 1 --checks none --trace-malloc 1",
    "t25": "runner -n 1 --checks none --trace-malloc 25",
    "off-n2": "runner -n 2 --checks none --trace-malloc 0",
    "t1-n2": "runner -n 2 --checks none --trace-malloc 1",
    "stock": "stock python",
    "stock-t1": "stock python -X tracemalloc=1",
    "stock-t25": "stock python -X tracemalloc=25",
    "memray": "memray --aggregate (malloc only)",
    "memray-py": "memray --aggregate --trace-python-allocators",
}
MEMRAY_CONFIGS = ("memray", "memray-py")


def memray_python(version, python):
    """A venv of `python` with MEMRAY_REQUIREMENT installed (made on first
    use); its python, or None (logged) if it cannot be had."""
    root = os.environ.get("INTERPSAN_MEMRAY_VENVS") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
        "interpsan",
        "bench-memray",
    )
    venv = os.path.join(root, "py" + version)
    venv_python = os.path.join(venv, "bin", "python")
    stamp = os.path.join(venv, ".requirement")
    try:
        with open(stamp) as f:
            if f.read().strip() == MEMRAY_REQUIREMENT and os.path.exists(venv_python):
                return venv_python
    except OSError:
        pass
    log("%s: installing %s into %s" % (version, MEMRAY_REQUIREMENT, venv))
    shutil.rmtree(venv, ignore_errors=True)
    for cmd in (
        [python, "-m", "venv", venv],
        [
            venv_python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            MEMRAY_REQUIREMENT,
        ],
    ):
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if proc.returncode != 0:
            log(
                "%s: cannot install memray (%s): %s" % (version, " ".join(cmd), proc.stdout[-1500:])
            )
            return None
    with open(stamp, "w") as f:
        f.write(MEMRAY_REQUIREMENT + "\n")
    return venv_python


def configs_for(python, runner, memray=None, tmpdir=None):
    """[(name, command without the rounds argument, interpreters)]. With
    `memray` (a venv python that has it), the two memray configurations
    too; their capture file goes to `tmpdir`, overwritten by each run."""

    def run(n, frames):
        return lib.runner_cmd(runner, [WORKLOAD], n=n, trace_malloc=frames)

    def memray_run(*flags):
        # --aggregate: memray keeps per-location totals in memory and writes
        # them at exit, as tracemalloc keeps its traces, instead of
        # streaming every allocation event to the file.
        return (
            [memray, "-m", "memray", "run", "--quiet", "--force", "--aggregate"]
            + list(flags)
            + ["-o", os.path.join(tmpdir, "memray.bin"), WORKLOAD]
        )

    memray_configs = (
        []
        if memray is None
        else [
            ("memray", memray_run(), 1),
            ("memray-py", memray_run("--trace-python-allocators"), 1),
        ]
    )
    return memray_configs + [
        ("off", run(1, 0), 1),
        ("t1", run(1, 1), 1),
        ("t25", run(1, 25), 1),
        ("off-n2", run(2, 0), 2),
        ("t1-n2", run(2, 1), 2),
        ("stock", [python, WORKLOAD], 1),
        ("stock-t1", [python, "-X", "tracemalloc=1", WORKLOAD], 1),
        ("stock-t25", [python, "-X", "tracemalloc=25", WORKLOAD], 1),
    ]


# (label, numerator, denominator, target on the wall/in-interp ratio)
RATIOS = [
    ("interpsan tracing 1 frame / off", "t1", "off", TARGET_T1),
    ("interpsan tracing 25 frames / off", "t25", "off", TARGET_T25),
    ("stock tracemalloc=1 / stock", "stock-t1", "stock", None),
    ("stock tracemalloc=25 / stock", "stock-t25", "stock", None),
    ("interpsan 1 frame / stock tracemalloc=1", "t1", "stock-t1", None),
    ("interpsan 25 frames / stock tracemalloc=25", "t25", "stock-t25", None),
    ("runner off / stock", "off", "stock", None),
    ("2 interpreters / 1, tracing 1 frame", "t1-n2", "t1", TARGET_SCALING),
    ("2 interpreters / 1, tracing off", "off-n2", "off", None),
    ("interpsan tracing 1 frame / stock", "t1", "stock", TARGET_T1_STOCK),
    ("memray (malloc only) / stock", "memray", "stock", None),
    ("memray-py / stock", "memray-py", "stock", None),
    ("interpsan 1 frame / memray-py", "t1", "memray-py", None),
    ("stock tracemalloc=1 / memray-py", "stock-t1", "memray-py", None),
]


def env_for_runs():
    return lib.clean_env(
        drop=("PYTHONMALLOC", "PYTHONTRACEMALLOC", "INTERPSAN_EVENTS", "PYTHONPATH")
    )


# ---- wall time -------------------------------------------------------------------


def run_once(cmd, env, expect):
    r = lib.run_once(cmd, env, expect)
    r["elapsed"] = max(r["elapsed"])  # the slower interpreter
    return r


def measure_wall(configs, env, args, version):
    return lib.measure_interleaved(
        configs,
        lambda c: run_once(c[1] + [str(args.rounds)], env, c[2]),
        args.reps,
        args.warmup,
        "%s: wall time" % version,
    )


# key -> (value of a run, per interpreter?)
FIELDS = {
    "wall": (lambda r: r["wall"], False),
    "elapsed": (lambda r: r["elapsed"], False),
    "cpu": (lambda r: r["cpu"], True),
}


# Our scaling relative to the untraced runner's at the same moment.
SCALING = ("scaling, tracing vs off", ("t1-n2", "t1", "off-n2", "off"))


def wall_ratios(configs, results):
    return lib.ratio_table(configs, results, RATIOS, FIELDS, SCALING)


def print_wall(version, python, configs, results, ratios, args, load):
    w = sys.stdout.write
    lib.write_wall_header(
        "interpsan tracemalloc benchmark: CPython %s (%s)" % (version, python),
        args.rounds,
        args,
        load,
    )
    lib.write_row_table(
        46,
        [
            (
                LABELS[name],
                [r["wall"] for r in results[name]],
                [r["elapsed"] for r in results[name]],
                [r["cpu"] for r in results[name]],
            )
            for name, _, _ in configs
        ],
    )
    w(
        "\n%-44s %15s %15s %15s  %s\n"
        % ("ratio: of medians (paired)", "wall", "in-interp", "cpu/interp", "target")
    )
    for label, r in ratios.items():
        cells = " ".join(
            "%6.3f (%6.3f)" % (r[k]["of_medians"], r[k]["paired_median"])
            for k in ("wall", "elapsed", "cpu")
        )
        verdict = ""
        if r["target"] is not None:
            key = "wall" if "interpreters" in label else "elapsed"
            verdict = "<= %.2f on %s: %s" % (
                r["target"],
                "wall" if key == "wall" else "in-interp",
                "met" if r[key]["of_medians"] <= r["target"] else "NOT met",
            )
        w("%-44s %s  %s\n" % (label, cells, verdict))
    if "memray-py" in results:
        w(
            "   (memray-py = memray with --trace-python-allocators: pymalloc blocks too, the\n"
            "    scope of tracemalloc; plain memray sees malloc/free only; both --aggregate)\n"
        )
    w(
        "   ('scaling, tracing vs off' = (t1-n2 / t1) / (off-n2 / off): how much worse\n"
        "    2 traced interpreters scale than 2 untraced ones here; 1.0 = no contention of its own)\n"
    )
    if lib.overloaded(load):
        w(
            "   note: load average above the CPU count: wall-time scaling is dominated by other\n"
            "   processes; trust cpu/interp and the perf cycles below.\n"
        )
    sys.stdout.flush()


# ---- perf: instructions and cycles -------------------------------------------------

PERF_EVENTS = ("instructions:u", "cycles:u")


def measure_perf(configs, env, args, version):
    small, large = args.perf_rounds
    per_round, raw = lib.perf_per_round(
        configs, env, args.perf_rounds, args.perf_reps, PERF_EVENTS, version
    )
    n_of = {name: n for name, _, n in configs}
    ratios = {}
    for label, num, den, target in RATIOS:
        if num not in per_round or den not in per_round:
            continue
        # Per interpreter: -n 2 does twice the work.
        scale = n_of[num] / n_of[den]
        ratios[label] = {
            ev: per_round[num][ev] / per_round[den][ev] / scale for ev in ("instructions", "cycles")
        }
        ratios[label]["target"] = target
    return {
        "rounds": [small, large],
        "reps": args.perf_reps,
        "per_round": per_round,
        "ratios": ratios,
        "raw": raw,
    }


def print_perf(pf):
    w = sys.stdout.write
    small, large = pf["rounds"]
    w(
        "\nperf stat -e instructions:u,cycles:u (per workload round = difference between %d and\n"
        "%d rounds, start-up excluded; median of %d repetitions; all interpreters together)\n"
        % (small, large, pf["reps"])
    )
    hdr = "%-46s %14s %14s %6s" % ("configuration", "instr/round", "cycles/round", "IPC")
    w(hdr + "\n" + "-" * len(hdr) + "\n")
    for name, c in pf["per_round"].items():
        ipc = c["instructions"] / c["cycles"] if c["cycles"] else float("nan")
        w("%-46s %14.0f %14.0f %6.2f\n" % (LABELS[name], c["instructions"], c["cycles"], ipc))
    w("\n%-44s %12s %8s  %s\n" % ("ratio (per interpreter)", "instructions", "cycles", "target"))
    for label, r in pf["ratios"].items():
        verdict = ""
        if r["target"] is not None:
            verdict = "<= %.2f on cycles: %s" % (
                r["target"],
                "met" if r["cycles"] <= r["target"] else "NOT met",
            )
        w("%-44s %12.3f %8.3f  %s\n" % (label, r["instructions"], r["cycles"], verdict))
    w(
        "   (for '2 interpreters / 1': cycles(-n 2) / (2 x cycles(-n 1)); 1.0 = the two\n"
        "    interpreters cost no more together than apart)\n"
    )
    sys.stdout.flush()


# ---- memory per traced block ------------------------------------------------------

PROBE = r"""
import gc, sys, tracemalloc
mode, kind, count = sys.argv[1], sys.argv[2], int(sys.argv[3])

def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

if mode == "off" and tracemalloc.is_tracing():
    tracemalloc.stop()
if mode == "on" and not tracemalloc.is_tracing():
    tracemalloc.start(1)
gc.disable()
holder = [None] * count          # the holder itself is not what we measure
mem_before = tracemalloc.get_tracemalloc_memory()
before = rss_kb()
if kind == "float":              # 24 bytes: pymalloc size class 32
    for i in range(count):
        holder[i] = i * 1.5
elif kind == "tuple2":           # 56 bytes with the GC header: size class 64
    n = None                     # (None, None) would be one constant
    for i in range(count):
        holder[i] = (n, n)
elif kind == "bytes1000":        # 1033 bytes: over 512, a block with a header
    for i in range(count):
        holder[i] = bytes(1000)
after = rss_kb()
print("probe rss_delta_kb=%d count=%d tracemalloc_memory_delta=%d tracing=%s"
      % (after - before, count, tracemalloc.get_tracemalloc_memory() - mem_before,
         tracemalloc.is_tracing()))
"""

PROBE_RE = re.compile(
    r"probe rss_delta_kb=(-?\d+) count=(\d+) tracemalloc_memory_delta=(-?\d+) "
    r"tracing=(\w+)"
)

# kind -> (blocks, bytes the block occupies in its allocator, design cost per block)
PROBE_KINDS = {
    "float": (1000000, 32, 32 / 16 * 4),
    "tuple2": (1000000, 64, 64 / 16 * 4),
    "bytes1000": (50000, 1033, 0.0),
}


def run_probe(cmd, env):
    proc = subprocess.run(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    m = PROBE_RE.search(proc.stdout)
    if proc.returncode != 0 or not m:
        raise RuntimeError(
            "%s: exit %d\n%s%s"
            % (" ".join(cmd), proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
        )
    return {
        "rss_delta": int(m.group(1)) * 1024,
        "count": int(m.group(2)),
        "tracemalloc_memory_delta": int(m.group(3)),
        "tracing": m.group(4) == "True",
    }


def measure_memory(python, runner, env, tmpdir, reps):
    probe = os.path.join(tmpdir, "tracemalloc_memory_probe.py")
    with open(probe, "w") as f:
        f.write(PROBE)
    out = {}
    for kind, (count, _, _) in PROBE_KINDS.items():
        runs = {
            "interpsan on": lib.runner_cmd(runner, [probe, "on", kind, str(count)], trace_malloc=1),
            "interpsan off": lib.runner_cmd(
                runner, [probe, "off", kind, str(count)], trace_malloc=1
            ),
            "stock on": [python, "-X", "tracemalloc=1", probe, "on", kind, str(count)],
            "stock off": [python, probe, "off", kind, str(count)],
        }
        samples = {k: [] for k in runs}
        for _ in range(reps):
            for k, cmd in runs.items():
                r = run_probe(cmd, env)
                if r["tracing"] != k.endswith("on"):
                    raise RuntimeError("probe %s: tracing=%s" % (k, r["tracing"]))
                samples[k].append(r)
        res = {}
        for who in ("interpsan", "stock"):
            on = med([r["rss_delta"] for r in samples[who + " on"]])
            off = med([r["rss_delta"] for r in samples[who + " off"]])
            res[who] = {
                "rss_on": on,
                "rss_off": off,
                "per_block": (on - off) / count,
                "tables_per_block": med(
                    [r["tracemalloc_memory_delta"] for r in samples[who + " on"]]
                )
                / count,
            }
        out[kind] = res
    return out


def print_memory(mem):
    w = sys.stdout.write
    w(
        "\nmemory per traced block, not counting traceback storage (VmRSS delta while\n"
        "allocating N live blocks at one line, tracing on minus tracing off, / N; median)\n"
    )
    hdr = "%-34s %9s %13s %13s %15s" % ("blocks", "N", "interpsan B", "design B", "stock tm B")
    w(hdr + "\n" + "-" * len(hdr) + "\n")
    for kind, r in mem.items():
        count, occupied, design = PROBE_KINDS[kind]
        desc = {
            "float": "float (pymalloc class 32)",
            "tuple2": "2-tuple (pymalloc class 64)",
            "bytes1000": "bytes(1000) (header block)",
        }[kind]
        w(
            "%-34s %9d %13.2f %13.2f %15.2f\n"
            % (desc, count, r["interpsan"]["per_block"], design, r["stock"]["per_block"])
        )
    w(
        "   design: header blocks keep the 32-bit trace id inside the existing 16-byte header\n"
        "   (0 extra bytes); pymalloc small blocks have a side table of 4 bytes per 16 bytes of\n"
        "   arena (runtime/small_block_traces.h) for every arena holding a traced block: 25% of\n"
        "   the arena, i.e. size_class / 4 bytes per block (8 B for 32-byte, 16 B for 64-byte\n"
        "   blocks). Stock tracemalloc: a hash table entry + trace per block.\n"
    )
    sys.stdout.flush()


# ---- main ------------------------------------------------------------------------


def parse_args(argv):
    p = lib.argument_parser("bench_tracemalloc.py", __doc__)
    lib.add_workload_args(
        p,
        rounds=30,
        rounds_help="workload rounds per interpreter for wall time (default 30: stock "
        "-X tracemalloc=25 is ~20x slower than the rest)",
        perf_reps=3,
        perf_rounds=(8, 24),
        perf_rounds_help="workload sizes for perf (default 8 24)",
    )
    p.add_argument(
        "--memory-reps", type=int, default=3, help="repetitions of the memory probe (default 3)"
    )
    p.add_argument("--no-perf", action="store_true", help="skip perf stat")
    p.add_argument("--no-memory", action="store_true", help="skip the memory probe")
    p.add_argument(
        "--configs",
        help="comma list of configurations to run (default: all of "
        + ", ".join(LABELS)
        + "); ratios need both of their sides",
    )
    p.add_argument(
        "--no-memray", action="store_true", help="leave out memray (no venv, no download)"
    )
    args = p.parse_args(argv)
    lib.check_common_args(p, args)
    if args.perf_reps < 1 or args.memory_reps < 1:
        p.error("repetitions must be at least 1")
    lib.check_sizes(p, args.perf_rounds)
    if args.configs:
        args.configs = [c.strip() for c in args.configs.split(",") if c.strip()]
        unknown = [c for c in args.configs if c not in LABELS]
        if unknown:
            p.error("unknown configuration(s): %s" % ", ".join(unknown))
    return args


def bench_version(version, args, tmpdir):
    python = lib.find_python(version)
    runner, _ = lib.runner_for(version, args, tmpdir)
    env = env_for_runs()
    wanted = args.configs or list(LABELS)
    memray = None
    if not args.no_memray and any(c in wanted for c in MEMRAY_CONFIGS):
        memray = memray_python(version, python)
    configs = configs_for(python, runner, memray, tmpdir)
    if args.configs:
        configs = [c for c in configs if c[0] in args.configs]
    entry = {
        "python": python,
        "rounds": args.rounds,
        "memray": MEMRAY_REQUIREMENT if memray else None,
    }
    if not args.no_timing:
        load0 = os.getloadavg()[0]
        results = measure_wall(configs, env, args, version)
        load1 = os.getloadavg()[0]
        ratios = wall_ratios(configs, results)
        print_wall(version, python, configs, results, ratios, args, (load0, load1))
        entry.update(wall=results, wall_ratios=ratios, load=[load0, load1])
    if not args.no_perf:
        if lib.perf_works(PERF_EVENTS):
            pf = measure_perf(configs, env, args, version)
            print_perf(pf)
            entry["perf"] = pf
        else:
            log("perf stat does not work here: skipping instruction and cycle counts")
    if not args.no_memory:
        log("%s: memory probe" % version)
        mem = measure_memory(python, runner, env, tmpdir, args.memory_reps)
        print_memory(mem)
        entry["memory"] = mem
    return entry


def main(argv):
    lib.set_program("bench_tracemalloc")
    args = parse_args(argv)
    return lib.main_loop(args, bench_version, {"tool": "interpsan tracemalloc bench"})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
