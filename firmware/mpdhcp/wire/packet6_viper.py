# Native twins of packet6.py's kernels (walk, find, opt6_index): see buf_viper.py. A module
# of its own so a board whose config has no DHCPv6 carries none of its machine code.
import micropython

# len as a global of this module: a kernel's len() then stops at this module's dict instead
# of going on to the builtins table (a copy call: 139 -> 114 ns on the Unix port)
len = len


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


# packet6.opt6_index (the reference), its walks inlined: a viper call to opt6_walk goes
# through the object layer, and a message with two IAs made seven of them.
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
    j = i
    while j < end:  # the options tile the message (walk)
        if j + 4 > end:
            return 2
        j += 4 + ((b[j + 2] << 8) | b[j + 3])
    if j != end:
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
            if c == 3 or c == 4 or c == 25:  # an IA: its options tile it, each address or prefix too
                hdr = 4 if c == 4 else 12
                if ln < hdr:
                    return 5
                sub = 26 if c == 25 else 5
                sublen = 25 if c == 25 else 24
                e = i + 4 + ln
                j = i + 4 + hdr
                while j < e:
                    if j + 4 > e:
                        return 5
                    j += 4 + ((b[j + 2] << 8) | b[j + 3])
                if j != e:
                    return 5
                j = i + 4 + hdr
                while j < e:
                    al = (b[j + 2] << 8) | b[j + 3]
                    if b[j] == 0 and b[j + 1] == sub:
                        if al < sublen:
                            return 5
                        k = j + 4 + sublen
                        ke = j + 4 + al
                        while k < ke:
                            if k + 4 > ke:
                                return 5
                            k += 4 + ((b[k + 2] << 8) | b[k + 3])
                        if k != ke:
                            return 5
                    j += 4 + al
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


# packet6.ia_lease (the reference): an IA with its one IAADDR or IAPREFIX in one call. Codes:
# IA_TA 4, IA_PD 25, IAADDR 5 (24 bytes), IAPREFIX 26 (25 bytes).
@micropython.viper
def ia_lease(b, p: int, code: int, rx, iaid: int, t1: int, t2: int, a, ao: int, plen: int,
             pref: int, valid: int) -> int:
    n = 8 + (0 if code == 4 else 8) + (29 if code == 25 else 28)
    if p < 0 or p + n > int(len(b)) or iaid < 0 or iaid + 4 > int(len(rx)) or ao < 0 \
            or ao + 16 > int(len(a)):
        raise IndexError
    d = ptr8(b)
    r = ptr8(rx)
    s = ptr8(a)
    d[p] = (code >> 8) & 255
    d[p + 1] = code & 255
    d[p + 2] = (n - 4) >> 8
    d[p + 3] = (n - 4) & 255
    i = 0
    while i < 4:
        d[p + 4 + i] = r[iaid + i]
        i += 1
    q = p + 8
    if code != 4:
        d[q] = (t1 >> 24) & 255
        d[q + 1] = (t1 >> 16) & 255
        d[q + 2] = (t1 >> 8) & 255
        d[q + 3] = t1 & 255
        d[q + 4] = (t2 >> 24) & 255
        d[q + 5] = (t2 >> 16) & 255
        d[q + 6] = (t2 >> 8) & 255
        d[q + 7] = t2 & 255
        q += 8
    d[q] = 0
    d[q + 2] = 0
    if code == 25:  # IAPREFIX: lifetimes, length, prefix
        d[q + 1] = 26
        d[q + 3] = 25
        d[q + 12] = plen
        life = q + 4
        at = q + 13
    else:  # IAADDR: address, lifetimes
        d[q + 1] = 5
        d[q + 3] = 24
        life = q + 20
        at = q + 4
    d[life] = (pref >> 24) & 255
    d[life + 1] = (pref >> 16) & 255
    d[life + 2] = (pref >> 8) & 255
    d[life + 3] = pref & 255
    d[life + 4] = (valid >> 24) & 255
    d[life + 5] = (valid >> 16) & 255
    d[life + 6] = (valid >> 8) & 255
    d[life + 7] = valid & 255
    i = 0
    while i < 16:
        d[at + i] = s[ao + i]
        i += 1
    return p + n


