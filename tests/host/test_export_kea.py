# export-kea: mpdhcp (Unix port, `host_tools serve`) leases two clients; its config and lease
# journal are exported; `kea-dhcp4 -t` accepts the config; kea-dhcp4 started on the exported
# lease file gives the second client (same MAC) its address back. Without the leases Kea would
# hand that client the pool's first address, which the first client holds.
import csv
import json
import os
import sys
import subprocess

from hostutil import ROOT, need, cli
from host_tools import lab as L
from host_tools.export_kea import LEASE4_HEADER, EPOCH_2000

LAN = "192.168.81"


def _config(lab):
    return {"Dhcp4": {
        "interfaces-config": {"interfaces": ["br0"]},
        "lease-database": {"type": "memfile", "name": lab.path("leases4.jnl")},
        "control-socket": {"socket-type": "unix", "socket-name": lab.path("ctl.sock")},
        "valid-lifetime": 3600, "renew-timer": 1800, "rebind-timer": 3150,
        "subnet4": [{"id": 7, "subnet": LAN + ".0/24", "interface": "br0",
                     "pools": [{"pool": LAN + ".100 - " + LAN + ".110"}],
                     "option-data": [{"name": "routers", "data": LAN + ".1"}]}],
    }}


def test_export_kea_hands_clients_their_addresses(tmp_path):
    need("ip", "udhcpc", "kea-dhcp4", "micropython", root=True)
    with L.Lab("hkea") as lab:
        router = lab.add_host("router")
        cl = []
        for i in range(2):
            ns = lab.add_host("c%d" % i)
            lab.link(router, "p%d" % i, ns, "eth0")
            cl.append(ns)
        lab.bridge(router, "br0", ["p0", "p1"])
        lab.addr(router, "br0", LAN + ".1/24")
        conf = lab.write("mpdhcp.json", json.dumps(_config(lab)))
        srv = lab.popen(router, [sys.executable, "-m", "host_tools", "serve", conf], log="mpdhcp.log", cwd=ROOT)
        L.wait_for(lambda: os.path.exists(lab.path("ctl.sock")) or srv.poll() is not None, 10, what="mpdhcp up")
        a = L.udhcpc(lab, cl[0], "eth0", hostname="first")["address"]
        b = L.udhcpc(lab, cl[1], "eth0", hostname="second")["address"]
        assert (a, b) == (LAN + ".100", LAN + ".101")
        r = cli("leases", "--socket", lab.path("ctl.sock"), "--json")  # the control-socket verbs
        assert r.returncode == 0 and {x["hostname"] for x in json.loads(r.stdout)["leases"]} == {"first", "second"}
        lines = cli("leases", "--socket", lab.path("ctl.sock")).stdout.splitlines()
        assert lines[0].split() == ["proto", "client", "address", "hostname", "state", "expires", "in"]
        assert len(lines) == 3 and "second" in lines[2] and "bound" in lines[2]
        assert json.loads(cli("stats", "--socket", lab.path("ctl.sock"), "--json").stdout)["ack"] == 2
        srv.send_signal(15)
        srv.wait(10)

        out = tmp_path / "kea"
        r = cli("export-kea", "--config", conf, "--leases", lab.path("leases4.jnl"), "--out", out)
        assert r.returncode == 0, r.stderr
        rows = list(csv.reader(open(out / "kea-leases4.csv")))
        assert tuple(rows[0]) == LEASE4_HEADER
        by_ip = {x[0]: dict(zip(rows[0], x)) for x in rows[1:]}
        assert by_ip[b]["hwaddr"] == lab.mac(cl[1], "eth0") and by_ip[b]["hostname"] == "second"
        assert by_ip[b]["subnet_id"] == "7" and by_ip[b]["state"] == "0" and by_ip[b]["valid_lifetime"] == "3600"
        import time

        exp = int(by_ip[b]["expire"])  # unix time: engine clock + 946684800
        assert 3500 < exp - time.time() <= 3600 and exp > EPOCH_2000 + 10 ** 8
        kconf = json.load(open(out / "kea-dhcp4.json"))
        kconf["Dhcp4"]["control-socket"]["socket-name"] = lab.path("kea.sock")
        kconf["Dhcp4"]["lease-database"]["lfc-interval"] = 0
        kconf["Dhcp4"]["loggers"] = [{"name": "kea-dhcp4", "severity": "INFO",
                                      "output_options": [{"output": lab.path("kea4.log")}]}]
        kpath = lab.write("kea4.json", json.dumps(kconf))
        env = dict(os.environ, KEA_PIDFILE_DIR=lab.tmp, KEA_LOCKFILE_DIR=lab.tmp)
        t = lab.run(router, ["kea-dhcp4", "-t", out / "kea-dhcp4.json"], env=env, timeout=20)
        assert t.returncode == 0, t.stdout + t.stderr  # the config exactly as exported
        kea = lab.popen(router, ["kea-dhcp4", "-c", kpath], env=env, log="kea.out")
        L.wait_for(lambda: kea.poll() is not None or L._udp_bound(lab, router, 67), 10, what="kea up")
        assert kea.poll() is None, lab.read_log(kea)
        again = L.udhcpc(lab, cl[1], "eth0", hostname="second")
        assert again["address"] == b, open(lab.path("kea4.log")).read()[-2000:]


