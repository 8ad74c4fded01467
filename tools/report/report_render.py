"""Renders an interpsan report.json for a person: a text summary and one
self-contained HTML page (inline CSS, JS and SVG; it opens without a network).

API (all pure functions of the report dict; nothing here runs user code):

    load_report(path) -> dict
        path is DIR (reads DIR/report.json) or the report.json file itself.
        Raises ReportError (one-line message) if missing or not a report.
    render_text(report: dict) -> str
        The summary: run, interpreters (status, test counts), each violation
        (kind, both interpreters, object, extension + function + location,
        test, Python traceback, allocation traceback, top native frames),
        the crash / watchdog dump grouped by interpreter, tracemalloc's top
        sites per interpreter, and leaks.
    render_summary(report: dict, report_path=None) -> str
        What the supervisor prints on stderr when a run ends: the first
        violations as render_text shows them, then one line for the run.
    render_html(report: dict) -> str
        The same as one HTML page: each violation with its two tracebacks
        side by side (acting interpreter / owner's allocation traceback),
        native stacks, the dump, per-interpreter memory flame graphs (SVG)
        when report["tracemalloc"] is present, leaks and per-test results.
    main(argv) -> int
        `report DIR [--html FILE] [--no-html]` (a leading "report" word is
        optional): prints render_text() to stdout and writes the HTML page to
        DIR/report.html (or FILE). Exit status 0, or 2 with a one-line error
        on stderr if DIR/report.json is missing or invalid.

Flame graphs use report["tracemalloc"]["interpreters"][i]["traces"] when
present: [{"frames": [{"filename", "lineno", "name"}], "size", "count"}],
frames outermost first (most recent call last, like python_traceback);
otherwise each interpreter's `top` sites become one-level stacks.

Every field is optional: the renderer accepts reports of older or newer
interpsan versions (and partial reports of runs that crashed) without
raising.
"""

import argparse
import html
import os
import sys

# The shared pieces (tools/report/report_common.py): report.json's reader, sizes
# and paths for people, the flame graph.
from report_common import (
    ReportError,
    flame_css,
    flame_js,
    flame_svg,  # noqa: F401
    human_bytes,
    load_report,
    short_path,
)

# A violation in words, the same in every text (tools/report/report_labels.py).
from report_labels import (
    interpreter_label,
    joined_present,
    violation_headline,
    violation_labels,
    violation_sides,
)

EXIT_USAGE = 2

EXIT_MEANINGS = {
    0: "clean",
    1: "a program failed",
    2: "usage error",
    3: "isolation violation(s)",
    4: "crash (fatal signal)",
    5: "watchdog timeout",
    130: "stopped by Ctrl-C (SIGINT)",
    143: "stopped by SIGTERM",
}

STATUS_MARKS = {
    "ok": "ok",
    "failed": "FAILED",
    "violation": "VIOLATION",
    "crashed": "CRASHED",
    "timeout": "TIMEOUT",
    "interrupted": "INTERRUPTED",
    "stopped": "stopped",
}

# How many native frames the text summary and the HTML page show before
# "... N more".
TOP_NATIVE_FRAMES = 8


# ---- helpers shared by both renderers -------------------------------------------


def _plural(n, word, plural=None):
    return "%d %s" % (n, word if n == 1 else (plural or word + "s"))


def _no_allocation_traceback(report):
    """What to say when a violation has no allocation traceback."""
    if (report.get("options") or {}).get("trace_malloc"):
        return "allocation traceback: none recorded for this block"
    return "allocation traceback: run with --trace-malloc N"


def format_py_frame(frame):
    return 'File "%s", line %s, in %s' % (
        frame.get("filename", "?"),
        frame.get("lineno", "?"),
        frame.get("name", "?"),
    )


def _tests_text(tests):
    tests = tests or {}
    return "%d run, %d failed, %d errors, %d skipped" % (
        tests.get("run", 0) or 0,
        tests.get("failed", 0) or 0,
        tests.get("errors", 0) or 0,
        tests.get("skipped", 0) or 0,
    )


def _program_text(report):
    program = report.get("program")
    if isinstance(program, list):
        return " ".join(str(p) for p in program)
    return str(program or "")


def _exit_status(report):
    status = report.get("exit_status")
    if status is None:
        return None, ""
    return status, EXIT_MEANINGS.get(status, "")


