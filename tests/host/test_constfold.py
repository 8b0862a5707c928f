# host_tools/constfold.py: the package's integer constants folded into their readers for the
# board build. The folded firmware is run by test_interpreters (the native build: reads folded),
# the board tests and the fit bench (names dropped); here, the rules on small packages and a
# whole-firmware check that nothing left reads a name that was dropped.
import ast
import os
import subprocess

from hostutil import ROOT, need
from host_tools import constfold
from host_tools.build import firmware_modules
from host_tools.paths import micropython

FW = os.path.join(ROOT, "firmware", "mpdhcp")

WIRE = """from micropython import const
OPT_A = const(3)
OPT_B = const(OPT_A + 1)  # from another constant
NEG = const(-2)
BIG = const(1 << 31)  # not a small int on a board: left alone
_PRIV = const(7)
NAMES = {OPT_A: "a"}  # not a constant: stays


def f(b):
    return b[OPT_A] + _PRIV
"""

TABLE = """from micropython import const
FREE = const(0)
BOUND = const(2)
"""

LEASES = """from .table import FREE, BOUND  # re-exported
from ..wire import wire as W
from ..wire.wire import (OPT_B,
                         NAMES)


def g(x):
    return x == BOUND or x == W.OPT_A or W.NEG.bit_length() or OPT_B or W.BIG
"""

USER = """from ..state import leases as L
from ..wire import wire


def h(x, FREE=1):  # a parameter that shadows a constant's name: not folded here
    return L.BOUND + FREE + wire.OPT_A


def k():
    return getattr(L, "FREE")  # read by its name: its definition stays


def r():
    from ..wire import wire as W2  # an import in a function binds its name there
    from ..state.table import BOUND
    return W2.OPT_B + BOUND
"""


def _fold(drop=True, **extra):
    src = {"wire/wire.py": WIRE, "state/table.py": TABLE, "state/leases.py": LEASES, "v4/user.py": USER}
    src.update(extra)
    return src, constfold.fold(src, drop)


def test_reads_become_literals_and_the_names_go():
    src, out = _fold()
    w, le, u = out["wire/wire.py"], out["state/leases.py"], out["v4/user.py"]
    assert "OPT_A" not in w and "OPT_B" not in w and "NEG" not in w and "_PRIV" not in w
    assert "return b[3] + 7" in w and "NAMES = {3: \"a\"}" in w
    assert "BIG = const(1 << 31)" in w  # beyond a small int: kept as written
    assert "return x == 2 or x == 3 or (-2).bit_length() or 4 or W.BIG" in le
    assert "from ..wire.wire import NAMES" in le and "OPT_B" not in le
    assert "return 2 + FREE + 3" in u  # the parameter is read, not table's FREE
    assert "return 4 + 2" in u and "    pass\n" in u  # (the import of BOUND alone: gone)
    for name in src:  # each statement keeps its lines: a --lines traceback points at the source
        assert len(out[name].splitlines()) == len(src[name].splitlines()), name
        ast.parse(out[name])


def test_a_name_read_by_name_keeps_its_definition_and_its_re_exports():
    _, out = _fold()
    assert "FREE = const(0)" in out["state/table.py"] and "BOUND" not in out["state/table.py"]
    assert "from .table import FREE  #" in out["state/leases.py"]  # getattr(L, "FREE") reads it there


def test_reads_only_keeps_every_name():
    src, out = _fold(drop=False)
    assert out["wire/wire.py"].count("const(") == src["wire/wire.py"].count("const(")
    assert "from .table import FREE, BOUND" in out["state/leases.py"]
    assert "return 2 + FREE + 3" in out["v4/user.py"]


def test_a_constant_bound_twice_or_rebound_is_not_folded():
    _, out = _fold(**{"v4/other.py": "from micropython import const\nX = const(1)\n\n\ndef f():\n"
                      "    global X\n    X = 2\n    return X\n"})
    assert "X = const(1)" in out["v4/other.py"] and "return X" in out["v4/other.py"]


def test_a_constant_read_in_an_f_string_keeps_its_name():
    # (an f-string's inner positions are not exact before CPython 3.12: such reads stay)
    _, out = _fold(**{"v4/other.py": "from micropython import const\nfrom ..wire import wire as W\n"
                      "from ..state.table import BOUND\nY = const(5)\n\n\ndef f():\n"
                      "    return f\"{W.OPT_A} {Y} {BOUND}\" + str(Y + BOUND)\n"})
    o = out["v4/other.py"]
    assert "Y = const(5)" in o and 'f"{W.OPT_A} {Y} {BOUND}" + str(5 + 2)' in o
    assert "from ..state.table import BOUND" in o and "BOUND = const(2)" in out["state/table.py"]
    assert "OPT_A = const(3)" in out["wire/wire.py"]


def _dropped_reads(out):
    """Reads in the folded package of a module attribute or imported name that the target
    module no longer defines."""
    trees = {constfold.module_name(rel): ast.parse(text) for rel, text in out.items()}

    def defines(mod, name):
        if mod + "." + name in trees:
            return True  # a submodule
        for node in ast.walk(trees[mod]):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
                return True
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id == name:
                return True
            if isinstance(node, (ast.Import, ast.ImportFrom)) and name in [a.asname or a.name for a in node.names]:
                return True
        return False

    bad = []
    for rel in out:
        m = constfold._Module(rel, out[rel])
        for node in ast.walk(m.tree):
            if isinstance(node, ast.ImportFrom):
                src = constfold._resolve(m.name, m.is_pkg, node)
                if src in trees:
                    bad += ["%s: from %s import %s" % (rel, src, a.name) for a in node.names
                            if not defines(src, a.name)]
        constfold._scan(m, {n: None for n in trees})
        for node in ast.walk(m.tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in m.aliases:
                if not defines(m.aliases[node.value.id], node.attr):
                    bad.append("%s: %s.%s" % (rel, node.value.id, node.attr))
    return bad


def test_the_folded_firmware_reads_no_name_it_dropped():
    src = {}
    for rel in firmware_modules(FW):
        with open(os.path.join(FW, rel), encoding="utf-8") as f:
            src[rel] = f.read()
    out = constfold.fold(src)
    assert _dropped_reads(out) == []
    dropped = sum(t.count("const(") for t in src.values()) - sum(t.count("const(") for t in out.values())
    assert dropped > 250  # what the fold is for: the packet, table and engine constants
    # the check above finds a dropped name that is still read
    broken = dict(out, **{"v4/server4.py": out["v4/server4.py"] + "\n\ndef _x():\n    return P.OPT_ROUTER\n"})
    assert _dropped_reads(broken) == ["v4/server4.py: P.OPT_ROUTER"]


def test_the_folded_firmware_compiles_and_imports(tmp_path):
    need("mpy-cross", "micropython")
    from host_tools import build as B

    rep = B.build("unix", out=str(tmp_path / "u"), all_modules=True)
    plain = B.build("unix", out=str(tmp_path / "p"), all_modules=True, fold=None)
    assert rep["mpy_total"] < plain["mpy_total"] - 5000
    mods = [constfold.module_name(m["module"][len("mpdhcp/"):-4] + ".py") for m in rep["modules"]]
    mods = [m for m in mods if not m.endswith(("_viper", "__main__"))]
    code = "import sys\nfor m in sys.argv[1:]:\n    __import__(m)\nprint('imported', len(sys.argv) - 1)\n"
    r = subprocess.run([micropython(), "-c", code] + mods, capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, MICROPYPATH=str(tmp_path / "u") + ":.frozen"))
    assert r.returncode == 0 and "imported %d" % len(mods) in r.stdout, r.stdout + r.stderr
