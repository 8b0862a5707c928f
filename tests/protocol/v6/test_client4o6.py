# Mirrors firmware/mpdhcp/v6/client4o6.py (RFC 7341 5, 8): Client4, unchanged, over DHCPv6,
# against our Server6 + Server4 in one process.
import micropython
from craft6 import decode, opt, u32, meta as meta6
from v6.test_server6_4o6 import pair, MAC, CONFIG
from mpdhcp.config.parser import parse_doc
from mpdhcp.v4.client4 import Client4, BOUND
from mpdhcp.v6.client4o6 import Client4o6, RUNNING
from mpdhcp.wire import packet6 as P
from mpdhcp.state.journal import Journal
from mpdhcp.slot import Slot


def client(rand=lambda n: 0x42 % n):
    cfg = parse_doc('{"Client4": {"interface": "wan0", "4o6": true, "offer-window": 0}}').get("Client4")
    c4 = Client4(cfg, Journal(None), MAC, 7)
    c4.restore()
    return Client4o6(c4, b"\x00\x03\x00\x01" + MAC, rand)


def counter():
    """rand(n) giving 1, 2, 3...: each new transaction id differs."""
    k = [0]

    def rand(n):
        k[0] += 1
        return k[0] % n
    return rand


def reply_to(out, *opts):
    """A Reply to the Information-request in out (its transaction id), with opts."""
    return bytearray(bytes([P.REPLY]) + bytes(out.buf[1:4]) + b"".join(opts))


def ask(t, now):
    """The client's next timer message: (slot, decoded type, xid, options)."""
    out = Slot()
    n = t.on_timer(now, out)
    if not n:
        return out, None, None, None
    typ, xid, o, _ = decode(out.buf, n)
    return out, typ, xid, o


def answer(t, rep, now):
    return t.handle(rep, len(rep), meta6(), now, Slot())


A1 = bytes.fromhex("20010db8000100000000000000000001")
A2 = bytes.fromhex("20010db8000200000000000000000002")


def serve(s6, out, now):
    rx = bytearray(out.buf[:out.n])
    o = Slot()
    n = s6.handle(rx, len(rx), meta6(), now, o)
    return bytearray(o.buf[:n]) if n else None


def step(t, s6, now, out=None):
    """One client message to the server and its answer back; returns what the client sent next."""
    if out is None:
        out = Slot()
        if not t.on_timer(now, out):
            return None
    rep = serve(s6, out, now)
    if rep is None:
        return None
    nxt = Slot()
    return nxt if t.handle(rep, len(rep), meta6(), now, nxt) else None


def test_asks_for_the_4o6_servers_then_leases_over_dhcpv6():
    s4, s6 = pair()
    t = client()
    out = Slot()
    n = t.on_timer(1000, out)
    typ, xid, o, _ = decode(out.buf, n)
    assert typ == P.INFO_REQUEST and bytes(out.dest) == bytes.fromhex("ff02" + "00" * 11 + "010002")
    assert o[6] == [b"\x00\x58\x00\x20\x00\x53"]  # 4o6 servers, Information Refresh Time, INF_MAX_RT
    assert step(t, s6, 1000, out) is None and t.phase == RUNNING
    assert bytes(t.server) == bytes.fromhex("20010db8000100000000000000000001")  # option 88's address
    out = Slot()
    n = t.on_timer(1000, out)  # Client4 starts: DISCOVER in a DHCPV4-QUERY, to the 4o6 server
    b = bytes(out.buf[:n])
    assert b[:4] == bytes([20, 0, 0, 0]) and bytes(out.dest) == bytes(t.server)
    nxt = step(t, s6, 1000, out)  # OFFER in -> REQUEST out (offer-window 0)
    assert nxt is not None and bytes(nxt.buf[:4]) == bytes([20, 0, 0, 0])
    assert step(t, s6, 1000, nxt) is None and t.c4.state == BOUND and s4.leases.held() == 1
    info = t.lease_info()
    assert info["address"] == "192.0.2.100" and t.stats["dhcpv4_response"] == 2
    out = Slot()
    n = t.on_timer(t.c4.t1_at, out)  # RENEWING: would be unicast over IPv4, so the U flag
    assert n and out.buf[1] == 0x80
    assert step(t, s6, t.c4.t1_at, out) is None and t.c4.state == BOUND
    out = Slot()
    n = t.release(t.c4.t1_at + 1, out)
    assert n and out.buf[0] == 20 and out.buf[1] == 0x80 and s6.handle(bytearray(out.buf[:n]), n, meta6(), 2000, Slot()) == 0
    assert s4.stats["release"] == 1


def test_no_option_88_means_no_4o6_service_yet():
    s4, s6 = pair()
    s6.subnets[0].options.pop(88, None)
    s6.cfg.subnets[0].options.pop(88, None)
    t = client()
    out = Slot()
    t.on_timer(1000, out)
    step(t, s6, 1000, out)
    assert t.phase != RUNNING and t.next_deadline() == 1000 + 60


def test_the_4o6_client_paths_allocate_nothing():
    s4, s6 = pair()
    t = client()
    out = Slot()
    t.on_timer(1000, out)
    step(t, s6, 1000, out)
    out = Slot()
    n = t.on_timer(1000, out)
    rep = serve(s6, out, 1000)
    m = meta6()
    nxt = Slot()
    ln = len(rep)
    oom = False
    micropython.heap_lock()
    try:
        got = t.handle(rep, ln, m, 1000, nxt)  # OFFER -> REQUEST
    except MemoryError:
        oom = True
    finally:
        micropython.heap_unlock()
    assert not oom and got > 0


