# Mirrors firmware/mpdhcp/config/dhcp6.py (the Dhcp6 section: pools, pd-pools, reservations,
# RFC 8415 21.4 T1/T2 defaults, option-data), every rejection naming its key path.
from mpdhcp.config.parser import parse_doc, ConfigError
from mpdhcp.wire.addr6 import ip6
from craft6 import CONFIG

SUB = '{"id": 1, "subnet": "2001:db8::/64"}'


def _cfg(subnet=SUB, extra=""):
    return '{"Dhcp6": {"interfaces-config": {"interfaces": ["s0"]}, %s "subnet6": [%s]}}' % (extra, subnet)


def _sub(body):
    """A subnet 2001:db8::/64 (id 1) with body (JSON members) added."""
    return '{"id": 1, "subnet": "2001:db8::/64", %s}' % body


def _parse(subnet=SUB, extra=""):
    return parse_doc(_cfg(subnet, extra)).get("Dhcp6")


def _err(text):
    try:
        parse_doc(text)
    except ConfigError as e:
        return str(e)
    raise AssertionError("accepted: " + text)


def test_config_errors_name_the_key_path():
    cases = [
        ('{"Dhcp6": {"interfaces-config": {"interfaces": ["s0"]}, "subnet6": [{"id": 1, "subnet": "2001:db8::/64", "pd-pools": [{"prefix": "2001:db8:1::", "prefix-len": 56, "delegated-len": 48}]}]}}',
         "Dhcp6.subnet6[0].pd-pools[0].delegated-len"),
        ('{"Dhcp6": {"interfaces-config": {"interfaces": ["s0"]}, "subnet6": [{"id": 1, "subnet": "2001:db8::/64", "pools": [{"pool": "2001:db9::1 - 2001:db9::9"}]}]}}',
         "Dhcp6.subnet6[0].pools[0].pool"),
        ('{"Dhcp6": {"interfaces-config": {"interfaces": ["s0"]}, "subnet6": [{"id": 1, "subnet": "2001:db8::/64", "bogus": 1}]}}',
         "Dhcp6.subnet6[0].bogus"),
        ('{"Dhcp6": {"interfaces-config": {"interfaces": ["s0"]}, "subnet6": [{"id": 1, "subnet": "2001:db8::/64", "option-data": [{"name": "dns-servers", "data": "nope"}]}]}}',
         "Dhcp6.subnet6[0].option-data[0].data"),
        ('{"Dhcp6": {"interfaces-config": {"interfaces": ["s0"]}, "server-id": {"type": "EN"}, "subnet6": [{"id": 1, "subnet": "2001:db8::/64"}]}}',
         "Dhcp6.server-id.type"),
    ]
    for text, path in cases:
        try:
            parse_doc(text)
            got = None
        except ConfigError as e:
            got = str(e)
        assert got is not None and got.startswith(path + ":"), (path, got)


def test_full_example_parses():
    c = parse_doc(CONFIG).get("Dhcp6")
    assert c.interfaces == ["s0"] and c.lease_file is None and len(c.subnets) == 3
    s = c.subnets[0]
    assert s.id == 1 and s.index == 0 and s.net == ip6("2001:db8:1::") and s.plen == 64
    assert s.interface == "s0" and s.rapid_commit and not c.subnets[1].rapid_commit
    assert (s.preferred, s.valid, s.t1, s.t2) == (3000, 4000, 1000, 2000)
    assert c.subnets[2].interface_id == b"relay3-port1" and c.subnets[2].interface is None
    assert [x.index for x in c.subnets] == [0, 1, 2]


def test_pool_as_range_and_as_prefix():
    s = _parse(_sub('"pools": [{"pool": "2001:db8::100 - 2001:db8::1ff"}, {"pool": "2001:db8::1:0/120"}]')).subnets[0]
    a, b = s.pools
    assert a.first == ip6("2001:db8::100") and a.last == ip6("2001:db8::1ff") and a.size == 256
    assert b.first == ip6("2001:db8::1:0") and b.last == ip6("2001:db8::1:ff") and b.size == 256
    s = _parse(_sub('"pools": [{"pool": "2001:db8::7/128"}, {"pool": " 2001:db8::9 -2001:db8::9 "}]')).subnets[0]
    assert [(p.first, p.last, p.size) for p in s.pools] == [
        (ip6("2001:db8::7"), ip6("2001:db8::7"), 1), (ip6("2001:db8::9"), ip6("2001:db8::9"), 1)]


