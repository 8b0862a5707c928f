"""Our DHCPv4 client (the Client4 section, mpdhcp on the MicroPython Unix port started with
`python -m host_tools serve`) against real DHCPv4 servers, each in namespaces the test makes.

The lease must land on the interface: checked with `ip addr` / `ip route` in the client's
namespace. DNS goes to a resolv.conf inside lab.tmp (config key resolv-conf), never the
host's /etc/resolv.conf. Needs root + the Debian peers + the Unix port; otherwise skipped.
Every wait is bounded; every Lab removes its namespaces and processes even on failure.
"""
import os
import re

import pytest

from peerutil import require
import lab as L
import mpdhcp_lab as M

POOL = ("192.168.77.100", "192.168.77.150")


def _need_micropython():
    if not M.micropython_path():
        pytest.skip("micropython (the Unix port) not found: run `make venv`")


class Client(M.ServedClient):
    """mpdhcp with only a Client4 section, running in ns."""

    def __init__(self, lab, ns, ifname="c0", name="client4", **cfg):
        self.ifname = ifname
        self.resolv = lab.path(name + "-resolv.conf")
        c = {"interface": ifname, "hostname": "wan-router", "lease-file": lab.path(name + ".jnl"),
             "offer-window": 0, "resolv-conf": self.resolv}
        c.update(cfg)
        M.ServedClient.__init__(self, lab, ns, name, "Client4", c)

    def bound(self, timeout=20, after=0):
        """Wait for the lease to be applied; returns (line index, address, prefix)."""
        i, m = self.wait(r"BOUND (\d+\.\d+\.\d+\.\d+)/(\d+) .*applied", timeout, after)
        return i, m.group(1), int(m.group(2))


def _lan(lab):
    _need_micropython()
    srv, cli = lab.add_host("srv"), lab.add_host("cli")
    lab.link(srv, "s0", cli, "c0")
    lab.addr(srv, "s0", "192.168.77.1/24")
    return srv, cli


def _on_interface(lab, ns, ifname, addr, prefix, router="192.168.77.1"):
    """The lease is on the interface: address/prefix, and the default route via the router."""
    assert "%s/%d" % (addr, prefix) in lab.addrs(ns, ifname), lab.ip(ns, "-4", "addr")
    routes = lab.ip(ns, "-4", "route", "show", "dev", ifname)
    if router:
        assert re.search(r"^default via %s " % re.escape(router), routes, re.M), routes


def _in(addr, first, last):
    n = lambda a: tuple(int(x) for x in a.split("."))
    return n(first) <= n(addr) <= n(last)


def _kea_subnet(first=POOL[0], last=POOL[1]):
    return {"subnet": "192.168.77.0/24", "pools": [{"pool": "%s - %s" % (first, last)}],
            "option-data": [{"name": "routers", "data": "192.168.77.1"},
                            {"name": "domain-name-servers", "data": "192.168.77.53"},
                            {"name": "domain-name", "data": "wan.example"}]}


def _dhcpd(lab, ns, ifname, first=POOL[0], last=POOL[1]):
    conf = lab.write("dhcpd.conf", (
        "authoritative;\nping-check false;\ndefault-lease-time 3600;\nmax-lease-time 3600;\n"
        "subnet 192.168.77.0 netmask 255.255.255.0 {\n  range %s %s;\n"
        "  option routers 192.168.77.1;\n  option domain-name-servers 192.168.77.53;\n"
        "  option domain-name \"wan.example\";\n}\n") % (first, last))
    leases = lab.write("dhcpd.leases", "")
    p = lab.popen(ns, ["dhcpd", "-4", "-f", "-d", "-cf", conf, "-lf", leases,
                       "-pf", lab.path("dhcpd.pid"), ifname], log="dhcpd.log")
    L.wait_for(lambda: p.poll() is not None or "Sending on" in lab.read_log(p), 10, what="dhcpd up")
    if p.poll() is not None:
        raise L.LabError("dhcpd exited: " + lab.read_log(p))
    return p


