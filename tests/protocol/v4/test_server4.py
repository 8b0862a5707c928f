# Server4 behaviour, one function per rule (RFC 2131 4.3, RFC 2132, RFC 3046, RFC 3396).
from craft4 import (MAC1, MAC2, CONFIG, pkt, opt, server, meta, exchange, dora, options, yiaddr)
from mpdhcp.wire.addr import ip4
from mpdhcp.state.journal import Journal
from mpdhcp.slot import KIND_BROADCAST, KIND_UNICAST
from mpdhcp.state import leases4 as L

SID = ip4("192.168.77.1")


def _req(mac, addr, sid=SID, **kw):
    return pkt(3, mac, opts=(opt(50, ip4(addr)), opt(54, sid)), **kw)


def test_discover_gets_offer_from_pool_with_lease_options():
    s = server()
    n, out = exchange(s, pkt(1, MAC1, prl=[1, 3, 6, 15, 26, 119]))
    o = options(out.buf, n)
    assert o[53] == b"\x02"
    assert o[54] == SID
    assert yiaddr(out.buf) == "192.168.77.100"
    assert o[51] == (3600).to_bytes(4, "big")
    assert o[58] == (1000).to_bytes(4, "big") and o[59] == (2000).to_bytes(4, "big")
    assert o[1] == b"\xff\xff\xff\x00"
    assert o[3] == SID
    assert o[26] == (1400).to_bytes(2, "big")
    assert o[119] == b"\x03lan\x00\x07example\x03org\x00"
    assert out.buf[0] == 2 and out.buf[4:8] == b"\x00\x00\x12\x34"


def test_parameter_request_list_order_is_honoured():
    s = server()
    n, out = exchange(s, pkt(1, MAC1, prl=[119, 26, 1]))
    codes = []
    i = 240
    while out.buf[i] != 255:
        codes.append(out.buf[i])
        i += 2 + out.buf[i + 1]
    assert codes.index(119) < codes.index(26)
    assert 26 in codes


def test_unrequested_optional_options_are_not_sent():
    s = server()
    n, out = exchange(s, pkt(1, MAC1, prl=[1, 3]))
    o = options(out.buf, n)
    assert 26 not in o and 119 not in o
    assert 3 in o and 6 in o  # routers and DNS go out even when not asked for


def test_selecting_request_gets_ack_and_lease_is_bound():
    s = server()
    addr, o = dora(s)
    assert addr == "192.168.77.100"
    r = s.leases.find_addr(ip4(addr), 0)
    assert s.leases.state(r) == L.BOUND
    assert s.leases.expiry(r) == 1000 + 3600


def test_returning_client_gets_same_address():
    s = server()
    a1, _ = dora(s, MAC1)
    a2, _ = dora(s, MAC2)
    assert a1 != a2
    again, _ = dora(s, MAC1, now=5000)
    assert again == a1


def test_released_address_returns_to_same_client():
    s = server()
    a1, _ = dora(s, MAC1)
    exchange(s, pkt(7, MAC1, ciaddr=a1, opts=(opt(54, SID),)))
    r = s.leases.find_addr(ip4(a1), 0)
    assert s.leases.state(r) == L.RELEASED
    again, _ = dora(s, MAC1, now=2000)
    assert again == a1


def test_client_id_identifies_client_over_chaddr():
    s = server()
    cid = opt(61, b"\x01abcdef")
    a1, _ = dora(s, MAC1, extra=(cid,))
    a2, _ = dora(s, MAC2, extra=(cid,))  # same client-id, new NIC: same client
    assert a1 == a2


def test_long_client_id_distinguishes_clients():
    s = server()
    base = b"\xff" + b"\x00" * 30
    a1, _ = dora(s, MAC1, extra=(opt(61, base + b"\x01"),))
    a2, _ = dora(s, MAC1, extra=(opt(61, base + b"\x02"),))
    assert a1 != a2


