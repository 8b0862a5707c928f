# DHCPv6 server engine (RFC 8415 18.3), sans-I/O, on the engine contract (docs/engines.md):
#   handle(rx, n, meta, now, out) -> reply length; next_deadline(); on_timer(now, out); stats.
# IA_NA addresses and IA_PD prefixes (several IAs per message), Rapid Commit, relays (nested
# Relay-forw unwrapped, Relay-repl wrapped back with Interface-Id echoed), and Reconfigure
# with the Reconfigure Key Authentication Protocol (RFC 8415 20.4) retransmitted per 18.3.11.
# No sockets, clocks or files; persistence goes through the journal's staging buffer.
from micropython import const
from ..wire import packet6 as P
from ..state import leases6 as L
from ..slot import KIND_UNICAST
from .reconfigure6 import Reconfigure6

J_SERVER6 = const(32)  # journal: DUID length(1), DUID, Reconfigure secret(16)
J_LEASE6 = const(33)  # journal: the 52-byte lease record (leases6.REC)
J_STATE6 = const(34)  # journal: kind, plen, address(16), state, expiry(4), flags: renewals, releases
OFFER_HOLD = const(30)  # seconds an advertised address stays set aside for its client
CLIENT_PORT = const(546)
SERVER_PORT = const(547)


_COUNTERS = (
    "rx", "tx", "dropped_malformed", "dropped_type", "dropped_no_subnet", "dropped_no_client_id",
    "dropped_server_id", "dropped_not_for_us", "dropped_too_big", "dropped_unicast", "solicit", "request",
    "confirm", "renew", "rebind", "release", "decline", "info_request", "relayed", "advertise",
    "reply", "no_addrs_avail", "no_prefix_avail", "no_binding", "not_on_link", "use_multicast",
    "journal_records", "reconfigure_sent", "reconfigure_answered", "reconfigure_gave_up",
    "reconfigure_key_sent",
) + P.BAD_NAMES[1:]

# What each client message must carry (RFC 8415 16): client-id, a matching server-id, no
# server-id, or a server-id that matches when present. One table, one place.
_NEED_CID = const(1)
_NEED_SID = const(2)
_NO_SID = const(4)
_OPT_SID = const(8)
_RULES = bytes((
    0,  # -
    _NEED_CID | _NO_SID,  # SOLICIT (16.2)
    0,  # ADVERTISE: not for a server
    _NEED_CID | _NEED_SID,  # REQUEST (16.4)
    _NEED_CID | _NO_SID,  # CONFIRM (16.5)
    _NEED_CID | _NEED_SID,  # RENEW (16.6)
    _NEED_CID | _NO_SID,  # REBIND (16.7)
    0,  # REPLY
    _NEED_CID | _NEED_SID,  # RELEASE (16.9)
    _NEED_CID | _NEED_SID,  # DECLINE (16.10)
    0,  # RECONFIGURE
    _OPT_SID,  # INFORMATION-REQUEST (16.12)
))

# per-IA actions
_ASSIGN = const(0)
_EXTEND = const(1)
_RELEASE = const(2)
_DECLINE = const(3)


