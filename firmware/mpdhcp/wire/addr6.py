# IPv6 address text <-> 16 bytes (RFC 4291 2.2, RFC 5952 for output). Config, console and
# logs only: allocates, never on the packet path.


_HEX = "0123456789abcdefABCDEF"


def ip6(s):
    """'2001:db8::1' -> 16 bytes. Raises ValueError naming the text."""
    if not isinstance(s, str) or not s or s.count("::") > 1:
        raise ValueError("not an IPv6 address: " + str(s))
    text = s
    tail4 = b""
    if "." in s:  # trailing dotted quad (::ffff:192.0.2.1)
        from .addr import ip4
        i = s.rfind(":")
        tail4 = ip4(s[i + 1:])
        s = s[:i + 1] + "0:0"
    if "::" in s:
        a, b = s.split("::")
        left = a.split(":") if a else []
        right = b.split(":") if b else []
        if len(left) + len(right) > 7:
            raise ValueError("not an IPv6 address: " + text)
        groups = left + ["0"] * (8 - len(left) - len(right)) + right
    else:
        groups = s.split(":")
    if len(groups) != 8:
        raise ValueError("not an IPv6 address: " + text)
    out = bytearray(16)
    for i in range(8):
        g = groups[i]
        if not g or len(g) > 4 or not all(c in _HEX for c in g):
            raise ValueError("not an IPv6 address: " + text)  # 1-4 hex digits (RFC 4291 2.2)
        v = int(g, 16)
        out[2 * i] = v >> 8
        out[2 * i + 1] = v & 255
    if tail4:
        out[12:16] = tail4
    return bytes(out)


def ip6_str(b, off=0):
    """RFC 5952 text: lower case, the longest run (>= 2) of zero groups as '::'."""
    g = [(b[off + 2 * i] << 8) | b[off + 2 * i + 1] for i in range(8)]
    best = -1
    blen = 1
    i = 0
    while i < 8:
        if g[i] == 0:
            j = i
            while j < 8 and g[j] == 0:
                j += 1
            if j - i > blen:
                best = i
                blen = j - i
            i = j
        else:
            i += 1
    if best < 0:
        return ":".join("%x" % x for x in g)
    left = ":".join("%x" % x for x in g[:best])
    right = ":".join("%x" % x for x in g[best + blen:])
    return left + "::" + right


def prefix6(s):
    """'2001:db8::/64' -> (16 bytes, length), checking the host bits are zero."""
    if not isinstance(s, str) or "/" not in s:
        raise ValueError("expected prefix/len: " + str(s))
    a, p = s.split("/", 1)
    if not p.isdigit() or int(p) > 128:
        raise ValueError("bad prefix length: " + s)
    plen = int(p)
    net = ip6(a.strip())
    if not in_prefix(net, net, plen, True):
        raise ValueError("host bits set in " + s)
    return net, plen


def in_prefix(a, net, plen, host_zero=False):
    """Is a inside net/plen (or, with host_zero, is a's host part all zero)?"""
    for i in range(16):
        bits = plen - 8 * i
        m = 255 if bits >= 8 else (0 if bits <= 0 else (0xFF << (8 - bits)) & 255)
        if host_zero:
            if a[i] & ~m & 255:
                return False
        elif a[i] & m != net[i] & m:
            return False
    return True


def to_int6(b):
    v = 0
    for x in b:
        v = (v << 8) | x
    return v


def from_int6(v):
    return bytes((v >> (8 * (15 - i))) & 255 for i in range(16))
