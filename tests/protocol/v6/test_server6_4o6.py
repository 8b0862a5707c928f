# Mirrors the DHCPv4-over-DHCPv6 path of firmware/mpdhcp/v6/server6.py (RFC 7341) and the
# 4o6 subnet selection of v4/server4.py: crafted DHCPV4-QUERYs, direct and relayed, to a
# Server6 whose DHCPv4 engine is a Server4 in the same process (a direct call).
import micropython
from craft6 import opt, decode, relay, meta as meta6
from craft4 import pkt, opt as opt4, options as options4
from mpdhcp.config.parser import parse_doc
from mpdhcp.v4.server4 import Server4
from mpdhcp.v6.server6 import Server6
from mpdhcp.state.journal import Journal
from mpdhcp.wire import packet6 as P
from mpdhcp.wire.addr import ip4
from mpdhcp.slot import Meta, Slot

CONFIG = """{
 "Dhcp4": {"interfaces-config": {"interfaces": ["s0/192.0.2.1"]}, "valid-lifetime": 600,
  "subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "4o6-interface": "s0",
               "pools": [{"pool": "192.0.2.100 - 192.0.2.109"}]},
              {"id": 2, "subnet": "198.51.100.0/24", "4o6-interface-id": "relay-port-7",
               "pools": [{"pool": "198.51.100.100 - 198.51.100.109"}]},
              {"id": 3, "subnet": "203.0.113.0/24", "4o6-subnet": "2001:db8:3::/64",
               "pools": [{"pool": "203.0.113.100 - 203.0.113.109"}]}]},
 "Dhcp6": {"interfaces-config": {"interfaces": ["s0"]},
  "option-data": [{"name": "dhcp4o6-server-addr", "data": "2001:db8:1::1"}],
  "subnet6": [{"id": 1, "subnet": "2001:db8:1::/64", "interface": "s0",
               "pools": [{"pool": "2001:db8:1::100 - 2001:db8:1::1ff"}]}]}}"""
MAC = b"\x02\x00\x00\x00\x04\x06"


def pair(config=CONFIG):
    doc = parse_doc(config)
    s4 = Server4(doc.get("Dhcp4"), Journal(None), 16)
    s6 = Server6(doc.get("Dhcp6"), Journal(None), 16, b"\x00\x03\x00\x01" + MAC, bytes(16))
    s6.enable_4o6(s4)
    return s4, s6


def query(inner, flags=0, extra=()):
    return bytes([P.DHCPV4_QUERY, flags, 0, 0]) + opt(87, inner) + b"".join(extra)


def ask(s6, data, m=None, now=1000):
    out = Slot()
    rx = bytearray(data)
    n = s6.handle(rx, len(rx), m or meta6(), now, out)
    return n, out


def inner_of(out, n):
    """(DHCPV4-RESPONSE header bytes, the DHCPv4 reply's options) of a direct answer."""
    b = bytes(out.buf[:n])
    assert b[0] == P.DHCPV4_RESPONSE
    t, xid, o, _ = decode(b, n)
    v4 = o[87][0]
    return b[:4], options4(bytearray(v4), len(v4)), v4


def test_a_query_carrying_a_discover_is_answered_with_an_offer_in_a_response():
    s4, s6 = pair()
    n, out = ask(s6, query(pkt(1, MAC)))
    head, o4, v4 = inner_of(out, n)
    assert head == bytes([21, 0, 0, 0])  # DHCPV4-RESPONSE, flags 0 (RFC 7341 6)
    assert o4[53] == b"\x02" and o4[54] == bytes(ip4("192.0.2.1")) and v4[16:20] == bytes(ip4("192.0.2.100"))
    assert out.port == 546 and s6.stats["dhcpv4_response"] == 1 and s4.stats["offer"] == 1
    req = pkt(3, MAC, opts=(opt4(50, ip4("192.0.2.100")), opt4(54, ip4("192.0.2.1"))))
    n, out = ask(s6, query(req))
    head, o4, v4 = inner_of(out, n)
    assert o4[53] == b"\x05" and s4.leases.held() == 1  # ACK: an ordinary, journaled lease
    ren = pkt(3, MAC, ciaddr="192.0.2.100")
    n, out = ask(s6, query(ren, flags=0x80))  # RENEWING: the unicast flag set (RFC 7341 5.2)
    assert inner_of(out, n)[1][53] == b"\x05"


