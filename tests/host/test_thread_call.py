# platform/thread.call: a console function run between two runner steps. The console takes
# the runner's lock itself (listings: record by record), so inside call(), which holds it,
# the runner shows none, and the lock is back on the runner afterwards, exception or not.
import types

import pytest

from mpdhcp import console
from mpdhcp.platform import thread as T


@pytest.fixture
def bg():
    b = T.Background(types.SimpleNamespace(lock=None))
    b.runner.lock = b.lock
    b.stopped = False
    T.SERVICE = b
    yield b
    T.SERVICE = None


def test_a_console_call_inside_call_runs_without_waiting_for_the_lock(bg):
    seen = T.call(lambda: console._locked(lambda s: (s.lock, bg.lock.locked()), bg.runner))
    assert seen == (None, True)
    assert bg.runner.lock is bg.lock and not bg.lock.locked()


def test_the_lock_is_back_on_the_runner_after_an_exception(bg):
    with pytest.raises(ValueError):
        T.call(lambda: int("x"))
    assert bg.runner.lock is bg.lock and not bg.lock.locked()
