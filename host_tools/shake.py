# Functions no deployed code names, left out of a board's build (`build`, issue "Speed and
# fit"), after constfold and qstrs.
#
# A board gets only the modules its config uses (build.modules_for), but a module it gets
# brings every function in it: timing.py's DHCPv6 timers to a DHCPv4 router, the DHCPv4-over-
# DHCPv6 server identifier to a board without 4o6. Each function costs the heap its bytecode,
# its function object, a slot in its class or module, and its name (a qstr). This pass drops a
# function or method whose name nothing can reach it by:
#   - no name, attribute or string in the deployed modules or the board's main.py (a name
#     built at run time, getattr(obj, "x" + y), is not looked for: the package has none);
#   - no call in the docs, the README, or a string in the host tools and tests (what a person
#     or a host tool types at the board's REPL: platform.thread.stop(), console.leases()); a
#     name the docs only mention (`Alloc.set_pools`) does not keep it.
# Repeated until nothing more goes (a function only a dropped one called goes too). Left in:
# dunder methods, @micropython.viper/native functions (twins the build chooses between), and
# every function of a build with all modules (the native build the protocol tests import).
# A dropped def leaves blank lines (`pass` where its class would be empty), so `--lines`
# tracebacks still point at the source.
import ast
import re

from .constfold import _lines, _span
from .qstrs import _files

_WORD = re.compile(r"[A-Za-z_]\w*")
_CALL = re.compile(r"([A-Za-z_]\w*)\s*\(")


def outside_words(roots):
    """The names called in the docs and README, and in the strings of the host tools and
    tests (REPL snippets)."""
    words = set()
    for path in _files(roots):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        if path.endswith(".md"):
            words.update(_CALL.findall(text))
            continue
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                words.update(_CALL.findall(node.value))
    return words


def names_in(text):
    """_named, of a source text (a board's main.py)."""
    return _named(ast.parse(text))


def _named(tree):
    """Every name the module reads, every attribute, every word of its strings."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, ast.Attribute):
            out.add(node.attr)
        elif isinstance(node, ast.alias):
            out.add(node.name.split(".")[-1])
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.update(_WORD.findall(node.value))
    return out


def _defs(tree):
    """(def node, its parent's body) for the module's functions and its classes' methods."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            yield node, tree.body
        elif isinstance(node, ast.ClassDef):
            for f in node.body:
                if isinstance(f, ast.FunctionDef):
                    yield f, node.body


def _droppable(fn):
    return not (fn.name.startswith("__") and fn.name.endswith("__")) and \
        not any("micropython" in ast.unparse(d) for d in fn.decorator_list)


def shake(sources, deployed, extra=()):
    """{rel path: text} -> the same, the deployed modules (rel paths) without the functions
    nothing names (above); extra: words from outside the package (outside_words, the board's
    main.py). Returns (texts, [(rel, name), ...] dropped)."""
    texts = dict(sources)
    dropped = []
    while True:
        trees = {}
        for rel in deployed:
            try:
                trees[rel] = ast.parse(texts[rel])
            except (KeyError, SyntaxError):
                pass  # (left as written, for mpy-cross to report)
        named = set(extra)
        for tree in trees.values():
            named |= _named(tree)
        gone = {}
        for rel, tree in trees.items():
            for fn, body in _defs(tree):
                if fn.name not in named and _droppable(fn):
                    gone.setdefault(rel, []).append((fn, body))
        if not gone:
            return texts, dropped
        for rel, fns in gone.items():
            texts[rel] = _without(texts[rel], fns)
            dropped.extend((rel, fn.name) for fn, _ in fns)


def _without(text, fns):
    starts = _lines(text)
    edits = []
    for fn, body in fns:
        first = fn.decorator_list[0] if fn.decorator_list else fn
        s, _ = _span(starts, first)
        s -= first.col_offset
        _, e = _span(starts, fn)
        left = [n for n in body if n is not fn and not any(n is f for f, _ in fns)]
        keep = " " * first.col_offset + "pass" if not left and first.col_offset else ""
        edits.append((s, e, keep + "\n" * (fn.end_lineno - first.lineno)))
    data = text.encode()
    for s, e, t in sorted(edits, reverse=True):
        data = data[:s] + t.encode() + data[e:]
    return data.decode()
