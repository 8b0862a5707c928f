# The demo's last part: a board in every user's hands. The commands a person types, each shown
# with what it prints: `board start --netns` (the Unix port on a pty, in a namespace with a LAN
# bridge and a client namespace), `build unix`, `flash` (its progress shown), busybox udhcpc in the
# client namespace leasing from the board, `inspect leases` while the board serves on, `board stop`.
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile

from . import ROOT


def _cmd(argv, env, capture=True, timeout=120, shown=None, tmp=None):
    """Print `$ argv`, run it (output shown, the temp dir as $TMP), return the CompletedProcess."""
    print("$ " + " ".join(shown or argv))
    sys.stdout.flush()
    r = subprocess.run(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, timeout=timeout, text=True,
                       capture_output=capture)
    if capture:
        out = r.stdout + r.stderr
        sys.stdout.write(out.replace(tmp, "$TMP") if tmp else out)
    return r


def _tool(*args, env, capture=True, timeout=120, tmp=None):
    shown = ["python", "-m", "host_tools"] + [a.replace(tmp, "$TMP") if tmp else a for a in args]
    return _cmd([sys.executable, "-m", "host_tools"] + list(args), env, capture, timeout, shown, tmp)


def show():
    """Run the flow; True when the client's lease showed in `inspect` and all went well."""
    print("\n== a board in every user's hands: the virtual board (the Unix port on a pty), "
          "driven as a board on /dev/ttyUSB0 is")
    tmp = tempfile.mkdtemp(prefix="mpdhcp-vboard-")
    env = dict(os.environ, MPDHCP_VBOARD_DIR=os.path.join(tmp, "vboard"))
    ns = "demo%s" % secrets.token_hex(2)
    port = None
    ok = False
    try:
        r = _tool("board", "start", "--netns", ns, env=env, tmp=tmp, timeout=60)
        if r.returncode != 0:
            return False
        port = os.path.join(tmp, "vboard", ns, "tty")
        r = _build(env, tmp)
        if r.returncode != 0:
            return False
        r = _tool("flash", "unix", "--port", port, "--build", os.path.join(tmp, "build-unix"), env=env,
                  capture=False, tmp=tmp)  # the progress bar goes straight to the terminal
        if r.returncode != 0:
            return False
        r = _cmd(["ip", "netns", "exec", ns + "-client", "udhcpc", "-i", "eth0", "-f", "-q", "-n", "-t", "3",
                  "-T", "2", "-x", "hostname:demo-laptop"], env, timeout=30)
        if r.returncode != 0:
            return False
        _tool("inspect", "--port", port, "leases", env=env, tmp=tmp)
        got = _quiet(env, "inspect", "--port", port, "leases", "--json")
        st = _quiet(env, "inspect", "--port", port, "log")
        leased = [l for l in json.loads(got.stdout or "[]") if l.get("hostname") == "demo-laptop"
                  and l.get("state") == "bound"]
        serving = '"running": true' in st.stdout
        print("(the board still serves after `inspect`: %s)" % ("yes" if serving else "NO"))
        ok = bool(leased) and serving
    except (subprocess.TimeoutExpired, ValueError) as e:
        print("virtual board part failed: %s" % e)
    finally:
        if port is not None:
            r = _tool("board", "stop", "--port", port, env=env, tmp=tmp, timeout=60)
            ok = ok and r.returncode == 0
        shutil.rmtree(tmp, ignore_errors=True)
    print("virtual board: %s" % ("OK" if ok else "FAILED"))
    return ok


def _build(env, tmp):
    """`build unix`, its report cut to the total lines."""
    r = _quiet(env, "build", "unix", "--out", os.path.join(tmp, "build-unix"))
    print("$ python -m host_tools build unix --out $TMP/build-unix")
    print("\n".join(r.stdout.splitlines()[-2:] + r.stderr.splitlines()))
    return r


def _quiet(env, *args):
    return subprocess.run([sys.executable, "-m", "host_tools"] + list(args), cwd=ROOT, env=env, text=True,
                          capture_output=True, stdin=subprocess.DEVNULL, timeout=120)
