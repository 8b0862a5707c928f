# What the DHCPv6 client holds (RFC 8415 18.2.10.1): the server it is bound to, its
# addresses (IA_NA) and delegated prefixes (IA_PD) with absolute lifetimes, the Reconfigure key
# and the DNS options of the last Reply; and its own DUID. Preallocated slots, no allocation
# after construction; the journal keeps the DUID (made once) and the binding across restarts.
from micropython import const
from ..wire import packet6 as P
from ..wire.timing import capped_u32

MAX_LEASES = const(8)  # addresses + prefixes held at once
NA = const(0)
PD = const(1)
TA = const(2)  # a temporary address (IA_TA, RFC 8415 21.5)
DUID_MAX = const(130)  # RFC 8415 11.1
OPT_KEEP = const(256)  # bytes kept of the DNS servers and the domain list each

J_CLIENT6_ID = const(48)  # journal: the client's DUID
J_CLIENT6 = const(49)  # journal: the binding (below); an empty one forgets it
J_CLIENT6_MORE = const(50)  # journal: the leases the binding record had no room for, right after it
# binding record: server DUID length(1), DUID, unicast flag(1), unicast(16), renew at(4),
# rebind at(4), count(1), then per lease: kind(1) plen(1) address(16) preferred(4) valid(4);
# then, when a Reconfigure Key is held: 1, key(16), replay detection(8) (older records end
# before it: they replay without a key). A journal record holds at most 255 bytes: the leases
# that do not fit (a long server DUID, a key, 8 leases) follow in a J_CLIENT6_MORE record, the
# leases alone.
_LEASE = const(26)
_KEY = const(25)
_REC_MAX = const(255)


def _u32(b, o):
    return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]


def _put32(b, o, v):
    b[o] = (v >> 24) & 255
    b[o + 1] = (v >> 16) & 255
    b[o + 2] = (v >> 8) & 255
    b[o + 3] = v & 255


