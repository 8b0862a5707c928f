# The DHCPv6 part of `bench` (hooked into bench.py): perfdhcp -6 against our server and
# kea-dhcp6 (same namespaces, same ramp), the best rate each sustains with < 1% loss and the
# ratio; and heap per DHCPv6 lease measured under the Unix port (tests/bench/mp_measure6.py).
import json
import os
import subprocess
import time

from .paths import micropython, mp_env
from .build import native_env
from . import serve

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RATES = (500, 1000, 2000, 4000, 8000, 12000)  # each server until it loses > 1% (12000 x 5 s fits 65000 leases)
DURATION = 5
LOSS_LIMIT = 0.01
PREFIX = "2001:db8:77"


def _our_config(lab):
    return {"Dhcp6": {
        "interfaces-config": {"interfaces": ["s0"]},
        "lease-database": {"type": "memfile", "name": lab.path("mpdhcp6.journal")},
        "preferred-lifetime": 3000, "valid-lifetime": 4000,
        "subnet6": [{"id": 1, "subnet": PREFIX + "::/64", "interface": "s0",
                     "pools": [{"pool": PREFIX + "::/80"}]}],
        "user-context": {"mpdhcp": {"max-leases": 65000, "log": False}},
    }}


def _kea_config(lab):
    return {"Dhcp6": {
        "interfaces-config": {"interfaces": ["s0"]},
        "server-id": {"type": "LLT", "persist": False},
        "lease-database": {"type": "memfile", "persist": True, "name": lab.path("kea-leases6.csv"),
                           "lfc-interval": 0},
        "preferred-lifetime": 3000, "valid-lifetime": 4000,
        "subnet6": [{"id": 1, "subnet": PREFIX + "::/64", "interface": "s0",
                     "pools": [{"pool": PREFIX + "::/80"}]}],
        "loggers": [{"name": "kea-dhcp6", "severity": "WARN",
                     "output_options": [{"output": lab.path("kea6.log")}]}],
    }}


def _udp547(lab, ns):
    return bool(lab.run(ns, ["ss", "-Hlun", "sport", "= :547"], timeout=5).stdout.strip())


def _start(lab, L, ns, name):
    for f in ("mpdhcp6.journal", "kea-leases6.csv"):
        for suffix in ("", ".tmp", ".2"):
            try:
                os.remove(lab.path(f + suffix))
            except OSError:
                pass
    if name == "mpdhcp":
        conf = lab.write("mpdhcp6.json", json.dumps(_our_config(lab)))
        p = lab.popen(ns, serve.command(conf, "16M"), log="mpdhcp6.out", env=native_env(), cwd=ROOT)
    else:
        conf = lab.write("kea6.json", json.dumps(_kea_config(lab)))
        env = dict(os.environ, KEA_PIDFILE_DIR=lab.tmp, KEA_LOCKFILE_DIR=lab.tmp)
        p = lab.popen(ns, ["kea-dhcp6", "-c", conf], log="kea6.out", env=env)
    L.wait_for(lambda: p.poll() is not None or _udp547(lab, ns), 15, what=name + " on 547")
    if p.poll() is not None:
        raise L.LabError("%s exited: %s" % (name, lab.read_log(p)))
    return p


def _step(lab, L, srv, cli, name, rate):
    p = _start(lab, L, srv, name)
    try:
        r = lab.run(cli, ["perfdhcp", "-6", "-l", "c0", "-r", str(rate), "-R", "1000000",
                          "-p", str(DURATION), "-W", "500000"], timeout=DURATION + 20)
    finally:
        if p.poll() is None:
            import signal
            try:
                os.killpg(p.pid, signal.SIGINT)
                p.wait(timeout=3)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        lab.stop(p)
    res = L.parse_perfdhcp(r.stdout)
    sol = res["sent"].get("SOLICIT", 0)
    rep = res["received"].get("REPLY", 0)
    return {"rate": rate, "solicits": sol, "replies": rep, "achieved": rep / float(DURATION),
            "loss": res["loss"], "returncode": r.returncode}


