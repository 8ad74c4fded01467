"""The four projects' own test suites as run here: what their CI runs
(their pytest configuration, their tests directory from the sdist), minus
what cannot run in an interpsan interpreter, each exclusion with its reason.

Every run is `python -m pytest -p no:cacheprovider ARGS` in
VENV/suites/NAME (set up by setup_venvs.sh), with ENV added, plus the
"per_version" args of the CPython version. Exclusions apply to the plain
python baseline and to the interpsan run alike.
"""

# Tests that start a child process: interpsan's interpreters are created
# with fork/exec disallowed (PyInterpreterConfig allow_fork = allow_exec =
# 0), so subprocess raises RuntimeError there. They are excluded from the
# plain-python baseline too, so that both runs compare the same tests.
SUITES = {
    "markupsafe": {
        # tox/CI: pytest -v --tb=short --basetemp=... (tests/)
        "args": ["tests"],
        "env": {},
        "excluded": {},
    },
    "multidict": {
        # CI: pytest with pytest.ini; its addopts load pytest-cov and
        # codspeed (coverage and benchmarking plugins, not tests): cleared.
        "args": [
            "-o",
            "addopts=",
            "-m",
            "not hypothesis",
            # pytest.ini has filterwarnings = error; interpsan's own
            # pytest plugin is imported before pytest can mark it for
            # assertion rewriting, which pytest warns about (an
            # interpsan defect, reported): only that warning ignored.
            "-W",
            "ignore::pytest.PytestAssertRewriteWarning",
            "tests",
            "--ignore=tests/test_multidict_benchmarks.py",
            "--ignore=tests/test_views_benchmarks.py",
            "--ignore=tests/test_watched_benchmarks.py",
            "--ignore=tests/test_callgrind_driver.py",
            "--ignore=tests/test_release_notes_md.py",
            "--ignore=tests/test_leaks.py",
            "--ignore=tests/test_circular_imports.py",
            "--deselect=tests/test_multidict.py::test_multidict_torn_down_with_its_module",
            "--deselect=tests/test_capi.py::test_recording_out_of_memory_reports_one_lost_event",
            "--deselect=tests/test_capi.py::test_setitem_out_of_memory_reports_no_kept_duplicate_as_deleted",
            "--deselect=tests/test_mutable_multidict.py::test_no_refleak_on_memory_error",
            "--deselect=tests/test_mutable_multidict.py::test_setitem_duplicates_no_refleak_on_memory_error",
            "--deselect=tests/test_freelist.py::test_freed_blocks_are_reused",
        ],
        "env": {},
        "excluded": {
            "tests/test_*_benchmarks.py, test_callgrind_driver.py": "benchmarks (pytest-codspeed) and their driver, not tests of multidict",
            "tests/test_release_notes_md.py": "checks the release-notes tooling of the repository",
            "tests/test_leaks.py, tests/test_circular_imports.py, "
            "test_multidict.py::test_multidict_torn_down_with_its_module": "start subprocesses",
            "-m hypothesis": "run in a CI job of their own, need hypothesis",
            "16 out-of-memory tests (test_capi.py, test_mutable_multidict.py)": "import _testcapi (for set_nomemory): CPython's _testcapi is single-phase "
            "init on 3.12 and 3.13 and refuses to load in an own-GIL interpreter "
            "(ImportError, which pytest.importorskip does not turn into a skip)",
            "test_freelist.py::test_freed_blocks_are_reused": "compares sys.getallocatedblocks() before and after; since 3.12 that is "
            "_Py_GetGlobalAllocatedBlocks(), the sum over ALL interpreters, so the "
            "other interpreters' allocations move it (it failed in 2 of 4 on 3.13)",
        },
    },
    "crc32c": {
        # run-tests.py: pytest test/ for CRC32C_SW_MODE auto, force, none;
        # the default (auto) here.
        "args": ["test", "--ignore=test/test_benchmark.py", "--ignore=test/test_cli.py"],
        "env": {"CRC32C_SW_MODE": "auto", "CRC32C_SKIP_HW_PROBE": "0"},
        "excluded": {
            "test/test_benchmark.py": "a benchmark",
            "test/test_cli.py": "starts subprocesses",
        },
    },
    "xxhash": {
        "args": [
            "tests",
            "--ignore=tests/test_benchmark.py",
            "--ignore=tests/test_benchmark_xxh3_long.py",
            "--ignore=tests/test_benchmark_xxh3_short.py",
            "--ignore=tests/test_stubs_pyright.py",
        ],
        "env": {},
        "excluded": {
            "tests/test_benchmark*.py": "benchmarks (pytest-benchmark)",
            "tests/test_stubs_pyright.py": "runs pyright (a Node.js tool) in a subprocess",
        },
        "per_version": {
            "3.12": {
                "args": [
                    "--deselect=tests/test_fastcall.py::TestFastcallNormal::test_input_ctypes"
                ],
                "excluded": {
                    "tests/test_fastcall.py::TestFastcallNormal::test_input_ctypes": "imports ctypes: CPython 3.12's _ctypes is single-phase init and "
                    "refuses to load in an own-GIL interpreter (ImportError: module "
                    "_ctypes does not support loading in subinterpreters)",
                },
            },
        },
    },
}


def args_for(name, version):
    suite = SUITES[name]
    return suite["args"] + suite.get("per_version", {}).get(version, {}).get("args", [])
