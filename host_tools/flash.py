# `flash BOARD --port P [--dry-run]`: put build/BOARD on a device with mpremote. Only files
# whose SHA-256 on the device differs are copied; every copied file is hashed again on the
# device; then the service restarts. A real board is hard-reset (`mpremote reset`: main.py
# runs again). The Unix port behind a pseudo-terminal has no reset, so there "restart" is a
# soft re-run: platform_thread.stop(), the mpdhcp modules dropped from sys.modules, main.py exec'd.
# Before anything is written: the build's config is checked with the firmware's parser, and
# the board's free space (os.statvfs) is compared with what the copy needs.
# Exit codes: 0 done (or nothing to do), 1 device unreachable or a copy failed, 2 no build,
# 3 a file's hash on the device differs after the copy, 4 the board would reject the build's
# config, 5 not enough free space on the board (4 and 5: nothing written).
import hashlib
import json
import os
import sys

from . import ROOT, output
from .config_check import check
from .device import DeviceError, call, run as mp

# path -> [sha256 hex, size] or None, and the free space of the working folder's filesystem:
# [f_frsize, f_bavail * f_frsize] (VfsFat and VfsLfs give the block size in both f_bsize and
# f_frsize), or None on a port without os.statvfs
_HASH = """
import hashlib, binascii, os
r = {}
for p in %r:
    try:
        h = hashlib.sha256()
        n = 0
        with open(p, 'rb') as f:
            while True:
                b = f.read(512)
                if not b:
                    break
                h.update(b)
                n += len(b)
        r[p] = [binascii.hexlify(h.digest()).decode(), n]
    except OSError:
        r[p] = None
try:
    s = os.statvfs('.')
    free = [s[1], s[1] * s[4]]
except (AttributeError, OSError):
    free = None
print(%r + json.dumps({'files': r, 'free': free}))
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
                       "a pseudo-terminal: stop the service, re-run main.py). Nothing is written when the "
                       "build's config would be rejected or the board lacks the space. Exit 0 done, 1 device "
                       "or copy error, 2 no build, 3 verification failed, 4 invalid config, 5 not enough space.")
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


class Refused(Exception):
    """Nothing was written: the reason, and the exit status."""

    def __init__(self, status, text):
        Exception.__init__(self, text)
        self.status = status


def device_hashes(port, paths):
    """({path: [sha256, size] or None}, [block size, free bytes] or None) from the device."""
    got = call(port, _HASH % (list(paths), "@@MPDHCP "), timeout=60)
    if "error" in got:
        raise DeviceError("hashing on the device failed: %s" % got["error"])
    return got["files"], got["free"]


def folders(paths):
    """Every folder on the way to the paths, parents first (mpdhcp/, then mpdhcp/v4/)."""
    dirs = set()
    for p in paths:
        d = os.path.dirname(p)
        while d:
            dirs.add(d)
            d = os.path.dirname(d)
    return sorted(dirs)


# Blocks a new folder takes from the free space that os.statvfs reports: 4 on littlefs2 (the
# ESP32's and the Pico W's default; measured on the Unix port's VfsLfs2 with 4096-byte blocks,
# mkdir after mkdir), 1 cluster on FAT. Files take whole blocks on both (littlefs keeps a file
# of up to about a hundred bytes inline, for nothing).
FOLDER_BLOCKS = 4


def space_needed(todo, files, before, block):
    """Bytes the copy takes from the free space: each new file in whole blocks, less the blocks
    of the copy it replaces, plus FOLDER_BLOCKS per folder that holds none of our files yet."""
    def blocks(n):
        return -(-n // block)

    new_dirs = [d for d in folders(todo) if not any(before.get(p) for p in files if p.startswith(d + "/"))]
    n = sum(blocks(os.path.getsize(files[p][0])) for p in todo) + FOLDER_BLOCKS * len(new_dirs)
    return (n - sum(blocks(before[p][1]) for p in todo if before.get(p))) * block


def check_config(tree, port):
    path = os.path.join(tree, "mpdhcp.json")
    if os.path.exists(path):
        ok, s = check(path)
        if not ok:
            raise Refused(4, "%s; nothing was written to %s: fix the config, build again, then flash" % (
                s["error"], port))


def check_space(port, need, free):
    if free is not None and need > free[1]:
        raise Refused(5, "not enough space on %s: the files to write need %d bytes (in %d-byte blocks), the "
                      "board has %d free, %d missing; nothing was written: delete files on the board "
                      "(mpremote connect %s fs rm ...) or deploy fewer modules" % (
                          port, need, free[0], free[1], need - free[1], port))


def flash(board, port, dry_run=False, restart=True, tree=None, quiet=False):
    """Returns a summary dict; raises DeviceError, or Refused before anything is written."""
    tree = tree or os.path.join(ROOT, "build", board)
    if not os.path.isdir(tree):
        raise Refused(2, "no build in %s: run `python -m host_tools build %s` first" % (tree, board))
    check_config(tree, port)
    files = local_files(tree)
    before, free = device_hashes(port, files)
    todo = [p for p, (_, h) in files.items() if (before.get(p) or [None])[0] != h]
    summary = {"port": port, "files": len(files), "changed": todo, "copied": [], "restarted": None}
    if free is not None:
        summary["free_bytes"], summary["need_bytes"] = free[1], space_needed(todo, files, before, free[0])
        check_space(port, summary["need_bytes"], free)
    if dry_run or not todo:
        if restart and not dry_run and not todo:
            summary["restarted"] = False  # nothing changed: leave the running service alone
        return summary
    dirs = folders(todo)
    if dirs:
        call(port, _MKDIR % (dirs, "@@MPDHCP "))
    sizes = dict((p, os.path.getsize(files[p][0])) for p in todo)
    with output.Progress("flash", sum(sizes.values()), len(todo), quiet=quiet) as bar:
        for p in todo:
            mp(port, "fs", "cp", files[p][0], ":" + p, timeout=120)
            summary["copied"].append(p)
            bar.step(p, sizes[p])
    after, _ = device_hashes(port, todo)
    bad = [p for p in todo if (after.get(p) or [None])[0] != files[p][1]]
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
    except Refused as e:
        print("flash: %s" % e, file=sys.stderr)
        return e.status
    except DeviceError as e:
        print("flash: %s" % e, file=sys.stderr)
        return 1
    if args.json:
        output.dump(s)
    else:
        verb = "would copy" if args.dry_run else "copied"
        print("%s %d of %d files to %s%s" % (verb, len(s["changed"]), s["files"], args.port,
                                             "" if s["changed"] else " (device is up to date)"))
        for p in s["changed"]:
            print("  " + p)
        if "free_bytes" in s:
            print("space on the board: %d bytes free, the copy needs %d" % (s["free_bytes"], s["need_bytes"]))
        if s.get("verify_failed"):
            print("hash differs on the device after copying: %s" % ", ".join(s["verify_failed"]))
        if s["restarted"]:
            print("restart: %s" % s["restarted"])
    return 3 if s.get("verify_failed") else 0
