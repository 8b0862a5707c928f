# The Unix adapter's DHCPv6 half: NetifUnix (netif_unix.py) and the sockets, addresses and
# clock DHCPv6 needs besides: the server's [::]:547 sockets, the client's [::]:546, the
# DHCPv4-over-DHCPv6 IPC, IA_NA addresses on the WAN, milliseconds for Client6's timers.
# netif_unix.for_config picks it for a config that speaks DHCPv6 (a DHCPv6 server or client,
# DHCPv4 over DHCPv6); a DHCPv4 router never loads it (2.6 KB of heap on the 64-bit port).
from micropython import const
import os
import socket
import struct
import time
from .netif_unix import NetifUnix, SO_BINDTODEVICE, _ip, _ip_show, _rcvbuf, _write_resolv
from ..slot import RX_MAX
from ..wire.buf import copy

IPPROTO_IPV6 = const(41)  # Linux <netinet/in.h>; with the two below, not exported by the port
IPV6_JOIN_GROUP = const(20)
IPV6_V6ONLY = const(26)


class NetifUnix6(NetifUnix):
    """NetifUnix with DHCPv6: recv and send take a socket in self.v6 (each opened here)
    themselves, and hand the others (DHCPv4) to NetifUnix's."""

    def __init__(self):
        NetifUnix.__init__(self)
        self.v6 = {}  # socket index -> (sockaddr_in6 for sendto, Linux ifindex): DHCPv6 sockets

    def recv(self, i):
        """A DHCPv6 socket needs the source, so recvfrom, and metas[i] gets it."""
        if i in self.v6:
            self.rx = b""  # the last datagram is garbage now: its run can take this one
            return self._recv6(i)
        return NetifUnix.recv(self, i)

    def send(self, slot):
        if slot.ifindex in self.v6:
            return self._send6(slot)
        return NetifUnix.send(self, slot)

    def _add6(self, s, ifname, osidx):
        m = self._add(s, ifname)
        sa = bytearray(28)  # struct sockaddr_in6, reused for every send on this socket
        struct.pack_into("<H", sa, 0, socket.AF_INET6)
        self.v6[m.ifindex] = (sa, osidx)
        return m

    def _recv6(self, i):
        try:
            r = self.socks[i].recvfrom(RX_MAX)
        except OSError:
            return -1
        self._source(self.metas[i], r[1])
        self.rx = r[0]
        self.rx_bytes += len(r[0])
        return len(r[0])

    def _source(self, m, sa):
        m.port = (sa[2] << 8) | sa[3]
        if len(sa) == 28:  # sockaddr_in6: address at 8..24 (copied by index: a slice allocates)
            copy(m.src, 0, sa, 8, 16)
        else:
            copy(m.src, 0, sa, 4, 4)

    def _send6(self, slot):
        sa, osidx = self.v6[slot.ifindex]
        sa[2] = slot.port >> 8
        sa[3] = slot.port & 255
        d = slot.dest
        for i in range(16):
            sa[8 + i] = d[i]
        scoped = d[0] == 0xFF or (d[0] == 0xFE and d[1] & 0xC0 == 0x80)  # link-local needs a scope id
        struct.pack_into("<I", sa, 24, osidx if scoped else 0)
        try:
            self.socks[slot.ifindex].sendto(slot.mv[: slot.n], sa)
            return True
        except OSError:
            return False

    def random_bytes(self, n):
        """Secrets (the DHCPv6 Reconfigure secret): the platform's entropy source."""
        return os.urandom(n)

    def ms(self):
        """Milliseconds into the current second of now() (Client6's retransmission timers)."""
        if self._t_s is None:
            self.now()
        return time.ticks_diff(time.ticks_ms(), self._t_ms) % 1000

    # -- the DHCPv6 server (LAN side); see server6.py --------------------------------------------

    def open_v6_server(self, ifname):
        """Bind [::]:547 on one interface and join ff02::1:2 (All_DHCP_Relay_Agents_and_Servers,
        RFC 8415 7.1) on it. Returns the socket's index."""
        s, osidx = _udp6(ifname, 547)
        mreq = bytearray(20)  # struct ipv6_mreq: group(16), ifindex (int, host order)
        mreq[0] = 0xFF
        mreq[1] = 0x02
        mreq[13] = 1
        mreq[15] = 2
        struct.pack_into("<i", mreq, 16, osidx)
        s.setsockopt(IPPROTO_IPV6, IPV6_JOIN_GROUP, mreq)
        s.setblocking(False)
        m = self._add6(s, ifname, osidx)
        return m.ifindex

    def open_v6_unicast(self, ifname):
        """One more socket per global (or ULA) IPv6 address of the interface, bound to
        [that address]:547 on it. Linux gives a unicast datagram to the most specific bound
        socket and a multicast one only to sockets bound to :: (or the group), so what arrives
        here was sent by unicast: its Meta says so (RFC 8415 18.4: UseMulticast, or dropped).
        The addresses are read once at start. Returns the sockets' indexes (maybe none)."""
        with open("/sys/class/net/%s/ifindex" % ifname) as f:
            osidx = int(f.read().strip())
        out = []
        for a in if_ipv6(ifname):
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, ifname.encode() + b"\0")
                s.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 1)
                s.bind(socket.getaddrinfo(a, 547)[0][-1])
            except OSError as e:  # e.g. the address went away: unicast to it is just not seen
                s.close()
                print("mpdhcp: DHCPv6 unicast to %s on %s not watched: %s" % (a, ifname, e))
                continue
            s.setblocking(False)
            m = self._add6(s, ifname, osidx)
            m.unicast = True
            out.append(m.ifindex)
        return out

    def open_ipc6(self, port):
        """DHCPv4-over-DHCPv6 across processes (Kea's IPC, v6/ipc4o6.py): UDP on [::1]:port."""
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 1)
        s.bind(socket.getaddrinfo("::1", port)[0][-1])
        s.setblocking(False)
        return self._add6(s, "lo", 1).ifindex

    # -- the DHCPv6 client (WAN side); see client6.py and wan6.py -------------------------------

    def open_v6_client(self, ifname):
        """Bind [::]:546 on one interface (RFC 8415 7.2); Solicits go to ff02::1:2 from its
        link-local address, replies come back unicast. Returns the socket's index."""
        s, osidx = _udp6(ifname, 546)
        s.setblocking(False)
        return self._add6(s, ifname, osidx).ifindex

    def apply_address6(self, ifname, addr, plen, preferred, valid):
        """An IA_NA address on the interface with its lifetimes (the kernel drops it at valid);
        /128: the prefix on the link comes from Router Advertisements, not DHCPv6."""
        _ip("-6 addr replace %s/%d dev %s valid_lft %d preferred_lft %d" % (addr, plen, ifname, valid, preferred))

    def remove_address6(self, ifname, addr, plen):
        _ip("-6 addr del %s/%d dev %s" % (addr, plen, ifname))

    def dad_failed6(self, ifname, addr):
        """Did the kernel's duplicate address detection fail for addr, just put on? Linux
        marks a permanent address `dadfailed` and deletes one with lifetimes (ours)
        (net/ipv6/addrconf.c addrconf_dad_stop), so gone counts as failed too."""
        for line in _ip_show("-6 -o addr show dev %s" % ifname).split("\n"):
            words = line.split()
            if "inet6" in words and words[words.index("inet6") + 1].split("/")[0] == addr:
                return "dadfailed" in words
        return True

    def write_resolv(self, path, dns, domains):
        _write_resolv(path, "DHCPv6", {"dns": dns, "search": domains})


def _udp6(ifname, port):
    """A UDP socket on [::]:port that sends and receives on one interface; and the
    interface's Linux index (the scope of link-local and multicast destinations)."""
    with open("/sys/class/net/%s/ifindex" % ifname) as f:
        osidx = int(f.read().strip())
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, ifname.encode() + b"\0")
    s.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 1)
    _rcvbuf(s)
    s.bind(socket.getaddrinfo("::", port)[0][-1])
    return s, osidx


def if_ipv6(ifname):
    """The global-scope (ULA included) IPv6 addresses of an interface, as strings, read once
    at start through `ip`; tentative or DAD-failed ones are left out (they cannot be bound)."""
    text = _ip_show("-6 -o addr show dev %s scope global" % ifname)
    out = []
    for line in text.split("\n"):
        words = line.split()
        if "inet6" not in words or "tentative" in words or "dadfailed" in words:
            continue
        i = words.index("inet6") + 1
        if i < len(words):
            out.append(words[i].split("/")[0])
    return out
