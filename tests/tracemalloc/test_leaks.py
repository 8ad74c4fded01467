"""Acceptance (issue 5): an extension that keeps new references in a C array
(leaky.c) shows up in report.json's `leaks` for each interpreter, with the
allocating Python line and the block count."""

import os
import sysconfig

import tm_lib

PROGRAM = "leak_keep.py"
N = 4
K = 200
LIST_ITEMS_BYTES = 1000 * 8  # [0] * 1000: the item array of each kept list


def stdlib_dir():
    return sysconfig.get_paths()["stdlib"].rstrip("/") + "/"


def is_runtime_site(site):
    # What report.json counts as CPython's own: "<frozen ...>", "<unknown>",
    # ... and files of the standard library.
    return site["filename"].startswith("<") or site["filename"].startswith(stdlib_dir())


class Leaks(tm_lib.TracemallocTestCase):
    @classmethod
    def setUpClass(cls):
        cls.result = tm_lib.run_program(PROGRAM, str(K), n=N, trace_malloc=1)

    def test_run_is_clean(self):
        # A leak is not an isolation violation: the run still succeeds.
        self.assertClean(self.result, N)

    def test_every_interpreter_leaks_at_the_keep_line(self):
        result = self.result
        d = result.describe()
        line = tm_lib.marker_line(PROGRAM, "KEEP")
        leaks = result.report.get("leaks")
        self.assertIsNotNone(leaks, "no leaks in report.json" + d)
        interps = result.report["interpreters"]
        self.assertEqual(
            sorted((l["index"], l["interpreter"]) for l in leaks),
            sorted((i["index"], i["id"]) for i in interps),
            d,
        )
        for entry in leaks:
            sites = [
                s
                for s in entry["sites"]
                if tm_lib.same_file(s["filename"], PROGRAM) and s["lineno"] == line
            ]
            self.assertEqual(
                len(sites),
                1,
                "interpreter %d: no leak site %s:%d" % (entry["index"], PROGRAM, line) + d,
            )
            site = sites[0]
            self.assertGreaterEqual(site["count"], K, d)
            self.assertGreaterEqual(site["size"], K * LIST_ITEMS_BYTES, d)
            self.assertGreaterEqual(entry["blocks"], site["count"], d)
            self.assertGreaterEqual(entry["bytes"], site["size"], d)
            # The program's leak is not counted as CPython's own.
            self.assertGreaterEqual(entry["blocks"] - entry.get("runtime_blocks", 0), K, d)
            # It is the largest site.
            self.assertEqual(max(entry["sites"], key=lambda s: s["size"]), site, d)

    def test_summary_on_stderr(self):
        line = tm_lib.marker_line(PROGRAM, "KEEP")
        text = "%s:%d:" % (PROGRAM, line)
        summaries = [l for l in self.result.stderr.splitlines() if text in l]
        self.assertEqual(len(summaries), N, self.result.describe())

    def test_stdlib_sites_count_as_runtime(self):
        d = self.result.describe()
        for entry in self.result.report["leaks"]:
            shown = sum(s["count"] for s in entry["sites"] if is_runtime_site(s))
            self.assertGreaterEqual(entry.get("runtime_blocks", 0), shown, d)
        # And the stderr summary names no standard-library file.
        self.assertNotIn(stdlib_dir(), self.result.stderr, d)

    def test_no_leaks_section_without_tracing(self):
        result = tm_lib.run_program(PROGRAM, "10", n=2, trace_malloc=0)
        self.assertClean(result, 2)
        self.assertFalse(result.report.get("leaks"), result.describe())


if __name__ == "__main__":
    tm_lib.main()
