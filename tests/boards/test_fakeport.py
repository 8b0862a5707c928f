# The fake ports themselves (tests/boards/fakeport.py): each rule read in the port's source
# is enforced, so a board test fails where the real board would. CPython, no packets.
import pytest

import fakeport as F


def _port(name, links=None, firmware="stock"):
    p = F.Port(name, links or {}, firmware)
    return p, F._network(p), F._socket(p)


def _ap(net, server=True):
    ap = net.WLAN(net.AP_IF)
    if not server:
        ap.config(dhcp_server=False)  # the firmware route's key
    ap.active(True)
    return ap


def test_rp2_the_aps_own_server_holds_port_67_on_every_interface():
    p, net, so = _port("rp2")
    _ap(net)
    assert ("ap_dhcp", "serving") in p.log
    for host in ("192.168.4.1", "0.0.0.0", "192.168.5.1"):  # any address: the server has ANY:67
        s = so.socket(so.AF_INET, so.SOCK_DGRAM)
        s.setsockopt(so.SOL_SOCKET, so.SO_REUSEADDR, 1)  # ours only: the server's pcb has none
        with pytest.raises(OSError) as e:
            s.bind((host, 67))
        assert e.value.args[0] == 98  # MicroPython's own EADDRINUSE on rp2
        s.close()


def test_rp2_port_67_bound_before_the_ap_comes_up_leaves_its_server_deaf():
    p, net, so = _port("rp2")
    s = so.socket(so.AF_INET, so.SOCK_DGRAM)
    s.setsockopt(so.SOL_SOCKET, so.SO_REUSEADDR, 1)
    s.bind(("192.168.4.1", 67))
    _ap(net)
    assert ("ap_dhcp", "bind failed: port 67 taken") in p.log
    ap = [n for n in p.nics if n.kind == "ap"][0]
    got = p.deliver(ap, 67, 0xFFFFFFFF, True, 0, 68, b"discover")
    assert got is s and s.queue  # the broadcast reaches us, not the firmware's server


def test_rp2_the_firmware_routes_dhcp_server_key_and_stock_firmware_without_it():
    p, net, so = _port("rp2", firmware="mpdhcp")
    ap = net.WLAN(net.AP_IF)
    ap.config(dhcp_server=False)
    ap.active(True)
    assert not p.log
    so.socket().bind(("192.168.4.1", 67))
    p, net, so = _port("rp2")
    with pytest.raises(ValueError):  # network_cyw43.c: "unknown config param"
        net.WLAN(net.AP_IF).config(dhcp_server=False)


def test_rp2_empty_bind_is_ipv6_only_and_never_hears_ipv4():
    p, net, so = _port("rp2", firmware="mpdhcp")
    ap = _ap(net, server=False)
    s = so.socket()
    s.bind(("", 67))
    assert s.v6
    nic = p.nics[0]
    assert p.deliver(nic, 67, 0xFFFFFFFF, True, 0, 68, b"x") is None
    with pytest.raises(OSError):
        s.sendto(b"x", ("192.168.4.255", 68))
    assert ap.ifconfig()[0] == "192.168.4.1"


def test_rp2_five_udp_pcbs_shared_with_the_firmware():
    p, net, so = _port("rp2")
    sta = net.WLAN(net.STA_IF)
    sta.active(True)  # its DHCP client and the mDNS responder take two
    _ap(net)  # the AP's DHCP server a third
    socks = [so.socket(), so.socket()]
    with pytest.raises(OSError) as e:
        so.socket()
    assert e.value.args[0] == 12  # ENOMEM
    socks[0].close()
    so.socket()


def test_rp2_queue_holds_four_datagrams_then_drops():
    p, net, so = _port("rp2", firmware="mpdhcp")
    _ap(net, server=False)
    s = so.socket()
    s.bind(("192.168.4.1", 67))
    nic = p.nics[0]
    for i in range(6):
        p.deliver(nic, 67, 0xFFFFFFFF, True, 0, 68, bytes([i]))
    assert [d for d, _, _ in s.queue] == [b"\0", b"\1", b"\2", b"\3"] and s.dropped == 2
    assert s.recvfrom(10) == (b"\0", ("0.0.0.0", 68))


