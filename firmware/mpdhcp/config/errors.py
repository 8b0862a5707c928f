# The config error. Kept apart from the parsers (common.py and one module per section) so that
# those can leave the heap once the service has started (config.unload_parsers) while the
# error type stays one class; the checks that raise it are the parsers' (common.py).
from micropython import const


class ConfigError(Exception):
    pass


ENOENT = const(2)  # OSError's errno for a file that is not there (the same on every port)
