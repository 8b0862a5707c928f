# DHCPv6 lease table: one fixed-width record per (client DUID, IAID, IA type) binding, for
# IA_NA addresses and IA_PD delegated prefixes alike, in one preallocated bytearray, found
# through two open-addressing indexes (by client and by address/prefix), with the lease
# lifecycle of table.py. A client's DUID fingerprint is kept once, in the Duids arena below,
# and shared by all its records (its IA_NA and IA_PD...). An address or prefix is kept as the
# 8 bytes that tell it from its neighbours: the upper half when the lower is zero (a prefix of
# /64 or shorter), else the lower half and a reference to its upper half (the subnet's /64,
# a long prefix's pool), which the records using it share in the halves table. Also the
# codecs of its journal records: on disk a record keeps the 52-byte layout older journals
# have (kind at byte 2, socket index at byte 6, address and fingerprint written out whole),
# so replay works across versions. Heap per lease: REC + 2 (reuse list) + 2 * 2 * 1.5 (index
# slots) + its share of its client's arena entry (1 + the DUID's length, up to 1 + KEYMAX)
# and of its upper half (HALF bytes, one per /64 in use).
from micropython import const
from .table import Table, KEYMAX, F_INDEXED, F_DURABLE, F_PINNED, F_LINKED
from .table import FREE, OFFERED, BOUND, RELEASED, DECLINED, journaled  # noqa: F401  (API)
from .arena import Arena
from ..wire.buf import copy, eq, mix16, is_zero
from ..wire.packet6 import addr6_find

REC = const(28)  # bytes per lease record (in RAM)
DUID_PER_LEASE = const(6)  # the DUID arena's first size per record; it grows between steps
# (a 10-byte DUID-LL entry shared by an IA_NA and an IA_PD record)
DUID_ALONE = const(16)  # the same where a client has one record (no prefixes to delegate): a
# 14-byte DUID-LLT, the commonest, and its length byte
HALF = const(10)  # a halves-table entry: upper 8 bytes of addresses, records using it (2)

# record layout (in RAM)
R_STATE = const(0)
R_SUBNET = const(1)
R_IFX = const(2)  # the adapter's socket index the client was last seen on
R_PLEN = const(3)  # 128 for addresses, the delegated length for prefixes
R_FLAGS = const(4)
R_LINK = const(5)  # reuse-list link (table.py), 2 bytes
R_HX = const(7)  # 2 bytes: 0: R_A8 is the upper half (the lower is zero); else 1 + the
# halves-table entry holding the upper half, and R_A8 is the lower half
R_A8 = const(9)  # 8 bytes of the address or prefix
R_IAID = const(17)
R_EXPIRY = const(21)  # uint32 seconds on the engine clock (valid lifetime end)
R_XREF = const(25)  # 3 bytes: offset of the client's DUID entry in the arena (0: nobody's)

F_RECONF = const(1)  # the client sent Reconfigure Accept (RFC 8415 21.20)
F_RELAYED = const(2)  # last seen through a relay
F_PD = const(4)  # an IA_PD prefix (else an IA_NA address)
F_TA = const(8)  # an IA_TA address (RFC 8415 21.5): an address like IA_NA's, its own IA

NA = const(0)  # the address spaces (pools, reuse lists): addresses, prefixes
PD = const(1)
TA = const(2)  # an IA type, not a space: its addresses come from the IA_NA pools
KIND_NAMES = ("IA_NA", "IA_PD", "IA_TA")
STATE_NAMES = ("free", "advertised", "bound", "released", "declined")

# journal records
J_LEASE6 = const(33)  # the 52-byte record in its disk layout (D_* below)
J_STATE6 = const(34)  # kind, plen, address(16), state, expiry(4), flags, socket index: renewals,
# releases (older journals: 24 bytes, without the socket index)
J_DROP6 = const(35)  # kind, plen, address(16): the record holding it is gone
D_REC = const(52)  # the disk layout (older versions kept it in RAM, kind and socket index aside)
D_STATE = const(0)
D_SUBNET = const(1)
D_KIND = const(2)
D_PLEN = const(3)
D_KEYLEN = const(4)
D_FLAGS = const(5)
D_IFX = const(6)
D_ADDR = const(8)
D_IAID = const(24)
D_EXPIRY = const(28)
D_KEY = const(32)