def test_selecting_request_for_other_server_releases_offer():
    s = server()
    n, out = exchange(s, pkt(1, MAC1))
    addr = yiaddr(out.buf)
    n, out = exchange(s, _req(MAC1, addr, sid=ip4("192.168.77.2")))
    assert n == 0
    r = s.leases.find_addr(ip4(addr), 0)
    assert not s.leases.active(r, 1000)


def test_selecting_request_for_address_held_by_other_client_is_nakked():
    s = server()
    a1, _ = dora(s, MAC1)
    n, out = exchange(s, _req(MAC2, a1))
    assert options(out.buf, n)[53] == b"\x06"


def test_init_reboot_known_client_right_address_acked():
    s = server()
    a1, _ = dora(s, MAC1)
    n, out = exchange(s, pkt(3, MAC1, opts=(opt(50, ip4(a1)),)), now=1500)
    assert options(out.buf, n)[53] == b"\x05"
    assert yiaddr(out.buf) == a1


def test_init_reboot_wrong_network_nakked():
    s = server()
    dora(s, MAC1)
    n, out = exchange(s, pkt(3, MAC1, opts=(opt(50, ip4("10.9.9.9")),)))
    o = options(out.buf, n)
    assert o[53] == b"\x06"
    assert out.kind == KIND_BROADCAST
    assert 51 not in o and yiaddr(out.buf) == "0.0.0.0"


def test_init_reboot_known_client_other_address_nakked():
    s = server()
    dora(s, MAC1)
    dora(s, MAC2)
    n, out = exchange(s, pkt(3, MAC1, opts=(opt(50, ip4("192.168.77.101")),)))
    assert options(out.buf, n)[53] == b"\x06"


def test_init_reboot_unknown_client_free_address_acked():
    # the lease file was lost: a client rebooting with a free pool address keeps it
    s = server()
    n, out = exchange(s, pkt(3, MAC1, opts=(opt(50, ip4("192.168.77.105")),)))
    assert options(out.buf, n)[53] == b"\x05"
    assert yiaddr(out.buf) == "192.168.77.105"


def test_init_reboot_unknown_client_outside_pool_silent_unless_authoritative():
    s = server()
    n, out = exchange(s, pkt(3, MAC1, opts=(opt(50, ip4("192.168.77.20")),)))
    assert n == 0
    s2 = server(CONFIG.replace('"valid-lifetime": 3600', '"authoritative": true, "valid-lifetime": 3600'))
    n, out = exchange(s2, pkt(3, MAC1, opts=(opt(50, ip4("192.168.77.20")),)))
    assert options(out.buf, n)[53] == b"\x06"


def test_renewing_extends_lease_and_replies_unicast():
    s = server()
    a1, _ = dora(s, MAC1)
    before = s.journal.n
    n, out = exchange(s, pkt(3, MAC1, ciaddr=a1), now=2800)
    o = options(out.buf, n)
    assert o[53] == b"\x05" and yiaddr(out.buf) == a1
    assert out.kind == KIND_UNICAST and bytes(out.dest[:4]) == ip4(a1) and out.port == 68
    r = s.leases.find_addr(ip4(a1), 0)
    assert s.leases.expiry(r) == 2800 + 3600
    assert s.journal.n - before == 14  # a renewal journals a short state record


def test_rebinding_other_clients_address_nakked():
    s = server()
    a1, _ = dora(s, MAC1)
    n, out = exchange(s, pkt(3, MAC2, ciaddr=a1, flags=0x8000))
    assert options(out.buf, n)[53] == b"\x06"


def test_request_without_ciaddr_or_options_dropped():
    s = server()
    n, out = exchange(s, pkt(3, MAC1))
    assert n == 0 and s.stats["dropped_bad_request"] == 1


def test_decline_holds_address_back_and_client_gets_another():
    s = server()
    a1, _ = dora(s, MAC1)
    exchange(s, pkt(4, MAC1, opts=(opt(50, ip4(a1)), opt(54, SID))))
    r = s.leases.find_addr(ip4(a1), 0)
    assert s.leases.state(r) == L.DECLINED
    assert s.leases.expiry(r) == 1000 + 86400
    a2, _ = dora(s, MAC1)
    assert a2 != a1
    a3, _ = dora(s, MAC2)
    assert a3 != a1


