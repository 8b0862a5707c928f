import argparse
import sys

from . import serve, ctl


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m host_tools", description="mpdhcp host tools")
    sub = ap.add_subparsers(dest="verb", required=True)
    for mod in (serve, ctl):
        mod.add_parser(sub)
    for name in ("demo", "bench", "config_check", "build", "flash", "board_inspect", "export_kea",
                 "fuzz", "stress", "vboard", "mip_package"):
        try:
            mod = __import__("host_tools." + name, fromlist=["add_parser"])
        except ImportError:
            continue
        mod.add_parser(sub)
    args = ap.parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
