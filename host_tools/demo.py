# `demo`: a LAN in network namespaces. A router namespace runs mpdhcp on the Unix port on a
# bridge; three client namespaces run busybox udhcpc, ISC dhclient and dhcpcd; the table of
# leases is read from the running server over its control socket; everything is removed.
import json
import os
import subprocess
import sys
import time

from . import lab as L
from . import output
from .ctl import query
from . import demo6, demo_vboard

LAN = "192.168.77"
CLIENTS = (("udhcpc", "laptop"), ("dhclient", "printer"), ("dhcpcd", "phone"))


def add_parser(sub):
    p = sub.add_parser("demo", help="virtual LAN: mpdhcp serving udhcpc, dhclient and dhcpcd")
    p.add_argument("--keep-log", action="store_true", help="print the whole server log")
    p.set_defaults(func=run)


def config(tmp):
    return {"Dhcp4": {
        "interfaces-config": {"interfaces": ["br0"]},
        "lease-database": {"type": "memfile", "name": os.path.join(tmp, "leases4.jnl")},
        "control-socket": {"socket-type": "unix", "socket-name": os.path.join(tmp, "ctl.sock")},
        "valid-lifetime": 3600, "renew-timer": 1800, "rebind-timer": 3150,
        "subnet4": [{
            "id": 1, "subnet": LAN + ".0/24",
            "pools": [{"pool": LAN + ".100 - " + LAN + ".199"}],
            "option-data": [
                {"name": "routers", "data": LAN + ".1"},
                {"name": "domain-name-servers", "data": LAN + ".1"},
                {"name": "domain-name", "data": "lan"},
            ],
        }],
    }}


