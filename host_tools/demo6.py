# The DHCPv6 part of `demo` (hooked into demo.py): the router also serves DHCPv6 on br0
# (addresses and delegated prefixes); ISC dhclient -6 -P -N and dhcpcd -6 ask for both; the
# table of DHCPv6 leases and prefixes is read from the running server (lease6-get-all).
# Router mode: the router's own DHCPv6 client (Client6) gets a /56 delegated by kea-dhcp6 in
# the isp namespace, and the router's second LAN (lan1) is served /64 number 1 of it, where
# one more host (pc6) takes an address with dhclient -6.
import json
import os
import re

from . import lab as L
from . import lab6
from . import output
from .ctl import query

LAN6 = "2001:db8:77"


def config(tmp):
    return {
        "interfaces-config": {"interfaces": ["br0", "lan1", "lan46"]},
        "lease-database": {"type": "memfile", "name": os.path.join(tmp, "leases6.jnl")},
        "preferred-lifetime": 3000, "valid-lifetime": 4000, "renew-timer": 1000, "rebind-timer": 2000,
        "subnet6": [{
            "id": 1, "subnet": LAN6 + "::/64", "interface": "br0",
            "pools": [{"pool": LAN6 + "::100 - " + LAN6 + "::1ff"}],
            "pd-pools": [{"prefix": "2001:db8:7700::", "prefix-len": 40, "delegated-len": 56}],
            "option-data": [{"name": "dns-servers", "data": LAN6 + "::1"},
                            {"name": "domain-search", "data": "lan"}],
        }, router_mode_subnet(), subnet6_4o6()],
    }


WAN6 = "2001:db8:100"
SEG4O6 = "2001:db8:46"  # the IPv6-only segment where DHCPv4 comes over DHCPv6
V4O6 = "192.168.46"
ISP_PD = "2001:db8:9900::"


def router_mode_subnet():
    """lan1's subnet: /64 number 1 of the prefix the WAN's Client6 holds."""
    return {"id": 2, "subnet": "fd00:0:0:1::/64", "interface": "lan1",
            "pools": [{"pool": "fd00:0:0:1::100 - fd00:0:0:1::1ff"}],
            "user-context": {"mpdhcp": {"delegated-subnet-id": 1}}}


def subnet4_4o6():
    """The DHCPv4 subnet served over DHCPv6 on lan46 (RFC 7341; Kea's 4o6-interface)."""
    return {"id": 46, "subnet": V4O6 + ".0/24", "4o6-interface": "lan46",
            "pools": [{"pool": V4O6 + ".100 - " + V4O6 + ".199"}]}


def subnet6_4o6():
    return {"id": 3, "subnet": SEG4O6 + "::/64", "interface": "lan46",
            "option-data": [{"name": "dhcp4o6-server-addr", "data": SEG4O6 + "::1"}]}


def client6_config(tmp):
    return {"interface": "wan0", "ia-na": False, "ia-pd": True, "prefix-length-hint": 56,
            "lease-file": os.path.join(tmp, "client6.jnl")}


def setup(lab, router, isp):
    """The LAN addresses, lan1 with its host pc6, and kea-dhcp6 delegating prefixes on the
    isp link. Returns pc6's namespace."""
    lab.addr(router, "br0", LAN6 + "::1/64")
    pc6 = lab.add_host("pc6")
    lab.link(router, "lan1", pc6, "eth0")
    pc46 = lab.add_host("pc46")
    lab.link(router, "lan46", pc46, "eth0")
    lab.addr(router, "lan46", SEG4O6 + "::1/64")
    lab.run(pc46, ["ip", "-6", "route", "add", SEG4O6 + "::/64", "dev", "eth0"], check=True)
    lab.addr(isp, "isp0", WAN6 + "::1/64")
    conf = {"Dhcp6": {
        "interfaces-config": {"interfaces": ["isp0"]},
        "server-id": {"type": "LLT", "persist": False},
        "lease-database": {"type": "memfile", "persist": True, "name": lab.path("isp-leases6.csv"),
                           "lfc-interval": 0},
        "preferred-lifetime": 3000, "valid-lifetime": 4000,
        "subnet6": [{"id": 1, "subnet": WAN6 + "::/64", "interface": "isp0",
                     "pd-pools": [{"prefix": ISP_PD, "prefix-len": 40, "delegated-len": 56}]}],
        "loggers": [{"name": "kea-dhcp6", "severity": "WARN",
                     "output_options": [{"output": lab.path("isp-kea6.log")}]}]}}
    path = lab.write("isp-kea6.json", json.dumps(conf))
    env = dict(os.environ, KEA_PIDFILE_DIR=lab.tmp, KEA_LOCKFILE_DIR=lab.tmp)
    lab6.wait_link_local(lab, isp, "isp0")
    lab.popen(isp, ["kea-dhcp6", "-c", path], log="isp-kea6.out", env=env)
    return pc6, pc46


