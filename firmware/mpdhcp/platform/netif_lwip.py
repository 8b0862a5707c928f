# Platform adapter for lwIP ports (ESP32, Pico W / RP2040, W5500 through network.WIZNET5K):
# the same interface as netif_unix.NetifUnix (open_v4_server, wait, index_of, recv, send, now,
# close, metas), for sockets that speak `(host, port)` tuples and have no SO_BINDTODEVICE.
#
# Arrival interface without SO_BINDTODEVICE or IP_PKTINFO: one socket per interface, bound to
# that interface's own address. lwIP's udp_input hands a datagram sent to 255.255.255.255 to
# the socket whose local address is the arrival netif's address when several match (and a
# unicast only to the socket bound to its destination), so the socket tells the interface.
# Broadcast replies go to the interface's directed broadcast (e.g. 192.168.4.255) by default:
# lwIP routes 255.255.255.255 through the default netif (the STA/WAN on a router), while a
# directed broadcast is routed by netmask to the LAN it belongs to. `limited=True` sends to
# 255.255.255.255 instead, for a board with one interface.
# lwIP hands a datagram sent to 255.255.255.255 that arrives on an interface none of our
# sockets is bound to (the Wi-Fi station on a router: the WAN) to the first socket on that port
# (lwIP src/core/udp.c udp_input): a WAN client's DISCOVER would reach a LAN socket. So each
# interface we do not serve (`guard`) gets a socket bound to its own address and port 67 that
# takes those datagrams and drops them; it follows the interface's address as it changes.
# A Wi-Fi AP whose firmware starts its own DHCP server with the AP (the Pico W) can be taken
# over by binding port 67 before the AP comes up (`claim_v4_server`): docs/boards.md.
# The clock is time.time() moved to the 2000 epoch whatever the port's epoch is; the lease
# journal is written through the VFS (store.py: open/write/flush/rename), nothing here.
# What could only be checked without a board is listed in docs/boards.md.
from micropython import const
import errno
import os
import select
import socket
import time
from ..slot import Meta, KIND_BROADCAST, RX_MAX
ip6 = ip6_str = None  # wire.addr6's, imported with the first DHCPv6 socket (a v4 board carries none)

SOL_SOCKET = getattr(socket, "SOL_SOCKET", 0xFFF)  # lwIP's values where a port omits them
SO_REUSEADDR = getattr(socket, "SO_REUSEADDR", 0x0004)
SO_BROADCAST = getattr(socket, "SO_BROADCAST", 0x0020)
GUARD_EVERY_S = const(5)  # how often a guarded interface's address is looked at again
EPOCH_2000 = const(946684800)
# seconds to add to time.time() to count from 2000-01-01 (0 on ports whose epoch is 2000)
EPOCH_SHIFT = -EPOCH_2000 if time.gmtime(0)[0] == 1970 else 0


def parse_ip4(s, dst, off=0):
    """Dotted text into dst[off:off+4] without building a list (runs per datagram)."""
    v = 0
    k = 0
    for ch in s:
        if ch == ".":
            dst[off + k] = v
            k += 1
            v = 0
        else:
            v = v * 10 + ord(ch) - 48
    dst[off + k] = v


def ip4_text(b, off=0):
    return "%d.%d.%d.%d" % (b[off], b[off + 1], b[off + 2], b[off + 3])


def nic_ipv4(nic):
    """(address, netmask) text of a network.WLAN/LAN/WIZNET5K object."""
    try:
        a = nic.ipconfig("addr4")  # MicroPython >= 1.24: ('192.168.4.1', '255.255.255.0')
        if isinstance(a, tuple) and len(a) == 2 and a[0]:
            return a[0], a[1]
    except (AttributeError, ValueError, OSError, TypeError):
        pass
    c = nic.ifconfig()  # (ip, mask, gateway, dns), older and current ports
    return c[0], c[1]


