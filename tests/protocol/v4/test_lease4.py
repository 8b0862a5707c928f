# Mirrors firmware/mpdhcp/v4/lease4.py: Offers4 (the offer a client selects, RFC 2131 4.4.1),
# Kept4 (the ACK's options the adapter applies: RFC 2132, RFC 3396, RFC 3442) and Memory4
# (the remembered lease, through an in-memory journal).
from craft4 import pkt, opt
from mpdhcp.wire.addr import ip4
from mpdhcp.wire import packet4 as P
from mpdhcp.wire.options4 import fqdn
from mpdhcp.v4.lease4 import Offers4, Kept4, Memory4, MAX_OFFERS, J_CLIENT4, JREC
from mpdhcp.state.journal import Journal

A1, A2, A3 = ip4("192.168.77.100"), ip4("192.168.77.101"), ip4("192.168.77.102")
S1, S2, S3 = ip4("192.168.77.1"), ip4("192.168.77.2"), ip4("192.168.77.3")


def _offer(offers, addr, sid):
    rx = bytearray(12)  # an offer's yiaddr at 2, its server id at 8 (offsets into the packet)
    rx[2:6] = addr
    rx[8:12] = sid
    offers.add(rx, 2, 8)


def _pick(offers, prev):
    addr = bytearray(4)
    sid = bytearray(4)
    offers.pick(prev, addr, sid)
    return bytes(addr), bytes(sid)


def test_offers_one_per_server():
    o = Offers4()
    _offer(o, A1, S1)
    _offer(o, A2, S1)  # a repeat from the same server replaces nothing
    _offer(o, A2, S2)
    assert o.n == 2
    assert _pick(o, None) == (A1, S1)
    assert _pick(o, A2) == (A2, S2)


def test_offers_at_most_max_offers():
    o = Offers4()
    for i in range(MAX_OFFERS + 3):
        _offer(o, ip4("10.0.0.%d" % (10 + i)), ip4("10.0.1.%d" % (1 + i)))
    assert o.n == MAX_OFFERS == 4
    assert _pick(o, ip4("10.0.0.13")) == (ip4("10.0.0.13"), ip4("10.0.1.4"))  # the last one kept
    assert _pick(o, ip4("10.0.0.14")) == (ip4("10.0.0.10"), ip4("10.0.1.1"))  # dropped: the first wins


def test_offers_previous_address_wins_else_the_first():
    o = Offers4()
    _offer(o, A1, S1)
    _offer(o, A2, S2)
    _offer(o, A3, S3)
    assert _pick(o, bytearray(A3)) == (A3, S3)
    assert _pick(o, A2) == (A2, S2)
    assert _pick(o, ip4("10.9.9.9")) == (A1, S1)  # held before, not offered now: the first
    assert _pick(o, None) == (A1, S1)


def _ack(opts=(), yiaddr="192.168.77.100"):
    b = pkt(5, op=2, opts=tuple(opts))
    b[16:20] = ip4(yiaddr)
    return b


def _take(k, b):
    assert k.opts.parse(b, len(b), P.BOOTREPLY) == 0
    return k.take(b)


FULL = (opt(1, ip4("255.255.255.0")), opt(3, ip4("192.168.77.1")), opt(6, ip4("9.9.9.9") + ip4("1.1.1.1")),
        opt(15, b"lan"), opt(119, fqdn("lan") + fqdn("example.org")), opt(26, b"\x05\xdc"))


def test_take_reports_what_changed():
    k = Kept4(P.Options())
    assert _take(k, _ack(FULL))
    assert (k.plen, k.mtu) == (24, 1500)
    assert _take(k, _ack(FULL)) is False  # the same options again: nothing changed
    swapped = FULL[:2] + (opt(6, ip4("1.1.1.1") + ip4("9.9.9.9")),) + FULL[3:]
    assert _take(k, _ack(swapped))  # same length, other bytes
    assert _take(k, _ack(swapped)) is False
    steps = (
        FULL[:1] + FULL[2:],  # routers gone
        (opt(1, ip4("255.255.0.0")),) + FULL[1:],  # another mask
        FULL[:5] + (opt(26, b"\x05\x78"),),  # another MTU
        FULL[:3] + (opt(15, b"lan2"),) + FULL[4:],  # a longer domain
        FULL[:4] + (opt(119, fqdn("lan")),) + FULL[5:],  # a shorter search list
        FULL + (opt(121, b"\x00" + ip4("192.168.77.1")),),  # classless routes added
    )
    for opts in steps:
        assert _take(k, _ack(opts)), opts
        assert _take(k, _ack(opts)) is False, opts
        assert _take(k, _ack(FULL)), opts  # and back
    assert _take(k, _ack(()))  # everything gone
    assert (k.routers_n, k.dns_n, k.domain_n, k.search_n, k.routes_n, k.mtu) == (0, 0, 0, 0, 0, 0)


def test_mask_gives_the_prefix_length():
    k = Kept4(P.Options())
    for mask, n in (("255.255.255.0", 24), ("255.255.255.252", 30), ("255.0.0.0", 8), ("255.255.255.255", 32)):
        _take(k, _ack((opt(1, ip4(mask)),), "10.1.2.3"))
        assert k.plen == n and k.info()["prefix"] == n, mask


