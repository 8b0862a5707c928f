# DHCPv6 client engine (RFC 8415 15, 18.2; RFC 3646), sans-I/O, on the engines' contract:
# handle(rx, n, meta, now, out) / next_deadline() / on_timer(now, out) / stats, like Client4.
# States: Solicit -> Request -> Bound (the Address Timer) -> Renew -> Rebind; Confirm or Rebind
# after a restart (18.2.12); Information-request when stateless; Decline and Release. Every
# transition is one verb-named method; every state change goes through _set_state, which
# starts the state's exchange (RFC 8415 15: IRT, MRT, MRC, MRD) and re-arms the one deadline.
#
# Time: `now` is engine seconds; retransmission needs milliseconds (RAND is -0.1..+0.1 of a
# 1 s IRT), so the runner also sets `self.ms` (0..999, the current second's part) before each
# call, and the deadline is next_deadline() seconds + `deadline_ms`.
#
# Applying the binding is the adapter's job: `lease_version` is bumped whenever what the
# interface should carry changed; the adapter reads `lease_info()` (allocates). It reports a
# failed duplicate address detection with dad_failed(address), and release(now, out) builds the
# Release of a graceful stop.
from micropython import const
from ..wire import packet6 as P
from ..wire.md5 import HMAC_MD5
from ..wire.addr6 import ip6_str
from ..wire.timing import rt_first, rt_next, xorshift16, info_refresh
from .held6 import Held6, NA, PD, TA
from .client6_wire import Messages6, FOREVER, STATE_NAMES  # noqa: F401  (STATE_NAMES: API)
from .client6_wire import INIT, SOLICIT, REQUEST, BOUND, RENEW, REBIND, CONFIRM, INFO, INFORMED, DECLINE
from .client6_wire import STOPPED, RELEASE

# RFC 8415 7.6, in ms; per state: message, IRT, MRT, MRC (0: none), MRD (0: none, -1: the
# state's own end: T2 for Renew, the last valid lifetime for Rebind)
_EXCH = (
    (0, 0, 0, 0, 0),
    (P.SOLICIT, 1000, 3600000, 0, 0),  # SOL_TIMEOUT, SOL_MAX_RT
    (P.REQUEST, 1000, 30000, 10, 0),  # REQ_TIMEOUT, REQ_MAX_RT, REQ_MAX_RC
    (0, 0, 0, 0, 0),
    (P.RENEW, 10000, 600000, 0, -1),  # REN_TIMEOUT, REN_MAX_RT
    (P.REBIND, 10000, 600000, 0, -1),  # REB_TIMEOUT, REB_MAX_RT
    (P.CONFIRM, 1000, 4000, 0, 10),  # CNF_TIMEOUT, CNF_MAX_RT, CNF_MAX_RD
    (P.INFO_REQUEST, 1000, 3600000, 0, 0),  # INF_TIMEOUT, INF_MAX_RT
    (0, 0, 0, 0, 0),
    (P.DECLINE, 1000, 0, 4, 0),  # DEC_TIMEOUT, DEC_MAX_RC
    (0, 0, 0, 0, 0),
    (P.RELEASE, 1000, 0, 4, 0),  # REL_TIMEOUT, REL_MAX_RC
)
MAX_DELAY = const(1000)  # SOL_MAX_DELAY, CNF_MAX_DELAY, INF_MAX_DELAY: before the first message

_COUNTERS = (
    "rx", "tx", "dropped_malformed", "dropped_xid", "dropped_client_id", "dropped_server_id",
    "dropped_type", "dropped_state", "dropped_no_leases", "solicit", "advertise", "request",
    "renew", "rebind", "confirm", "info_request", "reply", "decline", "release", "timeouts",
    "restarts", "expired", "reconfigure", "reconfigure_dropped", "not_on_link", "no_binding",
    "use_multicast", "journal_records",
) + P.BAD_NAMES[1:]


