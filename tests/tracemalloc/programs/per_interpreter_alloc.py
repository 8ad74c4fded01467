"""Each interpreter of the run allocates (index + 1) MiB at its own line and
keeps it alive in a global until the program ends, so report.json's
tracemalloc.interpreters[index].top must show that line with that size, and
no interpreter's top may show another interpreter's line.

One function per index: the four allocations are on four distinct lines
(marked ALLOC_0 .. ALLOC_3), even and odd indices use bytearray and bytes.
"""
import interpsan

MB = 1024 * 1024
KEEP = []


def alloc_0():
    KEEP.append(bytearray(1 * MB))  # ALLOC_0


def alloc_1():
    KEEP.append(b"\x01" * (2 * MB))  # ALLOC_1


def alloc_2():
    KEEP.append(bytearray(3 * MB))  # ALLOC_2


def alloc_3():
    KEEP.append(b"\x03" * (4 * MB))  # ALLOC_3


[alloc_0, alloc_1, alloc_2, alloc_3][interpsan.index]()  # CALL
