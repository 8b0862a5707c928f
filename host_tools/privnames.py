# Private names carried as names every MicroPython firmware already holds (`build`, issue
# "Speed and fit"), the last of the board build's passes (after constfold, qstrs and shake).
#
# Each distinct name a loaded .mpy carries is interned for good: its text and a slot in a qstr
# pool, and pools grow by doubling (host_tools/qstrs.py). A third of the v4 router's names
# were the package's private helpers and fields: _send_discover, _stage_lease, _t_ms... This
# pass renames each such name, throughout the build, to a name of py/'s own ROM qstr pool
# (a method of str, list, dict or set, a builtin, a math function) that no firmware module
# uses anywhere, one target per name, so no two names meet on one object or module. The
# board's heap then holds neither text nor slot for it. The firmware's source is unchanged
# (tests and host tools import it); the build report lists the renames, to read a board's
# traceback with (`--no-fold` builds keep every name).
#
# Renamed: a name that starts with one underscore and is bound in the package (a def, an
# assignment, an attribute stored, a parameter) and nowhere else:
#   - not one outside code can reach: a word of a string in the firmware (getattr, a config
#     image's attribute names), in the host tools' and tests' strings (REPL snippets), in a
#     board's main.py; a name tests read (they import the firmware's source, and the native
#     build runs the protocol tests on this pass's output);
#   - not a class (its __name__ is logged), a const() (MicroPython drops _X = const(..) from
#     the module's globals: renamed, it would come back), a module, or a name imported from
#     outside the package (_thread);
#   - not one the config package's model objects hold (the config image names them).
import ast
import io
import re
import tokenize

from .constfold import _lines, _span
from .qstrs import docstrings

# py/'s names (objstr.c, objlist.c, objdict.c, objset.c, modbuiltins.c, modmath.c, ...) that
# the Unix port holds in ROM (tests/host/test_privnames.py checks), less what the VM or a
# stream looks up on an object by name (send, throw, read, write, keys...) and what the
# compiler treats apart (super, const; the viper casts uint, ptr8...). Tried in this order;
# used only where no firmware module has the word anywhere.
ROM = (
    "lstrip", "rsplit", "rindex", "rpartition", "splitlines", "center", "isalpha", "isdigit",
    "isspace", "isupper", "islower", "keepends", "fromhex", "fromkeys", "popitem", "setdefault",
    "appendleft", "popleft", "difference", "difference_update", "discard", "intersection",
    "intersection_update", "isdisjoint", "issubset", "issuperset", "symmetric_difference",
    "symmetric_difference_update", "union", "from_bytes", "to_bytes", "byteorder", "signed",
    "ascii", "bin", "oct", "divmod", "delattr", "dir", "filter", "frozenset", "help", "input",
    "issubclass", "iter", "reversed", "round", "sorted", "sum", "zip", "eval", "exec", "execfile",
    "complex", "imag", "real", "indices", "deleter", "getter", "setter", "asin", "asinh", "atan", "atan2", "atanh", "ceil", "copysign", "cos", "cosh", "degrees", "erf", "erfc",
    "exp", "expm1", "fabs", "factorial", "floor", "fmod", "frexp", "gamma", "isclose", "isfinite",
    "isinf", "isnan", "ldexp", "lgamma", "log", "log10", "log2", "modf", "pi", "pow", "radians",
    "sin", "sinh", "sqrt", "tan", "tanh", "tau", "trunc", "inf", "nan", "abs_tol", "rel_tol",
    "polar", "rect", "phase", "calcsize", "pack_into", "unpack", "unpack_from", "namedtuple",
    "deque", "maxsize", "version_info", "exc_info", "executable", "print_exception", "stdin",
    "stdout", "isenabled", "enable", "disable", "threshold", "opt_level", "mem_info", "qstr_info",
    "stack_use", "heap_lock", "heap_unlock", "kbd_intr", "schedule", "mem_total", "mem_current",
    "mem_peak", "get_ident", "stack_size", "allocate_lock", "start_new_thread", "dict_view",
    "bound_method", "generator", "closure", "exception", "iterable", "single", "preview", "unsafe",
    "getvalue", "reverse", "sort", "sep", "ps1", "ps2")
_WORD = re.compile(r"\w+")
_PRIVATE = re.compile(r"_[A-Za-z0-9]\w*$")


def _bound(tree):
    """Private names the module binds: defs, names and attributes stored, parameters."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            out.add(node.attr)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
        elif isinstance(node, ast.alias) and node.asname:
            out.add(node.asname)
    return {n for n in out if _PRIVATE.match(n) and not n.endswith("__")}


def _kept(tree, package, config):
    """Names of this module that keep their text (above); config: a module of the config
    package (the attributes it stores may be a model object's)."""
    docs = docstrings(tree)
    out, foreign = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            foreign.update(a.asname or a.name.split(".")[0] for a in node.names if a.name.split(".")[0] != package)
        elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] != package:
            foreign.update(a.asname or a.name for a in node.names)
    out |= foreign
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            out.update(_WORD.findall(node.value))
        elif isinstance(node, ast.ClassDef):
            out.add(node.name)
        elif isinstance(node, ast.JoinedStr):
            out.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name))
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and \
                isinstance(node.value.func, ast.Name) and node.value.func.id == "const":
            out.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.Attribute) and (_root(node) in foreign or config and isinstance(node.ctx, ast.Store)):
            out.add(node.attr)  # sys.implementation._build; a model object's field
    return out