def test_classful_fallback_without_option_1():
    k = Kept4(P.Options())
    for addr, n in (("10.1.2.3", 8), ("172.16.5.9", 16), ("192.168.77.100", 24)):
        _take(k, _ack((), addr))
        assert k.plen == n, addr
    _take(k, _ack((opt(1, b"\xff\xff\xff"),), "10.1.2.3"))  # a mask that is not 4 bytes is ignored
    assert k.plen == 8


def test_info_values_and_rfc3396_concatenation():
    k = Kept4(P.Options())
    search = fqdn("lan") + fqdn("example.org")
    _take(k, _ack(FULL[:4] + (opt(119, search[:6]), opt(119, search[6:]), FULL[5])))  # split in two
    d = k.info()
    assert d == {"prefix": 24, "routers": ["192.168.77.1"], "routes": [("0.0.0.0", 0, "192.168.77.1")],
                 "dns": ["9.9.9.9", "1.1.1.1"], "domain": "lan", "search": ["lan", "example.org"], "mtu": 1500}
    _take(k, _ack(()))
    d = k.info()
    assert d["routers"] == [] and d["routes"] == [] and d["dns"] == [] and d["search"] == []
    assert d["domain"] == "" and d["mtu"] == 0 and d["prefix"] == 24  # 192.168.77.100: class C


def test_classless_routes_win_over_routers():
    # RFC 3442: with both options the client MUST ignore the Router option
    k = Kept4(P.Options())
    routes = b"\x18\x0a\x00\x00" + ip4("192.168.77.254") + b"\x00" + ip4("192.168.77.2")
    _take(k, _ack(FULL + (opt(121, routes),)))
    d = k.info()
    assert d["routes"] == [("10.0.0.0", 24, "192.168.77.254"), ("0.0.0.0", 0, "192.168.77.2")]
    assert ("0.0.0.0", 0, "192.168.77.1") not in d["routes"]
    _take(k, _ack(FULL + (opt(121, b"\x18\x0a\x00\x00" + ip4("192.168.77.254")),)))  # no default route in 121
    assert k.info()["routes"] == [("10.0.0.0", 24, "192.168.77.254")]
    _take(k, _ack(FULL + (opt(121, b"\x21" + bytes(8)),)))  # malformed 121: the router option stands
    assert k.info()["routes"] == [("0.0.0.0", 0, "192.168.77.1")]
    _take(k, _ack((opt(121, b"\x00\x00\x00\x00\x00"),)))  # on-link default route, no option 3
    assert k.info()["routes"] == [("0.0.0.0", 0, "0.0.0.0")]


def _mem(j=None):
    return Memory4(j if j is not None else Journal(None), {"journal_records": 0})


def _state(m):
    return (m.have, bytes(m.addr), bytes(m.sid), m.expiry, m.plen)


def test_memory_record_and_replay():
    j = Journal(None)
    m = _mem(j)
    m.record(A1, S1, 800001234, 24)
    assert _state(m) == (True, A1, S1, 800001234, 24) and m.stats["journal_records"] == 1
    assert len(j.memory) == 0  # staged until the commit
    j.commit()
    assert len(j.memory) == JREC + 5 and j.memory[1] == J_CLIENT4
    m2 = _mem(j)
    m2.load()
    assert _state(m2) == (True, A1, S1, 800001234, 24)
    m.record(A2, S2, 0, 16)  # a RELEASE: remembered without expiry
    j.commit()
    m3 = _mem(j)
    m3.load()
    assert _state(m3) == (True, A2, S2, 0, 16)  # the last record wins


def test_memory_forgotten_and_ignored_records():
    j = Journal(None)
    m = _mem(j)
    m.record(A1, S1, 5000, 24)
    m.record(bytes(4), bytes(4), 0, 0)  # forgotten
    j.commit()
    m2 = _mem(j)
    m2.load()
    assert not m2.have
    j = Journal(None)
    m = _mem(j)
    m.record(A1, S1, 5000, 24)
    j.append(J_CLIENT4 + 1, b"\x01" * JREC, 0, JREC)  # another engine's record
    j.append(J_CLIENT4, b"\x01" * 12, 0, 12)  # a record of another length
    m.record(A2, S2, 0x40000000, 24)  # an expiry past the small-int range is not replayed
    j.commit()
    m2 = _mem(j)
    m2.load()
    assert _state(m2) == (True, A1, S1, 5000, 24)


def test_memory_dump_compacts_to_one_record():
    j = Journal(None)
    m = _mem(j)
    for i in range(5):
        m.record(A1, S1, 1000 + i, 24)
    j.commit()
    assert len(j.memory) == 5 * (JREC + 5)
    j.rewrite(m.dump)
    assert len(j.memory) == JREC + 5 and m.stats["journal_records"] == 5  # compaction is not counted
    m2 = _mem(j)
    m2.load()
    assert _state(m2) == (True, A1, S1, 1004, 24)
    j = Journal(None)
    _mem(j).dump(j)  # nothing held: nothing dumped
    j.commit()
    assert len(j.memory) == 0
