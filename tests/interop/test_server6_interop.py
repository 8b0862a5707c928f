"""Our DHCPv6 server (mpdhcp on the MicroPython Unix port, `python -m host_tools serve`) against
real DHCPv6 clients (ISC dhclient -6, dhcpcd -6, perfdhcp -6), a real relay (ISC dhcrelay -6),
and crafted clients/relays (nested Relay-forw, Reconfigure with RKAP), each in namespaces the
test creates. Needs root + the Debian peers + the Unix port; otherwise skipped. Every wait
is bounded; the Lab removes namespaces, processes and files even on failure.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from peerutil import require
import lab as L
from host_tools import lab6
from host_tools.lab6 import wait_link_local, ns_socket

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "protocol"))
sys.path.insert(0, os.path.join(ROOT, "firmware"))
from craft6 import opt, duid_ll, ia_na, ia_pd, msg, relay, decode, ia_list, iaaddr, iaprefix  # noqa: E402
from mpdhcp.wire.addr6 import ip6, ip6_str  # noqa: E402
from mpdhcp.wire.md5 import HMAC_MD5  # noqa: E402

LAN = "2001:db8:77"
POOL = (LAN + "::1000", LAN + "::ffff")


def _need_micropython():
    mp = os.path.join(os.path.dirname(sys.executable), "micropython")
    if not os.path.exists(mp):
        pytest.skip("micropython (the Unix port) not found: run `make venv`")


# -- our server --------------------------------------------------------------------------
def dhcp6_config(lab, subnets, interfaces=("s0",), max_leases=None, name="mpdhcp6"):
    d = {
        "interfaces-config": {"interfaces": list(interfaces)},
        "lease-database": {"type": "memfile", "name": lab.path(name + ".journal")},
        "control-socket": {"socket-type": "unix", "socket-name": lab.path(name + ".sock")},
        "preferred-lifetime": 3000, "valid-lifetime": 4000,
        "renew-timer": 1000, "rebind-timer": 2000,
        "subnet6": subnets,
    }
    if max_leases:
        d["user-context"] = {"mpdhcp": {"max-leases": max_leases}}
    return {"Dhcp6": d}


def lan_subnet(ifname="s0", **kw):
    s = {"id": 1, "subnet": LAN + "::/64", "interface": ifname,
         "pools": [{"pool": "%s - %s" % POOL}],
         "pd-pools": [{"prefix": "2001:db8:7700::", "prefix-len": 40, "delegated-len": 56}],
         "option-data": [{"name": "dns-servers", "data": LAN + "::53"},
                         {"name": "domain-search", "data": "lab.example"}]}
    s.update(kw)
    return s


class Server6:
    def __init__(self, lab, ns, config, name="mpdhcp6", heapsize=None):
        self.lab, self.ns = lab, ns
        self.path = lab.write(name + ".json", json.dumps(config, indent=1))
        self.sock = config["Dhcp6"]["control-socket"]["socket-name"]
        heap = ["--heapsize", heapsize] if heapsize else []
        self.proc = lab.popen(ns, [sys.executable, "-m", "host_tools", "serve", self.path] + heap, cwd=ROOT,
                              log=name + ".log")
        try:
            L.wait_for(lambda: self.proc.poll() is not None or "mpdhcp: serving DHCPv6" in self.output(),
                       15, what="mpdhcp serving DHCPv6")
            L.wait_for(self._answers, 10, what="control socket")
        except L.LabError as e:
            raise L.LabError("%s\n%s" % (e, self.output()))
        if self.proc.poll() is not None:
            raise L.LabError("mpdhcp exited:\n" + self.output())

    def output(self):
        return self.lab.read_log(self.proc)

    def _answers(self):
        try:
            return self.query("lease6-get-all").get("result") == 0
        except (OSError, ValueError):
            return False

    def query(self, command, arguments=None, timeout=5.0):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(self.sock)
            req = {"command": command}
            if arguments is not None:
                req["arguments"] = arguments
            s.sendall(json.dumps(req).encode())
            data = b""
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                part = s.recv(65536)
                if not part:
                    break
                data += part
            return json.loads(data)
        finally:
            s.close()

    def leases(self):
        r = self.query("lease6-get-all")
        assert r["result"] == 0, r
        return r["arguments"]["leases"]

    def lease(self, addr):
        return next((l for l in self.leases() if l["ip-address"] == addr), None)

    def stats(self):
        return self.query("statistic6-get-all")["arguments"]

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.lab.stop(self.proc)
                raise AssertionError("mpdhcp did not stop:\n" + self.output())
        assert self.proc.returncode == 0 and "mpdhcp: stopped" in self.output(), self.output()


def _lan(lab, **kw):
    _need_micropython()
    srv, cli = lab.add_host("srv"), lab.add_host("cli")
    lab.link(srv, "s0", cli, "c0")
    lab.addr(srv, "s0", LAN + "::1/64")
    server = Server6(lab, srv, dhcp6_config(lab, [lan_subnet()], **kw))
    return srv, cli, server


def _in_pool(a):
    v = int.from_bytes(ip6(a), "big")
    return int.from_bytes(ip6(POOL[0]), "big") <= v <= int.from_bytes(ip6(POOL[1]), "big")


def _wait_state(server, addr, state, timeout=8):
    return L.wait_for(lambda: (lambda l: l if l and l["state"] == state else None)(server.lease(addr)),
                      timeout, what="lease %s %s" % (addr, state))


# -- crafted peers: sockets created inside a namespace ------------------------------------
def ifindex(lab, ns, ifname):
    return int(lab.ip(ns, "-o", "link", "show", ifname).split(":", 1)[0])


def link_local(lab, ns, ifname):
    out = lab.ip(ns, "-o", "-6", "addr", "show", "dev", ifname, "scope", "link")
    return out.split("inet6 ")[1].split("/")[0]


class Crafted:
    """A hand-made DHCPv6 client (or relay) socket in ns, bound to [addr]:port on ifname."""

    def __init__(self, lab, ns, ifname, port=546, addr="::"):
        wait_link_local(lab, ns, ifname)
        self.ifx = ifindex(lab, ns, ifname)
        self.s = ns_socket(ns)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.setsockopt(socket.SOL_SOCKET, 25, ifname.encode() + b"\0")
        self.s.bind((addr, port, 0, self.ifx if addr.startswith("fe80") else 0))
        self.s.settimeout(0.2)
        lab.on_exit(self.s.close)

    def send(self, data, dst="ff02::1:2", port=547):
        self.s.sendto(bytes(data), (dst, port, 0, self.ifx))

    def recv(self, timeout=3.0, want=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data, src = self.s.recvfrom(4096)
            except socket.timeout:
                continue
            if want is None or data[0] == want:
                return data, src
        return None, None

    def exchange(self, data, timeout=3.0, tries=3, **kw):
        for _ in range(tries):
            self.send(data, **kw)
            got, src = self.recv(timeout)
            if got is not None:
                return decode(got, len(got)), src
        raise L.LabError("no reply to crafted message type %d" % data[0])


# -- 1. ISC dhclient -6: address, then address + prefix; renew and release -----------------
_dhclient6 = lab6.dhclient6
_dhclient6_argv = lab6.dhclient6_argv


def test_dhclient6_address_and_prefix_renew_release(lab):
    require("dhclient")
    srv, cli, server = _lan(lab)
    cl, env = _dhclient6(lab, cli, "c0", ("-P", "-N"))
    addr = env["new_ip6_address"]
    assert _in_pool(addr), env
    assert env["new_ip6_prefixlen"] == "128"
    pre = env["new_ip6_prefix"]
    assert pre.startswith("2001:db8:77") and pre.endswith("/56"), env
    assert env.get("new_dhcp6_name_servers") == LAN + "::53", env
    assert env.get("new_dhcp6_domain_search", "").rstrip(".") == "lab.example", env
    l1 = server.lease(addr)
    assert l1 and l1["state"] == "bound" and l1["type"] == "IA_NA", server.leases()
    lp = server.lease(pre.split("/")[0])
    assert lp and lp["type"] == "IA_PD" and lp["prefix-len"] == 56
    # release: dhclient -6 -r sends Release for both IAs
    r = lab.run(cli, _dhclient6_argv(cl, "c0", "-r", "-P", "-N"), timeout=20)
    assert r.returncode == 0, r.stdout + r.stderr
    _wait_state(server, addr, "released")
    _wait_state(server, pre.split("/")[0], "released")
    assert server.stats()["release"] >= 1
    server.stop()


def test_dhclient6_renews_at_t1(lab):
    require("dhclient")
    _need_micropython()
    srv, cli = lab.add_host("srv"), lab.add_host("cli")
    lab.link(srv, "s0", cli, "c0")
    lab.addr(srv, "s0", LAN + "::1/64")
    cfg = dhcp6_config(lab, [lan_subnet(**{"renew-timer": 2, "rebind-timer": 20,
                                            "preferred-lifetime": 30, "valid-lifetime": 40})])
    server = Server6(lab, srv, cfg)
    cl, env = _dhclient6(lab, cli, "c0")
    addr = env["new_ip6_address"]
    e1 = server.lease(addr)["expire"]
    n0 = len(cl.events())
    _, name, env2 = cl.wait_event({"RENEW6"}, n0, timeout=15)
    assert env2["new_ip6_address"] == addr
    l2 = L.wait_for(lambda: (lambda l: l if l["expire"] > e1 else None)(server.lease(addr)), 5,
                    what="expiry moved by the Renew")
    assert l2["state"] == "bound"
    assert "RENEW>REPLY" in server.output()
    server.stop()


# -- 2. dhcpcd -6: IA_NA + IA_PD ------------------------------------------------------------
def test_dhcpcd6_address_and_prefix(lab):
    require("dhcpcd")
    srv, cli, server = _lan(lab)
    cl = L._client(lab, "dhcpcd6", cli, "c0", configure=False)
    with open(cl.conf, "w") as f:
        f.write("noipv6rs\nipv6only\nia_na 1\nia_pd 2 -\n"
                "option dhcp6_name_servers, dhcp6_domain_search\n")
    n0 = len(cl.events())
    argv = ["dhcpcd", "-6", "-B", "--noconfigure", "-t", "15", "-f", cl.conf, "-c", cl.script, "c0"]
    wait_link_local(lab, cli, "c0")
    cl.proc = lab.popen(cli, L._dhcpcd_wrap(lab, argv), log="dhcpcd6.log")
    try:
        _, name, env = cl.wait_event({"BOUND6", "REBOOT6"}, n0, timeout=25)
    except L.LabError as e:
        raise L.LabError("%s\nserver:\n%s" % (e, server.output()))
    addr = env.get("new_dhcp6_ia_na1_ia_addr1")
    pre = env.get("new_dhcp6_ia_pd1_prefix1")
    plen = env.get("new_dhcp6_ia_pd1_prefix1_length")
    assert addr and _in_pool(addr), env
    assert pre and pre.startswith("2001:db8:77") and plen == "56", env
    assert env.get("new_dhcp6_name_servers") == LAN + "::53", env
    assert server.lease(addr)["state"] == "bound"
    assert server.lease(pre)["type"] == "IA_PD"
    # renew now (SIGUSR1 through dhcpcd -6 -N): the Renew is answered and the expiry moves
    e1 = server.lease(addr)["expire"]
    time.sleep(1.1)
    n1 = len(cl.events())
    lab.run(cli, L._dhcpcd_wrap(lab, ["dhcpcd", "-6", "-N", "c0"]), timeout=10)
    cl.wait_event({"RENEW6"}, n1, timeout=15)
    assert server.lease(addr)["expire"] > e1
    # release (dhcpcd -6 -k): both leases released
    lab.run(cli, L._dhcpcd_wrap(lab, ["dhcpcd", "-6", "-k", "c0"]), timeout=10)
    _wait_state(server, addr, "released")
    _wait_state(server, pre, "released")
    try:
        cl.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        lab.stop(cl.proc)
    server.stop()


# -- 3. perfdhcp -6 ------------------------------------------------------------------------
def test_perfdhcp6_1000_exchanges(lab):
    require("perfdhcp")
    srv, cli, server = _lan(lab, max_leases=4096)
    wait_link_local(lab, cli, "c0")
    argv = ["perfdhcp", "-6", "-l", "c0", "-r", "200", "-R", "1000000", "-n", "1000", "-p", "30",
            "-W", "1000000"]
    r = lab.run(cli, argv, timeout=60)
    res = L.parse_perfdhcp(r.stdout)
    assert r.returncode in (0, 3) and "Statistics for" in r.stdout, r.stdout + r.stderr
    assert res["sent"].get("SOLICIT", 0) >= 1000, r.stdout
    assert res["received"].get("REPLY", 0) == res["sent"]["SOLICIT"], r.stdout
    assert res["drops"] == 0 and res["malformed"] == 0, r.stdout
    st = server.stats()  # (1000 leases as JSON do not fit the default heap: counters instead)
    assert st["leases_used"] >= 1000 and st["reply"] >= 1000 and st["dropped_malformed"] == 0, st
    server.stop()


def test_lease6_get_all_streams_2000_leases_while_serving(lab):
    """lease6-get-all is written lease by lease (netif_unix_control streams console6.each_lease6):
    2000 leases come back whole, and perfdhcp -6 running meanwhile loses nothing. The heap is
    768K: the 2000 leases as one list of dicts alone would take ~780 KB of it."""
    require("perfdhcp")
    _need_micropython()
    srv, cli = lab.add_host("srv"), lab.add_host("cli")
    lab.link(srv, "s0", cli, "c0")
    lab.addr(srv, "s0", LAN + "::1/64")
    server = Server6(lab, srv, dhcp6_config(lab, [lan_subnet()], max_leases=4096), heapsize="768K")
    wait_link_local(lab, cli, "c0")
    base = ["perfdhcp", "-6", "-l", "c0", "-R", "1000000", "-W", "1000000"]
    r = lab.run(cli, base + ["-r", "500", "-n", "2000", "-p", "30"], timeout=60)
    res = L.parse_perfdhcp(r.stdout)
    assert res["received"].get("REPLY", 0) >= 2000, r.stdout + r.stderr
    p = lab.popen(cli, base + ["-r", "100", "-n", "400", "-p", "20"], log="perfdhcp6-bg.log")
    seen = []
    while p.poll() is None and len(seen) < 3:
        r = server.query("lease6-get-all", timeout=20)
        assert r["result"] == 0, r
        seen.append(r["arguments"]["leases"])
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        lab.stop(p)
        raise
    out = lab.read_log(p)
    bg = L.parse_perfdhcp(out)
    assert seen, "perfdhcp ended before a lease6-get-all was asked:\n" + out
    assert bg["sent"].get("SOLICIT", 0) >= 400 and bg["drops"] == 0, out
    assert bg["received"].get("REPLY", 0) == bg["sent"]["SOLICIT"], out
    for leases in seen:
        addrs = {l["ip-address"] for l in leases if l["type"] == "IA_NA"}
        assert len(leases) >= 2000 and len(addrs) == len(leases), len(leases)
        assert all(_in_pool(a) for a in addrs)
    final = server.leases()
    assert len(final) >= 2400 and sum(l["state"] == "bound" for l in final) >= 2400, len(final)
    assert server.stats()["leases_used"] == len(final)
    server.stop()


# -- 4. relays ---------------------------------------------------------------------------------
def test_dhcrelay6_client_gets_address_from_relay_subnet(lab):
    require("dhcrelay", "dhclient")
    _need_micropython()
    srv, rel, cli = lab.add_host("srv"), lab.add_host("rel"), lab.add_host("cli")
    lab.link(srv, "s0", rel, "r1")
    lab.link(rel, "r0", cli, "c0")
    lab.addr(srv, "s0", "2001:db8:1::1/64")
    lab.addr(rel, "r1", "2001:db8:1::2/64")
    lab.addr(rel, "r0", "2001:db8:88::1/64")
    cfg = dhcp6_config(lab, [
        lan_subnet(**{"subnet": "2001:db8:1::/64", "pools": [{"pool": "2001:db8:1::100 - 2001:db8:1::1ff"}],
                      "pd-pools": []}),
        {"id": 2, "subnet": "2001:db8:88::/64", "pools": [{"pool": "2001:db8:88::100 - 2001:db8:88::1ff"}],
         "option-data": [{"name": "dns-servers", "data": "2001:db8:88::53"}]},
    ])
    server = Server6(lab, srv, cfg)
    p = lab.popen(rel, ["dhcrelay", "-6", "-d", "-l", "r0", "-u", "2001:db8:1::1%r1"], log="dhcrelay6.log")
    L.wait_for(lambda: p.poll() is not None or "Sending on" in lab.read_log(p), 10, what="dhcrelay -6")
    assert p.poll() is None, lab.read_log(p)
    cl, env = _dhclient6(lab, cli, "c0")
    addr = env["new_ip6_address"]
    assert addr.startswith("2001:db8:88::"), env
    assert env.get("new_dhcp6_name_servers") == "2001:db8:88::53", env
    assert server.lease(addr)["subnet-id"] == 2
    assert server.stats()["relayed"] >= 2
    server.stop()


def test_crafted_nested_relays_and_interface_id(lab):
    srv, cli, server = _lan_with_relay_subnets(lab)
    relay_sock = Crafted(lab, cli, "c0", port=547, addr=LAN + "::2")
    cid = duid_ll(b"\x02\x00\x00\x00\x07\x01")
    inner = msg(1, (ia_na(1), ia_pd(1)), cid=cid)
    r1 = relay(inner, link="2001:db8:2::1", iid=b"port-1", hops=0)
    r2 = relay(r1, link=LAN + "::2", peer="2001:db8:2::1", iid=b"uplink", hops=1)
    (t, xid, o, relays), src = relay_sock.exchange(r2, dst=LAN + "::1")
    assert t == 2 and [x["hops"] for x in relays] == [1, 0]
    assert relays[0]["options"][18] == [b"uplink"] and relays[1]["options"][18] == [b"port-1"]
    a = ip6_str(iaaddr(ia_list(o)[0][3])[0])
    assert a.startswith("2001:db8:2::"), a
    assert ip6_str(iaprefix(ia_list(o, 25)[0][3])[0]).startswith("2001:db8:2200:")
    # by Interface-Id alone (link-address unspecified)
    r = relay(msg(1, (ia_na(1),), cid=cid), link="::", iid=b"far-port-9")
    (t, _, o, relays), _ = relay_sock.exchange(r, dst=LAN + "::1")
    assert ip6_str(iaaddr(ia_list(o)[0][3])[0]).startswith("2001:db8:3::")
    server.stop()


def _lan_with_relay_subnets(lab):
    _need_micropython()
    srv, cli = lab.add_host("srv"), lab.add_host("cli")
    lab.link(srv, "s0", cli, "c0")
    lab.addr(srv, "s0", LAN + "::1/64")
    lab.addr(cli, "c0", LAN + "::2/64")
    cfg = dhcp6_config(lab, [
        lan_subnet(),
        {"id": 2, "subnet": "2001:db8:2::/64", "pools": [{"pool": "2001:db8:2::100 - 2001:db8:2::1ff"}],
         "pd-pools": [{"prefix": "2001:db8:2200::", "prefix-len": 40, "delegated-len": 48}]},
        {"id": 3, "subnet": "2001:db8:3::/64", "interface-id": "far-port-9",
         "pools": [{"pool": "2001:db8:3::100 - 2001:db8:3::1ff"}]},
    ])
    return srv, cli, Server6(lab, srv, cfg)


# -- 5. Reconfigure -------------------------------------------------------------------------------
def test_reconfigure_to_a_client_that_accepted(lab):
    srv, cli, server = _lan(lab)
    c = Crafted(lab, cli, "c0", port=546)
    cid = duid_ll(bytes.fromhex(lab.mac(cli, "c0").replace(":", "")))
    (t, _, o, _), _ = c.exchange(msg(1, (ia_na(1), opt(20, b"")), cid=cid))
    assert t == 2
    sid = o[2][0]
    (t, _, o, _), _ = c.exchange(msg(3, (opt(3, o[3][0]), opt(20, b"")), cid=cid, sid=sid, xid=0x777))
    assert t == 7 and o[20] == [b""]
    auth = o[11][0]
    assert auth[:3] == b"\x03\x01\x00" and auth[11] == 1
    key = auth[12:28]
    addr = ip6_str(iaaddr(ia_list(o)[0][3])[0])
    lab.addr(cli, "c0", addr + "/128")  # the Reconfigure is unicast to the leased address
    r = server.query("reconfigure6", {"address": addr, "msg": "renew"})
    assert r["result"] == 0, r
    got, src = c.recv(timeout=6, want=10)
    assert got is not None, server.output()
    assert src[0].split("%")[0] == LAN + "::1" or src[0].startswith("fe80"), src
    t, xid, ro, _ = decode(got, len(got))
    assert t == 10 and xid == 0 and ro[1] == [cid] and ro[2] == [sid] and ro[19] == [b"\x05"]
    ra = ro[11][0]
    assert ra[:3] == b"\x03\x01\x00" and ra[11] == 2 and ra[3:11] > auth[3:11]
    body = bytearray(got)
    i = bytes(body).find(ra)
    body[i + 12:i + 28] = bytes(16)
    d = bytearray(16)
    HMAC_MD5().compute(key, 0, 16, body, 0, len(body), d, 0)
    import hmac
    assert bytes(d) == ra[12:28] == hmac.new(key, bytes(body), "md5").digest()
    # a retransmission follows ~2 s later while we stay silent
    again, _ = c.recv(timeout=5, want=10)
    assert again is not None and decode(again, len(again))[2][11][0][3:11] > ra[3:11]
    # the client's Renew is answered, and the retransmissions stop
    e1 = server.lease(addr)["expire"]
    time.sleep(1.1)
    (t, _, o2, _), _ = c.exchange(msg(5, (ia_na(1, [addr]),), cid=cid, sid=sid, xid=0x778))
    assert t == 7 and ip6_str(iaaddr(ia_list(o2)[0][3])[0]) == addr
    assert server.lease(addr)["expire"] > e1
    assert server.stats()["reconfigure_answered"] == 1
    late, _ = c.recv(timeout=5, want=10)
    assert late is None
    server.stop()


def test_no_reconfigure_for_a_client_that_did_not_accept(lab):
    srv, cli, server = _lan(lab)
    c = Crafted(lab, cli, "c0", port=546)
    cid = duid_ll(b"\x02\x00\x00\x00\x07\x02")
    (t, _, o, _), _ = c.exchange(msg(1, (ia_na(1), opt(14, b"")), cid=cid))  # rapid commit off: Advertise
    (t, _, o, _), _ = c.exchange(msg(3, (opt(3, o[3][0]),), cid=cid, sid=o[2][0]))
    assert t == 7 and 11 not in o and 20 not in o
    addr = ip6_str(iaaddr(ia_list(o)[0][3])[0])
    r = server.query("reconfigure6", {"address": addr})
    assert r["result"] == 1 and "Reconfigure Accept" in r["text"], r
    assert c.recv(timeout=3, want=10)[0] is None
    server.stop()


# -- 6. UseMulticast: the adapter tells unicast from multicast ------------------------------------
def test_unicast_to_server_gets_use_multicast(lab):
    """Besides [::]:547 (ff02::1:2), netif_unix binds [2001:db8:77::1]:547: Linux hands a
    datagram to the most specific socket, so what arrives there was unicast (RFC 8415 18.4:
    Request/Renew/Release/Decline -> Reply UseMulticast, Solicit/Confirm/Rebind/Info dropped).
    The same messages sent to ff02::1:2 are served."""
    srv, cli, server = _lan(lab)
    lab.addr(cli, "c0", LAN + "::2/64")
    wait_link_local(lab, cli, "c0")
    c = Crafted(lab, cli, "c0", port=546)
    cid = duid_ll(b"\x02\x00\x00\x00\x07\x05")
    sol = msg(1, (ia_na(1),), cid=cid, xid=0x501)
    c.send(sol, dst=LAN + "::1")  # unicast Solicit: discarded (RFC 8415 16)
    assert c.recv(timeout=2)[0] is None
    assert server.stats()["dropped_unicast"] == 1
    (t, _, o, _), _ = c.exchange(sol)  # the same to ff02::1:2: Advertise
    assert t == 2 and ia_list(o)
    sid = o[2][0]
    req = msg(3, (opt(3, o[3][0]),), cid=cid, sid=sid, xid=0x502)
    (t, xid, o, _), src = c.exchange(req, dst=LAN + "::1")
    assert t == 7 and xid == 0x502 and o[13][0][:2] == b"\x00\x05", o  # UseMulticast
    assert 3 not in o and o[2] == [sid] and o[1] == [cid]
    assert src[0].split("%")[0] == LAN + "::1", src  # answered from the unicast socket
    assert server.stats()["use_multicast"] == 1
    assert all(l["state"] != "bound" for l in server.leases()), server.leases()  # only offered
    (t, _, o, _), src = c.exchange(req)  # multicast: served
    assert t == 7 and (13 not in o or o[13][0][:2] == b"\x00\x00"), o
    a = ip6_str(iaaddr(ia_list(o)[0][3])[0])
    assert _in_pool(a) and server.lease(a)["state"] == "bound"
    # a Renew by unicast is refused the same way, and the lease is left as it is
    e1 = server.lease(a)["expire"]
    ren = msg(5, (ia_na(1, [a]),), cid=cid, sid=sid, xid=0x503)
    (t, _, o, _), _ = c.exchange(ren, dst=LAN + "::1")
    assert t == 7 and o[13][0][:2] == b"\x00\x05" and server.lease(a)["expire"] == e1
    assert server.stats()["use_multicast"] == 2
    assert "not watched" not in server.output(), server.output()
    server.stop()
