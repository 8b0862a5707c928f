# Hostile and broken DHCPv4 datagrams fed to one Server4 (RFC 2131 2, RFC 2132, RFC 3396):
# every malformed packet is dropped (handle returns 0), counted once under dropped_malformed
# and once under its reason, and a valid DISCOVER still gets an OFFER after each batch.
# Plain test_* functions: runs under CPython pytest and under MicroPython (tests/mprun.py).
from craft4 import pkt, opt, server, meta, options, yiaddr, MAC1
from mpdhcp.slot import Slot
from mpdhcp.wire.packet4 import BAD_NAMES

COOKIE = b"\x63\x82\x53\x63"
MAC_ALIVE = b"\x02\x00\x00\x00\xaa\x01"
NOW = 1000


def _setup():
    return server(), meta(), Slot()


def _header(op=1, htype=1, hlen=6, mac=MAC1, xid=0x4242, cookie=COOKIE):
    """The 240 fixed bytes of a request (no options)."""
    b = bytearray(240)
    b[0] = op
    b[1] = htype
    b[2] = hlen
    b[4:8] = xid.to_bytes(4, "big")
    b[28:34] = mac
    b[236:240] = cookie
    return b


def _bad_total(st):
    t = 0
    for k in BAD_NAMES[1:]:
        t += st[k]
    return t


def _drop(s, m, out, b, reason, what, n=None):
    """b must be dropped as malformed for `reason`: exactly one count there, one in total."""
    if n is None:
        n = len(b)
    st = s.stats
    mal = st["dropped_malformed"]
    r = st[reason]
    bad = _bad_total(st)
    typ = st["dropped_type"]
    got = s.handle(b, n, m, NOW, out)
    assert got == 0, "%s: replied (%d bytes)" % (what, got)
    assert st["dropped_malformed"] == mal + 1, "%s: dropped_malformed %d -> %d" % (what, mal, st["dropped_malformed"])
    assert st[reason] == r + 1, "%s: %s not counted (%s)" % (what, reason, _reasons(st))
    assert _bad_total(st) == bad + 1, "%s: counted under more than one reason" % what
    assert st["dropped_type"] == typ, what


def _reasons(st):
    return ", ".join("%s=%d" % (k, st[k]) for k in BAD_NAMES[1:])


def _accept(s, m, out, b, what, n=None, mtype=2):
    """b is a legitimate request: answered with message type mtype; returns its options."""
    if n is None:
        n = len(b)
    mal = s.stats["dropped_malformed"]
    got = s.handle(b, n, m, NOW, out)
    assert s.stats["dropped_malformed"] == mal, "%s: refused as %s" % (what, _reasons(s.stats))
    assert got > 0, "%s: no reply" % what
    _well_formed(out.buf, got, b, what)
    o = options(out.buf, got)
    assert o[53] == bytes([mtype]), "%s: answered with %r" % (what, o.get(53))
    return o


def _well_formed(r, n, rx, what):
    assert 300 <= n <= len(r), "%s: reply length %d" % (what, n)
    assert r[0] == 2, "%s: reply op %d" % (what, r[0])
    assert r[236:240] == COOKIE, "%s: reply without the magic cookie" % what
    assert r[4:8] == rx[4:8], "%s: xid not echoed" % what
    i = 240
    while i < n and r[i] != 255:  # the reply's own options must be walkable to END
        if r[i] == 0:
            i += 1
            continue
        assert i + 1 < n and i + 2 + r[i + 1] <= n, "%s: reply option at %d overruns" % (what, i)
        i += 2 + r[i + 1]
    assert i < n and r[i] == 255, "%s: reply without END" % what
    t = options(r, n).get(53)
    assert t is not None and len(t) == 1 and t[0] in (2, 5, 6), "%s: reply type %r" % (what, t)


_alive_xid = [0x7000]


