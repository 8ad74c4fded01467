"""A plain CPython program (run with `tools/interpsan exec`): 4 interpreters
it creates itself import datetime; the main one never does. On 3.13,
_datetime's static types are readied by the first of them, and CPython's
_PyTypes_FiniExtTypes later releases their tp_bases/tp_mro tuples from
another interpreter (expect cross-interpreter-dealloc, held by _datetime's
static types)."""
try:
    import _interpreters as interpreters  # 3.13

    def run(interp, code):
        error = interpreters.exec(interp, code)
        if error is not None:
            raise RuntimeError(error)
except ImportError:
    import _xxsubinterpreters as interpreters  # 3.12

    def run(interp, code):
        interpreters.run_string(interp, code)

ids = [interpreters.create() for _ in range(4)]
for interp in ids:
    run(interp, "import datetime; zone = datetime.timezone.utc")
for interp in ids:
    interpreters.destroy(interp)
print("datetime_interpreters done")
