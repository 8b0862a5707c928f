# The event loop: sockets -> engines -> journal commit -> sockets, plus engine timers.
# Group commit: every datagram that is ready is handled first, its journal records staged;
# one flush (fsync) per journal makes them all durable; only then do the staged replies go
# out. No reply ever promises an unflushed lease.
# Engines run with the heap locked (micropython.heap_lock): they allocate nothing by design
# (the heap_lock tests), and a locked heap also keeps MicroPython's call frames on the C stack
# instead of the heap, where the allocator's search through a big lease table cost most of the
# CPU per packet. Sockets, the journal, logging and the control socket run unlocked.
from micropython import const, heap_lock, heap_unlock
from .slot import Slot

RING = const(16)  # replies staged per commit


class Runner:
    def __init__(self, netif, log=print):
        self.netif = netif
        self.log = log
        self.engines = []  # (name, engine)
        self.owner = {}  # socket index -> engine
        self.journals = []
        self.ring = [Slot() for _ in range(RING)]
        self.control = None
        self.running = False
        self.sent = 0
        self.send_errors = 0
        self.cfg = None
        self.after_step = []  # fn(now) run after every step: adapters apply what engines decided
        self.on_close = []  # fn() run first in close(): e.g. the DHCPv4 client's RELEASE
        self.notes = []  # start-up lines from the builders: e.g. an interface left out, and why
        self.ms_engines = []  # engines whose deadlines carry milliseconds (deadline_ms, ms)
        self.refused = 0  # packets and timers an engine dropped by trying to allocate

    def add(self, name, engine, sockets, journal=None):
        """Register an engine, the socket indexes it answers, and its journal."""
        self.engines.append((name, engine))
        if hasattr(engine, "deadline_ms"):
            self.ms_engines.append(engine)
        for i in sockets:
            self.owner[i] = engine
        if journal is not None and journal not in self.journals:
            self.journals.append(journal)

    def engine(self, name):
        for n, e in self.engines:
            if n == name:
                return e
        return None

    def summaries(self):
        """The start-up lines: each engine's summary, then what each journal had to skip."""
        out = [e.summary() for _, e in self.engines] + self.notes
        for j in self.journals:
            r = j.report()
            if r:
                out.append(r)
        return out

    def now(self):
        return self.netif.now()

    def run(self, max_wait_ms=1000):
        self.running = True
        while self.running:
            self.step(max_wait_ms)

    def _wait_ms(self, cap):
        now = self.netif.now()
        best = cap
        for _, e in self.engines:
            d = e.next_deadline()
            if d is not None:
                ms = (d - now) * 1000
                if e in self.ms_engines:  # a deadline with milliseconds (Client6)
                    ms += e.deadline_ms - self.netif.ms()
                if ms < best:
                    best = ms if ms > 0 else 0
        return best

    def _tell_ms(self):
        """Engines that time in milliseconds learn where in the second now is."""
        if self.ms_engines:
            m = self.netif.ms()
            for e in self.ms_engines:
                e.ms = m

    def _timer_locked(self, eng, now, out):
        """eng.on_timer with the heap locked, as step runs handle (see there)."""
        n = 0
        refused = False
        heap_lock()
        try:
            n = eng.on_timer(now, out)
        except MemoryError:
            refused = True
        finally:
            heap_unlock()
        if refused:
            self._refused(eng, "timer")
        return n

    def _refused(self, eng, what):
        self.refused += 1
        if self.log:
            self.log("%s: dropped a %s: it needed the heap" % (type(eng).__name__, what))

    def step(self, wait_ms):
        """Wait for traffic or a timer, handle everything ready, commit, send."""
        netif = self.netif
        staged = 0
        ctl = self.control
        ring = self.ring
        for obj, ev in netif.wait(self._wait_ms(wait_ms)):
            if ctl is not None and ctl.owns(obj):
                ctl.on_ready(obj, self)  # never blocks: DHCP does not wait for it
                continue
            i = netif.index_of(obj)
            eng = self.owner.get(i)
            meta = netif.metas[i]
            now = netif.now()  # one clock read per ready socket, not per datagram
            self._tell_ms()
            while staged < RING:  # drain this socket, bounded by the ring
                data = netif.recv(i)
                if data is None or eng is None:
                    break
                out = ring[staged]
                out.rx_type = 0
                # Inline, not a method: a call made with the heap unlocked puts a frame this
                # size on the heap. Unlocked on every way out, Ctrl-C included; an engine that
                # tries to allocate loses that one packet (counted, logged), not the service.
                n = 0
                refused = False
                heap_lock()
                try:
                    n = eng.handle(data, len(data), meta, now, out)
                except MemoryError:
                    refused = True  # logged below: nothing can be while the heap is locked
                finally:
                    heap_unlock()
                if n:
                    staged += 1
                elif refused:
                    self._refused(eng, "packet")
                elif out.rx_type and self.log:
                    self.log(eng.log_line(out, meta.ifname, False))
        now = netif.now()
        self._tell_ms()
        for _, e in self.engines:
            d = e.next_deadline()
            if d is not None and d <= now and staged < RING:
                out = ring[staged]
                out.rx_type = 0
                if self._timer_locked(e, now, out):
                    staged += 1
        for j in self.journals:
            j.commit()  # durable first ...
        for k in range(staged):  # ... then tell the clients
            out = ring[k]
            if netif.send(out):
                self.sent += 1
            else:
                self.send_errors += 1
            if self.log:
                self.log(self.owner[out.ifindex].log_line(out, netif.metas[out.ifindex].ifname, True))
        for _, e in self.engines:
            j = getattr(e, "journal", None)
            if j is not None and j.wants_compaction():
                j.rewrite(e.dump)
        for fn in self.after_step:
            fn(now)
        if ctl is not None:
            ctl.tick(self)
        return staged

    def close(self):
        self.running = False
        for fn in self.on_close:
            fn()
        for j in self.journals:
            j.close()
        self.netif.close()
        if self.control:
            self.control.close()
