# DHCPv4 server engine (RFC 2131 4.3, RFC 2132, RFC 3046), sans-I/O:
#   handle(rx, n, meta, now, out) -> reply length; next_deadline(); on_timer(now, out); stats.
# No sockets, clocks or files here; persistence goes through the journal's staging buffer.
from micropython import const
from ..wire import packet4 as P
from ..state import leases4 as L
from ..slot import KIND_UNICAST, KIND_BROADCAST
from ..wire.addr import ip4_str, mac_str

J_LEASE4 = const(1)  # journal record: the 40-byte lease record, then hostname length + bytes
J_STATE4 = const(2)  # journal record: address(4), state(1), expiry(4): renewals, releases
OFFER_HOLD = const(30)  # seconds an offered address stays set aside for its client
CLIENT_PORT = const(68)
SERVER_PORT = const(67)

_COUNTERS = (
    "rx", "tx", "dropped_malformed", "dropped_type", "dropped_no_subnet", "dropped_bad_request",
    "dropped_not_for_us", "pool_exhausted", "discover", "request", "decline", "release",
    "inform", "offer", "ack", "nak", "journal_records",
) + P.BAD_NAMES[1:]

_ZERO192 = bytes(192)
_NAMES = ("-", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM")

# Replies to these states of REQUEST (RFC 2131 4.3.2)
_SELECTING = const(1)
_INIT_REBOOT = const(2)
_RENEWING = const(3)  # also REBINDING: same checks, only the destination differs


class Server4:
    def __init__(self, cfg, journal, capacity):
        self.cfg = cfg
        self.subnets = cfg.subnets
        self.journal = journal
        self.leases = L.Leases4(capacity)
        self.opts = P.Options()
        self.w = P.Writer()
        self.stats = {}
        for k in _COUNTERS:
            self.stats[k] = 0
        self.scratch = bytearray(256)  # option data gathered from the request
        self.jrec = bytearray(L.REC + L.NAME + 9)  # one journal record being built
        self.target = bytearray(4)  # the address a request is about
        self.cand = bytearray(4)
        self.done = bytearray(256)  # options already written into the reply
        self.keylen = 0
        self.keyflags = 0
        self._now = 0
        self.res = None  # the reservation _choose found for the client being answered
        self.cursor = [0] * len(self.subnets)  # next pool offset to try, per subnet
        # reserved host offset -> reservation, per subnet (config time, looked up by int)
        self.reserved = []
        for s in self.subnets:
            d = {}
            for r in s.reservations:
                if r.addr:
                    d[_offset(s, r.addr)] = r
            self.reserved.append(d)

    # -- the engine contract ---------------------------------------------------------------

    def next_deadline(self):
        return None  # the server has no timers: expiry is judged when an address is needed

    def on_timer(self, now, out):
        return 0

    def handle(self, rx, n, meta, now, out):
        st = self.stats
        st["rx"] += 1
        err = self.opts.parse(rx, n)
        if err:
            st["dropped_malformed"] += 1
            st[P.BAD_NAMES[err]] += 1
            return 0
        mt = self.opts.byte(rx, P.OPT_MSG_TYPE, 0)
        out.rx_type = mt  # for the log line, also when no reply goes out
        out.tx_type = 0
        P.copy(out.hw, 0, rx, P.CHADDR, 6)
        req = self.opts.at(P.OPT_REQUESTED_IP)
        P.copy(out.addr, 0, rx, req if req >= 0 else P.CIADDR, 4)
        sub = self._select_subnet(rx, meta)
        if mt == P.INFORM:
            st["inform"] += 1
            return self._inform(rx, sub, meta, out) if sub else self._drop("dropped_no_subnet")
        if mt != P.DISCOVER and mt != P.REQUEST and mt != P.DECLINE and mt != P.RELEASE:
            return self._drop("dropped_type")
        if sub is None:
            return self._drop("dropped_no_subnet")
        self._load_key(rx)
        if mt == P.DISCOVER:
            st["discover"] += 1
            return self._discover(rx, sub, meta, now, out)
        if mt == P.REQUEST:
            st["request"] += 1
            return self._request(rx, sub, meta, now, out)
        if mt == P.DECLINE:
            st["decline"] += 1
            return self._decline(rx, sub, meta, now)
        st["release"] += 1
        return self._release(rx, sub, meta, now)

    def summary(self):
        lt = self.leases
        n = lt.held()
        return "serving DHCPv4 on %s, %d leases restored, capacity %d" % (
            ", ".join(i[0] for i in self.cfg.interfaces), n, lt.cap)

    def log_line(self, out, ifname, replied):
        """One line per exchange, e.g. 'REQUEST>ACK 02:00:00:00:00:01 192.168.77.100 on br0'."""
        n = _NAMES
        rx = n[out.rx_type] if out.rx_type < len(n) else str(out.rx_type)
        tx = n[out.tx_type] if replied and out.tx_type < len(n) else "-"
        return "%s>%s %s %s on %s" % (rx, tx, mac_str(out.hw), ip4_str(out.addr), ifname)

    def _drop(self, counter):
        self.stats[counter] += 1
        return 0

    # -- who is asking, and from where -------------------------------------------------------

    def _select_subnet(self, rx, meta):
        """Relayed: the subnet holding giaddr or listing it as a relay. Direct: the subnet
        bound to the arrival interface, else the one holding the interface address, else the
        one holding ciaddr (a renewal unicast to us)."""
        subs = self.subnets
        if not P.addr_is_zero(rx, P.GIADDR):
            for s in subs:
                if s.contains(rx, P.GIADDR):
                    return s
            for s in subs:
                for a in s.relays:
                    if P.addr_eq(a, 0, rx, P.GIADDR):
                        return s
            return None
        for s in subs:
            if s.interface is not None and s.interface == meta.ifname:
                return s
        for s in subs:
            if s.contains(meta.ifaddr):
                return s
        if not P.addr_is_zero(rx, P.CIADDR):
            for s in subs:
                if s.contains(rx, P.CIADDR):
                    return s
        return None

    def _load_key(self, rx):
        """Client identity: option 61 when present, else htype + chaddr (RFC 2131 4.2)."""
        o = self.opts
        if o.has(P.OPT_CLIENT_ID):
            ln = o.gather(rx, P.OPT_CLIENT_ID, self.scratch, 0, 255)
            self.keylen = self.leases.set_lookup_key(self.scratch, 0, ln)
            self.keyflags = L.F_CID
        else:
            s = self.scratch
            s[0] = rx[P.HTYPE]
            P.copy(s, 1, rx, P.CHADDR, 6)
            self.keylen = self.leases.set_lookup_key(s, 0, 7)
            self.keyflags = 0

    def _reservation(self, rx, sub):
        """This client's reservation in sub, or None (matched by client-id or hw-address)."""
        o = self.opts
        cid = o.at(P.OPT_CLIENT_ID)
        for r in sub.reservations:
            if r.hw is not None:
                if _eq(r.hw, rx, P.CHADDR, 6):
                    return r
            elif cid >= 0 and len(r.cid) == rx[cid - 1] and _eq(r.cid, rx, cid, len(r.cid)):
                return r
        return None

    # -- choosing an address -----------------------------------------------------------------

    def _usable(self, sub, a, aoff, res, now):
        """May this client (key loaded) have address a[aoff:] in sub? Returns the record that
        holds it (-2 when no record does), or -1 when the address is not available."""
        if not sub.contains(a, aoff):
            return -1
        off = _offset(sub, a, aoff)
        r = self.reserved[sub.index].get(off)
        if r is not None and r is not res:
            return -1  # reserved for someone else
        if r is None and not _in_pools(sub, off):
            return -1
        lr = self.leases.find_addr(a, aoff)
        if lr < 0:
            return -2
        mine = self.leases._key_matches(lr, self.keylen, self.keyflags)
        if self.leases.active(lr, now) and not mine:
            return -1
        if mine and self.leases.state(lr) == L.DECLINED and self.leases.active(lr, now):
            return -1
        return lr

    def _choose(self, rx, sub, meta, now):
        """Record for the address to offer this client, or -1 when the pool is exhausted."""
        lt = self.leases
        res = self._reservation(rx, sub)
        self.res = res  # the OFFER names its hostname: looked up once per DISCOVER
        if res is not None and res.addr is not None:
            r = self._usable(sub, res.addr, 0, res, now)
            if r != -1:
                return self._bind_record(r, sub, res.addr, 0, rx)
        mine = lt.find_key(self.keylen, self.keyflags, sub.index)
        if mine >= 0 and (res is None or res.addr is None):
            lt.addr_into(mine, self.cand, 0)
            if self._usable(sub, self.cand, 0, res, now) == mine:
                return mine  # a returning client gets its address back
        req = self.opts.at(P.OPT_REQUESTED_IP)
        if req >= 0:
            r = self._usable(sub, rx, req, res, now)
            if r != -1:
                return self._bind_record(r, sub, rx, req, rx)
        if self._scan_pool(sub, meta, now):
            return self._bind_record(-2, sub, self.cand, 0, rx)
        r = lt.oldest_reusable(sub.index, now)
        if r >= 0:
            lt.addr_into(r, self.cand, 0)
            return self._bind_record(r, sub, self.cand, 0, rx)
        self.stats["pool_exhausted"] += 1
        return -1

    def _scan_pool(self, sub, meta, now):
        """Find an address in sub's pools that no record holds; leaves it in self.cand."""
        lt = self.leases
        reserved = self.reserved[sub.index]
        total = 0
        for a, b in sub.pools:
            total += b - a + 1
        cur = self.cursor[sub.index]
        tries = 0
        while tries < total:
            off = _nth(sub, cur)
            cur = cur + 1 if cur + 1 < total else 0
            tries += 1
            if off in reserved:
                continue
            _put_offset(sub, off, self.cand)
            if P.addr_eq(self.cand, 0, meta.ifaddr, 0):
                continue  # never hand out our own address
            if lt.find_addr(self.cand, 0) < 0:
                self.cursor[sub.index] = cur
                return True
        return False

    def _bind_record(self, r, sub, a, aoff, rx):
        """Make record r (or a new one when r == -2) this client's, for address a[aoff:].
        A record that changes hands starts as released; the caller sets the real state."""
        lt = self.leases
        if r >= 0 and lt._key_matches(r, self.keylen, self.keyflags) and lt.subnet(r) == sub.index:
            return r  # already this client's, at this address
        old = lt.find_key(self.keylen, self.keyflags, sub.index)
        if r == -2:
            if old >= 0:
                r = old  # move the client's record to the new address
            else:
                r = lt.new()
                if r < 0:
                    r = lt.any_reusable(self._now)
                    if r < 0:
                        self.stats["pool_exhausted"] += 1
                        return -1
        elif old >= 0 and old != r:
            lt.drop(old)  # one record per client and subnet
        lt.assign(r, sub.index, self.keylen, self.keyflags, a, aoff, rx, P.CHADDR)
        lt.set(r, L.RELEASED, 0)
        return r

    # -- message handlers (one per message type) ---------------------------------------------

    def _discover(self, rx, sub, meta, now, out):
        self._now = now
        r = self._choose(rx, sub, meta, now)
        if r < 0:
            return 0
        lt = self.leases
        if lt.state(r) != L.BOUND or not lt.active(r, now):
            lt.set(r, L.OFFERED, now + OFFER_HOLD)
        lt.addr_into(r, self.target, 0)
        self.stats["offer"] += 1
        return self._reply(rx, P.OFFER, self.target, sub, meta, out, self.res)

    def _request_kind(self, rx):
        o = self.opts
        if o.has(P.OPT_SERVER_ID):
            return _SELECTING
        if o.has(P.OPT_REQUESTED_IP):
            return _INIT_REBOOT
        return _RENEWING if not P.addr_is_zero(rx, P.CIADDR) else 0

    def _request(self, rx, sub, meta, now, out):
        self._now = now
        o = self.opts
        kind = self._request_kind(rx)
        if kind == 0:
            return self._drop("dropped_bad_request")
        if kind == _SELECTING:
            if not P.addr_eq(rx, o.at(P.OPT_SERVER_ID), meta.ifaddr, 0):
                return self._lost_selection(sub, now)
            if not o.has(P.OPT_REQUESTED_IP):
                return self._drop("dropped_bad_request")
        t = self.target
        src = o.at(P.OPT_REQUESTED_IP) if kind != _RENEWING else P.CIADDR
        P.copy(t, 0, rx, src, 4)
        res = self._reservation(rx, sub)
        known = self.leases.find_key(self.keylen, self.keyflags, sub.index)
        if res is not None and res.addr is not None and not P.addr_eq(res.addr, 0, t, 0):
            return self._nak(rx, sub, meta, out)  # reservations win: move the client there
        r = self._usable(sub, t, 0, res, now)
        if r == -1:
            if known < 0 and not sub.authoritative and kind != _SELECTING and sub.contains(t, 0) \
                    and self.leases.find_addr(t, 0) < 0:
                # RFC 2131 4.3.2: an unknown client with an address we never managed (in our
                # subnet, outside our pools): it may be another server's, stay silent
                return self._drop("dropped_not_for_us")
            return self._nak(rx, sub, meta, out)
        renewal = r >= 0 and r == known and self.leases.state(r) == L.BOUND
        r = self._bind_record(r, sub, t, 0, rx)
        if r < 0:
            return self._nak(rx, sub, meta, out)
        return self._ack_lease(rx, r, sub, meta, now, out, res, renewal)

    def _lost_selection(self, sub, now):
        """The client chose another server: free what we offered it (RFC 2131 4.3.2)."""
        lt = self.leases
        r = lt.find_key(self.keylen, self.keyflags, sub.index)
        if r >= 0 and lt.state(r) == L.OFFERED:
            lt.set(r, L.RELEASED, now)
        return self._drop("dropped_not_for_us")

    def _ack_lease(self, rx, r, sub, meta, now, out, res, renewal):
        lt = self.leases
        lt.set(r, L.BOUND, now + sub.valid)
        if renewal:
            self._journal_state(r)  # only the expiry moved: a 14-byte record
        else:
            o = self.opts
            if res is not None and res.hostname is not None:
                lt.set_name(r, res.hostname, 0, len(res.hostname))
            elif o.has(P.OPT_HOSTNAME):
                ln = o.gather(rx, P.OPT_HOSTNAME, self.scratch, 0, 255)
                lt.set_name(r, self.scratch, 0, ln)
            self._journal_lease(r)
        self.stats["ack"] += 1
        lt.addr_into(r, self.target, 0)
        return self._reply(rx, P.ACK, self.target, sub, meta, out, res)

    def _decline(self, rx, sub, meta, now):
        o = self.opts
        sid = o.at(P.OPT_SERVER_ID)
        req = o.at(P.OPT_REQUESTED_IP)
        if req < 0 or (sid >= 0 and not P.addr_eq(rx, sid, meta.ifaddr, 0)):
            return self._drop("dropped_not_for_us")
        lt = self.leases
        r = lt.find_addr(rx, req)
        if r < 0 or not lt._key_matches(r, self.keylen, self.keyflags):
            return self._drop("dropped_not_for_us")
        lt.unkey(r)  # the address is now nobody's until probation ends (RFC 2131 4.3.3)
        lt.set(r, L.DECLINED, now + self.cfg.decline_probation)
        self._journal_lease(r)
        return 0

    def _release(self, rx, sub, meta, now):
        o = self.opts
        sid = o.at(P.OPT_SERVER_ID)
        if sid >= 0 and not P.addr_eq(rx, sid, meta.ifaddr, 0):
            return self._drop("dropped_not_for_us")
        lt = self.leases
        r = lt.find_addr(rx, P.CIADDR)
        if r < 0 or not lt._key_matches(r, self.keylen, self.keyflags):
            return self._drop("dropped_not_for_us")
        # keep the record (address and client) so the client gets the same address back
        lt.set(r, L.RELEASED, now)
        self._journal_state(r)
        return 0

    def _inform(self, rx, sub, meta, out):
        self.stats["ack"] += 1
        z = self.cand
        z[0] = z[1] = z[2] = z[3] = 0
        return self._reply(rx, P.ACK, z, sub, meta, out, None)

    def _nak(self, rx, sub, meta, out):
        self.stats["nak"] += 1
        z = self.cand
        z[0] = z[1] = z[2] = z[3] = 0
        return self._reply(rx, P.NAK, z, sub, meta, out, None)

    # -- journal ---------------------------------------------------------------------------

    def _journal_lease(self, r):
        lt = self.leases
        j = self.jrec
        P.copy(j, 0, lt.recs, r * L.REC, L.REC)
        ln = lt.names[r * L.NAME]
        P.copy(j, L.REC, lt.names, r * L.NAME, ln + 1)
        self.journal.append(J_LEASE4, j, 0, L.REC + 1 + ln)
        self.stats["journal_records"] += 1

    def _journal_state(self, r):
        lt = self.leases
        j = self.jrec
        lt.addr_into(r, j, 0)
        P.copy(j, 4, lt.recs, r * L.REC + L.R_STATE, 1)
        P.copy(j, 5, lt.recs, r * L.REC + L.R_EXPIRY, 4)
        self.journal.append(J_STATE4, j, 0, 9)
        self.stats["journal_records"] += 1

    def restore(self):
        """Load the journal, then rewrite it compacted (drops a torn tail)."""
        self.journal.load(self._apply)
        self.journal.rewrite(self.dump)

    def _apply(self, typ, buf, off, ln):
        lt = self.leases
        if typ == J_LEASE4 and ln >= L.REC + 1:
            si = buf[off + L.R_SUBNET]
            if si >= len(self.subnets) or not self.subnets[si].contains(buf, off + L.R_ADDR):
                return  # the config changed: that subnet is gone
            r = lt.find_addr(buf, off + L.R_ADDR)
            if r < 0:
                r = lt.new()
                if r < 0:
                    return
            P.copy(lt.key, 0, buf, off + L.R_KEY, L.KEYMAX)
            if buf[off + L.R_KEYLEN]:
                lt.assign(r, si, buf[off + L.R_KEYLEN], buf[off + L.R_FLAGS], buf, off + L.R_ADDR, buf, off + L.R_HW)
            else:
                lt.assign(r, si, 1, 0, buf, off + L.R_ADDR, buf, off + L.R_HW)
                lt.unkey(r)
            P.copy(lt.recs, r * L.REC + L.R_STATE, buf, off + L.R_STATE, 1)
            P.copy(lt.recs, r * L.REC + L.R_EXPIRY, buf, off + L.R_EXPIRY, 4)
            lt.set_name(r, buf, off + L.REC + 1, min(buf[off + L.REC], ln - L.REC - 1))
        elif typ == J_STATE4 and ln == 9:
            r = lt.find_addr(buf, off)
            if r >= 0:
                P.copy(lt.recs, r * L.REC + L.R_STATE, buf, off + 4, 1)
                P.copy(lt.recs, r * L.REC + L.R_EXPIRY, buf, off + 5, 4)

    def dump(self, journal):
        """Stage every lease worth keeping (compaction): all but offers and free records."""
        lt = self.leases
        r = 0
        while r < lt.used:
            s = lt.state(r)
            if s == L.BOUND or s == L.RELEASED or s == L.DECLINED:
                self._journal_lease(r)
            r += 1

    # -- the reply -------------------------------------------------------------------------------

    def _reply(self, rx, mtype, yiaddr, sub, meta, out, res):
        b = out.buf
        limit = self._limit(rx, len(b))
        _header(b, rx, mtype, yiaddr)
        w = self.w
        w.start(b, limit)
        self.done[0:256] = P.ZERO256
        w.put_byte(P.OPT_MSG_TYPE, mtype)
        w.put(P.OPT_SERVER_ID, meta.ifaddr, 0, 4)
        if mtype != P.NAK:
            self._lease_options(rx, mtype, sub, res)
        if self.opts.has(P.OPT_RELAY_AGENT):  # RFC 3046 2.2: echo option 82, last
            ln = self.opts.gather(rx, P.OPT_RELAY_AGENT, self.scratch, 0, 255)
            w.put(P.OPT_RELAY_AGENT, self.scratch, 0, ln)
        out.n = w.end()
        _dest(rx, mtype, out)
        out.ifindex = meta.ifindex
        out.rx_type = self.opts.byte(rx, P.OPT_MSG_TYPE, 0)
        out.tx_type = mtype
        P.copy(out.hw, 0, rx, P.CHADDR, 6)
        P.copy(out.addr, 0, yiaddr, 0, 4)
        self.stats["tx"] += 1
        return out.n

    def _limit(self, rx, size):
        """Reply size cap: option 57 (RFC 2132 9.10) minus IP+UDP headers, at least 548."""
        mx = self.opts.u16(rx, P.OPT_MAX_SIZE, 0) - 28
        if mx < P.MIN_REPLY:
            mx = P.MIN_REPLY
        return mx if mx < size else size

    def _lease_options(self, rx, mtype, sub, res):
        w = self.w
        done = self.done
        o = self.opts
        if not _is_inform(o, rx):
            w.put_u32(P.OPT_LEASE_TIME, sub.valid)
            w.put_u32(P.OPT_T1, sub.t1)
            w.put_u32(P.OPT_T2, sub.t2)
        opts = sub.options
        self._put_opt(opts, P.OPT_SUBNET_MASK)
        prl = o.at(P.OPT_PRL)
        if prl >= 0:
            ln = o.gather(rx, P.OPT_PRL, self.scratch, 0, 255)
            i = 0
            while i < ln:
                code = self.scratch[i]
                if code == P.OPT_HOSTNAME and res is not None and res.hostname is not None and not done[code]:
                    w.put(P.OPT_HOSTNAME, res.hostname, 0, len(res.hostname))
                    done[code] = 1
                else:
                    self._put_opt(opts, code)
                i += 1
        # sent even when not asked for, as Kea and dhcpd do (no tuple: it would allocate)
        self._put_opt(opts, P.OPT_ROUTER)
        self._put_opt(opts, P.OPT_DNS)
        self._put_opt(opts, P.OPT_DOMAIN)
        for code in sub.always:
            self._put_opt(opts, code)

    def _put_opt(self, opts, code):
        done = self.done
        if done[code]:
            return
        v = opts.get(code)
        if v is not None:
            self.w.put(code, v, 0, len(v))
        done[code] = 1


def _is_inform(o, rx):
    return o.byte(rx, P.OPT_MSG_TYPE, 0) == P.INFORM


def _header(b, rx, mtype, yiaddr):
    b[P.OP] = P.BOOTREPLY
    b[P.HTYPE] = rx[P.HTYPE]
    b[P.HLEN] = rx[P.HLEN]
    b[P.HOPS] = 0
    P.copy(b, P.XID, rx, P.XID, 4)
    b[P.SECS] = b[P.SECS + 1] = 0
    P.copy(b, P.FLAGS, rx, P.FLAGS, 2)
    if mtype == P.NAK:
        b[P.CIADDR] = b[P.CIADDR + 1] = b[P.CIADDR + 2] = b[P.CIADDR + 3] = 0
        if not P.addr_is_zero(rx, P.GIADDR):
            b[P.FLAGS] |= 0x80  # RFC 2131 4.3.2: a relayed NAK asks the relay to broadcast
    else:
        P.copy(b, P.CIADDR, rx, P.CIADDR, 4)
    P.copy(b, P.YIADDR, yiaddr, 0, 4)
    b[P.SIADDR] = b[P.SIADDR + 1] = b[P.SIADDR + 2] = b[P.SIADDR + 3] = 0
    P.copy(b, P.GIADDR, rx, P.GIADDR, 4)
    P.copy(b, P.CHADDR, rx, P.CHADDR, 16)
    b[P.SNAME : P.COOKIE] = _ZERO192  # sname and file
    b[P.COOKIE] = 99
    b[P.COOKIE + 1] = 130
    b[P.COOKIE + 2] = 83
    b[P.COOKIE + 3] = 99


def _dest(rx, mtype, out):
    """RFC 2131 4.1, the one place that decides where a DHCPv4 reply goes."""
    if not P.addr_is_zero(rx, P.GIADDR):
        P.copy(out.dest, 0, rx, P.GIADDR, 4)  # to the relay, server port
        out.port = SERVER_PORT
        out.kind = KIND_UNICAST
    elif mtype != P.NAK and not P.addr_is_zero(rx, P.CIADDR):
        P.copy(out.dest, 0, rx, P.CIADDR, 4)  # renewing / informing client has an address
        out.port = CLIENT_PORT
        out.kind = KIND_UNICAST
    else:
        # broadcast flag, a NAK, or a client without an address: the Unix and lwIP adapters
        # cannot add the ARP entry a unicast to yiaddr would need, so broadcast (allowed by 4.1)
        out.dest[0] = out.dest[1] = out.dest[2] = out.dest[3] = 255
        out.port = CLIENT_PORT
        out.kind = KIND_BROADCAST


def _eq(a, b, boff, n):
    i = 0
    while i < n:
        if a[i] != b[boff + i]:
            return False
        i += 1
    return True


def _offset(sub, a, aoff=0):
    """Host part of an address inside sub, as a small int (subnets are /8 or longer)."""
    m = sub.mask
    return ((a[aoff + 1] & ~m[1] & 255) << 16) | ((a[aoff + 2] & ~m[2] & 255) << 8) | (a[aoff + 3] & ~m[3] & 255)


def _put_offset(sub, off, dst):
    n = sub.net
    dst[0] = n[0]
    dst[1] = n[1] | ((off >> 16) & 255)
    dst[2] = n[2] | ((off >> 8) & 255)
    dst[3] = n[3] | (off & 255)


def _in_pools(sub, off):
    for a, b in sub.pools:
        if a <= off <= b:
            return True
    return False


def _nth(sub, k):
    """The k-th address offset across sub's pools."""
    for a, b in sub.pools:
        size = b - a + 1
        if k < size:
            return a + k
        k -= size
    return -1