# packet6.addr6_find (the reference): the lease table's address index probed in one call.
# lay: record width, offsets of plen, the halves reference and the 8 address bytes, and the
# halves entry width (8 bytes of upper half, then a 2-byte count). Record numbers read from
# the index are checked against recs before use; a full index (never) raises.
@micropython.viper
def addr6_find(idx, recs, lay, halves, a, off: int, plen: int) -> int:
    ly = ptr8(lay)
    nl = int(len(lay))
    if nl < 5 or off < 0 or off + 16 > int(len(a)):
        raise IndexError
    rec = ly[0]
    op = ly[1]
    ox = ly[2]
    o8 = ly[3]
    hw = ly[4]
    if hw < 10 or op >= rec or ox + 2 > rec or o8 + 8 > rec:
        raise IndexError
    p = ptr8(a)
    hx = 0
    i = 8
    while i < 16:
        if p[off + i]:
            hx = -1
            break
        i += 1
    if hx < 0:
        hb = ptr8(halves)
        nh = int(len(halves))
        e = 0
        while e + hw <= nh:
            if hb[e + 8] or hb[e + 9]:
                i = 0
                while i < 8 and hb[e + i] == p[off + i]:
                    i += 1
                if i == 8:
                    hx = e // hw + 1
                    break
            e += hw
        if hx < 0:
            return -1
        off += 8
    h = (hx * 131 + plen) & 0xFFFF
    i = 0
    while i < 8:
        h = ((h ^ p[off + i]) * 2533) & 0xFFFF
        i += 1
    n = int(len(idx)) >> 1
    if n <= 0:
        raise IndexError
    items = int(len(recs)) // rec
    x = ptr8(idx)
    b = ptr8(recs)
    i = (h ^ (h >> 7)) % n
    tries = 0
    while tries < n:
        v = (x[2 * i] << 8) | x[2 * i + 1]
        if not v:
            return -1
        if v > items:
            raise IndexError
        o = (v - 1) * rec
        if b[o + op] == plen and ((b[o + ox] << 8) | b[o + ox + 1]) == hx:
            k = 0
            while k < 8 and b[o + o8 + k] == p[off + k]:
                k += 1
            if k == 8:
                return v - 1
        i += 1
        if i == n:
            i = 0
        tries += 1
    raise IndexError


# packet6.ia_stale (the reference): the next address or prefix a client listed that is not
# its lease. Codes: IAADDR 5 (address at +4), IAPREFIX 26 (length at +12, prefix at +13).
@micropython.viper
def ia_stale(buf, i: int, end: int, code: int, a, ao: int, plen: int) -> int:
    if i < 0 or end > int(len(buf)) or ao < 0 or ao + 16 > int(len(a)):
        raise IndexError
    b = ptr8(buf)
    q = ptr8(a)
    at = 13 if code == 26 else 4
    while i + 4 <= end:
        ln = (b[i + 2] << 8) | b[i + 3]
        if b[i] == 0 and b[i + 1] == code:
            if i + at + 16 > int(len(buf)):
                raise IndexError
            k = 0
            while k < 16 and b[i + at + k] == q[ao + k]:
                k += 1
            if code == 26:
                if k < 16 or b[i + 12] != plen:
                    k = 0
                    while k < 16 and b[i + 13 + k] == 0:
                        k += 1
                    if k < 16:
                        return i
            elif k < 16:
                return i
        i += 4 + ln
    return -1


# state/leases6.py's state6_record and lease6_record (the references): a journal record's
# payload from a lease record. That file's layout: state 0, subnet 1, socket index 2, plen 3,
# flags 4 (PD 4, TA 8, Reconfigure/relayed 3), IAID 17, expiry 21, DUID reference 25 (3
# bytes); J_STATE6: kind, plen, address, state, expiry, flags | 0x80, socket index; J_LEASE6
# (52 bytes): state, subnet, kind, plen, key length, flags, socket index, 0, address 8,
# IAID and expiry 24, DUID fingerprint 32 (20 bytes, zero-padded). Kinds: NA 0, PD 1, TA 2.
@micropython.viper
def state6_record(j, recs, o: int, a, ao: int):
    if int(len(j)) < 25 or o < 0 or o + 28 > int(len(recs)) or ao < 0 or ao + 16 > int(len(a)):
        raise IndexError
    d = ptr8(j)
    b = ptr8(recs)
    s = ptr8(a)
    f = b[o + 4]
    d[0] = 1 if f & 4 else (2 if f & 8 else 0)
    d[1] = b[o + 3]
    i = 0
    while i < 16:
        d[2 + i] = s[ao + i]
        i += 1
    d[18] = b[o]
    d[19] = b[o + 21]
    d[20] = b[o + 22]
    d[21] = b[o + 23]
    d[22] = b[o + 24]
    d[23] = (f & 3) | 0x80
    d[24] = b[o + 2]


