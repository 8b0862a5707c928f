# v4/: the DHCPv4 engines (server4, client4), sans-I/O on the engine contract of
# docs/engines.md. They import wire/ and state/ only, never a platform module.