def test_huge_pool_is_capped_at_pool_max():
    from mpdhcp.config.dhcp6 import POOL_MAX
    p = _parse(_sub('"pools": [{"pool": "2001:db8::/64"}]')).subnets[0].pools[0]
    assert p.size == POOL_MAX and p.first == ip6("2001:db8::")
    assert p.last == ip6("2001:db8::f:ffff")  # first + POOL_MAX - 1


def test_pool_errors_name_the_key_path():
    cases = [
        ('"pools": [{"pool": "2001:db8::1 - 2001:db9::1"}]',
         "Dhcp6.subnet6[0].pools[0].pool: 2001:db8::1 - 2001:db9::1: outside subnet 2001:db8::/64"),
        ('"pools": [{"pool": "2001:db8::/56"}]',
         "Dhcp6.subnet6[0].pools[0].pool: 2001:db8::/56: outside subnet 2001:db8::/64"),
        ('"pools": [{"pool": "2001:db8::1 - 2001:db8::9"}, {"pool": "2001:db8::9 - 2001:db8::20"}]',
         "Dhcp6.subnet6[0].pools[1].pool: 2001:db8::9 - 2001:db8::20: overlaps pools[0]"),
        ('"pools": [{"pool": "2001:db8::10 - 2001:db8::20"}, {"pool": "2001:db8::/120"}]',
         "Dhcp6.subnet6[0].pools[1].pool: 2001:db8::/120: overlaps pools[0]"),
        ('"pools": [{"pool": "2001:db8::9 - 2001:db8::1"}]',
         "Dhcp6.subnet6[0].pools[0].pool: 2001:db8::9 - 2001:db8::1: range end before start"),
        ('"pools": [{"pool": "2001:db8::9"}]',
         "Dhcp6.subnet6[0].pools[0].pool: 2001:db8::9: expected 'first - last' or prefix/len"),
        ('"pools": [{"pool": "2001:db8::1/64"}]',
         "Dhcp6.subnet6[0].pools[0].pool: 2001:db8::1/64: host bits set in 2001:db8::1/64"),
        ('"pools": [{"pool": 5}]', "Dhcp6.subnet6[0].pools[0].pool: expected string, got integer"),
        ('"pools": [{}]', "Dhcp6.subnet6[0].pools[0].pool: expected string, got null"),
        ('"pools": {}', "Dhcp6.subnet6[0].pools: expected list, got map"),
    ]
    for body, want in cases:
        got = _err(_cfg(_sub(body)))
        assert got == want, (want, got)


def test_pd_pools_parse():
    s = _parse(_sub('"pd-pools": [{"prefix": "2001:db8:8000::", "prefix-len": 48, "delegated-len": 56},'
                    '{"prefix": "2001:db8:9000::", "prefix-len": 36, "delegated-len": 64},'
                    '{"prefix": "2001:db8:a000::", "prefix-len": 64, "delegated-len": 64}]')).subnets[0]
    a, b, c = s.pd_pools
    assert a.prefix == ip6("2001:db8:8000::") and (a.plen, a.dlen, a.size) == (48, 56, 256)
    assert (b.plen, b.dlen, b.size) == (36, 64, 1 << 20)  # 2**28 pieces, capped at POOL_MAX
    assert (c.plen, c.dlen, c.size) == (64, 64, 1)


