"""BOOTP (RFC 951 / RFC 1048 / RFC 1542) against real peers: crafted BOOTREQUESTs, as a PXE ROM
or an old embedded device sends them, answered by ISC dhcpd (dynamic-bootp + a host entry),
kea-dhcp4 with its packaged BOOTP hook (libdhcp_bootp.so) and our server, each in its own
namespace pair, all from the same logical config (issue 15).

Needs root + the Debian peers (`make peers`) + the Unix port in .venv; otherwise skipped.
Every test owns a Lab (namespaces, processes and lab.tmp removed even on failure) and every
wait is bounded.
"""
import glob
import json
import os
import socket
import struct
import sys

import pytest

from peerutil import require
import lab as L
import mpdhcp_lab as M

COOKIE = b"\x63\x82\x53\x63"  # RFC 1048 magic cookie 99.130.83.99

SERVER = "192.168.77.1"
NEXT_SERVER = "192.168.77.5"
BOOT_FILE = "pxelinux.0"
POOL = ("192.168.77.100", "192.168.77.150")
RESERVED_MAC = "02:00:00:15:00:01"
RESERVED_IP = "192.168.77.20"
DYNAMIC_MAC = "02:00:00:15:00:02"
OTHER_MAC = "02:00:00:15:00:03"

# the relayed case: server on 10.0.0.1/24 (s0), relay agent at 10.0.0.2 with giaddr 192.168.78.1
RELAY_SERVER = "10.0.0.1"
RELAY_PEER = "10.0.0.2"
GIADDR = "192.168.78.1"
RELAY_POOL = ("192.168.78.100", "192.168.78.150")
RELAY_MAC = "02:00:00:15:00:04"

PRL = bytes([1, 3, 6, 12, 15, 28, 66, 67])  # what a PXE-ish BOOTP client asks for in variant "prl"
INFINITE = 0xFFFFFFFF


# -- BOOTREQUEST / BOOTREPLY -------------------------------------------------------------------
def bootrequest(mac, xid, variant="rfc1048", giaddr="0.0.0.0", hops=0, secs=1):
    """An RFC 951 BOOTREQUEST: op 1, htype 1, hlen 6, no option 53.

    variant "rfc1048": the 64-byte vend field holds the magic cookie, END, then zero padding
    (a 300-byte packet, as RFC 951 clients send it).
    variant "prl": a longer vend area (312 bytes, a 548-byte packet) with the cookie, a
    parameter request list (55) and END, as a PXE ROM-like BOOTP client might send."""
    hdr = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, hops, xid, secs, 0,
                      bytes(4), bytes(4), bytes(4), socket.inet_aton(giaddr),
                      bytes.fromhex(mac.replace(":", "")), b"", b"")
    if variant == "rfc1048":
        vend = COOKIE + b"\xff"
        return hdr + vend + bytes(64 - len(vend))
    if variant == "prl":
        vend = COOKIE + bytes([55, len(PRL)]) + PRL + b"\xff"
        return hdr + vend + bytes(312 - len(vend))
    raise ValueError(variant)


def decode(pkt):
    """A BOOTP/DHCP message -> dict: op, hops, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr,
    chaddr, sname, file (NUL-stripped text), cookie (bool), options ({code: bytes}, in the vend
    area only), order (codes as sent), length (the UDP payload), end (offset of END or None),
    tail_zero (everything after END is zero)."""
    op, htype, hlen, hops, xid, secs, flags = struct.unpack("!BBBBIHH", pkt[:12])
    ip = lambda o: socket.inet_ntoa(pkt[o:o + 4])
    d = {"op": op, "htype": htype, "hlen": hlen, "hops": hops, "xid": xid, "secs": secs,
         "flags": flags, "ciaddr": ip(12), "yiaddr": ip(16), "siaddr": ip(20), "giaddr": ip(24),
         "chaddr": ":".join("%02x" % b for b in pkt[28:28 + hlen]),
         "sname": pkt[44:108].split(b"\0")[0].decode("latin-1"),
         "file": pkt[108:236].split(b"\0")[0].decode("latin-1"),
         "cookie": pkt[236:240] == COOKIE, "options": {}, "order": [], "length": len(pkt),
         "end": None, "tail_zero": None}
    i = 240
    while d["cookie"] and i < len(pkt):
        code = pkt[i]
        if code == 0:
            i += 1
            continue
        if code == 255:
            d["end"] = i
            d["tail_zero"] = not any(pkt[i + 1:])
            break
        n = pkt[i + 1]
        d["options"][code] = d["options"].get(code, b"") + pkt[i + 2:i + 2 + n]
        d["order"].append(code)
        i += 2 + n
    return d