def dumps_of(report):
    """[(title, dump)] for report["crash"], report["timeout"] and
    report["interrupted"]."""
    out = []
    crash = report.get("crash")
    if isinstance(crash, dict):
        where = ""
        if crash.get("interpreter") not in (None, -1):
            where = " in " + interpreter_label(
                crash.get("interpreter"), crash.get("interpreter_index")
            )
        elif crash.get("interpreter") == -1:
            where = " outside any subinterpreter"
        addr = " at address %s" % crash["address"] if crash.get("address") else ""
        out.append(("Crash: %s%s%s" % (crash.get("signal") or "fatal signal", addr, where), crash))
    timeout = report.get("timeout")
    if isinstance(timeout, dict):
        secs = timeout.get("seconds")
        out.append(
            ("Watchdog timeout%s" % (" after %ss" % secs if secs is not None else ""), timeout)
        )
    interrupted = report.get("interrupted")
    if isinstance(interrupted, dict):
        out.append(("Stopped by %s" % (interrupted.get("signal") or "a signal"), interrupted))
    return out


def group_threads(dump):
    """A dump's threads grouped by interpreter: [(label, [thread])], the
    faulting interpreter first, the main interpreter last."""
    groups = {}
    order = []
    for t in dump.get("threads") or []:
        key = (t.get("interpreter"), t.get("interpreter_index"))
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(t)
    faulting = (dump.get("interpreter"), dump.get("interpreter_index"))

    def rank(key):
        interp, index = key
        if key == faulting and interp not in (None, -1):
            return (0, 0)
        if index is None or index < 0:
            return (2, 0)
        return (1, index)

    result = []
    for key in sorted(order, key=rank):
        interp, index = key
        threads = groups[key]
        main = any(t.get("main_interpreter") for t in threads) or (index is not None and index < 0)
        if main:
            label = "interpreter %s (main)" % interp
        else:
            label = interpreter_label(interp, index)
        if key == faulting and interp not in (None, -1):
            label += " [faulting]"
        result.append((label, threads))
    return result


def _options_text(report):
    """The run's options as given on the command line ("-n 4 --checks all
    --keep-going"), the same in the text summary and the HTML page; "" if
    the report has none."""
    opts = report.get("options") or {}
    if not opts:
        return ""
    return joined_present(
        " ",
        [
            ("-n %s", opts.get("interpreters", len(report.get("interpreters") or []))),
            ("--checks %s", opts.get("checks", "all")),
            ("--keep-going", opts.get("keep_going")),
            ("--trace-malloc %s", opts.get("trace_malloc")),
            ("--timeout %s", opts.get("timeout")),
        ],
    )


def _capitalized(text):
    return text[0].upper() + text[1:] if text else text


def _thread_head(t, current_mark):
    """ "Thread 0x7f.. (tid N)" of a dumped thread, `current_mark` appended
    if it is the one that was running."""
    tid = t.get("thread_id")
    head = "Thread %s" % (("0x%x" % tid) if isinstance(tid, int) else (tid or "?"))
    if t.get("native_thread_id"):
        head += " (tid %s)" % t["native_thread_id"]
    if t.get("current"):
        head += current_mark
    return head


def tracemalloc_interpreters(report):
    tm = report.get("tracemalloc")
    if not isinstance(tm, dict):
        return []
    return [i for i in tm.get("interpreters") or [] if isinstance(i, dict)]


# ---- text -----------------------------------------------------------------------


def text_violation(report, n, v):
    """A violation as text lines: its headline ("#1 KIND in EXT: FUNC() at
    LINE (x3)", unindented), then its labels, message, fix, both tracebacks and the top
    native frames, indented by six spaces."""
    acting, owner = violation_sides(report, v)
    out = ["#%d %s" % (n, violation_headline(v))]
    w = out.append
    for name, value in violation_labels(report, v):
        w("      %s: %s" % (name, value))
    if v.get("message"):
        w("      %s" % v["message"])
    if v.get("fix"):
        w("      fix: %s" % v["fix"])
    w("      Python traceback of %s (most recent call last):" % acting)
    tb = v.get("python_traceback") or []
    if not tb:
        w("        (no Python frame)")
    for f in tb:
        w("        " + format_py_frame(f))
    w("      Allocation traceback (%s):" % owner)
    atb = v.get("allocation_traceback") or []
    if not atb:
        w("        (%s)" % _no_allocation_traceback(report))
    for f in atb:
        w("        " + format_py_frame(f))
    stack = v.get("native_stack") or []
    if stack:
        w("      Native stack (top %d of %d):" % (min(TOP_NATIVE_FRAMES, len(stack)), len(stack)))
        for line in stack[:TOP_NATIVE_FRAMES]:
            w("        " + str(line))
    return out


