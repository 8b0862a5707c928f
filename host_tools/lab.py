"""Network-namespace lab for DHCP interop tests and the demo (CPython, stdlib only).

Usage::

    with Lab("t") as lab:
        srv = lab.add_host("srv"); cli = lab.add_host("cli")
        lab.link(srv, "s0", cli, "c0")
        lab.addr(srv, "s0", "192.168.77.1/24")
        lab.popen(srv, ["dnsmasq", ...])
        lease = udhcpc(lab, cli, "c0")

Everything created (namespaces, processes, the temp dir ``lab.tmp``) is removed on exit,
even on failure. Requires root and iproute2.
"""
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time

__all__ = [
    "Lab", "LabError", "have", "is_root",
    "capture", "Capture", "DHCP_TYPES", "lease_from_env",
    "udhcpc", "udhcpc_start", "UdhcpcClient", "dhclient", "dhclient_renew", "dhclient_release", "dhclient_stop",
    "dhcpcd", "dhcpcd_start", "dhcpcd_renew", "dhcpcd_rebind", "dhcpcd_release", "dhcpcd_stop",
    "dhcrelay", "perfdhcp4", "parse_perfdhcp",
    "dnsmasq", "kea_dhcp4", "wait_for",
    "ns_exists", "make_ns", "del_ns", "ns_pids", "kill_ns_pids", "veth", "bridge", "addr",
]


class LabError(RuntimeError):
    pass


def is_root():
    return hasattr(os, "geteuid") and os.geteuid() == 0


def have(*binaries):
    """True if every binary is on PATH (also looks in /usr/sbin and /sbin)."""
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin:/usr/local/sbin"
    return all(shutil.which(b, path=path) for b in binaries)


