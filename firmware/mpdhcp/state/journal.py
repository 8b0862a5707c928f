# Lease journal: append-only CRC-checked records, shared by every engine that keeps state.
# Record: 0xA5, type, length, payload[length], CRC-16/CCITT (big-endian) over type..payload.
# Engines stage records (no allocation, no I/O); the runner calls commit() once per batch of
# packets and sends the staged replies only after it returns (group commit), so a client is
# never told of a lease that a power cut could lose. A torn tail is skipped on load and the
# file is rewritten (compacted) at start, so later appends never follow garbage.
import os
from micropython import const

MAGIC = const(0xA5)
STAGE = const(4096)


def crc16(buf, off, n, crc=0xFFFF):
    i = 0
    while i < n:
        crc ^= buf[off + i] << 8
        j = 0
        while j < 8:
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
            j += 1
        i += 1
    return crc


class Journal:
    def __init__(self, path):
        """path None keeps the journal in memory (tests, or a service without persistence)."""
        self.path = path
        self.stage = bytearray(STAGE)
        self.n = 0  # staged bytes
        self.f = None
        self.memory = bytearray() if path is None else None
        self.size = 0  # bytes in the journal file
        self.live = 0  # bytes the last compaction wrote
        self.bytes_written = 0
        self.commits = 0
        self.skipped_tail = 0

    def append(self, typ, src, off, ln):
        """Stage one record. Flushes early if the stage is full (still before any reply)."""
        if self.n + ln + 5 > STAGE:
            self.commit()
        s = self.stage
        p = self.n
        s[p] = MAGIC
        s[p + 1] = typ
        s[p + 2] = ln
        i = 0
        while i < ln:
            s[p + 3 + i] = src[off + i]
            i += 1
        c = crc16(s, p + 1, ln + 2)
        s[p + 3 + ln] = c >> 8
        s[p + 4 + ln] = c & 255
        self.n = p + ln + 5

    def commit(self):
        """Make every staged record durable. Returns the bytes written."""
        n = self.n
        if not n:
            return 0
        if self.memory is not None:
            self.memory.extend(memoryview(self.stage)[:n])
        else:
            self.f.write(memoryview(self.stage)[:n])
            self.f.flush()  # fsync on the Unix port (verified with strace), VFS sync on boards
        self.n = 0
        self.size += n
        self.bytes_written += n
        self.commits += 1
        return n

    def load(self, apply):
        """Replay the journal: apply(type, buf, off, length) per valid record, in order."""
        if self.memory is not None:
            data = bytes(self.memory)
        else:
            try:
                with open(self.path, "rb") as f:
                    data = f.read()
            except OSError:
                data = b""
        good = replay(data, apply)
        self.skipped_tail = len(data) - good
        self.size = good
        return good

    def rewrite(self, dump):
        """Compact: write a fresh journal holding what dump(journal) stages, then switch to it."""
        self.n = 0
        if self.memory is not None:
            self.memory = bytearray()
            dump(self)
            self.size = 0
            self.commit()
            self.live = self.size
            return
        if self.f:
            self.f.close()
        tmp = self.path + ".tmp"
        self.f = open(tmp, "wb")
        self.size = 0
        dump(self)
        self.commit()
        self.f.close()
        os.rename(tmp, self.path)
        self.f = open(self.path, "ab")
        self.live = self.size

    def wants_compaction(self):
        return self.size > 65536 and self.size > 4 * self.live

    def close(self):
        self.commit()
        if self.f:
            self.f.close()
            self.f = None


def replay(data, apply):
    """Walk records in data; returns the length of the valid prefix."""
    p = 0
    end = len(data)
    while p + 5 <= end:
        if data[p] != MAGIC:
            break
        ln = data[p + 2]
        if p + ln + 5 > end:
            break
        c = crc16(data, p + 1, ln + 2)
        if data[p + 3 + ln] != c >> 8 or data[p + 4 + ln] != c & 255:
            break
        apply(data[p + 1], data, p + 3, ln)
        p += ln + 5
    return p
