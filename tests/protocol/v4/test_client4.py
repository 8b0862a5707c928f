# Client4 behaviour, one function per transition of RFC 2131 figure 5, with a fake clock.
# The peer is either our own Server4 engine (a client-server pair wired through the fake
# clock) or crafted replies (for what a well-behaved server never sends). The *_locked tests
# run every received message type and every timer event with the heap locked
# (micropython.heap_lock; a no-op stub under CPython), after warm-up calls.
import micropython
from heaplock import handle_locked
from craft4 import pkt, opt, meta, options, server
from mpdhcp.wire.addr import ip4
from mpdhcp.v4 import client4 as C
from mpdhcp.wire import packet4 as P
from mpdhcp.config.parser import parse_doc
from mpdhcp.slot import Slot, KIND_BROADCAST, KIND_UNICAST
from mpdhcp.state.journal import Journal

HW = b"\x02\x00\x00\x00\x00\x42"
SID = ip4("192.168.77.1")
SID2 = ip4("192.168.77.2")
NOW = 1000
FAR = 800000000  # a 2025-ish engine clock: deadlines must stay small ints on 32-bit builds
PRL = bytes((1, 3, 6, 15, 26, 28, 42, 51, 54, 58, 59, 119, 121))


class Seq:
    """Injectable randomness: jitter fixed at `jitter` (-1, 0, +1); xids count up."""

    def __init__(self, jitter=0):
        self.j = jitter
        self.k = 0

    def __call__(self, n):
        if n == 3:
            return self.j + 1
        self.k += 1
        return (self.k * 7919) % n


def _cfg(extra=""):
    return parse_doc('{"Client4": {"interface": "c0", "hostname": "router", "offer-window": 0%s}}'
                     % extra).get("Client4")


def client(extra="", journal=None, jitter=0):
    return C.Client4(_cfg(extra), journal if journal is not None else Journal(None), HW, Seq(jitter))


def xid_of(c):
    return (c.xid[0] << 24) | (c.xid[1] << 16) | (c.xid[2] << 8) | c.xid[3]


def reply(c, mtype, yiaddr="192.168.77.100", sid=SID, lease=3600, t1=None, t2=None, extra=(),
          xid=None, mac=HW, op=2):
    """A server reply to client c (its current xid unless given)."""
    o = []
    if sid is not None:
        o.append(opt(54, sid))
    if mtype in (2, 5) and lease is not None:
        o.append(opt(51, lease.to_bytes(4, "big")))
        o.append(opt(1, b"\xff\xff\xff\x00"))
    if t1 is not None:
        o.append(opt(58, t1.to_bytes(4, "big")))
    if t2 is not None:
        o.append(opt(59, t2.to_bytes(4, "big")))
    b = pkt(mtype, mac, xid=xid_of(c) if xid is None else xid, opts=tuple(o) + tuple(extra), op=op)
    if mtype != 6:
        b[16:20] = ip4(yiaddr)
    return b


def tick(c, now):
    out = Slot()
    n = c.on_timer(now, out)
    return n, out


def feed(c, b, now=NOW):
    out = Slot()
    n = c.handle(b, len(b), meta("c0", "0.0.0.0"), now, out)
    return n, out


def opts_of(out, n):
    return options(out.buf, n)


def bound_client(extra="", lease=3600, t1=1000, t2=2000, now=NOW, journal=None, ack_extra=()):
    """A client taken through DISCOVER / OFFER / REQUEST / ACK with crafted replies."""
    c = client(extra, journal)
    n, out = tick(c, now)
    assert n > 0 and c.state == C.SELECTING
    n, out = feed(c, reply(c, 2, lease=lease), now)
    assert n > 0 and c.state == C.REQUESTING
    feed(c, reply(c, 5, lease=lease, t1=t1, t2=t2, extra=ack_extra), now)
    assert c.state == C.BOUND
    return c


# -- INIT -> SELECTING ---------------------------------------------------------------------