# -- DHCPv6: rows from a journal written by the engine itself (no namespaces needed) -----------
def test_export_kea_writes_lease6_rows_and_skips_long_duids(tmp_path):
    import time
    import craft6 as C6
    from mpdhcp.state.journal import Journal
    from host_tools.export_kea import LEASE6_HEADER

    jpath = str(tmp_path / "leases6.jnl")
    cfg = json.loads(C6.CONFIG)
    cfg["Dhcp6"]["lease-database"] = {"type": "memfile", "name": jpath}
    conf = tmp_path / "mpdhcp.json"
    conf.write_text(json.dumps(cfg))
    j = Journal(jpath)
    s = C6.server(json.dumps(cfg), journal=j)
    j.load(s._apply)
    j.rewrite(s.dump)  # the server identity goes in first, as at a real start
    now = int(time.time()) - EPOCH_2000
    C6.bind(s, cid=C6.duid_ll(C6.MAC1), ias=(C6.ia_na(7), C6.ia_pd(8)), now=now)
    long_duid = b"\x00\x02" + bytes(range(1, 31))  # DUID-EN, 32 bytes: kept as a fingerprint only
    C6.bind(s, cid=long_duid, now=now)
    j.commit()
    j.close()
    r = cli("export-kea", "--config", conf, "--out", tmp_path / "kea")  # journal path from the config
    assert r.returncode == 0, r.stderr
    assert "1 DHCPv6 leases skipped" in r.stderr and "(2 leases, 1 skipped)" in r.stdout
    rows = list(csv.reader(open(tmp_path / "kea" / "kea-leases6.csv")))
    assert tuple(rows[0]) == LEASE6_HEADER and len(rows) == 3
    na, pd = sorted((dict(zip(rows[0], x)) for x in rows[1:]), key=lambda d: d["lease_type"])
    assert na["duid"] == pd["duid"] == "00:03:00:01:02:00:00:00:00:01"
    assert (na["lease_type"], na["iaid"], na["prefix_len"]) == ("0", "7", "128")
    assert (pd["lease_type"], pd["iaid"], pd["prefix_len"]) == ("2", "8", "56")
    assert na["address"].startswith("2001:db8:1::1") and pd["address"].startswith("2001:db8:80")
    assert int(na["expire"]) == now + 4000 + EPOCH_2000 and na["valid_lifetime"] == "4000"
    assert na["pref_lifetime"] == "3000" and na["subnet_id"] == "1" and na["state"] == "0"
    assert (na["hwaddr"], na["hwtype"], na["hwaddr_source"]) == ("02:00:00:00:00:01", "1", "2")
    k = json.load(open(tmp_path / "kea" / "kea-dhcp6.json"))
    assert list(k) == ["Dhcp6"] and k["Dhcp6"]["lease-database"]["name"].endswith("kea-leases6.csv")
    sid = k["Dhcp6"]["server-id"]  # the board's DUID-LLT, as its journal keeps it
    assert sid == {"type": "LLT", "htype": 1, "time": 0x2b000001, "identifier": "0200000000fe", "persist": False}
    assert not (tmp_path / "kea" / "kea-dhcp4.json").exists()  # no Dhcp4 section, no v4 config


