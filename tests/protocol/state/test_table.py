# Mirrors firmware/mpdhcp/state/table.py (the shared lease lifecycle), through Leases4.
from mpdhcp.state.leases4 import (Leases4, REC, R_ADDR, R_FLAGS, R_STATE, D_REC, D_KEYLEN,
                                  D_FLAGS, D_ADDR, D_EXPIRY, D_HW, FREE, OFFERED, BOUND, RELEASED, DECLINED,
                                  J_LEASE4, J_STATE4, J_DROP4)
from mpdhcp.state.table import F_INDEXED, F_PINNED, F_DURABLE, F_LINKED
from mpdhcp.state.journal import Journal, replay
from mpdhcp.config.parser import parse
from craft4 import CONFIG

SUBNETS = parse(CONFIG).subnets  # 0: 192.168.77.0/24, 1: 10.20.0.0/16
NAMES = (b"alpha", b"b", b"printer-3", b"")


def _addr(i, sub=0):
    return bytes([192, 168, 77, i]) if sub == 0 else bytes([10, 20, 1, i])


def _client(t, i):
    """Make client i (htype 1 + chaddr) the table's current client."""
    mac = bytes([2, 0, 0, 0, (i >> 8) & 255, i & 255])
    key = b"\x01" + mac
    t.load_client(key, 0, len(key), 0, mac, 0)


def _mine(t, i, sub=0):
    _client(t, i)
    return t.find_mine(sub, 0)


def _bound(t, i, a, until=5000, sub=0):
    _client(t, i)
    r = t.new()
    t.take(r, sub, 0, a, 0, 32, False)
    t.bind(r, until)
    return r


def _staged(j):
    j.commit()
    got = []
    replay(bytes(j.memory), lambda typ, b, o, n: got.append((typ, bytes(b[o:o + n]))))
    j.memory = bytearray()
    return got


def _u32(b, o):
    return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]


def _replayed(data, cap=64):
    t = Leases4(cap, len(SUBNETS))
    replay(data, lambda typ, b, o, n: t.apply(typ, b, o, n, SUBNETS))
    return t


def test_bind_stages_the_whole_lease_first_then_a_short_renewal():
    j = Journal(None)
    t = Leases4(8, 2, j)
    t.stats = {"journal_records": 0}
    _client(t, 1)
    r = t.new()
    t.take(r, 0, 0, _addr(100), 0, 32, False)
    t.offer(r, 1060)
    assert _staged(j) == []  # an offer is no promise: never journaled
    t.bind(r, 4600)
    (typ, p), = _staged(j)
    assert typ == J_LEASE4 and len(p) == D_REC + 1  # the record, then an empty hostname
    assert p[R_STATE] == BOUND and p[1] == 0 and p[D_ADDR:D_ADDR + 4] == _addr(100)
    assert _u32(p, D_EXPIRY) == 4600 and p[D_KEYLEN] == 7
    assert p[D_FLAGS] == F_INDEXED  # no pinned, durable or linked bits on disk
    assert p[D_REC - 2:D_REC] == b"\x00\x00"  # the old reuse-list link, always zero
    t.bind(r, 8200)  # a renewal: address(4), state(1), expiry(4)
    assert _staged(j) == [(J_STATE4, _addr(100) + bytes([BOUND]) + bytes([0, 0, 0x20, 0x08]))]
    assert t.stats["journal_records"] == 2


def test_release_stages_a_state_record_and_keeps_the_client():
    j = Journal(None)
    t = Leases4(8, 1, j)
    r = _bound(t, 1, _addr(101))
    _staged(j)
    t.release(r, 2000)
    assert _staged(j) == [(J_STATE4, _addr(101) + bytes([RELEASED, 0, 0, 0x07, 0xD0]))]
    assert _mine(t, 1) == r and t.state(r) == RELEASED and not t.active(r, 2000)