def test_rp2_limited_broadcast_from_an_unbound_interface_goes_to_the_first_pcb():
    # lwIP udp_input: a 255.255.255.255 datagram matches every pcb on the port; one bound to
    # the arrival netif's address wins, else the first in the list (a WAN DISCOVER would reach
    # a LAN socket): what NetifLwip's guard sockets are for
    p, net, so = _port("rp2", firmware="mpdhcp")
    _ap(net, server=False)
    sta = net.WLAN(net.STA_IF)
    sta.active(True)
    sta.ifconfig(("10.99.0.2", "255.255.255.0", "10.99.0.1", "10.99.0.1"))
    lan = so.socket()
    lan.bind(("192.168.4.1", 67))
    assert p.deliver(sta, 67, 0xFFFFFFFF, True, 0, 68, b"wan") is lan
    guard = so.socket()
    guard.bind(("10.99.0.2", 67))
    assert p.deliver(sta, 67, 0xFFFFFFFF, True, 0, 68, b"wan") is guard
    assert p.deliver(p.nics[0], 67, 0xFFFFFFFF, True, 0, 68, b"lan") is lan


def test_rp2_routing_limited_broadcast_needs_an_addressed_default_netif():
    p, net, so = _port("rp2", firmware="mpdhcp")
    _ap(net, server=False)
    sta = net.WLAN(net.STA_IF)
    sta.active(True)  # the last up is the default netif; it has no address yet
    s = so.socket()
    s.bind(("192.168.4.1", 67))
    with pytest.raises(OSError) as e:
        s.sendto(b"offer", ("255.255.255.255", 68))
    assert e.value.args[0] == 113  # EHOSTUNREACH
    s.sendto(b"offer", ("192.168.4.255", 68))  # a directed broadcast routes by netmask
    assert s.sent[-1][0] == "ap"
    sta.ifconfig(("10.99.0.2", "255.255.255.0", "10.99.0.1", "10.99.0.1"))
    with pytest.raises(OSError):  # now routed to the STA, which a socket on the AP's
        s.sendto(b"offer", ("255.255.255.255", 68))  # address may not send through
    any_ = so.socket()
    any_.sendto(b"x", ("255.255.255.255", 67))
    assert any_.sent[-1][0] == "sta"  # out of the WAN, not the AP


def test_esp32_sends_by_source_address_and_copies_broadcasts_to_reuse_sockets():
    p, net, so = _port("esp32")
    lan = net.LAN()
    lan.active(True)
    lan.ifconfig(("192.168.5.1", "255.255.255.0", "192.168.5.1", "192.168.5.1"))
    sta = net.WLAN(net.STA_IF)
    sta.active(True)
    sta.ifconfig(("10.99.0.2", "255.255.255.0", "10.99.0.1", "10.99.0.1"))
    s = so.socket()
    s.bind(("192.168.5.1", 67))
    s.sendto(b"x", ("255.255.255.255", 68))  # IDF's source hook: out of the LAN, no SO_BROADCAST
    assert s.sent[-1][0] == "eth"
    with pytest.raises(ValueError):
        s.sendto(b"x", ("ff02::1:2", 547))
    other = so.socket()
    other.setsockopt(so.SOL_SOCKET, so.SO_REUSEADDR, 1)
    other.bind(("10.99.0.2", 67))
    s.setsockopt(so.SOL_SOCKET, so.SO_REUSEADDR, 1)
    p.deliver(p.nics[0], 67, 0xFFFFFFFF, True, 0, 68, b"d")
    assert s.queue and other.queue  # SO_REUSE_RXTOALL: the LAN's DISCOVER reaches both


def test_esp32_ap_server_holds_its_address_and_ifconfig_restarts_it():
    p, net, so = _port("esp32")
    ap = _ap(net)
    s = so.socket()
    with pytest.raises(OSError) as e:
        s.bind(("192.168.4.1", 67))
    assert e.value.args[0] == 112  # newlib's EADDRINUSE
    s.bind(("192.168.5.1", 67))  # another address: no conflict
    claim = so.socket()
    claim.bind(("192.168.10.1", 67))
    ap.ifconfig(("192.168.10.1", "255.255.255.0", "192.168.10.1", "192.168.10.1"))
    assert p.log[-2:] == [("ap_dhcp", "stopped"), ("ap_dhcp", "bind failed: port 67 taken")]


def test_esp32_ap_refuses_a_short_wpa2_password_and_rp2_a_long_wpa2_key():
    p, net, so = _port("esp32")
    ap = _ap(net)
    with pytest.raises(OSError, match="Wifi Invalid Password"):
        ap.config(essid="x", password="1234567", authmode=3)
    assert ap.active() and ap.config("essid") is None  # still up, under its old (open) config
    ap.config(essid="x", password="12345678", authmode=3)
    ap.config(essid="open", password="", authmode=0)
    p, net, so = _port("rp2")
    sta = net.WLAN(net.STA_IF)
    sta.active(True)
    sta.connect("isp", "k" * 64)
    with pytest.raises(OSError) as e:
        sta.connect("isp", "k" * 65)
    assert e.value.args[0] == 22  # EINVAL


