"""Runs the user's program inside one interpreter of an interpsan run.

Compiled into the runner (tools/BUILD embeds it) and executed once per
interpreter. It reports how the program ended through interpsan._emit, one
JSON event, so that the supervisor can write report.json even if the
process dies later.
"""

import sys

_counts = {"run": 0, "failed": 0, "errors": 0, "skipped": 0}


def _dumps(value):
    """json.dumps(value) for what events hold (str, int, float, bool, None,
    dicts and lists of them), the same text, without importing json: json
    imports re, enum and more, about 10 ms of every run's start-up
    (issue 13) for a few lines written per interpreter."""
    if isinstance(value, str):
        return _json_str(value)
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return float.__repr__(value)
    if isinstance(value, dict):
        return "{%s}" % ", ".join(
            "%s: %s" % (_json_str(str(k)), _dumps(v)) for k, v in value.items()
        )
    if isinstance(value, (list, tuple)):
        return "[%s]" % ", ".join(_dumps(v) for v in value)
    raise TypeError("cannot write %r in an event" % type(value).__name__)


def _json_str(text):
    try:
        from _json import encode_basestring_ascii
    except ImportError:  # as json.encoder: the pure-Python one
        from json.encoder import py_encode_basestring_ascii as encode_basestring_ascii
    return encode_basestring_ascii(text)


_COUNT_KEY = {"failure": "failed", "error": "errors", "skipped": "skipped"}


def _record_test(test_id, outcome, duration, message="", run=True):
    """One finished test: counted, and sent to the supervisor as an event
    (report.json's test_results, JUnit XML). `run` false: a result that
    unittest does not count as run (tests.run): no startTest for it (3.12's
    skipped tests, a skipped or failed setUpClass)."""
    import interpsan

    if run:
        _counts["run"] += 1
    # Audit after each test, while the test is still the one to blame: what
    # changed since the last test (--audit=changed, the default), a full
    # walk (--audit=each-test) or nothing (--audit=end).
    try:
        interpsan._audit_test("the end of test " + test_id)
    except Exception:
        pass
    interpsan._set_test("")
    if outcome in _COUNT_KEY:
        _counts[_COUNT_KEY[outcome]] += 1
    event = {
        "event": "test",
        "index": interpsan.index,
        "test": test_id,
        "outcome": outcome,
        "duration": round(duration, 6),
    }
    if message:
        event["message"] = message[:4000]
    if not run:
        event["run"] = False
    interpsan._emit(_dumps(event))


def _count_unittest_results(result_module):
    # Record every TestResult's outcomes, whichever runner drives them:
    # unittest.main, a custom runner, or a framework built on TestResult.
    # Called as unittest.result (where TestResult is defined) is first
    # imported, before anything can subclass it (_PostImportHooks).
    import time

    cls = result_module.TestResult
    # test id -> [start, outcome, message, started]. `started`: startTest
    # was called, so unittest counts the test in testsRun. 3.12.1 skips a
    # test (method or class @skip) with addSkip and stopTest but no
    # startTest, and does not count it as run; 3.13 starts it first.
    state = {}

    def first_line(err):
        try:
            return "%s: %s" % (err[0].__name__, err[1])
        except Exception:
            return ""

    def wrap(name, action):
        original = getattr(cls, name)

        def method(self, test, *args, **kwargs):
            try:
                action(test, *args)
            except Exception:
                pass
            return original(self, test, *args, **kwargs)

        method.__name__ = name
        setattr(cls, name, method)

    def start(test):
        import interpsan

        interpsan._set_test(test.id())
        state[test.id()] = [time.perf_counter(), "passed", "", True]

    def outcome(kind):
        def set_outcome(test, *args):
            entry = state.setdefault(test.id(), [time.perf_counter(), "passed", "", False])
            if entry[1] in ("failure", "error"):
                return  # keep the first problem
            entry[1] = kind
            if args and kind in ("failure", "error"):
                entry[2] = first_line(args[0])
            elif args and kind == "skipped":
                entry[2] = str(args[0])
            from unittest.case import TestCase

            if not isinstance(test, TestCase):
                # A class or module fixture's outcome (setUpClass skipped or
                # failed, an _ErrorHolder): no stopTest follows, and unittest
                # counts it as skipped or as an error, not as run.
                state.pop(test.id(), None)
                _record_test(test.id(), entry[1], 0.0, entry[2], run=False)

        return set_outcome

    def subtest(test, subtest_, err=None):
        if err is None:
            return
        kind = "failure" if issubclass(err[0], test.failureException) else "error"
        outcome(kind)(test, err)

    def stop(test):
        entry = state.pop(test.id(), None)
        if entry is not None:
            _record_test(
                test.id(), entry[1], time.perf_counter() - entry[0], entry[2], run=entry[3]
            )

    wrap("startTest", start)
    wrap("addFailure", outcome("failure"))
    wrap("addError", outcome("error"))
    wrap("addSkip", outcome("skipped"))
    wrap("addUnexpectedSuccess", outcome("failure"))
    wrap("addSubTest", subtest)
    wrap("stopTest", stop)


