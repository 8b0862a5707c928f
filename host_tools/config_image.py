# The config compiled on the host for a board (`build`): the firmware's own parsers run here
# (CPython), a bad config fails the build with its key path, and what they made is written as
# an image (firmware/mpdhcp/config/image.py describes the format and reads it on the board).
import json

from .fwimport import firmware

MODELS = ("mpdhcp.config.model4", "mpdhcp.config.model6")


def compile_text(text):
    """The image of a config text (its file's text). Raises the firmware's ConfigError."""
    firmware()
    from mpdhcp.config.parser import parse_doc
    from mpdhcp.config.image import KIND, VERSION, source_of

    data = text.encode()
    secs = parse_doc(text)
    head = {"image": KIND, "version": VERSION, "sections": list(secs), "sources": [source_of(data)]}
    return "%s\n%s\n" % (json.dumps(head, separators=(",", ":")),
                         json.dumps(dict((k, encode(secs[k])) for k in secs), separators=(",", ":")))


def encode(v):
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, (bytes, bytearray)):
        return {"b": bytes(v).hex()}
    if isinstance(v, tuple):
        return {"t": [encode(x) for x in v]}
    if isinstance(v, list):
        return [encode(x) for x in v]
    if isinstance(v, dict):
        return {"d": [[encode(k), encode(x)] for k, x in v.items()]}
    mod = type(v).__module__
    if mod not in MODELS:
        raise TypeError("config image: cannot encode a %s.%s" % (mod, type(v).__name__))
    return {"c": mod.rsplit(".", 1)[1] + "." + type(v).__name__,
            "a": dict((k, encode(x)) for k, x in sorted(vars(v).items()))}
