# state/alloc.py: the one allocator of both servers. The first tests are the five defects a
# black-box review found when each server had its own copy (each failed on the old code);
# then the pieces: a pool's bitmap, reservations, own address.
from craft4 import pkt, opt, meta, exchange, options, yiaddr, server, MAC1
from mpdhcp.wire.addr import ip4
from mpdhcp.wire.addr6 import ip6
from mpdhcp.state.journal import Journal
from mpdhcp.state.alloc import Pool
from mpdhcp.wire import packet4 as P
import craft6 as C6

MAC_RES = b"\x02\x00\x00\x00\x00\x99"  # craft4.CONFIG reserves 192.168.77.50 for it


def _mac(i):
    return bytes((2, 0, 0, 0, (i >> 8) & 255, i & 255))


def _listing(s):
    """What survives a restart: every lease but the offers (never journaled by design)."""
    lt = s.leases
    return sorted(lt.fields(r) for r in range(lt.used) if lt.state(r) not in (0, 1))


def _restart(s):
    j = Journal(None)
    j.memory = bytearray(s.journal.memory)
    s2 = server(capacity=64, journal=j)
    s2.restore()
    return s2


def _request(s, mac, addr, now=1000, sid=None):
    opts = (opt(50, ip4(addr)),) + ((opt(54, ip4(sid)),) if sid else ())
    n, out = exchange(s, pkt(3, mac, opts=opts), now=now)
    return options(out.buf, n).get(53) if n else None


def test_live_and_replayed_leases_are_equal_after_init_reboot_hopping():
    # One MAC asks for .100, .101, ... .109 in turn (INIT-REBOOT): it holds one lease, and so
    # must the journal: the old copy journaled only the new address (10 ghosts on replay).
    s = server()
    for i in range(10):
        assert _request(s, MAC1, "192.168.77.%d" % (100 + i), now=1000 + i) == b"\x05"
        s.journal.commit()
    assert s.leases.held() == 1
    s2 = _restart(s)
    assert _listing(s2) == _listing(s) and s2.leases.held() == 1
    n, out = exchange(s2, pkt(1, b"\x02\x00\x00\x00\x00\x07"), now=1100)
    assert n > 0 and yiaddr(out.buf) != "192.168.77.109"  # a new client is served


def test_journal_replays_to_live_state_through_moves_declines_and_releases():
    s = server()
    _request(s, MAC1, "192.168.77.100")
    _request(s, _mac(2), "192.168.77.101")
    _request(s, MAC1, "192.168.77.102")  # MAC1 moves: .100 is dropped in the journal too
    d = pkt(4, _mac(2), opts=(opt(50, ip4("192.168.77.101")), opt(54, ip4("192.168.77.1"))))
    exchange(s, d, now=1001)  # DECLINE: nobody's record
    r = pkt(7, MAC1, ciaddr="192.168.77.102", opts=(opt(54, ip4("192.168.77.1")),))
    exchange(s, r, now=1002)  # RELEASE
    s.journal.commit()
    assert _listing(_restart(s)) == _listing(s)


def _fill(s, n, first=1, now=1000):
    for i in range(first, first + n):
        ex = exchange(s, pkt(1, _mac(i)), now=now)
        if ex[0]:
            _request(s, _mac(i), yiaddr(ex[1].buf), now=now, sid="192.168.77.1")


def test_a_reserved_address_is_never_offered_to_a_stranger():
    s = server()
    m = meta()
    assert _request(s, MAC_RES, "192.168.77.50", sid="192.168.77.1") == b"\x05"
    r = pkt(7, MAC_RES, ciaddr="192.168.77.50", opts=(opt(54, ip4("192.168.77.1")),))
    exchange(s, r, m, now=1001)  # released: the oldest reusable address now
    _fill(s, 10, now=1002)  # the pool (10 addresses) is full
    n, out = exchange(s, pkt(1, _mac(500)), m, now=1003)
    assert n == 0 and s.stats["pool_exhausted"] >= 1  # never .50
    n, out = exchange(s, pkt(1, MAC_RES), m, now=1004)
    assert n > 0 and yiaddr(out.buf) == "192.168.77.50"


OWN_POOL = """{"Dhcp4": {"interfaces-config": {"interfaces": ["s0"]}, "valid-lifetime": 600,
  "subnet4": [{"id": 1, "subnet": "192.168.77.0/24", "pools": [{"pool": "192.168.77.0/24"}]}]}}"""


