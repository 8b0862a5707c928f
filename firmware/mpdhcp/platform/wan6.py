# Glue between the Client6 engine and a platform adapter (the router's WAN side, DHCPv6).
# After every runner step: when the engine's lease_version moved, the addresses it holds are
# put on the WAN interface with their lifetimes (netif.apply_lease6) and the ones it dropped
# are removed; DNS servers go to the configured resolv-conf. Duplicate address detection that
# failed (netif.dad_failed6) goes back to the engine, which Declines. On a graceful stop it
# Releases, unless release-on-shutdown is false. Allocates freely: once per step, off the
# packet path.
from micropython import const
from ..v6.client6 import Client6, STATE_NAMES, RELEASE
from ..state.journal import Journal
from .wan4 import WanGlue

DAD_WATCH = const(5)  # seconds after an address is put on during which a failed DAD is looked for


def start_client6(runner, cfg, netif):
    hw = netif.mac(cfg.interface)
    journal = Journal(cfg.lease_file)
    eng = Client6(cfg, journal, hw, netif.now() & 0xFFFF)
    eng.ms = netif.ms()
    eng.restore(netif.now(), duid_llt(hw, netif.now()))
    eng.sock = netif.open_v6_client(cfg.interface)
    runner.add("client6", eng, [eng.sock], journal)
    w = Wan6(runner, eng, netif, cfg)
    runner.after_step.append(w.after_step)
    runner.on_close.append(w.close)
    return eng


def duid_llt(hw, now):
    """DUID-LLT (RFC 8415 11.2): type 1, hardware type 1 (Ethernet), time since 2000, the MAC.
    Made once: the journal keeps it across restarts."""
    t = now & 0xFFFFFFFF
    return bytes((0, 1, 0, 1, (t >> 24) & 255, (t >> 16) & 255, (t >> 8) & 255, t & 255)) + bytes(hw)


class Wan6(WanGlue):
    prefix = "client6: "

    def __init__(self, runner, eng, netif, cfg):
        self.runner = runner
        self.eng = eng
        self.netif = netif
        self.cfg = cfg
        self.version = 0
        self.applied = []  # (address text, plen) now on the interface
        self.state = eng.state
        self.dad_until = 0  # duplicate address detection is looked at until then, once a second
        self.dad_at = 0
        self.lan = {}  # router mode: LAN interface -> (address text, plen) put on it

    def after_step(self, now):
        e = self.eng
        if self.lease_moved(STATE_NAMES):
            self._apply(e.lease_info(), now)
        if self.cfg.configure and self.applied and self.dad_at < now <= self.dad_until:
            self.dad_at = now  # `ip` runs at most once a second, for a few seconds after a change
            for a, plen in list(self.applied):
                if self.netif.dad_failed6(self.cfg.interface, a):
                    self.log("%s failed duplicate address detection: Decline" % a)
                    self.applied.remove((a, plen))  # the kernel has dropped it already
                    e.dad_failed(_bytes6(a), now)

    def _apply(self, info, now):
        want = [(a, 128, pref - now, valid - now) for a, plen, pref, valid in info["addresses"]]
        keep = set((a, p) for a, p, _, _ in want)
        if self.cfg.configure:
            for a, p in self.applied:
                if (a, p) not in keep:
                    self.netif.remove_address6(self.cfg.interface, a, p)
                    self.log("removed %s/%d" % (a, p))
            for a, p, pref, valid in want:
                self.netif.apply_address6(self.cfg.interface, a, p, max(pref, 0), max(valid, 0))
            if self.cfg.resolv_conf and info["dns"]:
                self.netif.write_resolv(self.cfg.resolv_conf, info["dns"], info["domains"])
        self.applied = [(a, p) for a, p, _, _ in want]
        self.dad_until = now + DAD_WATCH
        self._route(info, now)
        if want or info["prefixes"]:
            self.log("BOUND %s, prefixes %s, dns %s%s" % (
                " ".join("%s/%d" % (a, p) for a, p, _, _ in want) or "-",
                " ".join("%s/%d (valid %d s)" % (a, p, v - now) for a, p, _, v in info["prefixes"]) or "-",
                " ".join(info["dns"]) or "-", "" if self.cfg.configure else " (not applied)"))

    def _route(self, info, now):
        """Router mode: the Dhcp6 server's subnets from the delegated prefix follow it
        (Server6.renumber), and each one's LAN interface gets address ::1 of its /64."""
        srv = self.runner.engine("server6")
        if srv is None:
            return
        pfx = info["prefixes"][0] if info["prefixes"] else None
        from mpdhcp.wire.addr6 import ip6, ip6_str

        changed = srv.renumber(ip6(pfx[0]) if pfx else None, pfx[1] if pfx else 0, now,
                               pfx[2] if pfx else 0, pfx[3] if pfx else 0)
        for t in srv.left_out:
            self.log("LAN subnet %s: this pd-pool does not fit the delegated prefix (left out)" % t)
        for sid, net in changed:
            sub = [x for x in srv.subnets if x.id == sid][0]
            ifname = sub.interface
            pd = " ".join("%s/%d in /%ds" % (ip6_str(x.prefix), x.plen, x.dlen) for x in sub.pd_pools)
            self.log("LAN subnet %d on %s: %s%s" % (sid, ifname or "-", net or "none (no delegated prefix)",
                                                    ", pd-pools " + pd if pd else ""))
            if not ifname or not self.cfg.configure:
                continue
            old = self.lan.pop(ifname, None)
            if old is not None:
                self.netif.remove_address6(ifname, old[0], old[1])
            if net is not None:
                self.lan[ifname] = (net.split("/")[0] + "1", 64)
        if pfx is not None and self.cfg.configure:  # every change: the lifetimes follow the prefix's
            for ifname, (a, plen) in self.lan.items():
                self.netif.apply_address6(ifname, a, plen, max(pfx[2] - now, 0), max(pfx[3] - now, 0))

    def close(self):
        """Graceful stop: the addresses come off, then Release, retransmitted by the engine
        until the server's Reply or its last try (RFC 8415 18.2.7: at most 4 sends, about
        15 s with no server), the runner stepping meanwhile."""
        if not self.cfg.release_on_shutdown:
            return
        if self.cfg.configure:
            for a, p in self.applied:
                self.netif.remove_address6(self.cfg.interface, a, p)
        self.applied = []
        out = self.runner.ring[0]
        e = self.eng
        e.ms = self.netif.ms()
        if e.release(self.netif.now(), out):
            self.netif.send(out)
            self.log("Release sent")
            steps = 0
            while e.state == RELEASE and steps < 1000:  # bounded: 4 RTs of 1..8 s at most
                self.runner.step(self.runner.timeout_ms(1000))
                steps += 1
            self.log("Release %s" % ("answered" if e.stats["reply"] else "not answered: given up"))
        e.journal.commit()


def _bytes6(text):
    from mpdhcp.wire.addr6 import ip6

    return ip6(text)
