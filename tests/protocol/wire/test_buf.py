# Mirrors firmware/mpdhcp/wire/buf.py (copy, eq, is_zero, cmp, add_shifted, index_of).
import sys
import micropython
from mpdhcp.wire.buf import copy, eq, is_zero, cmp, add_shifted, index_of

BASES4 = (bytes([10, 0, 0, 0]), bytes([192, 168, 77, 100]), bytes([10, 0, 255, 255]),
          bytes([0, 0, 0, 0]), bytes([255, 255, 255, 0]), bytes([1, 255, 0, 255]))
BASES16 = (bytes([0x20, 1, 0x0d, 0xb8, 0, 1] + [0] * 10),
           bytes([0x20, 1, 0x0d, 0xb8, 0x80, 0] + [0] * 8 + [1, 0]),
           bytes([0x20, 1, 0x0d, 0xb8] + [0xff] * 12),
           bytes([0xfe, 0x80] + [0] * 6 + [0xff] * 3 + [0] * 4 + [0xff]),
           bytes(16), bytes([0xff] * 15 + [0]))
SHIFTS = (0, 3, 8, 72)
SIZES = (1, 2, 255, 256, 1000, 1 << 16, 1 << 24)


def _int(b):
    # expectations in plain int arithmetic: big ints on the test side only (the helpers
    # under test never see an int past 2**30)
    return int.from_bytes(bytes(b), "big")


def _bytes(v, n):
    return (v % (1 << (8 * n))).to_bytes(n, "big")


def _want(a, base, shift, size):
    d = _int(a) - _int(base)
    if d < 0 or d % (1 << shift):
        return -1
    k = d >> shift
    return k if k < size else -1


def _deltas(shift, size, n):
    """Differences a - base: aligned steps in and around the range, misaligned ones, far
    ones, and a few below base."""
    step = 1 << shift
    out = []
    for k in (0, 1, 2, 3, 7, 8, 255, 256, 257, 4095, 65535, 65536, 1 << 20, (1 << 24) - 1, 1 << 24,
              1 << 25, size - 1, size, size + 1):
        out.append(k * step)
        out.append(k * step + 1)  # misaligned unless shift is 0
        out.append(k * step + (step >> 1))
        out.append(k * step + step - 1)
        out.append(-k * step - 1)  # below base
        out.append(-(k + 1) * step)
    out.append(1 << (8 * n - 1))
    return out


def _sweep(bases, n):
    checked = hits = 0
    for base in bases:
        for shift in SHIFTS:
            for size in SIZES:
                for d in _deltas(shift, size, n):
                    a = _bytes(_int(base) + d, n)
                    want = _want(a, base, shift, size)
                    got = index_of(b"\xee" + a, 1, b"\x00\x00" + base, 2, shift, size, n)
                    assert got == want, (base, shift, size, d, got, want)
                    checked += 1
                    hits += want >= 0
    return checked, hits


def test_index_of_matches_int_arithmetic_over_4_bytes():
    checked, hits = _sweep(BASES4, 4)
    assert checked > 10000 and hits > 500


def test_index_of_matches_int_arithmetic_over_16_bytes():
    checked, hits = _sweep(BASES16, 16)
    assert checked > 10000 and hits > 1000


def test_index_of_edges():
    base = bytes([0x20, 1, 0x0d, 0xb8] + [0] * 12)
    a = bytearray(base)
    a[6] = 1  # base + (1 << 72): step 1 of a /56 prefix pool
    assert index_of(a, 0, base, 0, 72, 256, 16) == 1
    assert index_of(a, 0, base, 0, 72, 1, 16) == -1  # past the pool
    assert index_of(a, 0, base, 0, 64, 1 << 24, 16) == 256
    a[15] = 1  # not on a /56 boundary
    assert index_of(a, 0, base, 0, 72, 256, 16) == -1
    assert index_of(base, 0, a, 0, 0, 1 << 24, 16) == -1  # below base
    big = _bytes(_int(base) + ((1 << 24) << 3), 16)
    assert index_of(big, 0, base, 0, 3, 1 << 24, 16) == -1  # k would reach 2**24
    assert index_of(_bytes(_int(base) + ((1 << 24) - 1) * 8, 16), 0, base, 0, 3, 1 << 24, 16) == (1 << 24) - 1


