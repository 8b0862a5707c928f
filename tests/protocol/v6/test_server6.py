# Server6 behaviour, one function per rule (RFC 8415 18.3, 19, 20.4, 21).
from craft6 import (MAC1, MAC2, SERVER_DUID, SECRET, CONFIG, opt, u32, duid_ll, ia_na, ia_pd, oro,
                    msg, relay, decode, ia_list, iaaddr, iaprefix, status, server, meta, exchange,
                    bind, options)
from mpdhcp.wire.addr6 import ip6, ip6_str
from mpdhcp.state.journal import Journal
from mpdhcp.state import leases6 as L
from mpdhcp.wire import packet6 as P
from mpdhcp.wire.md5 import MD5, HMAC_MD5
from mpdhcp.slot import Slot

CID = duid_ll(MAC1)


def _reply(s, req, m=None, now=1000):
    n, out = exchange(s, req, m, now)
    assert n > 0, s.stats
    return decode(out.buf, n) + (out,)


def test_solicit_gets_advertise_with_address_and_options():
    s = server()
    t, xid, o, rel, out = _reply(s, msg(1, (ia_na(7), oro(23, 24, 65000)), cid=CID))
    assert t == P.ADVERTISE and xid == 0x123456 and rel == []
    assert o[2] == [SERVER_DUID] and o[1] == [CID]
    (iaid, t1, t2, sub), = ia_list(o)
    assert (iaid, t1, t2) == (7, 1000, 2000)
    a, pref, valid = iaaddr(sub)
    assert ip6_str(a) == "2001:db8:1::100" and (pref, valid) == (3000, 4000)
    assert o[23] == [ip6("2001:db8:1::53") + ip6("2001:db8:1::54")]
    assert o[24] == [b"\x03lan\x00\x07example\x03org\x00"]
    assert o[65000] == [b"\xca\xfe"]
    assert bytes(out.dest) == ip6("fe80::ff:fe00:1") and out.port == 546
    r = s.leases.find_addr(a, 0, 128)
    assert s.leases.state(r) == L.OFFERED and s.stats["journal_records"] == 0


def test_unrequested_options_are_not_sent():
    s = server()
    t, _, o, _, _ = _reply(s, msg(1, (ia_na(1),), cid=CID))
    assert 23 not in o and 24 not in o


def test_request_binds_and_journals():
    s = server()
    o = bind(s, CID)
    (iaid, t1, t2, sub), = ia_list(o)
    a, _, _ = iaaddr(sub)
    r = s.leases.find_addr(a, 0, 128)
    assert s.leases.state(r) == L.BOUND and s.leases.expiry(r) == 1000 + 4000
    assert s.stats["journal_records"] == 1


def test_several_ias_and_prefix_delegation():
    s = server()
    o = bind(s, CID, ias=(ia_na(1), ia_na(2), ia_pd(3), ia_pd(4)))
    nas = ia_list(o)
    assert [x[0] for x in nas] == [1, 2]
    assert iaaddr(nas[0][3])[0] != iaaddr(nas[1][3])[0]
    pds = ia_list(o, 25)
    assert [x[0] for x in pds] == [3, 4]
    p1, l1, pref, valid = iaprefix(pds[0][3])
    p2, l2, _, _ = iaprefix(pds[1][3])
    assert l1 == l2 == 56 and p1 != p2 and (pref, valid) == (3000, 4000)
    assert ip6_str(p1) == "2001:db8:8000::" and ip6_str(p2) == "2001:db8:8000:100::"


def test_returning_client_gets_the_same_lease():
    s = server()
    o1 = bind(s, CID, ias=(ia_na(1), ia_pd(2)))
    bind(s, duid_ll(MAC2), ias=(ia_na(1), ia_pd(2)))
    o2 = bind(s, CID, ias=(ia_na(1), ia_pd(2)), now=2000)
    assert iaaddr(ia_list(o1)[0][3])[0] == iaaddr(ia_list(o2)[0][3])[0]
    assert iaprefix(ia_list(o1, 25)[0][3])[0] == iaprefix(ia_list(o2, 25)[0][3])[0]


