# Mirrors firmware/mpdhcp/v6/reconfigure6.py (Reconfigure with RKAP: RFC 8415 18.3.11, 20.3, 20.4, 21.11, 21.19).
from craft6 import (SERVER_DUID, SECRET, opt, duid_ll, ia_na, ia_pd, msg, relay, decode, ia_list,
                    iaaddr, iaprefix, server, meta, exchange, bind)
from mpdhcp.v6.reconfigure6 import Identity, MAX_RECONF, REC_TIMEOUT, REC_MAX_RC
from mpdhcp.wire import packet6 as P
from mpdhcp.wire.md5 import MD5, HMAC_MD5
from mpdhcp.state.journal import Journal
from mpdhcp.slot import Slot, KIND_UNICAST

ACCEPT = opt(20, b"")  # Reconfigure Accept (RFC 8415 21.20)
CID = duid_ll(b"\x02\x00\x00\x00\x00\x01")


def _cid(i):
    return duid_ll(bytes([2, 0, 0, 0, 0x10, i]))


def _key(duid, secret=SECRET):
    """RKAP key as the module derives it: MD5(secret | DUID)."""
    h = MD5()
    d = bytearray(16)
    h.update(secret, 0, 16)
    h.update(duid, 0, len(duid))
    h.digest_into(d, 0)
    return bytes(d)


def _accepting(s, cid, now=1000, ias=None, m=None):
    """Bind cid with Reconfigure Accept; (Reply options, its first address)."""
    o = bind(s, cid, ias=ias, now=now, m=m, extra=(ACCEPT,))
    return o, iaaddr(ia_list(o)[0][3])[0]


def _auth(data, typ):
    """An Auth option of RKAP (RFC 8415 21.11): (replay detection, value) after checking
    protocol 3, algorithm 1 (HMAC-MD5), RDM 0 and the info type."""
    assert len(data) == 28 and data[0] == 3 and data[1] == 1 and data[2] == 0 and data[11] == typ
    return data[3:11], data[12:28]


def _sent(s, now):
    """on_timer at now: (length, slot)."""
    out = Slot()
    return s.on_timer(now, out), out


def _raises(fn):
    try:
        fn()
    except ValueError:
        return True
    return False


def _renew(s, cid, o, now, mtype=P.RENEW, m=None):
    sid = SERVER_DUID if mtype == P.RENEW else None
    n, out = exchange(s, msg(mtype, (opt(3, o[3][0]), ACCEPT), cid=cid, sid=sid), m, now)
    assert n > 0
    return decode(out.buf, n)[2]


def test_identity_set_and_hex():
    ident = Identity()
    assert ident.duid_len == 0 and ident.hex() == "" and bytes(ident.secret) == bytes(16)
    ident.set(SERVER_DUID, SECRET)
    assert bytes(ident.duid[:ident.duid_len]) == SERVER_DUID and bytes(ident.secret) == SECRET
    assert ident.hex() == "".join("%02x" % b for b in SERVER_DUID)
    ident.set(memoryview(b"\x00\x03\x00\x01\x02\x00\x00\x00\x00\x77"), memoryview(bytes(range(16))))
    assert ident.hex() == "0003000102000000" + "0077" and bytes(ident.secret) == bytes(range(16))
    assert len(ident.duid) == 130  # room for the longest DUID (RFC 8415 11.1: 128 + type)


def test_reply_carries_the_key_md5_of_secret_and_duid():
    s = server()
    o, _ = _accepting(s, CID)
    assert o[20] == [b""]  # the server accepts Reconfigure too (RFC 8415 21.20)
    _, key = _auth(o[11][0], 1)  # info type 1: the Reconfigure Key (RFC 8415 20.4)
    assert key == _key(CID)
    o2, _ = _accepting(s, _cid(2))
    assert _auth(o2[11][0], 1)[1] == _key(_cid(2)) != key
    assert _auth(_renew(s, CID, o, 1100)[11][0], 1)[1] == key  # stable per client
    assert s.stats["reconfigure_key_sent"] == 3
    other = server()
    other.set_identity(SERVER_DUID, bytes(range(200, 216)))
    o3, _ = _accepting(other, CID)
    assert _auth(o3[11][0], 1)[1] == _key(CID, bytes(range(200, 216))) != key
    plain = bind(server(), CID)
    assert 11 not in plain and 20 not in plain  # no Reconfigure Accept: no key


