# Heap per DHCPv6 lease, for `python -m host_tools bench` (host_tools/bench6.py), on the Unix port:
#   MICROPYPATH=firmware:tests/protocol:.frozen micropython -X heapsize=16M tests/bench/mp_measure6.py N
# Prints one JSON object: bytes of heap the lease table takes per lease (construction delta /
# capacity), and bytes allocated while N clients each bind an IA_NA and an IA_PD (Solicit with
# Rapid Commit) after construction: the engine allocates nothing per lease.
import gc
import json
import sys

from craft6 import msg, ia_na, ia_pd, opt, meta, SERVER_DUID, SECRET
from mpdhcp.config import parse_doc
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
gc.collect()
a0 = gc.mem_alloc()
s = Server6(cfg, j, 2 * N, SERVER_DUID, SECRET)
gc.collect()
a1 = gc.mem_alloc()
gc.disable()
b0 = gc.mem_alloc()
ok = 0
for p in pkts:
    if s.handle(p, len(p), m, 1000, out) > 0:
        ok += 1
    j.commit()
b1 = gc.mem_alloc()
gc.enable()
print(json.dumps({"leases": 2 * ok, "capacity": 2 * N, "table_bytes": a1 - a0,
                  "bytes_per_lease": (a1 - a0) / (2 * N), "alloc_binding_all": b1 - b0}))
