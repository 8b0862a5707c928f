# The lease lifecycle both servers share, over fixed-width records in one preallocated
# bytearray. What lives here:
# - two open-addressing indexes (by client key and by address; linear probing, backward-shift
#   deletion, no tombstones) holding record number + 1 in 2 bytes;
# - reuse lists: per subnet, one FIFO per state (offered, bound, released, declined), doubly
#   linked (next in the record, previous in `prv`). Records enter at the tail whenever their
#   state is set, and every state adds one fixed time to `now`, so each list runs oldest
#   expiry first: the record given up longest ago is a list head, found in O(1). Pinned
#   records (reserved address or reserved client) sit in no list: no stranger reuses them.
#   Freed records form one more list, the free stack;
# - the verbs of a lease's life (offer, bind, release, decline, drop, and moving a record to a
#   new client or address), each staging its own journal record, so the journal always
#   replays to the live state (offers are never journaled: an offer is no promise).
# A subclass gives the record layout (offsets), _home(r, by_key) (the hash of a record) and
# the record codecs (_stage_lease, _stage_state, _stage_drop). Every layout starts with
# state (byte 0) and subnet index (byte 1); expiry is a uint32; flags share the bits below.
from micropython import const
from ..wire.buf import copy, eq, zero, list_append, list_remove, list_set, ix_insert

FREE = const(0)  # lease states shared by the v4 and v6 tables
OFFERED = const(1)  # held for the client between OFFER/Advertise and REQUEST; never journaled
BOUND = const(2)
RELEASED = const(3)
DECLINED = const(4)  # held back until expiry (decline probation)
KEYMAX = const(20)  # client keys longer than this are kept as a 16-byte prefix + 4-byte sum
F_INDEXED = const(0x80)  # flags: the record is in the address index
F_PINNED = const(0x40)  # flags: reserved address or client: in no reuse list
F_DURABLE = const(0x20)  # flags: a journal record holds this record's client and address
F_LINKED = const(0x10)  # flags: in its reuse list
_EMPTY = const(0)
_NLISTS = const(4)


# The table's innermost steps, run several times a message, are module functions taking the
# table, not methods: on MicroPython a method called on a Leases4/Leases6 is looked up in the
# instance, then in the subclass's class dict, which fills to 100% before it grows, so that
# miss scans it whole (~150 ns a call on the Unix port, more than the step itself).

def _list(t, r):
    """Offset in t.heads of record r's reuse list, or -1 (free, pinned)."""
    recs = t.recs
    o = r * t.rec
    s = recs[o]
    f = recs[o + t.o_flags]
    if s == FREE or f & F_PINNED:
        return -1
    return 4 * ((recs[o + 1] * 2 + (1 if f & t.f_kind else 0)) * _NLISTS + s - 1)


def _link(t, r):
    """Append record r at the tail of its reuse list (none when free or pinned)."""
    h = _list(t, r)
    if h >= 0:
        list_append(t.heads, h, t.recs, t.rec, t.o_link, t.prv, r)
        t.recs[r * t.rec + t.o_flags] |= F_LINKED


def _unlink(t, r):
    """Take record r out of its reuse list, if it is in one."""
    o = r * t.rec + t.o_flags
    if t.recs[o] & F_LINKED:
        t.recs[o] &= ~F_LINKED & 255
        list_remove(t.heads, _list(t, r), t.recs, t.rec, t.o_link, t.prv, r)


def journaled(state):
    """Is `state` one the journal holds (bound, released, declined)? Replay skips others."""
    return BOUND <= state <= DECLINED  # reuse lists per subnet: OFFERED..DECLINED


