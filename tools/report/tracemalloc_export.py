#!/usr/bin/env python3
"""Exports interpsan's per-interpreter allocation tracing (--trace-malloc) to
formats people would rather look at (stdlib only; runs with any python3):

  collapsed   `frame;frame;frame bytes` lines for flame graph tools
              (flamegraph.pl, inferno, speedscope's import): one file for
              the whole run with the interpreter as the root frame, and one
              file per interpreter (without it)
  speedscope  a speedscope JSON file (https://www.speedscope.app/
              file-format-schema.json): one "sampled" profile per
              interpreter, weights in bytes
  html        a self-contained page (inline SVG, CSS and JS; no network)
              with one flame graph per interpreter; click a frame to zoom

usage: tracemalloc_export.py REPORT [--out DIR] [--what live|leaks]
                             [--format collapsed,speedscope,html] [--events FILE]

REPORT is a report directory (`interpsan run --report DIR`) or its
report.json. Outputs go to --out (default: the report's directory), named
tracemalloc[-leaks].collapsed, tracemalloc[-leaks]-<index>.collapsed,
tracemalloc[-leaks].speedscope.json and tracemalloc[-leaks].html; the paths
written are printed, one per line.

--what live   the blocks alive when each interpreter's program finished
              (report.json `tracemalloc`)          [default]
--what leaks  the blocks each interpreter still owned after its teardown
              (report.json `leaks`)

Data sources, best first, per interpreter:
 1. full tracebacks: "tracemalloc_traces" events in DIR/events.jsonl (or the
    same lists copied into report.json as tracemalloc.interpreters[i].traces
    / leaks[i].traces):
      {"event": "tracemalloc_traces", "what": "live"|"leaks",
       "interpreter": ID, "index": I, "frames": N,
       "traces": [{"frames": [{"filename": F, "lineno": L, "name": FUNC}, ...],
                   "size": BYTES, "count": BLOCKS}, ...],
       "other_bytes": B, "other_blocks": K}
    frames most recent call last (like python_traceback in report.json);
    other_bytes/other_blocks: what the list leaves out (it is truncated);
 2. otherwise the flat sites of report.json (tracemalloc.interpreters[i].top
    or leaks[i].sites: the innermost frame's file and line only), exported
    as one-level stacks under the interpreter. What the top list leaves out
    of the interpreter's total shows as one "[other sites]" frame, so that
    widths are true fractions of the interpreter's traced memory.
"""

import argparse
import html
import json
import os
import sys

# The shared pieces (tools/report/report_common.py): report.json's reader, sizes
# for people, the flame graph; events.jsonl's one reader
# (tools/report/interpsan_events.py).
import report_common
from interpsan_events import read_events
from report_common import flame_css, flame_js, human_bytes

OTHER = "[other sites]"
FORMATS = ("collapsed", "speedscope", "html")


# ---- reading -------------------------------------------------------------------


def load_report(path):
    """(report dict, report directory) from a directory or a report.json."""
    report = report_common.load_report(path)
    return report, os.path.dirname(os.path.abspath(report_common.report_file(path)))


class Profile:
    """One interpreter's allocations as weighted stacks.

    stacks: list of (frames, size, count); frames is a tuple of
    (name, filename, lineno) from the outermost to the innermost frame
    (name is None for flat sites, whose function is unknown)."""

    def __init__(self, interp_id, index, source, frames_limit=None):
        self.id = interp_id
        self.index = index
        self.source = source  # "traces" (full tracebacks) or "sites" (flat)
        self.frames_limit = frames_limit
        self.stacks = []
        self.extra = {}  # current_bytes, peak_bytes, blocks, bytes... for display

    @property
    def label(self):
        return "interpreter %s (index %s)" % (self.id, self.index)

    @property
    def total(self):
        return sum(size for _, size, _ in self.stacks)


def _site_frame(site):
    return (None, str(site.get("filename", "<unknown>")), int(site.get("lineno", 0)))