def test_hint_in_pool_is_honoured_and_outside_is_not():
    s = server()
    t, _, o, _, _ = _reply(s, msg(1, (ia_na(1, ["2001:db8:1::10a"]),), cid=CID))
    assert ip6_str(iaaddr(ia_list(o)[0][3])[0]) == "2001:db8:1::10a"
    t, _, o, _, _ = _reply(s, msg(1, (ia_na(1, ["2001:db8:1::5"]),), cid=duid_ll(MAC2)))
    assert ip6_str(iaaddr(ia_list(o)[0][3])[0]) == "2001:db8:1::100"


def test_rapid_commit_solicit_gets_reply_and_binds():
    s = server()
    t, _, o, _, _ = _reply(s, msg(1, (ia_na(1), opt(14, b"")), cid=CID))
    assert t == P.REPLY and o[14] == [b""]
    a = iaaddr(ia_list(o)[0][3])[0]
    assert s.leases.state(s.leases.find_addr(a, 0, 128)) == L.BOUND
    assert s.stats["journal_records"] == 1


def test_rapid_commit_needs_the_subnet_to_allow_it():
    s = server()
    m = meta()
    rel = relay(msg(1, (ia_na(1), opt(14, b"")), cid=CID), link="2001:db8:2::1")
    t, _, o, relays, _ = _reply(s, rel, meta(src="2001:db8:2::1", port=547))
    inner_t = t
    assert inner_t == P.ADVERTISE and 14 not in o


def test_pool_exhausted_gives_no_addrs_avail_status_in_the_ia():
    s = server()
    for i in range(16):
        bind(s, duid_ll(bytes([2, 0, 0, 0, 7, i])))
    t, _, o, _, _ = _reply(s, msg(1, (ia_na(9), ia_pd(9)), cid=CID))
    nas = ia_list(o)
    assert nas[0][0] == 9 and status(nas[0][3]) == P.NO_ADDRS_AVAIL and 5 not in nas[0][3]
    assert ia_list(o, 25)[0][3][26]  # prefixes are still there
    assert s.stats["no_addrs_avail"] == 1


def test_no_prefix_avail_when_the_subnet_has_no_pd_pool():
    s = server()
    t, _, o, _, _ = _reply(s, relay(msg(1, (ia_pd(1),), cid=CID), iid=b"relay3-port1"),
                           meta(src="2001:db8:3::1", port=547))
    assert status(ia_list(o, 25)[0][3]) == P.NO_PREFIX_AVAIL


def test_reservation_by_duid_gets_address_and_prefix():
    s = server()
    cid = duid_ll(b"\x02\x00\x00\x00\x00\x99")
    o = bind(s, cid, ias=(ia_na(1), ia_pd(1)))
    assert ip6_str(iaaddr(ia_list(o)[0][3])[0]) == "2001:db8:1::99"
    p, l, _, _ = iaprefix(ia_list(o, 25)[0][3])
    assert ip6_str(p) == "2001:db8:9999::" and l == 56


def test_reservation_by_hw_address_in_duid_ll():
    s = server()
    o = bind(s, duid_ll(b"\x02\x00\x00\x00\x00\x98"))
    assert ip6_str(iaaddr(ia_list(o)[0][3])[0]) == "2001:db8:1::98"


def test_reserved_address_is_not_given_to_others():
    s = server()
    t, _, o, _, _ = _reply(s, msg(1, (ia_na(1, ["2001:db8:1::99"]),), cid=CID))
    assert ip6_str(iaaddr(ia_list(o)[0][3])[0]) != "2001:db8:1::99"


def test_renew_extends_and_writes_short_record():
    s = server()
    o = bind(s, CID, ias=(ia_na(1), ia_pd(2)))
    a = iaaddr(ia_list(o)[0][3])[0]
    j = Journal(None)
    s.journal = s.leases.journal = j
    ren = msg(5, (opt(3, ia_list_raw(o, 3)), opt(25, ia_list_raw(o, 25))), cid=CID, sid=SERVER_DUID)
    t, _, o2, _, _ = _reply(s, ren, now=3000)
    assert t == P.REPLY
    assert iaaddr(ia_list(o2)[0][3])[0] == a
    r = s.leases.find_addr(a, 0, 128)
    assert s.leases.expiry(r) == 3000 + 4000
    j.commit()
    assert len(j.memory) == 2 * (25 + 5)  # two short state records (with the socket index)


