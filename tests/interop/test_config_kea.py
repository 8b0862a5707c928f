# The config subset is Kea's: a file using every key we accept passes `kea-dhcp4 -t` and our
# parser alike, and what we reject for a wrong key Kea rejects too.
import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FULL = os.path.join(ROOT, "tests", "configs", "full4.json")

from mpdhcp.config import load, ConfigError  # noqa: E402  (conftest puts firmware/ on the path)
from mpdhcp.config.parser import parse_doc  # noqa: E402


def _kea_check(path):
    if not shutil.which("kea-dhcp4"):
        pytest.skip("kea-dhcp4 not installed (make peers)")
    env = dict(os.environ, KEA_PIDFILE_DIR="/tmp", KEA_LOCKFILE_DIR="/tmp")
    return subprocess.run(["kea-dhcp4", "-t", path], capture_output=True, text=True, timeout=30, env=env)


def test_full_config_accepted_by_kea_and_by_us():
    r = _kea_check(FULL)
    assert r.returncode == 0, r.stdout + r.stderr
    cfg = load(FULL).get("Dhcp4")
    s = cfg.subnets[0]
    assert len(s.pools) == 2 and len(s.reservations) == 2 and s.relays
    assert s.options[121] == bytes.fromhex("100ae5c0a84dfe")


def test_misspelled_key_rejected_by_both(tmp_path):
    d = json.load(open(FULL))
    d["Dhcp4"]["subnet4"][0]["pool"] = d["Dhcp4"]["subnet4"][0].pop("pools")
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(d))
    assert _kea_check(str(p)).returncode != 0
    with pytest.raises(ConfigError) as e:
        parse_doc(p.read_text())
    assert str(e.value).startswith("Dhcp4.subnet4[0].pool: unknown key")


def test_4o6_subnet_keys_accepted_by_kea_and_by_us(tmp_path):
    d = json.load(open(FULL))
    s = d["Dhcp4"]["subnet4"][0]
    s["4o6-interface"] = "eth0"
    s["4o6-subnet"] = "2001:db8:1::/64"
    s["4o6-interface-id"] = "relay-port-7"
    p = tmp_path / "4o6.json"
    p.write_text(json.dumps(d))
    r = _kea_check(str(p))
    assert r.returncode == 0, r.stdout + r.stderr
    sub = parse_doc(p.read_text()).get("Dhcp4").subnets[0]
    assert sub.o6_interface == "eth0" and sub.o6_subnet[1] == 64 and sub.o6_iid == b"relay-port-7"


@pytest.mark.parametrize("addr", ("2001:db8:46::1", ""))
def test_4o6_dhcp6_keys_accepted_by_kea_dhcp6_and_by_us(tmp_path, addr):
    """(An empty dhcp4o6-server-addr: clients use All_DHCP_Relay_Agents_and_Servers.)"""
    if not shutil.which("kea-dhcp6"):
        pytest.skip("kea-dhcp6 not installed (make peers)")
    doc = {"Dhcp6": {"interfaces-config": {"interfaces": []}, "dhcp4o6-port": 6767,
                     "lease-database": {"type": "memfile", "name": str(tmp_path / "l6.csv")},
                     "option-data": [{"name": "dhcp4o6-server-addr", "data": addr}],
                     "subnet6": [{"id": 1, "subnet": "2001:db8:46::/64", "interface": "lo"}]}}
    p = tmp_path / "k6.json"
    p.write_text(json.dumps(doc))
    env = dict(os.environ, KEA_PIDFILE_DIR=str(tmp_path), KEA_LOCKFILE_DIR=str(tmp_path))
    r = subprocess.run(["kea-dhcp6", "-t", str(p)], capture_output=True, text=True, timeout=30, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    doc["Dhcp6"]["interfaces-config"]["interfaces"] = ["lo"]  # we want one named (Kea may listen on none)
    c = parse_doc(json.dumps(doc)).get("Dhcp6")
    want = bytes.fromhex("20010db8004600000000000000000001") if addr else b""
    assert c.dhcp4o6_port == 6767 and c.subnets[0].options[88] == want


def test_router_mode_subnet_with_pd_pools_accepted_by_kea_dhcp6_and_by_us(tmp_path):
    # router mode's user-context and pd-pool templates stay a config kea-dhcp6 -t accepts
    if not shutil.which("kea-dhcp6"):
        pytest.skip("kea-dhcp6 not installed (make peers)")
    doc = {"Dhcp6": {"interfaces-config": {"interfaces": ["lo"]},
                     "lease-database": {"type": "memfile", "name": str(tmp_path / "l6.csv")},
                     "subnet6": [{"id": 1, "subnet": "fd00:0:0:1::/64", "interface": "lo",
                                  "pools": [{"pool": "fd00:0:0:1::100 - fd00:0:0:1::1ff"}],
                                  "pd-pools": [{"prefix": "0:0:0:80::", "prefix-len": 57, "delegated-len": 60}],
                                  "user-context": {"mpdhcp": {"delegated-subnet-id": 1}}}]}}
    p = tmp_path / "k6.json"
    p.write_text(json.dumps(doc))
    env = dict(os.environ, KEA_PIDFILE_DIR=str(tmp_path), KEA_LOCKFILE_DIR=str(tmp_path))
    r = subprocess.run(["kea-dhcp6", "-t", str(p)], capture_output=True, text=True, timeout=30, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    s = parse_doc(json.dumps(doc)).get("Dhcp6").subnets[0]
    assert s.delegated == 1 and s.pd_pools == [] and [t[1:] for t in s.pd_template] == [(57, 60)]