def _alive(s, m, out, what, now=NOW):
    """The service still answers: a fresh valid DISCOVER gets an OFFER from the pool."""
    _alive_xid[0] += 1
    b = pkt(1, MAC_ALIVE, xid=_alive_xid[0], prl=[1, 3, 6])
    n = s.handle(b, len(b), m, now, out)
    assert n > 0, "after %s: valid DISCOVER got no OFFER" % what
    _well_formed(out.buf, n, b, "alive after " + what)
    assert options(out.buf, n)[53] == b"\x02", what
    assert yiaddr(out.buf).startswith("192.168.77.1"), yiaddr(out.buf)


# -- truncation ------------------------------------------------------------------------------


def test_truncated_at_every_header_length():
    s, m, out = _setup()
    base = pkt(1, prl=[1, 3, 6])
    for n in range(240):
        _drop(s, m, out, bytes(base[:n]), "short", "datagram of %d bytes" % n)
        _drop(s, m, out, base, "short", "n=%d of a longer buffer" % n, n)
    assert s.stats["dropped_malformed"] == 480
    _alive(s, m, out, "truncated headers")


def _full_request():
    b = _header()
    b += opt(53, [1]) + opt(55, [1, 3, 6, 26]) + opt(61, b"\x01" + MAC1) + opt(12, b"host") + opt(57, [2, 64])
    b.append(255)
    return b


def _boundaries(b):
    """Offsets where an option starts (a packet cut there is whole, only missing END)."""
    out = []
    i = 240
    while b[i] != 255:
        out.append(i)
        i += 2 + b[i + 1]
    out.append(i)
    return out


def test_truncated_options():
    s, m, out = _setup()
    full = _full_request()
    whole = _boundaries(full)
    dropped = 0
    for n in range(241, len(full) + 1):
        what = "options cut at %d" % n
        if n in whole or n == len(full):
            _accept(s, m, out, bytes(full[:n]), what)  # ends on an option boundary: no END needed
        else:
            _drop(s, m, out, bytes(full[:n]), "option_overrun", what)
            _drop(s, m, out, full, "option_overrun", what + " (n of a longer buffer)", n)
            dropped += 2
    assert dropped > 40
    _alive(s, m, out, "truncated options")


# -- header and cookie ---------------------------------------------------------------------


def test_bad_header_fields():
    s, m, out = _setup()
    for op in (0, 2, 3, 255):
        _drop(s, m, out, pkt(1, op=op), "header", "op=%d" % op)
    _drop(s, m, out, pkt(2, op=2), "header", "an OFFER (op=2) seen by the server")
    for htype in (0, 6, 2, 32):
        _drop(s, m, out, pkt(1, htype=htype), "header", "htype=%d" % htype)
    for hlen in (0, 7, 16, 5, 255):
        _drop(s, m, out, pkt(1, hlen=hlen), "header", "hlen=%d" % hlen)
    _alive(s, m, out, "bad headers")


def test_bad_cookie():
    # under the 300 bytes of RFC 951 a request without the RFC 1048 cookie is malformed; at 300
    # or more it is BOOTP whose vend area holds no options (answered only where BOOTP is served)
    s, m, out = _setup()

    def short(c):
        return bytes(pkt(1, cookie=c))[:299]
    _drop(s, m, out, short(b"\x00\x00\x00\x00"), "cookie", "no cookie")
    _drop(s, m, out, short(b"\x63\x53\x82\x63"), "cookie", "swapped cookie")
    for i in range(4):
        for delta in (1, 0x80, 0xFF):
            c = bytearray(COOKIE)
            c[i] ^= delta
            _drop(s, m, out, short(bytes(c)), "cookie", "cookie byte %d ^ %d" % (i, delta))
    b = _header(cookie=b"\x00\x00\x00\x00") + COOKIE + opt(53, [1]) + b"\xff"  # cookie 4 bytes late
    _drop(s, m, out, b, "cookie", "shifted cookie")
    _drop(s, m, out, _header(cookie=b"RFC1"), "cookie", "240 bytes, wrong cookie")
    st = s.stats
    full = pkt(1, cookie=b"\x00\x00\x00\x00")
    assert len(full) >= 300 and s.handle(full, len(full), m, NOW, out) == 0
    assert st["dropped_bootp"] == 1 and st["bootp"] == 1  # no reservation, no dynamic-bootp here
    _alive(s, m, out, "bad cookies")


