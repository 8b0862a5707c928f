# Start-up of the DHCPv6 server (the service.BUILDERS entry for "Dhcp6"): the engine, its
# journal (which also keeps the server DUID and the Reconfigure secret across restarts), and
# one socket per interface.
from .state.journal import Journal
from .v6.server6 import Server6

DEFAULT_CAPACITY = 2048  # DHCPv6 leases held in RAM when the config sets no max-leases


def capacity6(cfg):
    if cfg.max_leases:
        return cfg.max_leases
    total = 0
    for s in cfg.subnets:
        for p in s.pools:
            total += p.size
        for p in s.pd_pools:
            total += p.size
        total += len(s.reservations)
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
    journal = Journal(cfg.lease_file)
    eng = Server6(cfg, journal, capacity6(cfg), new_duid(cfg, netif, netif.now()),
                 netif.random_bytes(16))
    eng.restore()  # a stored identity replaces the fresh one just made
    socks = [netif.open_v6_server(name) for name in cfg.interfaces]
    unicast = getattr(netif, "open_v6_unicast", None)  # adapters that can tell unicast apart
    if unicast is not None:
        for name in cfg.interfaces:
            socks += unicast(name)
    runner.add("server6", eng, socks, journal)
    return eng
