# Errors a person can act on, met on the pty board (tests/host/ptyboard.py): a port that is not
# there, a port another program holds, a port without a MicroPython REPL, a board without mpdhcp, a build whose config the board
# would reject, a board without the room for the build. Each is one line on stderr saying what
# happened and what to do, a non-zero status, no traceback, and nothing written to the board.
import contextlib
import json
import os
import re
import shutil
import subprocess

import pytest

from hostutil import ROOT, need, cli
from host_tools import lab as L
from host_tools.paths import micropython

# A littlefs2 filesystem on a RAM block device (the block protocol of MicroPython's vfs docs,
# 4096-byte blocks as the ESP32's and the Pico W's flash), mounted at /flash and made the
# working folder: the board's files then live on a real, small filesystem, and os.statvfs
# answers for it.
SMALL_FS = """
import os, vfs
class _RAMBlocks:
    def __init__(self, n):
        self.data = bytearray(4096 * n)
    def readblocks(self, block, buf, off=0):
        a = block * 4096 + off
        buf[:] = self.data[a:a + len(buf)]
    def writeblocks(self, block, buf, off=0):
        a = block * 4096 + off
        self.data[a:a + len(buf)] = buf
    def ioctl(self, op, arg):
        if op == 4:
            return len(self.data) // 4096
        if op == 5:
            return 4096
        if op == 6:
            return 0
_bd = _RAMBlocks(%d)
vfs.VfsLfs2.mkfs(_bd)
vfs.mount(vfs.VfsLfs2(_bd), '/flash')
os.chdir('/flash')
open('boot.py', 'w').write('# what was there before\\n')
"""


@contextlib.contextmanager
def small_fs(b, blocks):
    """The pty board's files on a littlefs2 of `blocks` 4096-byte blocks while in the block."""
    b.exec(SMALL_FS % blocks)
    try:
        yield
    finally:
        b.exec("import os, vfs\nos.chdir(%r)\nvfs.umount('/flash')" % b.dir)

# the working folder's files (path -> size, sha256) and its free bytes, as one JSON line
LISTING = """
import os, json, hashlib, binascii
def _walk(d, out):
    for e in os.ilistdir(d):
        p = e[0] if d == '.' else d + '/' + e[0]
        if e[1] == 0x4000:
            _walk(p, out)
        else:
            h = hashlib.sha256(open(p, 'rb').read())
            out[p] = [os.stat(p)[6], binascii.hexlify(h.digest()).decode()]
    return out
s = os.statvfs('.')
print('@@' + json.dumps({'files': _walk('.', {}), 'free': s[0] * s[4]}))
"""


@pytest.fixture(scope="module")
def board():
    need("ip", "socat", "mpremote", "mpy-cross", "micropython", root=True)
    with L.Lab("herr") as lab:
        ns = lab.add_host("b")
        out = lab.path("build-unix")
        r = cli("build", "unix", "--out", out)
        assert r.returncode == 0, r.stderr
        from ptyboard import PtyBoard

        b = PtyBoard(lab, ns)
        b.exec("open('boot.py', 'w').write('# what was there before\\n')")
        yield lab, b, out


def _one_line(r, status):
    """The error as a person sees it: one line on stderr, the status, no traceback."""
    assert r.returncode == status, r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


def _listing(b):
    out = b.exec(LISTING)
    return json.loads(out[out.index("@@") + 2:])


def test_a_board_that_is_not_there(board):
    lab, b, out = board
    port = lab.path("ttyUSB9")
    for args in (("inspect", "leases"), ("flash", "unix", "--build", out), ("release", "192.168.77.5")):
        line = _one_line(cli(*args, "--port", port), 1)
        assert line == ("%s: no board at %s: %s does not exist; plug the board in, or list the serial "
                        "ports with `mpremote connect list`" % (args[0], port, port))


def test_a_board_another_program_holds(board):
    import serial

    lab, b, out = board
    before = _listing(b)["files"]
    with serial.Serial(b.port, exclusive=True):  # a serial terminal left open on the board
        inspect = cli("inspect", "leases", "--port", b.port)
        flash = cli("flash", "unix", "--port", b.port, "--build", out)
    for verb, r in (("inspect", inspect), ("flash", flash)):
        line = _one_line(r, 1)
        m = re.match(r"%s: (\S+) is busy: (.*) holds it; close that program \(a serial terminal, an IDE, "
                     r"another mpremote\) and try again$" % verb, line)
        assert m and m.group(1) == b.port, line
        with open("/proc/self/comm") as f:
            assert m.group(2) == "pid %d (%s)" % (os.getpid(), f.read().strip()), line  # the lock's holder
    assert _listing(b)["files"] == before