# -- DHCPv6 end to end: our server leases, Kea takes over from the exported files ----------------
LAN6 = "2001:db8:82"


def _config6(lab):
    return {"Dhcp6": {
        "interfaces-config": {"interfaces": ["s0"]},
        "lease-database": {"type": "memfile", "name": lab.path("leases6.jnl")},
        "control-socket": {"socket-type": "unix", "socket-name": lab.path("ctl6.sock")},
        "preferred-lifetime": 3000, "valid-lifetime": 4000, "renew-timer": 1000, "rebind-timer": 2000,
        "subnet6": [{"id": 9, "subnet": LAN6 + "::/64", "interface": "s0",
                     "pools": [{"pool": LAN6 + "::100 - " + LAN6 + "::1ff"}],
                     "pd-pools": [{"prefix": "2001:db8:8200::", "prefix-len": 40, "delegated-len": 56}]}],
    }}


def _bind6(c, cid, sid=None):
    """Solicit (IA_NA 1 + IA_PD 2, no hints) -> Advertise -> Request -> Reply:
    (address, prefix/len, server DUID)."""
    from craft6 import msg, opt, ia_na, ia_pd, ia_list, iaaddr, iaprefix
    from mpdhcp.wire.addr6 import ip6_str

    t, _, o, _ = c.exchange(msg(1, (ia_na(1), ia_pd(2)), cid=cid))
    assert t == 2, o
    t, _, o, _ = c.exchange(msg(3, (opt(3, o[3][0]), opt(25, o[25][0])), cid=cid, sid=o[2][0], xid=0x4242))
    assert t == 7, o
    a = ip6_str(iaaddr(ia_list(o, 3)[0][3])[0])
    p, plen, _, _ = iaprefix(ia_list(o, 25)[0][3])
    return a, "%s/%d" % (ip6_str(p), plen), o[2][0]


