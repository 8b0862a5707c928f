# Mirrors firmware/mpdhcp/v6/client6.py (RFC 8415 15, 18.2): against our own Server6 in
# memory, and against crafted replies for what a server of ours would never send.
from craft6 import (SERVER_DUID, opt, u32, decode, ia_list, iaaddr, iaprefix, server, meta)
from mpdhcp.config.parser import parse_doc
from mpdhcp.v6 import client6 as C
from mpdhcp.v6.held6 import NA, PD
from mpdhcp.wire import packet6 as P
from mpdhcp.wire.addr6 import ip6
from mpdhcp.state.journal import Journal
from mpdhcp.slot import Slot

MAC = b"\x02\x00\x00\x00\x00\x31"
DUID = b"\x00\x01\x00\x01\x2b\x00\x00\x10" + MAC  # DUID-LLT


def _cfg(**kw):
    d = {"interface": "wan0", "ia-na": True, "ia-pd": True, "prefix-length-hint": 56}
    d.update(kw)
    import json

    return parse_doc(json.dumps({"Client6": d})).get("Client6")


def _Rand(delay=999, rands=(1000,)):
    """rand(n) pinned: the start delay (n = 1001) is `delay`; RAND draws (n = 2001) come from
    `rands`, the last repeated; anything else (transaction ids) is 0x5a. A closure: calling
    it allocates nothing (an object with __call__ would, on MicroPython)."""
    left = list(rands)

    def rand(n):
        if n == 1001:
            return delay
        if n == 2001:
            return left.pop(0) if len(left) > 1 else left[0]
        return 0x5A % n
    return rand


def client(rand=None, journal=None, now=1000, **kw):
    c = C.Client6(_cfg(**kw), journal or Journal(None), MAC, rand or _Rand())
    c.restore(now, DUID)
    return c


def tick(c, now, ms=0):
    """on_timer at now.ms: (length, slot)."""
    out = Slot()
    c.ms = ms
    return c.on_timer(now, out), out


def deliver(c, data, now, ms=0):
    out = Slot()
    c.ms = ms
    rx = bytearray(data)
    return c.handle(rx, len(rx), meta(), now, out), out


def serve(s, out, now):
    """Our server answers the client's message: the reply bytes, or None."""
    rx = bytearray(out.buf[:out.n])
    o = Slot()
    n = s.handle(rx, len(rx), meta(), now, o)
    return bytes(o.buf[:n]) if n else None


def run_until_bound(c, s, now=1000):
    """Solicit, Advertise, Request, Reply through our server; returns the time it bound."""
    c.ms = 0
    t = c.deadline
    n, out = tick(c, t, c.deadline_ms)
    assert n and out.buf[0] == P.SOLICIT
    adv = serve(s, out, t)
    assert adv[0] == P.ADVERTISE
    deliver(c, adv, t, 500)
    n, out = tick(c, c.deadline, c.deadline_ms)
    assert n and out.buf[0] == P.REQUEST, (n, out.buf[0])
    t = c.deadline
    rep = serve(s, out, t)
    deliver(c, rep, t, c.deadline_ms)
    assert c.state == C.BOUND, C.STATE_NAMES[c.state]
    c.journal.commit()  # what the runner does after each step
    return t


def test_solicit_carries_client_id_elapsed_oro_and_both_ias_with_the_prefix_hint():
    c = client()
    assert c.state == C.INIT and (c.deadline, c.deadline_ms) == (1000, 999)  # within SOL_MAX_DELAY
    assert tick(c, 1000, 998)[0] == 0
    n, out = tick(c, 1000, 999)
    assert n and out.buf[0] == P.SOLICIT and bytes(out.dest) == ip6("ff02::1:2") and out.port == 547
    t, xid, o, _ = decode(out.buf, n)
    assert o[1] == [DUID] and o[8] == [b"\0\0"] and o[6] == [b"\x00\x17\x00\x18\x00\x52"]
    assert 20 in o and 14 not in o  # Reconfigure Accept; no Rapid Commit unless configured
    assert len(ia_list(o, 3)) == 1 and ia_list(o, 3)[0][0] == 0x31  # IAID: the MAC's last 4 bytes
    pd = ia_list(o, 25)
    assert len(pd) == 1 and iaprefix(pd[0][3])[1] == 56


def test_first_solicit_rt_is_strictly_above_irt_and_doubles_to_sol_max_rt():
    # RFC 8415 15 and 18.2.1: RT = IRT + RAND*IRT with RAND > 0 for the first Solicit;
    # then RT = 2*RTprev + RAND*RTprev, capped at MRT + RAND*MRT
    for r, first in ((0, 1100), (1000, 1000 + 0), (1001, 1000), (2000, 1100)):
        c = client(rand=_Rand(0, (r,)))  # no start delay; r: RAND for the first RT
        tick(c, 1000, 0)
        got = (c.deadline - 1000) * 1000 + c.deadline_ms
        assert 1000 < got <= 1100, (r, got)  # RAND > 0, even by less than 1 ms
    c = client(rand=_Rand(0, (2000, 1000)))  # RAND +0.1 first, then 0
    tick(c, 1000, 0)
    rts = [(c.deadline - 1000) * 1000 + c.deadline_ms]
    for _ in range(14):
        prev = c.deadline * 1000 + c.deadline_ms
        tick(c, c.deadline, c.deadline_ms)
        rts.append(c.deadline * 1000 + c.deadline_ms - prev)
    assert rts[:4] == [1100, 2200, 4400, 8800] and rts[-1] == 3600000  # SOL_MAX_RT, RAND 0


