# Server4's BOOTP rules (RFC 951, RFC 1542, RFC 1534 4; ISC dhcpd's dynamic-bootp): a
# BOOTREQUEST (no DHCP message type) gets a BOOTREPLY with an address leased forever, reserved
# clients always, strangers only where dynamic-bootp is on.
from craft4 import CONFIG, pkt, opt, server, meta, exchange, options, yiaddr
from mpdhcp.wire.addr import ip4
from mpdhcp.state.journal import Journal
from mpdhcp.slot import KIND_BROADCAST, KIND_UNICAST
from mpdhcp.state import leases4 as L
from mpdhcp.v4.server4 import FOREVER

PRINTER = b"\x02\x00\x00\x00\x00\x99"  # reserved in CONFIG: 192.168.77.50, hostname printer
STRANGER = b"\x02\x00\x00\x00\x00\x42"
BOOT = CONFIG.replace('"pools": [{"pool": "192.168.77.100 - 192.168.77.109"}],', '''
     "pools": [{"pool": "192.168.77.100 - 192.168.77.109"}],
     "next-server": "192.168.77.5", "boot-file-name": "pxelinux.0",
     "user-context": {"mpdhcp": {"dynamic-bootp": true}},''')


def _bootp(mac, **kw):
    return pkt(None, mac, **kw)  # no option 53: BOOTP, padded to the 300 bytes of RFC 951


def test_a_reserved_client_gets_its_address_forever_and_no_dhcp_options():
    s = server()
    n, out = exchange(s, _bootp(PRINTER, prl=[1, 3, 6, 12]))
    assert n == 300 and out.buf[0] == 2 and yiaddr(out.buf) == "192.168.77.50"
    o = options(out.buf, n)
    for dhcp_only in (51, 53, 54, 58, 59):  # RFC 1534 4: a BOOTP client gets none of these
        assert dhcp_only not in o, dhcp_only
    assert o[1] == b"\xff\xff\xff\x00" and o[3] == ip4("192.168.77.1") and o[12] == b"printer"
    lt = s.leases
    r = lt.find_addr(ip4("192.168.77.50"), 0)
    assert lt.state(r) == L.BOUND and lt.expiry(r) == FOREVER  # infinite (RFC 1534 4)
    assert s.stats["bootp"] == 1 and s.stats["bootp_reply"] == 1
    assert out.kind == KIND_BROADCAST and out.port == 68  # no address yet: broadcast (RFC 1542 5.4)


def test_a_stranger_is_served_only_with_dynamic_bootp():
    s = server()
    assert exchange(s, _bootp(STRANGER))[0] == 0 and s.stats["dropped_bootp"] == 1
    s = server(BOOT)
    n, out = exchange(s, _bootp(STRANGER))
    a = yiaddr(out.buf)
    assert n == 300 and a == "192.168.77.100"
    assert bytes(out.buf[20:24]) == ip4("192.168.77.5") and bytes(out.buf[108:118]) == b"pxelinux.0"
    n, out = exchange(s, _bootp(STRANGER), now=5000)  # asks again: the same address
    assert yiaddr(out.buf) == a and s.leases.expiry(s.leases.find_addr(ip4(a), 0)) == FOREVER


def test_a_bootp_lease_is_journaled_and_survives_a_restart():
    j = Journal(None)
    s = server(BOOT, journal=j)
    n, out = exchange(s, _bootp(STRANGER))
    j.commit()
    before = s.stats["journal_records"]
    exchange(s, _bootp(STRANGER), now=9000)  # the same again: nothing new to journal
    assert s.stats["journal_records"] == before
    s2 = server(BOOT, journal=j)
    s2.restore()
    r = s2.leases.find_addr(out.buf, 16)
    assert r >= 0 and s2.leases.state(r) == L.BOUND and s2.leases.expiry(r) == FOREVER
    n, out2 = exchange(s2, pkt(1, STRANGER))  # a DHCP DISCOVER from it later: the same address
    assert yiaddr(out2.buf) == yiaddr(out.buf)


