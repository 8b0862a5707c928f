# Mirrors firmware/mpdhcp/state/leases6.py (the DHCPv6 lease table and its journal codecs).
from mpdhcp.state.leases6 import (Leases6, REC, D_REC, NA, PD, F_RECONF, F_RELAYED, F_PD, BOUND, RELEASED,
                                  DECLINED, J_LEASE6, J_STATE6, J_DROP6)
from mpdhcp.state.table import F_INDEXED, F_PINNED, F_DURABLE
from mpdhcp.state.journal import Journal, replay
from mpdhcp.wire.addr6 import ip6
from mpdhcp.config.parser import parse_doc
from craft6 import CONFIG, duid_ll

SUBNETS = parse_doc(CONFIG).get("Dhcp6").subnets  # 0: 2001:db8:1::/64 (PD 2001:db8:8000::/48)
D1 = duid_ll(b"\x02\x00\x00\x00\x00\x01")
D2 = duid_ll(b"\x02\x00\x00\x00\x00\x02")
LONG1 = b"\x00\x02\x00\x00\x00\x09" + b"an-enterprise-duid-longer-than-twenty-1"
LONG2 = LONG1[:-1] + b"2"  # differs only past the 16-byte prefix


def _u32(v):
    return bytes([(v >> 24) & 255, (v >> 16) & 255, (v >> 8) & 255, v & 255])


def _as(t, duid, iaid):
    """Make (duid, iaid) the table's current client and IA."""
    t.load_client(duid, 0, len(duid))
    t.set_iaid(_u32(iaid), 0)


def _lease(t, duid, iaid, kind, a, plen, until=5000, sub=0, pinned=False):
    _as(t, duid, iaid)
    r = t.new()
    t.take(r, sub, kind, ip6(a), 0, plen, pinned)
    if until:
        t.bind(r, until)
    return r


def _find(t, duid, iaid, kind, sub=0):
    _as(t, duid, iaid)
    return t.find_mine(sub, kind)


def _staged(j):
    """The records staged since the last call (all of them are kept in j.kept)."""
    j.commit()
    data = bytes(j.memory)
    j.kept = getattr(j, "kept", b"") + data
    got = []
    replay(data, lambda typ, b, o, n: got.append((typ, bytes(b[o:o + n]))))
    j.memory = bytearray()
    return got


def _replayed(data, cap=16):
    t = Leases6(cap, len(SUBNETS))
    replay(data, lambda typ, b, o, n: t.apply(typ, b, o, n, SUBNETS))
    return t


def test_find_ia_by_duid_iaid_and_kind():
    t = Leases6(16, 3)
    na = _lease(t, D1, 1, NA, "2001:db8:1::100", 128)
    pd = _lease(t, D1, 1, PD, "2001:db8:8000::", 56)  # same IAID, other IA type
    na2 = _lease(t, D1, 2, NA, "2001:db8:1::101", 128)
    other = _lease(t, D2, 1, NA, "2001:db8:1::102", 128)
    assert len(set((na, pd, na2, other))) == 4
    assert _find(t, D1, 1, NA) == na and _find(t, D1, 1, PD) == pd
    assert _find(t, D1, 2, NA) == na2 and _find(t, D1, 2, PD) == -1
    assert _find(t, D2, 1, NA) == other and _find(t, D2, 1, PD) == -1
    assert _find(t, D1, 3, NA) == -1 and _find(t, D1, 1, NA, sub=1) == -1
    _as(t, D1, 1)
    assert t.find_ia(t.ckeylen, PD, 0) == pd and t.find_ia(t.ckeylen - 1, PD, 0) == -1
    assert _find(t, LONG1, 1, NA) == -1
    lg = _lease(t, LONG1, 1, NA, "2001:db8:1::103", 128)
    assert _find(t, LONG1, 1, NA) == lg and _find(t, LONG2, 1, NA) == -1


