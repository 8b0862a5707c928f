# `export-kea --config F [--leases L] [--leases6 L6] --out DIR`: hand a board's service over to
# Kea. Writes
#   DIR/kea-dhcp4.json   the same Dhcp4 section (our config is a subset of Kea's schema) with its
#                        lease-database pointing at the CSV below;
#   DIR/kea-leases4.csv  Kea's memfile lease4 CSV (Kea 2.2 header, which later Kea versions
#                        read and upgrade), one row per lease read from the board's journal;
#   DIR/kea-dhcp6.json   the Dhcp6 section the same way, with `server-id` set to the DUID the
#                        board's journal keeps (clients renewing with it are answered by Kea);
#   DIR/kea-leases6.csv  Kea's memfile lease6 CSV (the 17-column header Kea 2.2 writes itself):
#                        IA_NA rows lease_type 0, IA_PD rows lease_type 2 (prefix_len = delegated).
# The engine clock counts seconds since 2000-01-01; Kea's `expire` is unix time, so each
# expiry gets 946684800 added. States: bound -> 0 (default), declined -> 1, released ->
# 2 (expired-reclaimed: Kea gives that address back to the same client); offers are skipped.
# leases6 keeps a DUID longer than 20 bytes only as a fingerprint (leases6.py/table.py), so
# such a lease cannot be written with its client's DUID: it is skipped and counted.
# DHCPv4 over DHCPv6 in one process (Dhcp4 subnets with 4o6 keys, and a Dhcp6 section) is two
# daemons in Kea, joined by "dhcp4o6-port": both configs get the same one (the config's, else
# 786, the port of the configuration the Kea ARM says ISC tested), with a warning: kea-dhcp4
# answers a 4o6 query only through an IPv4 socket on the DHCPv6 interface it came in on.
# Exit 0 written, 1 cannot read an input, 2 invalid config.
import csv
import io
import json
import os
import sys

from . import output
from .fwimport import firmware

EPOCH_2000 = 946684800
LEASE4_HEADER = ("address", "hwaddr", "client_id", "valid_lifetime", "expire", "subnet_id",
                 "fqdn_fwd", "fqdn_rev", "hostname", "state", "user_context")
KEA_STATE = {"bound": 0, "declined": 1, "released": 2}
# what kea-dhcp6 2.2 writes itself (seen by running it with persist true and dhclient -6 -P -N)
LEASE6_HEADER = ("address", "duid", "valid_lifetime", "expire", "subnet_id", "pref_lifetime",
                 "lease_type", "iaid", "prefix_len", "fqdn_fwd", "fqdn_rev", "hostname", "hwaddr",
                 "state", "user_context", "hwtype", "hwaddr_source")
KEA_LEASE_TYPE = {"IA_NA": 0, "IA_TA": 1, "IA_PD": 2}  # Lease::TYPE_NA, TYPE_TA, TYPE_PD
HWADDR_SOURCE_DUID = 2  # Kea's HWAddr::HWADDR_SOURCE_DUID: the MAC taken from a DUID-LLT/LL
DHCP4O6_PORT = 786  # Kea ARM, DHCPv4-over-DHCPv6; doc/examples/kea4|kea6/dhcpv4-over-dhcpv6.json
_KEYS_4O6 = ("4o6-interface", "4o6-subnet", "4o6-interface-id")


def add_parser(sub):
    p = sub.add_parser("export-kea", help="write a Kea config and memfile lease CSV from a board's config and leases",
                       description="Convert an mpdhcp config and its lease journal into a kea-dhcp4 "
                       "config and a memfile lease4 CSV, so clients keep their addresses when Kea takes "
                       "over (Dhcp4 and Dhcp6: kea-dhcp4.json, kea-leases4.csv, kea-dhcp6.json, "
                       "kea-leases6.csv). DHCPv6 leases of DUIDs longer than 20 bytes are skipped with a "
                       "warning (the board keeps only their fingerprint). "
                       "Exit 0 written, 1 unreadable input, 2 invalid config.")
    p.add_argument("--config", required=True, help="the board's mpdhcp.json")
    p.add_argument("--leases", help="the board's DHCPv4 lease journal (e.g. leases4.jnl copied off the board; "
                   "default: the Dhcp4 lease-database name, relative to the config file)")
    p.add_argument("--leases6", help="the board's DHCPv6 lease journal (default: the Dhcp6 lease-database name, "
                   "relative to the config file)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--lease-file-name", help="path Kea's config names for the CSV (default: DIR/kea-leases4.csv, absolute)")
    p.add_argument("--json", action="store_true", help="print what was written (paths, row counts) as JSON")
    p.set_defaults(func=run)


