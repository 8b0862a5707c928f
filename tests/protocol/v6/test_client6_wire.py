# Mirrors firmware/mpdhcp/v6/client6_wire.py: the fixed part of each IA type, deadlines that
# stay small ints, and the Option Request a client builds (the engine-level behaviour is in
# test_client6.py).
from mpdhcp.v6 import client6_wire as W
from mpdhcp.wire import packet6 as P


def test_ia_fixed_parts():
    assert W._hdr(P.OPT_IA_NA) == W._hdr(P.OPT_IA_PD) == 12 and W._hdr(P.OPT_IA_TA) == 4  # 21.4, 21.5, 21.21


def test_deadlines_stay_below_forever():
    assert W._at(1000, 50) == 1050
    assert W._at(1000, W.FOREVER) == W.FOREVER and W._at(W.FOREVER - 5, 10) == W.FOREVER


def test_oro_adds_a_code_once():
    w = P.Writer6()
    b = bytearray(64)
    w.start(b, 0, 64)
    oro = b"\x00\x17\x00\x52"
    W.Messages6._oro_add(None, w, oro, 82)  # already asked for: nothing added
    W.Messages6._oro_add(None, w, oro, 32)
    assert w.pos == 2 and b[:2] == b"\x00\x20"
