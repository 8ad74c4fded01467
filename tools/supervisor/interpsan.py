"""interpsan's command line and supervising process.

tools/interpsan (the launcher) builds the runner if needed and starts this
script with the selected CPython. This script validates the command line,
starts the checked process (tools/runner/runner_main.cc), waits for it however it
ends (exit, fatal violation, abort, signal, watchdog timeout) and then writes
report.json from the events the checked process left behind. Because this
process never runs user code, a report is written even when the checked
process dies.

Exit statuses (README, "Exit status"): 0 clean; 1 a program failed; 2 usage error;
3 isolation violation(s); 4 crash (fatal signal); 5 watchdog timeout;
130 / 143 stopped by SIGINT (Ctrl-C) / SIGTERM.

Stopping a run: the checked process runs in a process group of its own, so
a Ctrl-C at the terminal (SIGINT to the foreground process group) and a
SIGTERM sent to this process alone (`timeout`, CI runners, `kill`) both
reach this process only. It then asks the checked process for a dump of
every interpreter's threads (SIGUSR1 queued with the exit status as value,
see faulthandler/fatal_signal_handler.h), which ends it; after a grace
period, or at a second Ctrl-C, it kills the process group. Either way
report.json is written, with what the checked process wrote, and the
status is 130 / 143.
"""

import argparse
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_VIOLATION = 3
EXIT_CRASH = 4
EXIT_TIMEOUT = 5
# Stopped by a signal: 128 + its number, as a shell reports it.
EXIT_INTERRUPTED = {signal.SIGINT: 130, signal.SIGTERM: 143}

# The checkout (or the wheel's package directory, which mirrors it):
# tools/supervisor/interpsan.py is two levels below it.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
CHECKS_INC = os.path.join(ROOT, "debug", "checks.inc")


def load_check_table(path=CHECKS_INC):
    """The one table of checks and violation kinds (debug/checks.inc, the
    X-macro list the C++ side compiles): ([{name, doc, where}], [{kind,
    check, fix}]), in the file's order. Parsed here, not duplicated: adding
    a check or kind there adds it to --checks and to README's test."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    # Drop comment lines and the #define lines that name the macros'
    # parameters (whole lines only: a "//" inside a string stays).
    text = re.sub(r"^\s*//.*$", "", text, flags=re.M)
    text = re.sub(r"^#.*$", "", text, flags=re.M)
    literals = r'((?:\s*"(?:[^"\\]|\\.)*")+)'

    def joined(group):
        return "".join(
            m.encode().decode("unicode_escape") for m in re.findall(r'"((?:[^"\\]|\\.)*)"', group)
        )

    checks = [
        {"name": joined(m.group(1)), "doc": joined(m.group(2)), "where": joined(m.group(3))}
        for m in re.finditer(
            r"INTERPSAN_CHECK\(" + literals + r",\s*\w+," + literals + "," + literals + r"\s*\)",
            text,
        )
    ]
    kinds = [
        {"kind": joined(m.group(1)), "check": joined(m.group(2)), "fix": joined(m.group(3))}
        for m in re.finditer(
            r"INTERPSAN_KIND\(\s*\w+," + literals + "," + literals + "," + literals + r"\s*\)", text
        )
    ]
    if (
        not checks
        or len(checks) != text.count("INTERPSAN_CHECK(")
        or len(kinds) != text.count("INTERPSAN_KIND(")
    ):
        raise RuntimeError("%s: an entry this parser does not understand" % path)
    return checks, kinds


CHECK_TABLE, KIND_TABLE = load_check_table()
CHECK_NAMES = tuple(c["name"] for c in CHECK_TABLE)
AUDIT_MODES = ("changed", "each-test", "end")

USAGE = """\
usage: interpsan [--python 3.12|3.13|PATH] run [options] -- PYTHON_ARGS...
       interpsan [--python 3.12|3.13|PATH] exec [options] -- PROGRAM ARGS...
       interpsan report DIR  (DIR/report.json as text, and DIR/report.html)
       interpsan cflags      (flags to rebuild an extension in check mode:
                              CFLAGS="$(tools/interpsan cflags)" ...)

Runs a Python program in N interpreters at once, each with its own GIL, and
reports every object or block that crosses from one interpreter to another.

PYTHON_ARGS are like python's own: script.py args | -m module args | -c code

