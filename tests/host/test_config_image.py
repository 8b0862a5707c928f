# host_tools/config_image.py and `build`'s compiled config: every config we ship or test with
# survives the image unchanged, a bad config fails the build with its key path, and a board
# built that way carries no parser yet starts from its image (the Unix port here).
import glob
import json
import os
import subprocess

import pytest

from hostutil import ROOT, need, cli
from host_tools import config_image as CI
from host_tools.build import PARSERS
from host_tools.paths import micropython

CONFIGS = sorted(glob.glob(os.path.join(ROOT, "boards", "*", "mpdhcp.json")) +
                 glob.glob(os.path.join(ROOT, "tests", "configs", "*.json")))


def _tree(secs):
    return json.dumps(dict((k, CI.encode(v)) for k, v in secs.items()), sort_keys=True)


@pytest.mark.parametrize("path", CONFIGS, ids=os.path.basename)
def test_an_image_decodes_to_what_the_parsers_make(path):
    from mpdhcp.config.parser import parse_doc
    from mpdhcp.config.image import decode, fits

    with open(path) as f:
        text = f.read()
    head, secs = [json.loads(line) for line in CI.compile_text(text).splitlines()]
    assert fits(head, text.encode()) and not fits(head, (text + " ").encode())
    assert head["sections"] == list(secs) == list(json.loads(text))
    assert _tree(decode(secs)) == _tree(parse_doc(text))


def test_the_fuzzers_base_configs_survive_the_image():
    # (both servers and clients, 4o6, BOOTP, reservations, every option kind)
    from mpdhcp.config.parser import parse_doc
    from mpdhcp.config.image import decode
    import fuzz_checks

    for text in fuzz_checks.BASES:
        assert _tree(decode(json.loads(CI.compile_text(text).splitlines()[1]))) == _tree(parse_doc(text))


def test_a_bad_config_fails_the_build_with_its_key_path(tmp_path):
    need("mpy-cross")
    cfg = json.load(open(os.path.join(ROOT, "boards", "esp32", "mpdhcp.json")))
    cfg["Dhcp4"]["valid-lifetim"] = 5
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(cfg))
    r = cli("build", "esp32", "--config", bad, "--out", tmp_path / "out")
    assert r.returncode == 2 and "Dhcp4.valid-lifetim: unknown key" in r.stderr, r.stderr
    assert not (tmp_path / "out").exists()
    r = cli("build", "esp32", "--config", bad, "--out", tmp_path / "out", "--parse-on-board", "--json")
    assert r.returncode == 0, r.stderr  # the board's own start says what is wrong then
    assert not (tmp_path / "out" / "mpdhcp.cfg").exists()


def test_a_compiled_board_starts_from_its_image_with_no_parser(tmp_path):
    need("mpy-cross", "micropython")
    out = tmp_path / "unix"
    r = cli("build", "unix", "--out", out, "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    names = [m["module"] for m in rep["modules"]]
    assert rep["config"] == "compiled (mpdhcp.cfg)" and (out / "mpdhcp.cfg").exists()
    assert not [n for n in names if n[len("mpdhcp/"):-4] + ".py" in PARSERS + ("config/parser.py", "config/common.py",
                                                                           "wire/options4.py")], names
    code = ("from mpdhcp import config\nimport sys\nd = config.load('mpdhcp.json')\n"
            "print(sorted(d), d['Dhcp4'].subnets[0].id, 'mpdhcp.config.parser' in sys.modules)")
    p = subprocess.run([micropython(), "-c", code], capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, MICROPYPATH=str(out)), cwd=str(out))
    assert p.returncode == 0 and p.stdout.split() == ["['Dhcp4']", "1", "False"], p.stdout + p.stderr
    with open(out / "mpdhcp.json", "a") as f:
        f.write(" ")  # edited on the board: this build cannot parse it, and says so
    p = subprocess.run([micropython(), "-c", code], capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, MICROPYPATH=str(out)), cwd=str(out))
    assert p.returncode != 0 and "changed since it was compiled" in p.stdout + p.stderr, p.stdout + p.stderr
    r = cli("build", "unix", "--out", out, "--parse-on-board", "--json")
    names = [m["module"] for m in json.loads(r.stdout)["modules"]]
    assert "mpdhcp/config/parser.mpy" in names and "mpdhcp/config/dhcp4.mpy" in names
