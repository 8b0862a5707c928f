# What every config section shares: key checks that name the key path (the error type is in
# errors.py), lifetimes, and the keys common to the Dhcp4 and Dhcp6 server sections.
from ..wire import options4
from .errors import ConfigError  # noqa: F401  (re-exported)

MAX_LIFETIME = 0x3FFFFFFF  # lifetimes stay small ints on 32-bit boards; larger means "infinite"


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


def _utf8(path, s):
    """Text as UTF-8 bytes; a string that has none (a lone surrogate) fails with its path."""
    try:
        return s.encode()
    except UnicodeError:
        _fail(path, "not valid Unicode text")


def _lifetime(path, v):
    _want(path, v, int, "integer")
    if v < 0 or v > 0xFFFFFFFF:
        _fail(path, "out of range 0..4294967295")
    return v if v <= MAX_LIFETIME else MAX_LIFETIME


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


def server_common(c, d, p, mine=()):
    """Keys every server section shares: control-socket and user-context.mpdhcp (plus the
    section's own user-context.mpdhcp keys, `mine`)."""
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
    _keys(q, mp, ("max-leases", "log") + tuple(mine))
    c.max_leases = _want(q + ".max-leases", mp.get("max-leases", 0), int, "integer")
    if c.max_leases < 0 or c.max_leases > 65000:
        _fail(q + ".max-leases", "out of range 0..65000")
    c.log = _want(q + ".log", mp.get("log", True), bool, "boolean")
    c.dhcp4o6_port = _want(p + ".dhcp4o6-port", d.get("dhcp4o6-port", 0), int, "integer")
    if not 0 <= c.dhcp4o6_port <= 65534:  # Kea: P and P+1 are used
        _fail(p + ".dhcp4o6-port", "out of range 0..65534")


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



def option_data(p, lst, space, max_code, defs, by_code, reserved, max_len=1024, empty_ok=()):
    """Kea's option-data list -> ({code: wire bytes}, [always-send codes]). defs maps Kea
    names to (code, type, array); options4.encode makes the wire bytes (v4 and v6 types).
    The codes in empty_ok may be given empty data: an option of length 0."""
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
            elif code in empty_ok and not data.strip():
                wire = b""
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


def subnet_head(s, d, p, parse_prefix):
    """A subnet's "id" (1..4294967294) and "subnet" (parsed by parse_prefix into s.net,
    s.plen): what every subnet entry starts with."""
    if "id" not in d:
        _fail(p + ".id", "required")
    s.id = _want(p + ".id", d["id"], int, "integer")
    if s.id < 1 or s.id > 0xFFFFFFFE:
        _fail(p + ".id", "out of range 1..4294967294")
    if "subnet" not in d:
        _fail(p + ".subnet", "required")
    try:
        s.net, s.plen = parse_prefix(_want(p + ".subnet", d["subnet"], str, "string"))
    except ValueError as e:
        _fail(p + ".subnet", str(e))


def each_parsed(d, p, key, parse):
    """(key path, text, parse(text)) for each string of the list d[key] (absent: none); a
    string parse refuses fails with its key path."""
    out = []
    for i, a in enumerate(_want(p + "." + key, d.get(key, []), list, "list")):
        q = "%s.%s[%d]" % (p, key, i)
        try:
            out.append((q, a, parse(_want(q, a, str, "string"))))
        except ValueError as e:
            _fail(q, str(e))
    return out


def client_common(c, d, p):
    """Keys the WAN clients (Client4, Client6) share: interface (required), lease-file,
    configure-interface, resolv-conf, release-on-shutdown, user-context."""
    if "interface" not in d:
        _fail(p + ".interface", "required")
    c.interface = _want(p + ".interface", d["interface"], str, "string")
    if not c.interface or len(c.interface) > 15:
        _fail(p + ".interface", "an interface name of 1..15 characters")
    if d.get("lease-file") is not None:
        c.lease_file = _want(p + ".lease-file", d["lease-file"], str, "string")
    c.configure = _want(p + ".configure-interface", d.get("configure-interface", True), bool, "boolean")
    if "resolv-conf" in d:
        r = d["resolv-conf"]
        c.resolv_conf = None if r is None else _want(p + ".resolv-conf", r, str, "string") or None
    c.release_on_shutdown = _want(p + ".release-on-shutdown", d.get("release-on-shutdown", True),
                                  bool, "boolean")
    _want(p + ".user-context", d.get("user-context", {}), dict, "map")


def option_codes(d, p, key, hi, most):
    """d[key] as a list of option codes 1..hi, at most `most` of them (key path in errors)."""
    q = p + "." + key
    codes = _want(q, d[key], list, "list")
    for i, code in enumerate(codes):
        _want("%s[%d]" % (q, i), code, int, "integer")
        if code < 1 or code > hi:
            _fail("%s[%d]" % (q, i), "option code out of range 1..%d" % hi)
    if len(codes) > most:
        _fail(q, "at most %d codes" % most)
    return codes