# -- options running past their area ----------------------------------------------------------


def test_option_overrun_in_options_field():
    s, m, out = _setup()
    b = pkt(1, opts=(b"\x0c\xff" + b"x" * 8,), end=False)  # 255 bytes claimed, the datagram is 300
    _drop(s, m, out, b, "option_overrun", "hostname length 255 in a 300-byte datagram")
    for code in (1, 12, 43, 55, 61, 82, 200, 254):
        for ln in (1, 4, 60, 255):
            for short in (1, 2):
                if short > ln:
                    continue
                b = _header() + opt(53, [1]) + bytes([code, ln]) + b"\x01" * (ln - short)
                _drop(s, m, out, b, "option_overrun", "option %d len %d short by %d" % (code, ln, short))
        b = _header() + opt(53, [1]) + bytes([code])  # a code byte with no length byte
        _drop(s, m, out, b, "option_overrun", "option %d without its length byte" % code)
    b = _header() + bytes([53])
    _drop(s, m, out, b, "option_overrun", "lone 53")
    b = _header() + b"\x00" * 20 + bytes([53, 1])
    _drop(s, m, out, b, "option_overrun", "53 after padding, no data")
    _alive(s, m, out, "overrunning options")


def _overloaded(ov, file=b"", sname=b"", main=None):
    """A request with option 52 = ov and the given file and sname areas."""
    b = _header()
    f = bytearray(128)
    f[: len(file)] = file
    n = bytearray(64)
    n[: len(sname)] = sname
    b[108:236] = f
    b[44:108] = n
    if main is None:
        main = opt(53, [1])
    b += main + opt(52, [ov]) + b"\xff"
    while len(b) < 300:
        b.append(0)
    return b


def test_option_overrun_in_file_and_sname():
    s, m, out = _setup()
    # exactly filling the area is fine; one byte more runs into the next field
    _accept(s, m, out, _overloaded(1, file=b"\x0c\x7e" + b"f" * 126), "file filled exactly")
    _drop(s, m, out, _overloaded(1, file=b"\x0c\x7f" + b"f" * 126), "option_overrun", "file option into the cookie")
    _accept(s, m, out, _overloaded(2, sname=b"\x0c\x3e" + b"s" * 62), "sname filled exactly")
    _drop(s, m, out, _overloaded(2, sname=b"\x0c\x3f" + b"s" * 62), "option_overrun", "sname option into file")
    _drop(s, m, out, _overloaded(3, sname=b"\x0c\x3f" + b"s" * 62), "option_overrun", "sname overrun, overload 3")
    _drop(s, m, out, _overloaded(3, file=b"\x0c\xff"), "option_overrun", "file overrun, overload 3")
    _drop(s, m, out, _overloaded(1, file=b"\x00" * 127 + b"\x0c"), "option_overrun", "file ends on a code byte")
    _drop(s, m, out, _overloaded(2, sname=b"\x00" * 63 + b"\x0c"), "option_overrun", "sname ends on a code byte")
    _drop(s, m, out, _overloaded(1, file=b"\x34\xff"), "option_overrun", "52 in file overrunning")
    for ln in (127, 128, 200, 255):
        _drop(s, m, out, _overloaded(1, file=bytes([43, ln])), "option_overrun", "file option len %d" % ln)
    for ln in (63, 64, 100, 255):
        _drop(s, m, out, _overloaded(2, sname=bytes([43, ln])), "option_overrun", "sname option len %d" % ln)
    _alive(s, m, out, "overrunning file/sname")


# -- option overload (52) -------------------------------------------------------------------------


