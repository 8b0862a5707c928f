# DHCPv4 lease table: fixed-width records in one preallocated bytearray, found through two
# open-addressing indexes (by client key and by address). No Python object per lease.
from micropython import const

REC = const(40)  # bytes per lease record
NAME = const(32)  # bytes per hostname slot: length byte + up to 31 characters
KEYMAX = const(20)  # client keys longer than this are stored as a 16-byte prefix + 4-byte sum

# record layout
R_STATE = const(0)
R_SUBNET = const(1)
R_KEYLEN = const(2)
R_FLAGS = const(3)  # bit 0: key is a client-id (option 61), else htype+chaddr; bit 7: indexed by address
F_CID = const(1)
F_INDEXED = const(0x80)
R_ADDR = const(4)
R_EXPIRY = const(8)  # uint32 seconds on the engine clock
R_HW = const(12)
R_KEY = const(18)

# lease states
FREE = const(0)
OFFERED = const(1)  # held for the client between OFFER and REQUEST; never journaled
BOUND = const(2)
RELEASED = const(3)
DECLINED = const(4)  # held back until expiry (decline probation)
STATE_NAMES = ("free", "offered", "bound", "released", "declined")

_EMPTY = const(0)


class Leases4:
    def __init__(self, capacity):
        self.cap = capacity
        self.recs = bytearray(capacity * REC)
        self.names = bytearray(capacity * NAME)
        self.used = 0  # records 0..used-1 have been handed out
        size = 8
        while size < 2 * capacity:
            size <<= 1
        self.mask = size - 1
        self.by_key = bytearray(2 * size)  # record number + 1, 0 = empty
        self.by_addr = bytearray(2 * size)
        self.key = bytearray(KEYMAX)  # scratch: the fingerprint of the key being looked up
        self.free = bytearray(2 * capacity)  # stack of dropped record numbers
        self.nfree = 0

    # -- client keys -------------------------------------------------------------------

    def set_lookup_key(self, src, off, ln):
        """Load the fingerprint of key src[off:off+ln] into self.key. Returns ln (capped 255)."""
        k = self.key
        if ln <= KEYMAX:
            i = 0
            while i < ln:
                k[i] = src[off + i]
                i += 1
            while i < KEYMAX:
                k[i] = 0
                i += 1
        else:
            i = 0
            while i < 16:
                k[i] = src[off + i]
                i += 1
            # Fletcher-16 pair over the whole key: the tail of long keys still counts
            a = b = c = d = 0
            i = 0
            while i < ln:
                a = (a + src[off + i]) % 255
                b = (b + a) % 255
                c = (c + (src[off + i] ^ 0x5A)) % 251
                d = (d + c) % 251
                i += 1
            k[16] = a
            k[17] = b
            k[18] = c
            k[19] = d
        return ln if ln < 256 else 255

    def _khash(self, b, o, keylen, flags):
        # multiply-xorshift over 16-bit state: every product stays below 2**30 (a small int
        # on 32-bit boards) and high bits fold back into the low bits the table mask keeps.
        # (A plain h*31+b made MACs that differ in two bytes collide by the hundred.)
        h = keylen * 7 + flags
        i = 0
        while i < KEYMAX:
            h = ((h ^ b[o + i]) * 0x2F1B) & 0x3FFFFFFF
            h = (h ^ (h >> 15)) & 0xFFFF
            i += 1
        return h

    def _key_matches(self, r, keylen, flags):
        recs = self.recs
        o = r * REC
        if recs[o + R_KEYLEN] != keylen or recs[o + R_FLAGS] & F_CID != flags:
            return False
        k = self.key
        i = 0
        while i < KEYMAX:
            if recs[o + R_KEY + i] != k[i]:
                return False
            i += 1
        return True

    def find_key(self, keylen, flags, subnet):
        """Record of the client whose fingerprint is in self.key, in `subnet`, or -1."""
        idx = self.by_key
        m = self.mask
        i = self._khash(self.key, 0, keylen, flags) & m
        while True:
            v = (idx[2 * i] << 8) | idx[2 * i + 1]
            if v == _EMPTY:
                return -1
            r = v - 1
            if self.recs[r * REC + R_SUBNET] == subnet and self._key_matches(r, keylen, flags):
                return r
            i = (i + 1) & m

    # -- addresses -----------------------------------------------------------------------

    def _ahash(self, a, off):
        h = 0
        i = 0
        while i < 4:
            h = ((h ^ a[off + i]) * 0x2F1B) & 0x3FFFFFFF
            h = (h ^ (h >> 15)) & 0xFFFF
            i += 1
        return h

    def find_addr(self, a, off):
        idx = self.by_addr
        m = self.mask
        recs = self.recs
        i = self._ahash(a, off) & m
        while True:
            v = (idx[2 * i] << 8) | idx[2 * i + 1]
            if v == _EMPTY:
                return -1
            o = (v - 1) * REC + R_ADDR
            if recs[o] == a[off] and recs[o + 1] == a[off + 1] and recs[o + 2] == a[off + 2] and recs[o + 3] == a[off + 3]:
                return v - 1
            i = (i + 1) & m

    # -- index maintenance (linear probing with backward-shift deletion, no tombstones) --

    def _insert(self, idx, h, r):
        m = self.mask
        i = h & m
        while (idx[2 * i] << 8) | idx[2 * i + 1]:
            i = (i + 1) & m
        idx[2 * i] = (r + 1) >> 8
        idx[2 * i + 1] = (r + 1) & 255

    def _remove(self, idx, h, r, by_key):
        m = self.mask
        i = h & m
        while True:
            v = (idx[2 * i] << 8) | idx[2 * i + 1]
            if v == _EMPTY:
                return
            if v == r + 1:
                break
            i = (i + 1) & m
        # shift later entries of the run back so lookups never meet a hole
        j = i
        while True:
            idx[2 * i] = 0
            idx[2 * i + 1] = 0
            while True:
                j = (j + 1) & m
                v = (idx[2 * j] << 8) | idx[2 * j + 1]
                if v == _EMPTY:
                    return
                home = self._home(v - 1, by_key) & m
                # entry at j may move to i unless its home lies cyclically in (i, j]
                if (j > i and (home <= i or home > j)) or (j < i and (home <= i and home > j)):
                    break
            idx[2 * i] = idx[2 * j]
            idx[2 * i + 1] = idx[2 * j + 1]
            i = j

    def _home(self, r, by_key):
        o = r * REC
        recs = self.recs
        if by_key:
            return self._khash(recs, o + R_KEY, recs[o + R_KEYLEN], recs[o + R_FLAGS] & F_CID)
        return self._ahash(recs, o + R_ADDR)

    # -- records -------------------------------------------------------------------------

    def new(self):
        """An unused record number, or -1 when the table is full."""
        if self.nfree:
            self.nfree -= 1
            f = self.free
            return (f[2 * self.nfree] << 8) | f[2 * self.nfree + 1]
        if self.used >= self.cap:
            return -1
        self.used += 1
        return self.used - 1

    def unkey(self, r):
        """Detach record r from its client (a declined address belongs to nobody)."""
        o = r * REC
        if self.recs[o + R_KEYLEN]:
            self._remove(self.by_key, self._home(r, True), r, True)
            self.recs[o + R_KEYLEN] = 0

    def drop(self, r):
        """Forget record r entirely and make it reusable."""
        self.unkey(r)
        o = r * REC
        recs = self.recs
        if recs[o + R_FLAGS] & F_INDEXED:
            self._remove(self.by_addr, self._home(r, False), r, False)
        i = 0
        while i < REC:
            recs[o + i] = 0
            i += 1
        f = self.free
        f[2 * self.nfree] = r >> 8
        f[2 * self.nfree + 1] = r & 255
        self.nfree += 1

    def assign(self, r, subnet, keylen, flags, a, aoff, hw, hwoff):
        """(Re)bind record r to the client in self.key and address a[aoff:]."""
        recs = self.recs
        o = r * REC
        self.unkey(r)
        if recs[o + R_FLAGS] & F_INDEXED:
            self._remove(self.by_addr, self._home(r, False), r, False)
        recs[o + R_SUBNET] = subnet
        recs[o + R_KEYLEN] = keylen
        recs[o + R_FLAGS] = (flags & F_CID) | F_INDEXED
        k = self.key
        i = 0
        while i < KEYMAX:
            recs[o + R_KEY + i] = k[i]
            i += 1
        i = 0
        while i < 4:
            recs[o + R_ADDR + i] = a[aoff + i]
            i += 1
        i = 0
        while i < 6:
            recs[o + R_HW + i] = hw[hwoff + i] if hw is not None else 0
            i += 1
        self.names[r * NAME] = 0
        self._insert(self.by_key, self._home(r, True), r)
        self._insert(self.by_addr, self._home(r, False), r)

    def state(self, r):
        return self.recs[r * REC + R_STATE]

    def subnet(self, r):
        return self.recs[r * REC + R_SUBNET]

    def expiry(self, r):
        o = r * REC + R_EXPIRY
        b = self.recs
        return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]

    def set(self, r, state, expiry):
        b = self.recs
        o = r * REC
        b[o + R_STATE] = state
        b[o + R_EXPIRY] = (expiry >> 24) & 255
        b[o + R_EXPIRY + 1] = (expiry >> 16) & 255
        b[o + R_EXPIRY + 2] = (expiry >> 8) & 255
        b[o + R_EXPIRY + 3] = expiry & 255

    def addr_into(self, r, dst, off):
        b = self.recs
        o = r * REC + R_ADDR
        dst[off] = b[o]
        dst[off + 1] = b[o + 1]
        dst[off + 2] = b[o + 2]
        dst[off + 3] = b[o + 3]

    def set_name(self, r, src, off, ln):
        if ln > NAME - 1:
            ln = NAME - 1
        n = self.names
        o = r * NAME
        n[o] = ln
        i = 0
        while i < ln:
            n[o + 1 + i] = src[off + i]
            i += 1

    def active(self, r, now):
        """Does record r hold its address at `now` (bound, offered or declined, unexpired)?"""
        s = self.recs[r * REC + R_STATE]
        return s != FREE and s != RELEASED and self.expiry(r) > now

    def oldest_reusable(self, subnet, now):
        """The record in `subnet` whose address was given up longest ago, or -1."""
        best = -1
        best_exp = 0
        recs = self.recs
        r = 0
        while r < self.used:
            o = r * REC
            if recs[o + R_SUBNET] == subnet and recs[o + R_STATE] != FREE and not self.active(r, now):
                e = self.expiry(r)
                if best < 0 or e < best_exp:
                    best = r
                    best_exp = e
            r += 1
        return best

    def any_reusable(self, now):
        """Any record, in any subnet, that holds no address now (for a full table), or -1."""
        best = -1
        best_exp = 0
        r = 0
        while r < self.used:
            if self.recs[r * REC + R_STATE] != FREE and not self.active(r, now):
                e = self.expiry(r)
                if best < 0 or e < best_exp:
                    best = r
                    best_exp = e
            r += 1
        return best
