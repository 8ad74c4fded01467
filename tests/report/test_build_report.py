"""Tests of the supervisor's report builder (tools/supervisor/interpsan.py build_report,
through its events reader tools/report/interpsan_events.py) on synthetic event
streams, and of the events schema's validator: a run killed in the middle of
writing an event (the last line cut short) still gives a report with every
complete event before it, and the validator that every CLI suite applies to
its runs' events.jsonl (tests/cli_testing.py) rejects what breaks the
contract (debug/events_schema.json).

    bazel test --config=py312 //tests/report:build_report_test
"""

import contextlib
import io
import json
import os
import signal
import unittest

import report_lib  # noqa: F401  (puts tools/report/ and tools/supervisor/ on sys.path)

import interpsan  # tools/supervisor/interpsan.py, the supervisor (not the runner's module)
import interpsan_events


def frame(filename, lineno, name):
    return {"filename": filename, "lineno": lineno, "name": name}


VIOLATION = {
    "kind": "cross-interpreter-free",
    "check": "free",
    "interpreter": 2,
    "interpreter_index": 1,
    "owner_interpreter": 1,
    "owner_index": 0,
    "owner_ended": False,
    "object_type": "list",
    "object_address": "0x7f0000001000",
    "size": 56,
    "extension": "fastcache",
    "extension_path": "/x/fastcache.so",
    "extension_function": "cached",
    "python_traceback": [frame("app.py", 3, "<module>")],
    "allocation_traceback": [],
    "native_frames": [],
    "message": "interpreter 2 (index 1) frees a list that interpreter 1 allocated",
    "fix": "keep per-interpreter objects in module state",
}


def start_event():
    return {
        "event": "start",
        "schema_version": interpsan_events.SCHEMA_VERSION,
        "mode": "run",
        "python": "3.12.1",
        "shim": "3.12",
        "interpreters": 2,
        "checks": "all",
        "keep_going": True,
        "dealloc_interposed": True,
        "new_reference_interposed": True,
        "fast_thread_state": True,
        "trace_malloc": 0,
    }


# A run of 2 interpreters: interpreter 0 finishes, interpreter 1 finds a
# violation (counted up to 4) and is SIGKILLed while the runner writes the
# next count.
COMPLETE = [
    start_event(),
    {"event": "interpreter_start", "index": 0, "id": 1},
    {"event": "interpreter_start", "index": 1, "id": 2},
    {"event": "test", "index": 0, "test": "t.T.test_a", "outcome": "passed", "duration": 0.01},
    {
        "event": "test",
        "index": 1,
        "test": "t.T.test_a",
        "outcome": "failure",
        "duration": 0.02,
        "message": "AssertionError",
    },
    {"event": "violation", "id": 1, "violation": VIOLATION},
    {"event": "violation_count", "id": 1, "count": 4, "interpreter_indexes": [1]},
    {
        "event": "interpreter_result",
        "index": 0,
        "id": 1,
        "exit_code": 0,
        "status": "ok",
        "tests": {"run": 1, "failed": 0, "errors": 0, "skipped": 0},
    },
    {"event": "interpreter_end", "index": 0, "id": 1},
]
TORN = json.dumps({"event": "violation_count", "id": 1, "count": 8, "interpreter_indexes": [1, 0]})


def args():
    return interpsan.parse_args(
        [
            "--runner",
            "none",
            "--python-version",
            "3.12",
            "run",
            "-n",
            "2",
            "--keep-going",
            "--",
            "-c",
            "pass",
        ]
    )