def test_overload_bad_values():
    s, m, out = _setup()
    for v in (0, 4, 5, 128, 255):
        _drop(s, m, out, pkt(1, opts=(opt(52, [v]),)), "overload", "overload=%d" % v)
    _drop(s, m, out, pkt(1, opts=(opt(52, [1, 1]),)), "overload", "overload length 2")
    _drop(s, m, out, pkt(1, opts=(opt(52, [0, 3]),)), "overload", "overload length 2 (0, 3)")
    _drop(s, m, out, pkt(1, opts=(opt(52, []),)), "overload", "overload length 0")
    _drop(s, m, out, pkt(1, opts=(opt(52, [1]), opt(52, [1]))), "overload", "overload twice")
    _drop(s, m, out, pkt(1, opts=(opt(52, [1]), opt(52, [2]))), "overload", "overload twice, 1 then 2")
    _drop(s, m, out, pkt(1, opts=(opt(52, [3]), opt(52, [4]))), "overload", "overload 3 then 4")
    _alive(s, m, out, "bad overload")


def test_overload_inside_file_or_sname_is_ignored():
    # RFC 2131 4.1: option 52 only counts in the options field. An instance in file/sname that
    # points back must neither loop nor widen the walk: the other area holds garbage that
    # would overrun if it were walked.
    s, m, out = _setup()
    junk_s = b"\x0c\xff"
    junk_f = b"\x0c\xff"
    _accept(s, m, out, _overloaded(1, file=opt(52, [3]) + opt(53, [1]) + b"\xff", sname=junk_s, main=b""), "52=3 in file")
    _accept(s, m, out, _overloaded(1, file=opt(52, [2]) + b"\xff", sname=junk_s), "52=2 in file")
    _accept(s, m, out, _overloaded(2, sname=opt(52, [1]) + b"\xff", file=junk_f), "52=1 in sname")
    _accept(s, m, out, _overloaded(2, sname=opt(52, [3]) + b"\xff", file=junk_f), "52=3 in sname")
    _accept(s, m, out, _overloaded(3, file=opt(52, [3]) + b"\xff", sname=opt(52, [3]) + b"\xff"), "52=3 in both")
    # bad values there are ignored too (not walked as overload at all)
    for v in (b"", b"\x00", b"\x04", b"\x01\x02", b"\xff"):
        _accept(s, m, out, _overloaded(1, file=opt(52, v) + b"\xff", sname=junk_s), "52=%r in file" % v)
    _alive(s, m, out, "overload loops")


# -- critical options: fixed length, at most once ---------------------------------------------


def test_critical_options():
    s, m, out = _setup()
    a = [192, 168, 77, 100]
    sid = [192, 168, 77, 1]
    cases = (
        ("53 length 0", (opt(53, []),)),
        ("53 length 2", (opt(53, [1, 1]),)),
        ("53 length 3", (opt(53, [3, 0, 0]),)),
        ("53 twice", (opt(53, [1]), opt(53, [1]))),
        ("53 twice, 1 then 3", (opt(53, [1]), opt(53, [3]))),
        ("54 twice", (opt(53, [3]), opt(54, sid), opt(54, sid), opt(50, a))),
        ("54 length 3", (opt(53, [3]), opt(54, sid[:3]), opt(50, a))),
        ("54 length 5", (opt(53, [3]), opt(54, sid + [0]), opt(50, a))),
        ("54 length 0", (opt(53, [3]), opt(54, []), opt(50, a))),
        ("50 twice", (opt(53, [3]), opt(54, sid), opt(50, a), opt(50, a))),
        ("50 length 3", (opt(53, [3]), opt(54, sid), opt(50, a[:3]))),
        ("50 length 0", (opt(53, [3]), opt(50, []))),
        ("50 length 8", (opt(53, [1]), opt(50, a + a))),
        ("57 length 1", (opt(53, [1]), opt(57, [2]))),
        ("57 twice", (opt(53, [1]), opt(57, [2, 64]), opt(57, [2, 64]))),
        ("61 length 0", (opt(53, [1]), opt(61, []))),
        ("61 length 1", (opt(53, [1]), opt(61, [1]))),
    )
    for what, opts in cases:
        _drop(s, m, out, pkt(None, opts=opts), "critical_option", what)
    # a repeat across areas is still a repeat
    _drop(s, m, out, _overloaded(1, file=opt(53, [1]) + b"\xff"), "critical_option", "53 in options and file")
    _drop(s, m, out, _overloaded(3, file=opt(53, [1]) + b"\xff", sname=opt(53, [1]) + b"\xff", main=b""),
          "critical_option", "53 in file and sname")
    _drop(s, m, out, _overloaded(2, sname=opt(54, [1, 2, 3]) + b"\xff"), "critical_option", "54 length 3 in sname")
    _alive(s, m, out, "critical options")


