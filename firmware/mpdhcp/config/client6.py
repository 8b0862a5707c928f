# The Client6 section: the router's own DHCPv6 client on its WAN interface (RFC 8415).
# Registered in config.parser.SECTIONS; errors name the key path ("Client6.interface: required").
#
#   "Client6": {
#     "interface": "wan0",                     required
#     "ia-na": true,                           ask for an address (IA_NA)
#     "ia-pd": true,                           ask for a delegated prefix (IA_PD)
#     "ia-ta": false,                          ask for a temporary address (IA_TA, RFC 8415 21.5)
#     "prefix-length-hint": 56,                IAPREFIX hint in Solicit (0: none; 1..128)
#     "rapid-commit": false,                   Rapid Commit in Solicit (RFC 8415 18.2.1)
#     "reconfigure-accept": true,              Reconfigure Accept (RKAP authenticated only)
#     "requested-options": [23, 24, 82],       Option Request (default: DNS, domain list, SOL_MAX_RT)
#     "lease-file": "client6.jnl",             journal: DUID and the binding (null: in RAM)
#     "configure-interface": true,             apply addresses and DNS (false: only log them)
#     "resolv-conf": null,                     where DNS servers go (default nowhere: Client4
#                                              writes /etc/resolv.conf; no file has two writers)
#     "release-on-shutdown": true              Release on a graceful stop
#   }
# With "ia-na", "ia-pd" and "ia-ta" all false the client is stateless: Information-request only.
from .common import _want, _keys, _fail, client_common, option_codes
from .model6 import Client6Config, DEFAULT_ORO


_KEYS = (
    "interface", "ia-na", "ia-pd", "ia-ta", "prefix-length-hint", "rapid-commit", "reconfigure-accept",
    "requested-options", "lease-file", "configure-interface", "resolv-conf",
    "release-on-shutdown", "user-context",
)


def _oro(codes):
    b = bytearray(2 * len(codes))
    for i, c in enumerate(codes):
        b[2 * i] = c >> 8
        b[2 * i + 1] = c & 255
    return bytes(b)


def client6(d, p):
    _keys(p, d, _KEYS)
    c = Client6Config()
    client_common(c, d, p)
    c.ia_na = _want(p + ".ia-na", d.get("ia-na", True), bool, "boolean")
    c.ia_pd = _want(p + ".ia-pd", d.get("ia-pd", False), bool, "boolean")
    c.ia_ta = _want(p + ".ia-ta", d.get("ia-ta", False), bool, "boolean")
    h = _want(p + ".prefix-length-hint", d.get("prefix-length-hint", 0), int, "integer")
    if h < 0 or h > 128:
        _fail(p + ".prefix-length-hint", "out of range 0..128")
    c.pd_hint = h
    c.rapid_commit = _want(p + ".rapid-commit", d.get("rapid-commit", False), bool, "boolean")
    c.reconfigure_accept = _want(p + ".reconfigure-accept", d.get("reconfigure-accept", True), bool, "boolean")
    codes = option_codes(d, p, "requested-options", 65535, 64) if "requested-options" in d else DEFAULT_ORO
    c.oro = _oro(codes)
    return c