def test_discover_format():
    c = client()
    assert c.next_deadline() == 0  # starts at the first runner step
    n, out = tick(c, NOW)
    b = out.buf
    o = opts_of(out, n)
    assert c.state == C.SELECTING
    assert b[0] == 1 and b[1] == 1 and b[2] == 6 and b[10] == 0x80  # BOOTREQUEST, broadcast flag
    assert bytes(b[28:34]) == HW and bytes(b[4:8]) == bytes(c.xid)
    assert bytes(b[12:16]) == b"\0\0\0\0"
    assert o[53] == b"\x01" and o[61] == b"\x01" + HW and o[12] == b"router"
    assert o[60] == b"mpdhcp" and o[55] == PRL and o[57] == b"\x05\xdc"
    assert 54 not in o and 50 not in o
    assert out.kind == KIND_BROADCAST and bytes(out.dest[:4]) == b"\xff\xff\xff\xff" and out.port == 67
    assert c.next_deadline() == NOW + 4
    assert c.stats["discover"] == 1 and c.stats["tx"] == 1


def test_a_reply_slot_of_reply_room_bytes_holds_every_message():
    # the runner sizes its slots by reply_room: DISCOVER and REQUEST with the longest client
    # id, hostname, vendor class and parameter list come out the same as in 1500 bytes
    extra = (', "client-id": "' + ":".join(["ab"] * 255) + '", "vendor-class": "' + "v" * 255
             + '", "requested-options": [' + ", ".join(str(i) for i in range(1, 255)) + ']')
    for e in ("", extra):
        room = client(e).reply_room()
        assert 300 <= room <= 1500
        got = []
        for size in (room, 1500):
            c = client(e)
            out = Slot(size)
            n = c.on_timer(NOW, out)
            got.append(bytes(out.buf[:n]))
        assert got[0] == got[1] and len(got[0]) > 240
    assert client(extra).reply_room() > 1000 > client().reply_room()


def test_discover_backoff_doubles_to_64_then_starts_over():
    c = client()
    tick(c, NOW)
    first = bytes(c.xid)
    t = NOW
    gaps = []
    for i in range(4):  # 5 DISCOVERs in all, waiting 4, 8, 16, 32, 64 s after them
        d = c.next_deadline()
        gaps.append(d - t)
        t = d
        n, out = tick(c, t)
        assert n > 0 and opts_of(out, n)[53] == b"\x01"
        assert out.buf[8] == ((t - NOW) >> 8) and out.buf[9] == (t - NOW) & 255  # secs
    assert gaps == [4, 8, 16, 32], gaps
    assert bytes(c.xid) == first  # retransmissions keep the xid
    d = c.next_deadline()
    assert d - t == 64
    n, out = tick(c, d)  # five tries without an offer: a new exchange
    assert bytes(c.xid) != first and c.stats["restarts"] == 1
    assert c.next_deadline() == d + 4


def test_backoff_is_randomised_by_one_second():
    for j in (-1, 1):
        c = client(jitter=j)
        tick(c, NOW)
        assert c.next_deadline() == NOW + 4 + j
        tick(c, NOW + 4 + j)
        assert c.next_deadline() == NOW + 4 + j + 8 + j


def test_timer_before_deadline_does_nothing():
    c = client()
    tick(c, NOW)
    n, out = tick(c, NOW + 3)
    assert n == 0 and c.stats["discover"] == 1


# -- SELECTING -> REQUESTING -------------------------------------------------------------------

def test_first_offer_taken_at_once_with_no_window():
    c = client()
    tick(c, NOW)
    n, out = feed(c, reply(c, 2, yiaddr="192.168.77.120"))
    o = opts_of(out, n)
    assert c.state == C.REQUESTING
    assert o[53] == b"\x03" and o[50] == ip4("192.168.77.120") and o[54] == SID
    assert o[12] == b"router" and o[55] == PRL and o[61] == b"\x01" + HW
    assert bytes(out.buf[12:16]) == b"\0\0\0\0" and out.buf[10] == 0x80
    assert out.kind == KIND_BROADCAST  # so the other servers see they were not chosen
    assert bytes(out.buf[4:8]) == bytes(c.xid)


