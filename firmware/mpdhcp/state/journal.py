# Lease journal: append-only CRC-checked records, shared by every engine that keeps state.
# Record: 0xA5, type, length, payload[length], CRC-16/CCITT (big-endian) over type..payload.
# Engines stage records (no allocation, no I/O); the runner calls commit() once per batch of
# packets and sends the staged replies only after it returns (group commit), so a client is
# never told of a lease that a power cut could lose. A torn tail is skipped on load and the
# file is rewritten (compacted) at start, so later appends never follow garbage.
# Damage never spreads: a record that fails its check is skipped and replay resynchronises
# on the next record marker whose record checks out, so a flipped bit loses at most the
# record it hits; the damaged file is kept aside (PATH.corrupt-N) before the rewrite. A file
# that cannot be read (permissions, a directory, a FIFO...) stops the start with a clear
# error and stays as it was: it is never taken for an empty journal.
# Records can be read back by offset (read_into): the DHCPv4 table keeps a lease's hostname
# in its journal record, not on the heap. An offset counts from the start of the file (or
# memory), staged bytes after the file's end; while compaction rewrites, reads go to the old
# file, whose offsets the tables still hold until their records are written anew.
import os
from micropython import const
from ..wire.buf import copy, crc16, stage_record  # noqa: F401  (journal.crc16: tests and tools use it)

MAGIC = const(0xA5)
STAGE = const(512)  # staged bytes before a flush; the runner reserves 128 per reply of its ring
# (Runner.add): a step never flushes early, which would need the heap
_S_IFMT = const(0o170000)
_S_IFREG = const(0o100000)
_ENOENT = const(2)


class JournalError(OSError):
    """The lease file cannot be used: the service must not start (and must not touch it)."""