def test_decline_unkeys_and_stages_a_whole_record():
    j = Journal(None)
    t = Leases4(8, 1, j)
    r = _bound(t, 1, _addr(102))
    _staged(j)
    t.decline(r, 9000)
    (typ, p), = _staged(j)
    assert typ == J_LEASE4 and p[R_STATE] == DECLINED and p[D_KEYLEN] == 0
    assert _u32(p, D_EXPIRY) == 9000 and p[D_ADDR:D_ADDR + 4] == _addr(102)
    assert _mine(t, 1) == -1 and t.find_addr(_addr(102), 0) == r  # nobody's, still held
    assert t.active(r, 8999) and not t.active(r, 9000)


def test_moving_a_journaled_record_drops_its_old_address():
    j = Journal(None)
    t = Leases4(8, 2, j)
    r = _bound(t, 1, _addr(103))
    _staged(j)
    t.take(r, 0, 0, _addr(104), 0, 32, False)  # same client, new address
    assert _staged(j) == [(J_DROP4, _addr(103))]
    assert t.find_addr(_addr(103), 0) == -1 and t.find_addr(_addr(104), 0) == r
    t.bind(r, 6000)  # no longer durable: the whole record again
    assert [x[0] for x in _staged(j)] == [J_LEASE4]
    t.take(r, 1, 0, _addr(5, 1), 0, 32, False)  # into another subnet
    assert _staged(j) == [(J_DROP4, _addr(104))]


def test_moving_an_unjournaled_record_stages_nothing_a_journaled_one_a_drop():
    j = Journal(None)
    t = Leases4(8, 1, j)
    _client(t, 1)
    r = t.new()
    t.take(r, 0, 0, _addr(105), 0, 32, False)
    t.offer(r, 1060)
    t.take(r, 0, 0, _addr(106), 0, 32, False)  # only offered: the journal never knew it
    assert _staged(j) == []
    t.bind(r, 5000)
    _staged(j)
    _client(t, 2)
    t.take(r, 0, 0, _addr(106), 0, 32, False)  # another client, same address
    assert _staged(j) == [(J_DROP4, _addr(106))]  # replay never keeps client 1 there
    t.offer(r, 5060)
    t.take(r, 0, 0, _addr(106), 0, 32, False)  # no longer journaled: nothing more
    assert _staged(j) == []
    t.bind(r, 5000)
    (typ, p), = _staged(j)
    assert typ == J_LEASE4 and p[D_ADDR + 3] == 106 and p[D_HW + 5] == 2  # client 2's chaddr


def test_drop_stages_a_drop_only_for_journaled_records():
    j = Journal(None)
    t = Leases4(8, 1, j)
    r = _bound(t, 1, _addr(107))
    _client(t, 2)
    q = t.new()
    t.take(q, 0, 0, _addr(108), 0, 32, False)
    t.offer(q, 1060)
    _staged(j)
    t.drop(q)
    assert _staged(j) == []
    t.drop(r)
    assert _staged(j) == [(J_DROP4, _addr(107))]
    assert t.count == 0 and t.find_addr(_addr(107), 0) == -1 and _mine(t, 1) == -1


def test_changed_journals_the_hostname_whole_on_the_next_verb():
    j = Journal(None)
    t = Leases4(8, 1, j)
    r = _bound(t, 1, _addr(109))
    _staged(j)
    t.set_name(r, b"kitchen", 0, 7)
    t.changed(r)
    t.bind(r, 7000)
    (typ, p), = _staged(j)
    assert typ == J_LEASE4 and p[D_REC] == 7 and p[D_REC + 1:] == b"kitchen"
    t.bind(r, 7100)
    assert [x[0] for x in _staged(j)] == [J_STATE4]


# -- a deterministic server-like churn, and the invariants it must keep --------------------------

def _take(t, c, sub, a, now):
    """What the allocator's take does: client c gets address a; the record, or -1."""
    _client(t, c)
    mine = t.find_mine(sub, 0)
    h = t.find_addr(a, 0)
    if h >= 0 and h == mine:
        return h
    if h >= 0:
        if t.active(h, now):
            return -1
        if mine >= 0:
            t.drop(mine)  # one record per client
        r = h
    elif mine >= 0:
        r = mine
    else:
        r = t.new() if t.room(False) else -1
        if r < 0:
            r = t.any_reusable(now)
            if r < 0:
                return -1
    t.take(r, sub, 0, a, 0, 32, False)
    t.set(r, RELEASED, 0)
    return r