def test_the_vend_field_is_64_bytes_unless_the_request_was_longer():
    # RFC 951: vend is 64 bytes; RFC 1542 2.1 / ISC dhcpd: a reply as long as the request
    many = [1, 3, 6, 12, 15, 26, 119]
    s = server(CONFIG.replace('{"name": "interface-mtu", "data": "1400"}',
                              '{"name": "interface-mtu", "data": "1400"}, '
                              '{"name": "domain-name", "data": "a-rather-long-domain-name.example.org"}'))
    n, out = exchange(s, _bootp(PRINTER, prl=many))
    assert n == 300 and out.buf[236:240] == b"\x63\x82\x53\x63"
    o = options(out.buf, n)
    assert 1 in o and 15 not in o  # the long domain name did not fit in the 60 bytes after the cookie
    long = _bootp(PRINTER, prl=many) + bytes(276)  # a 576-byte request
    n, out = exchange(s, long)
    assert 300 < n <= len(long) and 15 in options(out.buf, n)


def test_a_request_without_the_rfc_1048_cookie_is_bootp_too():
    s = server()
    b = _bootp(PRINTER, cookie=b"\x00\x00\x00\x00")
    n, out = exchange(s, b)
    assert n == 300 and yiaddr(out.buf) == "192.168.77.50" and out.buf[236:240] == b"\x63\x82\x53\x63"


def test_relayed_bootp_goes_back_to_the_relay():
    s = server(BOOT.replace('"relay": {"ip-addresses": ["172.16.0.1"]}',
                            '"relay": {"ip-addresses": ["172.16.0.1"]}, '
                            '"user-context": {"mpdhcp": {"dynamic-bootp": true}}'))
    n, out = exchange(s, _bootp(STRANGER, giaddr="10.20.0.1"))
    assert n and yiaddr(out.buf).startswith("10.20.1.") and bytes(out.buf[24:28]) == ip4("10.20.0.1")
    assert out.kind == KIND_UNICAST and bytes(out.dest[:4]) == ip4("10.20.0.1") and out.port == 67


def test_a_known_ciaddr_is_kept_and_the_reply_unicast_to_it():
    s = server(BOOT)
    n, out = exchange(s, _bootp(STRANGER, ciaddr="192.168.77.105"))
    assert yiaddr(out.buf) == "192.168.77.105"
    assert out.kind == KIND_UNICAST and bytes(out.dest[:4]) == ip4("192.168.77.105") and out.port == 68


def test_dhcp_replies_carry_next_server_and_boot_file_too():
    s = server(BOOT)
    n, out = exchange(s, pkt(1, STRANGER))
    assert options(out.buf, n)[53] == b"\x02"
    assert bytes(out.buf[20:24]) == ip4("192.168.77.5") and bytes(out.buf[108:118]) == b"pxelinux.0"


def test_bootp_with_the_heap_locked():
    from heaplock import handle_locked
    from mpdhcp.slot import Slot

    s = server(BOOT)
    exchange(s, _bootp(STRANGER))  # warm-up: every path once
    out = Slot()
    for b in (_bootp(STRANGER), _bootp(PRINTER, prl=[1, 3, 12]), _bootp(b"\x02\x00\x00\x00\x00\x43")):
        assert handle_locked(s, b, meta(), 2000, out) == 300


def test_a_reservation_naming_no_address_is_dynamic_bootp():
    # (fuzz finding) a reservation with only a hostname hands out a pool address: that is a
    # dynamic BOOTP lease, served only where dynamic-bootp is on
    cfg = CONFIG.replace('"ip-address": "192.168.77.50",', '')
    s = server(cfg)
    assert exchange(s, _bootp(PRINTER))[0] == 0 and s.stats["dropped_bootp"] == 1
    s = server(cfg.replace('"pools": [{"pool": "192.168.77.100 - 192.168.77.109"}],',
                           '"pools": [{"pool": "192.168.77.100 - 192.168.77.109"}], '
                           '"user-context": {"mpdhcp": {"dynamic-bootp": true}},'))
    n, out = exchange(s, _bootp(PRINTER, prl=[12]))
    assert yiaddr(out.buf) == "192.168.77.100" and options(out.buf, n)[12] == b"printer"


def test_without_dynamic_bootp_a_reserved_client_gets_its_address_or_nothing():
    # (fuzz finding) the reserved address held by the same NIC's DHCP lease (keyed by chaddr)
    # while the BOOTP request carries a client-id: no pool address instead
    s = server()
    n, out = exchange(s, pkt(1, PRINTER))
    exchange(s, pkt(3, PRINTER, ciaddr="192.168.77.50"))
    b = _bootp(PRINTER, opts=(opt(61, b"\x01" + PRINTER),))
    assert exchange(s, b)[0] == 0 and s.stats["dropped_bootp"] == 1