class Held6:
    def __init__(self, journal, stats):
        self.journal = journal
        self.stats = stats
        self.duid = bytearray(DUID_MAX)
        self.duid_len = 0
        self.sid = bytearray(DUID_MAX)  # the server's DUID
        self.sid_len = 0
        self.unicast = bytearray(16)  # Server Unicast (RFC 8415 21.12), when has_unicast
        self.has_unicast = False
        self.n = 0  # leases held
        self.kind = bytearray(MAX_LEASES)
        self.plen = bytearray(MAX_LEASES)
        self.addr = bytearray(16 * MAX_LEASES)
        self.pref_at = [0] * MAX_LEASES  # absolute, engine seconds
        self.valid_at = [0] * MAX_LEASES
        self.renew_at = 0
        self.rebind_at = 0
        self.rkey = bytearray(16)  # the Reconfigure Key (RKAP), when has_key
        self.has_key = False
        self.replay = bytearray(8)  # the last replay detection value seen from the server
        self.dns = bytearray(OPT_KEEP)
        self.dns_len = 0
        self.domains = bytearray(OPT_KEEP)
        self.domains_len = 0
        self.rec = bytearray(1 + DUID_MAX + 17 + 8 + 1 + _LEASE * MAX_LEASES + _KEY)
        self.split = 0  # leases in the binding record; the rest go in a J_CLIENT6_MORE one

    # -- the leases ------------------------------------------------------------------------------

    def find(self, kind, a, off, plen):
        for i in range(self.n):
            if self.kind[i] == kind and self.plen[i] == plen and P.eq(self.addr, 16 * i, a, off, 16):
                return i
        return -1

    def count(self, kind):
        c = 0
        for i in range(self.n):
            if self.kind[i] == kind:
                c += 1
        return c

    def put(self, kind, a, off, plen, pref_at, valid_at):
        """Add or update a lease. Returns its slot, or -1 when all slots are taken."""
        i = self.find(kind, a, off, plen)
        if i < 0:
            if self.n >= MAX_LEASES:
                return -1
            i = self.n
            self.n += 1
            self.kind[i] = kind
            self.plen[i] = plen
            P.copy(self.addr, 16 * i, a, off, 16)
        self.pref_at[i] = pref_at
        self.valid_at[i] = valid_at
        return i

    def remove(self, i):
        """Drop lease i (the last slot moves into its place)."""
        last = self.n - 1
        if i != last:
            self.kind[i] = self.kind[last]
            self.plen[i] = self.plen[last]
            P.copy(self.addr, 16 * i, self.addr, 16 * last, 16)
            self.pref_at[i] = self.pref_at[last]
            self.valid_at[i] = self.valid_at[last]
        self.n = last

    def expire(self, now):
        """Drop every lease past its valid lifetime. Returns how many went."""
        gone = 0
        i = 0
        while i < self.n:
            if self.valid_at[i] <= now:
                self.remove(i)
                gone += 1
            else:
                i += 1
        return gone

    def next_expiry(self):
        best = 0
        for i in range(self.n):
            if best == 0 or self.valid_at[i] < best:
                best = self.valid_at[i]
        return best

    def last_expiry(self):
        best = 0
        for i in range(self.n):
            if self.valid_at[i] > best:
                best = self.valid_at[i]
        return best

    def clear(self):
        self.n = 0
        self.sid_len = 0
        self.has_unicast = False
        self.has_key = False
        self.renew_at = self.rebind_at = 0

    def set_server(self, buf, off, ln):
        P.copy(self.sid, 0, buf, off, ln)
        self.sid_len = ln

    def is_server(self, buf, off, ln):
        return ln == self.sid_len and P.eq(self.sid, 0, buf, off, ln)

    def keep_options(self, buf, msg):
        """The DNS servers (23) and domain list (24) of a Reply, as sent (cut to OPT_KEEP)."""
        self.dns_len = self._keep(buf, msg.at(P.OPT_DNS_SERVERS), self.dns)
        self.domains_len = self._keep(buf, msg.at(P.OPT_DOMAIN_LIST), self.domains)

    def _keep(self, buf, at, dst):
        if at < 0:
            return 0
        ln = P.olen(buf, at)
        if ln > OPT_KEEP:
            ln = OPT_KEEP
        P.copy(dst, 0, buf, at + 4, ln)
        return ln

    # -- journal -----------------------------------------------------------------------------------

    def record_duid(self):
        self.journal.append(J_CLIENT6_ID, self.duid, 0, self.duid_len)
        self.stats["journal_records"] += 1

    def record(self):
        """Journal the binding as it is now (nothing held: an empty record forgets it)."""
        self._append(self.journal)
        self.stats["journal_records"] += 1

    def _append(self, journal):
        n = self._encode(self.rec)
        journal.append(J_CLIENT6, self.rec, 0, n)
        if self.split < self.n:
            n = self._put_leases(self.rec, 0, self.split, self.n)
            journal.append(J_CLIENT6_MORE, self.rec, 0, n)

    def _encode(self, r):
        self.split = 0
        if not self.n:
            r[0] = 0
            return 1
        sl = self.sid_len
        r[0] = sl
        P.copy(r, 1, self.sid, 0, sl)
        o = 1 + sl
        r[o] = 1 if self.has_unicast else 0
        P.copy(r, o + 1, self.unicast, 0, 16)
        _put32(r, o + 17, self.renew_at)
        _put32(r, o + 21, self.rebind_at)
        k = (_REC_MAX - o - 26 - (_KEY if self.has_key else 0)) // _LEASE  # >= 2: DUID_MAX
        if k > self.n:
            k = self.n
        self.split = k
        r[o + 25] = k
        o = self._put_leases(r, o + 26, 0, k)
        if self.has_key:  # kept across a restart: a Confirm's or Rebind's Reply may not resend it
            r[o] = 1
            P.copy(r, o + 1, self.rkey, 0, 16)
            P.copy(r, o + 17, self.replay, 0, 8)
            o += _KEY
        return o

    def _put_leases(self, r, o, first, end):
        for i in range(first, end):
            r[o] = self.kind[i]
            r[o + 1] = self.plen[i]
            P.copy(r, o + 2, self.addr, 16 * i, 16)
            _put32(r, o + 18, self.pref_at[i])
            _put32(r, o + 22, self.valid_at[i])
            o += _LEASE
        return o

    def load(self):
        self.journal.load(self._apply)

    def _apply(self, typ, buf, off, ln):
        if typ == J_CLIENT6_ID and 2 <= ln <= DUID_MAX:
            P.copy(self.duid, 0, buf, off, ln)
            self.duid_len = ln
        elif typ == J_CLIENT6:
            self._decode(buf, off, ln)
        elif typ == J_CLIENT6_MORE and self.n and ln and ln % _LEASE == 0:
            self._get_leases(buf, off, ln // _LEASE)

    def _decode(self, b, off, ln):
        """A binding record, or nothing at all when any field is impossible."""
        self.clear()
        if ln < 1 or b[off] == 0:
            return
        sl = b[off]
        o = off + 1 + sl
        if sl < 2 or sl > DUID_MAX or o + 26 > off + ln:
            return
        cnt = b[o + 25]
        end = o + 26 + cnt * _LEASE
        if cnt == 0 or cnt > MAX_LEASES or end != off + ln and (end + _KEY != off + ln or b[end] != 1):
            return
        self.set_server(b, off + 1, sl)
        self.has_unicast = b[o] == 1
        P.copy(self.unicast, 0, b, o + 1, 16)
        self.renew_at = capped_u32(b, o + 17, 0x3FFFFFFF)
        self.rebind_at = capped_u32(b, o + 21, 0x3FFFFFFF)
        o = self._get_leases(b, o + 26, cnt)
        if o < off + ln:
            P.copy(self.rkey, 0, b, o + 1, 16)
            P.copy(self.replay, 0, b, o + 17, 8)
            self.has_key = True

    def _get_leases(self, b, o, cnt):
        for _ in range(cnt):
            kind = b[o]
            plen = b[o + 1]
            if kind <= TA and plen <= 128:
                self.put(kind, b, o + 2, plen, capped_u32(b, o + 18, 0x3FFFFFFF),
                         capped_u32(b, o + 22, 0x3FFFFFFF))
            o += _LEASE
        return o

    def dump(self, journal):
        """Compaction: the DUID and the binding."""
        if self.duid_len:
            journal.append(J_CLIENT6_ID, self.duid, 0, self.duid_len)
        if self.n:
            self._append(journal)
