"""Builds the framework test modules (src/*.pyx with Cython, src/*.cpp with
pybind11) with the Python running this script, straight into its
site-packages, as `pip install` of a package holding them would.

Run by setup_venvs.sh with a venv's python (which has the pinned Cython and
pybind11 of requirements.txt). Build products other than the .so files go
to --build-dir (default: a "build" directory next to site-packages), never
into the source tree.

Both kinds are compiled with -g, and Cython with #line directives
(emit_linenums), so a native frame in a report resolves to the .pyx/.cpp
line in this directory.
"""

import argparse
import os
import sys
import sysconfig

from Cython.Build import cythonize
from Cython.Compiler import Options
import pybind11
from setuptools import Distribution, Extension

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "src")

# name -> (extra macros, Cython's cache_builtins option)
CYTHON_MODULES = {
    "cy_isolated": ([], True),
    "cy_shared_cache": ([], True),
    "cy_isolated_heaptypes": ([("CYTHON_USE_TYPE_SPECS", "1")], False),
}
PYBIND11_MODULES = ["pb_isolated", "pb_static_cache"]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build-dir", default=None)
    args = parser.parse_args()
    site = sysconfig.get_paths()["platlib"]
    build_dir = args.build_dir or os.path.join(sys.prefix, "interpsan-framework-build")
    os.makedirs(build_dir, exist_ok=True)

    # Cython writes `#line N "name.pyx"` relative to the directory it runs
    # in, and the compiler records that directory: build from src/ so a
    # report's file:line is the real path of the .pyx.
    os.chdir(SRC)
    extensions = []
    for name, (macros, cache_builtins) in CYTHON_MODULES.items():
        ext = Extension(
            name,
            [name + ".pyx"],
            # Cython's subinterpreter support needs module state: without
            # it the generated module declares
            # Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED whatever the
            # directive says (Cython/Compiler/ModuleNode.py).
            define_macros=[("CYTHON_USE_MODULE_STATE", "1")] + macros,
            extra_compile_args=["-g", "-O1"],
        )
        # cache_builtins is a process-wide Cython option: one cythonize
        # call per setting.
        Options.cache_builtins = cache_builtins
        extensions += cythonize(
            [ext],
            build_dir=os.path.join(build_dir, "cython"),
            emit_linenums=True,
            compiler_directives={"language_level": 3},
            quiet=True,
            force=True,
        )
    for name in PYBIND11_MODULES:
        extensions.append(
            Extension(
                name,
                [name + ".cpp"],
                include_dirs=[pybind11.get_include()],
                language="c++",
                # -O0: the bound lambdas stay frames of their own. At -O1 and
                # above pybind11's header templates inline them, and interpsan
                # names a native frame without its inlining chain, so a report
                # would show pybind11/pytypes.h where the .cpp line belongs.
                extra_compile_args=["-g", "-O0", "-std=c++17", "-fvisibility=hidden"],
            )
        )

    dist = Distribution({"name": "interpsan-framework-tests", "ext_modules": extensions})
    cmd = dist.get_command_obj("build_ext")
    cmd.build_lib = site
    cmd.build_temp = os.path.join(build_dir, "temp")
    cmd.force = True  # flags and pins change without touching the sources
    cmd.ensure_finalized()
    cmd.run()
    for ext in extensions:
        path = cmd.get_ext_fullpath(ext.name)
        if not os.path.exists(path):
            sys.exit("build_modules: %s was not built" % path)
        print("built", path)


if __name__ == "__main__":
    main()