def test_offer_window_collects_then_selects_first():
    c = client(', "offer-window": 2')
    tick(c, NOW)
    assert feed(c, reply(c, 2, yiaddr="192.168.77.130", sid=SID2), NOW + 1)[0] == 0
    assert feed(c, reply(c, 2, yiaddr="192.168.77.100", sid=SID), NOW + 1)[0] == 0
    assert c.state == C.SELECTING and c.offers.n == 2
    assert c.next_deadline() == NOW + 2  # the window's end, before the retransmission
    n, out = tick(c, NOW + 2)
    o = opts_of(out, n)
    assert c.state == C.REQUESTING and o[54] == SID2 and o[50] == ip4("192.168.77.130")


def test_offer_window_prefers_previous_address():
    j = Journal(None)
    c = bound_client(journal=j)
    c.release(NOW + 10, Slot())  # remembered without expiry: DISCOVER suggests it
    j.commit()
    c2 = client(', "offer-window": 3', journal=j)
    c2.restore()
    assert c2.state == C.INIT
    n, out = tick(c2, NOW + 20)
    assert opts_of(out, n)[50] == ip4("192.168.77.100")
    feed(c2, reply(c2, 2, yiaddr="192.168.77.140", sid=SID2), NOW + 20)
    feed(c2, reply(c2, 2, yiaddr="192.168.77.100", sid=SID), NOW + 21)
    n, out = tick(c2, NOW + 23)
    assert opts_of(out, n)[54] == SID and opts_of(out, n)[50] == ip4("192.168.77.100")


def test_offer_after_window_is_taken_at_once():
    c = client(', "offer-window": 2')
    tick(c, NOW)
    n, out = feed(c, reply(c, 2), NOW + 3)
    assert n > 0 and c.state == C.REQUESTING


def test_repeated_offer_from_one_server_counts_once():
    c = client(', "offer-window": 5')
    tick(c, NOW)
    feed(c, reply(c, 2), NOW)
    feed(c, reply(c, 2), NOW + 1)
    assert c.offers.n == 1


def test_request_retransmits_then_starts_over():
    c = client()
    tick(c, NOW)
    feed(c, reply(c, 2))
    x = bytes(c.xid)
    t = NOW
    for gap in (4, 8, 16, 32):
        assert c.next_deadline() - t == gap
        t = c.next_deadline()
        n, out = tick(c, t)
        if gap != 32:
            assert opts_of(out, n)[53] == b"\x03" and c.state == C.REQUESTING and bytes(c.xid) == x
    assert c.state == C.SELECTING and opts_of(out, n)[53] == b"\x01" and bytes(c.xid) != x


# -- REQUESTING -> BOUND, and the lease the adapter applies ------------------------------------

def test_dora_against_our_server_binds_with_options():
    s = server()
    c = client()
    n, out = tick(c, NOW)
    sout = Slot()
    k = s.handle(out.buf, n, meta(), NOW, sout)  # OFFER
    cout = Slot()
    k = c.handle(sout.buf, k, meta("c0", "0.0.0.0"), NOW, cout)  # REQUEST
    assert k > 0
    k = s.handle(cout.buf, k, meta(), NOW, sout)  # ACK
    assert options(sout.buf, k)[53] == b"\x05"
    assert c.handle(sout.buf, k, meta("c0", "0.0.0.0"), NOW, cout) == 0
    assert c.state == C.BOUND and c.lease_version == 1
    info = c.lease_info()
    assert info["address"] == "192.168.77.100" and info["prefix"] == 24
    assert info["routers"] == ["192.168.77.1"] and info["routes"] == [("0.0.0.0", 0, "192.168.77.1")]
    assert info["dns"] == ["192.168.77.1", "9.9.9.9"] and info["server"] == "192.168.77.1"
    assert info["search"] == ["lan", "example.org"] and info["mtu"] == 1400
    assert info["lease"] == 3600 and info["t1"] == 1000 and info["t2"] == 2000
    assert c.next_deadline() == NOW + 1000
    assert c.stats["offer"] == 1 and c.stats["ack"] == 1


