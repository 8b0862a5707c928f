"""Verify tests/lab.py helpers against real third-party servers (dnsmasq, kea-dhcp4).

Each test builds its own namespaces and removes them. Needs root + the Debian peers
(`make peers`); otherwise the tests are skipped.
"""
import os
import subprocess

import pytest

from peerutil import require
import lab as L


def _lan(lab, server="dnsmasq", **kw):
    srv = lab.add_host("srv")
    cli = lab.add_host("cli")
    lab.link(srv, "s0", cli, "c0")
    lab.addr(srv, "s0", "192.168.77.1/24")
    cap = L.capture(lab, srv, "s0")
    if server == "dnsmasq":
        L.dnsmasq(lab, srv, "s0", extra=["--dhcp-option=6,192.168.77.53"] + kw.get("extra", []))
    return srv, cli, cap


def _from_client(cap, name):
    return [p for p in cap.packets(name) if not p["out"]]


def test_parse_perfdhcp_sample():
    text = """Running: perfdhcp -4 -l c0 -r 200 -R 1000000 -n 300 -p 5
Scenario: basic.
***Rate statistics***
Rate: 199.073 4-way exchanges/second, expected rate: 200

***Malformed Packets***
Malformed packets: 0
***Statistics for: DISCOVER-OFFER***
sent packets: 300
received packets: 299
drops: 1
drops ratio: 0.333333 %
orphans: 0
rejected leases: 0
non unique addresses: 0

min delay: 0.256 ms
avg delay: 0.523 ms
max delay: 1.156 ms
std deviation: 0.160 ms
collected packets: 0

***Statistics for: REQUEST-ACK***
sent packets: 299
received packets: 298
drops: 1
drops ratio: 0.334 %
orphans: 0
rejected leases: 0
non unique addresses: 0
"""
    r = L.parse_perfdhcp(text)
    assert r["rate"] == pytest.approx(199.073) and r["expected_rate"] == 200
    assert r["malformed"] == 0
    assert r["sent"] == {"DISCOVER": 300, "REQUEST": 299}
    assert r["received"] == {"OFFER": 299, "ACK": 298}
    assert r["drops"] == 2
    assert r["exchanges"]["DISCOVER-OFFER"]["drops_ratio"] == pytest.approx(0.333333)
    assert r["exchanges"]["DISCOVER-OFFER"]["avg_delay"] == pytest.approx(0.523)
    assert r["loss"] == pytest.approx(1 - 298 / 300)


def test_lab_cleanup():
    require("ip", "sleep")
    with L.Lab("t") as lab:
        a, b = lab.add_host("a"), lab.add_host("b")
        lab.link(a, "a0", b, "b0")
        lab.addr(a, "a0", "10.9.0.1/24")
        lab.addr(b, "b0", "10.9.0.2/24")
        assert lab.addrs(b, "b0") == ["10.9.0.2/24"] and lab.mac(a, "a0")
        lab.popen(a, ["sleep", "300"])
        # a process escaping the tracked group (setsid + background) is still found
        lab.run(b, ["sh", "-c", "setsid sleep 300 >/dev/null 2>&1 &"])
        tmp = lab.tmp
        names = (a, b)
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not any(n in out for n in names)
    assert not os.path.exists(tmp)


def test_udhcpc_oneshot_and_release(lab):
    require("dnsmasq", "udhcpc")
    srv, cli, cap = _lan(lab)
    lease = L.udhcpc(lab, cli, "c0", hostname="bbox")
    assert lease["address"].startswith("192.168.77.")
    assert lease["router"] == "192.168.77.1"  # dnsmasq's default router = itself
    assert lease["dns"] == ["192.168.77.53"]
    assert lease["server_id"] == "192.168.77.1" and lease["lease_time"] == 3600
    assert lease["subnet_mask"] == "255.255.255.0"
    assert _from_client(cap, "DISCOVER")[0]["hostname"] == "bbox"
    rel = L.udhcpc(lab, cli, "c0", release=True)
    assert rel["released"] and rel["address"] == lease["address"]
    p = cap.wait(lambda p: p["name"] == "RELEASE", what="RELEASE")
    assert p["ciaddr"] == lease["address"] and p["dst"] == "192.168.77.1"
    assert p["server_id"] == "192.168.77.1"


