"""Tests of tools/report/report_render.py on real reports: the bundled example
(a cross-interpreter violation), a crash, a watchdog timeout and a unittest
program, each produced here by running tools/interpsan; plus synthetic
reports for what the runner does not produce yet (full-stack traces,
allocation tracebacks, leaks) and for robustness."""

import copy
import html.parser
import os
import re
import subprocess
import sys
import unittest

import report_lib
from report_lib import marker_line, program

import report_render


class _TagChecker(html.parser.HTMLParser):
    """Collects tags, attributes and text, and checks that elements nest."""

    VOID = {"meta", "br", "img", "input", "link", "hr", "rect", "path", "line", "circle"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.tags, self.attrs, self.text = [], [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("unexpected </%s> (open: %s)" % (tag, self.stack[-3:]))
            if tag in self.stack:
                while self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse_html(page):
    checker = _TagChecker()
    checker.feed(page)
    checker.close()
    return checker


class RenderTestCase(unittest.TestCase):
    maxDiff = None

    def assertSelfContainedHtml(self, page):
        checker = parse_html(page)
        self.assertEqual(checker.errors, [], "HTML does not nest")
        self.assertEqual(checker.stack, [], "unclosed elements")
        self.assertTrue(page.startswith("<!DOCTYPE html>"))
        # Nothing is fetched: no external scripts, styles, images or fonts.
        for name, value in checker.attrs:
            if name in ("src", "href", "srcset", "action", "poster"):
                self.fail("external reference %s=%r" % (name, value))
        for tag in ("link", "img", "iframe", "object", "embed"):
            self.assertNotIn(tag, checker.tags)
        self.assertNotIn("@import", page)
        self.assertIsNone(re.search(r"url\(", page), "CSS url() in the page")
        return checker


class ViolationReportTest(RenderTestCase):
    @classmethod
    def setUpClass(cls):
        cls.result = report_lib.violation_run()
        cls.report = cls.result.report
        cls.violation = cls.report["violations"][0]

    def test_text_names_everything_about_the_violation(self):
        v = self.violation
        text = report_render.render_text(self.report)
        d = self.result.describe() + "\n--- text ---\n" + text
        self.assertIn("Violations (1)", text, d)
        self.assertIn(v["kind"], text, d)
        self.assertIn(
            "acting: interpreter %d (index %d)" % (v["interpreter"], v["interpreter_index"]),
            text,
            d,
        )
        self.assertIn(
            "owner: interpreter %d (index %d%s)"
            % (v["owner_interpreter"], v["owner_index"], ", ended" if v["owner_ended"] else ""),
            text,
            d,
        )
        self.assertIn(v["object_type"], text, d)
        self.assertIn(v["object_address"], text, d)
        # The extension, the function and the line in fastcache.c.
        self.assertRegex(text, r"extension: fastcache, in cached\(\), at \S*fastcache\.c:\d+", d)
        # The acting interpreter's Python traceback, innermost frame last.
        self.assertRegex(text, r'File "\S*demo\.py", line \d+, in main', d)
        self.assertIn("Allocation traceback", text, d)
        if not v.get("allocation_traceback"):
            self.assertIn("allocation traceback: run with --trace-malloc N", text, d)
        self.assertRegex(text, r"Native stack \(top \d+ of \d+\):\n\s+#0 in ", d)
        self.assertIn("exit status 3: isolation violation(s)", text, d)
        # Every interpreter, with its status.
        for interp in self.report["interpreters"]:
            self.assertIn("[%d] interpreter %s:" % (interp["index"], interp["id"]), text, d)
        self.assertIn("VIOLATION", text, d)

    def test_html_shows_both_sides_side_by_side(self):
        v = self.violation
        page = report_render.render_html(self.report)
        checker = self.assertSelfContainedHtml(page)
        text = "".join(checker.text)
        self.assertIn('class="sides"', page)
        self.assertEqual(page.count('class="side acting"'), 1)
        self.assertEqual(page.count('class="side owner"'), 1)
        self.assertIn(
            "Interpreter %d (index %d)" % (v["interpreter"], v["interpreter_index"]), text
        )
        self.assertIn(
            "Owner: interpreter %d (index %d%s)"
            % (v["owner_interpreter"], v["owner_index"], ", ended" if v["owner_ended"] else ""),
            text,
        )
        if not v.get("allocation_traceback"):
            self.assertIn("allocation traceback: run with --trace-malloc N", text)
        self.assertIn("demo.py", text)
        self.assertIn(v["kind"], text)
        self.assertIn("fastcache", text)
        self.assertIn("Native stack", text)
        # The extension's native frame is highlighted.
        self.assertRegex(page, r'<span class="hl">#\d+ in cached ')
        self.assertIn("Fix:", text)

    def test_command_line_writes_html_and_prints_summary(self):
        out = subprocess.run(
            [sys.executable, report_lib.RENDERER, "report", self.result.report_dir],
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stderr, "")
        self.assertEqual(
            out.stdout.rstrip("\n").rsplit("\n", 1)[0].rstrip("\n"),
            report_render.render_text(self.report).rstrip("\n"),
        )
        html_path = os.path.join(self.result.report_dir, "report.html")
        self.assertIn("HTML report: %s" % html_path, out.stdout)
        with open(html_path, encoding="utf-8") as f:
            self.assertEqual(f.read(), report_render.render_html(self.report))

        other = os.path.join(report_lib.scratch_dir("html-"), "x.html")
        self.assertEqual(report_render.main([self.result.report_dir, "--html", other]), 0)
        self.assertTrue(os.path.getsize(other) > 1000)

    def test_interpsan_report_command(self):
        # `tools/interpsan report DIR`: the launcher dispatches it to
        # report_render.main.
        out = subprocess.run(
            [report_lib.LAUNCHER, "--python", report_lib.VERSION, "report", self.result.report_dir],
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(report_render.render_text(self.report), out.stdout)
        self.assertTrue(os.path.exists(os.path.join(self.result.report_dir, "report.html")))
        missing = subprocess.run(
            [
                report_lib.LAUNCHER,
                "--python",
                report_lib.VERSION,
                "report",
                report_lib.scratch_dir("no-report-"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.assertEqual(missing.returncode, 2, missing)
        self.assertEqual(len(missing.stderr.splitlines()), 1, missing.stderr)


class CrashReportTest(RenderTestCase):
    @classmethod
    def setUpClass(cls):
        cls.result = report_lib.interpsan(["-n", "3"], [program("crash.py")], name="crash")

    def test_crash_dump_grouped_by_interpreter(self):
        d = self.result.describe()
        self.assertEqual(self.result.status, 4, d)
        report = self.result.report
        text = report_render.render_text(report)
        d += "\n--- text ---\n" + text
        self.assertIn("Crash: SIGSEGV", text, d)
        self.assertIn("exit status 4: crash (fatal signal)", text, d)
        # One group per interpreter that had a thread in the dump.
        for t in report["crash"]["threads"]:
            if t.get("interpreter_index", -1) >= 0:
                self.assertIn(
                    "Interpreter %d (index %d)" % (t["interpreter"], t["interpreter_index"]),
                    text,
                    d,
                )
        waiting = marker_line(program("crash.py"), "WAITING")
        if any(t.get("python_traceback") for t in report["crash"]["threads"]):
            self.assertRegex(
                text, r'crash\.py", line (%d|\d+), in (wait_here|crash_here)' % waiting, d
            )
        # The groups come in order: the faulting interpreter first, main last.
        groups = re.findall(r"^  (Interpreter .*):$", text, re.M)
        self.assertTrue(groups, d)
        if any("(main)" in g for g in groups):
            self.assertIn("(main)", groups[-1], d)

        page = report_render.render_html(report)
        checker = self.assertSelfContainedHtml(page)
        html_text = "".join(checker.text)
        self.assertIn("Crash / hang dump", html_text)
        self.assertIn("Crash: SIGSEGV", html_text)
        self.assertIn('class="card dump"', page)


class TimeoutReportTest(RenderTestCase):
    @classmethod
    def setUpClass(cls):
        cls.result = report_lib.interpsan(
            ["-n", "2", "--timeout", "2"], [program("hang.py")], name="hang"
        )

    def test_watchdog_dump(self):
        d = self.result.describe()
        self.assertEqual(self.result.status, 5, d)
        text = report_render.render_text(self.result.report)
        self.assertIn("Watchdog timeout after 2.0s", text, d + text)
        self.assertIn("exit status 5: watchdog timeout", text)
        if any(t.get("python_traceback") for t in self.result.report["timeout"]["threads"]):
            self.assertRegex(
                text, r'hang\.py", line %d, in stuck' % marker_line(program("hang.py"), "HANG")
            )
        page = report_render.render_html(self.result.report)
        self.assertSelfContainedHtml(page)
        self.assertIn("Watchdog timeout", page)


class UnittestReportTest(RenderTestCase):
    @classmethod
    def setUpClass(cls):
        cls.result = report_lib.interpsan(["-n", "2"], [program("unit.py")], name="unit")

    def test_counts_and_failed_tests(self):
        d = self.result.describe()
        self.assertEqual(self.result.status, 1, d)
        text = report_render.render_text(self.result.report)
        d += "\n--- text ---\n" + text
        # tests.run is unittest's own count: 3.12.1 never starts a skipped
        # test, 3.13 does.
        run = 3 if report_lib.VERSION == "3.12" else 4
        self.assertEqual(text.count("tests: %d run, 1 failed, 1 errors, 1 skipped" % run), 2, d)
        self.assertIn("failure __main__.Sample.test_fails: AssertionError", text, d)
        self.assertIn("error __main__.Sample.test_errors: RuntimeError: boom", text, d)
        self.assertIn("Violations (0)\n  none", text, d)
        page = report_render.render_html(self.result.report)
        self.assertSelfContainedHtml(page)
        self.assertIn("__main__.Sample.test_errors", page)
        self.assertIn("No isolation violation was found.", page)


def synthetic_report():
    """A report with everything the renderer can show, including what the
    runner does not produce yet: allocation tracebacks, full-stack traces,
    leaks, a test attribution."""
    frame = lambda f, n, name: {"filename": f, "lineno": n, "name": name}  # noqa: E731
    return {
        "tool": "interpsan",
        "python": "3.13.0 (main)",
        "command": "run",
        "program": ["app.py"],
        "options": {
            "interpreters": 2,
            "checks": "all",
            "keep_going": True,
            "trace_malloc": 3,
            "timeout": None,
        },
        "interpreters": [
            {
                "id": 1,
                "index": 0,
                "own_gil": True,
                "status": "violation",
                "exit_code": 0,
                "tests": {"run": 2, "failed": 0, "errors": 0, "skipped": 0},
            },
            {
                "id": 2,
                "index": 1,
                "own_gil": True,
                "status": "ok",
                "exit_code": 0,
                "tests": {"run": 2, "failed": 0, "errors": 0, "skipped": 0},
            },
        ],
        "violations": [
            {
                "kind": "cross-interpreter-dealloc",
                "check": "dealloc",
                "interpreter": 1,
                "interpreter_index": 0,
                "owner_interpreter": 2,
                "owner_index": 1,
                "owner_ended": False,
                "object_type": "float",
                "object_address": "0x7f0000001000",
                "extension": "broken_queue",
                "extension_path": "/x/broken_queue.so",
                "extension_function": "drain",
                # As the supervisor writes it (tools/report/symbolize.py:
                # Bazel's /proc/self/cwd/ dropped once, there).
                "extension_location": "tests/broken_queue.c:40",
                "test": "__main__.QueueTest.test_drain",
                "python_traceback": [frame("app.py", 3, "<module>"), frame("app.py", 9, "consume")],
                "allocation_traceback": [
                    frame("app.py", 3, "<module>"),
                    frame("app.py", 5, "produce"),
                ],
                "native_stack": ["#%d in f%d (lib.so+0x%x)" % (i, i, i) for i in range(12)],
                "message": "<script>alert('x')</script> dealloc of a float owned by interpreter 2",
                "fix": "keep objects in per-interpreter state",
                "count": 3,
                "interpreter_indexes": [1, 0],
            }
        ],
        "tracemalloc": {
            "frames": 3,
            "interpreters": [
                {
                    "id": 1,
                    "index": 0,
                    "current_bytes": 5000,
                    "peak_bytes": 9000,
                    "top": [{"filename": "app.py", "lineno": 5, "size": 3000, "count": 30}],
                    "traces": [
                        {
                            "frames": [
                                frame("app.py", 3, "<module>"),
                                frame("app.py", 5, "produce"),
                            ],
                            "size": 3000,
                            "count": 30,
                        },
                        {
                            "frames": [frame("app.py", 3, "<module>"), frame("app.py", 7, "other")],
                            "size": 2000,
                            "count": 2,
                        },
                    ],
                },
                {
                    "id": 2,
                    "index": 1,
                    "current_bytes": 4000,
                    "peak_bytes": 4000,
                    "top": [{"filename": "lib.py", "lineno": 1, "size": 1000, "count": 1}],
                },
            ],
        },
        "leaks": [
            {
                "interpreter": 2,
                "index": 1,
                "blocks": 4,
                "bytes": 512,
                "sites": [{"filename": "app.py", "lineno": 5, "size": 512, "count": 4}],
            }
        ],
        "exit_status": 3,
    }


class SyntheticReportTest(RenderTestCase):
    def test_both_tracebacks_and_test_attribution(self):
        report = synthetic_report()
        text = report_render.render_text(report)
        self.assertIn(
            "#1 cross-interpreter-dealloc in broken_queue: drain() at tests/broken_queue.c:40 (x3)",
            text,
        )
        self.assertIn("      test: __main__.QueueTest.test_drain\n", text)
        self.assertIn("extension: broken_queue, in drain(), at tests/broken_queue.c:40", text)
        self.assertIn(
            "Allocation traceback (interpreter 2 (index 1)):\n"
            '        File "app.py", line 3, in <module>\n'
            '        File "app.py", line 5, in produce',
            text,
        )
        self.assertIn("Native stack (top 8 of 12)", text)
        self.assertIn("Violations (1, 3 occurrences)", text)
        self.assertIn("seen in: interpreters at index 0, 1", text)
        page = report_render.render_html(report)
        self.assertSelfContainedHtml(page)
        owner = page.split('class="side owner"', 1)[1].split("</div>", 2)
        self.assertIn("produce", owner[0] + owner[1])
        self.assertIn("all 12 native frames", page)

    def test_html_escapes_report_text(self):
        page = report_render.render_html(synthetic_report())
        self.assertNotIn("<script>alert", page)
        self.assertIn("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;", page)

    def test_flame_graphs_per_interpreter(self):
        report = synthetic_report()
        page = report_render.render_html(report)
        self.assertEqual(page.count("<svg"), 2)
        self.assertIn("Memory by interpreter", page)
        svgs = re.findall(r"<svg.*?</svg>", page, re.S)
        # Interpreter 0: full stacks, 3 levels (root, <module>, two callees).
        depths = sorted(set(int(x) for x in re.findall(r'data-depth="(\d+)"', svgs[0])))
        self.assertEqual(depths, [0, 1, 2])
        self.assertIn('data-label="produce (app.py:5)"', svgs[0])
        self.assertIn('data-label="other (app.py:7)"', svgs[0])
        # Interpreter 1: one-level stacks from `top`, plus the rest of
        # current_bytes as "(other sites)".
        self.assertIn('data-label="lib.py:1"', svgs[1])
        self.assertIn('data-label="(other sites)"', svgs[1])
        widths = {
            label: float(w)
            for w, label in re.findall(
                r'data-w="([\d.]+)" data-depth="1" data-label="([^"]+)"', svgs[1]
            )
        }
        self.assertAlmostEqual(widths["lib.py:1"] * 3, widths["(other sites)"], places=1)

        text = report_render.render_text(report)
        self.assertIn("Memory (tracemalloc, 3 frames)", text)
        self.assertRegex(
            text,
            r"interpreter 1 \(index 0\): current 4\.9 KiB, peak 8\.8 KiB\n\s+2\.9 KiB in\s+30 blocks  app\.py:5",
        )
        self.assertIn("Leaks (blocks alive after their interpreter was torn down)", text)
        self.assertRegex(
            text, r"interpreter 2 \(index 1\): 512 B in 4 blocks\n\s+512 B in\s+4 blocks  app\.py:5"
        )
        self.assertIn("Leaks</h2>", page)

    def test_allocation_hint_depends_on_tracing(self):
        report = synthetic_report()
        report["violations"][0]["allocation_traceback"] = []
        self.assertIn("none recorded for this block", report_render.render_text(report))
        report["options"]["trace_malloc"] = 0
        self.assertIn("run with --trace-malloc N", report_render.render_text(report))
        self.assertIn(
            "allocation traceback: run with --trace-malloc N", report_render.render_html(report)
        )

    def test_partial_and_unknown_fields_do_not_raise(self):
        minimal = {"interpreters": []}
        self.assertIn("Violations (0)", report_render.render_text(minimal))
        self.assertSelfContainedHtml(report_render.render_html(minimal))
        odd = copy.deepcopy(synthetic_report())
        odd["violations"].append(
            {"kind": "new-kind", "owner_interpreter": -1, "python_traceback": None}
        )
        odd["interpreters"].append({"status": "brand-new", "tests": None})
        odd["crash"] = {"complete": False}
        odd["timeout"] = {"seconds": 3, "threads": [{"interpreter": 5, "python_traceback": [{}]}]}
        odd["tracemalloc"]["interpreters"].append({"id": 9})
        odd["new_key"] = [1, 2]
        text = report_render.render_text(odd)
        self.assertIn("no owning interpreter", text)
        self.assertIn("(the dump is incomplete)", text)
        self.assertIn("Watchdog timeout after 3s", text)
        self.assertSelfContainedHtml(report_render.render_html(odd))


class CommandLineErrorsTest(unittest.TestCase):
    def run_cli(self, *args):
        return subprocess.run(
            [sys.executable, report_lib.RENDERER] + list(args),
            capture_output=True,
            text=True,
            timeout=60,
        )

    def assertOneLineError(self, out, fragment):
        self.assertEqual(out.returncode, 2, out)
        self.assertEqual(out.stdout, "")
        lines = out.stderr.splitlines()
        self.assertEqual(len(lines), 1, out.stderr)
        self.assertTrue(lines[0].startswith("interpsan: error: "), out.stderr)
        self.assertIn(fragment, lines[0])

    def test_missing_dir(self):
        d = report_lib.scratch_dir("empty-")
        self.assertOneLineError(self.run_cli("report", d), "report.json does not exist")
        self.assertOneLineError(self.run_cli("report", os.path.join(d, "nope")), "does not exist")

    def test_invalid_json(self):
        d = report_lib.scratch_dir("bad-")
        with open(os.path.join(d, "report.json"), "w") as f:
            f.write('{"interpreters": [')
        self.assertOneLineError(self.run_cli("report", d), "is not valid JSON")
        self.assertFalse(os.path.exists(os.path.join(d, "report.html")))

    def test_not_a_report(self):
        d = report_lib.scratch_dir("notreport-")
        with open(os.path.join(d, "report.json"), "w") as f:
            f.write("[1, 2]")
        self.assertOneLineError(self.run_cli("report", d), "is not an interpsan report")

    def test_usage(self):
        self.assertOneLineError(self.run_cli("report"), "required")
        self.assertOneLineError(self.run_cli("report", "a", "--bogus"), "unrecognized arguments")


if __name__ == "__main__":
    unittest.main(verbosity=2)
