# The one allocator both servers use: which record and address a client gets. The order is
# one rule, here: its reservation > the lease it holds (a returning client) > the address it
# asked for > a free pool address > the pool address given up longest ago. Never an address
# reserved for another client, never the server's own address, never a record kept for a
# reserved client. Cost per choice is O(1) amortized whatever the pool size:
# - a pool no larger than BITMAP_PER_RECORD x the table keeps a bitmap of taken addresses
#   (one bit each, a summary bit per 64) and a free count, so a full pool costs nothing and a
#   free address is found from a cursor in a few byte reads;
# - a larger pool can never be full (it has more addresses than the table has records): a
#   cursor walks it, past at most one table's worth of taken addresses;
# - reuse takes the head of the table's reuse lists (table.py).
# Addresses are 4 (DHCPv4) or 16 (DHCPv6) bytes; a DHCPv6 prefix pool steps by 2**(128-dlen).
from micropython import const
from .table import Table, FREE, DECLINED, F_PINNED
from ..wire.buf import add_shifted, index_of, eq

BITMAP_PER_RECORD = const(4)  # pools up to 4 x the table size get a bitmap (<= 1/2 byte a record)
NOT_USABLE = const(-1)
NOBODY = const(-2)  # usable, and no record holds it


class Pool:
    """One range: base address, `size` steps of 2**shift, each `plen` long (32/128 for
    addresses, the delegated length for prefixes)."""

    def __init__(self, base, size, shift, plen, width, bitmap):
        self.base = base
        self.size = size
        self.shift = shift
        self.plen = plen
        self.width = width
        self.cursor = 0
        self.pinned = {}  # step -> reservation (or None: the server's own address)
        self.bits = bytearray((size + 7) // 8) if bitmap else None
        self.full = bytearray((size + 63) // 64) if bitmap else None  # bit per bitmap byte == 0xFF
        self.nfree = size

    def nth(self, k, dst):
        add_shifted(dst, 0, self.base, 0, k, self.shift, self.width)

    def index(self, a, off, plen):
        if plen != self.plen:
            return -1
        return index_of(a, off, self.base, 0, self.shift, self.size, self.width)

    def mark(self, k, taken):
        b = self.bits
        if b is None:
            return
        i = k >> 3
        m = 1 << (k & 7)
        if bool(b[i] & m) == bool(taken):
            return
        if taken:
            b[i] |= m
            self.nfree -= 1
            if b[i] == 255:
                self.full[i >> 3] |= 1 << (i & 7)
        else:
            if b[i] == 255:
                self.full[i >> 3] &= ~(1 << (i & 7)) & 255
            b[i] &= ~m & 255
            self.nfree += 1

    def next_free(self):
        """A step no record holds (bitmap pools), from the cursor on; -1 when full."""
        if self.nfree <= 0:
            return -1
        b = self.bits
        full = self.full
        nb = len(b)
        i = (self.cursor >> 3) % nb
        seen = 0
        while seen <= nb:
            if full[i >> 3] == 255 and i & 7 == 0:
                i += 8  # 64 taken addresses in one read
                seen += 8
            elif b[i] == 255:
                i += 1
                seen += 1
            else:
                v = b[i]
                j = 0
                while v & (1 << j):
                    j += 1
                k = (i << 3) + j
                if k < self.size:
                    self.cursor = k + 1
                    return k
                i += 1
                seen += 1
            if i >= nb:
                i = 0
        return -1


class Alloc:
    def __init__(self, table, subnets, width, pools_of, reservations_of, own):
        """pools_of(subnet, kind) -> [(base, size, shift, plen)]; reservations_of(subnet) ->
        [(reservation, address bytes or None, plen, kind)]; own: the server's own addresses."""
        self.table = table
        self.width = width
        self.cand = bytearray(width)
        self.at = None  # the pool _step found
        self.fresh = None  # the pool and step of the address take() is giving (_taken), if known
        self.fresh_k = -1
        self.pools = []  # per subnet: per kind: [Pool]
        self.own = [bytes(a) for a in own]  # the server's own addresses, in a pool or not
        # the v4 table keeps a hardware address to refresh; bound once (a lookup per packet allocates)
        self.refresh = getattr(table, "refresh", None)
        self.room = table.room  # bound once too: Leases6 inherits it (a lookup per call would miss
        # its class dict first)
        nres = 0
        for s in subnets:
            kinds = []
            for kind in (0, 1):
                kinds.append([Pool(b, n, sh, pl, width, n <= BITMAP_PER_RECORD * table.cap)
                              for b, n, sh, pl in pools_of(s, kind)])
            self.pools.append(kinds)
        self.resmap = []  # per subnet: address hash -> [(reservation, address, plen)]
        for s in subnets:
            self.resmap.append({})
            for res, a, plen, kind in reservations_of(s):
                nres += 1
                if a is not None:
                    self.add_reservation(s.index, res, a, plen, kind)
        for a in own:
            self.pin_own(a, 0)
        table.reserve = nres
        table.addr_taken = self._taken

    # -- what is reserved, and for whom --------------------------------------------------------

    def _hash(self, a, off, plen):
        h = plen
        i = 0
        while i < self.width:
            h = ((h ^ a[off + i]) * 2533) & 0xFFFF
            i += 1
        return h

    def add_reservation(self, si, res, a, plen, kind):
        """Set a[:]/plen aside for reservation res (config time, or console reserve)."""
        if self.is_own(si, kind, a, plen):
            raise ValueError("that is the server's own address")
        k = self._step(si, kind, a, 0, plen)
        lst = self.resmap[si].setdefault(self._hash(a, 0, plen), [])
        lst.append((res, a, plen))
        if k >= 0:
            pool = self.at
            pool.pinned[k] = res
            pool.mark(k, True)

    def set_pools(self, si, kind, spec):
        """Replace subnet si's pools of a kind ([(base, size, shift, plen)], router mode's
        renumbering) and mark what the table already holds in them. Allocates: not on the
        packet path."""
        t = self.table
        pools = [Pool(b, n, sh, pl, self.width, n <= BITMAP_PER_RECORD * t.cap) for b, n, sh, pl in spec]
        self.pools[si][kind] = pools
        for r in range(t.used):
            if t.state(r) != FREE and t.subnet(r) == si and t.kind(r) == kind:
                k = self._step(si, kind, t.abuf, t.addr_off(r), t.plen(r))
                if k >= 0:
                    self.at.mark(k, True)

    def is_own(self, si, kind, a, plen):
        """Is a/plen one of the server's own addresses (as pinned at start or learned)?"""
        if plen == 8 * self.width:
            for o in self.own:
                if eq(o, 0, a, 0, self.width):
                    return True
        k = self._step(si, kind, a, 0, plen)
        return k >= 0 and k in self.at.pinned and self.at.pinned[k] is None

    def pin_own(self, a, off):
        """The server's own address never goes to a client."""
        for kinds in self.pools:
            for pool in kinds[0]:
                k = pool.index(a, off, pool.plen)
                if k >= 0 and k not in pool.pinned:
                    pool.pinned[k] = None
                    pool.mark(k, True)

    def reserved_for(self, si, a, off, plen):
        """The reservation holding a[off:]/plen in subnet si, or None."""
        m = self.resmap[si]
        if not m:
            return None  # no reservations in si: skip the hash
        lst = m.get(self._hash(a, off, plen))
        if lst is not None:
            for res, ra, rp in lst:
                if rp == plen and eq(ra, 0, a, off, self.width):
                    return res
        return None

    def _step(self, si, kind, a, off, plen):
        """The step of a[off:]/plen in si's pools, the pool left in self.at; or -1."""
        for pool in self.pools[si][kind]:
            if plen == pool.plen:  # pool.index, without a call per pool
                k = index_of(a, off, pool.base, 0, pool.shift, pool.size, pool.width)
                if k >= 0:
                    self.at = pool
                    return k
        return -1

    def _taken(self, r, taken):
        """table.py's hook: record r's address entered or left the address index."""
        f = self.fresh
        if taken and f is not None:  # the address take() gives: its step is known
            if f.bits is not None:  # (a pool without a bitmap marks nothing: no call)
                f.mark(self.fresh_k, True)
            return
        t = self.table
        # byte 1: the subnet; Table.kind by name, as table.py calls its own (no subclass has one)
        k = self._step(t.recs[r * t.rec + 1], Table.kind(t, r), t.abuf, t.addr_off(r), t.plen(r))
        if k >= 0 and (taken or k not in self.at.pinned):
            self.at.mark(k, taken)

    # -- the choice -----------------------------------------------------------------------------

    def usable(self, si, kind, a, off, plen, res, mine, own, now, held=False):
        """May the client (the table's current client; `res` its reservation or None; `mine`
        its record in si or -1) have a[off:]/plen? The record holding it, NOBODY when no record
        does, or NOT_USABLE. held: a[off:]/plen is mine's own address, so mine holds it (the
        address index keeps each address in one record): no lookup."""
        t = self.table
        if own is not None and eq(a, off, own, 0, self.width):
            return NOT_USABLE
        holder_res = self.reserved_for(si, a, off, plen) if self.resmap[si] else None  # (none: no call)
        if holder_res is not None and holder_res is not res:
            return NOT_USABLE
        if holder_res is None:
            k = self._step(si, kind, a, off, plen)
            if k < 0 or (k in self.at.pinned and self.at.pinned[k] is None):
                return NOT_USABLE  # outside the pools, or the server's own address
        h = mine if held else t.find_addr(a, off, plen)
        if h < 0:
            return NOBODY
        if h == mine:
            return NOT_USABLE if t.recs[h * t.rec] == DECLINED and t.active(h, now) else h  # byte 0: state
        if t.active(h, now) or t.subnet(h) != si:
            return NOT_USABLE
        if t.recs[h * t.rec + t.o_flags] & F_PINNED and holder_res is None:
            return NOT_USABLE  # kept for a reserved client
        return h

    def choose(self, si, kind, res, ra, rplen, req, roff, qplen, mine, own, now):
        """The record (moved to this client, state released: the caller sets the real one)
        for the address this client gets, or -1 when there is none. ra/rplen: the address
        its reservation names (or None); req[roff:]/qplen: the address it asked for (req None
        when it asked for none)."""
        t = self.table
        if ra is not None:
            h = self.usable(si, kind, ra, 0, rplen, res, mine, own, now)
            if h != NOT_USABLE:
                return self.take(h, si, kind, ra, 0, rplen, res, mine, now)
        r = self.keep_mine(si, kind, res, mine, own, now) if mine >= 0 else -1  # (a new client: no call)
        if r >= 0:
            return r
        if req is not None:
            h = self.usable(si, kind, req, roff, qplen, res, mine, own, now)
            if h != NOT_USABLE:
                return self.take(h, si, kind, req, roff, qplen, res, mine, now)
        for pool in self.pools[si][kind]:
            k = self._free(si, kind, pool, own)
            if k >= 0:
                return self.take(NOBODY, si, kind, self.cand, 0, pool.plen, res, mine, now, pool, k)
        r = t.oldest_reusable(si, kind, now, True)
        if r >= 0 and (own is None or not eq(t.abuf, t.addr_off(r), own, 0, self.width)):
            t.addr_into(r, self.cand, 0)
            return self.take(r, si, kind, self.cand, 0, t.plen(r), res, mine, now)
        return -1

    def keep_mine(self, si, kind, res, mine, own, now):
        """choose()'s second rule alone: the client's own record `mine` when it may keep it
        (not declined, still usable), else -1. With no reservation address to try first, a
        caller may ask this before working out what the client hinted."""
        t = self.table
        if mine >= 0 and t.recs[mine * t.rec] != DECLINED:  # byte 0: state
            # read in place (abuf, addr_off: nothing below writes there), not copied into
            # cand: the v6 table keeps it written out for the reply and journal record after
            a = t.abuf
            o = t.addr_off(mine)
            pl = t.plen(mine)
            if self.usable(si, kind, a, o, pl, res, mine, own, now, True) == mine:
                # (no hardware address to refresh: no call)
                return mine if self.refresh is None else self._returning(mine, si, kind, a, o, pl, res)
        return -1

    def _free(self, si, kind, pool, own):
        """The step of a pool address no record holds, written into self.cand, or -1.
        Bitmap pools read their bitmap; larger pools walk a cursor, past at most the table's
        records."""
        t = self.table
        c = self.cand
        if pool.bits is not None:
            while True:
                k = pool.next_free()
                if k < 0:
                    return -1
                pool.nth(k, c)
                if own is not None and eq(c, 0, own, 0, self.width):
                    pool.pinned[k] = None  # our own address, learned from the arrival socket
                elif t.find_addr(c, 0, pool.plen) < 0:
                    return k
                # else a record of another subnet holds it (a journal from another config)
                pool.mark(k, True)
        tries = t.count + len(pool.pinned) + 2
        while tries > 0:
            k = pool.cursor
            pool.cursor = k + 1 if k + 1 < pool.size else 0
            tries -= 1
            if k in pool.pinned:
                continue
            add_shifted(c, 0, pool.base, 0, k, pool.shift, pool.width)  # pool.nth(k, c), one call less
            if own is not None and eq(c, 0, own, 0, self.width):
                continue
            if t.find_addr(c, 0, pool.plen) < 0:
                return k
        return -1

    def _returning(self, r, si, kind, a, off, plen, res):
        """A client gets its own record back: it may come with another hardware address or a
        reservation now (a client-id that moved to a reserved NIC): the record says so."""
        if self.refresh is not None:
            self.refresh(r, res is not None or self.reserved_for(si, a, off, plen) is not None)
        return r

    def take(self, h, si, kind, a, off, plen, res, mine, now, pool=None, k=-1):
        """Make a record this client's for a[off:]/plen: h the record holding it (or NOBODY),
        mine the client's record in si (or -1); pool and k: its pool and step, when known."""
        t = self.table
        if h >= 0 and h == mine:
            return self._returning(h, si, kind, a, off, plen, res)
        if not t.can_take(a, off, plen):
            return -1  # no room for what the record needs besides itself: as if full
        if h >= 0:
            if mine >= 0:
                t.drop(mine)  # one record per client and IA
            r = h  # take over an expired or released lease of that address
        elif mine >= 0:
            r = mine  # move the client's record to the new address
        else:
            r = Table.new(t) if self.room(res is not None) else -1  # (Table: no table overrides new)
            if r < 0:
                r = t.any_reusable(now)
                if r < 0:
                    return -1
        pinned = res is not None
        if not pinned and self.resmap[si]:  # (no reservations in si: no call)
            pinned = self.reserved_for(si, a, off, plen) is not None
        self.fresh = pool  # for the index hook (_taken) in t.take: no second search for the step
        self.fresh_k = k
        t.take(r, si, kind, a, off, plen, pinned)  # leaves it released, expiry 0
        self.fresh = None
        return r