def test_ack_without_lease_time_is_dropped():
    c = client()
    tick(c, NOW)
    feed(c, reply(c, 2))
    feed(c, reply(c, 5, lease=None))
    assert c.state == C.REQUESTING and c.stats["dropped_bad_reply"] == 1


def test_default_t1_t2_and_infinite_lease():
    c = bound_client(lease=1000, t1=None, t2=None)
    assert c.t1 == 500 and c.t2 == 875
    c = bound_client(lease=0xFFFFFFFF, t1=None, t2=None, now=FAR)
    assert c.expire_at == C.FOREVER and c.t1_at < c.t2_at < c.expire_at


def test_classless_routes_win_over_router_option():
    o121 = opt(121, bytes([0, 192, 168, 77, 254, 24, 10, 9, 8, 192, 168, 77, 1, 32, 1, 2, 3, 4, 0, 0, 0, 0]))
    c = bound_client(ack_extra=(opt(3, ip4("192.168.77.1")), o121, opt(15, b"wan.example")))
    info = c.lease_info()
    assert info["routes"] == [("0.0.0.0", 0, "192.168.77.254"), ("10.9.8.0", 24, "192.168.77.1"),
                              ("1.2.3.4", 32, "0.0.0.0")]
    assert info["routers"] == ["192.168.77.1"] and info["domain"] == "wan.example"


def test_malformed_classless_routes_fall_back_to_router():
    c = bound_client(ack_extra=(opt(3, ip4("192.168.77.1")), opt(121, bytes([33, 1, 2, 3, 4]))))
    assert c.lease_info()["routes"] == [("0.0.0.0", 0, "192.168.77.1")]


# -- replies are checked ------------------------------------------------------------------------

def test_replies_checked_and_drops_counted():
    c = client(', "offer-window": 5')
    tick(c, NOW)
    st = c.stats
    feed(c, reply(c, 2, xid=xid_of(c) ^ 1))
    feed(c, reply(c, 2, mac=b"\x02\x00\x00\x00\x00\x43"))
    feed(c, reply(c, 2, sid=None))
    feed(c, reply(c, 8))
    feed(c, reply(c, 5))  # an ACK while SELECTING
    feed(c, reply(c, 2, op=1))  # a BOOTREQUEST
    feed(c, bytearray(100))
    assert st["dropped_xid"] == 1 and st["dropped_chaddr"] == 1 and st["dropped_server_id"] == 1
    assert st["dropped_type"] == 1 and st["dropped_state"] == 1 and st["dropped_malformed"] == 2
    assert st["header"] == 1 and st["short"] == 1
    assert c.state == C.SELECTING and c.offers.n == 0


def test_reply_from_unselected_server_dropped_in_requesting():
    c = client()
    tick(c, NOW)
    feed(c, reply(c, 2))
    feed(c, reply(c, 5, sid=SID2))
    feed(c, reply(c, 6, sid=SID2))
    feed(c, reply(c, 2))  # a late OFFER
    assert c.state == C.REQUESTING
    assert c.stats["dropped_server_id"] == 2 and c.stats["dropped_state"] == 1


# -- NAK ----------------------------------------------------------------------------------------

def test_nak_in_requesting_goes_to_init_then_discovers():
    c = client()
    tick(c, NOW)
    feed(c, reply(c, 2))
    n, out = feed(c, reply(c, 6))
    assert n == 0 and c.state == C.INIT and c.next_deadline() == NOW and c.stats["nak"] == 1
    n, out = tick(c, NOW)
    o = opts_of(out, n)
    assert o[53] == b"\x01" and 50 not in o and c.state == C.SELECTING


