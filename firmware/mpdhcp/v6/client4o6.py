# DHCPv4-over-DHCPv6 client transport (RFC 7341 5, 8): the Client4 engine runs unchanged;
# only how its messages travel differs. First an Information-request asks for the DHCPv4-
# over-DHCPv6 servers (option 88; an empty list means All_DHCP_Relay_Agents_and_Servers, no
# option means no 4o6 service here: asked again later), and again when its Information Refresh
# Time runs out (RFC 8415 18.2.6, 21.23). Then every DHCPv4 message Client4 sends goes in a
# DHCPV4-QUERY (the unicast flag set when it would have been unicast over IPv4: a RENEWING
# REQUEST, a RELEASE) to one of the servers, the next one when a query got no answer, and the
# DHCPv4 message of each DHCPV4-RESPONSE goes to Client4. Sans-I/O, the engines' contract;
# the journal, the lease and its application stay Client4's and wan4's.
from micropython import const
from ..wire import packet6 as P
from ..wire.timing import info_refresh, max_rt
from ..slot import Slot, KIND_UNICAST

ASKING = const(0)  # no 4o6 servers known yet: Information-requests only
RUNNING = const(1)  # DHCPv4 over DHCPv6 (an Information-request may be out too: a refresh)
INF_TIMEOUT = const(1)  # RFC 8415 7.6, whole seconds here
INF_MAX_RT = const(120)  # (3600 in RFC 8415; 4o6 without its servers is no service: ask sooner)
NO_SERVICE_RETRY = const(60)  # a Reply without option 88: ask again after this
FOREVER = const(0x3FFFFFFF)  # deadlines stay small ints on 32-bit boards
MAX_SERVERS = const(4)  # option 88 addresses kept (tried in turn)
# ORO of the Information-request: 4o6 servers (RFC 7341), and what RFC 8415 18.2.6 has every
# Information-request ask for: Information Refresh Time, INF_MAX_RT
_ORO = b"\x00\x58\x00\x20\x00\x53"
_COUNTERS = ("dhcpv4_query", "dhcpv4_response", "info_request_4o6", "dropped_4o6")