def test_find_addr_by_address_and_prefix_length():
    t = Leases6(8, 1)
    p = _lease(t, D1, 1, PD, "2001:db8:8000:100::", 56)
    a = _lease(t, D2, 1, NA, "2001:db8:8000:100::", 128)  # the same 16 bytes, as an address
    assert p != a
    assert t.find_addr(ip6("2001:db8:8000:100::"), 0, 56) == p
    assert t.find_addr(ip6("2001:db8:8000:100::"), 0, 128) == a
    assert t.find_addr(ip6("2001:db8:8000:100::"), 0, 48) == -1
    assert t.find_addr(ip6("2001:db8:8000:100::1"), 0, 128) == -1
    buf = b"xx" + ip6("2001:db8:8000:100::")
    assert t.find_addr(buf, 2, 56) == p and t.plen(p) == 56 and t.plen(a) == 128
    out = bytearray(18)
    t.addr_into(p, out, 2)
    assert bytes(out[2:]) == ip6("2001:db8:8000:100::")
    assert bytes(t.abuf[t.addr_off(p):][:16]) == ip6("2001:db8:8000:100::")


def test_kind_lives_in_the_pd_flag():
    t = Leases6(8, 1)
    na = _lease(t, D1, 1, NA, "2001:db8:1::100", 128, 1000)
    pd = _lease(t, D1, 1, PD, "2001:db8:8000::", 56, 1000)
    assert t.kind(na) == NA and not t.flags(na) & F_PD
    assert t.kind(pd) == PD and t.flags(pd) & F_PD
    assert t.oldest_reusable(0, NA, 2000) == na and t.oldest_reusable(0, PD, 2000) == pd
    _as(t, D1, 1)
    t.take(pd, 0, NA, ip6("2001:db8:1::104"), 0, 128, False)  # the record becomes an address
    assert t.kind(pd) == NA and not t.flags(pd) & F_PD
    t.set(pd, BOUND, 1500)
    assert t.oldest_reusable(0, PD, 2000) == -1 and t.oldest_reusable(0, NA, 2000) == na
    t.drop(na)
    assert t.oldest_reusable(0, NA, 2000) == pd


def test_seen_sets_socket_index_and_flags():
    t = Leases6(8, 1)
    r = _lease(t, D1, 1, PD, "2001:db8:8000::", 56, pinned=True)
    t.seen(r, 3, True, False)
    assert t.ifindex(r) == 3 and t.flags(r) & (F_RELAYED | F_RECONF) == F_RELAYED
    t.seen(r, 1, False, True)
    assert t.ifindex(r) == 1 and t.flags(r) & (F_RELAYED | F_RECONF) == F_RECONF
    assert t.flags(r) & F_PD and t.flags(r) & F_PINNED and t.flags(r) & F_INDEXED
    t.set_flag(r, F_RECONF, False)
    assert not t.flags(r) & F_RECONF and t.kind(r) == PD


def test_fields_and_same_client():
    t = Leases6(8, 2)
    r = _lease(t, D1, 0x01020304, NA, "2001:db8:1::100", 128, 5000, sub=1)
    t.seen(r, 2, False, True)
    f = t.fields(r)
    assert f[:6] == (ip6("2001:db8:1::100"), 128, NA, D1, len(D1), 0x01020304)
    assert f[6:9] == (BOUND, 5000, 1) and f[9] & F_RECONF
    q = _lease(t, D1, 7, PD, "2001:db8:8000:200::", 56, 5000, sub=1)
    lg = _lease(t, LONG1, 1, NA, "2001:db8:1::101", 128, sub=1)
    lg2 = _lease(t, LONG2, 1, NA, "2001:db8:1::102", 128, sub=1)
    other = _lease(t, D2, 0x01020304, NA, "2001:db8:1::103", 128, sub=1)
    assert t.fields(lg)[3] == LONG1[:16] and t.fields(lg)[4] == len(LONG1)  # a 16-byte prefix
    assert t.same_client(r, q) and t.same_client(q, r) and t.same_client(lg, lg)
    assert not t.same_client(r, other) and not t.same_client(lg, lg2)
    t.load_client(D1, 0, len(D1))
    assert t.key_is(q, t.ckeylen) and not t.key_is(other, t.ckeylen)  # any IA of the DUID


