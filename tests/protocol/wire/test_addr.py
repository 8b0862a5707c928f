# Mirrors firmware/mpdhcp/wire/addr.py and wire/addr6.py: address text <-> bytes (RFC 791
# dotted quads, RFC 4291 2.2 input, RFC 5952 canonical IPv6 output), prefixes, integers.
from mpdhcp.wire.addr import ip4, ip4_str, cidr, mask, to_int, from_int, mac_str, hexstr
from mpdhcp.wire.addr6 import ip6, ip6_str, prefix6, in_prefix, to_int6, from_int6


def _raises(fn, *args):
    try:
        fn(*args)
    except ValueError:
        return True
    return False


def test_ip4_and_ip4_str():
    assert ip4("192.0.2.1") == b"\xc0\x00\x02\x01" and ip4("0.0.0.0") == bytes(4)
    assert ip4("255.255.255.255") == b"\xff" * 4
    assert ip4_str(b"\xc0\x00\x02\x01") == "192.0.2.1"
    assert ip4_str(bytearray(b"\x00\x00\x0a\x00\x00\x01"), 2) == "10.0.0.1"
    for bad in ("", "1.2.3", "1.2.3.4.5", "1.2.3.256", "a.b.c.d", "1.2.3.-1", "1..2.3", " 1.2.3.4",
                "1.2.3.4 ", "1.2.3.0x1", "0001.2.3.4", None, 16909060):
        assert _raises(ip4, bad), bad
    try:
        ip4("10.0.0.300")
    except ValueError as e:
        assert "10.0.0.300" in str(e)  # the message names the text


def test_cidr_and_mask():
    assert cidr("10.0.0.0/24") == (ip4("10.0.0.0"), 24)
    assert cidr("0.0.0.0/0") == (bytes(4), 0) and cidr("10.0.0.7/32") == (ip4("10.0.0.7"), 32)
    assert cidr("10.20.0.0/15") == (ip4("10.20.0.0"), 15)
    for bad in ("10.0.0.0", "10.0.0.1/24", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "10.0.0/8", "10.21.0.0/15"):
        assert _raises(cidr, bad), bad
    assert mask(0) == bytes(4) and mask(32) == b"\xff" * 4
    assert mask(24) == b"\xff\xff\xff\x00" and mask(17) == b"\xff\xff\x80\x00" and mask(1) == b"\x80\x00\x00\x00"


def test_to_int_from_int_mac_str_hexstr():
    assert to_int(ip4("192.0.2.1")) == 0xC0000201 and to_int(ip4("255.255.255.255")) == 0xFFFFFFFF
    assert to_int(b"\x00\x0a\x00\x00\x01", 1) == 0x0A000001
    assert from_int(0xC0000201) == ip4("192.0.2.1") and from_int(0) == bytes(4)
    assert from_int(0xFFFFFFFF) == b"\xff" * 4
    for a in ("10.0.0.1", "172.31.255.254", "128.0.0.0"):
        assert from_int(to_int(ip4(a))) == ip4(a)
    assert mac_str(b"\x02\x00\x00\xab\xcd\xef") == "02:00:00:ab:cd:ef"
    assert mac_str(b"\x00\x00\x02\x00\x00\xab\xcd\xef", 2) == "02:00:00:ab:cd:ef"
    assert mac_str(b"\x01\x02\x03", 0, 3) == "01:02:03"
    assert hexstr(b"\x00\x03\xff") == "00:03:ff" and hexstr(b"") == ""


def test_ip6_parses_rfc4291_forms():
    want = b"\x20\x01\x0d\xb8" + bytes(11) + b"\x01"
    for text in ("2001:db8::1", "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:DB8::1",
                 "2001:db8:0:0:0:0:0:1", "2001:db8::0:1", "2001:db8:0::1"):
        assert ip6(text) == want, text
    assert ip6("::") == bytes(16) and ip6("::1") == bytes(15) + b"\x01"
    assert ip6("1::") == b"\x00\x01" + bytes(14)
    assert ip6("1:2:3:4:5:6:7::") == bytes((0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0))
    assert ip6("::2:3:4:5:6:7:8") == bytes((0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8))
    assert ip6("::ffff:192.0.2.1") == bytes(10) + b"\xff\xff\xc0\x00\x02\x01"  # RFC 4291 2.5.5.2
    assert ip6("64:ff9b::192.0.2.33") == b"\x00\x64\xff\x9b" + bytes(8) + ip4("192.0.2.33")