def test_the_servers_own_address_is_never_leased():
    s = server(OWN_POOL, capacity=300)
    assert _request(s, MAC1, "192.168.77.1") is None  # INIT-REBOOT, unknown client: silent
    assert _request(s, MAC1, "192.168.77.1", sid="192.168.77.1") == b"\x06"
    for i in range(1, 300):
        n, out = exchange(s, pkt(1, _mac(i)))
        assert n == 0 or yiaddr(out.buf) != "192.168.77.1"


def test_reserved_clients_are_served_when_the_table_is_capped():
    s = server(capacity=4)  # max-leases 4 with a 10-address pool
    _fill(s, 6)
    assert s.leases.held() == 4  # strangers stop at the cap
    n, out = exchange(s, pkt(1, MAC_RES), now=1001)
    assert n > 0 and yiaddr(out.buf) == "192.168.77.50"
    assert _request(s, MAC_RES, "192.168.77.50", now=1001, sid="192.168.77.1") == b"\x05"


def _pool_config(n):
    return ('{"Dhcp4": {"interfaces-config": {"interfaces": ["s0"]}, "valid-lifetime": 600, '
            '"subnet4": [{"id": 1, "subnet": "10.0.0.0/16", "pools": [{"pool": "10.0.1.0 - 10.0.%d.255"}]}]}}'
            % (n // 256))


def _lookups_for_one_more_discover(n):
    s = server(_pool_config(n), capacity=n)
    m = meta(ifaddr="10.0.0.1")
    for i in range(n):  # every address bound: nothing free, nothing to reuse
        d = exchange(s, pkt(1, _mac(i)), m, now=1000)[1]
        req = pkt(3, _mac(i), opts=(opt(50, d.buf[16:20]), opt(54, ip4("10.0.0.1"))))
        assert exchange(s, req, m, now=1000)[0] > 0
        if i % 64 == 63:  # the in-memory journal is not what this measures: keep it small, so a
            s.journal.commit()  # 512K Unix-port heap never needs one 50 KB block for it
            s.journal.memory = bytearray()
    count = [0]
    find = s.leases.find_addr

    def counted(a, off):
        count[0] += 1
        return find(a, off)

    s.leases.find_addr = counted
    assert exchange(s, pkt(1, _mac(n + 1)), m, now=1001)[0] == 0  # exhausted
    return count[0]


def test_a_full_pool_costs_the_same_whatever_its_size():
    small = _lookups_for_one_more_discover(256)
    big = _lookups_for_one_more_discover(1024)
    assert small == big and big <= 4, (small, big)  # the old pool scan: one lookup per address


PD_CONFIG = """{"Dhcp6": {"interfaces-config": {"interfaces": ["s0"]}, "valid-lifetime": 4000,
  "subnet6": [{"id": 1, "subnet": "2001:db8:1::/64", "interface": "s0",
    "pd-pools": [{"prefix": "2001:db8:8000::", "prefix-len": %d, "delegated-len": 56}]}]}}"""


class _Dropping(Journal):
    """Staged records dropped at each commit: these tests count lookups, and a journal kept
    in memory (512 leases: 29 KB, grown by copying) is heap a board's file journal never
    needs; near the 512K test heap, its growth failed or not as the heap's layout fell."""

    def commit(self):
        n = self.n
        self.n = 0
        return n


def _prefix_lookups_for_85_ias(plen):
    size = 1 << (56 - plen)
    s = C6.server(PD_CONFIG % plen, capacity=size, journal=_Dropping(None))
    for i in range(size // 8):  # 8 IA_PDs per client fill the pool
        C6.bind(s, C6.duid_ll(_mac(i)), ias=tuple(C6.ia_pd(k) for k in range(8)))
    count = [0]
    find = s.leases.find_addr

    def counted(a, off, plen):
        count[0] += 1
        return find(a, off, plen)

    s.leases.find_addr = counted
    sol = C6.msg(1, tuple(C6.ia_pd(k) for k in range(85)), cid=C6.duid_ll(_mac(9999)))
    n, out = C6.exchange(s, sol, now=1001)
    t, _, o, _ = C6.decode(out.buf, n)
    assert len(o[25]) > 60 and all(C6.status(C6.options(d, 12, len(d))) == 6 for d in o[25])
    return count[0]


def test_an_exhausted_prefix_pool_costs_the_same_per_ia_whatever_its_size():
    small = _prefix_lookups_for_85_ias(48)  # 256 prefixes
    big = _prefix_lookups_for_85_ias(47)  # 512
    assert small == big and big <= 85, (small, big)  # the old scan: the pool, per IA, twice


def test_a_discover_flood_slows_new_clients_but_never_locks_them_out():
    # The rule under a random-MAC DISCOVER flood: offers hold an address 30 s, but when the
    # pool has nothing free or given up, the oldest offer is reused (an offer is no promise,
    # RFC 2131 4.3.1); bound leases, declined ones in probation and reservations never are.
    s = server()  # a 10-address pool, .50 reserved for MAC_RES
    m = meta()
    _fill(s, 3, now=1000)  # three bound clients (.100-.102)
    for i in range(100, 140):  # the flood: 40 strangers, 7 free addresses
        exchange(s, pkt(1, _mac(i)), m, now=1001)
    n, out = exchange(s, pkt(1, _mac(500)), m, now=1002)  # a real client arrives
    assert n > 0 and yiaddr(out.buf) not in ("192.168.77.100", "192.168.77.101", "192.168.77.102")
    assert _request(s, _mac(500), yiaddr(out.buf), now=1002, sid="192.168.77.1") == b"\x05"
    for i in range(1, 4):  # the bound clients renew undisturbed
        a = "192.168.77.%d" % (99 + i)
        r = pkt(3, _mac(i), ciaddr=a)
        assert options(*_swap(exchange(s, r, m, now=1003)))[53] == b"\x05"
    assert _request(s, MAC_RES, "192.168.77.50", now=1003, sid="192.168.77.1") == b"\x05"


def _swap(ex):
    n, out = ex
    return out.buf, n


def test_pool_bitmap_finds_the_one_free_step_and_wraps():
    p = Pool(bytes(4), 1000, 0, 32, 4, True)
    for k in range(1000):
        p.mark(k, True)
    assert p.nfree == 0 and p.next_free() == -1
    p.mark(3, False)
    p.cursor = 900
    assert p.next_free() == 3  # wrapped past the end
    p.mark(3, True)
    p.mark(999, False)
    assert p.next_free() == 999 and p.nfree == 1
    p.mark(999, False)  # idempotent
    assert p.nfree == 1


def test_pool_maps_prefixes_by_step():
    base = ip6("2001:db8:8000::")
    p = Pool(base, 256, 128 - 56, 56, 16, True)
    assert p.index(ip6("2001:db8:8000:ff00::"), 0, 56) == 255
    assert p.index(ip6("2001:db8:8000:ff00::"), 0, 64) == -1  # another length
    assert p.index(ip6("2001:db8:8000:ff01::"), 0, 56) == -1  # not on a /56 step
    assert p.index(ip6("2001:db8:8001::"), 0, 56) == -1  # past the pool
    d = bytearray(16)
    p.nth(255, d)
    assert bytes(d) == ip6("2001:db8:8000:ff00::")


def test_a_reserved_client_holding_its_lease_does_not_shrink_the_strangers_share():
    s = server(capacity=4)  # max-leases 4, one reservation: a table of 5
    assert _request(s, MAC_RES, "192.168.77.50", sid="192.168.77.1") == b"\x05"
    _fill(s, 6)
    assert s.leases.held() == 5  # the reserved client's lease + max-leases strangers
    assert s.leases.npinned == 1


def test_a_client_id_back_on_a_reserved_nic_gets_its_record_pinned_and_relabelled():
    # found by the fuzz campaign: a client-id first seen on one NIC took an address, which was
    # then reserved (console) for another NIC's hardware address; the same client-id came back
    # on that NIC and got its own record back, still labelled with the old hardware address
    # and not pinned, so after its offer a stranger could have taken the reserved address
    from mpdhcp import console
    from mpdhcp.state.table import F_PINNED

    s = server()
    cid = opt(61, b"\x01\x02\x00\x00\x00\x00\x98")
    n, out = exchange(s, pkt(1, _mac(0x98), opts=(cid,)), now=1000)
    a = yiaddr(out.buf)

    class Svc:
        cfg = None

        def engine(self, name):
            return s

        def now(self):
            return 2000  # the offer is long gone

    nic = b"\x02\x00\x00\x00\x00\x02"
    console.reserve("02:00:00:00:00:02", a, None, None, Svc())
    n, out = exchange(s, pkt(1, nic, opts=(cid,)), now=2000)
    assert n and yiaddr(out.buf) == a
    r = s.leases.find_addr(ip4(a), 0)
    assert s.leases.fields(r)[1] == nic and s.leases.recs[r * s.leases.rec + s.leases.o_flags] & F_PINNED
    for i in range(3):  # strangers after the offer's hold: never the reserved address
        n, out = exchange(s, pkt(1, _mac(0x40 + i)), now=2100)
        assert not n or yiaddr(out.buf) != a
