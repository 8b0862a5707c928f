# DHCPv4-over-DHCPv6 across two processes, as Kea does it (its Dhcp4o6Ipc), so that either of
# our halves pairs with Kea's other one. With "dhcp4o6-port": P, the DHCPv6 half binds [::1]:P
# and sends to P+1, the DHCPv4 half binds [::1]:P+1 and sends to P. The DHCPv6 half forwards a
# client's DHCPV4-QUERY as received (relay layers included) with an ISC vendor option
# (option 17, enterprise 2495) in the innermost message: sub-options 60000 the interface name,
# 60001 the client's (or relay's) IPv6 source, 60002 its source port. The DHCPv4 half answers
# with a DHCPV4-RESPONSE (Relay-reply layers echoing the query's) carrying the same vendor
# option; the DHCPv6 half takes it out and sends the rest to that address and port.
from micropython import const
from ..wire import packet6 as P
from ..slot import Meta, Slot, KIND_UNICAST

OPT_VENDOR_OPTS = const(17)
ISC = const(2495)
SUB_IFACE = const(60000)
SUB_ADDR = const(60001)
SUB_PORT = const(60002)
LOOPBACK = b"\x00" * 15 + b"\x01"


def context_len(ifname):
    return 4 + 4 + (4 + len(ifname)) + (4 + 16) + (4 + 2)


def write_context(b, p, ifname, src, port):
    """The ISC vendor option at b[p:] (b has room), ifname as bytes (encoded()). Returns
    the end."""
    ln = context_len(ifname) - 4
    b[p] = 0
    b[p + 1] = OPT_VENDOR_OPTS
    b[p + 2] = ln >> 8
    b[p + 3] = ln & 255
    b[p + 4] = b[p + 5] = 0
    b[p + 6] = ISC >> 8
    b[p + 7] = ISC & 255
    p += 8
    p = _sub(b, p, SUB_IFACE, len(ifname))
    P.copy(b, p, ifname, 0, len(ifname))
    p = _sub(b, p + len(ifname), SUB_ADDR, 16)
    P.copy(b, p, src, 0, 16)
    p = _sub(b, p + 16, SUB_PORT, 2)
    b[p] = port >> 8
    b[p + 1] = port & 255
    return p + 2


def _sub(b, p, code, ln):
    b[p] = code >> 8
    b[p + 1] = code & 255
    b[p + 2] = ln >> 8
    b[p + 3] = ln & 255
    return p + 4


def find_context(b, msg):
    """Header offset of the ISC vendor option in msg's innermost message, or -1."""
    o = P.find(b, msg.start + P.HDR, msg.end, OPT_VENDOR_OPTS)
    while o >= 0:
        if P.olen(b, o) >= 4 and b[o + 4] == 0 and b[o + 5] == 0 and (b[o + 6] << 8 | b[o + 7]) == ISC:
            return o
        o = P.find_next(b, o, msg.end, OPT_VENDOR_OPTS)
    return -1


def read_context(b, o, names, meta):
    """The vendor option at o into meta: ifname (one of `names`, as encoded() pairs them, so
    no new string is made; None for another name), src, port. False when a sub-option is
    missing."""
    e = o + 4 + P.olen(b, o)
    i = P.find(b, o + 8, e, SUB_IFACE)
    a = P.find(b, o + 8, e, SUB_ADDR)
    pt = P.find(b, o + 8, e, SUB_PORT)
    if i < 0 or a < 0 or pt < 0 or P.olen(b, a) != 16 or P.olen(b, pt) != 2:
        return False
    ln = P.olen(b, i)
    meta.ifname = None
    for n, nb in names:
        if len(nb) == ln and P.eq(nb, 0, b, i + 4, ln):
            meta.ifname = n
    P.copy(meta.src, 0, b, a + 4, 16)
    meta.port = (b[pt + 4] << 8) | b[pt + 5]
    return True


def encoded(names):
    """[(name, its UTF-8 bytes)], made once outside the packet path: the context carries an
    interface name as bytes, and indexing a str makes a new one-character string (an
    allocation, whenever that character is not already an interned name)."""
    return [(n, n.encode()) for n in names]


def name_bytes(names, ifname):
    """ifname's bytes from encoded() pairs, or None."""
    for n, nb in names:
        if n == ifname:
            return nb
    return None


def read_iid(b, msg, meta):
    """The innermost relay's Interface-Id into meta.iid (Kea: getAnyRelayOption(D6O_INTERFACE_ID,
    RELAY_GET_FIRST), the relay closest to the client); iid_len 0 when there is none."""
    meta.iid_len = 0
    if msg.depth:
        o = msg.relay_option(b, msg.depth - 1, P.OPT_INTERFACE_ID)
        if o >= 0 and P.olen(b, o) <= len(meta.iid):
            meta.iid_len = P.olen(b, o)
            P.copy(meta.iid, 0, b, o + 4, meta.iid_len)