def test_too_many_instances():
    # 256 instances of one option: the per-code counter would wrap; refused
    s, m, out = _setup()
    b = _header() + opt(53, [1]) + b"\x0c\x00" * 256 + b"\xff"
    _drop(s, m, out, b, "option_overrun", "256 instances of option 12")
    b = _header() + opt(53, [1]) + b"\x0c\x00" * 255 + b"\xff"
    _accept(s, m, out, b, "255 instances of option 12")
    _alive(s, m, out, "many instances")


# -- size ---------------------------------------------------------------------------------------


def test_oversize():
    s, m, out = _setup()
    b = pkt(1)
    while len(b) < 1500:
        b.append(0)
    _accept(s, m, out, b, "1500-byte datagram")
    for size in (1501, 1502, 2048, 4000):
        while len(b) < size:
            b.append(0)
        _drop(s, m, out, b, "oversize", "%d-byte datagram" % size)
    _drop(s, m, out, bytearray(4000), "oversize", "4000 zero bytes")  # size before header
    _alive(s, m, out, "oversize")


# -- message types ----------------------------------------------------------------------------


def test_unknown_message_type_counted_as_type():
    s, m, out = _setup()
    st = s.stats
    cases = [(t, pkt(t)) for t in (9, 13, 18, 255, 0, 2, 5, 6)]  # unknown, or server-only
    for t, b in cases:
        mal = st["dropped_malformed"]
        typ = st["dropped_type"]
        assert s.handle(b, len(b), m, NOW, out) == 0, t
        assert st["dropped_type"] == typ + 1, t
        assert st["dropped_malformed"] == mal, t
    assert st["dropped_type"] == 8
    b = pkt(None)  # no message type at all: BOOTP, not served to strangers here
    assert s.handle(b, len(b), m, NOW, out) == 0 and st["dropped_bootp"] == 1 and st["dropped_type"] == 8
    _alive(s, m, out, "unknown types")


# -- legitimate edge cases that must be accepted ---------------------------------------------------


def test_options_without_end_running_to_the_end():
    s, m, out = _setup()
    b = _header() + opt(53, [1]) + opt(55, [1, 3, 26])
    o = _accept(s, m, out, b, "no END, no padding")
    assert o[26] == b"\x05\x78", o  # interface-mtu only goes out when asked: the PRL was read
    b = _header() + opt(53, [1]) + opt(55, [26]) + b"\x00\x00\x00"
    _accept(s, m, out, b, "no END, trailing PAD")


def test_pad_padding():
    s, m, out = _setup()
    b = _header() + b"\x00" * 7 + opt(53, [1]) + b"\x00" + opt(55, [26, 119]) + b"\x00" * 30 + b"\xff"
    b += b"\x00" * 200
    o = _accept(s, m, out, b, "PAD before, between and after options")
    assert 26 in o and 119 in o, o
    b = _header() + opt(53, [1]) + b"\xff" + b"\x0c\xff"  # bytes after END are not options
    _accept(s, m, out, b, "junk after END")