def read_leases(cfg4, journal_path):
    """The leases in a journal, as console lease4 dicts: the table replays the journal
    through its own record codecs, without touching the file."""
    firmware()
    from mpdhcp.state.leases4 import Leases4
    from mpdhcp import console

    table = Leases4(65000, len(cfg4.subnets))
    _replay(journal_path, lambda t, b, o, n: table.apply(t, b, o, n, cfg4.subnets))
    return [console.lease4_dict(table.fields(r), cfg4.subnets, 0)
            for r in range(table.used) if table.state(r) != 0]


def read_leases6(cfg6, journal_path):
    """(console lease6 dicts, server DUID bytes or None) replayed from a DHCPv6 journal by
    the table's record codecs, without touching the file."""
    firmware()
    from mpdhcp.state.leases6 import Leases6
    from mpdhcp.v6.reconfigure6 import Identity, J_SERVER6
    from mpdhcp import console

    table = Leases6(65000, len(cfg6.subnets))
    ident = Identity()

    def apply(typ, buf, off, ln):
        if typ != J_SERVER6 or not ident.apply(buf, off, ln):
            table.apply(typ, buf, off, ln, cfg6.subnets)

    _replay(journal_path, apply)
    leases = [console.lease6_dict(table.fields(r), cfg6.subnets, 0)
              for r in range(table.used) if table.state(r) != 0]
    return leases, (bytes(ident.duid[:ident.duid_len]) if ident.duid_len else None)


def _replay(journal_path, apply):
    from mpdhcp.state.journal import Journal

    if not os.path.exists(journal_path):
        raise OSError("%s: no such lease file" % journal_path)
    Journal(journal_path).load(apply)  # no rewrite: the board's file stays as it is


def _duid_hw(duid):
    """The MAC inside a DUID-LLT (type 1) or DUID-LL (type 3) of hardware type 1, or ''."""
    if len(duid) == 14 and duid[:4] == b"\0\1\0\1" or len(duid) == 10 and duid[:4] == b"\0\3\0\1":
        return ":".join("%02x" % x for x in duid[-6:])
    return ""


