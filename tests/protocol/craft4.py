# Builds DHCPv4 client packets for the protocol tests (allocates freely: test side only).
from mpdhcp.wire.addr import ip4
from mpdhcp.config.parser import parse
from mpdhcp.v4.server4 import Server4
from mpdhcp.slot import Meta, Slot
from mpdhcp.state.journal import Journal

MAC1 = b"\x02\x00\x00\x00\x00\x01"
MAC2 = b"\x02\x00\x00\x00\x00\x02"
SERVER = "192.168.77.1"

CONFIG = """{"Dhcp4": {
  "interfaces-config": {"interfaces": ["s0"]},
  "valid-lifetime": 3600, "renew-timer": 1000, "rebind-timer": 2000,
  "subnet4": [
    {"id": 1, "subnet": "192.168.77.0/24",
     "pools": [{"pool": "192.168.77.100 - 192.168.77.109"}],
     "option-data": [{"name": "routers", "data": "192.168.77.1"},
                     {"name": "domain-name-servers", "data": "192.168.77.1, 9.9.9.9"},
                     {"name": "domain-search", "data": "lan, example.org"},
                     {"name": "interface-mtu", "data": "1400"}],
     "reservations": [{"hw-address": "02:00:00:00:00:99", "ip-address": "192.168.77.50",
                       "hostname": "printer"}]},
    {"id": 2, "subnet": "10.20.0.0/16", "pools": [{"pool": "10.20.1.0/24"}],
     "relay": {"ip-addresses": ["172.16.0.1"]}}
  ]}}"""


def opt(code, data):
    return bytes([code, len(data)]) + bytes(data)


def pkt(mtype, mac=MAC1, xid=0x1234, ciaddr=None, giaddr=None, flags=0, opts=(), prl=None, op=1,
        htype=1, hlen=6, cookie=b"\x63\x82\x53\x63", end=True):
    b = bytearray(240)
    b[0] = op
    b[1] = htype
    b[2] = hlen
    b[4:8] = xid.to_bytes(4, "big")
    b[10:12] = flags.to_bytes(2, "big")
    if ciaddr:
        b[12:16] = ip4(ciaddr)
    if giaddr:
        b[24:28] = ip4(giaddr)
    b[28:34] = mac
    b[236:240] = cookie
    if mtype is not None:
        b += opt(53, [mtype])
    if prl is not None:
        b += opt(55, prl)
    for o in opts:
        b += o
    if end:
        b += b"\xff"
    while len(b) < 300:
        b.append(0)
    return b


def server(config=CONFIG, capacity=64, journal=None):
    from mpdhcp.config.parser import parse
    s = Server4(parse(config), journal if journal is not None else Journal(None), capacity)
    return s


def meta(ifname="s0", ifaddr=SERVER):
    m = Meta()
    m.ifname = ifname
    m.ifaddr[:] = ip4(ifaddr)
    return m


def options(reply, n):
    """Decode a reply's options into {code: bytes} (concatenating repeats, RFC 3396)."""
    out = {}
    i = 240
    while i < n:
        c = reply[i]
        if c == 255:
            break
        if c == 0:
            i += 1
            continue
        ln = reply[i + 1]
        out[c] = out.get(c, b"") + bytes(reply[i + 2 : i + 2 + ln])
        i += 2 + ln
    return out


def yiaddr(reply):
    return "%d.%d.%d.%d" % tuple(reply[16:20])


def exchange(s, req, m=None, now=1000):
    """Run one request through the engine; returns (length, slot)."""
    out = Slot()
    n = s.handle(req, len(req), m or meta(), now, out)
    return n, out


def dora(s, mac=MAC1, now=1000, extra=(), m=None):
    """DISCOVER + REQUEST in SELECTING; returns the ACKed address and the ACK options."""
    n, out = exchange(s, pkt(1, mac, opts=extra), m, now)
    assert n > 0
    addr = yiaddr(out.buf)
    req = pkt(3, mac, opts=(opt(50, ip4(addr)), opt(54, (m or meta()).ifaddr)) + tuple(extra))
    n, out = exchange(s, req, m, now)
    o = options(out.buf, n)
    assert o[53] == b"\x05", o
    return yiaddr(out.buf), o