def test_overload_message_type_in_file_or_sname():
    s, m, out = _setup()
    o = _accept(s, m, out, _overloaded(1, file=opt(53, [1]) + opt(55, [26]) + b"\xff", main=b""), "53 in file")
    assert 26 in o
    o = _accept(s, m, out, _overloaded(2, sname=opt(53, [1]) + opt(55, [119]) + b"\xff", main=b""), "53 in sname")
    assert 119 in o
    o = _accept(s, m, out, _overloaded(3, file=opt(55, [26, 119]) + b"\xff", sname=opt(53, [1]) + b"\xff", main=b""),
                "53 in sname, 55 in file")
    assert 26 in o and 119 in o
    # no END inside the areas: the area end closes them
    _accept(s, m, out, _overloaded(1, file=b"\x00" * 125 + opt(53, [1]), main=b""), "53 at the end of file")
    # a whole SELECTING REQUEST with its critical options in file and sname
    n = s.handle(pkt(1, MAC1), 300, m, NOW, out)
    offered = bytes(out.buf[16:20])
    assert n > 0
    req = _overloaded(3, file=opt(53, [3]) + opt(50, offered) + b"\xff", sname=opt(54, [192, 168, 77, 1]) + b"\xff",
                      main=b"")
    _accept(s, m, out, req, "REQUEST in file/sname", mtype=5)
    assert bytes(out.buf[16:20]) == offered


def test_split_parameter_request_list():
    # RFC 3396: several instances of 55 are one list, in order, even across areas
    s, m, out = _setup()
    o = _accept(s, m, out, pkt(1, opts=(opt(55, [1, 3]),)), "55 once")
    assert 26 not in o and 119 not in o
    o = _accept(s, m, out, pkt(1, opts=(opt(55, [1, 3]), opt(12, b"h"), opt(55, [26, 119]))), "55 split")
    assert 26 in o and 119 in o, o
    o = _accept(s, m, out, _overloaded(1, main=opt(53, [1]) + opt(55, [1]), file=opt(55, [26]) + b"\xff"),
                "55 split into file")
    assert 26 in o, o


def test_split_client_id_is_one_key():
    s, m, out = _setup()
    cid = b"\xff" + b"client-identifier-" * 3
    n = s.handle(pkt(1, MAC1, opts=(opt(61, cid),)), 300, m, NOW, out)
    assert n > 0
    first = yiaddr(out.buf)
    b = pkt(1, b"\x02\x00\x00\x00\x00\x77", opts=(opt(61, cid[:10]), opt(61, cid[10:])))
    n = s.handle(b, len(b), m, NOW, out)
    assert n > 0 and yiaddr(out.buf) == first, (first, yiaddr(out.buf))


# -- deterministic garbage -----------------------------------------------------------------------


def _lcg(st):
    """A 20-bit LCG (full period: c odd, a - 1 divisible by 4) whose product stays below
    2**30, so 32-bit MicroPython computes it in small ints: the same numbers everywhere.
    Returns its top 15 bits."""
    st[0] = (st[0] * 1021 + 12345) & 0xFFFFF
    return st[0] >> 5


def _byte(st):
    return _lcg(st) >> 7  # the top 8 bits: the low bits of an LCG repeat quickly


def _noise(st, n):
    b = bytearray(n)
    for i in range(n):
        b[i] = _byte(st)
    return b


def test_lcg_is_deterministic():
    st = [1]
    acc = 0
    for _ in range(1000):
        acc = (acc * 31 + _lcg(st)) & 0xFFFFFF
    assert acc == LCG_CHECK, acc


LCG_CHECK = 7959094  # computed under CPython: the same value must come out under MicroPython


def test_random_garbage_is_malformed():
    s, m, out = _setup()
    st = [20240501]
    for k in range(200):
        n = _lcg(st) % 700
        b = _noise(st, n)
        if k % 4 == 1 and n >= 3:  # some start like a request, to get past the first check
            b[0] = 1
            b[1] = 1
            b[2] = 6
        st_ = s.stats
        mal = st_["dropped_malformed"]
        bad = _bad_total(st_)
        boot = st_["dropped_bootp"] + st_["dropped_no_subnet"]
        got = s.handle(b, n, m, NOW, out)
        assert got == 0, "garbage %d replied" % k
        if n >= 300 and bytes(b[:3]) == b"\x01\x01\x06" and bytes(b[236:240]) != COOKIE:
            assert st_["dropped_bootp"] + st_["dropped_no_subnet"] == boot + 1, "garbage %d: BOOTP, not served" % k
            continue
        assert st_["dropped_malformed"] == mal + 1 and _bad_total(st_) == bad + 1, "garbage %d not counted" % k
        if k % 25 == 0:
            _alive(s, m, out, "garbage %d" % k)
    _alive(s, m, out, "garbage")


