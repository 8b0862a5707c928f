# The virtual board's power-on: run by the MicroPython Unix port (not CPython) before its REPL,
# as `micropython -i vboard_boot.py` (host_tools/vboard.py). The board's flash folder
# ($MPDHCP_FLASH) becomes its "/", so paths read as on a board: /main.py, /mpdhcp.json, /lib
# (where `mpremote mip install` puts packages), and nothing outside the folder is written
# through "/". Mounted through from the host: /sys and /tmp, which the Unix adapter needs
# (platform/netif_unix.py reads /sys/class/net, and has `ip` write its answers into /tmp).
# With $MPDHCP_MAIN=1 (power-on, or a soft reboot from the friendly REPL; a board skips them
# after one from the raw REPL) boot.py and main.py run, if present, as on a board.
import os
import sys
import vfs


def _power_on(flash, run_main):
    vfs.umount("/")
    vfs.mount(vfs.VfsPosix(flash), "/")
    for d in ("/sys", "/tmp"):
        vfs.mount(vfs.VfsPosix(d), d)
    os.chdir("/")
    sys.path[:] = ["", ".frozen", "/lib"]
    if not run_main:
        return
    for name in ("boot.py", "main.py"):
        try:
            os.stat(name)
        except OSError:
            continue
        try:
            with open(name) as f:
                exec(f.read(), {"__name__": "__main__"})
        except Exception as e:  # a board prints it and goes on to the REPL
            sys.print_exception(e)


_power_on(os.getenv("MPDHCP_FLASH"), os.getenv("MPDHCP_MAIN") == "1")
del _power_on, os, sys, vfs
