# ---------------------------------------------------------------------------
# tools/runner/stdlib_single_phase.py, appended to tools/runner/bootstrap.py in the
# runner's embedded bootstrap (tools/runner/BUILD, bootstrap_py_h); plain Python
# with no other dependency, so it can also be imported on its own.
#
# What it is for: in the interpreters interpsan itself starts (`run` mode:
# own GIL, check_multi_interp_extensions=1), CPython's own single-phase
# extension modules are refused BEFORE their PyInit_ function runs, with the
# ImportError CPython raises AFTER it. The stdlib then uses its pure-Python
# fallbacks (datetime -> _pydatetime, decimal -> _pydecimal), exactly as
# stock CPython ends up doing, without the damage the PyInit_ did first.
#
# Why: CPython 3.12.1, Python/importdl.c, _PyImport_LoadDynamicModuleWithSpec
# calls the init function (line 169, `m = p0()` through the trampoline) and
# only then, for a single-phase module, calls
# _PyImport_CheckSubinterpIncompatibleExtensionAllowed (line 207; the
# function is Python/import.c:1125-1128 and raises ImportError "module %s
# does not support loading in subinterpreters"). By then PyInit__datetime /
# PyInit__decimal have stored this interpreter's objects in static types'
# tp_dict, shared by every interpreter, and PyInit_readline has called
# rl_initialize on the process-wide readline state, concurrently with the
# other interpreters (README, "Known findings in CPython itself"). The answer
# of the import cannot differ from stock: the check depends only on the
# interpreter's config, so a single-phase module is always refused in these
# interpreters, whether its PyInit_ ran or not.
#
# Scope: only modules listed for the running version, and only when the path
# finder finds them in the running CPython's own lib-dynload; anything else
# (a third-party single-phase extension, a module of the same name elsewhere
# on sys.path) takes the normal import path and is reported as before.
#
# Thread-safety: one finder per interpreter, in that interpreter's
# sys.meta_path, used under that interpreter's GIL. Not signal-related.
# ---------------------------------------------------------------------------

# Per CPython version: the extension modules of its lib-dynload that use
# single-phase init (`nm -D --undefined-only X.so`: PyModule_Create2, no
# PyModuleDef_Init; _testmultiphase has both and is multi-phase) and whose
# PyInit_ that version runs in the importing interpreter before refusing it.
_SINGLE_PHASE_STDLIB = {
    (3, 12): frozenset(
        {
            # imported by common code (pytest imports datetime, decimal via
            # its dependencies, and readline in _pytest/capture.py)
            "_datetime",
            "_decimal",
            "readline",
            "_ctypes",
            "_curses",
            "_tkinter",
            "ossaudiodev",
            # CPython's own test modules
            "_testbuffer",
            "_testcapi",
            "_testclinic",
            "_testimportmultiple",
            "_testsinglephase",
            "_xxtestfuzz",
        }
    ),
    # 3.13.0 runs a single-phase init function with the main interpreter
    # active (Python/import.c, import_run_extension: switch_to_main_interpreter
    # at 1525-1537 before _PyImport_RunModInitFunc at 1987), and _datetime,
    # _decimal and _ctypes are multi-phase there: nothing to refuse early.
    (3, 13): frozenset(),
}


def _single_phase_stdlib_names(version=None):
    """The list for `version` (default: the running one)."""
    import sys

    return _SINGLE_PHASE_STDLIB.get(tuple((version or sys.version_info)[:2]), frozenset())


def _own_lib_dynload():
    """The running CPython's lib-dynload directory, symlinks resolved, as
    Modules/getpath.py computes it (platstdlib_dir/lib-dynload)."""
    import os
    import sys

    return os.path.realpath(
        os.path.join(
            sys.base_exec_prefix,
            sys.platlibdir,
            "python%d.%d" % sys.version_info[:2],
            "lib-dynload",
        )
    )


class _StdlibSinglePhaseFinder:
    """A sys.meta_path finder placed just before the path finder: for a
    listed name found in the own lib-dynload, returns the path finder's spec
    with a loader that refuses the module before anything of it runs."""

    def __init__(self, names, dynload, on_refused):
        self._names = names
        self._dynload = dynload
        self._on_refused = on_refused
        self._refused = set()

    def find_spec(self, name, path=None, target=None):
        if path is not None or name not in self._names:
            return None  # the common case: one set lookup
        import importlib.machinery
        import os

        spec = importlib.machinery.PathFinder.find_spec(name)
        if (
            spec is None
            or spec.origin is None
            or type(spec.loader) is not importlib.machinery.ExtensionFileLoader
            or os.path.dirname(os.path.realpath(spec.origin)) != self._dynload
        ):
            return None  # not CPython's own: the normal path, as before
        spec.loader = _refusing_loader(name, spec.origin, self)
        return spec

    def _refuse(self, name, origin):
        if name not in self._refused:
            self._refused.add(name)
            try:
                self._on_refused(name, origin)
            except Exception:
                pass
        # What _PyImport_CheckSubinterpIncompatibleExtensionAllowed raises
        # (PyErr_Format: no name, no path, no cause), without the PyInit_.
        raise ImportError("module %s does not support loading in subinterpreters" % name)


def _refusing_loader(name, origin, finder):
    import importlib.machinery

    class _RefusedExtensionLoader(importlib.machinery.ExtensionFileLoader):
        """Still an ExtensionFileLoader (isinstance checks hold); its
        create_module stands where _imp.create_dynamic would run PyInit_."""

        def create_module(self, spec):
            finder._refuse(spec.name, spec.origin)

    return _RefusedExtensionLoader(name, origin)


def _install_stdlib_single_phase_refusal(on_refused):
    """Puts the finder just before the path finder in this interpreter's
    sys.meta_path. Returns the names it refuses (empty: not installed)."""
    import importlib.machinery
    import sys

    names = _single_phase_stdlib_names()
    if not names:
        return names
    finder = _StdlibSinglePhaseFinder(names, _own_lib_dynload(), on_refused)
    where = next(
        (i for i, f in enumerate(sys.meta_path) if f is importlib.machinery.PathFinder),
        len(sys.meta_path),
    )
    sys.meta_path.insert(where, finder)
    return names
