"""IA_TA (temporary addresses, RFC 8415 21.5) against real peers in namespaces the test makes:
ISC dhclient -6 -T asks our server (mpdhcp on the MicroPython Unix port, `python -m host_tools
serve`), ISC dhcpd -6 (a `range6 PREFIX temporary` range) and kea-dhcp6, each in a namespace
pair of its own with the same /64, pool and lifetimes. The wire is read from an AF_PACKET
capture on the server's side. Needs root + the Debian peers + the Unix port; otherwise skipped.
Every wait is bounded; the Lab removes namespaces, processes and files even on failure.

What the peers do (ISC dhclient 4.4.3-P1, ISC dhcpd 4.4.3-P1, Kea 2.2.0, observed):
* dhclient -6 -T puts a bare IA_TA (IAID = the last 4 bytes of the MAC, no address hint) in its
  Solicit, echoes the offered address in its Request, runs its script once per IA (the
  temporary one with new_ip6_type=temporary, new_renew=0, new_rebind=0), never Renews/Rebinds
  an IA_TA, and leaves temporary addresses out of the Release of `dhclient -6 -r`
  (client/dhc6.c: the Release is built from the IA_NA/IA_PD bindings only).
* dhcpd -6 serves IA_TA from its temporary range (random IIDs in the prefix): IAID echoed,
  one IA Address with the configured lifetimes, no T1/T2 -- our IA_TA byte for byte but for the
  address. It answers a Release of an IA_TA with Success ("Release received.") yet keeps the
  address active: server/dhcpv6.c dhcpv6_release() walks the IA_NAs and IA_PDs only.
* Kea 2.2 ignores IA_TA: Dhcp6Srv::assignLeases (and the Renew/Rebind/Release paths) switch on
  the IA option type and handle only D6O_IA_NA and D6O_IA_PD, so the Advertise/Reply carry no
  IA_TA at all (no NoAddrsAvail either) and dhclient -N -T binds the IA_NA alone.
"""
import json
import os
import re
import signal
import struct
import sys
import time

import pytest

from peerutil import require
import lab as L
from host_tools import lab6
from test_server6_interop import Server6, Crafted, dhcp6_config, lan_subnet, link_local
from test_client6_interop import kea6, _read

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "protocol"))
from craft6 import opt, u32, msg, decode  # noqa: E402
from mpdhcp.wire.addr6 import ip6, ip6_str  # noqa: E402

NET = "2001:db8:77"  # test_client6_interop.kea6's subnet
POOL = (NET + "::100", NET + "::1ff")
PREF, VALID, T1, T2 = 1200, 1800, 600, 900
SRV_MAC = "02:00:00:00:5e:01"
CLI_MAC = "02:00:00:00:c1:01"
IAID = 0x0000C101  # dhclient's IAID: the last 4 bytes of the MAC

SOLICIT, ADVERTISE, REQUEST, REPLY, RELEASE = 1, 2, 3, 7, 8
OPT_IA_NA, OPT_IA_TA, OPT_IAADDR, OPT_STATUS = 3, 4, 5, 13

_DHCPD6 = """# the IA_NA range and the temporary range (dhcpd takes IA_TA addresses only from a
# `range6 PREFIX temporary` range, with random interface identifiers)
default-lease-time %d;
preferred-lifetime %d;
option dhcp-renewal-time %d;
option dhcp-rebinding-time %d;
subnet6 %s::/64 {
  range6 %s %s;
  range6 %s::/64 temporary;
}
""" % (VALID, PREF, T1, T2, NET, POOL[0], POOL[1], NET)


def _need_micropython():
    mp = os.path.join(os.path.dirname(sys.executable), "micropython")
    if not os.path.exists(mp):
        pytest.skip("micropython (the Unix port) not found: run `make venv`")


