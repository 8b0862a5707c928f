# The one config parser: JSON, a strict subset of Kea's Dhcp4 schema. Every error names the
# key path, e.g. "Dhcp4.subnet4[0].pools[1].pool: 10.0.0.50 - 10.0.0.10: range end before start".
import json
from .addr import ip4, cidr, to_int, mask
from . import options4

MAX_LIFETIME = 0x3FFFFFFF  # lifetimes stay small ints on 32-bit boards; larger means "infinite"
# Top-level sections: name -> (module, function) parsing it, imported only when present so a
# board carries only the parsers its config uses.
SECTIONS = {"Dhcp4": ("config", "dhcp4")}
SECTIONS["Client4"] = ("config_client4", "client4")  # the WAN-side DHCPv4 client
SECTIONS["Dhcp6"] = ("config6", "dhcp6")  # the DHCPv6 server (config6.py)


class ConfigError(Exception):
    pass


def _fail(path, msg):
    raise ConfigError(path + ": " + msg)


def _want(path, v, typ, name):
    if typ is int and isinstance(v, bool) or not isinstance(v, typ):
        _fail(path, "expected " + name + ", got " + _tname(v))
    return v


def _tname(v):
    if isinstance(v, bool):
        return "boolean"
    return {int: "integer", str: "string", list: "list", dict: "map", float: "number"}.get(type(v), "null")


def _keys(path, d, allowed):
    _want(path, d, dict, "map")
    for k in d:
        if k not in allowed:
            _fail(path + "." + k, "unknown key")


def _lifetime(path, v):
    _want(path, v, int, "integer")
    if v < 0 or v > 0xFFFFFFFF:
        _fail(path, "out of range 0..4294967295")
    return v if v <= MAX_LIFETIME else MAX_LIFETIME


class Subnet4:
    def __init__(self):
        self.index = 0
        self.id = 0
        self.net = b""
        self.plen = 0
        self.mask = b""
        self.pools = []  # (first, last) host offsets from net, inclusive
        self.relays = []  # 4-byte giaddrs
        self.interface = None
        self.options = {}  # code -> wire bytes
        self.always = ()
        self.valid = self.t1 = self.t2 = 0
        self.authoritative = False
        self.reservations = []

    def contains(self, a, off=0):
        """Is the 4-byte address a[off:] inside this subnet (byte compare, no big ints)?"""
        n = self.net
        m = self.mask
        for i in range(4):
            if a[off + i] & m[i] != n[i]:
                return False
        return True


class Reservation:
    def __init__(self):
        self.hw = None
        self.cid = None
        self.addr = None
        self.hostname = None


class Config:
    def __init__(self):
        self.interfaces = []  # (ifname, 4-byte address or None)
        self.lease_file = None
        self.subnets = []
        self.decline_probation = 86400
        self.control_socket = None
        self.max_leases = 0
        self.log = True


def load(path):
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise ConfigError(path + ": cannot read: " + str(e))
    return parse_doc(text)


class Doc:
    """The whole file: one parsed object per section present, None for the others."""

    def __init__(self):
        self.sections = {}

    def get(self, name):
        return self.sections.get(name)


def parse_doc(text):
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise ConfigError("config: not valid JSON: " + str(e))
    _want("config", doc, dict, "map")
    names = sorted(SECTIONS)
    for k in doc:
        if k not in SECTIONS:
            _fail(k, "unknown or unsupported section (this version has: " + ", ".join(names) + ")")
    if not doc:
        _fail("config", "empty: give at least one of " + ", ".join(names))
    d = Doc()
    for k in doc:
        mod, fn = SECTIONS[k]
        m = __import__("mpdhcp." + mod, None, None, [fn])
        d.sections[k] = getattr(m, fn)(doc[k], k)
    return d


def parse(text):
    """The Dhcp4 section alone (what the v4 server and its tests need)."""
    d = parse_doc(text)
    if d.get("Dhcp4") is None:
        _fail("config", "no Dhcp4 section")
    return d.get("Dhcp4")


_TOP = (
    "interfaces-config", "lease-database", "valid-lifetime", "renew-timer", "rebind-timer",
    "subnet4", "option-data", "authoritative", "decline-probation-period", "control-socket",
    "user-context",
)


