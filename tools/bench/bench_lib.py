"""What every interpsan benchmark driver shares (stdlib only; any python3).

Runs in the benchmark driver's own process (bench.py, bench_tracemalloc.py,
bench_startup.py, bench_real_suite.py): finding the CPython the launcher
uses, building and privately copying the runner, the runner's command line,
interleaving the configurations, running one and timing it, medians and
paired ratios, perf stat, and the drivers' common options and main loop.
A benchmark is not a test: nothing here asserts a target.
"""

import argparse
import glob
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WORKLOAD = os.path.join(HERE, "bench_workload.py")
LAUNCHER = os.path.join(ROOT, "tools", "interpsan")
ELAPSED_RE = re.compile(r"bench_workload elapsed=([0-9.]+)")
VERSIONS = ("3.12", "3.13")

_program = ["bench"]


def set_program(name):
    """The name log() lines start with."""
    _program[0] = name


def log(msg):
    sys.stderr.write("%s: %s\n" % (_program[0], msg))
    sys.stderr.flush()


def med(xs):
    return statistics.median(xs) if xs else float("nan")


# ---- finding CPython and the runner ----------------------------------------------


def find_python(version):
    """The CPython X.Y the launcher uses (tools/setup/python_prefix.sh)."""
    prefix = subprocess.run(
        [os.path.join(ROOT, "tools", "setup", "python_prefix.sh"), version],
        stdout=subprocess.PIPE,
        text=True,
    ).stdout.strip()
    exe = os.path.join(prefix, "bin", "python" + version) if prefix else None
    if not exe or not os.access(exe, os.X_OK):
        raise SystemExit(
            "%s: CPython %s not found (pyenv, or set INTERPSAN_PYTHON%s)"
            % (_program[0], version, version.replace(".", ""))
        )
    return exe


def build_runner(version):
    """Builds the runner the way the launcher does; returns its path."""
    tag = "py" + version.replace(".", "")
    log("building the runner for %s (bazel build --config=%s) ..." % (version, tag))

    def bazel(command, target, stderr):
        return subprocess.run(
            ["bazel", command, "--config=" + tag, target],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )

    built = bazel("build", "//tools/runner:interpsan_runner", subprocess.STDOUT)
    path = None
    if built.returncode == 0:
        bin_dir = bazel("info", "bazel-bin", subprocess.DEVNULL).stdout.strip()
        path = os.path.join(bin_dir, "tools", "runner", "interpsan_runner")
    else:
        tail = "\n".join(built.stdout.splitlines()[-15:])
        log("bazel build failed (tree being edited by others?):\n%s" % tail)
        # Fall back to the last runner built for this version, if any.
        cands = sorted(
            glob.glob(
                os.path.join(
                    ROOT, "bazel-out", "k8-opt" + tag, "bin", "tools", "runner", "interpsan_runner"
                )
            )
        )
        if cands:
            path = cands[0]
            log("using the previously built %s" % path)
    if not path or not os.path.exists(path):
        raise SystemExit("%s: no runner for %s" % (_program[0], version))
    return path


def private_copy(path, tmpdir, version):
    """Copies the runner so that a concurrent Bazel build cannot replace it
    while we measure. Its RUNPATH names libpython by absolute path too."""
    dest = os.path.join(tmpdir, "interpsan_runner_" + version.replace(".", ""))
    shutil.copy2(path, dest)
    os.chmod(dest, 0o755)
    return dest


def runner_for(version, args, tmpdir):
    """(private copy of the runner, where it came from): --runner, else
    $INTERPSAN_RUNNER when one version is measured, else a Bazel build."""
    given = args.runner or (os.environ.get("INTERPSAN_RUNNER") if len(args.python) == 1 else None)
    return private_copy(given or build_runner(version), tmpdir, version), given or "bazel-built"


