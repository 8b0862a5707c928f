# `inspect --port P [leases|stats|config|log]`, `reserve`, `release`, `reconfigure`: the running
# service on a board, over its serial REPL (mpremote `resume`: nothing is reset, the service
# keeps serving from its background thread while we ask). Reads go through
# mpdhcp.platform.thread.call, so they see the tables between two runner steps.
# Exit codes: 0 ok, 1 device unreachable (missing, busy, no REPL), 3 the service refused or
# failed (its error is printed), 4 not supported by the firmware on the device (no mpdhcp on
# it at all, or reconfigure on firmware built before the DHCPv6 server). Tables are plain
# text when stdout is not a terminal (output.py); --json prints the board's answer.
import json
import sys

from . import output
from .ctl import leases_table, counters_table
from .device import DeviceError, MARK, call

_READ = """
import mpdhcp.console as _c
try:
    import mpdhcp.platform.thread as _b
    _call = _b.call
except ImportError:
    _call = lambda f: f()
print(%r + json.dumps(_call(_c.%s)))
"""

# leases, polled on the device until a bound lease for one MAC shows up (bounded): the REPL
# session stays open the whole time, while the service keeps serving that client
_WAIT = """
import time
import mpdhcp.console as _c
import mpdhcp.platform.thread as _b
_n = 0
while True:
    _l = _b.call(_c.leases)
    if _n >= %d or [x for x in _l if x['hw-address'] == %r and x['state'] == 'bound']:
        break
    time.sleep(0.1)
    _n += 1
print(%r + json.dumps(_l))
"""

# leases, v4 and v6 (firmware with the DHCPv6 server has console.leases6)
_LEASES = """
import mpdhcp.console as _c
try:
    import mpdhcp.platform.thread as _b
    _call = _b.call
except ImportError:
    _call = lambda f: f()
_l = _call(_c.leases)
if hasattr(_c, 'leases6'):
    _l += _call(_c.leases6)
print(%r + json.dumps(_l))
"""

_LOG = """
import mpdhcp.platform.thread as _b
print(%r + json.dumps({'status': _b.status(), 'lines': _b.log_lines()}))
"""

_ACT = """
import mpdhcp.console as _c
if not hasattr(_c, %r):
    print(%r + json.dumps({'unsupported': %r}))
else:
    print(%r + json.dumps({'ok': _c.%s(*%r)}))
"""

def add_parser(sub):
    p = sub.add_parser("inspect", help="show a running board's leases, counters, config or log",
                       description="Ask the service running on the device at PORT (over its REPL, "
                       "without stopping it) and print tables (plain text when piped); --json for scripts. "
                       "Exit 0 ok, 1 device unreachable, 3 the service failed, 4 no mpdhcp on the board.")
    p.add_argument("what", nargs="?", default="leases", choices=("leases", "stats", "config", "log", "client4", "client6"))
    p.add_argument("--port", required=True)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--wait-for", metavar="MAC", help="leases: keep asking until MAC holds a bound lease")
    p.add_argument("--timeout", type=float, default=20.0, help="seconds --wait-for waits (default 20)")
    p.set_defaults(func=run_inspect)

    p = sub.add_parser("reserve", help="reserve an address for a MAC on a running board (and in its config file)",
                       description="Add a reservation to the running DHCPv4 server and to the config "
                       "file on the device. Exit 0 ok, 1 device unreachable, 3 refused (reason printed), "
                       "4 no mpdhcp on the board.")
    p.add_argument("mac")
    p.add_argument("ip")
    p.add_argument("--hostname")
    p.add_argument("--subnet-id", type=int)
    p.add_argument("--port", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_reserve)

    p = sub.add_parser("release", help="mark the lease on an address released on a running board",
                       description="Release the DHCPv4 lease on IP in the running server (journaled): "
                       "the address is free for others once its client is gone. Exit 0 ok, 1 device "
                       "unreachable, 3 refused (e.g. no such lease), 4 no mpdhcp on the board.")
    p.add_argument("ip")
    p.add_argument("--port", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_release)

    p = sub.add_parser("reconfigure", help="send a DHCPv6 Reconfigure to the client holding an address or prefix",
                       description="Ask the running DHCPv6 server to send a Reconfigure (RFC 8415 18.3.11, "
                       "authenticated with the client's Reconfigure Key, retransmitted up to 8 times) to the "
                       "client holding ADDRESS (an IA_NA address, or a delegated PREFIX/LEN), asking it to "
                       "Renew (--msg renew), Rebind (--msg rebind) or to send an Information-request (--msg info). Only clients "
                       "that sent Reconfigure Accept can be reconfigured. Exit 0 sent, 1 device unreachable, "
                       "3 refused (no such lease, the client never sent Reconfigure Accept, no DHCPv6 "
                       "server running; reason printed), 4 firmware without console.reconfigure() or "
                       "without mpdhcp.")
    p.add_argument("address", help="the client's address (2001:db8::100) or delegated prefix (2001:db8:100::/56)")
    p.add_argument("--msg", choices=("renew", "rebind", "info"), default="renew",
                   help="what the client is asked to send (default renew)")
    p.add_argument("--port", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_reconfigure)