# How many violations the supervisor's closing summary shows in full.
SUMMARY_VIOLATIONS = 5


def render_summary(report, report_path=None):
    """What the supervisor prints on stderr when the run ends (a str ending
    in a newline): the first violations in full (text_violation, the same
    words as render_text), then one line for the run."""
    out = []
    violations = report.get("violations") or []
    for n, v in enumerate(violations[:SUMMARY_VIOLATIONS], 1):
        lines = text_violation(report, n, v)
        # "interpsan:   KIND in EXT: FUNC() at LINE (xN)": the headline
        # without its number, then the rest as render_text has it.
        out.append("interpsan:   " + violation_headline(v))
        out.extend(lines[1:])
    if len(violations) > SUMMARY_VIOLATIONS:
        out.append(
            "interpsan: ... and %d more in the report" % (len(violations) - SUMMARY_VIOLATIONS)
        )
    interps = report.get("interpreters") or []
    counts = {}
    for interp in interps:
        counts[interp.get("status")] = counts.get(interp.get("status"), 0) + 1
    parts = ", ".join("%d %s" % (n, k) for k, n in sorted(counts.items(), key=str))
    total = sum(int(v.get("count", 1) or 1) for v in violations)
    line = "interpsan: %d interpreters (%s); %s" % (
        len(interps),
        parts,
        _plural(len(violations), "violation"),
    )
    if total != len(violations):
        line += " (%d occurrences)" % total
    if "crash" in report:
        line += "; crashed with %s" % report["crash"].get("signal")
    if "timeout" in report:
        line += "; timed out after %ss" % report["timeout"].get("seconds")
    if "interrupted" in report:
        line += "; stopped by %s" % report["interrupted"].get("signal")
    if not report.get("counts_exact", True):
        line += " (occurrence counts are lower bounds: the checked process was killed)"
    if report.get("suppressed_cpython"):
        modules = sorted(
            {f.get("extension") or "libpython" for f in report.get("cpython_findings") or []}
        )
        line += (
            '; %d findings in CPython itself suppressed%s (see README, "Known findings'
            ' in CPython itself"; --no-default-suppressions shows them)'
            % (report["suppressed_cpython"], " [%s]" % ", ".join(modules) if modules else "")
        )
    if report_path:
        line += "; report: %s" % report_path
    out.append(line)
    return "\n".join(out) + "\n"


def _site_line(site):
    """One allocation site of the memory sections: size, blocks, file:line."""
    return "    %10s in %6s blocks  %s:%s" % (
        human_bytes(site.get("size", 0)),
        site.get("count", "?"),
        short_path(site.get("filename", "?")),
        site.get("lineno", "?"),
    )


