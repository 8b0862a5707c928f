# DHCPv4 option definitions for the config (RFC 2132, RFC 3397, RFC 3442), by Kea's names.
# Used only when the config is loaded: turns Kea-syntax `data` strings into wire bytes.
from .addr import ip4, ip4_str

# name: (code, type, array). Types follow Kea's option definition table.
DEFS = {
    "subnet-mask": (1, "ipv4-address", False),
    "time-offset": (2, "int32", False),
    "routers": (3, "ipv4-address", True),
    "time-servers": (4, "ipv4-address", True),
    "domain-name-servers": (6, "ipv4-address", True),
    "log-servers": (7, "ipv4-address", True),
    "host-name": (12, "string", False),
    "domain-name": (15, "string", False),
    "interface-mtu": (26, "uint16", False),
    "broadcast-address": (28, "ipv4-address", False),
    "static-routes": (33, "ipv4-address", True),
    "ntp-servers": (42, "ipv4-address", True),
    "vendor-encapsulated-options": (43, "binary", False),
    "netbios-name-servers": (44, "ipv4-address", True),
    "dhcp-renewal-time": (58, "uint32", False),
    "dhcp-rebinding-time": (59, "uint32", False),
    "tftp-server-name": (66, "string", False),
    "boot-file-name": (67, "string", False),
    "domain-search": (119, "fqdn", True),
    "classless-static-route": (121, "routes", False),
    "v4-captive-portal": (114, "string", False),
}
BY_CODE = {}
for _n in DEFS:
    BY_CODE[DEFS[_n][0]] = _n

# Options the server writes itself; option-data may not set them.
RESERVED = (0, 50, 51, 52, 53, 54, 55, 57, 61, 82, 255)


def encode(code, typ, array, data):
    """Wire bytes for a Kea `data` string of the given type (the DHCPv6 types too: the
    Dhcp6 parser uses this with its own table). Raises ValueError."""
    if typ == "binary":
        return unhex(data)
    if typ == "routes":
        return _routes(data)
    if typ == "string":
        if not data:
            raise ValueError("empty string")
        return data.encode()
    items = [x.strip() for x in data.split(",")] if array else [data.strip()]
    out = bytearray()
    for item in items:
        if typ == "ipv4-address":
            out += ip4(item)
        elif typ == "ipv6-address":
            from .addr6 import ip6

            out += ip6(item)
        elif typ == "fqdn":
            out += fqdn(item)
        elif typ in ("uint8", "uint16", "uint32", "int32"):
            size = {"uint8": 1, "uint16": 2, "uint32": 4, "int32": 4}[typ]
            v = int(item, 0)
            if typ == "int32":
                if not -2147483648 <= v <= 2147483647:
                    raise ValueError("out of range: " + item)
                v &= 0xFFFFFFFF
            elif not 0 <= v < (1 << (8 * size)):
                raise ValueError("out of range: " + item)
            out += v.to_bytes(size, "big")
        else:
            raise ValueError("unsupported type " + typ)
    return bytes(out)


def unhex(data):
    s = data.replace(" ", "").replace(":", "")
    if s[:2] in ("0x", "0X"):
        s = s[2:]
    if len(s) % 2:
        raise ValueError("odd number of hex digits")
    try:
        return bytes(int(s[i : i + 2], 16) for i in range(0, len(s), 2))
    except ValueError:
        raise ValueError("not hex: " + data)


def fqdn(name):
    """A domain name in DNS wire format (RFC 1035 3.1), as option 119 carries it."""
    out = bytearray()
    for label in name.strip().rstrip(".").split("."):
        b = label.encode()
        if len(b) != len(label):
            raise ValueError("%s: non-ASCII label; give its IDNA form (xn--...)" % name)
        if not b or len(b) > 63:
            raise ValueError("bad domain name: " + name)
        out.append(len(b))
        out += b
    out.append(0)
    if len(out) > 255:
        raise ValueError("%s: longer than 255 bytes on the wire" % name)
    return bytes(out)


def _routes(data):
    """Kea's syntax for option 121: 'dest/len - router, dest/len - router' (RFC 3442)."""
    out = bytearray()
    for part in data.split(","):
        if "-" not in part:
            raise ValueError("route needs 'prefix/len - router': " + part.strip())
        dest, router = part.split("-", 1)
        if "/" not in dest:
            raise ValueError("route destination needs /len: " + dest.strip())
        net, plen = dest.strip().split("/")
        plen = int(plen)
        if not 0 <= plen <= 32:
            raise ValueError("bad prefix length: " + dest.strip())
        out.append(plen)
        out += ip4(net)[: (plen + 7) // 8]
        out += ip4(router.strip())
    return bytes(out)


# -- decoding what a client keeps from an ACK (allocates: adapter side, lease_info) ------


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