class _PytestPlugin:
    """Records pytest's results the same way (loaded with -p)."""

    def __init__(self):
        self._open = {}

    def pytest_runtest_logstart(self, nodeid, location):
        import interpsan

        interpsan._set_test(nodeid)

    def pytest_runtest_logreport(self, report):
        entry = self._open.setdefault(report.nodeid, ["passed", 0.0, ""])
        entry[1] += getattr(report, "duration", 0.0)
        if report.failed and entry[0] not in ("failure", "error"):
            entry[0] = "failure" if report.when == "call" else "error"
            entry[2] = str(getattr(report, "longreprtext", ""))[-2000:]
        elif report.skipped and entry[0] == "passed":
            entry[0] = "skipped" if not hasattr(report, "wasxfail") else "passed"
        if report.when == "teardown":
            outcome, duration, message = self._open.pop(report.nodeid)
            _record_test(report.nodeid, outcome, duration, message)


def _install_pytest_plugin(argv):
    """For `-m pytest`: load the result recorder as a plugin."""
    import types

    # PYTEST_DONT_REWRITE: pytest warns (PytestAssertRewriteWarning) about a
    # -p plugin that is already imported unless its docstring says this, and
    # suites that turn warnings into errors (filterwarnings = error) would
    # then fail before their first test.
    module = types.ModuleType("_interpsan_pytest_plugin", "PYTEST_DONT_REWRITE")
    module.plugin = _PytestPlugin()
    module.pytest_runtest_logreport = module.plugin.pytest_runtest_logreport
    module.pytest_runtest_logstart = module.plugin.pytest_runtest_logstart
    sys.modules["_interpsan_pytest_plugin"] = module
    extra = ["-p", "_interpsan_pytest_plugin"]
    # pytest's default capture (fd) points the process's descriptors 1 and 2
    # at a file around every test; all interpreters share them, so each
    # would capture, and lose, the others' output. sys-level capture is per
    # interpreter. A -s or --capture of the user's own wins.
    if not any(a == "-s" or a.startswith("--capture") for a in argv):
        extra.append("--capture=sys")
    return list(argv) + extra


def _private_tempdir(index, tempfile):
    """Gives this interpreter its own temporary directory through
    `tempfile` (tempfile.tempdir is per interpreter; TMPDIR is process-wide),
    so suites that build names from os.getpid() -- the same in every
    interpreter of the process -- do not collide. Removed at exit. Called
    as the program first imports tempfile (_PostImportHooks): a program
    that never does pays nothing."""
    import atexit
    import shutil  # tempfile has imported it already

    path = tempfile.mkdtemp(prefix="interpsan-interp%d-" % index)
    tempfile.tempdir = path
    atexit.register(shutil.rmtree, path, True)


