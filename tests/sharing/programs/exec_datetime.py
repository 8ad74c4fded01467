"""A plain CPython program (run under `tools/interpsan exec`) whose own
subinterpreters run into CPython's known findings with datetime: 3.12's
single-phase _datetime runs PyInit__datetime in each own-GIL interpreter
before CPython refuses it (finding 2); 3.13's _datetime keeps managed static
types whose tuples the first importer allocates and the last one to end
releases (_PyTypes_FiniExtTypes, finding 3). The first importer ends first."""
try:
    import _interpreters as interpreters  # 3.13
except ImportError:
    import _xxsubinterpreters as interpreters  # 3.12

first, last = interpreters.create(), interpreters.create()
code = "import datetime\nassert datetime.date(2020, 1, 1).year == 2020\n"
interpreters.run_string(first, code)
interpreters.run_string(last, code)
interpreters.destroy(first)
interpreters.destroy(last)
print("exec_datetime ok")
