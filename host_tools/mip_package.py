# `package [--check]`: the files `mpremote mip install` reads, written from the module list so
# they cannot fall behind it. package.json (top): the mpdhcp package, every firmware module as
# source ("urls": [destination, source] pairs, as micropython-lib's), installed into the board's
# /lib. boards/BOARD/package.json: that board's main.py and config, installed with --target /.
#   mpremote connect PORT mip install ./package.json
#   mpremote connect PORT mip install --target / ./boards/esp32/package.json
# (github:OWNER/REPO and github:OWNER/REPO/boards/esp32/package.json the same from GitHub.)
# Exit codes: 0 written (or up to date with --check), 1 --check found a file out of date.
import json
import os
import re
import sys

from . import ROOT, FIRMWARE
from .build import ARCH, firmware_modules


def add_parser(sub):
    p = sub.add_parser("package", help="write package.json files for `mpremote mip install`",
                       description="Write package.json (the mpdhcp package: every firmware module) and "
                       "boards/BOARD/package.json (the board's main.py and mpdhcp.json) from the module "
                       "list. --check: write nothing, exit 1 if a file differs.")
    p.add_argument("--check", action="store_true", help="compare only (exit 1 if out of date)")
    p.set_defaults(func=run)


def version():
    with open(os.path.join(FIRMWARE, "mpdhcp", "__init__.py")) as f:
        return re.search(r'__version__ = "([^"]+)"', f.read()).group(1)


def packages():
    """{path relative to the repository: the package.json document}."""
    v = version()
    out = {"package.json": {
        "urls": [["mpdhcp/" + m, "firmware/mpdhcp/" + m] for m in firmware_modules()],
        "version": v}}
    for board in sorted(ARCH):
        out["boards/%s/package.json" % board] = {
            "urls": [["main.py", "main.py"], ["mpdhcp.json", "mpdhcp.json"]], "version": v}
    return out


def text(doc):
    """JSON with one [destination, source] pair a line."""
    urls = ",\n".join("  " + json.dumps(u) for u in doc["urls"])
    return '{\n "urls": [\n%s\n ],\n "version": %s\n}\n' % (urls, json.dumps(doc["version"]))


def run(args):
    stale = []
    for rel, doc in packages().items():
        path = os.path.join(ROOT, rel)
        try:
            with open(path) as f:
                same = f.read() == text(doc)
        except OSError:
            same = False
        if same:
            continue
        stale.append(rel)
        if not args.check:
            with open(path, "w") as f:
                f.write(text(doc))
    if args.check:
        if stale:
            print("out of date (run `python -m host_tools package`): %s" % ", ".join(stale), file=sys.stderr)
            return 1
        print("package.json files up to date")
        return 0
    print("wrote %s" % (", ".join(stale) if stale else "nothing (up to date)"))
    return 0
