# Import the firmware package under CPython (config check, export-kea): firmware/ on sys.path
# and a stand-in for MicroPython's `micropython` module (const() is the identity).
import sys
import types

from . import FIRMWARE


def firmware():
    if FIRMWARE not in sys.path:
        sys.path.insert(0, FIRMWARE)
    if "micropython" not in sys.modules:
        try:
            import micropython  # noqa: F401
        except ImportError:
            m = types.ModuleType("micropython")
            m.const = lambda x: x
            m.heap_lock = m.heap_unlock = lambda: 0
            sys.modules["micropython"] = m
    import mpdhcp

    return mpdhcp
