"""Our DHCPv6 client (the Client6 section, mpdhcp on the MicroPython Unix port started with
`python -m host_tools serve`) against real DHCPv6 servers in namespaces the test makes: the
address lands on the interface with its lifetimes (`ip -6 addr`), the delegated prefix is held,
Renew/Rebind/expiry run on short lifetimes, a restart Rebinds and keeps the binding, and the
Release on stop reaches the server. Needs root + kea-dhcp6 + the Unix port; else skipped."""
import json
import os
import re
import signal
import sys

import pytest

from peerutil import require
import lab as L
import mpdhcp_lab as M
from host_tools.lab6 import wait_link_local

NET = "2001:db8:77"
PD = "2001:db8:7700::"


def _need_micropython():
    if not M.micropython_path():
        pytest.skip("micropython (the Unix port) not found: run `make venv`")


def _lan(lab):
    srv = lab.add_host("s6")
    cli = lab.add_host("c6")
    lab.link(srv, "s0", cli, "c0")
    lab.addr(srv, "s0", NET + "::1/64")
    wait_link_local(lab, cli, "c0")
    wait_link_local(lab, srv, "s0")
    return srv, cli


def kea6(lab, ns, preferred=3000, valid=4000, t1=1000, t2=2000, extra=None):
    conf = {"Dhcp6": {
        "interfaces-config": {"interfaces": ["s0"]},
        "server-id": {"type": "LLT", "persist": False},
        "lease-database": {"type": "memfile", "persist": True, "name": lab.path("kea-leases6.csv"),
                           "lfc-interval": 0},
        "preferred-lifetime": preferred, "valid-lifetime": valid, "renew-timer": t1, "rebind-timer": t2,
        "option-data": [{"name": "dns-servers", "data": NET + "::53"},
                        {"name": "domain-search", "data": "wan.example"}],
        "subnet6": [{"id": 1, "subnet": NET + "::/64", "interface": "s0",
                     "pools": [{"pool": NET + "::100 - " + NET + "::1ff"}],
                     "pd-pools": [{"prefix": PD, "prefix-len": 40, "delegated-len": 56}]}],
        "loggers": [{"name": "kea-dhcp6", "severity": "INFO",
                     "output_options": [{"output": lab.path("kea6.log")}]}]}}
    conf["Dhcp6"].update(extra or {})
    path = lab.write("kea6.json", json.dumps(conf))
    env = dict(os.environ, KEA_PIDFILE_DIR=lab.tmp, KEA_LOCKFILE_DIR=lab.tmp)
    p = lab.popen(ns, ["kea-dhcp6", "-c", path], log="kea6.out", env=env)
    L.wait_for(lambda: p.poll() is not None or "DHCP6_STARTED" in _read(lab.path("kea6.log")), 15,
               what="kea-dhcp6 start")
    assert p.poll() is None, lab.read_log(p)
    return p


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


class Client6(M.ServedClient):
    """mpdhcp with only a Client6 section, running in ns."""

    prefix = "client6: "

    def __init__(self, lab, ns, name="client6", **cfg):
        self.resolv = lab.path(name + "-resolv.conf")
        c = {"interface": cfg.pop("interface", "c0"), "ia-na": True, "ia-pd": True, "prefix-length-hint": 56,
             "lease-file": lab.path(name + ".jnl"), "resolv-conf": self.resolv}
        c.update(cfg)
        M.ServedClient.__init__(self, lab, ns, name, "Client6", c)

    def bound(self, timeout=20, after=0):
        """(line index, address, prefix text) of the next BOUND line."""
        i, m = self.wait(r"BOUND (\S+)/128, prefixes (\S+)", timeout, after)
        return i, m.group(1), m.group(2)


def _ctl(path, req):
    """One control-socket command with arguments (host_tools.ctl.query sends none)."""
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as so:
        so.settimeout(5)
        so.connect(path)
        so.sendall(json.dumps(req).encode())
        data = b""
        for _ in range(100):
            part = so.recv(65536)
            if not part:
                break
            data += part
            try:
                return json.loads(data)
            except ValueError:
                continue
    return json.loads(data)


def _addrs(lab, ns):
    return lab.ip(ns, "-6", "addr", "show", "dev", "c0", "scope", "global")


