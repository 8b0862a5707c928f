# Config validation: accepted shapes and the key path in every rejection.
from mpdhcp.config.parser import parse, ConfigError
from mpdhcp.wire.addr import ip4
from craft4 import CONFIG


def _err(text):
    try:
        parse(text)
    except ConfigError as e:
        return str(e)
    raise AssertionError("accepted: " + text)


def _cfg(subnet='{"id": 1, "subnet": "10.0.0.0/24", "pools": [{"pool": "10.0.0.10 - 10.0.0.50"}]}', extra=""):
    return '{"Dhcp4": {"interfaces-config": {"interfaces": ["eth0"]}, %s "subnet4": [%s]}}' % (extra, subnet)


def test_full_example_parses():
    c = parse(CONFIG)
    assert len(c.subnets) == 2
    s = c.subnets[0]
    assert s.pools == [(100, 109)]
    assert s.options[3] == ip4("192.168.77.1")
    assert s.options[1] == b"\xff\xff\xff\x00"  # subnet mask added from the prefix
    assert s.t1 == 1000 and s.t2 == 2000 and s.valid == 3600
    assert c.subnets[1].relays == [ip4("172.16.0.1")]
    assert c.subnets[1].pools == [(256 + 0, 256 + 255)]  # 10.20.1.0/24 inside 10.20.0.0/16


def test_pool_range_reversed_names_key_path():
    e = _err(_cfg('{"id": 1, "subnet": "10.0.0.0/24", "pools": [{"pool": "10.0.0.5 - 10.0.0.9"}, {"pool": "10.0.0.50 - 10.0.0.10"}]}'))
    assert e == "Dhcp4.subnet4[0].pools[1].pool: 10.0.0.50 - 10.0.0.10: range end before start", e


def test_unknown_key_rejected_with_path():
    e = _err(_cfg(extra='"valid-lifetim": 5,'))
    assert e.startswith("Dhcp4.valid-lifetim: unknown key"), e
    e = _err(_cfg('{"id": 1, "subnet": "10.0.0.0/24", "pools": [{"pool": "10.0.0.10 - 10.0.0.50", "x": 1}]}'))
    assert e.startswith("Dhcp4.subnet4[0].pools[0].x: unknown key"), e


def test_wrong_types_rejected():
    e = _err(_cfg(extra='"valid-lifetime": "3600",'))
    assert e == "Dhcp4.valid-lifetime: expected integer, got string", e
    e = _err(_cfg(extra='"authoritative": 1,'))
    assert e == "Dhcp4.authoritative: expected boolean, got integer", e
    e = _err(_cfg('{"id": true, "subnet": "10.0.0.0/24"}'))
    assert e == "Dhcp4.subnet4[0].id: expected integer, got boolean", e


def test_pool_outside_subnet_rejected():
    e = _err(_cfg('{"id": 1, "subnet": "10.0.0.0/24", "pools": [{"pool": "10.0.1.0/28"}]}'))
    assert "Dhcp4.subnet4[0].pools[0].pool: 10.0.1.0/28: outside subnet" in e, e


def test_overlapping_pools_and_subnets_rejected():
    e = _err(_cfg('{"id": 1, "subnet": "10.0.0.0/24", "pools": [{"pool": "10.0.0.0/25"}, {"pool": "10.0.0.100 - 10.0.0.200"}]}'))
    assert "pools[1].pool" in e and "overlaps pools[0]" in e, e
    two = '{"id": 1, "subnet": "10.0.0.0/16"}, {"id": 2, "subnet": "10.0.5.0/24"}'
    e = _err(_cfg(two))
    assert e.startswith("Dhcp4.subnet4[1].subnet: overlaps subnet4[0]"), e


def test_cidr_pool_skips_network_and_broadcast():
    c = parse(_cfg('{"id": 1, "subnet": "10.0.0.0/24", "pools": [{"pool": "10.0.0.0/24"}]}'))
    assert c.subnets[0].pools == [(1, 254)]


def test_bad_addresses_and_prefixes():
    assert "Dhcp4.subnet4[0].subnet: host bits set" in _err(_cfg('{"id": 1, "subnet": "10.0.0.1/24"}'))
    assert "not an IPv4 address" in _err(_cfg('{"id": 1, "subnet": "10.0.0.0/24", "pools": [{"pool": "10.0.0.x - 10.0.0.9"}]}'))
    assert "prefix length must be 8..30" in _err(_cfg('{"id": 1, "subnet": "10.0.0.0/31"}'))


