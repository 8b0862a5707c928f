# Heap and flash measurements for `python -m host_tools bench`, run under the MicroPython
# Unix port (MICROPYPATH=firmware:tests/protocol:.frozen); prints one JSON object on stdout.
#
#   micropython -X heapsize=16M tests/bench/mp_measure.py [--tmp DIR] [--port BASE] [--n N] [--no-adapter]
#
# The adapter part sends UDP on 127.0.0.1 (ports BASE, BASE+1): host_tools bench runs this
# script in a private network namespace.
#
# Allocation is read as gc.mem_alloc() deltas with the collector disabled, so a delta is every
# byte allocated in between (nothing is freed meanwhile). Packets, slots and expectations are
# built before each window; only the code under test runs inside it.
import gc
import json
import os
import sys
import time

from craft4 import pkt, opt, meta, yiaddr
from bench_config import CONFIG4, PRL
from mpdhcp.wire.addr import ip4
from mpdhcp.config.parser import parse
from mpdhcp.v4.server4 import Server4
from mpdhcp.slot import Slot
from mpdhcp.state.journal import Journal

NOW = 100000
WARM = 0xFFFF  # the warm-up client
IFADDR = "10.77.0.1"
CONFIG = CONFIG4



class NullJournal(Journal):
    """Memory-free journal for engine-only windows: commit() drops the staged bytes (so the
    engine's early flush on a full stage costs nothing) but still counts them."""

    def __init__(self):
        Journal.__init__(self, None)

    def commit(self):
        n = self.n
        self.n = 0
        self.size += n  # (offsets move on: a hostname left here reads back as nothing)
        self.bytes_written += n
        self.commits += 1
        return n


def mac(i):
    return bytes([2, 0xBE, 0, (i >> 16) & 255, (i >> 8) & 255, i & 255])


def client_id(i):
    """An RFC 4361 client-id (dhcpcd, systemd-networkd): 255, IAID, DUID-LLT: 19 bytes."""
    return opt(61, b"\xff" + bytes(4) + b"\x00\x01\x00\x01\x2a\x2b\x2c\x2d" + mac(i))


def discover(i, duid=False):
    return pkt(1, mac(i), xid=i + 1, prl=PRL,
               opts=(opt(12, b"host-%d" % i),) + ((client_id(i),) if duid else ()))


def select_req(i, addr, m, duid=False):
    return pkt(3, mac(i), xid=i + 1, prl=PRL,
               opts=(opt(50, ip4(addr)), opt(54, m.ifaddr), opt(12, b"host-%d" % i))
               + ((client_id(i),) if duid else ()))


def renew_req(i, addr):
    return pkt(3, mac(i), xid=0x10000 + i, prl=PRL, ciaddr=addr)


def fresh(cfg, cap, journal, m, warm=True):
    """A new server; warm=True runs one DORA for a warm-up client (index WARM) first, so any
    first-call state exists before a measured window."""
    s = Server4(cfg, journal, cap)
    out = Slot()
    if warm:
        d = discover(WARM)
        s.handle(d, len(d), m, NOW, out)
        r = select_req(WARM, yiaddr(out.buf), m)
        s.handle(r, len(r), m, NOW, out)
    return s, out


def learn_addresses(cfg, n, m, warm, duid=False):
    """Run n DORAs on a throwaway server; the allocation order is deterministic, so a fresh
    server with the same config (and the same warm-up) offers the same addresses in order."""
    s, out = fresh(cfg, n + 8, NullJournal(), m, warm)
    addrs = [None] * n  # pre-sized: a growing list meets a fragmented heap
    for i in range(n):
        d = discover(i, duid)
        assert s.handle(d, len(d), m, NOW, out) > 0
        a = yiaddr(out.buf)
        r = select_req(i, a, m, duid)
        assert s.handle(r, len(r), m, NOW, out) > 0 and out.buf[242] == 5
        addrs[i] = a
    return addrs


def build_dora(cfg, n, m, warm=True, duid=False):
    addrs = learn_addresses(cfg, n, m, warm, duid)
    ds = [None] * n
    rs = [None] * n
    dn = [0] * n
    rn = [0] * n
    for i in range(n):
        ds[i] = discover(i, duid)
        rs[i] = select_req(i, addrs[i], m, duid)
        dn[i] = len(ds[i])
        rn[i] = len(rs[i])
    return addrs, ds, rs, dn, rn