def ia_list_raw(o, code):
    return o[code][0]


def test_renew_without_binding_gets_no_binding():
    s = server()
    ren = msg(5, (ia_na(1, ["2001:db8:1::100"]),), cid=CID, sid=SERVER_DUID)
    t, _, o, _, _ = _reply(s, ren)
    assert status(ia_list(o)[0][3]) == P.NO_BINDING


def test_renew_lists_other_addresses_with_zero_lifetimes():
    s = server()
    o = bind(s, CID)
    a = iaaddr(ia_list(o)[0][3])[0]
    ren = msg(5, (ia_na(1, [ip6_str(a), "2001:db8:1::10e"]),), cid=CID, sid=SERVER_DUID)
    t, _, o2, _, _ = _reply(s, ren)
    addrs = ia_list(o2)[0][3][5]
    assert addrs[0][:16] == a and addrs[0][16:] == u32(3000) + u32(4000)
    assert addrs[1][:16] == ip6("2001:db8:1::10e") and addrs[1][16:] == bytes(8)


def test_rebind_extends_and_off_link_gets_zero_lifetimes():
    s = server()
    o = bind(s, CID)
    a = iaaddr(ia_list(o)[0][3])[0]
    t, _, o2, _, _ = _reply(s, msg(6, (ia_na(1, [ip6_str(a)]),), cid=CID), now=5000)
    assert iaaddr(ia_list(o2)[0][3])[0] == a
    t, _, o3, _, _ = _reply(s, msg(6, (ia_na(5, ["2001:db8:77::1"]),), cid=CID))
    d = ia_list(o3)[0][3][5][0]
    assert d[:16] == ip6("2001:db8:77::1") and d[16:] == bytes(8)


def test_release_frees_and_unknown_ia_gets_no_binding():
    s = server()
    o = bind(s, CID)
    a = iaaddr(ia_list(o)[0][3])[0]
    rel = msg(8, (ia_na(1, [ip6_str(a)]), ia_na(2, ["2001:db8:1::10c"])), cid=CID, sid=SERVER_DUID)
    t, _, o2, _, _ = _reply(s, rel)
    assert t == P.REPLY and status(o2) == P.SUCCESS
    ias = ia_list(o2)
    assert len(ias) == 1 and ias[0][0] == 2 and status(ias[0][3]) == P.NO_BINDING
    assert s.leases.state(s.leases.find_addr(a, 0, 128)) == L.RELEASED
    o3 = bind(s, CID, now=2000)  # the same client gets it back
    assert iaaddr(ia_list(o3)[0][3])[0] == a


def test_decline_sets_address_aside():
    s = server()
    o = bind(s, CID)
    a = iaaddr(ia_list(o)[0][3])[0]
    t, _, o2, _, _ = _reply(s, msg(9, (ia_na(1, [ip6_str(a)]),), cid=CID, sid=SERVER_DUID))
    assert status(o2) == P.SUCCESS and 3 not in o2
    r = s.leases.find_addr(a, 0, 128)
    assert s.leases.state(r) == L.DECLINED
    o3 = bind(s, CID, now=1001)
    assert iaaddr(ia_list(o3)[0][3])[0] != a


def test_confirm_on_link_and_not_on_link():
    s = server()
    t, _, o, _, _ = _reply(s, msg(4, (ia_na(1, ["2001:db8:1::abc"]),), cid=CID))
    assert t == P.REPLY and status(o) == P.SUCCESS
    t, _, o, _, _ = _reply(s, msg(4, (ia_na(1, ["2001:db8:1::abc"]), ia_na(2, ["2001:db8:5::1"])), cid=CID))
    assert status(o) == P.NOT_ON_LINK
    n, _ = exchange(s, msg(4, (ia_na(1),), cid=CID))
    assert n == 0  # no addresses: no reply (RFC 8415 18.3.3)


