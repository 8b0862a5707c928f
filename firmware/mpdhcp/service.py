# Start-up shared by `micropython -m mpdhcp CONFIG` and the board main.py files: load and
# check the config, build one engine per config section, restore leases, open sockets, run.
import sys
from . import config as configmod
from .state.journal import Journal
from .runner import Runner

DEFAULT_CAPACITY = 2048  # DHCPv4 leases held in RAM when the config sets no max-leases


def capacity4(cfg):
    if cfg.max_leases:
        return cfg.max_leases
    total = 0
    for s in cfg.subnets:
        for a, b in s.pools:
            total += b - a + 1
        total += len(s.reservations)
    return min(total, DEFAULT_CAPACITY)


def _server4(runner, cfg, netif):
    from .v4.server4 import Server4

    journal = Journal(cfg.lease_file)
    eng = Server4(cfg, journal, capacity4(cfg))
    eng.restore()
    socks = [netif.open_v4_server(name, addr) for name, addr in cfg.interfaces]
    runner.add("server4", eng, socks, journal)
    return eng


# section name -> builder(runner, parsed section, netif); sections start in this order
BUILDERS = [("Dhcp4", _server4)]


def _client4(runner, cfg, netif):
    from .platform.wan4 import start_client4  # engine + the adapter glue that applies its lease

    return start_client4(runner, cfg, netif)


BUILDERS.append(("Client4", _client4))


def _server6(runner, cfg, netif):
    from .service6 import start_server6  # engine, stored server DUID, sockets

    return start_server6(runner, cfg, netif)


BUILDERS.append(("Dhcp6", _server6))


def build(doc, netif, control_factory=None, log=print):
    runner = Runner(netif, log)
    runner.cfg = doc
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
    return runner


def main(argv):
    if len(argv) < 1:
        print("usage: micropython -m mpdhcp CONFIG.json", file=sys.stderr)
        return 2
    try:
        doc = configmod.load(argv[0])
    except configmod.ConfigError as e:
        print("config error: " + str(e), file=sys.stderr)
        return 2
    from .platform.netif_unix import NetifUnix
    from .platform.control_unix import ControlSocket

    try:
        runner = build(doc, NetifUnix(), ControlSocket)
    except OSError as e:
        print("cannot start: %s" % e, file=sys.stderr)
        return 1
    for name, eng in runner.engines:
        print("mpdhcp: " + eng.summary())
    try:
        runner.run()
    except KeyboardInterrupt:
        pass
    finally:
        runner.close()
        print("mpdhcp: stopped")
    return 0