def render_text(report):
    """The report as a plain-text summary (a str ending in a newline)."""
    out = []
    w = out.append
    status, meaning = _exit_status(report)
    head = "interpsan report"
    if report.get("python"):
        head += " - Python %s" % str(report["python"]).split(" ")[0]
    w(head)
    program = _program_text(report)
    if program:
        w("  %s: %s" % (report.get("command", "run"), program))
    options = _options_text(report)
    if options:
        w("  " + options)
    if status is not None:
        w("  exit status %s%s" % (status, ": " + meaning if meaning else ""))
    w("")

    interps = report.get("interpreters") or []
    w("Interpreters (%d)" % len(interps))
    for interp in interps:
        mark = STATUS_MARKS.get(interp.get("status"), str(interp.get("status")))
        line = "  [%s] %s: %s" % (
            interp.get("index", "?"),
            interpreter_label(interp.get("id")),
            mark,
        )
        code = interp.get("exit_code")
        if code not in (None, 0):
            line += " (exit code %s)" % code
        line += "; tests: " + _tests_text(interp.get("tests"))
        w(line)
        if interp.get("failure"):
            w("      failure: %s" % interp["failure"])
        ue = interp.get("unsupported_extension")
        if isinstance(ue, dict):
            w(
                "      unsupported extension %s (%s): %s"
                % (ue.get("module", "?"), ue.get("path", "?"), ue.get("reason", ""))
            )
        failed = [
            t for t in interp.get("test_results") or [] if t.get("outcome") in ("failure", "error")
        ]
        for t in failed[:10]:
            first = ((t.get("message") or "").splitlines() or [""])[0]
            w("      %s %s: %s" % (t.get("outcome"), t.get("test"), first))
        if len(failed) > 10:
            w("      ... %d more failed tests" % (len(failed) - 10))
    w("")

    violations = report.get("violations") or []
    total = sum(int(v.get("count", 1) or 1) for v in violations)
    title = "Violations (%d" % len(violations)
    if total != len(violations):
        title += ", %d occurrences" % total
    title += ")"
    if report.get("suppressed"):
        title += "; %d suppressed" % report["suppressed"]
    w(title)
    if not violations:
        w("  none")
    for n, v in enumerate(violations, 1):
        lines = text_violation(report, n, v)
        w("  " + lines[0])
        out.extend(lines[1:])
    w("")

    for title, dump in dumps_of(report):
        w(title)
        if dump.get("complete") is False:
            w("  (the dump is incomplete)")
        for label, threads in group_threads(dump):
            w("  %s:" % _capitalized(label))
            for t in threads:
                w("    %s (most recent call last):" % _thread_head(t, " [current]"))
                tb = t.get("python_traceback") or []
                if not tb:
                    w("      (no Python frame)")
                for f in tb:
                    w("      " + format_py_frame(f))
                for line in (t.get("native_stack") or [])[:TOP_NATIVE_FRAMES]:
                    w("      " + str(line))
        stack = dump.get("native_stack") or []
        if stack:
            w(
                "  Native stack of the %s thread (top %d of %d):"
                % (
                    "faulting" if dump is report.get("crash") else "main",
                    min(TOP_NATIVE_FRAMES, len(stack)),
                    len(stack),
                )
            )
            for line in stack[:TOP_NATIVE_FRAMES]:
                w("    " + str(line))
        w("")

    tms = tracemalloc_interpreters(report)
    if tms:
        w("Memory (tracemalloc, %s frames)" % (report["tracemalloc"].get("frames", "?")))
        for i in tms:
            w(
                "  %s: current %s, peak %s"
                % (
                    interpreter_label(i.get("id"), i.get("index")),
                    human_bytes(i.get("current_bytes", 0)),
                    human_bytes(i.get("peak_bytes", 0)),
                )
            )
            sites = i.get("top") or []
            if not sites and i.get("traces"):
                # Full stacks only: list them by their innermost frame.
                sites = [
                    dict(
                        (t.get("frames") or [{}])[-1],
                        size=t.get("size", 0),
                        count=t.get("count", 0),
                    )
                    for t in sorted(i["traces"], key=lambda t: -(t.get("size") or 0))
                ]
            for site in sites[:10]:
                w(_site_line(site))
        w("")
    leaks = report.get("leaks")
    if isinstance(leaks, list) and (leaks or tms):
        w("Leaks (blocks alive after their interpreter was torn down)")
        if not leaks:
            w("  none")
        for leak in leaks:
            w(
                "  %s: %s in %s"
                % (
                    interpreter_label(leak.get("interpreter"), leak.get("index")),
                    human_bytes(leak.get("bytes", 0)),
                    _plural(int(leak.get("blocks", 0) or 0), "block"),
                )
            )
            for site in (leak.get("sites") or [])[:10]:
                w(_site_line(site))
        w("")
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


# ---- HTML ------------------------------------------------------------------------

