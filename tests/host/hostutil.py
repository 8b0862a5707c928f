# Shared helpers for the host-tool tests (imported as hostutil; conftest.py re-exports): root for
# namespaces, binaries for the pty board, running `python -m host_tools`.
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for p in (ROOT, os.path.dirname(os.path.abspath(__file__))):
    if p not in sys.path:
        sys.path.insert(0, p)

from host_tools import lab as L  # noqa: E402


def need(*bins, root=False):
    if root and not L.is_root():
        pytest.skip("needs root (creates network namespaces)")
    missing = [b for b in bins if not (L.have(b) or os.path.exists(os.path.join(os.path.dirname(sys.executable), b)))]
    if missing:
        pytest.skip("missing binaries: " + ", ".join(missing))


def cli(*args, timeout=120, env=None):
    """python -m host_tools ARGS -> CompletedProcess (text); env: variables added."""
    import subprocess

    return subprocess.run([sys.executable, "-m", "host_tools"] + [str(a) for a in args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                          env=dict(os.environ, **(env or {})))
