# Inspection helpers, the same for the REPL on a board and the control socket on Linux:
#   import mpdhcp.console as c; c.leases(); c.stats()
# They build plain lists/dicts (allocating is fine here: never on the packet path).
from .addr import ip4_str, mac_str, hexstr
from . import leases4 as L

SERVICE = None  # the running service (set by the runner), so the REPL needs no arguments


def _svc(svc):
    s = svc or SERVICE
    if s is None:
        raise RuntimeError("mpdhcp is not running")
    return s


def leases(svc=None, now=None):
    """Every lease the v4 server knows, as dicts (Kea's lease4 field names where they exist)."""
    s = _svc(svc)
    eng = s.engine("server4")
    if eng is None:
        return []
    now = s.now() if now is None else now
    lt = eng.leases
    out = []
    for r in range(lt.used):
        st = lt.state(r)
        if st == L.FREE:
            continue
        o = r * L.REC
        klen = lt.recs[o + L.R_KEYLEN]
        cid = ""
        if lt.recs[o + L.R_FLAGS] & L.F_CID and klen <= L.KEYMAX:
            cid = hexstr(lt.recs[o + L.R_KEY : o + L.R_KEY + klen])
        nlen = lt.names[r * L.NAME]
        exp = lt.expiry(r)
        sub = eng.subnets[lt.subnet(r)]
        out.append({
            "ip-address": ip4_str(lt.recs, o + L.R_ADDR),
            "hw-address": mac_str(lt.recs, o + L.R_HW),
            "client-id": cid,
            "hostname": bytes(lt.names[r * L.NAME + 1 : r * L.NAME + 1 + nlen]).decode(),
            "state": L.STATE_NAMES[st],
            "subnet-id": sub.id,
            "valid-lft": sub.valid,
            "expire": exp,  # engine clock: seconds since 2000-01-01
            "expires-in": exp - now,
        })
    return out


def stats(svc=None):
    """Counters of the v4 server (flat, as before) plus the journal's."""
    s = _svc(svc)
    eng = s.engine("server4")
    d = {}
    if eng is not None:
        d = dict(eng.stats)
        j = eng.journal
        d["journal_bytes_written"] = j.bytes_written
        d["journal_commits"] = j.commits
        d["journal_size"] = j.size
        d["leases_capacity"] = eng.leases.cap
        d["leases_used"] = eng.leases.used
    d["sent"] = s.sent
    d["send_errors"] = s.send_errors
    return d


def config(svc=None):
    s = _svc(svc)
    out = {}
    c = s.cfg.get("Dhcp4") if s.cfg is not None else None
    if c is not None:
        out["Dhcp4"] = {
            "interfaces": [n for n, _ in c.interfaces],
            "lease-file": c.lease_file,
            "subnets": [{"id": x.id, "subnet": ip4_str(x.net) + "/%d" % x.plen, "valid-lifetime": x.valid}
                        for x in c.subnets],
        }
    return out


def command(req, svc=None):
    """A Kea-style control command {"command": ...} -> {"result": 0|1, ...}."""
    cmd = req.get("command") if isinstance(req, dict) else None
    try:
        if cmd in ("lease4-get-all", "leases"):
            return {"result": 0, "arguments": {"leases": leases(svc)}}
        if cmd in ("statistic-get-all", "stats"):
            return {"result": 0, "arguments": stats(svc)}
        if cmd in ("config-get", "config"):
            return {"result": 0, "arguments": config(svc)}
    except Exception as e:  # a console error must never stop the service
        return {"result": 1, "text": "%s failed: %s" % (cmd, e)}
    return {"result": 2, "text": "unknown command %r (lease4-get-all, statistic-get-all, config-get)" % (cmd,)}