def test_a_port_where_no_micropython_answers(board):
    # a serial device that is not a MicroPython board (or one whose REPL a program holds)
    lab, b, out = board
    port = lab.path("mute")
    p = lab.popen(lab.namespaces[0], ["socat", "PTY,link=%s,raw,echo=0" % port, "EXEC:sleep 60,pty,raw,echo=0"])
    try:
        L.wait_for(lambda: os.path.exists(port), 5, what="mute pty")
        line = _one_line(cli("inspect", "leases", "--port", port), 1)
        assert line == ("inspect: no MicroPython REPL answered on %s: is it the board's serial port? If a program "
                        "on the board holds the REPL, reset the board and try again" % port)
    finally:
        lab.stop(p)


def test_a_board_without_mpdhcp(board):
    lab, b, out = board
    hint = ("this board runs MicroPython (linux) but not mpdhcp: flash it with `python -m host_tools build "
            "unix && python -m host_tools flash unix --port %s`" % b.port)
    for args in (("inspect", "leases"), ("inspect", "log"), ("inspect", "stats", "--json"),
                 ("reserve", "02:00:00:00:00:01", "192.168.77.20")):
        assert _one_line(cli(*args, "--port", b.port), 4) == "%s: %s" % (args[0], hint)


def test_flash_refuses_a_config_the_board_would_reject(board, tmp_path):
    lab, b, out = board
    tree = tmp_path / "build"
    shutil.copytree(out, tree)
    cfg = json.loads((tree / "mpdhcp.json").read_text())
    cfg["Dhcp4"]["subnet4"][0]["pools"][0]["pool"] = "192.168.77.50 - 192.168.77.10"
    (tree / "mpdhcp.json").write_text(json.dumps(cfg))
    before = _listing(b)["files"]
    line = _one_line(cli("flash", "unix", "--port", b.port, "--build", tree), 4)
    error = "Dhcp4.subnet4[0].pools[0].pool: 192.168.77.50 - 192.168.77.10: range end before start"
    assert line == ("flash: %s/mpdhcp.json: %s; nothing was written to %s: fix the config, build again, "
                    "then flash" % (tree, error, b.port))
    assert _listing(b)["files"] == before
    # the board's own parser (the Unix port, the firmware's mpdhcp.config) says the same
    p = subprocess.run([micropython(), "-c", "from mpdhcp import config\ntry:\n    config.load(%r)\n"
                        "except config.ConfigError as e:\n    print(e)" % str(tree / "mpdhcp.json")],
                       capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, MICROPYPATH=os.path.join(ROOT, "firmware")))
    assert p.stdout.strip().endswith(error), p.stdout + p.stderr


def _deploy_bytes(out):
    with open(os.path.join(out, "build-report.json")) as f:
        return json.load(f)["deploy_total"]


def test_flash_stops_before_writing_when_the_board_lacks_space(board):
    lab, b, out = board
    with small_fs(b, 12):  # 48 KiB, less than the build
        before = _listing(b)
        assert before["free"] < _deploy_bytes(out)
        line = _one_line(cli("flash", "unix", "--port", b.port, "--build", out), 5)
        m = re.match(r"flash: not enough space on (\S+): the files to write need (\d+) bytes \(in 4096-byte "
                     r"blocks\), the board has (\d+) free, (\d+) missing; nothing was written: delete files on "
                     r"the board \(mpremote connect (\S+) fs rm \.\.\.\) or deploy fewer modules$", line)
        assert m and m.group(1) == m.group(5) == b.port, line
        need_b, free, missing = (int(m.group(i)) for i in (2, 3, 4))
        assert free == before["free"] and missing == need_b - free and need_b >= _deploy_bytes(out)
        assert _listing(b) == before  # not even a folder


def test_the_space_flash_asks_for_is_what_the_copy_takes(board):
    # the same build on a filesystem with room: it is copied, and takes no more than the estimate
    lab, b, out = board
    with small_fs(b, 80):
        free0 = _listing(b)["free"]
        r = cli("flash", "unix", "--port", b.port, "--build", out, "--no-restart", "--json")
        assert r.returncode == 0, r.stdout + r.stderr
        s = json.loads(r.stdout)
        assert s["free_bytes"] == free0 and not s["verify_failed"] and len(s["copied"]) == s["files"]
        used = free0 - _listing(b)["free"]
        assert _deploy_bytes(out) <= used <= s["need_bytes"] <= 1.25 * used, (used, s["need_bytes"])


def test_a_server_whose_control_socket_is_not_there(tmp_path):
    sock = tmp_path / "ctl.sock"
    line = _one_line(cli("leases6", "--socket", sock), 1)
    assert line == ("leases6: cannot reach the server's control socket %s ([Errno 2] No such file or directory): "
                    "is `python -m host_tools serve CONFIG` running with this control-socket socket-name?" % sock)
