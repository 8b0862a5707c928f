# What the DHCPv6 engines keep of the config: the objects the Dhcp6 and Client6 parsers
# (dhcp6.py, client6.py) fill in, apart from the parsers so those can leave the heap after
# start (config.unload_parsers), as model4.py does for DHCPv4. Subnet6's router-mode methods
# (rebase, rebase_pd, holds) run while serving, so they live here too.
from ..wire.addr6 import ip6_str, in_prefix

POOL_MAX = 1 << 20  # addresses / prefixes tried per pool (offsets stay small ints on boards)
DEFAULT_ORO = (23, 24, 82)  # DNS (RFC 3646), domain list, SOL_MAX_RT (RFC 8415 21.24)


class Pool6:
    def __init__(self, first, last, size):
        self.first = first  # 16 bytes
        self.last = last
        self.size = size  # addresses tried (<= POOL_MAX)
        self.cursor = 0


class PdPool:
    def __init__(self, prefix, plen, dlen):
        self.prefix = prefix
        self.plen = plen
        self.dlen = dlen
        n = dlen - plen
        self.size = (1 << n) if n < 20 else POOL_MAX
        self.cursor = 0


class Reservation6:
    def __init__(self):
        self.duid = None
        self.hw = None
        self.addrs = []  # 16-byte addresses, one per IA_NA in order
        self.prefixes = []  # (16 bytes, length), one per IA_PD in order


class Subnet6:
    def __init__(self):
        self.index = 0
        self.id = 0
        self.net = b""
        self.plen = 0
        self.interface = None
        self.interface_id = None  # bytes: relayed clients whose relay sends this Interface-Id
        self.pools = []
        self.pd_pools = []
        self.options = {}  # code -> wire bytes
        self.always = ()
        self.preferred = self.valid = self.t1 = self.t2 = 0
        self.rapid_commit = False
        self.reservations = []
        # router mode: this /64 is number `delegated` of the prefix the WAN's Client6 holds
        # (user-context.mpdhcp.delegated-subnet-id); None: a fixed subnet
        self.delegated = None
        self.template = []  # router mode: the pools' (first, last) as configured (host parts kept)
        self.pref_at = self.valid_at = 0  # router mode: the delegated prefix's lifetimes (0: none)
        self.pd_template = []  # router mode: the pd-pools' (prefix, prefix-len, delegated-len) as configured

    def rebase(self, net):
        """Router mode: this subnet is now net/64 (16 bytes; None: nothing), its pools the
        configured host parts under it."""
        if net is None:
            self.net, self.plen, self.pools = bytes(16), 128, []
            return
        self.net, self.plen = bytes(net), 64
        self.pools = [Pool6(net[:8] + bytes(f[8:]), net[:8] + bytes(la[8:]), n) for f, la, n in self.template]

    def rebase_pd(self, prefix, dlen, lans):
        """Router mode: the pd-pools under the delegated prefix/dlen. A configured pd-pool
        prefix is a template: its bits past dlen are kept, the first dlen come from the
        prefix. A pool wider than the delegated prefix, or holding one of the LAN /64s
        (lans), is left out. Returns the texts of those left out."""
        self.pd_pools = []
        out = []
        if prefix is None:
            return out
        for pre, plen, dl in self.pd_template:
            b = bytearray(16)
            for i in range(16):
                bits = dlen - 8 * i
                m = 255 if bits >= 8 else (0 if bits <= 0 else (0xFF << (8 - bits)) & 255)
                b[i] = (prefix[i] & m) | (pre[i] & ~m & 255)
            if plen < dlen or [x for x in lans if in_prefix(x, b, plen)]:
                out.append("%s/%d" % (ip6_str(b), plen))
            else:
                self.pd_pools.append(PdPool(bytes(b), plen, dl))
        return out

    def holds(self, kind, a, off, plen):
        """Router mode: is a[off:]/plen still on this link (IA_NA 0: in the subnet; IA_PD:
        inside a pd-pool)? A fixed subnet holds everything it leased."""
        if self.delegated is None:
            return True
        if kind == 0:
            return self.contains(a, off)
        for p in self.pd_pools:
            if plen >= p.plen and _in(a, off, p.prefix, p.plen):
                return True
        return False

    def contains(self, a, off=0):
        """Is a[off:off+16] inside this subnet (byte compare)?"""
        return _in(a, off, self.net, self.plen)


class Config6:
    def __init__(self):
        self.interfaces = []  # interface names
        self.lease_file = None
        self.subnets = []
        self.control_socket = None
        self.max_leases = 0
        self.log = True
        self.decline_probation = 86400
        self.duid_type = "LLT"
        self.duid_htype = 1
        self.duid_ident = None  # bytes, or None: the interface's MAC
        self.duid_time = None


class Client6Config:
    def __init__(self):
        self.interface = None
        self.ia_na = True
        self.ia_pd = False
        self.ia_ta = False
        self.pd_hint = 0
        self.rapid_commit = False
        self.reconfigure_accept = True
        self.oro = bytes(2 * len(DEFAULT_ORO))
        self.lease_file = None
        self.configure = True
        self.resolv_conf = None
        self.release_on_shutdown = True


def _in(a, off, net, plen):
    """Is a[off:off+16] inside net/plen? (byte compare, no allocation: the packet path)"""
    i = 0
    while plen >= 8:
        if a[off + i] != net[i]:
            return False
        plen -= 8
        i += 1
    return not plen or (a[off + i] ^ net[i]) & (0xFF << (8 - plen)) & 255 == 0
