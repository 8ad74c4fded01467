"""Imports what pytest imports from the stdlib's single-phase extensions on
3.12 (datetime, decimal, readline), uses them, collects garbage as pytest's
gc_collect_harder does at its end, and writes one line of facts per
interpreter (tests/e2e/test_stdlib_single_phase.py):

  fallbacks <index> datetime=<module of datetime.datetime>
      decimal_c=<_decimal loaded> readline=<ok|ImportError text>
      direct=<ImportError text, name, path of `import _datetime`|ok>

argv[1], if given, is put first on sys.path (a directory holding a module
named like a stdlib extension: it must be imported from there)."""
import gc
import os
import sys

if len(sys.argv) > 1:
    sys.path.insert(0, sys.argv[1])

import datetime  # noqa: E402
import decimal  # noqa: E402

import interpsan  # noqa: E402

day = datetime.date(2024, 2, 28) + datetime.timedelta(days=1)
assert day == datetime.date(2024, 2, 29), day
stamp = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
assert stamp.isoformat() == "2024-01-02T03:04:05+00:00", stamp.isoformat()
assert decimal.Decimal("1.1") + decimal.Decimal("2.2") == decimal.Decimal("3.3")
with decimal.localcontext() as ctx:
    ctx.prec = 5
    assert str(decimal.Decimal(1) / decimal.Decimal(7)) == "0.14286"

try:
    import readline

    readline_fact = "ok:" + os.path.basename(getattr(readline, "__file__", "") or "")
except ImportError as exc:
    readline_fact = "ImportError:" + str(exc)

try:
    import _datetime  # noqa: F401

    direct = "ok"
except ImportError as exc:
    direct = "ImportError:%s|name=%s|path=%s|cause=%s" % (exc, exc.name, exc.path,
                                                         exc.__cause__)

for _ in range(3):  # what pytest_unconfigure's gc_collect_harder does
    gc.collect()

line = "fallbacks %d datetime=%s decimal_c=%s readline=%s direct=%s\n" % (
    interpsan.index, datetime.datetime.__module__, "_decimal" in sys.modules,
    readline_fact.replace(" ", "_"), direct.replace(" ", "_"))
os.write(1, line.encode())  # one write: the interpreters share stdout