def test_add_shifted_matches_int_arithmetic_and_inverts_index_of():
    dst = bytearray(20)
    for n, bases in ((4, BASES4), (16, BASES16)):
        for base in bases:
            for shift in SHIFTS:
                for k in (0, 1, 2, 255, 256, 4097, 65535, (1 << 22) - 1):
                    add_shifted(dst, 3, b"\x00" + base, 1, k, shift, n)
                    want = _int(base) + (k << shift)
                    assert bytes(dst[3:3 + n]) == _bytes(want, n), (base, shift, k)
                    if want < (1 << (8 * n)):  # no carry off the top: index_of gives k back
                        assert index_of(dst, 3, base, 0, shift, 1 << 22, n) == k
    from mpdhcp.wire import buf

    ref = buf.PLAIN["add_shifted"]  # the viper twin, where it compiles, writes the same bytes
    for n, bases in ((4, BASES4), (16, BASES16)):
        for base in bases:
            for shift in SHIFTS:
                for k in (0, 1, 255, 65535, (1 << 22) - 1):
                    a = bytearray(b"\xee" * 20)
                    b = bytearray(a)
                    ref(a, 3, b"\x00" + base, 1, k, shift, n)
                    add_shifted(b, 3, b"\x00" + base, 1, k, shift, n)
                    assert a == b, (base, shift, k)


def test_copy_eq_is_zero_cmp():
    src = bytes(range(1, 21))
    dst = bytearray(24)
    copy(dst, 2, src, 5, 10)
    assert bytes(dst) == bytes(2) + src[5:15] + bytes(12)
    copy(dst, 0, src, 0, 0)  # nothing
    assert eq(dst, 2, src, 5, 10) and not eq(dst, 2, src, 5, 11) and eq(dst, 0, src, 0, 0)
    assert is_zero(dst, 12, 12) and not is_zero(dst, 11, 2) and is_zero(dst, 0, 2)
    copy(dst, 4, dst, 2, 4)  # an overlapping copy upward repeats the first bytes (forward loop)
    assert bytes(dst[2:8]) == bytes([6, 7, 6, 7, 6, 7])
    pairs = ((BASES4[0], BASES4[1]), (BASES4[2], BASES4[2]), (BASES16[0], BASES16[1]),
             (BASES16[2], BASES16[1]), (bytes([1, 0]), bytes([0, 255])))
    for a, b in pairs:
        want = (_int(a) > _int(b)) - (_int(a) < _int(b))
        assert cmp(a, 0, b, 0, len(a)) == want and cmp(b, 0, a, 0, len(a)) == -want
    assert cmp(b"\x05\x01", 1, b"\x01\x09", 0, 1) == 0


def _locked(fn):
    """Run fn with the MicroPython heap locked; did it allocate? (a no-op lock on CPython)"""
    oom = False
    micropython.heap_lock()
    try:
        fn()
    except MemoryError:
        oom = True
    finally:
        micropython.heap_unlock()
    return not oom


