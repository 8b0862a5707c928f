# netif_lwip without a board: driven with fake lwIP-style sockets (tuples, no SO_BINDTODEVICE)
# under CPython. The boards' main.py files, with netif_lwip under them, run on the faithful
# fake ports in tests/boards/.
import types

import pytest

from mpdhcp.platform import netif_lwip as N
from mpdhcp.slot import Slot, KIND_BROADCAST, KIND_UNICAST


class FakeSock:
    def __init__(self, *a):
        self.opts, self.bound, self.sent, self.queue, self.closed = [], None, [], [], False

    def setsockopt(self, *a):
        self.opts.append(a)

    def bind(self, addr):
        self.bound = addr

    def setblocking(self, f):
        pass

    def recvfrom(self, n):
        if not self.queue:
            raise OSError(11)
        return self.queue.pop(0)

    def sendto(self, data, addr):
        self.sent.append((bytes(data), addr))

    def close(self):
        self.closed = True


class FakePoll:
    def __init__(self):
        self.socks = []

    def register(self, s, ev):
        self.socks.append(s)

    def unregister(self, s):
        self.socks.remove(s)

    def ipoll(self, ms):
        return [(s, 1) for s in self.socks if s.queue]


class FakeNic:
    def __init__(self, ip, mask="255.255.255.0"):
        self.ip, self.mask = ip, mask

    def ifconfig(self):
        return (self.ip, self.mask, self.ip, self.ip)


@pytest.fixture
def lwip(monkeypatch):
    sockmod = types.SimpleNamespace(AF_INET=2, SOCK_DGRAM=2, socket=FakeSock,
                                    getaddrinfo=lambda h, p: [(2, 2, 0, "", (h, p))])
    monkeypatch.setattr(N, "socket", sockmod)
    monkeypatch.setattr(N, "select", types.SimpleNamespace(poll=FakePoll, POLLIN=1))
    return N.NetifLwip({"eth": FakeNic("192.168.5.1"), "ap": FakeNic("192.168.4.1", "255.255.255.128")})


def test_binds_per_interface_address_and_tells_the_interface_by_socket(lwip):
    assert lwip.open_v4_server("eth") == 0 and lwip.open_v4_server("ap") == 1
    s0, s1 = lwip.socks
    assert s0.bound == ("192.168.5.1", 67) and s1.bound == ("192.168.4.1", 67)
    assert (N.SOL_SOCKET, N.SO_BROADCAST, 1) in s0.opts
    assert bytes(lwip.metas[1].ifaddr) == bytes([192, 168, 4, 1]) and lwip.metas[1].ifname == "ap"
    s1.queue.append((b"x" * 300, ("0.0.0.0", 68)))
    ready = [lwip.index_of(s) for s, _ in lwip.wait(0)]
    assert ready == [1]
    assert lwip.recv(1) == 300 and lwip.rx == b"x" * 300 and lwip.recv(1) == -1
    m = lwip.metas[1]
    assert bytes(m.src[:4]) == b"\0\0\0\0" and m.port == 68
    s0.queue.append((b"y", ("192.168.5.123", 68)))
    lwip.recv(0)
    assert bytes(lwip.metas[0].src[:4]) == bytes([192, 168, 5, 123])
    # the last datagram is let go before the next is received: on a heap with one free 1.5 KB
    # run, holding it made every later receive fail (MemoryError) and the board deaf
    held = []
    s0.recvfrom = lambda n: held.append(lwip.rx) or (b"z", ("192.168.5.9", 68))
    assert lwip.recv(0) == 1 and held == [b""]


def test_send_broadcast_goes_to_the_interface_subnet_and_unicast_to_dest(lwip):
    lwip.open_v4_server("eth")
    lwip.open_v4_server("ap")
    out = Slot()
    out.buf[:3] = b"abc"
    out.n, out.kind, out.port, out.ifindex = 3, KIND_BROADCAST, 68, 1
    assert lwip.send(out)
    assert lwip.socks[1].sent == [(b"abc", ("192.168.4.127", 68))]  # /25: directed broadcast
    out.kind, out.ifindex = KIND_UNICAST, 0
    out.dest[:4] = bytes([192, 168, 5, 7])
    out.port = 67
    lwip.send(out)
    assert lwip.socks[0].sent == [(b"abc", ("192.168.5.7", 67))]
    limited = N.NetifLwip({"ap": FakeNic("192.168.4.1")}, limited=True)
    limited.open_v4_server("ap")
    assert limited.bcast == ["255.255.255.255"]


def test_interface_address_from_config_and_errors(lwip):
    i = lwip.open_v4_server("eth", bytes([10, 0, 0, 1]))
    assert lwip.socks[i].bound == ("10.0.0.1", 67)
    with pytest.raises(OSError, match="no network interface 'wan'"):
        lwip.open_v4_server("wan")
    lwip.close()
    assert lwip.socks == []


def test_clock_counts_from_2000_whatever_the_port_epoch():
    import time

    assert abs(N.NetifLwip().now() - (time.time() - 946684800)) < 2


