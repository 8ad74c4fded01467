"""interpsan.tracemalloc's additions to the stdlib API, run in every
interpreter of `tools/interpsan run -n 4 -- interpreter_additions.py DIR`
(without --trace-malloc: each interpreter starts tracing itself):

- Trace.interpreter, tracemalloc.interpreter_id();
- take_snapshot(all_interpreters=True) sees the traces of all 4 interpreters;
- InterpreterFilter keeps / drops one interpreter's traces;
- Snapshot.statistics("interpreter") groups by interpreter;
- get_traced_memory() counts this interpreter's blocks only, while the
  others allocate different amounts at the same time;
- Snapshot.dump() writes a file that stock tracemalloc loads (the test
  driver loads DIR/snapshot-INDEX.pickle with stock CPython afterwards).

DIR is shared by the interpreters of the run, for a file-system barrier:
the cross-interpreter checks need all 4 to be tracing at the same time.
"""
import os
import pickle
import sys
import time
import tracemalloc
import unittest

import interpsan

N = 4
SHARED_DIR = sys.argv[1]
MB = 1024 * 1024
BARRIER_TIMEOUT = 60.0


def barrier(name):
    """Waits until every interpreter of the run has reached `name`."""
    open(os.path.join(SHARED_DIR, "%s.%d" % (name, interpsan.index)), "w").close()
    deadline = time.monotonic() + BARRIER_TIMEOUT
    while True:
        arrived = [f for f in os.listdir(SHARED_DIR) if f.startswith(name + ".")]
        if len(arrived) >= N:
            return
        if time.monotonic() > deadline:
            raise AssertionError("barrier %r: only %d of %d interpreters arrived"
                                 % (name, len(arrived), N))
        time.sleep(0.005)


def allocate_marker():
    # (index + 1) blocks of 100 KiB, all at this one line.
    return [bytes(100 * 1024) for _ in range(interpsan.index + 1)]  # MARKER


class TestInterpreterAdditions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        assert not tracemalloc.is_tracing(), "run this without --trace-malloc"
        tracemalloc.start(5)
        cls.marker = allocate_marker()
        barrier("tracing")
        cls.snapshot_all = tracemalloc.take_snapshot(all_interpreters=True)
        cls.snapshot_own = tracemalloc.take_snapshot()
        barrier("snapshots-taken")  # nobody stops before all have looked

    @classmethod
    def tearDownClass(cls):
        tracemalloc.stop()

    def test_interpreter_id(self):
        self.assertEqual(tracemalloc.interpreter_id(), interpsan.interpreter_id)

    def test_own_snapshot_is_own_interpreter(self):
        ids = {trace.interpreter for trace in self.snapshot_own.traces}
        self.assertEqual(ids, {interpsan.interpreter_id})

    def test_all_interpreters_snapshot(self):
        ids = {trace.interpreter for trace in self.snapshot_all.traces}
        self.assertEqual(len(ids), N, ids)
        self.assertIn(interpsan.interpreter_id, ids)
        # Every interpreter's MARKER line is there, with its own size.
        marker = tracemalloc.Filter(True, __file__, allocate_marker.__code__.co_firstlineno + 2)
        by_interp = self.snapshot_all.filter_traces([marker]).statistics("interpreter")
        self.assertEqual(len(by_interp), N, by_interp)
        sizes = sorted(stat.size for stat in by_interp)
        for k, size in enumerate(sizes):
            self.assertGreaterEqual(size, (k + 1) * 100 * 1024)
            self.assertLess(size, (k + 1) * 100 * 1024 + 64 * 1024)

    def test_interpreter_filter(self):
        own = interpsan.interpreter_id
        keep = tracemalloc.InterpreterFilter(True, own)
        drop = tracemalloc.InterpreterFilter(False, own)
        self.assertEqual(keep.interpreter, own)
        self.assertTrue(keep.inclusive)
        self.assertFalse(drop.inclusive)
        kept = self.snapshot_all.filter_traces([keep])
        dropped = self.snapshot_all.filter_traces([drop])
        self.assertIsInstance(kept, tracemalloc.Snapshot)
        self.assertEqual({t.interpreter for t in kept.traces}, {own})
        others = {t.interpreter for t in dropped.traces}
        self.assertEqual(len(others), N - 1)
        self.assertNotIn(own, others)
        self.assertEqual(len(kept.traces) + len(dropped.traces), len(self.snapshot_all.traces))
        # Combined with a filename filter, like any other filter.
        marker_only = kept.filter_traces([tracemalloc.Filter(True, __file__)])
        self.assertTrue(len(marker_only.traces) >= interpsan.index + 1)

    def test_statistics_interpreter(self):
        stats = self.snapshot_all.statistics("interpreter")
        self.assertEqual(len(stats), N)
        self.assertEqual(stats, sorted(stats, key=lambda s: s.size, reverse=True))
        names = {str(stat.traceback[0].filename) for stat in stats}
        self.assertIn("<interpreter %d>" % interpsan.interpreter_id, names)
        self.assertEqual(sum(s.size for s in stats),
                         sum(t.size for t in self.snapshot_all.traces))
        self.assertEqual(sum(s.count for s in stats), len(self.snapshot_all.traces))
        own = self.snapshot_own.statistics("interpreter")
        self.assertEqual(len(own), 1)
        self.assertEqual(own[0].traceback[0].filename,
                         "<interpreter %d>" % interpsan.interpreter_id)

    def test_marker_in_own_statistics_only_own_size(self):
        stats = self.snapshot_own.statistics("lineno")
        line = allocate_marker.__code__.co_firstlineno + 2
        mine = [s for s in stats
                if s.traceback[0].filename == __file__ and s.traceback[0].lineno == line]
        self.assertEqual(len(mine), 1, mine)
        expected = (interpsan.index + 1) * 100 * 1024
        self.assertGreaterEqual(mine[0].size, expected)
        self.assertLess(mine[0].size, expected + 64 * 1024)

    def test_traced_memory_is_per_interpreter(self):
        # Every interpreter allocates a different amount at the same time;
        # each one's traced memory grows by its own amount only.
        barrier("before-alloc")
        before, _ = tracemalloc.get_traced_memory()
        data = bytearray((interpsan.index + 1) * MB)
        barrier("after-alloc")  # the others' allocations happened meanwhile
        after, peak = tracemalloc.get_traced_memory()
        grown = after - before
        expected = (interpsan.index + 1) * MB
        self.assertGreaterEqual(grown, expected - 64 * 1024)
        self.assertLess(grown, expected + 256 * 1024)
        self.assertGreaterEqual(peak, after)
        del data

    def test_dump_is_stdlib_format(self):
        path = os.path.join(SHARED_DIR, "snapshot-%d.pickle" % interpsan.index)
        self.snapshot_all.dump(path)
        loaded = tracemalloc.Snapshot.load(path)
        self.assertIsInstance(loaded, tracemalloc.Snapshot)
        self.assertEqual(loaded.traces, self.snapshot_all.traces)
        # The interpreter ids survive the round trip.
        self.assertEqual([t.interpreter for t in loaded.traces],
                         [t.interpreter for t in self.snapshot_all.traces])
        self.assertEqual(len(loaded.statistics("interpreter")), N)
        # Stock tracemalloc can load it: the pickle names only builtins,
        # importlib.import_module("tracemalloc") and its classes.
        modules = set()

        class Recorder(pickle.Unpickler):
            def find_class(self, module, name):
                modules.add(module)
                return super().find_class(module, name)

        with open(path, "rb") as f:
            Recorder(f).load()
        self.assertEqual(modules, {"builtins", "importlib"})


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
