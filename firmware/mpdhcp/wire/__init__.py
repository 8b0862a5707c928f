# wire/: the ground floor. DHCPv4 and DHCPv6 message walkers and writers, option codecs,
# address text forms, HMAC-MD5 and byte helpers: pure functions over buffers, no state.
