# The service's heap (the v4 router's, or any config's), split into code and runtime state, for `python -m host_tools bench`
# (host_tools/bench_fit.py, issue "Speed and fit"). Run from a unix build tree (the .mpy a
# board without frozen modules loads), in a namespace that has the config's interfaces:
#   cd BUILD && MICROPYPATH=.:.frozen micropython -X heapsize=H mp_fit.py CONFIG.json
# Prints one JSON object (bytes of heap, gc.mem_alloc deltas after gc.collect):
#   code: the config parsed (parsers dropped again), every module the router runs imported, and
#     the netif (a few hundred bytes of it are the object), less service.py once it is built;
#   state: what service.build adds then, with no socket traffic: tables, buffers, engines,
#     sockets, the reply ring (sized by the heap, as it runs), in parts.
import gc
import json
import sys


def alloc():
    gc.collect()
    return gc.mem_alloc()


def main(path):
    a0 = alloc()
    from mpdhcp import config as configmod
    from mpdhcp import service, runner
    from mpdhcp.platform import netif_unix

    doc = configmod.load(path, service.preload)  # as mpdhcp.__main__ starts: engines' code first
    configmod.unload_parsers()
    del configmod  # the package goes too (service.build drops it, as on a board)
    netif = netif_unix.for_config(doc)  # code: NetifUnix6's module comes with a DHCPv6 config
    a1 = alloc()
    parts = {}

    class Probe(runner.Runner):
        def __init__(self, netif, log=None, ring=True):
            b = alloc()
            runner.Runner.__init__(self, netif, log, ring)
            parts["runner"] = alloc() - b

        def make_ring(self):
            b = alloc()
            runner.Runner.make_ring(self)
            parts["ring"] = alloc() - b

    def measured(name, fn):
        def build(r, cfg, netif):
            b = alloc()
            fn(r, cfg, netif)
            parts[name] = alloc() - b
        return build

    service.Runner = Probe
    service.BUILDERS[:] = [(n, measured(n, fn)) for n, fn in service.BUILDERS]
    b1 = alloc()  # (the probe's own class and closures are neither code nor state)
    r = service.build(doc, netif, None, log=None)
    a2 = alloc()
    service.unload()  # as mpdhcp.__main__ and the boards' main.py: start-up code leaves the heap
    del service
    a3 = alloc()
    res = {"code": a1 - a0 - (a2 - a3), "state": a2 - b1, "ring": r.nring, "parts": parts,
           "heap": gc.mem_alloc() + gc.mem_free()}
    s4 = r.engine("server4")
    if s4 is not None:
        lt = s4.leases
        res["lease_table"] = {"leases": lt.cap, "records": len(lt.recs), "indexes": len(lt.by_key) + len(lt.by_addr),
                              "list_links": len(lt.prv), "arena": len(lt.arena.buf)}
    res["journal_stage"] = [len(j.stage) for j in r.journals]
    r.close()
    print(json.dumps(res))


main(sys.argv[1])
