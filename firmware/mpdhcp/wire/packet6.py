# DHCPv6 wire format (RFC 8415 sections 8, 9, 21): message offsets, one bounds-checked option
# walker that yields offsets, relay unwrapping (nested Relay-forw), and an option writer with
# nested (IA, relay) length fix-ups. Works on bytearray/bytes by offset; allocates nothing
# after construction (heap_lock tested in tests/protocol/test_heap6.py).
from micropython import const
from .buf import copy, zero, eq, is_zero, cmp, add_shifted, mix16  # noqa: F401  (P.copy etc.: one copy of each loop)

# message types (RFC 8415 7.3)
SOLICIT = const(1)
ADVERTISE = const(2)
REQUEST = const(3)
CONFIRM = const(4)
RENEW = const(5)
REBIND = const(6)
REPLY = const(7)
RELEASE = const(8)
DECLINE = const(9)
RECONFIGURE = const(10)
INFO_REQUEST = const(11)
RELAY_FORW = const(12)
RELAY_REPL = const(13)
DHCPV4_QUERY = const(20)  # RFC 7341 6
DHCPV4_RESPONSE = const(21)
MSG_NAMES = ("-", "SOLICIT", "ADVERTISE", "REQUEST", "CONFIRM", "RENEW", "REBIND", "REPLY",
             "RELEASE", "DECLINE", "RECONFIGURE", "INFO-REQUEST", "RELAY-FORW", "RELAY-REPL",
             "14", "15", "16", "17", "18", "19", "DHCPV4-QUERY", "DHCPV4-RESPONSE")

ALL_SERVERS = b"\xff\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x02"  # ff02::1:2 (RFC 8415 7.1)

# option codes (RFC 8415 21, RFC 3646 for 23/24)
OPT_CLIENTID = const(1)
OPT_SERVERID = const(2)
OPT_IA_NA = const(3)
OPT_IA_TA = const(4)
OPT_IAADDR = const(5)
OPT_ORO = const(6)
OPT_PREFERENCE = const(7)
OPT_ELAPSED_TIME = const(8)
OPT_RELAY_MSG = const(9)
OPT_AUTH = const(11)
OPT_UNICAST = const(12)
OPT_STATUS_CODE = const(13)
OPT_RAPID_COMMIT = const(14)
OPT_INTERFACE_ID = const(18)
OPT_RECONF_MSG = const(19)
OPT_RECONF_ACCEPT = const(20)
OPT_DNS_SERVERS = const(23)
OPT_DOMAIN_LIST = const(24)
OPT_IA_PD = const(25)
OPT_IAPREFIX = const(26)
OPT_INFO_REFRESH = const(32)  # RFC 8415 21.23
OPT_SOL_MAX_RT = const(82)  # RFC 8415 21.24
OPT_INF_MAX_RT = const(83)  # RFC 8415 21.25
OPT_DHCPV4_MSG = const(87)  # RFC 7341 7
OPT_4O6_SERVER = const(88)

# status codes (RFC 8415 21.13)
SUCCESS = const(0)
UNSPEC_FAIL = const(1)
NO_ADDRS_AVAIL = const(2)
NO_BINDING = const(3)
NOT_ON_LINK = const(4)
USE_MULTICAST = const(5)
NO_PREFIX_AVAIL = const(6)

# fixed offsets
HDR = const(4)  # msg-type(1) transaction-id(3), then options (RFC 8415 8)
RELAY_HDR = const(34)  # msg-type, hop-count, link-address(16), peer-address(16) (RFC 8415 9)
R_HOPS = const(1)
R_LINK = const(2)
R_PEER = const(18)
IA_HDR = const(12)  # IAID(4) T1(4) T2(4), then IA options (RFC 8415 21.4, 21.21)
TA_HDR = const(4)  # IA_TA: IAID(4) only, then IA options (RFC 8415 21.5)
IAADDR_LEN = const(24)  # address(16) preferred(4) valid(4) (RFC 8415 21.6)
IAPREFIX_LEN = const(25)  # preferred(4) valid(4) prefix-length(1) prefix(16) (RFC 8415 21.22)
HOP_LIMIT = const(32)  # relay nesting accepted (RFC 8415 7.6 HOP_COUNT_LIMIT is 8; we allow 32)
MAX_PACKET = const(1500)
INDEXED = const(64)  # option codes below this are indexed by Msg6.parse

