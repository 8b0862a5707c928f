# Mirrors firmware/mpdhcp/config/common.py (what every config section shares: type and key
# checks naming the key path first, lifetimes, lease-database, control socket, subnet lists,
# subnet heads, parsed string lists, option-data).
from mpdhcp.config import common as K
from mpdhcp.config.common import ConfigError
from mpdhcp.wire import options4 as O
from mpdhcp.wire.addr import ip4, cidr


class Obj:
    pass


def _err(fn, *args):
    try:
        fn(*args)
    except ConfigError as e:
        return str(e)
    raise AssertionError("accepted: %r" % (args,))


def test_want_names_the_path_then_the_types():
    assert K._want("a.b", 5, int, "integer") == 5
    assert K._want("a.b", "x", str, "string") == "x"
    assert _err(K._want, "a.b", "5", int, "integer") == "a.b: expected integer, got string"
    assert _err(K._want, "a.b", True, int, "integer") == "a.b: expected integer, got boolean"
    assert _err(K._want, "a.b", None, str, "string") == "a.b: expected string, got null"
    assert _err(K._want, "a.b", 1.5, int, "integer") == "a.b: expected integer, got number"
    assert _err(K._want, "a[0]", [], dict, "map") == "a[0]: expected map, got list"
    assert _err(K._want, "a", {}, list, "list") == "a: expected list, got map"
    assert _err(K._want, "a", 0, bool, "boolean") == "a: expected boolean, got integer"
    assert K._want("a", False, bool, "boolean") is False


def test_keys_rejects_unknown_keys_and_non_maps():
    K._keys("S", {"a": 1, "b": 2}, ("a", "b", "c"))
    K._keys("S", {}, ())
    assert _err(K._keys, "S.x[2]", {"a": 1, "zz": 2}, ("a",)) == "S.x[2].zz: unknown key"
    assert _err(K._keys, "S", [1], ("a",)) == "S: expected map, got list"
    assert _err(K._keys, "S", "a", ("a",)) == "S: expected map, got string"


def test_utf8_text():
    assert K._utf8("D.x", "router") == b"router"
    assert K._utf8("D.x", "h\u00e9") == b"h\xc3\xa9"


def test_lifetime_range_and_cap():
    assert K._lifetime("p", 0) == 0 and K._lifetime("p", 3600) == 3600
    assert K._lifetime("p", K.MAX_LIFETIME) == K.MAX_LIFETIME
    assert K._lifetime("p", K.MAX_LIFETIME + 1) == K.MAX_LIFETIME  # larger means "infinite"
    assert K._lifetime("p", 0xFFFFFFFF) == K.MAX_LIFETIME
    assert _err(K._lifetime, "D.valid-lifetime", -1) == "D.valid-lifetime: out of range 0..4294967295"
    assert _err(K._lifetime, "D.valid-lifetime", 0x100000000) == "D.valid-lifetime: out of range 0..4294967295"
    assert _err(K._lifetime, "D.valid-lifetime", "60") == "D.valid-lifetime: expected integer, got string"


def test_lease_database_memfile_only_and_name_when_persisting():
    assert K.lease_database({}, "D") is None  # default: memfile, not persisting
    assert K.lease_database({"lease-database": {"type": "memfile", "persist": False}}, "D") is None
    assert K.lease_database({"lease-database": {"type": "memfile", "name": "/l.jnl"}}, "D") == "/l.jnl"
    ld = {"type": "memfile", "persist": True, "name": "/x", "lfc-interval": 3600}
    assert K.lease_database({"lease-database": ld}, "D") == "/x"
    cases = [
        ({"type": "mysql"}, "D.lease-database.type: only memfile is supported"),
        ({"persist": False}, "D.lease-database.type: only memfile is supported"),
        ({"type": "memfile"}, "D.lease-database.name: required when persist is true (the lease file path)"),
        ({"type": "memfile", "persist": True}, "D.lease-database.name: required when persist is true (the lease file path)"),
        ({"type": "memfile", "name": 5}, "D.lease-database.name: expected string, got integer"),
        ({"type": "memfile", "persist": "no"}, "D.lease-database.persist: expected boolean, got string"),
        ({"type": "memfile", "persist": False, "lfc-interval": "1"},
         "D.lease-database.lfc-interval: expected integer, got string"),
        ({"type": "memfile", "host": "db"}, "D.lease-database.host: unknown key"),
        ("memfile", "D.lease-database: expected map, got string"),
    ]
    for ld, want in cases:
        got = _err(K.lease_database, {"lease-database": ld}, "D")
        assert got == want, (want, got)


