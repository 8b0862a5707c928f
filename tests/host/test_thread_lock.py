# platform/thread.py's Lock: the runner's lock, reentrant for its holder (a console listing
# takes it per record, and `inspect` runs the listing inside thread.call, which holds it), and
# exclusive between threads (a step and a console call never overlap).
import threading
import time

from mpdhcp.platform import thread as T


def test_the_holder_takes_it_again_and_releases_it_at_the_outermost_exit():
    lk = T.Lock()
    with lk:
        with lk:
            assert lk.depth == 2
        assert lk.depth == 1 and lk.lock.locked()
    assert lk.depth == 0 and lk.owner is None and not lk.lock.locked()


def test_another_thread_waits_for_the_holder():
    lk = T.Lock()
    order = []

    def other():
        with lk:
            order.append("other")

    with lk:
        t = threading.Thread(target=other)
        t.start()
        time.sleep(0.1)
        with lk:  # the holder again, while the other thread waits
            order.append("holder")
    t.join(2)
    assert order == ["holder", "other"]
