"""A violation reads the same wherever a person reads it: every label of
tools/report/report_labels.py (violation_labels) appears, word for word, in
the text summary (report_render.render_text), the supervisor's closing
summary on stderr (render_summary), the HTML page (render_html, its text
unescaped) and the JUnit XML (report_junit.render_junit, the failure's
text). Synthetic violations cover each label: an ended owner, the main
interpreter, no extension, a holder, a C-API call, a static variable,
--keep-going's resolution, a test, several interpreters. Then a real run
through the command line: its report.json, report.html and --junit file.

    bazel test --config=py312 //tests/report:labels_test
"""

import html
import os
import re
import subprocess
import unittest
import xml.etree.ElementTree as ET

import report_lib

import report_junit
import report_labels
import report_render
import symbolize


def frame(filename, lineno, name):
    return {"filename": filename, "lineno": lineno, "name": name}


BASE = {
    "kind": "cross-interpreter-free",
    "check": "free",
    "interpreter": 3,
    "interpreter_index": 2,
    "owner_interpreter": 2,
    "owner_index": 1,
    "owner_ended": False,
    "object_type": "PyObject_Malloc block (64 bytes)",
    "object_address": "0x7f0000001000",
    "size": 64,
    "extension": "fastcache",
    "extension_path": "/x/fastcache.cpython-312-x86_64-linux-gnu.so",
    "extension_function": "cached",
    "python_traceback": [frame("app.py", 3, "<module>"), frame("app.py", 9, "run")],
    "allocation_traceback": [],
    "native_frames": [
        {"module": "/lib/libc.so.6", "offset": "0x1000", "symbol": "free"},
        {
            "module": "/x/fastcache.cpython-312-x86_64-linux-gnu.so",
            "offset": "0x200",
            "symbol": "",
            "function": "cached",
            "location": "fastcache.c:36",
        },
    ],
    "message": 'a block of interpreter 2 freed by interpreter 3 <&> "quoted"',
    "fix": "keep per-interpreter memory in module state",
    "count": 1,
    "id": 1,
}


def violation(**changes):
    v = dict(BASE)
    for key, value in changes.items():
        if value is None:
            v.pop(key, None)
        else:
            v[key] = value
    return v


VIOLATIONS = [
    # The owner ended before the free: "interpreter 2 (index 1, ended)".
    violation(owner_ended=True, resolution="leaked", test="t.T.test_free"),
    # No extension on the stack: the holder names the module; the main
    # interpreter owns the object.
    violation(
        kind="cross-interpreter-dealloc",
        check="dealloc",
        owner_interpreter=0,
        owner_index=-1,
        extension=None,
        extension_path=None,
        extension_function=None,
        native_frames=[],
        object_type="list",
        holder={
            "kind": "static-variable",
            "module": "broken_queue",
            "module_path": "/x/broken_queue.so",
            "static_offset": "0x4040",
            "variable": "queue",
        },
        count=16,
        interpreter_indexes=[0, 2, 3],
    ),
    # A C-API call with an object of another interpreter.
    violation(
        kind="cross-interpreter-argument",
        check="capi",
        capi_function="PyDict_SetItem",
        capi_argument=3,
        object_type="str",
    ),
    # A static-memory finding: the variable nm named.
    violation(
        kind="static-object-shared",
        check="static",
        static_module="/x/fastcache.cpython-312-x86_64-linux-gnu.so",
        static_offset="0x4010",
        variable="cache_head",
        holder={"kind": "module-state", "module": "fastcache", "module_path": "/x/fastcache.so"},
    ),
    # An audit finding: no stack at all, no extension, the test running.
    violation(
        kind="stale-reference",
        check="audit",
        extension=None,
        extension_path=None,
        extension_function=None,
        python_traceback=[],
        native_frames=[],
        test="t.T.test_audit",
    ),
]


