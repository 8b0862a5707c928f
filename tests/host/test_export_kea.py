# export-kea: mpdhcp (Unix port, `host_tools serve`) leases two clients; its config and lease
# journal are exported; `kea-dhcp4 -t` accepts the config; kea-dhcp4 started on the exported
# lease file gives the second client (same MAC) its address back. Without the leases Kea would
# hand that client the pool's first address, which the first client holds.
import csv
import json
import os
import sys
import subprocess

from hostutil import ROOT, need, cli
from host_tools import lab as L
from host_tools.export_kea import LEASE4_HEADER, EPOCH_2000

LAN = "192.168.81"


def _config(lab):
    return {"Dhcp4": {
        "interfaces-config": {"interfaces": ["br0"]},
        "lease-database": {"type": "memfile", "name": lab.path("leases4.jnl")},
        "control-socket": {"socket-type": "unix", "socket-name": lab.path("ctl.sock")},
        "valid-lifetime": 3600, "renew-timer": 1800, "rebind-timer": 3150,
        "subnet4": [{"id": 7, "subnet": LAN + ".0/24", "interface": "br0",
                     "pools": [{"pool": LAN + ".100 - " + LAN + ".110"}],
                     "option-data": [{"name": "routers", "data": LAN + ".1"}]}],
    }}


def test_export_kea_hands_clients_their_addresses(tmp_path):
    need("ip", "udhcpc", "kea-dhcp4", "micropython", root=True)
    with L.Lab("hkea") as lab:
        router = lab.add_host("router")
        cl = []
        for i in range(2):
            ns = lab.add_host("c%d" % i)
            lab.link(router, "p%d" % i, ns, "eth0")
            cl.append(ns)
        lab.bridge(router, "br0", ["p0", "p1"])
        lab.addr(router, "br0", LAN + ".1/24")
        conf = lab.write("mpdhcp.json", json.dumps(_config(lab)))
        srv = lab.popen(router, [sys.executable, "-m", "host_tools", "serve", conf], log="mpdhcp.log", cwd=ROOT)
        L.wait_for(lambda: os.path.exists(lab.path("ctl.sock")) or srv.poll() is not None, 10, what="mpdhcp up")
        a = L.udhcpc(lab, cl[0], "eth0", hostname="first")["address"]
        b = L.udhcpc(lab, cl[1], "eth0", hostname="second")["address"]
        assert (a, b) == (LAN + ".100", LAN + ".101")
        srv.send_signal(15)
        srv.wait(10)

        out = tmp_path / "kea"
        r = cli("export-kea", "--config", conf, "--leases", lab.path("leases4.jnl"), "--out", out)
        assert r.returncode == 0, r.stderr
        rows = list(csv.reader(open(out / "kea-leases4.csv")))
        assert tuple(rows[0]) == LEASE4_HEADER
        by_ip = {x[0]: dict(zip(rows[0], x)) for x in rows[1:]}
        assert by_ip[b]["hwaddr"] == lab.mac(cl[1], "eth0") and by_ip[b]["hostname"] == "second"
        assert by_ip[b]["subnet_id"] == "7" and by_ip[b]["state"] == "0" and by_ip[b]["valid_lifetime"] == "3600"
        import time

        exp = int(by_ip[b]["expire"])  # unix time: engine clock + 946684800
        assert 3500 < exp - time.time() <= 3600 and exp > EPOCH_2000 + 10 ** 8
        kconf = json.load(open(out / "kea-dhcp4.json"))
        kconf["Dhcp4"]["control-socket"]["socket-name"] = lab.path("kea.sock")
        kconf["Dhcp4"]["lease-database"]["lfc-interval"] = 0
        kconf["Dhcp4"]["loggers"] = [{"name": "kea-dhcp4", "severity": "INFO",
                                      "output_options": [{"output": lab.path("kea4.log")}]}]
        kpath = lab.write("kea4.json", json.dumps(kconf))
        env = dict(os.environ, KEA_PIDFILE_DIR=lab.tmp, KEA_LOCKFILE_DIR=lab.tmp)
        t = lab.run(router, ["kea-dhcp4", "-t", out / "kea-dhcp4.json"], env=env, timeout=20)
        assert t.returncode == 0, t.stdout + t.stderr  # the config exactly as exported
        kea = lab.popen(router, ["kea-dhcp4", "-c", kpath], env=env, log="kea.out")
        L.wait_for(lambda: kea.poll() is not None or L._udp_bound(lab, router, 67), 10, what="kea up")
        assert kea.poll() is None, lab.read_log(kea)
        again = L.udhcpc(lab, cl[1], "eth0", hostname="second")
        assert again["address"] == b, open(lab.path("kea4.log")).read()[-2000:]