# -- BOUND -> RENEWING -> REBINDING -> INIT --------------------------------------------------------

def test_renew_at_t1_is_unicast_to_the_server():
    c = bound_client()
    x = bytes(c.xid)
    n, out = tick(c, NOW + 1000)
    o = opts_of(out, n)
    assert c.state == C.RENEWING and o[53] == b"\x03" and bytes(c.xid) != x
    assert 50 not in o and 54 not in o and bytes(out.buf[12:16]) == ip4("192.168.77.100")
    assert out.buf[10] == 0 and out.kind == KIND_UNICAST and bytes(out.dest[:4]) == SID and out.port == 67
    assert c.next_deadline() == NOW + 1000 + 500  # half the time to T2
    feed(c, reply(c, 5, t1=1000, t2=2000), NOW + 1001)
    assert c.state == C.BOUND and c.next_deadline() == NOW + 2001 and c.lease_version == 1


def test_renew_with_changed_options_bumps_lease_version():
    c = bound_client()
    tick(c, NOW + 1000)
    feed(c, reply(c, 5, extra=(opt(6, ip4("9.9.9.9")),)), NOW + 1000)
    assert c.state == C.BOUND and c.lease_version == 2 and c.lease_info()["dns"] == ["9.9.9.9"]


def test_renew_retransmits_no_sooner_than_60_s_then_rebinds_at_t2():
    c = bound_client(lease=300, t1=100, t2=200)
    tick(c, NOW + 100)
    assert c.next_deadline() == NOW + 160  # half of 100 s is below the 60 s minimum
    n, out = tick(c, NOW + 160)
    assert c.state == C.RENEWING and out.kind == KIND_UNICAST
    assert c.next_deadline() == NOW + 200
    n, out = tick(c, NOW + 200)
    o = opts_of(out, n)
    assert c.state == C.REBINDING and o[53] == b"\x03" and 54 not in o and 50 not in o
    assert out.kind == KIND_BROADCAST and bytes(out.buf[12:16]) == ip4("192.168.77.100")
    assert c.next_deadline() == NOW + 260


def test_rebind_ack_from_another_server_is_taken():
    c = bound_client(lease=300, t1=100, t2=200)
    tick(c, NOW + 100)
    tick(c, NOW + 200)
    feed(c, reply(c, 5, sid=SID2, lease=300, t1=100, t2=200), NOW + 201)
    assert c.state == C.BOUND and bytes(c.sid) == SID2


def test_renewing_ignores_other_servers():
    c = bound_client()
    tick(c, NOW + 1000)
    feed(c, reply(c, 5, sid=SID2), NOW + 1001)
    assert c.state == C.RENEWING and c.stats["dropped_server_id"] == 1


def test_expiry_removes_lease_and_discovers():
    c = bound_client(lease=300, t1=100, t2=200)
    tick(c, NOW + 100)
    tick(c, NOW + 200)
    n, out = tick(c, NOW + 260)
    assert c.state == C.REBINDING and c.next_deadline() == NOW + 300
    n, out = tick(c, NOW + 300)
    o = opts_of(out, n)
    assert c.state == C.SELECTING and not c.bound and c.lease_info() is None
    assert c.lease_version == 2 and c.stats["expired"] == 1
    assert o[53] == b"\x01" and o[50] == ip4("192.168.77.100")


def test_nak_while_renewing_drops_the_lease():
    c = bound_client()
    tick(c, NOW + 1000)
    feed(c, reply(c, 6), NOW + 1000)
    assert c.state == C.INIT and not c.bound and c.lease_version == 2


def test_late_timer_past_t2_rebinds_and_past_expiry_expires():
    c = bound_client(lease=300, t1=100, t2=200)
    n, out = tick(c, NOW + 250)  # a board that slept through T1
    assert c.state == C.REBINDING and out.kind == KIND_BROADCAST
    c = bound_client(lease=300, t1=100, t2=200)
    n, out = tick(c, NOW + 400)
    assert c.state == C.SELECTING and not c.bound