def _sane(s, m, out, b, n, now, what):
    """Weak rule for mutated packets: never raise; no reply or a well-formed reply."""
    try:
        got = s.handle(b, n, m, now, out)
    except Exception as e:
        raise AssertionError("%s raised %r on %s" % (what, e, _hex(b[:n])))
    if got:
        _well_formed(out.buf, got, b, what)
    return got


def _hex(b):
    return "".join("%02x" % x for x in b)


_CODES = (0, 1, 3, 12, 50, 51, 52, 53, 54, 55, 57, 61, 82, 119, 255)


def _random_options(st):
    """A run of mostly well-framed options with random codes, lengths and data."""
    b = bytearray()
    for _ in range(1 + _lcg(st) % 8):
        r = _lcg(st)
        code = _CODES[r % len(_CODES)] if r & 16 else r >> 7 & 255
        if code == 0 or code == 255:
            b.append(code)
            continue
        ln = _byte(st) if r & 0x1060 == 0x1060 else _lcg(st) % 7  # sometimes far too long
        b.append(code)
        b.append(ln)
        b += _noise(st, ln if r & 0x780 else ln - ln // 4)  # sometimes short
    return b


def test_random_options_after_valid_header():
    s, m, out = _setup()
    st = [777]
    answered = 0
    for k in range(300):
        b = _header(mac=bytes([2, 0, 0, 1, k >> 8, k & 255]), xid=k)
        if k % 3:
            b += opt(53, [1 + _lcg(st) % 8])
        if k % 5 == 0:
            b += _noise(st, _lcg(st) % 120)
        else:
            b += _random_options(st)
        if _sane(s, m, out, b, len(b), NOW, "random options %d" % k):
            answered += 1
        if k % 50 == 49:
            _alive(s, m, out, "random options %d" % k)
    assert answered > 0  # some stay valid, and are answered
    _alive(s, m, out, "random options")


def _valid_requests():
    sid = [192, 168, 77, 1]
    a = [192, 168, 77, 101]
    return (
        pkt(1, prl=[1, 3, 6, 12, 15, 26, 119], opts=(opt(61, b"\x01" + MAC1), opt(12, b"laptop"), opt(57, [5, 220]))),
        pkt(3, opts=(opt(54, sid), opt(50, a), opt(12, b"laptop")), prl=[1, 3, 6]),
        pkt(3, ciaddr="192.168.77.101", prl=[1, 3]),
        pkt(8, ciaddr="192.168.77.30", prl=[6, 15]),
        pkt(1, giaddr="172.16.0.1", opts=(opt(82, b"\x01\x04ab12\x02\x02xy"),)),
        _overloaded(3, file=opt(53, [1]) + opt(55, [26]) + b"\xff", sname=opt(12, b"sn") + b"\xff", main=b""),
    )


def test_random_mutations_of_valid_packets():
    s, m, out = _setup()
    bases = _valid_requests()
    st = [4242]
    answered = 0
    now = NOW
    for k in range(300):
        base = bases[k % len(bases)]
        b = bytearray(base)
        flips = 1 + _lcg(st) % 6
        for _ in range(flips):
            r = _lcg(st)
            pos = r % len(b)
            if r & 1:  # bias towards the options, where the walker works
                pos = 236 + r % (len(b) - 236)
            b[pos] = _byte(st)
        n = len(b)
        if k % 7 == 0:
            n -= _lcg(st) % 60  # and cut some short
        now += 7
        if _sane(s, m, out, b, n, now, "mutation %d" % k):
            answered += 1
        if k % 50 == 49:
            _alive(s, m, out, "mutation %d" % k, now)
    assert answered > 0
    _alive(s, m, out, "mutations", now)
