# The Dhcp6 section: a strict subset of Kea's Dhcp6 schema, parsed into plain objects for
# server6. Registered in config.parser.SECTIONS; errors name the key path, e.g.
# "Dhcp6.subnet6[0].pd-pools[0].delegated-len: 48 is shorter than prefix-len 56".
from .common import _want, _keys, _fail, _lifetime, _utf8, ConfigError  # noqa: F401
from .common import server_common, subnet_list, add_subnet, option_data, lease_database, subnet_head
from .common import each_parsed
from ..wire.addr6 import ip6, prefix6, in_prefix, to_int6, from_int6
from ..wire.options4 import unhex
from ..wire.timing import t1_default, t2_default6
from .model6 import POOL_MAX, Pool6, PdPool, Reservation6, Subnet6, Config6


# name: (code, type, array), by Kea's dhcp6 option names (RFC 8415, 3646, 3319, 4075, 4242...)
DEFS = {
    "preference": (7, "uint8", False),
    "sip-server-dns": (21, "fqdn", True),
    "sip-server-addr": (22, "ipv6-address", True),
    "dns-servers": (23, "ipv6-address", True),
    "domain-search": (24, "fqdn", True),
    "nis-servers": (27, "ipv6-address", True),
    "nisp-servers": (28, "ipv6-address", True),
    "nis-domain-name": (29, "fqdn", True),
    "nisp-domain-name": (30, "fqdn", True),
    "sntp-servers": (31, "ipv6-address", True),
    "information-refresh-time": (32, "uint32", False),
    "new-posix-timezone": (41, "string", False),
    "new-tzdb-timezone": (42, "string", False),
    "bootfile-url": (59, "string", False),
    "dhcp4o6-server-addr": (88, "ipv6-address", True),  # RFC 7341 8
}
BY_CODE = {}
for _n in DEFS:
    BY_CODE[DEFS[_n][0]] = _n
# Options whose empty list means something: no 4o6 server address, so the client uses
# All_DHCP_Relay_Agents_and_Servers (RFC 7341 8); kea-dhcp6 -t accepts "data": "" for it.
EMPTY_OK = (88,)
# Options the server writes itself (RFC 8415 21): option-data may not set them.
RESERVED = (0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 18, 19, 20, 25, 26)


_TOP = (
    "interfaces-config", "lease-database", "preferred-lifetime", "valid-lifetime", "renew-timer",
    "rebind-timer", "rapid-commit", "subnet6", "option-data", "server-id", "control-socket",
    "decline-probation-period", "user-context",
    "dhcp4o6-port",
)


def dhcp6(d, p):
    _keys(p, d, _TOP)
    c = Config6()
    ic = d.get("interfaces-config")
    if ic is None:
        _fail(p + ".interfaces-config", "required")
    _keys(p + ".interfaces-config", ic, ("interfaces",))
    ifs = _want(p + ".interfaces-config.interfaces", ic.get("interfaces", []), list, "list")
    for i, name in enumerate(ifs):
        q = p + ".interfaces-config.interfaces[%d]" % i
        _want(q, name, str, "string")
        if "/" in name:
            _fail(q, "unicast addresses are not supported (the server answers multicast only)")
        if not name or name == "*":
            _fail(q, "name the interface (wildcards are not supported)")
        c.interfaces.append(name)
    if not c.interfaces:
        _fail(p + ".interfaces-config.interfaces", "at least one interface is required")

    c.lease_file = lease_database(d, p)

    g = {}
    for k in ("preferred-lifetime", "valid-lifetime", "renew-timer", "rebind-timer"):
        if k in d:
            g[k] = _lifetime(p + "." + k, d[k])
    g["rapid-commit"] = _want(p + ".rapid-commit", d.get("rapid-commit", False), bool, "boolean")
    c.decline_probation = _lifetime(p + ".decline-probation-period", d.get("decline-probation-period", 86400))
    gopts, galways = _option_data(p + ".option-data", d.get("option-data", []))
    _server_id(c, d.get("server-id"), p + ".server-id")

    server_common(c, d, p)
    for q, sd in subnet_list(d, p, "subnet6"):
        s = _subnet(sd, q, g, gopts, galways)
        for j, o in enumerate(c.subnets):
            if in_prefix(s.net, o.net, o.plen) or in_prefix(o.net, s.net, s.plen):
                _fail(q + ".subnet", "overlaps subnet6[%d]" % j)
        add_subnet(c, s, q)
    return c


