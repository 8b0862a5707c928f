# The board-sized runs of `bench` (issue "Speed and fit"), black box from the unix build's
# .mpy files, as a board without frozen modules loads them, each in the smallest
# `-X heapsize` that still serves (bisection to the KB):
#   - the v4 router: the DHCPv4 server with 256 leases bound by perfdhcp, and the DHCPv4
#     client leasing the WAN from kea-dhcp4;
#   - the whole service: DHCPv4 and DHCPv6 servers (256 leases each, bound by perfdhcp -4 and
#     perfdhcp -6) and both clients (WAN address from kea-dhcp4; WAN address and a delegated
#     prefix from kea-dhcp6).
# At each smallest heap, tests/bench/mp_fit.py splits what the service holds into code and
# runtime state (tables, buffers, engines, sockets, the reply ring).
import json
import os
import shutil
import subprocess
import tempfile
import time

from .paths import micropython

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LO_K, HI_K, STEP_K = 64, 512, 1
LEASES = 256
WAN = "10.98.0"
WAN6 = "2001:db8:98"
LAN6 = "2001:db8:77"


def _v4_router(lab):
    return {
        "Dhcp4": {
            "interfaces-config": {"interfaces": ["s0"]},
            "lease-database": {"type": "memfile", "name": lab.path("fit-leases4.jnl")},
            "valid-lifetime": 3600,
            "subnet4": [{"id": 1, "subnet": "10.77.0.0/16",
                         "pools": [{"pool": "10.77.1.0 - 10.77.1.255"}]}],
            "user-context": {"mpdhcp": {"max-leases": LEASES, "log": False}}},
        "Client4": {"interface": "wan0", "hostname": "fit-router", "offer-window": 0,
                    "lease-file": lab.path("fit-client4.jnl"),
                    "resolv-conf": lab.path("fit-resolv.conf")}}


def _whole(lab):
    c = _v4_router(lab)
    c["Dhcp6"] = {
        "interfaces-config": {"interfaces": ["s0"]},
        "lease-database": {"type": "memfile", "name": lab.path("fit-leases6.jnl")},
        "preferred-lifetime": 3000, "valid-lifetime": 4000,
        "subnet6": [{"id": 1, "subnet": LAN6 + "::/64", "interface": "s0",
                     "pools": [{"pool": LAN6 + "::/80"}]}],
        "user-context": {"mpdhcp": {"max-leases": LEASES, "log": False}}}
    c["Client6"] = {"interface": "wan0", "ia-na": True, "ia-pd": True, "prefix-length-hint": 56,
                    "lease-file": lab.path("fit-client6.jnl"), "resolv-conf": lab.path("fit-resolv6.conf")}
    return c


def _kea6(lab, ns):
    conf = {"Dhcp6": {
        "interfaces-config": {"interfaces": ["isp0"]},
        "server-id": {"type": "LLT", "persist": False},
        "lease-database": {"type": "memfile", "persist": False},
        "preferred-lifetime": 3000, "valid-lifetime": 4000,
        "subnet6": [{"id": 1, "subnet": WAN6 + "::/64", "interface": "isp0",
                     "pools": [{"pool": WAN6 + "::100 - " + WAN6 + "::1ff"}],
                     "pd-pools": [{"prefix": "2001:db8:7700::", "prefix-len": 40, "delegated-len": 56}]}],
        "loggers": [{"name": "kea-dhcp6", "severity": "WARN",
                     "output_options": [{"output": lab.path("fit-kea6.log")}]}]}}
    path = lab.write("fit-kea6.json", json.dumps(conf))
    env = dict(os.environ, KEA_PIDFILE_DIR=lab.tmp, KEA_LOCKFILE_DIR=lab.tmp)
    return lab.popen(ns, ["kea-dhcp6", "-c", path], log="fit-kea6.out", env=env)


def _clean(lab):
    for f in ("fit-leases4.jnl", "fit-client4.jnl", "fit-leases6.jnl", "fit-client6.jnl"):
        for suffix in ("", ".tmp"):
            try:
                os.remove(lab.path(f + suffix))
            except OSError:
                pass


def _wan6(lab, ns):
    out = lab.ip(ns, "-o", "-6", "addr", "show", "dev", "wan0")
    return [a for a in out.split() if a.startswith(WAN6 + "::")]


def _try(lab, L, srv, cli, build, conf, heap_k, v6):
    """One run at heap_k KB: (every lease ACKed and the WAN leased, detail)."""
    _clean(lab)
    env = dict(os.environ, MICROPYPATH=build + ":.frozen")
    p = lab.popen(srv, [micropython(), "-X", "heapsize=%dK" % heap_k, "-m", "mpdhcp", conf],
                  log="fit-%d%s.out" % (heap_k, "-whole" if v6 else ""), env=env, cwd=build)
    try:
        try:
            L.wait_for(lambda: p.poll() is not None or bool(lab.run(
                srv, ["ss", "-Hlun", "sport", "= :67"], timeout=5).stdout.strip()), 15, what="up")
        except L.LabError:
            return False, "never listened"
        if p.poll() is not None:
            return False, "exited at start: " + lab.read_log(p).strip().splitlines()[-1][:160]
        r = L.perfdhcp4(lab, cli, "c0", 100, num_exchanges=LEASES, timeout=10, exit_wait_us=1000000)
        acks = r["received"].get("ACK", 0)
        replies = None
        if v6:
            r6 = lab.run(cli, ["perfdhcp", "-6", "-l", "c0", "-r", "100", "-R", "1000000", "-n", str(LEASES),
                               "-p", "10", "-W", "1000000"], timeout=30)
            replies = L.parse_perfdhcp(r6.stdout)["received"].get("REPLY", 0)
        deadline = time.monotonic() + 10
        wan = wan6 = []
        while time.monotonic() < deadline and not (wan and (wan6 or not v6)):
            wan = [a for a in lab.addrs(srv, "wan0") if a.startswith(WAN + ".")]
            wan6 = _wan6(lab, srv) if v6 else []
            time.sleep(0.2)
        alive = p.poll() is None
        ok = alive and acks >= LEASES and bool(wan) and (not v6 or (replies >= LEASES and bool(wan6)))
        detail = "%d/%d ACKs, WAN %s" % (acks, LEASES, wan[0] if wan else "none")
        if v6:
            detail += ", %d/%d v6 Replies, WAN6 %s" % (replies, LEASES, wan6[0] if wan6 else "none")
        return ok, detail + ("" if alive else ", DIED: " + lab.read_log(p)[-200:])
    finally:
        if p.poll() is None:
            p.send_signal(2)
            try:
                p.wait(3)
            except subprocess.TimeoutExpired:
                pass
        lab.stop(p)