def dhcp4(d, p):
    _keys(p, d, _TOP)
    c = Config()
    ic = d.get("interfaces-config")
    if ic is None:
        _fail(p + ".interfaces-config", "required")
    _keys(p + ".interfaces-config", ic, ("interfaces", "dhcp-socket-type"))
    ifs = _want(p + ".interfaces-config.interfaces", ic.get("interfaces", []), list, "list")
    for i, name in enumerate(ifs):
        q = p + ".interfaces-config.interfaces[%d]" % i
        _want(q, name, str, "string")
        if "/" in name:
            n, a = name.split("/", 1)
            try:
                c.interfaces.append((n, ip4(a)))
            except ValueError as e:
                _fail(q, str(e))
        elif not name or name == "*":
            _fail(q, "name the interface (wildcards are not supported)")
        else:
            c.interfaces.append((name, None))
    if not c.interfaces:
        _fail(p + ".interfaces-config.interfaces", "at least one interface is required")
    st = ic.get("dhcp-socket-type", "raw")
    if st not in ("raw", "udp"):
        _fail(p + ".interfaces-config.dhcp-socket-type", "expected raw or udp")

    c.lease_file = lease_database(d, p)

    valid = _lifetime(p + ".valid-lifetime", d.get("valid-lifetime", 7200))
    t1 = d.get("renew-timer")
    t2 = d.get("rebind-timer")
    if t1 is not None:
        t1 = _lifetime(p + ".renew-timer", t1)
    if t2 is not None:
        t2 = _lifetime(p + ".rebind-timer", t2)
    auth = _want(p + ".authoritative", d.get("authoritative", False), bool, "boolean")
    c.decline_probation = _lifetime(p + ".decline-probation-period", d.get("decline-probation-period", 86400))
    gopts, galways = _option_data(p + ".option-data", d.get("option-data", []))

    server_common(c, d, p)
    for q, sd in subnet_list(d, p, "subnet4"):
        s = _subnet(sd, q, valid, t1, t2, auth, gopts, galways)
        add_subnet(c, s, q)
    _check_overlaps(c.subnets, p)
    return c


def lease_database(d, p):
    """The journal path from Kea's lease-database (memfile), or None when not persisting."""
    ld = d.get("lease-database", {"type": "memfile", "persist": False})
    q = p + ".lease-database"
    _keys(q, ld, ("type", "name", "persist", "lfc-interval"))
    if ld.get("type") != "memfile":
        _fail(q + ".type", "only memfile is supported")
    persist = _want(q + ".persist", ld.get("persist", True), bool, "boolean")
    if "lfc-interval" in ld:
        _want(q + ".lfc-interval", ld["lfc-interval"], int, "integer")
    if persist:
        if "name" not in ld:
            _fail(q + ".name", "required when persist is true (the lease file path)")
        return _want(q + ".name", ld["name"], str, "string")
    return None


def server_common(c, d, p):
    """Keys every server section shares: control-socket and user-context.mpdhcp."""
    cs = d.get("control-socket")
    c.control_socket = None
    if cs is not None:
        q = p + ".control-socket"
        _keys(q, cs, ("socket-type", "socket-name"))
        if cs.get("socket-type") != "unix":
            _fail(q + ".socket-type", "only unix is supported")
        c.control_socket = _want(q + ".socket-name", cs.get("socket-name"), str, "string")
    uc = d.get("user-context", {})
    _want(p + ".user-context", uc, dict, "map")
    mp = uc.get("mpdhcp", {})
    q = p + ".user-context.mpdhcp"
    _keys(q, mp, ("max-leases", "log"))
    c.max_leases = _want(q + ".max-leases", mp.get("max-leases", 0), int, "integer")
    if c.max_leases < 0 or c.max_leases > 65000:
        _fail(q + ".max-leases", "out of range 0..65000")
    c.log = _want(q + ".log", mp.get("log", True), bool, "boolean")


def subnet_list(d, p, key):
    """(key path, subnet dict) for each entry of d[key], which must hold 1..250 of them."""
    subs = _want(p + "." + key, d.get(key, []), list, "list")
    if not subs:
        _fail(p + "." + key, "at least one subnet is required")
    if len(subs) > 250:
        _fail(p + "." + key, "at most 250 subnets")
    return [("%s.%s[%d]" % (p, key, i), sd) for i, sd in enumerate(subs)]