# Run inside a namespace: send one BOOTREQUEST from a UDP socket and collect the BOOTREPLYs
# with an AF_PACKET socket, since without the broadcast flag a reply is unicast to yiaddr (an
# address the client interface does not have yet, so the UDP socket would never see it), as a
# PXE ROM's own stack takes it. argv: ifname bind_ip bind_port dst_ip reply_port hex wait sends
_CLIENT = r'''
import json, select, socket, struct, sys, time
ifname, bind_ip, bind_port, dst, rport, hexpkt, wait, sends = sys.argv[1:9]
bind_port, rport, wait, sends = int(bind_port), int(rport), float(wait), int(sends)
pkt = bytes.fromhex(hexpkt)
xid = pkt[4:8]
raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
raw.bind((ifname, 0))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
u.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
u.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
u.bind((bind_ip, bind_port))
ip4 = socket.inet_ntoa
mac = lambda b: ":".join("%02x" % x for x in b)
got = []
t0 = time.monotonic()
deadline = t0 + wait
next_send, sent = t0, 0
while time.monotonic() < deadline:
    now = time.monotonic()
    if sent < sends and now >= next_send and not got:
        u.sendto(pkt, (dst, 67))
        sent += 1
        next_send = now + wait / sends
    r, _, _ = select.select([raw, u], [], [], 0.05)
    if u in r:
        u.recv(4096)
    if raw not in r:
        continue
    fr, addr = raw.recvfrom(65535)
    if addr[2] == 4 or fr[23] != 17:  # outgoing, or not UDP
        continue
    ihl = (fr[14] & 15) * 4
    o = 14 + ihl
    sport, dport, ulen = struct.unpack("!HHH", fr[o:o + 6])
    p = fr[o + 8:o + ulen]
    if dport != rport or len(p) < 240 or p[0] != 2 or p[4:8] != xid:
        continue
    got.append({"t": round(time.monotonic() - t0, 3), "src_mac": mac(fr[6:12]),
                "dst_mac": mac(fr[0:6]), "src": ip4(fr[26:30]), "dst": ip4(fr[30:34]),
                "sport": sport, "dport": dport, "ttl": fr[22], "hex": p.hex()})
    deadline = min(deadline, time.monotonic() + 0.5)  # a duplicate would show up by then
print(json.dumps({"sent": sent, "replies": got}))
'''


def exchange(lab, ns, ifname, pkt, bind=("0.0.0.0", 68), dst="255.255.255.255", reply_port=68,
             wait=6.0, sends=3):
    """Send pkt (up to `sends` times, evenly over `wait` s, until answered) from ns; returns
    the BOOTREPLYs seen on ifname, each a decode() dict plus the frame's addresses/ports."""
    r = lab.run(ns, [sys.executable, "-c", _CLIENT, ifname, bind[0], bind[1], dst, reply_port,
                     pkt.hex(), wait, sends], timeout=wait + 15)
    assert r.returncode == 0, r.stdout + r.stderr
    out = []
    for g in json.loads(r.stdout)["replies"]:
        d = decode(bytes.fromhex(g.pop("hex")))
        d.update(g)
        out.append(d)
    return out


def one_reply(lab, ns, ifname, pkt, **kw):
    replies = exchange(lab, ns, ifname, pkt, **kw)
    assert len(replies) == 1, replies
    return replies[0]


