# DHCPv4 server engine (RFC 2131 4.3, RFC 2132, RFC 3046), sans-I/O:
#   handle(rx, n, meta, now, out) -> reply length; next_deadline(); on_timer(now, out); stats.
# No sockets, clocks or files here; persistence goes through the journal's staging buffer.
from micropython import const
from ..wire import packet4 as P
from ..state import leases4 as L
from ..state.alloc import Alloc, NOT_USABLE
from ..wire.addr import ip4_str, mac_str
from .reply4 import Reply4, CACHE_BLOCK, PRL_CACHED, BOOTP_VEND

OFFER_HOLD = const(30)  # seconds an offered address stays set aside for its client
FOREVER = const(0x3FFFFFFF)  # a BOOTP lease's expiry: infinite (RFC 1534 4), a small int on boards

_COUNTERS = (
    "rx", "tx", "dropped_malformed", "dropped_type", "dropped_no_subnet", "dropped_bad_request",
    "dropped_not_for_us", "pool_exhausted", "discover", "request", "decline", "release",
    "inform", "offer", "ack", "nak", "bootp", "bootp_reply", "dropped_bootp", "journal_records",
) + P.BAD_NAMES[1:]

in_prefix6 = None  # wire.addr6.in_prefix, imported by a Server4 whose config has a 4o6-subnet
_NAMES = ("BOOTREQUEST", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM")

# Message type -> its counter; HANDLERS (below Server4) holds the handler of each (None: not ours)
_COUNTER = ("bootp", "discover", None, "request", "decline", None, None, "release", "inform")

# Replies to these states of REQUEST (RFC 2131 4.3.2)
_SELECTING = const(1)
_INIT_REBOOT = const(2)
_RENEWING = const(3)  # also REBINDING: same checks, only the destination differs


class Server4(Reply4):
    def __init__(self, cfg, journal, capacity, opts=None):
        """capacity: leases for clients without a reservation; the table holds one more
        record per reservation, so reserved clients are always served. opts: the option
        index to parse into (Runner.shared: one for a runner's DHCPv4 engines), else its own."""
        self.cfg = cfg
        self.served = None  # the interfaces the service opened (None: all the config names)
        self.subnets = cfg.subnets
        if any(s.o6_subnet is not None for s in cfg.subnets):
            global in_prefix6
            from ..wire.addr6 import in_prefix as in_prefix6  # a v4-only board carries no IPv6 code
        self.journal = journal  # the table's verbs stage into it too (leases.journal)
        nres = sum(len(s.reservations) for s in cfg.subnets)
        self.leases = L.Leases4(capacity + nres, len(cfg.subnets), journal)
        own = [a for _, a in cfg.interfaces if a is not None]
        self.alloc = Alloc(self.leases, cfg.subnets, 4, _pools, _reservations, own)
        # (interface, our IPv4 address there): the config's, then those of the sockets the
        # service opened (set_addresses); a DHCPv4-over-DHCPv6 answer takes its server id here
        self.addrs = [(n, a) for n, a in cfg.interfaces if a is not None]
        self.opts = P.Options() if opts is None else opts
        self.w = P.Writer()
        self.stats = {}
        for k in _COUNTERS:
            self.stats[k] = 0
        self.leases.stats = self.stats
        self.scratch = self.opts.scratch  # option data gathered from the request
        self.cid = bytearray(255)  # the client-id, whole (RFC 3396 concatenated), and its length
        self.cidlen = -1
        self.target = bytearray(4)  # the address a request is about
        self.cand = bytearray(4)
        self.done = bytearray(32)  # options already written into the reply: a bit per code
        self.res = None  # the reservation _choose found for the client being answered
        # The lease options of the last reply, as encoded, and what they depended on (subnet,
        # INFORM or not, the request's parameter list): clients of one kind ask alike, so most
        # replies copy this block instead of encoding option by option.
        b = self._block_room()
        self.blk = bytearray(b if b < CACHE_BLOCK else CACHE_BLOCK)
        self.blk_n = -1  # -1: nothing cached
        self.blk_sub = None
        self.blk_inform = False
        self.blk_prl = bytearray(PRL_CACHED)
        self.blk_prl_n = -1

    # -- the engine contract ---------------------------------------------------------------

    def next_deadline(self):
        return None  # the server has no timers: expiry is judged when an address is needed

    def on_timer(self, now, out):
        return 0

    def handle(self, rx, n, meta, now, out):
        st = self.stats
        st["rx"] += 1
        err = self.opts.parse(rx, n)
        if err == P.BAD_COOKIE and n >= BOOTP_VEND:  # an RFC 951 BOOTREQUEST whose vend
            err = self.opts.empty(n)  # area is not RFC 1048 options: BOOTP with none
        if err:
            st["dropped_malformed"] += 1
            st[P.BAD_NAMES[err]] += 1
            return 0
        i = self.opts.at(P.OPT_MSG_TYPE)
        mt = rx[i] if i >= 0 else 0  # (opts.byte, one call less)
        out.rx_type = mt  # for the log line, also when no reply goes out
        out.tx_type = 0
        P.copy(out.hw, 0, rx, P.CHADDR, 6)
        req = self.opts.at(P.OPT_REQUESTED_IP)
        P.copy(out.addr, 0, rx, req if req >= 0 else P.CIADDR, 4)
        if mt >= len(_COUNTER) or _COUNTER[mt] is None or mt == 0 and self.opts.has(P.OPT_MSG_TYPE):
            return self._drop("dropped_type")  # (BOOTP: no message type option at all)
        sub = self._select_subnet(rx, meta)
        if mt == P.INFORM:
            st["inform"] += 1  # counted even without a subnet, as before
        elif sub is None:
            return self._drop("dropped_no_subnet")
        else:
            self._load_key(rx)
            st[_COUNTER[mt]] += 1
        return HANDLERS[mt](self, rx, sub, meta, now, out)

    def summary(self):
        lt = self.leases
        n = lt.held()
        return "serving DHCPv4 on %s, %d leases restored, capacity %d" % (
            ", ".join(self.served or [i[0] for i in self.cfg.interfaces]), n, lt.cap)

    def log_line(self, out, ifname, replied):
        """One line per exchange, e.g. 'REQUEST>ACK 02:00:00:00:00:01 192.168.77.100 on br0'."""
        n = _NAMES
        rx = n[out.rx_type] if out.rx_type < len(n) else str(out.rx_type)
        tx = "-" if not replied else "BOOTREPLY" if out.tx_type == 0 else n[out.tx_type] \
            if out.tx_type < len(n) else str(out.tx_type)
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
        if meta.v4o6:
            return self._select_4o6(meta)
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

    def _select_4o6(self, meta):
        """A DHCPv4 message from a DHCPV4-QUERY (RFC 7341 7): the first subnet, in config
        order, that one of its 4o6 keys names (Kea's CfgSubnets4::selectSubnet4o6)."""
        for s in self.subnets:
            if _is_4o6_of(s, meta):
                return s
        return None

    def set_addresses(self, pairs):
        """The service: (interface, 4-byte address) of each DHCPv4 socket it opened, in config
        order (the adapter learned the addresses the config does not write). Zero ones are
        left out: they identify no server."""
        self.addrs = [(n, bytes(a)) for n, a in pairs if not P.addr_is_zero(a, 0)]

    def server_id4(self, ifname, dst):
        """Our server identifier (option 54) for a DHCPv4-over-DHCPv6 message that came in on
        the DHCPv6 interface ifname, into dst: our address on that interface when we serve
        DHCPv4 there too, else this server's first address (Kea takes the address of its
        IPv4 socket on the 4o6 interface). False when no address is known."""
        first = None
        for name, a in self.addrs:
            if name == ifname:
                first = a
                break
            if first is None:
                first = a
        if first is None:
            return False
        P.copy(dst, 0, first, 0, 4)
        return True

    def _load_key(self, rx):
        """Client identity: option 61 when present, else htype + chaddr (RFC 2131 4.2)."""
        o = self.opts
        s = self.scratch
        if o.count[P.OPT_CLIENT_ID]:  # (o.has(code) without a call: per packet)
            ln = o.gather(rx, P.OPT_CLIENT_ID, self.cid, 0, 255)
            self.cidlen = ln
            self.leases.load_client(self.cid, 0, ln, L.F_CID, rx, P.CHADDR)
        else:
            self.cidlen = -1
            s[0] = rx[P.HTYPE]
            P.copy(s, 1, rx, P.CHADDR, 6)
            self.leases.load_client(s, 0, 7, 0, rx, P.CHADDR)

    def _reservation(self, rx, sub):
        """This client's reservation in sub, or None: matched by hw-address, or by the whole
        client-id (the one that keys its lease, however many options carried it)."""
        n = self.cidlen
        for r in sub.reservations:
            if r.hw is not None:
                if P.eq(r.hw, 0, rx, P.CHADDR, 6):
                    return r
            elif n >= 0 and len(r.cid) == n and P.eq(r.cid, 0, self.cid, 0, n):
                return r
        return None

    # -- choosing an address: the one allocator (state/alloc.py) ------------------------------

    def _choose(self, rx, sub, meta, now):
        """Record for the address to offer this client, or -1 when the pool is exhausted."""
        lt = self.leases
        res = self._reservation(rx, sub)
        self.res = res  # the OFFER names its hostname: looked up once per DISCOVER
        req = self.opts.at(P.OPT_REQUESTED_IP)
        r = self.alloc.choose(sub.index, 0, res, res.addr if res is not None else None, 32,
                              rx if req >= 0 else None, req, 32, lt.find_mine(sub.index, 0),
                              meta.ifaddr, now)
        if r < 0:
            self.stats["pool_exhausted"] += 1
        return r

    # -- message handlers (one per message type) ---------------------------------------------

    def _discover(self, rx, sub, meta, now, out):
        """DISCOVER -> OFFER (RFC 2131 4.3.1), the address held for OFFER_HOLD seconds."""
        r = self._choose(rx, sub, meta, now)
        if r < 0:
            return 0
        lt = self.leases
        if lt.recs[r * L.REC] != L.BOUND or not lt.active(r, now):  # (lt.state(r), read in place)
            lt.offer(r, now + OFFER_HOLD)
        lt.addr_into(r, self.target, 0)
        self.stats["offer"] += 1
        return self._reply(rx, P.OFFER, self.target, sub, meta, out, self.res)

    def _request_kind(self, rx):
        o = self.opts
        if o.count[P.OPT_SERVER_ID]:  # (o.has(code) without a call: per packet)
            return _SELECTING
        if o.count[P.OPT_REQUESTED_IP]:
            return _INIT_REBOOT
        return _RENEWING if not P.addr_is_zero(rx, P.CIADDR) else 0

    def _request(self, rx, sub, meta, now, out):
        """REQUEST -> ACK or NAK (RFC 2131 4.3.2), or silence when it is not for us."""
        o = self.opts
        kind = self._request_kind(rx)
        if kind == 0:
            return self._drop("dropped_bad_request")
        if kind == _SELECTING:
            if not P.addr_eq(rx, o.at(P.OPT_SERVER_ID), meta.ifaddr, 0):
                return self._lost_selection(sub, now)
            if not o.count[P.OPT_REQUESTED_IP]:
                return self._drop("dropped_bad_request")
        t = self.target
        src = o.at(P.OPT_REQUESTED_IP) if kind != _RENEWING else P.CIADDR
        P.copy(t, 0, rx, src, 4)
        res = self._reservation(rx, sub)
        known = self.leases.find_mine(sub.index, 0)
        if res is not None and res.addr is not None and not P.addr_eq(res.addr, 0, t, 0):
            return self._nak(rx, sub, meta, out)  # reservations win: move the client there
        r = self.alloc.usable(sub.index, 0, t, 0, 32, res, known, meta.ifaddr, now)
        if r == NOT_USABLE:
            if known < 0 and not sub.authoritative and kind != _SELECTING and sub.contains(t, 0) \
                    and self.leases.find_addr(t, 0) < 0:
                # RFC 2131 4.3.2: an unknown client with an address we never managed (in our
                # subnet, outside our pools): it may be another server's, stay silent
                return self._drop("dropped_not_for_us")
            return self._nak(rx, sub, meta, out)
        renewal = r >= 0 and r == known and self.leases.recs[r * L.REC] == L.BOUND  # (state(r))
        r = self.alloc.take(r, sub.index, 0, t, 0, 32, res, known, now)
        if r < 0:
            return self._nak(rx, sub, meta, out)
        return self._ack_lease(rx, r, sub, meta, now, out, res, renewal)

    def _bootp(self, rx, sub, meta, now, out):
        """BOOTREQUEST (no DHCP message type) -> BOOTREPLY (RFC 951, RFC 1542): an address
        leased forever (RFC 1534 4), journaled like any other. Reserved clients always; others
        only where dynamic-bootp is on (ISC dhcpd's rule; Kea's BOOTP hook serves reserved
        clients only). The ciaddr a client may already know is its hint."""
        res = self._reservation(rx, sub)
        lt = self.leases
        known = lt.find_mine(sub.index, 0)
        if not sub.dynamic_bootp and (res is None or res.addr is None or self.alloc.usable(
                sub.index, 0, res.addr, 0, 32, res, known, meta.ifaddr, now) == NOT_USABLE):
            return self._drop("dropped_bootp")  # its reserved address or nothing (no pool address)
        self.res = res
        hint = not P.addr_is_zero(rx, P.CIADDR)
        r = self.alloc.choose(sub.index, 0, res, res.addr if res is not None else None, 32,
                              rx if hint else None, P.CIADDR, 32, known, meta.ifaddr, now)
        if r < 0:
            return self._drop("pool_exhausted")
        if not (r == known and lt.state(r) == L.BOUND and lt.expiry(r) == FOREVER and lt.durable(r)):
            self._name(rx, r, res)  # (asked again, unchanged: nothing is journaled)
            lt.bind(r, FOREVER)
        self.stats["bootp_reply"] += 1
        lt.addr_into(r, self.target, 0)
        return self._reply(rx, 0, self.target, sub, meta, out, res)

    def _name(self, rx, r, res):
        """A new or moved lease is journaled whole, with its hostname: the reservation's,
        else the client's option 12."""
        lt = self.leases
        o = self.opts
        if res is not None and res.hostname is not None:
            lt.set_name(r, res.hostname, 0, len(res.hostname))
        elif o.count[P.OPT_HOSTNAME]:  # (o.has(code) without a call)
            ln = o.gather(rx, P.OPT_HOSTNAME, self.scratch, 0, 255)
            lt.set_name(r, self.scratch, 0, ln)
        lt.changed(r)

    def _lost_selection(self, sub, now):
        """The client chose another server: free what we offered it (RFC 2131 4.3.2)."""
        lt = self.leases
        r = lt.find_mine(sub.index, 0)
        if r >= 0 and lt.state(r) == L.OFFERED:
            lt.withdraw(r, now)
        return self._drop("dropped_not_for_us")

    def _ack_lease(self, rx, r, sub, meta, now, out, res, renewal):
        lt = self.leases
        if not renewal:  # a renewal journals only its expiry (14 bytes); else the whole lease
            self._name(rx, r, res)
        lt.bind(r, now + sub.valid)
        self.stats["ack"] += 1
        lt.addr_into(r, self.target, 0)
        return self._reply(rx, P.ACK, self.target, sub, meta, out, res)

    def _decline(self, rx, sub, meta, now, out):
        """DECLINE -> the address is held back for decline-probation-period (4.3.3)."""
        o = self.opts
        sid = o.at(P.OPT_SERVER_ID)
        req = o.at(P.OPT_REQUESTED_IP)
        if req < 0 or (sid >= 0 and not P.addr_eq(rx, sid, meta.ifaddr, 0)):
            return self._drop("dropped_not_for_us")
        lt = self.leases
        r = lt.find_addr(rx, req)
        if r < 0 or not lt.is_mine(r):
            return self._drop("dropped_not_for_us")
        lt.decline(r, now + self.cfg.decline_probation)  # nobody's until then (RFC 2131 4.3.3)
        return 0

    def _release(self, rx, sub, meta, now, out):
        """RELEASE -> released, kept for the same client (RFC 2131 4.3.4)."""
        o = self.opts
        sid = o.at(P.OPT_SERVER_ID)
        if sid >= 0 and not P.addr_eq(rx, sid, meta.ifaddr, 0):
            return self._drop("dropped_not_for_us")
        lt = self.leases
        r = lt.find_addr(rx, P.CIADDR)
        if r < 0 or not lt.is_mine(r):
            return self._drop("dropped_not_for_us")
        lt.release(r, now)  # keeps client and address: the same address back next time
        return 0

    def _inform(self, rx, sub, meta, now, out):
        """INFORM -> ACK with options, no lease (RFC 2131 4.3.5)."""
        if sub is None:
            return self._drop("dropped_no_subnet")
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

    def restore(self):
        """Load the journal, then rewrite it compacted (drops a torn tail)."""
        lt = self.leases
        lt.restore(self.journal, self._apply)
        for r in range(lt.used):  # what the config reserves stays out of strangers' reach
            if lt.state(r) != L.FREE and self._reserved_record(r):
                lt.pin(r, True)

    def _apply(self, typ, buf, off, ln):
        self.leases.apply(typ, buf, off, ln, self.subnets)

    def _reserved_record(self, r):
        lt = self.leases
        o = r * L.REC
        sub = self.subnets[lt.subnet(r)]
        if self.alloc.reserved_for(sub.index, lt.recs, o + L.R_ADDR, 32) is not None:
            return True
        klen = lt.keylen(r)
        cid = lt.recs[o + L.R_FLAGS] & L.F_CID
        for res in sub.reservations:
            if res.hw is not None and not cid and P.eq(res.hw, 0, lt.recs, o + L.R_HW, 6):
                return True
            if res.cid is not None and cid and len(res.cid) == klen:
                lt.set_lookup_key(res.cid, 0, klen)
                if lt.key_is(r, klen):
                    return True
        return False

    def dump(self, journal):
        self.leases.dump(journal)

    def spare(self, entries):
        """Between steps (heap unlocked): arena room for the next step's new leases."""
        self.leases.spare(entries)

    def reserve(self, sub, res):
        """Console: add reservation res to sub on the running server (ValueError: refused)."""
        self.alloc.add_reservation(sub.index, res, res.addr, 32, 0)
        sub.reservations.append(res)
        self.leases.reserve += 1
        r = self.leases.find_addr(res.addr, 0)
        if r >= 0:
            self.leases.pin(r, True)


# message type -> its handler, called with the server: one table in the class's module, not
# a tuple of bound methods in every server (None: not ours)
HANDLERS = (Server4._bootp, Server4._discover, None, Server4._request, Server4._decline, None, None,
            Server4._release, Server4._inform)


def _is_4o6_of(s, meta):
    """Kea's three tests, in its order, on one subnet: 4o6-subnet holds the query's IPv6
    source (as received: the relay's address when relayed), 4o6-interface-id is the
    innermost relay's Interface-Id, 4o6-interface is the DHCPv6 interface it came in on."""
    o = s.o6_subnet
    if o is not None and in_prefix6(meta.src, o[0], o[1]):
        return True
    v = s.o6_iid
    n = meta.iid_len
    if v is not None and n and len(v) == n and P.eq(v, 0, meta.iid, 0, n):
        return True
    return s.o6_interface is not None and s.o6_interface == meta.ifname


def _pools(sub, kind):
    """(first address, size, 0, 32) per pool of sub: what the allocator walks."""
    out = []
    if kind == 0:
        for a, b in sub.pools:
            base = bytearray(4)
            P.add_shifted(base, 0, sub.net, 0, a, 0, 4)
            out.append((base, b - a + 1, 0, 32))
    return out


def _reservations(sub):
    return [(r, r.addr, 32, 0) for r in sub.reservations]