class NetifLwip:
    RING = 4  # replies a step stages (runner.py): a board's heap is 100-200 KB, a slot 1.5 KB

    def __init__(self, nics=None, limited=False, guard=None):
        """nics: {"ap": network.WLAN(network.AP_IF), "eth": network.LAN(...)}; the config's
        interfaces-config names these keys (or gives "name/address" to skip the lookup).
        guard: {"sta": network.WLAN(network.STA_IF)}, interfaces not served whose DHCP
        broadcasts must not reach the served ones."""
        self.nics = nics or {}
        self.limited = limited
        self.guard = guard or {}
        self.sinks = {}  # guarded name -> (address text, socket)
        self.guard_at = None
        self.guard_dropped = 0
        self.claimed = {}  # name -> (address text, socket) bound before the interface came up
        self.v6 = []  # indexes of the DHCPv6 sockets
        self.v6_server = None  # the interface the DHCPv6 server socket ('::', 547) serves
        self.sec = None
        self.sec_ticks = 0
        self.socks = []
        self.metas = []
        self.bcast = []  # per socket: where a KIND_BROADCAST reply goes (text)
        self.poller = select.poll()
        self.rx_bytes = 0
        self.rx = b""  # the last datagram recv returned
        self.dest = bytearray(4)

    def _udp(self, addr, port):
        """A non-blocking UDP socket bound to (addr, port), broadcast allowed; OSError says
        why. No SO_REUSEADDR: lwIP shares a port between two different addresses without it,
        and with it ESP-IDF's SO_REUSE_RXTOALL copies each broadcast to every other socket
        on the port (a LAN's DISCOVER would reach the others)."""
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        except OSError as e:
            if e.args and e.args[0] in (errno.ENOMEM, getattr(errno, "ENFILE", -1)):
                raise OSError(e.args[0], "no UDP socket left (the firmware holds some of the few "
                              "there are; see docs/boards.md)")
            raise
        try:
            s.setsockopt(SOL_SOCKET, SO_BROADCAST, 1)
            s.bind(socket.getaddrinfo(addr, port)[0][-1])
        except OSError as e:
            s.close()
            if e.args and e.args[0] == errno.EADDRINUSE:
                raise OSError(errno.EADDRINUSE, "port %d is held by another socket: on a Wi-Fi AP that was "
                              "up before main.py claimed the port, the firmware's own DHCP server "
                              "(see docs/boards.md)" % port)
            raise OSError(e.args[0] if e.args else 0, "cannot bind %s:%d (%s)" % (addr, port, e))
        s.setblocking(False)
        return s

    def claim_v4_server(self, ifname, addr):
        """Bind (addr, 67) before interface ifname comes up: a firmware DHCP server started
        with the interface (the Pico W's AP: cyw43_lwip.c, shared/netutils/dhcpserver.c) then
        finds the port taken, its bind fails and it stays silent. open_v4_server(ifname) serves
        on this socket. Returns False (and claims nothing) when the bind fails."""
        try:
            self.claimed[ifname] = (addr, self._udp(addr, 67))
            return True
        except OSError:
            return False

    def open_v4_server(self, ifname, ifaddr=None):
        """Bind (interface address, 67). Returns the socket's index."""
        if ifname in self.claimed and ifname not in self.nics:
            self.claimed.pop(ifname)[1].close()  # claimed, but the interface never came up
        mask = "255.255.255.0"
        if ifaddr is None and ifname in self.claimed:
            ifaddr = bytearray(4)
            parse_ip4(self.claimed[ifname][0], ifaddr)
        if ifaddr:
            addr = ip4_text(ifaddr)
            nic = self.nics.get(ifname)
            if nic is not None:
                mask = nic_ipv4(nic)[1]
        else:
            addr, mask = nic_ipv4(self._nic(ifname))
            if not addr or addr == "0.0.0.0":
                raise OSError("interface %s has no IPv4 address yet" % ifname)
        c = self.claimed.pop(ifname, None)
        s = c[1] if c is not None and c[0] == addr else self._udp(addr, 67)
        if c is not None and c[1] is not s:
            c[1].close()  # the interface came up with another address than claimed
        m = self._add(s, ifname, "255.255.255.255" if self.limited else directed_broadcast(addr, mask))
        parse_ip4(addr, m.ifaddr)
        return m.ifindex

    def _nic(self, ifname):
        """The network interface main.py named ifname; OSError when there is none."""
        nic = self.nics.get(ifname)
        if nic is None:
            raise OSError("no network interface %r (board main.py names: %s)" % (ifname, ", ".join(self.nics)))
        return nic

    def _add(self, s, ifname, bcast):
        """Serve socket s for ifname (bcast: where its broadcasts go); returns its Meta."""
        m = Meta()
        m.ifindex = len(self.socks)
        m.ifname = ifname
        self.socks.append(s)
        self.metas.append(m)
        self.bcast.append(bcast)
        self.poller.register(s, select.POLLIN)
        return m

    def open_v6_server(self, ifname, ifaddr=None):
        """The DHCPv6 server needs Solicits sent to ff02::1:2, so a multicast join: rp2's
        socket module has none (extmod/modlwip.c joins IPv4 groups only) and lwIP drops
        datagrams for groups not joined; esp32 gives no interface an IPv6 address. A firmware
        whose socket module has IPV6_JOIN_GROUP (docs/boards.md) is used. The socket is bound
        to '::' (IPv6 ANY, extmod/modlwip.c:439): lwIP hands a datagram only to a pcb bound to ANY or to its very destination
        (lwIP 2.2.1 src/core/udp.c:172-175), so one bound to the link-local address would never
        get a Solicit sent to ff02::1:2. Being ANY, it is the only one on port 547: lwIP cannot
        tell which interface a Solicit came in on, so one interface is served."""
        join = getattr(socket, "IPV6_JOIN_GROUP", None)
        if join is None:
            raise OSError("a DHCPv6 server needs an IPv6 multicast join, which this firmware's "
                          "socket module lacks (docs/boards.md: the firmware route)")
        if self.v6_server is not None:
            raise OSError("one DHCPv6 server interface only (%s): its socket is bound to '::' and "
                          "lwIP does not say which interface a Solicit came in on" % self.v6_server)
        s = self._open6(ifname, 547, "::")
        self.v6_server = ifname
        mreq = bytearray(20)  # struct ipv6_mreq: ff02::1:2, interface index 0 (every netif)
        mreq[0] = 0xFF
        mreq[1] = 0x02
        mreq[13] = 1
        mreq[15] = 2
        self.socks[s].setsockopt(getattr(socket, "IPPROTO_IPV6", 41), join, mreq)
        return s

    def open_v6_client(self, ifname):
        """The DHCPv6 client (RFC 8415 7.2): bound to the interface's preferred link-local
        address, port 546 (rp2 from v1.25.0: bind '' would do too, but names no interface);
        Solicits go to ff02::1:2 and replies come back unicast. esp32: no IPv6 address."""
        return self._open6(ifname, 546)

    def _open6(self, ifname, port, host=None):
        """A socket on (host, port), host the interface's link-local address unless given;
        the interface must have a preferred link-local address either way."""
        nic = self._nic(ifname)
        ll = link_local(nic)
        if ll is None:
            raise OSError("interface %s has no preferred IPv6 link-local address (esp32 firmware "
                          "gives none; on rp2 only the station has one: docs/boards.md)" % ifname)
        try:
            s = socket.socket(getattr(socket, "AF_INET6", 10), socket.SOCK_DGRAM)
        except OSError as e:
            raise OSError(e.args[0] if e.args else 0, "no UDP socket left (docs/boards.md)")
        host = host or ll
        try:
            s.bind((host, port))  # 2-tuples only: modlwip.c:429 takes no scope id
        except OSError as e:
            s.close()
            raise OSError(e.args[0] if e.args else 0, "cannot bind [%s]:%d (%s)" % (host, port, e))
        s.setblocking(False)
        m = self._add(s, ifname, None)
        global ip6, ip6_str
        from ..wire.addr6 import ip6, ip6_str
        self.v6.append(m.ifindex)
        return m.ifindex

    def add_reader(self, obj):
        self.poller.register(obj, select.POLLIN)

    def wait(self, timeout_ms):
        if self.guard:
            self._guard()
        return self.poller.ipoll(timeout_ms)

    def _guard(self):
        """Keep a socket on (address, 67) of each guarded interface, following its address;
        drop what it took (never polled: it only has to be there)."""
        for name, (addr, s) in self.sinks.items():
            for _ in range(8):
                try:
                    s.recvfrom(RX_MAX)
                except OSError:
                    break
                self.guard_dropped += 1
        now = time.time()
        if self.guard_at is not None and now - self.guard_at < GUARD_EVERY_S:
            return
        self.guard_at = now
        for name, nic in self.guard.items():
            try:
                addr = nic_ipv4(nic)[0]
            except (OSError, AttributeError, TypeError):
                addr = None
            old = self.sinks.get(name)
            if old is not None and old[0] == addr:
                continue
            if old is not None:
                old[1].close()
                del self.sinks[name]
            if addr and addr != "0.0.0.0":
                try:
                    self.sinks[name] = (addr, self._udp(addr, 67))
                except OSError:
                    pass  # no socket left: its broadcasts may reach a served socket (docs/boards.md)

    def index_of(self, sock):
        for i in range(len(self.socks)):
            if self.socks[i] is sock:
                return i
        return -1

    def recv(self, i):
        """One datagram from socket i into self.rx: returns its length, or -1 if there is
        none. Fills metas[i] with its source."""
        self.rx = b""  # the last datagram is garbage now: its run can take this one
        try:
            r = self.socks[i].recvfrom(RX_MAX)
        except OSError:
            return -1
        self._source(i, r[1])
        self.rx = r[0]
        self.rx_bytes += len(r[0])
        return len(r[0])

    def _source(self, i, sa):
        m = self.metas[i]
        host = sa[0]
        if i in self.v6:  # rp2 v1.25+: ('fe80::...', port)
            m.src[:] = ip6(host.split("%")[0])
        elif isinstance(host, (bytes, bytearray)):  # some ports give the 4 address bytes
            m.src[0:4] = host
        else:
            parse_ip4(host, m.src)
        m.port = sa[1]

    def send(self, slot):
        i = slot.ifindex
        if i in self.v6:
            host = ip6_str(slot.dest)
        elif slot.kind == KIND_BROADCAST:
            host = self.bcast[i]
        else:
            host = ip4_text(slot.dest)
        try:
            self.socks[i].sendto(slot.mv[: slot.n], (host, slot.port))
            return True
        except OSError:
            return False

    def random_bytes(self, n):
        """Secrets (the DHCPv6 Reconfigure secret): the platform's entropy source."""
        return os.urandom(n)

    def now(self):
        return int(time.time()) + EPOCH_SHIFT

    def ms(self):
        """Milliseconds into the current second, counted from the tick the second was first
        seen to turn (Client6's retransmission timers)."""
        t = int(time.time())
        tk = time.ticks_ms()
        if t != self.sec:
            self.sec = t
            self.sec_ticks = tk
            return 0
        d = time.ticks_diff(tk, self.sec_ticks)
        return d if 0 <= d < 1000 else 999

    # -- the DHCPv6 client's binding (wan6): not applied to the nics here, so an IA_NA address
    # is only logged; a router uses Client6 for IA_PD, whose prefix goes to its LAN (router
    # mode), and the port's own SLAAC addresses the WAN. rp2 (v1.23+) has nic.ipconfig(addr6=)
    # (extmod/network_lwip.c:302-378): one static address per netif, preferred at once, no
    # lifetimes; docs/boards.md says what it could carry and why it is not wired.

    def apply_address6(self, ifname, addr, plen, preferred, valid):
        pass

    def remove_address6(self, ifname, addr, plen):
        pass

    def dad_failed6(self, ifname, addr):
        return False

    def write_resolv(self, path, dns, domains):
        pass

    # -- the DHCPv4 client (WAN side), the same methods as netif_unix ------------------------
    # Before main.py starts Client4 on a nic, that nic's own DHCP client must be off (a static
    # ifconfig stops it on ESP32 and RP2040 ports); lwIP then sends our broadcasts from 0.0.0.0.

    def open_v4_client(self, ifname):
        """Bind (0.0.0.0, 68), broadcast allowed. Returns the socket's index."""
        self._nic(ifname)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
        s.setsockopt(SOL_SOCKET, SO_BROADCAST, 1)
        s.bind(socket.getaddrinfo("0.0.0.0", 68)[0][-1])
        s.setblocking(False)
        return self._add(s, ifname, "255.255.255.255").ifindex  # no subnet yet: limited broadcast

    def mac(self, ifname):
        return bytes(self.nics[ifname].config("mac"))

    def apply_lease4(self, ifname, info, old, resolv_conf):
        """ifconfig((address, mask, gateway, dns)): lwIP keeps one gateway and the port one
        DNS server per nic, so the default route (from 121 when present, else 3) and the first
        DNS server are applied; other classless routes cannot be, and are returned."""
        gw = "0.0.0.0"
        rest = []
        for dst, plen, via in info["routes"]:
            if plen == 0 and gw == "0.0.0.0":
                gw = via
            else:
                rest.append((dst, plen, via))
        dns = info["dns"][0] if info["dns"] else "0.0.0.0"
        self.nics[ifname].ifconfig((info["address"], prefix_mask(info["prefix"]), gw, dns))
        return rest

    def remove_lease4(self, ifname, info, resolv_conf):
        self.nics[ifname].ifconfig(("0.0.0.0", "0.0.0.0", "0.0.0.0", "0.0.0.0"))

    def probe4_start(self, ifname, addr):
        pass  # MicroPython's lwIP ports expose no ARP probe

    def probe4_result(self):
        return 2  # "unavailable": the client logs it and uses the address unprobed

    def close(self):
        for s in self.socks:
            try:
                self.poller.unregister(s)
            except (OSError, ValueError, KeyError):
                pass
            s.close()
        self.socks = []
        for _, s in list(self.sinks.values()) + list(self.claimed.values()):
            s.close()
        self.sinks = {}
        self.claimed = {}