def _in(addr, first, last):
    n = lambda a: tuple(int(x) for x in a.split("."))
    return n(first) <= n(addr) <= n(last)


def _ip(s):
    return socket.inet_aton(s)



# -- what the peers answer (observed with isc-dhcpd 4.4.3-P1 and kea-dhcp4 2.2.0 + its BOOTP hook,
# Debian packages; both request variants, "rfc1048" and "prl", get the very same reply) -------
#
#   op 2, htype 1, hlen 6, xid / chaddr / flags / giaddr / hops echoed, ciaddr 0.0.0.0,
#   yiaddr the reservation (or a pool address), siaddr = next-server, file = the boot file name,
#   sname empty (neither fills it in);
#   vend: the RFC 1048 cookie, then exactly 1 (subnet mask), 3 (routers), 6 (DNS), 15 (domain
#   name), in that order, END, zero padding; no 53, no 51 (lease time), no 54 (server id), no
#   58/59, nothing added for the PRL's 12, 28, 66, 67 (not configured as options: the boot file
#   and next server live in the fixed fields only). The PRL neither adds nor removes anything:
#   both send 1, 3, 6, 15 to a client that asked for nothing;
#   length: padded to 300 bytes (the RFC 951 minimum), also for the 548-byte "prl" request;
#   destination, no broadcast flag: unicast IP yiaddr:68 to the chaddr MAC (both send on raw
#   sockets, TTL 128); with the broadcast flag: IP 255.255.255.255:68, dhcpd to MAC
#   ff:ff:ff:ff:ff:ff, Kea to the chaddr MAC (still a layer-2 unicast);
#   relayed (giaddr set, hops 1): to giaddr:67 from server:67, giaddr and hops 1 echoed
#   (dhcpd through its fallback UDP socket, TTL 64; Kea raw, TTL 128);
#   secs: dhcpd echoes the client's, Kea sends 0 (not compared);
#   leases: infinite. dhcpd writes "ends never;" and "dynamic-bootp;" for a range address
#   (a host entry's fixed-address leaves no lease); Kea's memfile has valid_lifetime 4294967295
#   for reserved and pool addresses alike.
#   Kea 2.2.0's hook serves BOOTP clients WITHOUT a reservation too: it hands them a pool
#   address for an infinite lease (it only marks them with the BOOTP class, which a pool could
#   be guarded with). So dynamic BOOTP is not an ISC dhcpd-only feature.
#   (Outside the tests below: to a request whose vend area has no cookie, dhcpd answers a
#   host-entry client without cookie or options but a range client with them; Kea drops it.)
#
# Our server is held to ISC dhcpd's answer, field for field, except the destination of a reply
# to a client without an address and without the broadcast flag: the Unix and lwIP adapters
# cannot add the ARP entry a unicast to yiaddr needs (v4/server4.py _dest), so a broadcast to
# 255.255.255.255 / ff:ff:ff:ff:ff:ff is accepted there too (RFC 951 7.5, RFC 1542 5.4).
MASK = _ip("255.255.255.0")
LAN_OPTIONS = {1: MASK, 3: _ip("192.168.77.1"),
               6: _ip("192.168.77.53") + _ip("192.168.77.54"), 15: b"lab.example"}
RELAY_OPTIONS = {1: MASK, 3: _ip(GIADDR)}
BROADCAST_MAC = "ff:ff:ff:ff:ff:ff"
KINDS = ["dhcpd", "kea", "mpdhcp"]


def check_reply(r, xid, mac, options, siaddr, giaddr="0.0.0.0", hops=0, flags=0):
    """The BOOTREPLY fields every server must get right (what ISC dhcpd sends)."""
    assert (r["op"], r["htype"], r["hlen"]) == (2, 1, 6), r
    assert r["xid"] == xid and r["chaddr"] == mac and r["flags"] == flags, r
    assert r["ciaddr"] == "0.0.0.0" and r["giaddr"] == giaddr and r["hops"] == hops, r
    assert r["siaddr"] == siaddr and r["file"] == BOOT_FILE and r["sname"] == "", r
    assert r["cookie"], r
    assert not set(r["options"]) & {51, 53, 54, 58, 59}, r["order"]
    assert r["options"] == options, r["options"]
    assert r["length"] == 300 and r["tail_zero"], (r["length"], r["end"])
    assert r["sport"] == 67, r


