# Control socket for Linux (Kea's "control-socket" with socket-type unix): one JSON command
# per connection, e.g. {"command": "lease4-get-all"}, answered with one JSON reply (lease
# listings written lease by lease). Commands come from console.COMMANDS.
#
# It never holds up DHCP: every socket is non-blocking and served from the runner's poll, a
# request may be at most MAX_REQUEST bytes, at most MAX_CONN connections are open (a new one
# closes the oldest), and a connection that makes no progress for IDLE seconds (a request sent
# a byte at a time, a reader that never reads) is closed. The socket is created mode 0600 in
# a private folder and moved into place, so only its owner (root, for the service) can
# connect whatever the umask; a stale socket is replaced, anything else at the path is left
# alone and the start refused.
import json
import os
import socket
import struct
from .. import console

MAX_CONN = 8
MAX_REQUEST = 65536
IDLE = 5  # seconds without progress before a connection is closed
_S_IFMT = 0o170000
_S_IFSOCK = 0o140000


def _mode(path):
    try:
        return os.stat(path)[0]
    except OSError:
        return None


def _sh(path):
    return "'" + path.replace("'", "'\\''") + "'"


class _Conn:
    def __init__(self, sock, now, born):
        self.sock = sock
        self.inbuf = b""
        self.out = b""  # bytes waiting to be written
        self.sent = 0
        self.items = None  # a lease listing being streamed
        self.first = True
        self.closing = False  # close once out is written
        self.deadline = now + IDLE
        self.born = born  # accept order: the oldest goes first when full


class ControlSocket:
    def __init__(self, path):
        self.path = path
        m = _mode(path)
        if m is not None:
            if m & _S_IFMT != _S_IFSOCK:
                raise OSError("%s exists and is not a socket; refusing to remove it" % path)
            os.remove(path)  # a socket a previous run left behind
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._bind_private(s, path)
        s.listen(MAX_CONN)
        s.setblocking(False)
        self.sock = s
        self.conns = {}  # socket -> _Conn
        self.accepted = 0

    def _bind_private(self, s, path):
        d = path + ".new"
        if _mode(d) is not None:
            os.system("rm -rf " + _sh(d))  # a previous start was cut off here
        os.mkdir(d)
        os.system("chmod 700 " + _sh(d))
        tmp = d + "/s"
        s.bind(struct.pack("<H", socket.AF_UNIX) + tmp.encode() + b"\0")
        os.system("chmod 600 " + _sh(tmp))
        os.rename(tmp, path)
        os.rmdir(d)

    # -- the runner's side ------------------------------------------------------------------

    def owns(self, obj):
        return obj is self.sock or obj in self.conns

    def on_ready(self, obj, svc):
        """The poll says obj is ready: accept, read or write, never waiting."""
        if obj is self.sock:
            self._accept(svc)
            return
        c = self.conns.get(obj)
        if c is None:
            return
        try:
            if c.out or c.items is not None:
                self._write(c, svc)
            else:
                self._read(c, svc)
        except Exception:  # a broken client costs nothing but its connection
            self._close(c, svc)

    def tick(self, svc):
        """Close connections that made no progress for IDLE seconds."""
        now = svc.now()
        for c in [c for c in self.conns.values() if now >= c.deadline]:
            self._close(c, svc)

    # -- one connection ---------------------------------------------------------------------

    def _accept(self, svc):
        for _ in range(MAX_CONN):
            try:
                s, _ = self.sock.accept()
            except OSError:
                return  # nothing more waiting
            if len(self.conns) >= MAX_CONN:  # full: the oldest goes, the newcomer is served
                oldest = None
                for c in self.conns.values():
                    if oldest is None or c.born < oldest.born:
                        oldest = c
                self._close(oldest, svc)
            s.setblocking(False)
            self.accepted += 1
            self.conns[s] = _Conn(s, svc.now(), self.accepted)
            svc.netif.watch(s, False)

    def _read(self, c, svc):
        try:
            part = c.sock.recv(4096)
        except OSError:
            return  # not ready after all
        c.inbuf += part
        req = None
        if len(c.inbuf) > MAX_REQUEST:
            self._answer(c, {"result": 1, "text": "request longer than %d bytes" % MAX_REQUEST}, svc)
            return
        try:
            req = json.loads(c.inbuf)
        except ValueError:
            if part:
                return  # not complete yet
        self._answer(c, req, svc)

    def _answer(self, c, req, svc):
        stream = console.streamer(req)  # one command table: console.COMMANDS
        if stream is not None:
            c.items = stream(svc)
            c.out = b'{"result": 0, "arguments": {"leases": ['
        elif req is None:
            c.out = json.dumps({"result": 1, "text": "not a JSON command"}).encode()
        else:
            c.out = json.dumps(console.command(req, svc)).encode()
        c.closing = True
        c.deadline = svc.now() + IDLE
        svc.netif.watch(c.sock, True)

    def _write(self, c, svc):
        if not c.out:
            c.out = self._next_chunk(c)
            c.sent = 0
        n = c.sock.send(memoryview(c.out)[c.sent:])
        if n:
            c.sent += n
            c.deadline = svc.now() + IDLE  # progress
        if c.sent >= len(c.out):
            c.out = b""
            if c.items is None and c.closing:
                self._close(c, svc)

    def _next_chunk(self, c):
        """The next piece of a streamed listing (a 1000-lease reply as one string would need
        ~200 KB of heap): one lease, then the closing brackets."""
        try:
            lease = next(c.items)
        except StopIteration:
            c.items = None
            return b"]}}"
        text = json.dumps(lease).encode()
        if c.first:
            c.first = False
            return text
        return b", " + text

    def _close(self, c, svc):
        self.conns.pop(c.sock, None)
        try:
            svc.netif.unwatch(c.sock)
        except Exception:
            pass
        c.sock.close()

    def close(self):
        for s in list(self.conns):
            s.close()
        self.conns = {}
        self.sock.close()
        m = _mode(self.path)
        if m is not None and m & _S_IFMT == _S_IFSOCK:
            os.remove(self.path)
