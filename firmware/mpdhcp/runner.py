# The event loop: sockets -> engines -> journal commit -> sockets. Group commit: every datagram
# that is ready is handled first, its journal records staged; one flush (fsync) makes them all
# durable; only then do the staged replies go out. No reply ever promises an unflushed lease.
from micropython import const
from .slot import Slot
from .addr import ip4_str, mac_str
from . import console

RING = const(16)  # replies staged per commit
_NAMES = ("-", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM")


class Runner:
    def __init__(self, cfg, netif, server4, journal, control=None, log=print):
        self.cfg = cfg
        self.netif = netif
        self.server4 = server4
        self.journal = journal
        self.control = control
        self.log = log if cfg.log else None
        self.ring = [Slot() for _ in range(RING)]
        self.running = False
        self.sent = 0
        self.send_errors = 0
        console.SERVICE = self

    def now(self):
        return self.netif.now()

    def run(self, max_wait_ms=1000):
        self.running = True
        while self.running:
            self.step(max_wait_ms)

    def step(self, wait_ms):
        """Wait for traffic, handle everything ready, commit, send. Returns replies sent."""
        netif = self.netif
        staged = 0
        ctl = self.control.sock if self.control else None
        for obj, ev in netif.wait(wait_ms):
            if obj is ctl:
                self.control.serve_one(self)
                continue
            i = netif.index_of(obj)
            while staged < RING:  # drain this socket, bounded by the ring
                data = netif.recv(i)
                if data is None:
                    break
                out = self.ring[staged]
                out.rx_type = 0
                if self.server4.handle(data, len(data), netif.metas[i], netif.now(), out):
                    staged += 1
                elif out.rx_type and self.log:
                    self._log(out, netif.metas[i].ifname, False)
        if staged:
            self.journal.commit()  # durable first ...
            for k in range(staged):  # ... then tell the clients
                out = self.ring[k]
                if netif.send(out):
                    self.sent += 1
                else:
                    self.send_errors += 1
                if self.log:
                    self._log(out, netif.metas[out.ifindex].ifname, True)
        elif self.journal.n:
            self.journal.commit()
        if self.journal.wants_compaction():
            self.journal.rewrite(self.server4.dump)
        return staged

    def _log(self, out, ifname, replied):
        rx = _NAMES[out.rx_type] if out.rx_type < len(_NAMES) else str(out.rx_type)
        tx = _NAMES[out.tx_type] if replied and out.tx_type < len(_NAMES) else "-"
        self.log("%s>%s %s %s on %s" % (rx, tx, mac_str(out.hw), ip4_str(out.addr), ifname))

    def close(self):
        self.running = False
        self.journal.close()
        self.netif.close()
        if self.control:
            self.control.close()
