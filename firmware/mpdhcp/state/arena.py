# A byte arena for what a lease record holds only sometimes and at any length: hostnames and
# client keys that cannot be derived from the hardware address. One bytearray; an entry is
# [owner record (2)][length (1)][data], appended at the top. A freed entry is marked dead
# (owner 0xFFFF) and its bytes are counted; when an entry does not fit, the live entries are
# slid down over the dead ones (the owners' references rewritten through the table's
# set_xref), and only then does the arena grow by a quarter. Growing allocates, so with the heap
# locked (a runner step) it fails and the caller goes without; the runner grows a short arena
# between steps (spare()). No object per entry: the lease tables stay one allocation each.
from micropython import const
from ..wire.buf import copy

_DEAD = const(0xFFFF)
HEAD = const(3)  # owner (2) + length (1)


class Arena:
    def __init__(self, size, table):
        self.buf = bytearray(size if size > 16 else 16)
        self.top = 1  # offset 0 means "no entry"
        self.dead = 0
        self.table = table  # set_xref(owner, offset) when compaction moves an entry
        self.grown = 0

    def free_bytes(self):
        return len(self.buf) - self.top + self.dead

    def room(self, need):
        """Can an entry of `need` bytes (head included) be had now (growing if allowed)?"""
        if self.free_bytes() >= need:
            return True
        return self._grow(need)

    def alloc(self, owner, ln):
        """Offset of a new entry of ln data bytes (data at offset + HEAD) for record owner,
        or 0 when even compaction and growth find no room."""
        need = HEAD + ln
        if self.top + need > len(self.buf):
            if self.dead:
                self.compact()
            if self.top + need > len(self.buf) and not self._grow(need):
                return 0  # the caller goes without (Leases4 counts what it dropped)
        o = self.top
        b = self.buf
        b[o] = owner >> 8
        b[o + 1] = owner & 255
        b[o + 2] = ln
        self.top = o + need
        return o

    def free(self, o):
        if o:
            b = self.buf
            b[o] = b[o + 1] = 255
            self.dead += HEAD + b[o + 2]

    def length(self, o):
        return self.buf[o + 2] if o else 0

    def compact(self):
        """Slide the live entries down over the dead ones, in order."""
        b = self.buf
        src = dst = 1
        top = self.top
        while src < top:
            n = HEAD + b[src + 2]
            owner = (b[src] << 8) | b[src + 1]
            if owner != _DEAD:
                if src != dst:
                    copy(b, dst, b, src, n)
                    self.table.set_xref(owner, dst)
                dst += n
            src += n
        self.top = dst
        self.dead = 0

    def _grow(self, need):
        try:
            nb = bytearray(max(len(self.buf) * 5 // 4, self.top + need + 64))
        except MemoryError:  # the heap is locked (a runner step) or full: go without
            return False
        copy(nb, 0, self.buf, 0, self.top)
        self.buf = nb
        self.grown += 1
        return True

    def spare(self, want):
        """Between steps (heap unlocked): make sure `want` bytes are free at the top for the
        next step, compacting first and growing only if that is not enough."""
        if len(self.buf) - self.top >= want:
            return
        if self.dead:
            self.compact()
        if len(self.buf) - self.top < want:
            self._grow(want)
