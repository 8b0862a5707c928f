"""The quick stress campaigns of `python -m host_tools stress --quick`, through the same functions
(host_tools/stress.py), each in its own lab: power cuts while perfdhcp binds, a damaged journal,
a flood against renewing and reserved clients, a short soak. About 70 s in all on a 2-CPU box.
Those need root + the Debian peers (`make peers`) + the Unix port in .venv; otherwise skipped.
The last tests need none of that: how the flood's frames are read against the starvation rule,
the seeded journal mutations, and how the fuzz verb's figures are folded in.
"""
import json
import os
import random
import sys

import pytest

from peerutil import require
from host_tools import stress as S


def _run(fn, lab, *binaries, **kw):
    require(*binaries)
    try:
        return fn(lab, log=None, **kw)
    except S.Skip as e:
        pytest.skip(str(e))


def _clean(res):
    assert not res["violations"], json.dumps(res["violations"][:5], indent=1, default=str)


def test_power_cuts_quick(lab):
    res = _run(S.power_cuts, lab, "perfdhcp", rounds=S.QUICK["rounds"], seed=S.DEFAULT_SEED)
    assert res["rounds_done"] == S.QUICK["rounds"], res
    assert res["acks_seen"] > 0 and res["acks_checked"] > 0, res
    assert res["losses"] == 0 and res["duplicates"] == 0 and res["server_duplicates"] == 0, res
    assert res["clients_with_two_records"] == 0 and res["expiry_regressions"] == 0, res
    _clean(res)


def test_journal_damage_quick(lab):
    res = _run(S.journal_damage, lab, "perfdhcp", mutations=S.QUICK["mutations"], seed=S.DEFAULT_SEED)
    assert res["done"] == res["started"] == S.QUICK["mutations"], res
    assert res["journal_leases"] >= 200, res  # a real journal of a few hundred leases
    assert res["damage_reported"] >= 1 and res["kept_aside"] == res["damage_reported"], res
    assert res["listing_mismatches"] == 0 and res["restart_mismatches"] == 0, res
    _clean(res)


def test_starvation_quick(lab):
    res = _run(S.starvation, lab, "perfdhcp", "udhcpc", "dhclient",
               seconds=S.QUICK["flood_seconds"], rate=S.DEFAULT_RATE, seed=S.DEFAULT_SEED)
    assert res["renewal_requests_total"] > 0, res
    assert res["renewals_answered"] == res["renewal_requests_total"], res["renewers"]
    assert res["reserved_cycles"] >= 1 and res["reserved_failures"] == 0, res
    assert res["server_stats"]["pool_exhausted"] > 0, res  # the flood did exhaust the strangers' share
    # every OFFER sent was captured, so the held-offer order was really checked
    assert res["offers_not_captured"] == 0 and "offer_order_unverified" not in res, res
    assert res["held"], res["violations"]
    _clean(res)


def test_soak_quick(lab):
    res = _run(S.soak, lab, "perfdhcp", seconds=S.QUICK["soak_seconds"], capacity=S.DEFAULT_RATE,
               seed=S.DEFAULT_SEED)
    assert len(res["samples"]) >= 3, res
    c = res["counters"]
    assert c["discover"] >= c["offer"] and c["request"] >= c["ack"] + c["nak"], c
    assert c["leases_used"] <= c["leases_capacity"], c
    assert res["perfdhcp"]["received"].get("ACK", 0) > 0, res["perfdhcp"]
    assert res["journal_size"]["max"] <= res["journal_bound"], res["journal_size"]
    _clean(res)


def test_fuzz_folded_in(tmp_path):
    # the fold-in only: the fuzzing itself is tests/protocol/test_corpus.py's (and `make stress`'s)
    out = str(tmp_path / "fuzz.json")
    figures = {"targets": {"server4": {"inputs": 7, "findings": []},
                           "journal": {"inputs": 5, "findings": [{"signature": "IndexError x"}]}}}
    writer = "import json, sys; json.dump(%r, open(sys.argv[1], 'w')); sys.exit(int(sys.argv[2]))" % figures
    res = S.fuzz(7, out, timeout=60, log=None, argv=[sys.executable, "-c", writer, out, "0"])
    assert res["returncode"] == 0 and res["figures"] == figures and res["violations"] == [], res
    assert S._fuzz_line(res["figures"]) == \
        "journal 5 inputs, 1 finding(s) [IndexError x], server4 7 inputs, 0 finding(s)"
    res = S.fuzz(7, out, timeout=60, log=None, argv=[sys.executable, "-c", writer, out, "1"])
    assert res["returncode"] == 1 and len(res["violations"]) == 1, res
    if not os.path.exists(os.path.join(S.ROOT, "host_tools", "fuzz.py")):
        assert "skipped" in S.fuzz(10, out, log=None)


def test_flood_check_follows_the_rule():
    # no lab needed: the starvation campaign's reading of the flood's OFFER/ACK frames
    def f(t, typ, mac, ip, lease=None):
        return {"t": t, "type": typ, "chaddr": mac, "yiaddr": ip, "lease": lease}
    ok = [f(0, 2, "a", "x"), f(1, 2, "b", "y"),
          f(2, 2, "c", "x"),  # x was the oldest offer held: it may go to c
          f(3, 5, "c", "x", 20),
          f(40, 2, "d", "y")]  # y's hold is over
    assert S.check_flood(ok) == ([], [], 1)
    bad = [f(0, 2, "a", "x"), f(0.1, 5, "a", "x", 20),
           f(5, 2, "b", "x")]  # x is bound to a for 20 s
    taken, newer, _ = S.check_flood(bad)
    assert len(taken) == 1 and taken[0]["bound_to"] == "a" and not newer
    order = [f(0, 2, "a", "x"), f(5, 2, "b", "y"),
             f(6, 2, "c", "y")]  # y went while x, offered 5 s earlier, was still held
    taken, newer, reused = S.check_flood(order)
    assert not taken and len(newer) == 1 and newer[0]["ip"] == "y" and reused == 1


def test_mutations_are_seeded():
    # no lab needed: the journal damage is reproducible from the seed alone
    data = bytes(random.Random(1).randrange(256) for _ in range(10000))
    for kind in ("flip", "truncate", "zero-page"):
        a = S.mutate(data, kind, random.Random("x"))
        b = S.mutate(data, kind, random.Random("x"))
        assert a == b and a[0] != data, kind
    trunc, d = S.mutate(data, "truncate", random.Random(2))
    assert trunc == data[:d["length"]]
    page, d = S.mutate(data, "zero-page", random.Random(3))
    assert page[d["offset"]:d["offset"] + 4096] == bytes(4096)
    assert len(page) == max(len(data), d["offset"] + 4096)
    flipped, d = S.mutate(data, "flip", random.Random(4))
    assert len(flipped) == len(data) and 1 <= len(d["flips"]) <= 3
