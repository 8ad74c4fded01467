"""End-to-end: each broken test extension, run in 4 own-GIL interpreters
through `tools/interpsan run`, is reported with the right violation (default
mode: the first violation is fatal, status 3), and --checks selects which
checks run."""

import e2e_lib
from e2e_lib import EXIT_OK, EXIT_VIOLATION, E2ETestCase, run_program


class StaticListTest(E2ETestCase):
    """A list in a C static appended to by every interpreter."""

    def test_static_list_append_is_cross_interpreter_argument(self):
        # With every check on, the C-API boundary check sees it first: the
        # PyList_Append wrapper checks its arguments before CPython resizes
        # the list's item buffer, and the first finding is fatal.
        r = run_program("static_list.py")
        self.assertFatalViolation(
            r, "cross-interpreter-argument", "list", "broken_static_list", "static_list.py"
        )

    def test_static_list_append_is_cross_interpreter_realloc(self):
        # The free check alone: the resize of another interpreter's buffer.
        r = run_program("static_list.py", checks="free")
        self.assertFatalViolation(
            r,
            "cross-interpreter-realloc",
            "PyMem_Malloc block (*",
            "broken_static_list",
            "static_list.py",
        )


class QueueTest(E2ETestCase):
    """Objects carried through a C-level queue and Py_DECREF'd by another
    interpreter: cross-interpreter-dealloc, caught before the object reaches
    the wrong interpreter's freelist or allocator."""

    def check(self, kind):
        r = run_program("queue.py", kind)
        v = self.assertFatalViolation(
            r, "cross-interpreter-dealloc", kind, "broken_queue", "queue.py"
        )
        # The producer is the interpreter with index 0; it is still alive.
        self.assertEqual(
            self.interpreter_by_id(r, v["owner_interpreter"])["index"], 0, r.describe()
        )
        self.assertIs(v["owner_ended"], False, r.describe())
        self.assertIn(kind, v["message"], r.describe())
        # The Py_DECREF that frees it is inlined into drain(): the report
        # names the extension's own function and line, not CPython's Include/object.h.
        self.assertEqual(v["extension_function"], "drain", r.describe())
        self.assertRegex(
            v["extension_location"], r"^tests/extensions/broken_queue\.c:\d+$", r.describe()
        )

    def test_float(self):  # floats go to a per-interpreter freelist
        self.check("float")

    def test_dict(self):
        self.check("dict")

    def test_tuple(self):
        self.check("tuple")

    def test_list(self):
        self.check("list")


class PyMemBufferTest(E2ETestCase):
    """A PyMem_Malloc buffer in a C static, resized or freed by an interpreter
    that did not allocate it."""

    def check(self, mode, size, kind):
        r = run_program("pymem_buffer.py", mode, str(size))
        v = self.assertFatalViolation(
            r,
            kind,
            "PyMem_Malloc block (%d bytes)" % size,
            "broken_pymem_buffer",
            "pymem_buffer.py",
            marker="VIOLATION-" + mode,
        )
        self.assertEqual(
            self.interpreter_by_id(r, v["owner_interpreter"])["index"], 0, r.describe()
        )
        self.assertEqual(self.interpreter_by_id(r, v["interpreter"])["index"], 1, r.describe())

    def test_realloc_small_block(self):
        self.check("realloc", 64, "cross-interpreter-realloc")

    def test_realloc_large_block(self):  # above pymalloc's 512-byte limit
        self.check("realloc", 4096, "cross-interpreter-realloc")

    def test_free_small_block(self):
        self.check("free", 64, "cross-interpreter-free")

    def test_free_large_block(self):
        self.check("free", 4096, "cross-interpreter-free")


class WrongDomainTest(E2ETestCase):
    """PEP 445 domains mixed inside one interpreter: wrong-domain-free, with
    the acting interpreter also the owner."""

    def test_object_malloc_then_mem_free(self):
        r = run_program("wrong_domain.py", "object_mem")
        self.assertFatalViolation(
            r,
            "wrong-domain-free",
            "PyObject_Malloc block (48 bytes)",
            "broken_wrong_domain",
            "wrong_domain.py",
            marker="VIOLATION-object_mem",
            same_interpreter=True,
        )

    def test_mem_malloc_then_object_free(self):
        r = run_program("wrong_domain.py", "mem_object")
        self.assertFatalViolation(
            r,
            "wrong-domain-free",
            "PyMem_Malloc block (48 bytes)",
            "broken_wrong_domain",
            "wrong_domain.py",
            marker="VIOLATION-mem_object",
            same_interpreter=True,
        )


class ChecksOptionTest(E2ETestCase):
    """--checks: none turns every check off; a comma list runs only those."""

    def assertRanWithoutReports(self, r):
        self.assertClean(r)
        self.assertEqual(r.stdout.count("wrong_domain done"), 4, r.describe())

    def test_checks_none_reports_nothing(self):
        # Stock CPython survives mixing the mem and obj domains (both are
        # pymalloc by default), so this run must end normally, unreported.
        r = run_program("wrong_domain.py", "object_mem", checks="none")
        self.assertRanWithoutReports(r)

    def test_checks_list_without_domain_reports_nothing(self):
        r = run_program("wrong_domain.py", "mem_object", checks="free,dealloc")
        self.assertRanWithoutReports(r)

    def test_checks_domain_alone_reports(self):
        r = run_program("wrong_domain.py", "object_mem", checks="domain")
        self.assertFatalViolation(
            r,
            "wrong-domain-free",
            "PyObject_Malloc block (48 bytes)",
            "broken_wrong_domain",
            "wrong_domain.py",
            marker="VIOLATION-object_mem",
            same_interpreter=True,
        )
        self.assertEqual(r.report["options"]["checks"], "domain", r.describe())

    def test_checks_dealloc_alone_reports_queue(self):
        r = run_program("queue.py", "float", checks="dealloc")
        self.assertFatalViolation(
            r, "cross-interpreter-dealloc", "float", "broken_queue", "queue.py"
        )


if __name__ == "__main__":
    e2e_lib.main()
