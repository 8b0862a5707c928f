# Control socket for Linux (Kea's "control-socket" with socket-type unix): one JSON command
# per connection, answered with one JSON reply, e.g. {"command": "lease4-get-all"}.
import json
import os
import socket
import struct
from .. import console


class ControlSocket:
    def __init__(self, path):
        self.path = path
        try:
            os.remove(path)
        except OSError:
            pass
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(struct.pack("<H", socket.AF_UNIX) + path.encode() + b"\0")
        s.listen(4)
        s.setblocking(False)
        self.sock = s

    def serve_one(self, svc):
        """Answer one waiting client; a broken client costs nothing but its connection."""
        try:
            c, _ = self.sock.accept()
        except OSError:
            return
        try:
            c.settimeout(1.0)
            data = b""
            while len(data) < 65536:
                part = c.recv(4096)
                if not part:
                    break
                data += part
                try:
                    req = json.loads(data)
                    break
                except ValueError:
                    continue
            try:
                req = json.loads(data)
            except ValueError:
                req = None
            stream = console.streamer(req)  # one command table: console.COMMANDS
            if stream is not None:
                self._stream_leases(c, stream(svc))
            else:
                c.sendall(json.dumps(console.command(req, svc)).encode())
        except Exception as e:  # a control client must never take the DHCP service down
            try:
                c.sendall(json.dumps({"result": 1, "text": "failed: %r" % (e,)}).encode())
            except Exception:
                pass
        finally:
            c.close()

    def _stream_leases(self, c, leases):
        """Kea's lease4-get-all / lease6-get-all reply, written one lease at a time (a
        1000-lease reply as one string would need ~200 KB of heap)."""
        c.sendall(b'{"result": 0, "arguments": {"leases": [')
        first = True
        for lease in leases:
            c.sendall((b"" if first else b", ") + json.dumps(lease).encode())
            first = False
        c.sendall(b"]}}")

    def close(self):
        self.sock.close()
        try:
            os.remove(self.path)
        except OSError:
            pass
