# A hand-made DHCPv6 client for the host-tool tests: a UDP socket created inside a lab
# namespace (a thread setns()es into it), bound to [::]:546 on one interface, speaking the
# packets tests/protocol/craft6.py builds. (The same idea as tests/interop's Crafted.)
import socket
import time

from host_tools import lab as L
from host_tools.lab6 import wait_link_local, ns_socket
from craft6 import decode


class Client6:
    def __init__(self, lab, ns, ifname, port=546):
        wait_link_local(lab, ns, ifname)
        self.ifx = int(lab.ip(ns, "-o", "link", "show", ifname).split(":", 1)[0])
        self.s = ns_socket(ns)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.setsockopt(socket.SOL_SOCKET, 25, ifname.encode() + b"\0")  # SO_BINDTODEVICE
        self.s.bind(("::", port, 0, 0))
        self.s.settimeout(0.2)
        lab.on_exit(self.s.close)

    def close(self):
        self.s.close()

    def send(self, data, dst="ff02::1:2", port=547):
        self.s.sendto(bytes(data), (dst, port, 0, self.ifx))

    def recv(self, timeout=3.0, want=None):
        """(bytes, source) of the next message (of type `want`), or (None, None) at timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data, src = self.s.recvfrom(4096)
            except socket.timeout:
                continue
            if want is None or data[0] == want:
                return data, src
        return None, None

    def exchange(self, data, timeout=3.0, tries=3):
        """Send (retrying) until an answer comes: (msg-type, xid, options, relays)."""
        for _ in range(tries):
            self.send(data)
            got, _ = self.recv(timeout)
            if got is not None:
                return decode(got, len(got))
        raise L.LabError("no reply to crafted message type %d" % data[0])
