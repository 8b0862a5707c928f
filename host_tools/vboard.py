# `board start|stop|status|run`: a virtual board anyone can start. The MicroPython Unix port
# behind a pseudo-terminal, which mpremote, `flash` and `inspect` drive as they drive a board on
# /dev/ttyUSB0; its flash is a folder (vboard_boot.py makes it the port's "/").
#   board start [--netns NS]   detach a board (state in build/vboard/NAME/, or $MPDHCP_VBOARD_DIR);
#                              with NS: the board in namespace NS on a LAN bridge (br0), and a
#                              client namespace NS-client whose eth0 is on that bridge
#   board stop [--port P]      end it and remove what start made (also after a crash)
#   board status               the boards started, running or not
#   board run --port P --flash DIR   the board in the foreground (what start detaches; the tests
#                              run it inside their own lab namespaces)
# A board's soft reset (Ctrl-D at an empty REPL, as mpremote sends without `resume`) ends the Unix
# port's process: the board starts it again, says "soft reboot", and puts it back into the raw
# REPL when the host had it there, as a board does. A crash of the port is a reboot too.
# Exit codes: 0 ok, 1 the board did not come up (or ended), 2 bad arguments or a name in use.
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
import tty

from . import ROOT
from . import lab as L
from .device import DeviceError, run as mp
from .paths import micropython

BOOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vboard_boot.py")
LAN = "192.168.77.1/24"  # br0's address: boards/unix/mpdhcp.json serves 192.168.77.0/24 on br0
REBOOTS = 5  # more ends of the port than this within REBOOT_WINDOW seconds: the board gives up
REBOOT_WINDOW = 10.0


class VBoardError(RuntimeError):
    def __init__(self, msg, code=1):
        RuntimeError.__init__(self, msg)
        self.code = code  # the exit code: 1 the board failed, 2 refused (arguments, a name in use)


def add_parser(sub):
    p = sub.add_parser("board", help="a virtual board: the Unix port on a pty (start, stop, status)",
                       description="A virtual board for flash, inspect and mpremote: the MicroPython "
                       "Unix port behind a pseudo-terminal, its flash a folder. Exit 0 ok, 1 the board "
                       "did not come up, 2 bad arguments or a name in use.")
    bsub = p.add_subparsers(dest="board_verb", required=True)
    s = bsub.add_parser("start", help="start a board in the background and print its port",
                        description="Start a board, detached; prints the port to give flash, inspect "
                        "and mpremote. With --netns NS it runs in a new namespace NS with a bridge br0 "
                        "(address --lan), and a new client namespace NS-client whose eth0 is on br0: "
                        "`ip netns exec NS-client udhcpc -i eth0` leases from the board. Its flash "
                        "(build/vboard/NAME/flash) is kept across stop and start, as a board's is; "
                        "main.py in it runs at start.")
    s.add_argument("--netns", help="run in this new network namespace, on a LAN bridge br0")
    s.add_argument("--lan", default=LAN, help="br0's address with --netns (default %s)" % LAN)
    s.add_argument("--heapsize", help="the port's heap, e.g. 320K (default: the port's own)")
    s.add_argument("--name", help="the board's name (default: NS, else vboard)")
    s.add_argument("--erase", action="store_true", help="start with an empty flash")
    s.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for its REPL")
    s.add_argument("--json", action="store_true", help="print the board's state as JSON")
    s.set_defaults(func=run_start)
    s = bsub.add_parser("stop", help="stop a board and remove its namespaces",
                        description="End the board (all of them without --port/--name) and remove "
                        "the namespaces and /etc/netns folders its start made, running or crashed. "
                        "Its flash folder stays.")
    s.add_argument("--port")
    s.add_argument("--name")
    s.set_defaults(func=run_stop)
    s = bsub.add_parser("status", help="list the boards started")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=run_status)
    s = bsub.add_parser("run", help="run a board in the foreground",
                        description="The board itself, in the foreground, until SIGTERM or Ctrl-C: "
                        "the Unix port with FLASH as its /, behind a pty linked at PORT.")
    s.add_argument("--port", required=True, help="path of the link to the pty (created)")
    s.add_argument("--flash", required=True, help="folder that is the board's /")
    s.add_argument("--heapsize")
    s.set_defaults(func=run_run)


