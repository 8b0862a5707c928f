# boards/esp32/main.py on the fake esp32 port (fakeport.py: ESP-IDF's dhcps on the AP, sockets
# by source address, SO_REUSE_RXTOALL, newlib errno values), in namespaces: real udhcpc
# clients lease on the Ethernet LAN and on the AP, and a WAN client's DISCOVER is not served.
import json
import os
import shutil

import pytest

from hostutil import need, cli
from host_tools import lab as L
from boardlab import BoardLab, run_unlinked, check_config_follows_main, NICS, HERE, AP_UP_EARLY, hold_67, notes

# board.json's "eth" for a WT32-ETH01 (main.py drives no Ethernet pin without one)
WT32 = {"mdc": 23, "mdio": 18, "phy": "LAN8720", "phy_addr": 1, "power": 16, "ip": "192.168.5.1"}
DEAF = ("ap_dhcp", "bind failed: port 67 taken")  # dhcps (re)started, its bind failed


@pytest.fixture(scope="module")
def esp32():
    need("ip", "udhcpc", "mpy-cross", root=True)
    with L.Lab("besp") as lab:
        b = BoardLab(lab, "esp32", "esp32", ("eth", "ap", "sta"), settings={"eth": WT32})
        yield lab, b


def test_esp32_serves_ethernet_and_takes_the_ap_from_esp_idfs_server(esp32):
    lab, b = esp32
    eth = L.udhcpc(lab, b.clients["eth"], "eth0", hostname="wired")
    assert eth["address"].startswith("192.168.5.") and eth["routers"] == ["192.168.5.1"]
    ap = L.udhcpc(lab, b.clients["ap"], "eth0", hostname="phone")
    assert ap["address"].startswith("192.168.4.") and ap["server_id"] == "192.168.4.1"
    assert b.wan_discover() != 0  # nobody on the WAN answers: we must not either
    rep, out = b.report()
    assert rep["error"] is None and rep["status"]["error"] is None
    assert "serving DHCPv4 on eth, ap" in out and sorted(rep["served"]) == ["ap", "eth"]
    # ESP-IDF's dhcps: started once with the AP, stopped and started once more by main.py's
    # ifconfig (network_common.c:138-145); both binds found port 67 claimed
    assert [tuple(e) for e in rep["log"]] == [DEAF, ("ap_dhcp", "stopped"), DEAF]
    assert rep["stats"]["ack"] == 2 and rep["stats"]["discover"] == 2  # the WAN's went to the guard
    assert rep["guard_dropped"] >= 1


def test_esp32_main_on_stock_firmware_without_packets(tmp_path):
    need("micropython", "mpy-cross")
    rep, out = run_unlinked("esp32", "esp32", settings={"eth": WT32}, tmp=str(tmp_path))
    assert rep["error"] is None and rep["status"]["running"] and rep["status"]["error"] is None
    assert rep["served"] == ["eth", "ap"] and "serving DHCPv4 on eth, ap" in out
    assert [tuple(e) for e in rep["log"]] == [DEAF, ("ap_dhcp", "stopped"), DEAF]
    check_config_follows_main("esp32", rep["served"], ("eth", "ap"))


def test_esp32_without_ethernet_in_board_json_drives_no_pin_serves_the_ap_and_says_so(tmp_path):
    # no board.json: no network.LAN is made, so no pin is driven (GPIO16 is PSRAM on WROVER)
    need("micropython", "mpy-cross")
    rep, out = run_unlinked("esp32", "esp32", tmp=str(tmp_path))
    assert rep["served"] == ["ap"] and rep["status"]["running"]
    assert "eth" not in [k for k, _ in rep["nics"]]
    assert notes(out) == ["mpdhcp: Dhcp4: not serving eth: no network interface 'eth' (board main.py names: ap)"]


