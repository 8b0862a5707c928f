# The config error and the two checks everything else is built on. Kept apart from the
# parsers (common.py and one module per section) so that those can leave the heap once the
# service has started (config.unload_parsers) while the error type stays one class.


class ConfigError(Exception):
    pass


ENOENT = 2  # OSError's errno for a file that is not there (the same on every port)


def _fail(path, msg):
    raise ConfigError(path + ": " + msg)


def _want(path, v, typ, name):
    if typ is int and isinstance(v, bool) or not isinstance(v, typ):
        _fail(path, "expected " + name + ", got " + _tname(v))
    return v


def _tname(v):
    if isinstance(v, bool):
        return "boolean"
    return {int: "integer", str: "string", list: "list", dict: "map", float: "number"}.get(type(v), "null")