def test_pd_pool_errors_name_the_key_path():
    pd = '"pd-pools": [{"prefix": "2001:db8:1::", "prefix-len": %s, "delegated-len": %s}]'
    assert _err(_cfg(_sub(pd % (56, 48)))) == \
        "Dhcp6.subnet6[0].pd-pools[0].delegated-len: 48 is shorter than prefix-len 56"
    assert _err(_cfg(_sub(pd % (48, 129)))).startswith("Dhcp6.subnet6[0].pd-pools[0].delegated-len: ")
    assert _err(_cfg(_sub(pd % (0, 56)))) == "Dhcp6.subnet6[0].pd-pools[0].prefix-len: out of range 1..128"
    assert _err(_cfg(_sub(pd % (129, 129)))) == "Dhcp6.subnet6[0].pd-pools[0].prefix-len: out of range 1..128"
    assert _err(_cfg(_sub(pd % ('"48"', 56)))) == \
        "Dhcp6.subnet6[0].pd-pools[0].prefix-len: expected integer, got string"
    assert _err(_cfg(_sub(pd % (32, 40)))) == \
        "Dhcp6.subnet6[0].pd-pools[0].prefix: host bits set in 2001:db8:1::/32"
    full = {"prefix": '"2001:db8:1::"', "prefix-len": "48", "delegated-len": "56"}
    for k in full:
        body = ", ".join('"%s": %s' % (o, full[o]) for o in full if o != k)
        assert _err(_cfg(_sub('"pd-pools": [{%s}]' % body))) == "Dhcp6.subnet6[0].pd-pools[0].%s: required" % k
    assert _err(_cfg(_sub('"pd-pools": [{"prefix": "2001:db8:1::", "prefix-len": 48, "delegated-len": 56, '
                          '"excluded-prefix": "x"}]'))) == "Dhcp6.subnet6[0].pd-pools[0].excluded-prefix: unknown key"


def test_pd_pools_must_not_overlap():
    two = ('"pd-pools": [{"prefix": "%s", "prefix-len": %d, "delegated-len": 64},'
           '{"prefix": "%s", "prefix-len": %d, "delegated-len": 64}]')
    want = "Dhcp6.subnet6[0].pd-pools[1].prefix: overlaps pd-pools[0]"
    assert _err(_cfg(_sub(two % ("2001:db8:1::", 48, "2001:db8:1:ff00::", 56)))) == want  # inside
    assert _err(_cfg(_sub(two % ("2001:db8:1:ff00::", 56, "2001:db8::", 32)))) == want  # around
    assert _err(_cfg(_sub(two % ("2001:db8:1::", 48, "2001:db8:1::", 48)))) == want  # the same
    s = _parse(_sub(two % ("2001:db8:1::", 48, "2001:db8:2::", 48))).subnets[0]  # neighbours
    assert len(s.pd_pools) == 2


def test_reservations_by_duid_and_by_hw_address():
    s = _parse(_sub('"reservations": ['
                    '{"duid": "00:03:00:01:02:00:00:00:00:99", "ip-addresses": ["2001:db8::99", "2001:db8::9a"],'
                    ' "prefixes": ["2001:db8:9999::/56"], "hostname": "h"},'
                    '{"hw-address": "02:00:00:00:00:98", "ip-addresses": ["2001:db8::98"]},'
                    '{"duid": "0102"}]')).subnets[0]
    a, b, c = s.reservations
    assert a.duid == b"\x00\x03\x00\x01\x02\x00\x00\x00\x00\x99" and a.hw is None
    assert a.addrs == [ip6("2001:db8::99"), ip6("2001:db8::9a")]  # one per IA_NA, in order
    assert a.prefixes == [(ip6("2001:db8:9999::"), 56)]
    assert b.hw == b"\x02\x00\x00\x00\x00\x98" and b.duid is None and b.addrs == [ip6("2001:db8::98")]
    assert c.duid == b"\x01\x02" and c.addrs == [] and c.prefixes == []


