# What the DHCPv4 client keeps of its lease, apart from the state machine (client4.py):
# - Offers4: the offers collected in SELECTING and the selection rule;
# - Kept4: the options of the ACK that the adapter applies (mask, routers, DNS, domain,
#   search list, classless routes, MTU), copied into buffers made once;
# - Memory4: the lease the journal remembers (address, server, expiry, prefix): INIT-REBOOT
#   after a restart and the preferred offer. Its journal record and codec live here.
from micropython import const
from ..wire import packet4 as P
from ..wire.decode4 import prefix_len, classful_len, text, addrs, decode_classless, decode_search

J_CLIENT4 = const(16)  # journal record: address(4), server id(4), expiry(4, 0 = forgotten), prefix(1)
JREC = const(13)

MAX_OFFERS = const(4)
OPT_MTU = const(26)
OPT_SEARCH = const(119)  # RFC 3397
OPT_CLASSLESS = const(121)  # RFC 3442


class Offers4:
    """Every OFFER of the window, one per server (at most MAX_OFFERS). The rule (RFC 2131
    4.4.1 leaves it to the client): the offer of the address we held before wins, else the
    first offer received."""

    def __init__(self):
        self.buf = bytearray(8 * MAX_OFFERS)  # yiaddr(4) + server id(4) per offer
        self.n = 0

    def add(self, rx, yoff, sid):
        b = self.buf
        i = 0
        while i < self.n:
            if P.addr_eq(b, 8 * i + 4, rx, sid):
                return  # one offer per server: a repeat replaces nothing
            i += 1
        if i < MAX_OFFERS:
            P.copy(b, 8 * i, rx, yoff, 4)
            P.copy(b, 8 * i + 4, rx, sid, 4)
            self.n = i + 1

    def pick(self, prev, addr, sid):
        """Copy the chosen offer's address and server id into addr and sid."""
        pick = 0
        i = 0
        while prev is not None and i < self.n:
            if P.addr_eq(self.buf, 8 * i, prev, 0):
                pick = i
                break
            i += 1
        P.copy(addr, 0, self.buf, 8 * pick, 4)
        P.copy(sid, 0, self.buf, 8 * pick + 4, 4)


class Kept4:
    def __init__(self, opts):
        self.opts = opts  # the client's option walker, parsed over the ACK being taken
        self.plen = 0
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
        self.scratch = opts.scratch  # (the option index's: this ACK's options are gathered there)
        self._diff = False  # set by _keep

    def take(self, rx):
        """Copy what the adapter applies out of the ACK. True when any of it changed."""
        o = self.opts
        ch = False
        m = o.at(P.OPT_SUBNET_MASK)
        plen = prefix_len(rx, m) if m >= 0 and rx[m - 1] == 4 else classful_len(rx, P.YIADDR)
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

    def info(self):
        """The options as plain values for the adapter (allocates). routes: [(destination,
        prefix length, gateway)]; classless routes (121) win over the router option (3) as
        RFC 3442 says; a gateway 0.0.0.0 means on-link."""
        routers = addrs(self.routers, self.routers_n)
        routes = decode_classless(self.routes, self.routes_n) if self.routes_n else None
        if routes is None:
            routes = [("0.0.0.0", 0, routers[0])] if routers else []
        return {"prefix": self.plen, "routers": routers, "routes": routes,
                "dns": addrs(self.dns, self.dns_n), "domain": text(self.domain, self.domain_n),
                "search": decode_search(self.search, self.search_n), "mtu": self.mtu}


class Memory4:
    def __init__(self, journal, stats):
        self.journal = journal
        self.stats = stats
        self.have = False
        self.addr = bytearray(4)
        self.sid = bytearray(4)
        self.expiry = 0
        self.plen = 0
        self.jrec = bytearray(JREC)

    def record(self, addr, sid, expiry, plen):
        """Remember (and journal) this lease; expiry 0: remembered for the offer preference
        and as a suggestion only."""
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
        P.copy(self.addr, 0, buf, off, 4)
        P.copy(self.sid, 0, buf, off + 4, 4)
        self.expiry = (buf[off + 8] << 24) | (buf[off + 9] << 16) | (buf[off + 10] << 8) | buf[off + 11]
        self.plen = buf[off + 12]
        self.have = not P.addr_is_zero(buf, off)

    def load(self):
        self.journal.load(self._apply)

    def _apply(self, typ, buf, off, ln):
        if typ == J_CLIENT4 and ln == JREC and buf[off + 8] < 0x40:
            self._remember(buf, off)

    def dump(self, journal):
        """Compaction: the one remembered lease."""
        if not self.have and P.addr_is_zero(self.addr, 0):
            return
        j = self.jrec
        P.copy(j, 0, self.addr, 0, 4)
        P.copy(j, 4, self.sid, 0, 4)
        e = self.expiry
        j[8] = (e >> 24) & 255
        j[9] = (e >> 16) & 255
        j[10] = (e >> 8) & 255
        j[11] = e & 255
        j[12] = self.plen
        journal.append(J_CLIENT4, j, 0, JREC)
