# Mirrors firmware/mpdhcp/config/client4.py (the Client4 section: the WAN-side DHCPv4 client),
# defaults and the key path in every rejection.
from mpdhcp.config.parser import parse_doc, ConfigError

PRL = bytes((1, 3, 6, 15, 26, 28, 42, 51, 54, 58, 59, 119, 121))


def _err(text):
    try:
        parse_doc(text)
    except ConfigError as e:
        return str(e)
    return None


def test_config_defaults_and_keys():
    c = parse_doc('{"Client4": {"interface": "wan0"}}').get("Client4")
    assert c.interface == "wan0" and c.prl == PRL and c.offer_window == 2 and c.hostname is None
    assert c.client_id is None and c.vendor_class == b"mpdhcp" and c.resolv_conf == "/etc/resolv.conf"
    c = parse_doc('{"Client4": {"interface": "wan0", "client-id": "ff:00:01", "vendor-class": null,'
                  ' "requested-options": [1, 3], "resolv-conf": null, "lease-file": "/l"}}').get("Client4")
    assert c.client_id == b"\xff\x00\x01" and c.vendor_class is None and c.prl == b"\x01\x03"
    assert c.resolv_conf is None and c.lease_file == "/l"


def test_config_errors_name_the_key_path():
    assert _err('{"Client4": {}}') == "Client4.interface: required"
    assert _err('{"Client4": {"interface": "c0", "bogus": 1}}') == "Client4.bogus: unknown key"
    assert _err('{"Client4": {"interface": "c0", "requested-options": [1, "x"]}}') == \
        "Client4.requested-options[1]: expected integer, got string"
    assert _err('{"Client4": {"interface": "c0", "requested-options": [300]}}') == \
        "Client4.requested-options[0]: option code out of range 1..254"
    assert _err('{"Client4": {"interface": "c0", "client-id": "zz"}}').startswith("Client4.client-id: ")
    assert _err('{"Client4": {"interface": "c0", "offer-window": 99}}') == \
        "Client4.offer-window: out of range 0..60 seconds"
    assert _err('{"Client4": {"interface": "c0", "hostname": 5}}') == \
        "Client4.hostname: expected string, got integer"


def _c4(members):
    return '{"Client4": {"interface": "c0", %s}}' % members


def test_more_values_name_their_key_path():
    cases = [
        ('{"Client4": []}', "Client4: expected map, got list"),
        ('{"Client4": {"interface": ""}}', "Client4.interface: an interface name of 1..15 characters"),
        ('{"Client4": {"interface": "%s"}}' % ("w" * 16), "Client4.interface: an interface name of 1..15 characters"),
        ('{"Client4": {"interface": null}}', "Client4.interface: expected string, got null"),
        (_c4('"hostname": ""'), "Client4.hostname: must be 1..63 characters"),
        (_c4('"hostname": "%s"' % ("h" * 64)), "Client4.hostname: must be 1..63 characters"),
        (_c4('"client-id": "01"'), "Client4.client-id: client-id must be 2..255 bytes"),
        (_c4('"client-id": "%s"' % ("ab" * 256)), "Client4.client-id: client-id must be 2..255 bytes"),
        (_c4('"client-id": "abc"'), "Client4.client-id: odd number of hex digits"),
        (_c4('"vendor-class": ""'), "Client4.vendor-class: must be 1..255 characters"),
        (_c4('"vendor-class": 1'), "Client4.vendor-class: expected string, got integer"),
        (_c4('"requested-options": "1,3"'), "Client4.requested-options: expected list, got string"),
        (_c4('"requested-options": [0]'), "Client4.requested-options[0]: option code out of range 1..254"),
        (_c4('"requested-options": [1, 255]'), "Client4.requested-options[1]: option code out of range 1..254"),
        (_c4('"requested-options": [%s]' % ", ".join(["3"] * 256)), "Client4.requested-options: at most 255 codes"),
        (_c4('"requested-options": [true]'), "Client4.requested-options[0]: expected integer, got boolean"),
        (_c4('"lease-file": 5'), "Client4.lease-file: expected string, got integer"),
        (_c4('"offer-window": -1'), "Client4.offer-window: out of range 0..60 seconds"),
        (_c4('"offer-window": true'), "Client4.offer-window: expected integer, got boolean"),
        (_c4('"offer-window": 1.5'), "Client4.offer-window: expected integer, got number"),
        (_c4('"configure-interface": "yes"'), "Client4.configure-interface: expected boolean, got string"),
        (_c4('"resolv-conf": 5'), "Client4.resolv-conf: expected string, got integer"),
        (_c4('"release-on-shutdown": 1'), "Client4.release-on-shutdown: expected boolean, got integer"),
        (_c4('"user-context": []'), "Client4.user-context: expected map, got list"),
    ]
    for text, want in cases:
        got = _err(text)
        assert got == want, (want, got)


def test_more_accepted_values():
    c = parse_doc(_c4('"hostname": "%s", "client-id": "0x01020000000001", "vendor-class": "v",'
                      ' "requested-options": [], "offer-window": 60, "configure-interface": false,'
                      ' "resolv-conf": "", "release-on-shutdown": false, "user-context": {"a": 1},'
                      ' "lease-file": null' % ("h" * 63))).get("Client4")
    assert c.hostname == b"h" * 63 and c.client_id == b"\x01\x02\x00\x00\x00\x00\x01"
    assert c.vendor_class == b"v" and c.prl == b"" and c.offer_window == 60
    assert not c.configure and c.resolv_conf is None and not c.release_on_shutdown and c.lease_file is None
    c = parse_doc('{"Client4": {"interface": "%s", "hostname": null, "client-id": null}}' % ("w" * 15)).get("Client4")
    assert c.hostname is None and c.client_id is None and c.interface == "w" * 15
    assert c.configure and c.release_on_shutdown and c.offer_window == 2