def synthetic_report():
    violations = [dict(v) for v in VIOLATIONS]
    symbolize.derive(violations, [])
    return {
        "tool": "interpsan",
        "schema_version": 2,
        "python": "3.12.1",
        "command": "run",
        "program": ["app.py"],
        "options": {"interpreters": 4, "checks": "all", "keep_going": True},
        "interpreters": [
            {"id": i + 1, "index": i, "status": "violation", "tests": {"run": 1}} for i in range(4)
        ],
        "violations": violations,
        "counts_exact": True,
        "exit_status": 3,
    }


def html_text(page):
    """The page's text: tags dropped, entities unescaped."""
    return html.unescape(re.sub(r"<[^>]*>", "\n", page))


def junit_failures(xml_text):
    """{testcase name: failure text} of the violations' testsuite."""
    root = ET.fromstring(xml_text)
    (suite,) = [s for s in root.findall("testsuite") if s.get("name") == "interpsan violations"]
    return {c.get("name"): c.find("failure").text for c in suite.findall("testcase")}


class LabelsAgreeTest(unittest.TestCase):
    def assertLabelsEverywhere(self, report):
        text = report_render.render_text(report)
        summary = report_render.render_summary(report, "/r/report.json")
        page = report_render.render_html(report)
        page_text = html_text(page)
        failures = list(junit_failures(report_junit.render_junit(report)).values())
        self.assertEqual(len(failures), len(report["violations"]))
        for n, v in enumerate(report["violations"]):
            labels = report_labels.violation_labels(report, v)
            self.assertTrue(labels, v)
            for name, value in labels:
                line = "%s: %s" % (name, value)
                self.assertIn("      " + line + "\n", text, "text summary: " + line)
                if n < report_render.SUMMARY_VIOLATIONS:
                    self.assertIn("      " + line + "\n", summary, "stderr summary: " + line)
                # The page shows it as <dt>name</dt><dd>value</dd>.
                self.assertIn(
                    "<dt>%s</dt><dd>%s</dd>" % (html.escape(name), html.escape(value)),
                    page,
                    "HTML: " + line,
                )
                self.assertIn(value, page_text)
                self.assertIn(line + "\n", failures[n] + "\n", "JUnit: " + line)
        return text, page_text, failures

    def test_every_label_the_same_in_text_html_and_junit(self):
        report = synthetic_report()
        text, page_text, failures = self.assertLabelsEverywhere(report)
        labels = [dict(report_labels.violation_labels(report, v)) for v in report["violations"]]
        # The words themselves, one case each.
        self.assertEqual(labels[0]["owner"], "interpreter 2 (index 1, ended)")
        self.assertEqual(labels[0]["acting"], "interpreter 3 (index 2)")
        self.assertEqual(labels[0]["extension"], "fastcache, in cached(), at fastcache.c:36")
        self.assertEqual(labels[0]["keep-going"], "the block was left with its owner (leaked)")
        self.assertEqual(labels[0]["test"], "t.T.test_free")
        self.assertEqual(labels[1]["owner"], "the main interpreter (id 0)")
        self.assertNotIn("extension", labels[1])
        self.assertEqual(labels[1]["held by"], "`broken_queue`'s static variable `queue`")
        self.assertEqual(labels[1]["seen in"], "interpreters at index 0, 2, 3")
        self.assertEqual(labels[2]["C-API call"], "PyDict_SetItem(), argument 3")
        self.assertEqual(labels[3]["static variable"], "`cache_head`")
        self.assertEqual(labels[3]["held by"], "`fastcache`'s module state")
        self.assertEqual(labels[4]["check"], "audit")
        self.assertNotIn("extension", labels[4])
        # No other spelling of an ended interpreter anywhere.
        for where in [text, page_text] + failures:
            self.assertNotIn("[ended]", where)
        # The message survives escaping in all three.
        message = BASE["message"]
        self.assertIn(message, text)
        self.assertIn(message, page_text)
        self.assertTrue(all(message in f for f in failures))

    def test_native_stack_is_derived_once_from_the_frames(self):
        report = synthetic_report()
        v = report["violations"][0]
        self.assertEqual(
            v["native_stack"],
            [
                "#0 in free (libc.so.6+0x1000)",
                "#1 in cached (fastcache.cpython-312-x86_64-linux-gnu.so+0x200) at fastcache.c:36",
            ],
        )
        # The renderers print those lines as they are.
        text = report_render.render_text(report)
        for line in v["native_stack"]:
            self.assertIn("        " + line + "\n", text)
        self.assertEqual(report["violations"][1]["native_stack"], [])

    def test_headline_in_summary_and_junit(self):
        report = synthetic_report()
        summary = report_render.render_summary(report)
        names = list(junit_failures(report_junit.render_junit(report)))
        self.assertIn("interpsan:   cross-interpreter-dealloc in broken_queue (x16)\n", summary)
        self.assertIn(
            "interpsan:   cross-interpreter-free in fastcache: cached() at fastcache.c:36\n",
            summary,
        )
        self.assertEqual(names[1], "#2 cross-interpreter-dealloc in broken_queue (x16)")
        self.assertEqual(
            names[0], "#1 cross-interpreter-free in fastcache: cached() at fastcache.c:36"
        )
        text = report_render.render_text(report)
        self.assertIn(
            "  #1 cross-interpreter-free in fastcache: cached() at fastcache.c:36\n", text
        )

    def test_no_violation_no_violations_suite(self):
        report = synthetic_report()
        report["violations"] = []
        root = ET.fromstring(report_junit.render_junit(report))
        self.assertEqual(
            [s.get("name") for s in root.findall("testsuite")],
            ["interpreter-0", "interpreter-1", "interpreter-2", "interpreter-3"],
        )


