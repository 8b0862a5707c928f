# Preallocated records passed between the runner, the adapters and the engines.
from micropython import const

KIND_NONE = const(0)
KIND_UNICAST = const(1)
KIND_BROADCAST = const(2)  # limited broadcast (v4) on the arrival interface
RX_MAX = const(1501)  # what the adapters ask recv for: one byte over the largest datagram
# (detects an oversize one); the port takes that whole run of heap, then gives back the rest


class Meta:
    """Where a datagram came from; filled in place by the adapter for every packet."""

    def __init__(self):
        self.ifindex = 0  # the adapter's interface number (position in its list)
        self.ifname = ""
        self.ifaddr = bytearray(4)  # the interface's IPv4 address: our server identifier there
        self.src = bytearray(16)  # source address (4 bytes used for v4)
        self.port = 0
        self.unicast = False  # v6: arrived by unicast, not to ff02::1:2 (RFC 8415 18.3.2)
        # DHCPv4-over-DHCPv6 (RFC 7341): a DHCPv4 message that came in a DHCPV4-QUERY; src is
        # then the query's IPv6 source, iid[:iid_len] the innermost relay's Interface-Id
        self.v4o6 = False
        self.iid = bytearray(64)
        self.iid_len = 0


class Slot:
    """One reply: bytes to send, where to, and what to log. Owned by the runner's ring."""

    def __init__(self, size=1500):
        self.buf = bytearray(size)
        self.mv = memoryview(self.buf)  # made once: adapters send mv[:n]
        self.n = 0
        self.kind = KIND_NONE
        self.dest = bytearray(16)
        self.port = 0
        self.ifindex = 0
        # for the one log line per exchange
        self.rx_type = 0
        self.tx_type = 0
        self.hw = bytearray(6)
        self.addr = bytearray(4)
        self.addr6 = bytearray(16)  # v6 log field: the address or prefix handed out
