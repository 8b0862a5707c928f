# The board-sized run of `bench` (issue "Speed and fit"): the v4 router (the DHCPv4 server
# with 256 leases bound by perfdhcp, and the DHCPv4 client leasing the WAN from kea-dhcp4)
# run black box from the unix build's .mpy files, as a board without frozen modules loads
# them, in the smallest `-X heapsize` that still serves every lease. Bisection in 8 KB steps.
import json
import os
import shutil
import subprocess
import tempfile
import time

from .paths import micropython

LO_K, HI_K, STEP_K = 64, 512, 8
LEASES = 256
WAN = "10.98.0"


def _config(lab):
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


def _try(lab, L, srv, cli, build, conf, heap_k):
    """One run at heap_k KB: (every lease ACKed and the WAN leased, detail)."""
    for f in ("fit-leases4.jnl", "fit-client4.jnl"):
        for suffix in ("", ".tmp"):
            try:
                os.remove(lab.path(f + suffix))
            except OSError:
                pass
    env = dict(os.environ, MICROPYPATH=build + ":.frozen")
    p = lab.popen(srv, [micropython(), "-X", "heapsize=%dK" % heap_k, "-m", "mpdhcp", conf],
                  log="fit-%d.out" % heap_k, env=env, cwd=build)
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
        deadline = time.monotonic() + 10
        wan = []
        while time.monotonic() < deadline and not wan:
            wan = [a for a in lab.addrs(srv, "wan0") if a.startswith(WAN + ".")]
            time.sleep(0.2)
        alive = p.poll() is None
        ok = alive and acks >= LEASES and bool(wan)
        return ok, "%d/%d ACKs, WAN %s%s" % (acks, LEASES, wan[0] if wan else "none",
                                            "" if alive else ", DIED: " + lab.read_log(p)[-200:])
    finally:
        if p.poll() is None:
            p.send_signal(2)
            try:
                p.wait(3)
            except subprocess.TimeoutExpired:
                pass
        lab.stop(p)


def smallest_heap(L, log):
    """Bisect the heap size of the v4 router; returns a dict of figures and the runs."""
    from . import build as B

    tmp = tempfile.mkdtemp(prefix="mpdhcp-fit-")
    out = os.path.join(tmp, "unix")
    try:
        with L.Lab("fit") as lab:
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
            conf = lab.write("fit.json", json.dumps(_config(lab)))
            rep = B.build("unix", config=conf, out=out)  # only the modules this config uses
            res = {"leases": LEASES, "mpy_bytes": rep["mpy_total"], "modules": len(rep["modules"]),
                   "runs": []}
            lo, hi = LO_K, HI_K  # invariant: hi serves (checked first), lo is below what serves
            ok, why = _try(lab, L, srv, cli, out, conf, hi)
            res["runs"].append({"heap_k": hi, "ok": ok, "detail": why})
            log("  fit: %dK %s (%s)" % (hi, "serves" if ok else "FAILS", why))
            if not ok:
                res["smallest_heap_k"] = None
                return res
            while hi - lo > STEP_K:
                mid = (lo + hi) // 2 // STEP_K * STEP_K
                ok, why = _try(lab, L, srv, cli, out, conf, mid)
                res["runs"].append({"heap_k": mid, "ok": ok, "detail": why})
                log("  fit: %dK %s (%s)" % (mid, "serves" if ok else "fails", why))
                if ok:
                    hi = mid
                else:
                    lo = mid
            res["smallest_heap_k"] = hi
        return res
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
