"""The serving benchmark's webhook receiver: answers 204 as cheaply as it can, and checks later.

A real receiver runs on machines of its own; this one shares the benchmark's two cores with the
workers it measures, so whatever it spends in the hot path is taken from posting. It keeps each
request's header block and body as bytes and answers at once (one asyncio loop in one thread, no
thread per connection, no header parsing beyond Content-Length); `checked()` parses, verifies
the signatures and finds duplicates after the run, outside the measured time. The tests' receiver
(tests/receivers.py) checks every delivery as it comes, and can misbehave on request.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from dataclasses import dataclass
from datetime import datetime

from moderation.services import webhooks

_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
_NO_CONTENT = b"HTTP/1.1 204 No Content\r\n\r\n"


@dataclass(frozen=True)
class Checked:
    received: int
    signed: int  # the signature verified with the endpoint's secret
    duplicates: int  # delivery keys seen more than once
    events: dict[str, int]


class QuietReceiver:
    """Listens on a loopback port from `start()` to `stop()`; `url(path)` for the endpoint."""

    def __init__(self, secret: str):
        self.secret = secret
        self.base = ""
        self.requests: list[tuple[bytes, bytes]] = []  # (header block, body), appended by the loop's thread only
        self._connections: set[_Connection] = set()  # open ones, the loop's thread only
        self._loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None

    def url(self, path: str) -> str:
        return self.base + path

    def start(self) -> QuietReceiver:
        """The loop lives in its own thread from creation to close: the calling thread may already
        run a loop of its own (Playwright's sync API keeps one in a test worker's main thread)."""
        listening = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(listening,), name="bench-receiver", daemon=True)
        self._thread.start()
        if not listening.wait(timeout=10) or self._server is None:
            raise RuntimeError("the benchmark's webhook receiver did not start listening")
        self.base = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    def _serve(self, listening: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._server = self._loop.run_until_complete(
                self._loop.create_server(lambda: _Connection(self.requests, self._connections), "127.0.0.1", 0))
            listening.set()
            self._loop.run_forever()
            self._server.close()
            # A sender's kept-alive connection would otherwise be left to the garbage collector, whose
            # "unclosed transport" warning fails whichever test it lands in.
            for connection in list(self._connections):
                connection.transport.close()
            self._loop.run_until_complete(self._server.wait_closed())
            self._loop.run_until_complete(asyncio.sleep(0))  # the transports' close callbacks
        finally:
            listening.set()
            self._loop.close()

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def checked(self, *, now: datetime) -> Checked:
        """What a careful receiver would have found: signatures, duplicate keys, event names."""
        signed, keys, duplicates, events = 0, set(), 0, {}
        for head, body in list(self.requests):
            headers = _headers(head)
            signed += webhooks.verify(self.secret, headers.get(webhooks.SIGNATURE_HEADER.lower(), ""), body, now=now)
            key = headers.get(webhooks.DELIVERY_HEADER.lower(), "")
            duplicates += key in keys
            keys.add(key)
            event = json.loads(body)["type"]
            events[event] = events.get(event, 0) + 1
        return Checked(len(self.requests), signed, duplicates, events)


def _headers(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}


class _Connection(asyncio.Protocol):
    def __init__(self, requests: list[tuple[bytes, bytes]], open_connections: set[_Connection]):
        self.requests = requests
        self.open_connections = open_connections
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.open_connections.add(self)

    def connection_lost(self, exc) -> None:
        self.open_connections.discard(self)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end]
            found = _LENGTH.search(head)
            start = end + 4
            stop = start + (int(found.group(1)) if found else 0)
            if len(self.buffer) < stop:
                return  # the body comes in a later write
            self.requests.append((head, self.buffer[start:stop]))
            self.buffer = self.buffer[stop:]
            self.transport.write(_NO_CONTENT)