def test_one_transaction_id_for_every_retransmission_of_an_information_request():
    t = client(counter())
    out, typ, x1, o = ask(t, 1000)
    assert typ == P.INFO_REQUEST and o[8] == [b"\x00\x00"] and t.next_deadline() == 1001
    out, typ, x2, o = ask(t, 1001)
    assert x2 == x1 and o[8] == [bytes([0, 100])]  # RFC 8415 15.1; elapsed 1 s (21.9)
    out, typ, x3, o = ask(t, 1003)
    assert x3 == x1 and o[8] == [bytes([300 >> 8, 300 & 255])] and t.next_deadline() == 1007
    assert answer(t, reply_to(out, opt(88, A1)), 1004) == 0 and t.phase == RUNNING
    assert t.next_deadline() == 1004  # Client4 starts: its DISCOVER is due
    t.c4.deadline = None
    assert t.next_deadline() == 1004 + 86400  # no option 32: the default refresh time
    out, typ, x4, o = ask(t, 1004 + 86400)
    assert typ == P.INFO_REQUEST and x4 != x1  # the refresh: a new exchange, a new id


def test_the_refresh_time_the_reply_gives_at_least_600_s_then_asked_again_while_running():
    s4, s6 = pair()
    t = client()
    out, typ, xid, o = ask(t, 1000)
    answer(t, reply_to(out, opt(88, A1), opt(32, u32(700))), 1000)
    assert t.ask_at == 1700 and t.phase == RUNNING
    nxt = step(t, s6, 1000)  # DISCOVER -> OFFER, REQUEST out
    assert step(t, s6, 1000, nxt) is None and t.c4.state == BOUND
    assert t.next_deadline() == 1300  # Client4's T1 (half of 600 s) comes first
    assert step(t, s6, 1300) is None and t.c4.state == BOUND  # renewed: T1 at 1600
    assert step(t, s6, 1600) is None and t.next_deadline() == 1700  # T1 at 1900: the refresh first
    out, typ, xid, o = ask(t, 1700)
    assert typ == P.INFO_REQUEST and t.phase == RUNNING  # DHCPv4 goes on meanwhile
    answer(t, reply_to(out, opt(88, A1), opt(32, u32(5))), 1701)
    assert t.ask_at == 1701 + 600  # RFC 8415 21.23: IRT_MINIMUM
    out, typ, xid, o = ask(t, 2301)
    answer(t, reply_to(out), 2302)  # no option 88 now: the servers known are kept
    assert t.phase == RUNNING and bytes(t.server) == A1 and t.ask_at == 2302 + 86400


def test_inf_max_rt_from_the_server_caps_the_retransmissions():
    t = client()
    out, typ, xid, o = ask(t, 1000)
    answer(t, reply_to(out, opt(32, u32(600)), opt(83, u32(90))), 1000)  # no 88: no service yet
    assert t.phase != RUNNING and t.inf_max_rt == 90 and t.next_deadline() == 1060
    now = 1060
    for _ in range(10):
        ask(t, now)
        now = t.next_deadline()
    assert t.rt == 90  # 1, 2, 4 ... 64, then 90, not 120
    answer(t, reply_to(Slot(), opt(83, u32(30))), now)  # another exchange's id: ignored
    assert t.inf_max_rt == 90


def test_option_88_addresses_are_tried_in_turn_when_one_does_not_answer():
    s4, s6 = pair()
    t = client()
    out, typ, xid, o = ask(t, 1000)
    answer(t, reply_to(out, opt(88, A1 + A2)), 1000)
    first, _, _, _ = ask(t, 1000)  # DISCOVER
    assert bytes(first.dest) == A1
    again, _, _, _ = ask(t, t.c4.next_deadline())  # no answer: Client4 sends again ...
    assert bytes(again.dest) == A2  # ... to the next address
    third, _, _, _ = ask(t, t.c4.next_deadline())
    assert bytes(third.dest) == A1
    nxt = step(t, s6, 1000, third)  # this one is answered: the REQUEST goes to the same server
    assert nxt is not None and bytes(nxt.dest) == A1


def test_an_empty_option_88_means_all_relay_agents_and_servers():
    s4, s6 = pair(CONFIG.replace('"data": "2001:db8:1::1"', '"data": ""'))  # served empty
    t = client()
    out, typ, xid, o = ask(t, 1000)
    rep = serve(s6, out, 1000)
    assert decode(rep, len(rep))[2][88] == [b""]
    answer(t, rep, 1000)
    first, _, _, _ = ask(t, 1000)
    assert t.phase == RUNNING and bytes(first.dest) == bytes.fromhex("ff02" + "00" * 11 + "010002")


def test_the_information_request_exchange_allocates_nothing():
    t = client()
    out = Slot()
    t.on_timer(1000, out)  # warm-up
    rep = reply_to(out, opt(88, A1 + A2), opt(32, u32(700)), opt(83, u32(90)))
    ln = len(rep)
    m = meta6()
    n1 = n2 = got = -1
    oom = False
    micropython.heap_lock()
    try:
        n1 = t.on_timer(1001, out)  # a retransmission
        got = t.handle(rep, ln, m, 1002, out)  # the Reply: servers, refresh time, INF_MAX_RT
        n2 = t.on_timer(1002 + 700, out)  # the refresh
    except MemoryError:
        oom = True
    finally:
        micropython.heap_unlock()
    assert not oom and n1 > 0 and got == 0 and n2 > 0 and t.inf_max_rt == 90