--python picks the CPython: a version (pyenv's), or the path of a CPython
3.12/3.13 executable, a venv's bin/python included. Default: the active venv
($VIRTUAL_ENV) if its Python is 3.12 or 3.13, else 3.12. The program sees
that python's sys.executable, sys.prefix, sys.path and argv.

options:
  -n N             interpreters to run at once, each with its own GIL (default 4)
  --report DIR     write DIR/report.json (and events.jsonl), even on a crash
  --keep-going     report every violation and continue (default: first is fatal)
  --checks LIST    all (default) | none | comma list of: free, domain, dealloc,
                   capi, refcount, audit
  --trace-malloc N per-interpreter allocation tracing with N frames (0 = off):
                   report.json gets tracemalloc (top sites) and leaks
  --timeout S      watchdog: stop the run after S seconds (status 5)
  --junit FILE     JUnit XML, one testsuite per interpreter (and one for violations)
  --suppressions F ignore violations matching F's lines (FIELD:GLOB; FIELD one of
                   kind, extension, type, function, file; '#' comments)
  --no-default-suppressions
                   report CPython's own known findings too (by default those
                   in libpython and the stdlib's extensions are only counted:
                   tools/suppressions/cpython-3.X.supp, README)
  --audit WHEN     the audit after each test: changed (default: the objects
                   and extension statics new or written since the last test) |
                   each-test (a full object-graph walk per test: 4.6x at
                   -n 1 on a 1,338-test suite) | end (the end of the program)

exit status: 0 clean, 1 a program failed, 2 usage error, 3 isolation
violation(s), 4 crash (fatal signal), 5 watchdog timeout, 130 / 143 stopped
by Ctrl-C / SIGTERM (every interpreter's threads are in the report; a second
Ctrl-C stops at once).
"""


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors on one line, with status 2."""

    def error(self, message):
        raise UsageError(message)

    def print_help(self, file=None):
        (file or sys.stdout).write(USAGE)


def _number(text, kind, what, accept, rule):
    """`text` as a `kind` (int, float) for which `accept` holds; else the
    usage error, naming `what` was expected or the `rule` broken."""
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected %s, got %r" % (what, text))
    if not accept(value):
        raise argparse.ArgumentTypeError(
            "must be %s, got %s" % (rule, value if kind is int else text)
        )
    return value


def _positive_int(text):
    return _number(text, int, "a number", lambda v: v >= 1, "at least 1")


def _non_negative_int(text):
    return _number(text, int, "a number", lambda v: v >= 0, "0 or more")


def _positive_float(text):
    return _number(text, float, "seconds", lambda v: v > 0, "more than 0")


def _checks(text):
    if text in ("all", "none"):
        return text
    names = text.split(",")
    for name in names:
        if name not in CHECK_NAMES:
            raise argparse.ArgumentTypeError(
                "unknown check %r (known: all, none, %s)" % (name, ", ".join(CHECK_NAMES))
            )
    return text


def _audit(text):
    if text not in AUDIT_MODES:
        raise argparse.ArgumentTypeError(
            "unknown audit %r (known: %s)" % (text, ", ".join(AUDIT_MODES))
        )
    return text


def build_parser():
    parser = _Parser(prog="interpsan", add_help=True)
    parser.add_argument("--runner", help=argparse.SUPPRESS, required=True)
    parser.add_argument("--python-version", help=argparse.SUPPRESS, required=True)
    # The python the user runs (the launcher's --python, or an active venv's):
    # the checked process gets it as argv[0], so that CPython computes
    # sys.executable, sys.prefix and sys.path as for that python.
    parser.add_argument("--python-executable", help=argparse.SUPPRESS, default=sys.executable)
    sub = parser.add_subparsers(dest="command")
    for name in ("run", "exec"):
        p = sub.add_parser(name, add_help=True)
        p.print_help = parser.print_help
        p.error = parser.error
        p.add_argument("-n", dest="interpreters", type=_positive_int, default=4)
        p.add_argument("--report", dest="report_dir")
        p.add_argument("--keep-going", action="store_true")
        p.add_argument("--checks", type=_checks, default="all")
        p.add_argument("--trace-malloc", type=_non_negative_int, default=0)
        p.add_argument("--timeout", type=_positive_float)
        p.add_argument("--junit")
        p.add_argument("--suppressions")
        p.add_argument("--no-default-suppressions", action="store_true")
        p.add_argument("--audit", type=_audit, default="changed")
        p.add_argument("program", nargs=argparse.REMAINDER)
    return parser