def _server_id(c, sid, q):
    if sid is None:
        return
    _keys(q, sid, ("type", "htype", "identifier", "time", "persist"))
    t = _want(q + ".type", sid.get("type", "LLT"), str, "string")
    if t not in ("LLT", "LL"):
        _fail(q + ".type", "expected LLT or LL")
    c.duid_type = t
    c.duid_htype = _want(q + ".htype", sid.get("htype", 1), int, "integer")
    if not 0 <= c.duid_htype <= 65535:
        _fail(q + ".htype", "out of range 0..65535")
    if "identifier" in sid:
        try:
            c.duid_ident = unhex(_want(q + ".identifier", sid["identifier"], str, "string"))
        except ValueError as e:
            _fail(q + ".identifier", str(e))
        if not 1 <= len(c.duid_ident) <= 120:
            _fail(q + ".identifier", "must be 1..120 bytes")
    if "time" in sid:
        c.duid_time = _want(q + ".time", sid["time"], int, "integer")
        if not 0 <= c.duid_time <= 0xFFFFFFFF:
            _fail(q + ".time", "out of range 0..4294967295")
    _want(q + ".persist", sid.get("persist", True), bool, "boolean")


_SUBNET = (
    "id", "subnet", "interface", "interface-id", "pools", "pd-pools", "option-data",
    "reservations", "preferred-lifetime", "valid-lifetime", "renew-timer", "rebind-timer",
    "rapid-commit", "user-context",
)


def _subnet(d, p, g, gopts, galways):
    _keys(p, d, _SUBNET)
    s = Subnet6()
    subnet_head(s, d, p, prefix6)
    if s.plen > 126:
        _fail(p + ".subnet", "prefix length must be at most 126")
    if "interface" in d:
        s.interface = _want(p + ".interface", d["interface"], str, "string")
    if "interface-id" in d:
        s.interface_id = _utf8(p + ".interface-id", _want(p + ".interface-id", d["interface-id"], str, "string"))
        if not s.interface_id:
            _fail(p + ".interface-id", "must not be empty")
        if s.interface is not None:
            _fail(p + ".interface-id", "a subnet has interface or interface-id, not both")
    _pools(s, d, p)
    _pd_pools(s, d, p)
    s.preferred = _lifetime(p + ".preferred-lifetime", d.get("preferred-lifetime", g.get("preferred-lifetime", 3600)))
    s.valid = _lifetime(p + ".valid-lifetime", d.get("valid-lifetime", g.get("valid-lifetime", 7200)))
    if s.preferred > s.valid:
        _fail(p, "preferred-lifetime %d exceeds valid-lifetime %d" % (s.preferred, s.valid))
    t1 = d.get("renew-timer", g.get("renew-timer"))
    t2 = d.get("rebind-timer", g.get("rebind-timer"))
    # RFC 8415 21.4 recommends 0.5 and 0.8 times the shortest preferred lifetime
    s.t1 = _lifetime(p + ".renew-timer", t1) if t1 is not None else t1_default(s.preferred)
    s.t2 = _lifetime(p + ".rebind-timer", t2) if t2 is not None else t2_default6(s.preferred)
    if s.t1 > s.t2:
        _fail(p, "need renew-timer <= rebind-timer (got %d, %d)" % (s.t1, s.t2))
    s.rapid_commit = _want(p + ".rapid-commit", d.get("rapid-commit", g["rapid-commit"]), bool, "boolean")
    opts, always = _option_data(p + ".option-data", d.get("option-data", []))
    merged = dict(gopts)
    merged.update(opts)
    s.options = merged
    s.always = tuple(set(galways) | set(always))
    for i, rd in enumerate(_want(p + ".reservations", d.get("reservations", []), list, "list")):
        s.reservations.append(_reservation(rd, "%s.reservations[%d]" % (p, i), s))
    _router_mode(s, d, p)
    return s


def _router_mode(s, d, p):
    """"user-context": {"mpdhcp": {"delegated-subnet-id": N}}: the subnet is /64 number N of
    the WAN's delegated prefix. Its "subnet" and pools only give the host parts; until a
    prefix is delegated it offers nothing (Kea sees an ordinary subnet)."""
    uc = _want(p + ".user-context", d.get("user-context", {}), dict, "map")
    m = _want(p + ".user-context.mpdhcp", uc.get("mpdhcp", {}), dict, "map")
    if "delegated-subnet-id" not in m:
        return
    q = p + ".user-context.mpdhcp.delegated-subnet-id"
    n = _want(q, m["delegated-subnet-id"], int, "integer")
    if not 0 <= n <= 0xFFFF:
        _fail(q, "out of range 0..65535")
    if s.plen != 64:
        _fail(p + ".subnet", "a subnet from the delegated prefix is a /64 (got /%d)" % s.plen)
    if s.reservations:
        _fail(q, "a subnet from the delegated prefix has no reservations (they would not follow it)")
    s.delegated = n
    s.template = [(x.first, x.last, x.size) for x in s.pools]
    s.pools = []
    s.pd_template = [(x.prefix, x.plen, x.dlen) for x in s.pd_pools]
    s.pd_pools = []
    s.net = bytes(16)  # nothing on this link until a prefix is delegated
    s.plen = 128