# Reasons a datagram is refused; the engine counts each by name.
BAD_SHORT = const(1)
BAD_OPTION = const(2)
BAD_RELAY = const(3)
BAD_HOPS = const(4)
BAD_LENGTH = const(5)
BAD_OVERSIZE = const(6)
BAD_NAMES = ("ok", "short", "option_overrun", "relay_no_msg", "relay_hops", "option_length", "oversize")


def olen(buf, off):
    """Data length of the option whose header is at off."""
    return (buf[off + 2] << 8) | buf[off + 3]


def ocode(buf, off):
    return (buf[off] << 8) | buf[off + 1]


def walk(buf, i, end):
    """Check that options in buf[i:end] tile it exactly. Returns 0 or BAD_OPTION."""
    while i < end:
        if i + 4 > end:
            return BAD_OPTION
        i += 4 + ((buf[i + 2] << 8) | buf[i + 3])
    return BAD_OPTION if i != end else 0


def find(buf, i, end, code):
    """Offset of the header of the first option `code` in buf[i:end], or -1."""
    hi = code >> 8
    lo = code & 255
    while i + 4 <= end:
        if buf[i] == hi and buf[i + 1] == lo:
            return i
        i += 4 + ((buf[i + 2] << 8) | buf[i + 3])
    return -1


PLAIN = globals()  # the references by name (test_packet6 compares the twins): as in buf.py
try:
    from . import packet6_viper  # noqa: F401
    PLAIN = {"walk": walk, "find": find}  # (and below: each kernel before its twin replaces it)
    from .packet6_viper import opt6_walk as walk, opt6_find as find  # noqa: F811
except (ImportError, SyntaxError, AttributeError, NameError, ValueError):  # as in buf.py
    pass


def find_next(buf, off, end, code):
    """The next option `code` after the one whose header is at off, or -1."""
    return find(buf, off + 4 + olen(buf, off), end, code)


def _check_ia(buf, off, hdr, sub, sublen):
    """An IA (hdr bytes of fixed fields) whose sub-options `sub` carry sublen fixed bytes."""
    ln = olen(buf, off)
    if ln < hdr:
        return BAD_LENGTH
    s = off + 4 + hdr
    e = off + 4 + ln
    if walk(buf, s, e):
        return BAD_OPTION
    a = find(buf, s, e, sub)
    while a >= 0:
        al = olen(buf, a)
        if al < sublen or walk(buf, a + 4 + sublen, a + 4 + al):
            return BAD_LENGTH
        a = find_next(buf, a, e, sub)
    return 0


def opt6_index(buf, i, end, first, count):
    """Index the options in buf[i:end] (codes < INDEXED) into first/count, checking the
    lengths RFC 8415 fixes (IA_NA/IA_TA/IA_PD and their addresses/prefixes, DUIDs, Elapsed Time,
    ORO). Returns 0 or a BAD_* code. (A kernel: packet6_viper.opt6_index is its native twin.)"""
    c = 0
    while c < INDEXED:
        count[c] = 0
        c += 1
    if walk(buf, i, end):
        return BAD_OPTION
    while i < end:
        c = buf[i + 1]
        ln = olen(buf, i)
        if buf[i] == 0 and c < INDEXED:
            if count[c] == 0:
                first[2 * c] = i >> 8
                first[2 * c + 1] = i & 255
            if count[c] < 255:
                count[c] += 1
            if c == OPT_IA_NA:
                if _check_ia(buf, i, IA_HDR, OPT_IAADDR, IAADDR_LEN):
                    return BAD_LENGTH
            elif c == OPT_IA_TA:
                if _check_ia(buf, i, TA_HDR, OPT_IAADDR, IAADDR_LEN):
                    return BAD_LENGTH
            elif c == OPT_IA_PD:
                if _check_ia(buf, i, IA_HDR, OPT_IAPREFIX, IAPREFIX_LEN):
                    return BAD_LENGTH
            elif c == OPT_CLIENTID or c == OPT_SERVERID:
                if ln < 2 or ln > 130:  # a DUID is 2..130 bytes (RFC 8415 11.1)
                    return BAD_LENGTH
            elif c == OPT_ELAPSED_TIME:
                if ln != 2:
                    return BAD_LENGTH
            elif c == OPT_ORO:
                if ln & 1:
                    return BAD_LENGTH
        i += 4 + ln
    return 0


PLAIN["opt6_index"] = opt6_index
try:
    from .packet6_viper import opt6_index  # noqa: F811
except (ImportError, SyntaxError, AttributeError, NameError, ValueError):  # as in buf.py
    pass