class Client6(Messages6):
    def __init__(self, cfg, journal, hw, rand=None):
        """cfg: a config.client6.Client6Config; journal: the lease file's Journal; hw: the
        interface's MAC (the DUID's and the IAIDs' source); rand: None (xorshift seeded from
        hw), an int seed, or rand(n) -> 0..n-1 (tests inject it)."""
        self.cfg = cfg
        self.hw = bytes(hw)
        self.sock = 0  # the adapter's socket index; the builder sets it
        seed = rand if isinstance(rand, int) else 0
        for b in self.hw:
            seed = ((seed << 3) ^ b ^ (seed >> 13)) & 0xFFFF
        self.seed = seed or 0xACE1
        self.rand = rand if callable(rand) else self._xorshift
        self.stats = {}
        for k in _COUNTERS:
            self.stats[k] = 0
        self.held = Held6(journal, self.stats)
        self.journal = journal
        self.iaid = bytearray(4)  # stable: the MAC's last four bytes, for IA_NA and IA_PD
        for i in range(4):
            self.iaid[i] = self.hw[len(self.hw) - 4 + i] if len(self.hw) >= 4 else i
        self.stateless = not cfg.ia_na and not cfg.ia_pd and not cfg.ia_ta
        self.dad_kind = NA  # the IA type of the address being declined
        self.msg = P.Msg6()
        self.w = P.Writer6()
        self.hmac = HMAC_MD5()
        self.scratch = bytearray(P.MAX_PACKET)  # a Reconfigure with its digest zeroed
        self.digest = bytearray(16)
        self.adv = bytearray(P.MAX_PACKET)  # the best Advertise so far
        self.adv_n = 0
        self.adv_pref = -1
        self.adv_score = 0
        self.collect_until_s = self.collect_until_ms = 0
        self.xid = bytearray(3)
        self.state = INIT
        self.ms = 0  # set by the runner: milliseconds into the current second
        self.deadline = 0
        self.deadline_ms = 0
        self.rt = 0  # the current retransmission timeout, ms
        self.rt_s = self.rt_ms = 0  # when it runs out (the deadline may come sooner: MRD, expiry)
        self.count = 0  # transmissions in this exchange
        self.start_s = self.start_ms = 0  # when this exchange began (Elapsed Time)
        self.mrd_at = 0  # absolute seconds, 0: none
        self.sol_max_rt = _EXCH[SOLICIT][2]
        self.inf_max_rt = _EXCH[INFO][2]
        self.dad_addr = bytearray(16)
        self.dad_pending = False
        self.reconf_type = 0
        self.lease_version = 0

    # -- the engine contract ---------------------------------------------------------------------

    def next_deadline(self):
        return self.deadline

    def _due(self, now):
        d = self.deadline
        return d is not None and (now > d or now == d and self.ms >= self.deadline_ms)

    def on_timer(self, now, out):
        out.rx_type = 0
        if self.dad_pending and self.state == BOUND:
            x = self.held.next_expiry()
            if not x or x > now:  # (else the Address Timer drops what ran out first)
                return self._decline(now, out)
        if not self._due(now):
            return 0
        if self.state == SOLICIT and self.adv_n and self._collected(now):
            return self._request(now, out)
        return TIMERS[self.state](self, now, out)

    def handle(self, rx, n, meta, now, out):
        st = self.stats
        st["rx"] += 1
        out.rx_type = 0
        out.tx_type = 0
        msg = self.msg
        err = msg.parse(rx, n)
        if err or msg.depth:
            st["dropped_malformed"] += 1
            if err:
                st[P.BAD_NAMES[err]] += 1
            return 0
        mt = msg.mtype
        out.rx_type = mt
        if mt >= len(REPLIES) or REPLIES[mt] is None:
            return self._drop("dropped_type")
        if mt != P.RECONFIGURE and not P.eq(rx, 1, self.xid, 0, 3):
            return self._drop("dropped_xid")
        c = msg.at(P.OPT_CLIENTID)
        h = self.held
        if c < 0 or P.olen(rx, c) != h.duid_len or not P.eq(rx, c + 4, h.duid, 0, h.duid_len):
            return self._drop("dropped_client_id")
        if msg.at(P.OPT_SERVERID) < 0:
            return self._drop("dropped_server_id")  # RFC 8415 16.3, 16.7, 16.11: MUST
        return REPLIES[mt](self, rx, now, out)

    def summary(self):
        h = self.held
        s = "DHCPv6 client on %s (DUID %s), %s" % (
            self.cfg.interface, "".join("%02x" % h.duid[i] for i in range(h.duid_len)),
            STATE_NAMES[self.state])
        if h.n:
            s += " with %d address(es), %d prefix(es)" % (h.count(NA) + h.count(TA), h.count(PD))
        return s

    def log_line(self, out, ifname, replied):
        """e.g. 'client6: ADVERTISE>REQUEST on wan0 REQUEST'."""
        n = P.MSG_NAMES
        rx = n[out.rx_type] if out.rx_type < len(n) else str(out.rx_type)
        tx = n[out.tx_type] if replied and out.tx_type < len(n) else "-"
        return "client6: %s>%s on %s %s" % (rx, tx, ifname, STATE_NAMES[self.state])

    def _drop(self, counter):
        self.stats[counter] += 1
        return 0

    # -- the adapter's side ------------------------------------------------------------------------

    def dad_failed(self, a, now):
        """The adapter saw duplicate address detection fail for address a (16 bytes): Decline
        it (RFC 8415 18.2.8) at the next timer."""
        h = self.held
        if h.find(NA, a, 0, 128) >= 0 or h.find(TA, a, 0, 128) >= 0:
            self.dad_kind = NA if h.find(NA, a, 0, 128) >= 0 else TA
            P.copy(self.dad_addr, 0, a, 0, 16)
            self.dad_pending = True
            self.deadline = now  # the Decline goes out at the next step
            self.deadline_ms = 0

    def release(self, now, out):
        """Graceful stop: Release everything held (RFC 8415 18.2.7), retransmitted (REL_TIMEOUT,
        REL_MAX_RC) until a Reply or the last try; the adapter stops using the leases now.
        Returns the Release's length in out (0 when nothing is held: STOPPED at once)."""
        h = self.held
        self.deadline = None
        self.state = STOPPED
        if not h.n or not h.sid_len:
            return 0
        self._set_state(RELEASE, now)
        return self._send(now, out)

    def _released(self, now):
        """RELEASE answered (any status counts: RFC 8415 18.2.10) or given up: the binding
        is forgotten."""
        self._forget()
        self.state = STOPPED
        self.deadline = None
        return 0

    def lease_info(self):
        """The binding as plain values for the adapter (allocates): addresses and prefixes as
        (text, plen, preferred, valid) absolute engine seconds, DNS servers, domain list."""
        h = self.held
        addrs = []
        prefixes = []
        for i in range(h.n):
            e = (ip6_str(h.addr, 16 * i), h.plen[i], h.pref_at[i], h.valid_at[i])
            (prefixes if h.kind[i] == PD else addrs).append(e)
        dns = [ip6_str(h.dns, k) for k in range(0, h.dns_len - 15, 16)]
        return {"addresses": addrs, "prefixes": prefixes,
                "temporary": [ip6_str(h.addr, 16 * i) for i in range(h.n) if h.kind[i] == TA], "dns": dns, "domains": _labels(h.domains, h.domains_len),
                "server": "".join("%02x" % h.sid[i] for i in range(h.sid_len)), "state": STATE_NAMES[self.state],
                "renew_at": h.renew_at, "rebind_at": h.rebind_at}

    # -- transitions -------------------------------------------------------------------------------

    def _set_state(self, s, now):
        """The one state setter: a new state starts its exchange (new transaction id, first
        RT from IRT, MRC/MRD counted from here) and re-arms the deadline."""
        self.state = s
        ex = _EXCH[s]
        if not ex[0]:
            return
        self._new_xid(now)
        self.count = 0
        mrd = ex[4]
        if mrd == -1:
            mrd_at = self.held.rebind_at if s == RENEW else self.held.last_expiry()
        elif s == INFO and not self.stateless:
            mrd_at = self.held.renew_at  # asked by a Reconfigure: the leases' T1 still comes
        else:
            mrd_at = now + mrd if mrd else 0
        self.mrd_at = mrd_at
        self.rt = 0

    def _begin(self, now, out):
        """INIT -> SOLICIT (or INFO when stateless): the first message, after its random delay
        (RFC 8415 18.2.1, 18.2.6), which _restart set as this deadline."""
        if self.stateless:
            self._set_state(INFO, now)
        else:
            self._set_state(SOLICIT, now)
            self.adv_n = 0
            self.adv_pref = -1
        return self._send(now, out)

    def _restart(self, now):
        """Back to INIT: the next Solicit after a random 0..1 s delay."""
        self.state = INIT
        self.stats["restarts"] += 1
        self._arm_ms(now, self.rand(MAX_DELAY + 1))
        return 0

    def _retransmit(self, now, out):
        """The exchange's RT ran out: MRC/MRD reached ends it (what follows is per state),
        else send again with the next RT. A lease may run out first (in any state but Release:
        the deadline comes no later than the next expiry)."""
        s = self.state
        if s != RELEASE and self._lapse(now):  # none is used past its valid lifetime
            if not self.held.n and s != REQUEST and s != SOLICIT:
                return self._restart(now)  # nothing left in any IA: Solicit again
        if self.count == 0:
            return self._send(now, out)  # Confirm or Rebind after a restart: the first one
        mrc = _EXCH[s][3]
        if mrc and self.count >= mrc or self.mrd_at and now >= self.mrd_at:
            self.stats["timeouts"] += 1
            return self._exchange_failed(now, out)
        if now < self.rt_s or now == self.rt_s and self.ms < self.rt_ms:
            self.deadline = self.rt_s  # woken by an expiry: the RT still runs
            self.deadline_ms = self.rt_ms
            self._cap_deadline()
            return 0
        self.stats["timeouts"] += 1
        return self._send(now, out)

    def _lapse(self, now):
        """Drop the leases past their valid lifetime (none is used past it, in any state).
        Returns how many went."""
        h = self.held
        gone = h.expire(now)
        if gone:
            self.stats["expired"] += 1
            self.lease_version += 1
            h.record()
        return gone

    def _cap_deadline(self):
        """The deadline no later than the exchange's MRD, nor (but in Release) than the next
        lease expiry."""
        d = self.mrd_at
        if self.state != RELEASE:
            x = self.held.next_expiry()
            if x and (not d or x < d):
                d = x
        if d and (self.deadline > d or self.deadline == d and self.deadline_ms):
            self.deadline = d
            self.deadline_ms = 0

    def _exchange_failed(self, now, out):
        s = self.state
        h = self.held
        if s == RENEW:
            return self._rebind(now, out)  # T2 reached
        if s == REBIND:
            return self._expire(now, out)  # every valid lifetime ran out
        if s == RELEASE:
            return self._released(now)
        if s == DECLINE:
            self._declined(now)
        elif s == CONFIRM or s == INFO or h.n and s == REQUEST and h.renew_at:
            # Confirm unanswered: keep using the leases (RFC 8415 18.2.3); a stateful client's
            # Information-request given up at T1; a Request after NoBinding unanswered: carry on
            self._bound(now)
        else:
            return self._restart(now)  # a Request unanswered MRC times: Solicit again
        if self.state != BOUND:
            return 0
        return self._address_timer(now, out)  # what ran out meanwhile goes now, T1/T2 on time

    def _send(self, now, out):
        """Send the state's message; arm the next RT (RFC 8415 15)."""
        s = self.state
        ex = _EXCH[s]
        mrt = self.sol_max_rt if s == SOLICIT else self.inf_max_rt if s == INFO else ex[2]
        if self.count == 0:
            r = self.rand(2001)
            if s == SOLICIT and r <= 1000:
                r = 2000 - r + 1 if r < 1000 else 1001  # RAND > 0: the first RT beats IRT
            rt = rt_first(ex[1], r)
            if s == SOLICIT and rt <= ex[1]:
                rt = ex[1] + 1  # RAND > 0 by less than a millisecond: still above IRT
        else:
            rt = rt_next(self.rt, mrt, self.rand(2001))
        if s == SOLICIT and self.count == 0:
            self._collect_until(now, rt)
        self.rt = rt
        self.count += 1
        self._arm_ms(now, rt)
        self.rt_s = self.deadline
        self.rt_ms = self.deadline_ms
        self._cap_deadline()
        return self._build(out, ex[0], now)

    def _collect_until(self, now, rt):
        """Advertises are collected until the first RT has elapsed (RFC 8415 18.2.1)."""
        t = self.ms + rt
        self.collect_until_s = now + t // 1000
        self.collect_until_ms = t % 1000

    def _collected(self, now):
        return now > self.collect_until_s or now == self.collect_until_s and self.ms >= self.collect_until_ms

    def _advertise_in(self, rx, now, out):
        """SOLICIT: keep the best Advertise; Preference 255 is taken at once (18.2.9)."""
        if self.state != SOLICIT:
            return self._drop("dropped_state")
        self.stats["advertise"] += 1
        msg = self.msg
        self._max_rt(rx)
        score = self._offered(rx)
        if not score:
            return self._drop("dropped_no_leases")  # nothing offered: ignored (18.2.9)
        p = msg.at(P.OPT_PREFERENCE)
        pref = rx[p + 4] if p >= 0 and P.olen(rx, p) == 1 else 0
        if pref > self.adv_pref or pref == self.adv_pref and score > self.adv_score:
            P.copy(self.adv, 0, rx, 0, msg.end)
            self.adv_n = msg.end
            self.adv_pref = pref
            self.adv_score = score
        if pref == 255 or self._collected(now):
            return self._request(now, out)
        return 0

    def _request(self, now, out):
        """SOLICIT -> REQUEST: ask the chosen server for what it advertised (18.2.2)."""
        msg = self.msg
        if msg.parse(self.adv, self.adv_n):
            return self._restart(now)
        sid = msg.at(P.OPT_SERVERID)
        self.held.set_server(self.adv, sid + 4, P.olen(self.adv, sid))
        self._take_unicast(self.adv)
        self._set_state(REQUEST, now)
        return self._send(now, out)

    def _reply_in(self, rx, now, out):
        s = self.state
        if s == SOLICIT:
            if not (self.cfg.rapid_commit and self.msg.has(P.OPT_RAPID_COMMIT)):
                return self._drop("dropped_state")
        elif s == INIT or s == BOUND or s == INFORMED or s == STOPPED:
            return self._drop("dropped_state")
        elif s != CONFIRM and s != REBIND and s != INFO and not self._from_server(rx):
            return self._drop("dropped_server_id")
        self.stats["reply"] += 1
        msg = self.msg
        self._max_rt(rx)
        st = self._status(rx, msg.at(P.OPT_STATUS_CODE))
        if st == P.USE_MULTICAST:
            self.stats["use_multicast"] += 1
            self.held.has_unicast = False
            return self._send(now, out)  # again, to the multicast address (18.2.10)
        if s == INFO:
            return self._informed(rx, now)
        if s == CONFIRM:
            return self._confirmed(rx, st, now)
        if s == DECLINE:
            return self._declined(now)
        if s == RELEASE:
            return self._released(now)
        if st == P.NOT_ON_LINK:
            self.stats["not_on_link"] += 1
            self._forget()
            return self._restart(now)
        if st != P.SUCCESS:
            return self._drop("dropped_no_leases")  # UnspecFail etc.: the RT runs on
        return self._take_reply(rx, now, out)

    def _take_reply(self, rx, now, out):
        """Request, Renew, Rebind (or Solicit with Rapid Commit): take the IAs (18.2.10.1)."""
        h = self.held
        msg = self.msg
        sid = msg.at(P.OPT_SERVERID)
        if self.state == SOLICIT or self.state == REBIND:
            h.set_server(rx, sid + 4, P.olen(rx, sid))
        self._take_unicast(rx)
        no_binding = self._take_ias(rx, now)
        self._take_auth(rx)
        h.keep_options(rx, msg)
        self.lease_version += 1
        if no_binding and self.state != REQUEST:
            self.stats["no_binding"] += 1
            h.record()  # what the other IAs brought is in use already: journaled now
            self._set_state(REQUEST, now)  # re-establish the IA with that server (18.2.10.1)
            return self._send(now, out)
        if not h.n:
            self.stats["dropped_no_leases"] += 1
            h.record()
            return self._restart(now)  # NoAddrsAvail / NoPrefixAvail: Solicit again
        return self._bound(now)

    def _bound(self, now):
        """-> BOUND: the Address Timer (journaled), at the earliest of T1 and an expiry."""
        h = self.held
        h.record()
        self.state = BOUND
        return self._arm_lease(now)

    def _arm_lease(self, now):
        h = self.held
        d = h.renew_at
        x = h.next_expiry()
        if x and (not d or x < d):
            d = x
        if d <= now or self.dad_pending:
            d = now  # (a Decline waiting: at once)
        self.deadline = d
        self.deadline_ms = 0
        return 0

    def _address_timer(self, now, out):
        """BOUND: a lease expired, or T1 / T2 came."""
        h = self.held
        if self._lapse(now):
            if not h.n:
                return self._restart(now)
            if self._ia_empty():
                return self._renew(now, out)  # 18.2.4: the emptied IA is asked for again
        if h.rebind_at and now >= h.rebind_at:
            return self._rebind(now, out)
        if h.renew_at and now >= h.renew_at:
            return self._renew(now, out)
        return self._arm_lease(now)

    def _ia_empty(self):
        """Is an IA we ask for left with nothing (its last lease expired)?"""
        h = self.held
        return self.cfg.ia_na and not h.count(NA) or self.cfg.ia_pd and not h.count(PD) \
            or self.cfg.ia_ta and not h.count(TA)

    def _renew(self, now, out):
        """BOUND -> RENEW at T1: to the server (unicast only with Server Unicast), until T2."""
        self._set_state(RENEW, now)
        return self._send(now, out)

    def _rebind(self, now, out):
        """RENEW -> REBIND at T2: to any server, until the last valid lifetime."""
        self._set_state(REBIND, now)
        return self._send(now, out)

    def _expire(self, now, out):
        """REBIND ran out: every lease is gone; Solicit again."""
        self.stats["expired"] += 1
        self._forget()
        return self._restart(now)

    def _forget(self):
        h = self.held
        if h.n:
            self.lease_version += 1
        h.clear()
        h.record()

    def _confirmed(self, rx, st, now):
        """CONFIRM answered: Success keeps the addresses, NotOnLink starts over (18.2.10.2)."""
        if st == P.SUCCESS:
            return self._bound(now)
        self.stats["not_on_link"] += 1
        self._forget()
        return self._restart(now)

    def _informed(self, rx, now):
        """INFO -> INFORMED: keep the DNS options until the Information Refresh Time (18.2.6).
        A stateful client (asked by a Reconfigure) goes back to BOUND: its leases' T1 rules."""
        msg = self.msg
        self.held.keep_options(rx, msg)
        self.lease_version += 1
        if not self.stateless:
            return self._bound(now)
        irt = info_refresh(rx, msg.at(P.OPT_INFO_REFRESH), FOREVER - now)
        self.state = INFORMED
        self.deadline = now + irt
        self.deadline_ms = 0
        return 0

    def _refresh(self, now, out):
        """INFORMED: the Information Refresh Time came: ask again."""
        self._set_state(INFO, now)
        return self._send(now, out)

    def _decline(self, now, out):
        """BOUND -> DECLINE: the adapter's duplicate address detection failed (18.2.8)."""
        self.dad_pending = False
        h = self.held
        i = h.find(self.dad_kind, self.dad_addr, 0, 128)
        if i < 0 or h.valid_at[i] <= now:  # gone, or running out now: nothing to decline
            return self._address_timer(now, out)
        self.stats["decline"] += 1
        self._set_state(DECLINE, now)
        return self._send(now, out)

    def _declined(self, now):
        """DECLINE answered (or given up): drop the address; Solicit if nothing is left."""
        h = self.held
        i = h.find(self.dad_kind, self.dad_addr, 0, 128)
        if i >= 0:
            h.remove(i)
            self.lease_version += 1
        if not h.n:
            h.record()
            return self._restart(now)
        return self._bound(now)

    # -- Reconfigure (RFC 8415 18.2.11, 20.4) ------------------------------------------------------

    def _reconfigure_in(self, rx, now, out):
        """BOUND: a Reconfigure from our server with valid RKAP authentication: answer with
        the message it asks for; anything else is dropped and counted."""
        t = self._reconfigure_asks(rx) if self.state == BOUND and self.cfg.reconfigure_accept else 0
        if not t:
            return self._drop("reconfigure_dropped")
        self.stats["reconfigure"] += 1
        if t == P.INFO_REQUEST:
            self._set_state(INFO, now)
        else:
            self._set_state(t == P.RENEW and RENEW or REBIND, now)
        return self._send(now, out)

    # -- helpers ---------------------------------------------------------------------------------------

    def _arm_ms(self, now, ms):
        t = self.ms + ms
        self.deadline = now + t // 1000
        self.deadline_ms = t % 1000

    def _xorshift(self, n):
        self.seed = xorshift16(self.seed)
        return self.seed % n

    def _new_xid(self, now):
        x = self.xid
        a = self.rand(65536)
        x[0] = a >> 8
        x[1] = a & 255
        x[2] = self.rand(256)
        self.start_s = now
        self.start_ms = self.ms

    # -- journal ---------------------------------------------------------------------------------------

    def restore(self, now, duid):
        """Load the DUID (the journal's, else `duid`, made by the builder and journaled now)
        and the binding: addresses are Confirmed, prefixes Rebound (RFC 8415 18.2.12)."""
        h = self.held
        h.load()
        if not h.duid_len:
            P.copy(h.duid, 0, duid, 0, len(duid))
            h.duid_len = len(duid)
        self.journal.rewrite(h.dump)
        h.expire(now)
        if h.n and not self.stateless:
            self.lease_version += 1
            self._set_state(REBIND if h.count(PD) else CONFIRM, now)
        else:
            h.clear()
            self.state = INIT
        self._arm_ms(now, self.rand(MAX_DELAY + 1))  # CNF/SOL/INF_MAX_DELAY
        self._cap_deadline()  # a lease running out within the delay: dropped on time

    def dump(self, journal):
        self.held.dump(journal)


# state -> what its deadline does; message type -> its handler (None: not ours). Called with
# the client: tables in the class's module, not tuples of bound methods in every client.
TIMERS = (Client6._begin, Client6._retransmit, Client6._retransmit, Client6._address_timer,
          Client6._retransmit, Client6._retransmit, Client6._retransmit, Client6._retransmit,
          Client6._refresh, Client6._retransmit, None, Client6._retransmit)
REPLIES = (None, None, Client6._advertise_in, None, None, None, None, Client6._reply_in,
           None, None, Client6._reconfigure_in)


def _labels(b, n):
    """Domain names in DNS wire format (RFC 8415 10) as text (allocates: adapter side)."""
    out = []
    i = 0
    name = []
    while i < n:
        ln = b[i]
        i += 1
        if ln == 0:
            if name:
                out.append(".".join(name))
            name = []
            continue
        if ln > 63 or i + ln > n:
            break
        try:
            name.append(bytes(b[i:i + ln]).decode())
        except UnicodeError:
            break
        i += ln
    return out