def _pools(s, d, p):
    """Address pools ("first - last" or prefix/len), inside the subnet, not overlapping."""
    for i, pd in enumerate(_want(p + ".pools", d.get("pools", []), list, "list")):
        q = "%s.pools[%d]" % (p, i)
        _keys(q, pd, ("pool", "user-context"))
        text = _want(q + ".pool", pd.get("pool"), str, "string")
        try:
            first, last = _pool(text)
        except ValueError as e:
            _fail(q + ".pool", text + ": " + str(e))
        if not s.contains(first) or not s.contains(last):
            _fail(q + ".pool", text + ": outside subnet " + d["subnet"])
        a, b = to_int6(first), to_int6(last)
        for j, o in enumerate(s.pools):
            if a <= to_int6(o.last) and to_int6(o.first) <= b:
                _fail(q + ".pool", text + ": overlaps pools[%d]" % j)
        size = b - a + 1
        s.pools.append(Pool6(first, last if size <= POOL_MAX else from_int6(a + POOL_MAX - 1),
                             min(size, POOL_MAX)))


def _pd_pools(s, d, p):
    """Prefix delegation pools: prefix/prefix-len delegated in delegated-len pieces."""
    for i, pd in enumerate(_want(p + ".pd-pools", d.get("pd-pools", []), list, "list")):
        q = "%s.pd-pools[%d]" % (p, i)
        _keys(q, pd, ("prefix", "prefix-len", "delegated-len", "user-context"))
        for k in ("prefix", "prefix-len", "delegated-len"):
            if k not in pd:
                _fail(q + "." + k, "required")
        plen = _want(q + ".prefix-len", pd["prefix-len"], int, "integer")
        dlen = _want(q + ".delegated-len", pd["delegated-len"], int, "integer")
        if not 1 <= plen <= 128:
            _fail(q + ".prefix-len", "out of range 1..128")
        if dlen > 128:
            _fail(q + ".delegated-len", "out of range %d..128" % plen)
        if dlen < plen:
            _fail(q + ".delegated-len", "%d is shorter than prefix-len %d" % (dlen, plen))
        try:
            pre, _ = prefix6(_want(q + ".prefix", pd["prefix"], str, "string") + "/%d" % plen)
        except ValueError as e:
            _fail(q + ".prefix", str(e))
        for j, o in enumerate(s.pd_pools):
            if in_prefix(pre, o.prefix, min(plen, o.plen)):
                _fail(q + ".prefix", "overlaps pd-pools[%d]" % j)
        s.pd_pools.append(PdPool(pre, plen, dlen))


def _pool(text):
    if "/" in text:
        net, plen = prefix6(text.strip())
        if plen == 128:
            return net, net
        last = from_int6(to_int6(net) | ((1 << (128 - plen)) - 1))
        return net, last
    if "-" not in text:
        raise ValueError("expected 'first - last' or prefix/len")
    a, b = text.split("-", 1)
    first, last = ip6(a.strip()), ip6(b.strip())
    if to_int6(last) < to_int6(first):
        raise ValueError("range end before start")
    return first, last


def _option_data(p, lst):
    return option_data(p, lst, "dhcp6", 65535, DEFS, BY_CODE, RESERVED, empty_ok=EMPTY_OK)


def _reservation(d, p, s):
    _keys(p, d, ("duid", "hw-address", "ip-addresses", "prefixes", "hostname", "user-context"))
    r = Reservation6()
    idents = [k for k in ("duid", "hw-address") if k in d]
    if len(idents) != 1:
        _fail(p, "needs exactly one of duid, hw-address")
    try:
        if "duid" in d:
            r.duid = unhex(_want(p + ".duid", d["duid"], str, "string"))
            if not 2 <= len(r.duid) <= 130:
                raise ValueError("duid must be 2..130 bytes")
        else:
            r.hw = unhex(_want(p + ".hw-address", d["hw-address"], str, "string"))
            if len(r.hw) != 6:
                raise ValueError("hw-address must be 6 bytes")
    except ValueError as e:
        _fail(p + "." + idents[0], str(e))
    for q, a, b in each_parsed(d, p, "ip-addresses", ip6):
        if not s.contains(b):
            _fail(q, a + " is outside subnet")
        r.addrs.append(b)
    r.prefixes = [x for _, _, x in each_parsed(d, p, "prefixes", prefix6)]
    if "hostname" in d:
        _want(p + ".hostname", d["hostname"], str, "string")
    return r