class Msg6:
    """One received message: relay layers unwrapped, the innermost message's options indexed.
    relay[2k], relay[2k+1] (as u16 pairs in `rel`) give each Relay-forw's start and end,
    outermost first. first/count index the innermost message's options with code < 64."""

    def __init__(self):
        self.rel = bytearray(4 * HOP_LIMIT)  # (start, end) u16 pairs per relay layer
        self.depth = 0
        self.start = 0  # innermost message
        self.end = 0
        self.mtype = 0
        self.first = bytearray(2 * INDEXED)  # offset of first option header, per code
        self.count = bytearray(INDEXED)

    def parse(self, buf, n, relay=RELAY_FORW):
        """Validate buf[:n], unwrapping `relay` layers (Relay-forw; Relay-repl for what a
        DHCPv4-over-DHCPv6 half sends back). Returns 0 or a BAD_* code."""
        if n > MAX_PACKET:
            return BAD_OVERSIZE
        pos = 0
        end = n
        depth = 0
        rel = self.rel
        while True:
            if end - pos < HDR:
                return BAD_SHORT
            if buf[pos] != relay:
                break
            if end - pos < RELAY_HDR:
                return BAD_SHORT
            if depth >= HOP_LIMIT or buf[pos + R_HOPS] >= HOP_LIMIT:
                return BAD_HOPS
            if walk(buf, pos + RELAY_HDR, end):
                return BAD_OPTION
            m = find(buf, pos + RELAY_HDR, end, OPT_RELAY_MSG)
            if m < 0:
                return BAD_RELAY
            rel[4 * depth] = pos >> 8
            rel[4 * depth + 1] = pos & 255
            rel[4 * depth + 2] = end >> 8
            rel[4 * depth + 3] = end & 255
            depth += 1
            end = m + 4 + olen(buf, m)
            pos = m + 4
        self.depth = depth
        self.start = pos
        self.end = end
        self.mtype = buf[pos]
        return opt6_index(buf, pos + HDR, end, self.first, self.count)

    def at(self, code):
        """Header offset of the first option `code` (< 64) of the innermost message, or -1."""
        if not self.count[code]:
            return -1
        return (self.first[2 * code] << 8) | self.first[2 * code + 1]

    def has(self, code):
        return self.count[code] != 0

    def next(self, buf, off, code):
        """Next option `code` of the innermost message after the one at off, or -1."""
        return find_next(buf, off, self.end, code)

    def relay_start(self, k):
        return (self.rel[4 * k] << 8) | self.rel[4 * k + 1]

    def relay_end(self, k):
        return (self.rel[4 * k + 2] << 8) | self.rel[4 * k + 3]

    def relay_option(self, buf, k, code):
        """Header offset of option `code` among relay layer k's own options, or -1."""
        s = self.relay_start(k)
        return find(buf, s + RELAY_HDR, self.relay_end(k), code)


class Writer6:
    """Appends options to out[pos:limit]. An option that does not fit is left out whole
    (begin() returns -1 then; pass that to end(), which ignores it)."""

    def __init__(self):
        self.buf = None
        self.pos = 0
        self.limit = 0

    def start(self, buf, pos, limit):
        self.buf = buf
        self.pos = pos
        self.limit = limit

    def room(self, ln):
        return self.pos + 4 + ln <= self.limit

    def _hdr(self, code, ln):
        b = self.buf
        p = self.pos
        b[p] = code >> 8
        b[p + 1] = code & 255
        b[p + 2] = ln >> 8
        b[p + 3] = ln & 255
        self.pos = p + 4

    def put(self, code, src, off, ln):
        # room, _hdr and raw in place: every reply puts its ids and options through here
        b = self.buf
        p = self.pos
        if p + 4 + ln > self.limit:
            return False
        b[p] = code >> 8
        b[p + 1] = code & 255
        b[p + 2] = ln >> 8
        b[p + 3] = ln & 255
        copy(b, p + 4, src, off, ln)
        self.pos = p + 4 + ln
        return True

    def put_empty(self, code):
        if not self.room(0):
            return False
        self._hdr(code, 0)
        return True

    def put_u16(self, code, v):
        if not self.room(2):
            return False
        self._hdr(code, 2)
        self.u16(v)
        return True

    def put_status(self, status):
        """Status Code option with an empty message (RFC 8415 21.13)."""
        return self.put_u16(OPT_STATUS_CODE, status)

    def begin(self, code, need):
        """Open option `code` whose data length is fixed by end(). Returns its header offset,
        or -1 when not even `need` bytes of data would fit."""
        if not self.room(need):
            return -1
        h = self.pos
        self._hdr(code, 0)
        return h

    def end(self, h):
        if h < 0:
            return
        ln = self.pos - h - 4
        self.buf[h + 2] = ln >> 8
        self.buf[h + 3] = ln & 255

    # raw fields inside an open option (caller checked room with begin's `need`)
    def u32(self, v):
        # v < 2**30 (lifetimes are capped by the config), so a small int on 32-bit boards
        b = self.buf
        p = self.pos
        b[p] = (v >> 24) & 255
        b[p + 1] = (v >> 16) & 255
        b[p + 2] = (v >> 8) & 255
        b[p + 3] = v & 255
        self.pos = p + 4

    def u16(self, v):
        b = self.buf
        p = self.pos
        b[p] = (v >> 8) & 255
        b[p + 1] = v & 255
        self.pos = p + 2

    def byte(self, v):
        self.buf[self.pos] = v
        self.pos += 1

    def raw(self, src, off, ln):
        copy(self.buf, self.pos, src, off, ln)
        self.pos += ln


