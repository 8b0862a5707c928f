# Cross-module constant folding for the board build (`build`, issue "Speed and fit").
#
# mpy-cross folds a module's private constants (`_X = const(1)`): no global, no name, the
# value inline. A public one (`OPT_ROUTER = const(3)`, imported by other modules) stays a
# global of its module, its name a qstr interned on the heap at load, and every use in
# another module a global lookup plus an attribute lookup (`P.OPT_ROUTER`). This pass does
# across the deployed package what mpy-cross does inside one module, on the source text
# handed to mpy-cross (the firmware's source is unchanged; tests and host tools import it):
#   - an integer `NAME = const(EXPR)` at module level (EXPR: integers, operators, other such
#     constants of the package) is a folded constant;
#   - every use of it, `NAME` in its own module, `NAME` imported with `from M import NAME`,
#     `ALIAS.NAME` where ALIAS is the module imported with `from PKG import M as ALIAS` or
#     `import ...M as ALIAS` (at module level or in a function), becomes the literal, and the
#     import loses the name;
#   - its definition goes, unless something is still left that reads it by name (any other
#     reference to NAME or ALIAS.NAME that is not a plain read: then it stays, and is still
#     inlined where it can be).
# Not seen: a name read by a computed getattr, or from outside the package (a snippet the host
# tools run on a board's REPL): those call console functions, which read the constants here.
# Only the text of the nodes changed is replaced, and a statement that spanned lines keeps
# its line count (blank lines follow it), so `--lines` tracebacks still point at the source.
import ast

_BIN = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
        ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b, ast.LShift: lambda a, b: a << b,
        ast.RShift: lambda a, b: a >> b, ast.BitOr: lambda a, b: a | b, ast.BitAnd: lambda a, b: a & b,
        ast.BitXor: lambda a, b: a ^ b}
_UN = {ast.USub: lambda a: -a, ast.Invert: lambda a: ~a, ast.UAdd: lambda a: a}
SMALL = 1 << 30  # a literal that is a small int on every board (no constant-table object)


class _Unknown(Exception):
    pass


def _is_const_call(v):
    return isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "const" \
        and len(v.args) == 1 and not v.keywords


def module_name(rel):
    """"v4/server4.py" -> "mpdhcp.v4.server4"; "wire/__init__.py" -> "mpdhcp.wire"."""
    parts = ["mpdhcp"] + rel[:-3].split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(mod, is_pkg, node):
    """The absolute module an ImportFrom names."""
    if not node.level:
        return node.module or ""
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    if node.level > 1:
        base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


class _Module:
    def __init__(self, rel, text):
        self.rel, self.text = rel, text
        self.name = module_name(rel)
        self.is_pkg = rel.endswith("__init__.py")
        self.tree = ast.parse(text)
        self.consts = {}  # NAME -> value (folded)
        self.defs = {}  # NAME -> its Assign node
        self.names = {}  # local name -> (module, NAME) that a from-import binds it to
        self.aliases = {}  # local name -> the package's module an import binds it to
        self.stored = {}  # name -> how many times it is bound, other than by such an import
        self.fstring = {id(n) for f in ast.walk(self.tree) if isinstance(f, ast.JoinedStr)
                        for n in ast.walk(f)}  # (positions there are not exact before 3.12: left alone)