def test_ip6_bad_text_raises():
    for bad in ("", ":", ":::", "1::2::3", "12345::", "g::", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9",
                "::1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8::", ":1::", "1::2:", "::1.2.3", "::1.2.3.256",
                "2001:db8::1/64", None, 1):
        assert _raises(ip6, bad), bad
    try:
        ip6("2001:db8::x")
    except ValueError as e:
        assert "2001:db8::x" in str(e)  # the message names the text


def test_ip6_groups_are_one_to_four_hex_digits():
    # RFC 4291 2.2: each x is one to four hexadecimal digits, and nothing else
    for bad in ("0x1::", "+1::", "-0::", " 1::", "1_0::", "::1 ", "1::\t2"):
        assert _raises(ip6, bad), bad


def test_ip6_str_is_rfc5952_canonical():
    cases = (
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),  # 4.1 no leading zeros, 4.2.1 shortest
        ("2001:DB8:0:0:0:0:0:ABCD", "2001:db8::abcd"),  # 4.3 lower case
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),  # 4.2.2 no "::" for one 0 group
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),  # 4.2.3 the longest run
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),  # 4.2.3 equal runs: the first
        ("0:0:0:0:0:0:0:0", "::"), ("0:0:0:0:0:0:0:1", "::1"), ("1:0:0:0:0:0:0:0", "1::"),
        ("fe80:0:0:0:0:0:0:0", "fe80::"), ("0:1:0:1:0:1:0:1", "0:1:0:1:0:1:0:1"),
        ("1:0:0:2:0:0:0:3", "1:0:0:2::3"), ("0:0:1:0:0:0:0:0", "0:0:1::"),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
        ("2001:db8:0:0:0:0:2:1", "2001:db8::2:1"), ("1:2:3:4:5:6:0:0", "1:2:3:4:5:6::"),
    )
    for text, want in cases:
        assert ip6_str(ip6(text)) == want, (text, ip6_str(ip6(text)))
    b = bytearray(20)
    b[2:18] = ip6("2001:db8::53")
    assert ip6_str(b, 2) == "2001:db8::53"


def test_prefix6():
    assert prefix6("2001:db8::/32") == (ip6("2001:db8::"), 32)
    assert prefix6("::/0") == (bytes(16), 0) and prefix6("2001:db8::1/128") == (ip6("2001:db8::1"), 128)
    assert prefix6("2001:db8:8000::/33") == (ip6("2001:db8:8000::"), 33)
    for bad in ("2001:db8::", "2001:db8::1/64", "2001:db8::/129", "2001:db8::/", "2001:db8::/x",
                "2001:db8:c000::/33", "zz::/64", None):
        assert _raises(prefix6, bad), bad


def test_in_prefix():
    net = ip6("2001:db8:1::")
    assert in_prefix(ip6("2001:db8:1::1"), net, 48) and in_prefix(ip6("2001:db8:1:ffff::"), net, 48)
    assert not in_prefix(ip6("2001:db8:2::1"), net, 48)
    assert in_prefix(ip6("ffff::"), net, 0)  # every address is inside /0
    assert in_prefix(ip6("2001:db8:1:7f::"), net, 57) and not in_prefix(ip6("2001:db8:1:80::"), net, 57)
    assert in_prefix(net, net, 128) and not in_prefix(ip6("2001:db8:1::1"), net, 128)
    assert in_prefix(ip6("2001:db8:1::"), None, 48, True)  # host_zero: the host part is zero
    assert not in_prefix(ip6("2001:db8:1::1"), None, 48, True)
    assert in_prefix(ip6("2001:db8:1:80::"), None, 57, True) and not in_prefix(ip6("2001:db8:1:40::"), None, 57, True)


def test_to_int6_from_int6():
    assert to_int6(bytes(16)) == 0 and to_int6(ip6("::1")) == 1
    assert to_int6(ip6("::1:0")) == 0x10000 and to_int6(ip6("1::")) == 1 << 112
    assert to_int6(b"\xff" * 16) == (1 << 128) - 1
    assert from_int6(0) == bytes(16) and from_int6(1) == ip6("::1") and from_int6((1 << 128) - 1) == b"\xff" * 16
    for a in ("2001:db8::1", "fe80::ff:fe00:1", "2001:db8:8000::", "::ffff:192.0.2.1"):
        assert from_int6(to_int6(ip6(a))) == ip6(a)
        assert from_int6(to_int6(ip6(a)) + 1) == ip6(ip6_str(from_int6(to_int6(ip6(a)) + 1)))
    assert from_int6(to_int6(ip6("2001:db8::ffff")) + 1) == ip6("2001:db8::1:0")
