# A "board" without hardware: the MicroPython Unix port behind a pseudo-terminal (socat),
# started inside a lab namespace, its working directory standing in for the board's flash.
# mpremote drives it with `resume` (see ../../../shared/MICROPYTHON_NOTES.md).
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
from host_tools import lab as L  # noqa: E402
from host_tools.paths import micropython  # noqa: E402
from host_tools.device import run as mp, DeviceError  # noqa: E402


class PtyBoard:
    def __init__(self, lab, ns, name="vboard"):
        self.dir = lab.path(name + "-fs")
        os.makedirs(self.dir)
        self.port = lab.path(name)
        env = dict(os.environ, MICROPYPATH=self.dir + ":.frozen")
        exe = micropython()
        self.proc = lab.popen(ns, [
            "socat", "PTY,link=%s,raw,echo=0" % self.port,
            'EXEC:"%s",pty,setsid,ctty,raw,echo=0,stderr' % exe], log=name + ".log", cwd=self.dir, env=env)
        L.wait_for(lambda: os.path.exists(self.port) or self.proc.poll() is not None, 10, what="pty board")
        if self.proc.poll() is not None:
            raise L.LabError("socat exited: " + lab.read_log(self.proc))
        L.wait_for(self._alive, 15, interval=0.3, what="pty board REPL")

    def _alive(self):
        try:
            return "ok" in mp(self.port, "exec", "print('ok')", timeout=10)
        except DeviceError:
            return False

    def exec(self, code, timeout=30):
        return mp(self.port, "exec", code, timeout=timeout)
