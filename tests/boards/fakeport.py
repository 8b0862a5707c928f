# Faithful fakes of MicroPython's rp2 (Pico W) and esp32 ports, for running a board's main.py
# under the Unix port: `network`, `socket`, `select` and `machine` as the real port gives them,
# with the port's rules as read in its source (each rule cites it; the facts and their lines
# are collected in docs/boards.md). A board test must fail where the real board would.
#
#   import fakeport; fakeport.install("rp2", {"ap": "ap0", "sta": None})
#   exec(open("boards/picow/main.py").read())
#
# Each fake nic may be linked to a Linux interface of the namespace the test runs in: the
# fake sockets then carry real datagrams through the Unix port's own sockets (one per linked
# interface, SO_BINDTODEVICE), so a real DHCP client on the far side of a veth leases through
# the board's code. Unlinked nics move no packets (what is sent is recorded).
#
# Sources: MicroPython v1.28.0 (e0e9fbb1; lines are v1.28.0's, and where master 1c3c201149 has
# the line elsewhere both are given), cyw43-driver and lwIP as v1.28.0 pins them, ESP-IDF v5.x.
import sys
import time

import select as _rsel
import socket as _rsock

_SO_BINDTODEVICE = 25  # Linux, for the real sockets under the fakes

# -- the rules per port --------------------------------------------------------------------------
# Facts read 2026-11-29 (docs/boards.md has the table): MicroPython v1.28.0 (MP; where master
# 1c3c201149 differs, its line follows as "master :N"); cyw43-driver 055d642 (CY); lwIP 2.2.1
# 77dcd25a (LW, rp2); ESP-IDF v5.5.1 (IDF) and its lwIP as of v5.2.2 (ELW).
RULES = {
    "rp2": {
        # MP extmod/lwip-include/lwipopts_common.h:70 MEMP_NUM_UDP_PCB (4 + LWIP_MDNS_RESPONDER)
        "udp_pcbs": 5,
        "nomem_errno": "ENOMEM",  # MP modlwip.c:981,995-997: udp_new() NULL at socket()
        # the firmware's own pcbs: mDNS from boot (MP ports/rp2/main.c:153-155 mdns_resp_init,
        # master :174-176), lwIP's one DHCP client pcb while the STA runs (LW dhcp.c:273-296,
        # started by CY cyw43_lwip.c:224-227), the AP's DHCP server while the AP is up (below)
        "pcbs_always": 1,
        "pcbs_per_up_nic": {"sta": 1},
        # MP modlwip.c:299 LWIP_INCOMING_PACKET_QUEUE_LEN 4 (v1.26.0+; 1 before), an extra
        # datagram freed silently (:456-459)
        "queue": 4,
        # MP modlwip.c:427-443 lwip_parse_inet_addr: '' is IP6_ADDR_ANY (LWIP_IPV6=1 from
        # v1.24): an IPv6 pcb never hears IPv4 (LW udp.c:155) nor sends it (udp.c:540-542 EINVAL)
        "empty_bind_v6": True,
        # LW opt.h IP_SOF_BROADCAST(_RECV) 0, not set for rp2: SO_BROADCAST changes nothing
        "needs_so_broadcast": False,
        # LW udp.c SO_REUSE_RXTOALL default 0: a datagram goes to one pcb only
        "rx_to_all": False,
        # CY cyw43_lwip.c:212 netif_set_default(n) for each interface brought up: the last up
        # is the default netif; LW udp.c:584 ip4_route by destination only (no source hook),
        # and udp.c:673-687: a pcb bound to an address sends only through the netif that has it
        "default": "last_up",
        "route_by_source": False,
        # CY cyw43_lwip.c:236-239 dhcp_server_init() when the AP comes up (CYW43_NETUTILS, MP
        # extmod/cyw43_config_common.h:44); MP shared/netutils/dhcpserver.c:296-304 (master
        # :296-305) binds 0.0.0.0:67 without SOF_REUSEADDR and ignores a failed bind (:303,
        # :114-119); ifconfig/ipconfig on the AP do not touch it (MP extmod/network_lwip.c:100-112,
        # :352-356)
        "ap_dhcp_bind": "any",
        "ap_dhcp_restart_on_ifconfig": False,
        "ap_default_ip": ("192.168.4.1", "255.255.255.0"),  # CY cyw43_config.h:194
        # MP ports/rp2/mpconfigport.h:130-131 (master :133-134) MICROPY_USE_INTERNAL_ERRNO 1:
        # py/mperrno.h values
        "errno": {"EADDRINUSE": 98, "ENOMEM": 12, "EHOSTUNREACH": 113, "EAGAIN": 11,
                  "EINVAL": 22, "ENFILE": 23, "EACCES": 13},
        "ipv4_only_sendto": False,
    },
    "esp32": {
        # IDF Kconfig CONFIG_LWIP_MAX_SOCKETS default 10 (MP sdkconfig.base leaves it): a
        # socket past it fails with ENFILE (ELW sockets.c:1737-1741; MP modsocket.c:296-306)
        "udp_pcbs": 10,
        "nomem_errno": "ENFILE",
        "pcbs_always": 0,  # dhcps and the DHCP client are raw pcbs, not sockets
        "pcbs_per_up_nic": {},
        # IDF CONFIG_LWIP_UDP_RECVMBOX_SIZE default 6; overflow dropped (ELW api_msg.c:282-284)
        "queue": 6,
        "empty_bind_v6": False,  # MP modsocket.c:234-236: '' is 0.0.0.0
        # IDF lwipopts.h sets neither IP_SOF_BROADCAST nor _RECV: 0
        "needs_so_broadcast": False,
        # IDF Kconfig CONFIG_LWIP_SO_REUSE and _RXTOALL default y: a broadcast whose chosen
        # pcb has SOF_REUSEADDR is copied to every other matching pcb
        "rx_to_all": True,
        # IDF lwipopts.h:1339 LWIP_HOOK_IP4_ROUTE_SRC: a pcb bound to an interface's address
        # sends through that interface; else the default netif by route_prio STA 100 > ETH 50
        # > AP 10 (IDF esp_netif_defaults.h:54,:94,:68)
        "default": "prio",
        "route_by_source": True,
        # IDF dhcpserver.c:1360-1394 dhcps_start: udp_bind(AP address, 67), no SOF_REUSEADDR,
        # a failed bind ignored; started when the AP starts (esp_netif_lwip.c:1192-1208) and
        # stopped + started by every AP ifconfig (MP network_common.c:138-145) and ipconfig
        # (:315-321)
        "ap_dhcp_bind": "ap_address",
        "ap_dhcp_restart_on_ifconfig": True,
        "ap_default_ip": ("192.168.4.1", "255.255.255.0"),  # IDF esp_netif_defaults.c:22-26
        # MP ports/esp32/mpconfigport.h:71 MICROPY_USE_INTERNAL_ERRNO 0: newlib's values
        "errno": {"EADDRINUSE": 112, "ENOMEM": 12, "EHOSTUNREACH": 118, "EAGAIN": 11,
                  "EINVAL": 22, "ENFILE": 23, "EACCES": 13},
        # MP modsocket.c:766 sendto parses IPv4 only; no interface gets an IPv6 address
        "ipv4_only_sendto": True,
    },
}
PRIO = {"sta": 100, "eth": 50, "ap": 10}


