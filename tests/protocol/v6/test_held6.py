# Mirrors firmware/mpdhcp/v6/held6.py: the client's binding and its journal records.
from mpdhcp.v6.held6 import Held6, NA, PD, MAX_LEASES, J_CLIENT6, J_CLIENT6_MORE
from mpdhcp.state.journal import Journal
from mpdhcp.wire.addr6 import ip6


def _held():
    return Held6(Journal(None), {"journal_records": 0})


def test_binding_round_trips_through_the_journal():
    j = Journal(None)
    h = Held6(j, {"journal_records": 0})
    h.set_server(b"\x00\x03\x00\x01\x02\x00\x00\x00\x00\x01", 0, 10)
    h.put(NA, ip6("2001:db8::100"), 0, 128, 2000, 3000)
    h.put(PD, ip6("2001:db8:8000::"), 0, 56, 2100, 3100)
    h.renew_at, h.rebind_at = 1500, 1800
    h.record()
    j.commit()
    g = Held6(j, {"journal_records": 0})
    g.load()
    assert g.n == 2 and g.find(PD, ip6("2001:db8:8000::"), 0, 56) >= 0 and g.sid_len == 10
    assert (g.renew_at, g.rebind_at) == (1500, 1800) and g.next_expiry() == 3000 and g.last_expiry() == 3100
    assert not g.has_key


def test_the_reconfigure_key_and_replay_counter_survive_a_restart():
    # RFC 8415 20.4: the key comes once; after a restart Confirm and Rebind Replies may not
    # carry it again, and a replay counter that went back would accept an old Reconfigure
    j = Journal(None)
    h = Held6(j, {"journal_records": 0})
    h.set_server(b"\x00\x03\x00\x01\x02\x00\x00\x00\x00\x01", 0, 10)
    h.put(NA, ip6("2001:db8::100"), 0, 128, 2000, 3000)
    h.rkey[:] = bytes(range(16))
    h.replay[:] = b"\x00\x00\x00\x00\x00\x00\x01\x07"
    h.has_key = True
    h.record()
    j.commit()
    g = Held6(j, {"journal_records": 0})
    g.load()
    assert g.n == 1 and g.has_key and bytes(g.rkey) == bytes(range(16)) and g.replay[7] == 7
    bad = bytearray(h.rec[:h._encode(h.rec)])
    bad[-25] = 9  # the key block's marker: not a key record
    g._apply(J_CLIENT6, bad, 0, len(bad))
    assert g.n == 0 and not g.has_key


def test_a_binding_too_long_for_one_record_goes_on_in_a_second():
    # a journal record holds 255 bytes: a 130-byte server DUID, 8 leases and the key are 390
    j = Journal(None)
    h = Held6(j, {"journal_records": 0})
    h.set_server(b"\x00\x02" + bytes(range(128)), 0, 130)
    for i in range(MAX_LEASES):
        a = bytearray(ip6("2001:db8::100"))
        a[15] = i
        h.put(NA if i & 1 else PD, a, 0, 128 if i & 1 else 64, 2000 + i, 3000 + i)
    h.rkey[:] = bytes(range(16))
    h.has_key = True
    h.record()
    h.dump(j)  # (a compaction writes the same two records)
    j.commit()
    g = Held6(j, {"journal_records": 0})
    g.load()
    assert g.n == MAX_LEASES and g.has_key and g.sid_len == 130 and g.last_expiry() == 3000 + MAX_LEASES - 1
    for i in range(MAX_LEASES):
        assert g.find(h.kind[i], h.addr, 16 * i, h.plen[i]) >= 0
    g.clear()
    g._apply(J_CLIENT6_MORE, h.rec, 0, 26)  # leases without a binding record before them
    assert g.n == 0


def test_impossible_records_are_not_taken():
    h = _held()
    for bad in (b"\x05\x00", b"\x02\x00\x03" + bytes(26), b"\x02\x00\x03" + bytes(25) + b"\x09"):
        h._apply(J_CLIENT6, bad, 0, len(bad))
        assert h.n == 0 and h.sid_len == 0


def test_slots_are_bounded_and_expiry_frees_them():
    h = _held()
    for i in range(MAX_LEASES + 2):
        a = bytearray(16)
        a[15] = i
        h.put(NA, a, 0, 128, 100 + i, 200 + i)
    assert h.n == MAX_LEASES
    assert h.expire(204) == 5 and h.n == MAX_LEASES - 5
