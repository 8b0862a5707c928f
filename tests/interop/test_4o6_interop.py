"""DHCPv4-over-DHCPv6 (RFC 7341) in namespaces the test makes, across an IPv6-only link: our
4o6 client (Client4 with "4o6": true) gets a DHCPv4 lease from a real Kea pair (kea-dhcp6 +
kea-dhcp4 joined by dhcp4o6-port), renews it and releases it; and from our own single process
(Dhcp4 + Dhcp6). Needs root + Kea + the Unix port; otherwise skipped."""
import json
import os

import pytest

from peerutil import require
import lab as L
import mpdhcp_lab as M
from host_tools.lab6 import wait_link_local
from test_client6_interop import _read

NET = "2001:db8:77"
V4 = "192.0.2"


def _need_micropython():
    if not M.micropython_path():
        pytest.skip("micropython (the Unix port) not found: run `make venv`")


def _link(lab):
    srv = lab.add_host("s4o6")
    cli = lab.add_host("c4o6")
    lab.link(srv, "s0", cli, "c0")
    lab.addr(srv, "s0", NET + "::1/64")
    lab.run(cli, ["ip", "-6", "route", "add", NET + "::/64", "dev", "c0"], check=True)  # to the 4o6 server
    wait_link_local(lab, cli, "c0")
    wait_link_local(lab, srv, "s0")
    return srv, cli


def kea_pair(lab, ns):
    """kea-dhcp6 + kea-dhcp4 joined by dhcp4o6-port 6767 (LAB_NOTES' recipe)."""
    _kea(lab, ns, "v6")
    _kea(lab, ns, "v4")


class Client4o6(M.ServedClient):
    """mpdhcp with a Client4 section in 4o6 mode."""

    def __init__(self, lab, ns, name="c4o6", **cfg):
        c = {"interface": "c0", "4o6": True, "offer-window": 0, "lease-file": lab.path(name + ".jnl"),
             "resolv-conf": lab.path(name + "-resolv.conf")}
        c.update(cfg)
        M.ServedClient.__init__(self, lab, ns, name, "Client4", c)


def test_our_4o6_client_leases_renews_and_releases_with_a_kea_pair(lab):
    require("kea-dhcp6", "kea-dhcp4")
    _need_micropython()
    srv, cli = _link(lab)
    # kea-dhcp4 takes its server identifier from an IPv4 socket on the 4o6 interface and drops
    # the answer without one ("Interface s0/2 does not have any suitable IPv4 sockets open"):
    # the server host gets an IPv4 address; the client side stays IPv6-only
    lab.addr(srv, "s0", V4 + ".1/24")
    kea_pair(lab, srv)
    c = Client4o6(lab, cli).start()
    i, m = c.wait(r"BOUND (\d+\.\d+\.\d+\.\d+)/(\d+)", 25)
    addr = m.group(1)
    assert addr.startswith(V4 + ".1") and addr + "/24" in lab.ip(cli, "-4", "addr", "show", "dev", "c0")
    assert "over DHCPv6" in c.output()
    L.wait_for(lambda: addr in _read(lab.path("k4-leases.csv")), 5, what="kea-dhcp4's lease file")
    j, _ = c.wait(r"BOUND -> RENEWING", 10, i)
    c.wait(r"RENEWING -> BOUND", 10, j)  # the Renew went unicast-flagged through kea-dhcp6
    c.stop()
    L.wait_for(lambda: "DHCP4_RELEASE" in _read(lab.path("k4.log")), 10, what="RELEASE at kea-dhcp4")


def test_our_4o6_client_with_our_own_single_process_server(lab):
    _need_micropython()
    srv, cli = _link(lab)
    conf = {"Dhcp4": {"interfaces-config": {"interfaces": ["s0/" + V4 + ".1"]}, "valid-lifetime": 600,
                      "lease-database": {"type": "memfile", "name": lab.path("our4.jnl")},
                      "control-socket": {"socket-type": "unix", "socket-name": lab.path("our.sock")},
                      "subnet4": [{"id": 1, "subnet": V4 + ".0/24", "4o6-interface": "s0",
                                   "pools": [{"pool": V4 + ".100 - " + V4 + ".150"}]}]},
            "Dhcp6": {"interfaces-config": {"interfaces": ["s0"]},
                      "lease-database": {"type": "memfile", "name": lab.path("our6.jnl")},
                      "option-data": [{"name": "dhcp4o6-server-addr", "data": NET + "::1"}],
                      "subnet6": [{"id": 1, "subnet": NET + "::/64", "interface": "s0"}]}}
    s = lab.popen(srv, M.serve_argv(lab.write("our.json", json.dumps(conf))), cwd=M.ROOT, log="our.log")
    L.wait_for(lambda: "serving DHCPv6" in lab.read_log(s) or s.poll() is not None, 15, what="our server")
    assert s.poll() is None, lab.read_log(s)
    c = Client4o6(lab, cli).start()
    i, m = c.wait(r"BOUND (\d+\.\d+\.\d+\.\d+)/(\d+)", 25)
    from host_tools.ctl import query

    leases = query(lab.path("our.sock"), "lease4-get-all", 5.0)["arguments"]["leases"]
    assert [x for x in leases if x["ip-address"] == m.group(1) and x["state"] == "bound"], leases
    assert "DHCPV4-QUERY" in lab.read_log(s) or "DISCOVER>OFFER" in lab.read_log(s)


