# The DHCPv6 part of `demo` (hooked into demo.py): the router also serves DHCPv6 on br0
# (addresses and delegated prefixes); ISC dhclient -6 -P -N and dhcpcd -6 ask for both; the
# table of DHCPv6 leases and prefixes is read from the running server (lease6-get-all).
import os

from . import lab as L
from . import lab6
from .ctl import query, table

LAN6 = "2001:db8:77"


def config(tmp):
    return {
        "interfaces-config": {"interfaces": ["br0"]},
        "lease-database": {"type": "memfile", "name": os.path.join(tmp, "leases6.jnl")},
        "preferred-lifetime": 3000, "valid-lifetime": 4000, "renew-timer": 1000, "rebind-timer": 2000,
        "subnet6": [{
            "id": 1, "subnet": LAN6 + "::/64", "interface": "br0",
            "pools": [{"pool": LAN6 + "::100 - " + LAN6 + "::1ff"}],
            "pd-pools": [{"prefix": "2001:db8:7700::", "prefix-len": 40, "delegated-len": 56}],
            "option-data": [{"name": "dns-servers", "data": LAN6 + "::1"},
                            {"name": "domain-search", "data": "lan"}],
        }],
    }


def setup(lab, router):
    lab.addr(router, "br0", LAN6 + "::1/64")


def show(lab, ctl, hosts):
    """Run the v6 clients, print what they got and the server's v6 table. Returns ok."""
    got = []
    duids = {}
    for kind, name, ns in hosts:
        try:
            if kind == "dhclient":
                _, env = lab6.dhclient6(lab, ns, "eth0", ("-P", "-N"))
                got.append(("dhclient -6 -P -N", name, env.get("new_ip6_address"), env.get("new_ip6_prefix")))
            elif kind == "dhcpcd":
                _, env = lab6.dhcpcd6_start(lab, ns, "eth0")
                got.append(("dhcpcd -6", name, env.get("new_dhcp6_ia_na1_ia_addr1"),
                            "%s/%s" % (env.get("new_dhcp6_ia_pd1_prefix1"), env.get("new_dhcp6_ia_pd1_prefix1_length"))))
            else:
                continue
            duids[name] = None
        except L.LabError as e:
            got.append((kind + " -6", name, "FAILED: %s" % str(e).splitlines()[0], ""))
    print("\n== DHCPv6 clients")
    print(table([{"client": k, "namespace host": n, "address": a, "prefix": p} for k, n, a, p in got],
                ("client", "namespace host", "address", "prefix")))
    leases = query(ctl, "lease6-get-all")["arguments"]["leases"]
    rows = [{"type": l["type"], "address / prefix": "%s/%d" % (l["ip-address"], l["prefix-len"]),
             "duid": l["duid"], "iaid": l["iaid"], "state": l["state"],
             "expires in": "%d s" % l["expires-in"]} for l in leases]
    print("\n== DHCPv6 leases and delegated prefixes (control socket lease6-get-all)")
    print(table(rows, ("type", "address / prefix", "duid", "iaid", "state", "expires in")))
    ok = all(a and not str(a).startswith("FAILED") for _, _, a, _ in got)
    return ok and any(r["type"] == "IA_PD" for r in rows) and any(r["type"] == "IA_NA" for r in rows)