# -- INIT-REBOOT ------------------------------------------------------------------------------------

def test_restart_with_remembered_lease_reboots_to_same_address():
    j = Journal(None)
    s = server()
    c = client(journal=j)
    c.restore()
    n, out = tick(c, NOW)
    assert _run_exchange(s, c, out, NOW) and c.state == C.BOUND
    addr = c.lease_info()["address"]
    j.commit()
    c2 = client(journal=j)
    c2.restore()
    assert c2.state == C.INIT_REBOOT and c2.next_deadline() == 0
    n, out = tick(c2, NOW + 60)
    o = opts_of(out, n)
    assert c2.state == C.REBOOTING and o[53] == b"\x03" and o[50] == ip4(addr) and 54 not in o
    assert bytes(out.buf[12:16]) == b"\0\0\0\0" and out.kind == KIND_BROADCAST and out.buf[10] == 0x80
    assert _run_exchange(s, c2, out, NOW + 60) is not None
    assert c2.state == C.BOUND and c2.lease_info()["address"] == addr


def _run_exchange(s, c, out, now):
    """Pass client messages to the server and replies back until the client stops talking."""
    n = out.n
    for _ in range(4):
        sout = Slot()
        k = s.handle(out.buf, n, meta(), now, sout)
        if not k:
            return None
        out = Slot()
        n = c.handle(sout.buf, k, meta("c0", "0.0.0.0"), now, out)
        if not n:
            return True
    return None


def test_init_reboot_nak_goes_to_init_and_new_lease():
    j = Journal(None)
    c = bound_client(journal=j)
    j.commit()
    c2 = client(journal=j)
    c2.restore()
    tick(c2, NOW + 60)
    feed(c2, reply(c2, 6, sid=SID2), NOW + 60)  # any server may NAK an INIT-REBOOT
    assert c2.state == C.INIT and not c2.mem.have
    n, out = tick(c2, NOW + 60)
    assert 50 not in opts_of(out, n)
    feed(c2, reply(c2, 2, yiaddr="192.168.77.150"), NOW + 60)
    feed(c2, reply(c2, 5, yiaddr="192.168.77.150"), NOW + 60)
    assert c2.state == C.BOUND and c2.lease_info()["address"] == "192.168.77.150"


def test_init_reboot_without_answer_starts_over():
    j = Journal(None)
    bound_client(journal=j)
    j.commit()
    c = client(journal=j)
    c.restore()
    tick(c, NOW + 1)
    t = NOW + 1
    for _ in range(4):
        t = c.next_deadline()
        n, out = tick(c, t)
    assert c.state == C.SELECTING and opts_of(out, n)[50] == ip4("192.168.77.100")


def test_expired_remembered_lease_discovers():
    j = Journal(None)
    bound_client(journal=j)
    j.commit()
    c = client(journal=j)
    c.restore()
    n, out = tick(c, NOW + 4000)
    assert c.state == C.SELECTING and opts_of(out, n)[50] == ip4("192.168.77.100")


def test_journal_is_compacted_on_restore():
    j = Journal(None)
    c = bound_client(journal=j)
    tick(c, NOW + 1000)
    feed(c, reply(c, 5, t1=1000, t2=2000), NOW + 1000)
    j.commit()
    assert len(j.memory) == 2 * 18
    c2 = client(journal=j)
    c2.restore()
    assert len(j.memory) == 18 and c2.mem.expiry == NOW + 1000 + 3600


# -- DECLINE and RELEASE ------------------------------------------------------------------------------