def _our(lab, ns, name, doc):
    p = lab.popen(ns, M.serve_argv(lab.write(name + ".json", json.dumps(doc))), cwd=M.ROOT, log=name + ".log")
    L.wait_for(lambda: "mpdhcp: serving" in lab.read_log(p) or p.poll() is not None, 15, what=name)
    assert p.poll() is None, lab.read_log(p)
    return p


def _our_v6_half(lab, ns):
    return _our(lab, ns, "our6", {"Dhcp6": {
        "interfaces-config": {"interfaces": ["s0"]}, "dhcp4o6-port": 6767,
        "lease-database": {"type": "memfile", "name": lab.path("our6.jnl")},
        "control-socket": {"socket-type": "unix", "socket-name": lab.path("our6.sock")},
        "option-data": [{"name": "dhcp4o6-server-addr", "data": NET + "::1"}],
        "subnet6": [{"id": 1, "subnet": NET + "::/64", "interface": "s0"}]}})


def _our_v4_half(lab, ns):
    """Its Dhcp4 interface names no address: the service reads s0's (the server identifier)."""
    return _our(lab, ns, "our4", {"Dhcp4": {
        "interfaces-config": {"interfaces": ["s0"]}, "dhcp4o6-port": 6767, "valid-lifetime": 600,
        "lease-database": {"type": "memfile", "name": lab.path("our4.jnl")},
        "control-socket": {"socket-type": "unix", "socket-name": lab.path("our4.sock")},
        "subnet4": [{"id": 1, "subnet": V4 + ".0/24", "4o6-interface": "s0",
                     "pools": [{"pool": V4 + ".100 - " + V4 + ".150"}]}]}})


def _kea(lab, ns, which):
    env = dict(os.environ, KEA_PIDFILE_DIR=lab.tmp, KEA_LOCKFILE_DIR=lab.tmp)
    p4, p6 = None, None
    if which == "v6":
        k6 = {"Dhcp6": {"interfaces-config": {"interfaces": ["s0", "s0/" + NET + "::1"]},
                        "dhcp4o6-port": 6767, "server-id": {"type": "LLT", "persist": False},
                        "lease-database": {"type": "memfile", "persist": False},
                        "subnet6": [{"id": 1, "subnet": NET + "::/64", "interface": "s0",
                                     "option-data": [{"name": "dhcp4o6-server-addr", "code": 88, "space": "dhcp6",
                                                      "csv-format": True, "data": NET + "::1"}]}],
                        "loggers": [{"name": "kea-dhcp6", "severity": "INFO",
                                     "output_options": [{"output": lab.path("k6.log")}]}]}}
        lab.popen(ns, ["kea-dhcp6", "-c", lab.write("k6.json", json.dumps(k6))], log="k6.out", env=env)
        L.wait_for(lambda: "DHCP6_STARTED" in _read(lab.path("k6.log")), 15, what="kea-dhcp6")
    else:
        k4 = {"Dhcp4": {"interfaces-config": {"interfaces": ["s0"]}, "dhcp4o6-port": 6767,
                        "lease-database": {"type": "memfile", "persist": True, "name": lab.path("k4-leases.csv"),
                                           "lfc-interval": 0},
                        "valid-lifetime": 600, "renew-timer": 4, "rebind-timer": 8,
                        "subnet4": [{"id": 1, "subnet": V4 + ".0/24", "4o6-interface": "s0",
                                     "pools": [{"pool": V4 + ".100 - " + V4 + ".150"}]}],
                        "loggers": [{"name": "kea-dhcp4", "severity": "INFO",
                                     "output_options": [{"output": lab.path("k4.log")}]}]}}
        lab.popen(ns, ["kea-dhcp4", "-c", lab.write("k4.json", json.dumps(k4))], log="k4.out", env=env)
        L.wait_for(lambda: "DHCP4_STARTED" in _read(lab.path("k4.log")), 15, what="kea-dhcp4")