def runner_cmd(runner, program, n=1, checks="none", trace_malloc=0):
    """The runner running `program` (PYTHON_ARGS) with the given options.
    The runner takes its options from INTERPSAN_OPTIONS (tools/runner/options.h):
    `env` sets it per configuration, so one environment serves every row,
    and perf/valgrind can wrap the command as it is."""
    options = "interpreters=%d checks=%s trace_malloc=%d" % (n, checks, trace_malloc)
    return ["env", "INTERPSAN_OPTIONS=" + options, runner] + list(program)


def clean_env(runner=None, drop=("PYTHONMALLOC", "INTERPSAN_EVENTS")):
    """The environment every row runs in: without what would change what
    we measure (PYTHONMALLOC would replace the allocators); with
    INTERPSAN_RUNNER set for the launcher's rows (no Bazel call)."""
    env = dict(os.environ)
    for var in drop:
        env.pop(var, None)
    if runner:
        env["INTERPSAN_RUNNER"] = runner
    return env


# ---- interleaved runs ---------------------------------------------------------------


def interleaved(configs, reps, warmup):
    """Yields (measured?, repetition, config): every configuration once per
    repetition, the order rotated each time."""
    for rep in range(warmup + reps):
        k = rep % len(configs)
        for config in configs[k:] + configs[:k]:
            yield rep >= warmup, rep, config