def wait_for(pred, timeout=5.0, interval=0.05, what="condition"):
    """Poll pred() until truthy (returns its value) or raise LabError after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise LabError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def _sh(argv, timeout=10, check=True):
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise LabError("%s failed (%d): %s%s" % (" ".join(argv), r.returncode, r.stdout, r.stderr))
    return r


def _kill_group(p, term_wait=2.0):
    """SIGTERM then SIGKILL the process group of Popen p (started with start_new_session)."""
    if p.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, term_wait), (signal.SIGKILL, 2.0)):
        try:
            os.killpg(p.pid, sig)
        except (ProcessLookupError, PermissionError):
            try:
                p.send_signal(sig)
            except ProcessLookupError:
                pass
        try:
            p.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            pass


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


HOST_RESOLV = "/etc/resolv.conf"
NETNS_ETC = "/etc/netns"


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


# -- namespaces and links, also used without a Lab (host_tools/vboard.py) ----------------
def ns_exists(ns):
    return os.path.exists(os.path.join("/run/netns", ns))


def make_ns(ns, what="namespace"):
    """Create namespace ns with its own /etc/netns/NS/resolv.conf, accept_dad=0, lo up.
    `ip netns exec` bind-mounts /etc/netns/NS/* over /etc/*: with its own resolv.conf a DHCP
    client's hook in this namespace never rewrites the host's (one did, once, and broke name
    resolution for pip on this machine)."""
    _sh(["ip", "netns", "add", ns])
    os.makedirs(os.path.join(NETNS_ETC, ns), exist_ok=True)
    with open(os.path.join(NETNS_ETC, ns, "resolv.conf"), "w") as f:
        f.write("# resolv.conf of %s %s\n" % (what, ns))
    _sh(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0",
         "net.ipv6.conf.default.accept_dad=0"])
    _sh(["ip", "-n", ns, "link", "set", "lo", "up"])


def del_ns(ns):
    """End every process in ns, delete it and its /etc/netns/NS."""
    kill_ns_pids(ns)
    _sh(["ip", "netns", "del", ns], check=False)
    shutil.rmtree(os.path.join(NETNS_ETC, ns), ignore_errors=True)


def ns_pids(ns):
    r = _sh(["ip", "netns", "pids", ns], check=False)
    return [int(x) for x in r.stdout.split() if x.isdigit()]


def kill_ns_pids(ns, term_wait=1.0):
    """SIGTERM, then SIGKILL, every process still inside namespace ns."""
    pids = ns_pids(ns)
    if not pids:
        return
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + term_wait
    while time.monotonic() < deadline and any(_pid_alive(p) for p in pids):
        time.sleep(0.05)
    for pid in ns_pids(ns):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and ns_pids(ns):
        time.sleep(0.05)


def veth(ns_a, if_a, ns_b, if_b, up=True):
    """veth pair if_a (in ns_a) <-> if_b (in ns_b), created directly inside the
    namespaces (nothing ever appears in the root namespace). Names <= 15 chars."""
    for n in (if_a, if_b):
        if len(n) > 15:
            raise LabError("interface name too long: %r" % n)
    _sh(["ip", "-n", ns_a, "link", "add", if_a, "type", "veth", "peer", "name", if_b,
         "netns", ns_b])
    if up:
        _sh(["ip", "-n", ns_a, "link", "set", if_a, "up"])
        _sh(["ip", "-n", ns_b, "link", "set", if_b, "up"])


def bridge(ns, brname, ifnames=()):
    """Create bridge brname in ns (no STP, forward delay 0) and enslave ifnames.
    Put the server's address on the bridge and bind the server to brname."""
    _sh(["ip", "-n", ns, "link", "add", brname, "type", "bridge", "stp_state", "0",
         "forward_delay", "0"])
    for ifn in ifnames:
        _sh(["ip", "-n", ns, "link", "set", ifn, "master", brname])
        _sh(["ip", "-n", ns, "link", "set", ifn, "up"])
    _sh(["ip", "-n", ns, "link", "set", brname, "up"])


def addr(ns, ifname, cidr):
    fam = ["-6"] if ":" in cidr else []
    extra = ["nodad"] if ":" in cidr else []
    _sh(["ip", "-n", ns] + fam + ["addr", "add", cidr, "dev", ifname] + extra)


class Lab:
    """Context manager owning a set of network namespaces, processes and a temp dir."""

    def __init__(self, prefix="lab"):
        # Namespace names: prefix + 6 hex chars + "-" + host name. Interface names are chosen
        # by the caller and live inside the namespaces, so they never clash across labs.
        self.prefix = re.sub(r"[^A-Za-z0-9_]", "", prefix)[:8] or "lab"
        self.tag = self.prefix + "%02x%s" % (os.getpid() & 0xFF, secrets.token_hex(2))
        self.namespaces = []
        self.procs = []
        self._cleanups = []
        self.tmp = None
        self._host_resolv = None

    # -- lifecycle ---------------------------------------------------------------------
    def __enter__(self):
        if not is_root():
            raise LabError("Lab needs root")
        self.tmp = tempfile.mkdtemp(prefix="lab-%s-" % self.tag)
        self._host_resolv = _read(HOST_RESOLV)
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        errors = []
        for fn in reversed(self._cleanups):
            try:
                fn()
            except Exception as e:  # keep cleaning up
                errors.append(e)
        self._cleanups = []
        for p in reversed(self.procs):
            try:
                _kill_group(p)
            except Exception as e:
                errors.append(e)
        self.procs = []
        for ns in reversed(self.namespaces):
            try:
                del_ns(ns)
            except Exception as e:
                errors.append(e)
        self.namespaces = []
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        if self._host_resolv is not None and _read(HOST_RESOLV) != self._host_resolv:
            # a client wrote the host's file after all: put it back, and fail loudly
            with open(HOST_RESOLV, "w") as f:
                f.write(self._host_resolv)
            errors.append("a lab client rewrote the host's %s (restored)" % HOST_RESOLV)
        if errors:
            raise LabError("cleanup errors: %r" % errors)

    def on_exit(self, fn):
        """Register fn() to run first at exit (LIFO)."""
        self._cleanups.append(fn)

    def ns_pids(self, ns):
        return ns_pids(ns)

    def kill_ns_pids(self, ns, term_wait=1.0):
        kill_ns_pids(ns, term_wait)

    # -- topology ----------------------------------------------------------------------
    def add_host(self, name):
        """Create a namespace (accept_dad=0, lo up); returns its name."""
        ns = "%s-%s" % (self.tag, name)
        self.namespaces.append(ns)  # first: close() removes a namespace made half-way
        make_ns(ns, "lab namespace")
        return ns

    def link(self, ns_a, if_a, ns_b, if_b, up=True):
        veth(ns_a, if_a, ns_b, if_b, up)

    def bridge(self, ns, brname, ifnames=()):
        bridge(ns, brname, ifnames)

    def addr(self, ns, ifname, cidr):
        addr(ns, ifname, cidr)

    def route(self, ns, dest, via=None, dev=None):
        argv = ["ip", "-n", ns, "route", "add", dest]
        if via:
            argv += ["via", via]
        if dev:
            argv += ["dev", dev]
        _sh(argv)

    def ip(self, ns, *args):
        """`ip -n ns ARGS...` -> stdout."""
        return _sh(["ip", "-n", ns] + list(args)).stdout

    def mac(self, ns, ifname):
        out = self.ip(ns, "-o", "link", "show", ifname)
        m = re.search(r"link/ether ([0-9a-f:]{17})", out)
        return m.group(1) if m else None

    def addrs(self, ns, ifname):
        """IPv4 addresses (CIDR strings) on ifname."""
        out = self.ip(ns, "-o", "-4", "addr", "show", "dev", ifname)
        return re.findall(r"inet (\S+)", out)

    # -- processes ---------------------------------------------------------------------
    def _argv(self, ns, argv):
        return ["ip", "netns", "exec", ns] + [str(a) for a in argv]

    def run(self, ns, argv, timeout=10, check=False, env=None, input=None):
        """subprocess.run inside ns; captures text output. Never reads the caller's stdin."""
        kw = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
        r = subprocess.run(self._argv(ns, argv), capture_output=True, text=True,
                           timeout=timeout, env=env, start_new_session=True, **kw)
        if check and r.returncode != 0:
            raise LabError("%s in %s failed (%d):\n%s%s" % (
                " ".join(map(str, argv)), ns, r.returncode, r.stdout, r.stderr))
        return r

    def popen(self, ns, argv, log=None, **kw):
        """Start a tracked process inside ns in its own process group; killed on exit.
        log="name" sends stdout+stderr to lab.tmp/name (path in p.log_path)."""
        kw.setdefault("stdin", subprocess.DEVNULL)
        log_path = None
        if log:
            log_path = os.path.join(self.tmp, log)
            fh = open(log_path, "ab")
            kw.setdefault("stdout", fh)
            kw.setdefault("stderr", subprocess.STDOUT)
        p = subprocess.Popen(self._argv(ns, argv), start_new_session=True, **kw)
        if log:
            fh.close()
        p.log_path = log_path
        self.procs.append(p)
        return p

    def stop(self, p):
        _kill_group(p)

    def read_log(self, p):
        if getattr(p, "log_path", None) and os.path.exists(p.log_path):
            with open(p.log_path, errors="replace") as f:
                return f.read()
        return ""

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def write(self, name, text, mode=0o644):
        p = self.path(name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p


# ---------------------------------------------------------------------------------------
# Stand-in servers (for verifying the helpers and for comparisons)
# ---------------------------------------------------------------------------------------
def dnsmasq(lab, ns, ifname, start="192.168.77.100", end="192.168.77.250",
            mask="255.255.255.0", lease="1h", extra=()):
    """Start dnsmasq as a DHCP-only server on ifname (tracked). Returns the Popen.
    Extra ranges (e.g. for relayed subnets) can be given as extra=["--dhcp-range=..."]."""
    leases = lab.path("dnsmasq-%s.leases" % ifname)
    p = lab.popen(ns, ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0",
                       "--interface=" + ifname, "--bind-interfaces", "--no-ping",
                       "--dhcp-authoritative", "--log-dhcp", "--dhcp-lease-max=100000",
                       "--dhcp-range=%s,%s,%s,%s" % (start, end, mask, lease),
                       "--dhcp-leasefile=" + leases, "--pid-file="] + list(extra),
                  log="dnsmasq-%s.log" % ifname)
    wait_for(lambda: p.poll() is not None or _udp_bound(lab, ns, 67), 5, what="dnsmasq up")
    if p.poll() is not None:
        raise LabError("dnsmasq exited: " + lab.read_log(p))
    return p


def kea_dhcp4(lab, ns, ifnames, subnets, valid_lifetime=3600, extra=None):
    """Start kea-dhcp4 (memfile, tracked). subnets: list of dicts like
    {"subnet": "192.168.77.0/24", "pools": [{"pool": "192.168.77.100 - 192.168.77.250"}],
     "option-data": [...]} ("id" is added when missing). Returns the Popen."""
    import json
    subs = []
    for i, s in enumerate(subnets, 1):
        s = dict(s)
        s.setdefault("id", i)
        subs.append(s)
    cfg = {"Dhcp4": {
        "interfaces-config": {"interfaces": list(ifnames)},
        "lease-database": {"type": "memfile", "persist": True,
                           "name": lab.path("kea-leases4.csv"), "lfc-interval": 0},
        "valid-lifetime": valid_lifetime,
        "subnet4": subs,
        "loggers": [{"name": "kea-dhcp4", "severity": "INFO",
                     "output_options": [{"output": lab.path("kea4.log")}]}],
    }}
    if extra:
        cfg["Dhcp4"].update(extra)
    conf = lab.write("kea4.json", json.dumps(cfg, indent=1))
    env = dict(os.environ, KEA_PIDFILE_DIR=lab.tmp, KEA_LOCKFILE_DIR=lab.tmp)
    p = lab.popen(ns, ["kea-dhcp4", "-c", conf], env=env, log="kea4.out")
    wait_for(lambda: p.poll() is not None or _udp_bound(lab, ns, 67), 10, what="kea up")
    if p.poll() is not None:
        raise LabError("kea-dhcp4 exited: " + lab.read_log(p))
    return p


def _udp_bound(lab, ns, port):
    r = lab.run(ns, ["ss", "-Hlun", "sport", "= :%d" % port], timeout=5)
    return bool(r.stdout.strip())


# ---------------------------------------------------------------------------------------
# Packet capture (no tcpdump needed): AF_PACKET sniffer for DHCPv4 frames
# ---------------------------------------------------------------------------------------
_SNIFFER = r'''
import json, socket, struct, sys, time
ifname, out, ready = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((ifname, 0))
open(ready, "w").close()
f = open(out, "a", buffering=1)
def ip4(b): return socket.inet_ntoa(b)
def mac(b): return ":".join("%02x" % x for x in b)
while True:
    fr, addr = s.recvfrom(65535)
    if len(fr) < 14 + 20 + 8 + 240 or fr[12:14] != b"\x08\x00": continue
    ihl = (fr[14] & 15) * 4
    if fr[23] != 17: continue
    u = 14 + ihl
    sport, dport = struct.unpack("!HH", fr[u:u + 4])
    if not ({sport, dport} & {67, 68}): continue
    d = fr[u + 8:]
    if d[236:240] != b"\x63\x82\x53\x63": continue
    opts = {}
    i = 240
    while i < len(d) and d[i] != 255:
        if d[i] == 0: i += 1; continue
        if i + 1 >= len(d): break
        opts.setdefault(d[i], d[i + 2:i + 2 + d[i + 1]]); i += 2 + d[i + 1]
    rec = {"t": time.time(), "out": addr[2] == 4, "dst_mac": mac(fr[0:6]), "src_mac": mac(fr[6:12]),
           "src": ip4(fr[26:30]), "dst": ip4(fr[30:34]), "sport": sport, "dport": dport,
           "op": d[0], "xid": struct.unpack("!I", d[4:8])[0], "flags": struct.unpack("!H", d[10:12])[0],
           "ciaddr": ip4(d[12:16]), "yiaddr": ip4(d[16:20]), "siaddr": ip4(d[20:24]),
           "giaddr": ip4(d[24:28]), "chaddr": mac(d[28:34]),
           "type": opts.get(53, b"\0")[0],
           "requested_ip": ip4(opts[50]) if len(opts.get(50, b"")) == 4 else None,
           "server_id": ip4(opts[54]) if len(opts.get(54, b"")) == 4 else None,
           "hostname": opts[12].decode("latin-1") if 12 in opts else None,
           "options": sorted(opts)}
    f.write(json.dumps(rec) + "\n")
'''

DHCP_TYPES = {1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 4: "DECLINE", 5: "ACK", 6: "NAK",
              7: "RELEASE", 8: "INFORM"}


class Capture:
    """DHCPv4 frames seen on one interface (both directions). .packets() -> list of dicts
    with keys t, out, dst_mac, src_mac, src, dst, sport, dport, op, xid, flags, ciaddr,
    yiaddr, siaddr, giaddr, chaddr, type (int), name ("REQUEST"...), requested_ip,
    server_id, hostname, options (sorted codes)."""

    def __init__(self, lab, ns, ifname):
        import sys
        self.lab = lab
        n = len(lab.procs)
        self.path = lab.path("cap-%s-%s-%d.jsonl" % (ns, ifname, n))
        ready = self.path + ".ready"
        self.proc = lab.popen(ns, [sys.executable, "-c", _SNIFFER, ifname, self.path, ready],
                              log="cap-%d.err" % n)
        wait_for(lambda: os.path.exists(ready) or self.proc.poll() is not None, 5,
                 what="sniffer on %s" % ifname)
        if self.proc.poll() is not None:
            raise LabError("sniffer failed: " + lab.read_log(self.proc))

    def settle(self, quiet=0.1, limit=1.0):
        """Wait until the sniffer's file stops growing (bounded): a client's hook may see the
        reply a moment before the sniffer has written the frames of that exchange."""
        deadline = time.monotonic() + limit
        last = -1
        while time.monotonic() < deadline:
            size = os.path.getsize(self.path) if os.path.exists(self.path) else 0
            if size == last:
                return
            last = size
            time.sleep(quiet)

    def packets(self, name=None):
        import json
        self.settle()
        out = []
        if os.path.exists(self.path):
            with open(self.path) as f:
                for line in f:
                    if line.endswith("\n"):
                        r = json.loads(line)
                        r["name"] = DHCP_TYPES.get(r["type"], str(r["type"]))
                        out.append(r)
        if name:
            out = [p for p in out if p["name"] == name]
        return out

    def wait(self, pred, timeout=5.0, what="packet"):
        """Wait until some packet satisfies pred(pkt); returns it."""
        return wait_for(lambda: next((p for p in self.packets() if pred(p)), None),
                        timeout, what=what)

    def stop(self):
        self.lab.stop(self.proc)


def capture(lab, ns, ifname):
    """Start sniffing DHCPv4 on ns/ifname (tracked; stops at lab exit). Returns Capture."""
    return Capture(lab, ns, ifname)


# ---------------------------------------------------------------------------------------
# Client helpers. Each writes a hook script that appends "@@EVENT <name>" followed by its
# environment to an events file, so tests see exactly what the client got.
# ---------------------------------------------------------------------------------------
_HOOK = r'''#!/bin/sh
PATH=/usr/sbin:/usr/bin:/sbin:/bin
ev="${reason:-$1}"
# the interface is configured first, then the event recorded: a test that saw the event
# finds the address already there (recording first made test_udhcpc_daemon_renew flaky)
if [ "%(configure)s" = 1 ]; then
case "$ev" in
  bound|renew) [ -n "$ip" ] && ip addr replace "$ip/${mask:-24}" dev "$interface" ;;
  deconfig) ip -4 addr flush dev "$interface" ;;
  BOUND|RENEW|REBIND|REBOOT)
    if [ -n "$old_ip_address" ] && [ "$old_ip_address" != "$new_ip_address" ]; then
      ip addr del "$old_ip_address/$old_subnet_mask" dev "$interface" 2>/dev/null; fi
    ip addr replace "$new_ip_address/$new_subnet_mask" dev "$interface" ;;
  EXPIRE|FAIL|RELEASE|STOP)
    [ -n "$old_ip_address" ] && ip addr del "$old_ip_address/$old_subnet_mask" dev "$interface" 2>/dev/null ;;
esac
fi
# one append of a finished block, closed by @@END, so a reader never sees half an event
t="%(events)s.$$"; { echo "@@EVENT $ev"; env; echo "@@END"; } > "$t"; cat "$t" >> "%(events)s"; rm -f "$t"
exit 0
'''

_BOUND_EVENTS = {"bound", "renew", "BOUND", "RENEW", "REBIND", "REBOOT"}


class _Client:
    """State kept per (kind, ns, ifname) across helper calls."""

    def __init__(self, lab, kind, ns, ifname, configure):
        self.lab, self.kind, self.ns, self.ifname = lab, kind, ns, ifname
        base = "%s-%s-%s" % (kind, ns, ifname)
        self.events_path = lab.path(base + ".events")
        self.script = lab.write(base + ".sh", _HOOK % {
            "events": self.events_path, "configure": "1" if configure else "0"}, 0o755)
        self.leases = lab.path(base + ".leases")
        self.pidfile = lab.path(base + ".pid")
        self.conf = lab.path(base + ".conf")
        self.proc = None
        self.last_output = ""

    def events(self):
        """[(name, env_dict)] in order."""
        out = []
        if not os.path.exists(self.events_path):
            return out
        cur = None
        with open(self.events_path, errors="replace") as f:
            for line in f:
                line = line.rstrip("\n")
                if line.startswith("@@EVENT "):
                    cur = (line[8:], {})
                elif line == "@@END" and cur is not None:
                    out.append(cur)  # only whole events count
                    cur = None
                elif cur is not None and "=" in line:
                    k, v = line.split("=", 1)
                    cur[1][k] = v
        return out

    def wait_event(self, names, after=0, timeout=10.0):
        """Wait for an event in names with index >= after; returns (index, name, env)."""
        def find():
            evs = self.events()
            for i in range(after, len(evs)):
                if evs[i][0] in names:
                    return (i, evs[i][0], evs[i][1])
            return None
        try:
            return wait_for(find, timeout, what="%s event %s on %s/%s" % (
                self.kind, sorted(names), self.ns, self.ifname))
        except LabError as e:
            raise LabError("%s\nevents: %r\noutput:\n%s" % (
                e, [n for n, _ in self.events()], self.output()))

    def output(self):
        s = self.last_output
        if self.proc is not None:
            s += self.lab.read_log(self.proc)
        return s


def _client(lab, kind, ns, ifname, configure=True):
    reg = lab.__dict__.setdefault("_clients", {})
    key = (kind, ns, ifname)
    if key not in reg:
        reg[key] = _Client(lab, kind, ns, ifname, configure)
    return reg[key]


def _int(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def lease_from_env(event, env):
    """Normalise a hook environment (udhcpc or dhclient/dhcpcd names) to a lease dict:
    address, subnet_mask, router, routers, dns, lease_time, server_id, renewal_time,
    rebinding_time, event, env."""
    if "ip" in env or "serverid" in env:  # busybox udhcpc
        routers = env.get("router", "").split()
        t1 = env.get("opt58")
        t2 = env.get("opt59")
        d = {"address": env.get("ip"), "subnet_mask": env.get("subnet"),
             "routers": routers, "dns": env.get("dns", "").split(),
             "lease_time": _int(env.get("lease")), "server_id": env.get("serverid"),
             "renewal_time": int(t1, 16) if t1 else None,
             "rebinding_time": int(t2, 16) if t2 else None,
             "hostname": env.get("hostname"), "domain": env.get("domain")}
    else:  # dhclient-script / dhcpcd-run-hooks
        routers = env.get("new_routers", "").split()
        d = {"address": env.get("new_ip_address"), "subnet_mask": env.get("new_subnet_mask"),
             "routers": routers, "dns": env.get("new_domain_name_servers", "").split(),
             "lease_time": _int(env.get("new_dhcp_lease_time")),
             "server_id": env.get("new_dhcp_server_identifier"),
             "renewal_time": _int(env.get("new_dhcp_renewal_time")),
             "rebinding_time": _int(env.get("new_dhcp_rebinding_time")),
             "hostname": env.get("new_host_name"), "domain": env.get("new_domain_name")}
    d["router"] = routers[0] if routers else None
    d["event"] = event
    d["env"] = env
    return d


def _fail(msg, r=None, cl=None):
    out = ""
    if r is not None:
        out = "rc=%s\n%s%s" % (r.returncode, r.stdout, r.stderr)
    if cl is not None:
        out += cl.output() + "\nevents: %r" % [n for n, _ in cl.events()]
    raise LabError("%s\n%s" % (msg, out))


# -- busybox udhcpc --------------------------------------------------------------------
def udhcpc(lab, ns, ifname, hostname=None, release=False, extra=(), timeout=20):
    """One lease with busybox udhcpc; returns the lease dict.

    release=False: `udhcpc -f -q -n -i IF -s SCRIPT -t 3 -T 2 [-x hostname:NAME] EXTRA`:
      broadcast DISCOVER, broadcast REQUEST (SELECTING: requested-ip + server-id), exit.
      Nothing is configured on IF.
    release=True: busybox 1.35's `-q -R` does NOT send a RELEASE, so this runs udhcpc as a
      daemon (udhcpc_start), the hook configures the address, then SIGUSR2 makes udhcpc
      unicast a RELEASE (ciaddr = lease, server-id) from IF:68 to the server; the daemon is
      then stopped. The returned dict has "released": True.
    """
    if release:
        c = udhcpc_start(lab, ns, ifname, hostname=hostname, extra=extra, timeout=timeout)
        lease = dict(c.lease)
        c.release(timeout=timeout)
        c.stop()
        lease["released"] = True
        return lease
    cl = _client(lab, "udhcpc", ns, ifname, configure=False)
    n0 = len(cl.events())
    argv = ["udhcpc", "-f", "-q", "-n", "-i", ifname, "-s", cl.script, "-t", "3", "-T", "2"]
    if hostname:
        argv += ["-x", "hostname:" + hostname]
    argv += list(extra)
    r = lab.run(ns, argv, timeout=timeout)
    cl.last_output = r.stdout + r.stderr
    evs = cl.events()[n0:]
    bound = [e for e in evs if e[0] == "bound"]
    if r.returncode != 0 or not bound:
        _fail("udhcpc got no lease on %s/%s" % (ns, ifname), r)
    return lease_from_env(*bound[-1])


class UdhcpcClient:
    """A running `udhcpc -f -i IF -s SCRIPT -t 3 -T 2` (tracked); the hook configures the
    leased address on IF so unicast renew/release work.
      renew():   SIGUSR1 -> unicast REQUEST (ciaddr set, no server-id/requested-ip) to the
                 server-id from IF:68 (RENEWING); returns the new lease.
      release(): SIGUSR2 -> unicast RELEASE (ciaddr, server-id); address removed.
      stop():    SIGTERM (no release without -R)."""

    def __init__(self, lab, ns, ifname, hostname=None, extra=(), timeout=20):
        self.lab, self.ns, self.ifname = lab, ns, ifname
        self.cl = _client(lab, "udhcpcd", ns, ifname, configure=True)
        n0 = len(self.cl.events())
        argv = ["udhcpc", "-f", "-i", ifname, "-s", self.cl.script, "-t", "3", "-T", "2"]
        if hostname:
            argv += ["-x", "hostname:" + hostname]
        argv += list(extra)
        # `ip netns exec` execs, so proc.pid is udhcpc itself.
        self.proc = self.cl.proc = lab.popen(ns, argv, log="udhcpc-%s-%s.log" % (ns, ifname))
        _, name, env = self.cl.wait_event({"bound"}, n0, timeout)
        self.lease = lease_from_env(name, env)

    def _signal(self, sig):
        if self.proc.poll() is not None:
            _fail("udhcpc exited", cl=self.cl)
        os.kill(self.proc.pid, sig)

    def renew(self, timeout=10):
        n0 = len(self.cl.events())
        self._signal(signal.SIGUSR1)
        _, name, env = self.cl.wait_event({"renew", "bound"}, n0, timeout)
        self.lease = lease_from_env(name, env)
        return self.lease

    def release(self, timeout=10):
        n0 = len(self.cl.events())
        self._signal(signal.SIGUSR2)
        self.cl.wait_event({"deconfig"}, n0, timeout)
        wait_for(lambda: "entering released state" in self.lab.read_log(self.proc), timeout,
                 what="udhcpc released")

    def stop(self):
        self.lab.stop(self.proc)


def udhcpc_start(lab, ns, ifname, hostname=None, extra=(), timeout=20):
    """Start udhcpc as a daemon and wait for its lease; returns a UdhcpcClient."""
    return UdhcpcClient(lab, ns, ifname, hostname=hostname, extra=extra, timeout=timeout)


# -- ISC dhclient ----------------------------------------------------------------------
def _dhclient_argv(cl, ifname, *flags):
    return (["dhclient", "-4"] + list(flags) + ["-v", "-cf", cl.conf, "-lf", cl.leases,
            "-pf", cl.pidfile, "-sf", cl.script, ifname])


def _dhclient_pid(cl):
    try:
        with open(cl.pidfile) as f:
            pid = int(f.read().strip())
        return pid if _pid_alive(pid) else None
    except (OSError, ValueError):
        return None


def dhclient(lab, ns, ifname, hostname=None, renew_after=None, timeout=30, fresh=True):
    """ISC dhclient: `dhclient -4 -1 -v -cf CONF -lf LEASES -pf PID -sf SCRIPT IF`.

    Sends broadcast DISCOVER, broadcast REQUEST (requested-ip + server-id), then daemonizes
    (pid in PID; it stays in the namespace, is killed at lab exit). The hook configures the
    address on IF (needed for unicast renew/release). CONF holds
    `send host-name "NAME";` if hostname is given, and `supersede dhcp-renewal-time N;` if
    renew_after=N: dhclient then ignores the server's T1 and sends a RENEWING REQUEST
    (unicast to the server-id from ciaddr:68, ciaddr set, no requested-ip/server-id option)
    N seconds after binding, and again every N seconds.
    fresh=True deletes LEASES first (otherwise dhclient starts in INIT-REBOOT: broadcast
    REQUEST with requested-ip, ciaddr 0). Returns the lease dict."""
    cl = _client(lab, "dhclient", ns, ifname, configure=True)
    old = _dhclient_pid(cl)
    if old:
        lab.run(ns, _dhclient_argv(cl, ifname, "-x"), timeout=10)
    if fresh and os.path.exists(cl.leases):
        os.unlink(cl.leases)
    conf = []
    if hostname:
        conf.append('send host-name "%s";' % hostname)
    if renew_after:
        conf.append("supersede dhcp-renewal-time %d;" % int(renew_after))
    conf.append("request subnet-mask, broadcast-address, routers, domain-name, "
                "domain-name-servers, host-name, dhcp-lease-time, dhcp-server-identifier, "
                "dhcp-renewal-time, dhcp-rebinding-time;")
    with open(cl.conf, "w") as f:
        f.write("\n".join(conf) + "\n")
    cl.renew_after = renew_after
    cl.hostname = hostname
    if not getattr(cl, "cleanup_registered", False):
        lab.on_exit(lambda: _dhclient_kill(cl))
        cl.cleanup_registered = True
    n0 = len(cl.events())
    r = lab.run(ns, _dhclient_argv(cl, ifname, "-1"), timeout=timeout)
    cl.last_output = r.stdout + r.stderr
    evs = [e for e in cl.events()[n0:] if e[0] in ("BOUND", "REBOOT")]
    if r.returncode != 0 or not evs:
        _fail("dhclient got no lease on %s/%s" % (ns, ifname), r, cl)
    return lease_from_env(*evs[-1])


def _dhclient_kill(cl):
    pid = _dhclient_pid(cl)
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def dhclient_renew(lab, ns, ifname, timeout=15):
    """Make the running dhclient go through RENEWING and return the renewed lease.

    dhclient has no "renew now" command (a re-run does INIT-REBOOT, a broadcast REQUEST
    with requested-ip and ciaddr 0, and OMAPI only offers release/stop). So: if dhclient()
    was started with renew_after=N, this just waits for the next RENEW hook event; otherwise
    it stops the daemon without releasing (`dhclient -x`), restarts it on the saved lease
    with `supersede dhcp-renewal-time 1;` (INIT-REBOOT: broadcast REQUEST, ACK) and waits
    for the RENEW that follows ~1 s later: a REQUEST unicast from ciaddr:68 to the
    server-id:67, ciaddr = lease, no requested-ip / server-id options."""
    cl = _client(lab, "dhclient", ns, ifname, configure=True)
    n0 = len(cl.events())
    if not getattr(cl, "renew_after", None) or not _dhclient_pid(cl):
        dhclient(lab, ns, ifname, hostname=getattr(cl, "hostname", None), renew_after=1,
                 timeout=timeout, fresh=False)
    _, name, env = cl.wait_event({"RENEW"}, n0, timeout)
    return lease_from_env(name, env)


def dhclient_release(lab, ns, ifname, timeout=15):
    """`dhclient -4 -r -v -cf CONF -lf LEASES -pf PID -sf SCRIPT IF`: kills the running
    daemon (via PID) and unicasts a RELEASE (ciaddr = lease, server-id option) from
    ciaddr:68 to the server-id:67 (needs the address on IF, which the hook configured),
    runs the hook with reason=RELEASE (address removed) and exits. Returns the old lease."""
    cl = _client(lab, "dhclient", ns, ifname, configure=True)
    n0 = len(cl.events())
    r = lab.run(ns, _dhclient_argv(cl, ifname, "-r"), timeout=timeout)
    cl.last_output = r.stdout + r.stderr
    evs = [e for e in cl.events()[n0:] if e[0] == "RELEASE"]
    if r.returncode != 0 or "DHCPRELEASE" not in cl.last_output or not evs:
        _fail("dhclient release failed on %s/%s" % (ns, ifname), r, cl)
    env = {k.replace("old_", "new_", 1): v for k, v in evs[-1][1].items()}
    return lease_from_env("RELEASE", env)


def dhclient_stop(lab, ns, ifname, timeout=10):
    """`dhclient -4 -x ...`: stop the daemon without sending anything."""
    cl = _client(lab, "dhclient", ns, ifname, configure=True)
    return lab.run(ns, _dhclient_argv(cl, ifname, "-x"), timeout=timeout)


# -- dhcpcd ----------------------------------------------------------------------------
def _dhcpcd_wrap(lab, argv):
    """Run dhcpcd with private /var/lib/dhcpcd and /run/dhcpcd (bind mounts of lab dirs in
    the mount namespace `ip netns exec` creates; nothing leaks to the host's dirs, and
    separate invocations in the same lab share state through the same lab dirs)."""
    db, run = lab.path("dhcpcd-db"), lab.path("dhcpcd-run")
    os.makedirs(db, exist_ok=True)
    os.makedirs(run, exist_ok=True)
    pre = ("mkdir -p /var/lib/dhcpcd /run/dhcpcd && mount --bind %s /var/lib/dhcpcd && "
           "mount --bind %s /run/dhcpcd && exec \"$@\"" % (db, run))
    return ["sh", "-c", pre, "sh"] + list(argv)


def dhcpcd(lab, ns, ifname, hostname=None, timeout=30, extra=()):
    """One-shot dhcpcd: `dhcpcd -4 -1 -B -A --noconfigure -t 10 -f /dev/null -c SCRIPT
    [-h NAME] IF` (private state dirs, see _dhcpcd_wrap). Broadcast DISCOVER, broadcast
    REQUEST (requested-ip + server-id); exits after binding. Returns the lease dict."""
    cl = _client(lab, "dhcpcd1", ns, ifname, configure=False)
    n0 = len(cl.events())
    argv = ["dhcpcd", "-4", "-1", "-B", "-A", "--noconfigure", "-t", "10", "-f", "/dev/null",
            "-c", cl.script]
    if hostname:
        argv += ["-h", hostname]
    argv += list(extra) + [ifname]
    r = lab.run(ns, _dhcpcd_wrap(lab, argv), timeout=timeout)
    cl.last_output = r.stdout + r.stderr
    evs = [e for e in cl.events()[n0:] if e[0] in ("BOUND", "REBOOT", "RENEW")]
    if not evs:
        _fail("dhcpcd got no lease on %s/%s" % (ns, ifname), r, cl)
    # privsep helpers can linger after the parent exits
    for pid in lab.ns_pids(ns):
        try:
            with open("/proc/%d/comm" % pid) as f:
                if f.read().strip() == "dhcpcd":
                    os.kill(pid, signal.SIGKILL)
        except (OSError, ProcessLookupError):
            pass
    return lease_from_env(*evs[-1])


def dhcpcd_start(lab, ns, ifname, hostname=None, timeout=30, extra=()):
    """dhcpcd as a tracked foreground daemon that configures IF:
    `dhcpcd -4 -B -A -t 10 -f /dev/null -c SCRIPT [-h NAME] IF`. (With --noconfigure dhcpcd
    does not consider the address its own: its renew is then a broadcast REQUEST with ciaddr
    0 and its RELEASE is broadcast with ciaddr 0, so configuring is required for real
    RENEWING/RELEASE packets.) Returns the lease dict."""
    cl = _client(lab, "dhcpcd", ns, ifname, configure=False)
    n0 = len(cl.events())
    argv = ["dhcpcd", "-4", "-B", "-A", "-t", "10", "-f", "/dev/null", "-c", cl.script]
    if hostname:
        argv += ["-h", hostname]
    argv += list(extra) + [ifname]
    cl.proc = lab.popen(ns, _dhcpcd_wrap(lab, argv), log="dhcpcd-%s-%s.log" % (ns, ifname))
    _, name, env = cl.wait_event({"BOUND", "REBOOT"}, n0, timeout)
    return lease_from_env(name, env)


def _dhcpcd_ctl(lab, ns, ifname, flag, names, timeout):
    cl = _client(lab, "dhcpcd", ns, ifname, configure=False)
    n0 = len(cl.events())
    r = lab.run(ns, _dhcpcd_wrap(lab, ["dhcpcd", "-4", flag, ifname]), timeout=timeout)
    cl.last_output = r.stdout + r.stderr
    if r.returncode != 0 or "sending signal" not in cl.last_output:
        _fail("dhcpcd %s did not reach the daemon" % flag, r, cl)
    _, name, env = cl.wait_event(names, n0, timeout)
    return cl, name, env


def dhcpcd_renew(lab, ns, ifname, timeout=10):
    """`dhcpcd -4 -N IF` (SIGUSR1 to the daemon of dhcpcd_start): RENEWING, a REQUEST
    unicast from ciaddr:68 to the server:67, ciaddr set, no requested-ip/server-id.
    Note the `-4`: the control socket is /run/dhcpcd/IF-4.sock; without -4 a second dhcpcd
    instance is started instead. Returns the lease dict (event RENEW)."""
    _, name, env = _dhcpcd_ctl(lab, ns, ifname, "-N", {"RENEW"}, timeout)
    return lease_from_env(name, env)


def dhcpcd_rebind(lab, ns, ifname, timeout=10):
    """`dhcpcd -4 -n IF` (SIGHUP): REBINDING, a broadcast REQUEST with ciaddr set, no
    server-id. Returns the lease dict (event RENEW, after a RECONFIGURE event)."""
    _, name, env = _dhcpcd_ctl(lab, ns, ifname, "-n", {"RENEW", "REBIND"}, timeout)
    return lease_from_env(name, env)


def dhcpcd_release(lab, ns, ifname, timeout=10):
    """`dhcpcd -4 -k IF` (SIGALRM): unicast RELEASE (ciaddr, server-id) to the server,
    address removed, daemon exits (events STOP, STOPPED)."""
    cl, _, _ = _dhcpcd_ctl(lab, ns, ifname, "-k", {"STOPPED", "RELEASE"}, timeout)
    if cl.proc is not None:
        try:
            cl.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            lab.stop(cl.proc)


def dhcpcd_stop(lab, ns, ifname, timeout=10):
    """`dhcpcd -4 -x IF`: daemon exits without releasing."""
    cl = _client(lab, "dhcpcd", ns, ifname, configure=False)
    r = lab.run(ns, _dhcpcd_wrap(lab, ["dhcpcd", "-4", "-x", ifname]), timeout=timeout)
    if cl.proc is not None:
        try:
            cl.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            lab.stop(cl.proc)
    return r


# -- ISC dhcrelay ----------------------------------------------------------------------
def dhcrelay(lab, ns, server_ip, up_if, down_if, timeout=10, extra=()):
    """Start ISC `dhcrelay -4 -d -id DOWN -iu UP SERVER` in ns (tracked Popen).

    Recipe that works: client ns --(down_if, e.g. 192.168.78.1/24)-- relay ns --(up_if,
    e.g. 10.0.0.2/24)-- server ns (10.0.0.1/24) with a route in the server ns back to the
    client subnet via the relay (`lab.route(srv, "192.168.78.0/24", via="10.0.0.2")`).
    No ip_forward is needed. dhcrelay sets giaddr to down_if's address and forwards from
    UP_ADDR:67 to SERVER:67; the server answers giaddr:67, and the relay delivers to the
    client (unicast to yiaddr/chaddr, or broadcast if the flag is set). The server must
    have a subnet/range for the client subnet (dnsmasq: an extra --dhcp-range)."""
    p = lab.popen(ns, ["dhcrelay", "-4", "-d", "-id", down_if, "-iu", up_if] + list(extra) +
                  [server_ip], log="dhcrelay-%s.log" % ns)
    wait_for(lambda: p.poll() is not None or "Socket/fallback" in lab.read_log(p), timeout,
             what="dhcrelay ready")
    if p.poll() is not None:
        raise LabError("dhcrelay exited: " + lab.read_log(p))
    return p


# -- perfdhcp --------------------------------------------------------------------------
_PERF_MSG = {"DISCOVER-OFFER": ("DISCOVER", "OFFER"), "REQUEST-ACK": ("REQUEST", "ACK"),
             "SOLICIT-ADVERTISE": ("SOLICIT", "ADVERTISE"), "REQUEST-REPLY": ("REQUEST", "REPLY"),
             "RENEW-REPLY": ("RENEW", "REPLY"), "RELEASE-REPLY": ("RELEASE", "REPLY"),
             "REQUEST-ACK (renewals)": ("RENEW-REQUEST", "RENEW-ACK")}


def _num(s):
    s = s.strip().split()[0] if s.strip() else s
    try:
        return int(s)
    except ValueError:
        try:
            return float(s)
        except ValueError:
            return None


def parse_perfdhcp(text):
    """Parse perfdhcp (Kea 2.2) text output. Format seen:

        ***Rate statistics***
        Rate: 199.073 4-way exchanges/second, expected rate: 200
        ***Malformed Packets***
        Malformed packets: 0
        ***Statistics for: DISCOVER-OFFER***
        sent packets: 300
        received packets: 299
        drops: 1
        drops ratio: 0.333333 %
        orphans: 0
        rejected leases: 0
        non unique addresses: 0
        <blank>
        min delay: 0.256 ms
        avg delay: 0.523 ms  / max delay / std deviation / collected packets
        ***Statistics for: REQUEST-ACK***  (same keys)

    Returns {"rate", "expected_rate", "malformed", "exchanges": {"DISCOVER-OFFER": {
    "sent_packets", "received_packets", "drops", "drops_ratio" (percent), "orphans",
    "rejected_leases", "non_unique_addresses", "min_delay" (ms), "avg_delay", "max_delay",
    "std_deviation", "collected_packets"}, ...}, "sent": {"DISCOVER": n, "REQUEST": n},
    "received": {"OFFER": n, "ACK": n}, "drops": total drops, "loss": 1 - ACKs/DISCOVERs
    (None if nothing sent)}. Unknown "key: value" lines are kept under their section."""
    res = {"rate": None, "expected_rate": None, "malformed": None, "exchanges": {},
           "sent": {}, "received": {}, "drops": 0}
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        m = re.match(r"\*\*\*Statistics for: (.+?)\*\*\*$", line)
        if m:
            section = res["exchanges"].setdefault(m.group(1), {})
            continue
        if line.startswith("***"):
            section = None
            continue
        m = re.match(r"Rate:\s*([\d.]+).*?(?:expected rate:\s*([\d.]+))?$", line)
        if m:
            res["rate"] = float(m.group(1))
            if m.group(2):
                res["expected_rate"] = float(m.group(2))
            continue
        m = re.match(r"Malformed packets:\s*(\d+)", line)
        if m:
            res["malformed"] = int(m.group(1))
            continue
        if section is not None and ":" in line:
            k, v = line.split(":", 1)
            section[re.sub(r"\W+", "_", k.strip().lower())] = _num(v)
    for name, st in res["exchanges"].items():
        q, a = _PERF_MSG.get(name, tuple(name.split("-", 1)) + ("",))[:2]
        if st.get("sent_packets") is not None:
            res["sent"][q] = res["sent"].get(q, 0) + st["sent_packets"]
        if st.get("received_packets") is not None:
            res["received"][a] = res["received"].get(a, 0) + st["received_packets"]
        res["drops"] += st.get("drops") or 0
    first = res["sent"].get("DISCOVER", res["sent"].get("SOLICIT"))
    last = res["received"].get("ACK", res["received"].get("REPLY"))
    res["loss"] = (1 - (last or 0) / first) if first else None
    return res


def perfdhcp4(lab, ns, ifname, rate, num_exchanges, timeout, exit_wait_us=500000, extra=()):
    """`perfdhcp -4 -l IF -r RATE -R 1000000 -n N -p T -W EXIT_WAIT EXTRA` in ns; parsed.

    perfdhcp -4 acts as a relay: giaddr = IF's address (IF needs one, e.g. 10.77.0.2/16),
    it sends to 255.255.255.255:67 from port 67 and expects replies to giaddr:67, so the
    server side needs a route to that subnet (`lab.route(srv, "10.77.0.0/16", dev="s0")`)
    and a subnet/pool for it. -R 1000000 = one million distinct client MACs. -W (µs) waits
    for late replies after the exit condition, otherwise the last in-flight exchange
    counts as a drop. Exit status: 0 ok, 3 = some drops (not an error here), others raise.
    Returns parse_perfdhcp(stdout) plus "returncode" and "output"."""
    argv = ["perfdhcp", "-4", "-l", ifname, "-r", str(rate), "-R", "1000000",
            "-n", str(num_exchanges), "-p", str(timeout), "-W", str(exit_wait_us)] + list(extra)
    r = lab.run(ns, argv, timeout=timeout + 15)
    if r.returncode not in (0, 3) or "Statistics for" not in r.stdout:
        raise LabError("perfdhcp failed (%d):\n%s%s" % (r.returncode, r.stdout, r.stderr))
    res = parse_perfdhcp(r.stdout)
    res["returncode"] = r.returncode
    res["output"] = r.stdout
    return res
