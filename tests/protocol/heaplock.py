# One engine call with micropython.heap_lock() held (a no-op stub under CPython: conftest.py),
# for the heap_lock tests: the call must not allocate.
import micropython


def handle_locked(eng, rx, m, now, out, n=None):
    """eng.handle(rx, n (default len(rx)), m, now, out) with the heap locked; returns its
    result."""
    if n is None:
        n = len(rx)
    got = -1
    oom = False
    micropython.heap_lock()
    try:
        got = eng.handle(rx, n, m, now, out)
    except MemoryError:
        oom = True
    finally:
        micropython.heap_unlock()
    assert not oom, "handle() allocated with the heap locked"
    return got


def locked(fn):
    """fn() with the heap locked; returns its result (it must not allocate)."""
    oom = False
    got = None
    micropython.heap_lock()
    try:
        got = fn()
    except MemoryError:
        oom = True
    finally:
        micropython.heap_unlock()
    assert not oom, "allocated with the heap locked"
    return got
