"""The one table of checks and violation kinds (debug/checks.inc) against
what a person reads and types: README's check table is that table, row for
row (name, what it catches, where), each check's documentation names
exactly its kinds, the --keep-going table names every kind that acts, --checks accepts exactly its names, and the supervisor's
parser of checks.inc (tools/supervisor/interpsan.py, load_check_table) reads
concatenated literals and refuses an entry it cannot read instead of
dropping it.

    bazel test --config=py312 //tests/report:check_table_test
"""

import os
import re
import subprocess
import sys
import tempfile
import unittest

import report_lib  # noqa: F401  (puts tools/report/ and tools/supervisor/ on sys.path)

import interpsan  # tools/supervisor/interpsan.py, the supervisor (not the runner's module)

# The checkout (interpsan.py's runfile is a symlink into it), for README.md.
ROOT = interpsan.ROOT
KIND_NAME = re.compile(r"`([a-z]+(?:-[a-z]+)+)`")


def readme_table(header):
    """The rows of README's table whose header line is `header`."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        lines = f.read().splitlines()
    start = lines.index(header)
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


class CheckTableTest(unittest.TestCase):
    def test_readme_table_is_the_table(self):
        expected = [
            "| `%s` | %s | %s |" % (c["name"], c["doc"], c["where"]) for c in interpsan.CHECK_TABLE
        ]
        self.assertEqual(
            readme_table("| name | catches | where |"),
            expected,
            "README's check table should read:\n" + "\n".join(expected),
        )

    def test_keep_going_table_names_every_kind(self):
        # What --keep-going does instead, per kind; the audit's kinds observe
        # only and share one row ("audit kinds").
        rows = readme_table("| kind | the operation | instead |")
        first = [row.split(" | ")[0] for row in rows]
        named = [k for cell in first for k in KIND_NAME.findall(cell)]
        expected = [k["kind"] for k in interpsan.KIND_TABLE if k["check"] != "audit"]
        self.assertEqual(sorted(named), sorted(expected))
        self.assertIn("| audit kinds", first)

    def test_every_check_documents_exactly_its_kinds(self):
        by_check = {}
        for k in interpsan.KIND_TABLE:
            by_check.setdefault(k["check"], []).append(k["kind"])
        self.assertEqual(
            sorted(by_check),
            sorted(interpsan.CHECK_NAMES),
            "every kind's check exists, every check has a kind",
        )
        for c in interpsan.CHECK_TABLE:
            self.assertEqual(KIND_NAME.findall(c["doc"]), by_check[c["name"]], c["name"])

    def test_kinds_are_unique_and_have_a_fix(self):
        kinds = [k["kind"] for k in interpsan.KIND_TABLE]
        self.assertEqual(len(kinds), len(set(kinds)))
        self.assertEqual(len(kinds), 13)
        for k in interpsan.KIND_TABLE:
            self.assertGreater(len(k["fix"]), 20, k["kind"])
        self.assertEqual(
            interpsan.CHECK_NAMES, ("free", "domain", "dealloc", "capi", "refcount", "audit")
        )

    def test_cli_checks_follow_the_table(self):
        launcher = os.environ["INTERPSAN_REPORT_TEST_LAUNCHER"]
        version = os.environ["INTERPSAN_REPORT_TEST_PYTHON_VERSION"]
        for name in interpsan.CHECK_NAMES + ("all", "none"):
            self.assertEqual(interpsan._checks(name), name)
        result = subprocess.run(
            [launcher, "--python", version, "run", "--checks", "free,bogus", "--", "-c", "pass"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn(
            "unknown check 'bogus' (known: all, none, free, domain, dealloc, "
            "capi, refcount, audit)",
            result.stderr,
        )
        result = subprocess.run(
            [
                launcher,
                "--python",
                version,
                "run",
                "--checks",
                "refcount,audit",
                "--",
                "-c",
                "pass",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.assertEqual(result.returncode, 0, result.stderr)


class ParserTest(unittest.TestCase):
    def parse(self, text):
        with tempfile.NamedTemporaryFile("w", suffix=".inc", delete=False) as f:
            f.write(text)
        try:
            return interpsan.load_check_table(f.name)
        finally:
            os.unlink(f.name)

    def test_literals_are_joined_and_unescaped(self):
        checks, kinds = self.parse(
            "// a comment naming INTERPSAN_CHECK(name, bit, doc, where)\n"
            "#define INTERPSAN_KIND(id, kind, check, fix)\n"
            'INTERPSAN_CHECK("x", kCheckFree,\n  "one "\n  "two \\"q\\" //",\n  "w")\n'
            'INTERPSAN_KIND(kX, "x-kind", "x",\n  "fix "\n  "it")\n'
        )
        self.assertEqual(checks, [{"name": "x", "doc": 'one two "q" //', "where": "w"}])
        self.assertEqual(kinds, [{"kind": "x-kind", "check": "x", "fix": "fix it"}])

    def test_an_entry_it_cannot_read_is_an_error(self):
        good = 'INTERPSAN_CHECK("x", kCheckFree, "d", "w")\n'
        for bad in (
            'INTERPSAN_KIND(kX, "x-kind", "x", FIX_MACRO)\n',
            'INTERPSAN_CHECK("y", kCheckDomain, "d")\n',
        ):
            with self.assertRaisesRegex(RuntimeError, "does not understand"):
                self.parse(good + bad)


if __name__ == "__main__":
    unittest.main(verbosity=2, argv=[sys.argv[0]] + sys.argv[1:])