def test_helpers_allocate_nothing():
    base = bytearray(BASES16[2])
    a = bytearray(16)
    dst = bytearray(16)
    got = [0, 0, 0, 0, 0, 0]
    add_shifted(a, 0, base, 0, 12345, 72, 16)  # warm-up, and a target for index_of

    def run():
        i = 0
        while i < 50:
            add_shifted(dst, 0, base, 0, i * 4099, 8, 16)
            got[0] += index_of(dst, 0, base, 0, 8, 1 << 24, 16) == i * 4099
            got[1] += index_of(a, 0, base, 0, 72, 1 << 20, 16) == 12345
            got[2] += index_of(a, 0, base, 0, 3, 1 << 24, 16) == -1
            got[3] += eq(dst, 0, dst, 0, 16)
            copy(a, 0, a, 0, 16)
            got[4] += cmp(a, 0, base, 0, 16) == 1
            got[5] += not is_zero(a, 0, 16)
            i += 1

    if sys.implementation.name == "micropython":
        assert not _locked(lambda: bytearray(4))  # the lock does catch an allocation
    assert _locked(run), "a buf helper allocated with the heap locked"
    assert got == [50, 50, 50, 50, 50, 50], got


def test_native_twins_agree_with_the_plain_loops():
    # where viper compiles (the Unix port, the boards) buf's copy/eq/is_zero are machine code;
    # they must give what the plain loops give, bounds included (viper itself checks none)
    from mpdhcp.wire import buf

    P = buf.PLAIN
    pc, pe, pz = P["copy"], P["eq"], P["is_zero"]
    src = bytes(range(40))
    for n in (0, 1, 7, 16, 40):
        for so in (0, 3):
            if so + n > 40:
                continue
            a = bytearray(48)
            b = bytearray(48)
            pc(a, 5, src, so, n)
            buf.copy(b, 5, src, so, n)
            assert a == b
            assert buf.eq(a, 5, src, so, n) == pe(a, 5, src, so, n) == True
            assert buf.is_zero(a, 0, 5) == pz(a, 0, 5) == True
    c = bytearray(src)
    c[20] ^= 1
    assert buf.eq(c, 0, src, 0, 40) == pe(c, 0, src, 0, 40) == False
    assert buf.is_zero(c, 0, 2) == pz(c, 0, 2) == False
    for n in (0, 1, 3, 5, 60, 192, 256):
        for o in (1, 2, 9, 12):  # the twin stores words between aligned ends: every alignment
            a = bytearray(b"\x07" * 300)
            b = bytearray(a)
            P["zero"](a, o, n)
            buf.zero(b, o, n)
            assert a == b and a[o:o + n] == bytes(n) and a[o + n] == 7 and a[o - 1] == 7
    for fn, args in ((buf.zero, (bytearray(4), 2, 3)), (P["zero"], (bytearray(255), 0, 256)),
                     (buf.copy, (bytearray(4), 2, src, 0, 3)), (buf.copy, (bytearray(4), 0, src, 39, 2)),
                     (buf.eq, (src, 38, src, 38, 3)), (buf.is_zero, (bytearray(4), 2, 3))):
        try:
            fn(*args)
            assert False, "no IndexError"
        except IndexError:
            pass



def test_native_hash_and_crc_twins_agree_with_the_plain_loops():
    from mpdhcp.wire import buf

    P = buf.PLAIN
    data = bytes((i * 37 + 11) & 255 for i in range(64))
    for h in (0, 7, 0xFFFF):
        for o, n in ((0, 0), (0, 4), (3, 16), (0, 20), (10, 54)):
            assert buf.mix16(h, data, o, n) == P["mix16"](h, data, o, n)
            assert buf.mix30(h, data, o, n) == P["mix30"](h, data, o, n)
            assert buf.crc16(data, o, n) == P["crc16"](data, o, n)
    assert buf.crc16(b"123456789", 0, 9) == P["crc16"](b"123456789", 0, 9) == 0x29B1