def test_release_by_another_client_ignored():
    s = server()
    a1, _ = dora(s, MAC1)
    exchange(s, pkt(7, MAC2, ciaddr=a1))
    r = s.leases.find_addr(ip4(a1), 0)
    assert s.leases.state(r) == L.BOUND


def test_inform_gets_options_without_lease():
    s = server()
    n, out = exchange(s, pkt(8, MAC1, ciaddr="192.168.77.30", prl=[3, 6, 26]))
    o = options(out.buf, n)
    assert o[53] == b"\x05" and yiaddr(out.buf) == "0.0.0.0"
    assert 51 not in o and 58 not in o and o[26] == (1400).to_bytes(2, "big")
    assert out.kind == KIND_UNICAST and bytes(out.dest[:4]) == ip4("192.168.77.30")
    assert s.leases.used == 0


def test_reservation_wins_over_pool_and_gives_hostname():
    s = server()
    mac = b"\x02\x00\x00\x00\x00\x99"
    n, out = exchange(s, pkt(1, mac, prl=[1, 3, 12]))
    assert yiaddr(out.buf) == "192.168.77.50"
    assert options(out.buf, n)[12] == b"printer"
    # asking for a pool address in INIT-REBOOT moves it to its reserved one
    n, out = exchange(s, pkt(3, mac, opts=(opt(50, ip4("192.168.77.100")),)))
    assert options(out.buf, n)[53] == b"\x06"


def test_reserved_address_not_given_to_others():
    s = server(CONFIG.replace('"ip-address": "192.168.77.50"', '"ip-address": "192.168.77.100"'))
    a, _ = dora(s, MAC1)
    assert a == "192.168.77.101"


def test_hostname_recorded_per_lease():
    s = server()
    a, _ = dora(s, MAC1, extra=(opt(12, b"laptop"),))
    r = s.leases.find_addr(ip4(a), 0)
    assert s.leases.name(r) == b"laptop"


def test_pool_exhaustion_reuses_oldest_expired_then_stays_silent():
    s = server()
    for i in range(10):
        dora(s, bytes([2, 0, 0, 0, 1, i]), now=1000 + i)
    n, out = exchange(s, pkt(1, MAC2), now=1100)
    assert n == 0 and s.stats["pool_exhausted"] == 1
    # all leases expire at 4600..4609: the oldest (first) address goes first
    n, out = exchange(s, pkt(1, MAC2), now=5000)
    assert yiaddr(out.buf) == "192.168.77.100"


def test_relayed_discover_uses_giaddr_subnet_and_replies_to_relay():
    s = server()
    relay_opt = opt(82, opt(1, b"port7") + opt(2, b"sw1"))
    n, out = exchange(s, pkt(1, MAC1, giaddr="10.20.0.1", opts=(relay_opt,)))
    assert yiaddr(out.buf).startswith("10.20.1.")
    assert out.kind == KIND_UNICAST and bytes(out.dest[:4]) == ip4("10.20.0.1") and out.port == 67
    o = options(out.buf, n)
    assert o[82] == relay_opt[2:]
    assert bytes(out.buf[24:28]) == ip4("10.20.0.1")


def test_relay_listed_in_relay_ip_addresses_selects_subnet():
    s = server()
    n, out = exchange(s, pkt(1, MAC1, giaddr="172.16.0.1"))
    assert yiaddr(out.buf).startswith("10.20.1.")


def test_unknown_relay_dropped():
    s = server()
    n, out = exchange(s, pkt(1, MAC1, giaddr="172.31.0.1"))
    assert n == 0 and s.stats["dropped_no_subnet"] == 1


def test_relayed_nak_sets_broadcast_bit():
    s = server()
    n, out = exchange(s, pkt(3, MAC1, giaddr="10.20.0.1", opts=(opt(50, ip4("10.30.0.5")),)))
    assert options(out.buf, n)[53] == b"\x06"
    assert out.buf[10] & 0x80 and bytes(out.dest[:4]) == ip4("10.20.0.1")


