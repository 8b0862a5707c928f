# host_tools/privnames.py: the board build carries the package's private names as names py/
# already holds. The renamed builds are run by the protocol tests (native build), the board
# tests and the fit bench; here, the rules on small modules (run by CPython before and after),
# that the ROM names really are ROM on the Unix port, and a v4 router's build.
import os
import re
import subprocess

from hostutil import cli, need, v4_router_build
from host_tools import privnames

ENGINE = '''import sys
from micropython import const
from .wire import _crc as _check

_LIMIT = const(3)  # const: MicroPython drops it from the globals
_TABLE = (1, 2, 3)
KIND = "_by_string"


class _Tidy:
    pass


class Engine:
    def __init__(self, _seed=0):
        self._count = _seed
        self._read_by_tests = 1
        self.model_field = 0

    def _bump(self, _by):
        self._count += _by
        return self._count

    def _by_string(self):
        return 7

    def run(self, n):
        global _last
        _last = n
        t = 0
        for i in range(n):
            t += self._bump(_by=_TABLE[i % _LIMIT])
        return t + _check(t) + getattr(self, KIND)() + len(getattr(sys.implementation, "name", "x"))


def result():
    e = Engine(_seed=1)
    return e.run(5), _last, type(_Tidy()).__name__, e._read_by_tests
'''
WIRE = '''def _crc(x):
    return x & 255
'''


def _run(text, wire):
    mods = {}
    ns = {"__name__": "m"}
    exec(wire, mods)
    src = re.sub(r"from \.wire import (\w+) as (\w+)", r"\2 = WIRE['\1']",
                 text.replace("from micropython import const\n", "const = lambda x: x\n"))
    ns["WIRE"] = mods
    exec(src, ns)
    return ns["result"]()


def test_private_names_take_rom_names_everywhere_they_appear_and_the_code_runs_the_same(tmp_path):
    sources = {"v4/engine.py": ENGINE, "wire/wire.py": WIRE, "v6/other.py": "def _unused6():\n    return 1\n"}
    t = tmp_path / "t.py"
    t.write_text("assert e._read_by_tests == 1  # a comment is no reader: _bump\n")
    outside = privnames.outside_names([str(t)])
    plan = privnames.plan(sources, ["v4/engine.py", "wire/wire.py"], outside)
    assert {"_bump", "_by", "_count", "_seed", "_crc", "_check", "_TABLE", "_last"} <= set(plan), plan
    kept = {"_LIMIT", "_Tidy", "_by_string", "_read_by_tests", "_unused6"}  # const, class, string, tests, not deployed
    assert not kept & set(plan), plan
    assert len(set(plan.values())) == len(plan) and set(plan.values()) <= set(privnames.ROM)
    built = privnames.rename(sources, plan)
    for name in plan:
        assert not re.search(r"\b%s\b" % name, built["v4/engine.py"]), name
    assert built["v4/engine.py"].count("\n") == ENGINE.count("\n")  # tracebacks still point at the line
    assert _run(built["v4/engine.py"], built["wire/wire.py"]) == _run(ENGINE, WIRE)


def test_a_rom_name_the_firmware_uses_is_never_a_target():
    sources = {"a.py": "def _f():\n    return 'x'.lstrip() + 'y'.rsplit()[0]\n"}
    plan = privnames.plan(sources, ["a.py"], set())
    assert plan["_f"] not in ("lstrip", "rsplit")


def test_the_rom_names_are_in_the_unix_ports_rom(tmp_path):
    # each name looked up from a string read at run time: a name not in ROM is interned then,
    # and the port's qstr count grows (one warm-up lookup first: the loop's own names)
    from host_tools.paths import micropython

    mp = micropython()
    if not os.path.exists(mp):
        need("micropython")
    names = ["append"] + list(privnames.ROM) + ["_not_a_rom_name"]
    (tmp_path / "names.txt").write_text(" ".join(names))
    (tmp_path / "check.py").write_text(
        "import micropython\n"
        "for s in open('names.txt').read().split():\n"
        "    micropython.qstr_info()\n"
        "    getattr(None, s, None)\n"
        "micropython.qstr_info()\n")
    out = subprocess.run([mp, "check.py"], cwd=str(tmp_path), capture_output=True, text=True, timeout=60).stdout
    counts = [int(line.split("n_qstr=")[1].split(",")[0]) for line in out.splitlines() if "n_qstr=" in line]
    assert len(counts) == len(names) + 1, out[-500:]
    grew = [n for i, n in enumerate(names) if i and counts[i + 1] != counts[i]]
    assert grew == ["_not_a_rom_name"], grew


def test_a_v4_routers_build_carries_none_of_its_renamed_names(tmp_path):
    rep = v4_router_build(tmp_path)
    out = tmp_path / "u"
    renamed = rep["names_renamed"]
    assert len(renamed) > 80 and "_select_" + "subnet" in renamed and "_set_state" not in renamed  # (tests read that one)
    blob = b"".join(p.read_bytes() for p in out.rglob("*.mpy"))
    # a name in an .mpy: its length << 1, its bytes, a NUL (mpy v6)
    left = [n for n in renamed if bytes([len(n) << 1]) + n.encode() + b"\0" in blob]
    assert not left, left
    assert bytes([len("_set_state") << 1]) + b"_set_state\0" in blob  # (the check finds what is there)
    # a traceback from that build, given its names back (python -m host_tools traceback BUILD)
    own = "_select_" + "subnet"
    trace = ('Traceback (most recent call last):\n  File "mpdhcp.v4.server4", line 1, in %s\n'
             "AttributeError: 'Server4' object has no attribute '%s'\n" % (renamed[own], renamed[own]))
    (tmp_path / "t.txt").write_text(trace)
    r = cli("traceback", out, tmp_path / "t.txt")
    assert r.returncode == 0 and r.stdout == trace.replace(renamed[own], own), r.stdout + r.stderr
