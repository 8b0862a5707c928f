# Mirrors firmware/mpdhcp/wire/timing.py (RFC 2131 4.1 and 4.4.5, RFC 8415 21.4 timing rules).
from mpdhcp.wire.timing import (t1_default, t2_default4, t2_default6, sane_t1, sane_t2, capped_u32,
                                backoff4, half_remaining, BACKOFF_FIRST, BACKOFF_MAX, RETRY_MIN)

LIFETIMES = (0, 1, 2, 7, 8, 9, 59, 60, 61, 3599, 3600, 86400, 604800, (1 << 30) - 1)


def test_t1_t2_defaults_are_the_rfc_fractions():
    # RFC 2131 4.4.5: T1 = 0.5, T2 = 0.875 of the lease; RFC 8415 21.4: T2 = 0.8 of the
    # preferred lifetime. Computed as subtractions: no multiplication near 2**30.
    assert (t1_default(3600), t2_default4(3600), t2_default6(3000)) == (1800, 3150, 2400)
    assert (t1_default(86400), t2_default4(86400), t2_default6(86400)) == (43200, 75600, 69120)
    for lt in LIFETIMES:
        t1 = t1_default(lt)
        t2 = t2_default4(lt)
        t26 = t2_default6(lt)
        assert t1 == lt // 2 and 2 * t1 <= lt < 2 * t1 + 2
        assert t2 == lt - lt // 8 and 7 * lt <= 8 * t2 < 7 * lt + 8  # 0.875, rounded up
        assert t26 == lt - lt // 5 and 4 * lt <= 5 * t26 < 4 * lt + 5  # 0.8, rounded up
        assert t1 <= t26 <= t2 <= lt and t2 < (1 << 30)


def test_sane_t2_keeps_a_valid_t2_and_replaces_the_rest():
    assert sane_t2(3600, 2000, t2_default4) == 2000
    assert sane_t2(3600, 3600, t2_default4) == 3600  # T2 == lease time is allowed
    assert sane_t2(3600, 1, t2_default4) == 1
    assert sane_t2(3600, 0, t2_default4) == 3150  # missing
    assert sane_t2(3600, 3601, t2_default4) == 3150  # past the lease
    assert sane_t2(3000, 5000, t2_default6) == 2400


def test_sane_t1_keeps_a_valid_t1_and_replaces_the_rest():
    assert sane_t1(3600, 1000, 2000) == 1000
    assert sane_t1(3600, 2000, 2000) == 2000  # T1 == T2 is allowed
    assert sane_t1(3600, 0, 3150) == 1800  # missing: half the lease
    assert sane_t1(3600, 2500, 2000) == 1800  # after T2: the default
    assert sane_t1(3600, 0, 1000) == 1000  # the default, but never past T2
    assert sane_t1(3600, 3000, 1000) == 1000
    # the order the client uses: T2 first, then T1 against it
    lt = 3600
    t2 = sane_t2(lt, 0, t2_default4)
    assert (sane_t1(lt, 3500, t2), t2) == (1800, 3150)
    for lt in LIFETIMES[:-1]:  # lt + 2 stays below 2**30
        for t1, t2 in ((0, 0), (lt, 0), (lt + 1, lt + 2), (1, 1), (lt // 3, lt // 4)):
            s2 = sane_t2(lt, t2, t2_default4)
            s1 = sane_t1(lt, t1, s2)
            assert s1 <= s2 <= lt, (lt, t1, t2, s1, s2)


def _be(v):
    return bytes([(v >> 24) & 255, (v >> 16) & 255, (v >> 8) & 255, v & 255])


def test_capped_u32_reads_infinity_and_big_values_as_the_cap():
    cap = 10 ** 8
    b = b"\x00" + _be(3600) + _be(0xFFFFFFFF) + _be(1 << 30) + _be(0x3FFFFFFF) + _be(cap) + _be(cap - 1)
    assert capped_u32(b, 1, cap) == 3600
    assert capped_u32(b, 5, cap) == cap  # infinite (RFC 8415 7.7; RFC 2131 3.3)
    assert capped_u32(b, 9, cap) == cap  # 2**30: past a small int on 32-bit boards
    assert capped_u32(b, 13, cap) == cap
    assert capped_u32(b, 17, cap) == cap and capped_u32(b, 21, cap) == cap - 1
    assert capped_u32(_be(0x3FFFFFFF), 0, (1 << 30) - 1) == (1 << 30) - 1
    assert capped_u32(_be(0x3FFFFFFE), 0, (1 << 30) - 1) == 0x3FFFFFFE
    assert capped_u32(_be(0x7FFFFFFF), 0, (1 << 30) - 1) == (1 << 30) - 1
    assert capped_u32(_be(0x40000000), 0, 5) == 5 and capped_u32(_be(0), 0, 5) == 0


def test_backoff4_doubles_from_4_to_64_seconds_with_jitter():
    # RFC 2131 4.1: 4 s, then 8, 16, 32, 64, and 64 from then on, each randomised by -1..+1 s
    assert (BACKOFF_FIRST, BACKOFF_MAX) == (4, 64)
    assert [backoff4(n, 0) for n in range(8)] == [4, 8, 16, 32, 64, 64, 64, 64]
    assert [backoff4(n, -1) for n in range(6)] == [3, 7, 15, 31, 63, 63]
    assert [backoff4(n, 1) for n in range(6)] == [5, 9, 17, 33, 65, 65]
    assert backoff4(40, 0) == 64 and backoff4(1000, 1) == 65  # no shift past the cap


def test_half_remaining_waits_half_the_time_left_at_least_60_s():
    # RFC 2131 4.4.5: RENEWING and REBINDING retransmit after half the time left until T2
    # (or the lease end), down to a minimum of 60 s; never past that time itself
    assert RETRY_MIN == 60
    assert half_remaining(1000, 2000) == 1500
    assert half_remaining(1000, 1001 + 2 * 60) == 1060
    assert half_remaining(1000, 1240) == 1120
    assert half_remaining(1000, 1100) == 1060  # half would be 50 s: at least 60
    assert half_remaining(1000, 1050) == 1050  # 60 s would pass `until`
    assert half_remaining(1000, 1000) == 1000
    now = 5000
    until = 5000 + 86400
    seen = []
    while now < until:
        nxt = half_remaining(now, until)
        assert nxt > now and nxt <= until and (nxt - now >= 60 or nxt == until)
        seen.append(nxt - now)
        now = nxt
    assert seen[0] == 43200 and seen[-1] <= 60 and len(seen) == 12
