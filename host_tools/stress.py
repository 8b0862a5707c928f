# `stress`: campaigns against the real service (`python -m host_tools serve CONFIG` in a
# network namespace), each checking an invariant from the outside:
#   1. power cuts: SIGKILL of the micropython process at seeded random moments while perfdhcp
#      binds leases; every lease a client was ACKed (seen in a capture on the client side)
#      must be in lease4-get-all after the restart, with the same MAC; no address held twice;
#   2. journal damage: seeded bit flips, truncations and zeroed 4 KB pages of a real journal;
#      the service must start, list exactly what replaying the damaged file on CPython gives,
#      say so on its start-up line and keep the damaged original as LEASEFILE.corrupt-N;
#   3. starvation: a random-MAC flood (perfdhcp) while ten clients renew and a reserved client
#      releases and rejoins: every renewal answered, the reserved address always given, no
#      stranger given a bound lease, a held offer reused only oldest first;
#   4. soak: perfdhcp at half the measured capacity with renewals for S seconds, sampling the
#      service's RSS, heap (heap_alloc), journal size and counters;
#   5. fuzzing: `python -m host_tools fuzz --target all` (when that module exists).
# Figures go to build/stress.json and a summary to stdout; the exit status is 1 when any
# invariant failed. Each campaign is a function taking an open host_tools.lab.Lab, so the
# quick test (tests/interop/test_stress_quick.py) runs the very same code.
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

from . import ROOT
from . import lab as L
from .ctl import query

EPOCH_2000 = 946684800  # the engines' clock counts seconds from 2000-01-01
DEFAULT_SEED = 20240601
CAMPAIGNS = ("power_cuts", "journal_damage", "starvation", "soak", "fuzz")
FULL = {"rounds": 1000, "soak_seconds": 600, "fuzz_inputs": 1000000, "mutations": 60,
        "flood_seconds": 60}
QUICK = {"rounds": 5, "soak_seconds": 20, "fuzz_inputs": 200, "mutations": 6,
         "flood_seconds": 16}
DEFAULT_RATE = 800  # exchanges/s taken as the capacity when no ramp is run (the brief's figure)
OFFER_HOLD = 30  # firmware/mpdhcp/v4/server4.py: seconds an offered address is set aside

RULE = ("alloc.py/table.py: a client gets its reservation, else the lease it holds, else the "
        "address it asked for, else a free pool address, else the pool address given up longest "
        "ago, and last the oldest offer still held; an OFFER sets the address aside for %d s, but "
        "when the pool (or, for a full table, every subnet) has nothing free or given up the oldest "
        "held offer goes to the next client (an offer is no promise, RFC 2131 4.3.1: a flood slows "
        "new clients, never locks them out); a stranger never takes a bound lease, a declined "
        "address within its probation, a pinned record (a reserved address or a reserved "
        "client's record) or an address reserved for someone else; max-leases counts only clients "
        "without a reservation (strangers stop at capacity - reservations, room()), so each "
        "reservation has a record of its own; with nothing usable the server stays silent "
        "(pool_exhausted)" % OFFER_HOLD)


def add_parser(sub):
    p = sub.add_parser("stress", help="stress campaigns against the running service: power cuts, "
                       "journal damage, starvation, soak, fuzzing (needs root and the peers)")
    p.add_argument("--quick", action="store_true",
                   help="short versions (%d rounds, %d s soak, %d mutations, %d s flood)" % (
                       QUICK["rounds"], QUICK["soak_seconds"], QUICK["mutations"],
                       QUICK["flood_seconds"]))
    p.add_argument("--rounds", type=int, help="power-cut rounds (full %d)" % FULL["rounds"])
    p.add_argument("--soak-seconds", type=int, help="soak duration (full %d)" % FULL["soak_seconds"])
    p.add_argument("--fuzz-inputs", type=int, help="inputs per fuzz target (full %d)" % FULL["fuzz_inputs"])
    p.add_argument("--mutations", type=int, help="journal mutations (full %d)" % FULL["mutations"])
    p.add_argument("--flood-seconds", type=int, help="starvation flood duration (full %d)" % FULL["flood_seconds"])
    p.add_argument("--rate", type=int, default=None,
                   help="take this as the capacity (exchanges/s) instead of measuring it with a ramp "
                   "(--quick takes %d)" % DEFAULT_RATE)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="master seed (reproducible choices)")
    p.add_argument("--only", default=",".join(CAMPAIGNS),
                   help="comma list of campaigns to run: %s" % ",".join(CAMPAIGNS))
    p.add_argument("--json-out", default=os.path.join("build", "stress.json"), metavar="PATH",
                   help="where the figures go (default build/stress.json)")
    p.set_defaults(func=run)


