"""Shared skips for the interop tests (a module of its own: `from conftest import` breaks when
pytest collects several test folders, each with its own conftest)."""
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
