# DHCPv4 lease table: fixed-width records in one preallocated bytearray, found through two
# open-addressing indexes (by client key and by address), with the lease lifecycle of
# table.py. No object per lease. Also the codecs of its journal records (the same bytes on
# disk as before: replay of an older journal works).
from micropython import const
from .table import Table, KEYMAX, F_INDEXED, F_DURABLE, F_PINNED
from .table import FREE, OFFERED, BOUND, RELEASED, DECLINED, journaled  # noqa: F401  (API)
from ..wire.buf import copy, eq, mix30

REC = const(40)  # bytes per lease record
NAME = const(32)  # bytes per hostname slot: length byte + up to 31 characters

# record layout
R_STATE = const(0)
R_SUBNET = const(1)
R_KEYLEN = const(2)
R_FLAGS = const(3)  # bit 0: key is a client-id (option 61), else htype+chaddr; high bits: table.py
F_CID = const(1)
R_ADDR = const(4)
R_EXPIRY = const(8)  # uint32 seconds on the engine clock
R_HW = const(12)
R_KEY = const(18)
R_LINK = const(38)  # reuse-list link (table.py); zero in the journal

STATE_NAMES = ("free", "offered", "bound", "released", "declined")

# journal records (the payload; the journal adds marker, type, length and CRC)
J_LEASE4 = const(1)  # the 40-byte record, then hostname length + bytes
J_STATE4 = const(2)  # address(4), state(1), expiry(4): renewals, releases
J_DROP4 = const(3)  # address(4): the record holding it is gone (moved, dropped)

_EMPTY = const(0)


