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
# The clock is time.time() moved to the 2000 epoch whatever the port's epoch is; the lease
# journal is written through the VFS (store.py: open/write/flush/rename), nothing here.
# What could only be checked without a board is listed in docs/boards.md.
import os
import select
import socket
import time
from ..slot import Meta, KIND_BROADCAST

SOL_SOCKET = getattr(socket, "SOL_SOCKET", 0xFFF)  # lwIP's values where a port omits them
SO_REUSEADDR = getattr(socket, "SO_REUSEADDR", 0x0004)
SO_BROADCAST = getattr(socket, "SO_BROADCAST", 0x0020)
EPOCH_2000 = 946684800
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
    def __init__(self, nics=None, limited=False):
        """nics: {"ap": network.WLAN(network.AP_IF), "eth": network.LAN(...)}; the config's
        interfaces-config names these keys (or gives "name/address" to skip the lookup)."""
        self.nics = nics or {}
        self.limited = limited
        self.socks = []
        self.metas = []
        self.bcast = []  # per socket: where a KIND_BROADCAST reply goes (text)
        self.poller = select.poll()
        self.rx_bytes = 0
        self.dest = bytearray(4)

    def open_v4_server(self, ifname, ifaddr=None):
        """Bind (interface address, 67). Returns the socket's index."""
        mask = "255.255.255.0"
        if ifaddr:
            addr = ip4_text(ifaddr)
            nic = self.nics.get(ifname)
            if nic is not None:
                mask = nic_ipv4(nic)[1]
        else:
            nic = self.nics.get(ifname)
            if nic is None:
                raise OSError("no network interface %r (board main.py names: %s)" % (ifname, ", ".join(self.nics)))
            addr, mask = nic_ipv4(nic)
            if not addr or addr == "0.0.0.0":
                raise OSError("interface %s has no IPv4 address yet" % ifname)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
        s.setsockopt(SOL_SOCKET, SO_BROADCAST, 1)
        try:
            s.bind(socket.getaddrinfo(addr, 67)[0][-1])
        except OSError as e:
            s.close()
            raise OSError("cannot bind %s:67 on %s (%s): is the port's own DHCP server still running "
                          "on it? see docs/boards.md" % (addr, ifname, e))
        s.setblocking(False)
        m = Meta()
        m.ifindex = len(self.socks)
        m.ifname = ifname
        parse_ip4(addr, m.ifaddr)
        self.socks.append(s)
        self.metas.append(m)
        self.bcast.append("255.255.255.255" if self.limited else directed_broadcast(addr, mask))
        self.poller.register(s, select.POLLIN)
        return m.ifindex

    def open_v6_server(self, ifname, ifaddr=None):
        """Hook for the DHCPv6 server: lwIP ports with IPv6 bind (link-local, 547) here and
        join ff02::1:2; MicroPython's lwIP sockets expose no IPV6_JOIN_GROUP yet."""
        raise OSError("DHCPv6 sockets are not supported by netif_lwip yet")

    def add_reader(self, obj):
        self.poller.register(obj, select.POLLIN)

    def wait(self, timeout_ms):
        return self.poller.ipoll(timeout_ms)

    def index_of(self, sock):
        for i in range(len(self.socks)):
            if self.socks[i] is sock:
                return i
        return -1

    def recv(self, i):
        """One datagram from socket i, or None. Fills metas[i] with its source."""
        try:
            data, sa = self.socks[i].recvfrom(1501)
        except OSError:
            return None
        m = self.metas[i]
        host, port = sa[0], sa[1]
        if isinstance(host, (bytes, bytearray)):  # some ports give the 4 address bytes
            m.src[0:4] = host
        else:
            parse_ip4(host, m.src)
        m.port = port
        self.rx_bytes += len(data)
        return data

    def send(self, slot):
        i = slot.ifindex
        if slot.kind == KIND_BROADCAST:
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

    # -- the DHCPv4 client (WAN side), the same methods as netif_unix ------------------------
    # Before main.py starts Client4 on a nic, that nic's own DHCP client must be off (a static
    # ifconfig stops it on ESP32 and RP2040 ports); lwIP then sends our broadcasts from 0.0.0.0.

    def open_v4_client(self, ifname):
        """Bind (0.0.0.0, 68), broadcast allowed. Returns the socket's index."""
        if ifname not in self.nics:
            raise OSError("no network interface %r (board main.py names: %s)" % (ifname, ", ".join(self.nics)))
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
        s.setsockopt(SOL_SOCKET, SO_BROADCAST, 1)
        s.bind(socket.getaddrinfo("0.0.0.0", 68)[0][-1])
        s.setblocking(False)
        m = Meta()
        m.ifindex = len(self.socks)
        m.ifname = ifname
        self.socks.append(s)
        self.metas.append(m)
        self.bcast.append("255.255.255.255")  # a client has no subnet yet: limited broadcast
        self.poller.register(s, select.POLLIN)
        return m.ifindex

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