def parse_args(argv):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        raise UsageError("expected a command: run or exec (see --help)")
    program = list(args.program)
    if program and program[0] == "--":
        program = program[1:]
    if not program:
        raise UsageError("no program given: expected -- script.py | -m module | -c code")
    if program[0].startswith("-") and program[0] not in ("-m", "-c"):
        raise UsageError("unknown option %r" % program[0])
    if args.command == "exec":
        import shutil

        if shutil.which(program[0]) is None:
            raise UsageError("cannot run %r: no such program" % program[0])
    elif program[0] in ("-m", "-c"):
        if len(program) < 2:
            raise UsageError("%s needs an argument" % program[0])
    elif not os.path.isfile(program[0]):
        raise UsageError("cannot open script %r: no such file" % program[0])
    if args.suppressions and not os.path.isfile(args.suppressions):
        raise UsageError("cannot open suppressions file %r" % args.suppressions)
    args.program = program
    return args


# ---- reading the events -------------------------------------------------------


# The report modules (tools/report/: interpsan_events, progress,
# report_render) are put on the path explicitly, also when python runs this
# with -P or PYTHONSAFEPATH (the program's environment, inherited).
_REPORT_DIR = os.path.join(ROOT, "tools", "report")
if _REPORT_DIR not in sys.path:
    sys.path.insert(0, _REPORT_DIR)

# events.jsonl follows debug/events_schema.json; its one reader (a line cut
# short by a crash is skipped: everything before it counts).
from interpsan_events import SCHEMA_VERSION, read_events  # noqa: E402,F401

# Everything a person reads comes from tools/report/: native frames named
# once (symbolize), the text summary and HTML page (report_render), JUnit
# (report_junit). This process only calls them.
import report_junit  # noqa: E402
import report_render  # noqa: E402
import symbolize as symbolize_module  # noqa: E402


def signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return "signal %d" % number


# Full stacks copied into report.json per interpreter (the largest; the
# rest is summed into other_bytes/other_blocks). events.jsonl keeps the
# runner's whole list for tools/report/tracemalloc_export.py.
REPORT_TRACES = 200


def with_traces(entry, traces_event):
    """`entry` plus `traces` (full stacks, most recent call last, largest
    first) from the runner's tracemalloc_traces event, if there is one."""
    if not traces_event:
        return entry
    traces = traces_event.get("traces") or []
    kept, rest = traces[:REPORT_TRACES], traces[REPORT_TRACES:]
    entry["traces"] = kept
    entry["other_bytes"] = traces_event.get("other_bytes", 0) + sum(t.get("size", 0) for t in rest)
    entry["other_blocks"] = traces_event.get("other_blocks", 0) + sum(
        t.get("count", 0) for t in rest
    )
    return entry


def count_tests(results):
    """tests {run, failed, errors, skipped} of an interpreter from its
    recorded results, as unittest counts them: a result with run false
    (3.12's skipped tests, a skipped or failed setUpClass) is not run."""
    counts = {"run": 0, "failed": 0, "errors": 0, "skipped": 0}
    for t in results:
        if t.get("run", True):
            counts["run"] += 1
        key = {"failure": "failed", "error": "errors", "skipped": "skipped"}.get(t.get("outcome"))
        if key:
            counts[key] += 1
    return counts


