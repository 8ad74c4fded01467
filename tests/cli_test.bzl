"""cli_test(): one command-line test suite, tests/<package>/test_<topic>.py,
run by tests/run_cli_test.sh against the launcher (tools/interpsan) as a user
runs it. Every CLI suite (e2e, audit, sharing, embedders, faulthandler,
tracemalloc) is declared with it, so what the launcher needs at run time
(//tools:cli) is listed once."""

def cli_test(name, test, extension, data = [], size = "medium", tags = []):
    """An sh_test of `test` (a Python unittest file) through the launcher.

    Args:
      name: the target's name.
      test: the test file (a label in the calling package).
      extension: a shared object the suite loads; its directory is put on the
        suites' PYTHONPATH by run_cli_test.sh.
      data: what else the suite reads (programs, its library, extensions).
      size: Bazel's test size.
      tags: Bazel tags ("external" for a suite that reads a venv Bazel does
        not track, so that its result is never cached).
    """
    native.sh_test(
        name = name,
        size = size,
        srcs = ["//tests:run_cli_test.sh"],
        args = [
            "$(rootpath //:python_interpreter)",
            "$(rootpath //tools/runner:interpsan_runner)",
            "$(rootpath //tools:interpsan)",
            "$(rootpath %s)" % extension,
            "$(rootpath %s)" % test,
        ],
        data = [
            test,
            extension,
            "//:python_interpreter",
            "//tests:cli_testing.py",
            "//tools:cli",
            "//tools:interpsan",
            "//tools/runner:interpsan_runner",
        ] + data,
        tags = tags,
    )