class _Module:
    """What `import network` returns here (MicroPython cannot make module objects)."""

    def __init__(self, name):
        self.__name__ = name


def _aton(s):
    p = s.split(".")
    if len(p) != 4:
        raise ValueError("not an IPv4 address: %r" % (s,))
    v = 0
    for x in p:
        v = (v << 8) | int(x)
    return v


def _ntoa(v):
    return "%d.%d.%d.%d" % ((v >> 24) & 255, (v >> 16) & 255, (v >> 8) & 255, v & 255)


def _ip6(s):
    """IPv6 text (no zone) as a tuple of 8 ints, to compare addresses however written."""
    head, _, tail = s.partition("::") if "::" in s else (s, "", "")
    h = [int(x, 16) for x in head.split(":") if x]
    t = [int(x, 16) for x in tail.split(":") if x]
    if len(h) + len(t) > 8 or ("::" not in s and len(h) != 8):
        raise ValueError("not an IPv6 address: %r" % (s,))
    return tuple(h + [0] * (8 - len(h) - len(t)) + t)


_ANY6 = (0,) * 8
# the rp2 WLAN.config keys that cycle an active interface (MP extmod/network_cyw43.c:486-526)
_CYCLING = set(("channel", "ssid", "essid", "security", "key", "password"))
_ALL_NODES = (0xFF02, 0, 0, 0, 0, 0, 0, 1)