# What every snippet runs first: a board without mpdhcp (or with an incomplete copy) answers
# with its platform instead of an ImportError.
_HAS_MPDHCP = """
try:
    import mpdhcp.console
    _has = True
except ImportError:
    _has = False
if not _has:
    import sys
    print(%r + json.dumps({'no_mpdhcp': sys.platform}))
else:
"""
BOARD_OF = {"esp32": "esp32", "rp2": "picow", "linux": "unix"}  # sys.platform -> `build` board


def _device(args, code, timeout=30):
    """The snippet's answer from the board on args.port, or the exit status once the reason is
    printed: 1 unreachable, 4 no mpdhcp on the board."""
    code = _HAS_MPDHCP % MARK + "".join("    " + ln + "\n" for ln in code.strip().splitlines())
    try:
        got = call(args.port, code, timeout=timeout)
    except DeviceError as e:
        print("%s: %s" % (args.verb, e), file=sys.stderr)
        return 1
    if isinstance(got, dict) and "no_mpdhcp" in got:
        board = BOARD_OF.get(got["no_mpdhcp"], "BOARD")
        print("%s: this board runs MicroPython (%s) but not mpdhcp: flash it with `python -m host_tools "
              "build %s && python -m host_tools flash %s --port %s`" % (
                  args.verb, got["no_mpdhcp"], board, board, args.port), file=sys.stderr)
        return 4
    return got


def run_inspect(args):
    fn = {"leases": "leases", "stats": "stats", "config": "config", "client4": "client4",
          "client6": "client6"}.get(args.what)
    if args.wait_for and fn == "leases":
        got = _device(args, _WAIT % (int(args.timeout * 10), args.wait_for.lower(), MARK),
                      timeout=args.timeout + 30)
    else:
        code = _LEASES % MARK if fn == "leases" else (_LOG % MARK if fn is None else _READ % (MARK, fn))
        got = _device(args, code)
    if isinstance(got, int):
        return got
    if isinstance(got, dict) and "error" in got:
        print("inspect: the service on %s failed: %s" % (args.port, got["error"]), file=sys.stderr)
        return 3
    if args.wait_for and not [l for l in got if l.get("hw-address") == args.wait_for.lower() and l.get("state") == "bound"]:
        print("inspect: no bound lease for %s after %.0f s" % (args.wait_for, args.timeout), file=sys.stderr)
        if args.json:
            output.dump(got)
        else:
            output.show(leases_table(got))
        return 3
    if args.json:
        output.dump(got)
    elif args.what == "leases":
        output.show(leases_table(got))
    elif args.what == "stats":
        output.show(counters_table(got))
    elif args.what in ("config", "client4", "client6"):
        output.dump(got)  # nested: JSON is its plain form
    else:
        output.show("status: %s" % json.dumps(got["status"]), *got["lines"])
    return 0


def _act(args, name, params):
    got = _device(args, _ACT % (name, MARK, name, MARK, name, tuple(params)))
    if isinstance(got, int):
        return got
    if "unsupported" in got:
        print("%s: not supported by the firmware on %s (needs the DHCPv6 server)" % (name, args.port), file=sys.stderr)
        return 4
    if "error" in got:
        print("%s refused: %s" % (name, got["error"]), file=sys.stderr)
        return 3
    if args.json:
        output.dump(got["ok"])
    else:
        output.show(output.Table(list(got["ok"]), [got["ok"]]))
    return 0


def run_reserve(args):
    return _act(args, "reserve", (args.mac, args.ip, args.hostname, args.subnet_id))


def run_release(args):
    return _act(args, "release", (args.ip,))


def run_reconfigure(args):
    return _act(args, "reconfigure", (args.address, args.msg))