def test_binds_an_address_and_a_prefix_from_our_server_and_keeps_dns():
    s = server()
    c = client()
    run_until_bound(c, s)
    h = c.held
    assert h.count(NA) == 1 and h.count(PD) == 1
    info = c.lease_info()
    assert info["addresses"][0][0].startswith("2001:db8:1::1") and info["prefixes"][0][1] == 56
    assert info["dns"] == ["2001:db8:1::53", "2001:db8:1::54"] and info["domains"] == ["lan", "example.org"]
    assert c.lease_version >= 1 and h.is_server(SERVER_DUID, 0, len(SERVER_DUID))


def test_renew_at_t1_to_the_server_then_rebind_at_t2_then_expiry_solicits():
    s = server()
    c = client()
    t0 = run_until_bound(c, s)
    h = c.held
    assert h.renew_at == t0 + 1000 and h.rebind_at == t0 + 2000  # the server's T1/T2
    n, out = tick(c, h.renew_at)
    assert n and out.buf[0] == P.RENEW and c.state == C.RENEW
    t, xid, o, _ = decode(out.buf, n)
    assert o[2] == [SERVER_DUID] and iaaddr(ia_list(o, 3)[0][3])[0] == h.addr[:16]
    rep = serve(s, out, h.renew_at)
    deliver(c, rep, h.renew_at)
    assert c.state == C.BOUND and h.renew_at == t0 + 2000  # renewed: T1 from now
    # the server goes away: Renew until T2, then Rebind until the valid lifetime, then Solicit
    sent = []
    now = h.renew_at
    while c.state != C.INIT and len(sent) < 200:
        n, out = tick(c, c.deadline, c.deadline_ms)
        if n:
            sent.append(out.buf[0])
        now = c.deadline
    assert P.RENEW in sent and P.REBIND in sent and c.state == C.INIT and h.n == 0
    assert c.stats["expired"] >= 1


def test_rapid_commit_takes_the_reply_to_solicit():
    s = server()
    c = client(**{"rapid-commit": True})
    n, out = tick(c, 1000, 999)
    rep = serve(s, out, 1000)
    assert rep[0] == P.REPLY
    deliver(c, rep, 1001)
    assert c.state == C.BOUND and c.held.n == 2


def test_preference_255_is_taken_at_once_and_otherwise_the_best_after_the_first_rt():
    s = server()
    c = client()
    n, out = tick(c, 1000, 999)
    adv = bytearray(serve(s, out, 1000))
    low = adv + opt(7, b"\x0a")
    deliver(c, low, 1001, 100)
    assert c.state == C.SOLICIT  # still collecting
    high = adv + opt(7, b"\xff")
    n, out = deliver(c, high, 1001, 200)
    assert n and out.buf[0] == P.REQUEST and c.state == C.REQUEST


def test_an_advertise_offering_nothing_is_ignored():
    c = client()
    n, out = tick(c, 1000, 999)
    xid = bytes(out.buf[1:4])
    nothing = bytes([P.ADVERTISE]) + xid + opt(1, DUID) + opt(2, SERVER_DUID) + opt(13, b"\x00\x02none")
    deliver(c, nothing, 1001)
    assert c.stats["dropped_no_leases"] == 1 and c.adv_n == 0


def test_a_reply_to_someone_else_or_another_transaction_is_dropped():
    s = server()
    c = client()
    n, out = tick(c, 1000, 999)
    adv = bytearray(serve(s, out, 1000))
    other = bytearray(adv)
    other[3] ^= 1
    deliver(c, other, 1001)
    assert c.stats["dropped_xid"] == 1
    i = bytes(adv).find(DUID)
    foreign = bytearray(adv)
    foreign[i + len(DUID) - 1] ^= 1
    deliver(c, foreign, 1001)
    assert c.stats["dropped_client_id"] == 1


def test_restart_confirms_addresses_and_rebinds_prefixes():
    s = server()
    j = Journal(None)
    c = client(journal=j, **{"ia-pd": False})
    run_until_bound(c, s)
    a = bytes(c.held.addr[:16])
    c2 = client(journal=j, now=1500, **{"ia-pd": False})
    assert c2.state == C.CONFIRM and c2.held.n == 1 and bytes(c2.held.duid[:c2.held.duid_len]) == DUID
    n, out = tick(c2, 1500, 999)
    assert out.buf[0] == P.CONFIRM
    rep = serve(s, out, 1501)
    deliver(c2, rep, 1501)
    assert c2.state == C.BOUND and bytes(c2.held.addr[:16]) == a
    j2 = Journal(None)
    c3 = client(journal=j2)
    run_until_bound(c3, s)
    c4 = client(journal=j2, now=1500)
    assert c4.state == C.REBIND  # a prefix is held: Rebind (RFC 8415 18.2.12)
    n, out = tick(c4, 1500, 999)
    rep = serve(s, out, 1501)
    deliver(c4, rep, 1501)
    assert c4.state == C.BOUND and c4.held.n == 2