def test_broadcast_flag_gives_broadcast_reply():
    s = server()
    n, out = exchange(s, pkt(1, MAC1, flags=0x8000))
    assert out.kind == KIND_BROADCAST and bytes(out.dest[:4]) == b"\xff\xff\xff\xff"


def test_max_message_size_respected_and_long_option_split():
    big = '{"code": 43, "csv-format": false, "always-send": true, "data": "' + "ab" * 400 + '"}'
    cfg = CONFIG.replace('{"name": "interface-mtu", "data": "1400"}', '{"name": "interface-mtu", "data": "1400"}, ' + big)
    s = server(cfg)
    n, out = exchange(s, pkt(1, MAC1, opts=(opt(57, (1500).to_bytes(2, "big")),)))
    o = options(out.buf, n)
    assert o[43] == b"\xab" * 400  # RFC 3396: split into 255 + 145 and rejoined
    assert n <= 1500 - 28
    n, out = exchange(s, pkt(1, MAC1))  # default 576-byte limit: the big option is left out
    assert n <= 548 and 43 not in options(out.buf, n)
    assert options(out.buf, n)[53] == b"\x02"


def test_a_reply_slot_of_reply_room_bytes_holds_the_largest_reply():
    # the runner sizes its slots by reply_room (a v4 router: about 600 bytes, not 1500): the
    # fullest reply (every option asked for, option 57 at 1500, the longest option 82, a
    # reservation's hostname, the 800-byte option split in pieces) comes out the same
    from mpdhcp.slot import Slot
    big = '{"code": 43, "csv-format": false, "always-send": true, "data": "' + "ab" * 400 + '"}'
    cfg = CONFIG.replace('{"name": "interface-mtu", "data": "1400"}', '{"name": "interface-mtu", "data": "1400"}, ' + big)
    relay = opt(82, bytes([1, 253]) + bytes(range(253)))
    for config, mac in ((CONFIG, MAC1), (CONFIG, b"\x02\x00\x00\x00\x00\x99"), (cfg, MAC2)):
        room = server(config).reply_room()
        assert 548 <= room <= 1500
        for mt in (1, 8):
            req = pkt(mt, mac, ciaddr="192.168.77.60" if mt == 8 else None, prl=list(range(1, 255)),
                      opts=(opt(57, (1500).to_bytes(2, "big")), opt(12, b"h" * 63), relay))
            got = []
            for size in (room, 1500):
                out = Slot(size)
                n = server(config).handle(req, len(req), meta(), 1000, out)
                got.append(bytes(out.buf[:n]))
            assert got[0] == got[1] and len(got[0]) > 300, (config == cfg, mt, len(got[0]), room)
    assert server(cfg).reply_room() > 800 > server(CONFIG).reply_room()


def test_overloaded_request_parsed():
    s = server()
    b = pkt(None, MAC1, opts=(opt(52, b"\x01"),))
    b[108] = 53
    b[109] = 1
    b[110] = 1
    b[111] = 255
    n, out = exchange(s, b)
    assert options(out.buf, n)[53] == b"\x02"


def test_journal_replay_restores_leases():
    j = Journal(None)
    s = server(journal=j)
    a1, _ = dora(s, MAC1, extra=(opt(12, b"pc1"),))
    a2, _ = dora(s, MAC2)
    exchange(s, pkt(3, MAC1, ciaddr=a1), now=2000)
    exchange(s, pkt(7, MAC2, ciaddr=a2, opts=(opt(54, SID),)), now=2100)
    j.commit()
    s2 = server(journal=j)
    s2.restore()
    r1 = s2.leases.find_addr(ip4(a1), 0)
    assert s2.leases.state(r1) == L.BOUND and s2.leases.expiry(r1) == 2000 + 3600
    assert s2.leases.name(r1) == b"pc1"
    r2 = s2.leases.find_addr(ip4(a2), 0)
    assert s2.leases.state(r2) == L.RELEASED
    # the restored server gives the same client the same address, and no one else gets it
    again, _ = dora(s2, MAC1, now=2200)
    assert again == a1
    n, out = exchange(s2, pkt(1, b"\x02\x00\x00\x00\x00\x07"), now=2200)
    assert yiaddr(out.buf) not in (a1,)


