# Talking to a board (or the Unix port behind a pseudo-terminal) through mpremote's raw REPL.
# `resume` keeps whatever runs on the board running (no soft reset): the service goes on
# serving while we ask it things.
import errno
import json
import os
import re
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
        err = (r.stderr or r.stdout).strip()
        m = re.search(r"failed to access (.+?)(?: \(it may be in use|$)", err)
        if m:
            raise DeviceError(unreachable(port, m.group(1)))
        if "could not enter raw repl" in err:
            raise DeviceError("no MicroPython REPL answered on %s: is it the board's serial port? If a "
                              "program on the board holds the REPL, reset the board and try again" % port)
        raise DeviceError("mpremote %s failed on %s: %s" % (args[0], port, err.splitlines()[-1] if err else "no output"))
    return r.stdout


def unreachable(port, path):
    """Why mpremote could not open `path` (the device it made of `port`), and what to do:
    mpremote says "failed to access" alike when it is missing, held or forbidden."""
    if not os.path.exists(path):
        return ("no board at %s: %s does not exist; plug the board in, or list the serial ports with "
                "`mpremote connect list`" % (port, path))
    import fcntl

    try:
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError as e:
        return "cannot open %s: %s%s" % (path, e.strerror, "; add your user to the dialout group and log in "
                                         "again" if e.errno in (errno.EPERM, errno.EACCES) else "")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what pyserial's exclusive open takes
    except OSError:
        return ("%s is busy: %s holds it; close that program (a serial terminal, an IDE, another mpremote) "
                "and try again" % (port, holders(path) or "another program"))
    finally:
        os.close(fd)
    return "cannot open %s: mpremote failed to access it" % path


def holders(path):
    """"pid N (name)" of the process holding the lock on `path` (Linux /proc/locks: FLOCK lines
    name the pid and the locked file as major:minor:inode), or ""."""
    st = os.stat(path)
    key = "%02x:%02x:%d" % (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)
    found = []
    try:
        with open("/proc/locks") as f:
            pids = [w[4] for w in (ln.split() for ln in f) if len(w) > 5 and w[1] == "FLOCK" and w[5] == key]
        for pid in pids:
            with open("/proc/%s/comm" % pid) as f:
                found.append("pid %s (%s)" % (pid, f.read().strip()))
    except OSError:
        pass
    return ", ".join(found)


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
