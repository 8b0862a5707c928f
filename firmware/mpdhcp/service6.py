# The DHCPv6 server's start, for service.BUILDERS ("Dhcp6"): apart from service.py so that a
# DHCPv4 board carries none of it.
from .service import open_each, why, can_4o6, DEFAULT_CAPACITY
from .state.journal import Journal
from .v6.server6 import Server6


def capacity6(cfg):
    """DHCPv6 leases (addresses and prefixes) for clients without a reservation."""
    if cfg.max_leases:
        return cfg.max_leases
    total = 0
    for s in cfg.subnets:
        for p in s.pools:
            total += p.size
        for p in s.pd_pools:
            total += p.size
        if total >= DEFAULT_CAPACITY:
            return DEFAULT_CAPACITY
    return max(total, 16)


def new_duid(cfg, netif, now):
    """DUID-LLT (type 1) or DUID-LL (type 3), RFC 8415 11.2/11.4, from the config's identifier
    or the first interface's MAC. DUID-LLT time counts from 2000-01-01, like the engine clock."""
    ident = cfg.duid_ident
    if ident is None:
        ident = netif.mac(cfg.interfaces[0])
    h = cfg.duid_htype
    if cfg.duid_type == "LL":
        return bytes((0, 3, h >> 8, h & 255)) + ident
    t = cfg.duid_time if cfg.duid_time is not None else now
    return bytes((0, 1, h >> 8, h & 255, (t >> 24) & 255, (t >> 16) & 255, (t >> 8) & 255, t & 255)) + ident


def start_server6(runner, cfg, netif):
    """The DHCPv6 server: engine, its journal (which also keeps the server DUID and the
    Reconfigure secret across restarts), a socket per interface (and per global address
    where the adapter can tell unicast apart)."""
    journal = Journal(cfg.lease_file)
    eng = Server6(cfg, journal, capacity6(cfg), new_duid(cfg, netif, netif.now()),
                  netif.random_bytes(16))
    eng.restore(netif.now())  # a stored identity replaces the fresh one just made
    socks, eng.served = open_each(runner, "Dhcp6", cfg.interfaces, netif.open_v6_server)
    for name, i in zip(eng.served, socks):
        eng.sock_of[name] = i
    v4 = runner.engine("server4")
    if v4 is not None and [s for s in v4.subnets if s.o6_interface or s.o6_subnet or s.o6_iid]:
        # DHCPv4-over-DHCPv6 in one process, for the Dhcp4 subnets with 4o6 keys: a direct call
        if can_4o6(runner, v4):
            eng.enable_4o6(v4)
    elif cfg.dhcp4o6_port:  # across processes: Kea's IPC to a DHCPv4 half
        eng.enable_4o6()
        eng.ipc_port = cfg.dhcp4o6_port
        eng.ipc_sock = netif.open_ipc6(cfg.dhcp4o6_port)
        socks.append(eng.ipc_sock)
    unicast = getattr(netif, "open_v6_unicast", None)
    if unicast is not None:
        for name in eng.served:
            try:
                socks += unicast(name)
            except OSError as e:
                runner.notes.append("Dhcp6: no unicast socket on %s: %s" % (name, why(e)))
    runner.add("server6", eng, socks, journal)
    return eng