def test_kea_gives_an_address_and_a_prefix_that_land_and_release_on_stop(lab):
    require("kea-dhcp6")
    _need_micropython()
    srv, cli = _lan(lab)
    kea6(lab, srv)
    c = Client6(lab, cli).start()
    i, addr, pfx = c.bound()
    assert addr.startswith(NET + "::1") and pfx.startswith("2001:db8:77") and pfx.endswith("/56")
    shown = _addrs(lab, cli)
    assert addr + "/128" in shown and ("valid_lft 4000sec" in shown or "valid_lft 399" in shown), shown
    assert "nameserver " + NET + "::53" in _read(c.resolv) and "wan.example" in _read(c.resolv)
    leases = _read(lab.path("kea-leases6.csv"))
    assert addr in leases and pfx.split("/")[0] in leases
    c.stop()
    L.wait_for(lambda: "DHCP6_RELEASE_NA" in _read(lab.path("kea6.log")) and
               "DHCP6_RELEASE_PD" in _read(lab.path("kea6.log")), 10, what="Release at kea")
    assert addr + "/128" not in _addrs(lab, cli)  # deconfigured on stop
    rows = [r.split(",") for r in _read(lab.path("kea-leases6.csv")).splitlines()[1:]]
    for a in (addr, pfx.split("/")[0]):  # the lease file's last word on each: valid lifetime 0
        assert [r for r in rows if r[0] == a][-1][2] == "0", rows


def test_renew_rebind_and_a_restart_that_keeps_the_binding(lab):
    require("kea-dhcp6")
    _need_micropython()
    srv, cli = _lan(lab)
    kea = kea6(lab, srv, preferred=10, valid=16, t1=3, t2=6)
    c = Client6(lab, cli, **{"release-on-shutdown": False}).start()
    i, addr, pfx = c.bound()
    j, m = c.wait(r"BOUND -> RENEW", 10, i)
    j, addr2, pfx2 = c.bound(10, j)
    assert (addr2, pfx2) == (addr, pfx)  # renewed with the server that gave them
    kea.send_signal(signal.SIGKILL)
    kea.wait(5)
    c.wait(r"RENEW -> REBIND", 12, j)
    c.stop()  # a restart while the server is away: nothing released
    kea6(lab, srv, preferred=10, valid=16, t1=3, t2=6)
    c.start()
    k, m = c.wait(r"REBIND -> BOUND", 20)  # a prefix is held: Rebind, not Solicit (RFC 8415 18.2.12)
    k, addr3, pfx3 = c.bound(5, k)
    assert (addr3, pfx3) == (addr, pfx) and "ADVERTISE" not in c.output(), c.output()


def _our_server(lab, srv, extra_opts=()):
    conf = {"Dhcp6": {
        "interfaces-config": {"interfaces": ["s0"]},
        "lease-database": {"type": "memfile", "name": lab.path("mpdhcp6.jnl")},
        "preferred-lifetime": 3000, "valid-lifetime": 4000, "renew-timer": 1000, "rebind-timer": 2000,
        "option-data": [{"name": "dns-servers", "data": NET + "::53"}],
        "subnet6": [{"id": 1, "subnet": NET + "::/64", "interface": "s0",
                     "pools": [{"pool": NET + "::100 - " + NET + "::1ff"}],
                     "pd-pools": [{"prefix": PD, "prefix-len": 40, "delegated-len": 56}]}]}}
    conf["Dhcp6"]["option-data"] += list(extra_opts)
    conf["Dhcp6"]["control-socket"] = {"socket-type": "unix", "socket-name": lab.path("srv6.sock")}
    s = lab.popen(srv, M.serve_argv(lab.write("srv6.json", json.dumps(conf))), cwd=M.ROOT, log="srv6.log")
    L.wait_for(lambda: "mpdhcp: serving" in lab.read_log(s) or s.poll() is not None, 15, what="server6")
    assert s.poll() is None, lab.read_log(s)
    return s


def test_our_own_server_leases_to_our_client(lab):
    _need_micropython()
    srv, cli = _lan(lab)
    _our_server(lab, srv)
    c = Client6(lab, cli).start()
    i, addr, pfx = c.bound()
    assert addr.startswith(NET + "::1") and pfx.endswith("/56")
    assert addr + "/128" in _addrs(lab, cli)
    from host_tools.ctl import query

    got = json.dumps(query(lab.path("srv6.sock"), "lease6-get-all", 5.0))
    assert addr in got and pfx.split("/")[0] in got


