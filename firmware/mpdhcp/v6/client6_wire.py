# The DHCPv6 client's messages (RFC 8415 16, 18.2, 21): its states, what it puts in each
# message it sends (Client-Id, Elapsed Time, the Option Request, its IAs with what it holds or
# was offered) and how it reads the IAs, status codes and options of what it receives. A base
# class of client6.Client6, which holds the state machine; no allocation on either path.
from micropython import const
from ..wire import packet6 as P
from ..wire.timing import t1_default, t2_default6, capped_u32, max_rt
from ..slot import KIND_UNICAST
from .held6 import NA, PD, TA

# states
INIT = const(0)  # the first Solicit (or Information-request) is due after a random delay
SOLICIT = const(1)
REQUEST = const(2)
BOUND = const(3)
RENEW = const(4)
REBIND = const(5)
CONFIRM = const(6)
INFO = const(7)  # stateless: Information-request out
INFORMED = const(8)  # stateless: waiting for the Information Refresh Time
DECLINE = const(9)
STOPPED = const(10)
RELEASE = const(11)  # graceful stop: Release out, waiting for its Reply
STATE_NAMES = ("INIT", "SOLICIT", "REQUEST", "BOUND", "RENEW", "REBIND", "CONFIRM", "INFO",
               "INFORMED", "DECLINE", "STOPPED", "RELEASE")

FOREVER = const(0x3FFFFFFF)
CLIENT_PORT = const(546)
SERVER_PORT = const(547)
AUTH_LEN = const(28)  # RKAP Auth option data (RFC 8415 20.4, 21.11)


# message type -> the counter of its sends (a Decline is counted when decided, in client6)
_TX_COUNTER = (None, "solicit", None, "request", "confirm", "renew", "rebind", None, "release",
               None, None, "info_request")