def build_report(args, events, returncode, timed_out, python_version, interrupted=None):
    """report.json and the exit status. `interrupted`: the signal (SIGINT,
    SIGTERM) that stopped the run, or None."""
    start = next((e for e in events if e.get("event") == "start"), {})
    if start and start.get("schema_version") != SCHEMA_VERSION:
        # A runner built from other sources than this supervisor: its
        # events may not mean what this report says they do.
        _say(
            "interpsan: warning: the checked process wrote events of schema version %s; "
            "this supervisor reads version %s (rebuild the runner)\n"
            % (start.get("schema_version"), SCHEMA_VERSION)
        )
    n = args.interpreters
    started = {}
    results = {}
    ended = set()
    tests = {}
    for e in events:
        kind = e.get("event")
        if kind == "interpreter_start":
            started[e["index"]] = e
        elif kind == "interpreter_result":
            results[e["index"]] = e
        elif kind == "interpreter_end":
            ended.add(e["index"])
        elif kind == "interpreter_create_failed":
            # Py_NewInterpreterFromConfig failed: the interpreter never ran.
            results[e["index"]] = {
                "exit_code": 1,
                "status": "failed",
                "failure": "interpreter_create_failed",
                "failure_reason": e.get("detail") or "unknown error",
            }
            ended.add(e["index"])
        elif kind == "test":
            tests.setdefault(e["index"], []).append(
                {k: e[k] for k in ("test", "outcome", "duration", "message", "run") if k in e}
            )

    violations = []
    by_id = {}
    for e in events:
        if e.get("event") == "violation":
            v = dict(e["violation"])
            v["count"] = 1
            v["id"] = e.get("id")
            by_id[v["id"]] = v
            violations.append(v)
        elif e.get("event") == "violation_count" and e.get("id") in by_id:
            # Counts are written as they change (debug/report.cc): the
            # largest seen is the latest.
            v = by_id[e["id"]]
            v["count"] = max(v["count"], e["count"])
            # Every interpreter that hit this site, not only the first.
            v["interpreter_indexes"] = sorted(
                set(v.get("interpreter_indexes", []))
                | set(e.get("interpreter_indexes", []))
                | {v.get("interpreter_index")}
            )
    # Exact unless the checked process died without writing its final
    # counts (SIGKILL): then each count is at least half the real one.
    counts_exact = (
        not args.keep_going
        or not violations
        or any(e.get("event") == "violation_counts_final" for e in events)
    )

    crashed = returncode is not None and returncode < 0 and not timed_out and interrupted is None
    crash_dump = collect_dump(events, "crash") if crashed else None
    timeout_dump = collect_dump(events, "timeout") if timed_out else None
    interrupt_dump = collect_dump(events, "interrupted") if interrupted is not None else None
    symbolize(violations, [d for d in (crash_dump, timeout_dump, interrupt_dump) if d])
    violators = set()
    for v in violations:
        violators.add(v.get("interpreter_index"))
        violators.update(v.get("interpreter_indexes", []))

    if args.command == "exec":
        # The program created its interpreters itself: list what was seen,
        # main interpreter first (index 0).
        n = max(list(started) + [-1]) + 1
        stopped_early = returncode is not None and (
            returncode < 0 or (returncode == EXIT_VIOLATION and not args.keep_going)
        )
        for index, e in started.items():
            if index in results:
                continue
            code = returncode if e.get("main") else None
            if e.get("main"):
                status = "ok" if returncode == 0 else "failed"
                if stopped_early:
                    status = "stopped"
            elif index in ended or not stopped_early:
                status = "ok"
            else:
                status = "stopped"
            if status == "stopped":
                results[index] = {"id": e.get("id"), "exit_code": None}
            else:
                results[index] = {"id": e.get("id"), "exit_code": code, "status": status}
    interpreters = []
    for index in range(n):
        result = results.get(index, {})
        entry = {
            "id": started.get(index, {}).get("id", result.get("id")),
            "index": index,
            "own_gil": not started.get(index, {}).get("main", False),
            "exit_code": result.get("exit_code"),
            # The results recorded, however the interpreter ended (a crash or a
            # stop leaves no interpreter_result, but every result before it).
            "tests": (
                count_tests(tests[index])
                if index in tests
                else result.get("tests", {"run": 0, "failed": 0, "errors": 0, "skipped": 0})
            ),
        }
        # How it ended comes first: an interpreter still running when the
        # process crashed, hung or was stopped is that, whatever it found
        # before (its violations are in the report either way).
        if crashed and crash_dump and crash_dump.get("interpreter_index") == index:
            status = "crashed"
        elif (
            crashed
            and index not in ended
            and not (crash_dump and crash_dump.get("interpreter_index", -1) >= 0)
        ):
            status = "crashed"
        elif timed_out and index not in ended:
            status = "timeout"
        elif interrupted is not None and index not in ended:
            status = "interrupted"
        elif index in violators:
            status = "violation"
        elif result.get("status"):
            status = result["status"]
        else:
            # The run stopped (another interpreter's fatal violation) before
            # this one finished.
            status = "stopped"
        entry["status"] = status
        for key in ("failure", "failure_reason", "unsupported_extension"):
            if key in result:
                entry[key] = result[key]
        if index in tests:
            entry["test_results"] = tests[index]
        interpreters.append(entry)

    report = {
        "tool": "interpsan",
        # The events' contract this report was built from (debug/events_schema.json).
        "schema_version": SCHEMA_VERSION,
        "python": start.get("python", python_version),
        "command": args.command,
        "program": args.program,
        "options": {
            "interpreters": n,
            "checks": args.checks,
            "keep_going": args.keep_going,
            "trace_malloc": args.trace_malloc,
            "timeout": args.timeout,
            "audit": args.audit,
        },
        "coverage": {
            "dealloc_interposed": start.get("dealloc_interposed"),
            "new_reference_interposed": start.get("new_reference_interposed"),
            # Degraded modes (tools/runner/process_setup.h, SetupResult): false
            # means that part of the checking is blind in this run.
            "interpreter_lifecycle_interposed": start.get("interpreter_lifecycle_interposed"),
            "arena_map": start.get("arena_map"),
            "fast_thread_state": start.get("fast_thread_state"),
            "shim": start.get("shim"),
            # CPython 3.12's own single-phase extensions refused before their
            # PyInit_ ran (tools/runner/stdlib_single_phase.py): the program used the
            # stdlib's pure-Python fallbacks, as stock CPython ends up doing.
            "single_phase_stdlib_refused": sorted(
                {e.get("module") for e in events if e.get("event") == "stdlib_single_phase_refused"}
            ),
        },
        "interpreters": interpreters,
        "violations": violations,
        "counts_exact": counts_exact,
        "suppressed": max(
            [e.get("count", 0) for e in events if e.get("event") == "suppressed"] or [0]
        ),
        # CPython's own known findings (debug/cpython_findings.h), apart.
        "suppressed_cpython": max(
            [e.get("count", 0) for e in events if e.get("event") == "suppressed_cpython"] or [0]
        ),
        # Which of CPython's own known findings those were: one entry per site.
        "cpython_findings": [
            {k: e[k] for k in ("kind", "extension", "object_type")}
            for e in events
            if e.get("event") == "cpython_finding"
        ],
    }
    if args.trace_malloc:
        by_index = {e["index"]: e for e in events if e.get("event") == "tracemalloc"}
        stacks = {
            (e.get("what"), e.get("index")): e
            for e in events
            if e.get("event") == "tracemalloc_traces"
        }
        report["tracemalloc"] = {
            "frames": args.trace_malloc,
            "interpreters": [
                with_traces(
                    {
                        "id": i["id"],
                        "index": i["index"],
                        "current_bytes": by_index.get(i["index"], {}).get("current_bytes", 0),
                        "peak_bytes": by_index.get(i["index"], {}).get("peak_bytes", 0),
                        "top": by_index.get(i["index"], {}).get("top", []),
                    },
                    stacks.get(("live", i["index"])),
                )
                for i in interpreters
            ],
        }
        report["leaks"] = [
            with_traces(
                {
                    k: e[k]
                    for k in (
                        "interpreter",
                        "index",
                        "blocks",
                        "bytes",
                        "site_count",
                        "runtime_blocks",
                        "runtime_bytes",
                        "sites",
                    )
                    if k in e
                },
                stacks.get(("leaks", e.get("index"))),
            )
            for e in events
            if e.get("event") == "leaks"
        ]
    unsupported = [i["unsupported_extension"] for i in interpreters if "unsupported_extension" in i]
    if unsupported:
        report["unsupported_extensions"] = unsupported
    if crashed:
        sig = -returncode
        report["crash"] = crash_dump or {"complete": False}
        report["crash"].setdefault("signal", signal_name(sig))
        report["crash"].setdefault("signal_number", sig)
        report["crash"].setdefault("interpreter", None)
        report["crash"].setdefault("thread", None)
        report["crash"].setdefault("native_stack", [])
        report["crash"].setdefault("threads", [])
    if timed_out:
        report["timeout"] = timeout_dump or {"complete": False}
        report["timeout"].setdefault("seconds", args.timeout)
        report["timeout"].setdefault("threads", [])
    if interrupted is not None:
        # The dump was asked for with SIGUSR1; what the user sent is the
        # signal that counts.
        report["interrupted"] = interrupt_dump or {"complete": False}
        report["interrupted"]["signal"] = signal_name(interrupted)
        report["interrupted"]["signal_number"] = int(interrupted)
        report["interrupted"].setdefault("threads", [])

    if interrupted is not None:
        status = EXIT_INTERRUPTED[interrupted]
    elif crashed:
        status = EXIT_CRASH
    elif timed_out:
        status = EXIT_TIMEOUT
    elif violations or returncode == EXIT_VIOLATION:
        status = EXIT_VIOLATION
    elif returncode != 0 or any(i["status"] == "failed" for i in interpreters):
        status = EXIT_FAILED
    else:
        status = EXIT_OK
    report["exit_status"] = status
    return report, status


