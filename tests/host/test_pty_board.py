# flash / inspect / release on a board without hardware: the Unix port behind a pty (socat),
# inside a lab namespace, serving busybox udhcpc clients over a veth/bridge.
# The pool holds ONE address, so "release frees it" is seen by a second client getting it.
import json
import threading
import time

import pytest

from hostutil import need, cli
from host_tools import lab as L

LAN = "192.168.79"
LAN6 = "2001:db8:79"


@pytest.fixture(scope="module")
def board():
    need("ip", "socat", "udhcpc", "mpremote", "mpy-cross", root=True)
    with L.Lab("hboard") as lab:
        router = lab.add_host("router")
        clients = []
        for i in range(2):
            ns = lab.add_host("c%d" % i)
            lab.link(router, "p%d" % i, ns, "eth0")
            clients.append(ns)
        lab.bridge(router, "br0", ["p0", "p1"])
        lab.addr(router, "br0", LAN + ".1/24")
        lab.addr(router, "br0", LAN6 + "::1/64")
        with open(L.__file__.replace("host_tools/lab.py", "boards/unix/mpdhcp.json")) as f:
            cfg = json.load(f)
        sub = cfg["Dhcp4"]["subnet4"][0]
        sub["subnet"] = LAN + ".0/24"
        sub["pools"] = [{"pool": LAN + ".100 - " + LAN + ".100"}]
        sub["option-data"] = [{"name": "routers", "data": LAN + ".1"}]
        cfg["Dhcp4"]["user-context"] = {"mpdhcp": {"max-leases": 8}}  # room for a reservation made at run time
        cfg["Dhcp6"] = {  # DHCPv6 too, for `reconfigure`
            "interfaces-config": {"interfaces": ["br0"]},
            "lease-database": {"type": "memfile", "name": "leases6.jnl"},
            "preferred-lifetime": 3000, "valid-lifetime": 4000, "renew-timer": 1000, "rebind-timer": 2000,
            "subnet6": [{"id": 6, "subnet": LAN6 + "::/64", "interface": "br0",
                         "pools": [{"pool": LAN6 + "::100 - " + LAN6 + "::1ff"}]}],
            "user-context": {"mpdhcp": {"max-leases": 16}}}
        conf = lab.write("board.json", json.dumps(cfg))
        out = lab.path("build-unix")
        r = cli("build", "unix", "--config", conf, "--out", out)
        assert r.returncode == 0, r.stderr
        from ptyboard import PtyBoard

        b = PtyBoard(lab, router)
        yield lab, b, out, clients


