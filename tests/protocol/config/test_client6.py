# Mirrors firmware/mpdhcp/config/client6.py: the Client6 section, errors with their key path.
import json

from mpdhcp.config.parser import parse_doc, ConfigError


def _err(d):
    try:
        parse_doc(json.dumps({"Client6": d}))
    except ConfigError as e:
        return str(e)
    return None


def test_defaults_and_keys():
    c = parse_doc(json.dumps({"Client6": {"interface": "wan0"}})).get("Client6")
    assert c.ia_na and not c.ia_pd and c.pd_hint == 0 and not c.rapid_commit and c.reconfigure_accept
    assert c.oro == b"\x00\x17\x00\x18\x00\x52" and c.resolv_conf is None and c.release_on_shutdown
    c = parse_doc(json.dumps({"Client6": {"interface": "wan0", "ia-pd": True, "prefix-length-hint": 56,
                                          "requested-options": [23], "rapid-commit": True}})).get("Client6")
    assert c.ia_pd and c.pd_hint == 56 and c.oro == b"\x00\x17" and c.rapid_commit


def test_errors_name_the_key_path():
    assert _err({}).startswith("Client6.interface: required")
    assert _err({"interface": "wan0", "prefix-length-hint": 129}).startswith("Client6.prefix-length-hint: out of range")
    assert _err({"interface": "wan0", "requested-options": [0]}).startswith("Client6.requested-options[0]: option code out of range")
    assert _err({"interface": "wan0", "ia-na": "yes"}).startswith("Client6.ia-na:")
    assert _err({"interface": "wan0", "bogus": 1}).startswith("Client6.bogus: unknown key")


def test_its_files_may_not_collide_with_client4s():
    doc = {"Client4": {"interface": "wan0", "lease-file": "c.jnl"},
           "Client6": {"interface": "wan0", "lease-file": "c.jnl"}}
    try:
        parse_doc(json.dumps(doc))
        assert False
    except ConfigError as e:
        assert "every file needs its own path" in str(e)
