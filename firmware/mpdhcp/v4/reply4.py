# The DHCPv4 server's replies (RFC 2131 4.1, 4.3; RFC 2132; RFC 951 / 1542 for BOOTP): the
# header, the options in the order the client asked for them (the block of the last reply
# reused when it fits the next), the size the client takes, and where the reply goes. A base
# class of server4.Server4; nothing here allocates.
from micropython import const
from ..wire import packet4 as P
from ..slot import KIND_UNICAST, KIND_BROADCAST

CACHE_BLOCK = const(576)  # the largest option block _lease_options keeps for reuse
PRL_CACHED = const(64)  # the longest parameter request list it keeps one for (clients ask 10-30)
CLIENT_PORT = const(68)
SERVER_PORT = const(67)
BOOTP_VEND = const(300)  # a BOOTREPLY's size unless the request was longer: the 64-byte vend field (RFC 951)


class Reply4:
    def _reply(self, rx, mtype, yiaddr, sub, meta, out, res):
        """The reply; mtype 0: a BOOTREPLY (no DHCP options, the 64-byte vend field unless
        the request was longer: RFC 951, RFC 1542 2.1)."""
        b = out.buf
        limit = self._limit(rx, len(b)) if mtype else _bootp_limit(self.opts.n, len(b))
        P.reply_header(b, rx, mtype, yiaddr)
        if not mtype:
            b[P.HOPS] = rx[P.HOPS]  # a BOOTREPLY carries hops back, as ISC dhcpd's and Kea's do
        if mtype != P.NAK:
            _boot_fields(b, res.boot if res is not None and res.boot is not None else sub.boot)
        w = self.w
        w.start(b, limit)
        if mtype:
            w.put_byte(P.OPT_MSG_TYPE, mtype)
            w.put(P.OPT_SERVER_ID, meta.ifaddr, 0, 4)
            if mtype != P.NAK:
                self._lease_options(rx, out.rx_type == P.INFORM, sub, res)
        else:
            o = self.opts
            self._encode_options(rx, True, sub, res,
                                 o.gather(rx, P.OPT_PRL, self.scratch, 0, 255) if o.has(P.OPT_PRL) else -1)
        if self.opts.count[P.OPT_RELAY_AGENT]:  # RFC 3046 2.2: echo option 82, last (has(), no call)
            ln = self.opts.gather(rx, P.OPT_RELAY_AGENT, self.scratch, 0, 255)
            w.put(P.OPT_RELAY_AGENT, self.scratch, 0, ln)
        out.n = w.end()
        _dest(rx, mtype, out)
        out.ifindex = meta.ifindex
        out.tx_type = mtype  # (handle() set rx_type and hw already)
        P.copy(out.addr, 0, yiaddr, 0, 4)
        self.stats["tx"] += 1
        return out.n

    def reply_room(self):
        """The most a reply can take, all its reply slot needs (Runner.make_ring): header,
        message type, server id, lease time, T1 and T2, every option of the fullest subnet, a
        reservation's hostname (63 bytes at most), option 82 echoed, END; at least the 548 of
        a 576-byte datagram, so a BOOTREPLY stays as long as a BOOTREQUEST of that size."""
        n = P.OPTIONS + 3 + 6 + self._block_room() + P.put_len(63) + P.put_len(255) + 1
        return n if n > P.MIN_REPLY else P.MIN_REPLY

    def _block_room(self):
        """The most _encode_options writes: lease time, T1, T2 and every option of the fullest
        subnet (the cached block is no bigger, nor need be its buffer)."""
        most = 0
        for s in self.subnets:
            n = 3 * 6
            for v in s.options.values():
                n += P.put_len(len(v))
            most = n if n > most else most
        return most

    def _limit(self, rx, size):
        """Reply size cap: option 57 (RFC 2132 9.10) minus IP+UDP headers, at least 548."""
        mx = self.opts.u16(rx, P.OPT_MAX_SIZE, 0) - 28
        if mx < P.MIN_REPLY:
            mx = P.MIN_REPLY
        return mx if mx < size else size

    def _lease_options(self, rx, inform, sub, res):
        w = self.w
        o = self.opts
        prl_n = o.gather(rx, P.OPT_PRL, self.scratch, 0, 255) if o.count[P.OPT_PRL] else -1  # (has())
        cacheable = res is None or res.hostname is None  # a reserved hostname is per client
        if (cacheable and self.blk_n >= 0 and self.blk_sub is sub and self.blk_inform == inform
                and self.blk_prl_n == prl_n and P.eq(self.blk_prl, 0, self.scratch, 0, prl_n if prl_n > 0 else 0)
                and w.put_raw(self.blk, self.blk_n)):
            return
        start = w.pos
        self._encode_options(rx, inform, sub, res, prl_n)
        n = w.pos - start
        if cacheable and not w.full and n <= len(self.blk) and prl_n <= len(self.blk_prl):
            P.copy(self.blk, 0, w.buf, start, n)
            self.blk_n = n
            self.blk_sub = sub
            self.blk_inform = inform
            self.blk_prl_n = prl_n
            if prl_n > 0:
                P.copy(self.blk_prl, 0, self.scratch, 0, prl_n)

    def _encode_options(self, rx, inform, sub, res, prl_n):
        """The lease options of a reply, option by option (the PRL is in self.scratch)."""
        w = self.w
        done = self.done
        P.zero(done, 0, 32)  # (here: a reply that copies the cached block needs none)
        if not inform:
            w.put_u32(P.OPT_LEASE_TIME, sub.valid)
            w.put_u32(P.OPT_T1, sub.t1)
            w.put_u32(P.OPT_T2, sub.t2)
        opts = sub.options
        self._put_opt(opts, P.OPT_SUBNET_MASK)
        i = 0
        while i < prl_n:
            code = self.scratch[i]
            if code == P.OPT_HOSTNAME and res is not None and res.hostname is not None and \
                    not done[P.OPT_HOSTNAME >> 3] & 1 << (P.OPT_HOSTNAME & 7):
                w.put(P.OPT_HOSTNAME, res.hostname, 0, len(res.hostname))
                done[P.OPT_HOSTNAME >> 3] |= 1 << (P.OPT_HOSTNAME & 7)
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
        bit = 1 << (code & 7)
        if done[code >> 3] & bit:
            return
        v = opts.get(code)
        if v is not None:
            self.w.put(code, v, 0, len(v))
        done[code >> 3] |= bit


def _bootp_limit(n, size):
    """A BOOTREPLY is as long as its request, at least the 300 bytes of RFC 951."""
    return n if BOOTP_VEND < n < size else BOOTP_VEND


def _boot_fields(b, boot):
    """siaddr, sname and file from next-server, server-hostname, boot-file-name (RFC 2131 2;
    reply_header left them zero)."""
    if boot is not None:
        P.copy(b, P.SIADDR, boot[0], 0, 4)
        P.copy(b, P.SNAME, boot[1], 0, len(boot[1]))
        P.copy(b, P.FILE, boot[2], 0, len(boot[2]))


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
