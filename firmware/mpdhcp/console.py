# What an operator asks of the running service, the same on the REPL of a board and on the
# control socket on Linux: one command table (COMMANDS) serves both.
#   import mpdhcp.console as c; c.leases(); c.stats(); c.command({"command": "lease4-get-all"})
# Listings read records through the tables' fields() and change them only through the
# tables' verbs (which journal). They build plain lists/dicts: allocating is fine here,
# never on the packet path.
from .wire.addr import ip4_str, mac_str, hexstr
from .state import leases4 as L
# The DHCPv6 views live in console6.py (console.leases6() etc. find them there, see
# __getattr__): a v4-only board carries none of them, nor packet6 or leases6

SERVICE = None  # a service other than runner.RUNNING for the REPL's functions (tests)
# When the runner serves from a thread, platform/thread.py gives it a lock (runner.lock):
# changes then happen between two runner steps, never in the middle of an exchange, and
# listings read each record there too (a DHCPv4 hostname is read from the journal file). The
# runner's config_path is the file it started from (reserve() adds the reservation there too).


def _svc(svc):
    s = svc or SERVICE
    if s is None:
        from . import runner

        s = runner.RUNNING
    if s is None:
        raise RuntimeError("mpdhcp is not running")
    return s


def _locked(fn, svc, *args):
    """fn(service, *args), between two runner steps when the runner serves from a thread."""
    s = _svc(svc)
    lock = getattr(s, "lock", None)  # (a stand-in service, as tests give, has none)
    if lock is None:
        return fn(s, *args)
    with lock:
        return fn(s, *args)


def _text(b):
    """Stored bytes as text that any listing (and JSON) survives: UTF-8 when it is, else
    the printable ASCII with '?' for the rest."""
    try:
        return b.decode()
    except Exception:  # MicroPython raises UnicodeError, CPython UnicodeDecodeError
        return "".join(chr(c) if 32 <= c < 127 else "?" for c in b)


# -- DHCPv4 server -------------------------------------------------------------------------

def leases(svc=None, now=None):
    """Every lease the v4 server knows, as dicts (Kea's lease4 field names where they exist)."""
    return list(each_lease(svc, now))


def each_lease(svc=None, now=None):
    """The same, one dict at a time: a board never holds the whole table as objects."""
    return each_record(svc, now, "server4", lease4_dict)


def each_record(svc, now, engine, to_dict):
    """to_dict(fields, subnets, now) of every record in use in that engine's lease table,
    one at a time (both servers' listings)."""
    s = _svc(svc)
    eng = s.engine(engine)
    if eng is None:
        return
    now = s.now() if now is None else now
    lt = eng.leases
    for r in range(lt.used):
        f = _locked(_fields, s, lt, r)  # (a hostname may be read from the journal file)
        if f is not None:
            yield to_dict(f, eng.subnets, now)


def _fields(s, lt, r):
    return lt.fields(r) if lt.state(r) != L.FREE else None


def lease4_dict(f, subnets, now):
    """One Leases4.fields() tuple as a Kea-style dict (console, control socket, export-kea)."""
    addr, hw, cid, name, st, exp, si = f
    sub = subnets[si]
    return {
        "ip-address": ip4_str(addr),
        "hw-address": mac_str(hw),
        "client-id": hexstr(cid) if cid else "",
        "hostname": _text(name),
        "state": L.STATE_NAMES[st],
        "subnet-id": sub.id,
        "valid-lft": INFINITE if exp == FOREVER else sub.valid,  # BOOTP: forever (RFC 1534 4)
        "expire": exp,  # engine clock: seconds since 2000-01-01
        "expires-in": exp - now,
    }


FOREVER = 0x3FFFFFFF  # a BOOTP lease's expiry (v4/server4.py)
INFINITE = 0xFFFFFFFF  # Kea's infinite valid lifetime


