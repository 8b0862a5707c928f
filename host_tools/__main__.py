import argparse
import sys

from . import serve, ctl


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m host_tools", description="mpdhcp host tools")
    sub = ap.add_subparsers(dest="verb", required=True)
    for mod in (serve, ctl):
        mod.add_parser(sub)
    for name in ("demo", "bench", "config_check", "build", "flash", "board_inspect", "export_kea",
                 "fuzz", "stress", "vboard", "mip_package", "privnames"):
        try:
            mod = __import__("host_tools." + name, fromlist=["add_parser"])
        except ImportError as e:
            if (e.name or "").split(".")[0] in ("host_tools", "mpdhcp"):
                raise  # our own code is broken: say so, never hide the verb
            continue  # a verb whose third-party library is not installed (e.g. atheris for fuzz)
        mod.add_parser(sub)
    args = ap.parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