def test_flash_copies_the_build_then_nothing(board):
    lab, b, out, clients = board
    r = cli("flash", "unix", "--port", b.port, "--build", out, "--dry-run", "--json")
    assert r.returncode == 0, r.stderr
    planned = json.loads(r.stdout)["changed"]
    assert "main.py" in planned and "mpdhcp/v4/server4.mpy" in planned
    r = cli("flash", "unix", "--port", b.port, "--build", out, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    s = json.loads(r.stdout)
    assert sorted(s["copied"]) == sorted(planned) and not s["verify_failed"]
    assert "re-ran main.py" in s["restarted"] and '"running": true' in s["restarted"]
    # serving loads no console: it comes with the first call that needs it (heap kept free)
    assert b.exec("import sys; print('mpdhcp.console' in sys.modules)").strip() == "False"
    r = cli("flash", "unix", "--port", b.port, "--build", out, "--json")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["copied"] == [] and s["changed"] == [] and s["restarted"] is False


def test_inspect_shows_the_lease_and_release_frees_it(board):
    lab, b, out, (c0, c1) = board
    lease = L.udhcpc(lab, c0, "eth0", hostname="laptop")
    assert lease["address"] == LAN + ".100"
    r = cli("inspect", "leases", "--port", b.port, "--json")
    assert r.returncode == 0, r.stderr
    mine = [l for l in json.loads(r.stdout) if l["hw-address"] == lab.mac(c0, "eth0")]
    assert mine and mine[0]["ip-address"] == LAN + ".100" and mine[0]["state"] == "bound"
    assert mine[0]["hostname"] == "laptop" and 3500 < mine[0]["expires-in"] <= 3600
    r = cli("inspect", "leases", "--port", b.port)
    assert "laptop" in r.stdout and "bound" in r.stdout and r.stdout.splitlines()[0].startswith("proto")
    r = cli("inspect", "stats", "--port", b.port, "--json")
    assert json.loads(r.stdout)["ack"] >= 1
    r = cli("release", LAN + ".100", "--port", b.port, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["state"] == "released"
    r = cli("release", LAN + ".200", "--port", b.port)
    assert r.returncode == 3 and "no lease" in r.stderr
    r = cli("inspect", "leases", "--port", b.port, "--json")
    assert [l["state"] for l in json.loads(r.stdout) if l["ip-address"] == LAN + ".100"] == ["released"]


def test_a_client_gets_its_lease_while_inspect_holds_the_repl(board):
    # the pool's one address was released above: only a freed lease lets this client in
    lab, b, out, (c0, c1) = board
    mac = lab.mac(c1, "eth0")
    res = {}

    def watch():
        res["t0"] = time.monotonic()
        res["r"] = cli("inspect", "leases", "--port", b.port, "--wait-for", mac, "--timeout", "20", "--json")
        res["t1"] = time.monotonic()

    t = threading.Thread(target=watch)
    t.start()
    try:
        time.sleep(2.0)  # mpremote has the raw REPL now, polling the leases on the device
        c_start = time.monotonic()
        lease = L.udhcpc(lab, c1, "eth0", hostname="phone")
        c_end = time.monotonic()
    finally:
        t.join(60)
    assert lease["address"] == LAN + ".100"  # the released address, re-used by another client
    r = res["r"]
    assert r.returncode == 0, r.stdout + r.stderr
    # inspect held the REPL before the client started and saw its lease bound (--wait-for):
    # the server answered during inspect (udhcpc itself may exit a few ms after that)
    assert res["t0"] < c_start < res["t1"] and c_end > c_start
    got = [l for l in json.loads(r.stdout) if l["hw-address"] == mac]
    assert got and got[0]["state"] == "bound" and got[0]["hostname"] == "phone"
    r = cli("inspect", "log", "--port", b.port)
    assert "REQUEST>ACK %s" % mac in r.stdout and '"error": null' in r.stdout


def test_reserve_reaches_the_running_server_and_its_config_file(board):
    lab, b, out, (c0, c1) = board
    mac = lab.mac(c0, "eth0")
    r = cli("reserve", mac, LAN + ".150", "--hostname", "laptop", "--port", b.port, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["subnet-id"] == 1
    with open(b.dir + "/mpdhcp.json") as f:
        saved = json.load(f)["Dhcp4"]["subnet4"][0]["reservations"]
    assert saved == [{"hw-address": mac, "ip-address": LAN + ".150", "hostname": "laptop"}]
    from host_tools.fwimport import firmware  # the board's config is compiled (build's default):
    firmware()  # its image got the reservation too, and names the JSON now on the board
    from mpdhcp.config import image as I
    with open(b.dir + "/mpdhcp.json", "rb") as f:
        text = f.read()
    assert I.fits(I.head(b.dir + "/mpdhcp.cfg"), text)
    assert [r.hostname for r in I.decode(I.body(b.dir + "/mpdhcp.cfg"))["Dhcp4"].subnets[0].reservations] == [b"laptop"]
    assert L.udhcpc(lab, c0, "eth0")["address"] == LAN + ".150"  # no restart needed
    r = cli("reserve", "02:00:00:00:00:09", LAN + ".100", "--port", b.port)
    assert r.returncode == 3 and "is leased to" in r.stderr  # c1 holds it


def _bind6(c, cid, accept):
    """Solicit + Request for one IA_NA, with or without Reconfigure Accept (option 20):
    (address, Reply options)."""
    from craft6 import msg, opt, ia_na, ia_list, iaaddr
    from mpdhcp.wire.addr6 import ip6_str

    extra = (opt(20, b""),) if accept else ()
    t, _, o, _ = c.exchange(msg(1, (ia_na(1),) + extra, cid=cid))
    assert t == 2, o
    t, _, o, _ = c.exchange(msg(3, (opt(3, o[3][0]),) + extra, cid=cid, sid=o[2][0], xid=0x5151))
    assert t == 7, o
    return ip6_str(iaaddr(ia_list(o)[0][3])[0]), o


def test_reconfigure_reaches_a_client_that_accepted_and_is_refused_otherwise(board):
    import hmac
    from craft6 import duid_ll, decode, msg, ia_na, ia_list, iaaddr
    from mpdhcp.wire.addr6 import ip6_str
    from v6peer import Client6

    lab, b, out, (c0, c1) = board
    r = cli("reconfigure", LAN6 + "::dead", "--port", b.port)
    assert r.returncode == 3 and "no bound lease" in r.stderr, r.stdout + r.stderr
    c = Client6(lab, c1, "eth0")
    try:
        shy, _ = _bind6(c, duid_ll(b"\x02\x00\x00\x00\x79\x01"), accept=False)
        r = cli("reconfigure", shy, "--port", b.port)
        assert r.returncode == 3 and "Reconfigure Accept" in r.stderr, r.stdout + r.stderr
        cid = duid_ll(b"\x02\x00\x00\x00\x79\x02")
        addr, o = _bind6(c, cid, accept=True)
        sid, auth = o[2][0], o[11][0]
        assert o[20] == [b""] and auth[:3] == b"\x03\x01\x00" and auth[11] == 1  # RKAP: the key
        key = auth[12:28]
        lab.addr(c1, "eth0", addr + "/128")  # the Reconfigure is unicast to the leased address
        r = cli("reconfigure", addr, "--msg", "renew", "--port", b.port, "--json")
        assert r.returncode == 0, r.stdout + r.stderr
        sent = json.loads(r.stdout)
        assert sent["to"] == addr and sent["msg-type"] == "renew" and sent["client"] == ":".join("%02x" % x for x in cid)
        got, _ = c.recv(timeout=6, want=10)
        assert got is not None, cli("inspect", "log", "--port", b.port).stdout
        t, xid, ro, _ = decode(got, len(got))
        assert t == 10 and ro[1] == [cid] and ro[2] == [sid] and ro[19] == [b"\x05"]  # Reconfigure: Renew
        ra = ro[11][0]
        body = bytearray(got)
        i = bytes(body).find(ra)
        body[i + 12:i + 28] = bytes(16)  # HMAC-MD5 over the message with the digest zeroed
        assert ra[11] == 2 and hmac.new(key, bytes(body), "md5").digest() == ra[12:28]
        t, _, o2, _ = c.exchange(msg(5, (ia_na(1, [addr]),), cid=cid, sid=sid, xid=0x5152))
        assert t == 7 and ip6_str(iaaddr(ia_list(o2)[0][3])[0]) == addr  # its Renew is answered
        r = cli("inspect", "log", "--port", b.port)
        assert "RECONFIGURE" in r.stdout.upper(), r.stdout
        r = cli("inspect", "leases", "--port", b.port, "--json")  # v6 leases are listed with v4 ones
        mine = [l for l in json.loads(r.stdout) if l.get("ip-address") == addr]
        assert r.returncode == 0 and mine and mine[0]["type"] == "IA_NA" and mine[0]["state"] == "bound", r.stdout
        assert "v6" in cli("inspect", "leases", "--port", b.port).stdout
    finally:
        c.close()


def test_reconfigure_without_a_dhcpv6_server_is_refused():
    # what the board answers (ValueError -> `reconfigure` exit 3) when its config has no Dhcp6
    from mpdhcp import console

    class V4only:
        def engine(self, name):
            return None

        def now(self):
            return 0

    with pytest.raises(ValueError, match="no DHCPv6 server is running"):
        console.reconfigure("2001:db8::1", "renew", V4only())