def _trace_frames(frames):
    out = []
    for fr in frames:
        out.append(
            (fr.get("name") or None, str(fr.get("filename", "<unknown>")), int(fr.get("lineno", 0)))
        )
    return tuple(out)


def _from_traces(interp_id, index, data):
    prof = Profile(interp_id, index, "traces", data.get("frames"))
    for t in data.get("traces", []):
        frames = _trace_frames(t.get("frames", []))
        if not frames:
            frames = ((None, "<unknown>", 0),)
        prof.stacks.append((frames, int(t.get("size", 0)), int(t.get("count", 0))))
    other = int(data.get("other_bytes", 0) or 0)
    if other > 0:
        prof.stacks.append((((None, OTHER, 0),), other, int(data.get("other_blocks", 0) or 0)))
    return prof


def _from_sites(interp_id, index, sites, total_bytes=None, total_blocks=None):
    prof = Profile(interp_id, index, "sites", 1)
    for s in sites:
        prof.stacks.append(((_site_frame(s),), int(s.get("size", 0)), int(s.get("count", 0))))
    shown = prof.total
    if total_bytes is not None and total_bytes > shown:
        shown_blocks = sum(c for _, _, c in prof.stacks)
        rest_blocks = max(0, (total_blocks or 0) - shown_blocks)
        prof.stacks.append((((None, OTHER, 0),), total_bytes - shown, rest_blocks))
    return prof


def _profile_of(entry, full, interp_id, frames, sites, total_bytes, total_blocks, extra_keys):
    """The Profile of one report.json entry (tracemalloc.interpreters[i] or
    leaks[i]): from its traces event in `full` (taken out of it), else the
    traces copied into the entry, else its flat `sites`."""
    index = entry.get("index")
    data = full.pop(index, None)
    if data is None and entry.get("traces") is not None:
        data = {
            "traces": entry["traces"],
            "frames": frames,
            "other_bytes": entry.get("other_bytes", 0),
            "other_blocks": entry.get("other_blocks", 0),
        }
    if data is not None:
        prof = _from_traces(interp_id, index, data)
    else:
        prof = _from_sites(interp_id, index, sites, total_bytes, total_blocks)
    prof.extra = {k: entry[k] for k in extra_keys if k in entry}
    return prof


def build_profiles(report, events, what="live"):
    """One Profile per interpreter, in index order, from the best source."""
    full = {}
    for e in events:
        if e.get("event") == "tracemalloc_traces" and e.get("what", "live") == what:
            full[e.get("index")] = e
    profiles = []
    if what == "live":
        tm = report.get("tracemalloc") or {}
        for entry in tm.get("interpreters", []):
            profiles.append(
                _profile_of(
                    entry,
                    full,
                    entry.get("id"),
                    tm.get("frames"),
                    entry.get("top", []),
                    entry.get("current_bytes"),
                    None,
                    ("current_bytes", "peak_bytes"),
                )
            )
    else:
        for entry in report.get("leaks", []) or []:
            profiles.append(
                _profile_of(
                    entry,
                    full,
                    entry.get("interpreter"),
                    None,
                    entry.get("sites", []),
                    entry.get("bytes"),
                    entry.get("blocks"),
                    ("blocks", "bytes", "runtime_blocks", "runtime_bytes"),
                )
            )
    # Traces events for interpreters report.json does not list (e.g. a run
    # that crashed before the supervisor saw them): still exported.
    for index, data in sorted(full.items(), key=lambda kv: (kv[0] is None, kv[0])):
        profiles.append(_from_traces(data.get("interpreter"), index, data))
    profiles.sort(key=lambda p: (p.index is None, p.index if p.index is not None else 0))
    return profiles


# ---- frame names ---------------------------------------------------------------


def frame_label(frame):
    name, filename, lineno = frame
    if filename == OTHER:
        return OTHER
    where = "%s:%d" % (filename, lineno)
    return "%s (%s)" % (name, where) if name else where