_CSS = """
:root { --fg:#1d2330; --muted:#5f6b7a; --line:#d8dee6; --bg:#f6f8fa; --card:#fff;
  --bad:#c0262d; --bad-bg:#fdecec; --warn:#9a6700; --warn-bg:#fff4d6; --ok:#1a7f37; --ok-bg:#e6f4ea;
  --mono: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, "DejaVu Sans", Arial, sans-serif; color:var(--fg); background:var(--bg); }
header { background:#1d2330; color:#fff; padding:14px 24px; }
header h1 { margin:0; font-size:20px; font-weight:600; }
header .sub { color:#c4cbd6; font-size:13px; margin-top:4px; font-family:var(--mono); word-break:break-all; }
main { padding:16px 24px 40px; max-width:1500px; }
section { margin-bottom:22px; }
h2 { font-size:17px; margin:18px 0 8px; }
h3 { font-size:15px; margin:0 0 6px; }
.badges { display:flex; gap:8px; flex-wrap:wrap; margin-top:10px; }
.badge { display:inline-block; padding:2px 9px; border-radius:11px; font-size:12.5px; font-weight:600; background:#e8ebef; color:var(--fg); }
.badge.bad { background:var(--bad-bg); color:var(--bad); } .badge.ok { background:var(--ok-bg); color:var(--ok); }
.badge.warn { background:var(--warn-bg); color:var(--warn); }
header .badge { background:#384152; color:#fff; } header .badge.bad { background:var(--bad); color:#fff; }
header .badge.ok { background:var(--ok); color:#fff; } header .badge.warn { background:#b88400; color:#fff; }
table { border-collapse:collapse; background:var(--card); border:1px solid var(--line); }
th, td { padding:4px 10px; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
th { background:#eef1f5; font-weight:600; font-size:13px; }
td.num { text-align:right; font-variant-numeric:tabular-nums; }
.st { font-weight:600; } .st.ok { color:var(--ok); } .st.failed, .st.violation, .st.crashed { color:var(--bad); }
.st.timeout, .st.interrupted { color:var(--warn); } .st.stopped { color:var(--muted); }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:14px 16px; margin-bottom:14px; }
.card.violation { border-left:5px solid var(--bad); }
.card.dump { border-left:5px solid var(--warn); }
.kind { font-family:var(--mono); color:var(--bad); font-weight:700; font-size:16px; }
.count { color:var(--muted); font-weight:400; }
dl.meta { display:grid; grid-template-columns:max-content 1fr; gap:2px 14px; margin:8px 0 10px; }
dl.meta dt { color:var(--muted); } dl.meta dd { margin:0; font-family:var(--mono); font-size:13px; word-break:break-all; }
.msg { margin:6px 0; } .fix { margin:6px 0; padding:6px 10px; background:var(--ok-bg); border-radius:5px; }
.sides { display:grid; grid-template-columns:1fr 1fr; gap:12px; margin:10px 0; }
.side { border:1px solid var(--line); border-radius:6px; overflow:hidden; min-width:0; }
.side h4 { margin:0; padding:6px 10px; font-size:13px; background:#eef1f5; border-bottom:1px solid var(--line); }
.side.acting h4 { background:var(--bad-bg); color:var(--bad); }
.side.owner h4 { background:#e8f0fe; color:#1a4fa0; }
ol.tb { margin:0; padding:6px 10px 8px 34px; font-family:var(--mono); font-size:12.5px; }
ol.tb li { margin:2px 0; word-break:break-all; }
ol.tb li.innermost { font-weight:700; }
.fn { color:#6f42c1; } .file { color:#0a5a9c; } .ln { color:var(--fg); }
.empty { padding:8px 10px; color:var(--muted); font-style:italic; font-size:13px; }
pre.native { margin:0; padding:6px 10px; font-family:var(--mono); font-size:12px; background:#fbfcfd; overflow-x:auto; white-space:pre; }
pre.native .hl { background:var(--warn-bg); font-weight:700; }
details { margin:6px 0; } summary { cursor:pointer; color:#0a5a9c; font-size:13px; }
.group { margin:8px 0 12px; } .group > h3 { font-family:var(--mono); font-size:14px; }
.thread { border:1px solid var(--line); border-radius:6px; margin:6px 0; overflow:hidden; }
.thread .th { padding:4px 10px; background:#eef1f5; font-family:var(--mono); font-size:12.5px; }
.thread.current .th { background:var(--warn-bg); font-weight:700; }
.flame { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:10px 12px; margin-bottom:12px; }
.hint { color:var(--muted); font-size:12.5px; }
.muted { color:var(--muted); }
footer { color:var(--muted); font-size:12px; padding:10px 24px 24px; }
@media (max-width: 900px) { .sides { grid-template-columns:1fr; } }
"""


def _e(text):
    return html.escape("" if text is None else str(text), quote=True)


def _html_frames(frames, empty_html):
    if not frames:
        return '<div class="empty">%s</div>' % empty_html
    items = []
    for i, f in enumerate(frames):
        cls = ' class="innermost"' if i == len(frames) - 1 else ""
        items.append(
            '<li%s><span class="file">%s</span>:<span class="ln">%s</span> in <span class="fn">%s</span></li>'
            % (
                cls,
                _e(short_path(f.get("filename", "?"))),
                _e(f.get("lineno", "?")),
                _e(f.get("name", "?")),
            )
        )
    return '<ol class="tb">%s</ol>' % "".join(items)


def _html_native(lines, highlight=None, top=TOP_NATIVE_FRAMES):
    if not lines:
        return ""

    def render(subset):
        out = []
        for line in subset:
            text = _e(line)
            if highlight and highlight in str(line):
                text = '<span class="hl">%s</span>' % text
            out.append(text)
        return '<pre class="native">%s</pre>' % "\n".join(out)

    if len(lines) <= top:
        return render(lines)
    return "%s<details><summary>all %d native frames</summary>%s</details>" % (
        render(lines[:top]),
        len(lines),
        render(lines),
    )


def _badge(text, cls=""):
    return '<span class="badge %s">%s</span>' % (cls, _e(text))