class Messages6:
    # -- reading a message -------------------------------------------------------------------------

    def _offered(self, rx):
        """How much of what we ask for an Advertise or Reply offers: 2 per IA type with at
        least one address or prefix (0: nothing at all)."""
        score = 0
        if self.cfg.ia_na and self._ia_has(rx, P.OPT_IA_NA, P.OPT_IAADDR):
            score += 2
        if self.cfg.ia_pd and self._ia_has(rx, P.OPT_IA_PD, P.OPT_IAPREFIX):
            score += 2
        if self.cfg.ia_ta and self._ia_has(rx, P.OPT_IA_TA, P.OPT_IAADDR):
            score += 1  # temporary addresses weigh less than a lasting address or prefix
        return score

    def _ia_has(self, rx, code, sub):
        msg = self.msg
        a = msg.at(code)
        while a >= 0:
            e = a + 4 + P.olen(rx, a)
            if P.eq(rx, a + 4, self.iaid, 0, 4) and P.find(rx, a + 4 + _hdr(code), e, sub) >= 0 \
                    and self._ia_status(rx, a, e) == P.SUCCESS:
                return True
            a = msg.next(rx, a, code)
        return False

    def _ia_status(self, rx, a, e):
        s = P.find(rx, a + 4 + _hdr(P.ocode(rx, a)), e, P.OPT_STATUS_CODE)
        if s < 0 or P.olen(rx, s) < 2:
            return P.SUCCESS
        return (rx[s + 4] << 8) | rx[s + 5]

    def _take_ias(self, rx, now):
        """Each IA_NA / IA_PD / IA_TA with our IAID: its leases and T1/T2. Returns True when
        an IA came back NoBinding."""
        msg = self.msg
        h = self.held
        no_binding = False
        t1 = t2 = 0
        code = P.OPT_IA_NA
        while code:  # IA_NA, IA_PD, then IA_TA (a tuple of them would be built on the heap)
            a = msg.at(code)
            while a >= 0:
                e = a + 4 + P.olen(rx, a)
                if P.eq(rx, a + 4, self.iaid, 0, 4):
                    st = self._ia_status(rx, a, e)
                    if st == P.NO_BINDING:
                        no_binding = True
                    elif st == P.SUCCESS and code == P.OPT_IA_TA:
                        self._take_leases(rx, a, e, code, now)  # no T1/T2: never renewed (21.5)
                    elif st == P.SUCCESS:
                        it1 = capped_u32(rx, a + 8, FOREVER)
                        it2 = capped_u32(rx, a + 12, FOREVER)
                        if not (it2 and it1 > it2):  # T1 > T2 > 0: the IA is discarded (21.4)
                            short = self._take_leases(rx, a, e, code, now)
                            if short:
                                if not it1 and not it2:  # left to us: 0.5 and 0.8 (18.2.4)
                                    it1 = t1_default(short)
                                    it2 = t2_default6(short)
                                elif not it1:  # one left to us: from the other, T1 <= T2 in
                                    it1 = it2 // 2  # every IA, so the earliest T1 never
                                elif not it2:  # comes after the earliest T2 (21.4)
                                    it2 = FOREVER if it1 >= FOREVER // 2 else it1 + it1 // 2 + it1 // 10
                                if it1 and (not t1 or it1 < t1):
                                    t1 = it1
                                if it2 and (not t2 or it2 < t2):
                                    t2 = it2
                a = msg.next(rx, a, code)
            code = P.OPT_IA_PD if code == P.OPT_IA_NA else P.OPT_IA_TA if code == P.OPT_IA_PD else 0
        if t2 and t1 > t2:  # an IA's T1 rounded to 0 (a 1 s lifetime): never Renew after Rebind
            t1 = t2
        if t1 or t2:  # 0xffffffff is infinity (21.4): never, kept a small int on 32-bit boards
            h.renew_at = _at(now, t1 if t1 else t2 // 2)
            h.rebind_at = _at(now, t2 if t2 else FOREVER if t1 >= FOREVER // 2 else t1 + t1 // 2 + t1 // 10)
        return no_binding

    def _take_leases(self, rx, a, e, code, now):
        """The IAADDRs / IAPREFIXes of one IA. Returns the shortest preferred lifetime of the
        leases it holds (0: none)."""
        h = self.held
        pd = code == P.OPT_IA_PD
        sub = P.OPT_IAPREFIX if pd else P.OPT_IAADDR
        short = 0
        o = P.find(rx, a + 4 + _hdr(code), e, sub)
        while o >= 0:
            if pd:
                pref, valid = capped_u32(rx, o + 4, FOREVER - now), capped_u32(rx, o + 8, FOREVER - now)
                plen, at = rx[o + 12], o + 13
            else:
                at = o + 4
                pref, valid = capped_u32(rx, o + 20, FOREVER - now), capped_u32(rx, o + 24, FOREVER - now)
                plen = 128
            kind = PD if pd else TA if code == P.OPT_IA_TA else NA
            if pref <= valid and plen <= 128:  # preferred > valid: discarded (21.6, 21.22)
                i = h.find(kind, rx, at, plen)
                if valid == 0:
                    if i >= 0:
                        h.remove(i)
                elif h.put(kind, rx, at, plen, now + pref, now + valid) >= 0:
                    if pref and (not short or pref < short):
                        short = pref
                    elif not short:
                        short = valid
            o = P.find_next(rx, o, e, sub)
        return short

    def _take_auth(self, rx):
        """A Reply's RKAP Reconfigure Key (type 1), kept with the replay value it came with."""
        a = self.msg.at(P.OPT_AUTH)
        h = self.held
        if a >= 0 and P.olen(rx, a) == AUTH_LEN and rx[a + 4] == 3 and rx[a + 5] == 1 and rx[a + 15] == 1:
            P.copy(h.rkey, 0, rx, a + 16, 16)
            P.copy(h.replay, 0, rx, a + 7, 8)
            h.has_key = True

    def _from_server(self, rx):
        s = self.msg.at(P.OPT_SERVERID)
        return self.held.is_server(rx, s + 4, P.olen(rx, s))

    def _status(self, rx, s):
        if s < 0 or P.olen(rx, s) < 2:
            return P.SUCCESS
        return (rx[s + 4] << 8) | rx[s + 5]

    def _take_unicast(self, rx):
        h = self.held
        u = self.msg.at(P.OPT_UNICAST)
        h.has_unicast = u >= 0 and P.olen(rx, u) == 16
        if h.has_unicast:
            P.copy(h.unicast, 0, rx, u + 4, 16)

    def _max_rt(self, rx):
        """SOL_MAX_RT / INF_MAX_RT from the server (RFC 8415 21.24, 21.25): 60..86400 s."""
        msg = self.msg
        v = max_rt(rx, P.find(rx, msg.start + P.HDR, msg.end, P.OPT_SOL_MAX_RT))
        if v:
            self.sol_max_rt = v * 1000
        v = max_rt(rx, P.find(rx, msg.start + P.HDR, msg.end, P.OPT_INF_MAX_RT))
        if v:
            self.inf_max_rt = v * 1000

    def _reconfigure_asks(self, rx):
        """The message type a Reconfigure from our server asks for (Renew, Rebind or
        Information-request), when its RKAP authentication holds (RFC 8415 20.4: HMAC-MD5
        with the key the server gave, a replay value above the last one; the value is kept);
        else 0."""
        msg = self.msg
        h = self.held
        sid = msg.at(P.OPT_SERVERID)
        r = msg.at(P.OPT_RECONF_MSG)
        a = msg.at(P.OPT_AUTH)
        if not (h.has_key and h.is_server(rx, sid + 4, P.olen(rx, sid)) and r >= 0 and P.olen(rx, r) == 1
                and a >= 0 and P.olen(rx, a) == AUTH_LEN and rx[a + 4] == 3 and rx[a + 5] == 1
                and rx[a + 6] == 0 and rx[a + 15] == 2 and P.cmp(rx, a + 7, h.replay, 0, 8) > 0):
            return 0
        t = rx[r + 4]
        if t != P.RENEW and t != P.REBIND and t != P.INFO_REQUEST:
            return 0
        n = msg.end
        P.copy(self.scratch, 0, rx, 0, n)
        d = a + 16
        for i in range(16):
            self.scratch[d + i] = 0
        self.hmac.compute(h.rkey, 0, 16, self.scratch, 0, n, self.digest, 0)
        if not P.eq(self.digest, 0, rx, d, 16):
            return 0
        P.copy(h.replay, 0, rx, a + 7, 8)
        return t

    # -- sending ---------------------------------------------------------------------------------------

    def _build(self, out, mtype, now):
        b = out.buf
        b[0] = mtype
        P.copy(b, 1, self.xid, 0, 3)
        w = self.w
        w.start(b, P.HDR, len(b))
        h = self.held
        w.put(P.OPT_CLIENTID, h.duid, 0, h.duid_len)
        if mtype == P.REQUEST or mtype == P.RENEW or mtype == P.RELEASE or mtype == P.DECLINE:
            w.put(P.OPT_SERVERID, h.sid, 0, h.sid_len)
        w.put_u16(P.OPT_ELAPSED_TIME, self._elapsed(now) if self.count > 1 else 0)
        if mtype != P.RELEASE and mtype != P.DECLINE:
            self._put_oro(w, mtype)
        if mtype == P.SOLICIT and self.cfg.rapid_commit:
            w.put_empty(P.OPT_RAPID_COMMIT)
        if self.cfg.reconfigure_accept and mtype != P.RELEASE and mtype != P.DECLINE and mtype != P.CONFIRM:
            w.put_empty(P.OPT_RECONF_ACCEPT)
        if mtype != P.INFO_REQUEST:
            self._put_ias(w, mtype)
        out.n = w.pos
        out.ifindex = self.sock
        out.port = SERVER_PORT
        out.kind = KIND_UNICAST
        uni = h.has_unicast and (mtype == P.REQUEST or mtype == P.RENEW or mtype == P.RELEASE
                                 or mtype == P.DECLINE)
        P.copy(out.dest, 0, h.unicast if uni else P.ALL_SERVERS, 0, 16)
        out.tx_type = mtype
        P.copy(out.hw, 0, self.hw, 0, 6)
        self.stats["tx"] += 1
        self._count_tx(mtype)
        return out.n

    def _put_oro(self, w, mtype):
        """The configured Option Request, plus what RFC 8415 makes a client ask for: SOL_MAX_RT
        with a Solicit and the messages after it (21.24), INF_MAX_RT and the Information
        Refresh Time with an Information-request (18.2.6, 21.23, 21.25)."""
        oro = self.cfg.oro
        h = w.begin(P.OPT_ORO, len(oro) + 4)
        if h < 0:
            return
        w.raw(oro, 0, len(oro))
        if mtype == P.INFO_REQUEST:
            self._oro_add(w, oro, P.OPT_INF_MAX_RT)
            self._oro_add(w, oro, P.OPT_INFO_REFRESH)
        else:
            self._oro_add(w, oro, P.OPT_SOL_MAX_RT)
        w.end(h)

    def _oro_add(self, w, oro, code):
        i = 0
        while i < len(oro):
            if (oro[i] << 8) | oro[i + 1] == code:
                return
            i += 2
        w.u16(code)

    def _count_tx(self, mtype):
        name = _TX_COUNTER[mtype] if mtype < len(_TX_COUNTER) else None
        if name is not None:
            self.stats[name] += 1

    def _put_ias(self, w, mtype):
        """IA_NA / IA_PD: in Solicit with hints, in Request with what the Advertise offered,
        later with what is held (lifetimes 0: RFC 8415 18.2)."""
        cfg = self.cfg
        if mtype == P.DECLINE:
            k = self.dad_kind
            self._put_ia(w, P.OPT_IA_TA if k == TA else P.OPT_IA_NA, k, self.dad_addr)
            return
        if cfg.ia_na and mtype != P.RELEASE or mtype == P.RELEASE and self.held.count(NA):
            self._put_ia(w, P.OPT_IA_NA, NA, None)
        if cfg.ia_pd and mtype != P.CONFIRM and (mtype != P.RELEASE or self.held.count(PD)):
            self._put_ia(w, P.OPT_IA_PD, PD, None)
        # IA_TA: not renewed (RFC 8415 14.2, 21.5) unless it is left empty, which asks for
        # new temporary addresses; confirmed and released like addresses
        if cfg.ia_ta:
            held = self.held.count(TA)
            if mtype == P.SOLICIT or mtype == P.REQUEST or \
                    (held if mtype == P.CONFIRM or mtype == P.RELEASE else not held):
                self._put_ia(w, P.OPT_IA_TA, TA, None)

    def _put_ia(self, w, code, kind, only):
        h = w.begin(code, P.IA_HDR)
        if h < 0:
            return
        w.raw(self.iaid, 0, 4)
        if code != P.OPT_IA_TA:  # an IA_TA has no T1/T2 (21.5)
            w.u32(0)
            w.u32(0)
        if only is not None:
            self._put_lease(w, kind, only, 0, 128)
        elif self.state == REQUEST and self.adv_n and not self.held.n:
            self._put_advertised(w, code, kind)
        elif kind == PD and self.cfg.pd_hint and (self.state == SOLICIT or not self.held.count(PD)):
            self._put_lease(w, PD, ALL_ZERO, 0, self.cfg.pd_hint)  # 18.2.1, 18.2.4: a hint
        else:
            held = self.held
            for i in range(held.n):
                if held.kind[i] == kind:
                    self._put_lease(w, kind, held.addr, 16 * i, held.plen[i])
        w.end(h)

    def _put_advertised(self, w, code, kind):
        """The addresses / prefixes the chosen Advertise offered in our IA of this type."""
        b = self.adv
        msg = self.msg  # parsed over the Advertise by _request
        sub = P.OPT_IAPREFIX if kind == PD else P.OPT_IAADDR
        a = msg.at(code)
        while a >= 0:
            e = a + 4 + P.olen(b, a)
            if P.eq(b, a + 4, self.iaid, 0, 4):
                o = P.find(b, a + 4 + _hdr(code), e, sub)
                while o >= 0:
                    if kind == PD:
                        self._put_lease(w, PD, b, o + 13, b[o + 12])
                    else:
                        self._put_lease(w, NA, b, o + 4, 128)
                    o = P.find_next(b, o, e, sub)
            a = msg.next(b, a, code)

    def _put_lease(self, w, kind, a, off, plen):
        if kind == PD:
            h = w.begin(P.OPT_IAPREFIX, P.IAPREFIX_LEN)
            if h < 0:
                return
            w.u32(0)
            w.u32(0)
            w.byte(plen)
            w.raw(a, off, 16)
        else:
            h = w.begin(P.OPT_IAADDR, P.IAADDR_LEN)
            if h < 0:
                return
            w.raw(a, off, 16)
            w.u32(0)
            w.u32(0)
        w.end(h)

    def _elapsed(self, now):
        """Elapsed Time (RFC 8415 21.9): hundredths of a second since the exchange began."""
        t = (now - self.start_s) * 100 + (self.ms - self.start_ms) // 10
        return 0xFFFF if t > 0xFFFF else 0 if t < 0 else t


ALL_ZERO = bytes(16)


def _hdr(code):
    """The fixed part of an IA option: IAID, T1, T2; an IA_TA's is the IAID alone (21.5)."""
    return P.TA_HDR if code == P.OPT_IA_TA else P.IA_HDR


def _at(now, t):
    """now + t seconds, no later than FOREVER (no big int, no allocation on 32-bit boards)."""
    return FOREVER if t >= FOREVER - now else now + t