# -- a DHCPv6 capture (host_tools.lab's Capture reads DHCPv4 only) -----------------------------
_SNIFF6 = r'''
import json, socket, struct, sys, time
ifname, out, ready = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((ifname, 0))
open(ready, "w").close()
f = open(out, "a", buffering=1)
while True:
    fr, addr = s.recvfrom(65535)
    if len(fr) < 62 or fr[12:14] != b"\x86\xdd" or fr[20] != 17:
        continue  # IPv6 + UDP (DHCPv6 carries no extension headers)
    sport, dport, ulen = struct.unpack("!HHH", fr[54:60])
    if not ({sport, dport} & {546, 547}):
        continue
    f.write(json.dumps({"t": time.time(), "out": addr[2] == 4,
                        "src": socket.inet_ntop(socket.AF_INET6, fr[22:38]),
                        "dst": socket.inet_ntop(socket.AF_INET6, fr[38:54]),
                        "sport": sport, "dport": dport, "data": fr[62:54 + ulen].hex()}) + "\n")
'''


class Capture6:
    """DHCPv6 datagrams seen on one interface, both directions: .packets() -> dicts with
    t, out, src, dst, sport, dport, data (bytes), type, xid, opts ({code: [bytes]})."""

    def __init__(self, lab, ns, ifname):
        self.lab = lab
        n = len(lab.procs)
        self.path = lab.path("cap6-%s-%s-%d.jsonl" % (ns, ifname, n))
        ready = self.path + ".ready"
        self.proc = lab.popen(ns, [sys.executable, "-c", _SNIFF6, ifname, self.path, ready],
                              log="cap6-%d.err" % n)
        L.wait_for(lambda: os.path.exists(ready) or self.proc.poll() is not None, 5,
                   what="sniffer on %s" % ifname)
        if self.proc.poll() is not None:
            raise L.LabError("sniffer failed: " + lab.read_log(self.proc))

    def packets(self, mtype=None):
        L.Capture.settle(self)
        out = []
        with open(self.path) as f:
            for line in f:
                if not line.endswith("\n"):
                    continue
                p = json.loads(line)
                p["data"] = bytes.fromhex(p["data"])
                p["type"], p["xid"], p["opts"], _ = decode(p["data"], len(p["data"]))
                out.append(p)
        return [p for p in out if mtype is None or p["type"] == mtype]

    def wait(self, pred, timeout=5.0, what="packet"):
        return L.wait_for(lambda: next((p for p in self.packets() if pred(p)), None), timeout, what=what)

    def reply_to(self, p, timeout=5.0):
        """The server's answer (Advertise or Reply) with p's transaction id."""
        return self.wait(lambda q: q["xid"] == p["xid"] and q["type"] in (ADVERTISE, REPLY), timeout,
                         what="answer to xid %06x" % p["xid"])


def _subopts(b, i):
    out = []
    while i + 4 <= len(b):
        c, n = struct.unpack("!HH", b[i:i + 4])
        out.append((c, b[i + 4:i + 4 + n]))
        i += 4 + n
    return out


def ta_shape(d):
    """An IA_TA option body as {iaid, len, subs: [codes], addrs: [(text, pref, valid)], status}."""
    subs = _subopts(d, 4)
    return {"iaid": struct.unpack("!I", d[:4])[0], "len": len(d), "subs": [c for c, _ in subs],
            "addrs": [(ip6_str(v[:16]),) + struct.unpack("!II", v[16:24]) for c, v in subs if c == OPT_IAADDR],
            "status": next((struct.unpack("!H", v[:2])[0] for c, v in subs if c == OPT_STATUS), None)}


def na_addrs(d):
    """(iaid, t1, t2, [(text, pref, valid)]) of an IA_NA option body."""
    iaid, t1, t2 = struct.unpack("!III", d[:12])
    return iaid, t1, t2, [(ip6_str(v[:16]),) + struct.unpack("!II", v[16:24])
                          for c, v in _subopts(d, 12) if c == OPT_IAADDR]


def ia_ta(iaid, addrs=()):
    return opt(OPT_IA_TA, u32(iaid) + b"".join(opt(OPT_IAADDR, ip6(a) + u32(0) + u32(0)) for a in addrs))


def _in_pool(a):
    v = int.from_bytes(ip6(a), "big")
    return int.from_bytes(ip6(POOL[0]), "big") <= v <= int.from_bytes(ip6(POOL[1]), "big")


def _in_net(a):
    return ip6(a)[:8] == ip6(NET + "::")[:8]