def _bisect(run, log, what):
    """Smallest heap (KB, STEP_K steps) at which run(heap_k) -> (ok, detail) holds; None when
    even HI_K fails. Returns (smallest, runs)."""
    runs = []
    lo, hi = LO_K, HI_K  # invariant: hi serves (checked first), lo is below what serves
    ok, why = run(hi)
    runs.append({"heap_k": hi, "ok": ok, "detail": why})
    log("  fit (%s): %dK %s (%s)" % (what, hi, "serves" if ok else "FAILS", why))
    if not ok:
        return None, runs
    while hi - lo > STEP_K:
        mid = (lo + hi) // 2 // STEP_K * STEP_K
        ok, why = run(mid)
        runs.append({"heap_k": mid, "ok": ok, "detail": why})
        log("  fit (%s): %dK %s (%s)" % (what, mid, "serves" if ok else "fails", why))
        if ok:
            hi = mid
        else:
            lo = mid
    return hi, runs


def _split(lab, srv, build, conf, heap_k):
    """tests/bench/mp_fit.py (compiled like the build) in the router's namespace: code and
    state, in bytes, at heap_k, or 16K more when the probe itself does not fit there."""
    from .build import compile_one

    compile_one(os.path.join(ROOT, "tests", "bench", "mp_fit.py"), os.path.join(build, "mp_fit.mpy"), None, "mp_fit.py")
    got = {"error": "not run"}
    for k in (heap_k, heap_k + 16):
        _clean(lab)
        r = lab.run(srv, ["env", "MICROPYPATH=" + build + ":.frozen", micropython(), "-X", "heapsize=%dK" % k,
                          "-m", "mp_fit", conf], timeout=30)
        try:
            got = json.loads(r.stdout.strip().splitlines()[-1])
            got["heap_k"] = k
            return got
        except (ValueError, IndexError):
            got = {"error": (r.stdout + r.stderr)[-300:]}
    return got


def _lab(L, lab, v6):
    srv, cli, isp = lab.add_host("srv"), lab.add_host("cli"), lab.add_host("isp")
    lab.link(srv, "s0", cli, "c0")
    lab.addr(srv, "s0", "192.168.77.1/24")
    lab.addr(cli, "c0", "10.77.0.2/16")
    lab.route(srv, "10.77.0.0/16", dev="s0")
    lab.link(isp, "isp0", srv, "wan0")
    lab.addr(isp, "isp0", WAN + ".1/24")
    L.kea_dhcp4(lab, isp, ["isp0"], [{"subnet": WAN + ".0/24",
                                      "pools": [{"pool": WAN + ".100 - " + WAN + ".199"}]}],
                valid_lifetime=600)
    if v6:
        from .lab6 import wait_link_local

        lab.addr(isp, "isp0", WAN6 + "::1/64")
        for ns, ifn in ((srv, "s0"), (cli, "c0"), (srv, "wan0"), (isp, "isp0")):
            wait_link_local(lab, ns, ifn)
        k6 = _kea6(lab, isp)
        L.wait_for(lambda: k6.poll() is not None or bool(lab.run(
            isp, ["ss", "-Hlun", "sport", "= :547"], timeout=5).stdout.strip()), 15, what="kea-dhcp6 up")
    return srv, cli


def smallest_heap(L, log, whole=False):
    """Bisect the heap size of the v4 router (whole: of the whole service); returns a dict of
    figures and the runs."""
    from . import build as B

    tmp = tempfile.mkdtemp(prefix="mpdhcp-fit-")
    out = os.path.join(tmp, "unix")
    what = "v4+v6 servers and clients" if whole else "v4 router"
    try:
        with L.Lab("fitw" if whole else "fit") as lab:
            srv, cli = _lab(L, lab, whole)
            conf = lab.write("fit.json", json.dumps(_whole(lab) if whole else _v4_router(lab)))
            rep = B.build("unix", config=conf, out=out)  # only the modules this config uses
            conf = os.path.join(out, "mpdhcp.json")  # as a board has it: its compiled image beside it
            res = {"leases": LEASES, "mpy_bytes": rep["mpy_total"], "modules": len(rep["modules"])}
            res["smallest_heap_k"], res["runs"] = _bisect(
                lambda k: _try(lab, L, srv, cli, out, conf, k, whole), log, what)
            if res["smallest_heap_k"]:
                res["split"] = _split(lab, srv, out, conf, res["smallest_heap_k"])
                s = res["split"]
                if "error" not in s:
                    log("  fit: at %dK, code %d bytes, runtime state %d bytes (ring of %d)" % (
                        res["smallest_heap_k"], s["code"], s["state"], s["ring"]))
        return res
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