class LabelsThroughTheCommandLineTest(unittest.TestCase):
    """The bundled example through tools/interpsan: report.json's labels in
    report.html, the --junit file, the stderr summary and `interpsan report`."""

    def test_real_run(self):
        junit = os.path.join(report_lib.scratch_dir("labels-junit-"), "junit.xml")
        run = report_lib.violation_run(options=("--junit", junit))
        d = run.describe()
        report = run.report
        v = report["violations"][0]
        # Facts from the checked process, words from the supervisor.
        self.assertTrue(v["native_frames"], d)
        self.assertTrue(v["native_stack"][0].startswith("#0 in "), d)
        self.assertEqual(len(v["native_stack"]), len(v["native_frames"]), d)
        labels = report_labels.violation_labels(report, v)
        with open(os.path.join(run.report_dir, "report.html"), encoding="utf-8") as f:
            page = f.read()
        with open(junit, encoding="utf-8") as f:
            failure = list(junit_failures(f.read()).values())[0]
        shown = subprocess.run(
            [
                report_lib.LAUNCHER,
                "--python",
                report_lib.VERSION,
                "report",
                "--no-html",
                run.report_dir,
            ],
            capture_output=True,
            text=True,
        )
        self.assertEqual(shown.returncode, 0, shown.stderr)
        self.assertEqual(dict(labels)["extension"].split(",")[0], "fastcache", d)
        # The dict is held by fastcache's `static PyObject* cache`, not by a
        # static type: no word of static memory passes for a type object.
        self.assertEqual(dict(labels)["held by"], "`fastcache`'s static variable `cache`", d)
        for name, value in labels:
            line = "%s: %s" % (name, value)
            self.assertIn("      " + line + "\n", shown.stdout, line)
            self.assertIn("      " + line + "\n", run.stderr, line + d)
            self.assertIn("<dt>%s</dt><dd>%s</dd>" % (html.escape(name), html.escape(value)), page)
            self.assertIn(line + "\n", failure + "\n", line)
        # The checked process's own line: one, terse, in the same words.
        errors = [l for l in run.stderr.splitlines() if l.startswith("==interpsan== ERROR: ")]
        self.assertEqual(len(errors), 1, d)
        acting, owner = report_labels.violation_sides(report, v)
        self.assertIn("; owner: %s; acting: %s" % (owner, acting), errors[0], d)


if __name__ == "__main__":
    unittest.main()