def _status(o):
    return struct.unpack("!H", o[OPT_STATUS][0][:2])[0] if OPT_STATUS in o else None


# -- the namespaces and the three servers --------------------------------------------------------
def _pair(lab, tag):
    """srv (s0, NET::1/64) <-> cli (c0): fixed MACs, so every pair's client has IAID 0x0000c101."""
    srv, cli = lab.add_host(tag + "s"), lab.add_host(tag + "c")
    lab.link(srv, "s0", cli, "c0", up=False)
    lab.ip(srv, "link", "set", "s0", "address", SRV_MAC)
    lab.ip(cli, "link", "set", "c0", "address", CLI_MAC)
    lab.ip(srv, "link", "set", "s0", "up")
    lab.ip(cli, "link", "set", "c0", "up")
    lab.addr(srv, "s0", NET + "::1/64")
    lab6.wait_link_local(lab, srv, "s0")
    lab6.wait_link_local(lab, cli, "c0")
    return srv, cli


def our_config(lab):
    cfg = dhcp6_config(lab, [lan_subnet(**{"pools": [{"pool": "%s - %s" % POOL}], "pd-pools": []})])
    cfg["Dhcp6"].update({"preferred-lifetime": PREF, "valid-lifetime": VALID,
                         "renew-timer": T1, "rebind-timer": T2})
    return cfg


def start_ours(lab, ns):
    _need_micropython()
    return Server6(lab, ns, our_config(lab))


class Dhcpd6:
    def __init__(self, lab, ns):
        self.lab = lab
        conf = lab.write("dhcpd6.conf", _DHCPD6)
        self.leases = lab.write("dhcpd6.leases", "")
        self.proc = lab.popen(ns, ["dhcpd", "-6", "-f", "-d", "-cf", conf, "-lf", self.leases,
                                   "-pf", lab.path("dhcpd6.pid"), "s0"], log="dhcpd6.log")
        L.wait_for(lambda: self.proc.poll() is not None or "Server starting service" in self.output(), 15,
                   what="dhcpd -6 start")
        assert self.proc.poll() is None, self.output()

    def output(self):
        return self.lab.read_log(self.proc)

    def states(self):
        """{(ia-na|ia-ta, address): binding state} from the lease file (the last entry wins)."""
        text = _read(self.leases)
        out = {}
        for m in re.finditer(r'^(ia-na|ia-ta) "(?:[^"\\]|\\.)*" \{\n(.*?)^\}', text, re.M | re.S):
            for a, st in re.findall(r"iaaddr (\S+) \{\s*binding state (\w+);", m.group(2)):
                out[(m.group(1), a)] = st
        return out

    def wait_state(self, kind, addr, state, timeout=8):
        return L.wait_for(lambda: self.states().get((kind, addr)) == state, timeout,
                          what="dhcpd lease %s %s %s (have %r)" % (kind, addr, state, self.states()))


def start(lab, kind, ns):
    if kind == "mpdhcp":
        return start_ours(lab, ns)
    if kind == "dhcpd":
        return Dhcpd6(lab, ns)
    return kea6(lab, ns, preferred=PREF, valid=VALID, t1=T1, t2=T2)


# -- dhclient -6 -N -T ----------------------------------------------------------------------------
def bind(lab, cli, n_ta=1, timeout=40):
    """`dhclient -6 -1 -N -T` (daemonizes once bound). Returns (client, NA env, TA env or None):
    the script runs once per IA, the IA_TA's with new_ip6_type=temporary."""
    cl = L._client(lab, "dhclient6", cli, "c0", configure=False)
    n0 = len(cl.events())
    cl, _ = lab6.dhclient6(lab, cli, "c0", ("-N", "-T"), timeout=timeout)

    def split():
        evs = [e for n, e in cl.events()[n0:] if n in ("BOUND6", "REBOOT6")]
        na = [e for e in evs if e.get("new_ip6_type") != "temporary"]
        ta = [e for e in evs if e.get("new_ip6_type") == "temporary"]
        return (na, ta) if na and len(ta) >= n_ta else None
    na, ta = L.wait_for(split, 5, what="dhclient's BOUND6 events (%r)" % [n for n, _ in cl.events()])
    assert len(na) == 1 and len(ta) == n_ta, (na, ta)
    return cl, na[0], (ta[0] if ta else None)


