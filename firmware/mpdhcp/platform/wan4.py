# Glue between the Client4 engine and a platform adapter (the WAN side of the router).
# The engine decides; after every runner step this applies what it decided:
#   - a new lease: ARP-probe the address (netif.probe4_start/probe4_result, in the
#     background), then netif.apply_lease4 (address, routes, DNS); a conflict goes back to
#     the engine as address_in_use(), which DECLINEs it;
#   - changed options on renewal: re-apply without a probe;
#   - no lease any more (expired, NAKed, declined): netif.remove_lease4.
# On a graceful stop (runner.on_close) it RELEASEs the lease and removes it, unless the
# config says release-on-shutdown false (then the lease stays, and a restart INIT-REBOOTs).
# Allocates freely: runs once per step, outside the packet path.
from ..v4.client4 import Client4, STATE_NAMES, INIT_REBOOT, REBOOTING
from ..v4.lease4 import JREC
from ..wire.addr import ip4_str
from ..wire.packet4 import Options
from ..state.journal import Journal


def start_client4(runner, cfg, netif):
    hw = netif.mac(cfg.interface)
    journal = Journal(cfg.lease_file, JREC + 5)  # one small record a step: runner.add reserves the rest
    eng = Client4(cfg, journal, hw, netif.now() & 0xFFFF, runner.shared(Options))
    eng.restore()
    sender = eng
    if cfg.o6:  # DHCPv4 over DHCPv6 (RFC 7341): Client4 unchanged, its messages in DHCPv6
        from ..v6.client4o6 import Client4o6

        sender = Client4o6(eng, bytes((0, 3, 0, 1)) + bytes(hw), eng.rand)  # DUID-LL
        sender.sock = netif.open_v6_client(cfg.interface)
        runner.add("client4", sender, [sender.sock], journal)
    else:
        eng.sock = netif.open_v4_client(cfg.interface)
        runner.add("client4", eng, [eng.sock], journal)
    w = Wan4(runner, eng, netif, cfg, sender)
    runner.after_step.append(w.after_step)
    runner.on_close.append(w.close)
    return eng


class WanGlue:
    """What the WAN clients' glue shares: log lines with the engine's prefix, state changes
    logged, and whether the lease to apply moved on since the last step."""

    prefix = "client4: "

    def log(self, text):
        lg = self.runner.log
        if lg:
            lg(self.prefix + text)

    def lease_moved(self, names):
        """Log a state change (names: the engine's STATE_NAMES); True when lease_version moved."""
        e = self.eng
        if e.state != self.state:
            self.log("%s -> %s" % (names[self.state], names[e.state]))
            self.state = e.state
        if e.lease_version != self.version:
            self.version = e.lease_version
            return True
        return False


class Wan4(WanGlue):
    def __init__(self, runner, eng, netif, cfg, sender=None):
        self.runner = runner
        self.eng = eng
        self.sender = sender or eng  # what builds the RELEASE: the engine, or its 4o6 transport
        self.netif = netif
        self.cfg = cfg
        self.version = 0  # the engine's lease_version last acted on
        self.applied = None  # the lease_info() now on the interface
        self.pending = None  # the lease_info() waiting for its ARP probe
        self.state = eng.state
        if eng.state == INIT_REBOOT and cfg.configure:
            # a restart that kept its lease: the address may still be on the interface. Treat
            # it as applied, so a NAK (or a different address) takes it away.
            self.applied = {"address": ip4_str(eng.mem.addr), "prefix": eng.mem.plen, "routes": []}

    def after_step(self, now):
        e = self.eng
        if self.lease_moved(STATE_NAMES):
            self.pending = None  # a probe for a lease that is gone no longer matters
            self._changed(e.lease_info(), now)
        if self.applied is not None and not e.bound and e.state != INIT_REBOOT and e.state != REBOOTING:
            self._remove()  # the remembered lease was refused (NAK) or abandoned
        if self.pending is not None:
            r = self.netif.probe4_result()
            if r is not None:
                info = self.pending
                self.pending = None
                if r == 1:
                    self.log("%s is in use (ARP probe answered): DECLINE" % info["address"])
                    e.address_in_use(now)
                else:
                    if r != 0:
                        self.log("ARP probe unavailable (status %d): using %s unprobed" % (r, info["address"]))
                    self._apply(info)

    def _changed(self, info, now):
        if info is None:
            if self.applied is not None:
                self._remove()
            return
        old = self.applied
        if old is not None and old["address"] == info["address"] and old["prefix"] == info["prefix"]:
            self._apply(info)  # renewal with changed options: no probe
        elif self.cfg.configure:
            if old is not None:
                self._remove()
            self.pending = info
            self.netif.probe4_start(self.cfg.interface, info["address"])
        else:
            self._apply(info)

    def _apply(self, info):
        if self.cfg.configure:
            self.netif.apply_lease4(self.cfg.interface, info, self.applied, self.cfg.resolv_conf)
        self.applied = info
        self.log("BOUND %s/%d from %s, lease %d s (T1 %d, T2 %d), routes %s, dns %s%s" % (
            info["address"], info["prefix"], info["server"], info["lease"], info["t1"], info["t2"],
            " ".join("%s/%d via %s" % r for r in info["routes"]) or "-",
            " ".join(info["dns"]) or "-", ", applied" if self.cfg.configure else " (not applied)"))

    def _remove(self):
        info = self.applied
        self.applied = None
        if self.cfg.configure:
            self.netif.remove_lease4(self.cfg.interface, info, self.cfg.resolv_conf)
        self.log("removed %s/%d from %s" % (info["address"], info["prefix"], self.cfg.interface))

    def close(self):
        """Graceful stop: RELEASE (sent at once, the journal committed), then deconfigure."""
        if not self.cfg.release_on_shutdown:
            if self.applied is not None:
                self.log("stopping; keeping %s (release-on-shutdown is false)" % self.applied["address"])
            return
        out = self.runner.ring[0]
        n = self.sender.release(self.netif.now(), out)
        if n:
            self.netif.send(out)
            self.log("RELEASE %s sent" % self.applied["address"] if self.applied else "RELEASE sent")
        self.eng.journal.commit()
        if self.applied is not None:
            self._remove()