def test_release_on_stop_names_the_server_and_forgets_the_binding():
    s = server()
    c = client()
    run_until_bound(c, s)
    out = Slot()
    n = c.release(2000, out)
    t, xid, o, _ = decode(out.buf, n)
    assert t == P.RELEASE and o[2] == [SERVER_DUID] and len(ia_list(o, 3)) == 1 and len(ia_list(o, 25)) == 1
    assert c.state == C.RELEASE and c.held.n == 2  # until the Reply (18.2.7)
    rep = serve(s, out, 2000)
    assert rep[0] == P.REPLY
    deliver(c, rep, 2000, 100)
    assert c.held.n == 0 and c.state == C.STOPPED and c.next_deadline() is None


def test_an_unanswered_release_is_sent_rel_max_rc_times_then_forgotten():
    # RFC 8415 7.6, 15: REL_TIMEOUT 1 s doubling, REL_MAX_RC 4 transmissions in all
    c = client(rand=_Rand(0, (1000,)))
    c.ms = 0
    run_until_bound(c, server())
    out = Slot()
    c.ms = 0
    sends = [c.release(2000, out) > 0]
    t = [(c.deadline - 2000) * 1000 + c.deadline_ms]
    while c.state == C.RELEASE and len(sends) < 10:
        n, out = tick(c, c.deadline, c.deadline_ms)
        sends.append(n > 0 and out.buf[0] == P.RELEASE)
        t.append((c.deadline - 2000) * 1000 + c.deadline_ms if c.deadline else None)
    assert sends == [True, True, True, True, False] and t == [1000, 3000, 7000, 15000, None]
    assert c.state == C.STOPPED and c.held.n == 0 and c.stats["release"] == 4


def test_stateless_client_sends_information_request_and_refreshes():
    s = server()
    c = client(**{"ia-na": False, "ia-pd": False})
    n, out = tick(c, 1000, 999)
    t, xid, o, _ = decode(out.buf, n)
    assert t == P.INFO_REQUEST and 3 not in o and 25 not in o
    rep = serve(s, out, 1000)
    deliver(c, rep, 1000)
    assert c.state == C.INFORMED and c.lease_info()["dns"] == ["2001:db8:1::53", "2001:db8:1::54"]
    assert c.deadline == 1000 + 86400  # no Information Refresh Time: IRT_DEFAULT (RFC 8415 21.23)


def test_no_binding_on_renew_sends_a_request():
    s = server()
    c = client(**{"ia-pd": False})
    run_until_bound(c, s)
    s2 = server()  # the server lost its leases
    n, out = tick(c, c.held.renew_at)
    rep = serve(s2, out, c.held.renew_at)
    t, xid, o, _ = decode(rep, len(rep))
    deliver(c, rep, c.held.renew_at)
    assert c.stats["no_binding"] == 1 and c.state == C.REQUEST


# -- heap: every received message type and every timer event, with the heap locked -------------
import micropython  # noqa: E402  (a no-op stub under CPython: tests/conftest.py)
from heaplock import handle_locked  # noqa: E402


def _lh(c, data, now, ms=0):
    """handle() with the heap locked (heaplock.handle_locked)."""
    c.ms = ms
    return handle_locked(c, bytearray(data), meta(), now, Slot())


def _lt(c, now, ms=0):
    out = Slot()
    c.ms = ms
    oom = False
    got = -1
    micropython.heap_lock()
    try:
        got = c.on_timer(now, out)
    except MemoryError:
        oom = True
    finally:
        micropython.heap_unlock()
    assert not oom, "on_timer() allocated with the heap locked"
    return got


def test_every_message_and_timer_with_the_heap_locked():
    s = server()
    run_until_bound(client(), s)  # warm-up: every path once
    c = client()
    assert _lt(c, 1000, 999) > 0 and c.state == C.SOLICIT  # INIT -> Solicit
    out = Slot()
    c.ms = 999
    c.on_timer(1000, out)  # (nothing due: no allocation either way)
    n, out = tick(c, c.deadline, c.deadline_ms)  # Solicit retransmission (unlocked, for the bytes)
    assert _lt(c, c.deadline, c.deadline_ms) > 0  # and one locked
    n, out = tick(c, c.deadline, c.deadline_ms)
    adv = serve(s, out, c.deadline)
    # past the first RT an Advertise is taken at once: the Request goes out
    assert _lh(c, adv, c.deadline, c.deadline_ms) > 0 and c.state == C.REQUEST
    n, out = tick(c, c.deadline, c.deadline_ms)  # Request retransmission
    rep = serve(s, out, c.deadline)
    assert _lh(c, rep, c.deadline) == 0 and c.state == C.BOUND  # Reply: bound
    t = c.held.renew_at
    assert _lt(c, t) > 0 and c.state == C.RENEW  # T1
    n, out = tick(c, c.deadline, c.deadline_ms)
    rep = serve(s, out, c.deadline)
    assert _lh(c, rep, c.deadline) == 0 and c.state == C.BOUND  # Renew's Reply
    assert _lt(c, c.held.rebind_at) > 0 and c.state == C.REBIND  # T2 (skipping Renew)
    last = c.held.last_expiry()
    while c.state == C.REBIND:
        _lt(c, c.deadline, c.deadline_ms)  # Rebind retransmissions, then expiry
    assert c.state == C.INIT and c.deadline <= last + 1
    i = client(**{"ia-na": False, "ia-pd": False})
    n, out = tick(i, 1000, 999)
    rep = serve(s, out, 1000)
    assert _lh(i, rep, 1000) == 0 and i.state == C.INFORMED
    assert _lt(i, i.deadline) > 0 and i.state == C.INFO  # Information Refresh Time
    d = client(**{"ia-pd": False})
    run_until_bound(d, s)
    d.dad_failed(bytes(d.held.addr[:16]), 2000)
    assert _lt(d, 2000) > 0 and d.state == C.DECLINE
    n, out = tick(d, d.deadline, d.deadline_ms)
    rep = serve(s, out, d.deadline)
    assert _lh(d, rep, d.deadline) == 0 and d.held.n == 0 and d.state == C.INIT  # Decline's Reply
    assert _lh(d, b"\x02\x00\x00", 2100) == 0 and d.stats["dropped_malformed"] == 1


