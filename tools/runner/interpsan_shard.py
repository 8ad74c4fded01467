"""Bazel test sharding for unittest programs run by interpsan_test().

interpsan_test (tools/bazel/interpsan_test.bzl) exports the shard of the current
Bazel test shard as INTERPSAN_SHARD_INDEX / INTERPSAN_TOTAL_SHARDS (taken
from Bazel's TEST_SHARD_INDEX / TEST_TOTAL_SHARDS, which are also honoured
directly) and puts this module on the program's path. Every interpreter of
the run executes the same program, so each one runs the same subset: the
tests whose id hashes (64-bit FNV-1a, stable across processes and
interpreters, unlike hash()) to this shard.

In a unittest program, replace `unittest.main()` with:

    import interpsan_shard
    if __name__ == "__main__":
        interpsan_shard.main()          # unittest.main() over this shard's tests

or filter a suite you built yourself:

    suite = interpsan_shard.filter_suite(suite)

or, with unittest's load_tests protocol:

    load_tests = interpsan_shard.load_tests

Without sharding (one shard) everything runs unchanged.
"""

import os
import sys
import unittest

__all__ = ["shard", "selected", "filter_suite", "load_tests", "main"]


def shard():
    """(index, total) of this shard; (0, 1) when the test is not sharded."""
    env = os.environ
    total = env.get("INTERPSAN_TOTAL_SHARDS") or env.get("TEST_TOTAL_SHARDS") or "1"
    index = env.get("INTERPSAN_SHARD_INDEX") or env.get("TEST_SHARD_INDEX") or "0"
    try:
        total, index = int(total), int(index)
    except ValueError:
        return 0, 1
    if total < 1 or not 0 <= index < total:
        return 0, 1
    return index, total


def _stable_id(test_id):
    # Programs run as __main__ under interpsan, and as their module name
    # elsewhere: shard on the part after the module, so that a test lands in
    # the same shard either way.
    if test_id.startswith("__main__."):
        test_id = test_id[len("__main__.") :]
    return test_id


def _fnv1a(data):
    # 64-bit FNV-1a in pure Python: stable across processes and interpreters
    # (unlike hash()), spreads similar ids evenly (unlike CRC-32's low bits),
    # and imports no extension module (hashlib brings in OpenSSL).
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def _given_or_own(index, total):
    """(index, total) as given, or this interpreter's shard()."""
    return shard() if index is None or total is None else (index, total)


def selected(test_id, index=None, total=None):
    """True if the test with this id belongs to the shard."""
    index, total = _given_or_own(index, total)
    return total == 1 or _fnv1a(_stable_id(test_id).encode("utf-8")) % total == index


def _flatten(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from _flatten(item)
        else:
            yield item


def filter_suite(suite, index=None, total=None):
    """A TestSuite holding only this shard's tests from `suite`."""
    index, total = _given_or_own(index, total)
    if total == 1:
        return suite
    return unittest.TestSuite(t for t in _flatten(suite) if selected(t.id(), index, total))


def load_tests(loader, tests, pattern):
    """unittest's load_tests protocol: `load_tests = interpsan_shard.load_tests`."""
    return filter_suite(tests)


def _first_interpreter():
    try:
        import interpsan
    except ImportError:
        return True  # not under interpsan
    return getattr(interpsan, "index", 0) == 0


class _ShardLoader(unittest.TestLoader):
    def loadTestsFromModule(self, module, *args, **kwargs):
        return filter_suite(super().loadTestsFromModule(module, *args, **kwargs))

    def loadTestsFromName(self, name, module=None):
        return filter_suite(super().loadTestsFromName(name, module))

    def loadTestsFromNames(self, names, module=None):
        return filter_suite(super().loadTestsFromNames(names, module))


def main(module="__main__", **kwargs):
    """unittest.main() over this shard's tests (same arguments). Prints which
    shard it runs to stderr when sharded."""
    index, total = shard()
    if total > 1 and _first_interpreter():
        sys.stderr.write("interpsan_shard: running shard %d of %d\n" % (index + 1, total))
    kwargs.setdefault("testLoader", _ShardLoader())
    exit = kwargs.pop("exit", True)
    program = unittest.main(module=module, exit=False, **kwargs)
    if exit:
        # A shard may hold no test at all: that is success, not unittest's
        # "no tests ran" (status 5 since 3.12).
        sys.exit(0 if program.result.wasSuccessful() else 1)
    return program
