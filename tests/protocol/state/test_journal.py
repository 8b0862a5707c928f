# Journal: CRC'd records, replay, torn tails, compaction.
from mpdhcp.state.journal import Journal, replay, crc16


def _records(j):
    got = []
    replay(bytes(j.memory), lambda typ, b, off, ln: got.append((typ, bytes(b[off : off + ln]))))
    return got


def test_crc16_ccitt_check_value():
    assert crc16(b"123456789", 0, 9) == 0x29B1  # CRC-16/CCITT-FALSE check value


def test_append_commit_replay_roundtrip():
    j = Journal(None)
    j.append(1, b"hello", 0, 5)
    j.append(2, b"xyz", 1, 2)
    assert _records(j) == []  # staged, not yet durable
    assert j.commit() == 5 + 5 + 2 + 5
    assert _records(j) == [(1, b"hello"), (2, b"yz")]
    assert j.bytes_written == 17 and j.commits == 1


def test_a_corrupt_record_costs_only_itself():
    j = Journal(None)
    for i in range(3):
        j.append(1, bytes([i] * 4), 0, 4)
    j.commit()
    j.memory[9 + 3] ^= 0x40  # flip a bit in the second record's payload
    assert _records(j) == [(1, b"\x00\x00\x00\x00"), (1, b"\x02\x02\x02\x02")]
    damaged = []
    assert replay(bytes(j.memory), lambda *a: None, damaged) == 27
    assert damaged == [(9, 9)]


def _journal_of(n):
    j = Journal(None)
    for i in range(n):
        j.append(1 + i % 3, bytes([(i * 7 + k) & 255 for k in range(4 + i % 9)]), 0, 4 + i % 9)
    j.commit()
    return bytes(j.memory), _records(j)


def test_a_flipped_bit_anywhere_loses_at_most_the_record_it_hits():
    data, want = _journal_of(40)
    starts = []
    p = 0
    for typ, body in want:
        starts.append(p)
        p += len(body) + 5
    for pos in range(len(data)):
        for bit in (0x01, 0x80):
            bad = bytearray(data)
            bad[pos] ^= bit
            got = []
            replay(bytes(bad), lambda t, b, o, n: got.append((t, bytes(b[o:o + n]))))
            hit = max(i for i in range(len(starts)) if starts[i] <= pos)
            assert got == want[:hit] + want[hit + 1:] or got == want, (pos, bit)


def test_zeroed_and_cut_stretches_keep_every_intact_record():
    data, want = _journal_of(30)
    assert len(data) > 300
    for a, n in ((0, 64), (100, 37), (200, 60)):  # each followed by intact records
        bad = bytearray(data)
        for i in range(a, min(a + n, len(bad))):
            bad[i] = 0
        got = []
        damaged = []
        replay(bytes(bad), lambda t, b, o, ln: got.append((t, bytes(b[o:o + ln]))), damaged)
        assert set(got) <= set(want) and len(got) >= len(want) - (n // 5 + 2), (a, n, len(got))
        assert damaged and damaged[0][0] <= a
    got = []
    replay(data[:100] + data[140:], lambda t, b, o, ln: got.append((t, bytes(b[o:o + ln]))))
    assert len(got) >= len(want) - 6


def test_every_torn_length_is_skipped():
    whole = Journal(None)
    whole.append(1, b"abcdef", 0, 6)
    whole.append(1, b"ghijkl", 0, 6)
    whole.commit()
    data = bytes(whole.memory)
    for cut in range(len(data) + 1):
        got = []
        good = replay(data[:cut], lambda t, b, o, n: got.append(bytes(b[o : o + n])))
        assert len(got) == (0 if cut < 11 else 1 if cut < 22 else 2), cut
        assert good == 11 * len(got)


def test_stage_overflow_commits_early():
    j = Journal(None)
    for i in range(200):
        j.append(1, b"x" * 40, 0, 40)
    j.commit()
    assert len(_records(j)) == 200 and j.commits >= 2


def test_rewrite_keeps_only_what_dump_stages():
    j = Journal(None)
    for i in range(10):
        j.append(1, bytes([i]), 0, 1)
    j.commit()
    j.rewrite(lambda jj: jj.append(7, b"live", 0, 4))
    assert _records(j) == [(7, b"live")] and j.live == 9
