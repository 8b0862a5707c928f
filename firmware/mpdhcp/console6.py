# DHCPv6 inspection and actions for console.py (REPL and control socket): leases6() and
# reconfigure(). Allocates freely: never on the packet path.
from .wire.addr6 import ip6, ip6_str
from .state import leases6 as L
from .wire import packet6 as P


def _duid_hex(recs, o):
    klen = recs[o + L.R_KEYLEN]
    if not klen:
        return ""
    if klen > L.KEYMAX:
        return "%d-byte DUID starting " % klen + ":".join("%02x" % recs[o + L.R_KEY + i] for i in range(16))
    return ":".join("%02x" % recs[o + L.R_KEY + i] for i in range(klen))


def leases6(svc, now=None):
    """Every DHCPv6 lease as a dict, Kea lease6 field names where they exist."""
    return list(each_lease6(svc, now))


def each_lease6(svc, now=None):
    """The same, one dict at a time (the control socket streams them: a board never holds
    the whole table as objects)."""
    eng = svc.engine("server6")
    if eng is None:
        return
    now = svc.now() if now is None else now
    lt = eng.leases
    for r in range(lt.used):
        st = lt.state(r)
        if st == L.FREE:
            continue
        o = r * L.REC
        recs = lt.recs
        sub = eng.subnets[lt.subnet(r)]
        exp = lt.expiry(r)
        iaid = (recs[o + L.R_IAID] << 24) | (recs[o + L.R_IAID + 1] << 16) | (recs[o + L.R_IAID + 2] << 8) | recs[o + L.R_IAID + 3]
        yield {
            "ip-address": ip6_str(recs, o + L.R_ADDR),
            "prefix-len": lt.plen(r),
            "type": "IA_NA" if lt.kind(r) == L.NA else "IA_PD",
            "duid": _duid_hex(recs, o),
            "iaid": iaid,
            "state": L.STATE_NAMES[st],
            "subnet-id": sub.id,
            "preferred-lft": sub.preferred,
            "valid-lft": sub.valid,
            "expire": exp,
            "expires-in": exp - now,
            "reconfigure": bool(lt.flags(r) & L.F_RECONF),
        }


def reconfigure(svc, address, msg="renew"):
    """Send a Reconfigure to the client holding `address` (an address, or 'prefix/len' of a
    delegated prefix), asking for a Renew ("renew") or an Information-request ("info").
    Raises ValueError when that client cannot be reconfigured (it never sent Reconfigure
    Accept, or it has no lease)."""
    eng = svc.engine("server6")
    if eng is None:
        raise ValueError("no DHCPv6 server is running")
    mt = {"renew": P.RENEW, "info": P.INFO_REQUEST, "information-request": P.INFO_REQUEST}.get(msg)
    if mt is None:
        raise ValueError("msg must be renew or info")
    plen = 128
    if "/" in address:
        address, p = address.split("/", 1)
        plen = int(p)
    r = eng.reconfigure(ip6(address), 0, plen, mt, svc.now())
    return {"client": _duid_hex(eng.leases.recs, r * L.REC),
            "to": ip6_str(eng.leases.recs, r * L.REC + L.R_ADDR), "msg-type": msg,
            "retransmit": "RFC 8415 18.3.11: up to 8 times, 2 s doubling"}


def stats6(svc):
    """Counters of the DHCPv6 server plus its journal's and table's."""
    eng = svc.engine("server6")
    if eng is None:
        return {}
    d = dict(eng.stats)
    j = eng.journal
    d["journal_bytes_written"] = j.bytes_written
    d["journal_commits"] = j.commits
    d["journal_size"] = j.size
    d["leases_capacity"] = eng.leases.cap
    d["leases_used"] = eng.leases.used
    d["server_duid"] = eng.duid_hex()
    return d