def test_a_decline_drops_the_address_and_solicits_when_nothing_is_left():
    s = server()
    c = client(**{"ia-pd": False})
    run_until_bound(c, s)
    a = bytes(c.held.addr[:16])
    c.dad_failed(a, 2000)
    n, out = tick(c, 2000)
    t, xid, o, _ = decode(out.buf, n)
    assert t == P.DECLINE and o[2] == [SERVER_DUID] and iaaddr(ia_list(o, 3)[0][3])[0] == a
    assert c.stats["decline"] == 1


def _reconfigure_from(s, c, now, msgtype=P.RENEW):
    """Our server's Reconfigure (RKAP) for the client's address: the bytes."""
    s.reconfigure(c.held.addr, 0, 128, msgtype, now)
    out = Slot()
    n = s.on_timer(now, out)
    assert n and out.buf[0] == P.RECONFIGURE
    return bytearray(out.buf[:n])


def test_a_reconfigure_with_valid_rkap_is_answered_with_what_it_asks():
    s = server()
    c = client(**{"ia-pd": False})
    run_until_bound(c, s)
    assert c.held.has_key
    rc = _reconfigure_from(s, c, 1100)
    n, out = deliver(c, rc, 1100)
    assert n and out.buf[0] == P.RENEW and c.stats["reconfigure"] == 1
    rep = serve(s, out, 1100)
    deliver(c, rep, 1100)
    assert c.state == C.BOUND
    again = _reconfigure_from(s, c, 1200, P.INFO_REQUEST)
    n, out = deliver(c, again, 1200)
    assert n and out.buf[0] == P.INFO_REQUEST and c.stats["reconfigure"] == 2


def test_a_forged_or_replayed_reconfigure_is_dropped_and_counted():
    s = server()
    c = client(**{"ia-pd": False})
    run_until_bound(c, s)
    rc = _reconfigure_from(s, c, 1100)
    forged = bytearray(rc)
    forged[-1] ^= 1  # the HMAC's last byte
    assert deliver(c, forged, 1100)[0] == 0 and c.stats["reconfigure_dropped"] == 1
    assert deliver(c, rc, 1100)[0] > 0  # the genuine one
    c.state = C.BOUND  # (its Renew went unanswered here; bound again for the replay test)
    assert deliver(c, rc, 1101)[0] == 0 and c.stats["reconfigure_dropped"] == 2  # replayed counter


def test_console_client6_get_reads_the_wan_dhcpv6_client():
    # (kept out of test_console.py, which stays light)
    import json
    from mpdhcp import console
    from craft6 import server as server6, meta as meta6
    from mpdhcp.v6 import client6 as C6
    from mpdhcp.state.journal import Journal
    from mpdhcp.config.parser import parse_doc
    from mpdhcp.slot import Slot

    cfg = parse_doc(json.dumps({"Client6": {"interface": "wan0", "ia-pd": True}})).get("Client6")
    c = C6.Client6(cfg, Journal(None), b"\x02\x00\x00\x00\x00\x31", lambda n: 0)
    c.restore(1000, b"\x00\x03\x00\x01\x02\x00\x00\x00\x00\x31")
    s6 = server6()
    out = Slot()
    n = c.on_timer(1000, out)  # Solicit (Rapid Commit off): Advertise, then Request, Reply
    for _ in range(3):
        rx = bytearray(out.buf[:n])
        o = Slot()
        m = s6.handle(rx, len(rx), meta6(), 1000, o)
        if not m:
            break
        rep = bytearray(o.buf[:m])
        c.ms = 999
        out = Slot()
        n = c.handle(rep, len(rep), meta6(), 1001, out)
        if not n:
            n = c.on_timer(1002, out)
        if c.state == C6.BOUND:
            break

    class _Svc6:
        def engine(self, name):
            return c if name == "client6" else None

        def now(self):
            return 1000

    got = console.command({"command": "client6-get"}, _Svc6())
    assert got["result"] == 0 and got["arguments"]["state"] == "BOUND", got
    lease = got["arguments"]["lease"]
    assert lease["addresses"] and lease["prefixes"] and got["arguments"]["counters"]["reply"] == 1
    json.dumps(got)  # the control socket sends it as JSON