def check_lan_dest(kind, r, mac):
    if r["flags"] & 0x8000:
        assert r["dst"] == "255.255.255.255" and r["dport"] == 68, r
        assert r["dst_mac"] == (mac if kind == "kea" else BROADCAST_MAC), r
        return
    unicast = (r["dst"], r["dst_mac"]) == (r["yiaddr"], mac)
    if kind == "mpdhcp":
        assert unicast or (r["dst"], r["dst_mac"]) == ("255.255.255.255", BROADCAST_MAC), r
    else:
        assert unicast, r
    assert r["dport"] == 68, r


# -- the three servers, one logical config ---------------------------------------------------
OPTIONS = [{"name": "routers", "data": "192.168.77.1"},
           {"name": "domain-name-servers", "data": "192.168.77.53, 192.168.77.54"},
           {"name": "domain-name", "data": "lab.example"}]
BOOTP_CONTEXT = {"mpdhcp": {"dynamic-bootp": True}}  # Kea keeps any user-context; we read it


def lan_subnets():
    """The Dhcp4 subnet4 list given to kea-dhcp4 and to ours alike."""
    return [{"id": 1, "subnet": "192.168.77.0/24", "interface": "s0",
             "pools": [{"pool": "%s - %s" % POOL}],
             "next-server": NEXT_SERVER, "boot-file-name": BOOT_FILE,
             "option-data": [dict(o) for o in OPTIONS],
             "reservations": [{"hw-address": RESERVED_MAC, "ip-address": RESERVED_IP}],
             "user-context": BOOTP_CONTEXT}]


def relay_subnets():
    return [{"id": 1, "subnet": "10.0.0.0/24", "interface": "s0",
             "pools": [{"pool": "10.0.0.100 - 10.0.0.200"}]},
            {"id": 2, "subnet": "192.168.78.0/24", "relay": {"ip-addresses": [GIADDR]},
             "pools": [{"pool": "%s - %s" % RELAY_POOL}],
             "next-server": RELAY_SERVER, "boot-file-name": BOOT_FILE,
             "option-data": [{"name": "routers", "data": GIADDR}],
             "user-context": BOOTP_CONTEXT}]


_DHCPD_LAN = """subnet 192.168.77.0 netmask 255.255.255.0 {
  range dynamic-bootp %s %s;
  option subnet-mask 255.255.255.0;
  option routers 192.168.77.1;
  option domain-name-servers 192.168.77.53, 192.168.77.54;
  option domain-name "lab.example";
  next-server %s;
  filename "%s";
}
host resv { hardware ethernet %s; fixed-address %s; }
""" % (POOL + (NEXT_SERVER, BOOT_FILE, RESERVED_MAC, RESERVED_IP))

_DHCPD_RELAY = """subnet 10.0.0.0 netmask 255.255.255.0 { }
subnet 192.168.78.0 netmask 255.255.255.0 {
  range dynamic-bootp %s %s;
  option subnet-mask 255.255.255.0;
  option routers %s;
  next-server %s;
  filename "%s";
}
""" % (RELAY_POOL + (GIADDR, RELAY_SERVER, BOOT_FILE))


def dhcpd(lab, ns, relayed=False):
    conf = lab.write("dhcpd.conf", "authoritative;\nping-check false;\n"
                     "default-lease-time 3600;\nmax-lease-time 3600;\n"
                     + (_DHCPD_RELAY if relayed else _DHCPD_LAN))
    leases = lab.write("dhcpd.leases", "")
    p = lab.popen(ns, ["dhcpd", "-4", "-f", "-d", "-cf", conf, "-lf", leases,
                       "-pf", lab.path("dhcpd.pid"), "s0"], log="dhcpd.log")
    L.wait_for(lambda: p.poll() is not None or "Sending on" in lab.read_log(p), 10, what="dhcpd up")
    if p.poll() is not None:
        raise L.LabError("dhcpd exited: " + lab.read_log(p))
    return p


