# Start-up shared by `micropython -m mpdhcp CONFIG` and the board main.py files: load and check
# the config, restore leases, open sockets, run until interrupted.
import sys
from . import config as configmod
from .server4 import Server4
from .store import Journal
from .runner import Runner

DEFAULT_CAPACITY = 2048  # leases held in RAM when the config sets no max-leases


def capacity(cfg):
    if cfg.max_leases:
        return cfg.max_leases
    total = 0
    for s in cfg.subnets:
        for a, b in s.pools:
            total += b - a + 1
        total += len(s.reservations)
    return min(total, DEFAULT_CAPACITY)


def build(cfg, netif, control_factory=None, log=print):
    journal = Journal(cfg.lease_file)
    server = Server4(cfg, journal, capacity(cfg))
    server.restore()
    for name, addr in cfg.interfaces:
        netif.open_v4_server(name, addr)
    control = None
    if cfg.control_socket and control_factory:
        control = control_factory(cfg.control_socket)
        netif.add_reader(control.sock)
    return Runner(cfg, netif, server, journal, control, log)


def main(argv):
    if len(argv) < 1:
        print("usage: micropython -m mpdhcp CONFIG.json", file=sys.stderr)
        return 2
    try:
        cfg = configmod.load(argv[0])
    except configmod.ConfigError as e:
        print("config error: " + str(e), file=sys.stderr)
        return 2
    from .netif_unix import NetifUnix
    from .control_unix import ControlSocket

    try:
        runner = build(cfg, NetifUnix(), ControlSocket)
    except OSError as e:
        print("cannot start: %s" % e, file=sys.stderr)
        return 1
    s = runner.server4
    print("mpdhcp: serving %s, %d leases restored, capacity %d" % (
        ", ".join(n for n, _ in cfg.interfaces), sum(1 for r in range(s.leases.used) if s.leases.state(r)), s.leases.cap))
    try:
        runner.run()
    except KeyboardInterrupt:
        pass
    finally:
        runner.close()
        print("mpdhcp: stopped")
    return 0
