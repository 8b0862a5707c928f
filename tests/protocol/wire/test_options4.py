# Mirrors firmware/mpdhcp/wire/options4.py: encode() of each Kea option type (RFC 2132, RFC 3397
# with RFC 1035 3.1 names, RFC 3442 routes) and unhex. The decoders: test_decode4.py.
from mpdhcp.wire import options4 as O
from mpdhcp.wire.addr import ip4
from mpdhcp.wire.addr6 import ip6


def _raises(fn, *args):
    try:
        fn(*args)
    except ValueError:
        return True
    return False


def test_ipv4_addresses_single_and_array():
    assert O.encode(1, "ipv4-address", False, "255.255.255.0") == b"\xff\xff\xff\x00"
    assert O.encode(3, "ipv4-address", True, "10.0.0.1") == ip4("10.0.0.1")
    assert O.encode(6, "ipv4-address", True, "10.0.0.1, 9.9.9.9,1.1.1.1") == \
        ip4("10.0.0.1") + ip4("9.9.9.9") + ip4("1.1.1.1")
    assert _raises(O.encode, 6, "ipv4-address", True, "10.0.0.1,")
    assert _raises(O.encode, 6, "ipv4-address", True, "")
    assert _raises(O.encode, 1, "ipv4-address", False, "10.0.0.1, 10.0.0.2")  # not an array type


def test_ipv6_addresses_for_the_dhcp6_table():
    assert O.encode(23, "ipv6-address", True, "2001:db8::1, ::1") == ip6("2001:db8::1") + ip6("::1")
    assert _raises(O.encode, 23, "ipv6-address", True, "2001:db8::g")


def test_unsigned_and_signed_integers():
    assert O.encode(7, "uint8", False, "0") == b"\x00" and O.encode(7, "uint8", False, "255") == b"\xff"
    assert O.encode(26, "uint16", False, "1400") == b"\x05\x78"
    assert O.encode(26, "uint16", False, "65535") == b"\xff\xff"
    assert O.encode(58, "uint32", False, "3600") == b"\x00\x00\x0e\x10"
    assert O.encode(58, "uint32", False, "4294967295") == b"\xff\xff\xff\xff"
    assert O.encode(58, "uint32", False, " 0x10 ") == b"\x00\x00\x00\x10"
    assert O.encode(2, "int32", False, "-1") == b"\xff\xff\xff\xff"
    assert O.encode(2, "int32", False, "-3600") == b"\xff\xff\xf1\xf0"  # RFC 2132 3.4: two's complement
    assert O.encode(2, "int32", False, "2147483647") == b"\x7f\xff\xff\xff"
    for typ, bad in (("uint8", "256"), ("uint8", "-1"), ("uint16", "65536"), ("uint32", "4294967296"),
                     ("int32", "2147483648"), ("int32", "-2147483649"), ("uint8", "x"), ("uint16", "")):
        assert _raises(O.encode, 1, typ, False, bad), (typ, bad)


def test_strings_and_binary():
    assert O.encode(15, "string", False, "example.org") == b"example.org"
    assert O.encode(12, "string", False, "a b") == b"a b"
    assert _raises(O.encode, 15, "string", False, "")  # RFC 2132: minimum length 1
    assert O.encode(43, "binary", False, "01:02 0a") == b"\x01\x02\x0a"
    assert O.encode(43, "binary", False, "") == b""
    assert _raises(O.encode, 1, "ipv4-prefix", False, "10.0.0.0/8")  # an unsupported type


def test_unhex():
    assert O.unhex("cafe") == b"\xca\xfe" and O.unhex("CA:FE") == b"\xca\xfe"
    assert O.unhex("0xCAFE") == b"\xca\xfe" and O.unhex("ca fe 01") == b"\xca\xfe\x01"
    assert O.unhex("") == b""
    assert _raises(O.unhex, "abc") and _raises(O.unhex, "zz") and _raises(O.unhex, "0x1")


def test_domain_search_names_in_rfc1035_label_form():
    # RFC 3397 2 / RFC 1035 3.1: length-prefixed labels ending in the zero-length root label
    assert O.encode(119, "fqdn", True, "lan, example.org") == b"\x03lan\x00\x07example\x03org\x00"
    assert O.encode(119, "fqdn", True, "example.org.") == b"\x07example\x03org\x00"
    assert O.fqdn(" a.b ") == b"\x01a\x01b\x00"
    assert O.fqdn("x" * 63 + ".org") == b"\x3f" + b"x" * 63 + b"\x03org\x00"
    for bad in ("", ".", "a..b", ".a", "x" * 64 + ".org"):
        assert _raises(O.fqdn, bad), bad
    assert _raises(O.encode, 119, "fqdn", True, "lan,,org")


def test_fqdn_refuses_what_rfc1035_does_not_allow():
    # RFC 1035 3.1: a label's length octet counts its octets; 2.3.4: labels 63 octets or
    # less, names 255 octets or less (on the wire)
    try:
        w = O.fqdn("caf\u00e9.lan")
    except ValueError:
        w = None
    assert w is None or w == b"\x05caf\xc3\xa9\x03lan\x00", w
    assert _raises(O.fqdn, ".".join(["a" * 63] * 4))  # 4 * 64 + 1 = 257 octets
    assert len(O.fqdn(".".join(["a" * 63] * 3 + ["a" * 61]))) == 255  # the longest allowed
    assert _raises(O.fqdn, "\u00e9" * 40 + ".org")  # 40 characters but 80 octets in UTF-8


def test_classless_routes_encode_rfc3442_examples():
    # RFC 3442 destination descriptors: width, then only the significant octets
    gw = ip4("10.0.0.1")
    for text, desc in (("0.0.0.0/0", b"\x00"), ("10.0.0.0/8", b"\x08\x0a"), ("10.0.0.0/24", b"\x18\x0a\x00\x00"),
                       ("10.17.0.0/16", b"\x10\x0a\x11"), ("10.27.129.0/24", b"\x18\x0a\x1b\x81"),
                       ("10.229.0.128/25", b"\x19\x0a\xe5\x00\x80"),
                       ("10.198.122.47/32", b"\x20\x0a\xc6\x7a\x2f")):
        assert O.encode(121, "routes", False, text + " - 10.0.0.1") == desc + gw, text
    two = O.encode(121, "routes", False, "0.0.0.0/0 - 10.0.0.1, 192.168.5.0/24 - 10.0.0.2")
    assert two == b"\x00" + gw + b"\x18\xc0\xa8\x05" + ip4("10.0.0.2")
    for bad in ("10.0.0.0/8", "10.0.0.0 - 10.0.0.1", "10.0.0.0/33 - 10.0.0.1", "10.0.0/8 - 10.0.0.1",
                "10.0.0.0/8 - 10.0.0"):
        assert _raises(O.encode, 121, "routes", False, bad), bad