# -- crafted replies: what RFC 8415 lets a server send that ours does not ------------------------
IAID = MAC[2:]
INFINITY = 0xFFFFFFFF


def _reply(out, *opts):
    """A Reply to the client's message in `out` (its transaction id), from SERVER_DUID."""
    return bytes([P.REPLY]) + bytes(out.buf[1:4]) + opt(1, DUID) + opt(2, SERVER_DUID) + b"".join(opts)


def _na(t1, t2, *addrs):
    return opt(3, IAID + u32(t1) + u32(t2) + b"".join(
        opt(5, ip6(a) + u32(pref) + u32(valid)) for a, pref, valid in addrs))


def _pd(t1, t2, *prefixes):
    return opt(25, IAID + u32(t1) + u32(t2) + b"".join(
        opt(26, u32(pref) + u32(valid) + bytes([plen]) + ip6(p)) for p, plen, pref, valid in prefixes))


def _bind_crafted(c, *ias):
    """Rapid Commit: the Solicit answered at once by a crafted Reply carrying `ias`."""
    n, out = tick(c, c.deadline, c.deadline_ms)
    assert n and out.buf[0] == P.SOLICIT
    t = c.deadline - 1
    deliver(c, _reply(out, opt(14, b""), *ias), t)
    assert c.state == C.BOUND, C.STATE_NAMES[c.state]
    return t


def _oro(out, n):
    o = decode(out.buf, n)[2][6][0]
    return [(o[i] << 8) | o[i + 1] for i in range(0, len(o), 2)]


def test_the_option_request_asks_for_what_rfc_8415_requires():
    # 21.24: SOL_MAX_RT with Solicit and after; 18.2.6, 21.23, 21.25: INF_MAX_RT and the
    # Information Refresh Time with an Information-request; configured codes never twice
    n, out = tick(client(), 1000, 999)
    assert _oro(out, n) == [23, 24, 82]
    n, out = tick(client(**{"requested-options": [23]}), 1000, 999)
    assert _oro(out, n) == [23, 82]
    n, out = tick(client(**{"ia-na": False, "ia-pd": False}), 1000, 999)
    assert out.buf[0] == P.INFO_REQUEST and _oro(out, n) == [23, 24, 82, 83, 32]


def test_infinite_t1_and_t2_never_renew_and_allocate_nothing():
    # 21.4: T1/T2 0xffffffff: never renewed nor rebound; held as a small int (32-bit boards)
    c = client(**{"rapid-commit": True, "ia-pd": False})
    n, out = tick(c, c.deadline, c.deadline_ms)
    rep = _reply(out, opt(14, b""), _na(INFINITY, INFINITY, ("2001:db8:1::77", INFINITY, INFINITY)))
    assert _lh(c, rep, 1001) == 0 and c.state == C.BOUND
    h = c.held
    assert h.renew_at == h.rebind_at == C.FOREVER and c.deadline == C.FOREVER
    assert _lt(c, 5000000) == 0 and c.state == C.BOUND


def test_sol_max_rt_from_a_server_caps_the_solicit_backoff():
    # 21.24: an Advertise (even one offering nothing) sets SOL_MAX_RT (60..86400 s)
    c = client(rand=_Rand(0, (1000,)))
    n, out = tick(c, 1000, 0)
    adv = bytes([P.ADVERTISE]) + bytes(out.buf[1:4]) + opt(1, DUID) + opt(2, SERVER_DUID) \
        + opt(82, u32(60)) + opt(13, b"\x00\x02none")
    deliver(c, adv, 1000, 500)
    assert c.sol_max_rt == 60000
    for _ in range(12):
        prev = c.deadline * 1000 + c.deadline_ms
        tick(c, c.deadline, c.deadline_ms)
    assert c.deadline * 1000 + c.deadline_ms - prev == 60000  # RT capped at the new MRT
    c = client(rand=_Rand(0, (1000,)))
    tick(c, 1000, 0)
    deliver(c, adv.replace(u32(60), u32(59)), 1000, 500)  # out of range: ignored
    assert c.sol_max_rt == 3600000


def test_a_reconfigure_asking_for_information_keeps_a_stateful_client_on_its_timers():
    s = server()
    c = client(**{"ia-pd": False})
    run_until_bound(c, s)
    rc = _reconfigure_from(s, c, 1200, P.INFO_REQUEST)
    n, out = deliver(c, rc, 1200)
    assert n and out.buf[0] == P.INFO_REQUEST
    deliver(c, serve(s, out, 1200), 1200)
    assert c.state == C.BOUND and c.deadline == c.held.renew_at  # T1 still rules, not 86400 s
    c2 = client(**{"ia-pd": False})
    run_until_bound(c2, s)
    n, out = deliver(c2, _reconfigure_from(s, c2, 1200, P.INFO_REQUEST), 1200)
    while c2.state == C.INFO:  # unanswered: given up at T1, then Renew
        tick(c2, c2.deadline, c2.deadline_ms)
    assert c2.state == C.RENEW