# -- the board: the Unix port behind a pty, rebooted as a board is ----------------------------
def run_argv(port, flash, heapsize=None):
    """The command line of a foreground board."""
    return ([sys.executable, "-m", "host_tools", "board", "run", "--port", port, "--flash", flash] +
            (["--heapsize", heapsize] if heapsize else []))


def _read(fd):
    """Bytes waiting on fd: b"" when none, None when its other side is gone (EIO)."""
    try:
        return os.read(fd, 4096) or None
    except BlockingIOError:
        return b""
    except OSError:
        return None


def _write(fd, data):
    """Bytes of data written (non-blocking; a full pty takes none)."""
    try:
        return os.write(fd, data)
    except BlockingIOError:
        return 0


def _mode(data, raw):
    """Raw REPL or not after the host sent data: Ctrl-A enters it, Ctrl-B leaves it."""
    a, b = data.rfind(b"\x01"), data.rfind(b"\x02")
    return raw if a == b else a > b


class Board:
    def __init__(self, port, flash, heapsize=None):
        self.port, self.flash, self.heapsize = os.path.abspath(port), os.path.abspath(flash), heapsize
        self.proc = None
        self.ends = []  # monotonic times the port's process ended
        self.to_raw = 0  # after a reboot from the raw REPL: the time by which to enter it again (at
        # the first prompt, or then)

    def power_on(self, run_main):
        """The Unix port on a fresh pty (raw, no echo); returns the pty's master fd."""
        master, slave = os.openpty()
        tty.setraw(slave)
        argv = [micropython()] + (["-X", "heapsize=" + self.heapsize] if self.heapsize else []) + ["-i", BOOT]
        env = dict(os.environ, MPDHCP_FLASH=self.flash, MPDHCP_MAIN="1" if run_main else "0")
        env.pop("MICROPYPATH", None)
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=self.flash, env=env)
        os.close(slave)
        os.set_blocking(master, False)
        return master

    def reboot(self, dev, host, raw):
        """The port's process ended: start it again, as a board's soft reset does."""
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        os.close(dev)
        now = time.monotonic()
        self.ends = [t for t in self.ends if now - t < REBOOT_WINDOW] + [now]
        if len(self.ends) > REBOOTS:
            raise VBoardError("the Unix port ended %d times in %.0f s: the board stops" % (len(self.ends), REBOOT_WINDOW))
        _write(host, b"MPY: soft reboot\r\n")
        self.to_raw = time.monotonic() + 3.0 if raw else 0
        return self.power_on(not raw)  # main.py runs after a friendly soft reboot only

    def serve(self):
        """Relay between the pty at self.port and the port's own pty until SIGTERM."""
        os.makedirs(self.flash, exist_ok=True)
        host, hold = os.openpty()  # hold: the serial side stays open when mpremote closes it
        tty.setraw(hold)
        os.set_blocking(host, False)
        tmp = self.port + ".new"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(os.ttyname(hold), tmp)
        os.replace(tmp, self.port)
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
        raw, to_dev, seen = False, b"", b""
        dev = self.power_on(True)
        try:
            while True:
                full = len(to_dev) >= 65536  # the port reads no more: the host waits
                r, _, _ = select.select([dev] if full else [host, dev], [dev] if to_dev and not self.to_raw else [],
                                        [], 1.0)
                if host in r:
                    data = _read(host) or b""
                    raw = _mode(data, raw) if data else raw
                    to_dev += data
                if to_dev and not self.to_raw:
                    to_dev = to_dev[_write(dev, to_dev):]
                out = _read(dev) if dev in r else b""
                if out is None or (not out and self.proc.poll() is not None):
                    dev, to_dev, seen = self.reboot(dev, host, raw), b"", b""
                    continue
                if out:
                    _write(host, out)  # a serial line nobody reads loses what the board prints
                    seen = (seen + out)[-8:]
                if self.to_raw and (b">>> " in seen or time.monotonic() > self.to_raw):
                    os.write(dev, b"\x01")  # at the first prompt: back into the raw REPL
                    self.to_raw = 0
        finally:
            self.close(host, hold)

    def close(self, *fds):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        try:
            if os.readlink(self.port) == os.ttyname(fds[1]):
                os.unlink(self.port)
        except OSError:
            pass
        for fd in fds:
            os.close(fd)