def client_duid(env):
    """dhclient's DUID from its script env (new_dhcp6_client_id=0:1:0:1:32:9e:...)."""
    return bytes(int(x, 16) for x in env["new_dhcp6_client_id"].split(":"))


def kill_dhclient(lab, cl, timeout=5):
    """SIGKILL the daemonized dhclient (no Release) and remove its pid file, so a later
    `dhclient -r` (which kills whatever PID the -pf file holds) finds none."""
    try:
        with open(cl.pidfile) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        pid = None
    if pid:
        comm = _read("/proc/%d/comm" % pid) or ""
        if comm.strip() == "dhclient":
            os.kill(pid, signal.SIGKILL)
            L.wait_for(lambda: not os.path.exists("/proc/%d" % pid) or
                       "Z" in (_read("/proc/%d/stat" % pid) or "Z").split(")")[-1].split()[0],
                       timeout, what="dhclient %d gone" % pid)
    if os.path.exists(cl.pidfile):
        os.unlink(cl.pidfile)


def exchange_from(cap, since):
    """The client's Solicit and Request since t, with the server's answers."""
    sol = cap.wait(lambda p: p["t"] >= since and p["type"] == SOLICIT, what="Solicit")
    req = cap.wait(lambda p: p["t"] >= since and p["type"] == REQUEST, what="Request")
    return sol, cap.reply_to(sol), req, cap.reply_to(req)


# -- 1. dhclient -6 -N -T against ours, dhcpd -6 and kea-dhcp6 ------------------------------------
def test_dhclient6_temporary_addresses_from_ours_dhcpd_and_kea(lab):
    require("dhclient", "dhcpd", "kea-dhcp6")
    _need_micropython()
    seen = {}
    for kind in ("mpdhcp", "dhcpd", "kea"):
        srv, cli = _pair(lab, kind[0])
        cap = Capture6(lab, srv, "s0")
        server = start(lab, kind, srv)
        t0 = time.time()
        cl, na, ta = bind(lab, cli, n_ta=0 if kind == "kea" else 1)
        sol, adv, req, rep = exchange_from(cap, t0)
        # what dhclient asks every server: IA_NA + a bare IA_TA (IAID, no address hint)
        assert sol["opts"][OPT_IA_TA] == [u32(IAID)], sol["opts"]
        assert len(sol["opts"][OPT_IA_NA]) == 1
        assert adv["type"] == ADVERTISE and rep["type"] == REPLY, (adv, rep)
        n_iaid, t1, t2, n_addrs = na_addrs(rep["opts"][OPT_IA_NA][0])
        assert n_iaid == IAID and (t1, t2) == (T1, T2) and len(n_addrs) == 1, rep["opts"]
        naddr = n_addrs[0][0]
        assert _in_pool(naddr) and n_addrs[0][1:] == (PREF, VALID), n_addrs
        assert na["new_ip6_address"] == naddr and na["new_renew"] == str(T1) and na["new_rebind"] == str(T2), na
        if kind == "kea":
            # Kea 2.2: no IA_TA in the Advertise or the Reply (no status either): the IA is
            # dropped by assignLeases' switch (IA_NA/IA_PD only); dhclient binds the IA_NA alone
            assert OPT_IA_TA not in adv["opts"] and OPT_IA_TA not in rep["opts"], (adv["opts"], rep["opts"])
            assert OPT_IA_TA in req["opts"] and req["opts"][OPT_IA_TA] == [u32(IAID)]  # asked again, bare
            assert ta is None
            csv = _read(lab.path("kea-leases6.csv"))
            rows = [r.split(",") for r in csv.splitlines()[1:] if r]
            assert rows and {r[6] for r in rows} == {"0"}, csv  # lease_type 0 = NA; a TA would be 1
            assert {r[0] for r in rows} == {naddr}, csv
            seen[kind] = None
            continue
        # ours and dhcpd: one IA_TA with the IAID echoed, one IA Address, no T1/T2, no status
        for answer in (adv, rep):
            tas = answer["opts"].get(OPT_IA_TA, [])
            assert len(tas) == 1, answer["opts"]
            shape = ta_shape(tas[0])
            assert shape["iaid"] == IAID and shape["len"] == 4 + 28 and shape["subs"] == [OPT_IAADDR], shape
            assert shape["status"] is None and len(shape["addrs"]) == 1, shape
            assert shape["addrs"][0][1:] == (PREF, VALID), shape
        taddr = ta_shape(rep["opts"][OPT_IA_TA][0])["addrs"][0][0]
        assert ta_shape(adv["opts"][OPT_IA_TA][0])["addrs"][0][0] == taddr  # the Reply confirms the offer
        assert [a for a, _, _ in ta_shape(req["opts"][OPT_IA_TA][0])["addrs"]] == [taddr]  # echoed
        assert taddr != naddr
        assert _in_pool(taddr) if kind == "mpdhcp" else _in_net(taddr), taddr  # dhcpd: its /64 temporary range
        assert ta["new_ip6_address"] == taddr and ta["new_ip6_prefixlen"] == "128", ta
        assert (ta["new_preferred_life"], ta["new_max_life"]) == (str(PREF), str(VALID)), ta
        assert (ta["new_renew"], ta["new_rebind"]) == ("0", "0") and ta["new_iaid"] == "00:00:c1:01", ta
        if kind == "mpdhcp":
            lt = server.lease(taddr)
            assert lt and lt["type"] == "IA_TA" and lt["state"] == "bound" and lt["iaid"] == IAID, server.leases()
            assert lt["duid"] == client_duid(ta).hex(":"), lt
            assert (lt["preferred-lft"], lt["valid-lft"]) == (PREF, VALID)
            ln = server.lease(naddr)
            assert ln and ln["type"] == "IA_NA" and ln["state"] == "bound" and ln["iaid"] == IAID, ln
        else:
            server.wait_state("ia-ta", taddr, "active")
            server.wait_state("ia-na", naddr, "active")
        seen[kind] = rep["opts"][OPT_IA_TA][0]
        kill_dhclient(lab, cl)
    # our IA_TA has dhcpd's shape byte for byte but for the address (IAID, IA Address option
    # header, lifetimes)
    ours, theirs = seen["mpdhcp"], seen["dhcpd"]
    assert len(ours) == len(theirs) and ours[:8] == theirs[:8] and ours[24:] == theirs[24:], (ours.hex(), theirs.hex())


