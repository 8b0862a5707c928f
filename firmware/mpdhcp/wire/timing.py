# Protocol timing, the one place for each rule: T1/T2 defaults (servers' config and
# clients), lifetimes read off the wire, and the DHCPv4 client's retransmission times.
# Written so no int ever passes 2**30 (a heap object on 32-bit boards).
# DHCPv4 (RFC 2131 4.4.5): T1 = 0.5 and T2 = 0.875 of the lease time.
# DHCPv6 (RFC 8415 21.4, 21.21): T1 = 0.5 and T2 = 0.8 of the shortest preferred lifetime.
from micropython import const


def t1_default(lifetime):
    return lifetime // 2


def t2_default4(lifetime):
    return lifetime - lifetime // 8


def t2_default6(preferred):
    return preferred - preferred // 5


def sane_t1(lifetime, t1, t2):
    """The T1 a DHCPv4 client uses, given its sane T2: the server's when 0 < T1 <= T2, else
    half the lifetime, never past T2 (RFC 2131 4.4.5). (A DHCPv6 client discards an IA with
    T1 > T2 > 0 instead, RFC 8415 21.4.)"""
    if t1 > t2 or t1 == 0:
        t1 = t1_default(lifetime)
        if t1 > t2:
            t1 = t2
    return t1


def sane_t2(lifetime, t2, t2_default):
    """The T2 a client uses: the server's when 0 < T2 <= lifetime, else t2_default(lifetime)."""
    if t2 > lifetime or t2 == 0:
        return t2_default(lifetime)
    return t2


def capped_u32(b, off, cap):
    """A 32-bit lifetime at b[off:], capped so that now + it stays a small int
    (0xFFFFFFFF, infinite, and anything past the cap read as the cap)."""
    if b[off] >= 0x40:
        return cap
    v = (b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]
    return v if v < cap else cap


IRT_DEFAULT = const(86400)  # Information Refresh Time when the server sends none (RFC 8415 21.23)
IRT_MINIMUM = const(600)


def info_refresh(b, o, cap):
    """The Information Refresh Time in the DHCPv6 option at b[o:] (o < 0: none): 86400 s
    without a valid one, at least 600 s, at most cap (RFC 8415 21.23)."""
    if o < 0 or b[o + 2] or b[o + 3] != 4:
        return IRT_DEFAULT
    t = capped_u32(b, o + 4, cap)
    return t if t > IRT_MINIMUM else IRT_MINIMUM


def max_rt(b, o):
    """The SOL_MAX_RT or INF_MAX_RT in the DHCPv6 option at b[o:] (o < 0: none), in
    seconds; 0 when absent or outside 60..86400, which the client ignores (RFC 8415 21.24)."""
    if o < 0 or b[o + 2] or b[o + 3] != 4:
        return 0
    v = capped_u32(b, o + 4, 86401)
    return v if 60 <= v <= 86400 else 0


BACKOFF_FIRST = const(4)  # RFC 2131 4.1: 4 s, doubling, up to 64 s, randomised by +-1 s
BACKOFF_MAX = const(64)
RETRY_MIN = const(60)  # RFC 2131 4.4.5: RENEWING/REBINDING retransmit at half the time left, >= 60 s


def backoff4(tries, jitter):
    """RFC 2131 4.1: the wait before retransmission number `tries` (0-based): 4, 8, 16, 32,
    64 s, plus jitter (-1..+1 s)."""
    return (BACKOFF_FIRST << tries if tries < 4 else BACKOFF_MAX) + jitter


def half_remaining(now, until):
    """RFC 2131 4.4.5: retry after half the time left, but no sooner than 60 s; never past until."""
    d = (until - now) // 2
    if d < RETRY_MIN:
        d = RETRY_MIN
    t = now + d
    return t if t < until else until


# DHCPv6 retransmission (RFC 8415 15), in milliseconds so that RAND (-0.1..+0.1) is exact.
# rand1000(): 0..2000 picks RAND = (r - 1000) / 10000; every value stays < 2**30.
def rand_part(x, r):
    """RAND * x for RAND = (r - 1000) / 10000, r in 0..2000."""
    return (r - 1000) * x // 10000


def rt_first(irt, r):
    """RT = IRT + RAND*IRT (for a first Solicit, pass r in 1001..2000: RAND > 0, RT > IRT)."""
    return irt + rand_part(irt, r)


def rt_next(prev, mrt, r):
    """RT = 2*RTprev + RAND*RTprev; past MRT (when not 0): RT = MRT + RAND*MRT."""
    rt = 2 * prev + rand_part(prev, r)
    if mrt and rt > mrt:
        rt = mrt + rand_part(mrt, r)
    return rt


def xorshift16(x):
    """The clients' jitter and transaction-id source: a 16-bit xorshift step (not for secrets)."""
    x ^= (x << 7) & 0xFFFF
    x ^= x >> 9
    x ^= (x << 8) & 0xFFFF
    return x
