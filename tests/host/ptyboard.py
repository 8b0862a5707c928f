# A "board" without hardware for the tests: the virtual board of `python -m host_tools board`
# (host_tools/vboard.py: the Unix port behind a pseudo-terminal, its flash a folder that is its
# "/"), run in the foreground inside a lab namespace, so the lab ends it with the namespace.
# mpremote drives it as a board; `resume` keeps the service running.
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
from host_tools import vboard  # noqa: E402
from host_tools.device import run as mp  # noqa: E402


class PtyBoard:
    def __init__(self, lab, ns, name="vboard"):
        self.dir = lab.path(name + "-fs")
        os.makedirs(self.dir)
        self.port = lab.path(name)
        self.proc = lab.popen(ns, vboard.run_argv(self.port, self.dir), log=name + ".log", cwd=ROOT)
        try:
            vboard.wait_ready(self.port, lambda: self.proc.poll() is None, 20)
        except vboard.VBoardError as e:
            raise vboard.VBoardError("%s: %s" % (e, lab.read_log(self.proc)))

    def exec(self, code, timeout=30):
        return mp(self.port, "exec", code, timeout=timeout)
