# v6/: the DHCPv6 engines: server6 and the Reconfigure sender it holds (reconfigure6). Sans-I/O,
# importing wire/ and state/ only.