def _collapsed_safe(text):
    # ';' separates frames and the last space separates the weight; a
    # space inside a frame is fine for flamegraph.pl / inferno.
    return text.replace(";", ",").replace("\n", " ").replace("\r", " ")


# ---- collapsed stacks ----------------------------------------------------------


def collapsed_lines(profile, with_root):
    """`frame;frame size` lines, outermost frame first, equal stacks merged."""
    merged = {}
    for frames, size, _ in profile.stacks:
        if size <= 0:
            continue
        parts = [_collapsed_safe(frame_label(f)) for f in frames]
        if with_root:
            parts.insert(0, _collapsed_safe(profile.label))
        key = ";".join(parts)
        merged[key] = merged.get(key, 0) + size
    return ["%s %d" % (k, v) for k, v in sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))]


def write_collapsed(profiles, out_dir, stem):
    paths = []
    combined = os.path.join(out_dir, stem + ".collapsed")
    with open(combined, "w", encoding="utf-8") as f:
        for prof in profiles:
            for line in collapsed_lines(prof, with_root=True):
                f.write(line + "\n")
    paths.append(combined)
    for prof in profiles:
        path = os.path.join(out_dir, "%s-%s.collapsed" % (stem, prof.index))
        with open(path, "w", encoding="utf-8") as f:
            for line in collapsed_lines(prof, with_root=False):
                f.write(line + "\n")
        paths.append(path)
    return paths


# ---- speedscope ----------------------------------------------------------------


def speedscope_document(profiles, name):
    frames = []
    frame_index = {}

    def index_of(frame):
        key = frame
        i = frame_index.get(key)
        if i is None:
            i = frame_index[key] = len(frames)
            fname, filename, lineno = frame
            entry = {"name": frame_label(frame)}
            if filename != OTHER:
                entry["file"] = filename
                if lineno:
                    entry["line"] = lineno
            frames.append(entry)
        return i

    out_profiles = []
    for prof in profiles:
        samples, weights = [], []
        for stack, size, _ in prof.stacks:
            if size <= 0:
                continue
            samples.append([index_of(f) for f in stack])
            weights.append(size)
        out_profiles.append(
            {
                "type": "sampled",
                "name": prof.label,
                "unit": "bytes",
                "startValue": 0,
                "endValue": sum(weights),
                "samples": samples,
                "weights": weights,
            }
        )
    return {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": frames},
        "profiles": out_profiles,
        "name": name,
        "activeProfileIndex": 0,
        "exporter": "interpsan tools/report/tracemalloc_export.py",
    }


# ---- HTML flame graphs ---------------------------------------------------------


def flame_svg(profile, svg_id):
    """One interpreter's flame graph (report_common.flame_svg): its frames
    labelled as in the collapsed stacks, the interpreter as the root."""
    stacks = [
        ([frame_label(f) for f in frames], size, count) for frames, size, count in profile.stacks
    ]
    svg = report_common.flame_svg(
        profile.label,
        stacks,
        empty_root=True,
        attrs={"id": svg_id, "data-interpreter": profile.id, "data-index": profile.index},
    )
    return '<div class="flame">%s</div>' % svg


_CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 2em; }
table { border-collapse: collapse; } td, th { padding: 2px 10px; text-align: right; border-bottom: 1px solid #ddd; }
th:first-child, td:first-child { text-align: left; }
.flame { border: 1px solid #ccc; background: #fafafa; }
.note { color: #666; font-size: 0.9em; }
"""


def html_page(profiles, report, what):
    title = "interpsan tracemalloc: %s" % (
        "leaks at interpreter teardown" if what == "leaks" else "live allocations at program end"
    )
    rows = []
    for prof in profiles:
        cells = [
            html.escape(prof.label),
            human_bytes(prof.total),
            str(sum(c for _, _, c in prof.stacks)),
        ]
        for key in ("current_bytes", "peak_bytes", "bytes", "runtime_bytes"):
            if key in prof.extra:
                cells.append("%s: %s" % (key, human_bytes(prof.extra[key])))
        rows.append("<tr>%s</tr>" % "".join("<td>%s</td>" % c for c in cells))
    sections = []
    for n, prof in enumerate(profiles):
        if prof.source == "traces":
            note = "full tracebacks (up to %s frames), outermost frame at the bottom" % (
                prof.frames_limit or "?"
            )
        else:
            note = (
                "flat sites: the innermost frame's file and line only (report.json "
                "keeps no deeper traceback); %s is what the top list leaves out" % OTHER
            )
        sections.append(
            '<section class="interpreter" data-index="%s">\n<h2>%s &mdash; %s</h2>\n'
            '<p class="note">%s. Click a frame to zoom, the bottom bar to reset.</p>\n%s\n</section>'
            % (
                html.escape(str(prof.index)),
                html.escape(prof.label),
                human_bytes(prof.total),
                html.escape(note),
                flame_svg(
                    prof, "flame-%s" % prof.index if prof.index is not None else "flame-x%d" % n
                ),
            )
        )
    python = html.escape(str(report.get("python", "")))
    program = html.escape(" ".join(str(p) for p in (report.get("program") or [])))
    return """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>%s</title>
<style>%s</style></head>
<body>
<h1>%s</h1>
<p class="note">Python %s &middot; program: %s</p>
<table><tr><th>interpreter</th><th>shown</th><th>blocks</th><th colspan="4">accounting</th></tr>
%s
</table>
%s
<script>%s</script>
</body></html>
""" % (
        html.escape(title),
        _CSS + flame_css(),
        html.escape(title),
        python,
        program,
        "\n".join(rows),
        "\n".join(sections),
        flame_js(),
    )


# ---- main ----------------------------------------------------------------------


def export(report_path, out_dir=None, what="live", formats=FORMATS, events_path=None):
    """Writes the requested formats; returns the list of paths written."""
    report, report_dir = load_report(report_path)
    if events_path is None:
        events_path = os.path.join(report_dir, "events.jsonl")
    events = read_events(events_path)
    profiles = build_profiles(report, events, what)
    out_dir = out_dir or report_dir
    os.makedirs(out_dir, exist_ok=True)
    stem = "tracemalloc" if what == "live" else "tracemalloc-leaks"
    paths = []
    if "collapsed" in formats:
        paths += write_collapsed(profiles, out_dir, stem)
    if "speedscope" in formats:
        path = os.path.join(out_dir, stem + ".speedscope.json")
        doc = speedscope_document(
            profiles,
            "interpsan %s: %s" % (what, " ".join(str(p) for p in (report.get("program") or []))),
        )
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        paths.append(path)
    if "html" in formats:
        path = os.path.join(out_dir, stem + ".html")
        with open(path, "w", encoding="utf-8") as f:
            f.write(html_page(profiles, report, what))
        paths.append(path)
    return paths, profiles


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="tracemalloc_export.py",
        description="Export interpsan --trace-malloc results as collapsed stacks, "
        "speedscope JSON and an HTML flame graph page.",
    )
    parser.add_argument("report", help="report directory or report.json")
    parser.add_argument("--out", help="output directory (default: the report's)")
    parser.add_argument("--what", choices=("live", "leaks"), default="live")
    parser.add_argument(
        "--format",
        default=",".join(FORMATS),
        help="comma list of: %s (default: all)" % ", ".join(FORMATS),
    )
    parser.add_argument("--events", help="events.jsonl (default: next to report.json)")
    args = parser.parse_args(argv)
    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        parser.error("unknown format(s): %s" % ", ".join(unknown))
    try:
        paths, profiles = export(args.report, args.out, args.what, formats, args.events)
    except (OSError, ValueError) as exc:
        sys.stderr.write("tracemalloc_export: %s\n" % exc)
        return 1
    if not profiles:
        sys.stderr.write(
            "tracemalloc_export: no %s data in the report (was the run made "
            "with --trace-malloc N?)\n" % args.what
        )
    for p in paths:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