def add_subnet(c, s, q):
    """Append parsed subnet s to config c: numbered in order, ids unique."""
    for o in c.subnets:
        if o.id == s.id:
            _fail(q + ".id", "duplicate subnet id %d" % s.id)
    s.index = len(c.subnets)
    c.subnets.append(s)


_SUBNET = (
    "id", "subnet", "pools", "option-data", "reservations", "relay", "interface",
    "valid-lifetime", "renew-timer", "rebind-timer", "authoritative", "user-context",
)


def _subnet(d, p, valid, t1, t2, auth, gopts, galways):
    _keys(p, d, _SUBNET)
    s = Subnet4()
    if "id" not in d:
        _fail(p + ".id", "required")
    s.id = _want(p + ".id", d["id"], int, "integer")
    if s.id < 1 or s.id > 0xFFFFFFFE:
        _fail(p + ".id", "out of range 1..4294967294")
    if "subnet" not in d:
        _fail(p + ".subnet", "required")
    try:
        s.net, s.plen = cidr(_want(p + ".subnet", d["subnet"], str, "string"))
    except ValueError as e:
        _fail(p + ".subnet", str(e))
    if s.plen < 8 or s.plen > 30:
        _fail(p + ".subnet", "prefix length must be 8..30")
    s.mask = mask(s.plen)
    base = to_int(s.net)
    hosts = (1 << (32 - s.plen)) - 1  # offset of the broadcast address
    for i, pd in enumerate(_want(p + ".pools", d.get("pools", []), list, "list")):
        q = "%s.pools[%d]" % (p, i)
        _keys(q, pd, ("pool", "option-data", "user-context"))
        if "option-data" in pd:
            _fail(q + ".option-data", "per-pool options are not supported; set them on the subnet")
        text = _want(q + ".pool", pd.get("pool"), str, "string")
        try:
            first, last = _pool(text)
        except ValueError as e:
            _fail(q + ".pool", text + ": " + str(e))
        a, b = first - base, last - base
        if a < 0 or b > hosts:
            _fail(q + ".pool", text + ": outside subnet " + d["subnet"])
        a, b = max(a, 1), min(b, hosts - 1)  # never the network or broadcast address
        if a > b:
            _fail(q + ".pool", text + ": holds no usable address")
        for j, (x, y) in enumerate(s.pools):
            if a <= y and x <= b:
                _fail(q + ".pool", text + ": overlaps pools[%d]" % j)
        s.pools.append((a, b))
    relay = d.get("relay", {})
    _keys(p + ".relay", relay, ("ip-addresses",))
    for i, a in enumerate(_want(p + ".relay.ip-addresses", relay.get("ip-addresses", []), list, "list")):
        q = "%s.relay.ip-addresses[%d]" % (p, i)
        try:
            s.relays.append(ip4(_want(q, a, str, "string")))
        except ValueError as e:
            _fail(q, str(e))
    if "interface" in d:
        s.interface = _want(p + ".interface", d["interface"], str, "string")
    s.valid = _lifetime(p + ".valid-lifetime", d.get("valid-lifetime", valid))
    st1 = d.get("renew-timer", t1)
    st2 = d.get("rebind-timer", t2)
    # RFC 2131 4.4.5 defaults when not configured: T1 = 0.5, T2 = 0.875 of the lease time
    s.t1 = _lifetime(p + ".renew-timer", st1) if st1 is not None else s.valid // 2
    s.t2 = _lifetime(p + ".rebind-timer", st2) if st2 is not None else s.valid * 7 // 8
    if s.t1 > s.t2 or s.t2 > s.valid:
        _fail(p, "need renew-timer <= rebind-timer <= valid-lifetime (got %d, %d, %d)" % (s.t1, s.t2, s.valid))
    s.authoritative = _want(p + ".authoritative", d.get("authoritative", auth), bool, "boolean")
    opts, always = _option_data(p + ".option-data", d.get("option-data", []))
    merged = dict(gopts)
    merged.update(opts)
    if 1 not in merged:
        merged[1] = s.mask
    s.options = merged
    s.always = tuple(set(galways) | set(always))
    for i, rd in enumerate(_want(p + ".reservations", d.get("reservations", []), list, "list")):
        s.reservations.append(_reservation(rd, "%s.reservations[%d]" % (p, i), s))
    return s


