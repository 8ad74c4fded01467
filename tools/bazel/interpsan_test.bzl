"""interpsan_test: run a Python test program under interpsan as a Bazel test.

    load("//tools/bazel:interpsan_test.bzl", "interpsan_test")

    interpsan_test(
        name = "mylib_test",
        main = "mylib_test.py",       # the program every interpreter runs
        srcs = ["mylib.py"],          # more Python files beside it
        deps = [":my_extension.so"],  # anything else it imports (runfiles)
        interpreters = 4,
        shard_count = 2,              # any test attribute passes through
    )

The test runs `tools/interpsan run -n INTERPRETERS -- MAIN ARGS...` with the
runner built by this same Bazel invocation (no nested Bazel) and the CPython
selected with --config=py312 / --config=py313. It passes when interpsan exits
0: every interpreter's program succeeded and no isolation violation, crash
or timeout was found.

Outputs, per test (and per shard):
  - $XML_OUTPUT_FILE (bazel-testlogs/.../test.xml): interpsan's JUnit XML,
    one testsuite per interpreter, one testcase per test, and one failed
    testcase per violation (testsuite "interpsan violations").
  - $TEST_UNDECLARED_OUTPUTS_DIR/interpsan/ (bazel-testlogs/.../test.outputs/,
    zipped by Bazel into outputs.zip): report.json, events.jsonl and
    report.html.
  - the test log: interpsan's own output and the text summary of the report.

Sharding: with shard_count = K, Bazel runs K shards; each touches
$TEST_SHARD_STATUS_FILE and exports INTERPSAN_SHARD_INDEX and
INTERPSAN_TOTAL_SHARDS (from TEST_SHARD_INDEX / TEST_TOTAL_SHARDS) to the
program, which picks its share of the tests. For unittest programs the
helper module `interpsan_shard` (tools/runner/interpsan_shard.py, put on the path
by this macro) does it: call `interpsan_shard.main()` instead of
`unittest.main()`.
"""

# Labels of this repository, resolved relative to this file so that the
# macro also works when loaded from another workspace.
_LAUNCHER = Label("//tools:interpsan")
_RUNNER = Label("//tools/runner:interpsan_runner")
_WRAPPER = Label("//tools/bazel:interpsan_test_runner.sh")
_PYTHON = Label("//:python_interpreter")
_SUPPORT = [
    Label("//tools/supervisor:interpsan.py"),
    Label("//tools/report:modules"),
    Label("//tools/report:report_render.py"),
    Label("//tools/runner:interpsan_shard.py"),
    Label("//tools/runner:libinterpsan_preload.so"),
    Label("//tools/setup:python_prefix.sh"),
]
_RENDERER = Label("//tools/report:report_render.py")
_SHARD_HELPER = Label("//tools/runner:interpsan_shard.py")

def _unique(labels):
    seen = {}
    out = []
    for label in labels:
        key = str(label)
        if key not in seen:
            seen[key] = True
            out.append(label)
    return out

def _opt(name, value):
    return [name, str(value)]

def interpsan_test(
        name,
        main = None,
        module = None,
        srcs = [],
        data = [],
        deps = [],
        interpreters = 4,
        python = None,
        checks = "all",
        keep_going = False,
        trace_malloc = 0,
        watchdog = None,
        suppressions = None,
        mode = "run",
        args = [],
        **kwargs):
    """A test running a Python program under interpsan.

    Args:
      name: the test's name.
      main: the program (a .py file label) every interpreter runs. Default:
        the only file of srcs, or NAME.py.
      module: run `-m MODULE` instead of a script (e.g. "unittest" with
        args = ["mypkg.tests"], or "pytest"); main must then be None.
      srcs: Python files beside the program (available in runfiles).
      data: other runfiles the program reads.
      deps: targets the program imports (py_library, extension .so files):
        added to the runfiles. The runfiles root, this package's folder and
        the program's folder are on PYTHONPATH.
      interpreters: -n, interpreters run at once, each with its own GIL.
      python: None (default) runs the CPython that --config=py312/py313
        selects. "3.12" or "3.13" pins the version: the test then fails with
        a clear message when built for the other one.
      checks: --checks: "all", "none" or a comma list (free,domain,dealloc).
      keep_going: --keep-going: report every violation, do not stop at the first.
      trace_malloc: --trace-malloc N (0 = off).
      watchdog: --timeout S, seconds (interpsan's watchdog, which dumps every
        interpreter's threads; Bazel's own `timeout` still applies).
      suppressions: a label of a suppressions file (--suppressions).
      mode: "run" (interpsan creates the interpreters) or "exec" (the
        program is run by the selected python with interpsan preloaded and
        creates interpreters itself).
      args: arguments passed to the program.
      **kwargs: passed to sh_test (size, timeout, shard_count, tags, ...).
    """
    if main and module:
        fail("interpsan_test %s: give main or module, not both" % name)
    if mode not in ("run", "exec"):
        fail("interpsan_test %s: mode must be \"run\" or \"exec\"" % name)
    if python not in (None, "3.12", "3.13"):
        fail("interpsan_test %s: python must be None, \"3.12\" or \"3.13\"" % name)
    if not main and not module:
        py = [s for s in srcs if s.endswith(".py")]
        if len(py) == 1:
            main = py[0]
        else:
            main = name + ".py"

    options = _opt("-n", interpreters) + _opt("--checks", checks)
    if keep_going:
        options.append("--keep-going")
    if trace_malloc:
        options += _opt("--trace-malloc", trace_malloc)
    if watchdog:
        options += _opt("--timeout", watchdog)
    extra_data = []
    if suppressions:
        options += ["--suppressions", "$(rootpath %s)" % suppressions]
        extra_data.append(suppressions)

    program = []
    if mode == "exec":
        # The selected python runs the program; the wrapper puts the real
        # path of the interpreter in place of this marker.
        program.append("@PYTHON@")
    if module:
        program += ["-m", module]
    else:
        program.append("$(rootpath %s)" % main)
        extra_data.append(main)

    # The test's own package folder in runfiles, for imports beside the
    # program (needed with module = ...; a script's folder is on the path anyway).
    repo = native.repository_name()
    package_dir = native.package_name() or "."
    if repo not in ("@", ""):
        package_dir = "../%s/%s" % (repo[1:], native.package_name())

    native.sh_test(
        name = name,
        srcs = [_WRAPPER],
        args = [
            "$(rootpath %s)" % _PYTHON,
            "$(rootpath %s)" % _RUNNER,
            "$(rootpath %s)" % _LAUNCHER,
            "$(rootpath %s)" % _RENDERER,
            "$(rootpath %s)" % _SHARD_HELPER,
            python or "any",
            mode,
            package_dir,
        ] + options + ["--"] + program + args,
        data = _unique([_PYTHON, _RUNNER, _LAUNCHER] + _SUPPORT + srcs + data + deps + extra_data),
        **kwargs
    )