def _engine_stats(eng):
    d = dict(eng.stats)
    j = eng.journal
    d["journal_bytes_written"] = j.bytes_written
    d["journal_commits"] = j.commits
    d["journal_size"] = j.size
    d["leases_capacity"] = eng.leases.cap
    d["leases_used"] = eng.leases.used
    if hasattr(eng.leases, "names_dropped"):  # DHCPv4: hostnames the arena had no room for
        d["hostnames_dropped"] = eng.leases.names_dropped
    return d


def stats(svc=None):
    """Counters of the v4 server (flat, as before) plus the journal's."""
    s = _svc(svc)
    eng = s.engine("server4")
    d = _engine_stats(eng) if eng is not None else {}
    d["sent"] = s.sent
    d["send_errors"] = s.send_errors
    d["refused_allocating"] = s.refused  # packets/timers an engine dropped by allocating
    d["rx_no_memory"] = s.rx_nomem  # receives put off for want of heap
    import gc

    if hasattr(gc, "mem_alloc"):  # MicroPython: the heap a soak test watches
        d["heap_alloc"] = gc.mem_alloc()
        d["heap_free"] = gc.mem_free()
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


def release(ip, svc=None):
    """Mark the v4 lease on address `ip` released (journaled). Returns the lease as it was."""
    return _locked(_release, svc, ip)


def _release(s, ip):
    from .wire.addr import ip4

    eng = s.engine("server4")
    a = ip4(ip)
    lt = eng.leases if eng is not None else None
    r = lt.find_addr(a, 0) if lt is not None else -1
    if r < 0 or lt.state(r) == L.FREE:
        raise ValueError("no lease on " + ip)
    was = L.STATE_NAMES[lt.state(r)]
    lt.release(r, s.now())
    eng.journal.commit()
    return {"ip-address": ip, "was": was, "state": "released"}


def reserve(hw, ip, hostname=None, subnet_id=None, svc=None):
    """Reserve address `ip` for MAC `hw` in the running server and in its config file.
    Refuses an address another client holds now. Returns the reservation as a dict."""
    return _locked(_reserve, svc, hw, ip, hostname, subnet_id)


def _reserve(s, hw, ip, hostname, subnet_id):
    from .wire.addr import ip4
    from .config.model4 import Reservation

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
    res = Reservation()
    try:
        res.hw = bytes.fromhex(hw.replace(":", "").replace("-", ""))
    except ValueError:
        raise ValueError(hw + ": not a MAC address")
    res.addr = bytes(a)
    res.hostname = hostname.encode() if hostname else None
    bad = res.problem(sub)  # the config file's rules (config/dhcp4.py asks the same)
    if bad is not None:
        raise ValueError("%s: %s" % bad)
    for q in sub.reservations:
        if q.addr == res.addr or (q.hw is not None and q.hw == res.hw):
            raise ValueError("%s or %s is already reserved" % (ip, hw))
    if eng.alloc.is_own(sub.index, 0, res.addr, 32):
        raise ValueError(ip + " is this server's own address")
    lt = eng.leases
    r = lt.find_addr(a, 0)
    if r >= 0 and lt.active(r, s.now()):
        holder = lt.fields(r)[1]
        if holder != res.hw:
            raise ValueError(ip + " is leased to " + mac_str(holder) + " now")
    entry = {"hw-address": mac_str(res.hw), "ip-address": ip}
    if hostname:
        entry["hostname"] = hostname
    path = getattr(s, "config_path", None)
    if path:
        _add_to_config(path, sub.id, entry, res)
    eng.reserve(sub, res)
    d = {"hw-address": entry["hw-address"], "ip-address": ip, "hostname": hostname or "",
         "subnet-id": sub.id, "config-file": path or ""}
    if lt.count >= lt.cap:  # the table is sized at start (max-leases + reservations)
        d["note"] = "lease table full (%d): served once a record frees, or after a restart" % lt.cap
    return d