class Client4o6:
    def __init__(self, c4, duid, rand):
        """c4: the Client4 engine; duid: the client identifier of the Information-request;
        rand(n) -> 0..n-1."""
        self.c4 = c4
        self.duid = bytes(duid)
        self.rand = rand
        self.sock = 0
        self.stats = c4.stats  # one set of counters (console client4(), inspect)
        for k in _COUNTERS:
            self.stats[k] = 0
        self.phase = ASKING
        self.ask_at = 0  # when the next Information-request goes out (0: at the first step)
        self.rt = 0  # its retransmission timeout; 0: no Information-request exchange open
        self.began = 0  # when that exchange began (Elapsed Time, RFC 8415 21.9)
        self.inf_max_rt = INF_MAX_RT
        self.servers = bytearray(16 * MAX_SERVERS)  # option 88's addresses ...
        self.nservers = 0
        self.cur = 0  # ... and the one in use, copied to self.server: where the queries go
        self.server = bytearray(16)
        P.copy(self.server, 0, P.ALL_SERVERS, 0, 16)
        self.answered = True  # the last query got a DHCPV4-RESPONSE (else: the next server)
        self.xid = bytearray(3)
        self.msg = P.Msg6()
        self.w = P.Writer6()
        self.buf4 = bytearray(P.MAX_PACKET)
        self.out4 = Slot()
        self.journal = c4.journal

    # -- what console, wan4 and the runner read: Client4's ------------------------------------

    @property
    def state(self):
        return self.c4.state

    def lease_info(self):
        return self.c4.lease_info()

    def summary(self):
        return self.c4.summary() + " over DHCPv6 (RFC 7341)"

    def log_line(self, out, ifname, replied):
        return self.c4.log_line(self.out4, ifname, replied) + " (4o6)"

    def dump(self, journal):
        self.c4.dump(journal)

    # -- the engine contract ------------------------------------------------------------------

    def next_deadline(self):
        a = self.ask_at
        if self.phase == ASKING:
            return a
        d = self.c4.next_deadline()
        return a if d is None or a < d else d

    def on_timer(self, now, out):
        out.rx_type = 0
        if now >= self.ask_at:
            return self._ask(now, out)
        if self.phase == ASKING:
            return 0
        o4 = self.out4
        n = self.c4.on_timer(now, o4)
        return self._wrap(o4, n, out) if n else 0

    def handle(self, rx, n, meta, now, out):
        st = self.stats
        out.rx_type = 0
        out.tx_type = 0
        msg = self.msg
        if msg.parse(rx, n) or msg.depth:
            return self._drop("dropped_4o6")
        mt = msg.mtype
        if mt == P.REPLY and self.rt and P.eq(rx, 1, self.xid, 0, 3):
            return self._servers(rx, now)
        if mt != P.DHCPV4_RESPONSE or self.phase != RUNNING:
            return self._drop("dropped_4o6")
        o = P.find(rx, msg.start + P.HDR, msg.end, P.OPT_DHCPV4_MSG)
        if o < 0 or P.find_next(rx, o, msg.end, P.OPT_DHCPV4_MSG) >= 0:
            return self._drop("dropped_4o6")  # exactly one DHCPv4 Message option (RFC 7341 7)
        st["dhcpv4_response"] += 1
        self.answered = True
        n4 = P.olen(rx, o)
        P.copy(self.buf4, 0, rx, o + 4, n4)
        o4 = self.out4
        r = self.c4.handle(self.buf4, n4, meta, now, o4)
        out.rx_type = o4.rx_type
        return self._wrap(o4, r, out) if r else 0

    def _drop(self, counter):
        self.stats[counter] += 1
        return 0

    # -- finding the 4o6 servers (RFC 7341 8) ---------------------------------------------------

    def _ask(self, now, out):
        """Information-request (RFC 8415 18.2.6): one transaction id for the exchange, sent
        again after 1, 2, 4... s (up to INF_MAX_RT) until a Reply comes (15.1)."""
        if self.rt == 0:
            self._new_xid()
            self.began = now
            self.rt = INF_TIMEOUT
        else:
            self.rt = min(2 * self.rt, self.inf_max_rt)
        self.ask_at = now + self.rt
        b = out.buf
        b[0] = P.INFO_REQUEST
        P.copy(b, 1, self.xid, 0, 3)
        w = self.w
        w.start(b, P.HDR, len(b))
        w.put(P.OPT_CLIENTID, self.duid, 0, len(self.duid))
        e = now - self.began  # in hundredths of a second, 0xFFFF from 655 s on (21.9)
        w.put_u16(P.OPT_ELAPSED_TIME, e * 100 if e < 655 else 0xFFFF)
        w.put(P.OPT_ORO, _ORO, 0, len(_ORO))
        self.stats["info_request_4o6"] += 1
        return self._out(out, w.pos, P.INFO_REQUEST, P.ALL_SERVERS)

    def _new_xid(self):
        x = self.xid
        a = self.rand(65536)
        x[0] = a >> 8
        x[1] = a & 255
        x[2] = self.rand(256)

    def _servers(self, rx, now):
        """The Reply: option 88 lists the servers (none: multicast); the next
        Information-request when its Information Refresh Time runs out. Without option 88
        there is no 4o6 service: asked again in NO_SERVICE_RETRY s (while running, the
        servers known are kept until the refresh)."""
        msg = self.msg
        self.rt = 0
        self._max_rt(rx)
        o = P.find(rx, msg.start + P.HDR, msg.end, P.OPT_4O6_SERVER)
        if o < 0 and self.phase == ASKING:
            self.ask_at = now + NO_SERVICE_RETRY
            return 0
        self.ask_at = now + info_refresh(rx, msg.at(P.OPT_INFO_REFRESH), FOREVER - now)
        if o >= 0:
            self._take_servers(rx, o)
        if self.phase == ASKING:
            self.phase = RUNNING
            self.c4.deadline = now  # Client4 starts now (INIT, or INIT-REBOOT with its lease)
        return 0

    def _max_rt(self, rx):
        """Option 83 (RFC 8415 21.25): the Information-request's MRT, when 60..86400 s."""
        msg = self.msg
        v = max_rt(rx, P.find(rx, msg.start + P.HDR, msg.end, P.OPT_INF_MAX_RT))
        if v:
            self.inf_max_rt = v

    def _take_servers(self, rx, o):
        """Option 88's addresses (the first MAX_SERVERS), the first one in use; an empty
        option: All_DHCP_Relay_Agents_and_Servers."""
        n = P.olen(rx, o) // 16
        if n > MAX_SERVERS:
            n = MAX_SERVERS
        P.copy(self.servers, 0, rx, o + 4, 16 * n)
        if n == 0:
            P.copy(self.servers, 0, P.ALL_SERVERS, 0, 16)
            n = 1
        self.nservers = n
        self._use(0)

    def _use(self, i):
        self.cur = i
        P.copy(self.server, 0, self.servers, 16 * i, 16)

    # -- DHCPv4 in DHCPV4-QUERY -------------------------------------------------------------------

    def _wrap(self, o4, n, out):
        """Client4's message in o4 as a DHCPV4-QUERY in out (RFC 7341 6), to the server in
        use; after a query that got no answer, to the next one (RFC 7341 5: the client
        sends to the 4o6 server addresses)."""
        if not self.answered and self.nservers > 1:
            self._use((self.cur + 1) % self.nservers)
        self.answered = False
        b = out.buf
        b[0] = P.DHCPV4_QUERY
        b[1] = 0x80 if o4.kind == KIND_UNICAST else 0  # the U flag (RFC 7341 6, 5.2)
        b[2] = b[3] = 0
        w = self.w
        w.start(b, P.HDR, len(b))
        if not w.put(P.OPT_DHCPV4_MSG, o4.buf, 0, n):
            return 0
        self.stats["dhcpv4_query"] += 1
        out.rx_type = o4.rx_type
        return self._out(out, w.pos, o4.tx_type, self.server)

    def _out(self, out, n, tx, dest):
        out.n = n
        out.ifindex = self.sock
        out.port = 547
        out.kind = KIND_UNICAST
        P.copy(out.dest, 0, dest, 0, 16)
        out.tx_type = tx
        self.stats["tx"] += 1
        return n

    def release(self, now, out):
        """Graceful stop: Client4's RELEASE, in a DHCPV4-QUERY."""
        o4 = self.out4
        n = self.c4.release(now, o4)
        if not n or self.phase != RUNNING:
            return 0
        return self._wrap(o4, n, out)