def perf6(L, log):
    """Best sustained leases/s (4-way exchanges with < 1% loss) for mpdhcp and kea-dhcp6."""
    out = {"duration_s": DURATION, "loss_limit": LOSS_LIMIT, "servers": {}}
    with L.Lab("bench6") as lab:
        srv, cli = lab.add_host("srv"), lab.add_host("cli")
        lab.link(srv, "s0", cli, "c0")
        lab.addr(srv, "s0", PREFIX + "::1/64")
        from .lab6 import wait_link_local
        wait_link_local(lab, cli, "c0")
        for name in ("mpdhcp", "kea-dhcp6"):
            steps = []
            lo, hi = 0, None
            for rate in RATES:
                log("bench6: %s at %d/s" % (name, rate))
                st = _step(lab, L, srv, cli, name, rate)
                steps.append(st)
                if st["loss"] is None or st["loss"] > LOSS_LIMIT:
                    hi = rate
                    break
                lo = rate
            for _ in range(2 if lo and hi else 0):  # bisect between the last good and first bad
                mid = (lo + hi) // 2 // 100 * 100
                if mid <= lo:
                    break
                log("bench6: %s at %d/s (refine)" % (name, mid))
                st = _step(lab, L, srv, cli, name, mid)
                steps.append(st)
                if st["loss"] is not None and st["loss"] <= LOSS_LIMIT:
                    lo = mid
                else:
                    hi = mid
            good = [s for s in steps if s["loss"] is not None and s["loss"] <= LOSS_LIMIT]
            out["servers"][name] = {"steps": steps, "best": max([s["achieved"] for s in good] or [0])}
    a = out["servers"]["mpdhcp"]["best"]
    b = out["servers"]["kea-dhcp6"]["best"]
    out["ratio_vs_kea"] = a / b if b else None
    return out


def heap6(n=1000):
    env = dict(mp_env(), MICROPYPATH=":".join([os.path.join(ROOT, "firmware"),
                                               os.path.join(ROOT, "tests", "protocol"), ".frozen"]))
    r = subprocess.run([micropython(), "-X", "heapsize=16M", os.path.join(ROOT, "tests", "bench", "mp_measure6.py"),
                        str(n)], capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": (r.stdout + r.stderr)[-500:]}


def run6(L, log, perf=True):
    res = {"heap": heap6()}
    if perf and L is not None and L.is_root() and L.have("perfdhcp", "kea-dhcp6"):
        t0 = time.monotonic()
        res["perf"] = perf6(L, log)
        res["perf"]["wall_s"] = round(time.monotonic() - t0, 1)
    else:
        res["perf_skipped"] = "needs root, perfdhcp and kea-dhcp6"
    return res


def report6(res):
    lines = ["", "== DHCPv6 server"]
    h = res.get("heap", {})
    if "bytes_per_lease" in h:
        lines.append("heap per DHCPv6 lease (table full: record, indexes, DUID arena, halves): %.1f bytes; %d bytes allocated "
                     "while %d leases were bound" % (h["bytes_per_lease"], h["alloc_binding_all"], h["leases"]))
    else:
        lines.append("heap per lease: " + str(h))
    p = res.get("perf")
    if p:
        lines.append("perfdhcp -6 (Solicit/Advertise/Request/Reply), %d s per step, best rate with < %d%% loss:"
                     % (p["duration_s"], p["loss_limit"] * 100))
        for name, d in p["servers"].items():
            steps = ", ".join("%d/s->%.0f (loss %s)" % (s["rate"], s["achieved"],
                              "%.1f%%" % (100 * s["loss"]) if s["loss"] is not None else "?") for s in d["steps"])
            lines.append("  %-10s best %6.0f leases/s   [%s]" % (name, d["best"], steps))
        if p.get("ratio_vs_kea") is not None:
            lines.append("  mpdhcp / kea-dhcp6 = %.2f" % p["ratio_vs_kea"])
    else:
        lines.append("perfdhcp -6: skipped (%s)" % res.get("perf_skipped"))
    return "\n".join(lines)