def _udhcpd(lab, ns, ifname, first=POOL[0], last=POOL[1]):
    conf = lab.write("udhcpd.conf", (
        "start %s\nend %s\ninterface %s\nlease_file %s\npidfile %s\n"
        "option subnet 255.255.255.0\noption router 192.168.77.1\noption dns 192.168.77.53\n"
        "option domain wan.example\noption lease 3600\n") % (
        first, last, ifname, lab.path("udhcpd.leases"), lab.path("udhcpd.pid")))
    p = lab.popen(ns, ["udhcpd", "-f", "-a", "0", conf], log="udhcpd.log")
    L.wait_for(lambda: p.poll() is not None or L._udp_bound(lab, ns, 67), 10, what="udhcpd up")
    if p.poll() is not None:
        raise L.LabError("udhcpd exited: " + lab.read_log(p))
    return p


def _start_server(lab, kind, ns):
    if kind == "kea-dhcp4":
        return L.kea_dhcp4(lab, ns, ["s0"], [_kea_subnet()])
    if kind == "dhcpd":
        return _dhcpd(lab, ns, "s0")
    if kind == "dnsmasq":
        return L.dnsmasq(lab, ns, "s0", POOL[0], POOL[1], extra=[
            "--dhcp-option=option:dns-server,192.168.77.53", "--domain=wan.example"])
    if kind == "udhcpd":
        return _udhcpd(lab, ns, "s0")
    return M.MpdhcpServer(lab, ns, M.lan_config(lab))


# -- 1. a lease from each server lands on the interface -----------------------------------------
@pytest.mark.parametrize("kind", ["kea-dhcp4", "dhcpd", "dnsmasq", "udhcpd", "mpdhcp"])
def test_lease_from_real_server_lands_on_interface(lab, kind):
    require({"kea-dhcp4": "kea-dhcp4", "dhcpd": "dhcpd", "dnsmasq": "dnsmasq", "udhcpd": "udhcpd",
             "mpdhcp": "ip"}[kind])
    srv, cli = _lan(lab)
    cap = L.capture(lab, srv, "s0")
    _start_server(lab, kind, srv)
    c = Client(lab, cli).start()
    _, addr, prefix = c.bound()
    assert _in(addr, *POOL) and prefix == 24
    _on_interface(lab, cli, "c0", addr, prefix)
    with open(c.resolv) as f:
        text = f.read()
    assert re.search(r"^nameserver 192\.168\.77\.(53|1)$", text, re.M), text
    # what went on the wire: DISCOVER with our identity, REQUEST with the server id
    disc = cap.wait(lambda p: not p["out"] and p["name"] == "DISCOVER", what="DISCOVER")
    assert disc["hostname"] == "wan-router" and {12, 55, 60, 61}.issubset(disc["options"])
    assert disc["flags"] & 0x8000 and disc["dst"] == "255.255.255.255"
    req = cap.wait(lambda p: not p["out"] and p["name"] == "REQUEST", what="REQUEST")
    assert req["server_id"] == "192.168.77.1" and req["requested_ip"] == addr
    c.stop()  # graceful: RELEASE, address removed
    cap.wait(lambda p: not p["out"] and p["name"] == "RELEASE" and p["ciaddr"] == addr, what="RELEASE")
    assert lab.addrs(cli, "c0") == []