def test_a_lease_running_out_during_renew_is_dropped_there_and_the_rest_renewed():
    c = client(**{"rapid-commit": True})
    t0 = _bind_crafted(c, _na(200, 4000, ("2001:db8:1::77", 250, 300)),
                       _pd(200, 4000, ("2001:db8:77::", 56, 4500, 5000)))
    n, out = tick(c, t0 + 200)
    assert n and out.buf[0] == P.RENEW
    sent = 0
    while c.deadline < t0 + 300:  # the server is silent: Renews until the address runs out
        sent += tick(c, c.deadline, c.deadline_ms)[0] > 0
    assert (c.deadline, c.deadline_ms) == (t0 + 300, 0) and sent >= 1
    v = c.lease_version
    n, out = tick(c, t0 + 300)
    assert c.held.count(NA) == 0 and c.held.count(PD) == 1 and c.lease_version == v + 1
    assert c.state == C.RENEW and n == 0  # woken by the expiry, not by the RT
    n, out = tick(c, c.deadline, c.deadline_ms)
    assert n and out.buf[0] == P.RENEW
    assert ia_list(decode(out.buf, n)[2], 3)[0][3] == {}  # the emptied IA_NA, asked for again


def test_an_ia_left_empty_is_asked_for_again_at_once():
    c = client(**{"rapid-commit": True})
    t0 = _bind_crafted(c, _na(1000, 1600, ("2001:db8:1::77", 250, 300)),
                       _pd(1000, 1600, ("2001:db8:77::", 56, 4500, 5000)))
    assert c.deadline == t0 + 300  # the address's valid lifetime comes before T1
    n, out = tick(c, t0 + 300)
    assert n and out.buf[0] == P.RENEW and c.held.count(NA) == 0 and c.held.count(PD) == 1
    o = decode(out.buf, n)[2]
    assert ia_list(o, 3)[0][3] == {} and iaprefix(ia_list(o, 25)[0][3])[0] == ip6("2001:db8:77::")


def test_a_prefix_lost_is_asked_for_with_the_length_hint():
    c = client(**{"rapid-commit": True})
    t0 = _bind_crafted(c, _na(1000, 1600, ("2001:db8:1::77", 4500, 5000)),
                       _pd(1000, 1600, ("2001:db8:77::", 56, 250, 300)))
    n, out = tick(c, t0 + 300)
    assert n and out.buf[0] == P.RENEW
    assert iaprefix(ia_list(decode(out.buf, n)[2], 25)[0][3])[1] == 56  # hint: prefix ::, length 56


def test_a_confirm_answered_not_on_link_starts_over_and_the_reconfigure_key_survives_restarts():
    s = server()
    j = Journal(None)
    c = client(journal=j, **{"ia-pd": False})
    run_until_bound(c, s)
    assert c.held.has_key
    c2 = client(journal=j, now=1500, **{"ia-pd": False})
    assert c2.state == C.CONFIRM and c2.held.has_key  # journaled with the binding
    n, out = tick(c2, 1500, 999)
    rep = serve(s, out, 1501)
    assert _lh(c2, rep, 1501) == 0 and c2.state == C.BOUND  # Confirm's Reply, heap locked
    rc = _reconfigure_from(s, c2, 1600)
    assert _lh(c2, rc, 1600) > 0 and c2.state == C.RENEW  # authenticated with the kept key
    c3 = client(journal=j, now=1700, **{"ia-pd": False})
    n, out = tick(c3, 1700, 999)
    assert out.buf[0] == P.CONFIRM
    deliver(c3, _reply(out, opt(13, b"\x00\x04gone")), 1701)  # NotOnLink (18.2.10)
    assert c3.state == C.INIT and c3.held.n == 0 and c3.stats["not_on_link"] == 1


def test_use_multicast_sends_the_message_again_to_all_servers():
    c = client(**{"rapid-commit": True, "ia-pd": False})
    t0 = _bind_crafted(c, _na(100, 160, ("2001:db8:1::77", 250, 300)), opt(12, ip6("2001:db8:1::1")))
    n, out = tick(c, t0 + 100)
    assert out.buf[0] == P.RENEW and bytes(out.dest) == ip6("2001:db8:1::1")  # Server Unicast
    xid = bytes(out.buf[1:4])
    n, out = deliver(c, _reply(out, opt(13, b"\x00\x05")), t0 + 100)  # UseMulticast (18.2.10)
    assert n and out.buf[0] == P.RENEW and bytes(out.dest) == ip6("ff02::1:2")
    assert bytes(out.buf[1:4]) == xid and c.stats["use_multicast"] == 1  # the same exchange


def test_ia_ta_is_asked_with_solicit_held_not_renewed_and_released():
    # RFC 8415 21.5: IA_TA has no T1/T2; its addresses are not renewed (14.2), but confirmed
    # and released like addresses
    s = server()
    c = client(**{"ia-pd": False, "ia-ta": True})
    n, out = tick(c, c.deadline, c.deadline_ms)
    o = decode(out.buf, n)[2]
    assert o[4] == [IAID] and len(ia_list(o, 3)) == 1  # IA_TA: the IAID alone, no hint
    t = c.deadline
    deliver(c, serve(s, out, t), t, 500)
    n, out = tick(c, c.deadline, c.deadline_ms)
    assert out.buf[0] == P.REQUEST and len(decode(out.buf, n)[2][4][0]) == 4 + 28  # the offered one
    deliver(c, serve(s, out, c.deadline), c.deadline, c.deadline_ms)
    info = c.lease_info()
    assert c.state == C.BOUND and len(info["temporary"]) == 1 and len(info["addresses"]) == 2
    assert info["temporary"][0] != info["addresses"][0][0]
    n, out = tick(c, c.held.renew_at)
    assert out.buf[0] == P.RENEW and 4 not in decode(out.buf, n)[2]  # not renewed
    deliver(c, serve(s, out, c.held.renew_at), c.held.renew_at)
    out = Slot()
    n = c.release(c.held.renew_at + 1, out)
    assert 4 in decode(out.buf, n)[2]