_EMPTY = const(0)
_ZEROS = bytes(KEYMAX)
_LAY = bytes((REC, R_PLEN, R_HX, R_A8, HALF))  # for packet6.addr6_find


def _fplen(keylen):
    """Bytes of fingerprint a key of keylen bytes has (table.py: longer keys keep KEYMAX)."""
    return keylen if keylen < KEYMAX else KEYMAX


# The journal records' payloads, written from a record in one call each: kernels, with native
# twins of the same name in wire/packet6_viper.py (their layout is this file's R_*, D_*, F_*)
def state6_record(j, recs, o, a, ao):
    """J_STATE6's 25 bytes at j[0:] for the record at recs[o:] with its address written out
    at a[ao:]: kind, plen, address, state, expiry, flags (the bits older journals carry),
    socket index."""
    f = recs[o + R_FLAGS]
    j[0] = PD if f & F_PD else TA if f & F_TA else NA  # ia_kind(r), in place
    j[1] = recs[o + R_PLEN]
    copy(j, 2, a, ao, 16)
    j[18] = recs[o + R_STATE]
    copy(j, 19, recs, o + R_EXPIRY, 4)
    j[23] = (f & (F_RECONF | F_RELAYED)) | F_INDEXED
    j[24] = recs[o + R_IFX]  # where a Reconfigure must go after a restart


def lease6_record(j, recs, o, a, ao, db):
    """J_LEASE6's 52 bytes (D_* layout) at j[0:] for the record at recs[o:] with its address
    written out at a[ao:] and its client's DUID entry in the arena db (key_into)."""
    f = recs[o + R_FLAGS]
    j[D_STATE] = recs[o + R_STATE]
    j[D_SUBNET] = recs[o + R_SUBNET]
    j[D_KIND] = PD if f & F_PD else TA if f & F_TA else NA
    j[D_PLEN] = recs[o + R_PLEN]
    j[D_FLAGS] = (f & (F_RECONF | F_RELAYED)) | F_INDEXED
    j[D_IFX] = recs[o + R_IFX]
    j[D_IFX + 1] = 0
    copy(j, D_ADDR, a, ao, 16)
    copy(j, D_IAID, recs, o + R_IAID, 8)  # IAID, expiry: in this order in both layouts
    copy(j, D_KEY, _ZEROS, 0, KEYMAX)
    x = (recs[o + R_XREF] << 16) | (recs[o + R_XREF + 1] << 8) | recs[o + R_XREF + 2]
    j[D_KEYLEN] = db[x] if x else 0
    if x:
        copy(j, D_KEY, db, x + 1, _fplen(db[x]))


def ia6_find(idx, recs, db, key, keylen, iaid, subnet, f_kind, h):
    """Leases6.find_ia's probe: the record in by_key (idx) of the client whose fingerprint is
    key (a DUID keylen long, its entry in the arena db), IAID iaid[0:4], IA type flags f_kind
    (F_PD, F_TA or 0) and subnet, from slot h on; or -1."""
    n = len(idx) >> 1
    i = h % n
    fl = _fplen(keylen)
    while True:
        v = (idx[2 * i] << 8) | idx[2 * i + 1]
        if v == _EMPTY:
            return -1
        o = (v - 1) * REC
        if recs[o + R_SUBNET] == subnet and recs[o + R_FLAGS] & (F_PD | F_TA) == f_kind \
                and eq(recs, o + R_IAID, iaid, 0, 4):
            x = (recs[o + R_XREF] << 16) | (recs[o + R_XREF + 1] << 8) | recs[o + R_XREF + 2]
            if db[x] == keylen and eq(db, x + 1, key, 0, fl):  # _entry_is(x, keylen)
                return v - 1
        i += 1
        if i == n:
            i = 0


def duid6_entry(idx, recs, db, key, keylen, h):
    """Leases6._client_entry's probe: the arena (db) offset of the entry holding fingerprint
    key (a DUID keylen long), found through any record of its client in by_key (idx) from
    slot h on; or 0."""
    n = len(idx) >> 1
    i = h % n
    fl = _fplen(keylen)
    while True:
        v = (idx[2 * i] << 8) | idx[2 * i + 1]
        if v == _EMPTY:
            return 0
        o = (v - 1) * REC + R_XREF
        x = (recs[o] << 16) | (recs[o + 1] << 8) | recs[o + 2]
        if db[x] == keylen and eq(db, x + 1, key, 0, fl):
            return x
        i += 1
        if i == n:
            i = 0


