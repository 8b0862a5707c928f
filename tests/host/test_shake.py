# host_tools/shake.py: functions no deployed code names are left out of a board's build. The
# shaken builds are run by the board tests and the fit bench; here, the rules on small
# modules (run by CPython), and a v4 router's build.
import ast

from hostutil import v4_router_build
from host_tools import shake

WIRE = '''def used(x):
    return helper(x)


def helper(x):  # called by used() only
    return x + 1


def lonely(x):
    return chain(x)


def chain(x):  # called by lonely() only: goes with it
    return x


def typed_at_the_repl():
    return 1


class Engine:
    def __init__(self):
        self.h = self.by_attr

    def by_attr(self):
        return 1

    def by_string(self):
        return 2

    def unused(self):
        return 3


class Empty:
    def gone(self):
        return 0
'''

USER = '''from .wire import used, Engine, Empty


def run(e):
    return used(1) + getattr(e, "by_string")()
'''


def _defs(text):
    out = set()
    for n in ast.walk(ast.parse(text)):
        if isinstance(n, ast.FunctionDef):
            out.add(n.name)
    return out


def test_functions_nothing_names_go_until_nothing_more_does():
    texts, dropped = shake.shake({"wire.py": WIRE, "user.py": USER, "other.py": "def f():\n    pass\n"},
                                 ["wire.py", "user.py"], extra={"typed_at_the_repl", "run"})
    left = _defs(texts["wire.py"])
    assert left == {"used", "helper", "typed_at_the_repl", "__init__", "by_attr", "by_string"}
    assert sorted(n for _, n in dropped) == ["chain", "gone", "lonely", "unused"]
    assert texts["wire.py"].count("\n") == WIRE.count("\n")  # line numbers still match
    assert texts["other.py"] == "def f():\n    pass\n"  # not deployed: not touched
    ns = {}
    exec(texts["wire.py"], ns)  # still a module: Empty keeps a body
    assert ns["used"](1) == 2 and ns["Engine"]().h() == 1 and ns["Empty"]() is not None


def test_words_from_outside_the_package_keep_functions(tmp_path):
    (tmp_path / "doc.md").write_text("At the REPL: `platform.thread.stop()`; `Alloc.q_mentioned` is not a call\n")
    (tmp_path / "t.py").write_text('SNIPPET = "c.leases (limit=3)"\ndef not_a_word_source():\n    pass\n')
    words = shake.outside_words([str(tmp_path)])
    assert {"stop", "leases"} <= words and not {"not_a_word_source", "q_mentioned", "thread", "limit"} & words


def test_a_v4_routers_build_leaves_out_the_dhcpv6_timers(tmp_path):
    from host_tools import build as B

    rep = v4_router_build(tmp_path)
    gone = rep["functions_left_out"]
    # (named by pieces: a whole name in a string here is a word from outside, and keeps it)
    assert {"mpdhcp.wire.timing rt_" + "first", "mpdhcp.wire.timing info_" + "refresh"} <= set(gone), gone
    assert not any(g.split()[1] in ("stop", "leases", "handle", "on_timer") for g in gone)
    full = B.build("unix", out=str(tmp_path / "a"), all_modules=True)
    assert full["functions_left_out"] == []  # every module: the protocol tests import them all