def test_ia_ta_lapsing_is_asked_for_again():
    c = client(**{"rapid-commit": True, "ia-pd": False, "ia-ta": True})
    t0 = _bind_crafted(c, _na(1000, 1600, ("2001:db8:1::77", 4500, 5000)),
                       opt(4, IAID + opt(5, ip6("2001:db8:1::7e") + u32(250) + u32(300))))
    assert c.lease_info()["temporary"] == ["2001:db8:1::7e"]
    n, out = tick(c, t0 + 300)
    assert n and out.buf[0] == P.RENEW and c.held.count(C.TA) == 0
    assert decode(out.buf, n)[2][4] == [IAID]  # an empty IA_TA: new temporary addresses, please


# -- found by the client6 fuzz target (tests/fuzz/findings/client6, regressions/client6) -------------

def _same_binding(c, j):
    """A fresh client restored from journal j holds c's binding (DUID, server, leases, key)."""
    j.commit()
    c2 = C.Client6(_cfg(), j, MAC, _Rand())
    c2.held.load()
    a, b = c.held, c2.held

    def leases(h):
        return sorted((h.kind[i], h.plen[i], bytes(h.addr[16 * i:16 * i + 16]), h.pref_at[i], h.valid_at[i])
                      for i in range(h.n))
    assert bytes(b.duid[:b.duid_len]) == DUID and leases(a) == leases(b) and leases(a)
    assert bytes(a.sid[:a.sid_len]) == bytes(b.sid[:b.sid_len]) and a.has_key == b.has_key
    assert (a.renew_at, a.rebind_at) == (b.renew_at, b.rebind_at)


def test_eight_leases_a_long_server_duid_and_a_key_are_journaled_and_replayed():
    # a journal record holds 255 bytes: 8 leases (26 bytes each), a 130-byte server DUID and
    # the Reconfigure Key do not fit one (it raised ValueError in Journal.append)
    j = Journal(None)
    c = client(journal=j, **{"rapid-commit": True})
    n, out = tick(c, c.deadline, c.deadline_ms)
    sid = b"\x00\x02" + bytes(range(128))  # DUID-EN, 130 bytes (RFC 8415 11.1)
    key = opt(11, bytes((3, 1, 0)) + bytes(7) + b"\x01" + b"\x01" + bytes(range(16)))
    na = _na(1000, 2000, *(("2001:db8:1::%x" % k, 3000, 4000) for k in range(1, 5)))
    pd = _pd(1000, 2000, *(("2001:db8:%x::" % (0x8000 + k), 56, 3000, 4000) for k in range(4)))
    rep = bytes([P.REPLY]) + bytes(out.buf[1:4]) + opt(1, DUID) + opt(2, sid) + opt(14, b"") + na + pd + key
    assert _lh(c, rep, c.deadline - 1) == 0  # journaled in two records, allocating nothing
    assert c.state == C.BOUND and c.held.n == 8 and c.held.has_key
    _same_binding(c, j)
    c3 = client(journal=j)  # a compaction (restore rewrites the journal) keeps it all too
    assert c3.held.n == 8 and c3.held.has_key and c3.state == C.REBIND  # prefixes: Rebind


def test_t1_never_comes_after_t2_when_one_ia_leaves_t1_to_the_client():
    # IA_NA T1 1000 T2 2000, IA_PD T1 0 (the client's choice) T2 500: Renew at 250, Rebind at 500
    # (it took the IA_NA's T1 and the IA_PD's T2: renew_at after rebind_at, Renew skipped)
    c = client(**{"rapid-commit": True})
    t0 = _bind_crafted(c, _na(1000, 2000, ("2001:db8:1::77", 3000, 4000)),
                       _pd(0, 500, ("2001:db8:77::", 56, 3000, 4000)))
    h = c.held
    assert (h.renew_at, h.rebind_at) == (t0 + 250, t0 + 500)
    n, out = tick(c, t0 + 250)
    assert n and out.buf[0] == P.RENEW


def test_a_confirm_given_up_after_a_lease_ran_out_drops_it_there():
    # Confirm gives up at CNF_MAX_RD (10 s): a lease whose valid lifetime ended meanwhile is
    # not kept (it was, until the next timer, with BOUND's deadline already past)
    j = Journal(None)
    c = client(journal=j, **{"rapid-commit": True, "ia-pd": False})
    t0 = _bind_crafted(c, _na(100, 160, ("2001:db8:1::77", 3, 6)), _na(100, 160))
    j.commit()
    c2 = client(journal=j, now=t0)
    assert c2.state == C.CONFIRM and c2.held.n == 1
    while c2.state == C.CONFIRM:
        now = c2.deadline
        _lt(c2, now, c2.deadline_ms)
    assert now >= t0 + 6 and c2.held.n == 0 and c2.state == C.INIT


