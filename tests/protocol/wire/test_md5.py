# wire/md5.py: MD5 (RFC 1321) and HMAC-MD5 (RFC 2104), allocation-free, against the RFCs' vectors.
import micropython
from mpdhcp.wire.md5 import MD5, HMAC_MD5


def test_md5_and_hmac_vectors():
    # RFC 1321 A.5 and RFC 2104 test vectors
    h = MD5()
    d = bytearray(16)
    h.update(b"abc", 0, 3)
    h.digest_into(d, 0)
    assert bytes(d) == bytes.fromhex("900150983cd24fb0d6963f7d28e17f72")
    m = b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
    h.update(m, 0, len(m))
    h.digest_into(d, 0)
    assert bytes(d) == bytes.fromhex("57edf4a22be3c955ac49da2e2107b67a")
    HMAC_MD5().compute(b"\x0b" * 16, 0, 16, b"Hi There", 0, 8, d, 0)
    assert bytes(d) == bytes.fromhex("9294727a3638bb1c13f48ef8158bfc9d")


def test_hmac_allocates_nothing():
    h = HMAC_MD5()
    key = bytes(range(16))
    body = bytes(range(200))
    d = bytearray(16)
    h.compute(key, 0, 16, body, 0, len(body), d, 0)
    first = bytes(d)
    micropython.heap_lock()
    try:
        h.compute(key, 0, 16, body, 0, len(body), d, 0)
    finally:
        micropython.heap_unlock()
    assert bytes(d) == first