def _private_testfn(index, os_helper):
    """CPython's own test suites name their scratch files after the process
    (test.support.os_helper.TESTFN, "@test_<pid>_tmp...", "to disambiguate
    for parallel testing"), in the current directory: the same name in
    every interpreter of this process, so N interpreters running a suite
    trip over each other's files (test_array, test_json's test_tool). Each
    interpreter's names get its index, as a separate process's get its pid.
    Called as os_helper's own code has run, before a test imports the
    names."""
    import os

    old = "@test_%d_tmp" % os.getpid()
    new = "@test_%d_i%d_tmp" % (os.getpid(), index)
    for name, value in list(vars(os_helper).items()):
        if not name.startswith("TESTFN"):
            continue
        if isinstance(value, str):
            setattr(os_helper, name, value.replace(old, new))
        elif isinstance(value, bytes):
            setattr(os_helper, name, value.replace(old.encode(), new.encode()))


class _PostImportHooks:
    """A sys.meta_path finder that runs hook(module) right after a listed
    module's own code has run, the first time the program imports it.
    Importing unittest and tempfile up front to patch them cost every run
    about 30 ms of start-up (issue 13), whether it used them or not. The
    module is found by the finders after this one, as it would have been;
    its loader is wrapped until exec_module, which puts the real loader
    back in spec.loader and __loader__ before the module's code runs."""

    def __init__(self, hooks):
        self._hooks = {}  # module name -> hook(module), until it has run
        for name, hook in hooks.items():
            module = sys.modules.get(name)
            if module is None:
                self._hooks[name] = hook
            else:  # imported already (site, a .pth file): now, as before
                _run_hook(hook, module)

    def find_spec(self, name, path=None, target=None):
        if name not in self._hooks:
            return None  # the common case: one dict lookup
        spec = None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(name, path, target)
            if spec is not None:
                break
        if spec is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _HookedLoader(spec.loader, self._hooks, name)
        return spec


class _HookedLoader:
    """The real loader, and the hook run once after its exec_module (a
    spec found but never executed, importlib.util.find_spec, leaves the
    hook for the import that does run the module)."""

    def __init__(self, loader, hooks, name):
        self._loader = loader
        self._hooks = hooks
        self._name = name

    def __getattr__(self, attribute):  # get_source, get_filename, ...
        return getattr(self._loader, attribute)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        hook = self._hooks.pop(self._name, None)
        if hook is not None:
            _run_hook(hook, module)


def _run_hook(hook, module):
    try:
        hook(module)
    except Exception:
        pass


class _TracemallocFinder:
    """Maps `import tracemalloc` to interpsan.tracemalloc, lazily."""

    def find_spec(self, name, path=None, target=None):
        if name != "tracemalloc":
            return None
        import importlib.machinery

        return importlib.machinery.ModuleSpec(name, self)

    def create_module(self, spec):
        import interpsan

        return interpsan.tracemalloc

    def exec_module(self, module):
        pass


def _exit_code(code):
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _unsupported_extension(exc):
    """If `exc` is CPython refusing an extension in an isolated interpreter,
    returns a description of it, else None."""
    if not isinstance(exc, ImportError):
        return None
    if "does not support loading in subinterpreters" not in str(exc):
        return None
    name = getattr(exc, "name", None) or str(exc).split()[1]
    path = getattr(exc, "path", None)
    if path is None:
        try:
            import importlib.util

            spec = importlib.util.find_spec(name)
            path = spec.origin if spec else None
        except Exception:
            path = None
    return {
        "module": name,
        "path": path,
        "reason": (
            "extension module %r cannot be loaded in an isolated interpreter "
            "with its own GIL: it uses single-phase initialization "
            "(PyModule_Create in PyInit_%s) or does not declare "
            "Py_mod_multiple_interpreters = "
            "Py_MOD_PER_INTERPRETER_GIL_SUPPORTED" % (name, name.rpartition(".")[2])
        ),
    }


