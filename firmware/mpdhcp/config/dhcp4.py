# The Dhcp4 section: a strict subset of Kea's Dhcp4 schema. Every error names the key path,
# e.g. "Dhcp4.subnet4[0].pools[1].pool: 10.0.0.50 - 10.0.0.10: range end before start".
from ..wire.addr import ip4, cidr, to_int, mask
from ..wire import options4
from ..wire.timing import t1_default, t2_default4
from .common import _want, _keys, _fail, _lifetime, _utf8
from .common import server_common, subnet_list, add_subnet, option_data, lease_database, subnet_head
from .common import each_parsed
from .model4 import Subnet4, Reservation, Config


_TOP = (
    "interfaces-config", "lease-database", "valid-lifetime", "renew-timer", "rebind-timer",
    "subnet4", "option-data", "authoritative", "decline-probation-period", "control-socket",
    "user-context",
    "dhcp4o6-port", "next-server", "server-hostname", "boot-file-name",
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

    server_common(c, d, p, ("dynamic-bootp",))
    boot = _boot(d, p, None)
    dyn = _dynamic_bootp(d, p, False)
    for q, sd in subnet_list(d, p, "subnet4"):
        s = _subnet(sd, q, valid, t1, t2, auth, gopts, galways)
        s.boot = _boot(sd, q, boot)
        s.dynamic_bootp = _dynamic_bootp(sd, q, dyn)
        for i, r in enumerate(s.reservations):
            r.boot = _boot(sd["reservations"][i], "%s.reservations[%d]" % (q, i), s.boot)
        add_subnet(c, s, q)
    _check_overlaps(c.subnets, p)
    own = [a for _, a in c.interfaces if a is not None]
    for i, s in enumerate(c.subnets):
        for k, r in enumerate(s.reservations):
            if r.addr is not None and r.addr in own:
                _fail("%s.subnet4[%d].reservations[%d].ip-address" % (p, i, k),
                      "%d.%d.%d.%d is this server's own address" % tuple(r.addr))
    return c


_SUBNET = (
    "id", "subnet", "pools", "option-data", "reservations", "relay", "interface",
    "valid-lifetime", "renew-timer", "rebind-timer", "authoritative", "user-context",
    "4o6-interface", "4o6-subnet", "4o6-interface-id", "next-server", "server-hostname", "boot-file-name",
)


def _subnet_4o6(s, d, p):
    """Kea's DHCPv4-over-DHCPv6 subnet selection keys (RFC 7341): the DHCPv6 interface a
    DHCPV4-QUERY came in on, the IPv6 prefix holding its source, the relay's Interface-Id."""
    if "4o6-interface" in d:
        s.o6_interface = _want(p + ".4o6-interface", d["4o6-interface"], str, "string")
    if "4o6-subnet" in d:
        from ..wire.addr6 import prefix6

        text = _want(p + ".4o6-subnet", d["4o6-subnet"], str, "string")
        try:
            s.o6_subnet = prefix6(text)
        except ValueError as e:
            _fail(p + ".4o6-subnet", str(e))
        if not any(s.o6_subnet[0]):  # Kea reads prefix :: as "not set": it would match nothing
            _fail(p + ".4o6-subnet", "%s: Kea never matches the prefix :: (name a real prefix)" % text)
    if "4o6-interface-id" in d:
        v = _utf8(p + ".4o6-interface-id", _want(p + ".4o6-interface-id", d["4o6-interface-id"], str, "string"))
        if not v:
            _fail(p + ".4o6-interface-id", "must not be empty")
        s.o6_iid = v


def _subnet(d, p, valid, t1, t2, auth, gopts, galways):
    _keys(p, d, _SUBNET)
    s = Subnet4()
    subnet_head(s, d, p, cidr)
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
    s.relays = [a for _, _, a in each_parsed(relay, p + ".relay", "ip-addresses", ip4)]
    if "interface" in d:
        s.interface = _want(p + ".interface", d["interface"], str, "string")
    _subnet_4o6(s, d, p)
    s.valid = _lifetime(p + ".valid-lifetime", d.get("valid-lifetime", valid))
    st1 = d.get("renew-timer", t1)
    st2 = d.get("rebind-timer", t2)
    # RFC 2131 4.4.5 defaults when not configured: T1 = 0.5, T2 = 0.875 of the lease time
    s.t1 = _lifetime(p + ".renew-timer", st1) if st1 is not None else t1_default(s.valid)
    s.t2 = _lifetime(p + ".rebind-timer", st2) if st2 is not None else t2_default4(s.valid)
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


def _reservation(d, p, s):
    _keys(p, d, ("hw-address", "client-id", "ip-address", "hostname", "user-context",
                 "next-server", "server-hostname", "boot-file-name"))
    r = Reservation()
    idents = [k for k in ("hw-address", "client-id") if k in d]
    if len(idents) != 1:
        _fail(p, "needs exactly one of hw-address, client-id")
    k = idents[0]
    try:
        v = options4.unhex(_want(p + "." + k, d[k], str, "string"))
    except ValueError as e:
        _fail(p + "." + k, str(e))
    if k == "hw-address":
        r.hw = v
    else:
        r.cid = v
    if "ip-address" in d:
        try:
            r.addr = ip4(_want(p + ".ip-address", d["ip-address"], str, "string"))
        except ValueError as e:
            _fail(p + ".ip-address", str(e))
    if "hostname" in d:
        r.hostname = _utf8(p + ".hostname", _want(p + ".hostname", d["hostname"], str, "string"))
    bad = r.problem(s)  # model4.Reservation: the rules console.reserve() applies too
    if bad is not None:
        _fail(p + "." + bad[0], bad[1])
    return r


def _boot(d, p, inherited):
    """Kea's next-server, server-hostname and boot-file-name (the BOOTP header's siaddr, sname
    and file; RFC 2131 2) at this level, over what the level above set."""
    if not ("next-server" in d or "server-hostname" in d or "boot-file-name" in d):
        return inherited
    ns, sname, fname = inherited or (bytes(4), b"", b"")
    if "next-server" in d:
        try:
            ns = ip4(_want(p + ".next-server", d["next-server"], str, "string"))
        except ValueError as e:
            _fail(p + ".next-server", str(e))
    for key, cap in (("server-hostname", 63), ("boot-file-name", 127)):
        if key in d:
            v = _utf8(p + "." + key, _want(p + "." + key, d[key], str, "string"))
            if len(v) > cap:
                _fail(p + "." + key, "at most %d bytes (the BOOTP header's field)" % cap)
            if key == "server-hostname":
                sname = v
            else:
                fname = v
    return ns, sname, fname


def _dynamic_bootp(d, p, inherited):
    """user-context.mpdhcp.dynamic-bootp (ISC dhcpd's dynamic-bootp): BOOTP clients without a
    reservation get an address from the pools; otherwise only reserved ones are answered."""
    mp = d.get("user-context", {}).get("mpdhcp", {}) if isinstance(d.get("user-context"), dict) else {}
    if not isinstance(mp, dict) or "dynamic-bootp" not in mp:
        return inherited
    return _want(p + ".user-context.mpdhcp.dynamic-bootp", mp["dynamic-bootp"], bool, "boolean")


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
