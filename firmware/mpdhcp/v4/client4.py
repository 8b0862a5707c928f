# DHCPv4 client engine (RFC 2131 3.1, 3.2, 4.1, 4.4; RFC 2132; RFC 3442), sans-I/O, on the
# same contract as the server: handle(rx, n, meta, now, out) / next_deadline() /
# on_timer(now, out) / stats. The state machine is RFC 2131 figure 5; every transition is one
# verb-named method (lwIP dhcp.c style) and every state change goes through _set_state,
# which re-arms the one absolute deadline.
#
# Applying the lease is the adapter's job: the engine bumps `lease_version` whenever the
# lease the interface should carry changed (bound, options changed, expired, NAKed, declined,
# released); the adapter compares it with what it applied after each runner step, reads
# `lease_info()` (allocates: adapter side only) and applies or removes it. The adapter
# reports a conflicting address with `address_in_use(now)`; the engine then DECLINEs on its
# next timer. `release(now, out)` builds the RELEASE for a graceful shutdown.
#
# Offer selection rule (RFC 2131 4.4.1 leaves it to the client): every OFFER that arrives
# within `offer_window` seconds of the first DISCOVER is collected (at most MAX_OFFERS, one
# per server); then the offer of the address we held before (remembered in the journal) wins,
# else the first offer received. An offer arriving after the window is taken at once.
from micropython import const
from ..wire import packet4 as P
from ..slot import KIND_UNICAST, KIND_BROADCAST
from ..wire.addr import ip4_str, mac_str

# states (RFC 2131 figure 5)
INIT = const(0)
SELECTING = const(1)
REQUESTING = const(2)
BOUND = const(3)
RENEWING = const(4)
REBINDING = const(5)
INIT_REBOOT = const(6)
REBOOTING = const(7)
STATE_NAMES = ("INIT", "SELECTING", "REQUESTING", "BOUND", "RENEWING", "REBINDING", "INIT-REBOOT", "REBOOTING")

J_CLIENT4 = const(16)  # journal record: address(4), server id(4), expiry(4, 0 = forgotten), prefix(1)
JREC = const(13)

OPT_MTU = const(26)
OPT_VENDOR_CLASS = const(60)  # RFC 2132 9.13
OPT_SEARCH = const(119)  # RFC 3397
OPT_CLASSLESS = const(121)  # RFC 3442

CLIENT_PORT = const(68)
SERVER_PORT = const(67)
BACKOFF_FIRST = const(4)  # RFC 2131 4.1: 4 s, doubling, up to 64 s, randomised by +-1 s
BACKOFF_MAX = const(64)
DISCOVER_TRIES = const(5)  # 4 + 8 + 16 + 32 + 64 s without a usable offer: start over (new xid)
REQUEST_TRIES = const(4)  # REQUESTING / REBOOTING: 4 + 8 + 16 + 32 s without ACK or NAK: INIT
RETRY_MIN = const(60)  # RFC 2131 4.4.5: RENEWING/REBINDING retransmit at half the time left, >= 60 s
DECLINE_WAIT = const(10)  # RFC 2131 3.1 step 5: at least 10 s after a DECLINE before INIT
MAX_OFFERS = const(4)
FOREVER = const(0x3FFFFFFF)  # deadlines stay small ints on 32-bit boards (seconds since 2000)
MAX_SIZE = const(1500)  # option 57: the largest message we accept

_COUNTERS = (
    "rx", "tx", "dropped_malformed", "dropped_xid", "dropped_chaddr", "dropped_type",
    "dropped_server_id", "dropped_state", "dropped_bad_reply", "discover", "request",
    "decline", "release", "offer", "ack", "nak", "timeouts", "restarts", "expired",
    "journal_records",
) + P.BAD_NAMES[1:]