class Leases4(Table):
    def __init__(self, capacity, nsub=1, journal=None):
        Table.__init__(self, capacity, nsub, REC, R_KEYLEN, R_FLAGS, R_EXPIRY, R_KEY, R_LINK, journal)
        self.names = bytearray(capacity * NAME)
        self.jrec = bytearray(REC + NAME)  # one journal record being built
        self.ckeylen = 0  # the client being served: key length, flags (F_CID), chaddr
        self.cflags = 0
        self.chw = bytearray(6)

    # -- client keys -------------------------------------------------------------------

    def _khash(self, b, o, keylen, flags):
        # multiply-xorshift over 16-bit state (buf.mix30): every product stays below 2**30 (a
        # small int on 32-bit boards) and high bits fold back into the low bits the table mask
        # keeps. (A plain h*31+b made MACs that differ in two bytes collide by the hundred.)
        return mix30(keylen * 7 + flags, b, o, KEYMAX)

    def key_matches(self, r, keylen, flags):
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
            if self.recs[r * REC + R_SUBNET] == subnet and self.key_matches(r, keylen, flags):
                return r
            i = (i + 1) & m

    def load_client(self, src, off, ln, flags, hw, hwoff):
        """The client being served: its key src[off:off+ln] (client-id, or htype + chaddr)
        and its chaddr. The allocator's find_mine/take act for it."""
        self.ckeylen = self.set_lookup_key(src, off, ln)
        self.cflags = flags
        copy(self.chw, 0, hw, hwoff, 6)

    def find_mine(self, subnet, kind):
        return self.find_key(self.ckeylen, self.cflags, subnet)

    def is_mine(self, r):
        return self.key_matches(r, self.ckeylen, self.cflags)

    # -- addresses -----------------------------------------------------------------------

    def _ahash(self, a, off):
        return mix30(0, a, off, 4)

    def find_addr(self, a, off, plen=32):
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

    def addr_off(self, r):
        return r * REC + R_ADDR

    def plen(self, r):
        return 32

    def _home(self, r, by_key):
        o = r * REC
        recs = self.recs
        if by_key:
            return self._khash(recs, o + R_KEY, recs[o + R_KEYLEN], recs[o + R_FLAGS] & F_CID)
        return self._ahash(recs, o + R_ADDR)

    # -- records -------------------------------------------------------------------------

    def take(self, r, subnet, kind, a, off, plen, pinned):
        """(Re)bind record r to the current client (load_client) and address a[off:]. A
        journaled address the record leaves is dropped in the journal."""
        recs = self.recs
        o = r * REC
        self._moving(r)
        recs[o + R_SUBNET] = subnet
        recs[o + R_KEYLEN] = self.ckeylen
        recs[o + R_FLAGS] = self.cflags | (F_PINNED if pinned else 0)
        if pinned:
            self.npinned += 1
        copy(recs, o + R_KEY, self.key, 0, KEYMAX)
        copy(recs, o + R_ADDR, a, off, 4)
        copy(recs, o + R_HW, self.chw, 0, 6)
        self.names[r * NAME] = 0
        self._index(r, self.ckeylen != 0)
        self._link(r)

    def refresh(self, r, pinned):
        """The current client keeps record r (same key, same address): bring its hardware
        address and its pinned flag up to date. A changed hardware address of a journaled
        lease is journaled whole at once (a DISCOVER need not be followed by a REQUEST), and
        pinning goes through pin() (a pinned record is in no reuse list)."""
        recs = self.recs
        o = r * REC
        if not eq(recs, o + R_HW, self.chw, 0, 6):
            copy(recs, o + R_HW, self.chw, 0, 6)
            self.changed(r)
            if journaled(recs[o + R_STATE]):
                self._stage(r)
        self.pin(r, pinned)

    def addr_into(self, r, dst, off):
        copy(dst, off, self.recs, r * REC + R_ADDR, 4)

    def set_name(self, r, src, off, ln):
        """Hostname (option 12), cut to the slot on a UTF-8 character boundary."""
        if ln > NAME - 1:
            ln = NAME - 1
            while ln and src[off + ln] & 0xC0 == 0x80:
                ln -= 1  # never end inside a multi-byte character
        n = self.names
        o = r * NAME
        n[o] = ln
        copy(n, o + 1, src, off, ln)

    def fields(self, r):
        """(address, hw, client-id or b"", hostname bytes, state, expiry, subnet index) of
        record r, as new objects: for listings, never on the packet path."""
        o = r * REC
        recs = self.recs
        klen = recs[o + R_KEYLEN]
        cid = b""
        if recs[o + R_FLAGS] & F_CID and klen <= KEYMAX:
            cid = bytes(recs[o + R_KEY:o + R_KEY + klen])
        n = r * NAME
        return (bytes(recs[o + R_ADDR:o + R_ADDR + 4]), bytes(recs[o + R_HW:o + R_HW + 6]), cid,
                bytes(self.names[n + 1:n + 1 + self.names[n]]), recs[o], self.expiry(r), recs[o + 1])

    # -- journal record codecs ------------------------------------------------------------

    def _stage_lease(self, r):
        j = self.jrec
        copy(j, 0, self.recs, r * REC, REC)
        j[R_FLAGS] = (j[R_FLAGS] & F_CID) | F_INDEXED  # the bits older journals carry
        j[R_LINK] = j[R_LINK + 1] = 0
        ln = self.names[r * NAME]
        copy(j, REC, self.names, r * NAME, ln + 1)
        self._append(J_LEASE4, j, REC + 1 + ln)

    def _stage_state(self, r):
        j = self.jrec
        o = r * REC
        copy(j, 0, self.recs, o + R_ADDR, 4)
        j[4] = self.recs[o + R_STATE]
        copy(j, 5, self.recs, o + R_EXPIRY, 4)
        self._append(J_STATE4, j, 9)

    def _stage_drop(self, r):
        copy(self.jrec, 0, self.recs, r * REC + R_ADDR, 4)
        self._append(J_DROP4, self.jrec, 4)

    def apply(self, typ, buf, off, ln, subnets):
        """Replay one journal record (restore, export-kea). A lease whose subnet is gone or
        no longer holds its address (the config changed) is skipped. Returns the record
        touched, or -1."""
        if typ == J_LEASE4 and ln >= REC + 1:
            si = buf[off + R_SUBNET]
            if si >= len(subnets) or not subnets[si].contains(buf, off + R_ADDR) \
                    or not journaled(buf[off + R_STATE]):
                return -1
            r = self.find_addr(buf, off + R_ADDR)
            if r < 0:
                r = self.new()
                if r < 0:
                    return -1
            copy(self.key, 0, buf, off + R_KEY, KEYMAX)  # the stored fingerprint, as it is
            self.ckeylen = buf[off + R_KEYLEN]
            self.cflags = buf[off + R_FLAGS] & F_CID
            copy(self.chw, 0, buf, off + R_HW, 6)
            self._one_per_client(r, si, 0)
            self.take(r, si, 0, buf, off + R_ADDR, 32, False)
            self.set(r, buf[off + R_STATE], _u32(buf, off + R_EXPIRY))
            self.set_name(r, buf, off + REC + 1, min(buf[off + REC], ln - REC - 1))
        elif typ == J_STATE4 and ln == 9:
            r = self.find_addr(buf, off)
            if r < 0 or not journaled(buf[off + 4]):
                return -1
            self.set(r, buf[off + 4], _u32(buf, off + 5))
        elif typ == J_DROP4 and ln == 4:
            r = self.find_addr(buf, off)
            if r >= 0:
                self.drop(r)
            return -1
        else:
            return -1
        self.recs[r * REC + R_FLAGS] |= F_DURABLE
        return r


def _u32(b, o):
    return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]
