# Talking to a board (or the Unix port behind a pseudo-terminal) through mpremote's raw REPL.
# `resume` keeps whatever runs on the board running (no soft reset): the service goes on
# serving while we ask it things.
import json
import os
import shutil
import subprocess
import sys

MARK = "@@MPDHCP "  # the line our device-side snippets print their JSON answer on


class DeviceError(RuntimeError):
    pass


def mpremote():
    cand = os.path.join(os.path.dirname(sys.executable), "mpremote")
    if os.path.exists(cand):
        return cand
    found = shutil.which("mpremote")
    if not found:
        raise DeviceError("mpremote not found: run `make venv` first")
    return found


def run(port, *args, timeout=30):
    """`mpremote connect PORT resume ARGS...` -> stdout. Raises DeviceError."""
    argv = [mpremote(), "connect", port, "resume"] + list(args)
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise DeviceError("mpremote timed out after %ds on %s" % (timeout, port))
    if r.returncode != 0:
        raise DeviceError("mpremote %s failed on %s: %s" % (args[0], port, (r.stderr or r.stdout).strip()[-800:]))
    return r.stdout


def call(port, code, timeout=30):
    """Run code on the device; it prints one MARK line with JSON, which is returned parsed.
    A device-side exception becomes {"error": text} through the wrapper."""
    wrapped = ("import json\ntry:\n" + "".join("    " + ln + "\n" for ln in code.strip().splitlines()) +
               "except Exception as _e:\n    print(%r + json.dumps({'error': repr(_e)}))\n" % MARK)
    out = run(port, "exec", wrapped, timeout=timeout)
    for line in out.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    raise DeviceError("no answer from the device (output: %r)" % out[-400:])