def test_information_request_gets_options_only():
    s = server()
    t, _, o, _, _ = _reply(s, msg(11, (oro(23, 24),)))
    assert t == P.REPLY and 3 not in o and 23 in o and 24 in o and 1 not in o
    n, _ = exchange(s, msg(11, (ia_na(1),), cid=CID))
    assert n == 0 and s.stats["dropped_type"] == 1


def test_server_id_rules():
    s = server()
    other = b"\x00\x03\x00\x01\x02\x00\x00\x00\x00\x55"
    assert exchange(s, msg(3, (ia_na(1),), cid=CID, sid=other))[0] == 0
    assert s.stats["dropped_not_for_us"] == 1
    assert exchange(s, msg(3, (ia_na(1),), cid=CID))[0] == 0
    assert exchange(s, msg(1, (ia_na(1),), cid=CID, sid=SERVER_DUID))[0] == 0
    assert exchange(s, msg(6, (ia_na(1),), cid=CID, sid=SERVER_DUID))[0] == 0
    assert s.stats["dropped_server_id"] == 3
    assert exchange(s, msg(1, (ia_na(1),)))[0] == 0
    assert s.stats["dropped_no_client_id"] == 1


def test_unicast_request_gets_use_multicast():
    s = server()
    m = meta()
    m.unicast = True
    t, _, o, _, _ = _reply(s, msg(3, (ia_na(1),), cid=CID, sid=SERVER_DUID), m)
    assert status(o) == P.USE_MULTICAST and 3 not in o


def test_unicast_solicit_dropped_but_relayed_unicast_served():
    s = server()
    m = meta()
    m.unicast = True
    for t in (1, 4, 6, 11):  # RFC 8415 16: Solicit, Confirm, Rebind, Information-request
        assert exchange(s, msg(t, (ia_na(1),) if t != 11 else (), cid=CID), m)[0] == 0
    assert s.stats["dropped_unicast"] == 4 and s.stats["tx"] == 0
    # a relay sends to our unicast address by design: its Solicit and Request are served
    t, _, o, rel, _ = _reply(s, relay(msg(1, (ia_na(1),), cid=CID), link="2001:db8:1::1"), m)
    assert t == P.ADVERTISE and len(rel) == 1
    req = msg(3, (opt(3, o[3][0]),), cid=CID, sid=SERVER_DUID)
    t, _, o, _, _ = _reply(s, relay(req, link="2001:db8:1::1"), m)
    assert t == P.REPLY and status(o) != P.USE_MULTICAST and iaaddr(ia_list(o)[0][3])
    assert s.stats["use_multicast"] == 0


def test_malformed_and_unknown_are_dropped_and_counted():
    s = server()
    bad = [
        bytearray(b"\x01\x00"),  # short
        msg(1, (b"\x00\x03\x00\x20\x00",), cid=CID),  # option overruns the message
        msg(1, (opt(3, b"\x00" * 5),), cid=CID),  # IA_NA shorter than its fixed fields
        msg(1, (opt(8, b"\x00"),), cid=CID),  # elapsed time of length 1
        relay(b"\x01\x00", mtype=12)[:-6],  # relay without relay-msg
        bytearray(1600),
    ]
    for b in bad:
        assert exchange(s, b)[0] == 0
    assert s.stats["dropped_malformed"] == 6
    assert exchange(s, msg(2, cid=CID))[0] == 0  # Advertise from a client
    assert exchange(s, msg(99, cid=CID))[0] == 0
    assert s.stats["dropped_type"] == 2


