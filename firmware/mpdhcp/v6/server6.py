# DHCPv6 server engine (RFC 8415 18.3), sans-I/O, on the engine contract (docs/engines.md):
#   handle(rx, n, meta, now, out) -> reply length; next_deadline(); on_timer(now, out); stats.
# IA_NA addresses and IA_PD prefixes (several IAs per message), Rapid Commit, relays (nested
# Relay-forw unwrapped, Relay-repl wrapped back with Interface-Id echoed), and Reconfigure
# with the Reconfigure Key Authentication Protocol (RFC 8415 20.4) retransmitted per 18.3.11.
# No sockets, clocks or files; persistence goes through the journal's staging buffer.
from micropython import const
from ..wire import packet6 as P
from ..state import leases6 as L
from ..state.alloc import Alloc
from ..slot import KIND_UNICAST, Meta, Slot
from .reconfigure6 import Reconfigure6, Identity, J_SERVER6
from .ia6 import IA6, ASSIGN, EXTEND, RELEASE, DECLINE

ipc4o6 = None  # v6/ipc4o6.py, imported by enable_4o6: a server without 4o6 carries none of it

CLIENT_PORT = const(546)
SERVER_PORT = const(547)


_COUNTERS = (
    "rx", "tx", "dropped_malformed", "dropped_type", "dropped_no_subnet", "dropped_no_client_id",
    "dropped_server_id", "dropped_not_for_us", "dropped_too_big", "dropped_unicast", "solicit", "request",
    "confirm", "renew", "rebind", "release", "decline", "info_request", "relayed", "advertise",
    "reply", "no_addrs_avail", "no_prefix_avail", "no_binding", "not_on_link", "use_multicast",
    "journal_records", "reconfigure_sent", "reconfigure_answered", "reconfigure_gave_up",
    "reconfigure_key_sent", "dhcpv4_query", "dhcpv4_response", "dropped_4o6",
) + P.BAD_NAMES[1:]

# What each client message must carry (RFC 8415 16): client-id, a matching server-id, no
# server-id, or a server-id that matches when present; and the counter it is counted by.
# One table, one place: message type -> (rule, counter); the handlers table follows it.
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
_COUNTER = (None, "solicit", None, "request", "confirm", "renew", "rebind", None, "release",
            "decline", None, "info_request")


