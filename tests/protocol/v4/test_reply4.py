# Mirrors firmware/mpdhcp/v4/reply4.py: where a reply goes (RFC 2131 4.1), how long a
# BOOTREPLY is (RFC 951, RFC 1542 2.1), and siaddr/sname/file from the boot keys.
from craft4 import pkt, server, exchange, options
from mpdhcp.v4 import reply4 as R
from mpdhcp.slot import Slot, KIND_UNICAST, KIND_BROADCAST
from mpdhcp.wire.addr import ip4
from mpdhcp.wire import packet4 as P


def test_dest_relay_then_ciaddr_then_broadcast():
    out = Slot()
    R._dest(pkt(3, giaddr="10.20.0.1", ciaddr="10.20.1.5"), P.ACK, out)
    assert (bytes(out.dest[:4]), out.port, out.kind) == (ip4("10.20.0.1"), 67, KIND_UNICAST)
    R._dest(pkt(3, ciaddr="192.168.77.105"), P.ACK, out)
    assert (bytes(out.dest[:4]), out.port, out.kind) == (ip4("192.168.77.105"), 68, KIND_UNICAST)
    R._dest(pkt(3, ciaddr="192.168.77.105"), P.NAK, out)  # a NAK never goes to ciaddr (4.3.2)
    assert (bytes(out.dest[:4]), out.port, out.kind) == (b"\xff" * 4, 68, KIND_BROADCAST)
    R._dest(pkt(1), P.OFFER, out)
    assert out.kind == KIND_BROADCAST


def test_bootreply_length_is_the_request_s_at_least_300():
    assert R._bootp_limit(300, 1500) == 300
    assert R._bootp_limit(240, 1500) == 300
    assert R._bootp_limit(576, 1500) == 576
    assert R._bootp_limit(2000, 1500) == 300  # larger than the buffer: the RFC 951 size


def test_boot_fields_fill_siaddr_sname_and_file():
    b = bytearray(300)
    R._boot_fields(b, (ip4("10.0.0.5"), b"tftp", b"pxelinux.0"))
    assert bytes(b[20:24]) == ip4("10.0.0.5") and bytes(b[44:48]) == b"tftp" and bytes(b[108:118]) == b"pxelinux.0"
    c = bytearray(300)
    R._boot_fields(c, None)
    assert c == bytearray(300)


def test_a_cached_option_block_is_not_served_to_a_different_parameter_list():
    s = server()
    n1, o1 = exchange(s, pkt(1, prl=[1, 3, 6]))
    n2, o2 = exchange(s, pkt(1, b"\x02\x00\x00\x00\x00\x07", prl=[1, 3, 6]))
    n3, o3 = exchange(s, pkt(1, b"\x02\x00\x00\x00\x00\x08", prl=[26, 1]))
    a, b, c = options(o1.buf, n1), options(o2.buf, n2), options(o3.buf, n3)
    assert sorted(a) == sorted(b) and 26 in c and 26 not in a