# -- 2. dhclient -6 -r leaves the temporary address bound; a crafted Release frees it ---------------
@pytest.mark.parametrize("kind", ["mpdhcp", "dhcpd"])
def test_dhclient6_release_skips_ia_ta_and_a_crafted_release_frees_it(lab, kind):
    require("dhclient", "dhcpd" if kind == "dhcpd" else "ip")
    srv, cli = _pair(lab, kind[0])
    cap = Capture6(lab, srv, "s0")
    server = start(lab, kind, srv)
    cl, na, ta = bind(lab, cli)
    naddr, taddr = na["new_ip6_address"], ta["new_ip6_address"]
    duid = client_duid(ta)
    sid = cap.wait(lambda p: p["type"] == REPLY, what="Reply")["opts"][2][0]
    # dhclient -6 -N -T -r: the daemon is killed first and its pid file removed (dhclient -r
    # kills whatever PID that file holds); the -r run then Releases from the lease file
    kill_dhclient(lab, cl)
    t0 = time.time()
    r = lab.run(cli, lab6.dhclient6_argv(cl, "c0", "-r", "-N", "-T"), timeout=20)
    assert r.returncode == 0, r.stdout + r.stderr
    rel = cap.wait(lambda p: p["t"] >= t0 and p["type"] == RELEASE, what="dhclient's Release")
    assert OPT_IA_TA not in rel["opts"], rel["opts"]  # no IA_TA: dhc6.c builds it from IA_NA/IA_PD only
    assert [a for a, _, _ in na_addrs(rel["opts"][OPT_IA_NA][0])[3]] == [naddr], rel["opts"]
    assert rel["opts"][1] == [duid] and rel["opts"][2] == [sid]
    rr = cap.reply_to(rel)
    assert rr["type"] == REPLY and _status(rr["opts"]) == 0, rr["opts"]
    # so the IA_NA is released and the temporary address stays bound until it expires
    if kind == "mpdhcp":
        L.wait_for(lambda: server.lease(naddr)["state"] == "released", 8, what="IA_NA released")
        lt = server.lease(taddr)
        assert lt["type"] == "IA_TA" and lt["state"] == "bound" and lt["expires-in"] > VALID - 60, lt
    else:
        server.wait_state("ia-na", naddr, "released")
        assert server.states()[("ia-ta", taddr)] == "active", server.states()
    # a Release of the IA_TA, as a client that does release its temporary addresses sends it:
    # from the client's link-local :546 to ff02::1:2, dhclient's DUID, the server's id
    c = Crafted(lab, cli, "c0", port=546, addr=link_local(lab, cli, "c0"))
    (t, xid, o, _), src = c.exchange(msg(RELEASE, (ia_ta(IAID, [taddr]),), xid=0x7a0001, cid=duid, sid=sid))
    assert t == REPLY and xid == 0x7a0001 and o[1] == [duid] and o[2] == [sid], o
    assert _status(o) == 0, o  # Success (RFC 8415 18.3.7)
    for d in o.get(OPT_IA_TA, []):  # an IA_TA in the Reply may only say Success, never NoBinding
        assert ta_shape(d)["iaid"] == IAID and ta_shape(d)["status"] in (None, 0), ta_shape(d)
    if kind == "mpdhcp":
        L.wait_for(lambda: server.lease(taddr)["state"] == "released", 8, what="IA_TA released")
        assert server.stats()["release"] >= 2
        server.stop()
    else:
        # dhcpd 4.4.3 answers Success ("Release received.") but ignores the IA_TA: its
        # dhcpv6_release() walks the IA_NAs and IA_PDs only, so the address stays active
        assert o[OPT_STATUS][0][2:] == b"Release received." and OPT_IA_TA not in o, o
        time.sleep(0.5)  # (dhcpd writes its lease file before it answers)
        assert server.states()[("ia-ta", taddr)] == "active", server.states()
        assert "releases address %s" % taddr not in server.output(), server.output()


