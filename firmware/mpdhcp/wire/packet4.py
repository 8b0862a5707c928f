# DHCPv4 wire format (RFC 2131 section 2, RFC 2132, RFC 3396): header offsets, one
# bounds-checked option walker, and an option writer. Works on a bytearray/bytes by offset;
# allocates nothing after construction (heap_lock tested).
from micropython import const
from .buf import copy, zero, eq, add_shifted  # noqa: F401  (P.copy, P.eq: one copy of each loop)

# BOOTP header offsets (RFC 2131 figure 1)
OP = const(0)
HTYPE = const(1)
HLEN = const(2)
HOPS = const(3)
XID = const(4)
SECS = const(8)
FLAGS = const(10)
CIADDR = const(12)
YIADDR = const(16)
SIADDR = const(20)
GIADDR = const(24)
CHADDR = const(28)
SNAME = const(44)
FILE = const(108)
COOKIE = const(236)
OPTIONS = const(240)

BOOTREQUEST = const(1)
BOOTREPLY = const(2)
MAX_PACKET = const(1500)  # bigger datagrams are dropped as oversized
MIN_REPLY = const(548)  # 576-byte IP datagram minus IP and UDP headers (RFC 2131 2)

# option codes (RFC 2132 unless noted)
OPT_PAD = const(0)
OPT_SUBNET_MASK = const(1)
OPT_ROUTER = const(3)
OPT_DNS = const(6)
OPT_HOSTNAME = const(12)
OPT_DOMAIN = const(15)
OPT_REQUESTED_IP = const(50)
OPT_LEASE_TIME = const(51)
OPT_OVERLOAD = const(52)
OPT_MSG_TYPE = const(53)
OPT_SERVER_ID = const(54)
OPT_PRL = const(55)
OPT_MAX_SIZE = const(57)
OPT_T1 = const(58)
OPT_T2 = const(59)
OPT_CLIENT_ID = const(61)
OPT_RELAY_AGENT = const(82)  # RFC 3046
OPT_END = const(255)

# message types (option 53)
DISCOVER = const(1)
OFFER = const(2)
REQUEST = const(3)
DECLINE = const(4)
ACK = const(5)
NAK = const(6)
RELEASE = const(7)
INFORM = const(8)

# Reasons a datagram is refused; the engine counts each by name.
BAD_SHORT = const(1)
BAD_HEADER = const(2)
BAD_COOKIE = const(3)
BAD_OPTION = const(4)
BAD_OVERLOAD = const(5)
BAD_CRITICAL = const(6)
BAD_OVERSIZE = const(7)
BAD_NAMES = ("ok", "short", "header", "cookie", "option_overrun", "overload", "critical_option", "oversize")

# Options that must appear once with a fixed length; a repeat or a wrong length is malformed.
# (code, length) pairs in bytes: read by index, no dict iteration per packet
_FIXED = bytes((OPT_MSG_TYPE, 1, OPT_SERVER_ID, 4, OPT_REQUESTED_IP, 4, OPT_MAX_SIZE, 2, OPT_OVERLOAD, 1))


