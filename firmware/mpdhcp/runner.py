# The event loop: sockets -> engines -> journal commit -> sockets, plus engine timers.
# Group commit: every datagram that is ready is handled first, its journal records staged;
# one flush (fsync) per journal makes them all durable; only then do the staged replies go
# out. No reply ever promises an unflushed lease.
# A step runs with the heap locked except around sockets, clock, journal and logs (step()).
import gc
from micropython import const, heap_lock, heap_unlock
from .slot import Slot, RX_MAX

RING = const(16)  # replies staged per commit, unless the adapter asks for another figure (netif.RING)
STAGE_PER_REPLY = const(128)  # journal bytes a reply may stage (two 57-byte DHCPv6 leases)
SLOT_BYTES = const(2048)  # heap one reply slot takes (slot.py: a 1500-byte buffer and its parts)
HEADROOM = const(16384)  # free heap kept beyond the ring: received datagrams, the WAN glue, logs
RUNNING = None  # the service this process runs (service.build sets it; console.py finds it
# here, so the REPL needs no arguments; service.py itself leaves the heap once it is built)


def _nop():
    return None


def _heap_total():
    try:
        return gc.mem_free() + gc.mem_alloc()
    except AttributeError:  # CPython: no fixed heap
        return None


def _ring_size(n, total, free=None):
    """Slots in the reply ring: the adapter's n, but at most one per 64 KB of the whole heap
    (a slot is about 2 KB: the ring stays under a thirtieth of the heap; a board's few hundred
    clients never queue more than a few requests per commit) and, given the free heap, at most
    one per 2 KB of what is free beyond HEADROOM; at least 1 (a heap under 128 KB: one
    reply per commit; a step serves due timers first, so a busy LAN never holds them back)."""
    if total is None:
        return n
    k = total // 65536
    if free is not None:
        f = (free - HEADROOM) // SLOT_BYTES
        k = f if f < k else k
    return n if k >= n else (k if k > 1 else 1)


def _receive_run(copy):
    """The free runs one datagram takes as the adapters receive it, held: recv(RX_MAX)'s
    buffer, and on the Unix port the datagram's copy beside it (py/modsocket there copies
    the bytes out, then frees the buffer; `copy`: room for a datagram as big as the largest
    reply). None when the heap has not both. The adapters let go of the last datagram
    before they receive the next, so these runs serve every receive. (No gc.collect() here
    or in make_ring: an allocation that finds no room collects by itself, and on the WASI
    build an explicit collect from nested frames frees objects still in use.)"""
    try:
        return bytearray(RX_MAX), bytearray(copy)
    except MemoryError:
        return None


