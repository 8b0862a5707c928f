# Address text <-> bytes, for config and logs (allocates; never on the packet path).


def ip4(s):
    """'192.0.2.1' -> b'\\xc0\\x00\\x02\\x01'. Raises ValueError naming the text."""
    parts = s.split(".") if isinstance(s, str) else ()
    if len(parts) != 4:
        raise ValueError("not an IPv4 address: " + str(s))
    out = bytearray(4)
    for i in range(4):
        p = parts[i]
        if not p.isdigit() or len(p) > 3 or int(p) > 255:
            raise ValueError("not an IPv4 address: " + s)
        out[i] = int(p)
    return bytes(out)


def ip4_str(b, off=0):
    return "%d.%d.%d.%d" % (b[off], b[off + 1], b[off + 2], b[off + 3])


def mac_str(b, off=0, n=6):
    return ":".join("%02x" % b[off + i] for i in range(n))


def hexstr(b):
    return ":".join("%02x" % x for x in b)


def to_int(b, off=0):
    # config time only: may exceed 2**30 on boards, which is fine off the hot path
    return (b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]


def from_int(v):
    return bytes(((v >> 24) & 255, (v >> 16) & 255, (v >> 8) & 255, v & 255))


def mask(plen):
    return from_int((0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF if plen else 0)


def cidr(s):
    """'10.0.0.0/24' -> (net bytes, prefix length), checking the host part is zero."""
    if "/" not in s:
        raise ValueError("expected prefix/len: " + s)
    a, p = s.split("/", 1)
    if not p.isdigit() or int(p) > 32:
        raise ValueError("bad prefix length: " + s)
    plen = int(p)
    net = ip4(a.strip())
    if to_int(net) & ~to_int(mask(plen)) & 0xFFFFFFFF:
        raise ValueError("host bits set in " + s)
    return net, plen