def symbolize(violations, dumps):
    """Names the native frames once (tools/report/symbolize.py) and derives
    report.json's native_stack and extension site from them."""
    # nm and addr2line may take seconds: a second Ctrl-C (or SIGTERM) stops
    # them, and the report is written with the frames as module+offset.
    try:
        with _STOP.hurry_point():
            symbolize_module.look_up(violations, dumps)
    except _Hurry:
        sys.stderr.write("interpsan: stopped at once: native frames left unsymbolized\n")
    symbolize_module.derive(violations, dumps)


def collect_dump(events, reason):
    """Builds report.json's `crash` or `timeout` object from the dump events
    the faulthandler wrote, or None if it wrote none."""
    begin = next(
        (e for e in events if e.get("event") == "dump_begin" and e.get("reason") == reason), None
    )
    if begin is None:
        return None
    dump = {
        k: begin[k]
        for k in (
            "signal",
            "signal_number",
            "address",
            "interpreter",
            "interpreter_index",
            "thread",
            "native_thread_id",
        )
        if k in begin
    }
    threads = []
    natives = {}
    first_native = None
    complete = False
    for e in events:
        if e.get("reason") != reason:
            continue
        if e.get("event") == "dump_thread":
            threads.append(
                {
                    k: e[k]
                    for k in (
                        "interpreter",
                        "interpreter_index",
                        "main_interpreter",
                        "thread_id",
                        "native_thread_id",
                        "current",
                        "python_traceback",
                    )
                    if k in e
                }
            )
        elif e.get("event") == "dump_native":
            if first_native is None:
                first_native = e
            natives[e.get("native_thread_id")] = e.get("native_frames", [])
        elif e.get("event") == "dump_end":
            complete = bool(e.get("complete"))
    dump["native_frames"] = first_native.get("native_frames", []) if first_native else []
    for t in threads:
        frames = natives.get(t.get("native_thread_id"))
        if frames is not None and t.get("native_thread_id") != dump.get("native_thread_id"):
            t["native_frames"] = frames
    dump["threads"] = threads
    dump["complete"] = complete
    return dump