def test_export_kea_hands_dhcpv6_clients_their_addresses_and_prefixes(tmp_path):
    need("ip", "kea-dhcp6", "micropython", root=True)
    from craft6 import duid_ll, msg, ia_na, ia_list, iaaddr
    from mpdhcp.wire.addr6 import ip6_str
    from v6peer import Client6
    from host_tools.export_kea import LEASE6_HEADER

    with L.Lab("hkea6") as lab:
        router, cns = lab.add_host("router"), lab.add_host("cli")
        lab.link(router, "s0", cns, "c0")
        lab.addr(router, "s0", LAN6 + "::1/64")
        conf = lab.write("mpdhcp6.json", json.dumps(_config6(lab)))
        srv = lab.popen(router, [sys.executable, "-m", "host_tools", "serve", conf], log="mpdhcp6.log", cwd=ROOT)
        L.wait_for(lambda: os.path.exists(lab.path("ctl6.sock")) or srv.poll() is not None, 15, what="mpdhcp up")
        assert srv.poll() is None, lab.read_log(srv)
        c = Client6(lab, cns, "c0")
        first, second = duid_ll(b"\x02\x00\x00\x00\x82\x01"), duid_ll(b"\x02\x00\x00\x00\x82\x02")
        a1, p1, our_sid = _bind6(c, first)
        a2, p2, _ = _bind6(c, second)
        assert len({a1, a2}) == 2 and len({p1, p2}) == 2
        # what Kea would hand a client it knows nothing of: the pool's first address and prefix
        assert LAN6 + "::100" in (a1,) and p1 == "2001:db8:8200::/56", (a1, p1)
        r = cli("leases6", "--socket", lab.path("ctl6.sock"), "--json")
        assert r.returncode == 0, r.stderr
        assert sorted(x["type"] for x in json.loads(r.stdout)["leases"]) == ["IA_NA", "IA_NA", "IA_PD", "IA_PD"]
        text = cli("leases6", "--socket", lab.path("ctl6.sock")).stdout
        assert "v6 IA_PD" in text and p1 in text and a2 in text
        assert json.loads(cli("stats6", "--socket", lab.path("ctl6.sock"), "--json").stdout)["server_duid"]
        srv.send_signal(15)
        srv.wait(10)

        out = tmp_path / "kea"
        r = cli("export-kea", "--config", conf, "--leases6", lab.path("leases6.jnl"), "--out", out)
        assert r.returncode == 0, r.stderr
        assert "(4 leases, 0 skipped)" in r.stdout
        rows = list(csv.reader(open(out / "kea-leases6.csv")))
        assert tuple(rows[0]) == LEASE6_HEADER and len(rows) == 5
        got = {(x[0], x[6], x[8]) for x in rows[1:]}
        assert (a2, "0", "128") in got and (p2.split("/")[0], "2", "56") in got
        kconf = json.load(open(out / "kea-dhcp6.json"))
        env = dict(os.environ, KEA_PIDFILE_DIR=lab.tmp, KEA_LOCKFILE_DIR=lab.tmp)
        t = lab.run(router, ["kea-dhcp6", "-t", out / "kea-dhcp6.json"], env=env, timeout=20)
        assert t.returncode == 0, t.stdout + t.stderr  # the config exactly as exported
        kconf["Dhcp6"]["control-socket"]["socket-name"] = lab.path("kea6.sock")
        kconf["Dhcp6"]["lease-database"]["lfc-interval"] = 0
        kconf["Dhcp6"]["loggers"] = [{"name": "kea-dhcp6", "severity": "INFO",
                                      "output_options": [{"output": lab.path("kea6.log")}]}]
        kpath = lab.write("kea6.json", json.dumps(kconf))
        kea = lab.popen(router, ["kea-dhcp6", "-c", kpath], env=env, log="kea6.out")
        L.wait_for(lambda: kea.poll() is not None or L._udp_bound(lab, router, 547), 10, what="kea-dhcp6 up")
        assert kea.poll() is None, lab.read_log(kea)
        klog = lambda: open(lab.path("kea6.log")).read()[-3000:]  # noqa: E731
        try:
            again = _bind6(c, second)  # no hints: only the imported lease tells Kea
        except L.LabError as e:
            raise AssertionError("%s\n%s" % (e, klog()))
        assert again == (a2, p2, our_sid), klog()  # and Kea speaks with the board's server DUID
        # a client renewing with the board's server DUID is answered by Kea (no new Solicit)
        t, _, o, _ = c.exchange(msg(5, (ia_na(1, [a1]),), cid=first, sid=our_sid, xid=0x4343))
        assert t == 7 and ip6_str(iaaddr(ia_list(o, 3)[0][3])[0]) == a1, klog()
        assert "LOAD_ROW_ERROR" not in open(lab.path("kea6.log")).read()


