# Run a board's main.py (after its boot.py, if the flash has one) under the Unix port on a fake
# port (fakeport.py), then report as one JSON line starting with "@@". Run from the board's
# deploy directory (its "flash"):
#   micropython runboard.py PORT LINKS_JSON FIRMWARE SECONDS
# PORT rp2|esp32; LINKS_JSON {"ap": "ap0", "eth": "eth0", "sta": "wan0=10.99.0.2/24"};
# FIRMWARE stock|mpdhcp; SECONDS: the longest the service runs before the report (a file
# named "stop" in the working directory ends it sooner).
import json
import os
import sys
import time

import fakeport

port = fakeport.install(sys.argv[1], json.loads(sys.argv[2]), sys.argv[3])
seconds = float(sys.argv[4])
g = {"__name__": "__main__"}
error = None
# boot.py (when the test put one on the flash), then main.py, in one namespace, as the ports run
# them (v1.28.0 ports/esp32/main.c:152,162, master :155,165; ports/rp2/main.c:216,226, master
# :237,247)
for script in ("boot.py", "main.py"):
    try:
        src = open(script).read()
    except OSError:
        continue
    try:
        exec(src, g)
    except Exception as e:  # a board's main.py must never raise at start
        error = "%s: %s: %s" % (script, type(e).__name__, e)
from mpdhcp.platform import thread as bg  # noqa: E402

print("@@started")
t = 0
while t < seconds * 10 and not (bg.SERVICE and bg.SERVICE.stopped):
    try:
        os.stat("stop")
        break
    except OSError:
        pass
    time.sleep(0.1)
    t += 1
st = bg.status()
served = []
if bg.SERVICE is not None:
    for m in bg.SERVICE.runner.netif.metas:
        served.append(m.ifname)
eng = bg.SERVICE.runner.engine("server4") if bg.SERVICE else None
report = {"error": error, "status": st, "served": served, "log": port.log, "lines": bg.log_lines(),
          "nics": [[n.kind, n.up] for n in port.nics],
          "pcbs": [[type(p).__name__, p.addr, p.port] for p in port.pcbs],
          "stats": dict(eng.stats) if eng else None,
          "guard_dropped": bg.SERVICE.runner.netif.guard_dropped if bg.SERVICE else None}
bg.stop()
print("@@" + json.dumps(report))
