"""interpsan.faulthandler, the stdlib faulthandler API on top of interpsan's
process-wide handler, used from inside own-GIL subinterpreters (where stock
faulthandler cannot even be imported), through the command line:

  - `import faulthandler` gives interpsan.faulthandler;
  - is_enabled / enable / disable;
  - dump_traceback(file=...) writes the calling thread's traceback (its
    function names) to a file object or a descriptor; all_threads=True
    shows every interpreter, each under its own title;
  - dump_traceback_later(timeout, exit=False) then cancel writes nothing;
    uncancelled it dumps once (or repeatedly with repeat=True) and cancel
    stops it;
  - register(signum, file=...) on a real-time signal (SIGUSR1/SIGUSR2
    belong to interpsan) dumps on that signal; unregister; fatal signals
    cannot be registered;
  - enable(file=...) makes a fatal dump reach that file too.
All of it in 4 interpreters at once (programs/module_api.py fails its
interpreter on any failed check)."""

import os
import re

import fh_lib
from fh_lib import EXIT_OK, FaulthandlerTestCase, run_program, scratch_dir


class ModuleApiTest(FaulthandlerTestCase):
    def test_api_in_four_interpreters(self):
        out = scratch_dir("module-api-")
        r = run_program("module_api.py", out)
        d = r.describe()
        self.assertStatus(r, EXIT_OK)
        self.assertEqual(r.report["violations"], [], d)
        self.assertNotIn("crash", r.report, d)
        for interp in self.assertInterpreters(r):
            self.assertEqual(interp["status"], "ok", d)
            self.assertEqual(interp["exit_code"], 0, d)
        for index in range(fh_lib.N):
            self.assertIn("module_api: interpreter %d: all checks passed" % index, r.stdout, d)

        # What the program checked, checked again from outside.
        def read(name, index):
            with open(os.path.join(out, "%s-%d.txt" % (name, index))) as f:
                return f.read()

        for index in range(fh_lib.N):
            interp_id = self.interpreter(r, index)["id"]
            current = read("dump_current", index)
            self.assertIn(
                "Interpreter %d (index %d):\n  Current thread 0x" % (interp_id, index), current
            )
            self.assertRegex(current, r'File ".*", line \d+ in dumping_function_%d\n' % index)
            everything = read("dump_all", index)
            # Every interpreter of the run was alive (a barrier) and is shown.
            for other in range(fh_lib.N):
                other_id = self.interpreter(r, other)["id"]
                self.assertIn("Interpreter %d (index %d):" % (other_id, other), everything)
            self.assertIn(" in dumping_function_%d\n" % index, everything)
            self.assertEqual(read("later_cancelled", index), "")
            self.assertIn(" in waiting_for_later_dump_%d\n" % index, read("later", index))
            self.assertGreaterEqual(read("later_repeat", index).count("Timeout (0:00:00)!"), 2)
            self.assertIn(" in waiting_for_signal_dump_%d\n" % index, read("registered", index))
            self.assertEqual(read("enabled", index), "")  # enabled, but nothing fatal happened

    def test_enabled_file_receives_the_fatal_dump(self):
        out = scratch_dir("enable-crash-")
        r = run_program("enable_then_crash.py", out, "2")
        self.assertCrash(r, "SIGSEGV", 2, "segv")
        # Every interpreter's enable(file=...) got the same dump as stderr.
        for index in range(fh_lib.N):
            with open(os.path.join(out, "enabled-%d.txt" % index)) as f:
                text = f.read()
            self.assertIn("==interpsan== FATAL: SIGSEGV", text, "enabled-%d.txt" % index)
            for other in range(fh_lib.N):
                if other != 2:
                    self.assertIn(" in waiting_after_enable_%d\n" % other, text)
            self.assertIn("Native stack of the faulting thread", text)


if __name__ == "__main__":
    fh_lib.main()
