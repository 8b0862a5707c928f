# What the v4 and v6 lease tables share: fixed-width records in one preallocated bytearray,
# a stack of freed records, client-key fingerprints, and two open-addressing indexes (linear
# probing, backward-shift deletion, no tombstones) holding record number + 1 in 2 bytes.
# A subclass gives the record layout (offsets) and _home(r, by_key), the hash of a record.
# Every layout starts with state (byte 0) and subnet index (byte 1); expiry is a uint32.
from micropython import const

FREE = const(0)  # lease states shared by the v4 and v6 tables
RELEASED = const(3)
KEYMAX = const(20)  # client keys longer than this are kept as a 16-byte prefix + 4-byte sum
F_INDEXED = const(0x80)  # flags bit: the record is in the address index
_EMPTY = const(0)


class Table:
    def __init__(self, capacity, rec, o_keylen, o_flags, o_expiry, o_key):
        if capacity < 1 or capacity > 65000:
            raise ValueError("lease capacity must be 1..65000")
        self.cap = capacity
        self.rec = rec
        self.o_keylen = o_keylen
        self.o_flags = o_flags
        self.o_expiry = o_expiry
        self.o_key = o_key
        self.recs = bytearray(capacity * rec)
        self.used = 0  # records 0..used-1 have been handed out
        size = 8
        while size < 2 * capacity:
            size <<= 1
        self.mask = size - 1
        self.by_key = bytearray(2 * size)
        self.by_addr = bytearray(2 * size)
        self.key = bytearray(KEYMAX)  # scratch: the fingerprint of the key being looked up
        self.free = bytearray(2 * capacity)
        self.nfree = 0

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

    def key_is(self, r, keylen):
        """Is record r's client key the fingerprint in self.key (of a key keylen long)?"""
        recs = self.recs
        o = r * self.rec
        if recs[o + self.o_keylen] != keylen:
            return False
        o += self.o_key
        k = self.key
        i = 0
        while i < KEYMAX:
            if recs[o + i] != k[i]:
                return False
            i += 1
        return True

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
        o = r * self.rec + self.o_keylen
        if self.recs[o]:
            self._remove(self.by_key, self._home(r, True), r, True)
            self.recs[o] = 0

    def _unindex(self, r):
        """Take record r out of both indexes, before its key or address changes."""
        self.unkey(r)
        o = r * self.rec + self.o_flags
        if self.recs[o] & F_INDEXED:
            self._remove(self.by_addr, self._home(r, False), r, False)
            self.recs[o] &= ~F_INDEXED & 255

    def drop(self, r):
        """Forget record r entirely and make it reusable."""
        self._unindex(r)
        recs = self.recs
        o = r * self.rec
        i = 0
        while i < self.rec:
            recs[o + i] = 0
            i += 1
        f = self.free
        f[2 * self.nfree] = r >> 8
        f[2 * self.nfree + 1] = r & 255
        self.nfree += 1

    # -- state and expiry -----------------------------------------------------------------

    def state(self, r):
        return self.recs[r * self.rec]

    def subnet(self, r):
        return self.recs[r * self.rec + 1]

    def expiry(self, r):
        o = r * self.rec + self.o_expiry
        b = self.recs
        return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]

    def set(self, r, state, expiry):
        b = self.recs
        b[r * self.rec] = state
        o = r * self.rec + self.o_expiry
        b[o] = (expiry >> 24) & 255
        b[o + 1] = (expiry >> 16) & 255
        b[o + 2] = (expiry >> 8) & 255
        b[o + 3] = expiry & 255

    def active(self, r, now):
        """Does record r hold its address at `now` (bound, offered or declined, unexpired)?"""
        s = self.recs[r * self.rec]
        return s != FREE and s != RELEASED and self.expiry(r) > now

    def oldest_reusable(self, subnet, now):
        """The record (in `subnet`, or any when -1) whose address was given up longest ago,
        or -1."""
        best = -1
        best_exp = 0
        recs = self.recs
        r = 0
        while r < self.used:
            o = r * self.rec
            if (subnet < 0 or recs[o + 1] == subnet) and recs[o] != FREE and not self.active(r, now):
                e = self.expiry(r)
                if best < 0 or e < best_exp:
                    best = r
                    best_exp = e
            r += 1
        return best

    def held(self):
        """Records in use (any state but free): what a restart restored, for the log."""
        n = 0
        for r in range(self.used):
            if self.recs[r * self.rec] != FREE:
                n += 1
        return n

    def any_reusable(self, now):
        """Any record, in any subnet, that holds no address now (for a full table), or -1."""
        return self.oldest_reusable(-1, now)
