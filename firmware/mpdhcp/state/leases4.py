# DHCPv4 lease table: fixed-width records in one preallocated bytearray, found through two
# open-addressing indexes (by client key and by address), with the lease lifecycle of
# table.py. No object per lease. Heap per lease: the 22-byte record, 2 (reuse list),
# 2 * 2 * 1.5 (index slots), and what the arena holds for it:
# - the client key is not stored when it is the hardware address: htype 1 + chaddr, or the
#   client-id 01 + chaddr (RFC 2132 9.14's usual form), flag F_KEYHW; any other key's
#   fingerprint (table.py, up to KEYMAX bytes) goes to the arena with its length (F_KEYX);
# - the hostname (up to NAME_MAX bytes) stays in the journal record that holds the lease
#   (the record refers to it: X_JOURNAL | offset, read back for listings and rewrites); it is
#   in the arena only from set_name until that record is staged, for good when the arena
#   entry holds the key too (F_KEYX), and where the table has no journal of its own.
# Arena entry data: [key length][fingerprint length][fingerprint (F_KEYX)][hostname].
# The journal keeps its 40-byte record (the fingerprint written out whole), so journals of
# every version replay.
from micropython import const
from .table import Table, KEYMAX, F_INDEXED, F_DURABLE, F_PINNED
from .table import FREE, OFFERED, BOUND, RELEASED, DECLINED, journaled  # noqa: F401  (API)
from .arena import Arena, HEAD
from ..wire.buf import copy, eq, mix30, is_zero

REC = const(22)  # bytes per lease record
NAME_MAX = const(31)  # hostname bytes kept (cut on a UTF-8 character boundary)
ARENA_PER_LEASE = const(1)  # the arena's first size per record; it grows between steps (keys
# other than 01 + chaddr and not-yet-journaled hostnames: most clients need none)

# record layout
R_STATE = const(0)
R_SUBNET = const(1)
R_FLAGS = const(2)  # bits below; high bits: table.py
F_CID = const(1)  # the key is a client-id (option 61), else htype + chaddr
F_KEYHW = const(2)  # the key is 01 + the hardware address: not stored
F_KEYX = const(4)  # the key's fingerprint is in the arena entry
R_ADDR = const(3)
R_EXPIRY = const(7)  # uint32 seconds on the engine clock
R_HW = const(11)
R_LINK = const(17)  # reuse-list link (table.py); zero in the journal
R_XREF = const(19)  # 3 bytes: offset of the record's arena entry (0: none), or X_JOURNAL |
X_JOURNAL = const(0x800000)  # the journal offset of its hostname's length byte

# the journal's record (older versions kept it in RAM as it is)
D_REC = const(40)
D_KEYLEN = const(2)
D_FLAGS = const(3)
D_ADDR = const(4)
D_EXPIRY = const(8)
D_HW = const(12)
D_KEY = const(18)

STATE_NAMES = ("free", "offered", "bound", "released", "declined")

# journal records (the payload; the journal adds marker, type, length and CRC)
J_LEASE4 = const(1)  # the 40-byte record, then hostname length + bytes
J_STATE4 = const(2)  # address(4), state(1), expiry(4): renewals, releases
J_DROP4 = const(3)  # address(4): the record holding it is gone (moved, dropped)

_EMPTY = const(0)
_ZEROS = bytes(KEYMAX)