def answers(port):
    try:
        return "ok" in mp(port, "exec", "print('ok')", timeout=10)
    except DeviceError:
        return False


def wait_ready(port, alive, timeout=20.0):
    """Wait (bounded) until the board at port answers on its raw REPL; alive() false: it ended."""
    L.wait_for(lambda: os.path.exists(port) or not alive(), timeout, what="the board's pty at %s" % port)
    if alive():
        L.wait_for(lambda: answers(port) or not alive(), timeout, interval=0.3, what="the board's REPL")
    if not alive():
        raise VBoardError("the board process ended")


# -- detached boards: state files, namespaces ------------------------------------------------
def runtime_dir():
    return os.environ.get("MPDHCP_VBOARD_DIR") or os.path.join(ROOT, "build", "vboard")


def state_path(name):
    return os.path.join(runtime_dir(), name, "state.json")


def save(st):
    tmp = state_path(st["name"]) + ".new"
    with open(tmp, "w") as f:
        json.dump(st, f, indent=1)
    os.replace(tmp, state_path(st["name"]))


def boards():
    """The state of every board started from this runtime dir, by name."""
    out = []
    d = runtime_dir()
    for name in sorted(os.listdir(d)) if os.path.isdir(d) else ():
        try:
            with open(state_path(name)) as f:
                out.append(json.load(f))
        except (OSError, ValueError):
            continue
    return out


def running(st):
    """The board's process is alive, and is this board (not a pid reused since)."""
    pid = st.get("pid")
    try:
        with open("/proc/%d/stat" % pid) as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return st["port"].encode() in f.read()
    except (OSError, TypeError, IndexError):
        return False


def make_lan(st):
    """Namespaces NS (br0 with the LAN address, lan0 on it) and NS-client (eth0, lan0's peer).
    Each is recorded in the state before it is made, so stop removes a half-made LAN too."""
    for ns in (st["netns"], st["client"]):
        st["made"].append(ns)
        save(st)
        L.make_ns(ns, "mpdhcp virtual board namespace")
    L.veth(st["netns"], "lan0", st["client"], "eth0")
    L.bridge(st["netns"], "br0", ["lan0"])
    L.addr(st["netns"], "br0", st["lan"])


def start(name, netns=None, lan=LAN, heapsize=None, erase=False, timeout=20.0):
    """Start a detached board; returns its state. Raises VBoardError (nothing left behind)."""
    if netns and not L.is_root():
        raise VBoardError("--netns needs root (it creates network namespaces)", 2)
    old = [b for b in boards() if b["name"] == name]
    if old:
        raise VBoardError("a board named %s was started already (%s): `board stop --name %s` first, "
                          "or choose another --name" % (name, "running" if running(old[0]) else "ended", name), 2)
    for ns in (netns, netns + "-client") if netns else ():  # never taken over, never removed
        if L.ns_exists(ns) or os.path.exists(os.path.join(L.NETNS_ETC, ns)):
            raise VBoardError("namespace %s (or %s/%s) exists already: choose another --netns"
                              % (ns, L.NETNS_ETC, ns), 2)
    d = os.path.join(runtime_dir(), name)
    flash = os.path.join(d, "flash")
    if erase:
        shutil.rmtree(flash, ignore_errors=True)
    os.makedirs(flash, exist_ok=True)
    st = {"name": name, "port": os.path.join(d, "tty"), "flash": flash, "log": os.path.join(d, "board.log"),
          "pid": None, "heapsize": heapsize, "netns": netns, "client": netns and netns + "-client",
          "lan": lan if netns else None, "made": []}
    save(st)
    try:
        if netns:
            make_lan(st)
        argv = (["ip", "netns", "exec", netns] if netns else []) + run_argv(st["port"], flash, heapsize)
        with open(st["log"], "ab") as log:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True, cwd=ROOT)
        st["pid"] = p.pid
        save(st)
        wait_ready(st["port"], lambda: p.poll() is None, timeout)
    except (VBoardError, L.LabError, OSError) as e:
        teardown(st)
        raise VBoardError("the board did not come up: %s\n%s" % (e, _tail(st["log"])))
    return st