class Server6:
    def __init__(self, cfg, journal, capacity, duid=None, secret=None):
        """capacity: leases for clients without a reservation; the table holds one more
        record per reserved address, prefix or client, so reserved clients are always served."""
        self.cfg = cfg
        self.served = None  # the interfaces the service opened (None: all the config names)
        self.subnets = cfg.subnets
        self.left_out = []  # router mode: pd-pools the delegated prefix has no room for (renumber)
        self.journal = journal  # the table's verbs stage into it too (leases.journal)
        res = [_reservations(s) for s in cfg.subnets]
        # prefixes to delegate (pd-pools, router-mode templates, reserved prefixes): two records per client
        pd = any(s.pd_pools or s.pd_template for s in cfg.subnets) or any(t[3] == L.PD for x in res for t in x)
        self.leases = L.Leases6(capacity + sum(len(x) for x in res), len(cfg.subnets), journal, pd)
        self.alloc = Alloc(self.leases, cfg.subnets, 16, _pools, _reservations, ())
        self.msg = P.Msg6()
        self.w = P.Writer6()
        self.stats = {}
        for k in _COUNTERS:
            self.stats[k] = 0
        self.leases.stats = self.stats
        self.ident = Identity()
        if duid is not None:
            self.ident.set(duid, secret or bytes(16))
        self.rc = Reconfigure6(self.leases, self.w, self.msg, self.ident, self.stats)
        self.ias = IA6(self)
        self.rstack = bytearray(2 * P.HOP_LIMIT)  # Relay-msg option headers in the reply
        # DHCPv4-over-DHCPv6 (RFC 7341): the DHCPv4 server the queries go to (service wires it)
        self.v4 = None
        self.ipc_sock = None  # or, across processes (Kea's IPC): the socket to the DHCPv4 half
        self.ipc_port = 0
        self.sock_of = {}  # interface name -> the socket that serves it (answers from the IPC)
        self.buf4 = self.meta4 = self.out4 = None  # made by enable_4o6: 3.5 KB a server without 4o6 keeps
        self.res = None  # this client's reservation in the subnet being served
        self.cid = -1  # the message's Client-Id option (offset of its header), or -1
        self.logs = cfg.log  # fill the reply slot's log fields (off: the service logs nothing)

    def set_identity(self, duid, secret):
        self.ident.set(duid, secret)

    # -- the engine contract ---------------------------------------------------------------

    def next_deadline(self):
        return self.rc.deadline()  # the server's only timers: Reconfigures in flight

    def on_timer(self, now, out):
        return self.rc.timer(now, out)

    def enable_4o6(self, v4=None):
        """Serve DHCPV4-QUERYs: with v4 (a Server4 in this process) by a direct call, else
        through Kea's IPC (ipc_sock/ipc_port set by the service). Makes the buffers once."""
        global ipc4o6
        from . import ipc4o6  # Kea's IPC framing and the Interface-Id read: 4o6 servers only

        self.v4 = v4
        self.names4o6 = ipc4o6.encoded(self.served or self.cfg.interfaces)  # (IPC replies name one)
        self.buf4 = bytearray(P.MAX_PACKET)  # the query's DHCPv4 message, at offset 0
        self.meta4 = Meta()
        self.out4 = Slot()

    def reconfigure(self, a, off, plen, msgtype, now):
        """Operator command: a Reconfigure to the client holding a[off:]/plen (see
        reconfigure6.Reconfigure6.send)."""
        return self.rc.send(a, off, plen, msgtype, now)

    def renumber(self, prefix, dlen, now, pref_at=0, valid_at=0):
        """Router mode: the WAN's delegated prefix is now prefix/dlen (prefix None: none),
        preferred and valid until pref_at / valid_at (engine seconds): LAN leases never
        outlive it. Each subnet from it (config delegated-subnet-id N) becomes /64 number N
        of it and its pools follow; a lease left in the old prefix is given lifetimes 0 at its
        next Renew or Rebind (RFC 8415 18.3.4) and its client gets a new address; clients that
        sent Reconfigure Accept are told to Renew now. Returns [(subnet id, "net/64" or None)]
        of the subnets that changed. Allocates: runs when the WAN's binding changes."""
        changed = []
        for sub in self.subnets:
            if sub.delegated is None:
                continue
            sub.pref_at = pref_at if prefix is not None else 0
            sub.valid_at = valid_at if prefix is not None else 0
            net = _subnet_of(prefix, dlen, sub.delegated)
            old = bytes(sub.net) if sub.plen == 64 else None
            if net == old:
                continue
            sub.rebase(net)
            self.alloc.set_pools(sub.index, L.NA, _pools(sub, L.NA))
            changed.append((sub.id, None if net is None else _net_str(net)))
            if old is not None:
                self._tell_old(sub.index, now)
        self.left_out = []  # pd-pools that do not fit the delegated prefix: "subnet id: prefix/len"
        if changed:  # the pd-pools follow too, clear of every LAN /64
            lans = [x.net for x in self.subnets if x.delegated is not None and x.plen == 64]
            for sub in self.subnets:
                if sub.pd_template:
                    self.left_out += ["%d: %s" % (sub.id, t) for t in sub.rebase_pd(prefix, dlen, lans)]
                    self.alloc.set_pools(sub.index, L.PD, _pools(sub, L.PD))
        return changed

    def _tell_old(self, si, now):
        """Reconfigure (Renew) to the clients of the old prefix that accept it, as many as
        may be in flight; the others learn at their next Renew."""
        lt = self.leases
        for r in range(lt.used):
            if lt.state(r) == L.BOUND and lt.subnet(r) == si and lt.kind(r) == L.NA and lt.flags(r) & L.F_RECONF:
                try:
                    self.rc.send(lt.abuf, lt.addr_off(r), 128, P.RENEW, now)
                except ValueError:
                    break  # all in flight (or this one cannot be told): the rest at their Renew

    def handle(self, rx, n, meta, now, out):
        st = self.stats
        st["rx"] += 1
        out.rx_type = 0
        out.tx_type = 0
        msg = self.msg
        if meta.ifindex == self.ipc_sock:
            return self._from_v4_half(rx, n, out)
        err = msg.parse(rx, n)
        if err:
            st["dropped_malformed"] += 1
            st[P.BAD_NAMES[err]] += 1
            return 0
        mt = msg.mtype
        out.rx_type = mt
        c = self.cid = msg.at(P.OPT_CLIENTID)  # (_log_client and _begin read it here)
        if self.logs:
            self._log_client(rx, out)
        if mt == P.DHCPV4_QUERY:
            return self._dhcpv4_query(rx, n, meta, now, out)
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
        if c >= 0:
            self.leases.load_client(rx, c + 4, (rx[c + 2] << 8) | rx[c + 3])  # (P.olen, in place)
        self.res = self._reservation(rx, sub) if c >= 0 and sub.reservations else None  # (none: no walk)
        st[_COUNTER[mt]] += 1
        return HANDLERS[mt](self, rx, sub, meta, now, out)

    def summary(self):
        lt = self.leases
        n = lt.held()
        return "serving DHCPv6 on %s, %d leases restored, capacity %d, server DUID %s" % (
            ", ".join(self.served or self.cfg.interfaces), n, lt.cap, self.duid_hex())

    def duid_hex(self):
        return self.ident.hex()

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
        if rule & _NEED_CID and self.cid < 0:  # (handle found the Client-Id: no msg.has call)
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
        ln = (rx[sid + 2] << 8) | rx[sid + 3]  # (P.olen, in place: every Request and Renew)
        return ln == self.ident.duid_len and P.eq(rx, sid + 4, self.ident.duid, 0, ln)

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
        c = self.cid
        hw = out.hw
        P.zero(out.addr6, 0, 16)
        if c < 0:
            P.zero(hw, 0, 6)
            return
        ln = (rx[c + 2] << 8) | rx[c + 3]  # (P.olen, in place)
        m = _duid_mac(rx, c + 4, ln)
        if m < 0:
            m = c + 4 + ln - 6 if ln >= 6 else c + 4
        if ln < 6:
            P.zero(hw, ln, 6 - ln)
        P.copy(hw, 0, rx, m, ln if ln < 6 else 6)

    # -- message handlers (one per message type) ----------------------------------------------------

    def _solicit(self, rx, sub, meta, now, out):
        """Solicit -> Advertise, or -> Reply with Rapid Commit (RFC 8415 18.3.1)."""
        rapid = sub.rapid_commit and self.msg.has(P.OPT_RAPID_COMMIT)
        if not self._begin(rx, meta, out, P.REPLY if rapid else P.ADVERTISE):
            return 0
        if rapid:
            self.w.put_empty(P.OPT_RAPID_COMMIT)
        self.ias.each(rx, sub, meta, now, out, ASSIGN, rapid)
        if rapid:
            self.rc.key_option(now)
        self._options(rx, sub)
        return self._finish(rx, meta, out)

    def _request(self, rx, sub, meta, now, out):
        """Request -> Reply: bind every IA, journaled (RFC 8415 18.3.2)."""
        return self._commit_reply(rx, sub, meta, now, out, ASSIGN)

    def _renew(self, rx, sub, meta, now, out):
        """Renew, Rebind -> Reply: extend every IA (RFC 8415 18.3.4, 18.3.5); a client
        that renews has answered any Reconfigure in flight."""
        self.rc.answered()
        return self._commit_reply(rx, sub, meta, now, out, EXTEND)

    def _release(self, rx, sub, meta, now, out):
        """Release -> Reply (RFC 8415 18.3.7)."""
        return self._status_reply(rx, sub, meta, now, out, RELEASE)

    def _decline(self, rx, sub, meta, now, out):
        """Decline -> Reply (RFC 8415 18.3.8)."""
        return self._status_reply(rx, sub, meta, now, out, DECLINE)

    def _commit_reply(self, rx, sub, meta, now, out, action):
        if not self._begin(rx, meta, out, P.REPLY):
            return 0
        self.ias.each(rx, sub, meta, now, out, action, True)
        if self.ias.reconf:  # (each() asked rc.accepted(): without Reconfigure Accept, no call)
            self.rc.key_option(now)
        self._options(rx, sub)
        return self._finish(rx, meta, out)

    def _status_reply(self, rx, sub, meta, now, out, action):
        """Release, Decline: Reply with top-level Success and NoBinding per unknown IA."""
        if not self._begin(rx, meta, out, P.REPLY):
            return 0
        self.w.put_status(P.SUCCESS)
        self.ias.each(rx, sub, meta, now, out, action, True)
        return self._finish(rx, meta, out)

    def _confirm(self, rx, sub, meta, now, out):
        """RFC 8415 18.3.3: Success when every address is on the link, else NotOnLink; no
        reply when the Confirm carries no address."""
        msg = self.msg
        seen = 0
        onlink = True
        code = P.OPT_IA_NA
        while code:  # IA_NA, then IA_TA (21.5: it may be confirmed while valid)
            hdr = P.IA_HDR if code == P.OPT_IA_NA else P.TA_HDR
            ia = msg.at(code)
            while ia >= 0:
                e = ia + 4 + P.olen(rx, ia)
                a = P.find(rx, ia + 4 + hdr, e, P.OPT_IAADDR)
                while a >= 0:
                    seen += 1
                    if not sub.contains(rx, a + 4):
                        onlink = False
                    a = P.find_next(rx, a, e, P.OPT_IAADDR)
                ia = msg.next(rx, ia, code)
            code = P.OPT_IA_TA if code == P.OPT_IA_NA else 0
        if not seen:
            return self._drop("dropped_not_for_us")
        if not self._begin(rx, meta, out, P.REPLY):
            return 0
        if not onlink:
            self.stats["not_on_link"] += 1
        self.w.put_status(P.SUCCESS if onlink else P.NOT_ON_LINK)
        return self._finish(rx, meta, out)

    def _info_request(self, rx, sub, meta, now, out):
        """Information-request -> Reply with the options asked for (RFC 8415 18.3.6)."""
        if not self._begin(rx, meta, out, P.REPLY):
            return 0
        if self.msg.has(P.OPT_CLIENTID):
            self.rc.answered()
        self._options(rx, sub)
        return self._finish(rx, meta, out)

    def _dhcpv4_query(self, rx, n, meta, now, out):
        """DHCPV4-QUERY -> DHCPV4-RESPONSE (RFC 7341 6, 7): exactly one DHCPv4 Message option;
        its DHCPv4 message goes to the DHCPv4 engine with where it came from, as Kea's IPC
        tells its DHCPv4 half (interface, the IPv6 source as received, the innermost relay's
        Interface-Id) and the unicast flag; the answer goes back in a DHCPV4-RESPONSE with
        flags 0, through the same Relay-reply chain."""
        st = self.stats
        st["dhcpv4_query"] += 1
        msg = self.msg
        v4 = self.v4
        o = P.find(rx, msg.start + P.HDR, msg.end, P.OPT_DHCPV4_MSG)
        if self.buf4 is None or o < 0 or P.find_next(rx, o, msg.end, P.OPT_DHCPV4_MSG) >= 0:
            return self._drop("dropped_4o6")  # no 4o6 here, or not exactly one DHCPv4 Message (7)
        if v4 is None:
            return self._to_v4_half(rx, n, meta, out)
        n4 = P.olen(rx, o)
        P.copy(self.buf4, 0, rx, o + 4, n4)
        m = self.meta4
        m.v4o6 = True
        m.ifname = meta.ifname
        m.ifindex = meta.ifindex
        m.unicast = rx[msg.start + 1] & 0x80 != 0  # RFC 7341 6: the U flag
        m.port = 0
        P.copy(m.src, 0, meta.src, 0, 16)  # a relay's address when relayed (Kea's remote address)
        ipc4o6.read_iid(rx, msg, m)
        if not v4.server_id4(meta.ifname, m.ifaddr):
            return self._drop("dropped_4o6")  # no IPv4 address to answer from (the service refuses that)
        o4 = self.out4
        n = v4.handle(self.buf4, n4, m, now, o4)
        P.copy(out.hw, 0, o4.hw, 0, 6)
        if not n:
            return 0
        if not self._begin(rx, meta, out, P.DHCPV4_RESPONSE, False):
            return 0
        h = self.w.pos - 4
        out.buf[h + 1] = out.buf[h + 2] = out.buf[h + 3] = 0  # flags: 0 (RFC 7341 6)
        if not self.w.put(P.OPT_DHCPV4_MSG, o4.buf, 0, n):
            return self._drop("dropped_too_big")
        st["dhcpv4_response"] += 1
        return self._finish(rx, meta, out)

    def _to_v4_half(self, rx, n, meta, out):
        """Across processes (Kea's IPC, ipc4o6.py): the query as received, with the ISC vendor
        option saying where it came from, to the DHCPv4 half on [::1]:P+1."""
        if self.ipc_sock is None:
            return self._drop("dropped_4o6")  # no DHCPv4 server, here or paired
        nb = ipc4o6.name_bytes(self.names4o6, meta.ifname)
        if nb is None:
            return self._drop("dropped_4o6")  # (every served interface is named)
        b = out.buf
        P.copy(b, 0, rx, 0, n)
        m = ipc4o6.insert_context(b, n, self.msg, nb, meta.src, meta.port)
        if not m:
            return self._drop("dropped_too_big")
        out.n = m
        P.copy(out.dest, 0, ipc4o6.LOOPBACK, 0, 16)
        out.port = self.ipc_port + 1
        out.kind = KIND_UNICAST
        out.ifindex = self.ipc_sock
        out.tx_type = P.DHCPV4_QUERY
        return m

    def _from_v4_half(self, rx, n, out):
        """A DHCPV4-RESPONSE from the DHCPv4 half: its vendor option out, its flags 0 (RFC
        7341 6; kea-dhcp4 echoes the query's: its response takes the query's transaction-id
        field, which holds them), the rest to the client (or relay) it names, through the
        socket of the interface it names."""
        msg = self.msg
        m = self.meta4
        if msg.parse(rx, n, P.RELAY_REPL) or msg.mtype != P.DHCPV4_RESPONSE:
            return self._drop("dropped_4o6")
        vo = ipc4o6.find_context(rx, msg)
        if vo < 0 or not ipc4o6.read_context(rx, vo, self.names4o6, m) or m.ifname not in self.sock_of:
            return self._drop("dropped_4o6")  # (None, an interface not served, is not in sock_of)
        b = out.buf
        P.copy(b, 0, rx, 0, n)
        out.n = ipc4o6.cut(b, n, msg, vo)
        b[msg.start + 1] = b[msg.start + 2] = b[msg.start + 3] = 0
        P.copy(out.dest, 0, m.src, 0, 16)
        out.port = m.port if msg.depth else CLIENT_PORT
        out.kind = KIND_UNICAST
        out.ifindex = self.sock_of[m.ifname]
        out.rx_type = P.DHCPV4_QUERY
        out.tx_type = P.DHCPV4_RESPONSE
        self.stats["dhcpv4_response"] += 1
        return out.n

    def _use_multicast(self, rx, meta, out):
        """RFC 8415 18.3.2 (and .4, .7, .8): we never send the Server Unicast option."""
        if not self._begin(rx, meta, out, P.REPLY):
            return 0
        self.stats["use_multicast"] += 1
        self.w.put_status(P.USE_MULTICAST)
        return self._finish(rx, meta, out)

    # -- the reply ------------------------------------------------------------------------------

    def _begin(self, rx, meta, out, mtype, ids=True):
        """Relay-repl headers (outermost first, Interface-Id echoed, RFC 8415 19.3), then the
        reply header, Server-Id and Client-Id (unless ids is False: a DHCPV4-RESPONSE).
        Leaves the writer after them."""
        msg = self.msg
        b = out.buf
        w = self.w
        limit = len(b)
        p = P.relay_reply_head(rx, msg, b, self.rstack, limit) if msg.depth else 0  # (no relay: no call)
        if p < 0:
            return self._drop("dropped_too_big")
        s = msg.start
        out.tx_type = mtype
        if ids:  # header, Server-Id, Client-Id: one kernel call
            ident = self.ident
            w.start(b, P.reply_ids(b, p, limit, mtype, rx, s, ident.duid, ident.duid_len, self.cid), limit)
            return True
        b[p] = mtype
        b[p + 1] = rx[s + 1]
        b[p + 2] = rx[s + 2]
        b[p + 3] = rx[s + 3]
        w.start(b, p + 4, limit)
        return True

    def _finish(self, rx, meta, out):
        msg = self.msg
        w = self.w
        b = out.buf
        end = w.pos
        if msg.depth:
            P.relay_reply_close(b, msg, self.rstack, end)
        out.n = end
        P.copy(out.dest, 0, meta.src, 0, 16)  # RFC 8415 18.3.10: to the source (client or relay)
        out.port = meta.port if msg.depth else CLIENT_PORT
        out.kind = KIND_UNICAST
        out.ifindex = meta.ifindex
        st = self.stats
        st["tx"] += 1
        if out.tx_type != P.DHCPV4_RESPONSE:
            st["advertise" if out.tx_type == P.ADVERTISE else "reply"] += 1
        return end

    def _options(self, rx, sub):
        """Options the client asked for in its ORO (RFC 8415 18.3.*, 21.7), then always-send."""
        msg = self.msg
        w = self.w
        opts = sub.options
        oro = msg.at(P.OPT_ORO)
        if oro >= 0:
            i = oro + 4
            e = i + ((rx[oro + 2] << 8) | rx[oro + 3])  # (P.olen, in place)
            while i < e:
                code = (rx[i] << 8) | rx[i + 1]
                v = opts.get(code)
                if v is not None:
                    w.put(code, v, 0, len(v))
                i += 2
        for code in sub.always:
            if not _in_oro(rx, oro, code):
                v = opts[code]
                w.put(code, v, 0, len(v))

    # -- journal: the server identity here, the leases in the table's codecs ----------------

    def restore(self, now=0):
        """Load the journal (identity and leases), take the next replay epoch, then rewrite
        the journal compacted (which records that epoch before any counter uses it)."""
        lt = self.leases
        lt.restore(self.journal, self._apply, self.dump, self._started, now)
        for r in range(lt.used):  # what the config reserves stays out of strangers' reach
            if lt.state(r) != L.FREE and self._reserved_record(r):
                lt.pin(r, True)

    def _apply(self, typ, buf, off, ln):
        if typ != J_SERVER6 or not self.ident.apply(buf, off, ln):
            self.leases.apply(typ, buf, off, ln, self.subnets)

    def _started(self, now):
        self.ident.next_epoch(now)

    def _reserved_record(self, r):
        lt = self.leases
        sub = self.subnets[lt.subnet(r)]
        if self.alloc.reserved_for(sub.index, lt.abuf, lt.addr_off(r), lt.plen(r)) is not None:
            return True
        klen = lt.keylen(r)
        for res in sub.reservations:
            if res.duid is not None and len(res.duid) == klen:
                lt.set_lookup_key(res.duid, 0, klen)
                if lt.key_is(r, klen):
                    return True
        return False

    def spare(self, entries):
        """Between steps (heap unlocked): room in the table's DUID arena for the next step's
        new clients (the runner calls it; a step's Solicits cannot grow it)."""
        self.leases.spare(entries)

    def dump(self, journal):
        """Compaction: the server identity, then every lease worth keeping."""
        self.ident.stage(journal)
        self.leases.dump(journal)


