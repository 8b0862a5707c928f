# Start-up shared by `micropython -m mpdhcp CONFIG` and the board main.py files: load and
# check the config, build one engine per config section, restore leases, open sockets, run.
# Start-up only: once the service is built, unload() takes this module off the heap.
from micropython import const
import gc
import sys
from .state.journal import Journal
from . import runner as runner_mod
from .runner import Runner

DEFAULT_CAPACITY = const(2048)  # leases held in RAM per server when the config sets no max-leases
START_GC = const(4096)  # bytes allocated between two collections while the service starts (starting)
_GC_BEFORE = []  # the threshold starting() found, put back by starting(False)


def capacity4(cfg):
    """DHCPv4 leases for clients without a reservation (the server adds one record per
    reservation on top: reserved clients are always served)."""
    if cfg.max_leases:
        return cfg.max_leases
    total = 0
    for s in cfg.subnets:
        for a, b in s.pools:
            total += b - a + 1
    return max(1, min(total, DEFAULT_CAPACITY))


def why(e):
    """An OSError's text: its message, else its errno's name."""
    a = e.args
    if a and isinstance(a[-1], str):
        return a[-1]
    try:
        import errno

        return errno.errorcode.get(a[0], str(a[0]))
    except (ImportError, AttributeError, IndexError):
        return str(e)


def open_each(runner, what, names, opener):
    """Open a socket per interface; one that cannot be opened (a port the firmware's own
    server holds, no address yet, no socket left) is left out with one line saying why, and
    the others are served (Kea's service-sockets-require-all: false). Returns (socket indexes,
    the names served). None at all: OSError."""
    socks = []
    served = []
    for name in names:
        try:
            socks.append(opener(name))
            served.append(name)
        except OSError as e:
            runner.notes.append("%s: not serving %s: %s" % (what, name, why(e)))
    if not socks:
        raise OSError("%s: no interface could be served (%s)" % (what, "; ".join(runner.notes)))
    return socks, served


def _server4(runner, cfg, netif):
    from .v4.server4 import Server4
    from .wire.packet4 import Options

    journal = Journal(cfg.lease_file)
    eng = Server4(cfg, journal, capacity4(cfg), runner.shared(Options))
    eng.restore()
    addrs = dict(cfg.interfaces)
    socks, eng.served = open_each(runner, "Dhcp4", [n for n, _ in cfg.interfaces],
                                  lambda name: netif.open_v4_server(name, addrs[name]))
    eng.set_addresses([(n, netif.metas[i].ifaddr) for n, i in zip(eng.served, socks)])
    runner.add("server4", eng, socks, journal)
    if cfg.dhcp4o6_port and runner.cfg.get("Dhcp6") is None and can_4o6(runner, eng):
        # the DHCPv4 half of Kea's IPC
        from .v6.ipc4o6 import V4Half

        names = [s.o6_interface for s in cfg.subnets if s.o6_interface] + eng.served
        half = V4Half(eng, names, cfg.dhcp4o6_port)
        half.sock = netif.open_ipc6(cfg.dhcp4o6_port + 1)
        runner.add("4o6", half, [half.sock])
    return eng


def can_4o6(runner, v4):
    """DHCPv4-over-DHCPv6 answers carry our IPv4 address as server identifier (option 54):
    without one known, 4o6 is not started, with a line saying why (kea-dhcp4 likewise needs
    an IPv4 socket on the 4o6 interface)."""
    if v4.addrs:
        return True
    runner.notes.append("Dhcp4: not serving DHCPv4-over-DHCPv6: no IPv4 address is known for its "
                        "server identifier; give a Dhcp4 interface an address")
    return False


# section name -> builder(runner, parsed section, netif); sections start in this order
BUILDERS = [("Dhcp4", _server4)]


def _client4(runner, cfg, netif):
    from mpdhcp.platform.wan4 import start_client4  # engine + the adapter glue that applies its lease

    return start_client4(runner, cfg, netif)


BUILDERS.append(("Client4", _client4))


def _server6(runner, cfg, netif):
    from mpdhcp.service6 import start_server6  # (apart: a DHCPv4 board carries none of it)

    return start_server6(runner, cfg, netif)


BUILDERS.append(("Dhcp6", _server6))


def _client6(runner, cfg, netif):
    from mpdhcp.platform.wan6 import start_client6  # engine + the adapter glue that applies its binding

    return start_client6(runner, cfg, netif)


BUILDERS.append(("Client6", _client6))


# each section's engine modules (what its builder imports), for preload
ENGINES = {"Dhcp4": "v4.server4", "Client4": "platform.wan4", "Dhcp6": "service6", "Client6": "platform.wan6"}


def starting(on=True):
    """Collect often while the service starts (on), until starting(False) puts the threshold
    back: a function's raw code is garbage once its module has run (a 32-byte hole per
    function on the 64-bit port), and collected at once each hole is found by the next
    module's small pieces instead of staying a hole among the code; the config's objects fill
    them likewise. The v4 router's start left 12.8 KB of the heap in holes of one or two
    blocks, now about 2.4 KB, and it serves in 160K instead of 176K. A start that fails leaves
    it on (the process ends, or a board's REPL collects more often). Off MicroPython, and on
    the WASI build (the tests' 32-bit one: a collection there from nested frames frees objects
    still in use, see runner._room_to_receive): nothing."""
    th = getattr(gc, "threshold", None)
    if th is None or on == bool(_GC_BEFORE) or getattr(sys.implementation, "_build", "") == "wasi":
        return
    if on:
        _GC_BEFORE.append(th())
        th(START_GC)
    else:
        th(_GC_BEFORE.pop())


def preload(sections):
    """Import the engines of these config sections before the config is parsed (pass it as
    config.load's `before`): code, which stays, goes in first and low; the parsers and the
    JSON, which go, leave their heap above it in one stretch, where the lease tables and the
    reply ring then find room. On a small heap that decides whether the service starts."""
    starting()
    for name in sections:
        mod = ENGINES.get(name)
        if mod is not None:
            __import__("mpdhcp." + mod)


def unload():
    """Once the service is built: this module leaves the heap (its code is start-up only:
    3.3 KB on the 64-bit Unix port, and with it the v4 router serves in 144K, not 152K). The
    caller lets go of its own references too; a later import loads it again."""
    sys.modules.pop(__name__, None)
    parent = sys.modules.get("mpdhcp")
    if parent is not None:
        parent.__dict__.pop("service", None)


def build(doc, netif, control_factory=None, log=print, ring=True):
    """The runner of the config's engines. ring False: the reply slots wait for the caller's
    runner.make_ring(), once this module has left the heap (unload; mpdhcp.__main__)."""
    from . import config as configmod

    configmod.unload_parsers()  # parsed: their code leaves the heap before the tables come
    del configmod  # (the package too: callers let go of it before they call build)
    runner = Runner(netif, log, ring=False)
    runner.cfg = doc
    runner_mod.RUNNING = runner  # the REPL's console.leases() etc. need no arguments
    for name, builder in BUILDERS:
        sec = doc.get(name)
        if sec is not None:
            builder(runner, sec, netif)
            if not sec.__dict__.get("log", True):
                runner.log = None
    path = None
    for name, _ in BUILDERS:
        sec = doc.get(name)
        path = path or (sec is not None and getattr(sec, "control_socket", None)) or None
    if path and control_factory:
        runner.control = control_factory(path)
        netif.add_reader(runner.control.sock)
    if ring:
        runner.make_ring()  # last: see Runner.make_ring
    starting(False)
    return runner