_NAMES = ("-", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM")


class Client4:
    def __init__(self, cfg, journal, hw, rand=None):
        """cfg: a config_client4.Client4Config; journal: a store.Journal (the lease file);
        hw: the interface's 6-byte MAC; rand: None (xorshift seeded from hw), an int seed,
        or a function rand(n) -> 0..n-1 (tests inject it for the +-1 s randomisation)."""
        self.cfg = cfg
        self.journal = journal
        self.hw = bytes(hw)
        self.cid = cfg.client_id if cfg.client_id is not None else b"\x01" + self.hw
        self.sock = 0  # the adapter's socket index; the builder sets it
        seed = rand if isinstance(rand, int) else 0
        for b in self.hw:
            seed = ((seed << 3) ^ b ^ (seed >> 13)) & 0xFFFF
        self.seed = seed or 0xACE1
        self.rand = rand if callable(rand) else self._xorshift
        self.opts = P.Options()
        self.w = P.Writer()
        self.stats = {}
        for k in _COUNTERS:
            self.stats[k] = 0
        self.state = INIT
        self.deadline = 0  # absolute, engine seconds; 0 = start at the first step
        self.tries = 0
        self.xid = bytearray(4)
        self.start = 0  # when the current exchange began (the secs field)
        self.select_at = 0
        self.offers = bytearray(8 * MAX_OFFERS)  # yiaddr(4) + server id(4) per offer
        self.noffers = 0
        # the lease (valid while self.bound)
        self.bound = False
        self.addr = bytearray(4)
        self.sid = bytearray(4)
        self.mask = bytearray(4)
        self.plen = 0
        self.lease_time = self.t1 = self.t2 = 0
        self.bound_at = self.t1_at = self.t2_at = self.expire_at = 0
        self.routers = bytearray(64)
        self.routers_n = 0
        self.dns = bytearray(64)
        self.dns_n = 0
        self.domain = bytearray(255)
        self.domain_n = 0
        self.search = bytearray(255)
        self.search_n = 0
        self.routes = bytearray(255)
        self.routes_n = 0
        self.mtu = 0
        self.lease_version = 0  # bumped when the interface must be (re)configured or cleared
        self.decline_pending = False
        self.scratch = bytearray(255)
        # what the journal remembers (the last lease, for INIT-REBOOT and the offer preference)
        self.have_prev = False
        self.prev = bytearray(4)
        self.prev_sid = bytearray(4)
        self.prev_expiry = 0
        self.prev_plen = 0
        self.jrec = bytearray(JREC)
        self._diff = False  # set by _keep

    # -- the engine contract ---------------------------------------------------------------

    def next_deadline(self):
        return self.deadline

    def on_timer(self, now, out):
        if self.deadline is None or now < self.deadline:
            return 0
        out.rx_type = 0
        if self.decline_pending:
            return self._decline(now, out)
        s = self.state
        if s == INIT:
            return self._discover(now, out)
        if s == SELECTING:
            if self.noffers and now >= self.select_at:
                return self._select(now, out)
            return self._retry_discover(now, out)
        if s == REQUESTING:
            return self._retry_request(now, out)
        if s == INIT_REBOOT:
            return self._reboot(now, out)
        if s == REBOOTING:
            return self._retry_request(now, out)
        # BOUND, RENEWING, REBINDING: the lease timeline (RFC 2131 figure 3)
        if now >= self.expire_at:
            return self._expire(now, out)
        if now >= self.t2_at and s != REBINDING:
            return self._rebind(now, out)
        if s == BOUND:
            return self._renew(now, out)
        self.stats["timeouts"] += 1
        return self._send_request(now, out)  # RENEWING / REBINDING retransmission

    def handle(self, rx, n, meta, now, out):
        st = self.stats
        st["rx"] += 1
        out.rx_type = 0
        out.tx_type = 0
        o = self.opts
        err = o.parse(rx, n, P.BOOTREPLY)
        if err:
            st["dropped_malformed"] += 1
            st[P.BAD_NAMES[err]] += 1
            return 0
        mt = o.byte(rx, P.OPT_MSG_TYPE, 0)
        out.rx_type = mt
        P.copy(out.hw, 0, self.hw, 0, 6)
        P.copy(out.addr, 0, rx, P.YIADDR, 4)
        if not _eq(rx, P.XID, self.xid, 0, 4):
            return self._drop("dropped_xid")
        if not _eq(rx, P.CHADDR, self.hw, 0, 6):
            return self._drop("dropped_chaddr")
        if mt != P.OFFER and mt != P.ACK and mt != P.NAK:
            return self._drop("dropped_type")
        sid = o.at(P.OPT_SERVER_ID)
        if sid < 0:
            return self._drop("dropped_server_id")  # RFC 2131 table 3: MUST in all three
        s = self.state
        if mt == P.OFFER:
            if s != SELECTING:
                return self._drop("dropped_state")
            return self._handle_offer(rx, now, out)
        if s != REQUESTING and s != RENEWING and s != REBINDING and s != REBOOTING:
            return self._drop("dropped_state")
        if (s == REQUESTING or s == RENEWING) and not P.addr_eq(rx, sid, self.sid, 0):
            return self._drop("dropped_server_id")  # not the server we asked
        if mt == P.ACK:
            return self._handle_ack(rx, now)
        return self._handle_nak(now, out)

    def summary(self):
        cfg = self.cfg
        s = "DHCPv4 client on %s (%s), %s" % (cfg.interface, mac_str(self.hw), STATE_NAMES[self.state])
        if self.have_prev and self.prev_expiry:
            s += " for %s" % ip4_str(self.prev)
        return s

    def log_line(self, out, ifname, replied):
        """e.g. 'client4: OFFER>REQUEST 192.168.77.100 on c0 REQUESTING' (never matches the
        server's line format, so both can share one log)."""
        n = _NAMES
        rx = n[out.rx_type] if out.rx_type < len(n) else str(out.rx_type)
        tx = n[out.tx_type] if replied and out.tx_type < len(n) else "-"
        return "client4: %s>%s %s on %s %s" % (rx, tx, ip4_str(out.addr), ifname, STATE_NAMES[self.state])

    def _drop(self, counter):
        self.stats[counter] += 1
        return 0

    # -- the adapter's side ----------------------------------------------------------------

    def address_in_use(self, now):
        """The adapter found the leased address in use (ARP probe): DECLINE it (RFC 2131 3.1.5)."""
        if self.bound:
            self.decline_pending = True
            self.deadline = now

    def release(self, now, out):
        """Graceful shutdown: RELEASE the lease (RFC 2131 4.4.6) and stop. Returns the length
        of the RELEASE in out (0 when nothing is held). The remembered address stays in the
        journal (without expiry) so the next start asks for it again in its DISCOVER."""
        self.deadline = None
        if not self.bound:
            return 0
        self.stats["release"] += 1
        self._new_xid()
        n = self._build(out, P.RELEASE, now)
        self._dest_unicast(out)
        self._drop_lease()
        self._journal(self.addr, self.sid, 0, self.plen)  # remembered, without expiry
        self.state = INIT
        return n

    def lease_info(self):
        """The lease as plain values for the adapter (allocates), or None when none is held.
        routes: [(destination, prefix length, gateway)]; classless routes (121) win over the
        router option (3) as RFC 3442 says; a gateway 0.0.0.0 means on-link."""
        if not self.bound:
            return None
        routers = _addrs(self.routers, self.routers_n)
        routes = decode_classless(self.routes, self.routes_n) if self.routes_n else None
        if routes is None:
            routes = [("0.0.0.0", 0, routers[0])] if routers else []
        return {
            "address": ip4_str(self.addr), "prefix": self.plen, "server": ip4_str(self.sid),
            "routers": routers, "routes": routes, "dns": _addrs(self.dns, self.dns_n),
            "domain": _text(self.domain, self.domain_n),
            "search": decode_search(self.search, self.search_n), "mtu": self.mtu,
            "lease": self.lease_time, "t1": self.t1, "t2": self.t2,
            "bound_at": self.bound_at, "expires": self.expire_at,
        }

    # -- transitions (one per arrow of RFC 2131 figure 5) ------------------------------------

    def _set_state(self, s, deadline):
        """The one state setter: retries restart only on a real change; re-arms the deadline."""
        if s != self.state:
            self.tries = 0
            self.state = s
        self.deadline = deadline

    def _discover(self, now, out):
        """INIT -> SELECTING: a new exchange; broadcast DISCOVER, collect offers for the window."""
        self._new_xid()
        self.start = now
        self.noffers = 0
        self.select_at = now + self.cfg.offer_window
        self._set_state(SELECTING, now)
        self.tries = 0
        return self._send_discover(now, out)

    def _retry_discover(self, now, out):
        self.stats["timeouts"] += 1
        if self.tries >= DISCOVER_TRIES:
            self.stats["restarts"] += 1
            return self._discover(now, out)
        return self._send_discover(now, out)

    def _send_discover(self, now, out):
        self.deadline = now + self._backoff()
        if self.noffers and self.select_at < self.deadline:
            self.deadline = self.select_at
        self.stats["discover"] += 1
        n = self._build(out, P.DISCOVER, now)
        self._dest_broadcast(out)
        return n

    def _handle_offer(self, rx, now, out):
        self.stats["offer"] += 1
        if P.addr_is_zero(rx, P.YIADDR):
            return self._drop("dropped_bad_reply")
        sid = self.opts.at(P.OPT_SERVER_ID)
        offers = self.offers
        i = 0
        while i < self.noffers:
            if P.addr_eq(offers, 8 * i + 4, rx, sid):
                break  # one offer per server: a repeat replaces nothing
            i += 1
        if i == self.noffers and i < MAX_OFFERS:
            P.copy(offers, 8 * i, rx, P.YIADDR, 4)
            P.copy(offers, 8 * i + 4, rx, sid, 4)
            self.noffers = i + 1
        if now >= self.select_at:
            return self._select(now, out)
        if self.select_at < self.deadline:
            self.deadline = self.select_at
        return 0

    def _select(self, now, out):
        """SELECTING -> REQUESTING: pick an offer, broadcast REQUEST with its server id so the
        other servers learn they were not chosen (RFC 2131 3.1.3)."""
        pick = 0
        if self.have_prev:
            i = 0
            while i < self.noffers:
                if P.addr_eq(self.offers, 8 * i, self.prev, 0):
                    pick = i
                    break
                i += 1
        P.copy(self.addr, 0, self.offers, 8 * pick, 4)
        P.copy(self.sid, 0, self.offers, 8 * pick + 4, 4)
        self._set_state(REQUESTING, now)
        return self._send_request(now, out)

    def _retry_request(self, now, out):
        """REQUESTING / REBOOTING without ACK or NAK: retransmit, then start over in INIT."""
        self.stats["timeouts"] += 1
        if self.tries >= REQUEST_TRIES:
            self.stats["restarts"] += 1
            return self._discover(now, out)
        return self._send_request(now, out)

    def _reboot(self, now, out):
        """INIT-REBOOT -> REBOOTING: ask for the remembered address (RFC 2131 3.2)."""
        if not self.have_prev or self.prev_expiry <= now:
            return self._discover(now, out)
        self._new_xid()
        self.start = now
        P.copy(self.addr, 0, self.prev, 0, 4)
        P.copy(self.sid, 0, self.prev_sid, 0, 4)
        self._set_state(REBOOTING, now)
        return self._send_request(now, out)

    def _handle_ack(self, rx, now):
        o = self.opts
        if P.addr_is_zero(rx, P.YIADDR) or o.at(P.OPT_LEASE_TIME) < 0 or o.length(rx, P.OPT_LEASE_TIME) != 4:
            return self._drop("dropped_bad_reply")
        self.stats["ack"] += 1
        changed = not self.bound or not P.addr_eq(rx, P.YIADDR, self.addr, 0)
        P.copy(self.addr, 0, rx, P.YIADDR, 4)
        P.copy(self.sid, 0, rx, o.at(P.OPT_SERVER_ID), 4)
        if self._take_options(rx):
            changed = True
        self._bind(rx, now, changed)
        return 0

    def _bind(self, rx, now, changed):
        """-> BOUND: lease timers from the ACK (RFC 2131 4.4.5), journal, tell the adapter."""
        o = self.opts
        cap = FOREVER - now
        lt = _u32(rx, o.at(P.OPT_LEASE_TIME), cap)
        t1 = _u32(rx, o.at(P.OPT_T1), cap) if o.length(rx, P.OPT_T1) == 4 else lt // 2
        t2 = _u32(rx, o.at(P.OPT_T2), cap) if o.length(rx, P.OPT_T2) == 4 else lt - lt // 8
        if t2 > lt or t2 == 0:
            t2 = lt - lt // 8
        if t1 > t2 or t1 == 0:
            t1 = lt // 2 if lt // 2 <= t2 else t2
        self.lease_time, self.t1, self.t2 = lt, t1, t2
        self.bound_at = now
        self.t1_at = now + t1
        self.t2_at = now + t2
        self.expire_at = now + lt
        self.bound = True
        self.decline_pending = False
        if changed:
            self.lease_version += 1
        self._journal(self.addr, self.sid, self.expire_at, self.plen)
        self._set_state(BOUND, self.t1_at)

    def _handle_nak(self, now, out):
        """NAK in REQUESTING, RENEWING, REBINDING or REBOOTING: drop everything, start over."""
        self.stats["nak"] += 1
        if self.bound:
            self._drop_lease()
        self._forget()  # the server says that address is wrong: do not ask for it again
        self._set_state(INIT, now)  # DISCOVER in this same runner step
        return 0

    def _renew(self, now, out):
        """BOUND -> RENEWING at T1: unicast REQUEST to the server that gave the lease."""
        self._new_xid()
        self.start = now
        self._set_state(RENEWING, now)
        return self._send_request(now, out)

    def _rebind(self, now, out):
        """RENEWING -> REBINDING at T2: broadcast REQUEST to any server."""
        self._new_xid()
        self.start = now
        self._set_state(REBINDING, now)
        return self._send_request(now, out)

    def _expire(self, now, out):
        """Lease expired (REBINDING without an answer): remove the address, INIT, DISCOVER."""
        self.stats["expired"] += 1
        self._drop_lease()
        self._journal(self.addr, self.sid, 0, self.plen)  # remembered, without expiry
        return self._discover(now, out)

    def _decline(self, now, out):
        """BOUND -> INIT: the adapter found the address in use; DECLINE it, wait 10 s."""
        self.decline_pending = False
        self.stats["decline"] += 1
        self._new_xid()
        n = self._build(out, P.DECLINE, now)
        self._dest_broadcast(out)
        self._drop_lease()
        self._forget()  # never ask for the declined address again
        self._set_state(INIT, now + DECLINE_WAIT)
        return n

    def _drop_lease(self):
        """Stop holding the lease; the adapter removes it from the interface."""
        self.bound = False
        self.lease_version += 1

    def _forget(self):
        """Remember no address at all (after a NAK or a DECLINE)."""
        p = self.prev
        p[0] = p[1] = p[2] = p[3] = 0
        self._journal(p, self.prev_sid, 0, 0)

    # -- sending ---------------------------------------------------------------------------

    def _send_request(self, now, out):
        """REQUEST for the current state (RFC 2131 table 5 and 4.4.5), with its retry time."""
        s = self.state
        self.stats["request"] += 1
        if s == RENEWING:
            self.deadline = _half(now, self.t2_at)
        elif s == REBINDING:
            self.deadline = _half(now, self.expire_at)
        else:
            self.deadline = now + self._backoff()
        n = self._build(out, P.REQUEST, now)
        if s == RENEWING:
            self._dest_unicast(out)
        else:
            self._dest_broadcast(out)
        return n

    def _build(self, out, mtype, now):
        b = out.buf
        s = self.state
        has_addr = (s == RENEWING or s == REBINDING) and mtype == P.REQUEST or mtype == P.RELEASE
        _header(b, self.xid, self.hw)
        if mtype == P.DISCOVER or mtype == P.REQUEST:
            secs = now - self.start
            if secs > 65535 or secs < 0:
                secs = 65535 if secs > 0 else 0
            b[P.SECS] = secs >> 8
            b[P.SECS + 1] = secs & 255
        if not has_addr and mtype != P.DECLINE:
            b[P.FLAGS] = 0x80  # RFC 2131 4.1: no address yet, so ask for broadcast replies
        if has_addr:
            P.copy(b, P.CIADDR, self.addr, 0, 4)
        w = self.w
        w.start(b, len(b))
        w.put_byte(P.OPT_MSG_TYPE, mtype)
        cid = self.cid
        w.put(P.OPT_CLIENT_ID, cid, 0, len(cid))
        if mtype == P.REQUEST and (s == REQUESTING or s == REBOOTING) or mtype == P.DECLINE:
            w.put(P.OPT_REQUESTED_IP, self.addr, 0, 4)
        elif mtype == P.DISCOVER and self.have_prev:
            w.put(P.OPT_REQUESTED_IP, self.prev, 0, 4)  # RFC 2131 4.4.1: may suggest it
        if mtype == P.REQUEST and s == REQUESTING or mtype == P.DECLINE or mtype == P.RELEASE:
            w.put(P.OPT_SERVER_ID, self.sid, 0, 4)
        if mtype == P.DISCOVER or mtype == P.REQUEST:
            self._put_identity(w)
        out.n = w.end()
        out.ifindex = self.sock
        out.tx_type = mtype
        P.copy(out.hw, 0, self.hw, 0, 6)
        P.copy(out.addr, 0, self.addr if mtype != P.DISCOVER else self.prev, 0, 4)
        self.stats["tx"] += 1
        return out.n

    def _put_identity(self, w):
        cfg = self.cfg
        sz = self.scratch
        sz[0] = MAX_SIZE >> 8
        sz[1] = MAX_SIZE & 255
        w.put(P.OPT_MAX_SIZE, sz, 0, 2)
        if cfg.hostname is not None:
            w.put(P.OPT_HOSTNAME, cfg.hostname, 0, len(cfg.hostname))
        if cfg.vendor_class is not None:
            w.put(OPT_VENDOR_CLASS, cfg.vendor_class, 0, len(cfg.vendor_class))
        w.put(P.OPT_PRL, cfg.prl, 0, len(cfg.prl))

    def _dest_broadcast(self, out):
        d = out.dest
        d[0] = d[1] = d[2] = d[3] = 255
        out.port = SERVER_PORT
        out.kind = KIND_BROADCAST

    def _dest_unicast(self, out):
        P.copy(out.dest, 0, self.sid, 0, 4)
        out.port = SERVER_PORT
        out.kind = KIND_UNICAST

    # -- helpers ---------------------------------------------------------------------------

    def _backoff(self):
        """RFC 2131 4.1: 4, 8, 16, 32, 64 s, each randomised by -1..+1 s."""
        t = self.tries
        self.tries = t + 1
        d = BACKOFF_FIRST << t if t < 4 else BACKOFF_MAX
        return d + self.rand(3) - 1

    def _xorshift(self, n):
        x = self.seed
        x ^= (x << 7) & 0xFFFF
        x ^= x >> 9
        x ^= (x << 8) & 0xFFFF
        self.seed = x
        return x % n

    def _new_xid(self):
        x = self.xid
        a = self.rand(65536)
        b = self.rand(65536)
        x[0] = a >> 8
        x[1] = a & 255
        x[2] = b >> 8
        x[3] = b & 255

    def _take_options(self, rx):
        """Copy what the adapter applies out of the ACK. True when any of it changed."""
        o = self.opts
        ch = False
        m = o.at(P.OPT_SUBNET_MASK)
        plen = _prefix(rx, m) if m >= 0 and rx[m - 1] == 4 else _classful(rx, P.YIADDR)
        if plen != self.plen:
            self.plen = plen
            ch = True
        n = self._keep(rx, P.OPT_ROUTER, self.routers, self.routers_n)
        ch = ch or n != self.routers_n or self._diff
        self.routers_n = n
        n = self._keep(rx, P.OPT_DNS, self.dns, self.dns_n)
        ch = ch or n != self.dns_n or self._diff
        self.dns_n = n
        n = self._keep(rx, P.OPT_DOMAIN, self.domain, self.domain_n)
        ch = ch or n != self.domain_n or self._diff
        self.domain_n = n
        n = self._keep(rx, OPT_SEARCH, self.search, self.search_n)
        ch = ch or n != self.search_n or self._diff
        self.search_n = n
        n = self._keep(rx, OPT_CLASSLESS, self.routes, self.routes_n)
        ch = ch or n != self.routes_n or self._diff
        self.routes_n = n
        mtu = o.u16(rx, OPT_MTU, 0)
        if mtu != self.mtu:
            self.mtu = mtu
            ch = True
        return ch

    def _keep(self, rx, code, dst, oldn):
        """Gather option `code` into dst; sets self._diff when the bytes differ from before."""
        o = self.opts
        sc = self.scratch
        n = o.gather(rx, code, sc, 0, len(dst)) if o.has(code) else 0
        diff = False
        i = 0
        while i < n:
            if i >= oldn or dst[i] != sc[i]:
                diff = True
            dst[i] = sc[i]
            i += 1
        self._diff = diff
        return n

    # -- journal ---------------------------------------------------------------------------

    def _journal(self, addr, sid, expiry, plen):
        j = self.jrec
        P.copy(j, 0, addr, 0, 4)
        P.copy(j, 4, sid, 0, 4)
        j[8] = (expiry >> 24) & 255
        j[9] = (expiry >> 16) & 255
        j[10] = (expiry >> 8) & 255
        j[11] = expiry & 255
        j[12] = plen
        self._remember(j, 0)
        self.journal.append(J_CLIENT4, j, 0, JREC)
        self.stats["journal_records"] += 1

    def _remember(self, buf, off):
        P.copy(self.prev, 0, buf, off, 4)
        P.copy(self.prev_sid, 0, buf, off + 4, 4)
        self.prev_expiry = (buf[off + 8] << 24) | (buf[off + 9] << 16) | (buf[off + 10] << 8) | buf[off + 11]
        self.prev_plen = buf[off + 12]
        self.have_prev = not P.addr_is_zero(buf, off)

    def restore(self):
        """Load the remembered lease (INIT-REBOOT when it has an expiry), then compact."""
        self.journal.load(self._apply)
        if self.have_prev and self.prev_expiry:
            self.state = INIT_REBOOT
        self.deadline = 0
        self.journal.rewrite(self.dump)

    def _apply(self, typ, buf, off, ln):
        if typ == J_CLIENT4 and ln == JREC and buf[off + 8] < 0x40:
            self._remember(buf, off)

    def dump(self, journal):
        if not self.have_prev and P.addr_is_zero(self.prev, 0):
            return
        j = self.jrec
        P.copy(j, 0, self.prev, 0, 4)
        P.copy(j, 4, self.prev_sid, 0, 4)
        e = self.prev_expiry
        j[8] = (e >> 24) & 255
        j[9] = (e >> 16) & 255
        j[10] = (e >> 8) & 255
        j[11] = e & 255
        j[12] = self.prev_plen
        journal.append(J_CLIENT4, j, 0, JREC)


# -- wire helpers (module level: no state) --------------------------------------------------


def _header(b, xid, hw):
    b[P.OP] = P.BOOTREQUEST
    b[P.HTYPE] = 1
    b[P.HLEN] = 6
    i = P.HOPS
    while i < P.COOKIE:
        b[i] = 0
        i += 1
    P.copy(b, P.XID, xid, 0, 4)
    P.copy(b, P.CHADDR, hw, 0, 6)
    b[P.COOKIE] = 99
    b[P.COOKIE + 1] = 130
    b[P.COOKIE + 2] = 83
    b[P.COOKIE + 3] = 99


def _eq(a, ao, b, bo, n):
    i = 0
    while i < n:
        if a[ao + i] != b[bo + i]:
            return False
        i += 1
    return True


def _u32(b, off, cap):
    """A 32-bit lifetime, capped so that now + it stays a small int (0xFFFFFFFF = infinite)."""
    if b[off] >= 0x40:
        return cap
    v = (b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]
    return v if v < cap else cap


def _half(now, until):
    """RFC 2131 4.4.5: retry after half the time left, but no sooner than 60 s; never past until."""
    d = (until - now) // 2
    if d < RETRY_MIN:
        d = RETRY_MIN
    t = now + d
    return t if t < until else until


def _prefix(b, off):
    n = 0
    i = 0
    while i < 4:
        x = b[off + i]
        while x & 0x80:
            n += 1
            x = (x << 1) & 255
        if b[off + i] != 255:
            break
        i += 1
    return n


def _classful(b, off):
    a = b[off]
    return 8 if a < 128 else 16 if a < 192 else 24


def _text(buf, n):
    try:
        return bytes(buf[:n]).decode()
    except UnicodeError:
        return ""


def _addrs(buf, n):
    return [ip4_str(buf, i) for i in range(0, n - n % 4, 4)]


def decode_classless(buf, n):
    """RFC 3442 option 121 -> [(destination, prefix length, gateway)], None if malformed."""
    out = []
    i = 0
    while i < n:
        w = buf[i]
        if w > 32:
            return None
        k = (w + 7) // 8
        if i + 1 + k + 4 > n:
            return None
        d = bytearray(4)
        for j in range(k):
            d[j] = buf[i + 1 + j]
        out.append((ip4_str(d), w, ip4_str(buf, i + 1 + k)))
        i += 1 + k + 4
    return out


def decode_search(buf, n):
    """RFC 3397 option 119 (DNS wire names, with compression pointers) -> [names]."""
    names = []
    i = 0
    guard = 0
    while i < n and guard < 64:
        guard += 1
        labels = []
        j = i
        end = -1
        hops = 0
        while j < n and hops < 32:
            ln = buf[j]
            if ln == 0:
                if end < 0:
                    end = j + 1
                break
            if ln & 0xC0 == 0xC0:
                if j + 1 >= n:
                    return names
                if end < 0:
                    end = j + 2
                j = ((ln & 0x3F) << 8) | buf[j + 1]
                hops += 1
                continue
            labels.append(bytes(buf[j + 1 : j + 1 + ln]).decode())
            j += 1 + ln
        if end < 0:
            return names
        names.append(".".join(labels))
        i = end
    return names