def _root(node):
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def outside_names(paths):
    """Names code outside the package may reach, from files (.py, .md): every name and every
    word of a string in the tests' and host tools' code (they read the firmware's attributes,
    private ones too; REPL snippets) and a board's main.py, not their comments; every word of
    the docs."""
    out = set()
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        if not path.endswith(".py"):
            out.update(_WORD.findall(text))
            continue
        try:
            for tok in tokenize.generate_tokens(io.StringIO(text).readline):
                if tok.type in (tokenize.NAME, tokenize.STRING):
                    out.update(_WORD.findall(tok.string))
        except (tokenize.TokenError, SyntaxError):
            out.update(_WORD.findall(text))
    return out


def plan(sources, deployed, outside, package="mpdhcp"):
    """{private name: ROM name} for a build of sources ({rel path: text}) that deploys the rel
    paths `deployed`; outside: outside_names. The names the deployed modules use most come
    first, while ROM names last."""
    used, kept, counts = set(), set(outside), {}
    for rel, text in sources.items():
        used.update(_WORD.findall(text))
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        kept |= _kept(tree, package, rel.startswith("config/"))
        kept.add(rel.rsplit("/", 1)[-1][:-3])
        if rel.startswith("config/model"):
            kept.update(_WORD.findall(text))
        if rel in deployed:
            for name in _bound(tree):
                counts[name] = counts.get(name, 0) + len(re.findall(r"\b%s\b" % name, text))
    free = [n for n in ROM if n not in used]
    names = sorted((n for n in counts if n not in kept), key=lambda n: (-counts[n], n))
    return dict(zip(names, free))


def rename(sources, renames):
    """{rel path: text} -> the same with each name of renames replaced wherever code has it
    (names, attributes, defs, parameters, keywords, imports, global statements)."""
    out = {}
    for rel, text in sources.items():
        try:
            out[rel] = _rewrite(text, renames)
        except SyntaxError:
            out[rel] = text
    return out


def _rewrite(text, renames):
    tree = ast.parse(text)
    starts = _lines(text)
    data = text.encode()
    edits = set()
    for node in ast.walk(tree):
        for name, start in _spots(node, starts, data):
            if name in renames:
                edits.add((start, start + len(name), renames[name]))
    for s, e, t in sorted(edits, reverse=True):
        data = data[:s] + t.encode() + data[e:]
    return data.decode()


def _spots(node, starts, data):
    """(name, byte offset) of each name node carries in the source."""
    if isinstance(node, ast.Name):
        yield node.id, _span(starts, node)[0]
    elif isinstance(node, ast.Attribute):
        e = _span(starts, node)[1]
        yield node.attr, e - len(node.attr)
    elif isinstance(node, (ast.arg, ast.keyword)) and node.arg:
        yield node.arg, _span(starts, node)[0]
    elif isinstance(node, ast.alias):
        s, e = _span(starts, node)
        if "." not in node.name:
            yield node.name, s
        if node.asname:
            yield node.asname, e - len(node.asname)
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Global, ast.Nonlocal)):
        s, e = _span(starts, node)
        names = [node.name] if hasattr(node, "name") else node.names
        head = data[s:e] if not hasattr(node, "name") else data[s:e].split(b":", 1)[0]
        for name in names:
            m = re.search(rb"(?<![\w.])%s\b" % name.encode(), head)
            if m:
                yield name, s + m.start()


# `python -m host_tools traceback BUILD [FILE]`: a board's traceback with the private names
# its build renamed given back (the build report's names_renamed), read from FILE or stdin.
_TRACE = re.compile(r"(, in |name '|attribute '|object has no attribute ')(\w+)")


def untangle(text, renames):
    """text with each renamed function or attribute a traceback names given its own name
    back: `, in NAME`, `name 'NAME'`, `attribute 'NAME'` (renames: {own name: as built})."""
    back = {v: k for k, v in renames.items()}
    return _TRACE.sub(lambda m: m.group(1) + back.get(m.group(2), m.group(2)), text)


def add_parser(sub):
    p = sub.add_parser("traceback", help="give a board's traceback back the names its build renamed",
                       description="Read a traceback a board printed (FILE, or stdin) and print it with the "
                       "private names its build carried as ROM names (`build`, host_tools/privnames.py) "
                       "given back, from BUILD/build-report.json. Exit 0, or 1 when the report is unreadable.")
    p.add_argument("build", help="the build's output directory (or its build-report.json)")
    p.add_argument("file", nargs="?", help="the traceback (default: stdin)")
    p.set_defaults(func=_run)


def _run(args):
    import json
    import os
    import sys

    path = args.build if args.build.endswith(".json") else os.path.join(args.build, "build-report.json")
    try:
        with open(path) as f:
            renames = json.load(f).get("names_renamed") or {}
    except (OSError, ValueError) as e:
        print("traceback: cannot read %s: %s" % (path, e), file=sys.stderr)
        return 1
    if args.file:
        with open(args.file) as f:
            text = f.read()
    else:
        text = sys.stdin.read()
    sys.stdout.write(untangle(text, renames))
    return 0
