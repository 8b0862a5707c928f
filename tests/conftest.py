# Lets CPython import the firmware package (host_tools.fwimport: firmware/ on the path and a
# stand-in for MicroPython's `micropython` module), and the protocol helpers.
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for p in (os.path.join(ROOT, "tests", "protocol"), ROOT):
    if p not in sys.path:
        sys.path.insert(0, p)

from host_tools.fwimport import firmware  # noqa: E402

firmware()