def write_json_atomically(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def encode_options(options):
    """INTERPSAN_OPTIONS (tools/runner/options.h): space-separated key=value words,
    values percent-encoded."""
    from urllib.parse import quote

    return " ".join(
        "%s=%s" % (key, quote(os.fsencode(value), safe="/,.:_-+@~")) for key, value in options
    )


def check_output_paths(args):
    """Usage errors, before anything is built or run: --report DIR must be a
    directory interpsan can create and write in, --junit FILE a file it can
    write. Tried for real (root passes access checks it would then fail)."""
    if args.report_dir:
        try:
            os.makedirs(args.report_dir, exist_ok=True)
            probe = tempfile.NamedTemporaryFile(dir=args.report_dir, prefix=".interpsan-probe-")
            probe.close()
        except OSError as exc:
            raise UsageError(
                "cannot write the report in %r: %s" % (args.report_dir, exc.strerror or exc)
            )
    if args.junit:
        if os.path.isdir(args.junit):
            raise UsageError("cannot write the JUnit file %r: it is a directory" % args.junit)
        existed = os.path.exists(args.junit)
        try:
            with open(args.junit, "a"):
                pass
        except OSError as exc:
            raise UsageError(
                "cannot write the JUnit file %r: %s" % (args.junit, exc.strerror or exc)
            )
        if not existed:
            os.unlink(args.junit)


class _Hurry(Exception):
    """A second stop signal while the report is being symbolized."""


class _StopSignals:
    """SIGINT and SIGTERM while a run is supervised: recorded, never fatal
    to this process (it must write the report). The wait loop acts on them;
    during symbolization a second one raises _Hurry."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.received = []  # signal numbers, in order
        self._hurry_ok = False
        self._previous = {}

    def install(self):
        for sig in self.SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handler)

    def restore(self):
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous = {}

    def _handler(self, signum, frame):
        self.received.append(signal.Signals(signum))
        if self._hurry_ok and len(self.received) >= 2:
            self._hurry_ok = False
            raise _Hurry()

    def hurry_point(self):
        """A context in which a second signal raises _Hurry (one already
        received raises it at once)."""
        import contextlib

        @contextlib.contextmanager
        def context():
            if len(self.received) >= 2:
                raise _Hurry()
            self._hurry_ok = True
            try:
                yield
            finally:
                self._hurry_ok = False

        return context()


_STOP = _StopSignals()

# After the dump request (watchdog or interrupt): time for the checked
# process to dump and exit before its process group is killed.
GRACE_SECONDS = 5.0


def queue_dump_request(pid, value):
    """sigqueue(pid, SIGUSR1, value): the checked process's faulthandler
    dumps every interpreter's threads and exits with `value` (130, 143).
    Falls back to a plain SIGUSR1 (a watchdog dump) if sigqueue is out of
    reach."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        # union sigval {int; void*} is passed like a pointer-sized integer
        # (one register) on the 64-bit Linux ABIs; its int is the low half.
        libc.sigqueue.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long]
        if libc.sigqueue(pid, signal.SIGUSR1, value) == 0:
            return
        if ctypes.get_errno() == 3:  # ESRCH: already gone
            return
    except (ImportError, OSError, AttributeError):
        pass
    try:
        os.kill(pid, signal.SIGUSR1)
    except ProcessLookupError:
        pass