def timed_run(cmd, env, cwd=ROOT, executable=None, merge_stderr=False):
    """Runs cmd to its end; returns (CompletedProcess with text output,
    wall seconds, CPU seconds: user+sys of everything it started).
    `executable`: the binary run with argv cmd (as the supervisor starts
    the runner: argv[0] names the python)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        cmd,
        env=env,
        cwd=cwd,
        executable=executable,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        text=True,
        errors="replace",
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return proc, wall, cpu


def run_once(cmd, env, expect=None, check=None, executable=None):
    """Runs cmd; returns {wall, cpu, elapsed: [...]} or raises RuntimeError.
    `expect`: how many workload elapsed lines it must print (None: any).
    `check(proc)`: further validation, returns an error text or None."""
    proc, wall, cpu = timed_run(cmd, env, executable=executable)
    elapsed = [float(m.group(1)) for m in ELAPSED_RE.finditer(proc.stdout)]
    problem = None
    if proc.returncode != 0:
        problem = "exit %d" % proc.returncode
    elif expect is not None and len(elapsed) != expect:
        problem = "%d elapsed line(s) (expected %d)" % (len(elapsed), expect)
    elif check is not None:
        problem = check(proc)
    if problem:
        raise RuntimeError(
            "%s: %s\nstdout: %s\nstderr: %s"
            % (" ".join(cmd), problem, proc.stdout[-2000:], proc.stderr[-2000:])
        )
    return {"wall": wall, "cpu": cpu, "elapsed": elapsed}


def measure_interleaved(configs, run, reps, warmup, what):
    """{name: [run(config) per measured repetition]} for configs
    [(name, ...)], interleaved; logs each repetition as `what`."""
    results = {config[0]: [] for config in configs}
    last = -1
    for measured, rep, config in interleaved(configs, reps, warmup):
        if rep != last:
            last = rep
            log(
                "%s, %s %d of %d"
                % (
                    what,
                    "repetition" if measured else "warm-up",
                    rep + 1 - (warmup if measured else 0),
                    reps if measured else warmup,
                )
            )
        r = run(config)
        if measured:
            results[config[0]].append(r)
    return results


def paired_ratio(a, b, scale=1.0):
    """Ratio of medians and median of the paired per-repetition ratios of
    two equally long sample lists, divided by `scale`."""
    return {
        "of_medians": med(a) / med(b) / scale,
        "paired_median": med([x / y / scale for x, y in zip(a, b)]),
    }


def ratio_table(configs, results, ratios, fields, scaling=None):
    """{label: {numerator, denominator, target, KEY: paired_ratio}} for
    ratios [(label, numerator, denominator, target)] of configs
    [(name, command, interpreters)]; fields {KEY: (value of a run,
    per interpreter?)}: a per-interpreter value is divided by the ratio of
    the interpreter counts. scaling (label, (a, b, c, d)): also the ratio of
    ratios (a / b) / (c / d), e.g. how our 2-interpreter scaling compares to
    the untraced or unchecked one at the same moment."""
    n_of = {c[0]: c[2] for c in configs}
    out = {}
    for label, num, den, target in ratios:
        if num not in results or den not in results:
            continue
        entry = {"numerator": num, "denominator": den, "target": target}
        for key, (get, per_interpreter) in fields.items():
            scale = n_of[num] / n_of[den] if per_interpreter else 1.0
            entry[key] = paired_ratio(
                [get(r) for r in results[num]], [get(r) for r in results[den]], scale
            )
        out[label] = entry
    if scaling is None or not all(c in results for c in scaling[1]):
        return out
    label, (a, b, c, d) = scaling
    entry = {"numerator": "%s/%s" % (a, b), "denominator": "%s/%s" % (c, d), "target": None}
    for key, (get, _) in fields.items():
        v = {x: [get(r) for r in results[x]] for x in (a, b, c, d)}
        m = {x: med(xs) for x, xs in v.items()}
        entry[key] = {
            "of_medians": (m[a] / m[b]) / (m[c] / m[d]),
            "paired_median": med([(p / q) / (r / s) for p, q, r, s in zip(v[a], v[b], v[c], v[d])]),
        }
    out[label] = entry
    return out


def write_wall_header(title, rounds, args, load):
    """The heading of a workload wall-time table."""
    w = sys.stdout.write
    w("\n== %s\n" % title)
    w(
        "   workload tools/bench/bench_workload.py, %d rounds per interpreter; %d repetitions "
        "(+%d warm-up), interleaved, medians; %d CPUs; load average %.2f at start, %.2f at end\n"
        % (rounds, args.reps, args.warmup, os.cpu_count() or 0, load[0], load[1])
    )
    w(
        "   wall = whole process incl. start-up; in-interp = time the workload prints "
        "(slowest interpreter); cpu = user+sys of the process\n\n"
    )


def write_row_table(label_width, rows):
    """rows: [(label, wall samples, in-interp samples, cpu samples)]."""
    w = sys.stdout.write
    hdr = "%-*s %8s %17s %10s %8s" % (
        label_width,
        "configuration",
        "wall s",
        "(min..max)",
        "in-interp",
        "cpu s",
    )
    w(hdr + "\n" + "-" * len(hdr) + "\n")
    for label, walls, elapsed, cpu in rows:
        w(
            "%-*s %8.3f %17s %10.3f %8.3f\n"
            % (
                label_width,
                label,
                med(walls),
                "(%.3f..%.3f)" % (min(walls), max(walls)),
                med(elapsed),
                med(cpu),
            )
        )


def overloaded(load):
    return max(load) > (os.cpu_count() or 1)


# ---- perf: cycles and instructions ---------------------------------------------------


def perf_works(events=("cycles:u", "instructions:u")):
    if not shutil.which("perf"):
        return False
    p = subprocess.run(
        ["perf", "stat", "-x,", "-e", ",".join(events), "true"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return p.returncode == 0 and "<not" not in p.stderr


def perf_stat(cmd, env, expect, events):
    """{event name without ':u': count} of one run."""
    p = subprocess.run(
        ["perf", "stat", "-x,", "-e", ",".join(events)] + cmd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    counts = {}
    for line in p.stderr.splitlines():
        parts = line.split(",")
        if len(parts) > 2 and parts[2] in events:
            try:
                counts[parts[2].split(":")[0]] = float(parts[0])
            except ValueError:
                pass
    if (
        p.returncode != 0
        or len(counts) != len(events)
        or len(ELAPSED_RE.findall(p.stdout)) != expect
    ):
        raise RuntimeError(
            "perf stat %s: exit %d\n%s" % (" ".join(cmd), p.returncode, p.stderr[-2000:])
        )
    return counts


def perf_per_round(configs, env, rounds, reps, events, version):
    """perf stat of every (name, command without rounds, interpreters) at
    two workload sizes, interleaved; returns (per_round, raw):
    per_round[name][event] = the difference between the sizes' medians per
    round (start-up cancels out)."""
    small, large = rounds
    sized = [
        ((name, size), cmd + [str(size)], n) for name, cmd, n in configs for size in (small, large)
    ]
    raw = measure_interleaved(
        sized,
        lambda c: perf_stat(c[1], env, c[2], events),
        reps,
        0,
        "%s: perf stat" % version,
    )
    names = [e.split(":")[0] for e in events]
    per_round = {}
    for name, _, _ in configs:
        per_round[name] = {}
        for ev in names:
            big = med([c[ev] for c in raw[(name, large)]])
            little = med([c[ev] for c in raw[(name, small)]])
            per_round[name][ev] = (big - little) / (large - small)
    return per_round, {"%s/%d" % k: v for k, v in raw.items()}


# ---- options and the main loop ---------------------------------------------------


def argument_parser(prog, doc, reps=5, warmup=1):
    """The options every driver has: --python (repeatable), --reps,
    --warmup, --runner, --json."""
    p = argparse.ArgumentParser(
        prog=prog,
        description=doc.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--python",
        action="append",
        choices=VERSIONS,
        help="CPython version (repeatable; default 3.12)",
    )
    p.add_argument(
        "--reps", type=int, default=reps, help="measured repetitions (default %d)" % reps
    )
    p.add_argument(
        "--warmup",
        type=int,
        default=warmup,
        help="unmeasured warm-up repetitions (default %d)" % warmup,
    )
    p.add_argument("--runner", help="use this runner binary (single --python only)")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    return p


def add_workload_args(p, rounds, rounds_help, perf_reps, perf_rounds, perf_rounds_help):
    """The workload drivers' options: --rounds, --no-timing, --perf-reps,
    --perf-rounds (SMALL LARGE: perf's two sizes, whose difference cancels
    start-up)."""
    p.add_argument("--rounds", type=int, default=rounds, help=rounds_help)
    p.add_argument("--no-timing", action="store_true", help="skip the wall-time table")
    p.add_argument(
        "--perf-reps",
        type=int,
        default=perf_reps,
        help="repetitions for perf (default %d)" % perf_reps,
    )
    p.add_argument(
        "--perf-rounds",
        type=int,
        nargs=2,
        default=perf_rounds,
        metavar=("SMALL", "LARGE"),
        help=perf_rounds_help,
    )


def check_sizes(p, sizes):
    small, large = sizes
    if not 0 <= small < large:
        p.error("workload sizes must be SMALL < LARGE")


def check_common_args(p, args):
    args.python = args.python or ["3.12"]
    if args.reps < 1:
        p.error("repetitions must be at least 1")
    if args.runner and len(args.python) != 1:
        p.error("--runner needs a single --python")


def git_commit():
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=ROOT,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        ).stdout.strip()
    except OSError:
        return None


def main_loop(args, bench_version, report):
    """Runs bench_version(version, args, tmpdir) for each --python into
    report["versions"] (a failed run: {"error": ...}, exit status 1), in a
    temporary directory removed at the end; writes --json."""
    report.setdefault("versions", {})
    report.setdefault("cpus", os.cpu_count())
    report.setdefault("commit", git_commit())
    status = 0
    tmpdir = tempfile.mkdtemp(prefix="interpsan-%s-" % _program[0])
    try:
        for version in args.python:
            try:
                report["versions"][version] = bench_version(version, args, tmpdir)
            except RuntimeError as exc:
                log("CPython %s: a run failed: %s" % (version, exc))
                report["versions"][version] = {"error": str(exc)}
                status = 1
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
        log("wrote %s" % args.json)
    return status
