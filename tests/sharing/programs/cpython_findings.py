"""Runs into CPython's own known findings (README, "Known findings in
CPython itself"): Argument Clinic keyword arguments in stdlib extensions
(3.12), and _datetime / _decimal (3.12: PyInit_ on shared static types;
3.13: their managed static types' tuples, made by the first interpreter
that imports them and released by the last one to end). Interpreter index 0
imports first and ends first, so that on 3.13 those are two different
interpreters."""
import binascii
import bisect
import time

import interpsan

if interpsan.index != 0:
    time.sleep(1.0)
import datetime  # noqa: E402
import decimal  # noqa: E402

a = [1, 2, 4]
bisect.insort(a, 3, lo=0)
assert binascii.b2a_hex(b"x", sep=b"-") == b"78"
assert str(datetime.date(2020, 1, 1) + datetime.timedelta(days=1)) == "2020-01-02"
assert decimal.Decimal("1.1") + 1 == decimal.Decimal("2.1")
if interpsan.index != 0:
    time.sleep(1.0)
print("cpython_findings ok")
