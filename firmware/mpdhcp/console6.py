# The DHCPv6 half of console.py (which finds these names here when first asked for them:
# console.leases6() works as before, and a DHCPv4 board carries none of this).
from .console import _svc, _locked, _engine_stats, each_record
from .state.table import KEYMAX


def client6(svc=None):
    """The WAN DHCPv6 client: its state, its binding (addresses, delegated prefixes, DNS) and
    its counters; None when no Client6 runs."""
    s = _svc(svc)
    eng = s.engine("client6")
    if eng is None:
        return None
    from .v6.client6 import STATE_NAMES

    return {"state": STATE_NAMES[eng.state], "lease": eng.lease_info(), "counters": dict(eng.stats)}


def _duid_hex(duid, klen):
    if not klen:
        return ""
    text = ":".join("%02x" % c for c in duid)
    return text if klen <= KEYMAX else "%d-byte DUID starting %s" % (klen, text)


def leases6(svc=None, now=None):
    """Every DHCPv6 lease (IA_NA addresses and IA_PD prefixes) as dicts."""
    return list(each_lease6(svc, now))


def each_lease6(svc=None, now=None):
    """The same, one dict at a time (the control socket streams them)."""
    return each_record(svc, now, "server6", lease6_dict)


def lease6_dict(f, subnets, now):
    """One Leases6.fields() tuple as a Kea-style lease6 dict."""
    from .state import leases6 as L6
    from .wire.addr6 import ip6_str  # (DHCPv6 only: a v4 board never loads it)
    addr, plen, kind, duid, klen, iaid, st, exp, si, flags = f
    sub = subnets[si]
    return {
        "ip-address": ip6_str(addr),
        "prefix-len": plen,
        "type": L6.KIND_NAMES[kind],
        "duid": _duid_hex(duid, klen),
        "iaid": iaid,
        "state": L6.STATE_NAMES[st],
        "subnet-id": sub.id,
        "preferred-lft": sub.preferred,
        "valid-lft": sub.valid,
        "expire": exp,
        "expires-in": exp - now,
        "reconfigure": bool(flags & L6.F_RECONF),
    }


def stats6(svc=None):
    """Counters of the DHCPv6 server plus its journal's and table's."""
    eng = _svc(svc).engine("server6")
    if eng is None:
        return {}
    d = _engine_stats(eng)
    d["server_duid"] = eng.duid_hex()
    return d


def reconfigure(address, msg="renew", svc=None):
    """Send a DHCPv6 Reconfigure (RKAP-authenticated, retransmitted) to the client holding
    `address` ('2001:db8::100' or a delegated 'prefix/len'); msg "renew", "rebind" or "info"."""
    return _locked(_reconfigure, svc, address, msg)


def _reconfigure(s, address, msg):
    eng = s.engine("server6")
    if eng is None:
        raise ValueError("no DHCPv6 server is running")
    from .wire import packet6 as P6
    from .wire.addr6 import ip6, ip6_str
    mt = {"renew": P6.RENEW, "rebind": P6.REBIND, "info": P6.INFO_REQUEST,
          "information-request": P6.INFO_REQUEST}.get(msg)
    if mt is None:
        raise ValueError("msg must be renew, rebind or info")
    plen = 128
    if "/" in address:
        address, p = address.split("/", 1)
        plen = int(p)
    r = eng.reconfigure(ip6(address), 0, plen, mt, s.now())
    f = eng.leases.fields(r)
    return {"client": _duid_hex(f[3], f[4]), "to": ip6_str(f[0]), "msg-type": msg,
            "retransmit": "RFC 8415 18.3.11: up to 8 times, 2 s doubling"}