def test_relayed_solicit_uses_link_address_and_wraps_reply():
    s = server()
    inner = msg(1, (ia_na(1), ia_pd(1)), cid=CID)
    req = relay(inner, link="2001:db8:2::1", iid=b"port-7", hops=0)
    m = meta(src="2001:db8:2::1", port=547)
    t, xid, o, relays, out = _reply(s, req, m)
    assert t == P.ADVERTISE and len(relays) == 1
    r = relays[0]
    assert r["link"] == ip6("2001:db8:2::1") and r["peer"] == ip6("fe80::ff:fe00:1")
    assert r["options"][18] == [b"port-7"]
    assert ip6_str(iaaddr(ia_list(o)[0][3])[0]).startswith("2001:db8:2::")
    assert ip6_str(iaprefix(ia_list(o, 25)[0][3])[0]).startswith("2001:db8:22")
    assert bytes(out.dest) == ip6("2001:db8:2::1") and out.port == 547


def test_relayed_by_interface_id():
    s = server()
    req = relay(msg(1, (ia_na(1),), cid=CID), link="::", iid=b"relay3-port1")
    t, _, o, relays, _ = _reply(s, req, meta(src="2001:db8:99::1", port=547))
    assert ip6_str(iaaddr(ia_list(o)[0][3])[0]).startswith("2001:db8:3::")
    n, _ = exchange(s, relay(msg(1, (ia_na(1),), cid=CID), iid=b"unknown"), meta(src="2001:db8:99::1", port=547))
    assert n == 0 and s.stats["dropped_no_subnet"] == 1


def test_nested_relays_choose_innermost_and_wrap_each_level():
    s = server()
    inner = msg(1, (ia_na(1),), cid=CID)
    r1 = relay(inner, link="2001:db8:2::1", iid=b"inner", hops=0)
    r2 = relay(r1, link="2001:db8:1::1", peer="2001:db8:2::1", iid=b"middle", hops=1)
    r3 = relay(r2, link="2001:db8:77::1", peer="2001:db8:1::1", hops=2)
    t, _, o, relays, _ = _reply(s, r3, meta(src="2001:db8:77::1", port=547))
    assert [x["hops"] for x in relays] == [2, 1, 0]
    assert 18 not in relays[0]["options"] and relays[1]["options"][18] == [b"middle"]
    assert relays[2]["options"][18] == [b"inner"]
    assert ip6_str(iaaddr(ia_list(o)[0][3])[0]).startswith("2001:db8:2::")


def test_relay_nesting_beyond_32_is_dropped():
    s = server()
    b = msg(1, (ia_na(1),), cid=CID)
    for i in range(32):
        b = relay(b, link="2001:db8:2::1", hops=0)
    assert exchange(s, b, meta(src="2001:db8:2::1", port=547))[0] > 0
    b = relay(b, link="2001:db8:2::1", hops=0)
    assert exchange(s, b, meta(src="2001:db8:2::1", port=547))[0] == 0
    assert s.stats["relay_hops"] == 1


def test_journal_restore_keeps_leases_and_server_duid():
    j = Journal(None)
    s = server(journal=j)
    s.restore()
    o = bind(s, CID, ias=(ia_na(1), ia_pd(2)))
    j.commit()
    a = iaaddr(ia_list(o)[0][3])[0]
    s2 = server(journal=j)
    s2.set_identity(b"\x00\x03\x00\x01\x02\x00\x00\x00\x00\x77", bytes(16))  # a fresh default
    s2.restore()
    assert bytes(s2.ident.duid[:s2.ident.duid_len]) == SERVER_DUID and bytes(s2.ident.secret) == SECRET
    r = s2.leases.find_addr(a, 0, 128)
    assert r >= 0 and s2.leases.state(r) == L.BOUND
    ren = msg(5, (opt(3, o[3][0]),), cid=CID, sid=SERVER_DUID)
    t, _, o2, _, _ = _reply(s2, ren, now=1500)
    assert iaaddr(ia_list(o2)[0][3])[0] == a


def _rkap_key(cid):
    h = MD5()
    d = bytearray(16)
    h.update(SECRET, 0, 16)
    h.update(cid, 0, len(cid))
    h.digest_into(d, 0)
    return bytes(d)


