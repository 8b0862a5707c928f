# host_tools/qstrs.py: fewer interned names for the board build (parameters renamed to names
# the firmware holds already, relative imports made absolute). The renamed firmware is run by
# test_interpreters (the native build: every protocol test under the Unix port), the board
# tests and the fit bench; here, the rules on small modules, run by CPython, and the names a
# whole build carries.
import ast
import os
import subprocess

from hostutil import ROOT, need
from host_tools import qstrs
from host_tools.paths import micropython

MOD = '''from .wire.buf import copy
from . import slot


def f(length_of_it, shared, *rest, **kw):
    """Docstring: f(length_of_it=3) is no call."""
    return length_of_it + shared + len(rest)


def g(cell, plain, fstr, mine, key_by_kw):
    h = lambda: cell  # read by a nested scope: keeps its name
    return [plain + i for i in range(2)] + [h(), f"{fstr}", plain, key_by_kw, mine]


def k(plain, key):  # `key` is a name of the module (below): not a new name for plain
    global_name = key + plain
    return global_name


class C:
    def m(self, plain, value_in):
        value_in += plain
        return value_in


key = 1
'''


def _params(text):
    out = {}
    for n in ast.walk(ast.parse(text)):
        if isinstance(n, ast.FunctionDef):
            out[n.name] = [a.arg for a in n.args.args]
    return out


def test_parameters_nothing_passes_by_keyword_are_renamed_and_behave_the_same():
    out = qstrs.rename({"mod.py": MOD}, keep={"key_by_kw"})["mod.py"]
    p = _params(out)
    assert p["f"] == ["value", "start"]  # *rest, **kw keep theirs (only plain parameters)
    # read in a comprehension, a lambda, an f-string; passed by keyword: kept. `mine` is read
    # only by g's own scope
    assert p["g"] == ["cell", "plain", "fstr", "value", "key_by_kw"]
    assert p["k"] == ["value", "key"]  # "key" is the module's: skipped as a new name; a ROM
    assert p["m"] == ["self", "value", "start"]  # name as a parameter is left as it is
    assert out.count("\n") == MOD.count("\n")
    # the relative import becomes the module's absolute name; `from . import` needs no name
    assert "from mpdhcp.wire.buf import copy" in out and "from . import slot" in out
    ns_in, ns_out = {}, {}
    body = lambda t: "\n".join(t.split("\n")[3:])  # (no package to import from here)
    exec(body(MOD), ns_in)
    exec(body(out), ns_out)
    for name, args in (("f", (1, 2, 3, 4)), ("g", (1, 2, 3, 4, 2)), ("k", (5, 6))):
        assert ns_in[name](*args) == ns_out[name](*args)
    assert ns_in["C"]().m(2, 3) == ns_out["C"]().m(2, 3)
    assert ns_out["g"](1, 2, 3, 5, key_by_kw=4) == ns_in["g"](1, 2, 3, 5, key_by_kw=4)


def test_a_parameter_read_by_a_comprehension_keeps_its_name_unless_it_is_the_first_iterable():
    src = "def f(n, seq):\n    return [n + i for i in seq if i]\n"
    out = qstrs.rename({"m.py": src}, set())["m.py"]
    assert _params(out)["f"] == ["n", "key"]  # the first iterable is read in f's own scope
    ns_in, ns_out = {}, {}
    exec(src, ns_in)
    exec(out, ns_out)
    assert ns_in["f"](1, [0, 1, 2]) == ns_out["f"](1, [0, 1, 2]) == [2, 3]