def engine_dora(cfg, n, m):
    addrs, ds, rs, dn, rn = build_dora(cfg, n, m)
    s, out = fresh(cfg, n + 8, NullJournal(), m)
    acks = 0
    gc.collect()
    gc.disable()
    a_disc = 0
    a_req = 0
    i = 0
    spared = 0
    while i < n:
        if i % 16 == 0:  # between runner steps: the arena gets room for the next step's
            b0 = gc.mem_alloc()  # hostnames (counted apart: the runner does it unlocked)
            s.spare(16)
            spared += gc.mem_alloc() - b0
        a0 = gc.mem_alloc()
        s.handle(ds[i], dn[i], m, NOW, out)
        a1 = gc.mem_alloc()
        if s.handle(rs[i], rn[i], m, NOW, out) > 0 and out.buf[242] == 5:
            acks += 1
        a2 = gc.mem_alloc()
        a_disc += a1 - a0
        a_req += a2 - a1
        i += 1
    gc.enable()
    return {
        "exchanges": n, "acks": acks, "spare_bytes_per_dora": spared / n,
        "bytes_per_dora": (a_disc + a_req) / n,
        "bytes_per_discover": a_disc / n, "bytes_per_request": a_req / n,
    }


def adapter(port_base, n):
    """A UDP pair on 127.0.0.1 inside this process. Raw: recvfrom + sendto of a 300-byte
    datagram the way NetifUnix does; then NetifUnix.recv/send themselves."""
    import socket
    import struct
    from mpdhcp.platform.netif_unix import NetifUnix
    from mpdhcp.slot import Meta

    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    a.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    b.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    a.bind(socket.getaddrinfo("127.0.0.1", port_base)[0][-1])
    b.bind(socket.getaddrinfo("127.0.0.1", port_base + 1)[0][-1])
    a.setblocking(False)
    b.setblocking(False)
    try:
        res = {"packets": n, "datagram_bytes": 300}
        # -- raw socket calls, shaped like NetifUnix.send / recv --
        slot = Slot()
        slot.n = 300
        slot.port = port_base + 1
        slot.dest[0:4] = bytes([127, 0, 0, 1])
        sa = bytearray(16)
        src = bytearray(16)
        got = 0
        for _ in range(8):  # warm-up
            struct.pack_into("<HBB", sa, 0, socket.AF_INET, slot.port >> 8, slot.port & 255)
            sa[4:8] = slot.dest[0:4]
            a.sendto(memoryview(slot.buf)[: slot.n], sa)
            b.recvfrom(1501)
        gc.collect()
        gc.disable()
        s_send = 0
        s_recv = 0
        i = 0
        while i < n:
            a0 = gc.mem_alloc()
            struct.pack_into("<HBB", sa, 0, socket.AF_INET, slot.port >> 8, slot.port & 255)
            sa[4:8] = slot.dest[0:4]
            a.sendto(memoryview(slot.buf)[: slot.n], sa)
            a1 = gc.mem_alloc()
            data, ssa = b.recvfrom(1501)
            port = (ssa[2] << 8) | ssa[3]
            src[0:4] = ssa[4:8]
            a2 = gc.mem_alloc()
            if len(data) == 300 and port == port_base:
                got += 1
            s_send += a1 - a0
            s_recv += a2 - a1
            i += 1
        gc.enable()
        res["raw_received"] = got
        res["raw_sendto_bytes"] = s_send / n
        res["raw_recvfrom_bytes"] = s_recv / n
        # -- the adapter's own methods --
        nf = NetifUnix()
        for k, sock in enumerate((a, b)):
            mt = Meta()
            mt.ifindex = k
            mt.ifname = "lo"
            mt.ifaddr[:] = bytes([127, 0, 0, 1])
            nf.socks.append(sock)
            nf.metas.append(mt)
        slot.ifindex = 0
        for _ in range(8):
            nf.send(slot)
            nf.recv(1)
        gc.collect()
        gc.disable()
        s_send = 0
        s_recv = 0
        got = 0
        i = 0
        while i < n:
            a0 = gc.mem_alloc()
            ok = nf.send(slot)
            a1 = gc.mem_alloc()
            d = nf.recv(1)
            a2 = gc.mem_alloc()
            if ok and d == 300 and len(nf.rx) == 300:
                got += 1
            s_send += a1 - a0
            s_recv += a2 - a1
            i += 1
        gc.enable()
        res["netif_received"] = got
        res["netif_send_bytes"] = s_send / n
        res["netif_recv_bytes"] = s_recv / n
        res["netif_bytes_per_packet"] = (s_send + s_recv) / n
        res["netif_bytes_per_dora"] = 4 * (s_send + s_recv) / n / 2  # 2 in + 2 out per DORA
        # time: one send + one recv through the adapter (the socket share of a packet's cost)
        t0 = time.ticks_us()
        i = 0
        while i < n:
            nf.send(slot)
            nf.recv(1)
            i += 1
        res["netif_us_per_packet"] = time.ticks_diff(time.ticks_us(), t0) / n
        return res
    finally:
        a.close()
        b.close()


