# DHCPv6 lease table: one fixed-width record per (client DUID, IAID, IA type) binding, for
# IA_NA addresses and IA_PD delegated prefixes alike, in one preallocated bytearray, found
# through two open-addressing indexes (by client+IA, and by address/prefix), with the lease
# lifecycle of table.py. Also the codecs of its journal records: on disk a record keeps the
# layout older journals have (kind at byte 2, socket index at byte 6), so replay works
# across versions. Heap per lease: REC + 2 (reuse list) + 2 * 2 * 1.5 (index slots).
from micropython import const
from .table import Table, KEYMAX, F_INDEXED, F_DURABLE, F_PINNED
from .table import FREE, OFFERED, BOUND, RELEASED, DECLINED, journaled  # noqa: F401  (API)
from ..wire.buf import copy, eq, mix16

REC = const(52)  # bytes per lease record

# record layout (in RAM)
R_STATE = const(0)
R_SUBNET = const(1)
R_IFX = const(2)  # the adapter's socket index the client was last seen on
R_PLEN = const(3)  # 128 for addresses, the delegated length for prefixes
R_KEYLEN = const(4)  # DUID length (0: the record belongs to nobody, e.g. declined)
R_FLAGS = const(5)
R_LINK = const(6)  # reuse-list link (table.py), 2 bytes
R_ADDR = const(8)  # address or prefix, 16 bytes
R_IAID = const(24)
R_EXPIRY = const(28)  # uint32 seconds on the engine clock (valid lifetime end)
R_KEY = const(32)

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
J_LEASE6 = const(33)  # the 52-byte record in its disk layout (below)
J_STATE6 = const(34)  # kind, plen, address(16), state, expiry(4), flags, socket index: renewals,
# releases (older journals: 24 bytes, without the socket index)
J_DROP6 = const(35)  # kind, plen, address(16): the record holding it is gone
_D_KIND = const(2)  # disk layout: what differs from the RAM layout
_D_IFX = const(6)

_EMPTY = const(0)


