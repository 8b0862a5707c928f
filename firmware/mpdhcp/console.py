# Inspection helpers, the same for the REPL on a board and the control socket on Linux:
#   import mpdhcp.console as c; c.leases(); c.stats()
# They build plain lists/dicts (allocating is fine here: never on the packet path).
from .wire.addr import ip4_str, mac_str, hexstr
from .state import leases4 as L

SERVICE = None  # the running service (set by the runner), so the REPL needs no arguments


def _svc(svc):
    s = svc or SERVICE
    if s is None:
        raise RuntimeError("mpdhcp is not running")
    return s


def leases(svc=None, now=None):
    """Every lease the v4 server knows, as dicts (Kea's lease4 field names where they exist)."""
    return list(each_lease(svc, now))


def each_lease(svc=None, now=None):
    """The same, one dict at a time: a board never holds the whole table as objects."""
    s = _svc(svc)
    eng = s.engine("server4")
    if eng is None:
        return
    now = s.now() if now is None else now
    lt = eng.leases
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
        yield {
            "ip-address": ip4_str(lt.recs, o + L.R_ADDR),
            "hw-address": mac_str(lt.recs, o + L.R_HW),
            "client-id": cid,
            "hostname": bytes(lt.names[r * L.NAME + 1 : r * L.NAME + 1 + nlen]).decode(),
            "state": L.STATE_NAMES[st],
            "subnet-id": sub.id,
            "valid-lft": sub.valid,
            "expire": exp,  # engine clock: seconds since 2000-01-01
            "expires-in": exp - now,
        }


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


def client4(svc=None):
    """The WAN client: its state, the lease it holds (None when none) and its counters."""
    s = _svc(svc)
    eng = s.engine("client4")
    if eng is None:
        return None
    from .v4.client4 import STATE_NAMES

    return {"state": STATE_NAMES[eng.state], "lease": eng.lease_info(), "counters": dict(eng.stats)}


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
        if cmd in ("client4-get", "client4"):
            return {"result": 0, "arguments": client4(svc)}
        if cmd in ("config-get", "config"):
            return {"result": 0, "arguments": config(svc)}
        if cmd in ("lease6-get-all", "leases6"):
            return {"result": 0, "arguments": {"leases": leases6(svc)}}
        if cmd in ("statistic6-get-all", "stats6"):
            from .console6 import stats6
            return {"result": 0, "arguments": stats6(_svc(svc))}
        if cmd == "reconfigure6":  # {"command": "reconfigure6", "arguments": {"address", "msg"}}
            a = req.get("arguments") or {}
            return {"result": 0, "arguments": reconfigure(a.get("address", ""), a.get("msg", "renew"), svc)}
    except Exception as e:  # a console error must never stop the service
        return {"result": 1, "text": "%s failed: %s" % (cmd, e)}
    return {"result": 2, "text": "unknown command %r (lease4-get-all, statistic-get-all, config-get)" % (cmd,)}


# -- acting on the running service (issue 6) ---------------------------------------------
# LOCK is set by platform_thread.py when the runner serves from a thread: changes then happen
# between two runner steps, never in the middle of an exchange. CONFIG_PATH is the config
# file the service was started from (reserve() adds the reservation there too).
LOCK = None
CONFIG_PATH = None


def _locked(fn, *args):
    if LOCK is None:
        return fn(*args)
    with LOCK:
        return fn(*args)


def release(ip, svc=None):
    """Mark the v4 lease on address `ip` released (journaled). Returns the lease as it was."""
    return _locked(_release, ip, svc)


def _release(ip, svc):
    from .wire.addr import ip4

    s = _svc(svc)
    eng = s.engine("server4")
    a = ip4(ip)
    r = eng.leases.find_addr(a, 0) if eng is not None else -1
    if r < 0 or eng.leases.state(r) == L.FREE:
        raise ValueError("no lease on " + ip)
    was = L.STATE_NAMES[eng.leases.state(r)]
    eng.leases.set(r, L.RELEASED, s.now())
    eng._journal_state(r)
    eng.journal.commit()
    return {"ip-address": ip, "was": was, "state": "released"}


def reserve(hw, ip, hostname=None, subnet_id=None, svc=None):
    """Reserve address `ip` for MAC `hw` in the running server and in its config file.
    Refuses an address another client holds now. Returns the reservation as a dict."""
    return _locked(_reserve, hw, ip, hostname, subnet_id, svc)


def _reserve(hw, ip, hostname, subnet_id, svc):
    import json
    from .wire.addr import ip4
    from . import config as C
    from .config.dhcp4 import _reservation
    from .v4 import server4

    s = _svc(svc)
    eng = s.engine("server4")
    if eng is None:
        raise ValueError("no DHCPv4 server running")
    a = ip4(ip)
    sub = None
    for x in eng.subnets:
        if x.contains(a) and (subnet_id is None or x.id == subnet_id):
            sub = x
    if sub is None:
        raise ValueError(ip + " is in no configured subnet")
    entry = {"hw-address": hw.lower(), "ip-address": ip}
    if hostname:
        entry["hostname"] = hostname
    res = _reservation(entry, "reservation", sub)  # the same checks as the config file
    for q in sub.reservations:
        if q.addr == res.addr or (q.hw is not None and q.hw == res.hw):
            raise ValueError("%s or %s is already reserved" % (ip, hw))
    lt = eng.leases
    r = lt.find_addr(a, 0)
    if r >= 0 and lt.active(r, s.now()):
        o = r * L.REC + L.R_HW
        if bytes(lt.recs[o : o + 6]) != res.hw:
            raise ValueError(ip + " is leased to " + mac_str(lt.recs, o) + " now")
    path = CONFIG_PATH
    if path:
        with open(path) as f:
            doc = json.loads(f.read())
        for sd in doc["Dhcp4"]["subnet4"]:
            if sd.get("id") == sub.id:
                sd.setdefault("reservations", []).append(entry)
        text = json.dumps(doc)
        C.parse_doc(text)  # never write a config the service would refuse at its next start
        with open(path + ".tmp", "w") as f:
            f.write(text)
        import os

        os.rename(path + ".tmp", path)
    sub.reservations.append(res)
    eng.reserved[sub.index][server4._offset(sub, res.addr)] = res
    d = {"hw-address": entry["hw-address"], "ip-address": ip, "hostname": hostname or "",
         "subnet-id": sub.id, "config-file": path or ""}
    if lt.used >= lt.cap and not lt.nfree:  # the table is sized at start (max-leases)
        d["note"] = "lease table full (%d): served once a record frees, or after a restart" % lt.cap
    return d


# -- DHCPv6 server (issue 5): console6.py does the work -----------------------------------
def leases6(svc=None, now=None):
    """Every DHCPv6 lease (IA_NA addresses and IA_PD prefixes) as dicts."""
    from .console6 import leases6 as f

    return f(_svc(svc), now)


def reconfigure(address, msg="renew", svc=None):
    """Send a DHCPv6 Reconfigure (RKAP-authenticated, retransmitted) to the client holding
    `address` ('2001:db8::100' or a delegated 'prefix/len'); msg "renew" or "info"."""
    from .console6 import reconfigure as f

    return _locked(f, _svc(svc), address, msg)