def test_reconfigure_accept_gets_key_and_reconfigure_is_authenticated():
    s = server()
    o = bind(s, CID, extra=(opt(20, b""),))
    assert o[20] == [b""]
    auth = o[11][0]
    assert auth[0] == 3 and auth[1] == 1 and auth[2] == 0 and auth[11] == 1
    key = auth[12:28]
    assert key == _rkap_key(CID)
    a = iaaddr(ia_list(o)[0][3])[0]
    s.reconfigure(a, 0, 128, P.RENEW, 1100)
    assert s.next_deadline() == 1100
    out = Slot()
    n = s.on_timer(1100, out)
    assert n > 0 and bytes(out.dest) == a and out.port == 546
    t, xid, ro, _ = decode(out.buf, n)
    assert t == P.RECONFIGURE and xid == 0
    assert ro[1] == [CID] and ro[2] == [SERVER_DUID] and ro[19] == [b"\x05"]
    ra = ro[11][0]
    assert ra[0] == 3 and ra[1] == 1 and ra[2] == 0 and ra[11] == 2
    assert ra[3:11] > auth[3:11]  # replay detection grows
    # recompute the HMAC over the message with the digest zeroed
    body = bytearray(out.buf[:n])
    i = bytes(body).find(ra)
    for k in range(16):
        body[i + 12 + k] = 0
    d = bytearray(16)
    HMAC_MD5().compute(key, 0, 16, body, 0, n, d, 0)
    assert bytes(d) == ra[12:28]
    # retransmission per RFC 8415 18.3.11: 2 s, then doubling
    assert s.next_deadline() == 1102
    assert s.on_timer(1101, Slot()) == 0
    assert s.on_timer(1102, Slot()) > 0 and s.next_deadline() == 1106
    # the client's Renew is answered and stops the retransmissions
    t, _, o2, _, _ = _reply(s, msg(5, (opt(3, o[3][0]),), cid=CID, sid=SERVER_DUID), now=1103)
    assert t == P.REPLY and iaaddr(ia_list(o2)[0][3])[0] == a
    assert s.next_deadline() is None and s.stats["reconfigure_answered"] == 1


def test_reconfigure_gives_up_after_rec_max_rc():
    s = server()
    o = bind(s, CID, extra=(opt(20, b""),))
    a = iaaddr(ia_list(o)[0][3])[0]
    s.reconfigure(a, 0, 128, P.INFO_REQUEST, 1000)
    sent = 0
    for _ in range(20):
        d = s.next_deadline()
        if d is None:
            break
        if s.on_timer(d, Slot()):
            sent += 1
    assert sent == 8 and s.stats["reconfigure_gave_up"] == 1


def test_no_reconfigure_for_a_client_that_did_not_accept():
    s = server()
    o = bind(s, CID)
    assert 11 not in o and 20 not in o
    a = iaaddr(ia_list(o)[0][3])[0]
    try:
        s.reconfigure(a, 0, 128, P.RENEW, 1000)
        raised = False
    except ValueError:
        raised = True
    assert raised and s.next_deadline() is None


ROUTER = """{"Dhcp6": {"interfaces-config": {"interfaces": ["s0"]},
  "preferred-lifetime": 3000, "valid-lifetime": 4000,
  "subnet6": [{"id": 1, "subnet": "fd00:0:0:1::/64", "interface": "s0",
               "pools": [{"pool": "fd00:0:0:1::100 - fd00:0:0:1::1ff"}],
               "user-context": {"mpdhcp": {"delegated-subnet-id": 1}}}]}}"""


