# The lease journal on a real filesystem (state/journal.py): damage never spreads, the damaged
# file is kept aside, and a lease file that cannot be read stops the start and stays as it was.
import os
import signal
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "protocol"))

from craft4 import pkt, opt, meta, exchange, server  # noqa: E402
from mpdhcp.state import journal as J  # noqa: E402
from mpdhcp.wire.addr import ip4  # noqa: E402
from host_tools.paths import micropython  # noqa: E402


def _mac(i):
    return bytes((2, 0, 0, 0, 1, i))


def _bind_all(path, n=8):
    s = server(journal=J.Journal(path))
    s.restore()
    for i in range(n):
        req = pkt(3, _mac(i), opts=(opt(50, ip4("192.168.77.%d" % (100 + i))),))
        assert exchange(s, req, meta(), 1000)[0] > 0
    s.journal.commit()
    s.journal.close()
    return s


def _listing(s):
    lt = s.leases
    return sorted(lt.fields(r) for r in range(lt.used) if lt.state(r) not in (0, 1))


def test_a_flipped_bit_costs_one_lease_and_the_original_is_kept_aside(tmp_path):
    path = str(tmp_path / "leases4.jnl")
    live = _bind_all(path)
    with open(path, "rb") as f:
        original = bytearray(f.read())
    original[5] ^= 0x10  # inside the first lease record
    with open(path, "wb") as f:
        f.write(original)
    s = server(journal=J.Journal(path))
    s.restore()
    assert s.leases.held() == 7  # the record hit, no more
    assert set(_listing(s)) < set(_listing(live))
    assert open(path + ".corrupt-1", "rb").read() == bytes(original)  # kept as it was
    assert "1 damaged record stretch" in s.journal.report() and path + ".corrupt-1" in s.journal.report()
    s.journal.close()
    again = server(journal=J.Journal(path))
    again.restore()  # the rewritten file is sound: nothing more is set aside
    assert _listing(again) == _listing(s) and again.journal.report() is None
    assert not os.path.exists(path + ".corrupt-2")


def test_a_directory_at_the_lease_path_stops_the_start_and_nothing_is_written(tmp_path):
    path = tmp_path / "leases4.jnl"
    path.mkdir()
    s = server(journal=J.Journal(str(path)))
    with pytest.raises(J.JournalError, match="not a regular file"):
        s.restore()
    assert sorted(os.listdir(tmp_path)) == ["leases4.jnl"]  # no .tmp left behind


def test_a_fifo_at_the_lease_path_is_refused_without_blocking(tmp_path):
    path = str(tmp_path / "leases4.jnl")
    os.mkfifo(path)
    signal.alarm(10)  # a blocking open would hang the test: fail it instead
    try:
        with pytest.raises(J.JournalError, match="not a regular file"):
            server(journal=J.Journal(path)).restore()
    finally:
        signal.alarm(0)


def test_an_unreadable_lease_file_is_refused_and_left_as_it_was(tmp_path, monkeypatch):
    path = str(tmp_path / "leases4.jnl")
    _bind_all(path)
    before = open(path, "rb").read()
    os.chmod(path, 0)

    def denied(p, *a, **k):  # what a non-root service meets with mode 000 (root reads anyway)
        raise PermissionError(13, "Permission denied", p)

    monkeypatch.setattr(J, "open", denied, raising=False)
    with pytest.raises(J.JournalError, match="cannot read the lease file"):
        server(journal=J.Journal(path)).restore()
    monkeypatch.undo()
    assert os.stat(path).st_mode & 0o777 == 0 and open(path, "rb").read() == before


def test_the_service_on_the_unix_port_refuses_to_start_on_a_directory(tmp_path):
    lease = tmp_path / "leases4.jnl"
    lease.mkdir()
    conf = tmp_path / "mpdhcp.json"
    conf.write_text('{"Dhcp4": {"interfaces-config": {"interfaces": ["lo"]}, '
                    '"lease-database": {"type": "memfile", "name": "%s"}, '
                    '"subnet4": [{"id": 1, "subnet": "192.168.77.0/24", '
                    '"pools": [{"pool": "192.168.77.100 - 192.168.77.109"}]}]}}' % lease)
    env = dict(os.environ, MICROPYPATH=os.path.join(ROOT, "firmware"))
    p = subprocess.run([micropython(), "-m", "mpdhcp", str(conf)], capture_output=True, text=True,
                       timeout=30, env=env, cwd=str(tmp_path))
    assert p.returncode == 1 and "cannot start" in p.stderr and "not a regular file" in p.stderr, p.stderr
    assert sorted(os.listdir(tmp_path)) == ["leases4.jnl", "mpdhcp.json"]