def test_reconfigure_from_our_server_is_answered_and_a_forged_one_dropped(lab):
    _need_micropython()
    srv, cli = _lan(lab)
    s = _our_server(lab, srv)
    c = Client6(lab, cli, **{"ia-pd": False}).start()
    i, addr, _ = c.bound()
    r = _ctl(lab.path("srv6.sock"), {"command": "reconfigure6", "arguments": {"address": addr, "msg": "renew"}})
    assert r["result"] == 0, r
    j, m = c.wait(r"RECONFIGURE>RENEW on c0 RENEW", 10, i)
    c.wait(r"REPLY>- on c0 BOUND", 10, j)
    # forged: the server's DUID and the client's, an RKAP Auth with a high replay counter, a
    # made-up HMAC: dropped (RFC 8415 20.4), and the client stays bound
    sduid = re.search(r"server DUID ([0-9a-f]+)", lab.read_log(s)).group(1)
    cduid = re.search(r"DHCPv6 client on c0 \(DUID ([0-9a-f]+)\)", c.output()).group(1)

    def o(code, data):
        return bytes([code >> 8, code & 255, len(data) >> 8, len(data) & 255]) + data
    auth = bytes([3, 1, 0]) + b"\x7f" + bytes(7) + b"\x02" + bytes(range(16))
    forged = bytes([10, 0, 0, 0]) + o(2, bytes.fromhex(sduid)) + o(1, bytes.fromhex(cduid)) + o(19, b"\x05") + o(11, auth)
    code = ("import socket;s=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM);s.bind(('::',0));"
            "s.sendto(bytes.fromhex(%r),(%r,546))" % (forged.hex(), addr))
    lab.run(srv, [sys.executable, "-c", code], timeout=10, check=True)
    c.wait(r"RECONFIGURE>- on c0 BOUND", 10, j)
    assert len(re.findall(r"RECONFIGURE>RENEW", c.output())) == 1


def test_a_server_with_preference_255_is_taken_at_once(lab):
    require("kea-dhcp6")
    _need_micropython()
    srv = lab.add_host("s6")
    srv2 = lab.add_host("s6b")
    cli = lab.add_host("c6")
    lab.link(srv, "s0", cli, "c0")
    lab.link(srv2, "s0", cli, "c1")
    cli_br = "c0"
    lab.bridge(cli, "br0", ["c0", "c1"])
    lab.addr(srv, "s0", NET + "::1/64")
    lab.addr(srv2, "s0", NET + "::2/64")
    wait_link_local(lab, cli, "br0")
    _our_server(lab, srv)  # no Preference option: 0
    kea = kea6(lab, srv2, extra={"option-data": [{"name": "preference", "data": "255", "always-send": True},
                                                 {"name": "dns-servers", "data": NET + "::53"}]})
    c = Client6(lab, cli, interface="br0").start()
    i, addr, pfx = c.bound()
    leases = _read(lab.path("kea-leases6.csv"))
    assert addr in leases  # kea's, taken at once
    assert cli_br and "ADVERTISE>REQUEST" in c.output()  # no waiting for the first RT to end


def test_dnsmasq_gives_an_address(lab):
    require("dnsmasq")
    _need_micropython()
    srv, cli = _lan(lab)
    leases = lab.path("dnsmasq6.leases")
    p = lab.popen(srv, ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0", "--interface=s0",
                        "--bind-interfaces", "--dhcp-range=%s::100,%s::1ff,64,1h" % (NET, NET),
                        "--dhcp-leasefile=" + leases, "--pid-file=" + lab.path("dnsmasq6.pid")],
                  log="dnsmasq6.log")
    c = Client6(lab, cli, **{"ia-pd": False}).start()
    i, m = c.wait(r"BOUND (\S+)/128", 20)
    addr = m.group(1)
    assert addr.startswith(NET + "::1") and addr + "/128" in _addrs(lab, cli)
    L.wait_for(lambda: addr in _read(leases), 5, what="dnsmasq lease file")
    assert p.poll() is None


def test_isc_dhcpd6_gives_an_address_and_a_prefix(lab):
    require("dhcpd")
    _need_micropython()
    srv, cli = _lan(lab)
    conf = lab.write("dhcpd6.conf", "default-lease-time 3600;\npreferred-lifetime 3000;\n"
                     "subnet6 %s::/64 {\n range6 %s::100 %s::1ff;\n prefix6 2001:db8:7700:: 2001:db8:77ff:: /56;\n}\n"
                     % (NET, NET, NET))
    leases = lab.path("dhcpd6.leases")
    open(leases, "w").close()
    p = lab.popen(srv, ["dhcpd", "-6", "-f", "-d", "-cf", conf, "-lf", leases, "-pf", lab.path("dhcpd6.pid"), "s0"],
                  log="dhcpd6.log")
    c = Client6(lab, cli).start()
    i, addr, pfx = c.bound(25)
    assert addr.startswith(NET + "::1") and pfx.endswith("/56") and addr + "/128" in _addrs(lab, cli)
    c.stop()
    L.wait_for(lambda: "Release message" in lab.read_log(p) or "RELEASE" in lab.read_log(p).upper(), 10,
               what="Release at dhcpd")