def test_udhcpc_daemon_renew(lab):
    require("dnsmasq", "udhcpc")
    srv, cli, cap = _lan(lab, extra=["--dhcp-option=3,192.168.77.1"])
    c = L.udhcpc_start(lab, cli, "c0")
    assert c.lease["router"] == "192.168.77.1"
    assert lab.addrs(cli, "c0") == [c.lease["address"] + "/24"]
    lease = c.renew()
    assert lease["address"] == c.lease["address"]
    # the sniffer may log the REQUEST a moment after the client's hook saw the ACK: wait for it
    req = cap.wait(lambda p: not p["out"] and p["name"] == "REQUEST" and p["ciaddr"] != "0.0.0.0",
                   what="the renewing REQUEST")
    assert req["dst"] == "192.168.77.1" and req["requested_ip"] is None
    c.release()
    cap.wait(lambda p: p["name"] == "RELEASE" and p["ciaddr"] == lease["address"])
    c.stop()


def test_dhclient_bind_renew_release(lab):
    require("dnsmasq", "dhclient")
    srv, cli, cap = _lan(lab, extra=["--dhcp-option=3,192.168.77.1"])
    lease = L.dhclient(lab, cli, "c0", hostname="isc")
    assert lease["address"].startswith("192.168.77.") and lease["router"] == "192.168.77.1"
    assert lease["dns"] == ["192.168.77.53"] and lease["server_id"] == "192.168.77.1"
    assert lease["lease_time"] == 3600
    assert _from_client(cap, "REQUEST")[0]["hostname"] == "isc"
    # no renew_after at start: dhclient_renew restarts with a 1 s T1 override
    ren = L.dhclient_renew(lab, cli, "c0")
    assert ren["event"] == "RENEW" and ren["address"] == lease["address"]
    req = [p for p in _from_client(cap, "REQUEST") if p["ciaddr"] == lease["address"]]
    assert req and req[-1]["dst"] == "192.168.77.1" and req[-1]["dst_mac"] != "ff:ff:ff:ff:ff:ff"
    assert req[-1]["requested_ip"] is None and req[-1]["server_id"] is None
    rel = L.dhclient_release(lab, cli, "c0")
    assert rel["address"] == lease["address"]
    p = cap.wait(lambda p: p["name"] == "RELEASE", what="RELEASE")
    assert p["ciaddr"] == lease["address"] and p["dst"] == "192.168.77.1"
    assert lab.addrs(cli, "c0") == []


def test_dhcpcd_oneshot(lab):
    require("dnsmasq", "dhcpcd")
    srv, cli, cap = _lan(lab, extra=["--dhcp-option=3,192.168.77.1"])
    lease = L.dhcpcd(lab, cli, "c0", hostname="roy")
    assert lease["address"].startswith("192.168.77.") and lease["router"] == "192.168.77.1"
    assert lease["server_id"] == "192.168.77.1" and lease["lease_time"] == 3600
    assert _from_client(cap, "DISCOVER")[0]["hostname"] == "roy"
    assert lab.addrs(cli, "c0") == []  # --noconfigure
    assert not os.listdir("/var/lib/dhcpcd") if os.path.isdir("/var/lib/dhcpcd") else True