def test_router_mode_subnet_follows_the_delegated_prefix():
    s = server(ROUTER)
    n, out = exchange(s, msg(1, (ia_na(1),), cid=CID))
    t, _, o, _ = decode(out.buf, n)
    assert status(ia_list(o)[0][3]) == P.NO_ADDRS_AVAIL  # no prefix delegated yet
    assert s.renumber(ip6("2001:db8:aa00::"), 56, 1000) == [(1, "2001:db8:aa00:1::/64")]
    o = bind(s, CID)
    a = iaaddr(ia_list(o)[0][3])[0]
    assert ip6_str(a) == "2001:db8:aa00:1::100"
    assert s.renumber(ip6("2001:db8:aa00::"), 56, 1000) == []  # unchanged: nothing to do
    s.renumber(ip6("2001:db8:bb00::"), 56, 2000)  # the ISP renumbered
    ren = msg(5, (ia_na(1, [ip6_str(a)]),), cid=CID, sid=SERVER_DUID)
    t, _, o2, _, _ = _reply(s, ren, now=2000)
    addrs = ia_list(o2)[0][3][5]
    old = [x for x in addrs if x[:16] == a]
    new = [x for x in addrs if x[:16] != a]
    assert old and old[0][16:] == bytes(8)  # withdrawn: lifetimes 0 (RFC 8415 18.3.4)
    assert new and ip6_str(new[0][:16]).startswith("2001:db8:bb00:1::") and new[0][16:] == u32(3000) + u32(4000)
    assert s.renumber(None, 0, 3000) == [(1, None)]  # the prefix is gone: nothing offered
    n, out = exchange(s, msg(1, (ia_na(1),), cid=duid_ll(MAC2)), now=3000)
    assert status(ia_list(decode(out.buf, n)[2])[0][3]) == P.NO_ADDRS_AVAIL
    assert s.renumber(ip6("2001:db8:cc00::"), 63, 4000) == [(1, "2001:db8:cc00:1::/64")]
    assert s.renumber(ip6("2001:db8:cc00::"), 64, 4000) == [(1, None)]  # a /64 has no /64 number 1


def test_router_mode_leases_never_outlive_the_delegated_prefix():
    # RFC 9096: LAN lifetimes no longer than what is left of the WAN prefix; T1/T2 follow
    s = server(ROUTER)
    s.renumber(ip6("2001:db8:aa00::"), 56, 1000, 1000 + 600, 1000 + 900)
    o = bind(s, CID)
    ia = ia_list(o)[0]
    a = ia[3][5][0]
    assert a[16:] == u32(600) + u32(900) and (ia[1], ia[2]) == (300, 480)
    s.renumber(ip6("2001:db8:aa00::"), 56, 1000, 1000 + 7200, 1000 + 9000)  # renewed upstream
    ren = msg(5, (ia_na(1, [ip6_str(a[:16])]),), cid=CID, sid=SERVER_DUID)
    t, _, o2, _, _ = _reply(s, ren, now=1100)
    ia = ia_list(o2)[0]
    assert ia[3][5][0][16:] == u32(3000) + u32(4000) and ia[1] < ia[2] <= 3000  # the config's again


def test_router_mode_prefix_gone_withdraws_the_old_address_at_renew():
    s = server(ROUTER)
    s.renumber(ip6("2001:db8:aa00::"), 56, 1000, 5000, 6000)
    a = iaaddr(ia_list(bind(s, CID))[0][3])[0]
    s.renumber(None, 0, 2000)  # the delegated prefix expired: nothing left on the link
    ren = msg(5, (ia_na(1, [ip6_str(a)]),), cid=CID, sid=SERVER_DUID)
    t, _, o, _, _ = _reply(s, ren, now=2000)
    sub = ia_list(o)[0][3]
    assert status(sub) == P.NO_ADDRS_AVAIL and sub[5] == [a + bytes(8)]  # lifetimes 0 (18.3.4)


ROUTER_PD = ROUTER.replace('"pools":', '"pd-pools": [{"prefix": "0:0:0:80::", "prefix-len": 57, "delegated-len": 60},'
                           ' {"prefix": "::", "prefix-len": 60, "delegated-len": 64}], "pools":')