def test_torn_journal_tail_skipped():
    j = Journal(None)
    s = server(journal=j)
    a1, _ = dora(s, MAC1)
    j.commit()
    whole = len(j.memory)
    dora(s, MAC2)
    j.commit()
    j.memory = j.memory[: whole + 7]  # power cut in the middle of the second record
    s2 = server(journal=j)
    s2.restore()
    assert j.skipped_tail == 7
    assert s2.leases.find_addr(ip4(a1), 0) >= 0
    assert s2.leases.find_addr(ip4("192.168.77.101"), 0) < 0


def test_reused_option_block_follows_the_parameter_list_and_never_carries_a_reserved_name():
    # the server keeps the last reply's encoded lease options for the next client asking the
    # same way; what differs per request or per client must still come out right
    s = server()
    prl_a = [1, 3, 6, 12, 26]
    prl_b = [1, 6, 119]
    seen = []
    for mac, prl in ((b"\x02\x00\x00\x00\x00\x10", prl_a), (b"\x02\x00\x00\x00\x00\x11", prl_a),
                     (b"\x02\x00\x00\x00\x00\x99", prl_a),  # reserved: hostname "printer"
                     (b"\x02\x00\x00\x00\x00\x12", prl_a), (b"\x02\x00\x00\x00\x00\x13", prl_b),
                     (b"\x02\x00\x00\x00\x00\x14", None)):
        n, out = exchange(s, pkt(1, mac, prl=prl))
        o = options(out.buf, n)
        seen.append(o)
        assert o[51] == bytes([0, 0, 14, 16]) and o[58] == bytes([0, 0, 3, 232])  # lease, T1
        assert o[3] == ip4("192.168.77.1") and o[6] == ip4("192.168.77.1") + ip4("9.9.9.9")
    assert seen[0] == seen[1] and s.blk_n > 0  # the second came from the kept block
    assert seen[2][12] == b"printer"
    assert 12 not in seen[3] and seen[3][26] == bytes([5, 120])  # MTU 1400 asked in prl_a
    assert 26 not in seen[4] and 119 in seen[4]  # prl_b: no MTU, domain search
    assert 26 not in seen[5] and 119 not in seen[5] and 3 in seen[5]  # no PRL: the defaults


def test_a_parameter_list_longer_than_the_cache_keeps_is_encoded_each_time():
    # the block is kept only for a list of up to PRL_CACHED codes: a longer one (here 70,
    # the MTU among them) is answered option by option, and is never matched against what
    # the kept list's first 64 codes say
    s = server()
    long_a = list(range(1, 71))  # 26 (MTU) in it
    long_b = list(range(1, 26)) + list(range(27, 72))  # 70 codes, no MTU
    n, out = exchange(s, pkt(1, b"\x02\x00\x00\x00\x00\x30", prl=long_a))
    assert options(out.buf, n)[26] == bytes([5, 120]) and s.blk_n < 0  # nothing kept
    n, out = exchange(s, pkt(1, b"\x02\x00\x00\x00\x00\x31", prl=long_b))
    assert 26 not in options(out.buf, n)
    n, out = exchange(s, pkt(1, b"\x02\x00\x00\x00\x00\x32", prl=[1, 3, 6]))
    assert s.blk_n > 0 and 26 not in options(out.buf, n)


def test_reused_option_block_respects_a_smaller_maximum_message_size():
    s = server()
    prl = list(range(1, 120))
    n, out = exchange(s, pkt(1, b"\x02\x00\x00\x00\x00\x20", prl=prl))
    full = options(out.buf, n)
    # the same PRL with option 57 = 576: the cached block must still fit, or be rebuilt
    n2, out2 = exchange(s, pkt(1, b"\x02\x00\x00\x00\x00\x21", prl=prl, opts=(opt(57, bytes([2, 64])),)))
    assert n2 <= 576 - 28 or n2 == 300
    assert all(k in full for k in options(out2.buf, n2))
