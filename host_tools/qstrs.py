# Fewer interned names for the board build (`build`, issue "Speed and fit"), after constfold.
#
# Every distinct name a loaded .mpy carries is a qstr the heap interns for good: its text, and
# an entry in a qstr pool. Pools grow by doubling (py/qstr.c: 20, 40, ... entries), so the
# v4 router's 621st name opened a sixth pool of 640 entries, 7 KB at once on the 64-bit port.
# Two kinds of name need not be carried at all, and this pass takes them out of the source
# handed to mpy-cross (the firmware's source is unchanged; tests and host tools import it):
#   - a parameter's name. The bytecode keeps the name of each parameter, for calls by
#     keyword. A parameter that no call anywhere passes by keyword (firmware, boards, host
#     tools, tests, docs: `keyword_names`) is renamed to a name every MicroPython firmware
#     already holds (ROM qstrs of py/), one its module does not use anywhere. Its function
#     keeps its behaviour: a local's name is not in the bytecode.
#   - the path and names of an import of a module the build does not deploy (v6 code a v4
#     board's modules import lazily, the @viper twins): the import becomes the ImportError it
#     would raise there.
#   - a relative import's module path. `from .wire.buf import x` carries "wire.buf", a name
#     of its own; `from mpdhcp.wire.buf import x` carries "mpdhcp.wire.buf", the module's
#     __name__, interned anyway once it is loaded.
# Left as written: a parameter a nested function, lambda, class or comprehension reads (its
# closure cell is looked up by the same name), one inside an f-string, *args and **kwargs,
# the parameters of @micropython.viper/native functions, and lambdas. Statements keep their
# lines, so `--lines` tracebacks still point at the source.
import ast
import os
import re

from .constfold import _lines, _span, _resolve, module_name

# Names in the qstr table of py/ itself (builtins, keyword arguments of core functions), so in
# every port's firmware; tried in this order. A function with more renamable parameters than
# its module leaves of these keeps the rest.
ROM = ("key", "value", "start", "stop", "step", "end", "index", "count", "args", "data", "buf",
       "name", "flags", "mode", "length", "pos", "arg", "src", "val", "idx", "off", "iterable")
_KW = re.compile(r"\b([A-Za-z_]\w*)=(?!=)")
_DOC = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_COMPS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp,
           ast.SetComp, ast.DictComp, ast.GeneratorExp)


def keyword_names(roots, package="mpdhcp"):
    """Every name a call into the package may pass by keyword, from the .py and .md files
    under roots (files or folders): keyword arguments in code that imports the package (or
    is it, or a board's main.py), `name=` in other strings (REPL snippets the host tools and
    tests send a board) and in docs. A parameter of one of these names keeps it."""
    names = set()
    for path in _files(roots):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        try:
            tree = ast.parse(text) if path.endswith(".py") else None
        except SyntaxError:
            tree = None
        if tree is None:
            names.update(_KW.findall(text))
            continue
        docs = docstrings(tree)
        inside = "/%s/" % package in path.replace(os.sep, "/")  # (a relative import there is ours)
        calls_in = inside or _imports(tree, package, inside) or os.path.basename(path) == "main.py"
        own = _defined_here(tree, package, inside) if calls_in else set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and calls_in and _root(node.func) not in own:
                names.update(k.arg for k in node.keywords if k.arg)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                names.update(_KW.findall(node.value))
    return names


def docstrings(tree):
    """The ids of the tree's docstring nodes (mpy-cross keeps no docstring)."""
    return {id(n.body[0].value) for n in ast.walk(tree) if isinstance(n, _DOC) and n.body
            and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}


def _defined_here(tree, package, inside):
    """Names that are no way into the package: the functions and classes the file defines (a
    test's helpers), and modules or names it imports from elsewhere (host-side libraries)."""
    defs, imported, outside = set(), set(), set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defs.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [node.module or ""] * len(node.names) if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            for a, mod in zip(node.names, mods):
                local = a.asname or a.name.split(".")[0]
                imported.add(local)
                ours = getattr(node, "level", 0) and inside or mod.split(".")[0] == package or (
                    mod == "" and a.name.split(".")[0] == package)
                if not ours:
                    outside.add(local)
    return (defs - imported) | outside


def _root(func):
    """The name a call's callee hangs from: f(...) -> f, L.wait_for(...) -> L, else None."""
    while isinstance(func, ast.Attribute):
        func = func.value
    return func.id if isinstance(func, ast.Name) else None


def _imports(tree, package, inside):
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level and inside or (node.module or "").split(".")[0] == package):
            return True
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == package for a in node.names):
            return True
    return False


