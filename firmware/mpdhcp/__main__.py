# `micropython -m mpdhcp CONFIG.json`: the service on the Unix port, in the foreground (a
# board's main.py starts it from platform/thread.py instead; this module is not deployed there).
import sys
from .slot import RX_MAX


def _control_socket(path):
    """Loaded only when the config asks for a control socket (it brings console.py)."""
    from mpdhcp.platform.control_unix import ControlSocket

    return ControlSocket(path)


def main(argv):
    if len(argv) < 1:
        print("usage: micropython -m mpdhcp CONFIG.json", file=sys.stderr)
        return 2
    room = bytearray(RX_MAX + 1)  # one datagram's run, held from the first step so that the
    # start's holes (service.py's, once it leaves) cannot cut it up: let go for make_ring
    from . import service  # start-up only: it leaves the heap once the service is built

    service.starting()  # (the netif's code too)
    from .platform import netif_unix  # code that stays, before the parsers (see preload)
    from . import config as configmod

    try:
        doc = configmod.load(argv[0], service.preload)
    except configmod.ConfigError as e:
        print("config error: " + str(e), file=sys.stderr)
        return 2
    del configmod  # build drops the package (unload_parsers): held here, it stayed for the whole run
    try:
        runner = service.build(doc, netif_unix.for_config(doc), _control_socket, ring=False)
    except OSError as e:
        print("cannot start: %s" % e, file=sys.stderr)
        return 1
    service.unload()
    del service
    del room
    runner.make_ring()  # the reply slot and the receives take the room held, and what service.py left
    for line in runner.summaries():
        print("mpdhcp: " + line)
    try:
        runner.run()
    except KeyboardInterrupt:
        pass
    finally:
        runner.close()
        print("mpdhcp: stopped")
    return 0


sys.exit(main(sys.argv[1:]))