class Server6(Reconfigure6):
    def __init__(self, cfg, journal, capacity, duid=None, secret=None):
        self.cfg = cfg
        self.subnets = cfg.subnets
        self.journal = journal
        self.leases = L.Leases6(capacity)
        self.msg = P.Msg6()
        self.w = P.Writer6()
        self.stats = {}
        for k in _COUNTERS:
            self.stats[k] = 0
        self.duid = bytearray(130)
        self.duid_len = 0
        self.secret = bytearray(16)
        if duid is not None:
            self.set_identity(duid, secret or bytes(16))
        self._init_reconfigure()
        self.cand = bytearray(16)
        self.jrec = bytearray(24)
        self.rstack = bytearray(2 * P.HOP_LIMIT)  # Relay-msg option headers in the reply
        self.keylen = 0
        self.res = None  # this client's reservation in the subnet being served

    def set_identity(self, duid, secret):
        """The server DUID (RFC 8415 11) and the secret Reconfigure Keys are derived from."""
        self.duid_len = len(duid)
        P.copy(self.duid, 0, duid, 0, len(duid))
        P.copy(self.secret, 0, secret, 0, 16)

    # -- the engine contract ---------------------------------------------------------------

    def next_deadline(self):
        return self._reconfigure_deadline()  # the server's only timers: Reconfigures in flight

    def on_timer(self, now, out):
        return self._reconfigure_timer(now, out)

    def handle(self, rx, n, meta, now, out):
        st = self.stats
        st["rx"] += 1
        out.rx_type = 0
        out.tx_type = 0
        msg = self.msg
        err = msg.parse(rx, n)
        if err:
            st["dropped_malformed"] += 1
            st[P.BAD_NAMES[err]] += 1
            return 0
        mt = msg.mtype
        out.rx_type = mt
        self._log_client(rx, out)
        if mt >= len(_RULES) or _RULES[mt] == 0:
            return self._drop("dropped_type")
        if msg.depth:
            st["relayed"] += 1
        if not self._rules_ok(rx, mt):
            return 0
        sub = self._select_subnet(rx, meta)
        if sub is None:
            return self._drop("dropped_no_subnet")
        if meta.unicast and not msg.depth:  # relays unicast to us by design (RFC 8415 19.1)
            if mt == P.REQUEST or mt == P.RENEW or mt == P.RELEASE or mt == P.DECLINE:
                return self._use_multicast(rx, meta, out)
            return self._drop("dropped_unicast")  # RFC 8415 16: Solicit, Confirm, Rebind, Info-req
        if mt != P.INFO_REQUEST:
            c = msg.at(P.OPT_CLIENTID)
            self.keylen = self.leases.set_lookup_key(rx, c + 4, P.olen(rx, c))
            self.res = self._reservation(rx, sub)
        if mt == P.SOLICIT:
            st["solicit"] += 1
            return self._solicit(rx, sub, meta, now, out)
        if mt == P.REQUEST:
            st["request"] += 1
            return self._commit_reply(rx, sub, meta, now, out, _ASSIGN)
        if mt == P.RENEW or mt == P.REBIND:
            st["renew" if mt == P.RENEW else "rebind"] += 1
            self._reconfigure_answered()
            return self._commit_reply(rx, sub, meta, now, out, _EXTEND)
        if mt == P.RELEASE:
            st["release"] += 1
            return self._status_reply(rx, sub, meta, now, out, _RELEASE)
        if mt == P.DECLINE:
            st["decline"] += 1
            return self._status_reply(rx, sub, meta, now, out, _DECLINE)
        if mt == P.CONFIRM:
            st["confirm"] += 1
            return self._confirm(rx, sub, meta, out)
        st["info_request"] += 1
        return self._info_request(rx, sub, meta, out)

    def summary(self):
        lt = self.leases
        n = lt.held()
        return "serving DHCPv6 on %s, %d leases restored, capacity %d, server DUID %s" % (
            ", ".join(self.cfg.interfaces), n, lt.cap, self.duid_hex())

    def duid_hex(self):
        return "".join("%02x" % self.duid[i] for i in range(self.duid_len))

    def log_line(self, out, ifname, replied):
        """'SOLICIT>ADVERTISE 02:00:00:00:00:01 2001:db8:1::100 on s0' (DUID's MAC or tail)."""
        from ..wire.addr6 import ip6_str
        from ..wire.addr import mac_str
        nm = P.MSG_NAMES
        rx = nm[out.rx_type] if out.rx_type < len(nm) else str(out.rx_type)
        tx = nm[out.tx_type] if replied and out.tx_type < len(nm) else "-"
        return "%s>%s %s %s on %s" % (rx, tx, mac_str(out.hw), ip6_str(out.addr6), ifname)

    def _drop(self, counter):
        self.stats[counter] += 1
        return 0

    # -- who is asking, and from where -----------------------------------------------------------

    def _rules_ok(self, rx, mt):
        msg = self.msg
        rule = _RULES[mt]
        bad = None
        sid = msg.at(P.OPT_SERVERID)
        if rule & _NEED_CID and not msg.has(P.OPT_CLIENTID):
            bad = "dropped_no_client_id"
        elif rule & _NO_SID and sid >= 0 or rule & _NEED_SID and sid < 0:
            bad = "dropped_server_id"
        elif rule & (_NEED_SID | _OPT_SID) and sid >= 0 and not self._is_our_id(rx, sid):
            bad = "dropped_not_for_us"
        elif mt == P.INFO_REQUEST and (msg.has(P.OPT_IA_NA) or msg.has(P.OPT_IA_PD) or msg.has(P.OPT_IA_TA)):
            bad = "dropped_type"  # RFC 8415 16.12
        if bad is None:
            return True
        self.stats[bad] += 1
        return False

    def _is_our_id(self, rx, sid):
        ln = P.olen(rx, sid)
        return ln == self.duid_len and P.eq(rx, sid + 4, self.duid, 0, ln)

    def _select_subnet(self, rx, meta):
        """Relayed: the subnet holding the innermost relay's link-address, else the one named
        by its Interface-Id. Direct: the subnet bound to the arrival interface."""
        msg = self.msg
        subs = self.subnets
        if msg.depth:
            k = msg.depth - 1
            la = msg.relay_start(k) + P.R_LINK
            if not P.is_zero(rx, la, 16) and not (rx[la] == 0xFE and rx[la + 1] & 0xC0 == 0x80):
                for s in subs:
                    if s.contains(rx, la):
                        return s
            iid = msg.relay_option(rx, k, P.OPT_INTERFACE_ID)
            if iid >= 0:
                ln = P.olen(rx, iid)
                for s in subs:
                    v = s.interface_id
                    if v is not None and len(v) == ln and P.eq(v, 0, rx, iid + 4, ln):
                        return s
            return None
        for s in subs:
            if s.interface is not None and s.interface == meta.ifname:
                return s
        return None

    def _reservation(self, rx, sub):
        c = self.msg.at(P.OPT_CLIENTID)
        ln = P.olen(rx, c)
        mac = _duid_mac(rx, c + 4, ln)
        for r in sub.reservations:
            if r.duid is not None:
                if len(r.duid) == ln and P.eq(r.duid, 0, rx, c + 4, ln):
                    return r
            elif mac >= 0 and P.eq(r.hw, 0, rx, mac, 6):
                return r
        return None

    def _log_client(self, rx, out):
        c = self.msg.at(P.OPT_CLIENTID)
        hw = out.hw
        a = out.addr6
        for i in range(16):
            a[i] = 0
        if c < 0:
            for i in range(6):
                hw[i] = 0
            return
        ln = P.olen(rx, c)
        m = _duid_mac(rx, c + 4, ln)
        if m < 0:
            m = c + 4 + ln - 6 if ln >= 6 else c + 4
        for i in range(6):
            hw[i] = rx[m + i] if i < ln else 0

    # -- message handlers (one per message type) ----------------------------------------------------

    def _solicit(self, rx, sub, meta, now, out):
        rapid = sub.rapid_commit and self.msg.has(P.OPT_RAPID_COMMIT)
        if not self._begin(rx, meta, out, P.REPLY if rapid else P.ADVERTISE):
            return 0
        if rapid:
            self.w.put_empty(P.OPT_RAPID_COMMIT)  # RFC 8415 18.3.1
        self._ias(rx, sub, meta, now, out, _ASSIGN, rapid)
        if rapid:
            self._reconfigure_key(rx, now)
        self._options(rx, sub)
        return self._finish(rx, meta, out)

    def _commit_reply(self, rx, sub, meta, now, out, action):
        """Request, Renew, Rebind: bind or extend every IA, journal it, Reply."""
        if not self._begin(rx, meta, out, P.REPLY):
            return 0
        self._ias(rx, sub, meta, now, out, action, True)
        self._reconfigure_key(rx, now)
        self._options(rx, sub)
        return self._finish(rx, meta, out)

    def _status_reply(self, rx, sub, meta, now, out, action):
        """Release, Decline: Reply with top-level Success and NoBinding per unknown IA."""
        if not self._begin(rx, meta, out, P.REPLY):
            return 0
        self.w.put_status(P.SUCCESS)
        self._ias(rx, sub, meta, now, out, action, True)
        return self._finish(rx, meta, out)

    def _confirm(self, rx, sub, meta, out):
        """RFC 8415 18.3.3: Success when every address is on the link, else NotOnLink; no
        reply when the Confirm carries no address."""
        msg = self.msg
        seen = 0
        onlink = True
        ia = msg.at(P.OPT_IA_NA)
        while ia >= 0:
            e = ia + 4 + P.olen(rx, ia)
            a = P.find(rx, ia + 4 + P.IA_HDR, e, P.OPT_IAADDR)
            while a >= 0:
                seen += 1
                if not sub.contains(rx, a + 4):
                    onlink = False
                a = P.find_next(rx, a, e, P.OPT_IAADDR)
            ia = msg.next(rx, ia, P.OPT_IA_NA)
        if not seen:
            return self._drop("dropped_not_for_us")
        if not self._begin(rx, meta, out, P.REPLY):
            return 0
        if not onlink:
            self.stats["not_on_link"] += 1
        self.w.put_status(P.SUCCESS if onlink else P.NOT_ON_LINK)
        return self._finish(rx, meta, out)

    def _info_request(self, rx, sub, meta, out):
        if not self._begin(rx, meta, out, P.REPLY):
            return 0
        self._reconfigure_answered_by_info(rx)
        self._options(rx, sub)
        return self._finish(rx, meta, out)

    def _use_multicast(self, rx, meta, out):
        """RFC 8415 18.3.2 (and .4, .7, .8): we never send the Server Unicast option."""
        if not self._begin(rx, meta, out, P.REPLY):
            return 0
        self.stats["use_multicast"] += 1
        self.w.put_status(P.USE_MULTICAST)
        return self._finish(rx, meta, out)

    # -- identity associations ------------------------------------------------------------------

    def _ias(self, rx, sub, meta, now, out, action, commit):
        msg = self.msg
        kind = 0
        while kind < 2:  # L.NA, then L.PD
            code = P.OPT_IA_NA if kind == L.NA else P.OPT_IA_PD
            if action == _DECLINE and kind == L.PD:
                break  # Decline is about addresses (RFC 8415 18.2.8)
            nth = 0
            ia = msg.at(code)
            while ia >= 0:
                self.leases.set_iaid(rx, ia + 4)
                if action == _ASSIGN:
                    self._assign_ia(rx, ia, kind, nth, sub, meta, now, out, commit)
                elif action == _EXTEND:
                    self._extend_ia(rx, ia, kind, sub, meta, now, out)
                else:
                    self._end_ia(rx, ia, kind, sub, now, action)
                nth += 1
                ia = msg.next(rx, ia, code)
            kind += 1

    def _assign_ia(self, rx, ia, kind, nth, sub, meta, now, out, commit):
        lt = self.leases
        r = self._choose(rx, ia, kind, nth, sub, now)
        if r < 0:
            self.stats["no_addrs_avail" if kind == L.NA else "no_prefix_avail"] += 1
            self._ia_status(rx, ia, kind, P.NO_ADDRS_AVAIL if kind == L.NA else P.NO_PREFIX_AVAIL)
            return
        if commit:
            renewal = lt.state(r) == L.BOUND
            lt.set(r, L.BOUND, now + sub.valid)
            self._seen(r, meta)
            if renewal:
                self._journal_state(r)
            else:
                self._journal_lease(r)
        elif lt.state(r) != L.BOUND or not lt.active(r, now):
            lt.set(r, L.OFFERED, now + OFFER_HOLD)
        self._ia_lease(rx, ia, kind, r, sub, out)

    def _extend_ia(self, rx, ia, kind, sub, meta, now, out):
        """Renew / Rebind (RFC 8415 18.3.4, 18.3.5)."""
        lt = self.leases
        r = lt.find_ia(self.keylen, kind, sub.index)
        if r >= 0 and lt.state(r) == L.BOUND:
            lt.set(r, L.BOUND, now + sub.valid)
            self._seen(r, meta)
            self._journal_state(r)
            self._ia_lease(rx, ia, kind, r, sub, out)
            return
        self.stats["no_binding"] += 1
        if self.msg.mtype == P.REBIND and self._ia_off_link(rx, ia, kind, sub):
            self._ia_zero(rx, ia, kind)  # not for this link: lifetimes 0 (18.3.5)
        else:
            self._ia_status(rx, ia, kind, P.NO_BINDING)

    def _end_ia(self, rx, ia, kind, sub, now, action):
        """Release / Decline (RFC 8415 18.3.7, 18.3.8): only IAs we know are answered,
        with NoBinding."""
        lt = self.leases
        r = lt.find_ia(self.keylen, kind, sub.index)
        if r < 0 or lt.state(r) == L.FREE or not self._ia_holds(rx, ia, kind, r):
            self.stats["no_binding"] += 1
            self._ia_status(rx, ia, kind, P.NO_BINDING)
            return
        if action == _RELEASE:
            lt.set(r, L.RELEASED, now)  # keeps the client: it gets the same lease back
            self._journal_state(r)
        else:
            lt.unkey(r)  # nobody's until the probation ends
            lt.set(r, L.DECLINED, now + self.cfg.decline_probation)
            self._journal_lease(r)

    def _ia_holds(self, rx, ia, kind, r):
        """Does the client's IA list the address/prefix of record r?"""
        e = ia + 4 + P.olen(rx, ia)
        lt = self.leases
        o = r * L.REC + L.R_ADDR
        if kind == L.NA:
            a = P.find(rx, ia + 4 + P.IA_HDR, e, P.OPT_IAADDR)
            while a >= 0:
                if P.eq(rx, a + 4, lt.recs, o, 16):
                    return True
                a = P.find_next(rx, a, e, P.OPT_IAADDR)
        else:
            a = P.find(rx, ia + 4 + P.IA_HDR, e, P.OPT_IAPREFIX)
            while a >= 0:
                if rx[a + 12] == lt.plen(r) and P.eq(rx, a + 13, lt.recs, o, 16):
                    return True
                a = P.find_next(rx, a, e, P.OPT_IAPREFIX)
        return False

    def _ia_off_link(self, rx, ia, kind, sub):
        if kind != L.NA:
            return False
        e = ia + 4 + P.olen(rx, ia)
        a = P.find(rx, ia + 4 + P.IA_HDR, e, P.OPT_IAADDR)
        while a >= 0:
            if not sub.contains(rx, a + 4):
                return True
            a = P.find_next(rx, a, e, P.OPT_IAADDR)
        return False

    # -- choosing an address or prefix ----------------------------------------------------------

    def _choose(self, rx, ia, kind, nth, sub, now):
        """Record holding this IA's lease (bound to the client, state not yet set), or -1."""
        lt = self.leases
        res = self.res
        mine = lt.find_ia(self.keylen, kind, sub.index)
        c = self.cand
        if res is not None:
            if kind == L.NA and nth < len(res.addrs):
                a = res.addrs[nth]
                if self._usable(sub, a, 0, 128, kind, mine, now):
                    return self._bind(mine, sub, a, 0, 128, kind, now)
            if kind == L.PD and nth < len(res.prefixes):
                a, pl = res.prefixes[nth]
                if self._usable(sub, a, 0, pl, kind, mine, now):
                    return self._bind(mine, sub, a, 0, pl, kind, now)
        if mine >= 0 and lt.state(mine) != L.DECLINED:
            lt.addr_into(mine, c, 0)
            if self._usable(sub, c, 0, lt.plen(mine), kind, mine, now):
                return mine  # a returning client gets its lease back
        h = self._hint(rx, ia, kind, sub, mine, now)
        if h >= 0:
            return self._bind(mine, sub, rx, h, 128 if kind == L.NA else rx[h - 1], kind, now)
        pools = sub.pools if kind == L.NA else sub.pd_pools
        inactive = 0
        while inactive < 2:  # free addresses first, then expired or released ones
            for pool in pools:
                if self._scan(pool, kind, sub, mine, now, inactive):
                    return self._bind(mine, sub, c, 0, 128 if kind == L.NA else pool.dlen, kind, now)
            inactive += 1
        return -1

    def _hint(self, rx, ia, kind, sub, mine, now):
        """Offset of a usable address (or prefix) the client suggested in its IA, or -1."""
        e = ia + 4 + P.olen(rx, ia)
        code = P.OPT_IAADDR if kind == L.NA else P.OPT_IAPREFIX
        a = P.find(rx, ia + 4 + P.IA_HDR, e, code)
        while a >= 0:
            off = a + 4 if kind == L.NA else a + 13
            pl = 128 if kind == L.NA else rx[a + 12]
            if self._usable(sub, rx, off, pl, kind, mine, now):
                return off
            a = P.find_next(rx, a, e, code)
        return -1

    def _usable(self, sub, a, off, plen, kind, mine, now):
        """May this client have a[off:]/plen in sub? Inside a pool (or its reservation), not
        reserved for another client, not held by another active lease."""
        res = self.res
        own = res is not None and _res_has(res, a, off, plen, kind)
        if not own:
            if not _in_pools(sub, a, off, plen, kind) or _reserved(sub, a, off, plen, kind):
                return False
        lt = self.leases
        h = lt.find_addr(a, off, plen)
        if h < 0:
            return True
        if h == mine:
            return lt.state(h) != L.DECLINED or not lt.active(h, now)
        return not lt.active(h, now)  # another client's expired or released lease

    def _scan(self, pool, kind, sub, mine, now, inactive):
        """Find a pool address/prefix no active lease holds (with `inactive`, also ones held
        by expired or released leases) into self.cand. Bounded by the table size."""
        lt = self.leases
        c = self.cand
        tries = lt.used + len(sub.reservations) + 1
        if tries > pool.size:
            tries = pool.size
        cur = pool.cursor
        while tries > 0:
            if kind == L.NA:
                P.add_shifted(c, 0, pool.first, 0, cur, 0)
                pl = 128
            else:
                P.add_shifted(c, 0, pool.prefix, 0, cur, 128 - pool.dlen)
                pl = pool.dlen
            cur = cur + 1 if cur + 1 < pool.size else 0
            tries -= 1
            if _reserved(sub, c, 0, pl, kind):
                continue
            h = lt.find_addr(c, 0, pl)
            if h < 0 or (inactive and h != mine and not lt.active(h, now)):
                pool.cursor = cur
                return True
        return False

    def _bind(self, mine, sub, a, off, plen, kind, now):
        """Make a record this client's IA lease for a[off:]/plen. A record that changes
        hands starts as released; the caller sets the real state."""
        lt = self.leases
        h = lt.find_addr(a, off, plen)
        if h >= 0 and h == mine:
            return mine
        if h >= 0:
            if mine >= 0:
                lt.drop(mine)
            r = h  # take over an expired or released lease of that address
        elif mine >= 0:
            r = mine  # move the client's IA to the new address
        else:
            r = lt.new()
            if r < 0:
                r = lt.any_reusable(now)
                if r < 0:
                    return -1
        lt.assign(r, sub.index, self.keylen, kind, a, off, plen)
        lt.set(r, L.RELEASED, 0)
        return r

    def _seen(self, r, meta):
        lt = self.leases
        lt.recs[r * L.REC + L.R_IFX] = meta.ifindex
        lt.set_flag(r, L.F_RELAYED, self.msg.depth != 0)
        lt.set_flag(r, L.F_RECONF, self._reconf_ok())

    # -- the reply ------------------------------------------------------------------------------

    def _begin(self, rx, meta, out, mtype):
        """Relay-repl headers (outermost first, Interface-Id echoed, RFC 8415 19.3), then the
        reply header, Server-Id and Client-Id. Leaves the writer after them."""
        msg = self.msg
        b = out.buf
        w = self.w
        limit = len(b)
        p = 0
        for k in range(msg.depth):
            rs = msg.relay_start(k)
            iid = msg.relay_option(rx, k, P.OPT_INTERFACE_ID)
            ilen = 4 + P.olen(rx, iid) if iid >= 0 else 0
            if p + P.RELAY_HDR + ilen + 4 + 100 > limit:  # room left for the reply itself
                return self._drop("dropped_too_big")
            b[p] = P.RELAY_REPL
            P.copy(b, p + 1, rx, rs + 1, P.RELAY_HDR - 1)  # hop-count, link and peer addresses
            p += P.RELAY_HDR
            if iid >= 0:
                P.copy(b, p, rx, iid, ilen)
                p += ilen
            self.rstack[2 * k] = p >> 8
            self.rstack[2 * k + 1] = p & 255
            b[p] = 0
            b[p + 1] = P.OPT_RELAY_MSG
            p += 4
        s = msg.start
        b[p] = mtype
        b[p + 1] = rx[s + 1]
        b[p + 2] = rx[s + 2]
        b[p + 3] = rx[s + 3]
        out.tx_type = mtype
        w.start(b, p + 4, limit)
        w.put(P.OPT_SERVERID, self.duid, 0, self.duid_len)
        c = msg.at(P.OPT_CLIENTID)
        if c >= 0:
            w.put(P.OPT_CLIENTID, rx, c + 4, P.olen(rx, c))
        return True

    def _finish(self, rx, meta, out):
        msg = self.msg
        w = self.w
        b = out.buf
        end = w.pos
        k = msg.depth
        while k > 0:
            k -= 1
            h = (self.rstack[2 * k] << 8) | self.rstack[2 * k + 1]
            ln = end - h - 4
            b[h + 2] = ln >> 8
            b[h + 3] = ln & 255
        out.n = end
        P.copy(out.dest, 0, meta.src, 0, 16)  # RFC 8415 18.3.10: to the source (client or relay)
        out.port = meta.port if msg.depth else CLIENT_PORT
        out.kind = KIND_UNICAST
        out.ifindex = meta.ifindex
        st = self.stats
        st["tx"] += 1
        st["advertise" if out.tx_type == P.ADVERTISE else "reply"] += 1
        return end

    def _ia_open(self, rx, ia, kind, t1, t2):
        w = self.w
        h = w.begin(P.OPT_IA_NA if kind == L.NA else P.OPT_IA_PD, P.IA_HDR + 4 + P.IAPREFIX_LEN + 6)
        if h >= 0:
            w.raw(rx, ia + 4, 4)  # IAID
            w.u32(t1)
            w.u32(t2)
        return h

    def _ia_lease(self, rx, ia, kind, r, sub, out):
        """The IA with its one lease (RFC 8415 21.4/21.6, 21.21/21.22), plus any other
        address the client listed, at lifetimes 0 (18.3.4)."""
        w = self.w
        lt = self.leases
        h = self._ia_open(rx, ia, kind, sub.t1, sub.t2)
        if h < 0:
            return
        o = r * L.REC + L.R_ADDR
        if kind == L.NA:
            hh = w.begin(P.OPT_IAADDR, P.IAADDR_LEN)
            w.raw(lt.recs, o, 16)
            w.u32(sub.preferred)
            w.u32(sub.valid)
        else:
            hh = w.begin(P.OPT_IAPREFIX, P.IAPREFIX_LEN)
            w.u32(sub.preferred)
            w.u32(sub.valid)
            w.byte(lt.plen(r))
            w.raw(lt.recs, o, 16)
        w.end(hh)
        P.copy(out.addr6, 0, lt.recs, o, 16)
        self._stale(rx, ia, kind, r)
        w.end(h)

    def _stale(self, rx, ia, kind, r):
        """Addresses/prefixes the client listed that are not its lease: lifetimes 0."""
        w = self.w
        lt = self.leases
        o = r * L.REC + L.R_ADDR
        e = ia + 4 + P.olen(rx, ia)
        code = P.OPT_IAADDR if kind == L.NA else P.OPT_IAPREFIX
        a = P.find(rx, ia + 4 + P.IA_HDR, e, code)
        while a >= 0:
            if kind == L.NA:
                if not P.eq(rx, a + 4, lt.recs, o, 16) and w.room(4 + P.IAADDR_LEN + 4):
                    hh = w.begin(code, P.IAADDR_LEN)
                    w.raw(rx, a + 4, 16)
                    w.u32(0)
                    w.u32(0)
                    w.end(hh)
            elif (rx[a + 12] != lt.plen(r) or not P.eq(rx, a + 13, lt.recs, o, 16)) \
                    and not P.is_zero(rx, a + 13, 16) and w.room(4 + P.IAPREFIX_LEN + 4):
                hh = w.begin(code, P.IAPREFIX_LEN)
                w.u32(0)
                w.u32(0)
                w.raw(rx, a + 12, 17)
                w.end(hh)
            a = P.find_next(rx, a, e, code)

    def _ia_zero(self, rx, ia, kind):
        """Rebind for addresses not on this link: each listed with lifetimes 0."""
        h = self._ia_open(rx, ia, kind, 0, 0)
        if h < 0:
            return
        e = ia + 4 + P.olen(rx, ia)
        w = self.w
        a = P.find(rx, ia + 4 + P.IA_HDR, e, P.OPT_IAADDR)
        while a >= 0:
            if w.room(4 + P.IAADDR_LEN + 4):
                hh = w.begin(P.OPT_IAADDR, P.IAADDR_LEN)
                w.raw(rx, a + 4, 16)
                w.u32(0)
                w.u32(0)
                w.end(hh)
            a = P.find_next(rx, a, e, P.OPT_IAADDR)
        w.end(h)

    def _ia_status(self, rx, ia, kind, status):
        h = self._ia_open(rx, ia, kind, 0, 0)
        if h >= 0:
            self.w.put_status(status)
            self.w.end(h)

    def _options(self, rx, sub):
        """Options the client asked for in its ORO (RFC 8415 18.3.*, 21.7), then always-send."""
        msg = self.msg
        w = self.w
        opts = sub.options
        oro = msg.at(P.OPT_ORO)
        if oro >= 0:
            i = oro + 4
            e = i + P.olen(rx, oro)
            while i < e:
                v = opts.get((rx[i] << 8) | rx[i + 1])
                if v is not None:
                    w.put((rx[i] << 8) | rx[i + 1], v, 0, len(v))
                i += 2
        for code in sub.always:
            if not _in_oro(rx, oro, code):
                v = opts[code]
                w.put(code, v, 0, len(v))

    # -- journal ---------------------------------------------------------------------------

    def _journal_lease(self, r):
        self.journal.append(J_LEASE6, self.leases.recs, r * L.REC, L.REC)
        self.stats["journal_records"] += 1

    def _journal_state(self, r):
        recs = self.leases.recs
        o = r * L.REC
        j = self.jrec
        j[0] = recs[o + L.R_KIND]
        j[1] = recs[o + L.R_PLEN]
        P.copy(j, 2, recs, o + L.R_ADDR, 16)
        j[18] = recs[o + L.R_STATE]
        P.copy(j, 19, recs, o + L.R_EXPIRY, 4)
        j[23] = recs[o + L.R_FLAGS]
        self.journal.append(J_STATE6, j, 0, 24)
        self.stats["journal_records"] += 1

    def restore(self):
        """Load the journal (identity and leases), then rewrite it compacted."""
        self.journal.load(self._apply)
        self.journal.rewrite(self.dump)

    def _apply(self, typ, buf, off, ln):
        lt = self.leases
        if typ == J_SERVER6 and ln >= 1 and buf[off] + 17 == ln:
            dl = buf[off]
            self.duid_len = dl
            P.copy(self.duid, 0, buf, off + 1, dl)
            P.copy(self.secret, 0, buf, off + 1 + dl, 16)
        elif typ == J_LEASE6 and ln == L.REC:
            si = buf[off + L.R_SUBNET]
            if si >= len(self.subnets) or not self.subnets[si].contains(buf, off + L.R_ADDR) and buf[off + L.R_KIND] == L.NA:
                return  # the config changed: that subnet is gone
            r = lt.find_addr(buf, off + L.R_ADDR, buf[off + L.R_PLEN])
            if r < 0:
                r = lt.new()
                if r < 0:
                    return
            P.copy(lt.key, 0, buf, off + L.R_KEY, L.KEYMAX)
            lt.set_iaid(buf, off + L.R_IAID)
            lt.assign(r, si, buf[off + L.R_KEYLEN], buf[off + L.R_KIND], buf, off + L.R_ADDR, buf[off + L.R_PLEN])
            o = r * L.REC
            P.copy(lt.recs, o + L.R_STATE, buf, off + L.R_STATE, 1)
            P.copy(lt.recs, o + L.R_EXPIRY, buf, off + L.R_EXPIRY, 4)
            lt.recs[o + L.R_FLAGS] = buf[off + L.R_FLAGS] | L.F_INDEXED
            lt.recs[o + L.R_IFX] = buf[off + L.R_IFX]
        elif typ == J_STATE6 and ln == 24:
            r = lt.find_addr(buf, off + 2, buf[off + 1])
            if r >= 0:
                o = r * L.REC
                lt.recs[o + L.R_STATE] = buf[off + 18]
                P.copy(lt.recs, o + L.R_EXPIRY, buf, off + 19, 4)
                lt.recs[o + L.R_FLAGS] = buf[off + 23] | L.F_INDEXED

    def dump(self, journal):
        """Compaction: the server identity, then every lease worth keeping."""
        j = bytearray(1 + self.duid_len + 16)  # once per compaction, not per packet
        j[0] = self.duid_len
        P.copy(j, 1, self.duid, 0, self.duid_len)
        P.copy(j, 1 + self.duid_len, self.secret, 0, 16)
        journal.append(J_SERVER6, j, 0, len(j))
        lt = self.leases
        for r in range(lt.used):
            s = lt.state(r)
            if s == L.BOUND or s == L.RELEASED or s == L.DECLINED:
                self._journal_lease(r)