def test_native_index_of_agrees_with_the_plain_loop():
    from mpdhcp.wire import buf

    ref = buf.PLAIN["index_of"]
    base6 = bytes([0x20, 1, 0xd, 0xb8, 0, 1] + [0] * 10)
    base4 = bytes([10, 77, 1, 0])
    cases = []
    for k in (0, 1, 255, 256, 4095, 65535, 70000, (1 << 24) - 1):
        for shift in (0, 8, 64, 72):
            a = bytearray(16)
            buf.add_shifted(a, 0, base6, 0, k & 0x3FFFFF, shift, 16)
            cases.append((bytes(a), 0, base6, 0, shift, 1 << 22, 16))
            b = bytearray(a)
            b[15] ^= 1
            cases.append((bytes(b), 0, base6, 0, shift, 1 << 22, 16))
    for k in (0, 5, 255, 256, 300, 1024):
        a = bytearray(4)
        buf.add_shifted(a, 0, base4, 0, k, 0, 4)
        for size in (1, 256, 1024, 2000):
            cases.append((bytes(a), 0, base4, 0, 0, size, 4))
    cases.append((bytes([10, 77, 0, 255]), 0, base4, 0, 0, 256, 4))  # below base: borrow
    for c in cases:
        assert buf.index_of(*c) == ref(*c), c


def test_list_twins_agree_with_the_plain_lists():
    # list_append / list_remove (the reuse lists' steps) are machine code where viper compiles:
    # the same bytes as the plain ones after every step of a shuffled run over three lists,
    # and an item number past the arrays is refused (viper checks no bounds by itself)
    from mpdhcp.wire import buf

    P = buf.PLAIN
    rec, ol, n = 7, 3, 40
    a = [bytearray(12), bytearray(rec * n), bytearray(2 * n)]  # heads, recs, prv
    b = [bytearray(12), bytearray(rec * n), bytearray(2 * n)]
    where = [-1] * n  # which list each item is in
    x = 12345
    for step in range(600):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        r = (x >> 8) % n
        if where[r] < 0:
            h = 4 * ((x >> 4) % 3)
            P["list_append"](a[0], h, a[1], rec, ol, a[2], r)
            buf.list_append(b[0], h, b[1], rec, ol, b[2], r)
            where[r] = h
        else:
            P["list_remove"](a[0], where[r], a[1], rec, ol, a[2], r)
            buf.list_remove(b[0], where[r], b[1], rec, ol, b[2], r)
            where[r] = -1
        assert a == b, step
    for h in (0, 4, 8):  # walk each list from its head: every item filed there, in order
        got = []
        r = ((a[0][h] << 8) | a[0][h + 1]) - 1
        while r >= 0:
            got.append(r)
            r = ((a[1][r * rec + ol] << 8) | a[1][r * rec + ol + 1]) - 1
        assert sorted(got) == [i for i in range(n) if where[i] == h]
    for fn, args in ((buf.list_append, (b[0], 0, b[1], rec, ol, b[2], n)),
                     (buf.list_append, (b[0], 10, b[1], rec, ol, b[2], 0)),
                     (buf.list_remove, (b[0], 0, b[1], rec, ol, b[2], n)),
                     (buf.list_remove, (b[0], 0, b[1], rec, ol, bytearray(2), 1))):
        try:
            fn(*args)
            assert False, "no IndexError"
        except IndexError:
            pass