# -- 2. two servers on one LAN: one selected, the other records no lease ---------------------------
def test_two_servers_one_selected(lab):
    require("kea-dhcp4", "dnsmasq")
    _need_micropython()
    sw, a, b, cli = (lab.add_host(n) for n in ("sw", "kea", "dnsm", "cli"))
    lab.link(a, "s0", sw, "p0")
    lab.link(b, "s0", sw, "p1")
    lab.link(cli, "c0", sw, "p2")
    lab.bridge(sw, "br0", ["p0", "p1", "p2"])
    lab.addr(a, "s0", "192.168.77.1/24")
    lab.addr(b, "s0", "192.168.77.2/24")
    cap = L.capture(lab, cli, "c0")
    L.kea_dhcp4(lab, a, ["s0"], [_kea_subnet("192.168.77.100", "192.168.77.150")])
    dm = L.dnsmasq(lab, b, "s0", "192.168.77.200", "192.168.77.250",
                   extra=["--dhcp-option=option:router,192.168.77.1"])
    c = Client(lab, cli, **{"offer-window": 2}).start()
    _, addr, prefix = c.bound()
    offers = [p for p in cap.packets("OFFER") if not p["out"]]
    assert {p["server_id"] for p in offers} == {"192.168.77.1", "192.168.77.2"}, offers
    req = cap.wait(lambda p: p["out"] and p["name"] == "REQUEST", what="REQUEST")
    chosen = req["server_id"]
    # the first offer wins (no remembered address): check against the capture order
    first = min(offers, key=lambda p: p["t"])
    assert chosen == first["server_id"] and addr == first["yiaddr"]
    _on_interface(lab, cli, "c0", addr, prefix)
    acks = [p for p in cap.packets("ACK") if not p["out"]]
    assert {p["server_id"] for p in acks} == {chosen}
    kea_file = lab.path("kea-leases4.csv")
    dm_file = lab.path("dnsmasq-s0.leases")
    kea_has = os.path.exists(kea_file) and addr in open(kea_file).read()
    dm_has = os.path.exists(dm_file) and open(dm_file).read().strip() != ""
    if chosen == "192.168.77.1":
        assert kea_has and not dm_has
    else:
        kea_rows = open(kea_file).read().strip().splitlines()[1:] if os.path.exists(kea_file) else []
        assert dm_has and not kea_rows, kea_rows
    c.stop()


# -- 3. T1 renew, T2 rebind with the server gone, removal at expiry -----------------------------------
def test_renew_at_t1_rebind_at_t2_removed_at_expiry(lab):
    require("kea-dhcp4")
    srv, cli = _lan(lab)
    cap = L.capture(lab, srv, "s0")
    kea = L.kea_dhcp4(lab, srv, ["s0"], [_kea_subnet()], valid_lifetime=12,
                      extra={"renew-timer": 4, "rebind-timer": 8})
    c = Client(lab, cli).start()
    i, addr, prefix = c.bound()
    _on_interface(lab, cli, "c0", addr, prefix)
    # RENEWING at T1: unicast REQUEST from ciaddr, ACKed
    j, _ = c.wait(r"BOUND -> RENEWING", 10, i)
    req = cap.wait(lambda p: not p["out"] and p["name"] == "REQUEST" and p["ciaddr"] == addr,
                   what="renewing REQUEST")
    assert req["dst"] == "192.168.77.1" and req["src"] == addr and req["server_id"] is None
    bound_req = cap.packets("REQUEST")[0]
    assert 3.0 <= req["t"] - bound_req["t"] <= 6.0, (req["t"] - bound_req["t"])
    cap.wait(lambda p: p["out"] and p["name"] == "ACK" and p["xid"] == req["xid"], what="renew ACK")
    j, _ = c.wait(r"RENEWING -> BOUND", 5, j)
    lab.stop(kea)  # the server goes away
    t_renewed = req["t"]
    # REBINDING at T2 (8 s after the renewal): broadcast REQUEST with ciaddr
    j, _ = c.wait(r"RENEWING -> REBINDING", 15, j)
    reb = cap.wait(lambda p: not p["out"] and p["name"] == "REQUEST" and p["dst"] == "255.255.255.255"
                   and p["ciaddr"] == addr, what="rebinding REQUEST")
    assert 7.0 <= reb["t"] - t_renewed <= 10.0, reb["t"] - t_renewed
    assert "%s/%d" % (addr, prefix) in lab.addrs(cli, "c0")  # still ours until expiry
    # expiry (12 s after the renewal): the address and its routes leave the interface
    c.wait(r"removed %s/24" % re.escape(addr), 10, j)
    assert lab.addrs(cli, "c0") == []
    assert "default" not in lab.ip(cli, "-4", "route")
    c.wait(r"-> SELECTING", 5, j)  # and it starts over
    c.stop()