@micropython.viper
def lease6_record(j, recs, o: int, a, ao: int, db):
    if int(len(j)) < 52 or o < 0 or o + 28 > int(len(recs)) or ao < 0 or ao + 16 > int(len(a)):
        raise IndexError
    d = ptr8(j)
    b = ptr8(recs)
    s = ptr8(a)
    f = b[o + 4]
    d[0] = b[o]
    d[1] = b[o + 1]
    d[2] = 1 if f & 4 else (2 if f & 8 else 0)
    d[3] = b[o + 3]
    d[5] = (f & 3) | 0x80
    d[6] = b[o + 2]
    d[7] = 0
    i = 0
    while i < 16:
        d[8 + i] = s[ao + i]
        i += 1
    i = 0
    while i < 8:
        d[24 + i] = b[o + 17 + i]
        i += 1
    i = 0
    while i < 20:
        d[32 + i] = 0
        i += 1
    x = (b[o + 25] << 16) | (b[o + 26] << 8) | b[o + 27]
    d[4] = 0
    if x:
        if x >= int(len(db)):
            raise IndexError
        k = ptr8(db)
        kl = k[x]
        n = kl if kl < 20 else 20
        if x + 1 + n > int(len(db)):
            raise IndexError
        d[4] = kl
        i = 0
        while i < n:
            d[32 + i] = k[x + 1 + i]
            i += 1


# state/leases6.py's ia6_find (the reference): Leases6.find_ia's probe of by_key in one call.
# Layout as above: subnet 1, flags 4 (PD 4 | TA 8), IAID 17, DUID reference 25; an arena
# entry is [key length][fingerprint, up to 20 bytes]. Numbers read from the index and the
# records are checked against their buffers; a full index (never) raises.
@micropython.viper
def ia6_find(idx, recs, db, key, keylen: int, iaid, subnet: int, f_kind: int, h: int) -> int:
    n = int(len(idx)) >> 1
    fl = keylen if keylen < 20 else 20
    if n <= 0 or h < 0 or int(len(iaid)) < 4 or fl > int(len(key)):
        raise IndexError
    items = int(len(recs)) // 28
    nd = int(len(db))
    x8 = ptr8(idx)
    b = ptr8(recs)
    d = ptr8(db)
    k = ptr8(key)
    q = ptr8(iaid)
    i = h % n
    tries = 0
    while tries < n:
        v = (x8[2 * i] << 8) | x8[2 * i + 1]
        if not v:
            return -1
        if v > items:
            raise IndexError
        o = (v - 1) * 28
        if b[o + 1] == subnet and (b[o + 4] & 12) == f_kind and b[o + 17] == q[0] and b[o + 18] == q[1] \
                and b[o + 19] == q[2] and b[o + 20] == q[3]:
            x = (b[o + 25] << 16) | (b[o + 26] << 8) | b[o + 27]
            if x >= nd:
                raise IndexError
            if d[x] == keylen:
                if x + 1 + fl > nd:
                    raise IndexError
                j = 0
                while j < fl and d[x + 1 + j] == k[j]:
                    j += 1
                if j == fl:
                    return v - 1
        i += 1
        if i == n:
            i = 0
        tries += 1
    raise IndexError


# state/leases6.py's duid6_entry (the reference): Leases6._client_entry's probe in one call:
# the arena offset of the entry holding a DUID, found through any of its client's records.
@micropython.viper
def duid6_entry(idx, recs, db, key, keylen: int, h: int) -> int:
    n = int(len(idx)) >> 1
    fl = keylen if keylen < 20 else 20
    if n <= 0 or h < 0 or fl > int(len(key)):
        raise IndexError
    items = int(len(recs)) // 28
    nd = int(len(db))
    x8 = ptr8(idx)
    b = ptr8(recs)
    d = ptr8(db)
    k = ptr8(key)
    i = h % n
    tries = 0
    while tries < n:
        v = (x8[2 * i] << 8) | x8[2 * i + 1]
        if not v:
            return 0
        if v > items:
            raise IndexError
        o = (v - 1) * 28 + 25
        x = (b[o] << 16) | (b[o + 1] << 8) | b[o + 2]
        if x >= nd:
            raise IndexError
        if d[x] == keylen:
            if x + 1 + fl > nd:
                raise IndexError
            j = 0
            while j < fl and d[x + 1 + j] == k[j]:
                j += 1
            if j == fl:
                return x
        i += 1
        if i == n:
            i = 0
        tries += 1
    raise IndexError


# state/leases6.py's addr6_into (the reference): a record's address written out. Layout: the
# halves reference at 7 (2 bytes: 0, or 1 + the entry), the 8 kept bytes at 9; a halves
# entry is 10 bytes, the upper half first.
@micropython.viper
def addr6_into(dst, off: int, recs, o: int, halves):
    if off < 0 or off + 16 > int(len(dst)) or o < 0 or o + 28 > int(len(recs)):
        raise IndexError
    d = ptr8(dst)
    b = ptr8(recs)
    hx = (b[o + 7] << 8) | b[o + 8]
    i = 0
    if hx:
        e = (hx - 1) * 10
        if e + 8 > int(len(halves)):
            raise IndexError
        h = ptr8(halves)
        while i < 8:
            d[off + i] = h[e + i]
            d[off + 8 + i] = b[o + 9 + i]
            i += 1
    else:
        while i < 8:
            d[off + i] = b[o + 9 + i]
            d[off + 8 + i] = 0
            i += 1