class FakeClientNic(FakeNic):
    def __init__(self):
        FakeNic.__init__(self, "0.0.0.0", "0.0.0.0")
        self.calls = []

    def ifconfig(self, conf=None):
        if conf is None:
            return (self.ip, self.mask, "0.0.0.0", "0.0.0.0")
        self.calls.append(conf)
        self.ip, self.mask = conf[0], conf[1]

    def config(self, key):
        assert key == "mac"
        return b"\x02\x00\x00\x00\x00\x42"


def test_client_side_binds_port_68_and_applies_the_lease_with_ifconfig(lwip):
    nic = FakeClientNic()
    lwip.nics["sta"] = nic
    i = lwip.open_v4_client("sta")
    assert lwip.socks[i].bound == ("0.0.0.0", 68) and lwip.metas[i].ifname == "sta"
    assert lwip.mac("sta") == b"\x02\x00\x00\x00\x00\x42"
    info = {"address": "100.64.0.100", "prefix": 22, "dns": ["100.64.0.53", "9.9.9.9"],
            "routes": [("10.0.0.0", 8, "100.64.0.2"), ("0.0.0.0", 0, "100.64.0.1")]}
    rest = lwip.apply_lease4("sta", info, None, None)
    assert nic.calls[-1] == ("100.64.0.100", "255.255.252.0", "100.64.0.1", "100.64.0.53")
    assert rest == [("10.0.0.0", 8, "100.64.0.2")]  # lwIP has one gateway per nic
    lwip.remove_lease4("sta", info, None)
    assert nic.calls[-1] == ("0.0.0.0",) * 4
    lwip.probe4_start("sta", "100.64.0.100")
    assert lwip.probe4_result() == 2  # unavailable: wan4 applies unprobed and logs it
    s = Slot()
    s.ifindex, s.kind, s.port, s.n = i, KIND_BROADCAST, 67, 300
    assert lwip.send(s) and lwip.socks[i].sent[-1][1] == ("255.255.255.255", 67)
    assert [N.prefix_mask(p) for p in (0, 8, 20, 32)] == ["0.0.0.0", "255.0.0.0", "255.255.240.0", "255.255.255.255"]


class FakeNic6(FakeNic):
    """rp2 (v1.24+): ipconfig('addr6') lists (address, state, preferred, valid)."""

    def __init__(self, ip, addrs):
        FakeNic.__init__(self, ip)
        self.addrs = addrs

    def ipconfig(self, key):
        if key == "addr6":
            return self.addrs
        raise ValueError(key)


def test_dhcpv6_client_binds_the_preferred_link_local_and_speaks_text_tuples(lwip):
    lwip.nics["sta"] = FakeNic6("10.99.0.2", [("fe80::42:1", 0x08, 0, 0), ("fe80::42:2", 0x30, 0, 0),
                                               ("2001:db8::9", 0x30, 0, 0)])
    i = lwip.open_v6_client("sta")
    s = lwip.socks[i]
    assert s.bound == ("fe80::42:2", 546)  # tentative (0x08) skipped; 2-tuple, no scope id
    s.queue.append((b"reply", ("fe80::1", 547)))
    assert lwip.recv(i) == 5 and lwip.rx == b"reply" and bytes(lwip.metas[i].src) == bytes.fromhex("fe80" + "00" * 13 + "01")
    out = Slot()
    out.buf[:3] = b"sol"
    out.n, out.ifindex, out.port = 3, i, 547
    out.dest[:] = bytes.fromhex("ff02" + "00" * 11 + "010002")
    assert lwip.send(out) and s.sent[-1] == (b"sol", ("ff02::1:2", 547))


def test_dhcpv6_refused_with_the_reason_where_the_port_cannot(lwip):
    with pytest.raises(OSError, match="no preferred IPv6 link-local"):
        lwip.open_v6_client("eth")  # esp32-like: ipconfig('addr6') does not exist
    lwip.nics["sta"] = FakeNic6("10.99.0.2", [("fe80::42:2", 0x30, 0, 0)])
    with pytest.raises(OSError, match="multicast join"):
        lwip.open_v6_server("sta")  # rp2's socket module has no IPV6_JOIN_GROUP
    N.socket.IPV6_JOIN_GROUP = 0x402  # the firmware route's modlwip
    N.socket.IPPROTO_IPV6 = 41
    i = lwip.open_v6_server("sta")
    s = lwip.socks[i]
    assert s.bound == ("::", 547)  # ANY: a pcb on the link-local never hears ff02::1:2
    opt = [o for o in s.opts if o[1] == 0x402][0]
    assert bytes(opt[2])[:16] == bytes.fromhex("ff02" + "00" * 11 + "010002")
    lwip.nics["eth"] = FakeNic6("192.168.5.1", [("fe80::42:3", 0x30, 0, 0)])
    with pytest.raises(OSError, match="one DHCPv6 server interface only"):
        lwip.open_v6_server("eth")