def test_lease_record_keeps_the_older_disk_layout():
    j = Journal(None)
    t = Leases6(8, 1, j)
    r = _lease(t, D1, 9, PD, "2001:db8:8000:300::", 56, until=0, pinned=True)
    t.seen(r, 5, True, True)
    t.bind(r, 0x00123456)
    (typ, p), = _staged(j)
    assert typ == J_LEASE6 and len(p) == D_REC == 52
    assert p[0] == BOUND and p[1] == 0 and p[2] == PD and p[3] == 56 and p[4] == len(D1)
    assert p[5] == F_RECONF | F_RELAYED | F_INDEXED  # no PD, pinned, durable or linked bits
    assert p[6] == 5 and p[7] == 0  # the socket index at byte 6, byte 7 zero
    assert p[8:24] == ip6("2001:db8:8000:300::") and p[24:28] == _u32(9)
    assert p[28:32] == _u32(0x00123456) and p[32:32 + len(D1)] == D1
    assert t.flags(r) & F_DURABLE and t.ifindex(r) == 5
    q = _lease(t, D2, 1, NA, "2001:db8:1::100", 128, until=0)
    t.seen(q, 0, False, False)
    t.bind(q, 7000)
    (typ, p), = _staged(j)
    assert typ == J_LEASE6 and p[2] == NA and p[3] == 128 and p[5] == F_INDEXED and p[6] == 0


def test_state_and_drop_records_and_their_replay():
    j = Journal(None)
    t = Leases6(8, 1, j)
    r = _lease(t, D1, 1, NA, "2001:db8:1::100", 128)
    q = _lease(t, D1, 2, PD, "2001:db8:8000:100::", 56)
    _staged(j)
    t.seen(q, 4, True, True)
    t.bind(q, 0x00010203)  # a renewal: kind, plen, prefix, state, expiry, flags
    (typ, p), = _staged(j)
    assert typ == J_STATE6 and len(p) == 25 and p[:2] == bytes([PD, 56])
    assert p[2:18] == ip6("2001:db8:8000:100::") and p[18] == BOUND
    assert p[19:23] == b"\x00\x01\x02\x03" and p[23] == F_RECONF | F_RELAYED | F_INDEXED
    t.release(r, 1500)
    assert [x[0] for x in _staged(j)] == [J_STATE6]
    t.take(q, 0, PD, ip6("2001:db8:8000:200::"), 0, 56, False)  # moved: its old prefix goes
    assert _staged(j) == [(J_DROP6, bytes([PD, 56]) + ip6("2001:db8:8000:100::"))]
    t.seen(q, 4, False, True)
    t.bind(q, 6000)
    d = _lease(t, D2, 1, NA, "2001:db8:1::101", 128)
    t.decline(d, 9000)
    _staged(j)
    back = _replayed(j.kept)
    assert back.count == t.count == 3
    for x in (r, q, d):
        y = back.find_addr(t.abuf, t.addr_off(x), t.plen(x))
        assert y >= 0 and back.fields(y)[:9] == t.fields(x)[:9], (t.fields(x), back.fields(y))
        assert back.fields(y)[9] & (F_RECONF | F_RELAYED | F_PD) == t.fields(x)[9] & (F_RECONF | F_RELAYED | F_PD)
        assert back.ifindex(y) == t.ifindex(x) and back.flags(y) & F_DURABLE
    assert back.find_addr(ip6("2001:db8:8000:100::"), 0, 56) == -1
    f = back.fields(back.find_addr(ip6("2001:db8:1::101"), 0, 128))
    assert f[3:5] == (b"", 0) and f[6] == DECLINED  # declined: nobody's
    assert back.state(back.find_addr(ip6("2001:db8:1::100"), 0, 128)) == RELEASED


def test_replay_skips_what_the_config_no_longer_holds():
    j = Journal(None)
    t = Leases6(8, 3, j)
    _lease(t, D1, 1, NA, "2001:db8:1::100", 128, sub=0)
    _lease(t, D1, 1, NA, "2001:db8:7::1", 128, sub=1)  # not inside subnet 1 (2001:db8:2::/64)
    _lease(t, D1, 1, PD, "2001:db8:2200::", 48, sub=1)  # prefixes are not checked
    j.commit()
    one = [SUBNETS[0]]
    back = Leases6(8, 1)
    replay(bytes(j.memory), lambda typ, b, o, n: back.apply(typ, b, o, n, one))
    assert back.count == 1  # subnet 1 is gone from this config
    back = _replayed(bytes(j.memory))
    assert back.count == 2 and back.find_addr(ip6("2001:db8:7::1"), 0, 128) == -1
    assert back.apply(J_STATE6, bytes(24), 0, 24, SUBNETS) == -1  # nothing there
    assert back.apply(J_LEASE6, bytes(51), 0, 51, SUBNETS) == -1  # wrong length
    assert back.apply(99, bytes(52), 0, 52, SUBNETS) == -1