class Journal:
    def __init__(self, path, stage=STAGE):
        """path None keeps the journal in memory (tests, or a service without persistence).
        stage: bytes staged before a flush, at least the largest record and its 5-byte frame
        (the runner's reserve may add more)."""
        self.path = path
        self.stage = bytearray(stage)
        self.n = 0  # staged bytes
        self.f = None
        self.memory = bytearray() if path is None else None
        self.size = 0  # bytes in the journal file
        self.live = 0  # bytes the last compaction wrote
        self.bytes_written = 0
        self.commits = 0
        self.skipped_tail = 0  # bytes after the last good record (a torn write)
        self.damaged = []  # (offset, length) of each damaged stretch skipped before it
        self.aside = None  # where the damaged original was kept
        self.old = None  # while rewriting: the old file (or bytes), which reads come from
        self.data = None  # from load to the rewrite after it: the bytes replayed (the file's offsets)

    def reserve(self, nbytes):
        """At set-up (heap unlocked): a stage of at least nbytes, so a whole runner step's
        records fit (an early flush inside a step would need the heap)."""
        if nbytes > len(self.stage):
            s = bytearray(nbytes)
            copy(s, 0, self.stage, 0, self.n)
            self.stage = s

    def append(self, typ, src, off, ln):
        """Stage one record. Flushes early if the stage is full (still before any reply).
        Returns the offset its payload will have in the journal (read_into)."""
        if self.n + ln + 5 > len(self.stage):
            self.commit()
        at = self.size + self.n + 3
        self.n = stage_record(self.stage, self.n, MAGIC, typ, src, off, ln)
        return at

    def read_into(self, at, dst):
        """Fill dst (a bytearray) from the journal's offset `at` (append's return), as far
        as the journal goes; returns the bytes read (0: not there, or unreadable now). No
        allocation from a file journal: it runs inside a step."""
        src = self.old
        if src is None:
            if at >= self.size:  # still staged
                return _part_into(dst, self.stage, at - self.size, self.n)
            src = self.memory if self.memory is not None else self.f
        if isinstance(src, bytearray) or isinstance(src, bytes):  # (a tuple of types: an allocation)
            return _part_into(dst, src, at, len(src))
        try:
            src.seek(at)
            return src.readinto(dst) or 0
        except (OSError, MemoryError):  # (MemoryError: an OSError raised with the heap locked)
            return 0

    def commit(self):
        """Make every staged record durable. Returns the bytes written."""
        n = self.n
        if not n:
            return 0
        if self.memory is not None:
            self.memory.extend(memoryview(self.stage)[:n])
        else:
            self.f.seek(0, 2)  # a read moved the position, and FAT writes where it stands
            self.f.write(memoryview(self.stage)[:n])
            self.f.flush()  # fsync on the Unix port (verified with strace), VFS sync on boards
        self.n = 0
        self.size += n
        self.bytes_written += n
        self.commits += 1
        return n

    def load(self, apply):
        """Replay the journal: apply(type, buf, off, length) per valid record, in order.
        Raises JournalError when the file exists but cannot be read as a journal."""
        data = bytes(self.memory) if self.memory is not None else self._read()
        self.damaged = []
        self.data = data
        good = replay(data, apply, self.damaged)
        self.skipped_tail = len(data) - good
        self.size = good
        return good

    def _read(self):
        p = self.path
        try:
            mode = os.stat(p)[0]
        except OSError as e:
            if e.args[0] == _ENOENT:
                return b""  # a first start: no leases yet
            raise JournalError("%s: cannot use the lease file: %s" % (p, e))
        if mode & _S_IFMT != _S_IFREG:
            raise JournalError("%s: the lease file is not a regular file; refusing to start" % p)
        try:
            with open(p, "rb") as f:
                return f.read()
        except OSError as e:
            raise JournalError("%s: cannot read the lease file: %s" % (p, e))

    def report(self):
        """One line on what replay skipped, or None when the file was sound."""
        if not self.damaged:
            return None
        return "%s: %d damaged record stretch(es), %d bytes skipped; every intact record kept%s" % (
            self.path or "journal", len(self.damaged), sum(n for _, n in self.damaged),
            ("; the damaged original is kept as " + self.aside) if self.aside else "")

    def rewrite(self, dump):
        """Compact: write a fresh journal holding what dump(journal) stages, then switch to it.
        Called with nothing staged (the runner commits first; replay stages nothing). While
        dump runs, read_into reads the old journal."""
        self.n = 0
        if self.memory is not None:
            self.old = self.memory
            self.memory = bytearray()
            self.size = 0  # before dump: a dump bigger than the stage flushes part way
            dump(self)
            self.commit()
            self.old = self.data = None
            self.live = self.size
            return
        if self.damaged and self.aside is None:
            self.aside = self._keep_aside()
        old = self.f
        self.old = old or self.data or b""  # serving, the file; at start, the bytes replayed
        tmp = self.path + ".tmp"
        try:
            self.f = open(tmp, "wb")
            self.size = 0
            dump(self)
            self.commit()
            self.f.close()
        finally:
            if old:
                old.close()
            self.old = self.data = None
        os.rename(tmp, self.path)
        self.f = open(self.path, "a+b")  # appends, and read_into's reads
        self.live = self.size

    def _keep_aside(self):
        """Move the damaged file to PATH.corrupt-N (the first N free) before it is rewritten."""
        n = 1
        while n < 1000:
            dst = "%s.corrupt-%d" % (self.path, n)
            try:
                os.stat(dst)
            except OSError:
                os.rename(self.path, dst)
                return dst
            n += 1
        raise JournalError("%s: 999 damaged copies kept already; clear them out" % self.path)

    def wants_compaction(self):
        return self.size > 65536 and self.size > 4 * self.live

    def close(self):
        self.commit()
        if self.f:
            self.f.close()
            self.f = None


def _part_into(dst, src, at, end):
    n = min(len(dst), end - at)
    if at < 0 or n <= 0:
        return 0
    copy(dst, 0, src, at, n)
    return n


def replay(data, apply, damaged=None):
    """Walk the records in data, apply(type, buf, off, length) for each one that checks out.
    A bad one (marker, length or CRC) is skipped: replay resumes at the next marker whose
    record checks out, and (offset, length) of each skipped stretch goes into `damaged`.
    Garbage after the last good record is a torn tail, not damage. Returns the end of the
    last good record."""
    p = 0
    end = len(data)
    good = 0
    while p + 5 <= end:
        if _valid(data, p, end):
            ln = data[p + 2]
            apply(data[p + 1], data, p + 3, ln)
            p += ln + 5
            good = p
            continue
        q = p + 1  # resynchronise
        while q + 5 <= end and not (data[q] == MAGIC and _valid(data, q, end)):
            q += 1
        if q + 5 > end:
            break  # nothing intact after it: a torn tail
        if damaged is not None:
            damaged.append((p, q - p))
        p = q
    return good


def _valid(data, p, end):
    if data[p] != MAGIC:
        return False
    ln = data[p + 2]
    if p + ln + 5 > end:
        return False
    c = crc16(data, p + 1, ln + 2)
    return data[p + 3 + ln] == c >> 8 and data[p + 4 + ln] == c & 255
