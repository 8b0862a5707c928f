# What a DHCPv4 client keeps from an ACK, decoded for the adapter (v4/lease4.py: the netmask,
# addresses, text, RFC 3442 classless routes, RFC 3397 search names). Allocates: adapter side,
# lease_info, never in the packet path. Apart from options4.py (the config's encoders), which
# leaves the heap once the config is parsed.
from .addr import ip4_str


def prefix_len(b, off):
    """Prefix length of the netmask at b[off:off+4]."""
    n = 0
    i = 0
    while i < 4:
        x = b[off + i]
        while x & 0x80:
            n += 1
            x = (x << 1) & 255
        if b[off + i] != 255:
            break
        i += 1
    return n


def classful_len(b, off):
    """The classful prefix length of the address at b[off] (no option 1 sent)."""
    a = b[off]
    return 8 if a < 128 else 16 if a < 192 else 24


def text(buf, n):
    try:
        return bytes(buf[:n]).decode()
    except UnicodeError:
        return ""


def addrs(buf, n):
    return [ip4_str(buf, i) for i in range(0, n - n % 4, 4)]


def decode_classless(buf, n):
    """RFC 3442 option 121 -> [(destination, prefix length, gateway)], None if malformed."""
    out = []
    i = 0
    while i < n:
        w = buf[i]
        if w > 32:
            return None
        k = (w + 7) // 8
        if i + 1 + k + 4 > n:
            return None
        d = bytearray(4)
        for j in range(k):
            d[j] = buf[i + 1 + j]
        out.append((ip4_str(d), w, ip4_str(buf, i + 1 + k)))
        i += 1 + k + 4
    return out


def decode_search(buf, n):
    """RFC 3397 option 119 (DNS wire names, RFC 1035 3.1 and 4.1.4 compression) -> [names].
    Stops at the first malformed name (a label type 01/10, a read past n, a pointer loop, a
    name over 255 octets) and returns the names before it; labels are octets, shown as text
    with '?' for what is not UTF-8."""
    names = []
    i = 0
    while i < n and len(names) < 64:
        end, name = _one_name(buf, n, i)
        if end < 0:
            break
        names.append(name)
        i = end
    return names


def _one_name(buf, n, i):
    """(offset after the name at i, its text), or (-1, None) when malformed."""
    labels = []
    j = i
    end = -1
    size = 1
    hops = 0
    while j < n:
        ln = buf[j]
        if ln == 0:
            return (end if end >= 0 else j + 1), ".".join(labels)
        if ln & 0xC0 == 0xC0:
            if j + 1 >= n or hops >= 32:
                return -1, None  # cut short, or a pointer loop
            if end < 0:
                end = j + 2
            j = ((ln & 0x3F) << 8) | buf[j + 1]
            hops += 1
            continue
        size += ln + 1
        if ln & 0xC0 or j + 1 + ln > n or size > 255:
            return -1, None  # a reserved label type, a label past the option, too long
        b = bytes(buf[j + 1:j + 1 + ln])
        try:
            labels.append(b.decode())
        except UnicodeError:
            labels.append("".join(chr(c) if 32 <= c < 127 else "?" for c in b))
        j += 1 + ln
    return -1, None