def test_keyword_names_come_from_calls_into_the_package_and_from_repl_snippets(tmp_path):
    (tmp_path / "t.py").write_text(
        "from mpdhcp.v4 import server4\nimport lab as L\n\n\ndef helper(q_mine=1):\n    return q_mine\n\n\n"
        "server4.Server4(q_cap=3)\nhelper(q_mine=2)\nL.wait_for(q_what=1)\n"
        "SNIPPET = \"console.leases(q_limit=5)\"\n")
    (tmp_path / "host.py").write_text("from . import build\n\n\nbuild(q_x=2)\n")  # imports no firmware
    (tmp_path / "doc.md").write_text("At the REPL: `thread.stop(q_wait=100)`\n")
    names = qstrs.keyword_names([str(tmp_path)])
    # (these files' names are all q_: the repo's own scan reads this file's strings too)
    assert {"q_cap", "q_limit", "q_wait"} <= names
    assert not {"q_mine", "q_what", "q_x"} & names


def test_the_firmware_build_carries_fewer_names(tmp_path):
    need("mpy-cross", "micropython")
    from host_tools import build as B

    B.build("unix", out=str(tmp_path / "u"), all_modules=True)
    B.build("unix", out=str(tmp_path / "p"), all_modules=True, fold=None)
    code = ("import sys, micropython\nfor m in sys.argv[1:]:\n    __import__(m)\nmicropython.qstr_info()\n")
    mods = ["mpdhcp.v4.server4", "mpdhcp.v4.client4", "mpdhcp.platform.wan4", "mpdhcp.runner", "mpdhcp.state.journal"]

    def count(tree):
        r = subprocess.run([micropython(), "-c", code] + mods, capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, MICROPYPATH=tree + ":.frozen"))
        assert r.returncode == 0, r.stdout + r.stderr
        return int(r.stdout.split("n_qstr=")[1].split(",")[0])

    renamed, plain = count(str(tmp_path / "u")), count(str(tmp_path / "p"))
    assert renamed < plain - 60, (renamed, plain)  # parameters, relative paths (and folded constants)


def test_the_keyword_scan_of_the_repo_keeps_what_the_firmware_is_called_with():
    from host_tools.build import KEYWORD_ROOTS

    names = qstrs.keyword_names([os.path.join(ROOT, "firmware", "mpdhcp")] + [os.path.join(ROOT, d) for d in KEYWORD_ROOTS])
    assert {"preload", "log", "ring"} <= names  # boards' main.py: start(..., preload=); Runner(ring=False)


def test_an_import_of_a_module_the_build_leaves_out_is_the_import_error_it_would_raise():
    src = ("from .wire import buf\n"
           "try:\n    from .wire.buf_viper import (copy,\n                                 zero)\nexcept ImportError:\n    copy = 1\n"
           "\n\ndef v6():\n    from .v6.client6 import Client6\n    return Client6\n")
    tree = {"m.py": src, "wire/buf.py": "", "wire/buf_viper.py": "", "v6/client6.py": ""}
    out = qstrs.rename(tree, set(), deployed=["m.py", "wire/buf.py"])["m.py"]
    assert "buf_viper" not in out and "client6" not in out and out.count("\n") == src.count("\n")
    assert "from mpdhcp.wire import buf" in out
    ns = {}
    exec(out.split("\n", 1)[1], ns)  # (no package here to import buf from)
    assert ns["copy"] == 1
    try:
        ns["v6"]()
        raise AssertionError("no ImportError")
    except ImportError:
        pass
    kept = qstrs.rename(tree, set())["m.py"]  # everything deployed: the imports stay
    assert "from mpdhcp.wire.buf_viper import (copy," in kept and "mpdhcp.v6.client6" in kept


def test_a_keyword_call_inside_the_package_counts_even_in_a_module_that_imports_nothing(tmp_path):
    pkg = tmp_path / "mpdhcp"
    pkg.mkdir()
    (pkg / "slot.py").write_text("class S:\n    def m(self, q_flag=0):\n        return q_flag\n\n\n"
                                 "def f(s):\n    return s.m(q_flag=1)\n")
    names = qstrs.keyword_names([str(pkg)])
    assert "q_flag" in names
    out = qstrs.rename({"slot.py": (pkg / "slot.py").read_text()}, names)["slot.py"]
    ns = {}
    exec(out, ns)
    assert ns["f"](ns["S"]()) == 1