def test_two_ias_of_a_client_share_one_duid_entry():
    t = Leases6(8, 1)
    a = t.duids
    na = _lease(t, D1, 1, NA, "2001:db8:1::100", 128)
    top = a.top
    assert top == 1 + 1 + len(D1)  # [key length][DUID]
    pd = _lease(t, D1, 2, PD, "2001:db8:8000:100::", 56)
    assert a.top == top and t._xref(na) == t._xref(pd) and t.same_client(na, pd)
    other = _lease(t, D2, 1, NA, "2001:db8:1::101", 128)
    assert a.top == top + 1 + len(D2) and not t.same_client(na, other)
    t.drop(na)  # the PD still holds the entry
    assert a.dead == 0 and _find(t, D1, 2, PD) == pd and t.fields(pd)[3] == D1
    t.decline(pd, 9000)  # nobody's now: the entry goes with its last record
    assert a.dead == 1 + len(D1) and t.keylen(pd) == 0 and _find(t, D1, 2, PD) == -1
    again = _lease(t, D1, 3, NA, "2001:db8:1::102", 128)  # a fresh entry (compaction frees the old)
    assert t.fields(again)[3] == D1 and _find(t, D2, 1, NA) == other and t.fields(other)[3] == D2


def test_compaction_moves_entries_and_their_holders_follow():
    t = Leases6(64, 1)
    duids = [duid_ll(bytes([2, 0, 0, 0, 1, i])) for i in range(12)] + [LONG1, LONG2]
    recs = {}
    for i, d in enumerate(duids):
        recs[d] = (_lease(t, d, 1, NA, "2001:db8:1::%x" % (0x100 + i), 128),
                   _lease(t, d, 2, PD, "2001:db8:8000:%x::" % (0x100 + i), 56))
    for d in duids[::3]:
        for r in recs.pop(d):
            t.drop(r)
    a = t.duids
    live = sum(1 + min(len(d), 20) for d in recs)
    assert a.top - 1 - a.dead == live and a.dead
    a.compact()
    assert a.top == 1 + live and a.dead == 0
    for d, (na, pd) in recs.items():
        assert _find(t, d, 1, NA) == na and _find(t, d, 2, PD) == pd and t.same_client(na, pd)
        assert t.fields(na)[3:5] == (d if len(d) <= 20 else d[:16], len(d))
    for d in duids[::3]:
        assert _find(t, d, 1, NA) == -1


def test_a_new_client_needs_arena_room_a_known_one_does_not():
    t = Leases6(8, 1)
    a = t.duids
    _lease(t, D1, 1, NA, "2001:db8:1::100", 128)
    a._grow = lambda need: False  # as with the heap locked (a runner step)
    a.top = len(a.buf)  # and the arena full
    _as(t, D1, 2)
    assert t.can_take(ip6("2001:db8:8000:100::"), 0, 56)  # D1 has its entry: its IA_PD costs no arena room
    _as(t, D2, 1)
    assert not t.can_take(ip6("2001:db8:1::101"), 0, 128)  # D2 would need one: refused as if the table were full
    del a._grow
    t.spare(1)  # between steps: the arena grows
    assert t.can_take(ip6("2001:db8:1::101"), 0, 128) and len(a.buf) - a.top >= 1 + 20