def _say(text):
    """A line on stderr that cannot stop the supervisor: with `|& tee`, a
    Ctrl-C kills tee too, and the report must still be written."""
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def child_process_options():
    """Popen options of the checked process: a process group of its own
    (Ctrl-C reaches the supervisor only, which stops the run cleanly),
    killed if the supervisor dies, not stopped by the terminal for being in
    the background (SIGTTOU ignored; a terminal stdin is replaced by
    /dev/null, which a background group could not read)."""
    options = {"process_group": 0}
    if os.isatty(0):
        options["stdin"] = subprocess.DEVNULL
    parent = os.getpid()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
    except (ImportError, OSError):
        libc = None

    def prepare():
        signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        if libc is not None:
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the supervisor died before prctl
            os._exit(1)

    options["preexec_fn"] = prepare
    return options


def _open_pidfd(pid):
    """A pidfd for the child (None where the kernel or Python has none)."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _wait_briefly(child, pidfd):
    """The child's exit status, or None after at most 0.1 s. A pidfd becomes
    readable the moment the child exits; Popen.wait(timeout=...) polls with
    sleeps that grow to 50 ms, which every run paid after its end."""
    if pidfd is None:
        try:
            return child.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            return None
    select.select([pidfd], [], [], 0.1)
    return child.poll()


def wait_for_child(child, args):
    """Waits for the checked process, acting on the watchdog and on stop
    signals. Returns (returncode, timed_out, interrupted signal or None)."""
    now = time.monotonic()
    deadline = now + args.timeout if args.timeout else None
    timed_out = False
    interrupted = None
    kill_at = None
    acted_on = 0
    pidfd = _open_pidfd(child.pid)
    try:
        while True:
            status = _wait_briefly(child, pidfd)
            if status is not None:
                return status, timed_out, interrupted
            now = time.monotonic()
            received = list(_STOP.received)
            if len(received) > acted_on:
                if acted_on == 0 and not timed_out:
                    interrupted = received[0]
                    _say(
                        "\ninterpsan: %s: dumping every interpreter's threads and stopping the run"
                        " (press Ctrl-C again to stop at once)\n" % signal_name(interrupted)
                    )
                    queue_dump_request(child.pid, EXIT_INTERRUPTED[interrupted])
                    kill_at = now + GRACE_SECONDS
                if len(received) >= 2 or timed_out:
                    # Again (or during the watchdog's dump): at once.
                    _say("interpsan: stopping at once\n")
                    kill_group(child.pid)
                    kill_at = None
                acted_on = len(received)
            if deadline is not None and not timed_out and interrupted is None and now >= deadline:
                timed_out = True
                _say("interpsan: watchdog: no exit after %ss, stopping the run\n" % args.timeout)
                child.send_signal(signal.SIGUSR1)  # dump request (faulthandler)
                kill_at = now + GRACE_SECONDS
            if kill_at is not None and now >= kill_at:
                _say(
                    "interpsan: no exit %ss after the dump request: killing the run\n"
                    % GRACE_SECONDS
                )
                kill_group(child.pid)
                kill_at = None
    finally:
        if pidfd is not None:
            os.close(pidfd)


def build_runner(spec):
    """Builds the runner with Bazel if `spec` is "bazel:ROOT:TAG"; returns its
    path. Any other spec is already a path."""
    if not spec.startswith("bazel:"):
        return spec
    _, root, tag = spec.split(":", 2)
    log_path = os.path.join(tempfile.gettempdir(), "interpsan-build-%s.log" % tag)
    with open(log_path, "w") as log:
        built = subprocess.call(
            [
                "bazel",
                "build",
                "--config=" + tag,
                "//tools/runner:interpsan_runner",
                "//tools/runner:libinterpsan_preload.so",
                "//tools/example:fastcache.so",
            ],
            cwd=root,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    if built != 0:
        with open(log_path, errors="replace") as log:
            sys.stderr.write("".join(log.readlines()[-30:]))
        raise UsageError("building the runner failed; full log: %s" % log_path)
    bin_dir = subprocess.check_output(
        ["bazel", "info", "--config=" + tag, "bazel-bin"],
        cwd=root,
        stderr=subprocess.DEVNULL,
        text=True,
    ).strip()
    return os.path.join(bin_dir, "tools", "runner", "interpsan_runner")


def run(args):
    check_output_paths(args)
    args.runner = build_runner(args.runner)
    report_dir = args.report_dir
    if report_dir:
        events_path = os.path.join(report_dir, "events.jsonl")
        tmpdir = None
    else:
        tmpdir = tempfile.mkdtemp(prefix="interpsan-")
        events_path = os.path.join(tmpdir, "events.jsonl")
    if os.path.exists(events_path):
        os.unlink(events_path)

    env = dict(os.environ)
    # The checked process's own options: one variable (tools/runner/options.h), so
    # that its argv is the program's alone.
    options = [
        ("events", events_path),
        ("checks", args.checks),
        ("keep_going", "1" if args.keep_going else "0"),
        ("trace_malloc", str(args.trace_malloc)),
        ("audit", args.audit),
    ]
    if args.suppressions:
        options.append(("suppressions", os.path.abspath(args.suppressions)))
    executable = None
    if args.command == "run":
        options.append(("interpreters", str(args.interpreters)))
        # argv is what `python PYTHON_ARGS` would have (sys.orig_argv,
        # /proc/self/cmdline); the binary executed is the runner.
        cmd = [args.python_executable] + args.program
        executable = args.runner
    else:
        # exec: the program itself, with the preload library beside the runner.
        preload = os.path.join(
            os.path.dirname(os.path.abspath(args.runner)), "libinterpsan_preload.so"
        )
        if not os.path.exists(preload):
            raise UsageError("the preload library is missing: %s" % preload)
        cmd = list(args.program)
        env["LD_PRELOAD"] = preload + (":" + env["LD_PRELOAD"] if env.get("LD_PRELOAD") else "")
    env["INTERPSAN_OPTIONS"] = encode_options(options)
    if args.no_default_suppressions:  # read by debug/cpython_findings.cc
        env["INTERPSAN_DEFAULT_SUPPRESSIONS"] = "0"
    else:
        env.pop("INTERPSAN_DEFAULT_SUPPRESSIONS", None)
    # Where Bazel put the runner: the bundled example finds its extension here.
    # The root of the runner's tree (bazel-bin, or the wheel's package): the
    # runner is tools/runner/interpsan_runner below it.
    env.setdefault(
        "INTERPSAN_BIN_DIR",
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(args.runner)))),
    )
    env.pop("PYTHONMALLOC", None)  # would replace interpsan's allocator hooks

    # Stop signals are recorded from here on (and handled once the child
    # exists): none is lost, none kills this process before the report.
    _STOP.install()
    child = subprocess.Popen(cmd, **child_process_options(), executable=executable, env=env)
    follower = None
    try:
        import progress
    except ImportError:  # an install without the progress module: no live line
        progress = None
    if progress is not None:
        live = progress.Progress(
            sys.stderr, interpreters=args.interpreters if args.command == "run" else None
        )
        follower = progress.follow(events_path, live) if live.enabled else None
    try:
        returncode, timed_out, interrupted = wait_for_child(child, args)
        if timed_out or interrupted is not None:
            kill_group(child.pid)  # what the program started, too
    finally:
        if follower is not None:
            follower.stop()

    events = read_events(events_path)
    if returncode == EXIT_USAGE and not any(e.get("event") == "start" for e in events):
        # The checked process refused its configuration (it said why).
        return EXIT_USAGE
    report, status = build_report(
        args, events, returncode, timed_out, args.python_version, interrupted
    )
    report_path = None
    if report_dir:
        report_path = os.path.join(report_dir, "report.json")
        write_json_atomically(report_path, report)
        try:
            with open(os.path.join(report_dir, "report.html"), "w", encoding="utf-8") as f:
                f.write(report_render.render_html(report))
        except Exception as exc:  # the report.json is what counts
            sys.stderr.write("interpsan: could not write report.html: %s\n" % exc)
    if args.junit:
        report_junit.write_junit(args.junit, report)
    try:
        sys.stderr.write(report_render.render_summary(report, report_path))
    except (OSError, ValueError):  # stderr is gone (see _say); the report is written
        pass
    _STOP.restore()
    if tmpdir:
        try:
            os.unlink(events_path)
        except OSError:
            pass
        os.rmdir(tmpdir)
    return status


def main(argv):
    first = 0
    while first < len(argv) and argv[first] in (
        "--runner",
        "--python-version",
        "--python-executable",
    ):
        first += 2
    if argv[first : first + 1] == ["report"]:
        return report_render.main(argv[first + 1 :])
    try:
        args = parse_args(argv)
        return run(args)
    except UsageError as exc:
        sys.stderr.write("interpsan: error: %s\n" % exc)
        return EXIT_USAGE
    except KeyboardInterrupt:  # before the run started (building): nothing to report
        sys.stderr.write("interpsan: interrupted\n")
        return EXIT_INTERRUPTED[signal.SIGINT]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