def bootp_hook():
    found = sorted(glob.glob("/usr/lib/*/kea/hooks/libdhcp_bootp.so"))
    if not found:
        pytest.skip("libdhcp_bootp.so (Kea's BOOTP hook) not found")
    return found[0]


def kea(lab, ns, relayed=False):
    return L.kea_dhcp4(lab, ns, ["s0"], relay_subnets() if relayed else lan_subnets(),
                       extra={"hooks-libraries": [{"library": bootp_hook()}]})


def mpdhcp_config(lab, relayed=False):
    return M.dhcp4_config(lab, ["s0"], relay_subnets() if relayed else lan_subnets())


def mpdhcp(lab, ns, relayed=False):
    return M.MpdhcpServer(lab, ns, mpdhcp_config(lab, relayed))


def need(kind):
    """Skip unless this server can run here."""
    if kind == "dhcpd":
        require("dhcpd")
    elif kind == "kea":
        require("kea-dhcp4")
        bootp_hook()
    else:
        require("ip")
        if not M.micropython_path():
            pytest.skip("micropython (the Unix port) not found: run `make venv`")


def start(lab, kind, ns, relayed=False):
    need(kind)
    return {"dhcpd": dhcpd, "kea": kea, "mpdhcp": mpdhcp}[kind](lab, ns, relayed)


def lan(lab, kind, mac, tag=""):
    """srv (192.168.77.1/24 on s0) <-> cli (c0, MAC set to mac: a NIC's chaddr is its own
    address, and the reply may be a layer-2 unicast to it); the server of `kind` running."""
    srv, cli = lab.add_host("srv" + tag), lab.add_host("cli" + tag)
    lab.link(srv, "s0", cli, "c0")
    lab.addr(srv, "s0", SERVER + "/24")
    set_mac(lab, cli, mac)
    return srv, cli, start(lab, kind, srv)


def set_mac(lab, cli, mac, ifname="c0"):
    lab.ip(cli, "link", "set", ifname, "address", mac)


def relay(lab, kind):
    """srv (10.0.0.1/24 on s0, route to 192.168.78.0/24 via the relay) <-> rly (r1 10.0.0.2/24,
    and 192.168.78.1/24 on r0, a veth whose peer r9 stays in rly: the giaddr's subnet)."""
    need(kind)
    srv, rly = lab.add_host("srv"), lab.add_host("rly")
    lab.link(srv, "s0", rly, "r1")
    lab.addr(srv, "s0", RELAY_SERVER + "/24")
    lab.addr(rly, "r1", RELAY_PEER + "/24")
    lab.link(rly, "r0", rly, "r9")  # no dummy module in this kernel
    lab.addr(rly, "r0", GIADDR + "/24")
    lab.route(srv, "192.168.78.0/24", via=RELAY_PEER)
    return srv, rly, start(lab, kind, srv, relayed=True)


def infinite_lease(lab, kind, server, mac, addr):
    """The server's own record of the BOOTP lease says it never ends (bounded wait)."""
    if kind == "dhcpd":
        def rec():
            text = open(lab.path("dhcpd.leases")).read()
            block = text[text.find("lease %s {" % addr):]
            block = block[:block.find("}") + 1]
            return block if "hardware ethernet %s;" % mac in block else None
        block = L.wait_for(rec, 5, what="dhcpd lease of %s" % addr)
        assert "ends never;" in block and "dynamic-bootp;" in block, block
    elif kind == "kea":
        def rec():
            for line in open(lab.path("kea-leases4.csv")).read().splitlines()[1:]:
                f = line.split(",")
                if f[0] == addr and f[1] == mac:
                    return f
        f = L.wait_for(rec, 5, what="kea lease of %s" % addr)
        assert int(f[3]) == INFINITE, f  # valid_lifetime
    else:
        lease = L.wait_for(lambda: server.lease_for(mac), 5, what="our lease of %s" % mac)
        assert lease["ip-address"] == addr and lease["state"] == "bound", lease
        assert lease["valid-lft"] == INFINITE, lease  # as Kea's lease4-get-all shows it


