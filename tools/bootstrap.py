"""Runs the user's program inside one interpreter of an interpsan run.

Compiled into the runner (tools/BUILD embeds it) and executed once per
interpreter. It reports how the program ended through interpsan._emit, one
JSON event, so that the supervisor can write report.json even if the
process dies later.
"""

import sys

_counts = {"run": 0, "failed": 0, "errors": 0, "skipped": 0}


def _count_unittest_results():
    # Count every TestResult's outcomes, whichever runner drives them:
    # unittest.main, a custom runner, or a framework built on TestResult.
    import unittest

    cls = unittest.TestResult

    def wrap(name, key, condition=None):
        original = getattr(cls, name)

        def method(self, *args, **kwargs):
            if condition is None or condition(*args):
                _counts[key] += 1
            return original(self, *args, **kwargs)

        method.__name__ = name
        setattr(cls, name, method)

    def subtest_failed(test, subtest, err):
        return err is not None and issubclass(err[0], test.failureException)

    def subtest_error(test, subtest, err):
        return err is not None and not issubclass(err[0], test.failureException)

    wrap("startTest", "run")
    wrap("addFailure", "failed")
    wrap("addError", "errors")
    wrap("addSkip", "skipped")
    wrap("addUnexpectedSuccess", "failed")
    wrap("addSubTest", "failed", subtest_failed)
    wrap("addSubTest", "errors", subtest_error)


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
    import json
    import os

    import interpsan

    tag = "[interpsan: interpreter %d (index %d)]" % (
        interpsan.interpreter_id,
        interpsan.index,
    )
    _count_unittest_results()
    unsupported = None
    code = 0
    try:
        sys.argv = list(argv)
        if kind == "script":
            sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
            import runpy

            runpy.run_path(target, run_name="__main__")
        elif kind == "module":
            sys.path.insert(0, os.getcwd())
            import runpy

            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            sys.path.insert(0, "")
            import __main__

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
    interpsan._emit(json.dumps(event))
    return code