class Options:
    """Index of the options of one received packet: where each code first appears and how
    often. Offsets point at the option's length byte; the data follows it."""

    def __init__(self):
        self.first = bytearray(512)  # 2 bytes per code: offset of the first instance's length byte
        self.count = bytearray(256)
        self.overload = 0
        self.n = 0
        # an option's data gathered (gather) by the engine handling this packet: one for the
        # engines that share the index (Runner.shared), as they handle one packet at a time
        self.scratch = bytearray(256)

    def empty(self, n):
        """A BOOTREQUEST whose vend area holds no RFC 1048 options (RFC 951): none indexed."""
        zero(self.count, 0, 256)
        self.overload = 0
        self.n = n
        return 0

    def parse(self, buf, n, op=BOOTREQUEST):
        """Validate header and options of the BOOTREQUEST (or, with op=BOOTREPLY, the reply a
        client receives) in buf[:n]. Returns 0 or a BAD_* code."""
        if n > MAX_PACKET:
            return BAD_OVERSIZE
        if n < OPTIONS:
            return BAD_SHORT
        if buf[OP] != op or buf[HTYPE] != 1 or buf[HLEN] != 6:
            return BAD_HEADER
        if buf[COOKIE] != 99 or buf[COOKIE + 1] != 130 or buf[COOKIE + 2] != 83 or buf[COOKIE + 3] != 99:
            return BAD_COOKIE
        first = self.first
        count = self.count
        zero(count, 0, 256)
        self.overload = 0
        self.n = n
        err = self._walk(buf, OPTIONS, n, True)
        if err:
            return err
        ov = self.overload
        # RFC 2131 4.1: 'file' then 'sname'; an overload option inside them is ignored, so no loop.
        if ov & 1:
            err = self._walk(buf, FILE, SNAME + 192, False)
        if not err and ov & 2:
            err = self._walk(buf, SNAME, FILE, False)
        if err:
            return err
        i = 0
        nf = len(_FIXED)
        while i < nf:
            code = _FIXED[i]
            c = count[code]
            if c > 1:
                return BAD_CRITICAL
            if c == 1 and buf[(first[2 * code] << 8) | first[2 * code + 1]] != _FIXED[i + 1]:
                return BAD_CRITICAL
            i += 2
        if count[OPT_CLIENT_ID] and self.length(buf, OPT_CLIENT_ID) < 2:
            return BAD_CRITICAL  # RFC 2132 9.14: client-id is at least 2 bytes
        return 0

    def _walk(self, buf, i, end, main):
        r = opt4_walk(buf, i, end, main, self.first, self.count)
        if r >> 4:
            self.overload = r >> 4
        return r & 15

    def has(self, code):
        return self.count[code] != 0

    def at(self, code):
        """Offset of the first data byte of option `code`, or -1."""
        if not self.count[code]:
            return -1
        return ((self.first[2 * code] << 8) | self.first[2 * code + 1]) + 1

    def length(self, buf, code):
        """Total length of option `code` over all its instances (RFC 3396 concatenation)."""
        c = self.count[code]
        if not c:
            return 0
        if c == 1:
            return buf[self.at(code) - 1]
        return self.gather(buf, code, None, 0, 65535)

    def gather(self, buf, code, dst, off, cap):
        """Copy the concatenated data of option `code` into dst[off:]; at most cap bytes.
        With dst None only measures. Returns the length (RFC 3396)."""
        c = self.count[code]
        if c < 2:  # none, or one instance (the usual case): no walk
            if not c:
                return 0
            i = ((self.first[2 * code] << 8) | self.first[2 * code + 1]) + 1  # self.at(code)
            ln = buf[i - 1] if buf[i - 1] < cap else cap
            if dst is not None:
                copy(dst, off, buf, i, ln)
            return ln
        total = self._gather_area(buf, code, OPTIONS, self.n, dst, off, cap, 0)
        if self.overload & 1:
            total = self._gather_area(buf, code, FILE, SNAME + 192, dst, off, cap, total)
        if self.overload & 2:
            total = self._gather_area(buf, code, SNAME, FILE, dst, off, cap, total)
        return total

    def _gather_area(self, buf, code, i, end, dst, off, cap, total):
        return opt4_gather(buf, code, i, end, _NOWHERE if dst is None else dst, off, cap, total)

    def byte(self, buf, code, default):
        i = self.at(code)
        return buf[i] if i >= 0 else default

    def u16(self, buf, code, default):
        i = self.at(code)
        if i < 0 or buf[i - 1] < 2:
            return default
        return (buf[i] << 8) | buf[i + 1]


class Writer:
    """Appends options to a reply in out[:limit], splitting data over 255 bytes into several
    instances (RFC 3396). An option that does not fit whole is left out, never cut."""

    def __init__(self):
        self.buf = None
        self.pos = 0
        self.limit = 0
        self.full = False

    def start(self, buf, limit):
        self.buf = buf
        self.full = False  # an option was left out for want of room
        self.pos = OPTIONS
        self.limit = limit - 1  # keep room for END
        zero(buf, OPTIONS, 60)  # options grow from 240: what end() leaves is already padding

    def _room(self, ln):
        if self.pos + put_len(ln) <= self.limit:
            return True
        self.full = True
        return False

    def put(self, code, src, off, ln):
        """Option `code` with data src[off:off+ln]. Returns False when it did not fit."""
        if not self._room(ln):
            return False
        buf = self.buf
        p = self.pos
        while True:
            part = ln if ln < 255 else 255
            buf[p] = code
            buf[p + 1] = part
            p += 2
            copy(buf, p, src, off, part)
            p += part
            off += part
            ln -= part
            if ln == 0:
                break
        self.pos = p
        return True

    def put_raw(self, src, ln):
        """Options already encoded (src[:ln], e.g. a cached block). False when they do not fit."""
        if self.pos + ln > self.limit:
            return False
        copy(self.buf, self.pos, src, 0, ln)
        self.pos += ln
        return True

    def put_byte(self, code, v):
        if not self._room(1):
            return False
        p = self.pos
        self.buf[p] = code
        self.buf[p + 1] = 1
        self.buf[p + 2] = v
        self.pos = p + 3
        return True

    def put_u32(self, code, v):
        # v < 2**30 on boards: lifetimes are capped below that by the config
        if not self._room(4):
            return False
        b = self.buf
        p = self.pos
        b[p] = code
        b[p + 1] = 4
        b[p + 2] = (v >> 24) & 255
        b[p + 3] = (v >> 16) & 255
        b[p + 4] = (v >> 8) & 255
        b[p + 5] = v & 255
        self.pos = p + 6
        return True

    def end(self):
        self.buf[self.pos] = OPT_END
        self.pos += 1
        # pad to the BOOTP minimum so old relays and clients accept it (RFC 1542 2.1);
        # start() zeroed those bytes
        if self.pos < 300:
            self.pos = 300
        return self.pos