# -- 3. our server restarted keeps a temporary binding ----------------------------------------------
def test_restart_keeps_the_temporary_binding(lab):
    """RFC 8415 21.5: the server MUST return the same set of temporary addresses for the same
    IA_TA as long as they are valid: across a restart too (the binding is journaled)."""
    require("dhclient")
    srv, cli = _pair(lab, "r")
    cap = Capture6(lab, srv, "s0")
    cfg = our_config(lab)
    _need_micropython()
    server = Server6(lab, srv, cfg)
    cl, na, ta = bind(lab, cli)
    taddr, duid = ta["new_ip6_address"], client_duid(ta)
    kill_dhclient(lab, cl)  # no Release: the client just goes away
    server.stop()
    server = Server6(lab, srv, cfg, name="mpdhcp6-again")  # the same journal and control socket
    lt = server.lease(taddr)
    assert lt and lt["type"] == "IA_TA" and lt["state"] == "bound" and lt["iaid"] == IAID, server.leases()
    assert lt["duid"] == duid.hex(":")
    # the same client (its lease file cut down to its DUID, so it Solicits afresh with the same
    # DUID and IAID and no hint) gets the same temporary address back
    with open(cl.leases) as f:
        duid_line = next(x for x in f if x.startswith("default-duid"))
    with open(cl.leases, "w") as f:
        f.write(duid_line)
    t0 = time.time()
    cl, na2, ta2 = bind(lab, cli)
    sol, adv, req, rep = exchange_from(cap, t0)
    assert sol["opts"][1] == [duid] and sol["opts"][OPT_IA_TA] == [u32(IAID)], sol["opts"]
    assert ta_shape(adv["opts"][OPT_IA_TA][0])["addrs"][0][0] == taddr
    assert ta2["new_ip6_address"] == taddr, (ta, ta2)
    assert server.lease(taddr)["state"] == "bound"
    kill_dhclient(lab, cl)
    server.stop()