def _rp2_sta_with_link_local():
    p, net, so = _port("rp2", firmware="mpdhcp")  # the firmware route's IPv6 join
    sta = net.WLAN(net.STA_IF)
    sta.active(True)
    (ll, state, _, _), = sta.ipconfig("addr6")
    assert ll.startswith("fe80::") and state == 0x30
    return p, so, sta, ll


def _join(sock, so):
    mreq = bytes.fromhex("ff02" + "00" * 11 + "010002") + bytes(4)  # interface index 0
    sock.setsockopt(so.IPPROTO_IPV6, so.IPV6_JOIN_GROUP, mreq)


def test_rp2_a_solicit_to_ff02_1_2_reaches_only_an_any_bound_pcb_of_a_joined_group():
    # lwIP: a multicast for a group not joined is dropped (ip6.c:596-605); a pcb matches only
    # bound to ANY or to the destination itself (udp.c:172-175)
    p, so, sta, ll = _rp2_sta_with_link_local()
    on_ll = so.socket()
    on_ll.bind((ll, 547))
    _join(on_ll, so)
    assert p.deliver6(sta, 547, "ff02::1:2", "fe80::c", 546, b"solicit") is None
    assert p.deliver6(sta, 547, ll, "fe80::c", 546, b"renew") is on_ll  # unicast to it: yes
    on_ll.close()
    p.groups6 = []
    any6 = so.socket()
    any6.bind(("::", 547))
    assert p.deliver6(sta, 547, "ff02::1:2", "fe80::c", 546, b"solicit") is None  # not joined
    _join(any6, so)
    assert p.deliver6(sta, 547, "ff02::1:2", "fe80::c", 546, b"solicit") is any6
    assert any6.recvfrom(100) == (b"solicit", ("fe80::c", 546))
    v4 = so.socket()
    v4.bind(("0.0.0.0", 547))  # another IP version: no conflict (udp.c:1000)
    with pytest.raises(OSError):
        so.socket().bind((ll, 547))  # the same version beside ANY: EADDRINUSE


def test_netif_lwip_dhcpv6_server_on_the_fake_rp2_hears_a_solicit(monkeypatch):
    from mpdhcp.platform import netif_lwip as N

    p, so, sta, ll = _rp2_sta_with_link_local()
    monkeypatch.setattr(N, "socket", so)
    monkeypatch.setattr(N, "select", F._select(p))
    monkeypatch.setattr(N, "errno", F._errno(p))
    netif = N.NetifLwip({"sta": sta})
    i = netif.open_v6_server("sta")
    assert p.deliver6(sta, 547, "ff02::1:2", "fe80::c", 546, b"solicit") is netif.socks[i]
    assert netif.recv(i) == 7 and netif.rx == b"solicit" and netif.metas[i].port == 546
    assert bytes(netif.metas[i].src) == bytes.fromhex("fe80" + "00" * 13 + "0c")


def test_rp2_ap_config_of_its_name_or_key_while_up_cycles_it_to_the_default_address():
    p, net, so = _port("rp2")
    ap = _ap(net)
    sta = net.WLAN(net.STA_IF)
    sta.active(True)  # the last up: the default netif
    ap.ifconfig(("192.168.10.1", "255.255.255.0", "192.168.10.1", "192.168.10.1"))
    assert p.default_netif() is sta
    del p.log[:]
    ap.config(pm=0xA11140)  # not a cycling key
    assert ap.ifconfig()[0] == "192.168.10.1" and not p.log
    ap.config(essid="other")
    assert ap.ifconfig()[0] == "192.168.4.1"  # cyw43's default, not what ifconfig set
    assert p.log == [("ap_dhcp", "stopped"), ("ap_dhcp", "serving")]
    assert p.default_netif() is ap


def test_esp32_ap_ipconfig_restarts_dhcps_and_rp2s_does_not():
    p, net, so = _port("esp32")
    ap = _ap(net)
    claim = so.socket()
    claim.bind(("192.168.10.1", 67))
    ap.ipconfig(addr4="192.168.10.1/24")
    assert ap.ipconfig("addr4") == ("192.168.10.1", "255.255.255.0")
    assert p.log[-2:] == [("ap_dhcp", "stopped"), ("ap_dhcp", "bind failed: port 67 taken")]
    p, net, so = _port("rp2")
    ap = _ap(net)
    ap.ipconfig(addr4=("192.168.10.1", "255.255.255.0"))
    assert p.log == [("ap_dhcp", "serving")]