def ia_lease(b, p, code, rx, iaid, t1, t2, a, ao, plen, pref, valid):
    """At b[p:], the IA option `code` with the IAID at rx[iaid:], T1/T2 (not in an IA_TA,
    RFC 8415 21.5) and one lease: an IAADDR of address a[ao:] (21.6), or in an IA_PD an
    IAPREFIX of prefix a[ao:]/plen (21.22), both lifetimes given. Returns the end; the IA's
    length covers what is written here (Writer6.end it again after adding options). A
    kernel: packet6_viper.ia_lease is its native twin (one call for ~20 writer calls)."""
    s = p
    _u16(b, p, code)
    copy(b, p + 4, rx, iaid, 4)
    p += 8
    if code != OPT_IA_TA:
        _u32(b, p, t1)
        _u32(b, p + 4, t2)
        p += 8
    if code == OPT_IA_PD:
        _u16(b, p, OPT_IAPREFIX)
        _u16(b, p + 2, IAPREFIX_LEN)
        _u32(b, p + 4, pref)
        _u32(b, p + 8, valid)
        b[p + 12] = plen
        copy(b, p + 13, a, ao, 16)
        p += 4 + IAPREFIX_LEN
    else:
        _u16(b, p, OPT_IAADDR)
        _u16(b, p + 2, IAADDR_LEN)
        copy(b, p + 4, a, ao, 16)
        _u32(b, p + 20, pref)
        _u32(b, p + 24, valid)
        p += 4 + IAADDR_LEN
    _u16(b, s + 2, p - s - 4)
    return p


def _u16(b, p, v):
    b[p] = (v >> 8) & 255
    b[p + 1] = v & 255


def _u32(b, p, v):
    b[p] = (v >> 24) & 255
    b[p + 1] = (v >> 16) & 255
    b[p + 2] = (v >> 8) & 255
    b[p + 3] = v & 255


def relay_reply_head(rx, msg, b, rstack, limit):
    """Relay-reply headers for msg's Relay-forw layers into b, outermost first (hop-count, link
    and peer addresses copied, Interface-Id echoed: RFC 8415 19.3); rstack keeps each Relay-msg
    option's header offset for relay_reply_close. Returns where the reply message starts, or
    -1 when the headers leave no room for it."""
    p = 0
    for k in range(msg.depth):
        rs = msg.relay_start(k)
        iid = msg.relay_option(rx, k, OPT_INTERFACE_ID)
        ilen = 4 + olen(rx, iid) if iid >= 0 else 0
        if p + RELAY_HDR + ilen + 4 + 100 > limit:
            return -1
        b[p] = RELAY_REPL
        copy(b, p + 1, rx, rs + 1, RELAY_HDR - 1)
        p += RELAY_HDR
        if iid >= 0:
            copy(b, p, rx, iid, ilen)
            p += ilen
        rstack[2 * k] = p >> 8
        rstack[2 * k + 1] = p & 255
        b[p] = 0
        b[p + 1] = OPT_RELAY_MSG
        p += 4
    return p


def relay_reply_close(b, msg, rstack, end):
    """Set each Relay-msg option's length now that the reply ends at end."""
    k = msg.depth
    while k > 0:
        k -= 1
        h = (rstack[2 * k] << 8) | rstack[2 * k + 1]
        ln = end - h - 4
        b[h + 2] = ln >> 8
        b[h + 3] = ln & 255


