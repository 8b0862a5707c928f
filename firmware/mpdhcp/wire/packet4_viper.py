# Native twins of packet4.py's kernels (opt4_walk, opt4_gather, reply_header): see buf_viper.py.
# A module of its own so a board whose config has no DHCPv4 carries none of its machine code.
import micropython

# len as a global of this module: a kernel's len() then stops at this module's dict instead
# of going on to the builtins table (a copy call: 139 -> 114 ns on the Unix port)
len = len


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
    if int(d) & 3 == 0:  # sname and file: 4 bytes a store where the buffer is aligned (heap)
        w = ptr32(int(d) + 44)
        while i < 236:
            w[(i - 44) >> 2] = 0
            i += 4
    while i < 236:
        d[i] = 0
        i += 1
    d[236] = 99
    d[237] = 130
    d[238] = 83
    d[239] = 99
