# The virtual board (host_tools/vboard.py) driven by the commands a person types: `board start`,
# `build`, `flash`, a real udhcpc in the client namespace, `inspect`, `board stop`; and
# `mpremote mip install` from the checkout. Each test's boards live in their own runtime dir
# and namespaces, removed at the end even when the test fails.
import json
import os
import re
import secrets
import signal
import subprocess

import pytest

from hostutil import ROOT, need, cli
from host_tools import lab as L
from host_tools.build import firmware_modules
from host_tools.device import mpremote
from host_tools.vboard import running


class Boards:
    """cli() against a private runtime dir; what start made is undone at the end."""

    def __init__(self, tmp):
        self.env = {"MPDHCP_VBOARD_DIR": str(tmp / "vboard")}
        self.tmp = tmp
        self.namespaces = []

    def cli(self, *args, timeout=120):
        return cli(*args, timeout=timeout, env=self.env)

    def start(self, *args, netns=True):
        ns = "vbt%s" % secrets.token_hex(3) if netns else None
        if ns:
            self.namespaces += [ns, ns + "-client"]
        r = self.cli("board", "start", "--json", *((("--netns", ns) if ns else ()) + args), timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        return json.loads(r.stdout)

    def status(self):
        r = self.cli("board", "status", "--json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def close(self):
        self.cli("board", "stop", timeout=60)
        for ns in self.namespaces:  # a stop that failed must not leave namespaces behind
            if L.ns_exists(ns) or os.path.exists(os.path.join(L.NETNS_ETC, ns)):
                L.del_ns(ns)


@pytest.fixture
def boards(tmp_path):
    b = Boards(tmp_path)
    try:
        yield b
    finally:
        b.close()


def mp(port, *args, timeout=120):
    """mpremote connect PORT ARGS, as a person types it (no `resume` unless given)."""
    r = subprocess.run([mpremote(), "connect", port] + list(args), cwd=ROOT, capture_output=True, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def udhcpc(client, hostname):
    """The README's client: busybox udhcpc with its default script (it configures eth0 and
    writes the namespace's own resolv.conf). Returns its output."""
    r = subprocess.run(["ip", "netns", "exec", client, "udhcpc", "-i", "eth0", "-f", "-q", "-n", "-t", "3",
                        "-T", "2", "-x", "hostname:" + hostname], capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0 and "obtained" in r.stderr + r.stdout, r.stdout + r.stderr
    return r.stderr + r.stdout


def gone(st):
    return not any(L.ns_exists(n) or os.path.exists(os.path.join(L.NETNS_ETC, n)) for n in st["made"]) \
        and not os.path.lexists(st["port"])


def test_start_flash_lease_inspect_stop(boards, tmp_path):
    need("ip", "udhcpc", "mpremote", "mpy-cross", root=True)
    with open(L.HOST_RESOLV) as f:
        host_resolv = f.read()
    st = boards.start()
    port = st["port"]
    assert os.path.exists(port) and st["made"] == [st["netns"], st["client"]]
    assert [(b["name"], b["running"]) for b in boards.status()] == [(st["name"], True)]
    with open(os.path.join(L.NETNS_ETC, st["netns"], "resolv.conf")) as f:
        assert "virtual board" in f.read()
    r = boards.cli("build", "unix", "--out", tmp_path / "build-unix")
    assert r.returncode == 0, r.stderr
    r = boards.cli("flash", "unix", "--port", port, "--build", tmp_path / "build-unix")
    assert r.returncode == 0, r.stdout + r.stderr
    for f in json.load(open(tmp_path / "build-unix" / "build-report.json"))["files"]:  # on the board's flash
        with open(tmp_path / "build-unix" / f["path"], "rb") as a, open(os.path.join(st["flash"], f["path"]), "rb") as b:
            assert a.read() == b.read(), f["path"]
    out = udhcpc(st["client"], "laptop")
    assert "192.168.77.1" in out
    mac = _mac(st["client"])
    r = boards.cli("inspect", "--port", port, "leases", "--json")
    assert r.returncode == 0, r.stderr
    mine = [x for x in json.loads(r.stdout) if x["hw-address"] == mac]
    assert mine and mine[0]["state"] == "bound" and mine[0]["hostname"] == "laptop", r.stdout
    r = boards.cli("inspect", "--port", port, "leases")
    assert r.stdout.splitlines()[0].split()[:3] == ["proto", "client", "address"] and "laptop" in r.stdout
    assert mine[0]["ip-address"] + "/24" in subprocess.run(["ip", "-n", st["client"], "-4", "addr"],
                                                           capture_output=True, text=True).stdout
    with open(os.path.join(L.NETNS_ETC, st["client"], "resolv.conf")) as f:
        assert "nameserver 192.168.77.1" in f.read()  # the client's own file, never the host's
    r = boards.cli("board", "stop", "--port", port)
    assert r.returncode == 0 and "namespace %s" % st["netns"] in r.stdout, r.stdout + r.stderr
    assert gone(st) and boards.status() == [] and not running(st)
    with open(L.HOST_RESOLV) as f:
        assert f.read() == host_resolv


def _mac(ns):
    out = subprocess.run(["ip", "-n", ns, "-o", "link", "show", "eth0"], capture_output=True, text=True).stdout
    return re.search(r"link/ether ([0-9a-f:]{17})", out).group(1)


def test_stop_cleans_up_after_the_board_crashed(boards):
    need("ip", "mpremote", root=True)
    st = boards.start()
    # something of the user's in the client namespace keeps it busy
    sleeper = subprocess.Popen(["ip", "netns", "exec", st["client"], "sleep", "300"], start_new_session=True,
                               stdin=subprocess.DEVNULL)
    os.killpg(st["pid"], signal.SIGKILL)  # the board process and the Unix port under it
    L.wait_for(lambda: not [b for b in boards.status() if b["running"]], 10, what="the board to end")
    r = boards.cli("board", "status")
    assert "ended (`board stop --name %s` cleans up)" % st["name"] in r.stdout, r.stdout
    r = boards.cli("board", "start", "--netns", st["netns"], "--name", st["name"])
    assert r.returncode == 2 and "board stop --name" in r.stderr  # the left-overs are not taken over
    r = boards.cli("board", "stop", "--name", st["name"])
    assert r.returncode == 0, r.stderr
    assert gone(st) and boards.status() == []
    assert sleeper.wait(10) is not None


def test_start_leaves_an_existing_namespace_alone(boards):
    need("ip", root=True)
    ns = "vbt%s" % secrets.token_hex(3)
    boards.namespaces.append(ns)
    L.make_ns(ns, "test")
    r = boards.cli("board", "start", "--netns", ns)
    assert r.returncode == 2 and "exists already" in r.stderr, r.stdout + r.stderr
    assert L.ns_exists(ns) and boards.status() == [] and not L.ns_exists(ns + "-client")


def test_soft_reset_power_cycle_and_flash_as_on_a_board(boards):
    need("mpremote")
    st = boards.start(netns=False)
    port, flash = st["port"], st["flash"]
    mp(port, "resume", "exec", "x = 1")
    assert mp(port, "resume", "exec", "print('x' in globals())").strip() == "True"
    assert mp(port, "exec", "print('x' in globals())").strip() == "False"  # mpremote's soft reset
    mp(port, "exec", "import os\nwith open('/written', 'w') as f:\n    f.write('on the board')\nprint(os.listdir('/'))")
    assert open(os.path.join(flash, "written")).read() == "on the board"  # "/" is the flash folder
    assert not os.path.exists("/written")
    src = os.path.join(str(boards.tmp), "main.py")
    with open(src, "w") as f:
        f.write("with open('booted', 'a') as f:\n    f.write('boot\\n')\n")
    mp(port, "fs", "cp", src, ":main.py")
    r = boards.cli("board", "start", "--name", st["name"])
    assert r.returncode == 2 and "running" in r.stderr  # one board per name
    assert boards.cli("board", "stop", "--name", st["name"]).returncode == 0
    assert not os.path.exists(os.path.join(flash, "booted"))
    boards.start("--name", st["name"], netns=False)  # power on: main.py runs, the flash kept
    assert open(os.path.join(flash, "booted")).read() == "boot\n"
    assert "main.py" in mp(port, "fs", "ls")
    assert boards.status()[0]["running"]


def test_mip_install_from_the_checkout(boards):
    need("ip", "udhcpc", "mpremote", root=True)
    st = boards.start()
    port = st["port"]
    out = mp(port, "mip", "install", "./package.json", timeout=240)  # into /lib, as a board's
    assert "Installing: /lib/mpdhcp/v4/server4.py" in out and out.rstrip().endswith("Done"), out
    out = mp(port, "mip", "install", "--target", "/", "./boards/unix/package.json")
    assert "main.py" in out and "mpdhcp.json" in out, out
    lib = os.path.join(st["flash"], "lib", "mpdhcp")
    installed = sorted(os.path.relpath(os.path.join(d, f), lib) for d, _, fs in os.walk(lib) for f in fs)
    assert installed == firmware_modules()
    got = mp(port, "resume", "exec", "import mpdhcp\nfrom mpdhcp import config\n"
             "print(mpdhcp.__file__, sorted(config.load('mpdhcp.json')))")
    assert got.split() == ["/lib/mpdhcp/__init__.py", "['Dhcp4']"], got
    # a power cycle: main.py starts the service from what mip installed
    assert boards.cli("board", "stop", "--port", port).returncode == 0
    st = boards.start("--name", st["name"])
    udhcpc(st["client"], "phone")
    r = boards.cli("inspect", "--port", port, "leases", "--json")
    assert r.returncode == 0, r.stderr
    assert [x["hostname"] for x in json.loads(r.stdout) if x["state"] == "bound"] == ["phone"], r.stdout


def test_package_json_lists_every_firmware_module():
    r = cli("package", "--check")
    assert r.returncode == 0, r.stderr
    with open(os.path.join(ROOT, "package.json")) as f:
        doc = json.load(f)
    assert doc["urls"] == [["mpdhcp/" + m, "firmware/mpdhcp/" + m] for m in firmware_modules()]
    for board in ("esp32", "picow", "unix"):
        with open(os.path.join(ROOT, "boards", board, "package.json")) as f:
            urls = json.load(f)["urls"]
        assert [d for d, _ in urls] == ["main.py", "mpdhcp.json"]
        assert all(os.path.exists(os.path.join(ROOT, "boards", board, s)) for _, s in urls)