class Port:
    """One board's lwIP: its netifs, its UDP pcbs, the firmware's own DHCP server."""

    def __init__(self, name, links, firmware="stock"):
        self.name = name
        self.r = RULES[name]
        self.firmware = firmware  # "stock", or "mpdhcp": the build docs/boards.md describes
        self.links = links  # nic key ("ap", "sta", "eth") -> Linux ifname or None
        self.nics = []  # the fake nics made, in order of creation
        self.up_order = []  # nics in the order they came up (for the default netif)
        self.pcbs = []  # every UDP pcb alive, the most recently bound first (udp_bind puts a
        # pcb at the head of udp_pcbs): FakeSocket or _FirmwareServer
        self.log = []  # what the firmware did (for the tests): (event, detail)
        self.wires = {}  # (Linux ifname, port) -> _Wire: the real sockets under the fakes
        self.dropped = 0  # datagrams no pcb took
        self.ap_dhcp_on = True  # the firmware route's WLAN.config(dhcp_server=) flag
        self.groups6 = []  # (nic, group as 8 ints): the IPv6 multicast groups joined

    # -- the firmware's own pcbs ----------------------------------------------------------------
    def err(self, name):
        """OSError with the port's errno value for name."""
        return OSError(self.r["errno"][name])

    def new_pcb(self, owner):
        used = len(self.pcbs) + self.system_pcbs()
        if used >= self.r["udp_pcbs"]:
            return False
        self.pcbs.append(owner)
        return True

    def free_pcb(self, owner):
        if owner in self.pcbs:
            self.pcbs.remove(owner)

    def bound(self, pcb):
        self.pcbs.remove(pcb)
        self.pcbs.insert(0, pcb)

    # -- udp_input (lwIP src/core/udp.c:130-175 local match, 240-290 choice) --------------------
    def _match(self, pcb, nic, dst, broadcast):
        """lwIP udp.c:130-179 udp_input_local_match for an IPv4 datagram arriving on nic."""
        if pcb.port is None or pcb.v6 or pcb.addr is None:
            return False  # an IPv6 pcb never hears IPv4 (IP_ADDR_PCB_VERSION_MATCH_EXACT)
        if pcb.netif is not None and pcb.netif is not nic:
            return False  # udp.c:139-142: a pcb tied to a netif (IDF v5.4+ dhcps)
        if broadcast:
            if self.r["needs_so_broadcast"] and not pcb.bcast:
                return False  # IP_SOF_BROADCAST_RECV
            return pcb.addr == 0 or dst == 0xFFFFFFFF or (pcb.addr & nic.mask) == (dst & nic.mask)
        return pcb.addr == 0 or pcb.addr == dst

    def deliver(self, nic, dport, dst, broadcast, src, sport, data):
        """Hand one datagram that arrived on nic to the pcb lwIP would pick (and, with
        SO_REUSE_RXTOALL, a copy to every other match when that pcb has SOF_REUSEADDR).
        Returns the pcb picked, or None."""
        pick = None
        for pcb in self.pcbs:
            if pcb.port != dport or not self._match(pcb, nic, dst, broadcast):
                continue
            if pick is None:
                pick = pcb
            elif broadcast and dst == 0xFFFFFFFF:
                if pick.addr != nic.ip and pcb.addr == nic.ip:
                    pick = pcb  # a pcb bound to the arrival netif's address is the better match
            elif pcb.addr:
                pick = pcb  # SO_REUSE: a specific address beats a catch-all
        if pick is None:
            self.dropped += 1
            return None
        self._queue(pick, nic, data, src, sport)
        if self.r["rx_to_all"] and broadcast and pick.reuse:
            for pcb in self.pcbs:
                if pcb is not pick and pcb.port == dport and self._match(pcb, nic, dst, broadcast):
                    self._queue(pcb, nic, data, src, sport)
        return pick

    def _queue(self, pcb, nic, data, src, sport):
        if isinstance(pcb, _FirmwareServer):
            self.log.append(("ap_dhcp", "heard %d bytes on %s" % (len(data), nic.kind)))
        elif len(pcb.queue) >= self.r["queue"]:
            pcb.dropped += 1  # the socket's receive queue is full: dropped silently
        else:
            pcb.queue.append((data, src, sport))

    # -- the real sockets under the fakes --------------------------------------------------------
    def _wires_now(self):
        """A _Wire for each (linked, up, addressed nic; bound port), made or remade as the
        nics' addresses change."""
        ports = set(p.port for p in self.pcbs if p.port is not None and not isinstance(p, _FirmwareServer))
        for nic in self.nics:
            if nic.linux is None:
                continue
            for port in ports:
                key = (nic.linux, port)
                w = self.wires.get(key)
                if w is not None and (not nic.up or w.ip != nic.ip or w.mask != nic.mask):
                    w.close()
                    del self.wires[key]
                    w = None
                if w is None and nic.up and nic.ip:
                    self.wires[key] = _Wire(nic, port)
        return list(self.wires.values())

    def pump(self, timeout_ms=0):
        """Move what the Linux sockets hold into the fake sockets' queues, as lwIP's input
        path would have as each datagram arrived (waiting up to timeout_ms for the first)."""
        wires = self._wires_now()
        if not wires:
            if timeout_ms > 0:  # nothing can arrive: wait as the real poll would
                time.sleep(min(timeout_ms, 200) / 1000)
            return
        for p in self.pcbs:
            if isinstance(p, FakeSocket) and p.queue:
                timeout_ms = 0
        poll = _rsel.poll()
        for w in wires:
            for s in w.socks:
                poll.register(s[0], _rsel.POLLIN)
        poll.poll(timeout_ms)
        for w in wires:
            w.drain(self)

    def transmit(self, pcb, nic, dst, dport, data):
        if nic.linux is None or not nic.ip:
            return
        w = self.wires.get((nic.linux, pcb.port))
        if w is None and pcb.port is not None:
            w = self.wires[(nic.linux, pcb.port)] = _Wire(nic, pcb.port)
        if w is not None:
            w.send(dst, dport, data)

    def bind_conflict(self, me, addr, port, v6=False):
        """lwIP src/core/udp.c udp_bind (:988-1015): with SO_REUSE, a port is shared only when
        both pcbs set SOF_REUSEADDR; otherwise a pcb of the same IP version (:1000) on the same
        port with an equal address, or either address ANY (0 for IPv4, None for IPv6), is
        ERR_USE (EADDRINUSE)."""
        for p in self.pcbs:
            if p is me or p.port != port or p.port is None or p.v6 != v6:
                continue
            if p.reuse and me.reuse:
                continue
            theirs = p.addr6 if v6 else p.addr
            if theirs == addr or theirs in (0, None) or addr in (0, None):
                return True
        return False

    # -- IPv6 in (lwIP ip6_input, src/core/ipv6/ip6.c:595-605; udp.c:172-175) ---------------
    def deliver6(self, nic, dport, dst, src, sport, data):
        """Hand one IPv6 datagram (dst, src: text) that arrived on nic to the pcb lwIP would
        pick. A multicast is taken only for a group joined on nic (or all-nodes, ff02::1); a
        pcb matches only when bound to ANY ('::') or to dst itself. Returns the pcb, or None."""
        d = _ip6(dst)
        if d[0] >> 8 == 0xFF:
            if d != _ALL_NODES and (nic, d) not in self.groups6:
                self.dropped += 1
                return None
        elif d != _ip6(nic.ll6() or "::"):
            self.dropped += 1
            return None
        for pcb in self.pcbs:
            if pcb.v6 and pcb.port == dport and (pcb.addr6 is None or pcb.addr6 == d):
                self._queue(pcb, nic, data, src, sport)
                return pcb
        self.dropped += 1
        return None

    def system_pcbs(self):
        """The pcbs the firmware itself holds besides the AP's DHCP server."""
        n = self.r["pcbs_always"]
        for nic in self.nics:
            if nic.up:
                n += self.r["pcbs_per_up_nic"].get(nic.kind, 0)
        return n

    # -- routing (lwIP ip4_route, src/core/ipv4/ip4.c:152-228) -----------------------------------
    def default_netif(self):
        up = [n for n in self.up_order if n.up]
        if not up:
            return None
        if self.r["default"] == "last_up":
            return up[-1]
        best = up[0]
        for n in up:
            if PRIO.get(n.kind, 0) > PRIO.get(best.kind, 0):
                best = n
        return best

    def route(self, pcb, dst):
        """The netif a datagram from pcb to dst leaves by, or None (ERR_RTE: EHOSTUNREACH)."""
        if self.r["route_by_source"] and pcb.addr:
            for n in self.up_order:  # IDF's ip4_route_src_hook: the netif with the pcb's address
                if n.up and n.ip == pcb.addr:
                    return n
        nic = None
        if dst != 0xFFFFFFFF:
            for n in self.up_order:  # ip4.c:170-177: the first up netif whose subnet has dst
                if n.up and n.ip and (dst & n.mask) == (n.ip & n.mask):
                    nic = n
                    break
        if nic is None:
            nic = self.default_netif()  # ip4.c:216-227, only with an IPv4 address
            if nic is None or not nic.ip:
                return None
        if pcb.addr and nic.ip != pcb.addr:
            return None  # udp.c:673-687: a bound pcb sends only through its own netif
        return nic

    def nic_up(self, nic):
        if nic in self.up_order:
            self.up_order.remove(nic)
        self.up_order.append(nic)
        if nic.kind == "ap":
            self.start_ap_dhcp(nic)

    def nic_down(self, nic):
        if nic in self.up_order:
            self.up_order.remove(nic)
        if nic.kind == "ap":
            self.stop_ap_dhcp(nic)

    def start_ap_dhcp(self, nic):
        """The firmware's DHCP server for the AP (in the build docs/boards.md gives, only
        while WLAN.config(dhcp_server=) has not turned it off)."""
        if not self.ap_dhcp_on:
            return
        self.stop_ap_dhcp(nic)
        srv = _FirmwareServer(nic)
        if not self.new_pcb(srv):
            self.log.append(("ap_dhcp", "no pcb"))  # dhcpserver.c:300-302 (master :301-303): none
            return
        nic.dhcp_server = srv
        addr = 0 if self.r["ap_dhcp_bind"] == "any" else nic.ip
        if self.bind_conflict(srv, addr, 67):
            self.log.append(("ap_dhcp", "bind failed: port 67 taken"))  # ignored by the firmware
            return
        srv.addr, srv.port = addr, 67
        self.bound(srv)
        self.log.append(("ap_dhcp", "serving"))

    def stop_ap_dhcp(self, nic):
        srv = nic.dhcp_server
        if srv is not None:
            self.free_pcb(srv)
            nic.dhcp_server = None
            self.log.append(("ap_dhcp", "stopped"))


