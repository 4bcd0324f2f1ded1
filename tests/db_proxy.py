"""A TCP proxy in front of the database that can fail the way networks do, for tests and drills.

- `cut()`: every connection reset and new ones refused (a restart, a firewall rule);
- `stall()`: connections stay open and pass no bytes either way (a partition, a hung proxy or
  pooler, a frozen VM); new connections are accepted and hang too;
- `lose_next_commit_reply()`: the next COMMIT reaches the server, which commits, and the
  connection is reset before its answer reaches the app;
- `restore()`: back to normal (a stall's held bytes are then passed on; cut links stay cut).
"""

from __future__ import annotations

import socket
import struct
import threading


class FaultyProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.refusing = False
        self._flowing = threading.Event()
        self._flowing.set()
        self._lose_commit_reply = threading.Event()
        self._cut_after_commit = False
        self.commit_replies_lost = 0
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def url_for(self, url) -> str:
        """`url` (a SQLAlchemy URL) pointed at this proxy."""
        return url.set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    def _accept(self):
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.refusing:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=3)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.pairs.append((client, upstream))
            link = _Link()
            threading.Thread(target=self._pump, args=(client, upstream, link, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, link, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, link: _Link, to_server: bool):
        try:
            while data := source.recv(65536):
                self._flowing.wait()
                if not to_server and link.swallowing:
                    link.answered.set()  # the server's answer to the COMMIT: it has committed
                    continue
                if to_server and self._lose_commit_reply.is_set() and b"COMMIT\x00" in data:
                    self._lose_commit_reply.clear()
                    link.swallowing = True
                    sink.sendall(data)
                    link.answered.wait(timeout=5)
                    self.commit_replies_lost += 1
                    if self._cut_after_commit:
                        self.cut()
                    _reset(source)
                    _close(sink)
                    return
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                _close(sock)

    def cut(self):
        self.refusing = True
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for sock in pair:
                _reset(sock)

    def stall(self):
        self._flowing.clear()

    def lose_next_commit_reply(self, *, then_cut: bool = False):
        """`then_cut`: and the link is cut right after, so the app cannot ask what became of it."""
        self._cut_after_commit = then_cut
        self._lose_commit_reply.set()

    def restore(self):
        self.refusing = False
        self._flowing.set()

    def close(self):
        self._closed = True
        self.restore()
        self.cut()
        self.listener.close()


class _Link:
    """One client connection and its upstream: whether the server's answers are being dropped."""

    def __init__(self):
        self.swallowing = False
        self.answered = threading.Event()


def _close(sock: socket.socket) -> None:
    """Shut down, then close: a bare close() does not end a connection while another thread is
    still blocked reading it, and the server would keep the session (and its locks) open."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def _reset(sock: socket.socket) -> None:
    """Close with RST, as a dead peer or a firewall does, rather than an orderly FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    _close(sock)
