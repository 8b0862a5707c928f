# DHCPv6 lease table: one fixed-width record per (client DUID, IAID, IA type) binding, for
# IA_NA addresses and IA_PD delegated prefixes alike, in one preallocated bytearray, found
# through two open-addressing indexes (by client+IA, and by address/prefix). Heap per lease:
# REC + 2 * 2 * (index slots per record, 2..4) + 2 (free stack): 64 bytes measured by bench.
from micropython import const
from .table import Table, KEYMAX

REC = const(52)  # bytes per lease record

# record layout
R_STATE = const(0)
R_SUBNET = const(1)
R_KIND = const(2)  # NA or PD
R_PLEN = const(3)  # 128 for addresses, the delegated length for prefixes
R_KEYLEN = const(4)  # DUID length (0: the record belongs to nobody, e.g. declined)
R_FLAGS = const(5)
R_IFX = const(6)  # the adapter's socket index the client was last seen on
R_ADDR = const(8)  # address or prefix, 16 bytes
R_IAID = const(24)
R_EXPIRY = const(28)  # uint32 seconds on the engine clock (valid lifetime end)
R_KEY = const(32)

F_RECONF = const(1)  # the client sent Reconfigure Accept (RFC 8415 21.20)
F_RELAYED = const(2)  # last seen through a relay
F_INDEXED = const(0x80)  # present in the address index

NA = const(0)
PD = const(1)
KIND_NAMES = ("IA_NA", "IA_PD")

# lease states (same numbers as the v4 table)
FREE = const(0)
OFFERED = const(1)  # held for the client between Advertise and Request; never journaled
BOUND = const(2)
RELEASED = const(3)
DECLINED = const(4)
STATE_NAMES = ("free", "advertised", "bound", "released", "declined")

_EMPTY = const(0)


class Leases6(Table):
    def __init__(self, capacity):
        Table.__init__(self, capacity, REC, R_KEYLEN, R_FLAGS, R_EXPIRY, R_KEY)
        self.iaid = bytearray(4)  # scratch: the IAID being looked up

    # -- lookup keys ----------------------------------------------------------------------

    def set_iaid(self, src, off):
        i = self.iaid
        i[0] = src[off]
        i[1] = src[off + 1]
        i[2] = src[off + 2]
        i[3] = src[off + 3]

    def _khash(self, b, o, keylen, ia, io, kind):
        # multiply-xor over 16 bits (products < 2**28: small ints on 32-bit boards); DUIDs of
        # one vendor differ in a byte or two, so every byte must reach every bit
        h = keylen * 7 + kind
        i = 0
        while i < KEYMAX:
            h = ((h ^ b[o + i]) * 2533) & 0xFFFF
            i += 1
        i = 0
        while i < 4:
            h = ((h ^ ia[io + i]) * 2533) & 0xFFFF
            i += 1
        return h ^ (h >> 7)

    def client_matches(self, r, keylen):
        """Does record r belong to the DUID in self.key (any IA)?"""
        return self.key_is(r, keylen)

    def _ia_matches(self, r, keylen, kind):
        o = r * REC
        recs = self.recs
        ia = self.iaid
        if recs[o + R_KIND] != kind:
            return False
        if recs[o + R_IAID] != ia[0] or recs[o + R_IAID + 1] != ia[1] or recs[o + R_IAID + 2] != ia[2] \
                or recs[o + R_IAID + 3] != ia[3]:
            return False
        return self.client_matches(r, keylen)

    def find_ia(self, keylen, kind, subnet):
        """Record of (self.key, self.iaid, kind) in `subnet`, or -1."""
        idx = self.by_key
        m = self.mask
        i = self._khash(self.key, 0, keylen, self.iaid, 0, kind) & m
        while True:
            v = (idx[2 * i] << 8) | idx[2 * i + 1]
            if v == _EMPTY:
                return -1
            r = v - 1
            if self.recs[r * REC + R_SUBNET] == subnet and self._ia_matches(r, keylen, kind):
                return r
            i = (i + 1) & m

    # -- addresses and prefixes ---------------------------------------------------------------

    def _ahash(self, a, off, plen):
        h = plen
        i = 0
        while i < 16:  # the same multiply-xor as _khash
            h = ((h ^ a[off + i]) * 2533) & 0xFFFF
            i += 1
        return h ^ (h >> 7)

    def find_addr(self, a, off, plen):
        idx = self.by_addr
        m = self.mask
        recs = self.recs
        i = self._ahash(a, off, plen) & m
        while True:
            v = (idx[2 * i] << 8) | idx[2 * i + 1]
            if v == _EMPTY:
                return -1
            o = (v - 1) * REC
            if recs[o + R_PLEN] == plen:
                j = 0
                while j < 16 and recs[o + R_ADDR + j] == a[off + j]:
                    j += 1
                if j == 16:
                    return v - 1
            i = (i + 1) & m

    # -- index hashing (the index itself is table.Table's) ----------------------------------

    def _home(self, r, by_key):
        o = r * REC
        recs = self.recs
        if by_key:
            return self._khash(recs, o + R_KEY, recs[o + R_KEYLEN], recs, o + R_IAID, recs[o + R_KIND])
        return self._ahash(recs, o + R_ADDR, recs[o + R_PLEN])

    # -- records --------------------------------------------------------------------------------

    def assign(self, r, subnet, keylen, kind, a, aoff, plen):
        """(Re)bind record r to (self.key, self.iaid, kind) and address/prefix a[aoff:]/plen."""
        recs = self.recs
        o = r * REC
        self._unindex(r)
        recs[o + R_SUBNET] = subnet
        recs[o + R_KIND] = kind
        recs[o + R_PLEN] = plen
        recs[o + R_KEYLEN] = keylen
        recs[o + R_FLAGS] = F_INDEXED
        k = self.key
        i = 0
        while i < KEYMAX:
            recs[o + R_KEY + i] = k[i]
            i += 1
        i = 0
        while i < 16:
            recs[o + R_ADDR + i] = a[aoff + i]
            i += 1
        ia = self.iaid
        i = 0
        while i < 4:
            recs[o + R_IAID + i] = ia[i]
            i += 1
        if keylen:
            self._insert(self.by_key, self._home(r, True), r)
        self._insert(self.by_addr, self._home(r, False), r)

    def kind(self, r):
        return self.recs[r * REC + R_KIND]

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

    def addr_into(self, r, dst, off):
        b = self.recs
        o = r * REC + R_ADDR
        i = 0
        while i < 16:
            dst[off + i] = b[o + i]
            i += 1
