# Platform adapter for the MicroPython Unix port on Linux: one UDP socket per interface
# (SO_BINDTODEVICE tells us the arrival interface, as there is no IP_PKTINFO), raw sockaddr
# bytes from recvfrom, the wall clock, and interface facts from /sys and `ip`.
from micropython import const
import os
import select
import socket
import struct
import time
from ..slot import Meta, RX_MAX

SO_BINDTODEVICE = const(25)  # Linux <asm-generic/socket.h>; not exported by the port
EPOCH_2000 = const(946684800)  # engines count seconds from 2000-01-01, as boards do (small ints)


class NetifUnix:
    # replies a step stages, so one commit (fsync) covers them all: a host under load batches
    # up to this many while the previous fsync ran (runner.py sizes it down on a small heap)
    RING = 64

    def __init__(self):
        self.socks = []
        self.metas = []
        self.poller = select.poll()
        self.sa = bytearray(16)  # struct sockaddr_in for sendto, reused
        struct.pack_into("<H", self.sa, 0, socket.AF_INET)
        self.rx_bytes = 0
        self.rx = b""  # the last datagram recv returned

    def open_v4_server(self, ifname, ifaddr=None):
        """Bind 0.0.0.0:67 on one interface. Returns the socket's index."""
        m = self._add(_udp4(ifname, 67), ifname)
        m.ifaddr[:] = ifaddr if ifaddr else if_ipv4(ifname)
        return m.ifindex

    def _add(self, s, ifname):
        """Register a bound socket: polled, with its Meta. Returns the Meta."""
        m = Meta()
        m.ifindex = len(self.socks)
        m.ifname = ifname
        self.socks.append(s)
        self.metas.append(m)
        self.poller.register(s, select.POLLIN)
        return m

    def add_reader(self, obj):
        self.poller.register(obj, select.POLLIN)

    def watch(self, obj, writable):
        """Poll obj for reading, or (writable) for room to write; registering again updates."""
        self.poller.register(obj, select.POLLOUT if writable else select.POLLIN)

    def unwatch(self, obj):
        self.poller.unregister(obj)

    def wait(self, timeout_ms):
        """Sockets ready to read, as an iterator of (object, events)."""
        return self.poller.ipoll(timeout_ms)

    def index_of(self, sock):
        for i in range(len(self.socks)):
            if self.socks[i] is sock:
                return i
        return -1

    # The per-packet methods below keep their frames small (at most 11 words of locals,
    # stack and handlers, py/objfun.c VM_MAX_STATE_ON_STACK): the runner calls them with the
    # heap unlocked, and a bigger frame would be a heap allocation per packet.

    def recv(self, i):
        """One datagram from socket i into self.rx: returns its length, or -1 if there is
        none. A DHCPv4 socket takes recv, not recvfrom: the v4 engines never need the source
        (RFC 2131 4.1 replies go where the packet's own fields say), and the address tuple
        and its bytes were two more allocations per packet. (readinto is no way out: the
        port's stream read loops until the buffer is full, joining datagrams.) DHCPv6
        sockets: netif_unix6.py."""
        self.rx = b""  # the last datagram is garbage now: its run can take this one
        try:
            d = self.socks[i].recv(RX_MAX)
        except OSError:
            return -1
        self.rx = d
        self.rx_bytes += len(d)
        return len(d)

    def send(self, slot):
        self._dest4(self.sa, slot.port, slot.dest)
        return self._sendto(self.socks[slot.ifindex], slot.mv[: slot.n], self.sa)

    def _dest4(self, sa, port, d):
        # AF_INET set once; port and address by index (a slice would allocate)
        sa[2] = port >> 8
        sa[3] = port & 255
        sa[4] = d[0]
        sa[5] = d[1]
        sa[6] = d[2]
        sa[7] = d[3]

    def _sendto(self, sock, data, sa):
        try:
            sock.sendto(data, sa)
            return True
        except OSError:
            return False

    _t_s = None  # the wall clock (engine seconds) read at tick _t_ms
    _last = 0  # the last second returned

    def now(self):
        # time.time() returns a float, a heap object per call; the millisecond tick counter is a
        # small int (62-bit here: it never wraps). So the wall clock is read once a minute and
        # the ticks since are added: allocation-free between re-reads, never goes backwards.
        # The fraction of the second at the re-read is kept (the tick base is set back by it),
        # so the engine's seconds turn with the wall clock's: dropping it made this clock lag
        # by up to 2 s, different in each process, and a lease could be reused up to 2 s
        # before the client's own expiry after a restart (found by `host_tools stress`).
        # A small frame (see recv); the re-read is its own method.
        if self._t_s is None:
            return self._reread()
        d = time.ticks_diff(time.ticks_ms(), self._t_ms)
        if d < 0 or d >= 60000:
            return self._reread()
        n = self._t_s + d // 1000
        if n < self._last:
            return self._last  # never backwards across a re-read
        self._last = n
        return n

    def _reread(self):
        t = time.ticks_ms()
        wall = time.time()
        s = int(wall)
        self._t_s = s - EPOCH_2000
        self._t_ms = time.ticks_add(t, -int((wall - s) * 1000))
        n = self._t_s + time.ticks_diff(t, self._t_ms) // 1000
        if n < self._last:
            return self._last
        self._last = n
        return n

    # -- the DHCPv4 client (WAN side); see client4.py and wan4.py -------------------------------

    def open_v4_client(self, ifname):
        """Bind 0.0.0.0:68 on one interface, broadcast allowed. Returns the socket's index.
        Linux sends the client's broadcasts from 0.0.0.0 while the interface has no address;
        replies come as broadcasts (the client sets the BROADCAST flag until it is bound)."""
        return self._add(_udp4(ifname, 68), ifname).ifindex

    def mac(self, ifname):
        """The interface's 6-byte MAC, from /sys."""
        with open("/sys/class/net/%s/address" % ifname) as f:
            text = f.read().strip()
        return bytes(int(x, 16) for x in text.split(":"))

    def apply_lease4(self, ifname, info, old, resolv_conf):
        """Put a client lease on the interface with `ip`: address/prefix, routes (info["routes"]
        already has classless routes winning over the router option), MTU, and DNS into
        resolv_conf (None: nowhere). old: the lease applied before (or None)."""
        addr = "%s/%d" % (info["address"], info["prefix"])
        if old is not None and "%s/%d" % (old["address"], old["prefix"]) != addr:
            self.remove_lease4(ifname, old, None)
        elif old is not None:
            for r in old["routes"]:
                if r not in info["routes"]:
                    _ip("route del %s dev %s" % (_route_dst(r), ifname))
        _ip("addr replace %s broadcast + dev %s" % (addr, ifname))
        if info.get("mtu", 0) >= 576:
            _ip("link set dev %s mtu %d" % (ifname, info["mtu"]))
        for r in info["routes"]:
            if r[2] == "0.0.0.0":
                _ip("route replace %s dev %s scope link" % (_route_dst(r), ifname))
            else:  # onlink: RFC 3442 gateways need not sit inside the leased prefix
                _ip("route replace %s via %s dev %s onlink" % (_route_dst(r), r[2], ifname))
        if resolv_conf:
            _write_resolv(resolv_conf, ifname, info)

    def remove_lease4(self, ifname, info, resolv_conf):
        """Undo apply_lease4: routes, then the address; resolv_conf keeps only a comment."""
        for r in info["routes"]:
            _ip("route del %s dev %s" % (_route_dst(r), ifname))
        _ip("addr del %s/%d dev %s" % (info["address"], info["prefix"], ifname))
        if resolv_conf:
            _write_resolv(resolv_conf, ifname, None)

    def probe4_start(self, ifname, addr):
        """Address-in-use check before using a new lease: an ARP probe (RFC 5227: sender
        0.0.0.0) with `arping -D` (iputils, else busybox), in the background so the runner keeps
        serving; probe4_result() polls it. Takes up to 2 s."""
        self.probe_file = "/tmp/mpdhcp-probe-%s" % ifname
        try:
            os.remove(self.probe_file)
        except OSError:
            pass
        os.system("(if command -v arping >/dev/null 2>&1; then A=arping; else A='busybox arping'; fi; "
                  "$A -D -q -f -I %s -c 2 -w 2 %s >/dev/null 2>&1; echo $? > %s.tmp; mv %s.tmp %s) &"
                  % (ifname, addr, self.probe_file, self.probe_file, self.probe_file))

    def probe4_result(self):
        """None while the probe runs; else 1 (someone answered: in use), 0 (free) or another
        exit status (no arping: treated as free by the caller, and logged)."""
        try:
            with open(self.probe_file) as f:
                text = f.read().strip()
        except OSError:
            return None
        try:
            os.remove(self.probe_file)
        except OSError:
            pass
        return int(text) if text.isdigit() else 2

    def close(self):
        for s in self.socks:
            s.close()
        self.socks = []



