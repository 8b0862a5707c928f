# Platform adapter for the MicroPython Unix port on Linux: one UDP socket per interface
# (SO_BINDTODEVICE tells us the arrival interface, as there is no IP_PKTINFO), raw sockaddr
# bytes from recvfrom, the wall clock, and interface facts from /sys and `ip`.
import os
import select
import socket
import struct
import time
from .slot import Meta, KIND_BROADCAST

SO_BINDTODEVICE = 25  # Linux <asm-generic/socket.h>; not exported by the port
EPOCH_2000 = 946684800  # engines count seconds from 2000-01-01, as boards do (small ints)


class NetifUnix:
    def __init__(self):
        self.socks = []
        self.metas = []
        self.poller = select.poll()
        self.sa = bytearray(16)  # struct sockaddr_in for sendto, reused
        self.rx_bytes = 0

    def open_v4_server(self, ifname, ifaddr=None):
        """Bind 0.0.0.0:67 on one interface. Returns the socket's index."""
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, ifname.encode() + b"\0")
        s.bind(socket.getaddrinfo("0.0.0.0", 67)[0][-1])
        s.setblocking(False)
        m = Meta()
        m.ifindex = len(self.socks)
        m.ifname = ifname
        m.ifaddr[:] = ifaddr if ifaddr else if_ipv4(ifname)
        self.socks.append(s)
        self.metas.append(m)
        self.poller.register(s, select.POLLIN)
        return m.ifindex

    def add_reader(self, obj):
        self.poller.register(obj, select.POLLIN)

    def wait(self, timeout_ms):
        """Sockets ready to read, as an iterator of (object, events)."""
        return self.poller.ipoll(timeout_ms)

    def index_of(self, sock):
        for i in range(len(self.socks)):
            if self.socks[i] is sock:
                return i
        return -1

    def recv(self, i):
        """One datagram from socket i, or None. Fills metas[i] with its source."""
        try:
            data, sa = self.socks[i].recvfrom(1501)  # one byte over the maximum: detects oversize
        except OSError:
            return None
        m = self.metas[i]
        m.port = (sa[2] << 8) | sa[3]
        m.src[0:4] = sa[4:8]
        self.rx_bytes += len(data)
        return data

    def send(self, slot):
        sa = self.sa
        struct.pack_into("<HBB", sa, 0, socket.AF_INET, slot.port >> 8, slot.port & 255)
        sa[4:8] = slot.dest[0:4]
        try:
            self.socks[slot.ifindex].sendto(memoryview(slot.buf)[: slot.n], sa)
            return True
        except OSError:
            return False

    def now(self):
        return int(time.time()) - EPOCH_2000

    def close(self):
        for s in self.socks:
            s.close()
        self.socks = []


def if_ipv4(ifname):
    """The first IPv4 address of an interface, read once at start through `ip`."""
    # /tmp is shared by every namespace: a random name keeps two servers from racing
    tmp = "/tmp/mpdhcp-ifaddr-%s-%s" % (ifname, "".join("%02x" % b for b in os.urandom(4)))
    os.system("ip -4 -o addr show dev %s > %s 2>/dev/null" % (ifname, tmp))
    try:
        with open(tmp) as f:
            text = f.read()
    finally:
        try:
            os.remove(tmp)
        except OSError:
            pass
    for word in text.split():
        if word.count(".") == 3 and "/" in word:
            from .addr import ip4

            return ip4(word.split("/")[0])
    raise OSError("interface %s has no IPv4 address (give it one, or name it as %s/ADDRESS)" % (ifname, ifname))