def _files(roots):
    for root in roots:
        if os.path.isfile(root):
            yield root
            continue
        for dp, dns, fns in os.walk(root):
            dns[:] = [d for d in dns if not d.startswith(".") and d != "__pycache__"]
            for fn in fns:
                if fn.endswith((".py", ".md")):
                    yield os.path.join(dp, fn)


def _identifiers(tree):
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, ast.alias):
            out.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            out.update(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            out.add(node.name)
    return out


def _own_names(fn):
    """The Name nodes of fn's own scope (not of scopes nested in it), and every name read or
    bound in a nested scope, in an f-string, or declared global/nonlocal."""
    own, shut = [], set()

    def visit(node, nested, fstr, skip=None):
        for ch in ast.iter_child_nodes(node):
            if ch is skip:
                continue
            inner = nested or isinstance(ch, _SCOPES)
            in_f = fstr or isinstance(ch, ast.JoinedStr)
            if isinstance(ch, ast.Name):
                (shut.add(ch.id) if inner or in_f else own.append(ch))
            elif isinstance(ch, ast.arg) and inner:
                shut.add(ch.arg)
            elif isinstance(ch, (ast.Global, ast.Nonlocal)):
                shut.update(ch.names)
            if isinstance(ch, _COMPS) and not nested:  # its first iterable is read out here
                first = ch.generators[0].iter
                visit(ast.Expr(value=first), False, in_f)
                visit(ch, True, in_f, first)
            else:
                visit(ch, inner, in_f, skip)

    for stmt in fn.body:
        if isinstance(stmt, _SCOPES):
            visit(ast.Module(body=[stmt], type_ignores=[]), True, False)
        else:
            visit(stmt, False, False)
    return own, shut


def _renames(fn, keep, taken):
    """{parameter: new name} for fn."""
    if any("micropython" in ast.unparse(d) for d in fn.decorator_list):
        return {}
    a = fn.args
    params = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
    own, shut = _own_names(fn)
    free = [n for n in ROM if n not in taken and n not in params]
    out = {}
    for p in params:
        if p in keep or p in shut or p in ROM or p == "self" or not free:
            continue
        out[p] = free.pop(0)
    return out


def _params(fn, renames, starts):
    a = fn.args
    for x in a.posonlyargs + a.args + a.kwonlyargs:
        if x.arg in renames:
            s, _ = _span(starts, x)
            yield s, s + len(x.arg.encode()), renames[x.arg]


def _rewrite(rel, text, keep, absent):
    tree = ast.parse(text)
    starts = _lines(text)
    taken = _identifiers(tree)
    edits = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            renames = _renames(node, keep, taken)
            if renames:
                edits.extend(_params(node, renames, starts))
                own, _ = _own_names(node)
                edits.extend(_span(starts, n) + (renames[n.id],) for n in own if n.id in renames)
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and _imports_absent(rel, node, absent):
            s, e = _span(starts, node)
            edits.append((s, e, 'raise ImportError("not built")' + "\n" * (node.end_lineno - node.lineno)))
        elif isinstance(node, ast.ImportFrom) and node.level and node.module:
            edits.append(_absolute(rel, text, starts, node))
    data = text.encode()
    for s, e, t in sorted(edits, reverse=True):
        data = data[:s] + t.encode() + data[e:]
    return data.decode()


def _absolute(rel, text, starts, node):
    """`from .wire.buf import` -> `from mpdhcp.wire.buf import` (the span of the dots and path)."""
    s, _ = _span(starts, node)
    head = re.match(rb"from\s+(\.+\s*[\w.]+)", text.encode()[s:])
    mod = _resolve(module_name(rel), rel.endswith("__init__.py"), node)
    return s + head.start(1), s + head.end(1), mod


def _imports_absent(rel, node, absent):
    """Does this import name a module of the package that the build does not deploy?"""
    if isinstance(node, ast.Import):
        return any(a.name in absent for a in node.names)
    src = _resolve(module_name(rel), rel.endswith("__init__.py"), node)
    return src in absent or any(src + "." + a.name in absent for a in node.names)


def rename(sources, keep, deployed=None):
    """{rel path: source text} of the package -> the same with fewer names carried (above);
    keep: names some call passes by keyword (keyword_names). deployed: the rel paths the
    build deploys (None: all): an import of one of the others is `raise ImportError`, what
    it would raise on the board, without the module's path and names. A module that does
    not parse is left as written, for mpy-cross to report."""
    absent = set() if deployed is None else {module_name(r) for r in sources} - {module_name(r) for r in deployed}
    out = {}
    for rel, text in sources.items():
        try:
            out[rel] = _rewrite(rel, text, keep, absent)
        except SyntaxError:
            out[rel] = text
    return out