def test_address_in_use_declines_and_waits_10_s():
    s = server()
    c = client()
    n, out = tick(c, NOW)
    _run_exchange(s, c, out, NOW)
    assert c.state == C.BOUND
    c.address_in_use(NOW + 1)
    assert c.next_deadline() == NOW + 1
    n, out = tick(c, NOW + 1)
    o = opts_of(out, n)
    assert o[53] == b"\x04" and o[50] == ip4("192.168.77.100") and o[54] == SID
    assert bytes(out.buf[12:16]) == b"\0\0\0\0" and out.kind == KIND_BROADCAST
    assert c.state == C.INIT and not c.bound and c.lease_version == 2
    assert c.next_deadline() == NOW + 11
    sout = Slot()
    assert s.handle(out.buf, n, meta(), NOW + 1, sout) == 0 and s.stats["decline"] == 1
    n, out = tick(c, NOW + 11)
    assert opts_of(out, n)[53] == b"\x01" and 50 not in opts_of(out, n)


def test_address_in_use_when_not_bound_is_ignored():
    c = client()
    c.address_in_use(NOW)
    assert not c.decline_pending


def test_release_on_shutdown():
    s = server()
    c = client()
    n, out = tick(c, NOW)
    _run_exchange(s, c, out, NOW)
    out = Slot()
    n = c.release(NOW + 5, out)
    o = opts_of(out, n)
    assert o[53] == b"\x07" and o[54] == SID and 50 not in o
    assert bytes(out.buf[12:16]) == ip4("192.168.77.100") and out.kind == KIND_UNICAST
    assert bytes(out.dest[:4]) == SID and out.port == 67
    assert not c.bound and c.next_deadline() is None and c.lease_version == 2
    assert s.handle(out.buf, n, meta(), NOW + 5, Slot()) == 0 and s.stats["release"] == 1
    assert c.release(NOW + 6, Slot()) == 0  # nothing held: nothing said


# -- config -----------------------------------------------------------------------------------------

def test_client_id_from_config_is_sent():
    c = client(', "client-id": "00:61:62"')
    n, out = tick(c, NOW)
    assert opts_of(out, n)[61] == b"\x00\x61\x62"


# -- heap: every received message type and every timer event, with the heap locked ------------------

def _locked_handle(c, b, now, out):
    return handle_locked(c, b, M, now, out)


def _locked_timer(c, now, out):
    got = -1
    oom = False
    micropython.heap_lock()
    try:
        got = c.on_timer(now, out)
    except MemoryError:
        oom = True
    finally:
        micropython.heap_unlock()
    assert not oom, "on_timer() allocated with the heap locked"
    return got


M = meta("c0", "0.0.0.0")


def _warm():
    """A client that has been through every path once (lazy state exists)."""
    w = bound_client(now=FAR, lease=300, t1=100, t2=200)
    tick(w, FAR + 100)
    tick(w, FAR + 200)
    tick(w, FAR + 300)
    return w


def test_timers_locked():
    _warm()
    out = Slot()
    c = client(', "offer-window": 2')
    assert _locked_timer(c, FAR, out) > 0 and c.state == C.SELECTING  # INIT -> SELECTING
    t = c.next_deadline()
    assert _locked_timer(c, t, out) > 0  # DISCOVER retransmission
    feed(c, reply(c, 2), t)
    feed(c, reply(c, 2, sid=SID2, yiaddr="192.168.77.101"), t)
    t = c.next_deadline()
    assert _locked_timer(c, t, out) > 0 and c.state == C.REQUESTING  # window end: select
    t = c.next_deadline()
    assert _locked_timer(c, t, out) > 0  # REQUEST retransmission
    c = bound_client(now=FAR, lease=300, t1=100, t2=200)
    assert _locked_timer(c, FAR + 100, out) > 0 and c.state == C.RENEWING  # T1
    assert _locked_timer(c, FAR + 160, out) > 0 and c.state == C.RENEWING  # renew retry
    assert _locked_timer(c, FAR + 200, out) > 0 and c.state == C.REBINDING  # T2
    assert _locked_timer(c, FAR + 260, out) > 0 and c.state == C.REBINDING  # rebind retry
    assert _locked_timer(c, FAR + 300, out) > 0 and c.state == C.SELECTING  # expiry
    c = bound_client(now=FAR)
    c.address_in_use(FAR + 1)
    assert _locked_timer(c, FAR + 1, out) > 0 and c.state == C.INIT  # DECLINE
    assert _locked_timer(c, FAR + 11, out) > 0 and c.state == C.SELECTING
    j = Journal(None)
    bound_client(now=FAR, journal=j)
    j.commit()
    c = client(journal=j)
    c.restore()
    assert _locked_timer(c, FAR + 5, out) > 0 and c.state == C.REBOOTING  # INIT-REBOOT
    t = c.next_deadline()
    assert _locked_timer(c, t, out) > 0 and c.state == C.REBOOTING  # retransmission