def journal_commit(tmp, n):
    """Journal.commit with a real file: one lease record (J_LEASE4 size) staged per commit."""
    path = tmp + "/bench-commit.journal"
    j = Journal(path)
    j.rewrite(lambda jj: None)  # opens the file the way restore() does
    rec = bytearray(46)  # 40-byte record + name length + 5-char name
    try:
        for _ in range(4):
            j.append(1, rec, 0, len(rec))
            j.commit()
        b0 = j.bytes_written
        gc.collect()
        gc.disable()
        tot = 0
        i = 0
        while i < n:
            j.append(1, rec, 0, len(rec))  # staging: measured too, should be 0
            a0 = gc.mem_alloc()
            j.commit()
            tot += gc.mem_alloc() - a0
            i += 1
        gc.enable()
        t0 = time.ticks_us()
        i = 0
        while i < n:
            j.append(1, rec, 0, len(rec))
            j.commit()
            i += 1
        us = time.ticks_diff(time.ticks_us(), t0) / n
        return {"commits": n, "bytes_per_commit": tot / n, "us_per_commit": us,
                "record_bytes_per_commit": (j.bytes_written - b0) / n}
    finally:
        j.close()
        _rm(path)
        _rm(path + ".tmp")


def heap_per_lease(cfg, m, tmp, duid=False):
    """Server4's heap at capacity 256 and 1024, built empty and then full: every record bound
    by a DORA whose client sends a hostname (option 12, "host-N"), so the hostnames are
    counted where they are kept (the journal file, a 3-byte reference in the record), with the
    journal a service has (its file, committed every 16 exchanges as a runner's batches).
    Every hostname is read back afterwards. duid: every client sends a 19-byte RFC 4361
    client-id, whose fingerprint the arena holds (with the hostname). Packets are built
    before each window."""
    res = {}
    path = tmp + "/mp_measure_heap.jnl"
    for cap in (256, 1024):
        addrs, ds, rs, dn, rn = build_dora(cfg, cap, m, warm=False, duid=duid)
        out = Slot()
        for p in (path, path + ".tmp"):
            _rm(p)
        gc.collect()
        b = gc.mem_alloc()
        j = Journal(path)
        s = Server4(cfg, j, cap)
        s.restore()  # (opens the file)
        gc.collect()
        res["empty_%d_bytes" % cap] = gc.mem_alloc() - b
        acks = 0
        for i in range(cap):
            s.handle(ds[i], dn[i], m, NOW, out)
            if s.handle(rs[i], rn[i], m, NOW, out) > 0 and out.buf[242] == 5:
                acks += 1
            if i % 16 == 15:
                j.commit()
        j.commit()
        gc.collect()
        res["server_%d_bytes" % cap] = gc.mem_alloc() - b
        res["per_lease_at_%d" % cap] = res["server_%d_bytes" % cap] / cap
        res["filled_acks_%d" % cap] = acks
        res["arena_%d_bytes" % cap] = len(s.leases.arena.buf)
        res["names_dropped_%d" % cap] = s.leases.names_dropped
        res["names_read_back_%d" % cap] = _names_read_back(s.leases, addrs)
        j.close()
        s = ds = rs = addrs = j = None
        _rm(path)
    res["marginal_per_lease"] = (res["server_1024_bytes"] - res["server_256_bytes"]) / (1024 - 256)
    res["filled_acks"] = res["filled_acks_256"]
    res["growth_after_256_doras"] = res["server_256_bytes"] - res["empty_256_bytes"]
    return res