def test_reservation_errors_name_the_key_path():
    r = '"reservations": [%s]'
    cases = [
        ('{"duid": "01:02:03", "ip-addresses": ["2001:db9::1"]}',
         "Dhcp6.subnet6[0].reservations[0].ip-addresses[0]: 2001:db9::1 is outside subnet"),
        ('{"duid": "01:02:03", "ip-addresses": ["2001:db8::1", "nope"]}',
         "Dhcp6.subnet6[0].reservations[0].ip-addresses[1]: not an IPv6 address: nope"),
        ('{"duid": "01:02:03", "ip-addresses": [7]}',
         "Dhcp6.subnet6[0].reservations[0].ip-addresses[0]: expected string, got integer"),
        ('{"duid": "01:02:03", "ip-addresses": "2001:db8::1"}',
         "Dhcp6.subnet6[0].reservations[0].ip-addresses: expected list, got string"),
        ('{"duid": "01:02", "prefixes": ["2001:db8:1::1/48"]}',
         "Dhcp6.subnet6[0].reservations[0].prefixes[0]: host bits set in 2001:db8:1::1/48"),
        ('{"duid": "01:02:03", "hw-address": "02:00:00:00:00:01"}',
         "Dhcp6.subnet6[0].reservations[0]: needs exactly one of duid, hw-address"),
        ('{"ip-addresses": ["2001:db8::1"]}',
         "Dhcp6.subnet6[0].reservations[0]: needs exactly one of duid, hw-address"),
        ('{"hw-address": "02:00:00:00:01"}',
         "Dhcp6.subnet6[0].reservations[0].hw-address: hw-address must be 6 bytes"),
        ('{"duid": "01"}', "Dhcp6.subnet6[0].reservations[0].duid: duid must be 2..130 bytes"),
        ('{"duid": "%s"}' % ("ab" * 131), "Dhcp6.subnet6[0].reservations[0].duid: duid must be 2..130 bytes"),
        ('{"duid": "xyz1"}', "Dhcp6.subnet6[0].reservations[0].duid: not hex: xyz1"),
        ('{"duid": "01:02", "hostname": 1}',
         "Dhcp6.subnet6[0].reservations[0].hostname: expected string, got integer"),
        ('{"duid": "01:02", "ip-address": "2001:db8::1"}',
         "Dhcp6.subnet6[0].reservations[0].ip-address: unknown key"),
    ]
    for body, want in cases:
        got = _err(_cfg(_sub(r % body)))
        assert got == want, (want, got)
    assert _err(_cfg(_sub('"reservations": [{"duid": "01:02"}, 5]'))) == \
        "Dhcp6.subnet6[0].reservations[1]: expected map, got integer"


def test_t1_t2_default_to_half_and_four_fifths_of_preferred():
    # RFC 8415 21.4: T1 = 0.5 and T2 = 0.8 times the (shortest) preferred lifetime
    s = _parse(_sub('"preferred-lifetime": 3000, "valid-lifetime": 4000')).subnets[0]
    assert (s.preferred, s.valid, s.t1, s.t2) == (3000, 4000, 1500, 2400)
    s = _parse().subnets[0]  # lifetimes default to 3600 / 7200
    assert (s.preferred, s.valid, s.t1, s.t2) == (3600, 7200, 1800, 2880)
    for pref in (1, 5, 999, 1001, 86400, 0x3FFFFFFF):
        s = _parse(_sub('"preferred-lifetime": %d, "valid-lifetime": %d' % (pref, pref))).subnets[0]
        assert s.t1 == pref // 2 and s.t2 == pref - pref // 5, (pref, s.t1, s.t2)
        assert s.t1 <= s.t2 <= s.preferred
    # global lifetimes and timers apply to subnets that do not set their own
    c = _parse(SUB + ', {"id": 2, "subnet": "2001:db9::/64", "renew-timer": 10, "rebind-timer": 20}',
               '"preferred-lifetime": 1000, "valid-lifetime": 2000, "renew-timer": 100,')
    assert (c.subnets[0].t1, c.subnets[0].t2) == (100, 800)
    assert (c.subnets[1].t1, c.subnets[1].t2, c.subnets[1].preferred) == (10, 20, 1000)


def test_timer_and_lifetime_errors():
    assert _err(_cfg(_sub('"renew-timer": 2000, "rebind-timer": 1000'))) == \
        "Dhcp6.subnet6[0]: need renew-timer <= rebind-timer (got 2000, 1000)"
    assert _err(_cfg(SUB, '"renew-timer": 200, "rebind-timer": 100,')) == \
        "Dhcp6.subnet6[0]: need renew-timer <= rebind-timer (got 200, 100)"
    assert _err(_cfg(_sub('"preferred-lifetime": 5000, "valid-lifetime": 4000'))) == \
        "Dhcp6.subnet6[0]: preferred-lifetime 5000 exceeds valid-lifetime 4000"
    assert _err(_cfg(_sub('"valid-lifetime": -1'))) == \
        "Dhcp6.subnet6[0].valid-lifetime: out of range 0..4294967295"
    assert _err(_cfg(SUB, '"rebind-timer": "1",')) == "Dhcp6.rebind-timer: expected integer, got string"
    s = _parse(_sub('"renew-timer": 500, "rebind-timer": 500')).subnets[0]
    assert s.t1 == s.t2 == 500  # equal timers are allowed


