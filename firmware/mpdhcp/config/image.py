# A config compiled on the host (`python -m host_tools build`, host_tools/config_image.py):
# what the section parsers made of the JSON, written out as JSON, so a board reads its config
# without carrying or loading a parser. It names the text it was compiled from (length and
# CRC-16), and config.load uses it only while that text is unchanged. (It may name two:
# console.reserve() changes the image first, naming the old text and the new, then the JSON;
# power lost between the two writes leaves a pair that still starts.)
# Two lines. The head, small, is read first: the engines of its sections load before the
# sections are read, so their code sits low in the heap and what reading leaves is one free
# stretch above it (service.preload):
#   {"image": "mpdhcp-config", "version": 1, "sections": ["Dhcp4", ...],
#    "sources": [{"bytes": N, "crc16": C}, ...]}
#   {"Dhcp4": VALUE, ...}
# VALUE: null, true/false, a number or a string as itself; [VALUE, ...] a list; {"b": hex}
# bytes; {"t": [VALUE, ...]} a tuple; {"d": [[VALUE, VALUE], ...]} a dict; {"c": "model4.Name",
# "a": {attribute: VALUE}} an object of a class in model4.py or model6.py.
from micropython import const
import json
from .errors import ConfigError, ENOENT
from ..wire.buf import crc16

KIND = "mpdhcp-config"
VERSION = const(1)


def head(path):
    """The image's head, or None where there is no image. An image that is there but cannot
    be read is an error, never taken for none."""
    try:
        f = open(path)
    except OSError as e:
        if e.args and e.args[0] == ENOENT:
            return None
        raise ConfigError("%s: cannot read the config image (%s): build and flash it again" % (path, e))
    try:
        with f:
            h = json.loads(f.readline())
    except (OSError, ValueError, MemoryError) as e:
        raise ConfigError("%s: cannot read the config image (%s): build and flash it again" % (path, e))
    if not isinstance(h, dict) or h.get("image") != KIND or h.get("version") != VERSION \
            or not isinstance(h.get("sections"), list) or not isinstance(h.get("sources"), list):
        raise ConfigError("%s: not a version %d mpdhcp config image: build it again with this firmware" % (
            path, VERSION))
    return h


def body(path):
    """The image's sections, as JSON values (decode makes them objects)."""
    try:
        with open(path) as f:
            f.readline()
            t = f.read()
        return json.loads(t)
    except (OSError, ValueError, MemoryError) as e:
        raise ConfigError("%s: cannot read the config image (%s): build and flash it again" % (path, e))


def text(h, secs):
    """The image file's text: head, then sections."""
    return json.dumps(h) + "\n" + json.dumps(secs)


def source_of(data):
    """What an image records of the text it was compiled from."""
    return {"bytes": len(data), "crc16": crc16(data, 0, len(data))}


def fits(h, data):
    """Was the image with head h compiled from this text?"""
    return source_of(data) in h.get("sources", ())


def decode(secs, path="config image"):
    """The sections, as the parsers make them. An image whose JSON holds something else (a
    damaged or foreign file) is a ConfigError naming it, never a traceback."""
    out = {}
    try:
        for name in secs:
            out[name] = value(secs[name])
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
        raise ConfigError("%s: a damaged config image (%r): build and flash it again" % (path, e))
    return out


def value(v):
    if isinstance(v, list):
        return [value(x) for x in v]
    if not isinstance(v, dict):
        return v
    if "b" in v:
        return bytes.fromhex(v["b"])
    if "t" in v:
        return tuple([value(x) for x in v["t"]])
    if "d" in v:
        d = {}
        for k, x in v["d"]:
            d[value(k)] = value(x)
        return d
    o = object.__new__(_model_class(v["c"]))  # attributes as the parser left them, __init__ skipped
    a = v["a"]
    for k in a:
        setattr(o, k, value(a[k]))
    return o


def encode_reservation(r):
    """A model4.Reservation as console.reserve() makes it (hw, addr, hostname), as the image
    holds it."""
    a = {}
    for k in ("hw", "cid", "addr", "hostname", "boot"):
        v = getattr(r, k)
        a[k] = {"b": v.hex()} if isinstance(v, bytes) else v
    return {"c": "model4.Reservation", "a": a}


def _model_class(name):
    mod, _, cls = name.partition(".")
    if mod == "model4":
        from mpdhcp.config import model4 as m
    elif mod == "model6":
        from mpdhcp.config import model6 as m
    else:
        raise ConfigError("config image: unknown class " + name)
    c = getattr(m, cls, None)
    if c is None:
        raise ConfigError("config image: unknown class " + name)
    return c
