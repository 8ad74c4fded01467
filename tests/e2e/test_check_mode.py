"""End-to-end check mode: an extension rebuilt with `tools/interpsan cflags`
(debug/include/Python.h) has every refcount operation checked, and a
cross-interpreter-refcount names the extension's own source file, line and
function, not the check-mode header. The test compiles the test extensions
itself, as a user's build would, with the flags the command line prints."""

import os
import shlex
import shutil
import subprocess
import sysconfig

import e2e_lib
from e2e_lib import EXIT_OK, EXIT_VIOLATION, LAUNCHER, E2ETestCase, program, scratch_dir
import cli_testing

SOURCES = os.environ.get("INTERPSAN_TEST_EXTENSION_SOURCES") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "extensions"
)


def cflags():
    out = subprocess.run(
        [LAUNCHER, "--python", e2e_lib.VERSION, "cflags"],
        capture_output=True,
        text=True,
        check=True,
    )
    return shlex.split(out.stdout)


def build(name):
    """Compiles tests/extensions/NAME.c with `interpsan cflags` into a fresh
    folder; returns (folder, the source path as compiled)."""
    out_dir = scratch_dir("checkmode-%s-" % name)
    source = os.path.join(out_dir, name + ".c")
    shutil.copy(os.path.join(SOURCES, name + ".c"), source)
    cc = shutil.which("cc") or shutil.which("gcc")
    args = (
        [cc, "-shared", "-fPIC", "-O1", "-g", "-pthread"]
        + cflags()
        + [
            "-I" + sysconfig.get_paths()["include"],
            source,
            "-o",
            os.path.join(out_dir, name + ".so"),
        ]
    )
    subprocess.run(args, check=True, capture_output=True, text=True)
    return out_dir, source


def run_with(extensions, name, *program_args, keep_going=False):
    report_dir = scratch_dir("report-checkmode-")
    cli = [LAUNCHER, "--python", e2e_lib.VERSION, "run", "-n", "4"]
    if keep_going:
        cli.append("--keep-going")
    cli += ["--report", report_dir, "--", program(name)] + list(program_args)
    return cli_testing.run(
        cli, cli_testing.environment(extensions), e2e_lib.RUN_TIMEOUT, report_dir
    )


def source_line(path, text):
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if text in line:
                return lineno
    raise AssertionError("%r not in %s" % (text, path))


class CheckModeTest(E2ETestCase):
    def test_cflags_names_the_header_folder(self):
        flags = cflags()
        self.assertEqual(len(flags), 1, flags)
        self.assertTrue(flags[0].startswith("-I"), flags)
        self.assertTrue(os.path.isfile(os.path.join(flags[0][2:], "Python.h")), flags)

    def assertRefcountAtDrain(self, r, v, source):
        d = r.describe()
        self.assertEqual(v["kind"], "cross-interpreter-refcount", d)
        self.assertEqual(v["object_type"], "float", d)
        self.assertEqual(v["extension"], "broken_queue", d)
        self.assertNotEqual(v["interpreter"], v["owner_interpreter"], d)
        line = source_line(source, "Py_DECREF(taken[i]);")
        self.assertEqual((v["source_file"], v["source_line"]), (source, line), d)
        self.assertEqual(v["extension_location"], "%s:%d" % (source, line), d)
        self.assertEqual(v["extension_function"], "drain", d)
        self.assertIn("Py_DECREF by interpreter", v["message"], d)

    def test_refcount_names_the_extension_line(self):
        folder, source = build("broken_queue")
        r = run_with(folder, "queue.py", "float")
        v = self.assertFatalViolation(
            r, "cross-interpreter-refcount", "float", "broken_queue", "queue.py"
        )
        self.assertRefcountAtDrain(r, v, source)
        # The one-line summary names the line too.
        self.assertIn(
            "broken_queue.c:%d" % source_line(source, "Py_DECREF(taken[i]);"),
            r.stderr,
            r.describe(),
        )

    def test_refcount_keep_going_makes_the_object_immortal(self):
        # The refused Py_DECREF leaves the float alone (immortal): it is
        # never deallocated by the wrong interpreter, so no
        # cross-interpreter-dealloc follows; every drained float is counted.
        folder, source = build("broken_queue")
        r = run_with(folder, "queue.py", "float", keep_going=True)
        self.assertStatus(r, EXIT_VIOLATION)
        self.assertEqual(r.stdout.count("queue done"), 4, r.describe())
        kinds = sorted({v["kind"] for v in r.report["violations"]})
        self.assertEqual(kinds, ["cross-interpreter-refcount"], r.describe())
        self.assertEqual(sum(v["count"] for v in r.report["violations"]), 16, r.describe())
        for v in r.report["violations"]:
            self.assertRefcountAtDrain(r, v, source)
            self.assertEqual(v["resolution"], "made-immortal", r.describe())

    def test_correct_extension_stays_silent(self):
        folder, _ = build("correct_module_state")
        r = run_with(folder, "correct.py")
        self.assertClean(r)


if __name__ == "__main__":
    e2e_lib.main()
