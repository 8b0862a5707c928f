# DHCPv4 option definitions for the config (RFC 2132, RFC 3397, RFC 3442), by Kea's names.
# Used only when the config is loaded: turns Kea-syntax `data` strings into wire bytes.
from .addr import ip4

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