def test_interface_or_interface_id_not_both():
    assert _err(_cfg(_sub('"interface": "s0", "interface-id": "port1"'))) == \
        "Dhcp6.subnet6[0].interface-id: a subnet has interface or interface-id, not both"
    assert _err(_cfg(_sub('"interface-id": ""'))) == "Dhcp6.subnet6[0].interface-id: must not be empty"
    assert _err(_cfg(_sub('"interface": 1'))) == "Dhcp6.subnet6[0].interface: expected string, got integer"
    s = _parse(_sub('"interface-id": "port1"')).subnets[0]
    assert s.interface_id == b"port1" and s.interface is None
    s = _parse(_sub('"interface": "s0"')).subnets[0]
    assert s.interface == "s0" and s.interface_id is None


def test_option_data_by_name_and_hex():
    c = _parse(_sub('"option-data": [{"name": "domain-search", "data": "lan, example.org"},'
                    '{"code": 65000, "csv-format": false, "data": "ca:fe"},'
                    '{"name": "preference", "data": "255", "always-send": true},'
                    '{"code": 23, "data": "2001:db8::53"}]'),
               '"option-data": [{"name": "dns-servers", "data": "2001:db8::1, 2001:db8::2"},'
               '{"name": "sntp-servers", "data": "2001:db8::123", "always-send": true}],')
    o = c.subnets[0].options
    assert o[24] == b"\x03lan\x00\x07example\x03org\x00"  # RFC 1035 3.1 names, RFC 3646
    assert o[65000] == b"\xca\xfe" and o[7] == b"\xff"
    assert o[23] == ip6("2001:db8::53")  # the subnet's value wins over the global one
    assert o[31] == ip6("2001:db8::123")  # global options reach the subnet
    assert sorted(c.subnets[0].always) == [7, 31]


def test_option_data_errors_name_the_key_path():
    od = '"option-data": [%s]'
    cases = [
        ('{"name": "bogus", "data": "x"}', "Dhcp6.subnet6[0].option-data[0].name: unknown option name bogus"),
        ('{"code": 1, "csv-format": false, "data": "00"}',
         "Dhcp6.subnet6[0].option-data[0].code: option 1 cannot be configured"),
        ('{"code": 65536, "csv-format": false, "data": "00"}',
         "Dhcp6.subnet6[0].option-data[0].code: option 65536 cannot be configured"),
        ('{"code": 65000, "data": "00"}',
         "Dhcp6.subnet6[0].option-data[0].csv-format: option 65000 has no known format"),
        ('{"name": "dns-servers", "code": 24, "data": "2001:db8::1"}',
         "Dhcp6.subnet6[0].option-data[0].code: dns-servers is code 23"),
        ('{"name": "preference", "data": "256"}', "Dhcp6.subnet6[0].option-data[0].data: out of range: 256"),
        ('{"code": 65000, "csv-format": false, "data": "abc"}',
         "Dhcp6.subnet6[0].option-data[0].data: odd number of hex digits"),
        ('{"name": "preference", "data": "1"}, {"code": 7, "data": "2"}',
         "Dhcp6.subnet6[0].option-data[1]: option 7 given twice"),
        ('{"name": "preference", "data": "1", "space": "dhcp4"}',
         "Dhcp6.subnet6[0].option-data[0].space: only the dhcp6 space is supported"),
        ('{"data": "1"}', "Dhcp6.subnet6[0].option-data[0]: needs name or code"),
        ('{"name": "preference", "data": "1", "x": 1}', "Dhcp6.subnet6[0].option-data[0].x: unknown key"),
    ]
    for body, want in cases:
        got = _err(_cfg(_sub(od % body)))
        assert got.startswith(want), (want, got)
    assert _err(_cfg(SUB, '"option-data": [{"code": 2, "csv-format": false, "data": "00"}],')) == \
        "Dhcp6.option-data[0].code: option 2 cannot be configured"


def test_an_empty_dhcp4o6_server_addr_is_an_option_of_length_0_and_only_it():
    """RFC 7341 8: no address in option 88 tells clients to use All_DHCP_Relay_Agents_and_Servers
    (kea-dhcp6 -t accepts "data": "" too); an empty list of another option is refused."""
    c = _parse(SUB, '"option-data": [{"name": "dhcp4o6-server-addr", "data": ""}],')
    assert c.subnets[0].options[88] == b""
    got = _err(_cfg(SUB, '"option-data": [{"name": "dns-servers", "data": ""}],'))
    assert got.startswith("Dhcp6.option-data[0].data: not an IPv6 address"), got