def test_server_common_defaults_and_values():
    c = Obj()
    K.server_common(c, {}, "D")
    assert c.control_socket is None and c.max_leases == 0 and c.log is True
    K.server_common(c, {"control-socket": {"socket-type": "unix", "socket-name": "/run/s"},
                        "user-context": {"mpdhcp": {"max-leases": 65000, "log": False}, "other": 1}}, "D")
    assert c.control_socket == "/run/s" and c.max_leases == 65000 and c.log is False
    K.server_common(c, {"user-context": {"mpdhcp": {"max-leases": 0}}}, "D")
    assert c.max_leases == 0 and c.control_socket is None


def test_server_common_errors():
    cases = [
        ({"control-socket": {"socket-type": "tcp", "socket-name": "x"}}, "D.control-socket.socket-type: only unix is supported"),
        ({"control-socket": {"socket-name": "x"}}, "D.control-socket.socket-type: only unix is supported"),
        ({"control-socket": {"socket-type": "unix"}}, "D.control-socket.socket-name: expected string, got null"),
        ({"control-socket": {"socket-type": "unix", "socket-name": "x", "port": 1}}, "D.control-socket.port: unknown key"),
        ({"user-context": []}, "D.user-context: expected map, got list"),
        ({"user-context": {"mpdhcp": 1}}, "D.user-context.mpdhcp: expected map, got integer"),
        ({"user-context": {"mpdhcp": {"max-leases": 65001}}}, "D.user-context.mpdhcp.max-leases: out of range 0..65000"),
        ({"user-context": {"mpdhcp": {"max-leases": -1}}}, "D.user-context.mpdhcp.max-leases: out of range 0..65000"),
        ({"user-context": {"mpdhcp": {"max-leases": "9"}}}, "D.user-context.mpdhcp.max-leases: expected integer, got string"),
        ({"user-context": {"mpdhcp": {"log": 1}}}, "D.user-context.mpdhcp.log: expected boolean, got integer"),
        ({"user-context": {"mpdhcp": {"debug": True}}}, "D.user-context.mpdhcp.debug: unknown key"),
    ]
    for d, want in cases:
        got = _err(K.server_common, Obj(), d, "D")
        assert got == want, (want, got)


def test_subnet_list_holds_1_to_250():
    subs = [{"id": i} for i in range(250)]
    got = K.subnet_list({"subnet4": subs}, "Dhcp4", "subnet4")
    assert len(got) == 250 and got[0] == ("Dhcp4.subnet4[0]", {"id": 0}) and got[249][0] == "Dhcp4.subnet4[249]"
    assert _err(K.subnet_list, {}, "Dhcp4", "subnet4") == "Dhcp4.subnet4: at least one subnet is required"
    assert _err(K.subnet_list, {"subnet6": []}, "Dhcp6", "subnet6") == "Dhcp6.subnet6: at least one subnet is required"
    assert _err(K.subnet_list, {"subnet4": subs + [{}]}, "Dhcp4", "subnet4") == "Dhcp4.subnet4: at most 250 subnets"
    assert _err(K.subnet_list, {"subnet4": {}}, "Dhcp4", "subnet4") == "Dhcp4.subnet4: expected list, got map"


def test_add_subnet_numbers_in_order_and_refuses_duplicate_ids():
    c = Obj()
    c.subnets = []
    for i in (7, 3):
        s = Obj()
        s.id = i
        K.add_subnet(c, s, "D.subnet4[%d]" % len(c.subnets))
    assert [(s.id, s.index) for s in c.subnets] == [(7, 0), (3, 1)]
    s = Obj()
    s.id = 7
    assert _err(K.add_subnet, c, s, "D.subnet4[2]") == "D.subnet4[2].id: duplicate subnet id 7"


def test_subnet_head_id_and_subnet():
    s = Obj()
    K.subnet_head(s, {"id": 1, "subnet": "10.0.0.0/24"}, "D.subnet4[0]", cidr)
    assert s.id == 1 and s.net == ip4("10.0.0.0") and s.plen == 24
    K.subnet_head(s, {"id": 0xFFFFFFFE, "subnet": "0.0.0.0/0"}, "D.subnet4[0]", cidr)
    assert s.id == 0xFFFFFFFE and s.plen == 0
    p = "D.subnet4[3]"
    cases = [
        ({"subnet": "10.0.0.0/24"}, p + ".id: required"),
        ({"id": 0, "subnet": "10.0.0.0/24"}, p + ".id: out of range 1..4294967294"),
        ({"id": 0xFFFFFFFF, "subnet": "10.0.0.0/24"}, p + ".id: out of range 1..4294967294"),
        ({"id": "1", "subnet": "10.0.0.0/24"}, p + ".id: expected integer, got string"),
        ({"id": 1}, p + ".subnet: required"),
        ({"id": 1, "subnet": 10}, p + ".subnet: expected string, got integer"),
        ({"id": 1, "subnet": "10.0.0.1/24"}, p + ".subnet: host bits set in 10.0.0.1/24"),
        ({"id": 1, "subnet": "10.0.0.0"}, p + ".subnet: expected prefix/len: 10.0.0.0"),
    ]
    for d, want in cases:
        got = _err(K.subnet_head, Obj(), d, p, cidr)
        assert got == want, (want, got)


