# What the DHCPv4 engines keep of the config: the objects the Dhcp4 and Client4 parsers
# (dhcp4.py, client4.py) fill in. Apart from the parsers so those can leave the heap after
# start (config.unload_parsers): an object holds its class, a class its methods, a method its
# module, and this module is small.


class Subnet4:
    def __init__(self):
        self.index = 0
        self.id = 0
        self.net = b""
        self.plen = 0
        self.mask = b""
        self.pools = []  # (first, last) host offsets from net, inclusive
        self.relays = []  # 4-byte giaddrs
        self.interface = None
        self.options = {}  # code -> wire bytes
        self.always = ()
        self.valid = self.t1 = self.t2 = 0
        self.authoritative = False
        self.reservations = []
        self.o6_interface = None  # 4o6-interface: DHCPV4-QUERYs arriving on this DHCPv6 interface
        self.o6_subnet = None  # 4o6-subnet: (16-byte prefix, length) holding the query's source
        self.o6_iid = None  # 4o6-interface-id: bytes the relay's Interface-Id option carries
        self.boot = None  # (next-server 4 bytes, server-hostname, boot-file-name): siaddr, sname, file
        self.dynamic_bootp = False  # user-context.mpdhcp.dynamic-bootp: BOOTP for clients without a reservation

    def contains(self, a, off=0):
        """Is the 4-byte address a[off:] inside this subnet (byte compare, no big ints)?"""
        n = self.net
        m = self.mask
        for i in range(4):
            if a[off + i] & m[i] != n[i]:
                return False
        return True


class Reservation:
    def __init__(self):
        self.hw = None
        self.cid = None
        self.addr = None
        self.hostname = None
        self.boot = None  # its own (next-server, server-hostname, boot-file-name), else the subnet's

    def problem(self, sub):
        """What makes this reservation unusable in subnet sub: (key, why), else None. The one
        place for these rules: the Dhcp4 parser and console.reserve() both ask here."""
        if self.hw is not None and len(self.hw) != 6:
            return "hw-address", "hw-address must be 6 bytes"
        if self.cid is not None and not 2 <= len(self.cid) <= 255:
            return "client-id", "client-id must be 2..255 bytes"
        if self.addr is not None and not sub.contains(self.addr):
            return "ip-address", "%d.%d.%d.%d is outside subnet" % tuple(self.addr)
        if self.hostname is not None and not 1 <= len(self.hostname) <= 63:
            return "hostname", "must be 1..63 characters"
        return None


class Config:
    def __init__(self):
        self.interfaces = []  # (ifname, 4-byte address or None)
        self.lease_file = None
        self.subnets = []
        self.decline_probation = 86400
        self.control_socket = None
        self.max_leases = 0
        self.log = True


# RFC 2131/2132 codes asked for by default: mask, routers, DNS, domain, MTU, broadcast, NTP,
# lease time, server id, T1, T2, domain search (RFC 3397), classless routes (RFC 3442)
DEFAULT_PRL = bytes((1, 3, 6, 15, 26, 28, 42, 51, 54, 58, 59, 119, 121))


class Client4Config:
    def __init__(self):
        self.interface = None
        self.hostname = None  # bytes
        self.client_id = None  # bytes; None = 01 + MAC (the builder knows the MAC)
        self.vendor_class = b"mpdhcp"
        self.prl = DEFAULT_PRL
        self.lease_file = None
        self.offer_window = 2
        self.configure = True
        self.resolv_conf = "/etc/resolv.conf"
        self.release_on_shutdown = True
        self.o6 = False  # DHCPv4 over DHCPv6 (RFC 7341)