def _scan(m, modules):
    """What each name of the module is bound to: a module of the package (m.aliases), a name
    of one (m.names), or anything else, counted in m.stored. An import inside a function
    binds its name there; a name that imports bind to two different things is not folded."""
    imported = {}  # local name -> what the imports bind it to
    for node in ast.walk(m.tree):
        if isinstance(node, ast.ImportFrom):
            src = _resolve(m.name, m.is_pkg, node)
            for a in node.names:
                what = ("mod", src + "." + a.name) if src + "." + a.name in modules else \
                    ("name", src, a.name) if src in modules else ("other",)
                imported.setdefault(a.asname or a.name, set()).add(what)
        elif isinstance(node, ast.Import):
            for a in node.names:
                what = ("mod", a.name) if a.asname and a.name in modules else ("other",)
                imported.setdefault(a.asname or a.name.split(".")[0], set()).add(what)
    for node in ast.walk(m.tree):
        bound = [t.id for t in _targets(node) if isinstance(t, ast.Name)]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            bound += [x.arg for x in a.args + a.kwonlyargs + a.posonlyargs + [a.vararg, a.kwarg] if x]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.append(node.name)
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            bound += node.names
        for n in bound:
            m.stored[n] = m.stored.get(n, 0) + 1
    for local, whats in imported.items():
        what = whats.pop() if len(whats) == 1 else ("other",)
        if what[0] == "mod":
            m.aliases[local] = what[1]
        elif what[0] == "name":
            m.names[local] = what[1:]
        else:
            m.stored[local] = m.stored.get(local, 0) + 1


def _targets(node):
    if isinstance(node, ast.Assign):
        ts = node.targets
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.comprehension)):
        ts = [node.target]
    elif isinstance(node, ast.With):
        ts = [i.optional_vars for i in node.items if i.optional_vars is not None]
    elif isinstance(node, ast.Delete):
        ts = node.targets
    elif isinstance(node, ast.NamedExpr):
        ts = [node.target]
    elif isinstance(node, ast.ExceptHandler) and node.name:
        return [ast.Name(id=node.name)]
    else:
        return []
    out = []
    for t in ts:
        out.extend(n for n in ast.walk(t) if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)))
    return out


