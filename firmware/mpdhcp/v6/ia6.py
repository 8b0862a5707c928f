# DHCPv6 identity associations (RFC 8415 21.4, 21.5, 21.21): what the server does with each
# IA_NA, IA_PD and IA_TA of a message, and the IA options it writes into the reply. Held by server6.Server6
# (one object, made once); addresses and prefixes come from the one allocator (state/alloc.py)
# and every change of a lease goes through the table's verbs, which journal it.
from micropython import const
from ..wire import packet6 as P
from ..state import leases6 as L
from ..state.table import Table

OFFER_HOLD = const(30)  # seconds an advertised address stays set aside for its client

# what a message does to each IA it carries
ASSIGN = const(0)  # Solicit, Request (18.3.1, 18.3.2)
EXTEND = const(1)  # Renew, Rebind (18.3.4, 18.3.5)
RELEASE = const(2)  # Release (18.3.7)
DECLINE = const(3)  # Decline (18.3.8)

_CODES = (P.OPT_IA_NA, P.OPT_IA_PD, P.OPT_IA_TA)  # the order IAs are answered in (made once)
_IA_ROOM = P.IA_HDR + 4 + P.IAPREFIX_LEN + 6  # an IA with one lease fits: else it is left out


class IA6:
    def __init__(self, server):
        self.srv = server
        self.msg = server.msg
        self.w = server.w
        self.leases = server.leases
        self.alloc = server.alloc
        self.stats = server.stats
        self.actions = (self._assign, self._extend, self._end, self._end)
        self.pref = self.valid = self.t1 = self.t2 = 0  # the message's leases' (_lifetimes, set by each)
        self.code = P.OPT_IA_NA  # the IA being answered: its option code and fixed part
        self.hdr = P.IA_HDR
        self.relayed = self.reconf = False  # the client bound or renewing: for Leases6.seen

    def _lifetimes(self, sub, now):
        """The lifetimes and T1/T2 of a lease of sub from now: the config's; in router mode
        no longer than what is left of the delegated prefix (RFC 9096: a LAN lease never
        outlives the WAN prefix it comes from), T1/T2 then 0.5 and 0.8 of the preferred."""
        self.pref = sub.preferred  # (one by one: a 4-tuple assignment allocates on MicroPython)
        self.valid = sub.valid
        self.t1 = sub.t1
        self.t2 = sub.t2
        if sub.valid_at:
            v = sub.valid_at - now if sub.valid_at > now else 0
            pf = sub.pref_at - now if sub.pref_at > now else 0
            if v < self.valid:
                self.valid = v
            if pf < self.pref:
                self.pref = pf
            if self.pref > self.valid:
                self.pref = self.valid
            if self.t2 > self.pref:
                self.t1 = self.pref // 2
                self.t2 = self.pref * 4 // 5

    def each(self, rx, sub, meta, now, out, action, commit):
        """Apply `action` to every IA_NA, every IA_PD, then every IA_TA of the message. An
        IA_TA (RFC 8415 21.5) is an IA_NA without T1/T2: addresses from the same pools, its
        own binding (the table's cta), never a reserved address."""
        lt = self.leases
        msg = self.msg
        if commit:  # what seen() records of the client, the same for each IA of the message
            self.relayed = msg.depth != 0
            self.reconf = self.srv.rc.accepted()
        if action <= EXTEND:  # the lifetimes of what it gets: the same for each IA of the message
            self._lifetimes(sub, now)
        for code in _CODES:
            ia = msg.at(code)
            if ia < 0 or action == DECLINE and code == P.OPT_IA_PD:
                continue  # none; or Decline, which is about addresses (RFC 8415 18.2.8)
            kind = L.PD if code == P.OPT_IA_PD else L.NA
            lt.cta = code == P.OPT_IA_TA
            self.code = code
            self.hdr = P.TA_HDR if lt.cta else P.IA_HDR
            nth = 0
            while ia >= 0:
                P.copy(lt.iaid, 0, rx, ia + 4, 4)  # lt.set_iaid, one call less
                self.actions[action](rx, ia, kind, nth, sub, meta, now, out, commit, action)
                nth += 1
                # msg.next, in one kernel call
                ia = P.find(rx, ia + 4 + ((rx[ia + 2] << 8) | rx[ia + 3]), msg.end, code)
        lt.cta = False
        self.code = P.OPT_IA_NA
        self.hdr = P.IA_HDR

    def _assign(self, rx, ia, kind, nth, sub, meta, now, out, commit, action):
        """Solicit / Request (and a renumbered Renew): the record holding this IA's lease from
        the one allocator (the client's reserved address or prefix, the one it holds, its
        hint...), offered or bound; else the IA's NoAddrsAvail / NoPrefixAvail."""
        lt = self.leases
        res = None if lt.cta else self.srv.res  # (_res(), in place)
        ra = None
        rplen = 128
        if res is not None:
            if kind == L.NA and nth < len(res.addrs):
                ra = res.addrs[nth]
            elif kind == L.PD and nth < len(res.prefixes):
                ra = res.prefixes[nth][0]
                rplen = res.prefixes[nth][1]
        mine = lt.find_ia(lt.ckeylen, kind, sub.index, lt.ckh)  # find_mine, one call less
        r = -1
        if ra is None and mine >= 0:  # choose() would keep it before looking at any hint
            r = self.alloc.keep_mine(sub.index, kind, res, mine, None, now)
        if r < 0:  # (an IA with nothing past its fixed part hints nothing: no _hint call)
            h = self._hint(rx, ia, kind, sub, mine, now) if (rx[ia + 2] << 8) | rx[ia + 3] > self.hdr else -1
            r = self.alloc.choose(sub.index, kind, res, ra, rplen, rx if h >= 0 else None, h,
                                  128 if kind == L.NA else (rx[h - 1] if h >= 0 else 0), mine, None, now)
        if r < 0:
            self.stats["no_addrs_avail" if kind == L.NA else "no_prefix_avail"] += 1
            self.status(rx, ia, kind, P.NO_ADDRS_AVAIL if kind == L.NA else P.NO_PREFIX_AVAIL,
                        sub if action == EXTEND else None)
            return
        # the table's verbs by class name (Table.bind(lt, ..)): a base method looked up on a
        # Leases6 misses its class dict first (table.py), and the state read in place
        if commit:
            lt.seen(r, meta.ifindex, self.relayed, self.reconf)  # where seen, Reconfigure accepted?
            Table.bind(lt, r, now + self.valid)
        elif lt.recs[r * L.REC] != L.BOUND or not Table.active(lt, r, now):
            Table.offer(lt, r, now + OFFER_HOLD)
        self._lease(rx, ia, kind, r, sub, out)

    def _extend(self, rx, ia, kind, nth, sub, meta, now, out, commit, action):
        """Renew / Rebind (RFC 8415 18.3.4, 18.3.5)."""
        lt = self.leases
        r = lt.find_ia(lt.ckeylen, kind, sub.index, lt.ckh)  # find_mine
        bound = r >= 0 and lt.recs[r * L.REC] == L.BOUND  # (state, in place)
        if bound and sub.delegated is not None and not sub.holds(kind, lt.abuf, lt.addr_off(r), lt.plen(r)):
            # the link was renumbered (router mode; a fixed subnet holds all it leased): a new
            # address or prefix; the old one is listed with lifetimes 0 as one the client has
            # that is not its lease (18.3.4)
            return self._assign(rx, ia, kind, nth, sub, meta, now, out, commit, action)
        if bound:
            lt.seen(r, meta.ifindex, self.relayed, self.reconf)  # where seen, Reconfigure accepted?
            Table.bind(lt, r, now + self.valid)
            self._lease(rx, ia, kind, r, sub, out)
            return
        self.stats["no_binding"] += 1
        if self.msg.mtype == P.REBIND and self._off_link(rx, ia, kind, sub):
            self._zero(rx, ia, kind)  # not for this link: lifetimes 0 (18.3.5)
        else:
            self.status(rx, ia, kind, P.NO_BINDING)

    def _end(self, rx, ia, kind, nth, sub, meta, now, out, commit, action):
        """Release / Decline (RFC 8415 18.3.7, 18.3.8): only IAs we know are answered,
        with NoBinding."""
        lt = self.leases
        r = lt.find_mine(sub.index, kind)
        if r < 0 or lt.state(r) == L.FREE or not self._holds(rx, ia, kind, r):
            self.stats["no_binding"] += 1
            self.status(rx, ia, kind, P.NO_BINDING)
            return
        if action == RELEASE:
            lt.release(r, now)  # keeps the client: it gets the same lease back
        else:
            lt.decline(r, now + self.srv.cfg.decline_probation)  # nobody's until then

    def _holds(self, rx, ia, kind, r):
        """Does the client's IA list the address/prefix of record r?"""
        e = ia + 4 + P.olen(rx, ia)
        lt = self.leases
        o = lt.addr_off(r)
        code = P.OPT_IAADDR if kind == L.NA else P.OPT_IAPREFIX
        a = P.find(rx, ia + 4 + self.hdr, e, code)
        while a >= 0:
            if kind == L.NA and P.eq(rx, a + 4, lt.abuf, o, 16):
                return True
            if kind == L.PD and rx[a + 12] == lt.plen(r) and P.eq(rx, a + 13, lt.abuf, o, 16):
                return True
            a = P.find_next(rx, a, e, code)
        return False

    def _off_link(self, rx, ia, kind, sub):
        if kind != L.NA:
            return False
        e = ia + 4 + P.olen(rx, ia)
        a = P.find(rx, ia + 4 + self.hdr, e, P.OPT_IAADDR)
        while a >= 0:
            if not sub.contains(rx, a + 4):
                return True
            a = P.find_next(rx, a, e, P.OPT_IAADDR)
        return False

    # -- the hint an IA gives the one allocator (state/alloc.py, asked by _assign) -----------

    def _hint(self, rx, ia, kind, sub, mine, now):
        """Offset of a usable address (or prefix) the client suggested in its IA, or -1."""
        e = ia + 4 + P.olen(rx, ia)
        code = P.OPT_IAADDR if kind == L.NA else P.OPT_IAPREFIX
        a = P.find(rx, ia + 4 + self.hdr, e, code)
        while a >= 0:
            off = a + 4 if kind == L.NA else a + 13
            pl = 128 if kind == L.NA else rx[a + 12]
            if self.alloc.usable(sub.index, kind, rx, off, pl, self._res(), mine, None, now) != -1:
                return off
            a = P.find_next(rx, a, e, code)
        return -1

    # -- the IA options of the reply ----------------------------------------------------------

    def _res(self):
        """The client's reservation for the IA being answered: none for an IA_TA (a
        temporary address is never a reserved one)."""
        return None if self.leases.cta else self.srv.res

    def _open(self, rx, ia, kind, t1, t2):
        """The IA option of the reply, its IAID, and T1/T2 unless it is an IA_TA (21.5)."""
        w = self.w
        h = w.begin(self.code, _IA_ROOM)
        if h >= 0:
            w.raw(rx, ia + 4, 4)  # IAID
            if self.code != P.OPT_IA_TA:
                w.u32(t1)
                w.u32(t2)
        return h

    def _lease(self, rx, ia, kind, r, sub, out):
        """The IA with its one lease (RFC 8415 21.4/21.6, 21.21/21.22), plus any other
        address the client listed, at lifetimes 0 (18.3.4)."""
        w = self.w
        lt = self.leases
        h = w.pos
        if h + 4 + _IA_ROOM > w.limit:  # as _open (w.room)
            return
        o = lt.addr_off(r)
        plen = lt.recs[r * L.REC + L.R_PLEN]  # (plen(r), in place)
        # _open's IA and its IAADDR or IAPREFIX in one kernel call (kind NA: code is IA_NA or IA_TA)
        p = w.pos = P.ia_lease(w.buf, h, self.code, rx, ia + 4, self.t1, self.t2, lt.abuf, o, plen,
                               self.pref, self.valid)
        if self.srv.logs and P.is_zero(out.addr6, 0, 16):  # the log names the reply's first lease
            P.copy(out.addr6, 0, lt.abuf, o, 16)
        e = ia + 4 + ((rx[ia + 2] << 8) | rx[ia + 3])
        if e > ia + 4 + self.hdr:  # (an IA listing nothing: no call)
            code = P.OPT_IAADDR if kind == L.NA else P.OPT_IAPREFIX
            a = P.ia_stale(rx, ia + 4 + self.hdr, e, code, lt.abuf, o, plen)
            if a >= 0:  # (a client listing its lease alone: no call)
                self._stale(rx, a, e, code, o, plen)
        if w.pos != p:  # (ia_lease set the length of what it wrote)
            w.end(h)

    def _stale(self, rx, a, e, code, o, plen):
        """Addresses/prefixes the client listed that are not its lease (lt.abuf[o:]/plen),
        from the IAADDR or IAPREFIX at a on: lifetimes 0."""
        w = self.w
        lt = self.leases
        while a >= 0:
            if code == P.OPT_IAADDR:
                if w.room(4 + P.IAADDR_LEN + 4):
                    self._addr_zero(rx, a)
            elif w.room(4 + P.IAPREFIX_LEN + 4):
                self._prefix_zero(rx, a)
            a = P.ia_stale(rx, a + 4 + P.olen(rx, a), e, code, lt.abuf, o, plen)

    def _prefix_zero(self, rx, a):
        w = self.w
        hh = w.begin(P.OPT_IAPREFIX, P.IAPREFIX_LEN)
        w.u32(0)
        w.u32(0)
        w.raw(rx, a + 12, 17)
        w.end(hh)

    def _addr_zero(self, rx, a):
        w = self.w
        hh = w.begin(P.OPT_IAADDR, P.IAADDR_LEN)
        w.raw(rx, a + 4, 16)
        w.u32(0)
        w.u32(0)
        w.end(hh)

    def _zero(self, rx, ia, kind):
        """Rebind for addresses not on this link: each listed with lifetimes 0."""
        h = self._open(rx, ia, kind, 0, 0)
        if h < 0:
            return
        e = ia + 4 + P.olen(rx, ia)
        a = P.find(rx, ia + 4 + self.hdr, e, P.OPT_IAADDR)
        while a >= 0:
            if self.w.room(4 + P.IAADDR_LEN + 4):
                self._addr_zero(rx, a)
            a = P.find_next(rx, a, e, P.OPT_IAADDR)
        self.w.end(h)

    def status(self, rx, ia, kind, status, sub=None):
        """The IA with a status code; with sub (a Renew or Rebind), each address the client
        listed that is no longer in sub also goes back at lifetimes 0 (18.3.4, 18.3.5): a
        renumbered link whose new prefix has nothing left for the client."""
        h = self._open(rx, ia, kind, 0, 0)
        if h < 0:
            return
        self.w.put_status(status)
        if sub is not None:
            e = ia + 4 + P.olen(rx, ia)
            code = P.OPT_IAADDR if kind == L.NA else P.OPT_IAPREFIX
            a = P.find(rx, ia + 4 + self.hdr, e, code)
            while a >= 0:
                if kind == L.NA:
                    if not sub.holds(kind, rx, a + 4, 128) and self.w.room(4 + P.IAADDR_LEN + 4):
                        self._addr_zero(rx, a)
                elif not sub.holds(kind, rx, a + 13, rx[a + 12]) and not P.is_zero(rx, a + 13, 16) \
                        and self.w.room(4 + P.IAPREFIX_LEN + 4):
                    self._prefix_zero(rx, a)
                a = P.find_next(rx, a, e, code)
        self.w.end(h)