def _html_header(report):
    status, meaning = _exit_status(report)
    interps = report.get("interpreters") or []
    violations = report.get("violations") or []
    badges = []
    if status is not None:
        cls = "ok" if status == 0 else ("warn" if status == 5 else "bad")
        badges.append(_badge("exit %s: %s" % (status, meaning), cls))
    counts = {}
    for i in interps:
        counts[i.get("status")] = counts.get(i.get("status"), 0) + 1
    badges.append(
        _badge(
            "%s: %s"
            % (
                _plural(len(interps), "interpreter"),
                ", ".join("%d %s" % (n, s) for s, n in sorted(counts.items(), key=str)),
            )
        )
    )
    badges.append(_badge(_plural(len(violations), "violation"), "bad" if violations else "ok"))
    run = sum((i.get("tests") or {}).get("run", 0) or 0 for i in interps)
    if run:
        bad = sum(
            ((i.get("tests") or {}).get("failed", 0) or 0)
            + ((i.get("tests") or {}).get("errors", 0) or 0)
            for i in interps
        )
        badges.append(_badge("%s, %d failed" % (_plural(run, "test"), bad), "bad" if bad else "ok"))
    for title, _dump in dumps_of(report):
        badges.append(_badge(title, "bad" if title.startswith("Crash") else "warn"))
    sub = []
    if report.get("python"):
        sub.append("Python " + str(report["python"]).split(" ")[0])
    program = _program_text(report)
    if program:
        sub.append("%s %s" % (report.get("command", "run"), program))
    options = _options_text(report)
    if options:
        sub.append(options)
    return (
        '<header><h1>interpsan report</h1><div class="sub">%s</div><div class="badges">%s</div></header>'
        % (_e(" \u00b7 ".join(sub)), "".join(badges))
    )


def _html_interpreters(report):
    interps = report.get("interpreters") or []
    rows = []
    for i in interps:
        t = i.get("tests") or {}
        st = i.get("status") or "?"
        note = ""
        if i.get("failure"):
            note = _e(i["failure"])
        ue = i.get("unsupported_extension")
        if isinstance(ue, dict):
            note = "unsupported extension <code>%s</code>: %s" % (
                _e(ue.get("module")),
                _e(ue.get("reason")),
            )
        rows.append(
            "<tr><td class=num>%s</td><td class=num>%s</td><td><span class='st %s'>%s</span></td><td class=num>%s</td>"
            "<td class=num>%s</td><td class=num>%s</td><td class=num>%s</td><td class=num>%s</td><td>%s</td></tr>"
            % (
                _e(i.get("index")),
                _e(i.get("id")),
                _e(st),
                _e(st),
                _e("" if i.get("exit_code") is None else i.get("exit_code")),
                _e(t.get("run", 0)),
                _e(t.get("failed", 0)),
                _e(t.get("errors", 0)),
                _e(t.get("skipped", 0)),
                note,
            )
        )
    table = (
        "<table><tr><th>index</th><th>id</th><th>status</th><th>exit</th><th>tests run</th>"
        "<th>failed</th><th>errors</th><th>skipped</th><th></th></tr>%s</table>" % "".join(rows)
    )
    # Per-test results, collapsed.
    details = []
    for i in interps:
        results = i.get("test_results") or []
        if not results:
            continue
        trs = []
        for t in results:
            outcome = t.get("outcome", "?")
            cls = {
                "passed": "ok",
                "failure": "failed",
                "error": "failed",
                "skipped": "stopped",
            }.get(outcome, "")
            trs.append(
                "<tr><td><code>%s</code></td><td><span class='st %s'>%s</span></td><td class=num>%.3fs</td><td>%s</td></tr>"
                % (
                    _e(t.get("test")),
                    cls,
                    _e(outcome),
                    float(t.get("duration") or 0),
                    _e(t.get("message", "")),
                )
            )
        details.append(
            "<details><summary>interpreter %s (index %s): %d tests</summary><table>"
            "<tr><th>test</th><th>outcome</th><th>time</th><th>message</th></tr>%s</table></details>"
            % (_e(i.get("id")), _e(i.get("index")), len(results), "".join(trs))
        )
    return '<section id="interpreters"><h2>Interpreters</h2>%s%s</section>' % (
        table,
        "".join(details),
    )


