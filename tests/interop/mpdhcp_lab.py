"""Run our server (mpdhcp under the MicroPython Unix port) inside a Lab namespace.

    srv = MpdhcpServer(lab, ns, lan_config(lab))   # writes lab.tmp/mpdhcp.json, starts `serve`
    srv.leases()                                   # lease4-get-all over the control socket
    srv.log_lines()                                # "DISCOVER>OFFER 02:..:01 192.168.77.100 on s0"
    srv.stop()                                     # SIGTERM; asserts "mpdhcp: stopped", exit 0

The process is a tracked lab process, so it is killed at lab exit even when a test fails.
Config builders return plain dicts (a strict subset of Kea's Dhcp4 schema) so the same
configs can be checked with `kea-dhcp4 -t`.
"""
import json
import os
import re
import signal
import subprocess
import sys

import lab as L

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOG_RE = re.compile(r"^([A-Z-]+)>([A-Z-]+) ([0-9a-f:]{17}) (\d+\.\d+\.\d+\.\d+) on (\S+)$")


def micropython_path():
    cand = os.path.join(os.path.dirname(sys.executable), "micropython")
    if os.path.exists(cand):
        return cand
    import shutil
    return shutil.which("micropython")


def serve_argv(config_path):
    return [sys.executable, "-m", "host_tools", "serve", config_path]


# -- configs -----------------------------------------------------------------------------
def dhcp4_config(lab, interfaces, subnets, name="mpdhcp", valid=3600, max_leases=None,
                 control=True):
    """A Dhcp4 config dict. The journal and control socket live in lab.tmp."""
    d = {
        "interfaces-config": {"interfaces": list(interfaces)},
        "lease-database": {"type": "memfile", "name": lab.path(name + ".journal")},
        "valid-lifetime": valid,
        "renew-timer": valid // 2,
        "rebind-timer": valid * 7 // 8,
        "subnet4": subnets,
    }
    if control:
        d["control-socket"] = {"socket-type": "unix", "socket-name": lab.path(name + ".sock")}
    if max_leases:
        d["user-context"] = {"mpdhcp": {"max-leases": max_leases}}
    return {"Dhcp4": d}


LAN_POOL = ("192.168.77.100", "192.168.77.150")


def lan_subnet(ifname="s0"):
    return {"id": 1, "subnet": "192.168.77.0/24", "interface": ifname,
            "pools": [{"pool": "%s - %s" % LAN_POOL}],
            "option-data": [{"name": "routers", "data": "192.168.77.1"},
                            {"name": "domain-name-servers", "data": "192.168.77.53, 192.168.77.54"},
                            {"name": "domain-name", "data": "lab.example"}]}


def lan_config(lab, ifname="s0", **kw):
    return dhcp4_config(lab, [ifname], [lan_subnet(ifname)], **kw)


def relay_config(lab):
    """Server on 10.0.0.1/24 (s0); clients behind a relay at 192.168.78.1."""
    return dhcp4_config(lab, ["s0"], [
        {"id": 1, "subnet": "10.0.0.0/24", "interface": "s0",
         "pools": [{"pool": "10.0.0.100 - 10.0.0.200"}]},
        {"id": 2, "subnet": "192.168.78.0/24", "relay": {"ip-addresses": ["192.168.78.1"]},
         "pools": [{"pool": "192.168.78.100 - 192.168.78.200"}],
         "option-data": [{"name": "routers", "data": "192.168.78.1"}]},
    ])


def perf_config(lab):
    """LAN subnet on s0 plus 10.77.0.0/16 for perfdhcp (which relays from 10.77.0.2)."""
    return dhcp4_config(lab, ["s0"], [
        lan_subnet("s0"),
        {"id": 2, "subnet": "10.77.0.0/16",
         "pools": [{"pool": "10.77.1.0 - 10.77.12.255"}]},  # 3072 addresses
    ], max_leases=4096)