def test_router_mode_pd_pools_follow_the_delegated_prefix():
    # a pd-pool's prefix is a template: its bits past the delegated length are kept
    s = server(ROUTER_PD)
    n, out = exchange(s, msg(1, (ia_pd(1),), cid=CID))
    assert status(ia_list(decode(out.buf, n)[2], 25)[0][3]) == P.NO_PREFIX_AVAIL  # nothing yet
    s.renumber(ip6("2001:db8:aa00::"), 56, 1000, 5000, 6000)
    assert s.left_out == ["1: 2001:db8:aa00::/60"]  # it holds /64 number 1: the LAN's own
    o = bind(s, CID, ias=(ia_pd(1),))
    pfx, plen = iaprefix(ia_list(o, 25)[0][3])[:2]
    assert plen == 60 and ip6_str(pfx).startswith("2001:db8:aa00:8"), ip6_str(pfx)
    s.renumber(ip6("2001:db8:bb00::"), 56, 2000, 5000, 6000)  # upstream renumbered
    ren = msg(5, (ia_pd(1, ["%s/60" % ip6_str(pfx)]),), cid=CID, sid=SERVER_DUID)
    t, _, o2, _, _ = _reply(s, ren, now=2000)
    got = ia_list(o2, 25)[0][3][26]
    old = [x for x in got if x[9:] == pfx]
    new = [x for x in got if x[9:] != pfx]
    assert old and old[0][:8] == bytes(8)  # the old prefix withdrawn: lifetimes 0 (18.3.4)
    assert new and ip6_str(new[0][9:]).startswith("2001:db8:bb00:8") and new[0][8] == 60
    s.renumber(None, 0, 3000)
    ren = msg(5, (ia_pd(1, ["%s/60" % ip6_str(new[0][9:])]),), cid=CID, sid=SERVER_DUID)
    t, _, o3, _, _ = _reply(s, ren, now=3000)
    sub = ia_list(o3, 25)[0][3]
    assert status(sub) == P.NO_PREFIX_AVAIL and sub[26][0][:8] == bytes(8)  # withdrawn, nothing new


def test_the_duid_arena_starts_at_what_the_config_lets_a_client_hold():
    # prefixes to delegate: a client's IA_NA and IA_PD share one DUID entry (6 B a record);
    # addresses only: one record a client, a whole DUID-LLT entry each (16 B)
    from mpdhcp.config.parser import parse_doc
    from mpdhcp.v6.server6 import Server6
    both = server()
    cap = both.leases.cap
    assert len(both.leases.duids.buf) == max(cap * L.DUID_PER_LEASE, 4 * 21)
    na = """{"Dhcp6": {"interfaces-config": {"interfaces": ["s0"]},
      "subnet6": [{"id": 1, "subnet": "2001:db8:1::/64", "interface": "s0",
                   "pools": [{"pool": "2001:db8:1::100 - 2001:db8:1::1ff"}]}]}}"""
    s = Server6(parse_doc(na).get("Dhcp6"), Journal(None), 64, SERVER_DUID, SECRET)
    assert len(s.leases.duids.buf) == s.leases.cap * L.DUID_ALONE
    # a new client with a 14-byte DUID-LLT is served with the heap locked, no growth needed
    from heaplock import handle_locked
    out = Slot()
    for i in range(s.leases.cap):  # the table full of DUID-LLT clients: never a growth
        p = msg(1, (ia_na(1),), cid=bytes((0, 1, 0, 1, 0x2a, 0, 0, 1, 2, 0, 0, 0, i >> 8, i & 255)))
        n = handle_locked(s, p, meta(), 1000, out)
        assert n > 0 and decode(out.buf, n)[0] == 2, i  # Advertise


def test_with_logging_off_the_replies_are_the_same_and_no_log_field_is_filled():
    # "log": false: the engine skips the slot's log fields (client MAC, first lease), only
    # them; every reply byte is the same as with logging on
    quiet = server(CONFIG.replace('"interfaces-config"', '"user-context": {"mpdhcp": {"log": false}}, "interfaces-config"', 1))
    loud = server()
    assert loud.logs and not quiet.logs
    for mt, opts in ((1, (ia_na(1), ia_pd(2), oro(23, 24))), (3, (ia_na(1), ia_pd(2), oro(23)))):
        req = msg(mt, opts, cid=CID, sid=SERVER_DUID if mt == 3 else None)
        got = []
        for s in (loud, quiet):
            n, out = exchange(s, req)
            got.append((bytes(out.buf[:n]), bytes(out.hw), bytes(out.addr6)))
        assert got[0][0] == got[1][0] and got[0][0]
        assert got[0][1] == MAC1 and got[0][2] != bytes(16)  # filled with logging on
        assert got[1][1] == bytes(6) and got[1][2] == bytes(16)  # left alone with it off