def _pool(text):
    if "/" in text:
        net, plen = cidr(text.strip())
        first = to_int(net)
        return first, first + (1 << (32 - plen)) - 1
    if "-" not in text:
        raise ValueError("expected 'first - last' or prefix/len")
    a, b = text.split("-", 1)
    first, last = to_int(ip4(a.strip())), to_int(ip4(b.strip()))
    if last < first:
        raise ValueError("range end before start")
    return first, last


def _option_data(p, lst):
    return option_data(p, lst, "dhcp4", 254, options4.DEFS, options4.BY_CODE, options4.RESERVED)


def option_data(p, lst, space, max_code, defs, by_code, reserved, max_len=1024):
    """Kea's option-data list -> ({code: wire bytes}, [always-send codes]). defs maps Kea
    names to (code, type, array); options4.encode makes the wire bytes (v4 and v6 types)."""
    out = {}
    always = []
    for i, od in enumerate(_want(p, lst, list, "list")):
        q = "%s[%d]" % (p, i)
        _keys(q, od, ("name", "code", "data", "csv-format", "always-send", "space"))
        if od.get("space", space) != space:
            _fail(q + ".space", "only the %s space is supported" % space)
        name = od.get("name")
        code = od.get("code")
        if name is not None:
            _want(q + ".name", name, str, "string")
            if name not in defs:
                _fail(q + ".name", "unknown option name " + name + " (give its code with csv-format false)")
            dcode = defs[name][0]
            if code is not None and code != dcode:
                _fail(q + ".code", "%s is code %d" % (name, dcode))
            code = dcode
        elif code is None:
            _fail(q, "needs name or code")
        _want(q + ".code", code, int, "integer")
        if code < 1 or code > max_code or code in reserved:
            _fail(q + ".code", "option %d cannot be configured" % code)
        data = _want(q + ".data", od.get("data", ""), str, "string")
        csv = _want(q + ".csv-format", od.get("csv-format", True), bool, "boolean")
        try:
            if not csv:
                wire = options4.unhex(data)
            elif code in by_code:
                _, typ, arr = defs[by_code[code]]
                wire = options4.encode(code, typ, arr, data)
            else:
                _fail(q + ".csv-format", "option %d has no known format: set csv-format false and give hex data" % code)
        except ValueError as e:
            _fail(q + ".data", str(e))
        if len(wire) > max_len:
            _fail(q + ".data", "longer than %d bytes" % max_len)
        if code in out:
            _fail(q, "option %d given twice" % code)
        out[code] = wire
        if _want(q + ".always-send", od.get("always-send", False), bool, "boolean"):
            always.append(code)
    return out, always


def _reservation(d, p, s):
    _keys(p, d, ("hw-address", "client-id", "ip-address", "hostname", "user-context"))
    r = Reservation()
    idents = [k for k in ("hw-address", "client-id") if k in d]
    if len(idents) != 1:
        _fail(p, "needs exactly one of hw-address, client-id")
    try:
        if "hw-address" in d:
            r.hw = options4.unhex(_want(p + ".hw-address", d["hw-address"], str, "string"))
            if len(r.hw) != 6:
                raise ValueError("hw-address must be 6 bytes")
        else:
            r.cid = options4.unhex(_want(p + ".client-id", d["client-id"], str, "string"))
            if not 2 <= len(r.cid) <= 255:
                raise ValueError("client-id must be 2..255 bytes")
    except ValueError as e:
        _fail(p + "." + idents[0], str(e))
    if "ip-address" in d:
        try:
            r.addr = ip4(_want(p + ".ip-address", d["ip-address"], str, "string"))
        except ValueError as e:
            _fail(p + ".ip-address", str(e))
        if not s.contains(r.addr):
            _fail(p + ".ip-address", d["ip-address"] + " is outside subnet")
    if "hostname" in d:
        r.hostname = _want(p + ".hostname", d["hostname"], str, "string").encode()
        if not 1 <= len(r.hostname) <= 63:
            _fail(p + ".hostname", "must be 1..63 characters")
    return r


def _check_overlaps(subnets, p):
    for i, s in enumerate(subnets):
        for j in range(i):
            o = subnets[j]
            if s.contains(o.net) or o.contains(s.net):
                _fail("%s.subnet4[%d].subnet" % (p, i), "overlaps subnet4[%d]" % j)
        for k, r in enumerate(s.reservations):
            for q in s.reservations[:k]:
                if r.addr and q.addr and r.addr == q.addr:
                    _fail("%s.subnet4[%d].reservations[%d].ip-address" % (p, i, k), "reserved twice")
