# How the host tools print what they list. With --json: one JSON document (dump). Otherwise
# tables (Table) and progress (Progress) go through rich when their stream is a terminal, and
# are plain text when it is a pipe or a file: columns aligned with spaces, numbers
# right-aligned, no box drawing, no ANSI codes, so scripts, CI logs and files read them as is.
import json
import sys


class Table:
    """A listing: column names, rows (dicts keyed by column, or sequences), an optional title.
    A column whose every cell is a number is right-aligned."""

    def __init__(self, cols, rows, title=None, indent=0):
        self.cols = [str(c) for c in cols]
        self.rows = [[_cell(r.get(c) if isinstance(r, dict) else r[i]) for i, c in enumerate(cols)]
                     for r in rows]
        self.title = title
        self.indent = " " * indent  # plain text only
        self.right = [bool(self.rows) and all(_isnum(r[i]) for r in self.rows) for i in range(len(self.cols))]

    def plain(self):
        out = [self.title] if self.title else []
        if not self.rows:
            return "\n".join(out + [self.indent + "(none)"])
        w = [max(len(r[i]) for r in [self.cols] + self.rows) for i in range(len(self.cols))]
        for r in [self.cols] + self.rows:
            cells = [c.rjust(w[i]) if self.right[i] else c.ljust(w[i]) for i, c in enumerate(r)]
            out.append((self.indent + "  ".join(cells)).rstrip())
        return "\n".join(out)

    def rich(self):
        from rich.table import Table as RichTable
        from rich.text import Text

        t = RichTable(title=self.title, title_justify="left")
        for c, right in zip(self.cols, self.right):
            t.add_column(Text(c), justify="right" if right else "left")
        for r in self.rows:
            t.add_row(*(Text(c) for c in r))  # Text: a "[" in a cell is not rich markup
        return t


def _cell(v):
    return "" if v is None else str(v)


def _isnum(s):
    """12, -3, 1.5, 2.00x, 0.50%, or a placeholder (-, empty)."""
    return s in ("-", "") or s.rstrip("x%").replace(".", "", 1).lstrip("-").isdigit()


def plain(*parts):
    """Text parts and Tables as one plain string (also what a file such as bench.md gets)."""
    return "\n".join(p.plain() if isinstance(p, Table) else p for p in parts)


def show(*parts, file=None):
    """Print text parts and Tables: rich on a terminal, plain() otherwise."""
    file = file or sys.stdout
    if not _tty(file):
        print(plain(*parts), file=file)
        return
    con = _console(file)
    for p in parts:
        if isinstance(p, Table):
            con.print(p.rich() if p.rows else p.plain())
        else:
            con.print(p, markup=False, highlight=False, soft_wrap=True)


def dump(doc, file=None):
    """--json: the one document a command prints."""
    print(json.dumps(doc, indent=1), file=file or sys.stdout)


class Progress:
    """Steps of known byte sizes (flash's copies) on stderr: a rich bar on a terminal, one
    plain line per step otherwise; nothing when quiet."""

    def __init__(self, what, total_bytes, steps, quiet=False, file=None):
        self.what, self.total, self.steps, self.quiet = what, total_bytes, steps, quiet
        self.file = file or sys.stderr
        self.done = 0
        self.bar = None

    def __enter__(self):
        if not self.quiet and _tty(self.file):
            from rich import progress as P

            self.bar = P.Progress(P.TextColumn("%s {task.fields[n]}/%d {task.fields[name]:<32.32}" % (
                self.what, self.steps), markup=False), P.BarColumn(), P.DownloadColumn(), console=_console(self.file))
            self.bar.start()
            self.task = self.bar.add_task(self.what, total=self.total, n=0, name="")
        return self

    def step(self, name, nbytes):
        """One step done: `name`, `nbytes` long."""
        self.done += 1
        if self.bar is not None:
            self.bar.update(self.task, advance=nbytes, n=self.done, name=name)
        elif not self.quiet:
            print("%s %d/%d %s (%d B)" % (self.what, self.done, self.steps, name, nbytes), file=self.file,
                  flush=True)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False


def _tty(file):
    isatty = getattr(file, "isatty", None)
    return bool(isatty and isatty())


def _console(file):
    from rich.console import Console

    return Console(file=file, highlight=False)