class Table:
    # Hot calls between the verbs name the class (Table.set(self, ...)): a plain self.set on
    # a Leases4/Leases6 is looked up in the instance, then in the subclass's class dict, which
    # MicroPython fills to 100% before it grows, so that miss scans it whole (~150 ns a call).
    # Only methods no subclass overrides are called so.
    def __init__(self, capacity, nsub, rec, o_keylen, o_flags, o_expiry, o_key, o_link, journal, f_kind=0):
        if capacity < 1 or capacity > 65000:
            raise ValueError("lease capacity must be 1..65000")
        self.cap = capacity
        self.rec = rec
        self.o_keylen = o_keylen
        self.o_flags = o_flags
        self.o_expiry = o_expiry
        self.o_key = o_key
        self.o_link = o_link  # 2 bytes in the record: next in its list (record + 1, 0: none)
        self.f_kind = f_kind  # the flag of the second address space (kind 1), if the layout has one
        self.lay = bytes((rec, o_flags, o_link, o_expiry, f_kind))  # for buf.list_set
        self.journal = journal  # where the verbs stage their records (None: not persisted)
        self.recs = bytearray(capacity * rec)
        self.prv = bytearray(2 * capacity)
        self.heads = bytearray(8 * _NLISTS * max(nsub, 1))  # head, tail per (subnet, kind, state)
        self.free_head = 0
        self.used = 0  # records 0..used-1 have been handed out
        self.count = 0  # records in use (not free)
        self.reserve = 0  # records kept for reserved clients (alloc sets it)
        self.npinned = 0  # records in use by reserved clients and addresses
        self.stats = None  # the engine's counters: "journal_records" counts what the verbs stage
        size = capacity * 3 // 2 + 1  # load at most 2/3 (linear probing: a miss ~5 probes)
        self.nslots = size if size > 8 else 8
        size = self.nslots
        self.by_key = bytearray(2 * size)
        self.by_addr = bytearray(2 * size)
        self.key = bytearray(KEYMAX)  # scratch: the fingerprint of the key being looked up

    # -- client keys ------------------------------------------------------------------------

    def set_lookup_key(self, src, off, ln):
        """Load the fingerprint of key src[off:off+ln] into self.key. Returns ln (capped 255)."""
        k = self.key
        if ln <= KEYMAX:
            copy(k, 0, src, off, ln)
            zero(k, ln, KEYMAX - ln)
            return ln
        copy(k, 0, src, off, 16)
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

    def keylen(self, r):
        """Length of record r's client key (0: the record belongs to nobody)."""
        return self.recs[r * self.rec + self.o_keylen]

    def key_into(self, r, dst):
        """Write record r's key fingerprint (KEYMAX bytes) into dst; returns its length."""
        copy(dst, 0, self.recs, r * self.rec + self.o_key, KEYMAX)
        return self.keylen(r)

    def _clear_key(self, r):
        self.recs[r * self.rec + self.o_keylen] = 0

    def key_is(self, r, keylen):
        """Is record r's client key the fingerprint in self.key (of a key keylen long)?"""
        o = r * self.rec
        return self.recs[o + self.o_keylen] == keylen and eq(self.recs, o + self.o_key, self.key, 0, KEYMAX)

    # -- the indexes ----------------------------------------------------------------------------

    def _remove(self, idx, h, r, by_key):
        n = self.nslots
        i = h % n
        while True:
            v = (idx[2 * i] << 8) | idx[2 * i + 1]
            if v == _EMPTY:
                return
            if v == r + 1:
                break
            i += 1
            if i == n:
                i = 0
        # shift later entries of the run back so lookups never meet a hole
        j = i
        while True:
            idx[2 * i] = 0
            idx[2 * i + 1] = 0
            while True:
                j += 1
                if j == n:
                    j = 0
                v = (idx[2 * j] << 8) | idx[2 * j + 1]
                if v == _EMPTY:
                    return
                home = self._home(v - 1, by_key) % n
                # entry at j may move to i unless its home lies cyclically in (i, j]
                if (j > i and (home <= i or home > j)) or (j < i and (home <= i and home > j)):
                    break
            idx[2 * i] = idx[2 * j]
            idx[2 * i + 1] = idx[2 * j + 1]
            i = j

    def _index(self, r, keyed, kh=-1, ah=-1):
        """Put record r (key and address just written) into the indexes; kh, ah: its key's
        and address's hashes when the caller has them at hand."""
        if keyed:
            ix_insert(self.by_key, self._home(r, True) if kh < 0 else kh, r + 1)
        ix_insert(self.by_addr, self._home(r, False) if ah < 0 else ah, r + 1)
        self.recs[r * self.rec + self.o_flags] |= F_INDEXED
        self.addr_taken(r, True)

    def unkey(self, r):
        """Detach record r from its client (a declined address belongs to nobody)."""
        if self.keylen(r):
            self._remove(self.by_key, self._home(r, True), r, True)
            self._clear_key(r)

    def _unindex(self, r):
        """Take record r out of both indexes, before its key or address changes."""
        Table.unkey(self, r)
        o = r * self.rec + self.o_flags
        if self.recs[o] & F_INDEXED:
            self._remove(self.by_addr, self._home(r, False), r, False)
            self.recs[o] &= ~F_INDEXED & 255
            self.addr_taken(r, False)

    def addr_taken(self, r, taken):
        """Record r's address entered (or left) the address index: the allocator's hook."""

    def kind(self, r):
        """Which address space record r is in: 1 when its flags have f_kind (DHCPv6: IA_PD),
        else 0 (IA_NA; DHCPv4 has one)."""
        return 1 if self.recs[r * self.rec + self.o_flags] & self.f_kind else 0

    def restore(self, journal, apply, dump=None, loaded=None, now=0):
        """Replay the journal through apply (nothing is staged meanwhile), call loaded(now)
        if given, then rewrite it compacted with dump (default: self.dump): a torn tail is
        dropped and later appends never follow garbage."""
        self.journal = None
        journal.load(apply)
        if loaded is not None:
            loaded(now)
        self.journal = journal
        journal.rewrite(dump or self.dump)

    # -- reuse lists ----------------------------------------------------------------------------

    def _list(self, r):
        """Offset in self.heads of record r's reuse list, or -1 (free, pinned)."""
        return _list(self, r)

    def _next(self, r):
        o = r * self.rec + self.o_link
        return (self.recs[o] << 8) | self.recs[o + 1]

    def _set_next(self, r, v):
        o = r * self.rec + self.o_link
        self.recs[o] = v >> 8
        self.recs[o + 1] = v & 255

    def head(self, subnet, kind, state):
        """First record of the reuse list (subnet, kind, state), or -1."""
        h = 4 * ((subnet * 2 + kind) * _NLISTS + state - 1)
        return ((self.heads[h] << 8) | self.heads[h + 1]) - 1

    def pin(self, r, on):
        """Keep record r out of (or put it back into) the reuse lists."""
        o = r * self.rec + self.o_flags
        if bool(self.recs[o] & F_PINNED) == bool(on):
            return
        _unlink(self, r)
        if on:
            self.recs[o] |= F_PINNED
            self.npinned += 1
        else:
            self.recs[o] &= ~F_PINNED & 255
            self.npinned -= 1
        _link(self, r)

    # -- records -----------------------------------------------------------------------------

    def new(self):
        """An unused record number, or -1 when the table is full."""
        if self.free_head:
            r = self.free_head - 1
            self.free_head = self._next(r)
        elif self.used < self.cap:
            r = self.used
            self.used += 1
        else:
            return -1
        o = r * self.rec + self.o_link
        self.recs[o] = self.recs[o + 1] = 0  # _set_next(r, 0), without the call
        self.count += 1
        return r

    def can_take(self, a, off, plen):
        """Has the table what take() needs besides the record, for the current client and
        a[off:]/plen (Leases6: room for its DUID and its address's upper half)? Alloc asks
        before anything changes; False refuses the client as if the table were full."""
        return True

    def room(self, reserved):
        """May a client have one more record? Reserved clients may use the whole table; the
        others share what `reserve` records for them leave, their own records not counted
        against it (reserved clients are always served)."""
        if reserved:
            return self.count < self.cap
        return self.count - self.npinned < self.cap - self.reserve

    def _moving(self, r):
        """Record r is about to change client or address: the journal drops what it said of
        it (whatever comes next, an offer included, replay never keeps the old client there)."""
        o = r * self.rec + self.o_flags
        if not self.recs[o] & (F_DURABLE | F_PINNED | F_LINKED | F_INDEXED):
            return  # a new record: in no list and no index (a key only comes with F_INDEXED)
        if self.recs[o] & F_DURABLE:
            self._stage_drop(r)
            self.recs[o] &= ~F_DURABLE & 255
        if self.recs[o] & F_PINNED:
            self.npinned -= 1  # take() counts it again if it stays pinned
        _unlink(self, r)
        Table._unindex(self, r)

    def drop(self, r):
        """Forget record r entirely and make it reusable."""
        self._moving(r)
        zero(self.recs, r * self.rec, self.rec)
        self._set_next(r, self.free_head)
        self.free_head = r + 1
        self.count -= 1

    # -- state and expiry -------------------------------------------------------------------

    def state(self, r):
        return self.recs[r * self.rec]

    def subnet(self, r):
        return self.recs[r * self.rec + 1]

    def expiry(self, r):
        o = r * self.rec + self.o_expiry
        b = self.recs
        return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]

    def set(self, r, state, expiry):
        """Set state and expiry, moving r to the tail of its reuse list. Not journaled: the
        verbs below are, replay uses this directly."""
        list_set(self.heads, self.recs, self.prv, self.lay, r, state, expiry)  # _unlink, write, _link

    def active(self, r, now):
        """Does record r hold its address at `now` (bound, offered or declined, unexpired)?"""
        s = self.recs[r * self.rec]
        return s != FREE and s != RELEASED and self.expiry(r) > now

    # -- the verbs of a lease's life, each staging its journal record ------------------------

    def offer(self, r, until):
        """Set the address aside for its client until `until` (not journaled)."""
        list_set(self.heads, self.recs, self.prv, self.lay, r, OFFERED, until)  # Table.set, one call less

    def bind(self, r, expiry):
        """The client was told it has the lease (ACK, Reply) until `expiry`."""
        list_set(self.heads, self.recs, self.prv, self.lay, r, BOUND, expiry)  # Table.set, one call less
        Table._stage(self, r)

    def release(self, r, now):
        """The client gave the lease back; the record keeps client and address, so the client
        gets the same address back while nobody else needs it."""
        Table.set(self, r, RELEASED, now)
        Table._stage(self, r)

    def withdraw(self, r, now):
        """An offer the client did not take: the record goes back to what the journal holds
        of it (released, when it held this address before), or is dropped (nothing held)."""
        if self.recs[r * self.rec + self.o_flags] & F_DURABLE:
            self.release(r, now)
        else:
            self.drop(r)

    def decline(self, r, until):
        """The client found the address in use: nobody's until `until` (probation)."""
        self.unkey(r)
        self.changed(r)  # its client is gone: journal the whole record
        Table.set(self, r, DECLINED, until)
        Table._stage(self, r)

    def durable(self, r):
        """Does the journal hold record r as it is (its client, address and data)?"""
        return self.recs[r * self.rec + self.o_flags] & F_DURABLE != 0

    def changed(self, r):
        """Record r's client data changed (hostname...): the next verb journals it whole."""
        self.recs[r * self.rec + self.o_flags] &= ~F_DURABLE & 255

    def _stage(self, r):
        """Journal r: only state and expiry when the journal already holds its client and
        address (a renewal: a few bytes), else the whole record."""
        o = r * self.rec + self.o_flags
        if self.journal is None:
            return
        if self.recs[o] & F_DURABLE:
            self._stage_state(r)
        else:
            self._stage_lease(r)
            self.recs[o] |= F_DURABLE
        if self.stats is not None:
            self.stats["journal_records"] += 1

    def _append(self, typ, buf, ln):
        if self.journal is not None:
            self.journal.append(typ, buf, 0, ln)

    def _one_per_client(self, r, subnet, kind):
        """Replay: record r is about to become the current client's; an older record of that
        client (and IA) in the subnet goes, as it would have live (a damaged journal may lack
        the drop record)."""
        if self.ckeylen:
            other = self.find_mine(subnet, kind)
            if other >= 0 and other != r:
                self.drop(other)

    def dump(self, journal):
        """Compaction: stage every lease worth keeping, each reuse list in its order (so replay
        rebuilds the same order), pinned records after."""
        keep = self.journal
        self.journal = journal
        nl = len(self.heads) // 4
        h = 0
        while h < nl:
            r = ((self.heads[4 * h] << 8) | self.heads[4 * h + 1]) - 1
            while r >= 0:
                self._dump_one(r)
                r = self._next(r) - 1
            h += 1
        for r in range(self.used):
            if self.recs[r * self.rec + self.o_flags] & F_PINNED:
                self._dump_one(r)
        self.journal = keep

    def _dump_one(self, r):
        s = self.state(r)
        if s == BOUND or s == RELEASED or s == DECLINED:
            self._stage_lease(r)
            self.recs[r * self.rec + self.o_flags] |= F_DURABLE

    # -- reuse ----------------------------------------------------------------------------------

    def oldest_reusable(self, subnet, kind, now, offers=False):
        """The record of `subnet` and `kind` (not pinned) whose address was given up longest
        ago, or -1: the oldest inactive list head. O(1). With `offers`, when none is given up,
        the oldest offer still held: an offer is no promise (RFC 2131 4.3.1 leaves its hold
        to the server), so a DISCOVER flood can slow new clients but never lock them out."""
        best = -1
        best_exp = 0
        s = OFFERED
        while s <= DECLINED:
            r = self.head(subnet, kind, s)
            if r >= 0 and not self.active(r, now):
                e = self.expiry(r)
                if best < 0 or e < best_exp:
                    best = r
                    best_exp = e
            s += 1
        if best < 0 and offers:
            best = self.head(subnet, kind, OFFERED)
            if best >= 0 and self.is_mine(best):
                best = -1  # never the current client's own offer (another of its IAs)
        return best

    def any_reusable(self, now):
        """Any record, in any subnet, that holds no address now, else the oldest offer (for a
        full table), or -1."""
        nsub = len(self.heads) // (8 * _NLISTS)
        offers = False
        while True:
            for sub in range(nsub):
                r = self.oldest_reusable(sub, 0, now, offers)
                if r < 0:
                    r = self.oldest_reusable(sub, 1, now, offers)
                if r >= 0:
                    return r
            if offers:
                return -1
            offers = True

    def held(self):
        """Records in use (any state but free): what a restart restored, for the log."""
        return self.count