def _html_violation(report, n, v):
    acting, owner = violation_sides(report, v)
    count = int(v.get("count", 1) or 1)
    meta = [
        "<dt>%s</dt><dd>%s</dd>" % (_e(name), _e(value))
        for name, value in violation_labels(report, v)
    ]
    func = v.get("extension_function")
    tb = v.get("python_traceback") or []
    atb = v.get("allocation_traceback") or []
    highlight = None
    if func:
        highlight = "in %s (" % func
    parts = [
        '<div class="card violation" id="violation-%d">' % n,
        '<div class="kind">#%d %s%s</div>'
        % (
            n,
            _e(v.get("kind", "violation")),
            ' <span class="count">\u00d7%d</span>' % count if count > 1 else "",
        ),
        '<dl class="meta">%s</dl>' % "".join(meta),
    ]
    if v.get("message"):
        parts.append('<div class="msg">%s</div>' % _e(v["message"]))
    parts.append('<div class="sides">')
    parts.append(
        '<div class="side acting"><h4>%s \u2014 Python traceback (most recent call last)</h4>%s</div>'
        % (_e(_capitalized(acting)), _html_frames(tb, "no Python frame"))
    )
    parts.append(
        '<div class="side owner"><h4>Owner: %s \u2014 allocation traceback</h4>%s</div>'
        % (_e(owner), _html_frames(atb, _e(_no_allocation_traceback(report))))
    )
    parts.append("</div>")
    stack = v.get("native_stack") or []
    if stack:
        parts.append("<h3>Native stack</h3>" + _html_native(stack, highlight))
    if v.get("fix"):
        parts.append('<div class="fix"><b>Fix:</b> %s</div>' % _e(v["fix"]))
    parts.append("</div>")
    return "".join(parts)


def _html_dump(report, title, dump):
    parts = ['<div class="card dump"><h3>%s</h3>' % _e(title)]
    if dump.get("complete") is False:
        parts.append('<div class="hint">The dump is incomplete.</div>')
    for label, threads in group_threads(dump):
        parts.append('<div class="group"><h3>%s</h3>' % _e(_capitalized(label)))
        for t in threads:
            head = _thread_head(t, " \u2014 current")
            parts.append(
                '<div class="thread%s"><div class="th">%s</div>%s%s</div>'
                % (
                    " current" if t.get("current") else "",
                    _e(head),
                    _html_frames(t.get("python_traceback") or [], "no Python frame"),
                    _html_native(t.get("native_stack") or []),
                )
            )
        parts.append("</div>")
    stack = dump.get("native_stack") or []
    if stack:
        which = "faulting" if dump is report.get("crash") else "main"
        parts.append("<h3>Native stack of the %s thread</h3>%s" % (which, _html_native(stack)))
    parts.append("</div>")
    return "".join(parts)


# ---- flame graphs ------------------------------------------------------------------


def _stacks_for(interp):
    """[(frames outermost first as labels, size, count)] for one interpreter."""
    stacks = []
    traces = interp.get("traces")
    if isinstance(traces, list) and traces:
        for t in traces:
            frames = t.get("frames") or []
            labels = [
                "%s (%s:%s)"
                % (f.get("name", "?"), short_path(f.get("filename", "?")), f.get("lineno", "?"))
                if f.get("name")
                else "%s:%s" % (short_path(f.get("filename", "?")), f.get("lineno", "?"))
                for f in frames
            ]
            stacks.append(
                (labels or ["<unknown>"], int(t.get("size", 0) or 0), int(t.get("count", 0) or 0))
            )
        return stacks
    top = interp.get("top") or []
    for s in top:
        label = "%s:%s" % (short_path(s.get("filename", "?")), s.get("lineno", "?"))
        stacks.append(([label], int(s.get("size", 0) or 0), int(s.get("count", 0) or 0)))
    listed = sum(s[1] for s in stacks)
    current = int(interp.get("current_bytes", 0) or 0)
    if stacks and current > listed:
        stacks.append((["(other sites)"], current - listed, 0))
    return stacks


def _html_memory(report):
    tms = tracemalloc_interpreters(report)
    if not tms:
        return ""
    parts = [
        '<section id="memory"><h2>Memory by interpreter (tracemalloc, %s frames)</h2>'
        '<div class="hint">Live allocations when the program finished, by site; width is bytes. '
        "Click a frame to zoom, Escape to reset.</div>"
        % _e(report["tracemalloc"].get("frames", "?"))
    ]
    for i in tms:
        label = interpreter_label(i.get("id"), i.get("index"))
        stacks = _stacks_for(i)
        head = "%s: current %s, peak %s" % (
            label,
            human_bytes(i.get("current_bytes", 0)),
            human_bytes(i.get("peak_bytes", 0)),
        )
        svg = flame_svg(label, stacks) if stacks else ""
        parts.append(
            '<div class="flame"><h3>%s</h3>%s</div>'
            % (
                _e(_capitalized(head)),
                svg or '<div class="empty">no live allocation sites recorded</div>',
            )
        )
    parts.append("</section>")
    return "".join(parts)