def test_router_mode_the_lan_lives_in_the_delegated_prefix_and_follows_a_renumbering(lab):
    # upstream kea-dhcp6 delegates a /56 to our router's Client6; the router's Dhcp6 server
    # serves /64 number 1 of it on its LAN, where dhclient -6 gets an address; kea then
    # renumbers (new pd-pool, leases forgotten): the router renews into the new prefix and the
    # LAN client's next Renew moves it there
    require("kea-dhcp6", "dhclient")
    _need_micropython()
    from host_tools.lab6 import dhclient6

    isp = lab.add_host("isp")
    rtr = lab.add_host("rtr")
    pc = lab.add_host("pc")
    lab.link(isp, "s0", rtr, "wan0")
    lab.link(rtr, "lan0", pc, "c0")
    lab.addr(isp, "s0", NET + "::1/64")
    for ns, ifn in ((rtr, "wan0"), (rtr, "lan0"), (pc, "c0"), (isp, "s0")):
        wait_link_local(lab, ns, ifn)
    kea = kea6(lab, isp, preferred=20, valid=30, t1=4, t2=8)
    conf = {
        "Client6": {"interface": "wan0", "ia-na": False, "ia-pd": True, "prefix-length-hint": 56,
                    "lease-file": lab.path("rtr-client6.jnl")},
        "Dhcp6": {"interfaces-config": {"interfaces": ["lan0"]},
                  "lease-database": {"type": "memfile", "name": lab.path("rtr-dhcp6.jnl")},
                  "preferred-lifetime": 20, "valid-lifetime": 30, "renew-timer": 4, "rebind-timer": 8,
                  "control-socket": {"socket-type": "unix", "socket-name": lab.path("rtr.sock")},
                  "subnet6": [{"id": 1, "subnet": "fd00:0:0:1::/64", "interface": "lan0",
                               "pools": [{"pool": "fd00:0:0:1::100 - fd00:0:0:1::1ff"}],
                               "pd-pools": [{"prefix": "0:0:0:80::", "prefix-len": 57, "delegated-len": 60}],
                               "user-context": {"mpdhcp": {"delegated-subnet-id": 1}}}]}}
    r = lab.popen(rtr, M.serve_argv(lab.write("rtr.json", json.dumps(conf))), cwd=M.ROOT, log="rtr.log")
    def lan_and_prefix():  # (wan6 logs the LAN subnet a moment before the BOUND line with the prefix)
        log = lab.read_log(r)
        m = re.search(r"LAN subnet 1 on lan0: (\S+)/64", log)
        p = re.search(r"prefixes (\S+)/56", log)
        return (m and p and (m, p)) or (r.poll() is not None and L.LabError(log))

    got = L.wait_for(lan_and_prefix, 20, what="LAN subnet from the prefix")
    assert not isinstance(got, Exception), str(got)
    lan64, pfx = got[0].group(1), got[1].group(1)
    import ipaddress

    want = ipaddress.IPv6Network(pfx + "/56")
    assert ipaddress.IPv6Network(lan64 + "/64") == list(want.subnets(new_prefix=64))[1]  # /64 number 1
    assert lan64 + "1/64" in lab.ip(rtr, "-6", "addr", "show", "dev", "lan0")  # the router's LAN address
    cl, env = dhclient6(lab, pc, "c0", ("-N", "-P"))
    a = env["new_ip6_address"]
    assert a.startswith(lan64), (a, lan64)
    got = ipaddress.IPv6Network(env["new_ip6_prefix"])  # a /60 from the upper half of the /56
    assert got.prefixlen == 60 and got.subnet_of(list(want.subnets(new_prefix=57))[1]), (got, want)
    # renumbering upstream: kea restarts with another pd-pool and no memory of the old lease
    kea.send_signal(signal.SIGKILL)
    kea.wait(5)
    os.remove(lab.path("kea-leases6.csv"))
    kea6(lab, isp, preferred=20, valid=30, t1=4, t2=8,
         extra={"subnet6": [{"id": 1, "subnet": NET + "::/64", "interface": "s0",
                             "pools": [{"pool": NET + "::100 - " + NET + "::1ff"}],
                             "pd-pools": [{"prefix": "2001:db8:9900::", "prefix-len": 40, "delegated-len": 56}]}]})
    m2 = L.wait_for(lambda: [x for x in re.findall(r"LAN subnet 1 on lan0: (\S+)/64", lab.read_log(r)) if x != lan64],
                    30, what="the LAN renumbered")
    new64 = m2[0]
    assert ipaddress.IPv6Network(new64 + "/64").subnet_of(ipaddress.IPv6Network("2001:db8:9900::/40"))
    n0 = len(cl.events())
    for _ in range(8):  # the LAN client's next Renew moves its address (one event per IA)
        _, name, e = cl.wait_event({"RENEW6", "REBIND6"}, n0, timeout=20)
        n0 = len(cl.events())
        if e.get("new_ip6_address", "").startswith(new64):
            break
    assert e["new_ip6_address"].startswith(new64), e
    # and its delegated prefix: dhclient 4.4 runs its script for the IA_PD of such a Reply only
    # now and then (the address always), so the prefix is read from the router's own leases
    new56 = ipaddress.IPv6Network(new64 + "/64").supernet(new_prefix=56)

    def pd_moved():
        got = _ctl(lab.path("rtr.sock"), {"command": "lease6-get-all"})["arguments"]["leases"]
        return [x for x in got if x["type"] == "IA_PD" and x["state"] == "bound" and
                ipaddress.IPv6Network("%s/%d" % (x["ip-address"], x["prefix-len"])).subnet_of(new56)]
    pd = L.wait_for(pd_moved, 20, what="the LAN client's prefix in the new /56")
    assert pd[0]["prefix-len"] == 60, pd


