# Lets CPython import the firmware package: a stand-in for MicroPython's `micropython` module.
import os
import sys
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for p in (os.path.join(ROOT, "firmware"), os.path.join(ROOT, "tests", "protocol"), ROOT):
    if p not in sys.path:
        sys.path.insert(0, p)

if "micropython" not in sys.modules:
    try:
        import micropython  # noqa: F401
    except ImportError:
        m = types.ModuleType("micropython")
        m.const = lambda x: x
        m.heap_lock = m.heap_unlock = lambda: 0
        sys.modules["micropython"] = m