# -- 1. a reserved client: the same answer from all three -------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_reserved_client(lab, kind):
    srv, cli, server = lan(lab, kind, RESERVED_MAC)
    for xid, variant in ((0x15000001, "rfc1048"), (0x15000002, "prl"), (0x15000003, "rfc1048")):
        r = one_reply(lab, cli, "c0", bootrequest(RESERVED_MAC, xid, variant))
        assert r["yiaddr"] == RESERVED_IP, r
        check_reply(r, xid, RESERVED_MAC, LAN_OPTIONS, NEXT_SERVER)
        check_lan_dest(kind, r, RESERVED_MAC)
    if kind != "dhcpd":  # a dhcpd host entry's fixed-address leaves no lease to look at
        infinite_lease(lab, kind, server, RESERVED_MAC, RESERVED_IP)
    if kind == "mpdhcp":
        server.stop()


def _same(r):
    """What must be identical across servers (not secs, TTL or, for ours, the destination)."""
    keep = ("op", "htype", "hlen", "hops", "flags", "ciaddr", "yiaddr", "siaddr", "giaddr",
            "chaddr", "sname", "file", "cookie", "length", "tail_zero", "sport", "dport")
    d = {k: r[k] for k in keep}
    d["options"] = {k: v.hex() for k, v in r["options"].items()}
    return d


def test_reserved_client_all_three_agree(lab):
    """The three side by side, each in its own namespace pair, both request variants."""
    for kind in KINDS:
        need(kind)
    answers = {}
    for i, kind in enumerate(KINDS):
        srv, cli, server = lan(lab, kind, RESERVED_MAC, tag=str(i))
        answers[kind] = [_same(one_reply(lab, cli, "c0", bootrequest(RESERVED_MAC, 0x1500 + n, v)))
                         for n, v in enumerate(("rfc1048", "prl"))]
    assert answers["kea"] == answers["dhcpd"], answers
    assert answers["mpdhcp"] == answers["dhcpd"], answers
    assert answers["dhcpd"][0] == answers["dhcpd"][1]  # the PRL changes nothing


# -- 2. a client without a reservation ------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_dynamic_client(lab, kind):
    # dhcpd: from the dynamic-bootp range; ours: from the pool (user-context dynamic-bootp);
    # Kea 2.2.0: from the pool as well (see above: its hook does not limit BOOTP to reservations)
    srv, cli, server = lan(lab, kind, DYNAMIC_MAC)
    addr = None
    for xid, variant in ((0x25000001, "rfc1048"), (0x25000002, "prl")):
        r = one_reply(lab, cli, "c0", bootrequest(DYNAMIC_MAC, xid, variant))
        assert _in(r["yiaddr"], *POOL), r
        assert addr in (None, r["yiaddr"]), (addr, r)  # asked again: the same address
        addr = r["yiaddr"]
        check_reply(r, xid, DYNAMIC_MAC, LAN_OPTIONS, NEXT_SERVER)
        check_lan_dest(kind, r, DYNAMIC_MAC)
    infinite_lease(lab, kind, server, DYNAMIC_MAC, addr)

    # a second client, with the broadcast flag (as PXE ROMs set it): another address, broadcast
    set_mac(lab, cli, OTHER_MAC)
    pkt = bytearray(bootrequest(OTHER_MAC, 0x25000003, "prl"))
    pkt[10] = 0x80
    r = one_reply(lab, cli, "c0", bytes(pkt))
    assert _in(r["yiaddr"], *POOL) and r["yiaddr"] != addr, (addr, r)
    check_reply(r, 0x25000003, OTHER_MAC, LAN_OPTIONS, NEXT_SERVER, flags=0x8000)
    check_lan_dest(kind, r, OTHER_MAC)
    if kind == "mpdhcp":
        server.stop()


