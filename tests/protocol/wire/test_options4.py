# Mirrors firmware/mpdhcp/wire/options4.py: encode() of each Kea option type (RFC 2132, RFC 3397
# with RFC 1035 3.1 names, RFC 3442 routes), unhex, and the decoders a client keeps an ACK with.
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


# -- decoding (the client's side) ---------------------------------------------------------------

def test_decode_classless_rfc3442_examples():
    gw = ip4("10.0.0.1")
    for desc, dest, width in ((b"\x00", "0.0.0.0", 0), (b"\x08\x0a", "10.0.0.0", 8),
                              (b"\x18\x0a\x00\x00", "10.0.0.0", 24), (b"\x10\x0a\x11", "10.17.0.0", 16),
                              (b"\x18\x0a\x1b\x81", "10.27.129.0", 24),
                              (b"\x19\x0a\xe5\x00\x80", "10.229.0.128", 25),
                              (b"\x20\x0a\xc6\x7a\x2f", "10.198.122.47", 32)):
        b = desc + gw
        assert O.decode_classless(b, len(b)) == [(dest, width, "10.0.0.1")], (dest, width)
    b = b"\x00" + gw + b"\x18\xc0\xa8\x05\x00\x00\x00\x00"  # default route, then an on-link /24
    assert O.decode_classless(b, len(b)) == [("0.0.0.0", 0, "10.0.0.1"), ("192.168.5.0", 24, "0.0.0.0")]
    enc = O.encode(121, "routes", False, "10.229.0.128/25 - 10.0.0.9, 0.0.0.0/0 - 10.0.0.1")
    assert O.decode_classless(enc, len(enc)) == [("10.229.0.128", 25, "10.0.0.9"), ("0.0.0.0", 0, "10.0.0.1")]


def test_decode_classless_malformed_is_none():
    gw = ip4("10.0.0.1")
    for b in (b"\x21\x0a\x00\x00\x00\x00" + gw,  # width 33
              b"\x00\x0a\x00\x00",  # router cut short
              b"\x18\x0a\x00",  # destination cut short
              b"\x00" + gw + b"\x08"):  # a second route cut short
        assert O.decode_classless(b, len(b)) is None, b
    b = b"\x00" + gw + b"\xff\xff"  # n bounds the walk: what lies past it is not read
    assert O.decode_classless(b, 5) == [("0.0.0.0", 0, "10.0.0.1")]
    assert O.decode_classless(b"", 0) == []


def test_decode_search_plain_and_with_pointers():
    b = b"\x03lan\x00\x07example\x03org\x00"
    assert O.decode_search(b, len(b)) == ["lan", "example.org"]
    # RFC 3397 section 4's example: "eng.apple.com." then "marketing" + pointer to offset 4
    b = b"\x03eng\x05apple\x03com\x00\x09marketing\xc0\x04"
    assert len(b) == 27
    assert O.decode_search(b, len(b)) == ["eng.apple.com", "marketing.apple.com"]
    b = b"\x03com\x00\x07example\xc0\x00\x03www\xc0\x05"  # a pointer to a name that points on
    assert O.decode_search(b, len(b)) == ["com", "example.com", "www.example.com"]
    assert O.decode_search(b"", 0) == []


def test_decode_search_malformed_tail_is_dropped():
    for b in (b"\x03lan\x00\x03fo", b"\x03lan\x00\x03foo", b"\x03lan\x00\xc0"):
        assert O.decode_search(b, len(b)) == ["lan"], b
    b = b"\x03lan\x00\x03org\x00"
    assert O.decode_search(b, 5) == ["lan"]


def test_decode_search_pointer_loop_terminates():
    for b in (b"\xc0\x00", b"\x03foo\xc0\x00", b"\x03lan\x00\x03foo\xc0\x05", b"\xc0\x02\xc0\x00",
              b"\x3f" + b"a" * 63 + b"\xc0\x00"):
        got = O.decode_search(b, len(b))
        assert isinstance(got, list)


def test_decode_search_pointer_loop_yields_no_name():
    # RFC 1035 3.1: a name ends with the zero-length root label (and is at most 255 octets),
    # so a pointer loop, which never reaches one, is not a name
    b = b"\x03lan\x00\x03foo\xc0\x05"
    assert O.decode_search(b, len(b)) == ["lan"]
    b = b"\xc0\x00"
    assert O.decode_search(b, len(b)) == []
    b = b"\x3f" + b"a" * 63 + b"\xc0\x00"
    assert O.decode_search(b, len(b)) == []


def test_decode_search_reserved_label_types_and_overruns_are_malformed():
    # RFC 1035 4.1.4: lengths with top bits 01 or 10 are not labels (labels are 0..63 octets)
    b = b"\x03lan\x00\x41" + b"a" * 65 + b"\x00"
    assert O.decode_search(b, len(b)) == ["lan"]
    b = b"\x80" + b"a" * 128 + b"\x00"
    assert O.decode_search(b, len(b)) == []
    # a label running past the option's end (n) after a pointer: nothing past n is read
    b = b"\xc0\x02\x05abcdefg\x00"
    assert O.decode_search(b, 5) == []


def test_decode_search_non_utf8_label_does_not_raise():
    # labels are octets (RFC 1035 3.1): a server's stray byte must not crash the client
    b = b"\x03lan\x00\x02\xff\xfe\x00\x03org\x00"
    got = O.decode_search(b, len(b))
    assert "lan" in got and "org" in got


def test_prefix_len_of_masks():
    for mask, n in (("255.255.255.0", 24), ("255.255.255.255", 32), ("0.0.0.0", 0), ("255.0.0.0", 8),
                    ("255.255.128.0", 17), ("255.255.255.252", 30), ("128.0.0.0", 1), ("255.255.255.254", 31)):
        assert O.prefix_len(ip4(mask), 0) == n, mask
    b = b"\x00\x00" + ip4("255.255.240.0")
    assert O.prefix_len(b, 2) == 20
    assert O.prefix_len(ip4("255.0.255.0"), 0) == 8  # non-contiguous: the leading ones


def test_classful_len():
    # RFC 791 classes A (0-127), B (128-191), C (192-223)
    for a, n in (("10.1.2.3", 8), ("127.0.0.1", 8), ("128.0.0.1", 16), ("172.16.0.1", 16),
                 ("191.255.0.1", 16), ("192.0.2.1", 24), ("223.1.1.1", 24)):
        assert O.classful_len(ip4(a), 0) == n, a
    assert O.classful_len(b"\x00" + ip4("172.16.0.1"), 1) == 16


def test_text_and_addrs():
    assert O.text(b"lan", 3) == "lan" and O.text(b"lanxyz", 3) == "lan" and O.text(b"", 0) == ""
    assert O.text(bytearray(b"ex\xc3\xa9"), 4) == "ex\u00e9"
    assert O.text(b"\xff\xfe", 2) == "" and O.text(b"ok\xc3", 3) == ""  # not UTF-8
    b = ip4("10.0.0.1") + ip4("9.9.9.9") + b"\x01\x02\x03"
    assert O.addrs(b, 8) == ["10.0.0.1", "9.9.9.9"]
    assert O.addrs(b, 11) == ["10.0.0.1", "9.9.9.9"]  # a trailing partial address is dropped
    assert O.addrs(b, 3) == [] and O.addrs(bytearray(64), 0) == []