def test_a_nobinding_ia_beside_a_bound_one_is_journaled_before_the_request():
    # Rapid Commit Reply: IA_NA with an address, IA_PD NoBinding: the client Requests the
    # prefix again, using the address at once: the journal must hold it by then
    j = Journal(None)
    c = client(journal=j, **{"rapid-commit": True})
    n, out = tick(c, c.deadline, c.deadline_ms)
    rep = _reply(out, opt(14, b""), _na(1000, 2000, ("2001:db8:1::77", 3000, 4000)),
                 opt(25, IAID + u32(0) + u32(0) + opt(13, b"\x00\x03")))
    assert _lh(c, rep, c.deadline - 1) > 0  # the Request, allocating nothing
    assert c.state == C.REQUEST and c.held.count(NA) == 1
    _same_binding(c, j)


def test_a_dad_failure_reported_as_the_address_runs_out_declines_nothing():
    c = client(**{"rapid-commit": True})
    t0 = _bind_crafted(c, _na(1000, 2000, ("2001:db8:1::77", 250, 300)),
                       _pd(1000, 2000, ("2001:db8:77::", 56, 3000, 4000)))
    c.dad_failed(ip6("2001:db8:1::77"), t0 + 300)
    n, out = tick(c, t0 + 300)
    assert c.state == C.RENEW and out.buf[0] == P.RENEW and c.held.count(NA) == 0  # asked for anew
    assert c.stats["decline"] == 0


def test_a_lease_running_out_during_decline_goes_at_its_valid_lifetime():
    # RFC 8415 18.2.8's exchange takes seconds (DEC_TIMEOUT 1 s, DEC_MAX_RC 4): an address
    # whose valid lifetime ends meanwhile is dropped then, not when the Decline is over
    c = client(**{"rapid-commit": True, "ia-pd": False})
    t0 = _bind_crafted(c, _na(1000, 2000, ("2001:db8:1::77", 3000, 4000), ("2001:db8:1::78", 2, 3)))
    c.dad_failed(ip6("2001:db8:1::77"), t0)
    n, out = tick(c, t0)
    assert n and out.buf[0] == P.DECLINE
    while c.state == C.DECLINE and c.deadline < t0 + 3:
        tick(c, c.deadline, c.deadline_ms)
    assert (c.state, c.deadline, c.deadline_ms) == (C.DECLINE, t0 + 3, 0)  # the expiry wakes it
    _lt(c, t0 + 3)
    assert c.state == C.DECLINE and c.held.n == 1 and c.held.find(NA, ip6("2001:db8:1::78"), 0, 128) < 0


def test_a_lease_running_out_before_the_first_confirm_after_a_restart_is_not_confirmed():
    j = Journal(None)
    c = client(journal=j, **{"rapid-commit": True, "ia-pd": False})
    t0 = _bind_crafted(c, _na(1000, 2000, ("2001:db8:1::77", 3000, 4000), ("2001:db8:1::78", 1, 1)))
    j.commit()
    c2 = C.Client6(_cfg(**{"ia-pd": False}), j, MAC, _Rand())
    c2.ms = 500
    c2.restore(t0, DUID)  # CNF_MAX_DELAY: 999 ms from t0.500, past the second address's end
    assert c2.state == C.CONFIRM and c2.held.n == 2 and (c2.deadline, c2.deadline_ms) == (t0 + 1, 0)
    n, out = _lt(c2, t0 + 1), None
    assert n > 0 and c2.held.n == 1 and c2.state == C.CONFIRM


def test_a_decline_due_as_another_lease_runs_out_drops_that_one_first():
    c = client(**{"rapid-commit": True})
    t0 = _bind_crafted(c, _na(1000, 2000, ("2001:db8:1::77", 3000, 4000), ("2001:db8:1::78", 3000, 4000)),
                       _pd(1000, 2000, ("2001:db8:77::", 56, 60, 120)))
    c.dad_failed(ip6("2001:db8:1::77"), t0 + 120)
    n, out = tick(c, t0 + 120)  # the prefix ran out: its IA is asked for again first
    assert c.held.count(PD) == 0 and n and out.buf[0] == P.RENEW
    deliver(c, _reply(out, _na(1000, 2000, ("2001:db8:1::77", 3000, 4000), ("2001:db8:1::78", 3000, 4000)),
                      _pd(1000, 2000, ("2001:db8:78::", 56, 3000, 4000))), t0 + 120)
    assert c.state == C.BOUND and c.deadline == t0 + 120  # the Decline waiting: at once
    n, out = tick(c, t0 + 120)
    assert n and out.buf[0] == P.DECLINE and c.state == C.DECLINE


def test_t1_never_comes_after_t2_when_a_default_t1_rounds_to_zero():
    # T1/T2 0 in both IAs: 0.5 and 0.8 of the shortest preferred lifetime; a 1 s one makes
    # T1 0 (read as "none") and T2 1: the other IA's T1 (30) came after it
    c = client(**{"rapid-commit": True})
    t0 = _bind_crafted(c, _na(0, 0, ("2001:db8:1::77", 60, 120)), _pd(0, 0, ("2001:db8:77::", 56, 1, 1)))
    h = c.held
    assert h.renew_at <= h.rebind_at == t0 + 1