# -- the server --------------------------------------------------------------------------
class MpdhcpServer:
    def __init__(self, lab, ns, config, name="mpdhcp", timeout=15.0, start=True):
        self.lab, self.ns, self.config, self.name = lab, ns, config, name
        self.path = lab.write(name + ".json", json.dumps(config, indent=1))
        self.sock = config["Dhcp4"].get("control-socket", {}).get("socket-name")
        self.journal = config["Dhcp4"]["lease-database"]["name"]
        self.proc = None
        self.runs = 0
        if start:
            self.start(timeout)

    def start(self, timeout=15.0):
        """Start `python -m host_tools serve CONFIG` in ns and wait for "mpdhcp: serving"
        (and, with a control socket, for it to answer)."""
        self.runs += 1
        self.proc = self.lab.popen(self.ns, serve_argv(self.path), cwd=ROOT,
                                   log="%s-%d.log" % (self.name, self.runs))
        try:
            L.wait_for(lambda: self.proc.poll() is not None or "mpdhcp: serving" in self.output(),
                       timeout, what="mpdhcp serving")
        except L.LabError as e:
            raise L.LabError("%s; output so far:\n%s" % (e, self.output()))
        if self.proc.poll() is not None:
            raise L.LabError("mpdhcp exited %s:\n%s" % (self.proc.returncode, self.output()))
        if self.sock:
            L.wait_for(self._answers, timeout, what="mpdhcp control socket")
        return self

    def _answers(self):
        try:
            return self.query("lease4-get-all").get("result") == 0
        except (OSError, ValueError):
            return False

    def output(self):
        return self.lab.read_log(self.proc) if self.proc else ""

    def serving_line(self):
        return next((l for l in self.output().splitlines() if l.startswith("mpdhcp: serving")), "")

    def log_lines(self):
        """Parsed exchange lines: (rx, tx, mac, ip, ifname)."""
        out = []
        for line in self.output().splitlines():
            m = LOG_RE.match(line.strip())
            if m:
                out.append(m.groups())
        return out

    def query(self, command, timeout=5.0):
        from host_tools.ctl import query
        return query(self.sock, command, timeout)

    def leases(self):
        r = self.query("lease4-get-all")
        assert r.get("result") == 0, r
        return r["arguments"]["leases"]

    def lease_for(self, mac):
        return next((l for l in self.leases() if l["hw-address"] == mac), None)

    def child_pid(self):
        """The micropython process (child of the serve wrapper)."""
        for pid in self.lab.ns_pids(self.ns):
            try:
                with open("/proc/%d/stat" % pid) as f:
                    st = f.read()
            except OSError:
                continue
            # pid (comm) state ppid ...
            ppid = int(st[st.rindex(")") + 2:].split()[1])
            if ppid == self.proc.pid:
                return pid
        return None

    def kill9(self, timeout=10.0):
        """Power cut: SIGKILL the micropython process; the wrapper then exits."""
        pid = self.child_pid()
        assert pid, "micropython child of serve not found"
        os.kill(pid, signal.SIGKILL)
        self.proc.wait(timeout=timeout)
        return self.proc.returncode

    def stop(self, timeout=30.0):  # serve asks again after 20 s (serve.RESEND_S)
        """SIGTERM the serve wrapper (it forwards SIGINT); assert a clean stop."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.lab.stop(self.proc)
                raise AssertionError("mpdhcp did not stop within %ss:\n%s" % (timeout, self.output()))
        out = self.output()
        assert self.proc.returncode == 0, "serve exited %s:\n%s" % (self.proc.returncode, out)
        assert "mpdhcp: stopped" in out, out
        if self.sock:
            assert not os.path.exists(self.sock), "control socket left behind"
        return out


class ServedClient:
    """mpdhcp with a client section (Client4 or Client6) only, run with `serve` in ns; its log
    lines starting with `prefix` are what wait() searches."""

    prefix = "client4: "

    def __init__(self, lab, ns, name, section, cfg):
        self.lab, self.ns, self.name = lab, ns, name
        self.path = lab.write(name + ".json", json.dumps({section: cfg}, indent=1))
        self.proc = None
        self.runs = 0

    def start(self):
        self.runs += 1
        self.proc = self.lab.popen(self.ns, serve_argv(self.path), cwd=ROOT,
                                   log="%s-%d.log" % (self.name, self.runs))
        return self

    def output(self):
        return self.lab.read_log(self.proc) if self.proc else ""

    def lines(self):
        return [x for x in self.output().splitlines() if x.startswith(self.prefix)]

    def wait(self, pattern, timeout=20, after=0):
        """Wait for a log line matching pattern (regex) at index >= after; returns (index, match)."""
        rx = re.compile(pattern)

        def find():
            ls = self.lines()
            for i in range(after, len(ls)):
                m = rx.search(ls[i])
                if m:
                    return (i, m)
            if self.proc.poll() is not None:
                raise L.LabError("client exited %s:\n%s" % (self.proc.returncode, self.output()))
            return None
        try:
            return L.wait_for(find, timeout, what=pattern)
        except L.LabError as e:
            raise L.LabError("%s\n--- client log:\n%s" % (e, self.output()))

    def stop(self, timeout=30):  # serve asks again after 20 s (serve.RESEND_S)
        """SIGTERM (serve turns it into SIGINT: a clean stop); must say "stopped"."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.lab.stop(self.proc)
                raise AssertionError("client did not stop:\n" + self.output())
        assert "mpdhcp: stopped" in self.output(), self.output()