def test_replay_detection_strictly_increases():
    # RFC 8415 20.3: with RDM 0 the replay detection field is a strictly monotonically
    # increasing 64-bit counter; the client accepts only a value greater than the last
    s = server()
    o, a = _accepting(s, CID, now=1000)
    seen = [_auth(o[11][0], 1)[0]]
    o2, b = _accepting(s, _cid(2), now=1000)  # same second: the sequence part grows
    seen.append(_auth(o2[11][0], 1)[0])
    seen.append(_auth(_renew(s, CID, o, 1000)[11][0], 1)[0])
    s.reconfigure(a, 0, 128, P.RENEW, 1000)
    s.reconfigure(b, 0, 128, P.INFO_REQUEST, 1000)
    for now in (1000, 1000, 1002, 1002, 1006):
        n, out = _sent(s, now)
        assert n > 0, now
        seen.append(_auth(decode(out.buf, n)[2][11][0], 2)[0])
    for i in range(1, len(seen)):
        assert seen[i] > seen[i - 1], (i, seen)  # big-endian bytes order as the numbers do


def test_replay_detection_keeps_increasing_across_a_restart():
    # RFC 8415 20.3: the counter must keep increasing for the same server (identified by its
    # DUID, which the journal restores with the secret, so the client keeps its key). A
    # restart within the same second must not send a counter the client has already seen.
    j = Journal(None)
    s = server(journal=j)
    s.restore()
    o, a = _accepting(s, CID, now=1000)
    j.commit()
    before = _auth(o[11][0], 1)[0]
    s2 = server(journal=j)
    s2.restore()
    s2.reconfigure(a, 0, 128, P.RENEW, 1000)
    n, out = _sent(s2, 1000)
    assert n > 0
    after = _auth(decode(out.buf, n)[2][11][0], 2)[0]
    assert after > before, (before, after)


def test_deadline_is_none_idle_and_the_earliest_due_time_otherwise():
    s = server()
    assert s.rc.deadline() is None and s.next_deadline() is None
    _, a = _accepting(s, CID)
    _, b = _accepting(s, _cid(2))
    s.reconfigure(a, 0, 128, P.RENEW, 1100)
    assert s.rc.deadline() == 1100
    s.reconfigure(b, 0, 128, P.RENEW, 1050)
    assert s.rc.deadline() == 1050
    assert _sent(s, 1049)[0] == 0  # nothing due yet
    n, out = _sent(s, 1050)
    assert n > 0 and bytes(out.dest) == b
    assert s.rc.deadline() == 1050 + REC_TIMEOUT
    assert sorted(p[2] for p in s.rc.pending()) == [1052, 1100]


def test_timer_doubles_rt_from_2_s_and_gives_up_after_8_transmissions():
    # RFC 8415 18.3.11 and 7.6: REC_TIMEOUT 2 s, doubled after each transmission, and the
    # server stops after REC_MAX_RC (8) unanswered transmissions
    assert (REC_TIMEOUT, REC_MAX_RC) == (2, 8)
    s = server()
    _, a = _accepting(s, CID)
    s.reconfigure(a, 0, 128, P.RENEW, 2000)
    times = []
    while s.next_deadline() is not None:
        d = s.next_deadline()
        assert _sent(s, d - 1)[0] == 0  # never early
        n, out = _sent(s, d)
        if n:
            assert decode(out.buf, n)[0] == P.RECONFIGURE
            times.append(d)
        assert len(times) <= 8
    assert times == [2000, 2002, 2006, 2014, 2030, 2062, 2126, 2254]
    assert s.stats["reconfigure_sent"] == 8 and s.stats["reconfigure_gave_up"] == 1
    assert s.rc.pending() == [] and s.stats["reconfigure_answered"] == 0