def _churn(t, seed, steps, now):
    buf = bytearray(4)
    for step in range(steps):
        seed = (seed * 613 + 1013) % 1048573  # an LCG below 2**30: small ints on 32-bit boards
        now += 1 + seed % 7
        c = (seed >> 3) % 24
        sub = (seed >> 5) & 1
        op = (seed >> 11) % 8
        mine = _mine(t, c, sub)
        if op <= 2 or (op == 7 and t.oldest_reusable(sub, 0, now) < 0):
            r = _take(t, c, sub, _addr(100 + (seed >> 7) % 40, sub), now)
            if r >= 0:
                t.offer(r, now + 60)
                if op == 2:
                    n = NAMES[(seed >> 6) % 4]
                    t.set_name(r, n, 0, len(n))
                    t.changed(r)
                if op:
                    t.bind(r, now + 300)
        elif op == 7:
            t.addr_into(t.oldest_reusable(sub, 0, now), buf, 0)
            r = _take(t, c, sub, buf, now)
            if r >= 0:
                t.bind(r, now + 300)
        elif mine < 0:
            continue
        elif op == 3 and t.state(mine) == BOUND:
            t.bind(mine, now + 300)
        elif op == 4 and t.state(mine) == BOUND:
            t.release(mine, now)
        elif op == 5 and t.state(mine) == BOUND:
            t.decline(mine, now + 200)
        elif op == 6:
            t.drop(mine)
    return seed, now


def _no_holes(t, idx, by_key):
    """Backward-shift deletion leaves every entry reachable: no empty slot between an
    entry's home and its slot. Returns the entries."""
    m = t.nslots
    n = 0
    for i in range(m):
        v = (idx[2 * i] << 8) | idx[2 * i + 1]
        if not v:
            continue
        n += 1
        assert v - 1 < t.used and t.state(v - 1) != FREE, (i, v)
        j = t._home(v - 1, by_key) % m
        while j != i:
            assert idx[2 * j] or idx[2 * j + 1], (i, j)
            j = (j + 1) % m
    return n