def addr6_into(dst, off, recs, o, halves):
    """The address or prefix of the record at recs[o:], written out whole at dst[off:]: its
    upper half from the halves table when the record keeps the lower one, else zeros below."""
    hx = (recs[o + R_HX] << 8) | recs[o + R_HX + 1]
    if hx:
        copy(dst, off, halves, (hx - 1) * HALF, 8)
        copy(dst, off + 8, recs, o + R_A8, 8)
    else:
        copy(dst, off, recs, o + R_A8, 8)
        copy(dst, off + 8, _ZEROS, 0, 8)


def half6_of(halves, a, off):
    """Leases6._hx_of: 0 when address a[off:off+16] has a zero lower half (a record keeps the
    upper one), else 1 + the halves entry in use holding its upper half, or -1."""
    if not a[off + 15] and is_zero(a, off + 8, 7):  # an address's last byte: rarely zero
        return 0
    i = 0
    while i < len(halves):
        if (halves[i + 8] or halves[i + 9]) and eq(halves, i, a, off, 8):
            return i // HALF + 1
        i += HALF
    return -1


def rec6_fill(recs, o, subnet, plen, flags, hx, a, ao, iaid, x):
    """Leases6.take's writes into the record at recs[o:]: subnet, plen, flags, how it keeps
    its address (hx) and the 8 bytes a[ao:] it keeps, the IAID iaid[0:4] and its DUID
    entry x. Returns the record's hash in by_addr (Leases6._ahash)."""
    recs[o + R_SUBNET] = subnet
    recs[o + R_PLEN] = plen
    recs[o + R_FLAGS] = flags
    recs[o + R_HX] = hx >> 8
    recs[o + R_HX + 1] = hx & 255
    copy(recs, o + R_A8, a, ao, 8)
    copy(recs, o + R_IAID, iaid, 0, 4)
    recs[o + R_XREF] = x >> 16  # as _set_xref
    recs[o + R_XREF + 1] = (x >> 8) & 255
    recs[o + R_XREF + 2] = x & 255
    h = mix16((hx * 131 + plen) & 0xFFFF, recs, o + R_A8, 8)
    return h ^ (h >> 7)


def key6_load(key, src, off, ln):
    """Leases6.load_client for a DUID of ln <= KEYMAX bytes (its own fingerprint): src[off:
    off+ln] into key, zeros after it (as Table.set_lookup_key), and its hash (_khash)."""
    copy(key, 0, src, off, ln)
    copy(key, ln, _ZEROS, 0, KEYMAX - ln)
    h = mix16(ln * 7, key, 0, ln)
    return h ^ (h >> 7)


PLAIN = globals()  # the references by name: as in wire/buf.py
try:
    from ..wire import packet6_viper  # noqa: F401
    PLAIN = {"state6_record": state6_record, "lease6_record": lease6_record, "ia6_find": ia6_find,
             "duid6_entry": duid6_entry, "addr6_into": addr6_into, "half6_of": half6_of,
             "rec6_fill": rec6_fill, "key6_load": key6_load}
    from ..wire.packet6_viper import (state6_record, lease6_record, ia6_find, duid6_entry,  # noqa: F811
                                      addr6_into, half6_of, rec6_fill, key6_load)
except (ImportError, SyntaxError, AttributeError, NameError, ValueError):  # as in wire/buf.py
    pass


