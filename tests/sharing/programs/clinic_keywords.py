"""Calls CPython's own Argument Clinic functions with keyword arguments
(their keyword tuples are created on first use), then, with the argument
`extension`, the third-party clinic_parsers extension too, and with
`imitate` its hand-made imitation of a parser."""
import binascii
import bisect
import struct
import sys

a = [1, 2, 4]
bisect.insort(a, 3, lo=0)
assert a == [1, 2, 3, 4], a
assert binascii.b2a_hex(b"x", sep=b"-") == b"78"
# A parser with a positional-only parameter (keywords "", "buffer", "offset").
assert struct.unpack_from("b", buffer=b"x", offset=0) == (120,)
if "extension" in sys.argv[1:] or "imitate" in sys.argv[1:]:
    import clinic_parsers

    assert clinic_parsers.kw(1, key=2) == (1, 2)
    if "imitate" in sys.argv[1:]:
        assert clinic_parsers.imitate() == 2
print("clinic_keywords ok")