def _html_leaks(report):
    leaks = report.get("leaks")
    if not isinstance(leaks, list) or (not leaks and not tracemalloc_interpreters(report)):
        return ""
    if not leaks:
        return '<section id="leaks"><h2>Leaks</h2><div class="muted">none</div></section>'
    rows = []
    for leak in leaks:
        sites = "".join(
            "<div><code>%s:%s</code> %s in %s blocks</div>"
            % (
                _e(short_path(s.get("filename", "?"))),
                _e(s.get("lineno", "?")),
                _e(human_bytes(s.get("size", 0))),
                _e(s.get("count", "?")),
            )
            for s in (leak.get("sites") or [])[:10]
        )
        rows.append(
            "<tr><td>%s</td><td class=num>%s</td><td class=num>%s</td><td>%s</td></tr>"
            % (
                _e(interpreter_label(leak.get("interpreter"), leak.get("index"))),
                _e(leak.get("blocks", 0)),
                _e(human_bytes(leak.get("bytes", 0))),
                sites,
            )
        )
    return (
        '<section id="leaks"><h2>Leaks</h2><div class="hint">Blocks an interpreter owned that were still '
        "alive after it was torn down.</div><table><tr><th>interpreter</th><th>blocks</th><th>bytes</th>"
        "<th>sites</th></tr>%s</table></section>" % "".join(rows)
    )


def render_html(report):
    """The report as one self-contained HTML page (a str)."""
    violations = report.get("violations") or []
    body = [_html_header(report), "<main>"]
    if violations:
        body.append('<section id="violations"><h2>Violations (%d)</h2>' % len(violations))
        body.extend(_html_violation(report, n, v) for n, v in enumerate(violations, 1))
        body.append("</section>")
    else:
        body.append(
            '<section id="violations"><h2>Violations</h2><div class="card">'
            "No isolation violation was found.</div></section>"
        )
    dumps = dumps_of(report)
    if dumps:
        body.append(
            '<section id="dump"><h2>Crash / hang dump</h2>%s</section>'
            % "".join(_html_dump(report, t, d) for t, d in dumps)
        )
    body.append(_html_interpreters(report))
    body.append(_html_memory(report))
    body.append(_html_leaks(report))
    body.append("</main>")
    body.append(
        "<footer>Rendered by interpsan (tools/report/report_render.py) from report.json.</footer>"
    )
    title = "interpsan report"
    if violations:
        title += ": %s" % _plural(len(violations), "violation")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>%s</title><style>%s</style></head><body>%s<script>%s</script></body></html>\n"
        % (_e(title), _CSS + flame_css(), "".join(body), flame_js())
    )


# ---- command line ----------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise ReportError(message)


def main(argv):
    """`report DIR [--html FILE] [--no-html]`; returns the exit status."""
    argv = list(argv)
    if argv and argv[0] == "report":
        argv = argv[1:]
    parser = _Parser(
        prog="interpsan report",
        description="Print a summary of DIR/report.json and write DIR/report.html.",
    )
    parser.add_argument("dir", help="the --report DIR of a run (or a report.json file)")
    parser.add_argument(
        "--html", metavar="FILE", help="where to write the HTML page (default: DIR/report.html)"
    )
    parser.add_argument("--no-html", action="store_true", help="print the summary only")
    try:
        args = parser.parse_args(argv)
        report = load_report(args.dir)
        html_path = None
        if not args.no_html:
            base = (
                args.dir if os.path.isdir(args.dir) else os.path.dirname(os.path.abspath(args.dir))
            )
            html_path = args.html or os.path.join(base, "report.html")
            page = render_html(report)
            try:
                with open(html_path, "w", encoding="utf-8") as f:
                    f.write(page)
            except OSError as exc:
                raise ReportError("cannot write %s: %s" % (html_path, exc.strerror or exc))
        text = render_text(report)
    except ReportError as exc:
        sys.stderr.write("interpsan: error: %s\n" % exc)
        return EXIT_USAGE
    out = sys.stdout
    try:
        out.write(text)
        if html_path:
            out.write("\nHTML report: %s\n" % html_path)
        out.flush()
    except UnicodeEncodeError:
        out.buffer.write(text.encode("utf-8", "replace"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