# A journal the previous record layout (52 bytes in RAM) wrote: D1's IA_NA (Reconfigure
# Accept, socket 2) and IA_PD (relayed, socket 3), LONG1's IA_NA released, D2's IA_NA
# declined, D2's IA_PD renewed then moved (a drop), and D1's IA_TA. Its fields as that code
# listed them (address, plen, IA type, DUID, DUID length, IAID, state, expiry, subnet, flags
# the journal keeps, socket index):
OLD_JOURNAL = bytes.fromhex(
    "a52134020000800a81020020010db80001000000000000000001000000000100001388000300010200000000"
    "01000000000000000000005628a52134020001380a82030020010db880000100000000000000000000000002"
    "0000177000030001020000000001000000000000000000002e3aa52134020000802d80000020010db8000100"
    "0000000000000001010000000100001388000200000009616e2d656e7465727072eb38f26bda07a522190080"
    "20010db800010000000000000000010103000004b08000b53ca52134020000800a80000020010db800010000"
    "000000000000010200000001000013880003000102000000000200000000000000000000530ea52134040000"
    "800080000020010db80001000000000000000001020000000100002328000300010200000000020000000000"
    "0000000000561fa52134020001380a80000020010db880000200000000000000000000000007000013880003"
    "0001020000000002000000000000000000008c1da52219013820010db8800002000000000000000000020000"
    "1b5880013bcba52312013820010db8800002000000000000000000c3e1a52134020001380a80010020010db8"
    "8000030000000000000000000000000700001d4c0003000102000000000200000000000000000000a80ca521"
    "34020002800a80000020010db80001000000000000000001040000000500000fa00003000102000000000100"
    "0000000000000000008d96"
)
OLD_FIELDS = [
    (b' \x01\r\xb8\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00', 128, 0,
     b'\x00\x03\x00\x01\x02\x00\x00\x00\x00\x01', 10, 1, 2, 5000, 0, 1, 2),
    (b' \x01\r\xb8\x80\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00', 56, 1,
     b'\x00\x03\x00\x01\x02\x00\x00\x00\x00\x01', 10, 2, 2, 6000, 0, 2, 3),
    (b' \x01\r\xb8\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x01\x01', 128, 0,
     b'\x00\x02\x00\x00\x00\tan-enterpr', 45, 1, 3, 1200, 0, 0, 0),
    (b' \x01\r\xb8\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x01\x02', 128, 0,
     b'', 0, 1, 4, 9000, 0, 0, 0),
    (b' \x01\r\xb8\x80\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00', 56, 1,
     b'\x00\x03\x00\x01\x02\x00\x00\x00\x00\x02', 10, 7, 2, 7500, 0, 0, 1),
    (b' \x01\r\xb8\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x01\x04', 128, 2,
     b'\x00\x03\x00\x01\x02\x00\x00\x00\x00\x01', 10, 5, 2, 4000, 0, 0, 0),
]


def test_a_journal_of_the_older_layout_replays():
    t = _replayed(OLD_JOURNAL)
    assert t.count == len(OLD_FIELDS)
    for f in OLD_FIELDS:
        r = t.find_addr(f[0], 0, f[1])
        assert r >= 0
        g = t.fields(r)
        assert g[:9] + (g[9] & 3, t.ifindex(r)) == f, (g, f)
        assert t.durable(r)
    na = t.find_addr(OLD_FIELDS[0][0], 0, 128)
    pd = t.find_addr(OLD_FIELDS[1][0], 0, 56)
    ta = t.find_addr(OLD_FIELDS[5][0], 0, 128)
    assert t.same_client(na, pd) and t.same_client(na, ta)  # one entry for D1's three IAs
    a = t.duids  # live: D1, LONG1, D2; dead: D2's entries as its IA_NA was declined and its PD moved
    assert a.top - a.dead == 1 + 2 * (1 + len(D1)) + (1 + 20) and a.dead == 2 * (1 + len(D2))
    # and what it writes back replays the same
    j = Journal(None)
    t.dump(j)
    j.commit()
    back = _replayed(bytes(j.memory))
    assert sorted(back.fields(r) for r in range(back.used)) == sorted(t.fields(r) for r in range(t.used))


def test_addresses_share_their_upper_half():
    t = Leases6(32, 1)
    h = t.halves
    na = [_lease(t, D1, i, NA, "2001:db8:1::%x" % (0x100 + i), 128) for i in range(3)]
    assert [t._hx(r) for r in na] == [1, 1, 1] and h[8:10] == b"\x00\x03"  # one /64, 3 records
    pd = _lease(t, D1, 9, PD, "2001:db8:8000:100::", 56)
    assert t._hx(pd) == 0  # a /56: its lower half is zero, the record keeps the upper
    zero = _lease(t, D2, 1, NA, "2001:db8:1::", 128)  # an address whose lower half is zero
    assert t._hx(zero) == 0 and t.find_addr(ip6("2001:db8:1::"), 0, 128) == zero
    long = _lease(t, D2, 2, PD, "2001:db8:9:1:8000::", 80)  # a long prefix: upper half shared
    other = _lease(t, D2, 3, NA, "2001:db8:1:1::5", 128)  # another /64
    assert t._hx(long) == 2 and t._hx(other) == 3
    for r in na + [pd, zero, long, other]:
        a = t.fields(r)[0]
        assert t.find_addr(a, 0, t.plen(r)) == r
    assert t.find_addr(ip6("2001:db8:1:2::5"), 0, 128) == -1  # no record has that /64
    assert t.find_addr(ip6("2001:db8:8000:100::"), 0, 64) == -1
    for r in na:
        t.drop(r)
    assert h[8:10] == b"\x00\x00" and t.find_addr(ip6("2001:db8:1::100"), 0, 128) == -1
    _as(t, D2, 3)
    t.take(other, 0, NA, ip6("2001:db8:1:7::5"), 0, 128, False)  # moved: into the freed entry
    assert t._hx(other) == 1 and t.halves[28:30] == b"\x00\x00" and t.halves[18:20] == b"\x00\x01"
    assert t.fields(other)[0] == ip6("2001:db8:1:7::5")