def lease6_csv(leases):
    """(CSV text, rows written, rows skipped: DUID longer than 20 bytes)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(LEASE6_HEADER)
    n = skipped = 0
    for l in leases:
        st = KEA_STATE.get(l["state"])
        if st is None:
            continue
        duid = l["duid"]
        if " " in duid:  # console names a long DUID "N-byte DUID starting ..": only a fingerprint is kept
            skipped += 1
            continue
        raw = bytes.fromhex(duid.replace(":", "")) if duid else b""
        hw = _duid_hw(raw)
        w.writerow((l["ip-address"], duid or "00",  # Kea's empty DUID (declined leases) is 00
                    l["valid-lft"], l["expire"] + EPOCH_2000, l["subnet-id"], l["preferred-lft"],
                    KEA_LEASE_TYPE[l["type"]], l["iaid"], l["prefix-len"], 0, 0, "", hw, st, "",
                    1 if hw else 0, HWADDR_SOURCE_DUID if hw else 0))
        n += 1
    return buf.getvalue(), n, skipped


def kea_server_id(duid):
    """Kea's Dhcp6 `server-id` map for a stored server DUID (LLT, EN, LL), or None."""
    if duid is None or len(duid) < 4:
        return None
    t = (duid[0] << 8) | duid[1]
    if t == 1 and len(duid) > 8:
        return {"type": "LLT", "htype": (duid[2] << 8) | duid[3], "time": int.from_bytes(duid[4:8], "big"),
                "identifier": duid[8:].hex(), "persist": False}
    if t == 2 and len(duid) > 6:
        return {"type": "EN", "enterprise-id": int.from_bytes(duid[2:6], "big"), "identifier": duid[6:].hex(),
                "persist": False}
    if t == 3 and len(duid) > 4:
        return {"type": "LL", "htype": (duid[2] << 8) | duid[3], "identifier": duid[4:].hex(), "persist": False}
    return None


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
        exp = l["expire"] + EPOCH_2000
        if l["valid-lft"] == 0xFFFFFFFF:  # BOOTP, infinite: Kea's expire is cltt + valid (now + 2^32 - 1)
            exp = l["expire"] - l["expires-in"] + EPOCH_2000 + 0xFFFFFFFF
        w.writerow((l["ip-address"], l["hw-address"], l["client-id"], l["valid-lft"],
                    exp, l["subnet-id"], 0, 0, _kea_text(l["hostname"]), st, ""))
        n += 1
    return buf.getvalue(), n


def dhcp4o6(doc):
    """(port, the DHCPv6 interfaces 4o6 queries come in on) when the config serves DHCPv4
    over DHCPv6 in one process (Dhcp4 subnets with 4o6 keys, and Dhcp6), else None."""
    d4, d6 = doc.get("Dhcp4"), doc.get("Dhcp6")
    if d4 is None or d6 is None or not [s for s in d4.get("subnet4", []) if [k for k in _KEYS_4O6 if k in s]]:
        return None
    port = d6.get("dhcp4o6-port") or d4.get("dhcp4o6-port") or DHCP4O6_PORT
    names = [n.split("/")[0] for n in d6.get("interfaces-config", {}).get("interfaces", [])]
    return port, names


def kea_config(doc, csv_path, csv6_path=None, server_id6=None):
    """{"Dhcp4": .., "Dhcp6": ..}: the config's sections with Kea memfile lease databases
    (and, for 4o6 in one process, one dhcp4o6-port in both)."""
    out = {}
    if "Dhcp4" in doc:
        d = json.loads(json.dumps(doc["Dhcp4"]))
        d["lease-database"] = {"type": "memfile", "persist": True, "name": csv_path, "lfc-interval": 3600}
        out["Dhcp4"] = d
    if "Dhcp6" in doc:  # the DHCPv6 server's section: same subset idea
        d = json.loads(json.dumps(doc["Dhcp6"]))
        d["lease-database"] = {"type": "memfile", "persist": True,
                               "name": csv6_path or os.path.join(os.path.dirname(csv_path), "kea-leases6.csv"),
                               "lfc-interval": 3600}
        if server_id6 is not None:  # the identity the board's clients know (kept in its journal)
            d["server-id"] = server_id6
        out["Dhcp6"] = d
    o6 = dhcp4o6(doc)
    if o6 is not None:
        out["Dhcp4"]["dhcp4o6-port"] = out["Dhcp6"]["dhcp4o6-port"] = o6[0]
    return out


def warning_4o6(names):
    return ("export-kea: warning: kea-dhcp4 answers a DHCPv4-over-DHCPv6 query only through an IPv4 socket "
            "on the DHCPv6 interface it came in on (its server identifier is that socket's address): list %s "
            "in kea-dhcp4.json's interfaces-config and give %s an IPv4 address"
            % (", ".join(names), "it" if len(names) == 1 else "each"))


def _journal_path(given, lease_file, config_path):
    if given:
        return given
    if not lease_file:
        return None
    return os.path.join(os.path.dirname(os.path.abspath(config_path)), lease_file)