def link_local(nic):
    """The nic's preferred link-local address (text), or None. rp2 (v1.24+):
    ipconfig('addr6') lists (address, state, preferred, valid); state 0x30 is preferred
    (lwIP IP6_ADDR_PREFERRED). A port without it (esp32) raises: None."""
    try:
        addrs = nic.ipconfig("addr6")
    except (AttributeError, ValueError, OSError, TypeError):
        return None
    for e in addrs or ():
        a = e[0] if isinstance(e, tuple) else e
        state = e[1] if isinstance(e, tuple) and len(e) > 1 else 0x30
        if isinstance(a, str) and a.lower().startswith("fe80:") and state & 0x30 == 0x30:
            return a.split("%")[0]
    return None


def prefix_mask(plen):
    """24 -> '255.255.255.0' (dotted text, as ifconfig takes it)."""
    b = bytearray(4)
    for i in range(4):
        bits = plen - 8 * i
        b[i] = 255 if bits >= 8 else (0xFF00 >> bits) & 255 if bits > 0 else 0
    return ip4_text(b)


def directed_broadcast(addr, mask):
    a = bytearray(4)
    m = bytearray(4)
    parse_ip4(addr, a)
    parse_ip4(mask, m)
    for k in range(4):
        a[k] = (a[k] & m[k]) | (~m[k] & 255)
    return ip4_text(a)