# -- 3. relayed: the reply goes to giaddr, server port ------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_relayed_bootrequest(lab, kind):
    srv, rly, server = relay(lab, kind)
    addr = None
    for xid, variant in ((0x35000001, "rfc1048"), (0x35000002, "prl")):
        pkt = bootrequest(RELAY_MAC, xid, variant, giaddr=GIADDR, hops=1)
        r = one_reply(lab, rly, "r1", pkt, bind=(GIADDR, 67), dst=RELAY_SERVER, reply_port=67)
        assert (r["src"], r["sport"], r["dst"], r["dport"]) == (RELAY_SERVER, 67, GIADDR, 67), r
        assert r["dst_mac"] == lab.mac(rly, "r1"), r
        assert _in(r["yiaddr"], *RELAY_POOL), r
        assert addr in (None, r["yiaddr"]), (addr, r)
        addr = r["yiaddr"]
        check_reply(r, xid, RELAY_MAC, RELAY_OPTIONS, RELAY_SERVER, giaddr=GIADDR, hops=1)
    infinite_lease(lab, kind, server, RELAY_MAC, addr)
    if kind == "mpdhcp":
        assert server.lease_for(RELAY_MAC)["subnet-id"] == 2
        server.stop()


# -- 4. ours: the BOOTP lease is journaled and outlives a restart --------------------------------
def test_mpdhcp_bootp_lease_survives_restart(lab):
    srv, cli, server = lan(lab, "mpdhcp", DYNAMIC_MAC)
    r = one_reply(lab, cli, "c0", bootrequest(DYNAMIC_MAC, 0x45000001))
    addr = r["yiaddr"]
    assert _in(addr, *POOL), r
    infinite_lease(lab, "mpdhcp", server, DYNAMIC_MAC, addr)
    st = server.query("statistic-get-all")["arguments"]
    assert st["journal_records"] >= 1, st
    before = server.lease_for(DYNAMIC_MAC)

    server.stop()
    server.start()  # same config, same journal
    assert "1 leases restored" in server.serving_line(), server.serving_line()
    after = server.lease_for(DYNAMIC_MAC)
    for k in ("ip-address", "hw-address", "subnet-id", "state", "valid-lft", "expire"):
        assert after[k] == before[k], (k, before, after)
    infinite_lease(lab, "mpdhcp", server, DYNAMIC_MAC, addr)

    r = one_reply(lab, cli, "c0", bootrequest(DYNAMIC_MAC, 0x45000002, "prl"))
    assert r["yiaddr"] == addr, (addr, r)
    check_reply(r, 0x45000002, DYNAMIC_MAC, LAN_OPTIONS, NEXT_SERVER)
    set_mac(lab, cli, OTHER_MAC)  # a newcomer does not get the restored address
    r = one_reply(lab, cli, "c0", bootrequest(OTHER_MAC, 0x45000003))
    assert _in(r["yiaddr"], *POOL) and r["yiaddr"] != addr, (addr, r)
    server.stop()


# -- 5. the configs are Kea's ----------------------------------------------------------------------
def test_bootp_configs_accepted_by_kea(lab):
    need("kea")
    srv = lab.add_host("srv")
    lab.link(srv, "s0", srv, "x0")
    lab.addr(srv, "s0", SERVER + "/24")
    lab.addr(srv, "s0", RELAY_SERVER + "/24")
    env = dict(os.environ, KEA_PIDFILE_DIR=lab.tmp, KEA_LOCKFILE_DIR=lab.tmp)
    for name, relayed in (("lan", False), ("relay", True)):
        path = lab.write("kea-%s.json" % name, json.dumps(mpdhcp_config(lab, relayed), indent=1))
        r = lab.run(srv, ["kea-dhcp4", "-t", path], env=env, timeout=30)
        assert r.returncode == 0, "%s:\n%s%s" % (name, r.stdout[-2000:], r.stderr[-2000:])
