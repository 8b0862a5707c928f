# A board's main.py on its fake port (fakeport.py) inside a lab namespace: each linked nic is a
# veth to a client namespace, so real DHCP clients (busybox udhcpc) lease through the board's
# own start-up, NetifLwip and engines, under the rules of the port.
import json
import os
import shutil
import subprocess
import sys
import time

from hostutil import ROOT, cli
from host_tools import lab as L
from host_tools.paths import micropython

HERE = os.path.dirname(os.path.abspath(__file__))
# the Linux side of each board nic: (router interface, its address, the client namespace's)
NICS = {"eth": ("eth0", "192.168.5.1/24"), "ap": ("ap0", "192.168.4.1/24"),
        "sta": ("wan0", "10.99.0.2/24")}
WAN_PEER = "10.99.0.1/24"
# a boot.py that brings the AP up before main.py runs: the firmware's own AP DHCP server then
# holds port 67 before main.py can claim it
AP_UP_EARLY = "import network\nnetwork.WLAN(network.AP_IF).active(True)\n"


def hold_67(addr):
    """A boot.py whose socket holds (addr, 67) while main.py runs."""
    return ("import socket\nheld = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "held.bind((%r, 67))\n" % addr)


def notes(out):
    """The start-up lines printed besides the service's summary."""
    return [x for x in out.splitlines() if x.startswith("mpdhcp:") and not x.startswith("mpdhcp: serving ")]


class BoardLab:
    def __init__(self, lab, board, port, kinds, firmware="stock", settings=None, boot=None):
        self.lab = lab
        self.router = lab.add_host("router")
        self.clients = {}
        links = {}
        for k in kinds:
            ifname, cidr = NICS[k]
            ns = lab.add_host("c" + k)
            lab.link(self.router, ifname, ns, "eth0")
            lab.addr(self.router, ifname, cidr)
            if k == "sta":
                lab.addr(ns, "eth0", WAN_PEER)
            self.clients[k] = ns
            links[k] = ifname + ("=" + cidr if k == "sta" else "")
        self.dir = lab.path("flash-" + board)
        r = cli("build", board, "--arch", "", "--out", self.dir)
        assert r.returncode == 0, r.stdout + r.stderr
        stage(self.dir, settings, boot)
        self.proc = lab.popen(self.router, [micropython(), "runboard.py", port, json.dumps(links), firmware, "60"],
                              log="board-%s.log" % board, cwd=self.dir,
                              env=dict(os.environ, MICROPYPATH=".:.frozen"))
        L.wait_for(lambda: "@@started" in self.output() or self.proc.poll() is not None, 20,
                   what="board start")
        assert self.proc.poll() is None, self.output()

    def output(self):
        return self.lab.read_log(self.proc)

    def report(self):
        """Stop the board; its report (runboard.py) and everything it printed."""
        open(os.path.join(self.dir, "stop"), "w").close()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.lab.stop(self.proc)
        out = self.output()
        line = [x for x in out.splitlines() if x.startswith("@@{")]
        assert line, out
        return json.loads(line[-1][2:]), out

    def wan_discover(self, tries=2):
        """A DHCP client on the WAN side (the ISP's LAN) asks; nobody there answers it."""
        ns = self.clients["sta"]
        r = self.lab.run(ns, ["udhcpc", "-f", "-q", "-n", "-i", "eth0", "-s", "/bin/true",
                              "-t", str(tries), "-T", "1"], timeout=20)
        return r.returncode


def stage(d, settings, boot):
    """Put the fake port and its runner on the flash d, with the site settings (board.json) and
    a boot.py (text: what runs before main.py, e.g. an AP brought up early) when given."""
    for f in ("fakeport.py", "runboard.py"):
        shutil.copy(os.path.join(HERE, f), d)
    if settings is not None:
        with open(os.path.join(d, "board.json"), "w") as f:
            json.dump(settings, f)
    if boot is not None:
        with open(os.path.join(d, "boot.py"), "w") as f:
            f.write(boot)


def run_unlinked(board, port, firmware="stock", settings=None, seconds=0.5, tmp=None, config=None,
                 boot=None):
    """The board's main.py on its fake port with no Linux interfaces under it (no root, no
    packets): (report, output). config: a dict to ship as mpdhcp.json instead of the board's;
    boot: the text of a boot.py run before main.py."""
    os.makedirs(tmp, exist_ok=True)
    d = os.path.join(tmp, "flash-" + board)
    extra = []
    if config is not None:
        extra = ["--config", os.path.join(tmp, "config.json")]
        with open(extra[1], "w") as f:
            json.dump(config, f)
    r = cli("build", board, "--arch", "", "--out", d, *extra)
    assert r.returncode == 0, r.stdout + r.stderr
    stage(d, settings, boot)
    p = subprocess.run([micropython(), "runboard.py", port, "{}", firmware, str(seconds)], cwd=d,
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, MICROPYPATH=".:.frozen"))
    line = [x for x in p.stdout.splitlines() if x.startswith("@@{")]
    assert p.returncode == 0 and line, p.stdout + p.stderr
    return json.loads(line[-1][2:]), p.stdout


def check_config_follows_main(board, served, nics):
    """The board's config names the interfaces main.py serves, each static address inside its
    subnet (no default config that a stock board cannot serve)."""
    with open(os.path.join(ROOT, "boards", board, "mpdhcp.json")) as f:
        cfg = json.load(f)["Dhcp4"]
    assert sorted(cfg["interfaces-config"]["interfaces"]) == sorted(served)
    for s in cfg["subnet4"]:
        net = s["subnet"].rsplit(".", 1)[0]
        assert NICS[s["interface"]][1].startswith(net + ".") and s["interface"] in nics
