"""DHCPv6 client helpers for the namespace lab (used by `demo` and tests/interop):
dhclient -6 (IA_NA, and -P for IA_PD) and dhcpcd -6 (IA_NA + IA_PD), each returning the
hook environment of its bound event(s). Built on host_tools.lab's hook scripts."""
import ctypes
import os
import signal
import socket
import threading

from . import lab as L


def wait_link_local(lab, ns, ifname, timeout=5):
    """Link-local addresses appear a moment after the link is up (DAD is off in the lab)."""
    def ready():
        out = lab.ip(ns, "-6", "addr", "show", "dev", ifname)
        return "scope link" in out and "tentative" not in out
    return L.wait_for(ready, timeout, what="link-local address on %s" % ifname)


def dhclient6_argv(cl, ifname, *flags):
    return ["dhclient", "-6"] + list(flags) + ["-v", "-cf", cl.conf, "-lf", cl.leases, "-pf", cl.pidfile,
                                                "-sf", cl.script, ifname]


def dhclient6(lab, ns, ifname, flags=(), timeout=40):
    """`dhclient -6 -1 [FLAGS] ...` (flags ("-P", "-N") for address and prefix). dhclient
    daemonizes after binding (killed at lab exit). Returns (client, merged new_* env)."""
    wait_link_local(lab, ns, ifname)
    cl = L._client(lab, "dhclient6", ns, ifname, configure=False)
    with open(cl.conf, "w") as f:
        f.write("request dhcp6.name-servers, dhcp6.domain-search;\n")

    def kill():
        try:
            with open(cl.pidfile) as f:
                os.kill(int(f.read().strip()), signal.SIGKILL)
        except (OSError, ValueError):
            pass
    lab.on_exit(kill)
    n0 = len(cl.events())
    r = lab.run(ns, dhclient6_argv(cl, ifname, "-1", *flags), timeout=timeout)
    cl.last_output = r.stdout + r.stderr
    evs = [e for e in cl.events()[n0:] if e[0] in ("BOUND6", "REBOOT6")]
    if r.returncode != 0 or not evs:
        raise L.LabError("dhclient -6 got no lease:\n%s\nevents %r" % (cl.last_output, [e[0] for e in cl.events()]))
    env = {}
    for _, e in evs:  # with -P -N the script runs once per IA: merge them
        env.update({k: v for k, v in e.items() if k.startswith("new_")})
    return cl, env


def dhcpcd6_start(lab, ns, ifname, timeout=25):
    """dhcpcd -6 as a tracked daemon asking for IA_NA 1 and IA_PD 2 (nothing configured on
    the interface). Returns (client, env of BOUND6) with new_dhcp6_ia_na1_ia_addr1,
    new_dhcp6_ia_pd1_prefix1(_length), new_dhcp6_name_servers."""
    cl = L._client(lab, "dhcpcd6", ns, ifname, configure=False)
    with open(cl.conf, "w") as f:
        f.write("noipv6rs\nipv6only\nia_na 1\nia_pd 2 -\noption dhcp6_name_servers, dhcp6_domain_search\n")
    n0 = len(cl.events())
    argv = ["dhcpcd", "-6", "-B", "--noconfigure", "-t", "15", "-f", cl.conf, "-c", cl.script, ifname]
    wait_link_local(lab, ns, ifname)
    cl.proc = lab.popen(ns, L._dhcpcd_wrap(lab, argv), log="dhcpcd6-%s.log" % ns)
    _, name, env = cl.wait_event({"BOUND6", "REBOOT6"}, n0, timeout=timeout)
    return cl, env


def ns_socket(ns, family=socket.AF_INET6, kind=socket.SOCK_DGRAM):
    """A socket living in namespace ns (made by a thread that setns()es into it)."""
    box = {}

    def run():
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open("/var/run/netns/" + ns, os.O_RDONLY)
            try:
                if libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
                    raise OSError(ctypes.get_errno(), "setns")
            finally:
                os.close(fd)
            box["s"] = socket.socket(family, kind)
        except Exception as e:  # reported in the caller
            box["e"] = e

    t = threading.Thread(target=run)
    t.start()
    t.join(5)
    if "e" in box:
        raise box["e"]
    return box["s"]