def _names_read_back(lt, addrs):
    """How many of the bound clients' hostnames read back as they were sent."""
    ok = 0
    for i, a in enumerate(addrs):
        r = lt.find_addr(ip4(a), 0)
        if r >= 0 and lt.name(r) == b"host-%d" % i:
            ok += 1
    return ok


def flash(cfg, tmp, n, m):
    """File journal; commit after every exchange as the runner does for a lone packet."""
    path = tmp + "/bench-flash.journal"
    _rm(path)
    addrs, ds, rs, dn, rn = build_dora(cfg, n, m)
    ws = [None] * n
    wn = [0] * n
    for i in range(n):
        ws[i] = renew_req(i, addrs[i])
        wn[i] = len(ws[i])
    j = Journal(path)
    s, out = fresh(cfg, n + 8, j, m)
    s.restore()  # opens (and compacts) the file: the warm-up lease is its first record
    try:
        b0, c0 = j.bytes_written, j.commits
        acks = 0
        for i in range(n):
            s.handle(ds[i], dn[i], m, NOW, out)
            j.commit()
            if s.handle(rs[i], rn[i], m, NOW, out) > 0 and out.buf[242] == 5:
                acks += 1
            j.commit()
        new_bytes, new_commits = j.bytes_written - b0, j.commits - c0
        later = NOW + 1800  # at T1
        b0, c0 = j.bytes_written, j.commits
        racks = 0
        ralloc = 0
        gc.collect()
        gc.disable()
        i = 0
        while i < n:
            a0 = gc.mem_alloc()
            k = s.handle(ws[i], wn[i], m, later, out)
            ralloc += gc.mem_alloc() - a0
            if k > 0 and out.buf[242] == 5:
                racks += 1
            j.commit()  # outside the engine's window, but inside gc.disable: fine
            i += 1
        gc.enable()
        ren_bytes, ren_commits = j.bytes_written - b0, j.commits - c0
        j.close()
        size = os.stat(path)[6]
        return {
            "leases": n, "new_acks": acks, "renew_acks": racks,
            "bytes_per_1000_new_leases": new_bytes * 1000 / n,
            "commits_new": new_commits,
            "bytes_per_1000_renewals": ren_bytes * 1000 / n,
            "commits_renew": ren_commits,
            "engine_bytes_per_renewal": ralloc / n,
            "journal_file_bytes": size,
        }
    finally:
        j.close()
        _rm(path)


def _rm(p):
    try:
        os.remove(p)
    except OSError:
        pass


def main(argv):
    tmp = "/tmp"
    port = 16767
    n = 1000
    with_adapter = True
    i = 0
    while i < len(argv):
        if argv[i] == "--no-adapter":
            with_adapter = False
            i += 1
            continue
        if argv[i] == "--tmp":
            tmp = argv[i + 1]
        elif argv[i] == "--port":
            port = int(argv[i + 1])
        elif argv[i] == "--n":
            n = int(argv[i + 1])
        i += 2
    cfg = parse(CONFIG)
    m = meta("s0", IFADDR)
    gc.collect()
    out = {"heap_total": gc.mem_alloc() + gc.mem_free(), "implementation": sys.implementation.name}
    out["engine"] = engine_dora(cfg, n, m)
    gc.collect()
    out["adapter"] = adapter(port, n) if with_adapter else None
    gc.collect()
    out["journal"] = journal_commit(tmp, 100)
    gc.collect()
    out["heap"] = heap_per_lease(cfg, m, tmp)
    gc.collect()
    out["heap_duid"] = heap_per_lease(cfg, m, tmp, duid=True)
    gc.collect()
    out["flash"] = flash(cfg, tmp, n, m)
    print(json.dumps(out))


main(sys.argv[1:])