def _value(m, modules, node):
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
        return _BIN[type(node.op)](_value(m, modules, node.left), _value(m, modules, node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UN:
        return _UN[type(node.op)](_value(m, modules, node.operand))
    got = _lookup(m, modules, node)
    if got is None:
        raise _Unknown()
    return got


def _lookup(m, modules, node):
    """The folded value a Load of node reads, or None."""
    if isinstance(node, ast.Name):
        if node.id in m.consts:
            return m.consts[node.id]
        if node.id in m.stored:
            return None
        if node.id in m.names:
            return _export(modules, *m.names[node.id])
    elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        alias = node.value.id
        if alias in m.aliases and alias not in m.stored:
            return _export(modules, m.aliases[alias], node.attr)
    return None


def _export(modules, mod, name, depth=0):
    """The folded value of mod.name, through re-exports (`from .table import FREE` in
    leases4 makes leases4.FREE table's), or None."""
    m = modules[mod]
    if name in m.consts:
        return m.consts[name]
    if name in m.names and name not in m.stored and depth < 8:
        return _export(modules, *m.names[name], depth=depth + 1)
    return None


def _keep(modules, keep, mod, name, depth=0):
    """mod.name is read by name: keep its definition, and each import that re-exports it."""
    keep.add((mod, name))
    m = modules[mod]
    if name in m.names and depth < 8:
        _keep(modules, keep, *m.names[name], depth=depth + 1)


def _fold_defs(modules):
    """Every module's folded constants, to a fixpoint (a constant may use another module's)."""
    for _ in range(len(modules) + 1):
        changed = False
        for m in modules.values():
            for node in m.tree.body:
                if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                        and isinstance(node.targets[0], ast.Name) and _is_const_call(node.value)):
                    continue
                name = node.targets[0].id
                if name in m.consts or m.stored.get(name) != 1:
                    continue  # (bound once: by this definition)
                try:
                    v = _value(m, modules, node.value.args[0])
                except _Unknown:
                    continue
                if -SMALL <= v < SMALL:
                    m.consts[name], m.defs[name] = v, node
                    changed = True
        if not changed:
            return


def _kept(modules):
    """(module, NAME) pairs read in some way this pass does not fold: their definitions (and
    the imports that re-export them) stay."""
    keep = set()
    for m in modules.values():
        for node in ast.walk(m.tree):
            if id(node) in m.fstring and isinstance(node, (ast.Name, ast.Attribute)):
                if isinstance(node, ast.Name) and (node.id in m.consts or node.id in m.names):
                    _keep(modules, keep, m.name, node.id)  # (and where an import brings it from)
                elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                        and node.value.id in m.aliases:
                    _keep(modules, keep, m.aliases[node.value.id], node.attr)
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in m.aliases:
                src = m.aliases[node.value.id]
                if _export(modules, src, node.attr) is not None and not (
                        isinstance(node.ctx, ast.Load) and node.value.id not in m.stored):
                    _keep(modules, keep, src, node.attr)
            elif isinstance(node, ast.Name) and node.id in m.names and node.id in m.stored:
                _keep(modules, keep, m.name, node.id)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in ("getattr", "hasattr", "setattr") and len(node.args) > 1 \
                    and isinstance(node.args[1], ast.Constant):
                for other in modules.values():  # getattr(module, "NAME"): whichever module it is
                    if _export(modules, other.name, node.args[1].value) is not None:
                        _keep(modules, keep, other.name, node.args[1].value)
    return keep


def _lines(text):
    """Offsets of each line's start (ast positions are line, UTF-8 byte column)."""
    data = text.encode()
    return [0] + [i + 1 for i in range(len(data)) if data[i] == 10]


def _span(starts, node):
    return starts[node.lineno - 1] + node.col_offset, starts[node.end_lineno - 1] + node.end_col_offset


def _literal(v, parent_attr):
    s = str(v)
    return "(%s)" % s if v < 0 or parent_attr else s


def _rewrite(m, modules, keep, drop):
    starts = _lines(m.text)
    edits = []  # (start, end, text)
    parents = {}
    for node in ast.walk(m.tree):
        for ch in ast.iter_child_nodes(node):
            parents[ch] = node
    for node in ast.walk(m.tree):
        if isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load):
            if id(node) in m.fstring or isinstance(node, ast.Name) and node.id in m.names and node.id in m.stored:
                continue
            v = _lookup(m, modules, node)
            if v is not None:
                p = parents.get(node)
                a, b = _span(starts, node)
                edits.append((a, b, _literal(v, isinstance(p, ast.Attribute))))
    gone = {(m.name, n) for n in m.consts} - keep
    for node in ast.walk(m.tree) if drop else ():
        if isinstance(node, ast.Assign) and node in m.defs.values() and (m.name, node.targets[0].id) in gone:
            edits.append(_statement(starts, node, "pass"))
        elif isinstance(node, ast.ImportFrom):
            src = _resolve(m.name, m.is_pkg, node)
            left = [a for a in node.names if (a.asname or a.name) not in m.names or (m.name, a.asname or a.name) in keep
                    or (a.asname or a.name) in m.stored or _export(modules, src, a.name) is None]
            if len(left) < len(node.names):
                text = "pass" if not left else "from %s import %s" % (
                    "." * node.level + (node.module or ""),
                    ", ".join(a.name + (" as " + a.asname if a.asname else "") for a in left))
                edits.append(_statement(starts, node, text))
    outer, reach = [], -1
    for e in sorted(edits, key=lambda e: (e[0], -e[1])):
        if e[1] > reach:  # (a read inside a dropped statement goes with it)
            outer.append(e)
            reach = e[1]
    data = m.text.encode()
    for a, b, t in reversed(outer):
        data = data[:a] + t.encode() + data[b:]
    return data.decode()


def _statement(starts, node, text):
    a, b = _span(starts, node)
    return a, b, text + "\n" * (node.end_lineno - node.lineno)


def fold(sources, drop=True):
    """{rel path: source text} of the package -> {rel path: folded text} (same keys). drop:
    the definitions and imports of what is folded go (a board's build); without, only the
    reads are folded and every module still has every name (the native build the protocol
    tests and benches import their constants from)."""
    modules = {}
    for rel, text in sources.items():
        try:
            m = _Module(rel, text)
        except SyntaxError:
            continue  # left as written, for mpy-cross to report
        modules[m.name] = m
    for m in modules.values():
        _scan(m, modules)
    _fold_defs(modules)
    keep = _kept(modules)
    out = dict(sources)
    out.update((m.rel, _rewrite(m, modules, keep, drop)) for m in modules.values())
    return out