@pytest.mark.parametrize("pairing", ("our v6 half + kea-dhcp4", "kea-dhcp6 + our v4 half", "our two halves"))
def test_kea_ipc_pairs_each_of_our_halves(lab, pairing):
    need = {"our v6 half + kea-dhcp4": ("kea-dhcp4",), "kea-dhcp6 + our v4 half": ("kea-dhcp6",),
            "our two halves": ()}[pairing]
    if need:
        require(*need)
    _need_micropython()
    srv, cli = _link(lab)
    lab.addr(srv, "s0", V4 + ".1/24")  # the DHCPv4 halves take their server identifier from it
    if pairing == "our v6 half + kea-dhcp4":
        _kea(lab, srv, "v4")
        half = _our_v6_half(lab, srv)
    elif pairing == "kea-dhcp6 + our v4 half":
        _kea(lab, srv, "v6")
        half = _our_v4_half(lab, srv)
    else:
        _our_v4_half(lab, srv)
        half = _our_v6_half(lab, srv)
    c = Client4o6(lab, cli).start()
    i, m = c.wait(r"BOUND (\d+\.\d+\.\d+\.\d+)/(\d+)", 25)
    assert m.group(1).startswith(V4 + ".1")
    if pairing == "our v6 half + kea-dhcp4":
        L.wait_for(lambda: m.group(1) in _read(lab.path("k4-leases.csv")), 5, what="kea-dhcp4's lease")
    else:  # journaled by our DHCPv4 half, an ordinary DHCPv4 lease
        import socket

        want = socket.inet_aton(m.group(1))
        L.wait_for(lambda: want in open(lab.path("our4.jnl"), "rb").read(), 5, what="our v4 half's journal")
    assert half.poll() is None


CRAFT = r'''
import socket, sys, struct
kind, dest, wait = sys.argv[1], sys.argv[2], float(sys.argv[3])
def o(code, data): return struct.pack("!HH", code, len(data)) + data
def relay(inner, hops, peer, iid=None):
    b = bytes([12, hops]) + socket.inet_pton(socket.AF_INET6, "::") + socket.inet_pton(socket.AF_INET6, peer)
    return b + (o(18, iid) if iid else b"") + o(9, inner)
def dhcp4(mtype, ciaddr=bytes(4)):
    d4 = bytearray(240); d4[0] = 1; d4[1] = 1; d4[2] = 6; d4[4:8] = b"\x11\x22\x33\x44"; d4[10] = 0x80
    d4[12:16] = ciaddr; d4[28:34] = bytes([2, 0, 0, 0, 0x4f, 0x6f]); d4[236:240] = b"\x63\x82\x53\x63"
    return bytes(d4) + bytes([53, 1, mtype, 255]) + bytes(56)
d4, flags = dhcp4(1), 0  # a DISCOVER, broadcast over IPv4
if kind == "unicast":  # an INFORM from a configured client: unicast over IPv4 (RFC 2131 4.4.3), U set
    d4, flags = dhcp4(8, bytes([192, 0, 2, 77])), 0x80
if kind == "malformed":
    d4 = dhcp4(1)[:100]  # cut inside the fixed header (RFC 2131 2: 236 bytes before the options)
q = bytes([20, flags, 0, 0]) + (o(87, d4) if kind != "missing" else o(8, b"\x00\x00"))
if kind == "twice":
    q += o(87, d4)
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 25, b"c0")
if kind in ("relayed", "nested"):
    s.bind(("::", 547))
    q = relay(q, 0, "fe80::9", b"relay-port-7")
    if kind == "nested":  # a second relay between that one and the server
        q = relay(q, 1, "fe80::8", b"relay-two")
else:
    s.bind(("::", 546))
s.settimeout(wait)
s.sendto(q, (dest, 547))
try:
    print(s.recvfrom(2000)[0].hex())
except socket.timeout:
    print("none")
'''


def _options6(b, i):
    """{code: data} of the DHCPv6 options in b[i:] (the first of each code)."""
    out = {}
    while i + 4 <= len(b):
        ln = int.from_bytes(b[i + 2:i + 4], "big")
        out.setdefault(int.from_bytes(b[i:i + 2], "big"), b[i + 4:i + 4 + ln])
        i += 4 + ln
    return out


def _option4(answer, code):
    """Option `code` of the DHCPv4 message in a DHCPV4-RESPONSE, its Relay-replies unwrapped."""
    while answer[0] == 13:
        answer = _options6(answer, 34)[9]
    v4 = _options6(answer, 4)[87]
    i = 240
    while i < len(v4) and v4[i] != 255:
        if v4[i] == 0:
            i += 1
            continue
        if v4[i] == code:
            return v4[i + 2:i + 2 + v4[i + 1]]
        i += 2 + v4[i + 1]
    return None


