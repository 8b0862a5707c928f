# The Client4 section: the router's own DHCPv4 client on its WAN interface. Registered in
# config.parser.SECTIONS; errors name the key path like the Dhcp4 parser ("Client4.interface: required").
#
#   "Client4": {
#     "interface": "wan0",                    required
#     "hostname": "router",                   option 12 (1..63 characters)
#     "client-id": "01:02:00:00:00:00:01",    option 61 in hex (default: 01 + the MAC)
#     "vendor-class": "mpdhcp",               option 60 (default "mpdhcp"; null sends none)
#     "requested-options": [1, 3, 6, ...],    option 55 (default below)
#     "lease-file": "/client4.jnl",           journal of the remembered lease (null: in RAM)
#     "offer-window": 2,                      seconds to collect OFFERs (0 = take the first)
#     "configure-interface": true,            apply address/routes/DNS (false: only log them)
#     "resolv-conf": "/etc/resolv.conf",      where DNS servers go (null: nowhere)
#     "release-on-shutdown": true,            RELEASE and deconfigure on a graceful stop
#     "4o6": false                            DHCPv4 over DHCPv6 (RFC 7341) on the interface
#   }
from .common import _want, _keys, _fail, _utf8, client_common, option_codes
from ..wire import options4
from .model4 import Client4Config, DEFAULT_PRL  # noqa: F401  (DEFAULT_PRL: this section's default)

_KEYS = (
    "interface", "hostname", "client-id", "vendor-class", "requested-options", "lease-file",
    "offer-window", "configure-interface", "resolv-conf", "release-on-shutdown", "user-context",
    "4o6",
)


def client4(d, p):
    _keys(p, d, _KEYS)
    c = Client4Config()
    client_common(c, d, p)
    if d.get("hostname") is not None:
        h = _want(p + ".hostname", d["hostname"], str, "string")
        if not 1 <= len(h) <= 63:
            _fail(p + ".hostname", "must be 1..63 characters")
        c.hostname = _utf8(p + ".hostname", h)
    if d.get("client-id") is not None:
        q = p + ".client-id"
        try:
            c.client_id = options4.unhex(_want(q, d["client-id"], str, "string"))
        except ValueError as e:
            _fail(q, str(e))
        if not 2 <= len(c.client_id) <= 255:
            _fail(q, "client-id must be 2..255 bytes")
    if "vendor-class" in d:
        v = d["vendor-class"]
        if v is None:
            c.vendor_class = None
        else:
            v = _want(p + ".vendor-class", v, str, "string")
            if not 1 <= len(v) <= 255:
                _fail(p + ".vendor-class", "must be 1..255 characters")
            c.vendor_class = _utf8(p + ".vendor-class", v)
    if "requested-options" in d:
        c.prl = bytes(option_codes(d, p, "requested-options", 254, 255))
    if "offer-window" in d:
        w = _want(p + ".offer-window", d["offer-window"], int, "integer")
        if w < 0 or w > 60:
            _fail(p + ".offer-window", "out of range 0..60 seconds")
        c.offer_window = w
    c.o6 = _want(p + ".4o6", d.get("4o6", False), bool, "boolean")
    return c