# -- 4. restart with a remembered lease: INIT-REBOOT; a server that lost it NAKs ----------------------
def test_init_reboot_same_address_then_nak_from_server_that_lost_it(lab):
    require("kea-dhcp4")
    srv, cli = _lan(lab)
    cap = L.capture(lab, srv, "s0")
    subnet = _kea_subnet()
    kea = L.kea_dhcp4(lab, srv, ["s0"], [subnet], extra={"authoritative": True})
    c = Client(lab, cli, **{"release-on-shutdown": False}).start()
    _, addr, prefix = c.bound()
    c.stop()  # graceful, but keeps the lease (journal and interface)
    assert "%s/%d" % (addr, prefix) in lab.addrs(cli, "c0")
    n0 = len(cap.packets())
    c.start()
    _, addr2, _ = c.bound()
    assert addr2 == addr
    lines = c.lines()
    assert any("INIT-REBOOT -> REBOOTING" in l for l in lines), lines
    assert not any("DISCOVER" in l for l in lines), lines
    req = [p for p in cap.packets()[n0:] if not p["out"] and p["name"] == "REQUEST"][0]
    assert req["requested_ip"] == addr and req["server_id"] is None and req["ciaddr"] == "0.0.0.0"
    c.stop()
    # the server loses every lease (fresh lease file) and its pool moved: it NAKs
    lab.stop(kea)
    os.unlink(lab.path("kea-leases4.csv"))
    kea = L.kea_dhcp4(lab, srv, ["s0"], [_kea_subnet("192.168.77.160", "192.168.77.190")],
                      extra={"authoritative": True})
    n0 = len(cap.packets())
    c.start()
    _, addr3, prefix3 = c.bound()
    new = cap.packets()[n0:]
    names = [p["name"] for p in new]
    assert "NAK" in names and names.index("NAK") < names.index("DISCOVER"), names
    assert _in(addr3, "192.168.77.160", "192.168.77.190")
    lines = c.lines()
    assert any(l.startswith("client4: NAK>") for l in lines), lines
    assert any("REBOOTING -> SELECTING" in l for l in lines), lines  # via INIT, in one step
    assert lab.addrs(cli, "c0") == ["%s/%d" % (addr3, prefix3)]  # the old address is gone
    c.stop()


# -- 5. the address is in use: ARP probe answers, DECLINE, next address -------------------------------
def test_address_in_use_is_declined(lab):
    if not (L.have("arping") or L.have("busybox")):
        pytest.skip("no arping (iputils or busybox) for the ARP probe")
    srv, cli = _lan(lab)
    lab.addr(srv, "s0", "192.168.77.100/24")  # someone (the server host) already uses .100
    cap = L.capture(lab, srv, "s0")
    server = M.MpdhcpServer(lab, srv, M.lan_config(lab))
    c = Client(lab, cli).start()
    c.wait(r"192\.168\.77\.100 is in use", 20)
    dec = cap.wait(lambda p: not p["out"] and p["name"] == "DECLINE", what="DECLINE")
    assert dec["requested_ip"] == "192.168.77.100" and dec["server_id"] == "192.168.77.1"
    _, addr, prefix = c.bound(30)
    assert addr != "192.168.77.100"
    disc = [p for p in cap.packets("DISCOVER") if not p["out"] and p["t"] > dec["t"]][0]
    assert disc["t"] - dec["t"] >= 9.0  # RFC 2131 3.1.5: at least 10 s before starting again
    _on_interface(lab, cli, "c0", addr, prefix)
    assert server.query("statistic-get-all")["arguments"]["decline"] == 1
    c.stop()
