# Heap per DHCPv6 lease, for `python -m host_tools bench` (host_tools/bench6.py), on the Unix port:
#   MICROPYPATH=firmware:tests/protocol:.frozen micropython -X heapsize=16M tests/bench/mp_measure6.py N
# Prints one JSON object: bytes of heap the lease table takes per lease with the table full
# (N clients each bound an IA_NA and an IA_PD by a Solicit with Rapid Commit, then a collection:
# the server's heap then, less before it was built, over its capacity; the clients' DUIDs are in
# the table's growing arena, so it is counted full), and bytes allocated while they were bound:
# the engine allocates nothing per lease. The arena grows between runner steps (spare, every 16
# clients here, as a runner with a 16-slot ring does), counted apart as spare_bytes.
# marginal_per_lease: the same heap at N less at N/4, over the leases between (the server's
# fixed part left out, as mp_measure.py's heap_per_lease does for DHCPv4).
import gc
import json
import sys

from craft6 import msg, ia_na, ia_pd, opt, meta, SERVER_DUID, SECRET
from mpdhcp.config.parser import parse_doc
from mpdhcp.v6.server6 import Server6
from mpdhcp.slot import Slot
from mpdhcp.state.journal import Journal

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
CONFIG = """{"Dhcp6": {"interfaces-config": {"interfaces": ["s0"]}, "rapid-commit": true,
  "subnet6": [{"id": 1, "subnet": "2001:db8:1::/64", "interface": "s0",
    "pools": [{"pool": "2001:db8:1::/80"}],
    "pd-pools": [{"prefix": "2001:db8:8000::", "prefix-len": 36, "delegated-len": 56}]}]}}"""


class NullJournal(Journal):
    def commit(self):  # drop staged bytes: measure the engine, not a growing memory journal
        self.n = 0
        return 0


cfg = parse_doc(CONFIG).get("Dhcp6")
j = NullJournal(None)
m = meta()
out = Slot()
pkts = []
for i in range(N):
    cid = bytes([0, 3, 0, 1, 2, 0, (i >> 16) & 255, (i >> 8) & 255, i & 255, 1])
    pkts.append(msg(1, (ia_na(1), ia_pd(2), opt(14, b"")), cid=cid))


def full(n):
    """A server for n clients (2n leases), every one bound: (heap it holds empty, heap it
    holds full, leases bound, bytes allocated binding, bytes spare() allocated)."""
    gc.collect()
    a0 = gc.mem_alloc()
    s = Server6(cfg, j, 2 * n, SERVER_DUID, SECRET)
    gc.collect()
    a1 = gc.mem_alloc()
    gc.disable()
    ok = 0
    alloc = 0
    spared = 0
    i = 0
    while i < n:
        if i % 16 == 0:  # between runner steps (heap unlocked): room for the next step's clients
            b0 = gc.mem_alloc()
            s.spare(16)
            spared += gc.mem_alloc() - b0
        p = pkts[i]
        b0 = gc.mem_alloc()
        if s.handle(p, len(p), m, 1000, out) > 0:
            ok += 1
        j.commit()
        alloc += gc.mem_alloc() - b0
        i += 1
    gc.enable()
    gc.collect()
    a2 = gc.mem_alloc()
    return a1 - a0, a2 - a0, 2 * ok, alloc, spared


q = N // 4 or 1
small = full(q)[1]  # the server itself, full at a quarter of N: what the marginal figure subtracts
empty, table, leases, alloc, spared = full(N)
print(json.dumps({"leases": leases, "capacity": 2 * N, "table_bytes": table, "empty_bytes": empty,
                  "bytes_per_lease": table / (2 * N), "alloc_binding_all": alloc, "spare_bytes": spared,
                  "marginal_per_lease": (table - small) / (2 * (N - q)) if N > q else None}))