def test_received_messages_locked():
    _warm()
    out = Slot()
    c = client(', "offer-window": 2')
    tick(c, FAR)
    offer = reply(c, 2)
    offer2 = reply(c, 2, sid=SID2, yiaddr="192.168.77.101")
    bad = [reply(c, 2, xid=xid_of(c) ^ 1), reply(c, 2, mac=b"\x02\x00\x00\x00\x00\x43"),
           reply(c, 2, sid=None), reply(c, 8), reply(c, 5), reply(c, 2, op=1), bytearray(100)]
    assert _locked_handle(c, offer, FAR, out) == 0 and c.offers.n == 1  # OFFER, collected
    for b in bad:
        assert _locked_handle(c, b, FAR, out) == 0
    assert _locked_handle(c, offer2, FAR + 3, out) > 0 and c.state == C.REQUESTING  # OFFER -> REQUEST
    ack = reply(c, 5, t1=100, t2=200, lease=300,
                extra=(opt(3, ip4("192.168.77.1")), opt(6, ip4("192.168.77.53")), opt(15, b"lab"),
                       opt(121, bytes([0, 192, 168, 77, 1])), opt(26, b"\x05\xdc")))
    nak_other = reply(c, 6, sid=ip4("192.168.77.9"))
    assert _locked_handle(c, nak_other, FAR + 3, out) == 0 and c.state == C.REQUESTING
    assert _locked_handle(c, ack, FAR + 3, out) == 0 and c.state == C.BOUND  # ACK
    tick(c, FAR + 103)
    renew_ack = reply(c, 5, t1=100, t2=200, lease=300, sid=bytes(c.sid),
                      extra=(opt(3, ip4("192.168.77.1")), opt(6, ip4("192.168.77.54"))))
    assert _locked_handle(c, renew_ack, FAR + 104, out) == 0 and c.state == C.BOUND  # renew ACK
    tick(c, FAR + 204)
    tick(c, FAR + 304)
    nak = reply(c, 6, sid=bytes(c.sid))
    assert c.state == C.REBINDING
    assert _locked_handle(c, nak, FAR + 305, out) == 0 and c.state == C.INIT  # NAK
    tick(c, FAR + 305)
    big = reply(c, 2)
    assert _locked_handle(c, big, FAR + 308, out) > 0  # offer after the window
    inf = reply(c, 5, lease=0xFFFFFFFF, sid=bytes(c.sid))
    assert _locked_handle(c, inf, FAR + 308, out) == 0 and c.expire_at == C.FOREVER


def test_release_locked():
    _warm()
    c = bound_client(now=FAR)
    out = Slot()
    micropython.heap_lock()
    try:
        n = c.release(FAR + 5, out)
    finally:
        micropython.heap_unlock()
    assert n > 0 and not c.bound


def test_console_reports_client_state_lease_and_counters():
    from mpdhcp.runner import Runner
    from mpdhcp import console

    c = bound_client()
    r = Runner(None, log=None)
    r.add("client4", c, [0])
    got = console.client4(r)
    assert got["state"] == "BOUND" and got["lease"]["address"] == "192.168.77.100"
    assert got["counters"]["rx"] >= 1
    reply_ = console.command({"command": "client4-get"}, r)
    assert reply_["result"] == 0 and reply_["arguments"]["lease"]["lease"] == 3600
    assert console.client4(Runner(None, log=None)) is None
