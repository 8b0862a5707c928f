# The control socket (platform/control_unix.py) against abuse while perfdhcp asks for leases:
# DHCP latency must not depend on it. Before: each connection was read blocking (1 s timeout,
# 64 KB) inside the DHCP loop, and a client sending a byte every 0.5 s let 3 of 32 DISCOVERs
# through. Also: it is created 0600 whatever the umask, and never removes what is not a socket.
import json
import os
import socket
import threading
import time

import pytest

from peerutil import require
import lab as L
import mpdhcp_lab as M

N = 40  # DORA exchanges under abuse


def _lab_server(lab, name="mpdhcp"):
    srv, cli = lab.add_host("srv"), lab.add_host("cli")
    lab.link(srv, "s0", cli, "c0")
    lab.addr(srv, "s0", "192.168.77.1/24")
    lab.addr(cli, "c0", "10.77.0.2/16")
    lab.route(srv, "10.77.0.0/16", dev="s0")
    return srv, cli, M.MpdhcpServer(lab, srv, M.perf_config(lab), name=name)


def _abuse(path, stop, kind):
    """Until stop: slow writers (a byte every 0.5 s), idle connections, readers that never read."""
    held = []
    t_end = time.time() + 30
    while not stop.is_set() and time.time() < t_end:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(1.0)
            s.connect(path)
            held.append(s)
            if kind == "slow":
                s.send(b"{")
                stop.wait(0.5)
            elif kind == "reader":
                s.send(json.dumps({"command": "lease4-get-all"}).encode())  # and never read
            if len(held) > 200:
                held.pop(0).close()
        except OSError:
            stop.wait(0.05)
    for s in held:
        s.close()


@pytest.mark.parametrize("kind", ["slow", "idle", "reader"])
def test_dhcp_keeps_its_pace_while_the_control_socket_is_abused(lab, kind):
    require("perfdhcp")
    srv, cli, server = _lab_server(lab)
    warm = L.perfdhcp4(lab, cli, "c0", rate=200, num_exchanges=400, timeout=10, exit_wait_us=1000000)
    assert warm["received"].get("ACK", 0) >= 390, warm["output"]  # a long lease listing to read
    stop = threading.Event()
    threads = [threading.Thread(target=_abuse, args=(server.sock, stop, kind)) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        r = L.perfdhcp4(lab, cli, "c0", rate=20, num_exchanges=N, timeout=N // 20 + 6,
                        exit_wait_us=1000000)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert r["received"].get("ACK", 0) == N and r["drops"] == 0, r["output"]
    L.wait_for(lambda: server._answers(), 5, what="the control socket answering again")
    server.stop()


def test_the_socket_is_owner_only_whatever_the_umask(lab):
    old = os.umask(0)
    try:
        srv, cli, server = _lab_server(lab)
    finally:
        os.umask(old)
    st = os.stat(server.sock)
    assert st.st_mode & 0o777 == 0o600 and st.st_uid == 0
    assert not os.path.exists(server.sock + ".new")
    server.stop()


def test_a_file_at_the_socket_path_is_left_alone_and_the_start_refused(lab):
    srv = lab.add_host("srv")
    cli = lab.add_host("cli")
    lab.link(srv, "s0", cli, "c0")
    lab.addr(srv, "s0", "192.168.77.1/24")
    cfg = M.lan_config(lab)
    path = cfg["Dhcp4"]["control-socket"]["socket-name"]
    with open(path, "w") as f:
        f.write("precious")
    server = M.MpdhcpServer(lab, srv, cfg, start=False)
    with pytest.raises(L.LabError, match="not a socket"):
        server.start(timeout=10)
    assert open(path).read() == "precious"
