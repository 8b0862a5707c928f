# Engine alone, no sockets: handled messages per second for each message kind, for
# `python -m host_tools bench` (issue "Speed and fit"). Run under the Unix port:
#   MICROPYPATH=firmware:tests/protocol:.frozen micropython -X heapsize=16M tests/bench/engine_rate.py [N]
# (also runs under CPython, with PYTHONPATH the same). Prints one JSON object:
#   {"v4": {"DISCOVER": msgs/s, "REQUEST": .., "RENEW": ..}, "v6": {"Solicit": .., ...}}
# Every request is built before its window; a window times only the engine's handle() calls,
# with the journal's commit (memory only) once per 16 messages as the runner does it. Each
# figure is the best of three fresh runs.
import gc
import json
import sys

try:
    from time import ticks_us, ticks_diff
except ImportError:  # CPython
    from time import perf_counter

    def ticks_us():
        return int(perf_counter() * 1000000)

    def ticks_diff(a, b):
        return a - b

    from host_tools.fwimport import firmware

    firmware()

import craft4 as C4
from bench_config import CONFIG4, PRL
import craft6 as C6
from mpdhcp.config.parser import parse, parse_doc
from mpdhcp.v4.server4 import Server4
from mpdhcp.v6.server6 import Server6
from mpdhcp.slot import Slot
from mpdhcp.state.journal import Journal
from mpdhcp.wire.addr import ip4

try:
    from micropython import heap_lock, heap_unlock
except ImportError:
    def heap_lock():
        pass

    heap_unlock = heap_lock

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
N = int(ARGS[0]) if ARGS else 2000
LOCKED = "--unlocked" not in sys.argv  # as the runner handles a packet: heap locked
NOW = 100000

CONFIG6 = """{"Dhcp6": {"interfaces-config": {"interfaces": ["s0"]},
  "subnet6": [{"id": 1, "subnet": "2001:db8:1::/64", "interface": "s0",
    "pools": [{"pool": "2001:db8:1::/80"}],
    "pd-pools": [{"prefix": "2001:db8:8000::", "prefix-len": 36, "delegated-len": 56}],
    "option-data": [{"name": "dns-servers", "data": "2001:db8:1::1"}]}],
  "user-context": {"mpdhcp": {"log": false}}}}"""  # as the bench serves (no log fields filled)


class MemJournal(Journal):
    """Staged bytes dropped at each commit: the engine's work without a file."""

    def commit(self):
        n = self.n
        self.n = 0
        self.size += n  # (offsets move on: a hostname left here reads back as nothing)
        return n


def _time(s, pkts, m, out):
    """msgs/s handling every packet in pkts (all answered, or the figure is refused)."""
    j = s.journal
    gc.collect()
    ok = 0
    k = 0
    t0 = ticks_us()
    for p in pkts:
        if LOCKED:
            heap_lock()
        if s.handle(p, len(p), m, NOW, out) > 0:
            ok += 1
        if LOCKED:
            heap_unlock()
        k += 1
        if k == 16:
            j.commit()
            k = 0
    us = ticks_diff(ticks_us(), t0)
    j.commit()
    assert ok == len(pkts), (ok, len(pkts))
    return round(len(pkts) * 1000000 / us)


def _mac(i):
    return bytes([2, 0xBE, 0, (i >> 16) & 255, (i >> 8) & 255, i & 255])


def v4(n):
    cfg = parse(CONFIG4)
    m = C4.meta("s0", "10.77.0.1")
    s = Server4(cfg, MemJournal(None), n + 8)
    out = Slot()
    disc = [C4.pkt(1, _mac(i), xid=i + 1, prl=PRL, opts=(C4.opt(12, b"host-%d" % i),)) for i in range(n)]
    r = {"DISCOVER": _time(s, disc, m, out)}
    addrs = []
    for d in disc:  # the offers, in order, for the REQUESTs
        s.handle(d, len(d), m, NOW, out)
        addrs.append(C4.yiaddr(out.buf))
    sid = ip4("10.77.0.1")
    req = [C4.pkt(3, _mac(i), xid=i + 1, prl=PRL,
                  opts=(C4.opt(50, ip4(addrs[i])), C4.opt(54, sid), C4.opt(12, b"host-%d" % i)))
           for i in range(n)]
    r["REQUEST"] = _time(s, req, m, out)
    ren = [C4.pkt(3, _mac(i), xid=0x10000 + i, prl=PRL, ciaddr=addrs[i]) for i in range(n)]
    r["RENEW"] = _time(s, ren, m, out)
    return r


def _cid(i):
    return bytes([0, 3, 0, 1, 2, 0, (i >> 16) & 255, (i >> 8) & 255, i & 255, 1])


def v6(n):
    cfg = parse_doc(CONFIG6).get("Dhcp6")
    m = C6.meta()
    s = Server6(cfg, MemJournal(None), 2 * n + 8, C6.SERVER_DUID, C6.SECRET)
    out = Slot()
    ias = (C6.ia_na(1), C6.ia_pd(2), C6.oro(23))
    sol = [C6.msg(1, ias, cid=_cid(i), xid=i + 1) for i in range(n)]
    r = {"Solicit": _time(s, sol, m, out)}
    reqs = []
    for p in sol:  # each Request carries back what its Advertise offered
        k = s.handle(p, len(p), m, NOW, out)
        _, _, o, _ = C6.decode(out.buf, k)
        back = tuple(C6.opt(3, d) for d in o.get(3, [])) + tuple(C6.opt(25, d) for d in o.get(25, []))
        reqs.append(back)
    req = [C6.msg(3, reqs[i] + (C6.oro(23),), cid=_cid(i), sid=C6.SERVER_DUID, xid=0x10000 + i)
           for i in range(n)]
    r["Request"] = _time(s, req, m, out)
    ren = [C6.msg(5, reqs[i] + (C6.oro(23),), cid=_cid(i), sid=C6.SERVER_DUID, xid=0x20000 + i)
           for i in range(n)]
    r["Renew"] = _time(s, ren, m, out)
    return r


def _best(fn, n, runs=3):
    """Each kind's best of `runs` fresh runs: a short window on a shared machine is noisy."""
    best = {}
    for _ in range(runs):
        gc.collect()
        for k, v in fn(n).items():
            if v > best.get(k, 0):
                best[k] = v
    return best


def main():
    res = {"implementation": sys.implementation.name, "messages": N, "runs": 3}
    res["v4"] = _best(v4, N)
    res["v6"] = _best(v6, N)
    print(json.dumps(res))


main()