def test_a_renew_rebind_or_information_request_answers_the_reconfigure():
    s = server()
    o1, a1 = _accepting(s, _cid(1))
    o2, a2 = _accepting(s, _cid(2))
    o3, a3 = _accepting(s, _cid(3))
    for a in (a1, a2, a3):
        s.reconfigure(a, 0, 128, P.RENEW, 1100)
    for _ in range(3):
        assert _sent(s, 1100)[0] > 0
    assert len(s.rc.pending()) == 3
    _renew(s, _cid(9), o1, 1101)  # another client's Renew answers nothing
    assert len(s.rc.pending()) == 3 and s.stats["reconfigure_answered"] == 0
    _renew(s, _cid(1), o1, 1101)
    _renew(s, _cid(2), o2, 1101, P.REBIND)
    n, _ = exchange(s, msg(P.INFO_REQUEST, (), cid=_cid(3)), now=1101)
    assert n > 0
    assert s.rc.pending() == [] and s.stats["reconfigure_answered"] == 3
    assert s.next_deadline() is None and _sent(s, 1102)[0] == 0


def _relayed_accepting(s, cid):
    m = meta(src="2001:db8:2::1", port=547)
    n, out = exchange(s, relay(msg(1, (ia_na(1), ACCEPT), cid=cid), link="2001:db8:2::1"), m)
    o = decode(out.buf, n)[2]
    req = msg(3, (opt(3, o[3][0]), ACCEPT), cid=cid, sid=SERVER_DUID)
    n, out = exchange(s, relay(req, link="2001:db8:2::1"), m)
    t, _, o, rel = decode(out.buf, n)
    assert t == P.REPLY and len(rel) == 1 and 11 in o
    return iaaddr(ia_list(o)[0][3])[0]


def test_send_refuses_what_cannot_be_reconfigured():
    s = server()
    r = _relayed_accepting(s, _cid(7))
    plain = iaaddr(ia_list(bind(s, _cid(8)))[0][3])[0]
    assert _raises(lambda: s.reconfigure(r, 0, 128, P.RENEW, 1000))  # behind a relay
    assert _raises(lambda: s.reconfigure(plain, 0, 128, P.RENEW, 1000))  # no Reconfigure Accept
    from mpdhcp.wire.addr6 import ip6
    assert _raises(lambda: s.reconfigure(ip6("2001:db8:1::1ff"), 0, 128, P.RENEW, 1000))  # unknown
    _, a = _accepting(s, _cid(1))
    assert _raises(lambda: s.reconfigure(a, 0, 64, P.RENEW, 1000))  # the address, another length
    assert _raises(lambda: s.reconfigure(a, 0, 128, P.REQUEST, 1000))  # not a Reconfigure msg-type
    assert s.rc.pending() == [] and s.next_deadline() is None
    addrs = [a] + [_accepting(s, _cid(i))[1] for i in (2, 3, 4, 5)]
    for x in addrs[:MAX_RECONF]:
        s.reconfigure(x, 0, 128, P.RENEW, 1000)
    s.reconfigure(addrs[0], 0, 128, P.INFO_REQUEST, 1010)  # the same client: replaces its own
    assert len(s.rc.pending()) == MAX_RECONF == 4
    assert _raises(lambda: s.reconfigure(addrs[4], 0, 128, P.RENEW, 1000))  # a fifth at once
    assert len(s.rc.pending()) == 4 and s.next_deadline() == 1000


def test_reconfigure_message_and_its_hmac():
    # RFC 8415 18.3.11: transaction-id 0, Server and Client Identifier, Reconfigure Message,
    # Auth; no IA options. 20.4: HMAC-MD5 over the whole message, digest field zeroed.
    s = server()
    m = meta(ifindex=2)
    o, a = _accepting(s, CID, m=m)
    for mtype in (P.RENEW, P.INFO_REQUEST):
        s.reconfigure(a, 0, 128, mtype, 1100)
        n, out = _sent(s, 1100)
        t, xid, ro, rel = decode(out.buf, n)
        assert t == P.RECONFIGURE and xid == 0 and rel == [] and out.buf[1:4] == b"\x00\x00\x00"
        assert ro[2] == [SERVER_DUID] and ro[1] == [CID] and ro[19] == [bytes([mtype])]
        assert 3 not in ro and 25 not in ro and 5 not in ro and 20 not in ro
        assert bytes(out.dest) == a and out.port == 546 and out.kind == KIND_UNICAST
        assert out.ifindex == 2 and out.n == n and out.tx_type == P.RECONFIGURE
        _, digest = _auth(ro[11][0], 2)
        body = bytearray(out.buf[:n])
        at = bytes(body).find(bytes([0, 11, 0, 28]))  # the Auth option header
        assert at > 0 and bytes(body[at + 16:at + 32]) == digest
        for i in range(16):
            body[at + 16 + i] = 0
        want = bytearray(16)
        HMAC_MD5().compute(_key(CID), 0, 16, body, 0, n, want, 0)
        assert bytes(want) == digest
        body[5] ^= 1  # any change to the message breaks it
        HMAC_MD5().compute(_key(CID), 0, 16, body, 0, n, want, 0)
        assert bytes(want) != digest
        _renew(s, CID, o, 1101, m=m)  # answered: the next round starts afresh


