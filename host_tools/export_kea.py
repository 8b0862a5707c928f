# `export-kea --config F --leases L --out DIR`: hand a board's service over to Kea. Writes
#   DIR/kea-dhcp4.json   the same Dhcp4 section (our config is a subset of Kea's schema) with its
#                        lease-database pointing at the CSV below;
#   DIR/kea-leases4.csv  Kea's memfile lease4 CSV (Kea 2.2 header, which later Kea versions
#                        read and upgrade), one row per lease read from the board's journal.
# The engine clock counts seconds since 2000-01-01; Kea's `expire` is unix time, so each
# expiry gets 946684800 added. States: bound -> 0 (default), declined -> 1, released ->
# 2 (expired-reclaimed: Kea gives that address back to the same client); offers are skipped.
# When a DHCPv6 server exists: its Dhcp6 section is copied the same way (done below), and its
# leases go to kea-leases6.csv once console.leases() returns v6 leases ("duid" key) - the
# lease6 writer is the missing part, flagged in the summary.
# Exit 0 written, 1 cannot read an input, 2 invalid config.
import csv
import io
import json
import os
import sys

from .fwimport import firmware

EPOCH_2000 = 946684800
LEASE4_HEADER = ("address", "hwaddr", "client_id", "valid_lifetime", "expire", "subnet_id",
                 "fqdn_fwd", "fqdn_rev", "hostname", "state", "user_context")
KEA_STATE = {"bound": 0, "declined": 1, "released": 2}


def add_parser(sub):
    p = sub.add_parser("export-kea", help="write a Kea config and memfile lease CSV from a board's config and leases",
                       description="Convert an mpdhcp config and its lease journal into a kea-dhcp4 "
                       "config and a memfile lease4 CSV, so clients keep their addresses when Kea takes "
                       "over. Exit 0 written, 1 unreadable input, 2 invalid config.")
    p.add_argument("--config", required=True, help="the board's mpdhcp.json")
    p.add_argument("--leases", required=True, help="the board's lease journal (e.g. leases4.jnl copied off the board)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--lease-file-name", help="path Kea's config names for the CSV (default: DIR/kea-leases4.csv, absolute)")
    p.set_defaults(func=run)


def read_leases(cfg4, journal_path):
    """The leases in a journal, as console.leases() dicts, replayed without touching the file."""
    firmware()
    from mpdhcp.server4 import Server4
    from mpdhcp.store import Journal
    from mpdhcp import service, console

    if not os.path.exists(journal_path):
        raise OSError("%s: no such lease file" % journal_path)
    j = Journal(journal_path)
    eng = Server4(cfg4, j, service.capacity4(cfg4))
    j.load(eng._apply)  # no rewrite: the board's file stays as it is

    class One:  # the smallest "service" console.leases() reads
        def engine(self, name):
            return eng if name == "server4" else None

        def now(self):
            return 0

    return console.leases(One(), now=0)


def _kea_text(s):
    return s.replace(",", "&#x2c")  # Kea's CSV escape for commas


def lease4_csv(leases):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(LEASE4_HEADER)
    n = 0
    for l in leases:
        st = KEA_STATE.get(l["state"])
        if st is None:
            continue
        w.writerow((l["ip-address"], l["hw-address"], l["client-id"], l["valid-lft"],
                    l["expire"] + EPOCH_2000, l["subnet-id"], 0, 0, _kea_text(l["hostname"]), st, ""))
        n += 1
    return buf.getvalue(), n


def kea_config(doc, csv_path):
    out = {}
    if "Dhcp4" in doc:
        d = json.loads(json.dumps(doc["Dhcp4"]))
        d["lease-database"] = {"type": "memfile", "persist": True, "name": csv_path, "lfc-interval": 3600}
        out["Dhcp4"] = d
    if "Dhcp6" in doc:  # the DHCPv6 server's section (when it exists): same subset idea
        d = json.loads(json.dumps(doc["Dhcp6"]))
        d["lease-database"] = {"type": "memfile", "persist": True,
                               "name": os.path.join(os.path.dirname(csv_path), "kea-leases6.csv"),
                               "lfc-interval": 3600}
        out["Dhcp6"] = d
    return out


def export(config_path, leases_path, out_dir, lease_file_name=None):
    firmware()
    from mpdhcp import config as C

    with open(config_path) as f:
        text = f.read()
    parsed = C.parse_doc(text)  # raises ConfigError
    doc = json.loads(text)
    os.makedirs(out_dir, exist_ok=True)
    csv_path = os.path.abspath(lease_file_name or os.path.join(out_dir, "kea-leases4.csv"))
    summary = {"config": os.path.join(out_dir, "kea-dhcp4.json"), "leases4": csv_path, "leases4_rows": 0}
    if parsed.get("Dhcp4") is not None:
        rows, n = lease4_csv(read_leases(parsed.get("Dhcp4"), leases_path))
        with open(os.path.join(out_dir, "kea-leases4.csv"), "w") as f:
            f.write(rows)
        summary["leases4_rows"] = n
    if "Dhcp6" in doc:
        summary["leases6"] = "not exported yet (needs the DHCPv6 lease reader)"
    with open(summary["config"], "w") as f:
        json.dump(kea_config(doc, csv_path), f, indent=1)
    return summary


def run(args):
    firmware()
    from mpdhcp.config import ConfigError

    try:
        s = export(args.config, args.leases, args.out, args.lease_file_name)
    except ConfigError as e:
        print("export-kea: %s: %s" % (args.config, e), file=sys.stderr)
        return 2
    except (OSError, ValueError) as e:
        print("export-kea: %s" % e, file=sys.stderr)
        return 1
    print("wrote %s\nwrote %s (%d leases)" % (s["config"], s["leases4"], s["leases4_rows"]))
    if "leases6" in s:
        print("DHCPv6 leases: %s" % s["leases6"])
    return 0
