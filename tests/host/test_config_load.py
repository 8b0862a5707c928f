# config.load() on the Unix port with a board-sized heap: a file that is not UTF-8, or too
# large for the heap, is refused with its path before it is parsed (never a traceback).
import os
import subprocess

from hostutil import ROOT
from host_tools.paths import micropython

PROBE = ("import sys\nfrom mpdhcp import config\n"
         "try:\n    config.load(sys.argv[1])\n    print('ACCEPTED')\n"
         "except config.ConfigError as e:\n    print('REFUSED', e)\n")


def _load(path, heap="64K"):
    env = dict(os.environ, MICROPYPATH=os.path.join(ROOT, "firmware"))
    p = subprocess.run([micropython(), "-X", "heapsize=" + heap, "-c", PROBE, str(path)],
                       capture_output=True, text=True, timeout=30, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout.strip()


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    f = tmp_path / "bad.json"
    f.write_bytes(b'{"Dhcp4": {"interfaces-config": {"interfaces": ["s\xff0"]}}}')
    assert _load(f) == "REFUSED %s: not UTF-8 text" % f


def test_a_config_too_large_for_the_heap_is_refused_before_parsing(tmp_path):
    f = tmp_path / "big.json"
    subnets = ", ".join('{"id": %d, "subnet": "10.%d.%d.0/24"}' % (i + 1, i // 256, i % 256) for i in range(240))
    f.write_text('{"Dhcp4": {"interfaces-config": {"interfaces": ["s0"]}, "subnet4": [%s]}}' % subnets)
    out = _load(f)
    assert out.startswith("REFUSED %s: " % f) and "too large for this board" in out, out
    assert _load(f, heap="4M") == "ACCEPTED"
