"""Fixtures for interop tests: the `lab` fixture (a namespace Lab removed after the test)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from peerutil import require, _lab  # noqa: E402


@pytest.fixture
def lab(request):
    require("ip")
    with _lab.Lab("t") as lb:
        yield lb