def test_subnets_by_source_interface_id_or_interface_as_kea_selects_them():
    s4, s6 = pair()
    inner = query(pkt(1, MAC))
    s1 = meta6(ifname="s1")  # not s0: subnet 1's 4o6-interface would match first
    n, out = ask(s6, relay(inner, link="2001:db8:9::1", iid=b"relay-port-7"), s1)
    b = bytes(out.buf[:n])
    assert b[0] == P.RELAY_REPL and b"relay-port-7" in b  # back through the relay, its iid echoed
    i = b.find(bytes([P.DHCPV4_RESPONSE, 0, 0, 0]))
    assert i > 0 and bytes(ip4("198.51.100.100")) in b[i:]  # 4o6-interface-id
    n, out = ask(s6, relay(relay(inner, iid=b"relay-port-7"), link="2001:db8:9::1", iid=b"outer", hops=1), s1)
    assert bytes(ip4("198.51.100.100")) in bytes(out.buf[:n])  # the innermost relay's (Kea: RELAY_GET_FIRST)
    n, out = ask(s6, relay(inner, link="2001:db8:9::1", peer="fe80::55"), meta6(ifname="s1", src="2001:db8:3::9"))
    assert bytes(ip4("203.0.113.100")) in bytes(out.buf[:n])  # 4o6-subnet: the relay's own source address
    assert ask(s6, relay(inner, link="2001:db8:9::1", peer="2001:db8:3::55"), s1)[0] == 0  # not the peer-address
    assert s4.stats["dropped_no_subnet"] == 1
    n, out = ask(s6, relay(relay(inner, peer="2001:db8:7::9"), link="2001:db8:9::1", peer="fe80::1", hops=1))
    b = bytes(out.buf[:n])
    assert b[0] == P.RELAY_REPL and b[34 + 4] == P.RELAY_REPL  # nested: two Relay-replies
    assert bytes(ip4("192.0.2.100")) in b  # came in on s0: 4o6-interface
    s4.subnets[0].o6_interface = None
    assert ask(s6, relay(inner, peer="2001:db8:7::9"))[0] == 0 and s4.stats["dropped_no_subnet"] == 2


BY_IFACE = """{"id": 1, "subnet": "10.1.0.0/24", "4o6-interface": "s0",
               "pools": [{"pool": "10.1.0.100 - 10.1.0.109"}]}"""
BY_SOURCE_OR_IID = """{"id": 2, "subnet": "10.2.0.0/24", "4o6-subnet": "2001:db8:3::/64",
               "4o6-interface-id": "relay-port-7", "pools": [{"pool": "10.2.0.100 - 10.2.0.109"}]}"""
OVERLAP = """{"Dhcp4": {"interfaces-config": {"interfaces": ["s0/192.0.2.1"]}, "subnet4": [%s, %s]},
 "Dhcp6": {"interfaces-config": {"interfaces": ["s0"]},
  "subnet6": [{"id": 1, "subnet": "2001:db8:1::/64", "interface": "s0"}]}}"""


def test_when_keys_of_two_subnets_match_the_first_subnet_in_config_order_wins():
    """Kea's selectSubnet4o6 tries each subnet's three keys before the next subnet: a query
    that came in on s0, from 2001:db8:3::9, with Interface-Id relay-port-7 matches both."""
    q = relay(query(pkt(1, MAC)), link="2001:db8:9::1", iid=b"relay-port-7")
    m = meta6(src="2001:db8:3::9")
    n, out = ask(pair(OVERLAP % (BY_IFACE, BY_SOURCE_OR_IID))[1], q, m)
    assert bytes(ip4("10.1.0.100")) in bytes(out.buf[:n])  # subnet 1 by 4o6-interface
    n, out = ask(pair(OVERLAP % (BY_SOURCE_OR_IID, BY_IFACE))[1], q, m)
    assert bytes(ip4("10.2.0.100")) in bytes(out.buf[:n])  # subnet 2, now first, by 4o6-subnet


