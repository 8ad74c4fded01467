"""A pure-Python module named like a stdlib extension (readline), first on
sys.path in stdlib_fallbacks.py: interpsan's refusal of CPython's own
single-phase extensions must leave it alone (it is not in lib-dynload)."""
