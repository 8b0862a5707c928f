# Mirrors firmware/mpdhcp/wire/decode4.py: what a DHCPv4 client keeps from an ACK, decoded
# (netmask, classful length, text, addresses, RFC 3442 routes, RFC 3397 search names).
from mpdhcp.wire import decode4 as D
from mpdhcp.wire import options4 as O
from mpdhcp.wire.addr import ip4


def test_decode_classless_rfc3442_examples():
    gw = ip4("10.0.0.1")
    for desc, dest, width in ((b"\x00", "0.0.0.0", 0), (b"\x08\x0a", "10.0.0.0", 8),
                              (b"\x18\x0a\x00\x00", "10.0.0.0", 24), (b"\x10\x0a\x11", "10.17.0.0", 16),
                              (b"\x18\x0a\x1b\x81", "10.27.129.0", 24),
                              (b"\x19\x0a\xe5\x00\x80", "10.229.0.128", 25),
                              (b"\x20\x0a\xc6\x7a\x2f", "10.198.122.47", 32)):
        b = desc + gw
        assert D.decode_classless(b, len(b)) == [(dest, width, "10.0.0.1")], (dest, width)
    b = b"\x00" + gw + b"\x18\xc0\xa8\x05\x00\x00\x00\x00"  # default route, then an on-link /24
    assert D.decode_classless(b, len(b)) == [("0.0.0.0", 0, "10.0.0.1"), ("192.168.5.0", 24, "0.0.0.0")]
    enc = O.encode(121, "routes", False, "10.229.0.128/25 - 10.0.0.9, 0.0.0.0/0 - 10.0.0.1")
    assert D.decode_classless(enc, len(enc)) == [("10.229.0.128", 25, "10.0.0.9"), ("0.0.0.0", 0, "10.0.0.1")]


def test_decode_classless_malformed_is_none():
    gw = ip4("10.0.0.1")
    for b in (b"\x21\x0a\x00\x00\x00\x00" + gw,  # width 33
              b"\x00\x0a\x00\x00",  # router cut short
              b"\x18\x0a\x00",  # destination cut short
              b"\x00" + gw + b"\x08"):  # a second route cut short
        assert D.decode_classless(b, len(b)) is None, b
    b = b"\x00" + gw + b"\xff\xff"  # n bounds the walk: what lies past it is not read
    assert D.decode_classless(b, 5) == [("0.0.0.0", 0, "10.0.0.1")]
    assert D.decode_classless(b"", 0) == []


def test_decode_search_plain_and_with_pointers():
    b = b"\x03lan\x00\x07example\x03org\x00"
    assert D.decode_search(b, len(b)) == ["lan", "example.org"]
    # RFC 3397 section 4's example: "eng.apple.com." then "marketing" + pointer to offset 4
    b = b"\x03eng\x05apple\x03com\x00\x09marketing\xc0\x04"
    assert len(b) == 27
    assert D.decode_search(b, len(b)) == ["eng.apple.com", "marketing.apple.com"]
    b = b"\x03com\x00\x07example\xc0\x00\x03www\xc0\x05"  # a pointer to a name that points on
    assert D.decode_search(b, len(b)) == ["com", "example.com", "www.example.com"]
    assert D.decode_search(b"", 0) == []


def test_decode_search_malformed_tail_is_dropped():
    for b in (b"\x03lan\x00\x03fo", b"\x03lan\x00\x03foo", b"\x03lan\x00\xc0"):
        assert D.decode_search(b, len(b)) == ["lan"], b
    b = b"\x03lan\x00\x03org\x00"
    assert D.decode_search(b, 5) == ["lan"]


def test_decode_search_pointer_loop_terminates():
    for b in (b"\xc0\x00", b"\x03foo\xc0\x00", b"\x03lan\x00\x03foo\xc0\x05", b"\xc0\x02\xc0\x00",
              b"\x3f" + b"a" * 63 + b"\xc0\x00"):
        got = D.decode_search(b, len(b))
        assert isinstance(got, list)


def test_decode_search_pointer_loop_yields_no_name():
    # RFC 1035 3.1: a name ends with the zero-length root label (and is at most 255 octets),
    # so a pointer loop, which never reaches one, is not a name
    b = b"\x03lan\x00\x03foo\xc0\x05"
    assert D.decode_search(b, len(b)) == ["lan"]
    b = b"\xc0\x00"
    assert D.decode_search(b, len(b)) == []
    b = b"\x3f" + b"a" * 63 + b"\xc0\x00"
    assert D.decode_search(b, len(b)) == []


def test_decode_search_reserved_label_types_and_overruns_are_malformed():
    # RFC 1035 4.1.4: lengths with top bits 01 or 10 are not labels (labels are 0..63 octets)
    b = b"\x03lan\x00\x41" + b"a" * 65 + b"\x00"
    assert D.decode_search(b, len(b)) == ["lan"]
    b = b"\x80" + b"a" * 128 + b"\x00"
    assert D.decode_search(b, len(b)) == []
    # a label running past the option's end (n) after a pointer: nothing past n is read
    b = b"\xc0\x02\x05abcdefg\x00"
    assert D.decode_search(b, 5) == []


def test_decode_search_non_utf8_label_does_not_raise():
    # labels are octets (RFC 1035 3.1): a server's stray byte must not crash the client
    b = b"\x03lan\x00\x02\xff\xfe\x00\x03org\x00"
    got = D.decode_search(b, len(b))
    assert "lan" in got and "org" in got


def test_prefix_len_of_masks():
    for mask, n in (("255.255.255.0", 24), ("255.255.255.255", 32), ("0.0.0.0", 0), ("255.0.0.0", 8),
                    ("255.255.128.0", 17), ("255.255.255.252", 30), ("128.0.0.0", 1), ("255.255.255.254", 31)):
        assert D.prefix_len(ip4(mask), 0) == n, mask
    b = b"\x00\x00" + ip4("255.255.240.0")
    assert D.prefix_len(b, 2) == 20
    assert D.prefix_len(ip4("255.0.255.0"), 0) == 8  # non-contiguous: the leading ones


def test_classful_len():
    # RFC 791 classes A (0-127), B (128-191), C (192-223)
    for a, n in (("10.1.2.3", 8), ("127.0.0.1", 8), ("128.0.0.1", 16), ("172.16.0.1", 16),
                 ("191.255.0.1", 16), ("192.0.2.1", 24), ("223.1.1.1", 24)):
        assert D.classful_len(ip4(a), 0) == n, a
    assert D.classful_len(b"\x00" + ip4("172.16.0.1"), 1) == 16


def test_text_and_addrs():
    assert D.text(b"lan", 3) == "lan" and D.text(b"lanxyz", 3) == "lan" and D.text(b"", 0) == ""
    assert D.text(bytearray(b"ex\xc3\xa9"), 4) == "ex\u00e9"
    assert D.text(b"\xff\xfe", 2) == "" and D.text(b"ok\xc3", 3) == ""  # not UTF-8
    b = ip4("10.0.0.1") + ip4("9.9.9.9") + b"\x01\x02\x03"
    assert D.addrs(b, 8) == ["10.0.0.1", "9.9.9.9"]
    assert D.addrs(b, 11) == ["10.0.0.1", "9.9.9.9"]  # a trailing partial address is dropped
    assert D.addrs(b, 3) == [] and D.addrs(bytearray(64), 0) == []
