# The config file: one JSON document, a strict subset of Kea's schema, one parser per
# top-level section. The registry below maps a section name to its parser; each parser's
# module is imported when its section is present, so a board carries only what it uses.
# Errors name the key path (config.errors.ConfigError).
import json
from .errors import ConfigError, _want, _fail  # noqa: F401  (ConfigError is this package's API)


def _dhcp4(d, p):
    from .dhcp4 import dhcp4
    return dhcp4(d, p)


def _client4(d, p):
    from .client4 import client4  # the WAN-side DHCPv4 client
    return client4(d, p)


def _dhcp6(d, p):
    from .dhcp6 import dhcp6  # the DHCPv6 server
    return dhcp6(d, p)


def _client6(d, p):
    from .client6 import client6  # the WAN-side DHCPv6 client
    return client6(d, p)


SECTIONS = {"Dhcp4": _dhcp4, "Client4": _client4, "Dhcp6": _dhcp6, "Client6": _client6}
# parsers whose section objects live elsewhere (model4.py, model6.py): nothing the engines
# hold keeps them, so after start they may go (about a fifth of a v4 router's code on the heap)
_UNLOADABLE = ("dhcp4", "client4", "dhcp6", "client6", "common")


def unload_parsers():
    """Once the service is built: drop the parsers from the heap, the DHCPv4 option table
    they encode option-data with (wire/options4.py), and this package itself (the section
    objects live in model4.py and model6.py, the error type in errors.py: those stay). A
    later need (the console's reserve(), a reload) imports them again. Returns the modules
    dropped."""
    import sys

    gone = []
    for name in _UNLOADABLE:
        if sys.modules.pop(__name__ + "." + name, None) is not None:
            gone.append(name)
        globals().pop(name, None)  # the package's attribute for its submodule
    for mod, name in (("mpdhcp.wire", "options4"), ("mpdhcp", "config")):
        if sys.modules.pop(mod + "." + name, None) is not None:
            gone.append(name)  # options4: the option table and its encoders, the parsers' alone
            parent = sys.modules.get(mod)
            if parent is not None:
                parent.__dict__.pop(name, None)
    return gone


def load(path, before=None):
    """Read and parse the config file. A file that is not UTF-8, or too large for this
    board's free heap, is refused with its path before it is parsed."""
    import gc

    try:
        with open(path, "rb") as f:
            size = f.seek(0, 2)
            free = getattr(gc, "mem_free", None)  # MicroPython; CPython sets no limit here
            if free is not None and size > free() // 8:
                raise ConfigError("%s: %d bytes: too large for this board (%d bytes of heap free)" % (
                    path, size, free()))
            f.seek(0)
            data = f.read()
    except OSError as e:
        raise ConfigError(path + ": cannot read: " + str(e))
    try:
        text = data.decode()
    except UnicodeError:
        raise ConfigError(path + ": not UTF-8 text")
    return parse_doc(text, before)


def parse_doc(text, before=None):
    """The document's sections parsed: a dict, section name -> its parsed object (a plain
    dict, so nothing kept of the config holds this package on the heap). before(names), when given, runs once the JSON is read
    and its section names checked, before any section parser loads (service.preload: the
    engines' code first, so what the parsers leave behind is one stretch of free heap)."""
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
