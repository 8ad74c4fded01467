"""Wheel metadata that pyproject.toml cannot state statically.

Run by tools/wheel/build_wheels.sh under the CPython the wheel is for: the wheel
holds native programs linked against that CPython's libpython, so it is
tagged cpXY-cpXY-<platform> (not py3-none-any) and requires exactly that
minor version.
"""

import json
import os
import stat
import sys

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))

# The programs the entry point starts. setuptools copies package data
# without its mode bits; put them back so that pip installs them executable.
EXECUTABLES = (
    "interpsan/tools/runner/interpsan_runner",
    "interpsan/tools/runner/libinterpsan_preload.so",
    "interpsan/tools/example/fastcache.so",
)


class BinaryDistribution(Distribution):
    def has_ext_modules(self):
        return True


class BuildPyKeepingModes(build_py):
    def run(self):
        super().run()
        for rel in EXECUTABLES:
            path = os.path.join(self.build_lib, rel)
            mode = os.stat(path).st_mode
            os.chmod(path, mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


with open(os.path.join(HERE, "interpsan", "_build_info.json")) as f:
    info = json.load(f)
if info["python_version"] != "%d.%d" % sys.version_info[:2]:
    sys.exit(
        "setup.py: binaries built for %s, but this is Python %d.%d"
        % ((info["python_version"],) + sys.version_info[:2])
    )

setup(
    version=info["version"],
    python_requires="==%s.*" % info["python_version"],
    distclass=BinaryDistribution,
    cmdclass={"build_py": BuildPyKeepingModes},
)