def _print_tagged_traceback(exc, tag):
    import traceback

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    for line in text.rstrip("\n").split("\n"):
        sys.stderr.write("%s %s\n" % (tag, line))


def run(kind, target, argv):
    import os

    import interpsan

    tag = "[interpsan: interpreter %d (index %d)]" % (
        interpsan.interpreter_id,
        interpsan.index,
    )
    # Stock faulthandler cannot be imported in an own-GIL interpreter
    # (pytest imports it): give the program interpsan's process-wide one.
    if hasattr(interpsan, "faulthandler"):
        sys.modules["faulthandler"] = interpsan.faulthandler
    # Stock tracemalloc hangs as soon as an own-GIL interpreter exists while
    # it traces: `import tracemalloc` gets interpsan's (built on first use).
    sys.meta_path.insert(0, _TracemallocFinder())
    index = interpsan.index
    sys.meta_path.insert(
        0,
        _PostImportHooks(
            {
                "unittest.result": _count_unittest_results,
                "tempfile": lambda module: _private_tempdir(index, module),
                "test.support.os_helper": lambda module: _private_testfn(index, module),
            }
        ),
    )
    # CPython 3.12's single-phase stdlib extensions are refused before their
    # PyInit_ runs (tools/runner/stdlib_single_phase.py, appended to this file).
    _install_stdlib_single_phase_refusal(
        lambda name, path: interpsan._emit(
            _dumps(
                {
                    "event": "stdlib_single_phase_refused",
                    "index": interpsan.index,
                    "module": name,
                    "path": path,
                }
            )
        )
    )
    unsupported = None
    code = 0
    try:
        sys.argv = list(argv)
        import __main__

        if kind == "script":
            # Like `python script.py`: the code runs in __main__'s own dict,
            # which lives until the interpreter ends (runpy.run_path would
            # run it in a temporary module and drop its globals on return).
            import tokenize

            # As python computes them: sys.path[0] is the directory of the
            # script with symlinks resolved; __file__ and the code's file
            # name are the absolute path (sys.argv[0] stays as given).
            path = os.path.abspath(target)
            if not sys.flags.safe_path:
                sys.path.insert(0, os.path.dirname(os.path.realpath(target)))
            with tokenize.open(path) as f:
                source = f.read()
            __main__.__dict__.update(__file__=path, __cached__=None)
            exec(compile(source, path, "exec"), __main__.__dict__)
        elif kind == "module":
            if not sys.flags.safe_path:  # -P / PYTHONSAFEPATH, as python
                sys.path.insert(0, os.getcwd())
            if target == "pytest":
                sys.argv = _install_pytest_plugin(sys.argv)
            import runpy

            # What `python -m` itself uses: runs in the real __main__.
            runpy._run_module_as_main(target, alter_argv=True)
        else:
            if not sys.flags.safe_path:
                sys.path.insert(0, "")
            exec(compile(target, "<string>", "exec"), __main__.__dict__)
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except BaseException as exc:  # the program's own failure: report it
        code = 1
        unsupported = _unsupported_extension(exc)
        if unsupported is not None:
            sys.stderr.write("%s interpsan: %s\n" % (tag, unsupported["reason"]))
        _print_tagged_traceback(exc, tag)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    # Everything this interpreter can still reach, checked before teardown.
    try:
        interpsan.audit("the end of the program")
    except Exception:
        pass
    # The live allocation sites at the moment the program finished, before
    # teardown (report.json's tracemalloc.top).
    try:
        import _interpsan_tracemalloc

        _interpsan_tracemalloc._report_top(10)
    except Exception:
        pass
    event = {
        "event": "interpreter_result",
        "index": interpsan.index,
        "id": interpsan.interpreter_id,
        "exit_code": code,
        "status": "ok" if code == 0 else "failed",
        "tests": dict(_counts),
    }
    if unsupported is not None:
        event["failure"] = "unsupported_extension"
        event["unsupported_extension"] = unsupported
    interpsan._emit(_dumps(event))
    return code