class _Wire:
    """The Unix port's sockets for one Linux interface and port: bound to 255.255.255.255,
    to the interface's directed broadcast and to its address, so each datagram's destination
    kind is known (lwIP sees the destination; a Linux socket without IP_PKTINFO does not)."""

    def __init__(self, nic, port):
        self.nic = nic
        self.ip = nic.ip
        self.mask = nic.mask
        self.port = port
        bc = (nic.ip & nic.mask) | (~nic.mask & 0xFFFFFFFF)
        self.socks = []
        for dst, broadcast in ((0xFFFFFFFF, True), (bc, True), (nic.ip, False)):
            s = _rsock.socket(_rsock.AF_INET, _rsock.SOCK_DGRAM)
            s.setsockopt(_rsock.SOL_SOCKET, _rsock.SO_REUSEADDR, 1)
            s.setsockopt(_rsock.SOL_SOCKET, _SO_BINDTODEVICE, nic.linux.encode())
            s.setsockopt(_rsock.SOL_SOCKET, _rsock.SO_BROADCAST, 1)
            s.bind(_rsock.getaddrinfo(_ntoa(dst), port)[0][-1])
            s.setblocking(False)
            self.socks.append((s, dst, broadcast))

    def drain(self, port):
        for s, dst, broadcast in self.socks:
            for _ in range(64):  # bounded: what arrived since the last look
                try:
                    data, sa = s.recvfrom(1600)
                except OSError:
                    break
                src, sport = _sockaddr(sa)
                port.deliver(self.nic, self.port, dst, broadcast, src, sport, data)

    def send(self, dst, dport, data):
        s = self.socks[2][0]  # from the interface's own address and the pcb's port
        s.sendto(data, _rsock.getaddrinfo(_ntoa(dst), dport)[0][-1])

    def close(self):
        for s, _, _ in self.socks:
            s.close()
        self.socks = []