class Leases4(Table):
    def __init__(self, capacity, nsub=1, journal=None):
        Table.__init__(self, capacity, nsub, REC, -1, R_FLAGS, R_EXPIRY, -1, R_LINK, journal)
        self.arena = Arena(capacity * ARENA_PER_LEASE, self)
        self.jrec = bytearray(D_REC + 1 + NAME_MAX)  # one journal record being built
        self.fp = bytearray(KEYMAX)  # scratch: a record's fingerprint (hashing, moving)
        self.ckeylen = 0  # the client being served: key length, flags (F_CID), chaddr
        self.cflags = 0
        self.chw = bytearray(6)
        self.names_dropped = 0  # hostnames the arena had no room for
        self.jnames = journal  # the journal whose records keep the hostnames (None: the arena does)
        self.nbuf = bytearray(1 + NAME_MAX)  # scratch: a hostname read back from the journal
        self.abuf = self.recs  # where addr_off's offsets point (Leases6: a scratch copy)

    # -- client keys -------------------------------------------------------------------

    def _khash(self, b, o, keylen, flags):
        # multiply-xorshift over 16-bit state (buf.mix30): every product stays below 2**30 (a
        # small int on 32-bit boards) and high bits fold back into the low bits the table
        # keeps. (A plain h*31+b made MACs that differ in two bytes collide by the hundred.)
        return mix30(keylen * 7 + flags, b, o, KEYMAX)

    def keylen(self, r):
        f = self.recs[r * REC + R_FLAGS]
        if f & F_KEYHW:
            return 7
        if f & F_KEYX:
            return self.arena.buf[self._xref(r) + HEAD]
        return 0

    def _clear_key(self, r):
        """The record keeps its hostname, not its key (a declined address)."""
        o = r * REC + R_FLAGS
        if self.recs[o] & F_KEYX:
            self.arena.buf[self._xref(r) + HEAD] = 0  # its bytes stay until the entry changes
        self.recs[o] &= ~(F_KEYHW | F_KEYX | F_CID) & 255

    def key_into(self, r, dst, off=0):
        """Write record r's key fingerprint (KEYMAX bytes, zero-padded) into dst[off:];
        returns the key length (0: none)."""
        recs = self.recs
        o = r * REC
        f = recs[o + R_FLAGS]
        copy(dst, off, _ZEROS, 0, KEYMAX)
        if f & F_KEYHW:
            dst[off] = 1
            copy(dst, off + 1, recs, o + R_HW, 6)
            return 7
        if f & F_KEYX:
            x = self._xref(r) + HEAD
            b = self.arena.buf
            copy(dst, off, b, x + 2, b[x + 1])
            return b[x]
        return 0

    def key_is(self, r, keylen):
        recs = self.recs
        o = r * REC
        f = recs[o + R_FLAGS]
        k = self.key
        if f & F_KEYHW:
            return keylen == 7 and k[0] == 1 and eq(k, 1, recs, o + R_HW, 6) and is_zero(k, 7, KEYMAX - 7)
        if f & F_KEYX:
            x = self._xref(r) + HEAD
            b = self.arena.buf
            n = _fplen(keylen)
            return b[x] == keylen and eq(k, 0, b, x + 2, n) and (n == KEYMAX or is_zero(k, n, KEYMAX - n))
        return False

    def key_matches(self, r, keylen, flags):
        return self.recs[r * REC + R_FLAGS] & F_CID == flags and self.key_is(r, keylen)

    def find_key(self, keylen, flags, subnet):
        """Record of the client whose fingerprint is in self.key, in `subnet`, or -1."""
        idx = self.by_key
        recs = self.recs
        n = self.nslots
        k6 = self.key[6]  # a key that is 01 + chaddr ends with chaddr's last byte: a cheap first test
        i = self._khash(self.key, 0, keylen, flags) % n
        while True:
            v = (idx[2 * i] << 8) | idx[2 * i + 1]
            if v == _EMPTY:
                return -1
            r = v - 1
            o = r * REC
            f = recs[o + R_FLAGS]
            if recs[o + R_SUBNET] == subnet and (not f & F_KEYHW or recs[o + R_HW + 5] == k6) \
                    and f & F_CID == flags and self.key_is(r, keylen):  # (key_matches, one call less)
                return r
            i += 1
            if i == n:
                i = 0

    def load_client(self, src, off, ln, flags, hw, hwoff):
        """The client being served: its key src[off:off+ln] (client-id, or htype + chaddr)
        and its chaddr. The allocator's find_mine/take act for it."""
        self.ckeylen = Table.set_lookup_key(self, src, off, ln)  # (Table: why named)
        self.cflags = flags
        copy(self.chw, 0, hw, hwoff, 6)

    def find_mine(self, subnet, kind):
        return self.find_key(self.ckeylen, self.cflags, subnet)

    def is_mine(self, r):
        return self.key_matches(r, self.ckeylen, self.cflags)

    def room(self, reserved):
        """Table.room, and the arena can hold the current client's key if it needs one."""
        if not Table.room(self, reserved):
            return False
        return self._derived() or self.arena.room(HEAD + 2 + _fplen(self.ckeylen))

    def _derived(self):
        """Is the current client's key 01 + its chaddr (nothing to store)?"""
        k = self.key
        return self.ckeylen == 7 and k[0] == 1 and eq(k, 1, self.chw, 0, 6)

    # -- the arena entry ----------------------------------------------------------------

    def _xref(self, r):
        o = r * REC + R_XREF
        b = self.recs
        return (b[o] << 16) | (b[o + 1] << 8) | b[o + 2]

    def set_xref(self, r, x):
        o = r * REC + R_XREF
        b = self.recs
        b[o] = x >> 16
        b[o + 1] = (x >> 8) & 255
        b[o + 2] = x & 255

    def _name_into(self, r, dst, off):
        """Write record r's hostname into dst[off:], from the arena or the journal; returns
        its length (0: none, or the journal could not be read)."""
        x = self._xref(r)
        if x & X_JOURNAL:
            nb = self.nbuf
            got = self.jnames.read_into(x & (X_JOURNAL - 1), nb)
            n = min(nb[0], got - 1, NAME_MAX) if got else 0
            copy(dst, off, nb, 1, n)
            return n
        b = self.arena.buf
        n = _name_len(b, x)
        copy(dst, off, b, _name_off(b, x), n)
        return n

    def _set_entry(self, r, keylen, src, off, ln):
        """Replace record r's entry with key `keylen` (fingerprint in self.fp, F_KEYX) and
        the hostname src[off:off+ln]. The hostname is dropped if it finds no room; returns
        False if even the key found none."""
        a = self.arena
        if src is a.buf:  # about to be freed, and maybe moved by compaction: keep a copy
            copy(self.jrec, 0, src, off, ln)
            src = self.jrec
            off = 0
        x = self._xref(r)
        if x:
            if not x & X_JOURNAL:
                a.free(x)
            self.set_xref(r, 0)
        n = _fplen(keylen) if keylen else 0
        if not ln and not n:
            return True
        x = a.alloc(r, 2 + n + ln)
        if not x and ln:
            self.names_dropped += 1
            ln = 0
            x = a.alloc(r, 2 + n) if n else 0
        if not x:
            return not n
        b = a.buf
        b[x + HEAD] = keylen
        b[x + HEAD + 1] = n
        if n:
            copy(b, x + HEAD + 2, self.fp, 0, n)
        copy(b, x + HEAD + 2 + n, src, off, ln)
        self.set_xref(r, x)
        return True

    # -- addresses -----------------------------------------------------------------------

    def _ahash(self, a, off):
        return mix30(0, a, off, 4)

    def find_addr(self, a, off, plen=32):
        idx = self.by_addr
        n = self.nslots
        recs = self.recs
        i = self._ahash(a, off) % n
        while True:
            v = (idx[2 * i] << 8) | idx[2 * i + 1]
            if v == _EMPTY:
                return -1
            o = (v - 1) * REC + R_ADDR
            if recs[o] == a[off] and recs[o + 1] == a[off + 1] and recs[o + 2] == a[off + 2] and recs[o + 3] == a[off + 3]:
                return v - 1
            i += 1
            if i == n:
                i = 0

    def addr_off(self, r):
        return r * REC + R_ADDR

    def plen(self, r):
        return 32

    def _home(self, r, by_key):
        o = r * REC
        recs = self.recs
        if by_key:
            fp = self.fp
            kl = self.key_into(r, fp)
            return self._khash(fp, 0, kl, recs[o + R_FLAGS] & F_CID)
        return self._ahash(recs, o + R_ADDR)

    # -- records -------------------------------------------------------------------------

    def take(self, r, subnet, kind, a, off, plen, pinned):
        """(Re)bind record r to the current client (load_client) and address a[off:]. A
        journaled address the record leaves is dropped in the journal. The key is stored in
        the arena unless it is the hardware address; the hostname starts empty. The record
        is left released, expiry 0, at its list's tail: the caller sets its real state."""
        recs = self.recs
        o = r * REC
        Table._moving(self, r)
        recs[o + R_SUBNET] = subnet
        if pinned:
            self.npinned += 1
        copy(recs, o + R_ADDR, a, off, 4)
        copy(recs, o + R_HW, self.chw, 0, 6)
        keyed = self.ckeylen != 0
        f = F_KEYHW
        if keyed and not self._derived():
            copy(self.fp, 0, self.key, 0, KEYMAX)
            f = F_KEYX
            keyed = self._set_entry(r, self.ckeylen, recs, 0, 0)  # room() said there was room
        elif recs[o + R_XREF] or recs[o + R_XREF + 1] or recs[o + R_XREF + 2]:
            self._set_entry(r, 0, recs, 0, 0)  # a moved record: its old key and hostname go
        recs[o + R_FLAGS] = (f | self.cflags if keyed else 0) | (F_PINNED if pinned else 0)
        Table._index(self, r, keyed, self._khash(self.key, 0, self.ckeylen, self.cflags) if keyed else -1)
        Table.set(self, r, RELEASED, 0)  # until the caller says offered or bound

    def drop(self, r):
        x = self._xref(r)
        Table.drop(self, r)
        if not x & X_JOURNAL:
            self.arena.free(x)

    def spare(self, entries):
        """Between steps: room in the arena for `entries` new keys and hostnames."""
        self.arena.spare(entries * (HEAD + 2 + KEYMAX + NAME_MAX))

    def refresh(self, r, pinned):
        """The current client keeps record r (same key, same address): bring its hardware
        address and its pinned flag up to date. A changed hardware address of a journaled
        lease is journaled whole at once (a DISCOVER need not be followed by a REQUEST), and
        pinning goes through pin() (a pinned record is in no reuse list). A key derived from
        the old hardware address is stored first (the client-id stays the key)."""
        recs = self.recs
        o = r * REC
        if not eq(recs, o + R_HW, self.chw, 0, 6):
            if recs[o + R_FLAGS] & F_KEYHW:
                self.key_into(r, self.fp)
                if not self._set_entry(r, 7, self.jrec, 0, self._name_into(r, self.jrec, 0)):
                    Table.pin(self, r, pinned)
                    return  # no room to keep the key: the old hardware address stays
                recs[o + R_FLAGS] = (recs[o + R_FLAGS] & ~F_KEYHW & 255) | F_KEYX
            copy(recs, o + R_HW, self.chw, 0, 6)
            Table.changed(self, r)
            if journaled(recs[o + R_STATE]):
                Table._stage(self, r)
        Table.pin(self, r, pinned)

    def addr_into(self, r, dst, off):
        copy(dst, off, self.recs, r * REC + R_ADDR, 4)

    def set_name(self, r, src, off, ln):
        """Hostname (option 12), cut to NAME_MAX bytes on a UTF-8 character boundary."""
        if ln > NAME_MAX:
            ln = NAME_MAX
            while ln and src[off + ln] & 0xC0 == 0x80:
                ln -= 1  # never end inside a multi-byte character
        kl = 0
        if self.recs[r * REC + R_FLAGS] & F_KEYX:
            kl = self.key_into(r, self.fp)
        self._set_entry(r, kl, src, off, ln)

    def name(self, r):
        """Record r's hostname, as a new bytes object (listings)."""
        b = bytearray(NAME_MAX)
        return bytes(b[:self._name_into(r, b, 0)])

    def fields(self, r):
        """(address, hw, client-id or b"", hostname bytes, state, expiry, subnet index) of
        record r, as new objects: for listings, never on the packet path."""
        o = r * REC
        recs = self.recs
        cid = b""
        if recs[o + R_FLAGS] & F_CID:
            fp = bytearray(KEYMAX)
            klen = self.key_into(r, fp)
            if klen <= KEYMAX:
                cid = bytes(fp[:klen])
        return (bytes(recs[o + R_ADDR:o + R_ADDR + 4]), bytes(recs[o + R_HW:o + R_HW + 6]), cid,
                self.name(r), recs[o], self.expiry(r), recs[o + 1])

    # -- journal record codecs ------------------------------------------------------------

    def _stage_lease(self, r):
        j = self.jrec
        recs = self.recs
        o = r * REC
        j[0] = recs[o + R_STATE]
        j[1] = recs[o + R_SUBNET]
        j[D_KEYLEN] = self.key_into(r, j, D_KEY)
        j[D_FLAGS] = (recs[o + R_FLAGS] & F_CID) | F_INDEXED  # the bits older journals carry
        copy(j, D_ADDR, recs, o + R_ADDR, 14)  # address, expiry, hw: in this order in both layouts
        j[D_REC - 2] = j[D_REC - 1] = 0
        x = self._xref(r)
        if x & X_JOURNAL:
            n = self._name_into(r, j, D_REC + 1)
        else:  # (_name_into without the call: the usual case, a name set just before)
            b = self.arena.buf
            n = _name_len(b, x)
            copy(j, D_REC + 1, b, _name_off(b, x), n)
        j[D_REC] = n
        at = self.journal.append(J_LEASE4, j, 0, D_REC + 1 + n) + D_REC  # (_stage and dump: a journal is set)
        if x and (x & X_JOURNAL or not recs[o + R_FLAGS] & F_KEYX) and at < X_JOURNAL \
                and self.journal is self.jnames:  # (not an export's journal)
            if not x & X_JOURNAL:
                self.arena.free(x)  # the hostname stays in the journal: the record refers to it
            self.set_xref(r, X_JOURNAL | at if n else 0)

    def _stage_state(self, r):
        j = self.jrec
        o = r * REC
        copy(j, 0, self.recs, o + R_ADDR, 4)
        j[4] = self.recs[o + R_STATE]
        copy(j, 5, self.recs, o + R_EXPIRY, 4)
        self.journal.append(J_STATE4, j, 0, 9)  # (_stage: a journal is set)

    def _stage_drop(self, r):
        copy(self.jrec, 0, self.recs, r * REC + R_ADDR, 4)
        self._append(J_DROP4, self.jrec, 4)

    def apply(self, typ, buf, off, ln, subnets):
        """Replay one journal record (restore, export-kea). A lease whose subnet is gone or
        no longer holds its address (the config changed) is skipped. Returns the record
        touched, or -1."""
        if typ == J_LEASE4 and ln >= D_REC + 1:
            si = buf[off + 1]
            if si >= len(subnets) or not subnets[si].contains(buf, off + D_ADDR) \
                    or not journaled(buf[off]):
                return -1
            r = self.find_addr(buf, off + D_ADDR)
            if r < 0:
                r = self.new()
                if r < 0:
                    return -1
            self.ckeylen = kl = buf[off + D_KEYLEN]
            copy(self.key, 0, buf, off + D_KEY, KEYMAX)  # the stored fingerprint, as it is,
            if kl < KEYMAX:  # and nothing past a short key (as set_lookup_key leaves it)
                copy(self.key, kl, _ZEROS, 0, KEYMAX - kl)
            self.cflags = buf[off + D_FLAGS] & F_CID
            copy(self.chw, 0, buf, off + D_HW, 6)
            self._one_per_client(r, si, 0)
            self.take(r, si, 0, buf, off + D_ADDR, 32, False)
            self.set(r, buf[off], _u32(buf, off + D_EXPIRY))
            self._replay_name(r, buf, off + D_REC, ln - D_REC - 1)
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

    def _replay_name(self, r, buf, at, room):
        """Replay: the hostname at buf[at] (length byte, then at most `room` bytes). Read
        from the table's own journal, the record refers to it where it lies (the rewrite that
        follows replay moves it with its record); otherwise it goes to the arena. (take()
        has just dropped the old entry of a record whose key is not in the arena.)"""
        n = buf[at]
        j = self.jnames
        if j is not None and buf is j.data and n <= room and n <= NAME_MAX \
                and not self.recs[r * REC + R_FLAGS] & F_KEYX and at < X_JOURNAL:
            self.set_xref(r, X_JOURNAL | at if n else 0)
        else:
            self.set_name(r, buf, at + 1, min(n, room))


def _name_off(b, x):
    """Offset in arena buffer b of the hostname in entry x (0: no entry)."""
    return x + HEAD + 2 + b[x + HEAD + 1] if x else 0


def _name_len(b, x):
    return b[x + 2] - 2 - b[x + HEAD + 1] if x else 0


def _fplen(keylen):
    return keylen if keylen < KEYMAX else KEYMAX


def _u32(b, o):
    return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]
