# Serve from a thread so the REPL stays free: a person, `mpremote` or `python -m host_tools
# inspect` can call mpdhcp.console while clients keep getting leases. Used by every board's
# main.py (ESP32 and RP2040 have _thread, so does the Unix port).
#
# The runner waits for traffic *outside* a lock and handles it inside one; console calls that
# change state (reserve, release), listings (record by record: a DHCPv4 hostname is read from
# the journal file) and the inspect reads take the same lock, so they happen between two
# runner steps, never in the middle of an exchange (inside call(), the console finds the
# runner's lock gone: call() holds it).
#   from mpdhcp import service; from mpdhcp.platform import thread as bg
#   bg.start("/mpdhcp.json", netif, service.build, preload=service.preload)   # returns at once
#   bg.call(console.leases)   # a consistent read;  bg.stop()   # closes journal and sockets
# Log lines go to a small ring (bg.log_lines()), never to the REPL: a print from the service
# thread would land in the middle of a raw-REPL reply and break mpremote.
from micropython import const
import _thread
import time
# console.py is not imported here: it loads when a person or `inspect` first calls it (about
# 10 KB of heap on the 64-bit port, kept free meanwhile); it finds the lock and config path on the runner

LOG_KEEP = const(32)  # log lines kept
WAIT_MS = const(200)  # longest wait between runner steps (timers are honoured sooner)

SERVICE = None  # the Background serving now, if any


class Background:
    def __init__(self, runner):
        self.runner = runner
        self.lock = _thread.allocate_lock()
        self.running = False
        self.stopped = True
        self.error = None
        self.lines = []
        self.steps = 0

    def log(self, line):
        ln = self.lines
        ln.append(line)
        if len(ln) > LOG_KEEP:
            ln.pop(0)

    def loop(self):
        r = self.runner
        netif = r.netif
        lock = self.lock
        try:
            while self.running:
                for _ in netif.wait(r.timeout_ms(WAIT_MS)):
                    break  # something is ready: handle it under the lock
                with lock:
                    r.step(0)
                    self.steps += 1
        except Exception as e:  # kept for console/inspect to show; the REPL lives on
            self.error = repr(e)
        self.stopped = True


def start(config_path, netif, build, stack=16384, preload=None):
    """Load the config, build the service with build(doc, netif, control, log) (the caller
    passes service.build, and service.preload as preload: this floor imports nothing above
    it), serve it from a new thread. Returns the Background."""
    global SERVICE
    if SERVICE is not None and not SERVICE.stopped:
        raise RuntimeError("mpdhcp is already serving (platform.thread.stop() first)")
    from .. import config as configmod  # (it leaves the heap again once the service is built)

    doc = configmod.load(config_path, preload)
    del configmod  # build drops the package from the heap: held here, it stayed through the build
    bg = Background(None)
    runner = build(doc, netif, None, log=bg.log)
    runner.set_heap_lock(False)  # a thread's small stack: frames stay on the heap (runner.py)
    if runner.log is not None:
        runner.log = bg.log
    bg.runner = runner
    runner.lock = bg.lock
    runner.config_path = config_path
    for line in runner.summaries():
        print("mpdhcp: " + line)
    bg.running = True
    bg.stopped = False
    try:
        _thread.stack_size(stack)  # boards' default thread stacks are small
    except (AttributeError, ValueError):
        pass
    _thread.start_new_thread(bg.loop, ())
    SERVICE = bg
    return bg


def stop(timeout_ms=3000):
    """Stop the service thread (bounded wait), then close journals and sockets."""
    global SERVICE
    bg = SERVICE
    if bg is None:
        return False
    bg.running = False
    t = 0
    while not bg.stopped and t < timeout_ms:
        time.sleep(0.01)
        t += 10
    with bg.lock:
        bg.runner.close()
        bg.runner.lock = None
    SERVICE = None
    return True


def call(fn, *args):
    """fn(*args) between two runner steps (or directly when nothing serves in background).
    The console calls inside it find no lock on the runner: this one holds it already."""
    bg = SERVICE
    if bg is None or bg.stopped:
        return fn(*args)
    with bg.lock:
        r = bg.runner
        r.lock = None
        try:
            return fn(*args)
        finally:
            r.lock = bg.lock


def status():
    bg = SERVICE
    if bg is None:
        return {"running": False}
    return {"running": not bg.stopped, "steps": bg.steps, "error": bg.error,
            "sent": bg.runner.sent}


def log_lines():
    bg = SERVICE
    return list(bg.lines) if bg is not None else []