def reply_ids(b, p, limit, mtype, rx, s, sid, sidlen, c):
    """At b[p:], a reply's header: mtype and the transaction id of the message at rx[s:]
    (RFC 8415 8), then Server-Id sid[:sidlen] and, with c >= 0, the Client-Id option at rx[c:]
    copied (21.2, 21.3); an option that would pass limit is left out (as Writer6.put).
    Returns the end. (A kernel: packet6_viper.reply_ids is its native twin.)"""
    b[p] = mtype
    copy(b, p + 1, rx, s + 1, 3)
    p += 4
    if p + 4 + sidlen <= limit:
        _u16(b, p, OPT_SERVERID)
        _u16(b, p + 2, sidlen)
        copy(b, p + 4, sid, 0, sidlen)
        p += 4 + sidlen
    if c >= 0 and p + 4 + olen(rx, c) <= limit:
        copy(b, p, rx, c, 4 + olen(rx, c))  # its header too: code 1, the same length
        p += 4 + olen(rx, c)
    return p


PLAIN["reply_ids"] = reply_ids
PLAIN["ia_lease"] = ia_lease
try:
    from .packet6_viper import ia_lease, reply_ids  # noqa: F811
except (ImportError, SyntaxError, AttributeError, NameError, ValueError):  # as in buf.py
    pass


# The DHCPv6 lease table's address index (state/leases6.py), probed in one call. lay gives
# its layout: record width, offsets of the prefix length, the 2-byte halves reference and the
# 8 kept address bytes, and the width of a halves entry (8 bytes of upper half, a 2-byte count).
def addr6_find(idx, recs, lay, halves, a, off, plen):
    """Record (number) holding address a[off:off+16]/plen in index idx (2-byte slots holding
    record + 1), or -1. A record keeps the upper half alone when the lower is zero (hx 0),
    else the lower half and hx = 1 + the halves entry holding its upper half (Leases6._hx_of);
    the slot to start from is Leases6._ahash of that. (A kernel: packet6_viper.addr6_find is
    its native twin.)"""
    rec = lay[0]
    hw = lay[4]
    if not a[off + 15] and is_zero(a, off + 8, 7):
        hx = 0
    else:
        hx = -1
        i = 0
        while i < len(halves):
            if (halves[i + 8] or halves[i + 9]) and eq(halves, i, a, off, 8):
                hx = i // hw + 1
                break
            i += hw
        if hx < 0:
            return -1  # no record holds an address with that upper half
        off += 8
    h = mix16((hx * 131 + plen) & 0xFFFF, a, off, 8)
    n = len(idx) >> 1
    i = (h ^ (h >> 7)) % n
    while True:
        v = (idx[2 * i] << 8) | idx[2 * i + 1]
        if not v:
            return -1
        o = (v - 1) * rec
        if recs[o + lay[1]] == plen and (recs[o + lay[2]] << 8) | recs[o + lay[2] + 1] == hx \
                and eq(recs, o + lay[3], a, off, 8):
            return v - 1
        i += 1
        if i == n:
            i = 0


PLAIN["addr6_find"] = addr6_find
try:
    from .packet6_viper import addr6_find  # noqa: F811
except (ImportError, SyntaxError, AttributeError, NameError, ValueError):  # as in buf.py
    pass


def ia_stale(buf, i, end, code, a, ao, plen):
    """Header offset of the first IAADDR (code 5) or IAPREFIX (26) option in buf[i:end] that
    is not the lease a[ao:ao+16] (a prefix: /plen, and not the all-zero prefix a client may
    list as a hint of length alone), or -1: what a reply lists again at lifetimes 0 (RFC 8415
    18.3.4). (A kernel: packet6_viper.ia_stale is its native twin.)"""
    a_at = 13 if code == OPT_IAPREFIX else 4
    while True:
        i = find(buf, i, end, code)
        if i < 0:
            return -1
        if code == OPT_IAPREFIX:
            if (buf[i + 12] != plen or not eq(buf, i + 13, a, ao, 16)) and not is_zero(buf, i + 13, 16):
                return i
        elif not eq(buf, i + a_at, a, ao, 16):
            return i
        i += 4 + olen(buf, i)


PLAIN["ia_stale"] = ia_stale
try:
    from .packet6_viper import ia_stale  # noqa: F811
except (ImportError, SyntaxError, AttributeError, NameError, ValueError):  # as in buf.py
    pass