class Runner:
    def __init__(self, netif, log=print, ring=True):
        """ring False: the reply slots wait for make_ring() (service.build makes them last)."""
        self.netif = netif
        self.log = log
        self.engines = []  # (name, engine)
        self.owner = {}  # socket index -> engine
        self.journals = []
        n = _ring_size(getattr(netif, "RING", RING), _heap_total())  # a board's adapter: 4
        self.ring = []
        self.nring = n
        self.rx_room = None  # make_ring holds the receives' runs here until the first receive
        self.ready = [None] * n  # what one poll found ready (make_ring sizes it to the ring)
        if ring:
            self.make_ring()
        self.set_heap_lock(True)
        self.control = None
        self.running = False
        self.sent = 0
        self.send_errors = 0
        self.cfg = None  # section name -> parsed section (config.parse_doc)
        self.lock = None  # serving from a thread (platform/thread.py): console calls take it
        self.config_path = None  # the config file the service started from (console.reserve)
        self.after_step = []  # fn(now) run after every step: adapters apply what engines decided
        self.on_close = []  # fn() run first in close(): e.g. the DHCPv4 client's RELEASE
        self.notes = []  # start-up lines from the builders: e.g. an interface left out, and why
        self.ms_engines = []  # engines whose deadlines carry milliseconds (deadline_ms, ms)
        self.spares = []  # engines that make room between steps for the next one (spare(n))
        self.refused = 0  # packets and timers an engine dropped by trying to allocate
        self.rx_nomem = 0  # receives that found no heap for the datagram (retried next poll)
        self.scratch = {}  # class -> the one instance the engines share (shared)

    def make_ring(self):
        """The reply slots, each one allocation of the largest reply an engine writes (a
        DHCPv4 router's: about 600 bytes; 1500 with DHCPv6). Made after the engines, the lease
        tables (one allocation each, the largest) find the heap's long free stretches first,
        not the gaps the config's parsers left; and what is still free then may cut the ring
        down (to 1 slot at least: one reply per commit), as may a heap whose free part is all
        small pieces. The run a receive takes is held first, so no slot takes it: a heap
        without one refuses to start (MemoryError), never a service that cannot hear.
        The journals keep the stage reserved for the first figure (128 bytes a slot)."""
        if not self.ring:
            free = gc.mem_free() if hasattr(gc, "mem_free") else None  # garbage counts as used
            self.nring = _ring_size(self.nring, _heap_total(), free)
        size = self._slot_size()
        run = _receive_run(size)
        if run is None:
            raise MemoryError("no heap left in one piece to receive a datagram (1.5 KB and %d bytes)" % size)
        ring = self.ring
        while len(ring) < self.nring:
            try:
                ring.append(Slot(size))
            except MemoryError:  # free, but in pieces
                if not ring:
                    raise MemoryError("no room left in one piece for a reply slot")
                self.nring = len(ring)
        self.ready = [None] * self.nring
        self.rx_room = run  # held until the first receive: what runs before it (summaries,
        # the first timers) cannot take it

    def _slot_size(self):
        """The largest reply an engine writes (its reply_room()), or a whole datagram's
        1500 bytes for one that does not say."""
        most = 0
        for _, e in self.engines:
            f = getattr(e, "reply_room", None)
            n = f() if f is not None else 1500
            most = n if n > most else most
        return most or 1500

    def _recv(self, netif, i):
        """netif.recv(i), the heap unlocked: the length, or -1 (nothing there, or no room for
        the datagram now: it waits in the socket, and rx_nomem counts it)."""
        self._unlock()  # (set_heap_lock: a board's serving thread steps unlocked)
        self.rx_room = None  # (make_ring's hold: garbage now, collected when recv needs it)
        try:
            return netif.recv(i)
        except MemoryError:
            self.rx_nomem += 1
            return -1
        finally:
            self._lock()

    def add(self, name, engine, sockets, journal=None):
        """Register an engine, the socket indexes it answers, and its journal."""
        self.engines.append((name, engine))
        if hasattr(engine, "spare"):
            self.spares.append(engine)
        if hasattr(engine, "deadline_ms"):
            self.ms_engines.append(engine)
        for i in sockets:
            self.owner[i] = engine
        if journal is not None and journal not in self.journals:
            self.journals.append(journal)
            journal.reserve(STAGE_PER_REPLY * self.nring)

    def shared(self, make):
        """One make() for all of this runner's engines: scratch for the datagram being
        handled (the DHCPv4 option index), which a step handles one at a time, as the
        adapter's receive buffer is one for them all. (900 bytes less for a v4 router.)"""
        got = self.scratch.get(make)
        if got is None:
            got = self.scratch[make] = make()
        return got

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

    def set_heap_lock(self, on):
        """Step with the heap locked (see step), or not: a board's serving thread has a stack
        of 8-16 KB, and locked frames live on the C stack (a DHCPv6 exchange needed 24 KB of it
        on the 64-bit Unix port), so platform/thread.py turns it off."""
        self._lock = heap_lock if on else _nop
        self._unlock = heap_unlock if on else _nop

    def timeout_ms(self, cap):
        """How long a caller may wait for traffic before a step is due, at most cap (the
        boards' serving thread polls with it, then steps)."""
        ms = self.netif.ms() if self.ms_engines else 0
        return self._wait_ms(cap, self.netif.now(), ms)

    def _wait_ms(self, cap, now, ms):
        """How long the poll may wait: until the nearest engine deadline, at most cap."""
        best = cap
        for _, e in self.engines:
            d = e.next_deadline()
            if d is not None:
                w = (d - now) * 1000
                if e in self.ms_engines:  # a deadline with milliseconds (Client6)
                    w += e.deadline_ms - ms
                if w < best:
                    best = w if w > 0 else 0
        return best

    def _refused(self, eng, what):
        self.refused += 1
        if self.log:
            self.log("%s: dropped a %s: it needed the heap" % (type(eng).__name__, what))

    def step(self, wait_ms):
        """Wait for traffic or a timer, handle everything ready, commit, send.

        The step runs with the heap locked (micropython.heap_lock) and unlocks it only around
        what allocates: the sockets, the clock, the journal, log lines, the control socket and
        the adapters' after-step work. Engines allocate nothing by design (the heap_lock
        tests); an engine that tries loses that one packet or timer (counted, logged), not the
        service. A locked heap also keeps MicroPython's call frames on the C stack: a frame of
        more than 11 words otherwise goes on the heap, and with a big lease table in the heap
        every such allocation scanned past it (most of the CPU per packet, `make bench`). The
        heap is unlocked on every way out, Ctrl-C included."""
        self._lock()
        try:
            return self._step(wait_ms)
        finally:
            self._unlock()

    def _step(self, wait_ms):
        heap_lock = self._lock
        heap_unlock = self._unlock
        netif = self.netif
        ring = self.ring
        ready = self.ready
        ctl = self.control
        mse = self.ms_engines
        cap = self.nring
        rounds = 0
        ms = 0
        heap_unlock()
        try:
            now = netif.now()
            if mse:
                ms = netif.ms()
        finally:
            heap_lock()
        for e in mse:
            e.ms = ms
        staged = self._timers(now, 0, cap)  # first: a busy LAN never holds back a due timer
        timeout = self._wait_ms(wait_ms, now, ms)
        while rounds < cap and staged < cap:  # bounded: at most that many polls per step
            rounds += 1
            nready = 0
            heap_unlock()
            try:
                for obj, ev in netif.wait(timeout):
                    if ctl is not None and ctl.owns(obj):
                        ctl.on_ready(obj, self)  # never blocks: DHCP does not wait for it
                    elif nready < cap:  # the DHCP sockets: poll order is no priority order,
                        ready[nready] = obj  # so control objects never take their places
                        nready += 1
                now = netif.now()
                if mse:
                    ms = netif.ms()
            finally:
                heap_lock()
            if not nready:
                break
            timeout = 0  # the next polls only look for what arrived meanwhile
            for e in mse:
                e.ms = ms
            k = 0
            while k < nready and staged < cap:
                obj = ready[k]
                ready[k] = None
                k += 1
                i = netif.index_of(obj)
                eng = self.owner.get(i)
                ln = self._recv(netif, i)  # one datagram: the next poll says if there is more
                if ln < 0 or eng is None:
                    continue
                out = ring[staged]
                out.rx_type = 0
                meta = netif.metas[i]
                n = 0
                refused = False
                try:
                    n = eng.handle(netif.rx, ln, meta, now, out)
                except MemoryError:
                    refused = True
                if n:
                    staged += 1
                elif refused or (out.rx_type and self.log):
                    heap_unlock()
                    try:
                        if refused:
                            self._refused(eng, "packet")
                        else:
                            self.log(eng.log_line(out, meta.ifname, False))
                    finally:
                        heap_lock()
        staged = self._timers(now, staged, cap)  # and those that came due while it waited
        self._finish(staged, now)
        return staged

    def _timers(self, now, staged, cap):
        """The engines' due timers into the ring from slot `staged` on; returns the slots
        staged then. Called locked (its frame on the C stack), as _step."""
        ring = self.ring
        for _, e in self.engines:
            d = e.next_deadline()
            if d is not None and d <= now and staged < cap:
                out = ring[staged]
                out.rx_type = 0
                n = 0
                refused = False
                try:
                    n = e.on_timer(now, out)
                except MemoryError:
                    refused = True
                if n:
                    staged += 1
                elif refused:
                    self._unlock()
                    try:
                        self._refused(e, "timer")
                    finally:
                        self._lock()
        return staged

    def _finish(self, staged, now):
        """The end of a step: durable first, then tell the clients. Called locked, so its
        frame is on the C stack; its body runs unlocked."""
        netif = self.netif
        heap_lock = self._lock
        heap_unlock = self._unlock
        heap_unlock()
        try:
            for j in self.journals:
                j.commit()
            for e in self.spares:
                e.spare(self.nring)
            for k in range(staged):
                out = self.ring[k]
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
            if self.control is not None:
                self.control.tick(self)
        finally:
            heap_lock()

    def unlock_all(self):
        """Undo every heap lock this thread holds. A Ctrl-C that lands between step()'s lock
        and its `try` leaves one held (nothing can close that window in Python), and close()
        must still allocate: RELEASE, journal close, sockets. heap_unlock() returns the depth
        left, so one more lock first means the depth never goes below zero."""
        if self._lock is _nop:
            return
        heap_lock()
        while heap_unlock():  # CPython's stub returns None
            pass

    def close(self):
        """Stop: the adapters' last words first (on_close: a WAN client's RELEASE), then the
        journals, sockets and control socket. One that fails (a RELEASE with no heap left to
        send it) does not keep the others open; the first error is raised once all is closed."""
        self.running = False
        self.unlock_all()
        err = None
        for fn in self.on_close:
            try:
                fn()
            except Exception as e:
                err = err or e
        for j in self.journals:
            j.close()
        self.netif.close()
        if self.control:
            self.control.close()
        if err is not None:
            raise err
