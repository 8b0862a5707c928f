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


def test_corrupt_record_stops_replay():
    j = Journal(None)
    for i in range(3):
        j.append(1, bytes([i] * 4), 0, 4)
    j.commit()
    j.memory[9 + 3] ^= 0x40  # flip a bit in the second record's payload
    assert _records(j) == [(1, b"\x00\x00\x00\x00")]


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