def _tail(path, n=12):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def teardown(st):
    """End the board's processes, remove its namespaces, /etc/netns folders, port and state.
    Returns what was removed (text)."""
    done = []
    if running(st):
        for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 2.0)):
            try:
                os.killpg(st["pid"], sig)
            except ProcessLookupError:
                break
            try:
                L.wait_for(lambda: not running(st), wait, what="the board to end")
                break
            except L.LabError:
                pass
        done.append("process %d" % st["pid"])
    for ns in reversed(st.get("made", [])):
        L.del_ns(ns)
        done.append("namespace %s" % ns)
    if os.path.islink(st["port"]):
        os.unlink(st["port"])
    try:
        os.remove(state_path(st["name"]))
    except FileNotFoundError:
        pass
    return ", ".join(done) or "nothing running"


def show(st):
    port = os.path.relpath(st["port"]) if st["port"].startswith(os.getcwd() + os.sep) else st["port"]
    lines = ["virtual board %s: the MicroPython Unix port on %s (flash: %s%s)" % (
        st["name"], port, st["flash"], ", heap " + st["heapsize"] if st["heapsize"] else "")]
    if st["netns"]:
        lines.append("LAN: namespace %s, br0 %s; a client's namespace %s has eth0 on br0"
                     % (st["netns"], st["lan"], st["client"]))
    lines += ["next:", "  python -m host_tools build unix",
              "  python -m host_tools flash unix --port %s" % port]
    if st["netns"]:
        lines.append("  ip netns exec %s udhcpc -i eth0 -f -q -n" % st["client"])
    lines += ["  python -m host_tools inspect --port %s leases" % port,
              "  python -m host_tools board stop --port %s" % port]
    return "\n".join(lines)


def run_start(args):
    try:
        st = start(args.name or args.netns or "vboard", args.netns, args.lan, args.heapsize, args.erase,
                   args.timeout)
    except VBoardError as e:
        print("board start: %s" % e, file=sys.stderr)
        return e.code
    print(json.dumps(st, indent=1) if args.json else show(st))
    return 0


def run_stop(args):
    todo = [b for b in boards() if (not args.port or os.path.abspath(args.port) == b["port"])
            and (not args.name or args.name == b["name"])]
    if not todo and (args.port or args.name):
        print("board stop: no board %s here (%s)" % (args.port or args.name, runtime_dir()), file=sys.stderr)
        return 2
    for st in todo:
        print("stopped %s (%s): removed %s" % (st["name"], st["port"], teardown(st)))
    return 0


def run_status(args):
    rows = []
    for st in boards():
        rows.append(dict(st, running=running(st)))
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    if not rows:
        print("no boards (%s)" % runtime_dir())
    for st in rows:
        print("%s  %s  %s%s" % (st["name"], st["port"], "running, pid %d" % st["pid"] if st["running"]
                                else "ended (`board stop --name %s` cleans up)" % st["name"],
                                "  netns %s, client %s" % (st["netns"], st["client"]) if st["netns"] else ""))
    return 0


def run_run(args):
    try:
        Board(args.port, args.flash, args.heapsize).serve()
    except VBoardError as e:
        print("board: %s" % e, file=sys.stderr)
        return 1
    return 0
