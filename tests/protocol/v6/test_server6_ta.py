# Server6 and IA_TA (RFC 8415 21.5, 21.6, 18.3): temporary addresses from the IA_NA pools, an
# IA of their own (no T1/T2), the same set for the same IAID while valid, released, declined,
# confirmed, journaled and never a reserved address.
from craft6 import (MAC1, MAC2, SERVER_DUID, opt, u32, duid_ll, ia_na, msg, decode, server, exchange)
from mpdhcp.wire.addr6 import ip6, ip6_str
from mpdhcp.state.journal import Journal
from mpdhcp.state import leases6 as L
from mpdhcp.wire import packet6 as P
from mpdhcp.slot import Slot

CID = duid_ll(MAC1)
RESERVED = b"\x00\x03\x00\x01\x02\x00\x00\x00\x00\x99"  # craft6.CONFIG reserves 2001:db8:1::99


def ia_ta(n=1, addrs=()):
    return opt(4, u32(n) + b"".join(opt(5, ip6(a) + u32(0) + u32(0)) for a in addrs))


def _tas(o):
    """[(iaid, [(address text, preferred, valid)], status or None)] of a reply's IA_TAs."""
    out = []
    for d in o.get(4, []):
        addrs = []
        st = None
        i = 4
        while i < len(d):
            code = (d[i] << 8) | d[i + 1]
            ln = (d[i + 2] << 8) | d[i + 3]
            v = d[i + 4:i + 4 + ln]
            if code == 5:
                addrs.append((ip6_str(v[:16]), int.from_bytes(v[16:20], "big"), int.from_bytes(v[20:24], "big")))
            elif code == 13:
                st = (v[0] << 8) | v[1]
            i += 4 + ln
        out.append((int.from_bytes(d[:4], "big"), addrs, st))
    return out


def _ex(s, mtype, ias, cid=CID, now=1000, sid=None):
    n, out = exchange(s, msg(mtype, tuple(ias), cid=cid, sid=sid), None, now)
    assert n > 0, s.stats
    return decode(out.buf, n)[2]


def _bind(s, ias, cid=CID, now=1000):
    adv = _ex(s, P.SOLICIT, ias, cid, now)
    back = tuple(opt(c, d) for c in (3, 4) for d in adv.get(c, []))
    return _ex(s, P.REQUEST, back, cid, now, SERVER_DUID)


def test_an_ia_ta_gets_a_pool_address_with_no_t1_t2():
    s = server()
    o = _ex(s, P.SOLICIT, (ia_ta(7),))
    (iaid, addrs, st), = _tas(o)
    assert iaid == 7 and st is None and len(o[4][0]) == 4 + 28  # IAID, then one IA Address
    assert addrs == [("2001:db8:1::100", 3000, 4000)]  # the subnet's pool and lifetimes
    o = _bind(s, (ia_ta(7),))
    (iaid, addrs, st), = _tas(o)
    r = s.leases.find_addr(ip6(addrs[0][0]), 0, 128)
    assert s.leases.state(r) == L.BOUND and s.leases.fields(r)[2] == L.TA


def test_ia_na_and_ia_ta_with_one_iaid_are_two_bindings():
    s = server()
    o = _bind(s, (ia_na(1), ia_ta(1)))
    na = o[3][0][12:]
    (iaid, addrs, st), = _tas(o)
    assert ip6(addrs[0][0]) != na[4:20] and iaid == 1


def test_the_same_iaid_gets_the_same_addresses_while_they_are_valid():
    # RFC 8415 21.5: the server MUST return the same set of temporary addresses for the same
    # IA_TA as long as they are valid; a new IAID gets new ones
    s = server()
    a = _tas(_bind(s, (ia_ta(7),)))[0][1][0][0]
    assert _tas(_ex(s, P.SOLICIT, (ia_ta(7),), now=1500))[0][1][0][0] == a
    b = _tas(_ex(s, P.SOLICIT, (ia_ta(8),), now=1500))[0][1][0][0]
    assert b != a


def test_renew_extends_release_frees_and_decline_holds_back():
    s = server()
    a = _tas(_bind(s, (ia_ta(7),)))[0][1][0][0]
    o = _ex(s, P.RENEW, (ia_ta(7, [a]),), now=2000, sid=SERVER_DUID)  # a client MAY (21.5)
    assert _tas(o)[0][1] == [(a, 3000, 4000)]
    r = s.leases.find_addr(ip6(a), 0, 128)
    assert s.leases.expiry(r) == 2000 + 4000
    _ex(s, P.RELEASE, (ia_ta(7, [a]),), now=2100, sid=SERVER_DUID)
    assert s.leases.state(r) == L.RELEASED
    b = _tas(_bind(s, (ia_ta(9),), now=2200))[0][1][0][0]
    _ex(s, P.DECLINE, (ia_ta(9, [b]),), now=2300, sid=SERVER_DUID)
    assert s.leases.state(s.leases.find_addr(ip6(b), 0, 128)) == L.DECLINED


def test_a_reserved_client_never_gets_its_reserved_address_as_a_temporary_one():
    s = server()
    o = _bind(s, (ia_na(1), ia_ta(1)), cid=RESERVED)
    assert o[3][0][16:32] == ip6("2001:db8:1::99")
    assert _tas(o)[0][1][0][0] != "2001:db8:1::99"


def test_confirm_checks_temporary_addresses_too():
    s = server()
    n, out = exchange(s, msg(P.CONFIRM, (ia_ta(7, ["2001:db8:1::105"]),), cid=CID))
    assert n and decode(out.buf, n)[2][13] == [b"\x00\x00"]
    n, out = exchange(s, msg(P.CONFIRM, (ia_ta(7, ["2001:db8:99::1"]),), cid=CID))
    assert decode(out.buf, n)[2][13][0][:2] == b"\x00\x04"  # NotOnLink


def test_temporary_bindings_are_journaled_as_ia_ta():
    j = Journal(None)
    s = server(journal=j)
    a = _tas(_bind(s, (ia_na(1), ia_ta(1))))[0][1][0][0]
    j.commit()
    s2 = server(journal=j)
    s2.restore()
    r = s2.leases.find_addr(ip6(a), 0, 128)
    assert r >= 0 and s2.leases.fields(r)[2] == L.TA and s2.leases.state(r) == L.BOUND
    assert _tas(_ex(s2, P.SOLICIT, (ia_ta(1),), now=1500))[0][1][0][0] == a  # still its own


def test_ia_ta_with_the_heap_locked():
    from heaplock import handle_locked
    from craft6 import meta

    s = server()
    _bind(s, (ia_ta(7),))  # warm-up
    for req in (msg(P.SOLICIT, (ia_ta(7),), cid=CID), msg(P.SOLICIT, (ia_ta(8), ia_na(2)), cid=duid_ll(MAC2)),
                msg(P.RENEW, (ia_ta(7, ["2001:db8:1::100"]),), cid=CID, sid=SERVER_DUID)):
        assert handle_locked(s, req, meta(), 1500, Slot()) > 0