def test_esp32_an_ap_the_port_refuses_is_turned_off_and_the_rest_served(tmp_path):
    # a WPA2 password under 8 characters: esp_wifi_set_config refuses it after active(True)
    # has put up an open AP; main.py says so once and takes that AP down
    need("micropython", "mpy-cross")
    site = {"eth": WT32, "ap": {"essid": "mpdhcp", "password": "short", "ip": "192.168.4.1"}}
    rep, out = run_unlinked("esp32", "esp32", settings=site, tmp=str(tmp_path))
    assert rep["error"] is None and rep["status"]["running"] and rep["served"] == ["eth"]
    assert "mpdhcp: no Wi-Fi AP (Wifi Invalid Password)" in notes(out)
    assert ["ap", False] in rep["nics"]
    assert [p for p in rep["pcbs"] if p[2] == 67] == [["FakeSocket", 0xC0A80501, 67]]  # the claim closed


def test_esp32_build_flash_and_inspect_through_the_pty_board():
    # a person's whole route on the fake esp32: build, flash over the REPL (the pty board's
    # soft restart re-runs main.py on the fake port), a client leases, `inspect` shows it
    need("ip", "udhcpc", "socat", "mpremote", "mpy-cross", root=True)
    from ptyboard import PtyBoard

    with L.Lab("bflash") as lab:
        router = lab.add_host("router")
        client = lab.add_host("ceth")
        lab.link(router, "eth0", client, "eth0")
        lab.addr(router, "eth0", NICS["eth"][1])
        out = lab.path("build-esp32")
        r = cli("build", "esp32", "--arch", "", "--out", out)
        assert r.returncode == 0, r.stderr
        b = PtyBoard(lab, router)
        shutil.copy(os.path.join(HERE, "fakeport.py"), b.dir)
        b.exec("import fakeport; fakeport.install('esp32', {'eth': 'eth0'})")
        with open(os.path.join(b.dir, "board.json"), "w") as f:
            json.dump({"eth": WT32}, f)  # the site's settings, on the board's flash
        r = cli("flash", "esp32", "--port", b.port, "--build", out, "--json")
        assert r.returncode == 0, r.stdout + r.stderr
        assert "re-ran main.py" in json.loads(r.stdout)["restarted"]
        lease = L.udhcpc(lab, client, "eth0", hostname="laptop")
        assert lease["address"].startswith("192.168.5.")
        r = cli("inspect", "leases", "--port", b.port, "--json")
        assert r.returncode == 0, r.stderr
        got = [x for x in json.loads(r.stdout) if x["hw-address"] == lab.mac(client, "eth0")]
        assert got and got[0]["hostname"] == "laptop" and got[0]["state"] == "bound"


def test_esp32_with_the_ap_up_before_main_serves_ethernet_and_says_once_why_not_the_ap(tmp_path):
    # boot.py brought the AP up: ESP-IDF's dhcps holds (AP address, 67) before main.py's claim
    need("micropython", "mpy-cross")
    rep, out = run_unlinked("esp32", "esp32", settings={"eth": WT32}, boot=AP_UP_EARLY, tmp=str(tmp_path))
    assert rep["error"] is None and rep["status"]["running"] and rep["served"] == ["eth"]
    assert notes(out) == ["mpdhcp: Dhcp4: not serving ap: port 67 is held by another socket: on a Wi-Fi "
                          "AP that was up before main.py claimed the port, the firmware's own DHCP "
                          "server (see docs/boards.md)"]
    assert "serving DHCPv4 on eth, " in out
    # dhcps: started with boot.py's AP, restarted by main.py's ifconfig, holding the port still
    assert [tuple(e) for e in rep["log"]] == [("ap_dhcp", "serving"), ("ap_dhcp", "stopped"), ("ap_dhcp", "serving")]


def test_esp32_a_bind_failure_on_one_interface_leaves_the_others_served(tmp_path):
    need("micropython", "mpy-cross")
    rep, out = run_unlinked("esp32", "esp32", settings={"eth": WT32}, boot=hold_67("192.168.5.1"),
                            tmp=str(tmp_path))
    assert rep["error"] is None and rep["status"]["running"] and rep["served"] == ["ap"]
    assert [x.split(":")[:3] for x in notes(out)] == [["mpdhcp", " Dhcp4", " not serving eth"]]