def test_a_prefix_names_its_client_and_the_reconfigure_goes_to_its_address():
    s = server()
    o, a = _accepting(s, CID, ias=(ia_na(1), ia_pd(2)))
    p, plen, _, _ = iaprefix(ia_list(o, 25)[0][3])
    r = s.reconfigure(p, 0, plen, P.RENEW, 1200)
    assert r == s.leases.find_addr(a, 0, 128)
    n, out = _sent(s, 1200)
    assert n > 0 and bytes(out.dest) == a


def test_reconfigure_may_ask_for_a_rebind():
    # RFC 8415 18.3.11 and 21.19: the Reconfigure Message option selects Renew (5), Rebind (6)
    # or Information-request (11)
    s = server()
    _, a = _accepting(s, CID)
    ok = not _raises(lambda: s.reconfigure(a, 0, 128, P.REBIND, 1300))
    assert ok, "Reconfigure with msg-type Rebind (6) refused"
    n, out = _sent(s, 1300)
    assert n > 0 and decode(out.buf, n)[2][19] == [b"\x06"]


def test_a_server_identity_record_with_an_impossible_duid_length_is_not_taken():
    # found by the fuzz campaign: a CRC-valid J_SERVER6 naming a 200-byte DUID overran the
    # identity's buffer; replay must pass over it and keep the identity it has
    from mpdhcp.v6.reconfigure6 import Identity
    idn = Identity()
    idn.set(b"\x00\x03\x00\x01\x02\x00\x00\x00\x00\x01", bytes(16))
    rec = bytes([200]) + bytes(200) + bytes(16)
    assert not idn.apply(rec, 0, len(rec)) and idn.duid_len == 10
    # and a 1-byte DUID (found by this session's campaign): every Reply would then carry a
    # Server-Id clients must drop (RFC 8415 11.1: 2..130 bytes)
    one = bytes([1, 0x42]) + bytes(16)
    assert not idn.apply(one, 0, len(one)) and idn.duid_len == 10
    ok = bytes([4]) + b"\x00\x03\x00\x01" + bytes(range(16)) + b"\x00\x00\x00\x07"
    assert idn.apply(ok, 0, len(ok)) and idn.duid_len == 4 and idn.epoch == 7


def _text6(a):
    return ":".join("%x" % (a[i] << 8 | a[i + 1]) for i in range(0, 16, 2))


def test_a_reconfigure_in_flight_stops_when_its_lease_changes_hands():
    # found by the fuzz campaign: the slot kept only a record number, so once the client
    # released and another client took the record, the retransmission named the newcomer
    s = server()
    o, a = _accepting(s, CID)
    s.reconfigure(a, 0, 128, P.RENEW, 1000)
    assert _sent(s, 1000)[0] > 0
    n, out = exchange(s, msg(P.RELEASE, (opt(3, o[3][0]),), cid=CID, sid=SERVER_DUID), None, 1001)
    assert n > 0
    other = _cid(9)
    o2 = bind(s, other, ias=(ia_na(1, (_text6(a),)),), now=1001, extra=(ACCEPT,))
    assert iaaddr(ia_list(o2)[0][3])[0] == a  # the record (and the address) changed hands
    assert _sent(s, 1002)[0] == 0
    assert s.rc.pending() == [] and s.stats["reconfigure_gave_up"] == 1
