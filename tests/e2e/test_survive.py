"""End-to-end: with --keep-going, no violation interpsan reports goes on to
corrupt the process. Every broken test extension's program, run 10 times
(INTERPSAN_SURVIVE_RUNS) with 4 own-GIL interpreters, ends with exit
status 3 and its violation in report.json: never with a crash (status 4),
a hang, or without the violation. Without interpsan's refusals the callback
registry dies of SIGSEGV and the shared dict of glibc heap corruption in
most runs (issue 11)."""

import concurrent.futures
import os

import e2e_lib
from e2e_lib import EXIT_VIOLATION, E2ETestCase, run_program

RUNS = int(os.environ.get("INTERPSAN_SURVIVE_RUNS", "10"))

# (program and arguments) -> (extension, kinds of which one must be reported)
PROGRAMS = {
    ("static_list.py",): ("broken_static_list", {"cross-interpreter-argument"}),
    ("queue.py", "float"): ("broken_queue", {"cross-interpreter-dealloc"}),
    ("queue.py", "dict"): ("broken_queue", {"cross-interpreter-dealloc"}),
    ("queue.py", "tuple"): ("broken_queue", {"cross-interpreter-dealloc"}),
    ("queue.py", "list"): ("broken_queue", {"cross-interpreter-dealloc"}),
    ("pymem_buffer.py", "realloc", "200"): ("broken_pymem_buffer", {"cross-interpreter-realloc"}),
    ("pymem_buffer.py", "free", "4096"): ("broken_pymem_buffer", {"cross-interpreter-free"}),
    ("wrong_domain.py", "object_mem"): ("broken_wrong_domain", {"wrong-domain-free"}),
    ("wrong_domain.py", "mem_object"): ("broken_wrong_domain", {"wrong-domain-free"}),
    ("statics.py", "exception"): ("broken_statics", {"cross-interpreter-argument"}),
    ("statics.py", "heap_type"): ("broken_statics", {"cross-interpreter-call"}),
    ("statics.py", "static_type"): (
        "broken_statics",
        {"shared-static-type", "static-object-reference"},
    ),
    ("statics.py", "capsule"): ("broken_statics", {"cross-interpreter-argument"}),
    ("statics.py", "callback"): ("broken_statics", {"cross-interpreter-call"}),
    ("statics.py", "ended"): ("broken_statics", {"static-object-reference"}),
    ("callback_registry.py",): ("broken_callback_registry", {"cross-interpreter-call"}),
    ("shared_dict.py",): ("broken_shared_dict", {"cross-interpreter-argument"}),
    ("handoff.py",): ("broken_handoff", {"cross-interpreter-argument"}),
}


class SurviveTest(E2ETestCase):
    def check(self, program):
        extension, kinds = PROGRAMS[program]
        # Two runs at a time: most of a run is interpreters starting and
        # sleeping, and the machine may have two cores only.
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda _: run_program(*program, keep_going=True), range(RUNS)))
        for r in results:
            self.assertStatus(r, EXIT_VIOLATION)
            self.assertNotIn("crash", r.report, r.describe())
            found = [
                v
                for v in r.report["violations"]
                if v["kind"] in kinds and v["extension"] == extension
            ]
            self.assertTrue(found, "violation not reported" + r.describe())
            self.assertNotIn("ABORTING", r.stderr, r.describe())


def _make(program):
    return lambda self: self.check(program)


for _program in PROGRAMS:
    _name = "test_" + "_".join(p.replace(".py", "") for p in _program)
    setattr(SurviveTest, _name, _make(_program))


if __name__ == "__main__":
    e2e_lib.main()