def _duid_mac(b, off, ln):
    """Offset of the MAC in a DUID-LLT (type 1) or DUID-LL (type 3) with htype 1, or -1."""
    if ln == 14 and b[off] == 0 and b[off + 1] == 1 and b[off + 2] == 0 and b[off + 3] == 1:
        return off + 8
    if ln == 10 and b[off] == 0 and b[off + 1] == 3 and b[off + 2] == 0 and b[off + 3] == 1:
        return off + 4
    return -1


def _in_pools(sub, a, off, plen, kind):
    if kind == L.NA:
        for pool in sub.pools:
            if P.cmp16(a, off, pool.first, 0) >= 0 and P.cmp16(a, off, pool.last, 0) <= 0:
                return True
        return False
    for pool in sub.pd_pools:
        if plen == pool.dlen and _prefix_match(a, off, pool.prefix, pool.plen):
            return True
    return False


def _prefix_match(a, off, net, plen):
    i = 0
    while plen >= 8:
        if a[off + i] != net[i]:
            return False
        plen -= 8
        i += 1
    if plen:
        m = (0xFF << (8 - plen)) & 255
        if a[off + i] & m != net[i] & m:
            return False
    return True


def _res_has(res, a, off, plen, kind):
    if kind == L.NA:
        for x in res.addrs:
            if P.eq(x, 0, a, off, 16):
                return True
        return False
    for x, pl in res.prefixes:
        if pl == plen and P.eq(x, 0, a, off, 16):
            return True
    return False


def _reserved(sub, a, off, plen, kind):
    """Is a[off:]/plen reserved for some client of sub (callers exclude the client's own)?"""
    for r in sub.reservations:
        if _res_has(r, a, off, plen, kind):
            return True
    return False


def _in_oro(rx, oro, code):
    if oro < 0:
        return False
    i = oro + 4
    e = i + P.olen(rx, oro)
    while i < e:
        if (rx[i] << 8) | rx[i + 1] == code:
            return True
        i += 2
    return False