def cut(b, n, msg, o):
    """Take the option at o out of msg's innermost message (the bytes after it move up, each
    Relay-msg length shrinks). Returns the new length."""
    ln = 4 + P.olen(b, o)
    for k in range(n - o - ln):
        b[o + k] = b[o + ln + k]
    _grow(b, msg, -ln)
    return n - ln


def insert_context(b, n, msg, ifname, src, port):
    """The vendor option added at the end of msg's innermost message (what follows it, the
    outer relays' own options, moves down); ifname as bytes. Returns the new length, or 0
    when it will not fit."""
    ln = context_len(ifname)
    at = msg.end
    if n + ln > len(b):
        return 0
    k = n - 1
    while k >= at:
        b[k + ln] = b[k]
        k -= 1
    write_context(b, at, ifname, src, port)
    _grow(b, msg, ln)
    return n + ln


def _grow(b, msg, d):
    for k in range(msg.depth):
        r = msg.relay_option(b, k, P.OPT_RELAY_MSG)
        v = P.olen(b, r) + d
        b[r + 2] = v >> 8
        b[r + 3] = v & 255


class V4Half:
    """The DHCPv4 half as its own process: DHCPV4-QUERYs from the DHCPv6 half (ours or
    kea-dhcp6) on [::1]:P+1 go to Server4 with their context; each answer goes back to [::1]:P
    as a DHCPV4-RESPONSE. An engine on the runner's contract (the IPC socket is its socket)."""

    def __init__(self, server4, names, port):
        self.s4 = server4
        # the DHCPv6 interface names the subnets' 4o6-interface and the server id look for
        # (the Dhcp4 config's 4o6 ones and its own); a query from another interface is still
        # served (by 4o6-subnet or 4o6-interface-id, as kea-dhcp4 serves it) under no name
        self.names = encoded(names)
        self.to_port = port  # P: where the DHCPv6 half listens
        self.sock = 0
        self.stats = server4.stats
        for k in ("dhcpv4_query", "dhcpv4_response", "dropped_4o6"):
            self.stats[k] = 0
        self.msg = P.Msg6()
        self.buf4 = bytearray(P.MAX_PACKET)
        self.meta4 = Meta()
        self.out4 = Slot()
        self.rstack = bytearray(2 * P.HOP_LIMIT)
        self.journal = server4.journal

    def next_deadline(self):
        return None  # Server4's own timers run as the engine "server4"

    def on_timer(self, now, out):
        return 0  # Server4 has no message of its own to send

    def summary(self):
        return "DHCPv4-over-DHCPv6: the DHCPv4 half, on [::1]:%d" % (self.to_port + 1)

    def log_line(self, out, ifname, replied):
        return self.s4.log_line(self.out4, ifname, replied) + " (4o6)"

    def dump(self, journal):
        self.s4.dump(journal)

    def handle(self, rx, n, meta, now, out):
        st = self.stats
        msg = self.msg
        out.rx_type = 0
        if msg.parse(rx, n) or msg.mtype != P.DHCPV4_QUERY:
            return self._drop()
        st["dhcpv4_query"] += 1
        o = P.find(rx, msg.start + P.HDR, msg.end, P.OPT_DHCPV4_MSG)
        vo = find_context(rx, msg)
        m = self.meta4
        if o < 0 or P.find_next(rx, o, msg.end, P.OPT_DHCPV4_MSG) >= 0 or vo < 0 \
                or not read_context(rx, vo, self.names, m) or not self.s4.server_id4(m.ifname, m.ifaddr):
            return self._drop()
        n4 = P.olen(rx, o)
        P.copy(self.buf4, 0, rx, o + 4, n4)
        m.v4o6 = True
        m.unicast = rx[msg.start + 1] & 0x80 != 0
        read_iid(rx, msg, m)
        o4 = self.out4
        r = self.s4.handle(self.buf4, n4, m, now, o4)
        out.rx_type = o4.rx_type
        if not r:
            return 0
        b = out.buf
        p = P.relay_reply_head(rx, msg, b, self.rstack, len(b))
        vlen = 4 + P.olen(rx, vo)
        if p < 0 or p + 4 + 4 + r + vlen > len(b):
            return self._drop()
        b[p] = P.DHCPV4_RESPONSE
        b[p + 1] = b[p + 2] = b[p + 3] = 0  # flags 0 (RFC 7341 6)
        q = p + 4
        q = _sub(b, q, P.OPT_DHCPV4_MSG, r)
        P.copy(b, q, o4.buf, 0, r)
        q += r
        P.copy(b, q, rx, vo, vlen)  # the context goes back as it came
        q += vlen
        P.relay_reply_close(b, msg, self.rstack, q)
        st["dhcpv4_response"] += 1
        out.n = q
        P.copy(out.dest, 0, LOOPBACK, 0, 16)
        out.port = self.to_port
        out.kind = KIND_UNICAST
        out.ifindex = self.sock
        out.tx_type = P.DHCPV4_RESPONSE
        return q

    def _drop(self):
        self.stats["dropped_4o6"] += 1
        return 0
