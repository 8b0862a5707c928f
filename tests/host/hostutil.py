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


def v4_router_build(tmp_path, name="u"):
    """`build unix` of a small v4 router config (DHCPv4 server on s0, client on wan0) into
    tmp_path/name: the build report."""
    import json

    from host_tools import build as B

    need("mpy-cross")
    conf = tmp_path / "v4.json"
    conf.write_text(json.dumps({"Dhcp4": {"interfaces-config": {"interfaces": ["s0"]},
                                          "subnet4": [{"id": 1, "subnet": "10.77.0.0/16",
                                                       "pools": [{"pool": "10.77.1.0 - 10.77.1.255"}]}]},
                                "Client4": {"interface": "wan0"}}))
    return B.build("unix", config=str(conf), out=str(tmp_path / name))


def cli(*args, timeout=120, env=None):
    """python -m host_tools ARGS -> CompletedProcess (text); env: variables added."""
    import subprocess

    return subprocess.run([sys.executable, "-m", "host_tools"] + [str(a) for a in args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                          env=dict(os.environ, **(env or {})))
