# `leases|stats --socket PATH`: ask a running server over its control socket, print a table.
import json
import socket
import time


def add_parser(sub):
    for verb, cmd in (("leases", "lease4-get-all"), ("stats", "statistic-get-all")):
        p = sub.add_parser(verb, help="show %s of a running server (its control-socket)" % verb)
        p.add_argument("--socket", required=True, help="control-socket socket-name from the config")
        p.add_argument("--json", action="store_true", help="print JSON for scripts")
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


def table(rows, cols):
    if not rows:
        return "(none)"
    w = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in cols]
    lines = ["  ".join(c.ljust(w[i]) for i, c in enumerate(cols))]
    lines += ["  ".join(str(r.get(c, "")).ljust(w[i]) for i, c in enumerate(cols)) for r in rows]
    return "\n".join(lines)


LEASE_COLS = ("ip-address", "hw-address", "hostname", "state", "expires-in")


def run(args):
    try:
        reply = query(args.socket, args.command)
    except (OSError, ValueError) as e:
        print("cannot reach %s: %s" % (args.socket, e))
        return 1
    if reply.get("result") != 0:
        print(reply.get("text", "error"))
        return 1
    a = reply["arguments"]
    if args.json:
        print(json.dumps(a, indent=1))
    elif args.command == "lease4-get-all":
        print(table(a["leases"], LEASE_COLS))
    else:
        print(table([{"counter": k, "value": v} for k, v in sorted(a.items())], ("counter", "value")))
    return 0
