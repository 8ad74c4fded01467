"""A clean pytest suite that uses the parts of the stdlib with known CPython
findings (datetime, keyword arguments of Argument Clinic functions), as any
real suite does: pytest itself imports datetime."""
import binascii
import bisect
import datetime


def test_dates():
    assert datetime.date(2020, 1, 1) + datetime.timedelta(days=1) == datetime.date(2020, 1, 2)


def test_keywords():
    a = [1, 3]
    bisect.insort(a, 2, lo=0)
    assert a == [1, 2, 3]
    assert binascii.b2a_hex(b"x", sep=b"-") == b"78"