def test_list_set_twins_agree_with_the_plain_one():
    # list_set (Table.set: state, expiry and the reuse-list move in one call) where viper
    # compiles: the same bytes as the plain one after every step of a shuffled run over two
    # subnets, both kinds and every state, pinned records in no list; bad layouts refused
    from mpdhcp.wire import buf

    P = buf.PLAIN
    rec, n = 12, 30
    lay = bytes((rec, 4, 5, 7, 0x04))  # width, flags, link, expiry, kind flag
    a = [bytearray(8 * 4 * 2), bytearray(rec * n), bytearray(2 * n)]  # heads, recs, prv
    for r in range(n):
        a[1][r * rec + 1] = r % 2  # subnet
        a[1][r * rec + 4] = (0x04 if r % 3 == 0 else 0) | (0x40 if r % 7 == 0 else 0)
    b = [bytearray(x) for x in a]
    x = 4321
    for step in range(800):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        r = (x >> 8) % n
        state = (x >> 3) % 5
        expiry = (x * 7919) & 0xFFFFFFFF
        P["list_set"](a[0], a[1], a[2], lay, r, state, expiry)
        buf.list_set(b[0], b[1], b[2], lay, r, state, expiry)
        assert a == b, step
    for h in range(0, len(a[0]), 4):  # each list holds the linked records of its key, in a chain
        r = ((a[0][h] << 8) | a[0][h + 1]) - 1
        while r >= 0:
            o = r * rec
            assert a[1][o + 4] & 0x10 and not a[1][o + 4] & 0x40
            assert h == 4 * ((a[1][o + 1] * 2 + (1 if a[1][o + 4] & 0x04 else 0)) * 4 + a[1][o] - 1)
            r = ((a[1][o + 5] << 8) | a[1][o + 6]) - 1
    if buf.list_set is P["list_set"]:
        return  # no twin here: the checks below are the twin's own (viper checks no bounds itself)
    for args in ((b[0], b[1], b[2], lay, n, 1, 0), (b[0], b[1], b[2], lay, -1, 1, 0),
                 (b[0], b[1], b[2], bytes((rec, 4, 11, 7, 4)), 0, 1, 0), (bytearray(4), b[1], b[2], lay, 1, 2, 0)):
        try:
            buf.list_set(*args)
            assert False, "no IndexError"
        except IndexError:
            pass


def test_stage_record_twins_agree_with_the_plain_one():
    # stage_record (a journal record: marker, type, length, payload, CRC) where viper compiles:
    # the same bytes and end as the plain one, at every offset and length; overruns refused
    from mpdhcp.wire import buf

    P = buf.PLAIN
    src = bytes((i * 37 + 11) & 255 for i in range(300))
    for p, off, ln in ((0, 0, 0), (3, 5, 25), (100, 0, 52), (0, 44, 255), (7, 1, 1)):
        a = bytearray(300)
        b = bytearray(300)
        assert P["stage_record"](a, p, 0xA5, 33, src, off, ln) == buf.stage_record(b, p, 0xA5, 33, src, off, ln)
        assert a == b, (p, off, ln)
        c = buf.crc16(a, p + 1, ln + 2)
        assert a[p + 3 + ln] == c >> 8 and a[p + 4 + ln] == c & 255
    if buf.stage_record is P["stage_record"]:
        return  # no twin here: the checks below are the twin's own
    for args in ((bytearray(30), 0, 0xA5, 1, src, 0, 26), (bytearray(300), -1, 0xA5, 1, src, 0, 4),
                 (bytearray(300), 0, 0xA5, 1, src, 290, 20), (bytearray(300), 0, 0xA5, 1, src, 0, 256)):
        try:
            buf.stage_record(*args)
            assert False, "no IndexError"
        except IndexError:
            pass


def test_ix_insert_twins_agree_with_the_plain_one():
    # ix_insert (an index slot, linear probing with wrap-around) where viper compiles: the
    # same slots as the plain one while the index fills; a full index is refused by the twin
    from mpdhcp.wire import buf

    P = buf.PLAIN
    n = 13
    a = bytearray(2 * n)
    b = bytearray(2 * n)
    x = 99
    for v in range(1, n + 1):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        h = x if v % 3 else (n - 1)  # some runs wrap past the last slot
        P["ix_insert"](a, h, v + 300)
        buf.ix_insert(b, h, v + 300)
        assert a == b, v
    assert sorted((a[2 * i] << 8) | a[2 * i + 1] for i in range(n)) == list(range(301, 301 + n))
    if buf.ix_insert is P["ix_insert"]:
        return  # no twin here: its own checks below
    for args in ((b, 0, 1), (bytearray(8), -1, 1), (bytearray(0), 0, 1)):
        try:
            buf.ix_insert(*args)
            assert False, "no IndexError"
        except IndexError:
            pass
