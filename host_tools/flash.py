# `flash BOARD --port P [--dry-run]`: put build/BOARD on a device with mpremote. Only files
# whose SHA-256 on the device differs are copied; every copied file is hashed again on the
# device; then the service restarts. A real board is hard-reset (`mpremote reset`: main.py
# runs again). The Unix port behind a pseudo-terminal has no reset, so there "restart" is a
# soft re-run: platform_thread.stop(), the mpdhcp modules dropped from sys.modules, main.py exec'd.
# Exit codes: 0 done (or nothing to do), 1 device unreachable or a copy failed, 2 no build,
# 3 a file's hash on the device differs after the copy.
import hashlib
import json
import os
import sys

from . import ROOT
from .device import DeviceError, call, run as mp

_HASH = """
import hashlib, binascii, os
r = {}
for p in %r:
    try:
        h = hashlib.sha256()
        with open(p, 'rb') as f:
            while True:
                b = f.read(512)
                if not b:
                    break
                h.update(b)
        r[p] = binascii.hexlify(h.digest()).decode()
    except OSError:
        r[p] = None
print(%r + json.dumps(r))
"""

_MKDIR = """
import os
for d in %r:
    try:
        os.mkdir(d)
    except OSError:
        pass
print(%r + json.dumps({'ok': 1}))
"""

_RERUN = """
import sys, os
try:
    import mpdhcp.platform.thread as _b
    _b.stop()
except ImportError:
    pass
for _m in [m for m in sys.modules if m == 'main' or m == 'mpdhcp' or m.startswith('mpdhcp.')]:
    del sys.modules[_m]
exec(open('main.py').read(), {'__name__': '__main__'})
import mpdhcp.platform.thread as _b
print(%r + json.dumps(_b.status()))
"""


def add_parser(sub):
    p = sub.add_parser("flash", help="copy build/BOARD to a device (changed files only) and restart it",
                       description="Copy the deploy tree of `build BOARD` to the device on PORT with "
                       "mpremote: only files whose SHA-256 on the device differs, each verified by its "
                       "hash on the device afterwards, then restart (boards: hard reset; the Unix port on "
                       "a pseudo-terminal: stop the service, re-run main.py). Exit 0 done, 1 device or "
                       "copy error, 2 no build, 3 verification failed.")
    p.add_argument("board")
    p.add_argument("--port", required=True, help="serial device, e.g. /dev/ttyUSB0 or a pty link")
    p.add_argument("--dry-run", action="store_true", help="list what would be copied, change nothing")
    p.add_argument("--no-restart", action="store_true", help="copy only")
    p.add_argument("--build", help="deploy tree (default build/BOARD)")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.set_defaults(func=run)


def local_files(tree):
    out = {}
    for dp, _, fns in os.walk(tree):
        for fn in sorted(fns):
            if fn == "build-report.json":
                continue
            p = os.path.join(dp, fn)
            with open(p, "rb") as f:
                out[os.path.relpath(p, tree).replace(os.sep, "/")] = (p, hashlib.sha256(f.read()).hexdigest())
    return dict(sorted(out.items()))


def device_hashes(port, paths):
    got = call(port, _HASH % (list(paths), "@@MPDHCP "), timeout=60)
    if "error" in got:
        raise DeviceError("hashing on the device failed: %s" % got["error"])
    return got


def bar(i, n, path, size, width=24):
    done = int(width * i / n) if n else width
    sys.stdout.write("\r[%s%s] %d/%d %-32s %6d B" % ("#" * done, "." * (width - done), i, n, path[-32:], size))
    sys.stdout.flush()


def flash(board, port, dry_run=False, restart=True, tree=None, quiet=False):
    """Returns a summary dict; raises DeviceError, or FileNotFoundError for a missing build."""
    tree = tree or os.path.join(ROOT, "build", board)
    if not os.path.isdir(tree):
        raise FileNotFoundError("no build in %s: run `python -m host_tools build %s` first" % (tree, board))
    files = local_files(tree)
    before = device_hashes(port, files)
    todo = [p for p, (_, h) in files.items() if before.get(p) != h]
    summary = {"port": port, "files": len(files), "changed": todo, "copied": [], "restarted": None}
    if dry_run or not todo:
        if restart and not dry_run and not todo:
            summary["restarted"] = False  # nothing changed: leave the running service alone
        return summary
    dirs = set()
    for p in todo:  # every folder on the way, parents first (mpdhcp/, then mpdhcp/v4/)
        d = os.path.dirname(p)
        while d:
            dirs.add(d)
            d = os.path.dirname(d)
    dirs = sorted(dirs)
    if dirs:
        call(port, _MKDIR % (dirs, "@@MPDHCP "))
    for i, p in enumerate(todo):
        if not quiet:
            bar(i, len(todo), p, os.path.getsize(files[p][0]))
        mp(port, "fs", "cp", files[p][0], ":" + p, timeout=120)
        summary["copied"].append(p)
    if not quiet:
        bar(len(todo), len(todo), "done", 0)
        sys.stdout.write("\n")
    after = device_hashes(port, todo)
    bad = [p for p in todo if after.get(p) != files[p][1]]
    summary["verify_failed"] = bad
    if bad:
        return summary
    if restart:
        summary["restarted"] = restart_device(port)
    return summary


def restart_device(port):
    plat = call(port, "import sys\nprint(%r + json.dumps({'platform': sys.platform}))" % "@@MPDHCP ")
    if plat.get("platform") == "linux":  # the Unix port on a pty: soft re-run
        st = call(port, _RERUN % "@@MPDHCP ", timeout=30)
        if "running" not in st or not st["running"]:  # the wrapper's {"error": ...}, or a dead thread
            raise DeviceError("re-running main.py failed: %s" % st.get("error"))
        return "re-ran main.py: %s" % json.dumps(st)
    mp(port, "reset", timeout=30)
    return "hard reset"


def run(args):
    try:
        s = flash(args.board, args.port, args.dry_run, not args.no_restart, args.build, quiet=args.json)
    except FileNotFoundError as e:
        print("flash: %s" % e, file=sys.stderr)
        return 2
    except DeviceError as e:
        print("flash: %s" % e, file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(s, indent=1))
    else:
        verb = "would copy" if args.dry_run else "copied"
        print("%s %d of %d files to %s%s" % (verb, len(s["changed"]), s["files"], args.port,
                                             "" if s["changed"] else " (device is up to date)"))
        for p in s["changed"]:
            print("  " + p)
        if s.get("verify_failed"):
            print("hash differs on the device after copying: %s" % ", ".join(s["verify_failed"]))
        if s["restarted"]:
            print("restart: %s" % s["restarted"])
    return 3 if s.get("verify_failed") else 0
