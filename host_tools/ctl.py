# `leases|leases6|stats|stats6 --socket PATH`: ask a running server over its control socket,
# print a table (plain when piped) or, with --json, the server's answer.
import json
import socket
import sys
import time

from . import output

VERBS = (("leases", "lease4-get-all", "DHCPv4 leases"),
         ("leases6", "lease6-get-all", "DHCPv6 leases and delegated prefixes"),
         ("stats", "statistic-get-all", "DHCPv4 server counters"),
         ("stats6", "statistic6-get-all", "DHCPv6 server counters"))


def add_parser(sub):
    for verb, cmd, what in VERBS:
        p = sub.add_parser(verb, help="show the %s of a running server (its control socket)" % what,
                           description="Ask the server running with this control socket for its %s "
                           "(%s). Exit 0 ok, 1 the socket cannot be reached or the server refused." % (what, cmd))
        p.add_argument("--socket", required=True, help="control-socket socket-name from the config")
        p.add_argument("--json", action="store_true", help="print the server's answer as JSON")
        p.set_defaults(func=run, command=cmd)


def query(path, command, timeout=5.0):
    """Send one command, return the parsed reply. Raises OSError or ValueError."""
    deadline = time.monotonic() + timeout
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        s.sendall(json.dumps({"command": command}).encode())
        data = b""
        while time.monotonic() < deadline:
            part = s.recv(65536)
            if not part:
                break
            data += part
        return json.loads(data)
    finally:
        s.close()


# Lease columns, v4 and v6 (console.lease4_dict / lease6_dict, Kea's names): a v4 lease carries
# "hw-address" and maybe "client-id", a v6 one "duid", "type" and "prefix-len".
LEASE_COLS = ("proto", "client", "address", "hostname", "state", "expires in")


def lease_row(l):
    """One display row for a v4 or v6 lease dict."""
    v6 = "duid" in l
    if v6:
        addr = l.get("ip-address", "")
        if l.get("type") == "IA_PD":
            addr = "%s/%s" % (addr, l.get("prefix-len", ""))
        client = l.get("duid", "")
    else:
        addr = l.get("ip-address", "")
        client = l.get("hw-address", "")
        if l.get("client-id"):
            client += " (id %s)" % l["client-id"]
    exp = l.get("expires-in")
    return {"proto": ("v6 " + l.get("type", "")).rstrip() if v6 else "v4", "client": client, "address": addr,
            "hostname": l.get("hostname", ""), "state": l.get("state", ""),
            "expires in": "" if exp is None else ("%d s" % exp if exp >= 0 else "expired")}


def leases_table(leases):
    return output.Table(LEASE_COLS, [lease_row(l) for l in leases])


def counters_table(stats):
    return output.Table(("counter", "value"), sorted(stats.items()))


def run(args):
    verb = [v for v, c, _ in VERBS if c == args.command][0]
    try:
        reply = query(args.socket, args.command)
    except (OSError, ValueError) as e:
        print("%s: cannot reach the server's control socket %s (%s): is `python -m host_tools serve "
              "CONFIG` running with this control-socket socket-name?" % (verb, args.socket, e), file=sys.stderr)
        return 1
    if reply.get("result") != 0:
        print("%s: the server refused: %s" % (verb, reply.get("text", "error")), file=sys.stderr)
        return 1
    a = reply["arguments"]
    if args.json:
        output.dump(a)
    elif "leases" in a:
        output.show(leases_table(a["leases"]))
    else:
        output.show(counters_table(a))
    return 0