def for_config(doc):
    """The adapter for this config (parsed, section name -> object): NetifUnix, or NetifUnix6
    (netif_unix6.py) when a section speaks DHCPv6 (a DHCPv6 server or client, DHCPv4 over
    DHCPv6: Dhcp4's 4o6 port, Client4's 4o6): a DHCPv4 router carries none of its code."""
    d4 = doc.get("Dhcp4")
    c4 = doc.get("Client4")
    if "Dhcp6" in doc or "Client6" in doc or (d4 and d4.dhcp4o6_port) or (c4 and c4.o6):
        from .netif_unix6 import NetifUnix6

        return NetifUnix6()
    return NetifUnix()

SO_RCVBUF = const(8)  # <asm-generic/socket.h>
SO_RCVBUFFORCE = const(33)  # past net.core.rmem_max, for root (CAP_NET_ADMIN)
RCVBUF = const(4 * 1024 * 1024)


def _rcvbuf(s):
    """A receive queue that rides out a slow journal flush. The default (rmem ~208 KB of
    skbs: a few hundred datagrams) overflows while one fsync of a busy step takes tens of
    milliseconds at 10k datagrams/s: the kernel drops the rest (UDP RcvbufErrors; seen at
    5000 DHCPv6 leases/s). 4 MB holds seconds of that. SO_RCVBUFFORCE passes the sysctl cap
    as root (a DHCP server is); else SO_RCVBUF gets what rmem_max allows."""
    for opt in (SO_RCVBUFFORCE, SO_RCVBUF):
        try:
            s.setsockopt(socket.SOL_SOCKET, opt, RCVBUF)
            return
        except OSError:
            pass


