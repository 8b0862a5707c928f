# `build` for both boards: .mpy files for the right arch that the Unix port imports, sizes in
# the report; a syntax error fails clearly. `config check` runs the firmware's validation.
import json
import os
import shutil
import subprocess

import pytest

from hostutil import ROOT, need, cli
from host_tools.build import header, modules_for, NATIVE, _says_only
from host_tools.paths import micropython

BOARDS = (("esp32", "xtensawin", 10), ("picow", "armv6m", 4))


@pytest.mark.parametrize("board,arch,code", BOARDS)
def test_build_for_a_board(tmp_path, board, arch, code):
    need("mpy-cross", "micropython")
    out = tmp_path / board
    r = cli("build", board, "--out", out, "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["arch"] == arch and rep["arch_code_checked"] == code  # mpy-cross emitted that arch
    assert rep["small_int_bits"] == 31  # a 32-bit board's small ints
    assert json.loads((out / "build-report.json").read_text())["modules"] == rep["modules"]
    names = [m["module"] for m in rep["modules"]]
    with open(os.path.join(ROOT, "boards", board, "mpdhcp.json")) as f:
        doc = json.load(f)
    fw = os.path.join(ROOT, "firmware", "mpdhcp")
    expect = ["mpdhcp/" + n[:-3] + ".mpy" for n in modules_for(board, fw, doc)
              if n not in NATIVE and not _says_only(os.path.join(fw, n))]
    # a sub-package whose __init__ holds nothing is a namespace package on the board
    assert "mpdhcp/wire/__init__.mpy" not in expect and "mpdhcp/__init__.mpy" in expect
    assert rep["sections"] == ["Dhcp4"] and "mpdhcp/v6/server6.mpy" not in expect  # only what it uses
    assert names == expect and "mpdhcp/platform/netif_lwip.mpy" in names and "mpdhcp/platform/netif_unix.mpy" not in names
    for m in rep["modules"]:
        assert m["mpy_bytes"] > 0 and m["source_bytes"] > m["mpy_bytes"] // 2
        assert header(out / m["module"]) == (6, m["arch_code"], 31)
    assert rep["mpy_total"] == sum(m["mpy_bytes"] for m in rep["modules"])
    assert (out / "main.py").exists() and json.loads((out / "mpdhcp.json").read_text())["Dhcp4"]
    # the viper twins only with --viper, as machine code for the board's arch (mpy-cross -march)
    assert not [m for m in rep["modules"] if m["arch_code"]] and "mpdhcp/wire/buf_viper.mpy" not in names
    r = cli("build", board, "--out", tmp_path / "viper", "--viper", "--json")
    assert r.returncode == 0, r.stderr
    vrep = json.loads(r.stdout)
    native = [m["module"] for m in vrep["modules"] if m["arch_code"]]
    # (a Dhcp4-only config: the DHCPv6 kernels stay home)
    assert native == ["mpdhcp/wire/buf_viper.mpy", "mpdhcp/wire/packet4_viper.mpy"] and all(
        m["arch_code"] == code for m in vrep["modules"] if m["arch_code"])
    # the same modules besides (buf.py and packet4.py then keep the imports of their twins)
    assert [m["module"] for m in vrep["modules"] if not m["arch_code"]] == [m["module"] for m in rep["modules"]]
    # bytecode .mpy is portable: the 64-bit Unix port imports every other module of the build
    # (buf.py then keeps its plain loops: the native twins are not for this machine)
    mods = [n[len("mpdhcp/"):-4].replace("/", ".") for n in names
            if not n.endswith("__init__.mpy") and n not in native]
    code_ = "import mpdhcp\n" + "".join("import mpdhcp.%s\n" % m for m in mods) + "print('imported', %d)" % len(mods)
    p = subprocess.run([micropython(), "-c", code_], capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, MICROPYPATH=str(out)), cwd=str(tmp_path))
    assert p.returncode == 0 and "imported %d" % len(mods) in p.stdout, p.stdout + p.stderr
    r = cli("build", board, "--out", out)  # the human report: one line per module with sizes
    assert "mpdhcp/v4/server4.mpy" in r.stdout and "total" in r.stdout and arch in r.stdout.splitlines()[0]


def test_a_board_gets_the_4o6_module_only_when_its_config_does_4o6():
    fw = os.path.join(ROOT, "firmware", "mpdhcp")
    d6 = {"interfaces-config": {"interfaces": ["ap"]}, "subnet6": []}
    d4 = {"interfaces-config": {"interfaces": ["ap"]}, "subnet4": [{"id": 1, "subnet": "192.168.4.0/24"}]}
    plain = modules_for("esp32", fw, {"Dhcp4": d4, "Dhcp6": d6})
    assert "v6/server6.py" in plain and "v6/ipc4o6.py" not in plain and "wire/addr6.py" in plain
    d4o6 = {"interfaces-config": d4["interfaces-config"],
            "subnet4": [dict(d4["subnet4"][0], **{"4o6-interface": "ap"})]}
    assert "v6/ipc4o6.py" in modules_for("esp32", fw, {"Dhcp4": d4o6, "Dhcp6": d6})  # one process
    assert "v6/ipc4o6.py" in modules_for("esp32", fw, {"Dhcp6": dict(d6, **{"dhcp4o6-port": 6767})})  # Kea's IPC
    v4 = modules_for("esp32", fw, {"Dhcp4": d4})
    assert not [m for m in v4 if m.startswith("v6/") or m in ("wire/addr6.py", "wire/packet6_viper.py")], v4