def _add_to_config(path, subnet_id, entry, res):
    """The reservation into the config file, and into the image compiled from it when there
    is one (config/image.py): the image first, naming the old text and the new, so a start
    after power lost between the two writes still finds a pair that fits."""
    import json
    from . import config as C
    from .config import image

    with open(path, "rb") as f:
        old = f.read()
    doc = json.loads(old)
    for sd in doc["Dhcp4"]["subnet4"]:
        if sd.get("id") == subnet_id:
            sd.setdefault("reservations", []).append(entry)
    text = json.dumps(doc)
    try:
        from .config.parser import parse_doc
    except ImportError:  # a board with its config compiled: the image is what it starts from
        parse_doc = None
    if parse_doc is not None:
        parse_doc(text)  # never write a config the service would refuse at its next start
    ipath = C.image_path(path)
    h = image.head(ipath)
    if h is not None and image.fits(h, old):  # (a stale image stays so: the JSON wins at start)
        secs = image.body(ipath)
        for sd in secs["Dhcp4"]["a"]["subnets"]:
            if sd["a"]["id"] == subnet_id:
                sd["a"]["reservations"].append(image.encode_reservation(res))
        h["sources"] = [image.source_of(old), image.source_of(text.encode())]
        _write(ipath, image.text(h, secs))
    _write(path, text)


def _write(path, text):
    import os

    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


# -- the command table: REPL and control socket ---------------------------------------------
# name -> (handler(arguments, svc) -> result, streamer(svc) or None). A streamer yields the
# leases one at a time, so the control socket can write a long listing without holding it.

def _v6():
    from mpdhcp import console6  # the DHCPv6 views (a DHCPv4 board carries no console6.py)

    return console6


def __getattr__(name):
    """console.leases6() and the other DHCPv6 views, from console6.py when first asked for;
    on a board without it, none (hasattr(console, "leases6") is False, as inspect asks)."""
    if name in _V6:
        try:
            return getattr(_v6(), name)
        except ImportError:
            pass
    raise AttributeError(name)


_V6 = ("client6", "leases6", "each_lease6", "lease6_dict", "stats6", "reconfigure")


def _each_lease6(svc):
    return _v6().each_lease6(svc)


COMMANDS = {}
for _names, _fn, _stream in (
        (("lease4-get-all", "leases"), lambda a, s: {"leases": leases(s)}, each_lease),
        (("statistic-get-all", "stats"), lambda a, s: stats(s), None),
        (("client4-get", "client4"), lambda a, s: client4(s), None),
        (("client6-get", "client6"), lambda a, s: _v6().client6(s), None),
        (("config-get", "config"), lambda a, s: config(s), None),
        (("lease6-get-all", "leases6"), lambda a, s: {"leases": _v6().leases6(s)}, _each_lease6),
        (("statistic6-get-all", "stats6"), lambda a, s: _v6().stats6(s), None),
        (("reconfigure6",), lambda a, s: _v6().reconfigure(a.get("address", ""), a.get("msg", "renew"), s),
         None),  # arguments: {"address", "msg"}
):
    for _n in _names:
        COMMANDS[_n] = (_fn, _stream)


def command(req, svc=None):
    """A Kea-style control command {"command": ..., "arguments": {...}} -> {"result": 0|1|2, ...}."""
    cmd = req.get("command") if isinstance(req, dict) else None
    entry = COMMANDS.get(cmd) if isinstance(cmd, str) else None
    if entry is None:
        return {"result": 2, "text": "unknown command %r (%s)" % (cmd, ", ".join(sorted(COMMANDS)))}
    args = req.get("arguments") or {}
    try:
        return {"result": 0, "arguments": entry[0](args if isinstance(args, dict) else {}, svc)}
    except Exception as e:  # a console error must never stop the service
        return {"result": 1, "text": "%s failed: %s" % (cmd, e)}


def streamer(req):
    """The lease streamer for a listing command, or None (the control socket streams those)."""
    cmd = req.get("command") if isinstance(req, dict) else None
    entry = COMMANDS.get(cmd) if isinstance(cmd, str) else None
    return entry[1] if entry is not None else None