def test_each_parsed_returns_path_text_value():
    d = {"relays": ["10.0.0.1", "10.0.0.2"]}
    got = K.each_parsed(d, "D.subnet4[0]", "relays", ip4)
    assert got == [("D.subnet4[0].relays[0]", "10.0.0.1", ip4("10.0.0.1")),
                   ("D.subnet4[0].relays[1]", "10.0.0.2", ip4("10.0.0.2"))]
    assert K.each_parsed({}, "D", "relays", ip4) == []  # absent: none
    assert K.each_parsed({"relays": []}, "D", "relays", ip4) == []


def test_each_parsed_names_the_failing_element():
    d = {"relays": ["10.0.0.1", "10.0.0.300"]}
    assert _err(K.each_parsed, d, "D.s[0]", "relays", ip4) == "D.s[0].relays[1]: not an IPv4 address: 10.0.0.300"
    assert _err(K.each_parsed, {"relays": ["10.0.0.1", 7]}, "D", "relays", ip4) == \
        "D.relays[1]: expected string, got integer"
    assert _err(K.each_parsed, {"relays": "10.0.0.1"}, "D", "relays", ip4) == "D.relays: expected list, got string"


def _od(lst, max_len=1024):
    return K.option_data("D.option-data", lst, "dhcp4", 254, O.DEFS, O.BY_CODE, O.RESERVED, max_len)


def test_option_data_values():
    out, always = _od([{"name": "routers", "data": "10.0.0.1, 10.0.0.2"},
                       {"code": 6, "data": "9.9.9.9", "always-send": True},
                       {"name": "interface-mtu", "code": 26, "data": "1400"},
                       {"code": 224, "csv-format": False, "data": "01:02"},
                       {"name": "domain-name", "data": "lan", "space": "dhcp4", "always-send": False}])
    assert out == {3: ip4("10.0.0.1") + ip4("10.0.0.2"), 6: ip4("9.9.9.9"), 26: b"\x05\x78",
                   224: b"\x01\x02", 15: b"lan"}
    assert always == [6]
    assert _od([]) == ({}, [])


def test_option_data_errors():
    p = "D.option-data[0]"
    cases = [
        ([{"name": "nope", "data": "1"}], p + ".name: unknown option name nope (give its code with csv-format false)"),
        ([{"name": 3, "data": "1"}], p + ".name: expected string, got integer"),
        ([{"name": "routers", "code": 4, "data": "10.0.0.1"}], p + ".code: routers is code 3"),
        ([{"data": "1"}], p + ": needs name or code"),
        ([{"code": "3", "data": "1"}], p + ".code: expected integer, got string"),
        ([{"code": 0, "csv-format": False, "data": "00"}], p + ".code: option 0 cannot be configured"),
        ([{"code": 255, "csv-format": False, "data": "00"}], p + ".code: option 255 cannot be configured"),
        ([{"code": 53, "csv-format": False, "data": "01"}], p + ".code: option 53 cannot be configured"),
        ([{"code": 224, "data": "1"}],
         p + ".csv-format: option 224 has no known format: set csv-format false and give hex data"),
        ([{"name": "routers", "data": "10.0.0"}], p + ".data: not an IPv4 address: 10.0.0"),
        ([{"name": "routers", "data": 5}], p + ".data: expected string, got integer"),
        ([{"code": 224, "csv-format": False, "data": "0g"}], p + ".data: not hex: 0g"),
        ([{"code": 224, "csv-format": "no", "data": "00"}], p + ".csv-format: expected boolean, got string"),
        ([{"name": "routers", "data": "10.0.0.1", "always-send": 1}], p + ".always-send: expected boolean, got integer"),
        ([{"name": "routers", "data": "10.0.0.1", "space": "dhcp6"}], p + ".space: only the dhcp4 space is supported"),
        ([{"name": "routers", "data": "10.0.0.1", "encapsulate": "x"}], p + ".encapsulate: unknown key"),
        ([{"code": 3, "data": "10.0.0.1"}, {"name": "routers", "data": "10.0.0.2"}],
         "D.option-data[1]: option 3 given twice"),
        ([5], p + ": expected map, got integer"),
        ({}, "D.option-data: expected list, got map"),
    ]
    for lst, want in cases:
        got = _err(_od, lst)
        assert got == want, (want, got)
    assert _err(_od, [{"code": 224, "csv-format": False, "data": "00" * 9}], 8) == p + ".data: longer than 8 bytes"
    assert _od([{"code": 224, "csv-format": False, "data": "00" * 8}], 8)[0] == {224: bytes(8)}
