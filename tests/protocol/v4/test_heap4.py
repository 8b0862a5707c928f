# The packet path allocates nothing: every kind of exchange runs with the MicroPython heap
# locked (micropython.heap_lock), after one warm-up call so lazy state exists. Packets, Slots
# and expectations are all built before locking; assertions run after unlocking.
# Under CPython the conftest stub makes heap_lock/heap_unlock no-ops (the logic still runs).
# Addresses are above 128.0.0.0 so a 31-bit small-int slip would allocate on 32-bit builds.
from heaplock import handle_locked
from craft4 import pkt, opt, meta, options, yiaddr, MAC1, MAC2
from mpdhcp.wire.addr import ip4
from mpdhcp.config.parser import parse
from mpdhcp.v4.server4 import Server4
from mpdhcp.slot import Slot
from mpdhcp.state.journal import Journal

CONFIG = """{"Dhcp4": {
  "interfaces-config": {"interfaces": ["s0"]},
  "valid-lifetime": 3600, "renew-timer": 1000, "rebind-timer": 2000,
  "subnet4": [
    {"id": 1, "subnet": "192.168.77.0/24",
     "pools": [{"pool": "192.168.77.100 - 192.168.77.109"}, {"pool": "192.168.77.200 - 192.168.77.229"}],
     "option-data": [{"name": "routers", "data": "192.168.77.1"},
                     {"name": "domain-name-servers", "data": "192.168.77.1, 9.9.9.9"},
                     {"name": "domain-search", "data": "lan, example.org"},
                     {"name": "interface-mtu", "data": "1400"}],
     "reservations": [{"hw-address": "02:00:00:00:00:99", "ip-address": "192.168.77.50",
                       "hostname": "printer"}]},
    {"id": 2, "subnet": "203.0.113.0/24", "pools": [{"pool": "203.0.113.10 - 203.0.113.250"}],
     "relay": {"ip-addresses": ["198.51.100.1"]}},
    {"id": 3, "subnet": "172.30.0.0/20", "pools": [{"pool": "172.30.1.0 - 172.30.8.255"}],
     "relay": {"ip-addresses": ["198.51.100.2"]}}
  ]}}"""

SID = ip4("192.168.77.1")
NOW = 1000
MAC3 = b"\x02\x00\x00\x00\x00\x03"
MAC4 = b"\x02\x00\x00\x00\x00\x04"
MAC_W = b"\x02\x00\x00\x00\x00\xee"  # the warm-up client
MAC_RES = b"\x02\x00\x00\x00\x00\x99"
PRL = [1, 3, 6, 12, 15, 26, 28, 42, 119, 121]


def _server(capacity=64):
    return Server4(parse(CONFIG), Journal(None), capacity), meta(), Slot()


def _locked(s, req, m, now, out, n=None):
    """handle() with the heap locked. Returns the reply length; fails if it allocated."""
    return handle_locked(s, req, m, now, out, n)


def _plain(s, req, m, now, out):
    return s.handle(req, len(req), m, now, out)


def _type(out, n):
    return options(out.buf, n)[53][0]


def _bind(s, m, out, mac, now=NOW, extra=()):
    """Unlocked DISCOVER + SELECTING REQUEST; returns the bound address (bytes)."""
    n = _plain(s, pkt(1, mac, opts=extra), m, now, out)
    assert n > 0
    a = bytes(out.buf[16:20])
    n = _plain(s, pkt(3, mac, opts=(opt(50, a), opt(54, SID)) + tuple(extra)), m, now, out)
    assert n > 0 and _type(out, n) == 5
    return a


def test_discover_locked():
    s, m, out = _server()
    warm = pkt(1, MAC_W, prl=PRL)
    new = pkt(1, MAC1, prl=PRL, opts=(opt(57, [5, 220]), opt(12, b"laptop")))
    again = pkt(1, MAC1, xid=0x99, prl=PRL)
    assert _plain(s, warm, m, NOW, out) > 0
    n = _locked(s, new, m, NOW, out)  # a new client: pool scan, new record, index inserts
    assert n > 0 and _type(out, n) == 2
    first = yiaddr(out.buf)
    n = _locked(s, again, m, NOW, out)  # the same client again: found by key
    assert n > 0 and _type(out, n) == 2 and yiaddr(out.buf) == first
    assert options(out.buf, n)[26] == b"\x05\x78"


def test_discover_requested_address_and_client_id_locked():
    s, m, out = _server()
    long_cid = b"\x00" + b"a-long-client-identifier-" * 3  # > 20 bytes: hashed key path
    warm = pkt(1, MAC_W, opts=(opt(61, long_cid[:30]),))
    req = pkt(1, MAC2, prl=PRL, opts=(opt(50, ip4("192.168.77.225")), opt(61, long_cid)))
    split = pkt(1, MAC3, prl=PRL, opts=(opt(61, b"\x01\x02"), opt(61, MAC3)))  # RFC 3396 split key
    assert _plain(s, warm, m, NOW, out) > 0
    n = _locked(s, req, m, NOW, out)
    assert n > 0 and _type(out, n) == 2 and yiaddr(out.buf) == "192.168.77.225"
    n = _locked(s, split, m, NOW, out)
    assert n > 0 and _type(out, n) == 2