def test_expiry_removes_the_address_and_a_failed_dad_is_declined(lab):
    require("kea-dhcp6")
    _need_micropython()
    srv, cli = _lan(lab)
    kea = kea6(lab, srv, preferred=6, valid=10, t1=3, t2=5)
    c = Client6(lab, cli, **{"ia-pd": False}).start()
    i, m = c.wait(r"BOUND (\S+)/128", 20)
    addr = m.group(1)
    kea.send_signal(signal.SIGKILL)
    kea.wait(5)
    c.wait(r"REBIND -> INIT", 20, i)  # every valid lifetime ran out with nobody answering
    c.wait(r"removed " + re.escape(addr) + "/128", 5, i)
    assert addr + "/128" not in _addrs(lab, cli)
    c.stop()
    # duplicate address detection: the next address kea gives is already used on the link
    lab.ip(cli, "-6", "addr", "flush", "dev", "c0", "scope", "global")
    os.remove(lab.path("kea-leases6.csv"))
    kea6(lab, srv)
    lab.run(cli, ["sysctl", "-qw", "net.ipv6.conf.c0.accept_dad=1"], check=True)
    lab.addr(srv, "s0", NET + "::100/64")  # kea's first address, held by the server host
    c2 = Client6(lab, cli, name="dad", **{"ia-pd": False}).start()
    j, m = c2.wait(r"BOUND (\S+)/128", 20)
    assert m.group(1) == NET + "::100"
    c2.wait(r"failed duplicate address detection: Decline", 10, j)
    L.wait_for(lambda: "DHCP6_DECLINE" in _read(lab.path("kea6.log")), 10, what="Decline at kea")
    k, m2 = c2.wait(r"BOUND (\S+)/128", 20, j + 1)
    assert m2.group(1) != NET + "::100"  # a new address after the Decline


def test_confirm_after_a_restart_and_a_stateless_client(lab):
    require("kea-dhcp6")
    _need_micropython()
    srv, cli = _lan(lab)
    kea6(lab, srv)
    c = Client6(lab, cli, **{"ia-pd": False, "release-on-shutdown": False}).start()
    i, m = c.wait(r"BOUND (\S+)/128", 20)
    addr = m.group(1)
    c.stop()
    c.start()
    j, _ = c.wait(r"CONFIRM -> BOUND", 20)  # addresses only: Confirm (RFC 8415 18.2.12)
    assert "ADVERTISE" not in c.output() and addr + "/128" in _addrs(lab, cli)
    c.stop()
    s = Client6(lab, cli, name="stateless", **{"ia-na": False, "ia-pd": False}).start()
    s.wait(r"INFO -> INFORMED", 20)
    assert "nameserver " + NET + "::53" in _read(s.resolv) and "wan.example" in _read(s.resolv)
