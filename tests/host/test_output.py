# output.py: a listing printed as rich on a terminal, as plain text on a pipe (no box drawing,
# no ANSI codes, number columns right-aligned), or as JSON; progress as a bar or one line a step.
import io
import json
import os
import pty
import subprocess
import sys

from hostutil import ROOT, need, cli
from host_tools import output

BOX = set("┏┃━│└┡╇")  # some of rich's box-drawing characters


class Tty(io.StringIO):
    def isatty(self):
        return True


def _table():
    return output.Table(("client", "n", "loss"), [{"client": "aa:bb (id [x])", "n": 12, "loss": "0.50%"},
                                                 ("cc", 3, "-")], title="leases")


def test_plain_text_aligns_columns_and_right_aligns_numbers():
    assert output.plain(_table(), "after").splitlines() == [
        "leases",
        "client           n   loss",
        "aa:bb (id [x])  12  0.50%",
        "cc               3      -",
        "after"]
    assert output.Table(("a",), [], indent=2).plain() == "  (none)"


def test_a_pipe_gets_plain_text_and_a_terminal_gets_rich():
    piped = io.StringIO()
    output.show(_table(), "after", file=piped)
    assert piped.getvalue() == output.plain(_table(), "after") + "\n"
    tty = Tty()
    output.show(_table(), "a [b]tag[/b]", file=tty)
    text = tty.getvalue()
    assert BOX & set(text) and "aa:bb (id [x])" in text  # a cell is text, never rich markup
    assert "a [b]tag[/b]" in text


def test_dump_prints_one_json_document():
    f = io.StringIO()
    output.dump({"leases": [1, 2]}, file=f)
    assert json.loads(f.getvalue()) == {"leases": [1, 2]}


def test_progress_is_a_bar_on_a_terminal_and_one_line_a_step_on_a_pipe():
    f = io.StringIO()
    with output.Progress("flash", 300, 2, file=f) as p:
        p.step("main.py", 100)
        p.step("mpdhcp/runner.mpy", 200)
    assert f.getvalue() == "flash 1/2 main.py (100 B)\nflash 2/2 mpdhcp/runner.mpy (200 B)\n"
    tty = Tty()
    with output.Progress("flash", 300, 2, file=tty) as p:
        p.step("main.py", 100)
        p.step("mpdhcp/runner.mpy", 200)
    assert "flash 2/2 mpdhcp/runner.mpy" in tty.getvalue() and "300/300 bytes" in tty.getvalue()
    quiet = io.StringIO()
    with output.Progress("flash", 300, 1, quiet=True, file=quiet) as p:
        p.step("main.py", 300)
    assert quiet.getvalue() == ""


def _on_a_terminal(*args):
    """python -m host_tools ARGS with stdout on a pseudo-terminal: (status, stdout)."""
    argv = [sys.executable, "-m", "host_tools"] + [str(a) for a in args]
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, cwd=ROOT, stdout=slave, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    os.close(slave)
    out = b""
    while True:
        try:
            part = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not part:
            break
        out += part
    os.close(master)
    return p.wait(60), out.decode()


def test_build_sizes_on_a_terminal_on_a_pipe_and_as_json(tmp_path):
    need("mpy-cross")
    st, tty = _on_a_terminal("build", "unix", "--out", tmp_path / "t")
    assert st == 0 and BOX & set(tty) and "mpdhcp/runner.mpy" in tty
    r = cli("build", "unix", "--out", tmp_path / "p")  # stdout a pipe
    assert r.returncode == 0 and not BOX & set(r.stdout) and "\x1b" not in r.stdout
    lines = r.stdout.splitlines()
    assert lines[1].split() == ["module", "source", "mpy"] and lines[-2].split()[0] == "total"
    assert len({len(ln) for ln in lines[1:-1]}) == 1  # the mpy column, header too, right-aligned
    r = cli("build", "unix", "--out", tmp_path / "j", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["board"] == "unix"