def _start_server(lab, ns, cfg_path):
    # the same entry a user runs: python -m host_tools serve CONFIG
    p = lab.popen(ns, [sys.executable, "-m", "host_tools", "serve", cfg_path], log="mpdhcp.log",
                  cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ctl = json.load(open(cfg_path))["Dhcp4"]["control-socket"]["socket-name"]
    L.wait_for(lambda: os.path.exists(ctl) or p.poll() is not None, 10, what="mpdhcp to start")
    if p.poll() is not None:
        raise L.LabError("mpdhcp exited:\n" + lab.read_log(p))
    return p, ctl


WAN = "100.64.0"  # the upstream ("ISP") network: kea-dhcp4 leases the router its WAN address


def wan_config(tmp):
    """The router's own DHCPv4 client on wan0 (the Client4 section of the same config file).
    DNS goes to a resolv.conf in the demo's temp dir, never the host's /etc/resolv.conf."""
    return {"interface": "wan0", "hostname": "mpdhcp-router", "offer-window": 0,
            "lease-file": os.path.join(tmp, "client4.jnl"),
            "resolv-conf": os.path.join(tmp, "router-resolv.conf")}


def _start_isp(lab, router):
    """An upstream namespace running kea-dhcp4 on the router's WAN link."""
    isp = lab.add_host("isp")
    lab.link(isp, "isp0", router, "wan0")
    lab.addr(isp, "isp0", WAN + ".1/24")
    L.kea_dhcp4(lab, isp, ["isp0"], [{
        "subnet": WAN + ".0/24", "pools": [{"pool": WAN + ".100 - " + WAN + ".199"}],
        "option-data": [{"name": "routers", "data": WAN + ".1"},
                        {"name": "domain-name-servers", "data": WAN + ".53"},
                        {"name": "domain-name", "data": "isp.example"}]}], valid_lifetime=600)
    return isp


def _wan_lease(lab, router, tmp):
    """Wait (bounded) for the WAN address on wan0; returns a table row."""
    try:
        addr = L.wait_for(lambda: lab.addrs(router, "wan0"), 20, what="WAN lease on wan0")[0]
    except L.LabError as e:
        return {"interface": "wan0", "address": "FAILED: %s" % e, "default route": "", "dns": ""}
    route = lab.ip(router, "-4", "route", "show", "default").strip()
    try:
        dns = " ".join(l.split()[1] for l in open(os.path.join(tmp, "router-resolv.conf"))
                       if l.startswith("nameserver"))
    except OSError:
        dns = ""
    return {"interface": "wan0", "address": addr, "default route": route, "dns": dns}


def _client(lab, kind, ns, hostname):
    if kind == "udhcpc":
        return L.udhcpc(lab, ns, "eth0", hostname=hostname)
    if kind == "dhclient":
        return L.dhclient(lab, ns, "eth0", hostname=hostname)
    return L.dhcpcd(lab, ns, "eth0", hostname=hostname)


def run(args):
    if not L.is_root():
        print("demo: needs root (it creates network namespaces)")
        return 1
    with L.Lab("demo") as lab:
        router = lab.add_host("router")
        ports = []
        hosts = []
        for i, (kind, name) in enumerate(CLIENTS):
            ns = lab.add_host(name)
            lab.link(router, "p%d" % i, ns, "eth0")
            ports.append("p%d" % i)
            hosts.append((kind, name, ns))
        lab.bridge(router, "br0", ports)
        lab.addr(router, "br0", LAN + ".1/24")
        isp = _start_isp(lab, router)
        doc = config(lab.tmp)
        doc["Client4"] = wan_config(lab.tmp)  # one file: serve the LAN, lease the WAN
        doc["Dhcp6"] = demo6.config(lab.tmp)  # and DHCPv6 on the LAN (demo6.py)
        doc["Client6"] = demo6.client6_config(lab.tmp)  # and a delegated prefix for lan1
        doc["Dhcp4"]["subnet4"].append(demo6.subnet4_4o6())  # served over DHCPv6 on lan46
        pc6, pc46 = demo6.setup(lab, router, isp)
        cfg_path = lab.write("mpdhcp.json", json.dumps(doc, indent=1))
        print("== LAN %s.0/24: router namespace runs mpdhcp (MicroPython Unix port) on br0" % LAN)
        server, ctl = _start_server(lab, router, cfg_path)
        results = []
        for kind, name, ns in hosts:
            t0 = time.monotonic()
            try:
                lease = _client(lab, kind, ns, name)
                results.append((kind, name, lease.get("address"), "%.1f s" % (time.monotonic() - t0)))
            except L.LabError as e:
                results.append((kind, name, "FAILED: %s" % str(e).splitlines()[0], ""))
        print("\n== clients")
        output.show(output.Table(("client", "namespace host", "got", "took"), results))
        leases = query(ctl, "lease4-get-all")["arguments"]["leases"]
        macs = {}
        for kind, name, ns in hosts:
            macs[lab.mac(ns, "eth0")] = kind
        rows = []
        for l in leases:
            rows.append({"client": macs.get(l["hw-address"], "?"), "mac": l["hw-address"],
                         "address": l["ip-address"], "hostname": l["hostname"], "state": l["state"],
                         "expires in": "%d s" % l["expires-in"]})
        print("\n== leases, read from the running server (control socket lease4-get-all)")
        output.show(output.Table(("client", "mac", "address", "hostname", "state", "expires in"), rows))
        ok6 = demo6.show(lab, ctl, hosts)
        ok6 = demo6.show_router_mode(lab, lambda: lab.read_log(server), pc6) and ok6
        ok6 = demo6.show_4o6(lab, pc46, lambda ns, cfg, log: lab.popen(
            ns, [sys.executable, "-m", "host_tools", "serve", cfg], log=log,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))) and ok6
        st = query(ctl, "statistic-get-all")["arguments"]
        wan = _wan_lease(lab, router, lab.tmp)
        print("\n== router WAN: its own DHCPv4 client (Client4 section) leased from kea-dhcp4 in the isp namespace")
        output.show(output.Table(("interface", "address", "default route", "dns"), [wan]))
        print("\n== server counters: rx %(rx)d, tx %(tx)d, acks %(ack)d, naks %(nak)d, dropped malformed "
              "%(dropped_malformed)d, journal %(journal_bytes_written)d bytes in %(journal_commits)d commits" % st)
        server.send_signal(15)  # SIGTERM to `serve`: it stops the firmware cleanly
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            lab.stop(server)
        log = lab.read_log(server)
        lines = log.strip().splitlines()
        print("\n== server log (%d lines)" % len(lines))
        if not args.keep_log and len(lines) > 14:
            lines = lines[:11] + ["..."] + lines[-2:]
        print("\n".join(lines))
        ok = all(r[2] and not str(r[2]).startswith("FAILED") for r in results) and len(rows) >= len(hosts)
        ok = ok and not wan["address"].startswith("FAILED")
        ok = ok and ok6
    ok = demo_vboard.show() and ok
    print("\n== removed the namespaces and files; demo %s" % ("OK" if ok else "FAILED"))
    return 0 if ok else 1