def test_discover_reservation_locked():
    s, m, out = _server()
    warm = pkt(1, MAC_W, prl=PRL)
    res = pkt(1, MAC_RES, prl=PRL)
    assert _plain(s, warm, m, NOW, out) > 0
    n = _locked(s, res, m, NOW, out)
    assert n > 0 and yiaddr(out.buf) == "192.168.77.50"
    assert options(out.buf, n)[12] == b"printer"


def test_discover_relayed_locked():
    s, m, out = _server()
    o82 = opt(82, b"\x01\x06port-7\x02\x08remote-1")
    warm = pkt(1, MAC_W, giaddr="198.51.100.1", opts=(o82,))
    relayed = pkt(1, MAC1, giaddr="198.51.100.1", prl=PRL, opts=(o82,))
    other = pkt(1, MAC2, giaddr="198.51.100.2", prl=PRL)
    assert _plain(s, warm, m, NOW, out) > 0
    n = _locked(s, relayed, m, NOW, out)
    assert n > 0 and yiaddr(out.buf).startswith("203.0.113.")
    assert options(out.buf, n)[82] == o82[2:]
    assert bytes(out.dest[:4]) == ip4("198.51.100.1") and out.port == 67
    n = _locked(s, other, m, NOW, out)
    assert n > 0 and yiaddr(out.buf).startswith("172.30.")


def test_discover_recycles_expired_offer_locked():
    # every pool address held by an offer that has since expired: the oldest is reused
    s, m, out = _server()
    macs = [bytes([2, 0, 0, 0, 7, i]) for i in range(41)]
    for mac in macs[:40]:  # 10 + 30 addresses in the two pools
        assert _plain(s, pkt(1, mac), m, NOW, out) > 0
    late = NOW + 100  # past OFFER_HOLD
    warm = pkt(1, macs[39], xid=7)  # one of the old clients: the pool stays full
    new = pkt(1, macs[40], prl=PRL)
    assert _plain(s, warm, m, late, out) > 0
    n = _locked(s, new, m, late, out)
    assert n > 0 and _type(out, n) == 2


def test_discover_pool_exhausted_locked():
    s, m, out = _server()
    for i in range(40):
        _bind(s, m, out, bytes([2, 0, 0, 0, 8, i]))
    st = s.stats
    warm = pkt(1, MAC_W)
    late = pkt(1, MAC1)
    assert _plain(s, warm, m, NOW, out) == 0
    ex = st["pool_exhausted"]
    n = _locked(s, late, m, NOW, out)
    assert n == 0 and st["pool_exhausted"] == ex + 1


def test_discover_lease_table_full_locked():
    # fewer records than pool addresses: a free address, but no free record; an expired one is reused
    s, m, out = _server(8)
    for i in range(8):
        assert _plain(s, pkt(1, bytes([2, 0, 0, 0, 9, i])), m, NOW, out) > 0
    late = NOW + 100
    warm = pkt(1, bytes([2, 0, 0, 0, 9, 7]), xid=7)
    new = pkt(1, MAC1, prl=PRL)
    assert _plain(s, warm, m, late, out) > 0
    n = _locked(s, new, m, late, out)
    assert n > 0 and _type(out, n) == 2


def test_request_selecting_locked():
    s, m, out = _server()
    _bind(s, m, out, MAC_W)  # warm: a whole DORA
    assert _plain(s, pkt(1, MAC1), m, NOW, out) > 0
    a = bytes(out.buf[16:20])
    req = pkt(3, MAC1, prl=PRL, opts=(opt(50, a), opt(54, SID), opt(12, b"my-host"), opt(57, [2, 64])))
    j = s.stats["journal_records"]
    n = _locked(s, req, m, NOW, out)
    assert n > 0 and _type(out, n) == 5 and bytes(out.buf[16:20]) == a
    assert s.stats["journal_records"] == j + 1


def test_request_renewing_locked():
    s, m, out = _server()
    w = _bind(s, m, out, MAC_W)
    a = _bind(s, m, out, MAC1)
    warm = pkt(3, MAC_W, ciaddr="%d.%d.%d.%d" % tuple(w))
    renew = pkt(3, MAC1, ciaddr="%d.%d.%d.%d" % tuple(a), prl=PRL)
    assert _plain(s, warm, m, NOW + 5, out) > 0
    n = _locked(s, renew, m, NOW + 1800, out)
    assert n > 0 and _type(out, n) == 5 and bytes(out.buf[16:20]) == a
    assert bytes(out.dest[:4]) == a  # unicast back to the renewing client


def test_request_init_reboot_locked():
    s, m, out = _server()
    w = _bind(s, m, out, MAC_W)
    a = _bind(s, m, out, MAC1)
    warm = pkt(3, MAC_W, opts=(opt(50, w),))
    reboot = pkt(3, MAC1, opts=(opt(50, a),), prl=PRL)
    assert _plain(s, warm, m, NOW + 5, out) > 0
    n = _locked(s, reboot, m, NOW + 60, out)
    assert n > 0 and _type(out, n) == 5 and bytes(out.buf[16:20]) == a


