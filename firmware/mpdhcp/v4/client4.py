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
# Offers are collected for `offer_window` seconds after the first DISCOVER (an offer after
# the window is taken at once); the selection rule is lease4.Offers4's.
from micropython import const
from ..wire import packet4 as P
from ..slot import KIND_UNICAST, KIND_BROADCAST
from ..wire.addr import ip4_str, mac_str
from .lease4 import Kept4, Memory4, Offers4
from ..wire.timing import sane_t1, sane_t2, t2_default4, capped_u32, backoff4, half_remaining, xorshift16

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

OPT_VENDOR_CLASS = const(60)  # RFC 2132 9.13

CLIENT_PORT = const(68)
SERVER_PORT = const(67)
DISCOVER_TRIES = const(5)  # 4 + 8 + 16 + 32 + 64 s without a usable offer: start over (new xid)
REQUEST_TRIES = const(4)  # REQUESTING / REBOOTING: 4 + 8 + 16 + 32 s without ACK or NAK: INIT
DECLINE_WAIT = const(10)  # RFC 2131 3.1 step 5: at least 10 s after a DECLINE before INIT
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
    def __init__(self, cfg, journal, hw, rand=None, opts=None):
        """cfg: a config_client4.Client4Config; journal: a store.Journal (the lease file);
        hw: the interface's 6-byte MAC; rand: None (xorshift seeded from hw), an int seed,
        or a function rand(n) -> 0..n-1 (tests inject it for the +-1 s randomisation); opts:
        the option index to parse into (Runner.shared), else its own."""
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
        self.opts = P.Options() if opts is None else opts
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
        self.offers = Offers4()
        # the lease (valid while self.bound)
        self.bound = False
        self.addr = bytearray(4)
        self.sid = bytearray(4)
        self.mask = bytearray(4)
        self.lease_time = self.t1 = self.t2 = 0
        self.bound_at = self.t1_at = self.t2_at = self.expire_at = 0
        self.kept = Kept4(self.opts)  # the options of the ACK the adapter applies
        self.lease_version = 0  # bumped when the interface must be (re)configured or cleared
        self.decline_pending = False
        self.scratch = bytearray(2)  # the Maximum DHCP Message Size option's value (_put_identity)
        self.mem = Memory4(journal, self.stats)  # the last lease: INIT-REBOOT, offer preference

    # -- the engine contract ---------------------------------------------------------------

    def next_deadline(self):
        return self.deadline

    def on_timer(self, now, out):
        if self.deadline is None or now < self.deadline:
            return 0
        out.rx_type = 0
        if self.decline_pending:
            return self._decline(now, out)
        return TIMERS[self.state](self, now, out)

    def _selecting_timer(self, now, out):
        """SELECTING: the offer window closed (choose), or no offer came (DISCOVER again)."""
        if self.offers.n and now >= self.select_at:
            return self._select(now, out)
        return self._retry_discover(now, out)

    def _lease_timer(self, now, out):
        """BOUND, RENEWING, REBINDING: the lease timeline (RFC 2131 figure 3)."""
        s = self.state
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
        if not P.eq(rx, P.XID, self.xid, 0, 4):
            return self._drop("dropped_xid")
        if not P.eq(rx, P.CHADDR, self.hw, 0, 6):
            return self._drop("dropped_chaddr")
        if mt >= len(REPLIES) or REPLIES[mt] is None:
            return self._drop("dropped_type")
        sid = o.at(P.OPT_SERVER_ID)
        if sid < 0:
            return self._drop("dropped_server_id")  # RFC 2131 table 3: MUST in all three
        return REPLIES[mt](self, rx, sid, now, out)

    def _offer_in(self, rx, sid, now, out):
        if self.state != SELECTING:
            return self._drop("dropped_state")
        return self._handle_offer(rx, now, out)

    def _answer_in(self, rx, sid, now, out):
        """ACK or NAK: only while a REQUEST is out, and from the server asked when named."""
        s = self.state
        if s != REQUESTING and s != RENEWING and s != REBINDING and s != REBOOTING:
            return self._drop("dropped_state")
        if (s == REQUESTING or s == RENEWING) and not P.addr_eq(rx, sid, self.sid, 0):
            return self._drop("dropped_server_id")  # not the server we asked
        if self.opts.byte(rx, P.OPT_MSG_TYPE, 0) == P.ACK:
            return self._handle_ack(rx, now)
        return self._handle_nak(now, out)

    def reply_room(self):
        """The most a message of ours takes, all its reply slot needs (Runner.make_ring):
        header, message type, client id, requested address, server id, maximum size, the
        parameter list, hostname, vendor class, END; at least BOOTP's 300 (Writer.end)."""
        c = self.cfg
        n = P.OPTIONS + 3 + P.put_len(len(self.cid)) + 6 + 6 + 4 + P.put_len(len(c.prl)) + 1
        if c.hostname is not None:
            n += P.put_len(len(c.hostname))
        if c.vendor_class is not None:
            n += P.put_len(len(c.vendor_class))
        return n if n > 300 else 300

    def summary(self):
        cfg = self.cfg
        s = "DHCPv4 client on %s (%s), %s" % (cfg.interface, mac_str(self.hw), STATE_NAMES[self.state])
        if self.mem.have and self.mem.expiry:
            s += " for %s" % ip4_str(self.mem.addr)
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
        self.mem.record(self.addr, self.sid, 0, self.kept.plen)  # remembered, without expiry
        self.state = INIT
        return n

    def lease_info(self):
        """The lease as plain values for the adapter (allocates), or None when none is held.
        routes: [(destination, prefix length, gateway)]; classless routes (121) win over the
        router option (3) as RFC 3442 says; a gateway 0.0.0.0 means on-link."""
        if not self.bound:
            return None
        d = self.kept.info()
        d.update({"address": ip4_str(self.addr), "server": ip4_str(self.sid), "lease": self.lease_time,
                  "t1": self.t1, "t2": self.t2, "bound_at": self.bound_at, "expires": self.expire_at})
        return d

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
        self.offers.n = 0
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
        if self.offers.n and self.select_at < self.deadline:
            self.deadline = self.select_at
        self.stats["discover"] += 1
        n = self._build(out, P.DISCOVER, now)
        self._dest_broadcast(out)
        return n

    def _handle_offer(self, rx, now, out):
        self.stats["offer"] += 1
        if P.addr_is_zero(rx, P.YIADDR):
            return self._drop("dropped_bad_reply")
        self.offers.add(rx, P.YIADDR, self.opts.at(P.OPT_SERVER_ID))
        if now >= self.select_at:
            return self._select(now, out)
        if self.select_at < self.deadline:
            self.deadline = self.select_at
        return 0

    def _select(self, now, out):
        """SELECTING -> REQUESTING: pick an offer, broadcast REQUEST with its server id so the
        other servers learn they were not chosen (RFC 2131 3.1.3)."""
        self.offers.pick(self.mem.addr if self.mem.have else None, self.addr, self.sid)
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
        if not self.mem.have or self.mem.expiry <= now:
            return self._discover(now, out)
        self._new_xid()
        self.start = now
        P.copy(self.addr, 0, self.mem.addr, 0, 4)
        P.copy(self.sid, 0, self.mem.sid, 0, 4)
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
        if self.kept.take(rx):
            changed = True
        self._bind(rx, now, changed)
        return 0

    def _bind(self, rx, now, changed):
        """-> BOUND: lease timers from the ACK (RFC 2131 4.4.5), journal, tell the adapter."""
        o = self.opts
        cap = FOREVER - now
        lt = capped_u32(rx, o.at(P.OPT_LEASE_TIME), cap)
        t1 = capped_u32(rx, o.at(P.OPT_T1), cap) if o.length(rx, P.OPT_T1) == 4 else 0
        t2 = capped_u32(rx, o.at(P.OPT_T2), cap) if o.length(rx, P.OPT_T2) == 4 else 0
        t2 = sane_t2(lt, t2, t2_default4)
        t1 = sane_t1(lt, t1, t2)
        self.lease_time = lt
        self.t1 = t1
        self.t2 = t2
        self.bound_at = now
        self.t1_at = now + t1
        self.t2_at = now + t2
        self.expire_at = now + lt
        self.bound = True
        self.decline_pending = False
        if changed:
            self.lease_version += 1
        self.mem.record(self.addr, self.sid, self.expire_at, self.kept.plen)
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
        self.mem.record(self.addr, self.sid, 0, self.kept.plen)  # remembered, without expiry
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
        p = self.mem.addr
        p[0] = p[1] = p[2] = p[3] = 0
        self.mem.record(p, self.mem.sid, 0, 0)

    # -- sending ---------------------------------------------------------------------------

    def _send_request(self, now, out):
        """REQUEST for the current state (RFC 2131 table 5 and 4.4.5), with its retry time."""
        s = self.state
        self.stats["request"] += 1
        if s == RENEWING:
            self.deadline = half_remaining(now, self.t2_at)
        elif s == REBINDING:
            self.deadline = half_remaining(now, self.expire_at)
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
        P.request_header(b, self.xid, self.hw)
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
        elif mtype == P.DISCOVER and self.mem.have:
            w.put(P.OPT_REQUESTED_IP, self.mem.addr, 0, 4)  # RFC 2131 4.4.1: may suggest it
        if mtype == P.REQUEST and s == REQUESTING or mtype == P.DECLINE or mtype == P.RELEASE:
            w.put(P.OPT_SERVER_ID, self.sid, 0, 4)
        if mtype == P.DISCOVER or mtype == P.REQUEST:
            self._put_identity(w)
        out.n = w.end()
        out.ifindex = self.sock
        out.tx_type = mtype
        P.copy(out.hw, 0, self.hw, 0, 6)
        P.copy(out.addr, 0, self.addr if mtype != P.DISCOVER else self.mem.addr, 0, 4)
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
        return backoff4(t, self.rand(3) - 1)

    def _xorshift(self, n):
        self.seed = xorshift16(self.seed)
        return self.seed % n

    def _new_xid(self):
        x = self.xid
        a = self.rand(65536)
        b = self.rand(65536)
        x[0] = a >> 8
        x[1] = a & 255
        x[2] = b >> 8
        x[3] = b & 255

    # -- journal: what Memory4 remembers -------------------------------------------------------

    def restore(self):
        """Load the remembered lease (INIT-REBOOT when it has an expiry), then compact."""
        self.mem.load()
        if self.mem.have and self.mem.expiry:
            self.state = INIT_REBOOT
        self.deadline = 0
        self.journal.rewrite(self.mem.dump)

    def dump(self, journal):
        self.mem.dump(journal)


# state -> what its deadline does; message type -> its handler (None: not ours). Called with
# the client: tables in the class's module, not tuples of bound methods in every client.
TIMERS = (Client4._discover, Client4._selecting_timer, Client4._retry_request, Client4._lease_timer,
          Client4._lease_timer, Client4._lease_timer, Client4._reboot, Client4._retry_request)
REPLIES = (None, None, Client4._offer_in, None, None, Client4._answer_in, Client4._answer_in)
