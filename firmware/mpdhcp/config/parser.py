# The config file's JSON parsed, one parser per top-level section. The registry below maps a
# section name to its parser; each parser's module is imported when its section is present,
# so a board carries only what it uses. Errors name the key path (config.errors.ConfigError).
# A board whose config was compiled on the host (config/image.py) does not carry this module.
import json
from .errors import ConfigError
from .common import _want, _fail


def _dhcp4(d, p):
    from mpdhcp.config.dhcp4 import dhcp4
    return dhcp4(d, p)


def _client4(d, p):
    from mpdhcp.config.client4 import client4  # the WAN-side DHCPv4 client
    return client4(d, p)


def _dhcp6(d, p):
    from mpdhcp.config.dhcp6 import dhcp6  # the DHCPv6 server
    return dhcp6(d, p)


def _client6(d, p):
    from mpdhcp.config.client6 import client6  # the WAN-side DHCPv6 client
    return client6(d, p)


SECTIONS = {"Dhcp4": _dhcp4, "Client4": _client4, "Dhcp6": _dhcp6, "Client6": _client6}


def parse_doc(text, before=None):
    """The document's sections parsed: a dict, section name -> its parsed object (a plain
    dict, so nothing kept of the config holds the config package on the heap).
    before(names), when given, runs once the JSON is read and its section names checked,
    before any section parser loads (service.preload: the engines' code first, so what the
    parsers leave behind is one stretch of free heap)."""
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise ConfigError("config: not valid JSON: " + str(e))
    except (RuntimeError, MemoryError):  # CPython's RecursionError; a board runs out of heap
        raise ConfigError("config: nested too deeply or too large for this board")
    _want("config", doc, dict, "map")
    names = sorted(SECTIONS)
    for k in doc:
        if k not in SECTIONS:
            _fail(k, "unknown or unsupported section (this version has: " + ", ".join(names) + ")")
    if not doc:
        _fail("config", "empty: give at least one of " + ", ".join(names))
    if before is not None:
        before(list(doc))
    d = {}
    for k in doc:
        d[k] = SECTIONS[k](doc[k], k)
    _check_paths(d)
    return d


# per section: (attribute, key path, kind) of every file the service writes or removes
_SERVER_PATHS = (("lease_file", ".lease-database.name", "file"),
                 ("control_socket", ".control-socket.socket-name", "socket"))
_PATHS = {"Dhcp4": _SERVER_PATHS, "Dhcp6": _SERVER_PATHS,
          "Client4": (("lease_file", ".lease-file", "file"), ("resolv_conf", ".resolv-conf", "file")),
          "Client6": (("lease_file", ".lease-file", "file"), ("resolv_conf", ".resolv-conf", "file"))}


def _norm(path):
    while "//" in path:
        path = path.replace("//", "/")
    while "/./" in path:
        path = path.replace("/./", "/")
    return path[2:] if path.startswith("./") else path


def _check_paths(d):
    """No two files the service writes may be one (a control socket named like the lease file
    would remove the journal at start); the Dhcp4 and Dhcp6 servers may share one control
    socket, nothing else may."""
    seen = {}
    for name in sorted(d):
        for attr, key, kind in _PATHS.get(name, ()):
            path = getattr(d[name], attr, None)
            if not path:
                continue
            n = _norm(path)
            if n in seen:
                where, other = seen[n]
                if kind != "socket" or other != "socket":
                    _fail(name + key, "%s is also %s: every file needs its own path" % (path, where))
            seen[n] = (name + key, kind)


def parse(text):
    """The Dhcp4 section alone (what the v4 server and its tests need)."""
    d = parse_doc(text)
    if d.get("Dhcp4") is None:
        _fail("config", "no Dhcp4 section")
    return d.get("Dhcp4")
