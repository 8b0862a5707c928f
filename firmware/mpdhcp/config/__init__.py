# The config: one JSON document, a strict subset of Kea's schema (config/parser.py, one
# parser per section), or that document compiled on the host into an image of what the
# parsers make (config/image.py; `python -m host_tools build` writes it beside the JSON, and
# a board then needs no parser: less flash, and a start that never holds the parsers on its
# heap). Either way the result is a dict, section name -> its parsed object (model4.py,
# model6.py). Errors name the key path (config.errors.ConfigError). Tests and host tools
# parse a text with config.parser.parse_doc (parse: the Dhcp4 section alone).
from .errors import ConfigError, ENOENT  # noqa: F401  (ConfigError: this package's API)

# parsers whose section objects live elsewhere (model4.py, model6.py): nothing the engines
# hold keeps them, so after start they may go (about a fifth of a v4 router's code on the heap)
_UNLOADABLE = ("parser", "image", "dhcp4", "client4", "dhcp6", "client6", "common")


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


def image_path(path):
    """Where the image compiled from config file `path` lives: beside it, named .cfg."""
    return (path[:-5] if path.endswith(".json") else path) + ".cfg"


def load(path, before=None):
    """The config file parsed, or its image when one compiled from this very text sits beside
    it (its CRC and length are in the image). A text the image was not compiled from is
    parsed; a board without the parsers then says what to do. A file that is not UTF-8, or
    too large for this board's free heap, is refused with its path before it is parsed.
    before(names) runs before anything big is read (service.preload: the engines first)."""
    ipath = image_path(path)
    h = None
    try:
        open(ipath).close()
        there = True
    except OSError as e:  # none: image.py (and wire/buf.py) stay unloaded to parse the JSON;
        there = not e.args or e.args[0] != ENOENT  # one that cannot be opened, image.head says why
    if there:
        from mpdhcp.config import image  # (absolute: natively compiled, a function that uses no
        # global of its module runs with its caller's globals, and a relative import resolves there)

        h = image.head(ipath)
    if h is not None and before is not None:
        before(h["sections"])
    data = err = None
    try:
        data = read_bytes(path)
    except ConfigError as e:
        err = e
    if h is not None and (data is None or image.fits(h, data)):
        room = _hold_room()
        secs = image.decode(image.body(ipath), ipath)
        del room  # garbage now: the lease tables and the reply ring get it whole
        return secs
    if data is None:
        raise err
    try:
        text = data.decode()
    except UnicodeError:
        raise ConfigError(path + ": not UTF-8 text")
    try:
        from mpdhcp.config.parser import parse_doc as parse
    except ImportError:  # a board built with its config compiled: no parser on it
        raise ConfigError("%s: %s, and this board carries no config parser: compile it with `python "
                          "-m host_tools build BOARD --config %s` and flash the build, or build with "
                          "--parse-on-board" % (path, "changed since it was compiled" if h is not None
                                                else "has no compiled image beside it", path))
    return parse(text, before)


def _hold_room():
    """Half the free heap in one piece, held while the image is read: what reading leaves
    behind (the config's objects among the JSON's garbage) then cannot cut up the stretch
    the lease tables and the reply ring need next. (The parsers' own code does this on the
    parsing path: it leaves as one stretch.) None off MicroPython."""
    import gc

    free = getattr(gc, "mem_free", None)
    if free is None:
        return None
    try:
        return bytearray(free() // 2)
    except MemoryError:
        return None


def read_bytes(path):
    """A file's bytes; ConfigError (with the path) when it cannot be read or is too large."""
    import gc

    try:
        with open(path, "rb") as f:
            size = f.seek(0, 2)
            free = getattr(gc, "mem_free", None)  # MicroPython; CPython sets no limit here
            if free is not None and size > free() // 8:
                raise ConfigError("%s: %d bytes: too large for this board (%d bytes of heap free)" % (
                    path, size, free()))
            f.seek(0)
            return f.read()
    except OSError as e:
        raise ConfigError(path + ": cannot read: " + str(e))
