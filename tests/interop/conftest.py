"""Fixtures for interop tests: makes tests/lab.py importable and provides `lab`."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import lab as _lab  # noqa: E402


def require(*binaries):
    """Skip the calling test unless root and all binaries are installed."""
    if not _lab.is_root():
        pytest.skip("needs root (network namespaces)")
    missing = [b for b in binaries if not _lab.have(b)]
    if missing:
        pytest.skip("missing binaries: %s (run `make peers`)" % " ".join(missing))


@pytest.fixture
def lab(request):
    require("ip")
    with _lab.Lab("t") as lb:
        yield lb
