# `config check FILE`: the firmware's own config validation (mpdhcp.config), run on CPython,
# so a config is known good before it goes to a board. Each error names its key path.
# Exit 0 valid, 1 cannot read the file, 2 invalid config.
import sys

from .fwimport import firmware


def add_parser(sub):
    p = sub.add_parser("config", help="config file tools (check)")
    csub = p.add_subparsers(dest="config_verb", required=True)
    c = csub.add_parser("check", help="validate a config exactly as the firmware does",
                        description="Parse FILE with the firmware's mpdhcp.config on the host. Prints a "
                        "summary, or the error with its key path (e.g. Dhcp4.subnet4[0].pools[1].pool). "
                        "Exit 0 valid, 1 unreadable, 2 invalid.")
    c.add_argument("file")
    c.set_defaults(func=run)


def check(path):
    """(ok, text): the summary of a valid config, or the error line."""
    firmware()
    from mpdhcp import config as C

    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        return None, "%s: cannot read: %s" % (path, e)
    try:
        doc = C.parse_doc(text)
    except C.ConfigError as e:
        return False, "%s: %s" % (path, e)
    lines = ["%s: valid" % path]
    for name in sorted(doc.sections):
        sec = doc.sections[name]
        subs = getattr(sec, "subnets", None)
        if name == "Dhcp4" and subs is not None:
            from mpdhcp.wire.addr import ip4_str

            lines.append("  Dhcp4: interfaces %s, lease file %s, %d subnet(s)" % (
                ", ".join(n for n, _ in sec.interfaces), sec.lease_file or "(none: leases kept in RAM)", len(subs)))
            for s in subs:
                size = sum(b - a + 1 for a, b in s.pools)
                lines.append("    id %d %s/%d: %d pool addresses, %d reservations, valid-lifetime %d" % (
                    s.id, ip4_str(s.net), s.plen, size, len(s.reservations), s.valid))
        else:
            lines.append("  %s: ok" % name)
    return True, "\n".join(lines)


def run(args):
    ok, text = check(args.file)
    print(text, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else (1 if ok is None else 2)