def _craft(lab, ns, kind, tries=3):
    """The crafted query's answer as hex, or "none"; sent again (as a client would) when none
    comes in 2 s, up to `tries` times. One try (a drop expected) waits 1 s."""
    import sys

    for _ in range(tries):
        r = lab.run(ns, [sys.executable, "-c", CRAFT, kind, NET + "::1", "2" if tries > 1 else "1"],
                    timeout=15, check=True)
        if r.stdout.strip() != "none":
            break
    return r.stdout.strip()


def _inner(answer):
    """The message inside a Relay-reply chain, and the Interface-Ids met on the way (outer first)."""
    iids = []
    while answer[0] == 13:
        o = _options6(answer, 34)
        iids.append(o.get(18))
        answer = o[9]
    return answer, iids


def _stat(lab, sock, command, name):
    from host_tools.ctl import query

    return query(lab.path(sock), command, 5.0)["arguments"][name]


@pytest.mark.parametrize("pairing", ("our v6 half + kea-dhcp4", "kea-dhcp6 + our v4 half", "our single process"))
def test_crafted_queries_direct_relayed_and_malformed(lab, pairing):
    if pairing != "our single process":
        require("kea-dhcp4" if "kea-dhcp4" in pairing else "kea-dhcp6")
    _need_micropython()
    srv, cli = _link(lab)
    lab.addr(srv, "s0", V4 + ".1/24")
    v6sock = v4sock = None  # our control sockets (Kea's counters are not read here)
    if pairing == "our v6 half + kea-dhcp4":
        _kea(lab, srv, "v4")
        _our_v6_half(lab, srv)
        v6sock = "our6.sock"
    elif pairing == "kea-dhcp6 + our v4 half":
        _kea(lab, srv, "v6")
        _our_v4_half(lab, srv)
        v4sock = "our4.sock"
    else:
        _our(lab, srv, "ours", {"Dhcp4": {
            "interfaces-config": {"interfaces": ["s0"]}, "valid-lifetime": 600,  # s0's address read
            "lease-database": {"type": "memfile", "name": lab.path("o4.jnl")},
            "control-socket": {"socket-type": "unix", "socket-name": lab.path("ours.sock")},
            "subnet4": [{"id": 1, "subnet": V4 + ".0/24", "4o6-interface": "s0",
                         "pools": [{"pool": V4 + ".100 - " + V4 + ".150"}]}]},
            "Dhcp6": {"interfaces-config": {"interfaces": ["s0"]},
                      "lease-database": {"type": "memfile", "name": lab.path("o6.jnl")},
                      "subnet6": [{"id": 1, "subnet": NET + "::/64", "interface": "s0"}]}})
        v6sock = v4sock = "ours.sock"
    direct = bytes.fromhex(_craft(lab, cli, "direct"))
    assert direct[0] == 21 and b"\x35\x01\x02" in direct  # DHCPV4-RESPONSE with an OFFER inside
    assert _option4(direct, 54) == bytes([192, 0, 2, 1])  # server id: s0's address, never 0.0.0.0
    relayed = bytes.fromhex(_craft(lab, cli, "relayed"))
    assert relayed[0] == 13 and b"relay-port-7" in relayed and b"\x35\x01\x02" in relayed
    inner, iids = _inner(relayed)
    assert inner[0] == 21 and iids == [b"relay-port-7"]  # a DHCPV4-RESPONSE inside the Relay-reply
    assert _option4(relayed, 54) == bytes([192, 0, 2, 1])
    nested = bytes.fromhex(_craft(lab, cli, "nested"))  # two relays: two Relay-replies, each iid echoed
    inner, iids = _inner(nested)
    assert inner[0] == 21 and iids == [b"relay-two", b"relay-port-7"] and _option4(nested, 53) == b"\x02"
    # U set (an INFORM, unicast over IPv4): answered like any query, the response's flags 0 (RFC 7341 6)
    uni = bytes.fromhex(_craft(lab, cli, "unicast"))
    assert uni[:4] == bytes([21, 0, 0, 0]) and _option4(uni, 53) == b"\x05"
    if v6sock:
        before = _stat(lab, v6sock, "statistic6-get-all", "dropped_4o6")
    assert _craft(lab, cli, "twice", tries=1) == "none"  # two DHCPv4 Message options: dropped (RFC 7341 7)
    assert _craft(lab, cli, "missing", tries=1) == "none"  # none at all: dropped too
    if v6sock:
        assert _stat(lab, v6sock, "statistic6-get-all", "dropped_4o6") == before + 2
    if v4sock:
        before = _stat(lab, v4sock, "statistic-get-all", "dropped_malformed")
    assert _craft(lab, cli, "malformed", tries=1) == "none"  # a DHCPv4 message cut short: dropped
    if v4sock:
        assert _stat(lab, v4sock, "statistic-get-all", "dropped_malformed") == before + 1