def _check(t):
    """Indexes, reuse lists and the free list agree with the records."""
    keyed = indexed = 0
    for r in range(t.used):
        o = r * REC
        if t.state(r) == FREE:
            continue
        indexed += 1
        assert t.recs[o + R_FLAGS] & F_INDEXED and t.find_addr(t.recs, o + R_ADDR) == r
        if t.keylen(r):
            keyed += 1
            kl = t.key_into(r, t.key)
            assert t.find_key(kl, 0, t.subnet(r)) == r
    assert _no_holes(t, t.by_addr, False) == indexed == t.count
    assert _no_holes(t, t.by_key, True) == keyed
    linked = {}
    for h in range(len(t.heads) // 4):
        prev = 0
        r = ((t.heads[4 * h] << 8) | t.heads[4 * h + 1]) - 1
        while r >= 0:
            assert r not in linked and t._list(r) == 4 * h
            assert (t.prv[2 * r] << 8) | t.prv[2 * r + 1] == prev
            linked[r] = h
            prev = r + 1
            r = t._next(r) - 1
        assert (t.heads[4 * h + 2] << 8) | t.heads[4 * h + 3] == prev
    free = 0
    r = t.free_head - 1
    while r >= 0:
        assert t.state(r) == FREE
        free += 1
        r = t._next(r) - 1
    assert free + t.count == t.used
    for r in range(t.used):
        f = t.recs[r * REC + R_FLAGS]
        want = t.state(r) != FREE and not f & F_PINNED
        assert (r in linked) == want and bool(f & F_LINKED) == want, r


def test_index_lists_and_free_list_survive_churn_model_check():
    t = Leases4(20, 2)  # small enough that a full table reuses (any_reusable)
    seed, now = 11, 1000
    for rnd in range(12):
        seed, now = _churn(t, seed, 60, now)
        _check(t)
    assert t.count > 8 and t.used == 20


def _same(live, back):
    """Every record of the live table the journal must hold (bound, released, declined)
    reads the same from the replayed table. Returns how many there are. `live` may be a
    _snapshot taken before the journal was rewritten (the live table's hostnames are in it)."""
    n = 0
    for a, f in (live if isinstance(live, list) else _snapshot(live)):
        q = back.find_addr(a, 0)
        assert q >= 0 and back.fields(q) == f, (f, q >= 0 and back.fields(q))
        n += 1
    return n


def _snapshot(live):
    """(address, fields) of every record of `live` that the journal must hold."""
    return [(bytes(live.recs[r * REC + R_ADDR:r * REC + R_ADDR + 4]), live.fields(r))
            for r in range(live.used) if live.state(r) not in (FREE, OFFERED)]


def _nothing_else(live, back):
    """Every record the replay holds is the live table's too: the same, or since offered
    (an offer is not journaled)."""
    for q in range(back.used):
        if back.state(q) == FREE:
            continue
        r = live.find_addr(back.recs, q * REC + R_ADDR)
        assert r >= 0 and (live.state(r) == OFFERED or live.fields(r) == back.fields(q)), back.fields(q)


def test_journal_replays_to_the_live_table():
    j = Journal(None)
    t = Leases4(20, 2, j)
    seed, now = 5, 1000
    for rnd in range(8):
        seed, now = _churn(t, seed, 50, now)
        j.commit()
        back = _replayed(bytes(j.memory))
        assert _same(t, back) >= 3
        _nothing_else(t, back)
        _check(back)


def test_dump_replays_to_the_live_table():
    j = Journal(None)
    t = Leases4(20, 2, j)
    seed, now = _churn(t, 23, 400, 1000)
    d = Journal(None)
    t.dump(d)
    d.commit()
    back = _replayed(bytes(d.memory))
    n = _same(t, back)
    assert n > 5 and back.count == n  # nothing else: offers are not dumped
    assert t.journal is j  # dump leaves the table's own journal in place
    for s in range(2):  # each reuse list replays in its order: the same oldest
        for q in (OFFERED, BOUND, RELEASED, DECLINED):
            if q == OFFERED:
                continue
            a = _walk(t, s, q)
            assert a == _walk(back, s, q), (s, q)


def _walk(t, sub, state):
    out = []
    r = t.head(sub, 0, state)
    while r >= 0:
        out.append(bytes(t.recs[r * REC + R_ADDR:r * REC + R_ADDR + 4]))
        r = t._next(r) - 1
    return out


def test_restore_replays_then_compacts():
    j = Journal(None)
    t = Leases4(20, 2, j)
    _churn(t, 41, 300, 1000)
    j.commit()
    before = len(j.memory)
    snap = _snapshot(t)  # (t's hostnames are in j, which t2's restore rewrites)
    t2 = Leases4(20, 2)
    t2.restore(j, lambda typ, b, o, n: t2.apply(typ, b, o, n, SUBNETS))
    assert _same(snap, t2) > 5 and t2.journal is j
    assert len(j.memory) == j.live < before  # rewritten compacted
    assert _same(snap, _replayed(bytes(j.memory))) > 5
    r = t2.find_addr(j.memory, 3 + D_ADDR)  # the first record's address
    assert r >= 0 and t2.recs[r * REC + R_FLAGS] & F_DURABLE
    t2.bind(r, 9999)  # restored records are journaled: a renewal is short
    j.commit()
    assert len(j.memory) == j.live + 9 + 5


def test_a_taken_over_address_that_moves_on_leaves_the_journal_too():
    # "The journal always replays to the live state": client 1's released lease at .110 is
    # taken over by client 2 (same address: nothing staged, as an offer is no promise), which
    # moves on to .111. The journal must not keep client 1 at .110: replayed, client 1 would
    # hold two records, and find_mine would pick the stale one (a renewing client's valid
    # lease is then NAKed after a restart).
    j = Journal(None)
    t = Leases4(8, 1, j)
    r = _bound(t, 1, _addr(110))
    t.release(r, 1100)
    _client(t, 2)
    t.take(r, 0, 0, _addr(110), 0, 32, False)
    t.offer(r, 1260)
    t.take(r, 0, 0, _addr(111), 0, 32, False)
    t.bind(r, 4800)
    q = _bound(t, 1, _addr(112))  # client 1 comes back and gets another address
    j.commit()
    back = _replayed(bytes(j.memory))
    assert t.find_addr(_addr(110), 0) == -1
    assert back.find_addr(_addr(110), 0) == -1, back.fields(back.find_addr(_addr(110), 0))
    assert back.fields(_mine(back, 1)) == t.fields(q)


def test_pinned_records_are_never_oldest_reusable():
    t = Leases4(16, 1)
    for i in range(12):
        r = _bound(t, i, _addr(100 + i), 1000 + i)  # all expired by 2000
        if i % 3 == 0:
            t.pin(r, True)
    got = []
    r = t.oldest_reusable(0, 0, 2000)
    while r >= 0:
        assert not t.recs[r * REC + R_FLAGS] & F_PINNED
        got.append(r)
        t.drop(r)
        r = t.oldest_reusable(0, 0, 2000)
    assert got == [i for i in range(12) if i % 3]  # oldest expiry first
    assert t.any_reusable(2000) == -1 and t.count == 4
    t.pin(0, False)  # unpinned: reusable again
    assert t.oldest_reusable(0, 0, 2000) == 0 and t.any_reusable(2000) == 0


def test_oldest_reusable_skips_active_heads_and_kinds():
    t = Leases4(8, 1)
    a = _bound(t, 1, _addr(100), 3000)
    b = _bound(t, 2, _addr(101), 2000)
    assert t.oldest_reusable(0, 0, 1500) == -1  # the bound head is still active
    t.release(b, 1600)
    assert t.oldest_reusable(0, 0, 1700) == b
    assert t.oldest_reusable(0, 1, 1700) == -1  # no records of kind 1 in a v4 table
    t.decline(a, 1650)
    assert t.oldest_reusable(0, 0, 1640) == b  # declined and still on probation
    assert t.oldest_reusable(0, 0, 1700) == b  # released at 1600 before 1650
    t.bind(b, 5000)
    assert t.oldest_reusable(0, 0, 1700) == a


def test_room_honours_the_reserve():
    t = Leases4(4, 1)
    t.reserve = 1
    for i in range(3):
        assert t.room(False) and t.room(True)
        _bound(t, i, _addr(100 + i))
    assert not t.room(False) and t.room(True)  # the last record is a reserved client's
    _bound(t, 9, _addr(109))
    assert not t.room(True) and t.new() == -1
    t.drop(1)
    assert not t.room(False) and t.room(True)
    t.reserve = 0
    assert t.room(False)


def test_the_free_list_reuses_dropped_records():
    t = Leases4(6, 1)
    rs = [_bound(t, i, _addr(100 + i)) for i in range(4)]
    assert rs == [0, 1, 2, 3] and t.used == 4 and t.count == 4
    t.drop(1)
    t.drop(3)
    assert t.count == 2 and t.used == 4
    assert t.state(1) == FREE and bytes(t.recs[REC:2 * REC]) == bytes(REC)  # wiped
    assert t.new() == 3 and t.new() == 1  # last dropped, first reused
    assert t.new() == 4 and t.new() == 5 and t.new() == -1
    assert t.count == 6 and t.used == 6


def test_capacity_bounds():
    for cap in (0, 65001):
        try:
            Leases4(cap)
            ok = True
        except ValueError:
            ok = False
        assert not ok, cap
    t = Leases4(1)
    assert t.nslots == 8 and len(t.by_key) == 16  # at least 8 slots
    assert Leases4(6).nslots == 10 and Leases4(1000).nslots == 1501  # 1.5x: load <= 2/3