def test_build_fails_clearly_on_a_syntax_error(tmp_path):
    need("mpy-cross")
    fw = tmp_path / "mpdhcp"
    shutil.copytree(os.path.join(ROOT, "firmware", "mpdhcp"), fw, ignore=shutil.ignore_patterns("__pycache__"))
    with open(fw / "slot.py", "a") as f:
        f.write("\ndef broken(:\n    pass\n")
    r = cli("build", "esp32", "--firmware", fw, "--out", tmp_path / "out")
    assert r.returncode == 1
    assert "slot.py does not compile" in r.stderr and "SyntaxError" in r.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.tmp").exists()


def test_build_rejects_an_unknown_arch(tmp_path):
    r = cli("build", "esp32", "--arch", "z80", "--out", tmp_path / "o")
    assert r.returncode == 1 and "unknown arch" in r.stderr


@pytest.mark.parametrize("board", ("esp32", "picow", "unix"))
def test_config_check_accepts_the_board_configs(board):
    r = cli("config", "check", os.path.join(ROOT, "boards", board, "mpdhcp.json"))
    assert r.returncode == 0, r.stderr
    assert "valid" in r.stdout and "subnet" in r.stdout


def test_config_check_names_the_key_path(tmp_path):
    bad = tmp_path / "bad.json"
    cfg = json.load(open(os.path.join(ROOT, "boards", "esp32", "mpdhcp.json")))
    cfg["Dhcp4"]["subnet4"][1]["pools"][0]["pool"] = "192.168.4.50 - 192.168.4.10"
    bad.write_text(json.dumps(cfg))
    r = cli("config", "check", bad)
    assert r.returncode == 2
    assert "Dhcp4.subnet4[1].pools[0].pool: 192.168.4.50 - 192.168.4.10: range end before start" in r.stderr
    cfg["Dhcp4"]["subnet4"][1]["pools"][0]["pool"] = "192.168.4.10 - 192.168.4.50"
    cfg["Dhcp4"]["valid-lifetim"] = 5
    bad.write_text(json.dumps(cfg))
    r = cli("config", "check", bad)
    assert r.returncode == 2 and "Dhcp4.valid-lifetim: unknown key" in r.stderr
    r = cli("config", "check", tmp_path / "missing.json")
    assert r.returncode == 1 and "cannot read" in r.stderr


def test_every_verb_has_help():
    for verb in (["build"], ["flash"], ["inspect"], ["reserve"], ["release"], ["reconfigure"],
                 ["config", "check"], ["export-kea"], ["leases"], ["leases6"], ["stats"], ["stats6"],
                 ["traceback"]):
        r = cli(*verb, "--help")
        assert r.returncode == 0 and "usage:" in r.stdout, verb
        assert "Exit" in r.stdout, verb  # each verb documents its exit codes


def test_native_build_for_this_machine(tmp_path):
    # `build unix --arch x64 --emit native`: every module machine code but the viper twins
    # (already machine code), each .mpy headed for x64; it serves (mpdhcp imports and parses
    # its config); bytecode needs no --arch, native does
    need("mpy-cross", "micropython")
    from host_tools.build import host_arch

    if host_arch() != "x64":
        pytest.skip("the x64 native emitter is what this test checks")
    out = tmp_path / "nat"
    r = cli("build", "unix", "--arch", "x64", "--emit", "native", "--all-modules", "--out", out, "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["emit"] == "native" and rep["arch_code_checked"] == 2
    emits = {m["module"]: m["emit"] for m in rep["modules"]}
    for twin in ("buf_viper", "packet4_viper", "packet6_viper"):
        assert emits.pop("mpdhcp/wire/%s.mpy" % twin) == "viper"
    assert set(emits.values()) == {"native"}, emits
    assert all(header(str(out / m["module"]))[1] == 2 for m in rep["modules"])
    byte = cli("build", "unix", "--all-modules", "--out", tmp_path / "bc", "--json")
    assert byte.returncode == 0 and rep["mpy_total"] > 2 * json.loads(byte.stdout)["mpy_total"]
    p = subprocess.run([micropython(), "-c", "from mpdhcp.config import load; from mpdhcp.v4.server4 import Server4; "
                        "print(type(load('mpdhcp.json')).__name__)"],
                       cwd=str(out), env=dict(os.environ, MICROPYPATH=str(out) + ":.frozen"),
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout.strip(), p.stdout + p.stderr
    r = cli("build", "unix", "--emit", "native", "--out", tmp_path / "x")
    assert r.returncode == 1 and "--arch" in r.stderr


def test_no_function_imports_relatively_without_its_modules_globals():
    # natively compiled (build --emit native, the bench's build), a function that refers to no
    # global of its module runs with its caller's globals, and a relative import in it then
    # resolves against the caller's package: config.parse_doc, called from a test, imported
    # "config.parser" that way. Such functions import absolutely (from mpdhcp.x import y).
    import ast

    bad = []
    for name in modules_for("unix", os.path.join(ROOT, "firmware", "mpdhcp")):
        path = os.path.join(ROOT, "firmware", "mpdhcp", name)
        with open(path) as f:
            tree = ast.parse(f.read())
        top = set()
        for n in tree.body:
            if isinstance(n, (ast.FunctionDef, ast.ClassDef)):
                top.add(n.name)
            elif isinstance(n, (ast.Import, ast.ImportFrom)):
                top.update((a.asname or a.name).split(".")[0] for a in n.names)
            elif isinstance(n, ast.Assign):
                top.update(x.id for t in n.targets for x in ast.walk(t) if isinstance(x, ast.Name))
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef) and [n for n in ast.walk(fn) if isinstance(n, ast.ImportFrom) and n.level]:
                used = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
                if not used & top:
                    bad.append("%s:%d %s" % (name, fn.lineno, fn.name))
    assert not bad, bad