def export(config_path, leases_path, out_dir, lease_file_name=None, leases6_path=None):
    firmware()
    from mpdhcp.config import parser as C

    with open(config_path) as f:
        text = f.read()
    parsed = C.parse_doc(text)  # raises ConfigError
    doc = json.loads(text)
    os.makedirs(out_dir, exist_ok=True)
    csv_path = os.path.abspath(lease_file_name or os.path.join(out_dir, "kea-leases4.csv"))
    csv6_path = os.path.join(os.path.dirname(csv_path), "kea-leases6.csv")
    summary = {"config": os.path.join(out_dir, "kea-dhcp4.json"), "leases4": csv_path, "leases4_rows": 0}
    c4, c6 = parsed.get("Dhcp4"), parsed.get("Dhcp6")
    if c4 is not None:
        path = _journal_path(leases_path, c4.lease_file, config_path)
        if path is None:
            raise OSError("Dhcp4 keeps no lease file (persist false): give --leases")
        rows, n = lease4_csv(read_leases(c4, path))
        with open(os.path.join(out_dir, "kea-leases4.csv"), "w") as f:
            f.write(rows)
        summary["leases4_rows"] = n
    sid = None
    if c6 is not None:
        summary.update(config6=os.path.join(out_dir, "kea-dhcp6.json"), leases6=csv6_path, leases6_rows=0,
                       leases6_skipped=0)
        path = _journal_path(leases6_path, c6.lease_file, config_path)
        leases6 = []
        if path is None:
            summary["leases6_note"] = "Dhcp6 keeps no lease file (persist false): no leases to export"
        else:
            leases6, duid = read_leases6(c6, path)
            sid = kea_server_id(duid)
        rows, n, skipped = lease6_csv(leases6)
        with open(os.path.join(out_dir, "kea-leases6.csv"), "w") as f:
            f.write(rows)
        summary["leases6_rows"] = n
        summary["leases6_skipped"] = skipped
        summary["server_id6"] = sid
    kc = kea_config(doc, csv_path, csv6_path, sid)
    o6 = dhcp4o6(doc)
    if o6 is not None:
        summary["dhcp4o6_port"] = o6[0]
        summary["warnings"] = [warning_4o6(o6[1])]
    if "Dhcp4" in kc:
        with open(summary["config"], "w") as f:
            json.dump({"Dhcp4": kc["Dhcp4"]}, f, indent=1)
    else:
        summary["config"] = None
    if "Dhcp6" in kc:  # a file of its own: kea-dhcp6 is a separate daemon
        with open(summary["config6"], "w") as f:
            json.dump({"Dhcp6": kc["Dhcp6"]}, f, indent=1)
    return summary


def run(args):
    firmware()
    from mpdhcp.config import ConfigError

    try:
        s = export(args.config, args.leases, args.out, args.lease_file_name, args.leases6)
    except ConfigError as e:
        print("export-kea: %s: %s" % (args.config, e), file=sys.stderr)
        return 2
    except (OSError, ValueError) as e:
        print("export-kea: %s" % e, file=sys.stderr)
        return 1
    if s.get("leases6_skipped"):
        print("export-kea: warning: %d DHCPv6 leases skipped: their client's DUID is longer than 20 bytes "
              "and the board keeps only its fingerprint (those clients get new addresses from Kea)"
              % s["leases6_skipped"], file=sys.stderr)
    for w in s.get("warnings", ()):
        print(w, file=sys.stderr)
    if args.json:
        output.dump(s)
        return 0
    if s["config"]:
        print("wrote %s\nwrote %s (%d leases)" % (s["config"], s["leases4"], s["leases4_rows"]))
    if "config6" in s:
        print("wrote %s\nwrote %s (%d leases, %d skipped)" % (s["config6"], s["leases6"], s["leases6_rows"],
                                                             s["leases6_skipped"]))
        if s.get("leases6_note"):
            print("DHCPv6 leases: %s" % s["leases6_note"])
    if "dhcp4o6_port" in s:
        print("DHCPv4 over DHCPv6: kea-dhcp4 and kea-dhcp6 joined by dhcp4o6-port %d" % s["dhcp4o6_port"])
    return 0