# ---------------------------------------------------------------------------------------------
# The service, a capture, configs
# ---------------------------------------------------------------------------------------------
class Server:
    """`python -m host_tools serve CONFIG [--heapsize H]` as a tracked lab process in `ns`
    (the same shape as tests/interop/mpdhcp_lab.MpdhcpServer, which host tools cannot import)."""

    def __init__(self, lab, ns, config, name="mpdhcp", heapsize=None):
        self.lab, self.ns, self.config, self.name, self.heapsize = lab, ns, config, name, heapsize
        self.path = lab.write(name + ".json", json.dumps(config, indent=1))
        d = config["Dhcp4"]
        self.sock = d.get("control-socket", {}).get("socket-name")
        self.journal = d["lease-database"]["name"]
        self.proc = None
        self.runs = 0

    def spawn(self):
        self.runs += 1
        argv = [sys.executable, "-m", "host_tools", "serve", self.path]
        if self.heapsize:
            argv += ["--heapsize", self.heapsize]
        self.proc = self.lab.popen(self.ns, argv, cwd=ROOT, log="%s-%d.log" % (self.name, self.runs))
        return self.proc

    def start(self, timeout=30.0):
        self.spawn()
        self.wait_serving(timeout)
        return self

    def wait_serving(self, timeout=30.0):
        try:
            L.wait_for(lambda: self.proc.poll() is not None or "mpdhcp: serving" in self.output(),
                       timeout, what="mpdhcp serving")
        except L.LabError as e:
            raise L.LabError("%s; output so far:\n%s" % (e, self.output()[-2000:]))
        if self.proc.poll() is not None:
            raise L.LabError("mpdhcp exited %s:\n%s" % (self.proc.returncode, self.output()[-2000:]))
        if self.sock:
            L.wait_for(self._answers, timeout, what="mpdhcp control socket")

    def _answers(self):
        try:
            return self.query("statistic-get-all", 2.0).get("result") == 0
        except (OSError, ValueError):
            return False

    def output(self):
        return self.lab.read_log(self.proc) if self.proc else ""

    def lines(self, prefix="mpdhcp: "):
        return [l for l in self.output().splitlines() if l.startswith(prefix)]

    def query(self, command, timeout=30.0):
        return query(self.sock, command, timeout)

    def leases(self):
        r = self.query("lease4-get-all")
        if r.get("result") != 0:
            raise L.LabError("lease4-get-all: %r" % r)
        return r["arguments"]["leases"]

    def stats(self):
        r = self.query("statistic-get-all", 10.0)
        if r.get("result") != 0:
            raise L.LabError("statistic-get-all: %r" % r)
        return r["arguments"]

    def child_pid(self):
        """The micropython process (child of the serve wrapper), or None."""
        if self.proc is None:
            return None
        for pid in self.lab.ns_pids(self.ns):
            try:
                with open("/proc/%d/stat" % pid) as f:
                    st = f.read()
            except OSError:
                continue
            if int(st[st.rindex(")") + 2:].split()[1]) == self.proc.pid:
                return pid
        return None

    def rss_kb(self):
        pid = self.child_pid()
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except (OSError, TypeError):
            pass
        return None

    def kill9(self, timeout=10.0):
        """Power cut: SIGKILL the micropython process; the wrapper then exits."""
        pid = L.wait_for(self.child_pid, 5, interval=0.01, what="micropython child of serve")
        os.kill(pid, signal.SIGKILL)
        self.proc.wait(timeout=timeout)
        return pid

    def stop(self, timeout=15.0):
        """SIGTERM the wrapper (it forwards SIGINT): returns None when it stopped cleanly, else
        what went wrong."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.lab.stop(self.proc)
                return "did not stop within %ss" % timeout
        if self.proc.returncode != 0 or "mpdhcp: stopped" not in self.output():
            return "unclean stop (exit %s): %s" % (self.proc.returncode, self.output()[-500:])
        return None


_SNIFFER = r'''
import json, signal, socket, struct, sys, time
ifname, out, ready, types = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
want = set(int(x) for x in types.split(",")) if types else None
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
for opt in (33, socket.SO_RCVBUF):  # SO_RCVBUFFORCE (root), else what the limit allows
    try:
        s.setsockopt(socket.SOL_SOCKET, opt, 64 << 20)
        break
    except OSError:
        pass
s.bind((ifname, 0))
f = open(out, "a", buffering=1)
def stop(*a):
    try:
        st = struct.unpack("II", s.getsockopt(263, 6, 8))  # PACKET_STATISTICS: packets, drops
        f.write(json.dumps({"stats": st}) + "\n")
        f.flush()
    finally:
        sys.exit(0)
signal.signal(signal.SIGTERM, stop)
open(ready, "w").close()
ip4 = socket.inet_ntoa
def mac(b): return ":".join("%02x" % x for x in b)
while True:
    fr, addr = s.recvfrom(65535)
    if len(fr) < 282 or fr[12:14] != b"\x08\x00" or fr[23] != 17:
        continue
    u = 14 + (fr[14] & 15) * 4
    sport, dport = struct.unpack("!HH", fr[u:u + 4])
    if not ({sport, dport} & {67, 68}):
        continue
    d = fr[u + 8:]
    if d[236:240] != b"\x63\x82\x53\x63":
        continue
    opts = {}
    i = 240
    while i < len(d) and d[i] != 255:
        if d[i] == 0:
            i += 1
            continue
        if i + 1 >= len(d):
            break
        opts.setdefault(d[i], d[i + 2:i + 2 + d[i + 1]])
        i += 2 + d[i + 1]
    typ = opts.get(53, b"\0")[0]
    if want is not None and typ not in want:
        continue
    lt = opts.get(51, b"")
    f.write(json.dumps({"t": time.time(), "out": addr[2] == 4, "type": typ,
        "xid": struct.unpack("!I", d[4:8])[0], "chaddr": mac(d[28:34]), "ciaddr": ip4(d[12:16]),
        "yiaddr": ip4(d[16:20]), "giaddr": ip4(d[24:28]), "src": ip4(fr[26:30]), "dst": ip4(fr[30:34]),
        "lease": struct.unpack("!I", lt)[0] if len(lt) == 4 else None,
        "req": ip4(opts[50]) if len(opts.get(50, b"")) == 4 else None}) + "\n")
'''


class Sniffer:
    """DHCPv4 frames on ns/ifname (both directions), read incrementally. types: message
    types to keep (e.g. "5" for ACKs only), None for all. stop() collects the socket's
    packet/drop counters (PACKET_STATISTICS): a capture that dropped frames says so."""

    def __init__(self, lab, ns, ifname, types=None):
        self.lab = lab
        n = len(lab.procs)
        self.path = lab.path("sniff-%s-%d.jsonl" % (ifname, n))
        ready = self.path + ".ready"
        self.proc = lab.popen(ns, [sys.executable, "-c", _SNIFFER, ifname, self.path, ready,
                                   types or ""], log="sniff-%d.err" % n)
        L.wait_for(lambda: os.path.exists(ready) or self.proc.poll() is not None, 10,
                   what="sniffer on %s" % ifname)
        if self.proc.poll() is not None:
            raise L.LabError("sniffer failed: " + lab.read_log(self.proc))
        self.off = 0
        self.stats = None  # (packets, drops) after stop()

    def settle(self, quiet=0.15, limit=3.0):
        deadline = time.monotonic() + limit
        last = -1
        while time.monotonic() < deadline:
            size = os.path.getsize(self.path) if os.path.exists(self.path) else 0
            if size == last:
                return
            last = size
            time.sleep(quiet)

    def read_new(self):
        """Packets written since the last call (whole lines only)."""
        if not os.path.exists(self.path):
            return []
        with open(self.path, "rb") as f:
            f.seek(self.off)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self.off += end
        out = []
        for line in data[:end].splitlines():
            r = json.loads(line)
            if "stats" in r:
                self.stats = tuple(r["stats"])
            else:
                out.append(r)
        return out

    def stop(self):
        """Stop the sniffer; returns the packets not read yet."""
        self.settle()
        self.lab.stop(self.proc)
        return self.read_new()


def need(*binaries):
    """Raise Skip unless root and every binary is present."""
    if not L.is_root():
        raise Skip("needs root (network namespaces)")
    missing = [b for b in binaries if not L.have(b)]
    from .paths import micropython
    try:
        micropython()
    except SystemExit:
        missing.append("micropython (make venv)")
    if missing:
        raise Skip("missing: %s (run `make venv peers`)" % " ".join(missing))


class Skip(Exception):
    pass


def dhcp4_config(lab, interfaces, subnets, name="mpdhcp", valid=3600, t1=None, t2=None,
                 max_leases=None, log=False, lease_file=None, sock=None):
    d = {
        "interfaces-config": {"interfaces": list(interfaces)},
        "lease-database": {"type": "memfile", "name": lease_file or lab.path(name + ".journal")},
        "control-socket": {"socket-type": "unix", "socket-name": sock or lab.path(name + ".sock")},
        "valid-lifetime": valid,
        "renew-timer": t1 if t1 is not None else valid // 2,
        "rebind-timer": t2 if t2 is not None else valid * 7 // 8,
        "subnet4": subnets,
        "user-context": {"mpdhcp": {"log": bool(log)}},
    }
    if max_leases:
        d["user-context"]["mpdhcp"]["max-leases"] = max_leases
    return {"Dhcp4": d}


def _relay_lab(lab):
    """srv (192.168.77.1/24 on s0, route to 10.77/16) <-> cli (c0 = 10.77.0.2/16, perfdhcp's
    giaddr): the lab shape of test_lease4_get_all_after_1000_leases."""
    srv, cli = lab.add_host("srv"), lab.add_host("cli")
    lab.link(srv, "s0", cli, "c0")
    lab.addr(srv, "s0", "192.168.77.1/24")
    lab.addr(cli, "c0", "10.77.0.2/16")
    lab.route(srv, "10.77.0.0/16", dev="s0")
    return srv, cli


def _relay_subnet(first, last):
    return {"id": 2, "subnet": "10.77.0.0/16", "pools": [{"pool": "%s - %s" % (first, last)}]}


def _lan_subnet():
    return {"id": 1, "subnet": "192.168.77.0/24", "interface": "s0",
            "pools": [{"pool": "192.168.77.100 - 192.168.77.150"}]}


def base_mac(rng):
    """A seeded perfdhcp base MAC (locally administered). perfdhcp numbers its clients' MACs
    up from the base (-b mac=...), whatever -s says: a new base gives new clients, the same
    base the same clients again."""
    return "02:%02x:%02x:%02x:%02x:00" % tuple(rng.randrange(256) for _ in range(4))


def _perfdhcp(lab, ns, ifname, rate, base, seconds, extra=(), log=None):
    """perfdhcp -4 as a background lab process (a relay: giaddr = ifname's address); its
    clients' MACs count up from `base`."""
    argv = ["perfdhcp", "-4", "-l", ifname, "-r", str(rate), "-R", "1000000", "-b", "mac=" + base,
            "-p", str(int(seconds)), "-W", "300000"] + [str(a) for a in extra]
    return lab.popen(ns, argv, log=log or "perfdhcp-%d.log" % len(lab.procs))


def _wait(p, timeout):
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass


def _deadline(seconds):
    return time.monotonic() + seconds


# ---------------------------------------------------------------------------------------------
# 1. Power cuts
# ---------------------------------------------------------------------------------------------
PC_POOL = ("10.77.1.0", "10.77.8.255")  # 2048 addresses = the table: the pool fills, then reuse
PC_VALID = 30
# The engines count whole seconds: a server may see a lease run out up to 1 s before the client
# does. An address given to another client earlier than that is counted as held twice.
OVERLAP_TOLERANCE = 1.0


def power_cuts(lab, rounds=5, seed=DEFAULT_SEED, rate=400, max_seconds=None, keep_dir=None, log=print):
    """`rounds` power cuts; returns figures and violations (each with its round and seed)."""
    need("perfdhcp")
    rng = random.Random("power-cuts-%d" % seed)
    max_seconds = max_seconds or 60 + 20 * rounds
    stop_at = _deadline(max_seconds)
    srv, cli = _relay_lab(lab)
    cfg = dhcp4_config(lab, ["s0"], [_lan_subnet(), _relay_subnet(*PC_POOL)], valid=PC_VALID,
                       max_leases=2048)
    server = Server(lab, srv, cfg).start()
    sniff = Sniffer(lab, cli, "c0", types="5,6")
    cur = {}  # mac -> (ip, expiry unix, ack time, round) of its latest ACK
    holder = {}  # ip -> mac whose latest ACK named it
    res = {"seed": seed, "rate": rate, "pool": "%s - %s" % PC_POOL, "valid_lifetime": PC_VALID,
           "rounds": rounds, "rounds_done": 0, "acks_seen": 0, "naks_seen": 0,
           "acks_checked": 0, "leases_checked_per_round_max": 0, "distinct_acks_checked": 0,
           "acks_expired_unchecked": 0, "server_expiry_early_s_max": 0.0,
           "losses": 0, "duplicates": 0, "server_duplicates": 0, "clients_with_two_records": 0,
           "expiry_regressions": 0, "startup_kills": 0, "startup_kills_before_serving": 0,
           "kill_delays_ms": [], "restart_seconds_max": 0.0, "leases_listed_max": 0,
           "journal_bytes_max": 0, "sniffer": None}
    violations = []
    res["distinct_acks"] = 0
    bases = []
    res["returning_rounds"] = 0
    last_restart = 0.3
    kept = []  # the first failing round's journal (as cut, and as rewritten) and config

    def ingest(pkts, rnd):
        for a in sorted(pkts, key=lambda p: p["t"]):
            if a["type"] == 6:
                res["naks_seen"] += 1
                continue
            if a["type"] != 5 or a["yiaddr"] == "0.0.0.0":
                continue
            res["acks_seen"] += 1
            mac, ip = a["chaddr"], a["yiaddr"]
            exp = a["t"] + (a["lease"] if a["lease"] is not None else PC_VALID)
            prev = cur.get(mac)
            if prev and prev[0] != ip and holder.get(prev[0]) == mac:
                del holder[prev[0]]
            h = holder.get(ip)
            if h is not None and h != mac and cur[h][1] > a["t"] + OVERLAP_TOLERANCE:
                res["duplicates"] += 1
                violations.append({"campaign": "power_cuts", "what": "address ACKed to two clients",
                                   "round": rnd, "ip": ip, "first": [h, cur[h][2], cur[h][3]],
                                   "second": [mac, a["t"], rnd],
                                   "overlap_s": round(cur[h][1] - a["t"], 3), "seed": seed})
            holder[ip] = mac
            cur[mac] = [ip, exp, a["t"], rnd, False]
            res["distinct_acks"] += 1

    def check(rnd):
        listing = server.leases()
        t_check = time.time()
        res["leases_listed_max"] = max(res["leases_listed_max"], len(listing))
        by_ip, by_mac = {}, {}
        for l in listing:
            by_ip.setdefault(l["ip-address"], []).append(l)
            if l["state"] == "bound":
                by_mac.setdefault((l["hw-address"], l["subnet-id"]), []).append(l["ip-address"])
        for ip, ls in by_ip.items():
            if len(ls) > 1:
                res["server_duplicates"] += 1
                violations.append({"campaign": "power_cuts", "what": "address listed twice",
                                   "round": rnd, "ip": ip, "leases": ls, "seed": seed})
        for (mac, sid), ips in by_mac.items():
            if len(ips) > 1:
                res["clients_with_two_records"] += 1
                violations.append({"campaign": "power_cuts", "what": "one client, two bound records",
                                   "round": rnd, "mac": mac, "ips": ips, "seed": seed})
        n = 0
        for mac, e in list(cur.items()):
            ip, exp, t_ack, r_ack, seen = e
            if exp <= t_check + 2:  # expired: the address may be anyone's now
                if not seen:
                    res["acks_expired_unchecked"] += 1
                del cur[mac]
                if holder.get(ip) == mac:
                    del holder[ip]
                continue
            n += 1
            if not seen:
                e[4] = True
                res["distinct_acks_checked"] += 1
            mine = [l for l in by_ip.get(ip, ()) if l["hw-address"] == mac]
            if not mine or mine[0]["state"] != "bound":
                res["losses"] += 1
                violations.append({"campaign": "power_cuts", "what": "ACKed lease lost after a power cut",
                                   "round": rnd, "mac": mac, "ip": ip, "acked_at": t_ack,
                                   "acked_in_round": r_ack, "server_has": by_ip.get(ip),
                                   "seed": seed})
            else:
                early = exp - (mine[0]["expire"] + EPOCH_2000)
                res["server_expiry_early_s_max"] = max(res["server_expiry_early_s_max"], round(early, 3))
            # restored expiry vs the one told: off by the engine clock's lag at most (< 2 s, see
            # server_expiry_early_s_max); more would be a damaged restore
            if mine and mine[0]["state"] == "bound" and mine[0]["expire"] + EPOCH_2000 < exp - 3:
                res["expiry_regressions"] += 1
                violations.append({"campaign": "power_cuts", "what": "lease restored shorter than ACKed",
                                   "round": rnd, "mac": mac, "ip": ip, "acked_expiry": exp,
                                   "server_expiry": mine[0]["expire"] + EPOCH_2000, "seed": seed})
        res["acks_checked"] += n
        res["leases_checked_per_round_max"] = max(res["leases_checked_per_round_max"], n)

    try:
        for rnd in range(rounds):
            if time.monotonic() > stop_at:
                res["stopped_early"] = "time bound of %d s reached" % max_seconds
                break
            if bases and rng.random() < 0.25:
                base = rng.choice(bases)  # clients of an earlier round come back
                res["returning_rounds"] += 1
            else:
                base = base_mac(rng)
                bases.append(base)
            delay = rng.uniform(0.05, 1.2)
            startup_kill = rng.random() < 0.15
            startup_at = rng.random()  # of the last restart's duration
            res["kill_delays_ms"].append(int(delay * 1000))
            p = _perfdhcp(lab, cli, "c0", rate, base, 30, log="perf-pc.log")
            time.sleep(delay)
            server.kill9()
            lab.stop(p)
            t0 = time.monotonic()
            if startup_kill:  # a second cut while the restart replays and rewrites the journal
                res["startup_kills"] += 1
                server.spawn()
                L.wait_for(server.child_pid, 10, interval=0.005, what="micropython child")
                time.sleep(startup_at * last_restart)
                if "mpdhcp: serving" not in server.output():
                    res["startup_kills_before_serving"] += 1
                if server.proc.poll() is None:
                    server.kill9()
            for suffix in ("", ".tmp"):  # the journal as the cut left it, kept if the check fails
                src, dst = server.journal + suffix, lab.path("cut.journal" + suffix)
                if os.path.exists(dst):
                    os.remove(dst)
                if os.path.exists(src):
                    shutil.copyfile(src, dst)
            t1 = time.monotonic()
            try:
                server.start()
            except L.LabError as e:
                violations.append({"campaign": "power_cuts", "what": "service did not come back after a "
                                   "power cut", "round": rnd, "startup_kill": startup_kill,
                                   "error": str(e)[-2000:], "seed": seed})
                break
            last_restart = time.monotonic() - t1
            res["restart_seconds_max"] = max(res["restart_seconds_max"], round(time.monotonic() - t0, 3))
            sniff.settle()
            nv = len(violations)
            ingest(sniff.read_new(), rnd)
            check(rnd)
            if len(violations) > nv and keep_dir and not kept:
                kept.append(_keep_cut(lab, server, keep_dir, seed, rnd, violations[nv:]))
            res["journal_bytes_max"] = max(res["journal_bytes_max"], os.path.getsize(server.journal))
            res["rounds_done"] = rnd + 1
            if log and (rnd + 1) % max(1, rounds // 10) == 0:
                log("  power cuts: %d/%d rounds, %d ACKs seen, %d checks, %d losses, %d duplicates" % (
                    rnd + 1, rounds, res["acks_seen"], res["acks_checked"], res["losses"],
                    res["duplicates"] + res["server_duplicates"]))
        ingest(sniff.stop(), res["rounds_done"])
        res["sniffer"] = {"packets": sniff.stats[0], "drops": sniff.stats[1]} if sniff.stats else None
        if server.proc.poll() is None:
            st = server.stats()  # counters start again with each process: only the table's figures
            res["server_end"] = {k: st.get(k) for k in ("leases_used", "leases_capacity", "journal_size")}
            err = server.stop()
            if err:
                violations.append({"campaign": "power_cuts", "what": "clean stop failed", "detail": err})
    finally:
        kd = res.pop("kill_delays_ms")
        res["kill_delay_ms_min_max"] = [min(kd), max(kd)] if kd else None
    res["violations"] = violations
    return res


def _keep_cut(lab, server, keep_dir, seed, rnd, violations):
    """Copy the journal as the cut left it, the rewritten one and the config into keep_dir."""
    os.makedirs(keep_dir, exist_ok=True)
    base = os.path.join(keep_dir, "power-cut-%d-round%d" % (seed, rnd))
    for src, suffix in ((lab.path("cut.journal"), ".cut.jnl"), (lab.path("cut.journal.tmp"), ".cut.jnl.tmp"),
                        (server.journal, ".restarted.jnl"), (server.path, ".json")):
        if os.path.exists(src):
            shutil.copyfile(src, base + suffix)
    for v in violations:
        v["kept"] = base + ".*"
    return base


# ---------------------------------------------------------------------------------------------
# 2. Journal damage
# ---------------------------------------------------------------------------------------------
JD_POOL = ("10.77.1.0", "10.77.2.43")  # 300 addresses: the later passes reuse released ones


def make_journal(lab, srv, cli, cfg, rng):
    """A real journal: the service binds leases for perfdhcp clients (hostnames on some),
    renewals, releases, then reuse of released addresses by new clients. Returns its bytes."""
    server = Server(lab, srv, cfg, name="jmaker").start()
    host = "stress-host".encode().hex()
    for i, argv in enumerate((["-r", "200", "-n", "250", "-o", "12," + host],
                              ["-r", "200", "-n", "100", "-f", "50", "-F", "50"],
                              ["-r", "200", "-n", "80"])):
        r = lab.run(cli, ["perfdhcp", "-4", "-l", "c0", "-R", "1000000", "-b", "mac=" + base_mac(rng),
                          "-p", "10", "-W", "500000"] + argv, timeout=40)
        if "Statistics for" not in r.stdout:
            raise L.LabError("perfdhcp failed: %s%s" % (r.stdout, r.stderr))
    st = server.stats()
    err = server.stop()
    if err:
        raise L.LabError("journal maker: " + err)
    with open(server.journal, "rb") as f:
        data = f.read()
    return data, st


def record_types(data):
    from .fwimport import firmware
    firmware()
    from mpdhcp.state.journal import replay
    counts = {}

    def apply(typ, buf, off, ln):
        counts[typ] = counts.get(typ, 0) + 1
    replay(data, apply)
    return {{1: "lease", 2: "state", 3: "drop"}.get(k, str(k)): v for k, v in sorted(counts.items())}


def expected_leases(cfg, data):
    """What the service must list after starting on `data`: replay on CPython through the
    firmware's own codecs (mpdhcp.state.journal.replay + Leases4.apply), with the table the
    service builds (capacity + one record per reservation). Returns (set of lease tuples,
    damaged stretches)."""
    from .fwimport import firmware
    firmware()
    from mpdhcp.config import parser as C
    from mpdhcp import console, service
    from mpdhcp.state.journal import replay
    from mpdhcp.state.leases4 import Leases4

    c4 = C.parse_doc(json.dumps(cfg)).get("Dhcp4")
    nres = sum(len(s.reservations) for s in c4.subnets)
    table = Leases4(service.capacity4(c4) + nres, len(c4.subnets))
    damaged = []
    replay(data, lambda t, b, o, n: table.apply(t, b, o, n, c4.subnets), damaged)
    leases = [console.lease4_dict(table.fields(r), c4.subnets, 0)
              for r in range(table.used) if table.state(r) != 0]
    return sorted(_lease_key(l) for l in leases), damaged


def _lease_key(l):
    return (l["ip-address"], l["hw-address"], l["client-id"], l["hostname"], l["state"],
            l["subnet-id"], l["expire"])


def mutate(data, kind, rng):
    """(damaged bytes, description) for one seeded mutation of `data`."""
    b = bytearray(data)
    if kind == "flip":
        flips = []
        for _ in range(rng.randint(1, 3)):
            off, bit = rng.randrange(len(b)), rng.randrange(8)
            b[off] ^= 1 << bit
            flips.append([off, bit])
        return bytes(b), {"kind": kind, "flips": flips}
    if kind == "truncate":
        n = rng.randrange(len(b))
        return bytes(b[:n]), {"kind": kind, "length": n}
    if rng.random() < 0.5:
        off = rng.randrange(len(b) // 4096 + 1) * 4096  # a page of the file as the disk sees it
    else:
        off = rng.randrange(len(b))
    end = off + 4096
    if end > len(b):
        b.extend(bytes(end - len(b)))
    b[off:end] = bytes(4096)
    return bytes(b), {"kind": "zero-page", "offset": off}


def journal_damage(lab, mutations=6, seed=DEFAULT_SEED, keep_dir=None, log=print):
    """Start the service on `mutations` damaged copies of a real journal; compare with replay."""
    need("perfdhcp")
    rng = random.Random("journal-damage-%d" % seed)
    stop_at = _deadline(120 + 15 * mutations)
    srv, cli = _relay_lab(lab)

    def cfg_for(jpath, sock):
        return dhcp4_config(lab, ["s0"], [_lan_subnet(), _relay_subnet(*JD_POOL)], valid=86400,
                            max_leases=300, lease_file=jpath, sock=sock)

    data, st = make_journal(lab, srv, cli, cfg_for(lab.path("jmaker.journal"), lab.path("jmaker.sock")), rng)
    intact, _ = expected_leases(cfg_for("x.jnl", "x.sock"), data)
    res = {"seed": seed, "journal_bytes": len(data), "journal_records": record_types(data),
           "journal_leases": len(intact), "maker_stats": {k: st.get(k) for k in (
               "ack", "release", "request", "journal_records")},
           "mutations": mutations, "done": 0, "by_kind": {}, "started": 0,
           "damage_reported": 0, "kept_aside": 0, "torn_tail_only": 0, "leases_lost_total": 0,
           "listing_mismatches": 0, "restart_mismatches": 0}
    violations = []
    kinds = ("flip", "truncate", "zero-page")
    for i in range(mutations):
        if time.monotonic() > stop_at:
            res["stopped_early"] = "time bound reached"
            break
        kind = kinds[i % 3]
        dmg, desc = mutate(data, kind, rng)
        desc["index"] = i
        desc["seed"] = seed
        k = res["by_kind"].setdefault(kind, {"n": 0, "damaged": 0, "leases_lost": 0})
        k["n"] += 1
        d = lab.path("dmg%03d" % i)
        os.mkdir(d)
        jpath = os.path.join(d, "leases4.jnl")
        with open(jpath, "wb") as f:
            f.write(dmg)
        older = None
        if i % 4 == 3:  # an older damaged copy is already there: the next free N is used
            older = b"an older damaged copy %d\n" % i
            with open(jpath + ".corrupt-1", "wb") as f:
                f.write(older)
        cfg = cfg_for(jpath, os.path.join(d, "ctl.sock"))
        want, damaged = expected_leases(cfg, dmg)
        lost = len(intact) - len(want)
        res["leases_lost_total"] += max(0, lost)
        k["leases_lost"] += max(0, lost)
        if damaged:
            k["damaged"] += 1
        else:
            res["torn_tail_only"] += 1
        aside = "%s.corrupt-%d" % (jpath, 2 if older else 1)
        bad = []

        def fail(what, **kw):
            v = {"campaign": "journal_damage", "what": what, "mutation": desc}
            v.update(kw)
            bad.append(v)

        s = Server(lab, srv, cfg, name="dmg%03d" % i)
        try:
            s.start(timeout=30)
        except L.LabError as e:
            fail("service did not start on the damaged journal", error=str(e)[-1500:])
            s = None
        if s is not None:
            res["started"] += 1
            out_lines = s.lines()
            dl = [l for l in out_lines if "damaged record stretch" in l]
            serving = s.lines("mpdhcp: serving")
            m = re.search(r"(\d+) leases restored", serving[0]) if serving else None
            if not m or int(m.group(1)) != len(want):
                fail("start-up line counts the wrong leases", line=serving, expected=len(want))
            if damaged:
                line = "mpdhcp: %s: %d damaged record stretch(es), %d bytes skipped; every intact " \
                       "record kept; the damaged original is kept as %s" % (
                           jpath, len(damaged), sum(n for _, n in damaged), aside)
                if dl != [line]:
                    fail("start-up line missing or wrong", got=dl, expected=line)
                else:
                    res["damage_reported"] += 1
                try:
                    with open(aside, "rb") as f:
                        kept = f.read()
                except OSError as e:
                    kept = None
                    fail("damaged original not kept", path=aside, error=str(e))
                if kept is not None:
                    if kept != dmg:
                        fail("damaged original not kept byte for byte", path=aside,
                             kept_bytes=len(kept), damaged_bytes=len(dmg))
                    else:
                        res["kept_aside"] += 1
            else:
                if dl:
                    fail("damage reported for a sound file or a torn tail", got=dl)
                extra = sorted(f for f in os.listdir(d) if ".corrupt-" in f and
                               not (older and f.endswith(".corrupt-1")))
                if extra:
                    fail("a copy was kept aside though nothing mid-file was damaged", files=extra)
            if older is not None:
                with open(jpath + ".corrupt-1", "rb") as f:
                    if f.read() != older:
                        fail("an older .corrupt-1 was overwritten")
            got = sorted(_lease_key(l) for l in s.leases())
            if got != want:
                res["listing_mismatches"] += 1
                fail("listing differs from replaying the damaged file",
                     missing=[x for x in want if x not in got][:10],
                     unexpected=[x for x in got if x not in want][:10])
            err = s.stop()
            if err:
                fail("clean stop failed", detail=err)
            # the rewritten (compacted) file must give the same leases, and no damage line
            s2 = Server(lab, srv, cfg, name="dmg%03dr" % i)
            try:
                s2.start(timeout=30)
                got2 = sorted(_lease_key(l) for l in s2.leases())
                if got2 != want:
                    res["restart_mismatches"] += 1
                    fail("second start on the rewritten journal lists other leases",
                         missing=[x for x in want if x not in got2][:10],
                         unexpected=[x for x in got2 if x not in want][:10])
                if any("damaged record" in l for l in s2.lines()):
                    fail("the rewritten journal is reported damaged", lines=s2.lines())
                err = s2.stop()
                if err:
                    fail("clean stop failed (second start)", detail=err)
            except L.LabError as e:
                fail("service did not start again on its rewritten journal", error=str(e)[-1500:])
        if bad and keep_dir:  # the journal (made by a live run) and its damaged copy, to replay
            os.makedirs(keep_dir, exist_ok=True)
            base = os.path.join(keep_dir, "journal-damage-%d.jnl" % seed)
            keep = os.path.join(keep_dir, "journal-damage-%d-%03d.jnl" % (seed, i))
            for path, b in ((base, data), (keep, dmg)):
                with open(path, "wb") as f:
                    f.write(b)
            with open(keep + ".json", "w") as f:
                json.dump(cfg, f, indent=1)
            for v in bad:
                v["damaged_copy"] = keep
                v["original"] = base
        violations += bad
        res["done"] = i + 1
    if log:
        log("  journal damage: %d mutations, %d started, %d damage lines, %d kept aside" % (
            res["done"], res["started"], res["damage_reported"], res["kept_aside"]))
    res["violations"] = violations
    return res


# ---------------------------------------------------------------------------------------------
# Capacity: a short ramp (fresh server and empty journal per step)
# ---------------------------------------------------------------------------------------------
CAP_POOL = ("10.77.1.0", "10.77.64.255")  # 16384 addresses
CAP_TABLE = 16384


def measure_capacity(lab, rates=(250, 500, 1000, 2000, 4000), seconds=3, loss_limit=0.01, refine=2,
                     log=print):
    """The highest perfdhcp -r (DORA/s, one relay, sequential MACs) with at most 1% loss: rates
    doubled until one fails, then `refine` bisection steps. A fresh server per step."""
    need("perfdhcp")
    srv, cli = _relay_lab(lab)
    steps = []
    best, bad = None, None

    def step(rate):
        st = _ramp_step(lab, srv, cli, len(steps), rate, seconds)
        steps.append(st)
        if log:
            log("  ramp: -r %d: %d/%d ACKed (loss %.2f%%)" % (rate, st["ack"], st["discover"],
                                                           100 * st["loss"]))
        return st["loss"] <= loss_limit and st["alive"]

    for rate in rates:
        if not step(rate):
            bad = rate
            break
        best = rate
    for _ in range(refine if best and bad else 0):
        mid = (best + bad) // 2
        if mid - best < 50:
            break
        if step(mid):
            best = mid
        else:
            bad = mid
    return {"capacity": best or rates[0], "steps": steps, "loss_limit": loss_limit}


def _ramp_step(lab, srv, cli, i, rate, seconds):
    jpath = lab.path("ramp.journal")
    if os.path.exists(jpath):
        os.remove(jpath)
    cfg = dhcp4_config(lab, ["s0"], [_lan_subnet(), _relay_subnet(*CAP_POOL)], valid=3600,
                       max_leases=CAP_TABLE, lease_file=jpath)
    server = Server(lab, srv, cfg, name="ramp%d" % i, heapsize="16M").start()
    n = min(rate * seconds, CAP_TABLE - 200)
    r = L.perfdhcp4(lab, cli, "c0", rate, num_exchanges=n, timeout=seconds + 10, exit_wait_us=500000)
    alive = server.proc.poll() is None
    server.stop()
    disc = r["sent"].get("DISCOVER", 0)
    acks = r["received"].get("ACK", 0)
    loss = 1 - acks / disc if disc else 1.0
    return {"rate": rate, "discover": disc, "ack": acks, "loss": round(loss, 4), "alive": alive}


# ---------------------------------------------------------------------------------------------
# 3. Starvation
# ---------------------------------------------------------------------------------------------
ST_POOL = ("192.168.77.100", "192.168.77.199")  # 100 addresses
ST_MAX = 64  # max-leases: the table (64 + 1 reserved) fills before the pool
RES_MAC = "02:5e:00:00:00:99"
RES_IP = "192.168.77.150"  # inside the pool: nobody else may ever be offered it
ST_VALID, ST_T1, ST_T2 = 20, 5, 15


def check_flood(pkts, valid=None):
    """What a flood was given (OFFER/ACK frames seen by its relay), against the rule: an ACKed
    address is its client's until expiry; an offered one for OFFER_HOLD s, unless it is the
    oldest offer still held when the pool has nothing else (FIFO: the table's OFFERED list).
    Returns (bound leases given to another, held offers reused before an older one, held
    offers reused oldest-first). Times carry 1 s of slack (the engines count whole seconds)."""
    valid = valid or ST_VALID
    bound, offers = {}, {}  # ip -> (mac, until); ip -> (mac, offered at), in offer order
    bound_taken, newer_first, reused = [], [], 0
    for p_ in sorted(pkts, key=lambda x: x["t"]):
        ip, mac, t = p_["yiaddr"], p_["chaddr"], p_["t"]
        while offers:  # forget offers the server has surely let go of (FIFO: oldest first)
            first = next(iter(offers))
            if offers[first][1] + OFFER_HOLD + 2 > t:
                break
            del offers[first]
        b = bound.get(ip)
        if b is not None and b[0] != mac and t < b[1] - 1:
            bound_taken.append({"ip": ip, "bound_to": b[0], "bound_until": b[1], "given_to": mac,
                                "at": t, "type": p_["type"]})
        o = offers.get(ip)
        if o is not None and o[0] != mac and t < o[1] + OFFER_HOLD - 1:
            reused += 1
            older = [(k, v) for k, v in offers.items()
                     if k != ip and v[1] < o[1] - 1 and v[1] + OFFER_HOLD > t + 1]
            if older:
                newer_first.append({"ip": ip, "offered_to": o[0], "offered_at": o[1], "given_to": mac,
                                    "at": t, "older_offer_still_held": [older[0][0]] + list(older[0][1])})
        offers.pop(ip, None)
        if p_["type"] == 2:
            offers[ip] = (mac, t)
        elif p_["type"] == 5:
            bound[ip] = (mac, t + (p_.get("lease") or valid))
    return bound_taken, newer_first, reused


def starvation(lab, seconds=16, rate=DEFAULT_RATE, seed=DEFAULT_SEED, renewers=10, log=print):
    """A random-MAC flood (perfdhcp: DORA for the first half, DISCOVER only for the second)
    while `renewers` clients (half busybox udhcpc, half ISC dhclient) renew and a reserved
    client releases and rejoins in a loop."""
    need("perfdhcp", "udhcpc", "dhclient")
    rng = random.Random("starvation-%d" % seed)
    srv, fl, rsv = lab.add_host("srv"), lab.add_host("fl"), lab.add_host("rsv")
    rens = [lab.add_host("r%d" % i) for i in range(renewers)]
    ports = []
    for i, ns in enumerate(rens):
        lab.link(srv, "p%d" % i, ns, "eth0")
        ports.append("p%d" % i)
    lab.link(srv, "pr", rsv, "eth0")
    ports.append("pr")
    lab.bridge(srv, "br0", ports)
    lab.addr(srv, "br0", "192.168.77.1/24")
    lab.ip(rsv, "link", "set", "dev", "eth0", "down")
    lab.ip(rsv, "link", "set", "dev", "eth0", "address", RES_MAC)
    lab.ip(rsv, "link", "set", "dev", "eth0", "up")
    lab.link(srv, "sf0", fl, "f0")
    lab.addr(srv, "sf0", "10.77.0.1/16")
    lab.addr(fl, "f0", "10.77.0.2/16")
    subnet = {"id": 1, "subnet": "192.168.77.0/24", "interface": "br0",
              "pools": [{"pool": "%s - %s" % ST_POOL}],
              "relay": {"ip-addresses": ["10.77.0.2"]},  # the flood (perfdhcp relays) lands here
              "option-data": [{"name": "routers", "data": "192.168.77.1"}],
              "reservations": [{"hw-address": RES_MAC, "ip-address": RES_IP, "hostname": "reserved"}]}
    cfg = dhcp4_config(lab, ["br0", "sf0"], [subnet], valid=ST_VALID, t1=ST_T1, t2=ST_T2,
                       max_leases=ST_MAX)
    server = Server(lab, srv, cfg).start()
    cap = Sniffer(lab, srv, "br0")  # the LAN side: renewals and the reserved client
    fcap = Sniffer(lab, fl, "f0", types="2,5")  # what the flood was offered and given
    res = {"seed": seed, "rate": rate, "flood_seconds": seconds, "pool": "%s - %s" % ST_POOL,
           "max_leases": ST_MAX, "valid_lifetime": ST_VALID, "renew_timer": ST_T1,
           "reserved": {"mac": RES_MAC, "ip": RES_IP}, "rule": RULE}
    violations = []

    def fail(what, **kw):
        v = {"campaign": "starvation", "what": what, "seed": seed}
        v.update(kw)
        violations.append(v)

    clients = []  # (ns, mac, kind, address)
    for i, ns in enumerate(rens):
        kind = "udhcpc" if i < renewers // 2 else "dhclient"
        if kind == "udhcpc":
            c = L.udhcpc_start(lab, ns, "eth0", hostname="ren%d" % i)
            addr = c.lease["address"]
        else:
            addr = L.dhclient(lab, ns, "eth0", hostname="ren%d" % i)["address"]
        clients.append((ns, lab.mac(ns, "eth0"), kind, addr))
    held = {a for _, _, _, a in clients}
    if len(held) != renewers or RES_IP in held:
        fail("renewing clients did not get distinct addresses", addresses=sorted(held))

    # the flood: DORA (strangers bind and fill the table), then DISCOVER only (offers held)
    offers0 = server.stats().get("offer") or 0  # OFFERs before the flood (the renewers' own)
    t_offers0 = time.time()
    half = max(2, seconds // 2)
    phases = [("dora", []), ("discover-only", ["-i"])]
    cycles, cycle_fail, cycle_secs = 0, 0, []
    t_flood0 = time.time()
    perf = {}
    for pi, (pname, extra) in enumerate(phases):
        p = _perfdhcp(lab, fl, "f0", rate, base_mac(rng), half, extra=extra, log="flood-%s.log" % pname)
        t_end = time.monotonic() + half
        n = 0
        while time.monotonic() < t_end and n < 200:  # the reserved client leaves and rejoins
            n += 1
            t0 = time.monotonic()
            try:
                c = L.udhcpc_start(lab, rsv, "eth0", timeout=15)
                got = c.lease["address"]
                cycles += 1
                if got != RES_IP:
                    cycle_fail += 1
                    fail("reserved client got another address", got=got, phase=pname)
                c.release(timeout=10)
                c.stop()
            except L.LabError as e:
                cycle_fail += 1
                fail("reserved client not served", phase=pname, error=str(e)[-600:])
            cycle_secs.append(time.monotonic() - t0)
            time.sleep(0.3)
        _wait(p, half + 20)
        if p.poll() is None:
            lab.stop(p)
        perf[pname] = L.parse_perfdhcp(lab.read_log(p))
        perf[pname].pop("exchanges", None)
    t_flood1 = time.time()
    time.sleep(3)  # the last renewals' replies
    st = server.stats()
    listing = server.leases()
    pkts = cap.stop()
    cap_pkts = pkts + []
    fpkts = fcap.stop()
    # per renewing client: every REQUEST in the flood window answered with an ACK of its address
    per = []
    replies = {}
    for p_ in cap_pkts:
        if p_["out"] and p_["type"] in (5, 6):
            replies.setdefault((p_["xid"], p_["chaddr"]), []).append(p_)
    lat_max = 0.0
    for ns, mac, kind, addr in clients:
        reqs = [p_ for p_ in cap_pkts if not p_["out"] and p_["type"] == 3 and p_["chaddr"] == mac
                and t_flood0 <= p_["t"] <= t_flood1]
        acks = naks = unanswered = renewals = 0
        for q in reqs:
            if q["ciaddr"] != "0.0.0.0":
                renewals += 1
            rs = [r for r in replies.get((q["xid"], mac), ()) if r["t"] >= q["t"] - 0.01]
            if not rs:
                unanswered += 1
                fail("renewal not answered", client=kind, mac=mac, ip=addr, request_at=q["t"])
            elif rs[0]["type"] == 6:
                naks += 1
                fail("renewal NAKed", client=kind, mac=mac, ip=addr, request_at=q["t"])
            else:
                acks += 1
                lat_max = max(lat_max, rs[0]["t"] - q["t"])
                if rs[0]["yiaddr"] != addr:
                    fail("renewal ACKed another address", client=kind, mac=mac, ip=addr,
                         got=rs[0]["yiaddr"])
        disc = [p_ for p_ in cap_pkts if not p_["out"] and p_["type"] == 1 and p_["chaddr"] == mac
                and t_flood0 <= p_["t"] <= t_flood1]
        if disc:
            fail("a renewing client fell back to DISCOVER (lost its lease)", client=kind, mac=mac, ip=addr)
        per.append({"client": kind, "mac": mac, "ip": addr, "requests": len(reqs),
                    "renewals": renewals, "acks": acks, "naks": naks, "unanswered": unanswered})
    res["renewers"] = per
    res["renewals_total"] = sum(x["renewals"] for x in per)
    res["renewal_requests_total"] = sum(x["requests"] for x in per)
    res["renewals_answered"] = sum(x["acks"] for x in per)
    res["renewals_min_per_client"] = min(x["renewals"] for x in per) if per else 0
    res["renewal_reply_ms_max"] = round(lat_max * 1000, 1)
    if per and res["renewals_min_per_client"] == 0:
        res["note"] = "some renewing client sent no renewal during the flood: make it longer"
    # the reserved client, from the LAN capture
    racks = [p_ for p_ in cap_pkts if p_["out"] and p_["type"] in (2, 5) and p_["chaddr"] == RES_MAC]
    wrong = [p_ for p_ in racks if p_["yiaddr"] != RES_IP]
    if wrong:
        fail("reserved client offered/ACKed another address", got=sorted({p_["yiaddr"] for p_ in wrong}))
    res["reserved_cycles"] = cycles
    res["reserved_failures"] = cycle_fail
    res["reserved_cycle_seconds_max"] = round(max(cycle_secs), 2) if cycle_secs else None
    res["reserved_acks"] = sum(1 for p_ in racks if p_["type"] == 5)
    if cycles == 0:
        fail("the reserved client never completed a cycle")
    # the flood never got a held address
    taken = [p_ for p_ in fpkts if p_["yiaddr"] in held | {RES_IP}]
    if taken:
        fail("a stranger was offered or given a held address",
             examples=[{k: p_[k] for k in ("type", "chaddr", "yiaddr", "t")} for p_ in taken[:10]])
    bound_taken, newer_first, reused = check_flood(fpkts)
    if bound_taken:
        fail("a stranger was given an address bound to another stranger", count=len(bound_taken),
             examples=bound_taken[:10])
    # The order check models the server's list of held offers from the OFFERs captured; an
    # OFFER the capture missed (ring drops under the flood) makes it see an older offer that
    # the server had renewed. So the check holds only when every OFFER sent was captured.
    seen = sum(1 for p_ in fpkts if p_["type"] == 2) + sum(
        1 for p_ in cap_pkts if p_["out"] and p_["type"] == 2 and p_["t"] >= t_offers0)
    res["offers_not_captured"] = (st.get("offer") or 0) - offers0 - seen
    if newer_first and res["offers_not_captured"] <= 0:
        fail("a held offer went to another client while an older offer was held", count=len(newer_first),
             examples=newer_first[:10])
    elif newer_first:
        res["offer_order_unverified"] = {"count": len(newer_first), "examples": newer_first[:3],
                                         "why": "%d OFFERs the server sent were not captured"
                                                % res["offers_not_captured"]}
    res["flood_offers_reused_within_hold"] = reused
    res["flood_packets_checked"] = len(fpkts)
    res["flood"] = {"phases": perf, "offers_seen": sum(1 for p_ in fpkts if p_["type"] == 2),
                    "acks_seen": sum(1 for p_ in fpkts if p_["type"] == 5),
                    "capture_drops": fcap.stats[1] if fcap.stats else None}
    res["lan_capture_drops"] = cap.stats[1] if cap.stats else None
    # the server's table at the end
    by_ip = {}
    for l in listing:
        by_ip.setdefault(l["ip-address"], []).append(l)
    if [l["hw-address"] for l in by_ip.get(RES_IP, ())] not in ([RES_MAC], []):
        fail("the reserved address is held by someone else", leases=by_ip.get(RES_IP))
    for ns, mac, kind, addr in clients:
        ls = by_ip.get(addr, [])
        if len(ls) != 1 or ls[0]["hw-address"] != mac or ls[0]["state"] != "bound":
            fail("a renewing client's lease is not its own at the end", mac=mac, ip=addr, leases=ls)
    res["server_stats"] = {k: st.get(k) for k in ("discover", "offer", "request", "ack", "nak",
                                                   "release", "pool_exhausted", "leases_used",
                                                   "leases_capacity", "rx")}
    res["table_filled"] = st.get("leases_used") == st.get("leases_capacity")
    res["leases_listed"] = len(listing)
    err = server.stop()
    if err:
        fail("clean stop failed", detail=err)
    res["held"] = not violations
    res["violations"] = violations
    if log:
        log("  starvation: %d renewals, %d answered, reserved client %d/%d cycles ok" % (
            res["renewal_requests_total"], res["renewals_answered"], cycles - cycle_fail, cycles))
    return res


# ---------------------------------------------------------------------------------------------
# 4. Soak
# ---------------------------------------------------------------------------------------------
SOAK_POOL = CAP_POOL
SOAK_VALID = 15
SOAK_HEAP = "16M"
JOURNAL_RECORD_MAX = 5 + 40 + 1 + 31  # marker/type/len/CRC + record + hostname


def soak(lab, seconds=20, capacity=DEFAULT_RATE, seed=DEFAULT_SEED, sample_every=3.0, log=print):
    """perfdhcp at capacity/2 (DORA, random MACs) plus renewals at capacity/8 for `seconds`;
    samples RSS (VmRSS of the micropython process) and the service's counters."""
    need("perfdhcp")
    srv, cli = _relay_lab(lab)
    rate = max(10, capacity // 2)
    renew = max(1, rate // 4)
    # leases live long enough to be renewed, short enough that the table (and pool) never fills:
    # rate x valid stays under 3/4 of it, so expired leases are reused and none is refused
    valid = max(4, min(SOAK_VALID, CAP_TABLE * 3 // 4 // rate))
    cfg = dhcp4_config(lab, ["s0"], [_lan_subnet(), _relay_subnet(*SOAK_POOL)], valid=valid,
                       max_leases=CAP_TABLE)
    server = Server(lab, srv, cfg, heapsize=SOAK_HEAP).start()
    res = {"seed": seed, "seconds": seconds, "capacity": capacity, "rate": rate, "renew_rate": renew,
           "valid_lifetime": valid, "pool": "%s - %s" % SOAK_POOL, "heapsize": SOAK_HEAP,
           "samples": []}
    violations = []

    def fail(what, **kw):
        v = {"campaign": "soak", "what": what, "seed": seed}
        v.update(kw)
        violations.append(v)

    p = _perfdhcp(lab, cli, "c0", rate, base_mac(random.Random("soak-%d" % seed)), seconds,
                  extra=["-f", renew], log="soak-perf.log")
    t0 = time.monotonic()
    stop_at = t0 + seconds + 30
    prev = None
    while time.monotonic() < stop_at and len(res["samples"]) < 10000:
        s = {"t": round(time.monotonic() - t0, 1), "rss_kb": server.rss_kb()}
        try:
            st = server.stats()
        except (OSError, ValueError, L.LabError) as e:
            fail("statistic-get-all failed during the soak", error=str(e))
            break
        for k in ("journal_size", "leases_used", "discover", "offer", "request", "ack", "nak",
                  "pool_exhausted", "journal_bytes_written", "journal_commits", "dropped_malformed",
                  "heap_alloc", "heap_free"):
            s[k] = st.get(k)
        res["samples"].append(s)
        if prev is not None:
            back = [k for k in ("discover", "offer", "request", "ack", "nak", "journal_bytes_written")
                    if s[k] < prev[k]]
            if back:
                fail("counters went backwards", counters=back, at=s["t"])
        prev = s
        if server.proc.poll() is not None:
            fail("the service died during the soak", output=server.output()[-1500:])
            break
        if p.poll() is not None:
            break
        time.sleep(sample_every)
    _wait(p, 30)
    if p.poll() is None:
        lab.stop(p)
    perf = L.parse_perfdhcp(lab.read_log(p))
    perf.pop("exchanges", None)
    res["perfdhcp"] = perf
    st = server.stats() if server.proc.poll() is None else {}
    sm = res["samples"]
    rss = [x["rss_kb"] for x in sm if x["rss_kb"]]
    js = [x["journal_size"] for x in sm if x["journal_size"] is not None]
    res["rss_kb"] = {"first": rss[0] if rss else None, "last": rss[-1] if rss else None,
                     "max": max(rss) if rss else None}
    heap = [x["heap_alloc"] for x in sm if x.get("heap_alloc") is not None]
    res["heap_alloc"] = {"first": heap[0], "last": heap[-1], "max": max(heap), "min": min(heap)} if heap else None
    res["journal_size"] = {"first": js[0] if js else None, "last": st.get("journal_size"),
                           "max": max(js + [st.get("journal_size") or 0]) if js else None}
    cap = st.get("leases_capacity") or CAP_TABLE
    used = st.get("leases_used") or 0
    bound = max(65536, 4 * used * JOURNAL_RECORD_MAX) + 4096 + 16 * JOURNAL_RECORD_MAX
    res["journal_bound"] = bound
    res["journal_written_total"] = st.get("journal_bytes_written")
    if js and res["journal_size"]["max"] > bound:
        fail("journal grew past what compaction allows", max=res["journal_size"]["max"], bound=bound)
    counters = {k: st.get(k) for k in ("discover", "offer", "request", "ack", "nak", "pool_exhausted",
                                      "leases_used", "leases_capacity", "dropped_malformed", "rx", "tx")}
    res["counters"] = counters
    if st:
        if not st["discover"] >= st["offer"]:
            fail("discover < offer", counters=counters)
        if not st["request"] >= st["ack"] + st["nak"]:
            fail("request < ack + nak", counters=counters)
        if not used <= cap:
            fail("leases_used > capacity", counters=counters)
        res["compactions_seen"] = sum(1 for a, b in zip(js, js[1:]) if b < a)
    leases = server.leases() if server.proc.poll() is None else []
    ips = [l["ip-address"] for l in leases]
    if len(ips) != len(set(ips)):
        fail("an address listed twice after the soak")
    res["leases_listed"] = len(leases)
    err = server.stop()
    if err:
        fail("clean stop failed", detail=err)
    if heap:
        res["heap_note"] = ("heap_alloc/heap_free are gc.mem_alloc()/gc.mem_free() of the service's "
                            "MicroPython heap (statistic-get-all), sampled between collections, so "
                            "they swing with garbage; RSS is the process's resident set (the heap is "
                            "one block of --heapsize %s, touched as it is used)" % SOAK_HEAP)
    else:
        res["heap_note"] = ("the service reported no heap_alloc: RSS only (the MicroPython heap in use, "
                            "gc.mem_alloc, needs statistic-get-all to report it)")
    if len(sm) > 40:  # keep the JSON readable: every k-th sample
        k = len(sm) // 40 + 1
        res["samples"] = sm[::k] + ([sm[-1]] if (len(sm) - 1) % k else [])
    res["violations"] = violations
    if log:
        log("  soak: %d s at %d/s (+%d renewals/s), RSS %s kB -> %s kB (max %s), journal %s -> %s B" % (
            seconds, rate, renew, res["rss_kb"]["first"], res["rss_kb"]["last"], res["rss_kb"]["max"],
            res["journal_size"]["first"], res["journal_size"]["last"]))
    return res


# ---------------------------------------------------------------------------------------------
# 5. Fuzzing (another verb; folded in when it exists)
# ---------------------------------------------------------------------------------------------
def fuzz(inputs, json_out, timeout=3600, log=print, argv=None):
    """`python -m host_tools fuzz --target all --inputs N --json-out FILE` as a subprocess (argv
    replaces that command, for tests); its JSON is folded in, a non-zero exit is a failure."""
    if argv is None and not os.path.exists(os.path.join(ROOT, "host_tools", "fuzz.py")):
        return {"skipped": "host_tools/fuzz.py is not there (yet): no fuzzing figures", "violations": []}
    if os.path.exists(json_out):
        os.remove(json_out)
    argv = argv or [sys.executable, "-m", "host_tools", "fuzz", "--target", "all", "--inputs",
                    str(inputs), "--json-out", json_out]
    t0 = time.monotonic()
    try:
        r = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        rc, out = r.returncode, r.stdout + r.stderr
    except subprocess.TimeoutExpired as e:
        rc, out = None, "timed out after %d s: %s" % (timeout, (e.stdout or b"")[-2000:])
    res = {"command": " ".join(argv[1:]), "returncode": rc, "seconds": round(time.monotonic() - t0, 1),
           "output_tail": out[-1500:]}
    try:
        with open(json_out) as f:
            res["figures"] = json.load(f)
    except (OSError, ValueError) as e:
        res["figures"] = None
        res["figures_error"] = str(e)
    res["violations"] = [] if rc == 0 else [{"campaign": "fuzz", "what": "fuzz exited %s" % rc,
                                             "output_tail": out[-1500:]}]
    if log:
        log("  fuzz: exit %s in %.0f s" % (rc, res["seconds"]))
    return res


# ---------------------------------------------------------------------------------------------
# The verb
# ---------------------------------------------------------------------------------------------
def _campaign(results, name, fn, *a, **kw):
    """Run one campaign in its own lab; an exception is a failure of that campaign."""
    t0 = time.monotonic()
    print("== %s" % name, flush=True)
    try:
        with L.Lab("st" + name[:4]) as lab:
            r = fn(lab, *a, **kw)
    except Skip as e:
        r = {"skipped": str(e), "violations": []}
    except Exception as e:  # a campaign that could not finish is a failure, reported with its error
        import traceback
        r = {"error": "%s: %s" % (type(e).__name__, e), "traceback": traceback.format_exc()[-3000:],
             "violations": [{"campaign": name, "what": "campaign failed to run",
                             "error": "%s: %s" % (type(e).__name__, str(e)[-1500:])}]}
    r["campaign_seconds"] = round(time.monotonic() - t0, 1)
    results[name] = r
    return r


def _fuzz_line(fig):
    """One line from the fuzz verb's JSON: inputs and findings per target."""
    if not isinstance(fig, dict) or not isinstance(fig.get("targets"), dict):
        return "no figures"
    parts = []
    for name, t in sorted(fig["targets"].items()):
        if not isinstance(t, dict):
            continue
        f = t.get("findings") or []
        sigs = sorted({x.get("signature", "?") for x in f if isinstance(x, dict)})
        parts.append("%s %s inputs, %d finding(s)%s" % (name, t.get("inputs"), len(f),
                                                       (" [" + "; ".join(sigs)[:200] + "]") if sigs else ""))
    return ", ".join(parts)


def _summary(doc):
    c = doc["campaigns"]
    out = ["", "mpdhcp stress (seed %d%s): %s" % (doc["seed"], ", quick" if doc["quick"] else "",
                                                   "OK" if doc["ok"] else "INVARIANT VIOLATED")]

    def skipped(name):
        r = c.get(name)
        if r is None:
            return "not run"
        if "skipped" in r:
            return "skipped: " + r["skipped"]
        if "error" in r:
            return "ERROR: " + r["error"]
        return None

    for name in CAMPAIGNS:
        s = skipped(name)
        r = c.get(name, {})
        if s:
            out.append("  %-15s %s" % (name, s))
            continue
        n = len(r["violations"])
        flag = "ok" if not n else "%d VIOLATION(S)" % n
        if name == "power_cuts":
            out.append("  %-15s %s: %d rounds (%d with a second cut during start-up), %d ACKs seen, "
                       "%d lease checks, losses %d, duplicates %d (server-side %d), two-record "
                       "clients %d, expiry regressions %d; restart max %.2f s; server expiry up to "
                       "%.2f s before the client's" % (
                           name, flag, r["rounds_done"], r["startup_kills"], r["acks_seen"],
                           r["acks_checked"], r["losses"], r["duplicates"], r["server_duplicates"],
                           r["clients_with_two_records"], r["expiry_regressions"],
                           r["restart_seconds_max"], r["server_expiry_early_s_max"]))
        elif name == "journal_damage":
            out.append("  %-15s %s: journal %d B (%s), %d leases; %d mutations %s: %d started, "
                       "%d mid-file damages reported and kept aside %d, %d torn tails only, "
                       "listing mismatches %d" % (
                           name, flag, r["journal_bytes"], r["journal_records"], r["journal_leases"],
                           r["done"], {k: v["n"] for k, v in r["by_kind"].items()}, r["started"],
                           r["damage_reported"], r["kept_aside"], r["torn_tail_only"],
                           r["listing_mismatches"]))
        elif name == "starvation":
            ph = r["flood"]["phases"]
            out.append("  %-15s %s: flood %d/s for %d s (DORA then DISCOVER-only; %s DISCOVERs "
                       "sent), %d renewal REQUESTs from %d clients, %d ACKed (min %d renewals per "
                       "client, reply max %.0f ms); reserved client %d/%d cycles got %s; "
                       "pool_exhausted %s, table %s/%s; %d held offers reused for newer clients "
                       "(allowed: oldest first)" % (
                           name, flag, r["rate"], r["flood_seconds"],
                           sum(p.get("sent", {}).get("DISCOVER", 0) for p in ph.values()),
                           r["renewal_requests_total"], len(r["renewers"]), r["renewals_answered"],
                           r["renewals_min_per_client"], r["renewal_reply_ms_max"],
                           r["reserved_cycles"] - r["reserved_failures"], r["reserved_cycles"], RES_IP,
                           r["server_stats"]["pool_exhausted"], r["server_stats"]["leases_used"],
                           r["server_stats"]["leases_capacity"], r["flood_offers_reused_within_hold"]))
            out.append("  %-15s rule: %s -> %s" % ("", r["rule"], "held" if r["held"] else "BROKEN"))
        elif name == "soak":
            pf = r["perfdhcp"]
            out.append("  %-15s %s: %d s at %d/s DORA + %d/s renewals (capacity %s); %s DISCOVER, "
                       "%s ACK; RSS %s/%s/%s kB (first/last/max); heap_alloc %s B (first/last/max); "
                       "journal %s/%s/%s B (first/last/max, bound %d); counters %s" % (
                           name, flag, r["seconds"], r["rate"], r["renew_rate"], r["capacity"],
                           pf["sent"].get("DISCOVER"), pf["received"].get("ACK"),
                           r["rss_kb"]["first"], r["rss_kb"]["last"], r["rss_kb"]["max"],
                           "%s/%s/%s" % (r["heap_alloc"]["first"], r["heap_alloc"]["last"],
                                         r["heap_alloc"]["max"]) if r["heap_alloc"] else "n/a",
                           r["journal_size"]["first"], r["journal_size"]["last"],
                           r["journal_size"]["max"], r["journal_bound"], r["counters"]))
        elif name == "fuzz":
            out.append("  %-15s %s: exit %s in %s s; %s" % (
                name, flag, r.get("returncode"), r.get("seconds"), _fuzz_line(r.get("figures"))))
        for v in r["violations"][:5]:
            out.append("      ! " + json.dumps(v, default=str)[:600])
        if n > 5:
            out.append("      ... %d more in the JSON" % (n - 5))
    return "\n".join(out)


def _git_state():
    """The commit the firmware came from, and whether firmware/ had local changes (read-only)."""
    def git(*a):
        try:
            r = subprocess.run(["git"] + list(a), cwd=ROOT, capture_output=True, text=True, timeout=10,
                               stdin=subprocess.DEVNULL)
            return r.stdout.strip() if r.returncode == 0 else None
        except (OSError, subprocess.TimeoutExpired):
            return None
    head = git("rev-parse", "HEAD")
    changed = git("status", "--porcelain", "--", "firmware")
    return {"commit": head, "firmware_local_changes": bool(changed) if changed is not None else None}


def run(args):
    if not L.is_root():
        print("stress: needs root (network namespaces); run it as root after `make venv peers`",
              file=sys.stderr)
        return 2
    base = QUICK if args.quick else FULL
    rounds = args.rounds if args.rounds is not None else base["rounds"]
    soak_s = args.soak_seconds if args.soak_seconds is not None else base["soak_seconds"]
    fuzz_n = args.fuzz_inputs if args.fuzz_inputs is not None else base["fuzz_inputs"]
    muts = args.mutations if args.mutations is not None else base["mutations"]
    flood_s = args.flood_seconds if args.flood_seconds is not None else base["flood_seconds"]
    only = [x.strip() for x in args.only.split(",") if x.strip()]
    unknown = [x for x in only if x not in CAMPAIGNS]
    if unknown:
        print("stress: unknown campaign(s) %s; choose from %s" % (", ".join(unknown), ", ".join(CAMPAIGNS)),
              file=sys.stderr)
        return 2
    out_dir = os.path.dirname(os.path.abspath(args.json_out))
    os.makedirs(out_dir, exist_ok=True)
    doc = {"tool": "python -m host_tools stress", "argv": sys.argv[1:], "seed": args.seed,
           "quick": bool(args.quick), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
           "settings": {"rounds": rounds, "soak_seconds": soak_s, "fuzz_inputs": fuzz_n,
                        "mutations": muts, "flood_seconds": flood_s},
           "campaigns": {}}
    doc["firmware"] = _git_state()
    c = doc["campaigns"]
    capacity = args.rate
    if capacity is None and not args.quick and ("starvation" in only or "soak" in only):
        r = _campaign(c, "capacity", measure_capacity)
        capacity = r.get("capacity")
    capacity = capacity or DEFAULT_RATE
    doc["capacity"] = capacity
    keep = os.path.join(out_dir, "stress-failures")
    if "power_cuts" in only:
        _campaign(c, "power_cuts", power_cuts, rounds=rounds, seed=args.seed, keep_dir=keep)
    if "journal_damage" in only:
        _campaign(c, "journal_damage", journal_damage, mutations=muts, seed=args.seed, keep_dir=keep)
    if "starvation" in only:
        _campaign(c, "starvation", starvation, seconds=flood_s, rate=capacity, seed=args.seed)
    if "soak" in only:
        _campaign(c, "soak", soak, seconds=soak_s, capacity=capacity, seed=args.seed)
    if "fuzz" in only:
        print("== fuzz", flush=True)
        c["fuzz"] = fuzz(fuzz_n, os.path.join(out_dir, "fuzz.json"),
                         timeout=600 if args.quick else 7200)
    doc["violations"] = [v for r in c.values() for v in r.get("violations", [])]
    doc["ok"] = not doc["violations"]
    doc["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    with open(args.json_out, "w") as f:
        json.dump(doc, f, indent=1, default=str)
    print(_summary(doc))
    print("figures: %s" % args.json_out)
    return 0 if doc["ok"] else 1