# message type -> its handler, called with the server: one table in the class's module, not
# a tuple of bound methods in every server (None: not ours)
HANDLERS = (None, Server6._solicit, None, Server6._request, Server6._confirm, Server6._renew,
            Server6._renew, None, Server6._release, Server6._decline, None, Server6._info_request)


def _duid_mac(b, off, ln):
    """Offset of the MAC in a DUID-LLT (type 1) or DUID-LL (type 3) with htype 1, or -1."""
    if ln == 14 and b[off] == 0 and b[off + 1] == 1 and b[off + 2] == 0 and b[off + 3] == 1:
        return off + 8
    if ln == 10 and b[off] == 0 and b[off + 1] == 3 and b[off + 2] == 0 and b[off + 3] == 1:
        return off + 4
    return -1


def _net_str(net):
    from mpdhcp.wire.addr6 import ip6_str

    return ip6_str(net) + "/64"


def _subnet_of(prefix, dlen, n):
    """/64 number n of prefix/dlen as 16 bytes, or None when it has no such /64."""
    if prefix is None or dlen > 64 or n >= (1 << (64 - dlen)):
        return None
    v = 0
    for i in range(8):
        v = (v << 8) | prefix[i]
    v = (v >> (64 - dlen) << (64 - dlen)) | n if dlen else n
    b = bytearray(16)
    for i in range(8):
        b[7 - i] = (v >> (8 * i)) & 255
    return bytes(b)


def _pools(sub, kind):
    """What the allocator walks: (base, size, shift, plen) per address or prefix pool."""
    if kind == L.NA:
        return [(p.first, p.size, 0, 128) for p in sub.pools]
    return [(p.prefix, p.size, 128 - p.dlen, p.dlen) for p in sub.pd_pools]


def _reservations(sub):
    """(reservation, address or prefix, length, kind) for each reserved one; a reservation
    naming none still counts (its client's records are kept for it)."""
    out = []
    for r in sub.reservations:
        if not r.addrs and not r.prefixes:
            out.append((r, None, 0, L.NA))
        for a in r.addrs:
            out.append((r, a, 128, L.NA))
        for a, pl in r.prefixes:
            out.append((r, a, pl, L.PD))
    return out


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
