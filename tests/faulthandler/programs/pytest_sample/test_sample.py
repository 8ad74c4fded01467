"""Three pytest tests (pass, fail, skip), run by the test venv's pytest
inside each of interpsan's own-GIL interpreters
(tests/faulthandler/test_pytest.py)."""

import faulthandler
import os
import sys

import pytest

import interpsan

# Where pytest came from, per interpreter (test_pytest.py checks the venv):
# one write(2) of the whole line, so that the other interpreters' output,
# which shares the descriptor, cannot split it.
os.write(1, ("pytest-from %s %s %s\n" % (pytest.__file__, pytest.__version__,
                                         sys.prefix)).encode())


def test_passes():
    # pytest itself uses faulthandler; in an interpsan interpreter that is
    # interpsan's process-wide one.
    assert faulthandler is interpsan.faulthandler
    assert 0 <= interpsan.index < 4


def test_fails():
    assert interpsan.index == -1, "fails on purpose"


@pytest.mark.skip(reason="skipped on purpose")
def test_skipped():
    raise AssertionError("never runs")