class Duids(Arena):
    """The clients' DUID fingerprints, one entry per client whatever its number of records:
    [key length][fingerprint, _fplen(length) bytes]. A freed entry reads [0][fingerprint
    length] (a key length is never 0). No owner field: by_key hashes the DUID alone, so the
    records sharing an entry all sit in one probe run, and compaction finds them there
    (Leases6.moved). Growth as Arena's: only between steps (spare) with the heap locked."""

    def put(self, keylen, fp):
        """Offset of a new entry for key `keylen` (fingerprint fp[:]), or 0 when even
        compaction and growth find no room."""
        n = _fplen(keylen)
        if self.top + 1 + n > len(self.buf):
            if self.dead:
                self.compact()
            if self.top + 1 + n > len(self.buf) and not self._grow(1 + n):
                return 0
        o = self.top
        self.buf[o] = keylen
        copy(self.buf, o + 1, fp, 0, n)
        self.top = o + 1 + n
        return o

    def free(self, o):
        b = self.buf
        n = _fplen(b[o])
        b[o] = 0
        b[o + 1] = n
        self.dead += 1 + n

    def compact(self):
        """Slide the live entries down over the freed ones, in order; the records follow."""
        b = self.buf
        src = dst = 1
        top = self.top
        while src < top:
            kl = b[src]
            if kl:
                n = 1 + _fplen(kl)
                if src != dst:
                    copy(b, dst, b, src, n)
                    self.table.moved(src, dst)
                dst += n
            else:
                n = 1 + b[src + 1]
            src += n
        self.top = dst
        self.dead = 0