def test_not_exactly_one_dhcpv4_message_option_or_a_bad_inner_is_dropped_and_counted():
    s4, s6 = pair()
    assert ask(s6, bytes([P.DHCPV4_QUERY, 0, 0, 0]))[0] == 0
    two = query(pkt(1, MAC), extra=(opt(87, pkt(1, MAC)),))
    assert ask(s6, two)[0] == 0 and s6.stats["dropped_4o6"] == 2
    assert ask(s6, query(b"\x01\x02"))[0] == 0 and s4.stats["dropped_malformed"] == 1
    alone = Server6(parse_doc(CONFIG).get("Dhcp6"), Journal(None), 16, b"\x00\x03\x00\x01" + MAC, bytes(16))
    assert ask(alone, query(pkt(1, MAC)))[0] == 0 and alone.stats["dropped_4o6"] == 1  # no Dhcp4


def test_option_88_is_served_to_a_client_that_asks():
    s4, s6 = pair()
    ir = bytes([11, 1, 2, 3]) + opt(1, b"\x00\x03\x00\x01" + MAC) + opt(6, b"\x00\x58")
    n, out = ask(s6, ir)
    t, xid, o, _ = decode(out.buf, n)
    assert t == P.REPLY and o[88] == [bytes.fromhex("20010db8000100000000000000000001")]


class Netif:
    """What service.build asks of an adapter, no sockets: every DHCPv4 socket "learns" the
    address v4addr for its interface, as netif_unix does through `ip` when the config writes
    none (the make demo's "br0")."""

    def __init__(self, v4addr=b"\xc0\x00\x02\x01"):
        self.metas = []
        self.v4addr = v4addr

    def _sock(self, name):
        m = Meta()
        m.ifindex = len(self.metas)
        m.ifname = name
        self.metas.append(m)
        return m

    def open_v4_server(self, name, ifaddr=None):
        m = self._sock(name)
        m.ifaddr[:] = ifaddr if ifaddr else self.v4addr
        return m.ifindex

    def open_v6_server(self, name, ifaddr=None):
        return self._sock(name).ifindex

    def open_ipc6(self, port):
        return self._sock("ipc").ifindex

    def mac(self, name):
        return MAC

    def now(self):
        return 1000

    def random_bytes(self, n):
        return bytes(n)


def server_id(out, n):
    """Option 54 of the DHCPv4 message inside a DHCPV4-RESPONSE (relayed or not)."""
    t, xid, o, _ = decode(out.buf, n)
    v4 = o[87][0]
    return options4(bytearray(v4), len(v4)).get(54)


NO_ADDR = CONFIG.replace('"s0/192.0.2.1"', '"s0"')


def test_the_server_id_is_the_address_the_service_learned_never_zero():
    from mpdhcp import service  # (here: the modules importing `pair` need not load it)

    r = service.build(parse_doc(NO_ADDR), Netif(), log=None)  # Dhcp4 "s0": no address written
    s6 = r.engine("server6")
    n, out = ask(s6, query(pkt(1, MAC)))
    assert server_id(out, n) == bytes(ip4("192.0.2.1"))  # s0's, as the adapter read it
    m = meta6()
    m.ifname = "s9"  # a DHCPv6 interface Dhcp4 does not serve: the server's first address
    n, out = ask(s6, relay(query(pkt(1, MAC)), link="2001:db8:9::1", iid=b"relay-port-7"), m)
    assert server_id(out, n) == bytes(ip4("192.0.2.1"))


def test_no_ipv4_address_known_means_no_4o6_and_a_line_saying_why():
    from mpdhcp import service

    r = service.build(parse_doc(NO_ADDR), Netif(bytes(4)), log=None)
    s6 = r.engine("server6")
    assert s6.buf4 is None and [x for x in r.notes if "not serving DHCPv4-over-DHCPv6" in x]
    assert ask(s6, query(pkt(1, MAC)))[0] == 0 and s6.stats["dropped_4o6"] == 1
    s4, s6 = pair()
    s4.set_addresses([("s0", bytes(4))])  # an engine without an address never answers with 0.0.0.0
    assert ask(s6, query(pkt(1, MAC)))[0] == 0 and s6.stats["dropped_4o6"] == 1


def test_the_4o6_path_allocates_nothing():
    s4, s6 = pair()
    q = bytearray(query(pkt(1, MAC)))
    m = meta6()
    out = Slot()
    s6.handle(q, len(q), m, 1000, out)  # warm-up
    oom = False
    n = 0
    ln = len(q)
    micropython.heap_lock()
    try:
        n = s6.handle(q, ln, m, 1001, out)
    except MemoryError:
        oom = True
    finally:
        micropython.heap_unlock()
    assert not oom and n > 0
