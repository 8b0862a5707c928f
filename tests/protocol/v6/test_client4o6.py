# Mirrors firmware/mpdhcp/v6/client4o6.py (RFC 7341 5, 8): Client4, unchanged, over DHCPv6,
# against our Server6 + Server4 in one process.
import micropython
from craft6 import decode, meta as meta6
from v6.test_server6_4o6 import pair, MAC
from mpdhcp.config import parse_doc
from mpdhcp.v4.client4 import Client4, BOUND
from mpdhcp.v6.client4o6 import Client4o6, RUNNING
from mpdhcp.wire import packet6 as P
from mpdhcp.state.journal import Journal
from mpdhcp.slot import Slot


def client():
    cfg = parse_doc('{"Client4": {"interface": "wan0", "4o6": true, "offer-window": 0}}').get("Client4")
    c4 = Client4(cfg, Journal(None), MAC, 7)
    c4.restore()
    return Client4o6(c4, b"\x00\x03\x00\x01" + MAC, lambda n: 0x42 % n)


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
    assert typ == P.INFO_REQUEST and o[6] == [b"\x00\x58"] and bytes(out.dest) == bytes.fromhex("ff02" + "00" * 11 + "010002")
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
