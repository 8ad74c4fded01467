"""Acceptance (issue 5): through `tools/interpsan run -n 4 --trace-malloc N`,
each interpreter allocates a distinct known amount at a known line; report.json
shows, in each interpreter's own `tracemalloc.interpreters[i].top`, that line
with that size (+-10%), and none of the other interpreters' allocations."""

import tm_lib
from tm_lib import MB

PROGRAM = "per_interpreter_alloc.py"
N = 4


class PerInterpreterTop(tm_lib.TracemallocTestCase):
    def check_run(self, frames):
        result = tm_lib.run_program(PROGRAM, n=N, trace_malloc=frames)
        interps = self.assertClean(result, N)
        d = result.describe()
        tm = result.report.get("tracemalloc")
        self.assertIsNotNone(tm, "no tracemalloc in report.json" + d)
        self.assertEqual(tm["frames"], frames, d)
        entries = tm["interpreters"]
        self.assertEqual(len(entries), N, d)
        # The same interpreters as report.json's interpreters list.
        self.assertEqual(
            sorted((e["index"], e["id"]) for e in entries),
            sorted((i["index"], i["id"]) for i in interps),
            d,
        )

        lines = [tm_lib.marker_line(PROGRAM, "ALLOC_%d" % k) for k in range(N)]
        self.assertEqual(len(set(lines)), N)  # four distinct lines
        amounts = [(k + 1) * MB for k in range(N)]

        for entry in entries:
            i = entry["index"]
            top = entry["top"]
            ours = [s for s in top if tm_lib.same_file(s["filename"], PROGRAM)]
            own = [s for s in ours if s["lineno"] == lines[i]]
            self.assertEqual(
                len(own), 1, "interpreter %d: its line %d not in its top" % (i, lines[i]) + d
            )
            self.assertLessEqual(
                abs(own[0]["size"] - amounts[i]),
                amounts[i] * 0.10,
                "interpreter %d: size %d, expected %d +-10%%" % (i, own[0]["size"], amounts[i]) + d,
            )
            self.assertGreaterEqual(own[0]["count"], 1, d)
            for s in top:
                self.assertEqual(set(s) >= {"filename", "lineno", "size", "count"}, True, d)
            # Largest first.
            self.assertEqual(
                [s["size"] for s in top], sorted((s["size"] for s in top), reverse=True), d
            )
            # None of the others' allocations: not their lines, and no site
            # of this program of another interpreter's size.
            for j in range(N):
                if j == i:
                    continue
                self.assertFalse(
                    [s for s in ours if s["lineno"] == lines[j]],
                    "interpreter %d shows interpreter %d's line %d" % (i, j, lines[j]) + d,
                )
                self.assertFalse(
                    [s for s in ours if abs(s["size"] - amounts[j]) <= amounts[j] * 0.10],
                    "interpreter %d shows a site of interpreter %d's size" % (i, j) + d,
                )
            # Its own accounting holds its own allocation, and not the sum
            # of everyone's (1+2+3+4 MiB).
            self.assertGreaterEqual(entry["current_bytes"], amounts[i], d)
            self.assertLess(entry["current_bytes"], amounts[i] + 9 * MB, d)
            self.assertGreaterEqual(entry["peak_bytes"], entry["current_bytes"], d)

    def test_one_frame(self):
        self.check_run(1)

    def test_25_frames(self):
        # Grouped by the innermost frame's line whatever the depth.
        self.check_run(25)

    def test_no_tracing_no_tracemalloc_section(self):
        result = tm_lib.run_program(PROGRAM, n=2, trace_malloc=0)
        self.assertClean(result, 2)
        self.assertNotIn("tracemalloc", result.report, result.describe())


if __name__ == "__main__":
    tm_lib.main()