def _sockaddr(sa):
    """(address int, port) of what recvfrom gave: a CPython tuple or the Unix port's raw
    struct sockaddr_in bytes."""
    if isinstance(sa, tuple):
        return _aton(sa[0]), sa[1]
    return (sa[4] << 24) | (sa[5] << 16) | (sa[6] << 8) | sa[7], (sa[2] << 8) | sa[3]


class _FirmwareServer:
    """The port's own AP DHCP server's pcb: bound to 0.0.0.0:67, SOF_REUSEADDR not set."""

    def __init__(self, nic):
        self.nic = nic
        self.addr = 0
        self.port = None
        self.reuse = False
        self.v6 = False
        self.addr6 = None
        self.bcast = True
        self.netif = nic if port_ties_dhcps(nic) else None


def port_ties_dhcps(nic):
    """IDF v5.4+ dhcpserver.c udp_bind_netif(dhcps_pcb, AP netif) (commit 226c7772b8c)."""
    return nic.port.name == "esp32"


# -- network ---------------------------------------------------------------------------------------
class _Nic:
    def __init__(self, port, kind, mac):
        self.port = port
        self.kind = kind
        self.up = False
        self.ip = 0
        self.mask = 0
        self.gw = 0
        self.dns = 0
        self.mac = mac
        self.cfg = {}
        self.dhcp_server = None
        # "ifname" or "ifname=a.b.c.d/len": the Linux interface under this nic, and for a
        # station the address the firmware's own DHCP client would get once it is up
        spec = port.links.get(kind)
        self.linux = spec.split("=")[0] if spec else None
        self.wan_addr = spec.split("=")[1] if spec and "=" in spec else None
        port.nics.append(self)

    def active(self, *a):
        if not a:
            return self.up
        if a[0] and not self.up:
            self.up = True
            if self.kind == "ap":
                ip, mask = self.port.r["ap_default_ip"]
                self.ip, self.mask = _aton(ip), _aton(mask)
            elif self.kind == "sta" and self.wan_addr:
                a, plen = self.wan_addr.split("/")
                self.ip, self.mask = _aton(a), (0xFFFFFFFF << (32 - int(plen))) & 0xFFFFFFFF
            self.port.nic_up(self)
        elif not a[0] and self.up:
            self.up = False
            self.port.nic_down(self)
        return None

    def config(self, *a, **k):
        if a:
            if a[0] == "mac":
                return self.mac
            return self.cfg.get(a[0])
        if "dhcp_server" in k:
            # the firmware route's WLAN.config(dhcp_server=) (docs/boards.md), AP only; the
            # stock network_cyw43.c config raises for a key it does not know (:480-549)
            if self.port.firmware == "stock" or self.port.name != "rp2":
                raise ValueError("unknown config param")
            if self.kind != "ap":
                raise ValueError("AP only")
            self.port.ap_dhcp_on = bool(k["dhcp_server"])
            if self.up:
                self.port.stop_ap_dhcp(self)
                if self.port.ap_dhcp_on:
                    self.port.start_ap_dhcp(self)
        if self.kind == "ap" and self.port.name == "esp32":
            self._esp32_ap_config(k)
        self.cfg.update(k)
        if self.port.name == "rp2" and self.up and _CYCLING.intersection(k):
            # MP extmod/network_cyw43.c:554-559: these keys (:486-526 set cycle_active) take an
            # active interface down and up (CY cyw43_ctrl.c:553-583): its netif is made anew
            # with the default address and made the default netif (cyw43_lwip.c:186-212), and
            # an AP's DHCP server is stopped and started again (:256-258, :236-239)
            self.active(False)
            self.active(True)
        return None

    def _esp32_ap_config(self, k):
        """esp_wifi_set_config refuses a WPA/WPA2 AP password under 8 characters with
        ESP_ERR_WIFI_PASSWORD (ESP-IDF's closed Wi-Fi library: espressif/esp-idf issues #4506,
        #6673), raised as OSError("Wifi Invalid Password") by v1.28.0 ports/esp32/
        network_wlan.c:635 (master :664) and network_common.c:70-71; nothing of the call is
        applied."""
        auth = k.get("authmode", k.get("security", self.cfg.get("authmode", 0)))
        pw = k.get("password", k.get("key", self.cfg.get("password", "")))
        if auth != 0 and len(pw) < 8:
            raise OSError("Wifi Invalid Password")

    def ifconfig(self, c=None):
        if c is None:
            return (_ntoa(self.ip), _ntoa(self.mask), _ntoa(self.gw), _ntoa(self.dns))
        self.ip, self.mask, self.gw, self.dns = [_aton(x) for x in c]
        if self.kind == "ap" and self.up and self.port.r["ap_dhcp_restart_on_ifconfig"]:
            self.port.start_ap_dhcp(self)  # network_common.c:138-145: dhcps stop, set, start
        return None

    def ipconfig(self, *a, **k):
        if "addr4" in k:
            self._set_addr4(k["addr4"])
            return None
        if a and a[0] == "addr4":
            return (_ntoa(self.ip), _ntoa(self.mask))
        if a and a[0] == "addr6" and self.port.name == "rp2":
            # MP extmod/network_lwip.c:227-244: (address, state, preferred, valid) per address;
            # the link-local is preferred (0x30) here at once, after DAD on a board
            ll = self.ll6()
            return [(ll, 0x30, 0, 0)] if ll else []
        raise ValueError("unexpected key")  # esp32: MP ports/esp32/network_common.c:242-244

    def _set_addr4(self, v):
        """ipconfig(addr4=(address, mask)) or ("a.b.c.d/len"). rp2 leaves the AP's DHCP server
        as it is (MP extmod/network_lwip.c:352-356); esp32 stops and starts dhcps on the AP for
        any ipconfig setting (MP ports/esp32/network_common.c:315-321)."""
        if isinstance(v, str):
            a, _, plen = v.partition("/")
            self.ip = _aton(a)
            if plen:
                self.mask = (0xFFFFFFFF << (32 - int(plen))) & 0xFFFFFFFF
        else:
            self.ip, self.mask = _aton(v[0]), _aton(v[1])
        if self.kind == "ap" and self.up and self.port.r["ap_dhcp_restart_on_ifconfig"]:
            self.port.start_ap_dhcp(self)

    def ll6(self):
        """The nic's IPv6 link-local address (text, from its MAC), or None: rp2 gives one to
        the station only, when it comes up (CY cyw43_lwip.c:229-235); esp32 to none."""
        if self.port.name != "rp2" or self.kind != "sta" or not self.up:
            return None
        m = self.mac
        return "fe80::%x:%xff:fe%02x:%x" % (((m[0] ^ 2) << 8) | m[1], m[2], m[3], (m[4] << 8) | m[5])

    def isconnected(self):
        return self.up and self.kind == "sta" and self.linux is not None and bool(self.ip)

    def connect(self, ssid=None, key=None, **k):
        """rp2: cyw43 refuses a WPA2 key over 64 characters with EINVAL (cyw43-driver
        src/cyw43_ll.c:2072-2077; a key given means WPA2 unless security= says otherwise,
        v1.28.0 extmod/network_cyw43.c:294-302; raised as OSError at :308-312)."""
        if self.port.name == "rp2" and key and len(key) > 64 and k.get("security", -1) != 0:
            raise self.port.err("EINVAL")

    def status(self, *a):
        return 3 if self.isconnected() else 0