class Leases6(Table):
    def __init__(self, capacity, nsub=1, journal=None):
        Table.__init__(self, capacity, nsub, REC, R_KEYLEN, R_FLAGS, R_EXPIRY, R_KEY, R_LINK, journal)
        self.iaid = bytearray(4)  # scratch: the IAID being looked up
        self.ckeylen = 0  # the client being served (its DUID fingerprint is in self.key)
        self.cta = False  # and the IA being served is an IA_TA (its address space is NA's)
        self.jrec = bytearray(REC)

    # -- lookup keys ----------------------------------------------------------------------

    def set_iaid(self, src, off):
        copy(self.iaid, 0, src, off, 4)

    def load_client(self, src, off, ln):
        """The client being served: DUID src[off:off+ln]. The IAID comes with set_iaid."""
        self.ckeylen = self.set_lookup_key(src, off, ln)

    def _khash(self, b, o, keylen, ia, io, kind):
        # multiply-xor over 16 bits (buf.mix16); DUIDs of one vendor differ in a byte or two,
        # so every byte must reach every bit
        h = mix16(mix16(keylen * 7 + kind, b, o, KEYMAX), ia, io, 4)
        return h ^ (h >> 7)

    def _ia_matches(self, r, keylen, kind):
        o = r * REC
        return self.ia_kind(r) == kind and eq(self.recs, o + R_IAID, self.iaid, 0, 4) and self.key_is(r, keylen)

    def find_ia(self, keylen, kind, subnet):
        """Record of (self.key, self.iaid, IA type) in `subnet`, or -1: kind NA means the
        IA_TA when the IA being served is one (cta)."""
        if self.cta and kind == NA:
            kind = TA
        idx = self.by_key
        n = self.nslots
        i = self._khash(self.key, 0, keylen, self.iaid, 0, kind) % n
        while True:
            v = (idx[2 * i] << 8) | idx[2 * i + 1]
            if v == _EMPTY:
                return -1
            r = v - 1
            if self.recs[r * REC + R_SUBNET] == subnet and self._ia_matches(r, keylen, kind):
                return r
            i += 1
            if i == n:
                i = 0

    def find_mine(self, subnet, kind):
        return self.find_ia(self.ckeylen, kind, subnet)

    def is_mine(self, r):
        """Does record r belong to the current client (any of its IAs)?"""
        return self.key_is(r, self.ckeylen)

    # -- addresses and prefixes ---------------------------------------------------------------

    def _ahash(self, a, off, plen):
        h = mix16(plen, a, off, 16)  # the same multiply-xor as _khash
        return h ^ (h >> 7)

    def find_addr(self, a, off, plen):
        idx = self.by_addr
        n = self.nslots
        recs = self.recs
        i = self._ahash(a, off, plen) % n
        while True:
            v = (idx[2 * i] << 8) | idx[2 * i + 1]
            if v == _EMPTY:
                return -1
            o = (v - 1) * REC
            if recs[o + R_PLEN] == plen and eq(recs, o + R_ADDR, a, off, 16):
                return v - 1
            i += 1
            if i == n:
                i = 0

    def _home(self, r, by_key):
        o = r * REC
        recs = self.recs
        if by_key:
            return self._khash(recs, o + R_KEY, recs[o + R_KEYLEN], recs, o + R_IAID, self.ia_kind(r))
        return self._ahash(recs, o + R_ADDR, recs[o + R_PLEN])

    # -- records --------------------------------------------------------------------------------

    def take(self, r, subnet, kind, a, aoff, plen, pinned):
        """(Re)bind record r to the current client's IA (self.key, self.iaid, kind) and
        address/prefix a[aoff:]/plen. A journaled address the record leaves is dropped in
        the journal."""
        keylen = self.ckeylen
        recs = self.recs
        o = r * REC
        self._moving(r)
        recs[o + R_SUBNET] = subnet
        recs[o + R_PLEN] = plen
        recs[o + R_KEYLEN] = keylen
        recs[o + R_FLAGS] = (F_PD if kind == PD else F_TA if self.cta else 0) | (F_PINNED if pinned else 0)
        if pinned:
            self.npinned += 1
        copy(recs, o + R_KEY, self.key, 0, KEYMAX)
        copy(recs, o + R_ADDR, a, aoff, 16)
        copy(recs, o + R_IAID, self.iaid, 0, 4)
        self._index(r, keylen != 0)
        self._link(r)

    def kind(self, r):
        """Record r's address space: PD for a prefix, else NA (IA_TA addresses too)."""
        return PD if self.recs[r * REC + R_FLAGS] & F_PD else NA

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
        self.recs[r * REC + R_IFX] = ifindex
        self.set_flag(r, F_RELAYED, relayed)
        self.set_flag(r, F_RECONF, reconf)

    def ifindex(self, r):
        return self.recs[r * REC + R_IFX]

    def addr_off(self, r):
        return r * REC + R_ADDR

    def addr_into(self, r, dst, off):
        copy(dst, off, self.recs, r * REC + R_ADDR, 16)

    def same_client(self, r1, r2):
        recs = self.recs
        o1 = r1 * REC
        o2 = r2 * REC
        return recs[o1 + R_KEYLEN] == recs[o2 + R_KEYLEN] and eq(recs, o1 + R_KEY, recs, o2 + R_KEY, KEYMAX)

    def fields(self, r):
        """(address or prefix, plen, kind, DUID bytes (a 16-byte prefix when longer than
        KEYMAX), DUID length, IAID, state, expiry, subnet index, flags) of record r, as new
        objects: for listings, never on the packet path."""
        o = r * REC
        recs = self.recs
        klen = recs[o + R_KEYLEN]
        duid = bytes(recs[o + R_KEY:o + R_KEY + (klen if klen <= KEYMAX else 16)])
        iaid = (recs[o + R_IAID] << 24) | (recs[o + R_IAID + 1] << 16) | (recs[o + R_IAID + 2] << 8) | recs[o + R_IAID + 3]
        return (bytes(recs[o + R_ADDR:o + R_ADDR + 16]), recs[o + R_PLEN], self.ia_kind(r), duid, klen,
                iaid, recs[o], self.expiry(r), recs[o + 1], recs[o + R_FLAGS])

    # -- journal record codecs --------------------------------------------------------------

    def _stage_lease(self, r):
        j = self.jrec
        o = r * REC
        copy(j, 0, self.recs, o, REC)
        fl = self.recs[o + R_FLAGS]
        j[_D_KIND] = self.ia_kind(r)
        j[R_PLEN] = self.recs[o + R_PLEN]
        j[R_FLAGS] = (fl & (F_RECONF | F_RELAYED)) | F_INDEXED  # the bits older journals carry
        j[_D_IFX] = self.recs[o + R_IFX]
        j[7] = 0
        self._append(J_LEASE6, j, REC)

    def _addr_head(self, r):
        j = self.jrec
        o = r * REC
        j[0] = self.ia_kind(r)
        j[1] = self.recs[o + R_PLEN]
        copy(j, 2, self.recs, o + R_ADDR, 16)

    def _stage_state(self, r):
        self._addr_head(r)
        j = self.jrec
        o = r * REC
        j[18] = self.recs[o + R_STATE]
        copy(j, 19, self.recs, o + R_EXPIRY, 4)
        j[23] = (self.recs[o + R_FLAGS] & (F_RECONF | F_RELAYED)) | F_INDEXED
        j[24] = self.recs[o + R_IFX]  # where a Reconfigure must go after a restart
        self._append(J_STATE6, j, 25)

    def _stage_drop(self, r):
        self._addr_head(r)
        self._append(J_DROP6, self.jrec, 18)

    def apply(self, typ, buf, off, ln, subnets):
        """Replay one journal record. Returns the record touched, or -1."""
        if typ == J_LEASE6 and ln == REC:
            si = buf[off + R_SUBNET]
            kind = buf[off + _D_KIND]
            if kind > TA or buf[off + R_PLEN] > 128 or not journaled(buf[off + R_STATE]):
                return -1  # not a record this table writes
            self.cta = kind == TA
            if self.cta:
                kind = NA
            if si >= len(subnets) or kind == NA and not subnets[si].contains(buf, off + R_ADDR):
                return -1  # the config changed: that subnet is gone
            r = self.find_addr(buf, off + R_ADDR, buf[off + R_PLEN])
            if r < 0:
                r = self.new()
                if r < 0:
                    return -1
            copy(self.key, 0, buf, off + R_KEY, KEYMAX)  # the stored fingerprint, as it is
            self.ckeylen = buf[off + R_KEYLEN]
            self.set_iaid(buf, off + R_IAID)
            self._one_per_client(r, si, kind)
            self.take(r, si, kind, buf, off + R_ADDR, buf[off + R_PLEN], False)
            self.recs[r * REC + R_IFX] = buf[off + _D_IFX]
            self._apply_state(r, buf[off + R_STATE], buf, off + R_EXPIRY, buf[off + R_FLAGS])
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