def test_addr_off_never_answers_an_old_address():
    t = Leases6(8, 1)
    seen = []

    def hook(r, taken):  # as Alloc._taken: reads the address as the indexes take or leave it
        seen.append((bytes(t.abuf[t.addr_off(r):][:16]), taken))

    t.addr_taken = hook
    r = _lease(t, D1, 1, NA, "2001:db8:1::100", 128)
    assert bytes(t.abuf[t.addr_off(r):][:16]) == ip6("2001:db8:1::100")
    t.take(r, 0, NA, ip6("2001:db8:1:5::7"), 0, 128, False)  # moved: the hook saw the old one go
    assert seen[-2:] == [(ip6("2001:db8:1::100"), False), (ip6("2001:db8:1:5::7"), True)]
    assert bytes(t.abuf[t.addr_off(r):][:16]) == ip6("2001:db8:1:5::7")
    t.take(r, 0, NA, t.abuf, t.addr_off(r), 128, False)  # from abuf itself: kept as it was
    assert t.fields(r)[0] == ip6("2001:db8:1:5::7") and t.find_addr(ip6("2001:db8:1:5::7"), 0, 128) == r
    q = _lease(t, D2, 1, NA, "2001:db8:1::200", 128)
    t.addr_off(q)
    t.drop(q)
    s = _lease(t, D2, 2, PD, "2001:db8:8000:100::", 56)  # the same record number again
    assert s == q and bytes(t.abuf[t.addr_off(s):][:16]) == ip6("2001:db8:8000:100::")


def test_halves_table_grows_and_refuses_when_it_cannot():
    t = Leases6(64, 1)
    n = len(t.halves) // 10
    rs = [_lease(t, D1, i, NA, "2001:db8:%x::1" % i, 128) for i in range(n + 3)]  # unlocked: grows
    assert len(t.halves) // 10 > n
    for i, r in enumerate(rs):
        assert t.fields(r)[0] == ip6("2001:db8:%x::1" % i) and t.find_addr(ip6("2001:db8:%x::1" % i), 0, 128) == r
    while t._free_half() >= 0:
        _lease(t, D1, 100 + len(rs), NA, "2001:db9:%x::1" % len(rs), 128)
        rs.append(0)
    t._grow_halves = _no_room  # as with the heap locked
    _as(t, D1, 1)
    assert t.can_take(ip6("2001:db8:0::77"), 0, 128)  # a /64 in use: no new entry
    assert t.can_take(ip6("2001:db8:8000:100::"), 0, 56)  # a /56: none needed
    assert not t.can_take(ip6("2001:db8:ffff::1"), 0, 128)  # a new /64: refused, as if full
    del t._grow_halves
    t.spare(1)
    assert t._free_half() >= 0 and t.can_take(ip6("2001:db8:ffff::1"), 0, 128)


def _no_room():
    raise MemoryError


def test_heap_per_lease_is_fixed():
    t = Leases6(256)
    per = (len(t.recs) + len(t.prv) + len(t.by_key) + len(t.by_addr)) // 256
    # REC (28) + reuse-list back link (2) + two indexes of 2-byte slots, 1.5 x capacity
    # each: 28 + 2 + 3 + 3 = 36; the DUIDs are in the arena, one entry per client, the
    # upper halves of addresses in the halves table, one entry per /64
    assert REC == 28 and per == 36, per
    assert len(t.duids.buf) == 256 * 6 and len(t.halves) == 10 * 6
    odd = Leases6(257)  # no power-of-two rounding: 1.5 slots a lease at any capacity
    assert len(odd.by_key) == 2 * 386 and (len(odd.recs) + len(odd.prv)) // 257 == 30


