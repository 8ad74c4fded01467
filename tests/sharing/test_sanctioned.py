"""Sharing that CPython itself does on purpose is not reported, and only
that: 3.13's Argument Clinic keyword tuples, created in the main interpreter
by getargs.c's _parser_init and only read by the others, are silent; the
same tuples on 3.12 (created by whichever interpreter parses first: a real
CPython bug) are reported, and so is an extension's hand-made imitation of a
parser on every version (debug/sanctioned_sharing.h)."""

from sharing_lib import EXIT_OK, EXIT_VIOLATION, VERSION, program, run
import sharing_lib
import unittest


def kwtuple_findings(report):
    return [
        v
        for v in report["violations"]
        if v["kind"] == "static-object-reference" and v["object_type"] == "tuple"
    ]


class ClinicKeywordTupleTest(unittest.TestCase):
    maxDiff = None

    def assertRanEverywhere(self, r, n=4):
        d = r.describe()
        self.assertEqual(r.stdout.count("clinic_keywords ok"), n, d)
        self.assertEqual(len(r.report["interpreters"]), n, d)

    def test_stdlib_keyword_calls(self):
        # bisect.insort(a, x, lo=0), binascii.b2a_hex(b"x", sep=b"-") and
        # struct.unpack_from("b", buffer=b"x", offset=0).
        # On 3.12 the stdlib's tuples are a known CPython finding, counted
        # apart by default (test_cpython_findings.py): shown here.
        r = run([program("clinic_keywords.py")], options=["--no-default-suppressions"])
        d = r.describe()
        self.assertRanEverywhere(r)
        if VERSION == "3.13":
            self.assertEqual(r.status, EXIT_OK, d)
            self.assertEqual(r.report["violations"], [], d)
            self.assertEqual(r.report["suppressed_cpython"], 0, d)  # not suppressed: sanctioned
            for interp in r.report["interpreters"]:
                self.assertEqual(interp["status"], "ok", d)
        else:
            self.assertEqual(r.status, EXIT_VIOLATION, d)
            found = kwtuple_findings(r.report)
            self.assertEqual({v["extension"] for v in found}, {"_bisect", "binascii", "_struct"}, d)
            for v in found:
                self.assertTrue(v["variable"].startswith("_parser"), d)

    def test_third_party_clinic_parser(self):
        # A parser of a third-party extension goes through the same getargs.c.
        r = run([program("clinic_keywords.py"), "extension"])
        d = r.describe()
        self.assertRanEverywhere(r)
        if VERSION == "3.13":
            self.assertEqual(r.status, EXIT_OK, d)
            self.assertEqual(r.report["violations"], [], d)
        else:
            self.assertEqual(r.status, EXIT_VIOLATION, d)
            self.assertIn("clinic_parsers", {v["extension"] for v in kwtuple_findings(r.report)}, d)

    def test_imitation_is_reported(self):
        # Same layout, same names, a tuple of the main interpreter, but no
        # parser CPython initialised: the extension's own shared static.
        r = run([program("clinic_keywords.py"), "imitate"])
        d = r.describe()
        self.assertRanEverywhere(r)
        self.assertEqual(r.status, EXIT_VIOLATION, d)
        imitations = [
            v
            for v in kwtuple_findings(r.report)
            if v["extension"] == "clinic_parsers" and "imitation" in v["variable"]
        ]
        self.assertTrue(imitations, d)
        for v in imitations:
            self.assertEqual(v["owner_interpreter"], 0, d)  # the main interpreter
            self.assertNotEqual(v["interpreter"], 0, d)
        if VERSION == "3.13":
            # Everything else was CPython's own sharing.
            self.assertEqual(imitations, kwtuple_findings(r.report), d)
            self.assertEqual(len(r.report["violations"]), len(imitations), d)

    def test_fatal_mode_stops_on_312_only(self):
        r = run(
            [program("clinic_keywords.py")], keep_going=False, options=["--no-default-suppressions"]
        )
        self.assertEqual(r.status, EXIT_OK if VERSION == "3.13" else EXIT_VIOLATION, r.describe())


class CPythonSuitesTest(unittest.TestCase):
    """CPython's own test_bisect and test_heapq in 4 interpreters: clean on
    3.13 (the keyword tuples are its sanctioned sharing)."""

    def run_suite(self, name):
        r = run(
            ["-m", "unittest", "test." + name], timeout=900, options=["--no-default-suppressions"]
        )
        d = r.describe()
        if VERSION == "3.13":
            self.assertEqual(r.status, EXIT_OK, d)
            self.assertEqual(r.report["violations"], [], d)
        else:
            self.assertNotEqual(r.status, 4, d)  # never a crash
        for interp in r.report["interpreters"]:
            self.assertGreater(interp["tests"]["run"], 0, d)
            self.assertEqual(interp["tests"]["failed"], 0, d)
            self.assertEqual(interp["tests"]["errors"], 0, d)
        return r

    def test_bisect(self):
        r = self.run_suite("test_bisect")
        if VERSION == "3.12":
            self.assertTrue(kwtuple_findings(r.report), r.describe())

    def test_heapq(self):
        self.run_suite("test_heapq")


if __name__ == "__main__":
    sharing_lib.main()