def test_dhcpcd_daemon_renew_rebind_release(lab):
    require("dnsmasq", "dhcpcd")
    srv, cli, cap = _lan(lab)
    lease = L.dhcpcd_start(lab, cli, "c0")
    addr = lease["address"]
    L.dhcpcd_renew(lab, cli, "c0")
    p = cap.wait(lambda p: p["name"] == "REQUEST" and p["ciaddr"] == addr and not p["out"],
                 what="renew REQUEST")
    assert p["dst"] == "192.168.77.1" and p["server_id"] is None
    n = len(cap.packets())
    L.dhcpcd_rebind(lab, cli, "c0")
    p = cap.wait(lambda p: p["name"] == "REQUEST" and p["t"] > cap.packets()[n - 1]["t"],
                 what="rebind REQUEST")
    assert p["dst"] == "255.255.255.255" and p["ciaddr"] == addr
    L.dhcpcd_release(lab, cli, "c0")
    p = cap.wait(lambda p: p["name"] == "RELEASE", what="RELEASE")
    assert p["ciaddr"] == addr and p["dst"] == "192.168.77.1"


def test_bridge_two_clients_kea(lab):
    require("kea-dhcp4", "udhcpc")
    rtr = lab.add_host("rtr")
    clients = [lab.add_host("c%d" % i) for i in range(2)]
    for i, c in enumerate(clients):
        lab.link(rtr, "p%d" % i, c, "eth0")
    lab.bridge(rtr, "br0", ["p0", "p1"])
    lab.addr(rtr, "br0", "192.168.77.1/24")
    L.kea_dhcp4(lab, rtr, ["br0"], [{
        "subnet": "192.168.77.0/24", "pools": [{"pool": "192.168.77.100 - 192.168.77.250"}],
        "option-data": [{"name": "routers", "data": "192.168.77.1"}]}])
    leases = [L.udhcpc(lab, c, "eth0") for c in clients]
    assert len({l["address"] for l in leases}) == 2
    assert all(l["router"] == "192.168.77.1" for l in leases)


def test_dhcrelay_udhcpc(lab):
    require("dnsmasq", "dhcrelay", "udhcpc")
    srv, rly, cli = lab.add_host("srv"), lab.add_host("rly"), lab.add_host("cli")
    lab.link(srv, "s0", rly, "r1")
    lab.link(rly, "r0", cli, "c0")
    lab.addr(srv, "s0", "10.0.0.1/24")
    lab.addr(rly, "r1", "10.0.0.2/24")
    lab.addr(rly, "r0", "192.168.78.1/24")
    lab.route(srv, "192.168.78.0/24", via="10.0.0.2")
    cap = L.capture(lab, srv, "s0")
    L.dnsmasq(lab, srv, "s0", start="10.0.0.100", end="10.0.0.200",
              extra=["--dhcp-range=192.168.78.100,192.168.78.200,255.255.255.0,1h"])
    L.dhcrelay(lab, rly, "10.0.0.1", "r1", "r0")
    lease = L.udhcpc(lab, cli, "c0")
    assert lease["address"].startswith("192.168.78.")
    assert lease["server_id"] == "10.0.0.1"
    d = _from_client(cap, "DISCOVER")[0]
    assert d["giaddr"] == "192.168.78.1" and d["src"] == "10.0.0.2" and d["sport"] == 67


def test_perfdhcp4_kea(lab):
    require("kea-dhcp4", "perfdhcp")
    srv, cli = lab.add_host("srv"), lab.add_host("cli")
    lab.link(srv, "s0", cli, "c0")
    lab.addr(srv, "s0", "192.168.77.1/24")
    lab.addr(cli, "c0", "10.77.0.2/16")
    lab.route(srv, "10.77.0.0/16", dev="s0")
    L.kea_dhcp4(lab, srv, ["s0"], [
        {"subnet": "192.168.77.0/24", "pools": [{"pool": "192.168.77.100 - 192.168.77.250"}]},
        {"subnet": "10.77.0.0/16", "pools": [{"pool": "10.77.1.0 - 10.77.200.255"}]}])
    r = L.perfdhcp4(lab, cli, "c0", rate=200, num_exchanges=200, timeout=5)
    assert r["sent"]["DISCOVER"] == 200, r["output"]
    assert r["received"]["ACK"] >= 196, r["output"]
    assert r["loss"] < 0.02 and r["rate"] > 100
