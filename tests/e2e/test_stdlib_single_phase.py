"""CPython's own single-phase stdlib extensions in interpsan's interpreters
(tools/runner/stdlib_single_phase.py; README, "Known findings in CPython itself").

CPython 3.12.1 runs PyInit__datetime, PyInit__decimal, PyInit_readline in an
own-GIL interpreter and only then refuses the module (Python/importdl.c:169,
then :207). interpsan refuses them before the PyInit_, with CPython's own
ImportError, so datetime and decimal use _pydatetime and _pydecimal as stock
CPython ends up doing, minus the damage (before: the C-API check refused the
PyInit_'s calls, 3 of 4 interpreters failed in every run; without that check
3 of 30 runs of this program reported a foreign reference, and a pytest file
crashed in 5 of 50, in the collector or in readline's rl_initialize).

  programs/stdlib_fallbacks.py in 4 interpreters, 10 times:
    3.12: exit 0, no finding, no crash, every interpreter on the
          pure-Python fallbacks, `import _datetime` / `import readline`
          raise exactly CPython's ImportError, report.json
          coverage.single_phase_stdlib_refused lists what was refused;
    3.13 (control): CPython runs such a PyInit_ with the main interpreter
          active and _datetime/_decimal are multi-phase: the C modules are
          used and nothing is refused by interpsan.
  A third-party single-phase extension (tests/extensions/single_phase.c) is
  not touched: CPython refuses it and the run reports it as before; a
  pure-Python module named like a listed one (programs/shadow_stdlib/
  readline.py) is imported as usual.
"""

import os
import re

import e2e_lib
from e2e_lib import EXIT_FAILED, EXIT_OK, PROGRAMS, VERSION, E2ETestCase, run_program

RUNS = 10
REFUSED = "does not support loading in subinterpreters"


def facts(result):
    """index -> {key: value} from the program's `fallbacks` lines."""
    found = {}
    for m in re.finditer(r"^fallbacks (\d+) (.*)$", result.stdout, re.M):
        found[int(m.group(1))] = dict(item.split("=", 1) for item in m.group(2).split())
    return found


def refused(module):
    return "ImportError:module_%s_does_not_support_loading_in_subinterpreters" % module


class StdlibSinglePhaseTest(E2ETestCase):
    def assertClean(self, r):
        d = r.describe()
        self.assertStatus(r, EXIT_OK)
        self.assertNotIn("crash", r.report, d)
        self.assertEqual(r.report["violations"], [], d)
        for interp in self.assertInterpreters(r):
            self.assertEqual(interp["status"], "ok", d)

    def test_fallbacks_in_four_interpreters(self):
        for run in range(RUNS):
            r = run_program("stdlib_fallbacks.py")
            d = "run %d of %d%s" % (run + 1, RUNS, r.describe())
            self.assertClean(r)
            seen = facts(r)
            self.assertEqual(sorted(seen), [0, 1, 2, 3], d)
            coverage = r.report["coverage"]["single_phase_stdlib_refused"]
            if VERSION == "3.12":
                # No CPython finding either, not even a suppressed one.
                self.assertEqual(r.report.get("suppressed_cpython", 0), 0, d)
                self.assertEqual(coverage, ["_datetime", "_decimal", "readline"], d)
                expected = {
                    "datetime": "_pydatetime",
                    "decimal_c": "False",
                    "readline": refused("readline"),
                    # exactly what CPython raises: no name, path or cause
                    "direct": refused("_datetime") + "|name=None|path=None|cause=None",
                }
            else:
                self.assertEqual(coverage, [], d)
                # CPython itself refuses readline (single-phase on 3.13 too,
                # its PyInit_ run with the main interpreter active).
                expected = {
                    "datetime": "datetime",
                    "decimal_c": "True",
                    "readline": refused("readline"),
                    "direct": "ok",
                }
            for index in range(4):
                self.assertEqual(seen[index], expected, d)

    def test_module_named_like_one_elsewhere_is_imported(self):
        r = run_program("stdlib_fallbacks.py", os.path.join(PROGRAMS, "shadow_stdlib"))
        d = r.describe()
        self.assertClean(r)
        self.assertNotIn("readline", r.report["coverage"]["single_phase_stdlib_refused"], d)
        for index, seen in facts(r).items():
            self.assertEqual(seen["readline"], "ok:readline.py", d)

    def test_third_party_single_phase_still_reported(self):
        r = run_program("import_module.py", "single_phase")
        d = r.describe()
        self.assertStatus(r, EXIT_FAILED)
        self.assertNotIn("crash", r.report, d)
        self.assertEqual(r.report["violations"], [], d)
        self.assertEqual(r.report["coverage"]["single_phase_stdlib_refused"], [], d)
        for interp in self.assertInterpreters(r):
            self.assertEqual(interp.get("failure"), "unsupported_extension", d)
            info = interp.get("unsupported_extension") or {}
            self.assertEqual(info.get("module"), "single_phase", d)
            self.assertEqual(os.path.basename(info.get("path") or ""), "single_phase.so", d)
        self.assertIn(REFUSED, r.stderr, d)


if __name__ == "__main__":
    e2e_lib.main()
