"""Every interpreter calls bisect.insort with a keyword argument. On 3.12
_bisect's Argument Clinic parser (a C static, `_parser.N`) caches its
keyword tuple from whichever interpreter parsed first (README, "Known
findings in CPython itself", 4); CPython releases that tuple from the main
interpreter at finalization, after clearing the static (expect
cross-interpreter-dealloc of a tuple, held by _bisect's `_parser.N`)."""
import bisect

items = []
for i in range(10):
    bisect.insort(items, i, lo=0)
assert items == list(range(10)), items