def _network(port):
    mod = _Module("network")
    macs = [2]

    def mac():
        macs[0] += 1
        return bytes((2, 0, 0, 0, 0x42, macs[0]))

    def WLAN(itf=0):
        # one object per interface, as the ports return (v1.28.0 extmod/network_cyw43.c:96-103,
        # ports/esp32/network_wlan.c:257-270): a boot.py's AP is main.py's AP
        kind = "ap" if itf == 1 else "sta"
        for n in port.nics:
            if n.kind == kind:
                return n
        return _Nic(port, kind, mac())

    class LAN(_Nic):
        def __init__(self, *a, **k):
            if port.name != "esp32":
                raise AttributeError("no network.LAN on this port")
            _Nic.__init__(self, port, "eth", mac())

    mod.WLAN = WLAN
    mod.STA_IF = 0
    mod.AP_IF = 1
    if port.name == "esp32":
        mod.LAN = LAN
        mod.PHY_LAN8720 = 1
        mod.PHY_IP101 = 2
    # RPI_PICO_W's stock build has no WIZNET5K (ports/rp2/boards/RPI_PICO_W/mpconfigboard.cmake
    # sets no MICROPY_PY_NETWORK_WIZNET5K; only W5100S_EVB_PICO, W5500_EVB_PICO do)
    if port.name == "rp2" and port.firmware != "stock":
        class WIZNET5K(_Nic):
            def __init__(self, *a, **k):
                _Nic.__init__(self, port, "eth", mac())
        mod.WIZNET5K = WIZNET5K
    return mod


