# DHCPv4 lease table: fixed-width records in one preallocated bytearray, found through two
# open-addressing indexes (by client key and by address; see table.py). No object per lease.
from micropython import const
from .table import Table, KEYMAX, F_INDEXED

REC = const(40)  # bytes per lease record
NAME = const(32)  # bytes per hostname slot: length byte + up to 31 characters

# record layout
R_STATE = const(0)
R_SUBNET = const(1)
R_KEYLEN = const(2)
R_FLAGS = const(3)  # bit 0: key is a client-id (option 61), else htype+chaddr; bit 7: indexed by address
F_CID = const(1)
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


class Leases4(Table):
    def __init__(self, capacity):
        Table.__init__(self, capacity, REC, R_KEYLEN, R_FLAGS, R_EXPIRY, R_KEY)
        self.names = bytearray(capacity * NAME)

    # -- client keys -------------------------------------------------------------------

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
        return self.recs[r * REC + R_FLAGS] & F_CID == flags and self.key_is(r, keylen)

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

    # -- index hashing (the index itself is table.Table's) ---------------------------------

    def _home(self, r, by_key):
        o = r * REC
        recs = self.recs
        if by_key:
            return self._khash(recs, o + R_KEY, recs[o + R_KEYLEN], recs[o + R_FLAGS] & F_CID)
        return self._ahash(recs, o + R_ADDR)

    # -- records -------------------------------------------------------------------------

    def assign(self, r, subnet, keylen, flags, a, aoff, hw, hwoff):
        """(Re)bind record r to the client in self.key and address a[aoff:]."""
        recs = self.recs
        o = r * REC
        self._unindex(r)
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