def test_unknown_keys_rejected_with_their_key_path():
    cases = [
        (_cfg(SUB, '"valid-lifetim": 5,'), "Dhcp6.valid-lifetim: unknown key"),
        (_cfg(_sub('"bogus": 1')), "Dhcp6.subnet6[0].bogus: unknown key"),
        (_cfg(_sub('"pools": [{"pool": "2001:db8::1 - 2001:db8::9", "x": 1}]')),
         "Dhcp6.subnet6[0].pools[0].x: unknown key"),
        (_cfg(SUB, '"server-id": {"type": "LLT", "enterprise-id": 1},'), "Dhcp6.server-id.enterprise-id: unknown key"),
        ('{"Dhcp6": {"interfaces-config": {"interfaces": ["s0"], "re-detect": true}, "subnet6": [%s]}}' % SUB,
         "Dhcp6.interfaces-config.re-detect: unknown key"),
        (_cfg(SUB, '"lease-database": {"type": "memfile", "persist": false, "x": 1},'),
         "Dhcp6.lease-database.x: unknown key"),
        (_cfg(SUB, '"user-context": {"mpdhcp": {"x": 1}},'), "Dhcp6.user-context.mpdhcp.x: unknown key"),
    ]
    for text, want in cases:
        got = _err(text)
        assert got == want, (want, got)


def test_top_level_rules():
    ifs = '{"Dhcp6": {"interfaces-config": {"interfaces": %s}, "subnet6": [%s]}}'
    assert _err('{"Dhcp6": {"subnet6": [%s]}}' % SUB) == "Dhcp6.interfaces-config: required"
    assert _err(ifs % ('[]', SUB)) == "Dhcp6.interfaces-config.interfaces: at least one interface is required"
    assert _err(ifs % ('["*"]', SUB)).startswith("Dhcp6.interfaces-config.interfaces[0]: ")
    assert _err(ifs % ('["s0", "s1/2001:db8::1"]', SUB)).startswith("Dhcp6.interfaces-config.interfaces[1]: ")
    assert _err(_cfg("")) == "Dhcp6.subnet6: at least one subnet is required"
    assert _err(_cfg('{"id": 1, "subnet": "2001:db8::/127"}')) == \
        "Dhcp6.subnet6[0].subnet: prefix length must be at most 126"
    assert _err(_cfg(SUB + ', {"id": 2, "subnet": "2001:db8::/48"}')) == "Dhcp6.subnet6[1].subnet: overlaps subnet6[0]"
    assert _err(_cfg(SUB + ', {"id": 1, "subnet": "2001:db9::/64"}')) == "Dhcp6.subnet6[1].id: duplicate subnet id 1"
    assert _err(_cfg(SUB, '"decline-probation-period": -5,')) == \
        "Dhcp6.decline-probation-period: out of range 0..4294967295"
    assert _err(_cfg(SUB, '"rapid-commit": 1,')) == "Dhcp6.rapid-commit: expected boolean, got integer"
    assert _parse(SUB, '"decline-probation-period": 60,').decline_probation == 60


def test_server_id():
    c = _parse(SUB, '"server-id": {"type": "LL", "htype": 6, "identifier": "02:00:00:00:00:fe", "time": 7},')
    assert (c.duid_type, c.duid_htype, c.duid_ident, c.duid_time) == ("LL", 6, b"\x02\x00\x00\x00\x00\xfe", 7)
    c = _parse()
    assert (c.duid_type, c.duid_htype, c.duid_ident, c.duid_time) == ("LLT", 1, None, None)
    assert _err(_cfg(SUB, '"server-id": {"htype": 65536},')) == "Dhcp6.server-id.htype: out of range 0..65535"
    assert _err(_cfg(SUB, '"server-id": {"identifier": ""},')) == "Dhcp6.server-id.identifier: must be 1..120 bytes"
    assert _err(_cfg(SUB, '"server-id": {"identifier": "zz"},')) == "Dhcp6.server-id.identifier: not hex: zz"
    assert _err(_cfg(SUB, '"server-id": {"time": -1},')) == "Dhcp6.server-id.time: out of range 0..4294967295"
    assert _err(_cfg(SUB, '"server-id": {"persist": 1},')) == "Dhcp6.server-id.persist: expected boolean, got integer"