# -- socket ---------------------------------------------------------------------------------------
class FakeSocket:
    """A modlwip-style UDP socket (rp2: extmod/modlwip.c; esp32: ports/esp32/modsocket.c over
    ESP-IDF's lwIP): (host, port) tuples, no SO_BINDTODEVICE, one lwIP pcb each."""

    def __init__(self, port, af=2, kind=2, proto=0):
        self.p = port
        self.addr = None  # bound IPv4 address as an int (0: any); None while unbound
        self.v6 = False
        self.addr6 = None  # bound IPv6 address as 8 ints (None: any)
        self.port = None
        self.reuse = False
        self.bcast = False
        self.queue = []
        self.dropped = 0
        self.sent = []  # (nic kind, host, port, bytes)
        self.closed = False
        self.netif = None  # modlwip never ties a pcb to a netif
        if not port.new_pcb(self):
            raise port.err(port.r["nomem_errno"])

    def setsockopt(self, level, opt, val):
        """The level is not looked at, only opt (MP modlwip.c:1491; ports/esp32/modsocket.c:495)."""
        if opt == SO_REUSEADDR:
            self.reuse = bool(val)
        elif opt == SO_BROADCAST:
            self.bcast = bool(val)
        elif opt == IPV6_JOIN_GROUP and _has_join6(self.p):
            self._join6(bytes(val))
        elif self.p.name == "rp2":
            print("Warning: lwip.setsockopt() not implemented")  # MP modlwip.c:1538-1539
        else:
            # MP ports/esp32/modsocket.c:564-565: an option it does not know is not an error
            # either. Not modelled: its SO_BINDTODEVICE (:507-517, exported :1016)
            print("Warning: lwip.setsockopt() option not implemented")

    def setblocking(self, flag):
        self.blocking = flag

    def settimeout(self, t):
        pass

    def bind(self, addr):
        host, port = addr  # modlwip.c:427 lwip_parse_inet_addr: a 2-tuple, nothing else
        v6, a6 = False, None
        if host == "" and self.p.r["empty_bind_v6"]:
            v6 = True  # modlwip.c:432-434: '' is IP6_ADDR_ANY
        elif ":" in host:
            if self.p.r["ipv4_only_sendto"]:
                raise self.p.err("EINVAL")
            v6 = True  # modlwip.c:439 ipaddr_aton: '::' is IPv6 ANY, 'fe80::1' that address
            a6 = _ip6(host.split("%")[0])
            a6 = None if a6 == _ANY6 else a6
        a = 0 if v6 or host in ("", "0.0.0.0") else _aton(host)
        if self.p.bind_conflict(self, a6 if v6 else a, port, v6):
            raise self.p.err("EADDRINUSE")  # udp_bind ERR_USE
        self.v6, self.addr, self.addr6, self.port = v6, a, a6, port
        self.p.bound(self)

    def _join6(self, mreq):
        """The firmware route's IPV6_JOIN_GROUP (docs/boards.md, not built): a 20-byte
        ipv6_mreq; interface index 0 joins every netif (lwIP mld6_joingroup(IP6_ADDR_ANY6))."""
        if len(mreq) != 20:
            raise ValueError("ipv6_mreq is 20 bytes")
        g = tuple((mreq[i] << 8) | mreq[i + 1] for i in range(0, 16, 2))
        for nic in self.p.nics:
            if nic.ll6() and (nic, g) not in self.p.groups6:
                self.p.groups6.append((nic, g))

    def recvfrom(self, n):
        self.p.pump()
        if not self.queue:
            raise self.p.err("EAGAIN")
        data, src, sport = self.queue.pop(0)
        host = src if isinstance(src, str) else _ntoa(src)
        return data[:n], (host, sport)  # lwip_format_inet_addr: ('a.b.c.d' or 'fe80::..', port)

    def sendto(self, data, addr):
        host, port = addr
        if ":" in host:
            if self.p.r["ipv4_only_sendto"]:
                raise ValueError("invalid arguments")  # modsocket.c parses IPv4 only
            return self._sendto6(data, host, port)
        dst = _aton(host)
        if self.v6:
            raise self.p.err("EINVAL")  # udp_sendto: IP_ADDR_PCB_VERSION_MATCH fails -> ERR_VAL
        nic = self.p.route(self, dst)
        if nic is None:
            raise self.p.err("EHOSTUNREACH")  # ERR_RTE
        directed = nic.mask and (dst & ~nic.mask & 0xFFFFFFFF) == (~nic.mask & 0xFFFFFFFF)
        if (dst == 0xFFFFFFFF or directed) and self.p.r["needs_so_broadcast"] and not self.bcast:
            raise self.p.err("EACCES")
        if self.port is None:
            # an unbound socket is bound by its first send, to ANY and a free port from 0xC000:
            # LW udp.c:746-748 (udp_sendto_if_src), :981 udp_new_port (:68-72, :100-118); both
            # ports reach it, rp2 through modlwip's udp_sendto, esp32 through lwip_sendto
            # (MP ports/esp32/modsocket.c:771) and ELW's api_msg
            self.addr, self.port = 0, 49152 + len(self.p.pcbs)
            self.p.bound(self)
        b = bytes(data)
        self.sent.append((nic.kind, host, port, b))
        self.p.transmit(self, nic, dst, port, b)
        return len(b)

    def _sendto6(self, data, host, port):
        """rp2: only from an IPv6 pcb (udp.c:540-541 ERR_VAL), out of the netif that has its
        bound address, or the one with a link-local (the only IPv6 netif here); recorded, not
        carried (the fakes have no IPv6 wire)."""
        if not self.v6:
            raise self.p.err("EINVAL")
        for nic in self.p.nics:
            ll = nic.ll6()
            if ll and (self.addr6 is None or self.addr6 == _ip6(ll)):
                b = bytes(data)
                self.sent.append((nic.kind, host, port, b))
                return len(b)
        raise self.p.err("EHOSTUNREACH")

    def close(self):
        if not self.closed:
            self.closed = True
            self.p.free_pcb(self)

    def fileno(self):
        return -1