class Leases6(Table):
    def __init__(self, capacity, nsub=1, journal=None, pd=True):
        """pd False: the config delegates no prefixes, so a client holds one record, and the
        DUID arena starts at a whole entry per record (growing it on a small heap may fail,
        and a new client is then refused until it can)."""
        # kind(r): PD for a prefix, else NA (IA_TA addresses too)
        Table.__init__(self, capacity, nsub, REC, -1, R_FLAGS, R_EXPIRY, -1, R_LINK, journal, F_PD)
        per = DUID_PER_LEASE if pd else DUID_ALONE
        self.duids = Duids(max(capacity * per, 4 * (1 + KEYMAX)), self)
        self.iaid = bytearray(4)  # scratch: the IAID being looked up
        self.ckeylen = 0  # the client being served (its DUID fingerprint is in self.key)
        self.ckh = 0  # and that key's hash (_khash), made once per message for every IA's lookups
        self.cta = False  # and the IA being served is an IA_TA (its address space is NA's)
        self.jrec = bytearray(D_REC)
        self.halves = bytearray(HALF * (2 * nsub + 4))  # upper halves: a few per subnet
        self.hused = 0  # halves entries in use
        self.abuf = bytearray(16)  # scratch: a record's address, written out (addr_off)
        self.ar = -1  # the record whose address abuf holds (-1: none)
        self.a8 = bytearray(8)  # scratch: the half of an address take() stores

    # -- client keys: the shared DUID entry ------------------------------------------------

    def set_iaid(self, src, off):
        copy(self.iaid, 0, src, off, 4)

    def load_client(self, src, off, ln):
        """The client being served: DUID src[off:off+ln]. The IAID comes with set_iaid."""
        if ln <= KEYMAX:  # the DUID is its fingerprint: loaded and hashed in one kernel call
            self.ckeylen = ln
            self.ckh = key6_load(self.key, src, off, ln)
            return
        k = self.ckeylen = Table.set_lookup_key(self, src, off, ln)  # (Table: why named)
        h = mix16(k * 7, self.key, 0, KEYMAX)  # _khash, in place
        self.ckh = h ^ (h >> 7)

    def _khash(self, b, o, keylen):
        # multiply-xor over 16 bits (buf.mix16); DUIDs of one vendor differ in a byte or two,
        # so every byte must reach every bit. The DUID alone: a client's records share a
        # probe run, which is where its entry's other holders are found
        h = mix16(keylen * 7, b, o, _fplen(keylen))
        return h ^ (h >> 7)

    def _xref(self, r):
        o = r * REC + R_XREF
        b = self.recs
        return (b[o] << 16) | (b[o + 1] << 8) | b[o + 2]

    def _set_xref(self, r, x):
        o = r * REC + R_XREF
        b = self.recs
        b[o] = x >> 16
        b[o + 1] = (x >> 8) & 255
        b[o + 2] = x & 255

    def _entry_is(self, x, keylen):
        """Is the arena entry at x the fingerprint in self.key (of a key keylen long)? Past
        a short key self.key holds zeros (set_lookup_key, apply), so the entry's bytes do."""
        b = self.duids.buf
        return b[x] == keylen and eq(b, x + 1, self.key, 0, _fplen(keylen))

    def _client_entry(self, keylen, kh=-1):
        """The arena entry of the client whose fingerprint is in self.key, or 0: any of its
        records holds it, and they are all in its probe run. kh: that key's hash, if known."""
        return duid6_entry(self.by_key, self.recs, self.duids.buf, self.key, keylen,
                           self._khash(self.key, 0, keylen) if kh < 0 else kh)

    def _holder(self, at, x, skip):
        """A record other than `skip` holding arena entry x, or -1. The entry's bytes are
        at `at` (x itself, or where compaction just moved them): they give its probe run."""
        b = self.duids.buf
        idx = self.by_key
        n = self.nslots
        i = self._khash(b, at + 1, b[at]) % n
        while True:
            v = (idx[2 * i] << 8) | idx[2 * i + 1]
            if v == _EMPTY:
                return -1
            if v - 1 != skip and self._xref(v - 1) == x:
                return v - 1
            i += 1
            if i == n:
                i = 0

    def moved(self, src, dst):
        """Duids.compact moved the entry at src to dst: its holders follow (a client has a
        record or two: the probe run is walked again for each)."""
        r = self._holder(dst, src, -1)
        while r >= 0:
            self._set_xref(r, dst)
            r = self._holder(dst, src, -1)

    def keylen(self, r):
        x = self._xref(r)
        return self.duids.buf[x] if x else 0

    def key_into(self, r, dst, off=0):
        """Write record r's DUID fingerprint (KEYMAX bytes, zero-padded) into dst[off:];
        returns the DUID's length (0: the record belongs to nobody)."""
        copy(dst, off, _ZEROS, 0, KEYMAX)
        x = self._xref(r)
        if not x:
            return 0
        b = self.duids.buf
        copy(dst, off, b, x + 1, _fplen(b[x]))
        return b[x]

    def key_is(self, r, keylen):
        """Is record r's client the fingerprint in self.key (of a key keylen long)? A record
        of nobody matches only a key of length 0."""
        x = self._xref(r)
        return self._entry_is(x, keylen) if x else keylen == 0

    def _clear_key(self, r):
        """Record r leaves its client (table.unkey, after taking it out of by_key): the
        client's entry goes with its last record."""
        x = self._xref(r)
        if x:
            self._set_xref(r, 0)
            if self._holder(x, x, r) < 0:
                self.duids.free(x)

    def can_take(self, a, off, plen):
        """Can take() give the current client a record for a[off:] now? Its DUID needs an
        arena entry unless one of its records holds one already, and the address's upper
        half a halves entry unless one holds it already; with the heap locked (a runner
        step) neither can grow, and the client is refused as if the table were full."""
        k = self.ckeylen
        d = self.duids
        need = 1 + (k if k < KEYMAX else KEYMAX)  # (_fplen and free_bytes in place: a new client's every IA)
        if k and len(d.buf) - d.top + d.dead < need and not self._client_entry(k) and not d.room(need):
            return False
        # and its address's upper half needs an entry (a free one: no call)
        return self.hused < len(self.halves) // HALF or self._half_room(a, off)

    def spare(self, entries):
        """Between steps (heap unlocked): arena room for `entries` new clients, and a free
        halves entry (a new /64 is rare)."""
        self.duids.spare(entries * (1 + KEYMAX))
        if self.hused == len(self.halves) // HALF:
            self._grow_halves()

    # -- IAs ------------------------------------------------------------------------------------

    def find_ia(self, keylen, kind, subnet, kh=-1):
        """Record of (self.key, self.iaid, IA type) in `subnet`, or -1: kind NA means the
        IA_TA when the IA being served is one (cta). kh: the key's hash, if known."""
        if self.cta and kind == NA:
            kind = TA
        return ia6_find(self.by_key, self.recs, self.duids.buf, self.key, keylen, self.iaid, subnet,
                        F_PD if kind == PD else F_TA if kind == TA else 0,  # (ia_kind, as a record has it)
                        self._khash(self.key, 0, keylen) if kh < 0 else kh)

    def find_mine(self, subnet, kind):
        return self.find_ia(self.ckeylen, kind, subnet, self.ckh)

    def is_mine(self, r):
        """Does record r belong to the current client (any of its IAs)?"""
        return self.key_is(r, self.ckeylen)

    # -- addresses and prefixes ---------------------------------------------------------------

    def _ahash(self, hx, a, off, plen):
        h = mix16((hx * 131 + plen) & 0xFFFF, a, off, 8)  # the same multiply-xor as _khash
        return h ^ (h >> 7)

    def find_addr(self, a, off, plen):
        # one kernel (packet6.addr6_find): _hx_of, _ahash and the probe
        return addr6_find(self.by_addr, self.recs, _LAY, self.halves, a, off, plen)

    def _home(self, r, by_key):
        o = r * REC
        recs = self.recs
        if by_key:
            x = self._xref(r)
            b = self.duids.buf
            return self._khash(b, x + 1, b[x])
        return self._ahash((recs[o + R_HX] << 8) | recs[o + R_HX + 1], recs, o + R_A8, recs[o + R_PLEN])

    # -- the halves table: upper halves of addresses, shared -----------------------------------

    def _hx(self, r):
        o = r * REC + R_HX
        return (self.recs[o] << 8) | self.recs[o + 1]

    def _hx_of(self, a, off):
        """How a record keeps address a[off:]: 0 (its upper half, the lower being zero), 1 +
        the halves entry holding its upper half, or -1 when no entry does."""
        return half6_of(self.halves, a, off)

    def _free_half(self):
        """An unused halves entry, or -1."""
        h = self.halves
        i = 0
        while i < len(h):
            if not (h[i + 8] or h[i + 9]):
                return i // HALF
            i += HALF
        return -1

    def _grow_halves(self):
        """A quarter more entries (at least 4). Allocates: raises MemoryError with the heap
        locked (a runner step)."""
        n = len(self.halves) // HALF
        nb = bytearray(HALF * (n + max(4, n // 4)))
        copy(nb, 0, self.halves, 0, len(self.halves))
        self.halves = nb

    def _half_room(self, a, off):
        """Can take() keep address a[off:] now (growing the halves table if allowed)?"""
        if self.hused < len(self.halves) // HALF or self._hx_of(a, off) >= 0:
            return True
        try:
            self._grow_halves()
        except MemoryError:  # the heap is locked: the client is refused as if the table were full
            return False
        return True

    def _use_half(self, a, off, hx):
        """hx for address a[off:] (hx: _hx_of's answer, not 0), counting one more record on
        its halves entry (made if need be; _half_room said there was room)."""
        h = self.halves
        if hx < 0:
            i = self._free_half()
            if i < 0:
                self._grow_halves()
                h = self.halves
                i = self._free_half()
            copy(h, i * HALF, a, off, 8)
            self.hused += 1
            hx = i + 1
        o = (hx - 1) * HALF + 8
        c = ((h[o] << 8) | h[o + 1]) + 1
        h[o] = c >> 8
        h[o + 1] = c & 255
        return hx

    def _unuse_half(self, hx):
        if hx:
            h = self.halves
            o = (hx - 1) * HALF + 8
            c = ((h[o] << 8) | h[o + 1]) - 1
            h[o] = c >> 8
            h[o + 1] = c & 255
            if not c:
                self.hused -= 1

    # -- records --------------------------------------------------------------------------------

    def take(self, r, subnet, kind, a, aoff, plen, pinned):
        """(Re)bind record r to the current client's IA (self.key, self.iaid, kind) and
        address/prefix a[aoff:]/plen. A journaled address the record leaves is dropped in
        the journal. The record shares its client's arena entry, or makes it (can_take said
        there was room; if not, the record belongs to nobody). The record is left released,
        expiry 0, in no reuse list: the caller sets its real state at once (offer, bind, or
        set when replaying), which links it at that list's tail."""
        keylen = self.ckeylen
        recs = self.recs
        o = r * REC
        hx = half6_of(self.halves, a, aoff)  # (_hx_of: a prefix's 0 costs no more calls)
        if hx:
            hx = self._use_half(a, aoff, hx)
        a8 = a
        a8o = aoff + 8 if hx else aoff
        if a is self.abuf:  # before anything moves: _moving may write r's old address there
            copy(self.a8, 0, a, a8o, 8)
            a8 = self.a8
            a8o = 0
        old = (recs[o + R_HX] << 8) | recs[o + R_HX + 1]  # 0 for a new record (zeroed)
        if recs[o + R_FLAGS] & (F_DURABLE | F_PINNED | F_LINKED | F_INDEXED):  # (_moving's own test: new, no call)
            Table._moving(self, r)  # its old client's entry goes if this was its last record
        if old:
            self._unuse_half(old)
        if pinned:
            self.npinned += 1
        if a is self.abuf:
            self.ar = -1  # _moving may have written r's old address over it
        else:  # r's address written out (as addr_off would) for _index's hook and the reply
            copy(self.abuf, 0, a, aoff, 16)
            self.ar = r
        x = 0
        kh = -1
        if keylen:  # (r is in no index now: the probe cannot meet it)
            kh = self.ckh  # (load_client made it): the entry's lookup and by_key
            x = duid6_entry(self.by_key, recs, self.duids.buf, self.key, keylen, kh) \
                or self.duids.put(keylen, self.key)  # (_client_entry, one call less)
        ah = rec6_fill(recs, o, subnet, plen, (F_PD if kind == PD else F_TA if self.cta else 0) |
                       (F_PINNED if pinned else 0), hx, a8, a8o, self.iaid, x)
        Table._index(self, r, x != 0, kh, ah)  # (by_addr's hash from rec6_fill: _home not called)
        # released, expiry 0, in no reuse list yet: the caller's verb (offer, bind; set when
        # replaying) links it at its list's tail, which is where Table.set here would have
        # linked it before that verb moved it (linking it here only to unlink it cost a call)
        recs[o + R_STATE] = RELEASED
        recs[o + R_EXPIRY] = recs[o + R_EXPIRY + 1] = recs[o + R_EXPIRY + 2] = recs[o + R_EXPIRY + 3] = 0

    def ia_kind(self, r):
        """Record r's IA type: NA, PD or TA."""
        f = self.recs[r * REC + R_FLAGS]
        return PD if f & F_PD else TA if f & F_TA else NA

    def plen(self, r):
        return self.recs[r * REC + R_PLEN]

    def flags(self, r):
        return self.recs[r * REC + R_FLAGS]

    def set_flag(self, r, flag, on):
        o = r * REC + R_FLAGS
        if on:
            self.recs[o] |= flag
        else:
            self.recs[o] &= ~flag & 255

    def seen(self, r, ifindex, relayed, reconf):
        """Where the client was last seen and whether it accepts Reconfigure."""
        o = r * REC
        f = self.recs[o + R_FLAGS] & ~(F_RELAYED | F_RECONF) & 255  # (set_flag twice, in one write)
        self.recs[o + R_FLAGS] = f | (F_RELAYED if relayed else 0) | (F_RECONF if reconf else 0)
        self.recs[o + R_IFX] = ifindex

    def ifindex(self, r):
        return self.recs[r * REC + R_IFX]

    def drop(self, r):
        hx = self._hx(r)
        Table.drop(self, r)  # journals and unindexes it: its half is read till then
        self._unuse_half(hx)
        self.ar = -1  # abuf may hold r's old address (_moving wrote it out)

    def addr_off(self, r):
        """Record r's address written out into self.abuf (read only): its offset there (0).
        The v4 table's abuf is its records: callers read (t.abuf, t.addr_off(r)) alike. The
        next call for another record overwrites it; take() and drop(), which change a
        record's address, make the next call write it again."""
        if r != self.ar:
            addr6_into(self.abuf, 0, self.recs, r * REC, self.halves)  # (addr_into, one call less)
            self.ar = r
        return 0

    def addr_into(self, r, dst, off):
        addr6_into(dst, off, self.recs, r * REC, self.halves)

    def same_client(self, r1, r2):
        """Do records r1 and r2 belong to one client? (One arena entry per client.)"""
        return self._xref(r1) == self._xref(r2)

    def fields(self, r):
        """(address or prefix, plen, kind, DUID bytes (a 16-byte prefix when longer than
        KEYMAX), DUID length, IAID, state, expiry, subnet index, flags) of record r, as new
        objects: for listings, never on the packet path."""
        o = r * REC
        recs = self.recs
        fp = bytearray(KEYMAX)
        klen = self.key_into(r, fp)
        duid = bytes(fp[:klen if klen <= KEYMAX else 16])
        iaid = (recs[o + R_IAID] << 24) | (recs[o + R_IAID + 1] << 16) | (recs[o + R_IAID + 2] << 8) | recs[o + R_IAID + 3]
        a = bytearray(16)
        self.addr_into(r, a, 0)
        return (bytes(a), recs[o + R_PLEN], self.ia_kind(r), duid, klen,
                iaid, recs[o], self.expiry(r), recs[o + 1], recs[o + R_FLAGS])

    # -- journal record codecs --------------------------------------------------------------

    def _stage_lease(self, r):
        # the address through abuf (addr_off): the reply's IA, written next, finds it there
        lease6_record(self.jrec, self.recs, r * REC, self.abuf, self.addr_off(r), self.duids.buf)
        self.journal.append(J_LEASE6, self.jrec, 0, D_REC)  # (_stage and dump: a journal is set)

    def _addr_head(self, r):
        j = self.jrec
        recs = self.recs
        o = r * REC
        f = recs[o + R_FLAGS]
        j[0] = PD if f & F_PD else TA if f & F_TA else NA  # ia_kind(r), in place
        j[1] = recs[o + R_PLEN]
        copy(j, 2, self.abuf, self.addr_off(r), 16)

    def _stage_state(self, r):
        state6_record(self.jrec, self.recs, r * REC, self.abuf, self.addr_off(r))  # (abuf: as _stage_lease)
        self.journal.append(J_STATE6, self.jrec, 0, 25)  # (_stage: a journal is set)

    def _stage_drop(self, r):
        self._addr_head(r)
        self._append(J_DROP6, self.jrec, 18)

    def apply(self, typ, buf, off, ln, subnets):
        """Replay one journal record. Returns the record touched, or -1."""
        if typ == J_LEASE6 and ln == D_REC:
            si = buf[off + D_SUBNET]
            kind = buf[off + D_KIND]
            if kind > TA or buf[off + D_PLEN] > 128 or not journaled(buf[off + D_STATE]):
                return -1  # not a record this table writes
            self.cta = kind == TA
            if self.cta:
                kind = NA
            if si >= len(subnets) or kind == NA and not subnets[si].contains(buf, off + D_ADDR):
                return -1  # the config changed: that subnet is gone
            r = self.find_addr(buf, off + D_ADDR, buf[off + D_PLEN])
            if r < 0:
                r = self.new()
                if r < 0:
                    return -1
            self.ckeylen = kl = buf[off + D_KEYLEN]
            copy(self.key, 0, buf, off + D_KEY, KEYMAX)  # the stored fingerprint, as it is,
            if kl < KEYMAX:  # and nothing past a short key (as set_lookup_key leaves it)
                copy(self.key, kl, _ZEROS, 0, KEYMAX - kl)
            self.ckh = self._khash(self.key, 0, kl)
            self.set_iaid(buf, off + D_IAID)
            self._one_per_client(r, si, kind)
            self.take(r, si, kind, buf, off + D_ADDR, buf[off + D_PLEN], False)
            self.recs[r * REC + R_IFX] = buf[off + D_IFX]
            self._apply_state(r, buf[off + D_STATE], buf, off + D_EXPIRY, buf[off + D_FLAGS])
        elif typ == J_STATE6 and (ln == 24 or ln == 25):
            r = self.find_addr(buf, off + 2, buf[off + 1])
            if r < 0 or not journaled(buf[off + 18]):
                return -1
            self._apply_state(r, buf[off + 18], buf, off + 19, buf[off + 23])
            if ln == 25:
                self.recs[r * REC + R_IFX] = buf[off + 24]
        elif typ == J_DROP6 and ln == 18:
            r = self.find_addr(buf, off + 2, buf[off + 1])
            if r >= 0:
                self.drop(r)
            return -1
        else:
            return -1
        self.recs[r * REC + R_FLAGS] |= F_DURABLE
        return r

    def _apply_state(self, r, state, buf, eoff, flags):
        o = r * REC + R_FLAGS
        self.recs[o] = (self.recs[o] & ~(F_RECONF | F_RELAYED) & 255) | (flags & (F_RECONF | F_RELAYED))
        self.set(r, state, (buf[eoff] << 24) | (buf[eoff + 1] << 16) | (buf[eoff + 2] << 8) | buf[eoff + 3])
