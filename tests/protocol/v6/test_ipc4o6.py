# Mirrors firmware/mpdhcp/v6/ipc4o6.py: DHCPv4-over-DHCPv6 across two processes (Kea's IPC),
# both halves built by the service as `micropython -m mpdhcp` builds them, the IPC datagrams
# handed from one to the other by the test.
from craft6 import relay, meta as meta6
from craft4 import pkt
from v6.test_server6_4o6 import Netif, query, server_id, MAC
from mpdhcp import service
from mpdhcp.config import parse_doc
from mpdhcp.wire import packet6 as P
from mpdhcp.wire.addr import ip4
from mpdhcp.slot import Slot

HALF4 = """{"Dhcp4": {"interfaces-config": {"interfaces": ["s0"]}, "dhcp4o6-port": 6767,
  "subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "4o6-interface": "s0",
               "pools": [{"pool": "192.0.2.100 - 192.0.2.109"}]},
              {"id": 2, "subnet": "198.51.100.0/24", "4o6-interface-id": "relay-port-7",
               "pools": [{"pool": "198.51.100.100 - 198.51.100.109"}]}]}}"""
HALF6 = """{"Dhcp6": {"interfaces-config": {"interfaces": ["s0"]}, "dhcp4o6-port": 6767,
  "subnet6": [{"id": 1, "subnet": "2001:db8:1::/64", "interface": "s0"}]}}"""


def halves(v4addr=b"\xc0\x00\x02\x01"):
    """(our DHCPv6 half, our DHCPv4 half, the DHCPv4 half's runner), each from its own config."""
    r6 = service.build(parse_doc(HALF6), Netif(), log=None)
    r4 = service.build(parse_doc(HALF4), Netif(v4addr), log=None)
    return r6.engine("server6"), r4.engine("4o6"), r4


def hop(eng, data, ifindex, now=1000):
    """One datagram into an engine; (reply length, its slot)."""
    m = meta6()
    m.ifindex = ifindex
    rx = bytearray(data)
    out = Slot()
    return eng.handle(rx, len(rx), m, now, out), out


def through(s6, half, data):
    """A client's query through both halves: (answer length, slot) as the client gets it."""
    n, out = hop(s6, data, 0)
    assert n and out.ifindex == s6.ipc_sock and out.port == 6768  # to the DHCPv4 half, P+1
    n, out = hop(half, out.buf[:n], half.sock)
    if not n:
        return 0, out
    assert out.port == 6767 and out.buf[0] in (P.DHCPV4_RESPONSE, P.RELAY_REPL)
    return hop(s6, out.buf[:n], s6.ipc_sock)


def test_the_dhcpv4_half_answers_with_the_address_the_service_learned():
    s6, half, _ = halves()  # its Dhcp4 "s0" writes no address: the adapter's is used
    n, out = through(s6, half, query(pkt(1, MAC)))
    assert n and out.port == 546 and server_id(out, n) == bytes(ip4("192.0.2.1"))
    n, out = through(s6, half, relay(query(pkt(1, MAC)), link="2001:db8:9::1", iid=b"relay-port-7"))
    assert n and out.buf[0] == P.RELAY_REPL and server_id(out, n) == bytes(ip4("192.0.2.1"))


def test_a_dhcpv4_half_without_an_ipv4_address_is_not_started():
    r4 = service.build(parse_doc(HALF4), Netif(bytes(4)), log=None)
    assert r4.engine("4o6") is None and [x for x in r4.notes if "not serving DHCPv4-over-DHCPv6" in x]
    s6, half, _ = halves()
    half.s4.set_addresses(())  # an engine without an address drops rather than answer from 0.0.0.0
    assert through(s6, half, query(pkt(1, MAC)))[0] == 0 and half.stats["dropped_4o6"] == 1
