# Where things are: the repo, the firmware, and the interpreters in .venv.
import os
import shutil
import sys

from . import FIRMWARE


def micropython():
    """The Unix-port interpreter: .venv's, else one on PATH."""
    cand = os.path.join(os.path.dirname(sys.executable), "micropython")
    if os.path.exists(cand):
        return cand
    found = shutil.which("micropython")
    if not found:
        raise SystemExit("micropython (the Unix port) not found: run `make venv` first")
    return found


def mp_env(extra_path=()):
    env = dict(os.environ)
    env["MICROPYPATH"] = ":".join(list(extra_path) + [FIRMWARE, ".frozen"])
    return env
