# `config check FILE`: the firmware's own config validation (mpdhcp.config), run on CPython,
# so a config is known good before it goes to a board (`flash` runs it on the build's config
# first). Each error names its key path. --json prints the summary (or the error) as JSON.
# Exit 0 valid, 1 cannot read the file, 2 invalid config.
import sys

from . import output
from .fwimport import firmware


def add_parser(sub):
    p = sub.add_parser("config", help="config file tools (check)")
    csub = p.add_subparsers(dest="config_verb", required=True)
    c = csub.add_parser("check", help="validate a config exactly as the firmware does",
                        description="Parse FILE with the firmware's mpdhcp.config on the host. Prints a "
                        "summary, or the error with its key path (e.g. Dhcp4.subnet4[0].pools[1].pool). "
                        "Exit 0 valid, 1 unreadable, 2 invalid.")
    c.add_argument("file")
    c.add_argument("--json", action="store_true", help="print the summary (or the error) as JSON")
    c.set_defaults(func=run)


def check(path):
    """(ok, summary): ok None if unreadable, False if invalid (summary["error"] names the key
    path), True if valid (summary["sections"]: what each section holds)."""
    firmware()
    from mpdhcp.config import parser as C

    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        return None, {"file": path, "valid": False, "error": "%s: cannot read: %s" % (path, e)}
    try:
        doc = C.parse_doc(text)
    except C.ConfigError as e:
        return False, {"file": path, "valid": False, "error": "%s: %s" % (path, e)}
    return True, {"file": path, "valid": True,
                  "sections": dict((name, _section(name, doc[name])) for name in sorted(doc))}


def _section(name, sec):
    subs = getattr(sec, "subnets", None)
    if name != "Dhcp4" or subs is None:
        return {}
    from mpdhcp.wire.addr import ip4_str

    return {"interfaces": [n for n, _ in sec.interfaces], "lease-file": sec.lease_file,
            "subnets": [{"id": s.id, "subnet": "%s/%d" % (ip4_str(s.net), s.plen),
                         "pool-addresses": sum(b - a + 1 for a, b in s.pools),
                         "reservations": len(s.reservations), "valid-lifetime": s.valid} for s in subs]}


def text(summary):
    lines = ["%s: valid" % summary["file"]]
    for name, d in summary["sections"].items():
        if "subnets" not in d:
            lines.append("  %s: ok" % name)
            continue
        lines.append("  Dhcp4: interfaces %s, lease file %s, %d subnet(s)" % (
            ", ".join(d["interfaces"]), d["lease-file"] or "(none: leases kept in RAM)", len(d["subnets"])))
        for s in d["subnets"]:
            lines.append("    id %(id)d %(subnet)s: %(pool-addresses)d pool addresses, %(reservations)d "
                         "reservations, valid-lifetime %(valid-lifetime)d" % s)
    return "\n".join(lines)


def run(args):
    ok, s = check(args.file)
    if args.json:
        output.dump(s)
    elif ok:
        print(text(s))
    else:
        print(s["error"], file=sys.stderr)
    return 0 if ok else (1 if ok is None else 2)