def test_request_nak_locked():
    s, m, out = _server()
    _bind(s, m, out, MAC_W)
    _bind(s, m, out, MAC1)
    foreign = ip4("192.168.77.150")  # in the subnet, in no pool
    warm = pkt(3, MAC_W, opts=(opt(50, foreign),))
    reboot = pkt(3, MAC1, opts=(opt(50, foreign),))
    select = pkt(3, MAC2, opts=(opt(50, foreign), opt(54, SID)))
    relayed = pkt(3, MAC3, giaddr="198.51.100.1", opts=(opt(50, ip4("203.0.113.5")), opt(54, SID)))
    assert _plain(s, warm, m, NOW, out) > 0
    nak = s.stats["nak"]
    for req in (reboot, select, relayed):
        n = _locked(s, req, m, NOW, out)
        assert n > 0 and _type(out, n) == 6
    assert s.stats["nak"] == nak + 3


def test_request_for_another_server_locked():
    s, m, out = _server()
    _bind(s, m, out, MAC_W)
    assert _plain(s, pkt(1, MAC1), m, NOW, out) > 0
    a = bytes(out.buf[16:20])
    warm = pkt(3, MAC_W, opts=(opt(50, a), opt(54, ip4("192.168.77.2"))))
    other = pkt(3, MAC1, opts=(opt(50, a), opt(54, ip4("192.168.77.2"))))
    assert _plain(s, warm, m, NOW, out) == 0
    n = _locked(s, other, m, NOW, out)
    assert n == 0 and s.stats["dropped_not_for_us"] == 2


def test_release_locked():
    s, m, out = _server()
    w = _bind(s, m, out, MAC_W)
    a = _bind(s, m, out, MAC1)
    warm = pkt(7, MAC_W, ciaddr="%d.%d.%d.%d" % tuple(w), opts=(opt(54, SID),))
    rel = pkt(7, MAC1, ciaddr="%d.%d.%d.%d" % tuple(a), opts=(opt(54, SID),))
    assert _plain(s, warm, m, NOW + 10, out) == 0
    j = s.stats["journal_records"]
    n = _locked(s, rel, m, NOW + 20, out)
    assert n == 0 and s.stats["release"] == 2 and s.stats["journal_records"] == j + 1


def test_decline_locked():
    s, m, out = _server()
    w = _bind(s, m, out, MAC_W)
    a = _bind(s, m, out, MAC1)
    warm = pkt(4, MAC_W, opts=(opt(50, w), opt(54, SID)))
    dec = pkt(4, MAC1, opts=(opt(50, a), opt(54, SID)))
    assert _plain(s, warm, m, NOW + 10, out) == 0
    j = s.stats["journal_records"]
    n = _locked(s, dec, m, NOW + 20, out)
    assert n == 0 and s.stats["decline"] == 2 and s.stats["journal_records"] == j + 1


def test_inform_locked():
    s, m, out = _server()
    warm = pkt(8, MAC_W, ciaddr="192.168.77.20", prl=PRL)
    inf = pkt(8, MAC1, ciaddr="192.168.77.21", prl=PRL)
    assert _plain(s, warm, m, NOW, out) > 0
    n = _locked(s, inf, m, NOW, out)
    assert n > 0 and _type(out, n) == 5
    o = options(out.buf, n)
    assert 51 not in o and o[26] == b"\x05\x78"


def test_malformed_and_unknown_drops_locked():
    s, m, out = _server()
    assert _plain(s, pkt(1, MAC_W), m, NOW, out) > 0
    bad_cookie = pkt(1, cookie=b"\x00\x00\x00\x00")[:299]  # (300 bytes and more: BOOTP)
    overrun = pkt(1, opts=(b"\x0c\xff",), end=False)
    critical = pkt(1, opts=(opt(53, [1]),))
    overload = pkt(1, opts=(opt(52, [7]),))
    big = bytearray(1600)
    short = bytearray(100)
    unknown = pkt(13)
    warm = pkt(1, hlen=7)
    assert _plain(s, warm, m, NOW, out) == 0
    for b in (bad_cookie, overrun, critical, overload, big, short, unknown):
        assert _locked(s, b, m, NOW, out) == 0
    assert s.stats["dropped_malformed"] == 7 and s.stats["dropped_type"] == 1


def test_far_clock_locked():
    # the engine clock (seconds since 2000) near 2**30 - lifetime: still small ints on 32-bit
    s, m, out = _server()
    now = 1000000000
    _bind(s, m, out, MAC_W, now)
    a = _bind(s, m, out, MAC1, now)
    renew = pkt(3, MAC1, ciaddr="%d.%d.%d.%d" % tuple(a))
    new = pkt(1, MAC2)
    n = _locked(s, renew, m, now + 1800, out)
    assert n > 0 and _type(out, n) == 5
    n = _locked(s, new, m, now + 1800, out)
    assert n > 0 and _type(out, n) == 2