# SOL_SOCKET: rp2 1 (MP modlwip.c:1932), esp32 lwIP's 0xfff (LW sockets.h:243, MP
# ports/esp32/modsocket.c:1013); SO_REUSEADDR and SO_BROADCAST are lwIP's 0x04 and 0x20 on both
# (modlwip.c:1933-1934 exports SOF_*, modsocket.c:1014-1015 SO_*)
SOL_SOCKET = {"rp2": 1, "esp32": 0xFFF}
SO_REUSEADDR = 0x04
SO_BROADCAST = 0x20
IPPROTO_IPV6 = 41
IPV6_JOIN_GROUP = 0x402  # the firmware route's value (docs/boards.md)


def _has_join6(port):
    """The IPv6 multicast join is the firmware route's (rp2, described, not built): stock
    modlwip joins IPv4 groups only (MP modlwip.c:1506-1525)."""
    return port.name == "rp2" and port.firmware != "stock"


def _socket(port):
    mod = _Module("socket")
    mod.AF_INET = 2
    mod.AF_INET6 = 10
    mod.SOCK_DGRAM = 2
    mod.SOCK_STREAM = 1
    mod.SOL_SOCKET = SOL_SOCKET[port.name]
    mod.SO_REUSEADDR = SO_REUSEADDR
    mod.SO_BROADCAST = SO_BROADCAST
    if _has_join6(port):
        mod.IPPROTO_IPV6 = IPPROTO_IPV6
        mod.IPV6_JOIN_GROUP = IPV6_JOIN_GROUP

    def socket(af=2, kind=2, proto=0):
        return FakeSocket(port, af, kind, proto)

    def getaddrinfo(host, p, *a):
        return [(2, 2, 0, "", (host, p))]

    mod.socket = socket
    mod.getaddrinfo = getaddrinfo
    return mod


def _errno(port):
    mod = _Module("errno")
    for k, v in port.r["errno"].items():
        setattr(mod, k, v)
    mod.errorcode = dict((v, k) for k, v in port.r["errno"].items())
    return mod


# -- select ---------------------------------------------------------------------------------------
class _Poll:
    def __init__(self, port):
        self.p = port
        self.objs = []

    def register(self, obj, ev=1):
        if obj not in self.objs:
            self.objs.append(obj)

    def unregister(self, obj):
        self.objs.remove(obj)

    def ipoll(self, timeout_ms=-1, flags=0):
        self.p.pump(timeout_ms if timeout_ms >= 0 else 1000)
        return [(o, 1) for o in self.objs if isinstance(o, FakeSocket) and o.queue]

    poll = ipoll


def _select(port):
    mod = _Module("select")
    mod.POLLIN = 1
    mod.POLLOUT = 4
    mod.poll = lambda: _Poll(port)
    return mod


def _machine():
    mod = _Module("machine")

    class Pin:
        def __init__(self, *a, **k):
            pass

    class SPI:
        def __init__(self, *a, **k):
            pass

    mod.Pin = Pin
    mod.SPI = SPI
    return mod


# -- install ---------------------------------------------------------------------------------------
PORT = None


def install(name, links, firmware="stock"):
    """Put the fake port's modules in sys.modules (before the board's main.py imports them)."""
    global PORT
    PORT = Port(name, links, firmware)
    sys.modules["network"] = _network(PORT)
    sys.modules["socket"] = _socket(PORT)
    sys.modules["select"] = _select(PORT)
    sys.modules["machine"] = _machine()
    sys.modules["errno"] = _errno(PORT)
    return PORT