def test_native_record_codecs_agree_with_the_plain_ones():
    # state6_record / lease6_record (a journal payload from a lease record in one call) and
    # addr6_into (its address written out) where viper compiles: the same bytes as the plain
    # kernels for addresses and prefixes, IA_TA,
    # short and long DUIDs, Reconfigure/relayed flags, and a record of nobody (declined);
    # a record or address past its buffer is refused by the twin
    from mpdhcp.state import leases6 as L

    t = Leases6(16, 1, None, True)
    rs = [_lease(t, D1, 1, NA, "2001:db8:1::100", 128), _lease(t, LONG1, 7, PD, "2001:db8:8000:1200::", 56)]
    t.cta = True
    rs.append(_lease(t, D2, 3, NA, "2001:db8:1::1:5", 128))
    t.cta = False
    t.seen(rs[0], 3, True, True)
    rs.append(_lease(t, LONG2, 2, NA, "2001:db8:1::107", 128))
    t.decline(rs[-1], 9000)
    for r in rs:
        a = bytearray(b"\xee" * 20)
        t.addr_into(r, a, 3)
        b = bytearray(b"\xee" * 20)
        L.PLAIN["addr6_into"](b, 3, t.recs, r * REC, t.halves)  # addr6_into: the twin wrote a
        assert a == b, r
        got = []
        for st, le in ((L.PLAIN["state6_record"], L.PLAIN["lease6_record"]), (L.state6_record, L.lease6_record)):
            js = bytearray(b"\xaa" * 25)
            jl = bytearray(b"\xaa" * D_REC)
            st(js, t.recs, r * REC, a, 3)
            le(jl, t.recs, r * REC, a, 3, t.duids.buf)
            got.append((bytes(js), bytes(jl)))
        assert got[0] == got[1], r
    if L.state6_record is L.PLAIN["state6_record"]:
        return  # no twin here: its own checks below
    for args in ((bytearray(15), 0, t.recs, 0, t.halves), (bytearray(16), 0, t.recs, len(t.recs) - 27, t.halves)):
        try:
            L.addr6_into(*args)
            ok = True
        except IndexError:
            ok = False
        assert not ok, args
    for args in ((bytearray(25), t.recs, len(t.recs) - 27, bytearray(16), 0), (bytearray(25), t.recs, 0, bytearray(16), 1),
                 (bytearray(24), t.recs, 0, bytearray(16), 0)):
        for fn in (L.state6_record, lambda *x: L.lease6_record(bytearray(52) if len(x[0]) == 25 else x[0], *x[1:], t.duids.buf)):
            try:
                fn(*args)
                ok = True
            except IndexError:
                ok = False
            assert not ok, args


def test_native_ia6_find_agrees_with_the_plain_one():
    # ia6_find (find_ia's probe of the client index in one call) where viper compiles: the
    # same record as the plain kernel for each client, IAID and IA type a table holds, and -1
    # for another IAID, type, subnet or a DUID differing past a long key's 16-byte prefix;
    # duid6_entry (the client's arena entry, through any of its records) likewise
    from mpdhcp.state import leases6 as L

    t = Leases6(24, 2, None, True)
    for i, duid in enumerate((D1, D2, LONG1)):
        _lease(t, duid, 1, NA, "2001:db8:1::%x" % (0x100 + i), 128)
        _lease(t, duid, 1, PD, "2001:db8:8000:%x00::" % (0x10 + i), 56)
        t.cta = True
        _lease(t, duid, 1, NA, "2001:db8:1::1:%x" % (0x100 + i), 128)
        t.cta = False
    for duid in (D1, D2, LONG1, LONG2):
        for iaid in (1, 2):
            for f_kind in (0, L.F_PD, L.F_TA):
                for sub in (0, 1):
                    _as(t, duid, iaid)
                    got = [fn(t.by_key, t.recs, t.duids.buf, t.key, t.ckeylen, t.iaid, sub, f_kind, t.ckh)
                           for fn in (L.PLAIN["ia6_find"], L.ia6_find)]
                    assert got[0] == got[1], (duid, iaid, f_kind, sub, got)
                    assert (got[0] >= 0) == (duid != LONG2 and iaid == 1 and sub == 0), got
        x = [fn(t.by_key, t.recs, t.duids.buf, t.key, t.ckeylen, t.ckh) for fn in (L.PLAIN["duid6_entry"], L.duid6_entry)]
        assert x[0] == x[1] and (x[0] > 0) == (duid != LONG2), (duid, x)  # duid6_entry: the client's arena entry