def put_len(ln):
    """The bytes Writer.put takes for ln bytes of data: pieces of 255, 2 bytes of code and
    length each (RFC 3396), and one empty piece for none."""
    return ln + 2 * ((ln + 254) // 255 if ln else 1)


def addr_is_zero(buf, off):
    return buf[off] == 0 and buf[off + 1] == 0 and buf[off + 2] == 0 and buf[off + 3] == 0


def addr_eq(a, ao, b, bo):
    return a[ao] == b[bo] and a[ao + 1] == b[bo + 1] and a[ao + 2] == b[bo + 2] and a[ao + 3] == b[bo + 3]


def request_header(b, xid, hw):
    """A client's BOOTREQUEST header (RFC 2131 2): Ethernet chaddr, all else zero."""
    b[OP] = BOOTREQUEST
    b[HTYPE] = 1
    b[HLEN] = 6
    i = HOPS
    while i < COOKIE:
        b[i] = 0
        i += 1
    copy(b, XID, xid, 0, 4)
    copy(b, CHADDR, hw, 0, 6)
    b[COOKIE] = 99
    b[COOKIE + 1] = 130
    b[COOKIE + 2] = 83
    b[COOKIE + 3] = 99


def reply_header(b, rx, mtype, yiaddr):
    """A server's BOOTREPLY header answering request rx (RFC 2131 4.3.1, table 3)."""
    b[OP] = BOOTREPLY
    b[HTYPE] = rx[HTYPE]
    b[HLEN] = rx[HLEN]
    b[HOPS] = 0
    copy(b, XID, rx, XID, 4)
    b[SECS] = b[SECS + 1] = 0
    copy(b, FLAGS, rx, FLAGS, 2)
    if mtype == NAK:
        b[CIADDR] = b[CIADDR + 1] = b[CIADDR + 2] = b[CIADDR + 3] = 0
        if not addr_is_zero(rx, GIADDR):
            b[FLAGS] |= 0x80  # RFC 2131 4.3.2: a relayed NAK asks the relay to broadcast
    else:
        copy(b, CIADDR, rx, CIADDR, 4)
    copy(b, YIADDR, yiaddr, 0, 4)
    b[SIADDR] = b[SIADDR + 1] = b[SIADDR + 2] = b[SIADDR + 3] = 0
    copy(b, GIADDR, rx, GIADDR, 4)
    copy(b, CHADDR, rx, CHADDR, 16)
    zero(b, SNAME, COOKIE - SNAME)  # sname and file
    b[COOKIE] = 99
    b[COOKIE + 1] = 130
    b[COOKIE + 2] = 83
    b[COOKIE + 3] = 99


# -- the byte loops of Options, as kernels with native twins (packet4_viper.py) ----------------

def opt4_walk(buf, i, end, main, first, count):
    """Index the options in buf[i:end] into first/count (see Options). Returns an error code
    (BAD_*) in the low 4 bits and an overload value (RFC 2132 9.3) found here above them."""
    ov = 0
    while i < end:
        code = buf[i]
        if code == OPT_END:
            return ov << 4
        if code == OPT_PAD:
            i += 1
            continue
        if i + 1 >= end:
            return BAD_OPTION
        ln = buf[i + 1]
        if i + 2 + ln > end:
            return BAD_OPTION
        if code == OPT_OVERLOAD:
            if not main:
                i += 2 + ln
                continue  # RFC 2131: overload is only honoured in the options field
            if ln != 1 or buf[i + 2] < 1 or buf[i + 2] > 3 or count[code]:
                return BAD_OVERLOAD
            ov = buf[i + 2]
        if count[code] == 0:
            first[2 * code] = (i + 1) >> 8
            first[2 * code + 1] = (i + 1) & 255
        elif count[code] == 255:
            return BAD_OPTION
        count[code] += 1
        i += 2 + ln
    # Running off the end without an END option is tolerated only in the main area
    # (many clients pad exactly to the end); in sname/file the area end closes it.
    return ov << 4


_NOWHERE = bytearray(0)


def opt4_gather(buf, code, i, end, dst, off, cap, total):
    """Append the data of every instance of option `code` in buf[i:end] to dst[off+total:]
    (dst empty: only count), at most cap bytes in all. Returns the new total."""
    measure = len(dst) == 0
    while i + 1 < end:
        c = buf[i]
        if c == OPT_END:
            break
        if c == OPT_PAD:
            i += 1
            continue
        ln = buf[i + 1]
        if i + 2 + ln > end:
            break
        if c == code:
            j = 0
            while j < ln and total < cap:
                if not measure:
                    dst[off + total] = buf[i + 2 + j]
                total += 1
                j += 1
        i += 2 + ln
    return total


PLAIN = globals()  # the references by name (test_packet4): as in buf.py
try:
    from . import packet4_viper  # noqa: F401
    PLAIN = {"opt4_walk": opt4_walk, "opt4_gather": opt4_gather, "reply_header": reply_header}
    from .packet4_viper import opt4_walk, opt4_gather, reply_header  # noqa: F811
except (ImportError, SyntaxError, AttributeError, NameError, ValueError):  # as in buf.py
    pass