def show_4o6(lab, pc46, start_client):
    """pc46, on an IPv6-only segment, runs our DHCPv4 client in 4o6 mode against the router's
    own Dhcp4 + Dhcp6 (one process). Returns ok."""
    import json as _json

    cfg = lab.write("pc46.json", _json.dumps({"Client4": {
        "interface": "eth0", "4o6": True, "offer-window": 0, "lease-file": lab.path("pc46.jnl"),
        "resolv-conf": lab.path("pc46-resolv.conf")}}))
    lab6.wait_link_local(lab, pc46, "eth0")
    p = start_client(pc46, cfg, "pc46.log")
    try:
        m = L.wait_for(lambda: re.search(r"BOUND (\S+/\d+)", lab.read_log(p)), 25, what="4o6 lease")
        got = m.group(1)
    except L.LabError as e:
        got = "FAILED: %s" % e
    print("\n== DHCPv4 over DHCPv6 (RFC 7341): pc46 has only IPv6 on its link; its DHCPv4 client "
          "talks to the router in DHCPV4-QUERYs")
    output.show(output.Table(("host", "IPv6 segment", "DHCPv4 address (over DHCPv6)"), [("pc46", SEG4O6 + "::/64", got)]))
    return not got.startswith("FAILED") and got.startswith(V4O6)


def show_router_mode(lab, server_log, pc6):
    """The WAN's delegated prefix, lan1's /64 inside it, and pc6's address there. Returns ok."""
    try:
        m = L.wait_for(lambda: re.search(r"LAN subnet 2 on lan1: (\S+/64)", server_log()), 20,
                       what="lan1 numbered from the delegated prefix")
    except L.LabError as e:
        print("\n== router mode: FAILED: %s" % e)
        return False
    pfx = re.search(r"client6: BOUND .*prefixes (\S+/\d+)", server_log())
    try:
        _, env = lab6.dhclient6(lab, pc6, "eth0")
        got = env.get("new_ip6_address")
    except L.LabError as e:
        got = "FAILED: %s" % str(e).splitlines()[0]
    print("\n== router mode: the router's DHCPv6 client (Client6) got a prefix from kea-dhcp6 (isp);"
          " lan1 is /64 number 1 of it")
    output.show(output.Table(("WAN delegated prefix", "lan1 subnet", "pc6 (dhclient -6) got"),
                             [(pfx.group(1) if pfx else "?", m.group(1), got)]))
    return bool(got) and not got.startswith("FAILED") and got.startswith(m.group(1).split("::")[0])


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
    output.show(output.Table(("client", "namespace host", "address", "prefix"), got))
    leases = query(ctl, "lease6-get-all")["arguments"]["leases"]
    rows = [{"type": l["type"], "address / prefix": "%s/%d" % (l["ip-address"], l["prefix-len"]),
             "duid": l["duid"], "iaid": l["iaid"], "state": l["state"],
             "expires in": "%d s" % l["expires-in"]} for l in leases]
    print("\n== DHCPv6 leases and delegated prefixes (control socket lease6-get-all)")
    output.show(output.Table(("type", "address / prefix", "duid", "iaid", "state", "expires in"), rows))
    ok = all(a and not str(a).startswith("FAILED") for _, _, a, _ in got)
    return ok and any(r["type"] == "IA_PD" for r in rows) and any(r["type"] == "IA_NA" for r in rows)