# packet6.reply_ids (the reference): a reply's header, Server-Id and Client-Id in one call.
# Server-Id is option 2; the Client-Id option is copied whole, header included.
@micropython.viper
def reply_ids(b, p: int, limit: int, mtype: int, rx, s: int, sid, sidlen: int, c: int) -> int:
    nb = int(len(b))
    nr = int(len(rx))
    if p < 0 or p + 4 > nb or limit > nb or s < 0 or s + 4 > nr or sidlen < 0 \
            or sidlen > int(len(sid)) or c + 4 > nr:
        raise IndexError
    d = ptr8(b)
    r = ptr8(rx)
    d[p] = mtype
    d[p + 1] = r[s + 1]
    d[p + 2] = r[s + 2]
    d[p + 3] = r[s + 3]
    p += 4
    if p + 4 + sidlen <= limit:
        q = ptr8(sid)
        d[p] = 0
        d[p + 1] = 2
        d[p + 2] = sidlen >> 8
        d[p + 3] = sidlen & 255
        i = 0
        while i < sidlen:
            d[p + 4 + i] = q[i]
            i += 1
        p += 4 + sidlen
    if c >= 0:
        n = 4 + ((r[c + 2] << 8) | r[c + 3])
        if c + n > nr:
            raise IndexError
        if p + n <= limit:
            i = 0
            while i < n:
                d[p + i] = r[c + i]
                i += 1
            p += n
    return p


# state/leases6.py's half6_of (the reference): how a record keeps an address (Leases6._hx_of).
# A halves entry is 10 bytes: the upper half, then a 2-byte count (0: unused).
@micropython.viper
def half6_of(halves, a, off: int) -> int:
    if off < 0 or off + 16 > int(len(a)):
        raise IndexError
    p = ptr8(a)
    i = 8
    while i < 16 and p[off + i] == 0:
        i += 1
    if i == 16:
        return 0
    h = ptr8(halves)
    nh = int(len(halves))
    e = 0
    while e + 10 <= nh:
        if h[e + 8] or h[e + 9]:
            i = 0
            while i < 8 and h[e + i] == p[off + i]:
                i += 1
            if i == 8:
                return e // 10 + 1
        e += 10
    return -1


# state/leases6.py's rec6_fill (the reference): take()'s writes into a record and its address
# hash in one call. Layout: subnet 1, plen 3, flags 4, halves reference 7, kept bytes 9,
# IAID 17, DUID reference 25 (3 bytes); the hash is _ahash's multiply-xor.
@micropython.viper
def rec6_fill(recs, o: int, subnet: int, plen: int, flags: int, hx: int, a, ao: int, iaid, x: int) -> int:
    if o < 0 or o + 28 > int(len(recs)) or ao < 0 or ao + 8 > int(len(a)) or int(len(iaid)) < 4:
        raise IndexError
    b = ptr8(recs)
    s = ptr8(a)
    q = ptr8(iaid)
    b[o + 1] = subnet
    b[o + 3] = plen
    b[o + 4] = flags
    b[o + 7] = hx >> 8
    b[o + 8] = hx & 255
    h = (hx * 131 + plen) & 0xFFFF
    i = 0
    while i < 8:
        v = s[ao + i]
        b[o + 9 + i] = v
        h = ((h ^ v) * 2533) & 0xFFFF
        i += 1
    b[o + 17] = q[0]
    b[o + 18] = q[1]
    b[o + 19] = q[2]
    b[o + 20] = q[3]
    b[o + 25] = (x >> 16) & 255
    b[o + 26] = (x >> 8) & 255
    b[o + 27] = x & 255
    return h ^ (h >> 7)


# state/leases6.py's key6_load (the reference): a DUID of up to 20 bytes loaded as the key
# being looked up (zero-padded to 20) and hashed (_khash's multiply-xor) in one call.
@micropython.viper
def key6_load(key, src, off: int, ln: int) -> int:
    if ln < 0 or ln > 20 or int(len(key)) < 20 or off < 0 or off + ln > int(len(src)):
        raise IndexError
    k = ptr8(key)
    s = ptr8(src)
    h = ln * 7
    i = 0
    while i < ln:
        v = s[off + i]
        k[i] = v
        h = ((h ^ v) * 2533) & 0xFFFF
        i += 1
    while i < 20:
        k[i] = 0
        i += 1
    return h ^ (h >> 7)