def test_native_rec6_fill_agrees_with_the_plain_one():
    # rec6_fill (take()'s writes into a record and its by_addr hash) where viper compiles: the
    # same bytes and hash as the plain kernel, for an address kept by its lower half and a
    # prefix kept by its upper one; the hash is the one _home gives the record after take()
    from mpdhcp.state import leases6 as L

    t = Leases6(8, 1, None, True)
    r = _lease(t, LONG1, 0x01020304, NA, "2001:db8:1::1:5", 128)
    assert L.rec6_fill(bytearray(REC), 0, 0, 128, 0, t._hx(r), t.recs, r * REC + L.R_A8, t.iaid, 0) == t._home(r, False)
    src = bytes(range(40, 60))
    for args in ((0, 1, 128, 0x48, 3, src, 5, b"\x09\x08\x07\x06", 0x123456), (28, 0, 56, 4, 0, src, 12, bytes(4), 0)):
        got = []
        for fn in (L.PLAIN["rec6_fill"], L.rec6_fill):
            recs = bytearray(b"\xaa" * (2 * REC))
            h = fn(recs, *args)
            got.append((h, bytes(recs)))
        assert got[0] == got[1], args
    if L.rec6_fill is L.PLAIN["rec6_fill"]:
        return  # no twin here: its own checks below
    for args in ((bytearray(27), 0, 0, 128, 0, 0, src, 0, bytes(4), 0), (bytearray(28), 0, 0, 128, 0, 0, src, 13, bytes(4), 0),
                 (bytearray(28), 0, 0, 128, 0, 0, src, 0, bytes(3), 0)):
        try:
            L.rec6_fill(*args)
            ok = True
        except IndexError:
            ok = False
        assert not ok, args


def test_native_key6_load_agrees_with_the_plain_one():
    # key6_load (a DUID of up to 20 bytes loaded as the lookup key and hashed) where viper
    # compiles: the same key bytes and hash as the plain kernel, which are set_lookup_key's
    # and _khash's; a DUID past its buffer or longer than a fingerprint is refused by the twin
    from mpdhcp.state import leases6 as L

    t = Leases6(4, 1, None, True)
    src = bytes(range(7, 40))
    for ln in (2, 10, 14, 19, 20):
        got = []
        for fn in (L.PLAIN["key6_load"], L.key6_load):
            key = bytearray(b"\xaa" * 20)
            got.append((fn(key, src, 3, ln), bytes(key)))
        assert got[0] == got[1], ln
        assert t.set_lookup_key(src, 3, ln) == ln and bytes(t.key) == got[0][1]
        assert got[0][0] == t._khash(t.key, 0, ln)
    if L.key6_load is L.PLAIN["key6_load"]:
        return  # no twin here: its own checks below
    for args in ((bytearray(20), src, 30, 10), (bytearray(20), src, 0, 21), (bytearray(19), src, 0, 4)):
        try:
            L.key6_load(*args)
            ok = True
        except IndexError:
            ok = False
        assert not ok, args


def test_take_leaves_the_record_for_the_callers_verb_to_link():
    # take() leaves a record released, expiry 0, in no reuse list; the verb that follows
    # (offer here) links it at its own list's tail, and the released list is as it was
    from mpdhcp.state.table import F_LINKED, OFFERED
    from mpdhcp.state.leases6 import R_FLAGS

    t = Leases6(8, 1, None, True)
    old = [_lease(t, D1, i, NA, "2001:db8:1::10%d" % i, 128) for i in range(3)]
    for r in old:
        t.release(r, 100)
    _as(t, D2, 9)
    r = t.new()
    t.take(r, 0, NA, ip6("2001:db8:1::200"), 0, 128, False)
    assert t.state(r) == RELEASED and t.expiry(r) == 0 and not t.recs[r * REC + R_FLAGS] & F_LINKED
    assert t.head(0, NA, RELEASED) == old[0] and t._next(old[2]) == 0  # the released list untouched
    t.offer(r, 130)
    assert t.head(0, NA, OFFERED) == r and t.state(r) == OFFERED and t.recs[r * REC + R_FLAGS] & F_LINKED
    assert t._next(old[2]) == 0 and (t.heads[4 * (RELEASED - 1) + 2] << 8 | t.heads[4 * (RELEASED - 1) + 3]) == old[2] + 1