# -- DHCPv4 over DHCPv6 in one process: two Kea daemons joined by one dhcp4o6-port ------------
def _config4o6(tmp_path, port=None):
    """(Interfaces "lo": `kea -t` wants interfaces that exist.)"""
    doc = {"Dhcp4": {"interfaces-config": {"interfaces": ["lo"]},
                     "lease-database": {"type": "memfile", "name": str(tmp_path / "leases4.jnl")},
                     "subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "4o6-interface": "lo",
                                  "pools": [{"pool": "192.0.2.100 - 192.0.2.150"}]}]},
           "Dhcp6": {"interfaces-config": {"interfaces": ["lo"]},
                     "option-data": [{"name": "dhcp4o6-server-addr", "data": "2001:db8:77::1"}],
                     "subnet6": [{"id": 1, "subnet": "2001:db8:77::/64", "interface": "lo"}]}}
    if port:
        doc["Dhcp6"]["dhcp4o6-port"] = port
    from mpdhcp.config.parser import parse_doc
    from mpdhcp.state.journal import Journal
    from mpdhcp.v4.server4 import Server4

    Server4(parse_doc(json.dumps(doc)).get("Dhcp4"), Journal(str(tmp_path / "leases4.jnl")), 16).restore()
    conf = tmp_path / "mpdhcp.json"
    conf.write_text(json.dumps(doc))
    return conf


def _kea_t(daemon, path, tmp_path):
    import shutil

    if not shutil.which(daemon):
        return None
    env = dict(os.environ, KEA_PIDFILE_DIR=str(tmp_path), KEA_LOCKFILE_DIR=str(tmp_path))
    return subprocess.run([daemon, "-t", str(path)], capture_output=True, text=True, timeout=30, env=env)


def test_export_kea_joins_a_single_process_4o6_config_by_one_dhcp4o6_port(tmp_path):
    out = tmp_path / "kea"
    r = cli("export-kea", "--config", _config4o6(tmp_path), "--out", out)
    assert r.returncode == 0, r.stderr
    k4 = json.load(open(out / "kea-dhcp4.json"))["Dhcp4"]
    k6 = json.load(open(out / "kea-dhcp6.json"))["Dhcp6"]
    assert k4["dhcp4o6-port"] == k6["dhcp4o6-port"] == 786  # Kea ARM's DHCPv4-over-DHCPv6 port
    assert "dhcp4o6-port 786" in r.stdout
    r = cli("export-kea", "--config", _config4o6(tmp_path), "--out", out, "--json")
    s = json.loads(r.stdout)  # what was written, as one document; the warnings stay on stderr
    assert r.returncode == 0 and s["dhcp4o6_port"] == 786 and "warning" in r.stderr
    assert "warning: kea-dhcp4 answers a DHCPv4-over-DHCPv6 query only through an IPv4 socket" in r.stderr
    assert "list lo in kea-dhcp4.json's interfaces-config and give it an IPv4 address" in r.stderr
    for daemon, path in (("kea-dhcp4", out / "kea-dhcp4.json"), ("kea-dhcp6", out / "kea-dhcp6.json")):
        t = _kea_t(daemon, path, tmp_path)
        assert t is None or t.returncode == 0, t.stdout + t.stderr  # as exported


def test_export_kea_keeps_the_configs_dhcp4o6_port_and_warns_only_for_4o6(tmp_path):
    out = tmp_path / "kea"
    r = cli("export-kea", "--config", _config4o6(tmp_path, port=6767), "--out", out)
    assert r.returncode == 0, r.stderr
    assert json.load(open(out / "kea-dhcp4.json"))["Dhcp4"]["dhcp4o6-port"] == 6767
    doc = json.load(open(tmp_path / "mpdhcp.json"))
    del doc["Dhcp4"]["subnet4"][0]["4o6-interface"]
    del doc["Dhcp6"]["dhcp4o6-port"]
    (tmp_path / "plain.json").write_text(json.dumps(doc))
    r = cli("export-kea", "--config", tmp_path / "plain.json", "--out", tmp_path / "plain")
    assert r.returncode == 0 and "warning" not in r.stderr and "dhcp4o6" not in r.stdout
    assert "dhcp4o6-port" not in json.load(open(tmp_path / "plain" / "kea-dhcp4.json"))["Dhcp4"]