def test_option_data_by_name_code_and_hex():
    c = parse(_cfg('{"id": 1, "subnet": "10.0.0.0/24", "option-data": ['
                   '{"name": "domain-name-servers", "data": "10.0.0.1, 10.0.0.2"},'
                   '{"code": 26, "data": "1500"},'
                   '{"code": 252, "csv-format": false, "data": "68:74:74:70"},'
                   '{"name": "classless-static-route", "data": "10.229.0.0/16 - 10.0.0.254, 0.0.0.0/0 - 10.0.0.1"}]}'))
    o = c.subnets[0].options
    assert o[6] == ip4("10.0.0.1") + ip4("10.0.0.2")
    assert o[26] == b"\x05\xdc"
    assert o[252] == b"http"
    assert o[121] == bytes([16, 10, 229]) + ip4("10.0.0.254") + bytes([0]) + ip4("10.0.0.1")


def test_option_errors_name_the_option():
    e = _err(_cfg('{"id": 1, "subnet": "10.0.0.0/24", "option-data": [{"name": "routers", "data": "10.0.0.300"}]}'))
    assert e == "Dhcp4.subnet4[0].option-data[0].data: not an IPv4 address: 10.0.0.300", e
    e = _err(_cfg('{"id": 1, "subnet": "10.0.0.0/24", "option-data": [{"name": "no-such", "data": "1"}]}'))
    assert e.startswith("Dhcp4.subnet4[0].option-data[0].name: unknown option name no-such"), e
    e = _err(_cfg('{"id": 1, "subnet": "10.0.0.0/24", "option-data": [{"code": 53, "data": "1"}]}'))
    assert "cannot be configured" in e, e
    e = _err(_cfg('{"id": 1, "subnet": "10.0.0.0/24", "option-data": [{"code": 200, "data": "1"}]}'))
    assert "csv-format false" in e, e


def test_reservations_checked():
    e = _err(_cfg('{"id": 1, "subnet": "10.0.0.0/24", "reservations": [{"hw-address": "aa:bb", "ip-address": "10.0.0.5"}]}'))
    assert e == "Dhcp4.subnet4[0].reservations[0].hw-address: hw-address must be 6 bytes", e
    e = _err(_cfg('{"id": 1, "subnet": "10.0.0.0/24", "reservations": [{"hw-address": "aa:bb:cc:dd:ee:ff", "ip-address": "10.9.0.5"}]}'))
    assert e == "Dhcp4.subnet4[0].reservations[0].ip-address: 10.9.0.5 is outside subnet", e
    e = _err(_cfg('{"id": 1, "subnet": "10.0.0.0/24", "reservations": [{"ip-address": "10.0.0.5"}]}'))
    assert "exactly one of hw-address, client-id" in e, e


def test_timers_must_be_ordered():
    e = _err(_cfg(extra='"valid-lifetime": 100, "renew-timer": 90, "rebind-timer": 50,'))
    assert e.startswith("Dhcp4.subnet4[0]: need renew-timer <= rebind-timer <= valid-lifetime"), e


def test_default_timers_follow_rfc2131():
    c = parse(_cfg(extra='"valid-lifetime": 800,'))
    assert c.subnets[0].t1 == 400 and c.subnets[0].t2 == 700


def test_sections_and_json_errors():
    assert _err("{not json").startswith("config: not valid JSON")
    assert _err('{"Dhcp9": {}}').startswith("Dhcp9: unknown or unsupported section")
    assert _err('{"Dhcp4": {"subnet4": []}}') == "Dhcp4.interfaces-config: required"
    e = _err('{"Dhcp4": {"interfaces-config": {"interfaces": ["eth0"]}, "subnet4": []}}')
    assert e == "Dhcp4.subnet4: at least one subnet is required", e


def test_lease_database_needs_name_when_persisting():
    e = _err(_cfg(extra='"lease-database": {"type": "memfile"},'))
    assert e.startswith("Dhcp4.lease-database.name: required"), e
    e = _err(_cfg(extra='"lease-database": {"type": "mysql", "name": "x"},'))
    assert e == "Dhcp4.lease-database.type: only memfile is supported", e


def test_interface_with_address_form():
    c = parse('{"Dhcp4": {"interfaces-config": {"interfaces": ["eth0/10.0.0.1"]}, "subnet4": [{"id": 1, "subnet": "10.0.0.0/24"}]}}')
    assert c.interfaces == [("eth0", ip4("10.0.0.1"))]
    assert "wildcards" in _err('{"Dhcp4": {"interfaces-config": {"interfaces": ["*"]}, "subnet4": [{"id": 1, "subnet": "10.0.0.0/24"}]}}')


def test_4o6_subnet_of_prefix_zero_is_refused():
    """Kea reads a 4o6-subnet prefix of :: as unset, so it never matches: said at start."""
    e = _err(_cfg('{"id": 1, "subnet": "10.0.0.0/24", "4o6-subnet": "::/0"}'))
    assert e.startswith("Dhcp4.subnet4[0].4o6-subnet: ::/0: Kea never matches"), e
    assert parse(_cfg('{"id": 1, "subnet": "10.0.0.0/24", "4o6-subnet": "2001:db8::/32"}')).subnets[0].o6_subnet[1] == 32
