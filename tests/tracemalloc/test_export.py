"""tools/report/tracemalloc_export.py: collapsed stacks, speedscope JSON and the
HTML flame graph page, from real runs' reports (the runner's
"tracemalloc_traces" events: full stacks, here 1 and 5 frames deep) and from
a hand-written events file (the same events, exact expected output; and
report.json's flat top sites when there are no events)."""

import html.parser
import json
import os
import re
import subprocess
import sys

import tm_lib
from tm_lib import MB

N = 4
COLLAPSED_LINE = re.compile(r"^(?P<stack>.+) (?P<weight>\d+)$")
ROOT = re.compile(r"^interpreter (?P<id>-?\d+) \(index (?P<index>-?\d+)\)$")


def at_line(label, program, lineno):
    """A frame label of the export for PROGRAM:LINENO: "path:line" (flat
    sites) or "function (path:line)" (full stacks)."""
    return label.endswith("%s:%d" % (program, lineno)) or label.endswith(
        "%s:%d)" % (program, lineno)
    )


def run_exporter(*args):
    proc = subprocess.run(
        [sys.executable, tm_lib.EXPORTER] + list(args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )
    return proc


class _SvgCounter(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.svgs = []  # attrs of each <svg>
        self.external = []  # anything that would load from the network
        self.frames = 0  # <g class="f">
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "svg":
            self.svgs.append(attrs)
        if tag == "g" and attrs.get("class") == "f":
            self.frames += 1
        if tag == "script":
            self.scripts += 1
            if "src" in attrs:
                self.external.append((tag, attrs["src"]))
        if tag in ("link", "img", "iframe", "object", "embed"):
            self.external.append((tag, attrs))
        for key in ("src", "href"):
            value = attrs.get(key) or ""
            if value.startswith(("http:", "https:", "//")):
                self.external.append((tag, value))


class ExportChecks(tm_lib.TracemallocTestCase):
    """Format checks shared by the real-run and the hand-written cases."""

    def parse_collapsed(self, path, with_root):
        stacks = []
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                line = line.rstrip("\n")
                m = COLLAPSED_LINE.match(line)
                self.assertIsNotNone(
                    m, "%s:%d: not 'frame;frame weight': %r" % (path, lineno, line)
                )
                frames = m.group("stack").split(";")
                self.assertTrue(all(frames), "%s:%d: empty frame in %r" % (path, lineno, line))
                weight = int(m.group("weight"))
                self.assertGreater(weight, 0)
                if with_root:
                    self.assertRegex(frames[0], ROOT)
                else:
                    self.assertNotRegex(frames[0], ROOT)
                stacks.append((frames, weight))
        return stacks

    def check_speedscope(self, path, n_profiles):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        self.assertEqual(doc["$schema"], "https://www.speedscope.app/file-format-schema.json")
        frames = doc["shared"]["frames"]
        self.assertIsInstance(frames, list)
        for fr in frames:
            self.assertIsInstance(fr["name"], str)
            if "line" in fr:
                self.assertIsInstance(fr["line"], int)
            if "file" in fr:
                self.assertIsInstance(fr["file"], str)
        profiles = doc["profiles"]
        self.assertEqual(len(profiles), n_profiles)
        self.assertEqual(len({p["name"] for p in profiles}), n_profiles)
        self.assertIn(doc.get("activeProfileIndex", 0), range(n_profiles))
        for p in profiles:
            self.assertEqual(p["type"], "sampled")
            self.assertEqual(p["unit"], "bytes")
            self.assertEqual(len(p["samples"]), len(p["weights"]))
            self.assertTrue(p["samples"])
            for stack in p["samples"]:
                self.assertTrue(stack)
                for i in stack:
                    self.assertIsInstance(i, int)
                    self.assertIn(i, range(len(frames)))
            for w in p["weights"]:
                self.assertIsInstance(w, int)
                self.assertGreaterEqual(w, 0)
            self.assertEqual(p["startValue"], 0)
            self.assertEqual(p["endValue"], sum(p["weights"]))
        return doc

    def check_html(self, path, ids):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.assertTrue(text.startswith("<!DOCTYPE html>"))
        parser = _SvgCounter()
        parser.feed(text)
        parser.close()
        self.assertEqual(parser.external, [], "the page must not load anything")
        self.assertGreaterEqual(parser.scripts, 1)  # inline zoom script
        self.assertEqual(len(parser.svgs), len(ids), "one <svg> per interpreter")
        self.assertEqual(
            sorted(s.get("data-interpreter") for s in parser.svgs), sorted(str(i) for i in ids)
        )
        self.assertGreater(parser.frames, len(ids))
        return text


class ExportRealRun(ExportChecks):
    @classmethod
    def setUpClass(cls):
        cls.result = tm_lib.run_program("per_interpreter_alloc.py", n=N, trace_malloc=1)
        cls.out = tm_lib.scratch_dir("export-")
        cls.proc = run_exporter(cls.result.report_dir, "--out", cls.out)

    def setUp(self):
        self.assertClean(self.result, N)
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        self.interps = {e["index"]: e for e in self.result.report["tracemalloc"]["interpreters"]}

    def test_prints_what_it_wrote(self):
        written = self.proc.stdout.split()
        expected = (
            ["tracemalloc.collapsed"]
            + ["tracemalloc-%d.collapsed" % i for i in range(N)]
            + ["tracemalloc.speedscope.json", "tracemalloc.html"]
        )
        self.assertEqual([os.path.basename(p) for p in written], expected)
        for p in written:
            self.assertTrue(os.path.isfile(p), p)
            self.assertEqual(os.path.dirname(p), self.out)

    def test_collapsed_with_interpreter_root(self):
        stacks = self.parse_collapsed(os.path.join(self.out, "tracemalloc.collapsed"), True)
        by_root = {}
        for frames, weight in stacks:
            m = ROOT.match(frames[0])
            by_root.setdefault(int(m.group("index")), []).append((frames, weight))
            self.assertEqual(int(m.group("id")), self.interps[int(m.group("index"))]["id"])
        self.assertEqual(sorted(by_root), list(range(N)))
        for i, entries in by_root.items():
            # One frame traced: root + one frame. Widths add up to the
            # interpreter's traced memory.
            for frames, _ in entries:
                self.assertEqual(len(frames), 2, frames)
            self.assertEqual(sum(w for _, w in entries), self.interps[i]["current_bytes"])
            line = tm_lib.marker_line("per_interpreter_alloc.py", "ALLOC_%d" % i)
            own = [
                w for frames, w in entries if at_line(frames[1], "per_interpreter_alloc.py", line)
            ]
            self.assertEqual(len(own), 1, entries)
            self.assertLessEqual(abs(own[0] - (i + 1) * MB), 0.1 * (i + 1) * MB)

    def test_collapsed_per_interpreter(self):
        for i in range(N):
            stacks = self.parse_collapsed(
                os.path.join(self.out, "tracemalloc-%d.collapsed" % i), False
            )
            self.assertEqual(sum(w for _, w in stacks), self.interps[i]["current_bytes"])
            for j in range(N):
                line = tm_lib.marker_line("per_interpreter_alloc.py", "ALLOC_%d" % j)
                found = [f for f, _ in stacks if at_line(f[0], "per_interpreter_alloc.py", line)]
                self.assertEqual(len(found), 1 if i == j else 0, (i, j, stacks))

    def test_speedscope(self):
        doc = self.check_speedscope(os.path.join(self.out, "tracemalloc.speedscope.json"), N)
        names = [f["name"] for f in doc["shared"]["frames"]]
        for i, prof in enumerate(doc["profiles"]):
            self.assertEqual(prof["name"], "interpreter %d (index %d)" % (self.interps[i]["id"], i))
            self.assertEqual(prof["endValue"], self.interps[i]["current_bytes"])
            line = tm_lib.marker_line("per_interpreter_alloc.py", "ALLOC_%d" % i)
            weights = [
                w
                for s, w in zip(prof["samples"], prof["weights"])
                if at_line(names[s[-1]], "per_interpreter_alloc.py", line)
            ]
            self.assertEqual(len(weights), 1)
            self.assertLessEqual(abs(weights[0] - (i + 1) * MB), 0.1 * (i + 1) * MB)

    def test_html(self):
        text = self.check_html(
            os.path.join(self.out, "tracemalloc.html"), [self.interps[i]["id"] for i in range(N)]
        )
        self.assertIn("per_interpreter_alloc.py", text)

    def test_formats_option(self):
        out = tm_lib.scratch_dir("export-one-")
        proc = run_exporter(
            os.path.join(self.result.report_dir, "report.json"),
            "--out",
            out,
            "--format",
            "speedscope",
        )
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(sorted(os.listdir(out)), ["tracemalloc.speedscope.json"])
        proc = run_exporter(self.result.report_dir, "--out", out, "--format", "pdf")
        self.assertEqual(proc.returncode, 2)

    def test_leaks(self):
        result = tm_lib.run_program("leak_keep.py", "50", n=2, trace_malloc=1)
        self.assertClean(result, 2)
        out = tm_lib.scratch_dir("export-leaks-")
        proc = run_exporter(result.report_dir, "--out", out, "--what", "leaks")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        line = tm_lib.marker_line("leak_keep.py", "KEEP")
        stacks = self.parse_collapsed(os.path.join(out, "tracemalloc-leaks.collapsed"), True)
        keep = [(f, w) for f, w in stacks if at_line(f[-1], "leak_keep.py", line)]
        self.assertEqual(len(keep), 2, stacks)
        for entry in result.report["leaks"]:
            mine = [w for f, w in stacks if ROOT.match(f[0]).group("index") == str(entry["index"])]
            self.assertEqual(sum(mine), entry["bytes"])
        self.check_speedscope(os.path.join(out, "tracemalloc-leaks.speedscope.json"), 2)
        self.check_html(
            os.path.join(out, "tracemalloc-leaks.html"),
            [e["interpreter"] for e in result.report["leaks"]],
        )


class ExportRealRunFullStacks(ExportChecks):
    """--trace-malloc 5: each interpreter's flame graph has the whole call
    chain to its allocation: <module> -> alloc_INDEX -> the allocating line."""

    @classmethod
    def setUpClass(cls):
        cls.result = tm_lib.run_program("per_interpreter_alloc.py", n=2, trace_malloc=5)
        cls.out = tm_lib.scratch_dir("export-full-")
        cls.proc = run_exporter(cls.result.report_dir, "--out", cls.out)

    def test_call_chain_in_collapsed_stacks(self):
        self.assertClean(self.result, 2)
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        interps = {e["index"]: e for e in self.result.report["tracemalloc"]["interpreters"]}
        stacks = self.parse_collapsed(os.path.join(self.out, "tracemalloc.collapsed"), True)
        program = "per_interpreter_alloc.py"
        call_line = tm_lib.marker_line(program, "CALL")
        for i in range(2):
            mine = [(f, w) for f, w in stacks if ROOT.match(f[0]).group("index") == str(i)]
            # The event lists every live trace: widths add up exactly.
            self.assertEqual(sum(w for _, w in mine), interps[i]["current_bytes"])
            alloc_line = tm_lib.marker_line(program, "ALLOC_%d" % i)
            chain = [
                (f, w)
                for f, w in mine
                if f[-1].startswith("alloc_%d (" % i)
                and f[-1].endswith("%s:%d)" % (program, alloc_line))
            ]
            self.assertEqual(len(chain), 1, mine)
            frames, weight = chain[0]
            self.assertTrue(frames[-2].startswith("<module> ("), frames)
            self.assertTrue(frames[-2].endswith("%s:%d)" % (program, call_line)), frames)
            self.assertLessEqual(abs(weight - (i + 1) * MB), 0.1 * (i + 1) * MB)

    def test_report_json_carries_full_stacks(self):
        program = "per_interpreter_alloc.py"
        for entry in self.result.report["tracemalloc"]["interpreters"]:
            i = entry["index"]
            traces = entry["traces"]
            self.assertLessEqual(len(traces), 200)
            self.assertEqual(
                sum(t["size"] for t in traces) + entry["other_bytes"], entry["current_bytes"]
            )
            sizes = [t["size"] for t in traces]
            self.assertEqual(sizes, sorted(sizes, reverse=True), "largest first")
            mine = [t for t in traces if t["frames"] and t["frames"][-1]["name"] == "alloc_%d" % i]
            self.assertEqual(len(mine), 1, traces)
            frames = mine[0]["frames"]
            self.assertEqual(frames[-2]["name"], "<module>", frames)
            self.assertTrue(frames[-1]["filename"].endswith(program))
            self.assertEqual(frames[-1]["lineno"], tm_lib.marker_line(program, "ALLOC_%d" % i))
            self.assertLessEqual(abs(mine[0]["size"] - (i + 1) * MB), 0.1 * (i + 1) * MB)


def frame(name, filename, lineno):
    return {"filename": filename, "lineno": lineno, "name": name}


# A hand-written run: two interpreters, full tracebacks (most recent call
# last), as the runner's "tracemalloc_traces" events carry them.
MAIN = frame("<module>", "app.py", 40)
BUILD = frame("build", "app.py", 20)
PARSE = frame("parse", "lib/parse.py", 7)
ALLOC = frame("alloc", "lib/buf.py", 5)
TRACES_EVENTS = [
    {"event": "start", "python": "3.12.1"},
    {
        "event": "tracemalloc_traces",
        "what": "live",
        "interpreter": 7,
        "index": 0,
        "frames": 25,
        "traces": [
            {"frames": [MAIN, BUILD, ALLOC], "size": 3000, "count": 3},
            {"frames": [MAIN, BUILD, PARSE, ALLOC], "size": 2000, "count": 2},
            {"frames": [MAIN, PARSE], "size": 500, "count": 5},
            {"frames": [frame("odd;name", "we;ird.py", 1)], "size": 10, "count": 1},
            {"frames": [], "size": 70, "count": 1},
        ],
        "other_bytes": 400,
        "other_blocks": 4,
    },
    {
        "event": "tracemalloc_traces",
        "what": "live",
        "interpreter": 8,
        "index": 1,
        "frames": 25,
        "traces": [{"frames": [MAIN, PARSE, ALLOC], "size": 9000, "count": 9}],
    },
    {
        "event": "tracemalloc_traces",
        "what": "leaks",
        "interpreter": 8,
        "index": 1,
        "frames": 25,
        "traces": [{"frames": [MAIN, BUILD], "size": 64, "count": 1}],
    },
]
# What report.json has for the same run: flat top sites only.
TRACES_REPORT = {
    "python": "3.12.1",
    "program": ["app.py"],
    "interpreters": [{"id": 7, "index": 0}, {"id": 8, "index": 1}],
    "tracemalloc": {
        "frames": 25,
        "interpreters": [
            {
                "id": 7,
                "index": 0,
                "current_bytes": 5980,
                "peak_bytes": 6000,
                "top": [{"filename": "lib/buf.py", "lineno": 5, "size": 5000, "count": 5}],
            },
            {
                "id": 8,
                "index": 1,
                "current_bytes": 9000,
                "peak_bytes": 9000,
                "top": [{"filename": "lib/buf.py", "lineno": 5, "size": 9000, "count": 9}],
            },
        ],
    },
    "leaks": [
        {
            "interpreter": 8,
            "index": 1,
            "blocks": 1,
            "bytes": 64,
            "sites": [{"filename": "app.py", "lineno": 20, "size": 64, "count": 1}],
        }
    ],
}


class ExportFullTracebacks(ExportChecks):
    def make_dir(self, events=True, embed=False):
        d = tm_lib.scratch_dir("export-traces-")
        report = json.loads(json.dumps(TRACES_REPORT))
        if embed:  # the same data copied into report.json instead
            for e in TRACES_EVENTS[1:]:
                if e["what"] == "live":
                    entry = report["tracemalloc"]["interpreters"][e["index"]]
                else:
                    entry = report["leaks"][0]
                entry["traces"] = e["traces"]
                for k in ("other_bytes", "other_blocks"):
                    if k in e:
                        entry[k] = e[k]
        with open(os.path.join(d, "report.json"), "w") as f:
            json.dump(report, f)
        if events:
            with open(os.path.join(d, "events.jsonl"), "w") as f:
                for e in TRACES_EVENTS:
                    f.write(json.dumps(e) + "\n")
                f.write('{"event": "torn')  # a crashed run's last line
        return d

    def check_live(self, d):
        proc = run_exporter(d)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        stacks = self.parse_collapsed(os.path.join(d, "tracemalloc.collapsed"), True)
        got = {";".join(f): w for f, w in stacks}
        root0, root1 = "interpreter 7 (index 0)", "interpreter 8 (index 1)"
        self.assertEqual(
            got,
            {
                root0 + ";<module> (app.py:40);build (app.py:20);alloc (lib/buf.py:5)": 3000,
                root0
                + ";<module> (app.py:40);build (app.py:20);parse (lib/parse.py:7);alloc (lib/buf.py:5)": 2000,
                root0 + ";<module> (app.py:40);parse (lib/parse.py:7)": 500,
                root0 + ";[other sites]": 400,
                root0 + ";<unknown>:0": 70,
                root0 + ";odd,name (we,ird.py:1)": 10,
                root1 + ";<module> (app.py:40);parse (lib/parse.py:7);alloc (lib/buf.py:5)": 9000,
            },
        )
        per0 = self.parse_collapsed(os.path.join(d, "tracemalloc-0.collapsed"), False)
        self.assertEqual(sum(w for _, w in per0), 5980)
        doc = self.check_speedscope(os.path.join(d, "tracemalloc.speedscope.json"), 2)
        frames = doc["shared"]["frames"]
        p0 = doc["profiles"][0]
        self.assertEqual(p0["endValue"], 5980)
        deepest = max(p0["samples"], key=len)
        self.assertEqual(
            [frames[i]["name"] for i in deepest],
            [
                "<module> (app.py:40)",
                "build (app.py:20)",
                "parse (lib/parse.py:7)",
                "alloc (lib/buf.py:5)",
            ],
        )
        self.assertEqual(
            [(frames[i]["file"], frames[i]["line"]) for i in deepest],
            [("app.py", 40), ("app.py", 20), ("lib/parse.py", 7), ("lib/buf.py", 5)],
        )
        # One shared frame table: app.py:40 appears once.
        self.assertEqual(sum(1 for f in frames if f["name"] == "<module> (app.py:40)"), 1)
        text = self.check_html(os.path.join(d, "tracemalloc.html"), [7, 8])
        self.assertIn("full tracebacks", text)
        self.assertIn("parse (lib/parse.py:7)", text)

    def test_events_file(self):
        self.check_live(self.make_dir(events=True))

    def test_traces_in_report_json(self):
        self.check_live(self.make_dir(events=False, embed=True))

    def test_flat_fallback_without_traces(self):
        d = self.make_dir(events=False)
        proc = run_exporter(d, "--format", "collapsed")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        stacks = self.parse_collapsed(os.path.join(d, "tracemalloc.collapsed"), True)
        self.assertEqual(
            sorted((";".join(f), w) for f, w in stacks),
            [
                ("interpreter 7 (index 0);[other sites]", 980),
                ("interpreter 7 (index 0);lib/buf.py:5", 5000),
                ("interpreter 8 (index 1);lib/buf.py:5", 9000),
            ],
        )

    def test_leaks_from_events(self):
        d = self.make_dir(events=True)
        proc = run_exporter(d, "--what", "leaks", "--format", "collapsed,speedscope")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        stacks = self.parse_collapsed(os.path.join(d, "tracemalloc-leaks.collapsed"), True)
        self.assertEqual(
            [(";".join(f), w) for f, w in stacks],
            [("interpreter 8 (index 1);<module> (app.py:40);build (app.py:20)", 64)],
        )
        self.check_speedscope(os.path.join(d, "tracemalloc-leaks.speedscope.json"), 1)

    def test_no_tracemalloc_data(self):
        d = tm_lib.scratch_dir("export-empty-")
        with open(os.path.join(d, "report.json"), "w") as f:
            json.dump({"interpreters": [{"id": 1, "index": 0}]}, f)
        proc = run_exporter(d)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("--trace-malloc", proc.stderr)

    def test_missing_report(self):
        proc = run_exporter(os.path.join(tm_lib.scratch_dir("export-none-"), "nothing"))
        self.assertEqual(proc.returncode, 1)
        self.assertIn("tracemalloc_export:", proc.stderr)


if __name__ == "__main__":
    tm_lib.main()
