# boards/picow/main.py on the fake rp2 port (fakeport.py: cyw43's AP DHCP server on 0.0.0.0:67,
# five UDP pcbs shared with the firmware, a 4-datagram queue, the last interface up as default
# route). Stock firmware: the AP is taken over by claiming port 67 before it comes up; the
# W5500 LAN needs the firmware build docs/boards.md gives.
import json
import os

import pytest

from hostutil import need, ROOT
from host_tools import lab as L
from boardlab import BoardLab, run_unlinked, check_config_follows_main, AP_UP_EARLY, hold_67, notes

W5500 = {"spi": 0, "sck": 18, "mosi": 19, "miso": 16, "cs": 17, "rst": 20, "ip": "192.168.5.1"}


@pytest.fixture(scope="module")
def picow():
    need("ip", "udhcpc", "mpy-cross", root=True)
    with L.Lab("bpico") as lab:
        b = BoardLab(lab, "picow", "rp2", ("ap", "sta"))
        yield lab, b


def test_picow_takes_the_ap_from_the_firmwares_server_on_stock_firmware(picow):
    lab, b = picow
    leases = [L.udhcpc(lab, b.clients["ap"], "eth0", hostname="phone%d" % i) for i in range(2)]
    assert all(x["address"].startswith("192.168.4.") and x["server_id"] == "192.168.4.1" for x in leases)
    assert b.wan_discover() != 0  # a DISCOVER on the WAN reaches the guard, not the AP's socket
    rep, out = b.report()
    assert rep["error"] is None and rep["status"]["error"] is None and rep["served"] == ["ap"]
    assert ["ap_dhcp", "bind failed: port 67 taken"] in rep["log"]  # the firmware's, deaf
    assert not [e for e in rep["log"] if e[1].startswith("heard")]
    assert rep["stats"]["discover"] == 2 and rep["guard_dropped"] >= 1


def test_picow_main_on_stock_firmware_without_packets(tmp_path):
    need("micropython", "mpy-cross")
    rep, out = run_unlinked("picow", "rp2", tmp=str(tmp_path))
    assert rep["error"] is None and rep["status"]["running"] and rep["served"] == ["ap"]
    check_config_follows_main("picow", rep["served"], ("ap",))
    # our socket and the AP's (deaf) server, beside mDNS and the station's DHCP client: one
    # of the five pcbs is left, which the WAN guard takes once the station has an address
    assert len(rep["pcbs"]) == 2


def _with_eth():
    with open(os.path.join(ROOT, "boards", "picow", "mpdhcp.json")) as f:
        cfg = json.load(f)
    d = cfg["Dhcp4"]
    d["interfaces-config"]["interfaces"].append("eth")
    d["subnet4"].append({"id": 2, "subnet": "192.168.5.0/24", "interface": "eth",
                         "pools": [{"pool": "192.168.5.100 - 192.168.5.199"}]})
    return cfg


def test_picow_w5500_needs_the_firmware_build(tmp_path):
    need("micropython", "mpy-cross")
    rep, out = run_unlinked("picow", "rp2", settings={"w5500": W5500}, tmp=str(tmp_path), config=_with_eth())
    assert "no W5500" in out and rep["served"] == ["ap"] and rep["status"]["running"]
    assert "Dhcp4: not serving eth: no network interface 'eth'" in out
    rep, out = run_unlinked("picow", "rp2", firmware="mpdhcp", settings={"w5500": W5500},
                            tmp=str(tmp_path / "fw"), config=_with_eth())
    assert rep["served"] == ["ap", "eth"] and "no W5500" not in out
    assert not rep["log"]  # that build starts no AP server


def test_picow_with_the_ap_up_before_main_says_once_that_it_serves_nothing(tmp_path):
    # boot.py brought the AP up: cyw43's server holds 0.0.0.0:67, so no interface can be served
    need("micropython", "mpy-cross")
    rep, out = run_unlinked("picow", "rp2", boot=AP_UP_EARLY, tmp=str(tmp_path))
    assert rep["error"] is None and rep["status"] == {"running": False} and rep["served"] == []
    lines = notes(out)
    assert len(lines) == 1 and lines[0].startswith("mpdhcp: not serving: Dhcp4: no interface could be served")
    assert "not serving ap: port 67 is held by another socket" in lines[0]


def test_picow_a_bind_failure_on_one_interface_leaves_the_others_served(tmp_path):
    need("micropython", "mpy-cross")
    rep, out = run_unlinked("picow", "rp2", firmware="mpdhcp", settings={"w5500": W5500},
                            boot=hold_67("192.168.5.1"), tmp=str(tmp_path), config=_with_eth())
    assert rep["error"] is None and rep["status"]["running"] and rep["served"] == ["ap"]
    assert [x.split(":")[:3] for x in notes(out)] == [["mpdhcp", " Dhcp4", " not serving eth"]]


def test_picow_a_wan_the_port_refuses_is_said_once_and_the_ap_served(tmp_path):
    # a WPA2 key over 64 characters: cyw43 refuses the join (EINVAL)
    need("micropython", "mpy-cross")
    rep, out = run_unlinked("picow", "rp2", settings={"wan": {"essid": "isp", "password": "k" * 65}},
                            tmp=str(tmp_path))
    assert rep["error"] is None and rep["status"]["running"] and rep["served"] == ["ap"]
    assert notes(out) == ["mpdhcp: the Wi-Fi WAN was not joined ([Errno 22] EINVAL)"]