def _udp4(ifname, port):
    """A non-blocking UDP socket on 0.0.0.0:port that sends and receives on one interface."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, ifname.encode() + b"\0")
    _rcvbuf(s)
    s.bind(socket.getaddrinfo("0.0.0.0", port)[0][-1])
    s.setblocking(False)
    return s



def _ip_show(args):
    """What `ip ARGS` prints (start-up only: the port has no netlink or ioctl)."""
    # /tmp is shared by every namespace: a random name keeps two servers from racing
    tmp = "/tmp/mpdhcp-ip-%s" % "".join("%02x" % b for b in os.urandom(6))
    os.system("ip %s > %s 2>/dev/null" % (args, tmp))
    try:
        with open(tmp) as f:
            return f.read()
    finally:
        try:
            os.remove(tmp)
        except OSError:
            pass


def if_ipv4(ifname):
    """The first IPv4 address of an interface, read once at start through `ip`."""
    for word in _ip_show("-4 -o addr show dev %s" % ifname).split():
        if word.count(".") == 3 and "/" in word:
            from ..wire.addr import ip4

            return ip4(word.split("/")[0])
    raise OSError("interface %s has no IPv4 address (give it one, or name it as %s/ADDRESS)" % (ifname, ifname))



def _ip(args):
    """Run `ip ARGS`; its complaints go to stderr (the service log). Returns the exit status."""
    return os.system("ip " + args)


def _route_dst(r):
    return "default" if r[1] == 0 else "%s/%d" % (r[0], r[1])


def _write_resolv(path, ifname, info):
    """Write the DHCP DNS servers and search domains to path (in place: it may be a
    bind mount, as /etc/netns/NAME/resolv.conf is under `ip netns exec`)."""
    lines = ["# written by mpdhcp: DHCP lease on %s" % ifname]
    if info is not None:
        doms = list(info.get("search") or [])
        if info.get("domain") and info["domain"] not in doms:
            doms.insert(0, info["domain"])
        if doms:
            lines.append("search " + " ".join(doms))
        for a in info["dns"]:
            lines.append("nameserver " + a)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