class BuildReportFromTruncatedStream(unittest.TestCase):
    def setUp(self):
        self.dir = report_lib.scratch_dir("build-report-")

    def write(self, text):
        path = os.path.join(self.dir, "events.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def build(self, text):
        events = interpsan_events.read_events(self.write(text))
        return events, interpsan.build_report(args(), events, -signal.SIGKILL, False, "3.12")

    def test_synthetic_stream_follows_the_schema(self):
        # Else the tests below would test a stream the runner cannot write.
        for e in COMPLETE + [json.loads(TORN)]:
            self.assertEqual(interpsan_events.validate_event(e), [], e)

    def test_stream_cut_mid_line(self):
        text = "".join(json.dumps(e) + "\n" for e in COMPLETE) + TORN[: len(TORN) // 2]
        events, (report, status) = self.build(text)
        self.assertEqual(len(events), len(COMPLETE))  # the torn line is dropped, nothing else
        self.assertEqual(status, interpsan.EXIT_CRASH)
        self.assertEqual(report["exit_status"], interpsan.EXIT_CRASH)
        self.assertEqual(report["schema_version"], interpsan_events.SCHEMA_VERSION)
        self.assertEqual(report["crash"]["signal"], "SIGKILL")
        self.assertFalse(report["crash"]["complete"])
        # The violation, with the last complete count (4, not the torn 8),
        # not exact: the final counts were never written.
        self.assertEqual(len(report["violations"]), 1)
        v = report["violations"][0]
        self.assertEqual(
            (v["kind"], v["count"], v["interpreter_indexes"]), ("cross-interpreter-free", 4, [1])
        )
        self.assertFalse(report["counts_exact"])
        # Interpreter 0 finished before the kill; interpreter 1 was running.
        self.assertEqual(
            [(i["index"], i["status"]) for i in report["interpreters"]], [(0, "ok"), (1, "crashed")]
        )
        self.assertEqual(
            report["interpreters"][1]["tests"], {"run": 1, "failed": 1, "errors": 0, "skipped": 0}
        )

    def test_the_same_stream_complete(self):
        # The control: with the line whole, its count is the one reported.
        text = "".join(json.dumps(e) + "\n" for e in COMPLETE) + TORN + "\n"
        _, (report, _) = self.build(text)
        v = report["violations"][0]
        self.assertEqual((v["count"], v["interpreter_indexes"]), (8, [0, 1]))

    def test_runner_of_another_schema_version(self):
        # A runner built from other sources: the report is still built, and
        # the supervisor says why it may be wrong; its own version is silent.
        for version, warned in (
            (interpsan_events.SCHEMA_VERSION + 1, True),
            (interpsan_events.SCHEMA_VERSION, False),
        ):
            events = [dict(start_event(), schema_version=version)] + COMPLETE[1:]
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                report, _ = interpsan.build_report(args(), events, 0, False, "3.12")
            self.assertEqual(report["schema_version"], interpsan_events.SCHEMA_VERSION)
            self.assertEqual(len(report["violations"]), 1)
            self.assertEqual(
                "interpsan: warning: the checked process wrote events of schema version %d; "
                "this supervisor reads version %d (rebuild the runner)\n"
                % (version, interpsan_events.SCHEMA_VERSION)
                if warned
                else "",
                err.getvalue(),
            )

    def test_cut_at_every_byte(self):
        # Wherever the kill cuts the stream, the report is built from the
        # events written whole before the cut (the last one may lack only
        # its newline), and never raises.
        text = "".join(json.dumps(e) + "\n" for e in COMPLETE)
        newlines = [i for i, ch in enumerate(text) if ch == "\n"]
        for cut in range(len(text) + 1):
            whole = sum(1 for newline in newlines if newline <= cut)
            with self.subTest(cut=cut):
                events, (report, status) = self.build(text[:cut])
                self.assertEqual(events, COMPLETE[:whole])
                self.assertEqual(status, interpsan.EXIT_CRASH)
                self.assertEqual(len(report["violations"]), 1 if whole > 5 else 0)
                self.assertEqual(len(report["interpreters"]), 2)


class Validator(unittest.TestCase):
    def problems(self, event):
        return interpsan_events.validate_event(event)

    def test_valid_events(self):
        self.assertEqual(self.problems({"event": "violation_counts_final"}), [])
        self.assertEqual(self.problems({"event": "violation_count", "id": 3, "count": 2}), [])

    def test_unknown_event(self):
        self.assertEqual(
            self.problems({"event": "violation_total", "count": 2}),
            ["unknown event 'violation_total' (not in events_schema.json)"],
        )

    def test_unknown_field(self):
        self.assertEqual(
            self.problems({"event": "suppressed", "count": 2, "sites": 1}),
            ["suppressed: unknown field 'sites' (not in events_schema.json)"],
        )

    def test_missing_field(self):
        self.assertEqual(
            self.problems({"event": "interpreter_end", "index": 1}),
            ["interpreter_end: field 'id' is missing"],
        )

    def test_wrong_types(self):
        self.assertEqual(
            self.problems({"event": "suppressed", "count": "2"}),
            ['suppressed.count: "2" is not int'],
        )
        self.assertEqual(
            self.problems({"event": "suppressed", "count": True}),
            ["suppressed.count: true is not int"],
        )
        self.assertEqual(
            self.problems({"event": "dump_end", "reason": "crash", "complete": 0}),
            ["dump_end.complete: 0 is not bool"],
        )

    def test_nested_types(self):
        v = dict(
            VIOLATION,
            python_traceback=[{"filename": "a.py", "lineno": "3", "name": "f"}],
            holder={"kind": "static-type", "module": "m", "module_path": "/m.so", "owner": 1},
        )
        self.assertEqual(
            self.problems({"event": "violation", "id": 1, "violation": v}),
            [
                'violation.violation.python_traceback[0].lineno: "3" is not int',
                "violation.violation.holder: unknown field 'owner' (not in events_schema.json)",
            ],
        )
        v = dict(VIOLATION, extension=None)
        self.assertEqual(self.problems({"event": "violation", "id": 1, "violation": v}), [])
        v = dict(VIOLATION, extension=3)
        self.assertEqual(
            self.problems({"event": "violation", "id": 1, "violation": v}),
            ["violation.violation.extension: 3 is not string|null"],
        )

    def test_start_names_the_schema_version(self):
        self.assertEqual(self.problems(start_event()), [])
        old = dict(start_event(), schema_version=interpsan_events.SCHEMA_VERSION + 1)
        self.assertEqual(
            self.problems(old),
            [
                "start: schema_version %d, but the schema is version %d"
                % (interpsan_events.SCHEMA_VERSION + 1, interpsan_events.SCHEMA_VERSION)
            ],
        )

    def test_validate_file_skips_a_torn_last_line_and_numbers_lines(self):
        d = report_lib.scratch_dir("validate-")
        path = os.path.join(d, "events.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            f.write('{"event": "suppressed", "count": 1}\n{"event": "nope"}\n{"event": "suppr')
        self.assertEqual(
            interpsan_events.validate_file(path),
            ["line 2: unknown event 'nope' (not in events_schema.json)"],
        )


if __name__ == "__main__":
    unittest.main(verbosity=2)
