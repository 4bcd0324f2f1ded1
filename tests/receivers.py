"""A real webhook receiver for tests: a threaded http.server on loopback that checks each delivery's
signature and idempotency key as a careful receiver would, and can misbehave on request."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from moderation.services import webhooks
from tests.servers import in_thread, serving_in_background

SECRET = "test-secret-0123456789"  # the `receiver` fixture's (tests/conftest.py)


@dataclass
class Received:
    path: str
    event: str
    key: str
    body: dict
    signed: bool  # the signature verified with the endpoint's secret


@dataclass
class Receiver:
    """Paths: /ok answers 204; /fail 500; /redirect 302 to /ok; /slow sleeps `slow_seconds`;
    /huge answers 200 with `huge_bytes`; /drip answers 100 bytes, one every 0.1 s; /flaky fails its
    first `flaky_failures` deliveries; /half fails every second delivery (the first, the third…)."""

    base: str = ""
    secret: str = ""
    now: Callable[[], datetime] | None = None
    slow_seconds: float = 3.0
    huge_bytes: int = 20 * 1024 * 1024
    huge_sent: list[int] = field(default_factory=list)  # bytes of each /huge answer written before the sender left
    flaky_failures: int = 1
    check_status: int = 200  # /check: the external check's answer (status and body)
    check_answer: bytes = b'{"verdict": "allow"}'
    check_delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    hits: dict[str, int] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)  # keys seen a second time (and ignored)
    connections: int = 0  # TCP connections accepted (HTTP/1.1: a sender may keep one open)
    keys: set[str] = field(default_factory=set)  # of `received`: a lookup that stays cheap as they pile up
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return self.base + path

    def accepted(self, event: str | None = None) -> list[Received]:
        with self.lock:
            return [item for item in self.received if event is None or item.event == event]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.accepted()) < count:
            time.sleep(0.02)
        return self.accepted()


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as web servers answer; every answer has a length

        def log_message(self, *args):
            pass

        def setup(self):
            super().setup()
            with receiver.lock:
                receiver.connections += 1

        def do_POST(self):
            path = self.path
            with receiver.lock:
                receiver.hits[path] = receiver.hits.get(path, 0) + 1
                hit = receiver.hits[path]
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if (path == "/fail" or (path == "/flaky" and hit <= receiver.flaky_failures)
                    or (path == "/half" and hit % 2 == 1)):
                return self._answer(500, b"broken")
            if path == "/redirect":
                self.send_response(302)
                self.send_header("Location", receiver.url("/ok"))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            if path == "/slow":
                time.sleep(receiver.slow_seconds)
            if path == "/check":
                time.sleep(receiver.check_delay)
            signed = webhooks.verify(receiver.secret, self.headers.get(webhooks.SIGNATURE_HEADER, ""), raw,
                                     now=receiver.now() if receiver.now else datetime.now().astimezone())
            key = self.headers.get(webhooks.DELIVERY_HEADER, "")
            with receiver.lock:
                if key and key in receiver.keys:
                    receiver.duplicates.append(key)
                else:
                    receiver.keys.add(key)
                    receiver.received.append(Received(path, self.headers.get(webhooks.EVENT_HEADER, ""), key,
                                                      json.loads(raw), signed))
            if path == "/check":
                return self._answer(receiver.check_status, receiver.check_answer)
            if path == "/drip":  # a byte at a time, each well within a read's timeout
                self.send_response(200)
                self.send_header("Content-Length", "100")
                self.end_headers()
                try:
                    for _ in range(100):
                        self.wfile.write(b"x")
                        time.sleep(0.1)
                except OSError:
                    pass  # the sender gave up, as it should
                return None
            if path == "/huge":
                self.send_response(200)
                self.send_header("Content-Length", str(receiver.huge_bytes))
                self.end_headers()
                chunk, sent = b"x" * 65536, 0
                try:
                    for _ in range(receiver.huge_bytes // len(chunk)):
                        self.wfile.write(chunk)
                        sent += len(chunk)
                except OSError:
                    pass  # the sender stopped reading, as it should
                finally:
                    with receiver.lock:
                        receiver.huge_sent.append(sent)
                return None
            return self._answer(204, b"")

        def _answer(self, status: int, body: bytes):
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def listening(secret: str, now: Callable[[], datetime] | None = None) -> Iterator[Receiver]:
    """A receiver on a loopback port for the block (a test's fixture)."""
    receiver = Receiver(secret=secret, now=now)
    with in_thread(_server_for(receiver)):
        yield receiver


def start_receiver(receiver: Receiver) -> ThreadingHTTPServer:
    """A receiver serving until the process ends (benchmarks and drills)."""
    server = _server_for(receiver)
    serving_in_background(server)
    return server


class _ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the sender hung up before the answer, as the watchdog tests make it do
        super().handle_error(request, client_address)


def _server_for(receiver: Receiver) -> ThreadingHTTPServer:
    server = _ReceiverServer(("127.0.0.1", 0), _handler(receiver))
    receiver.base = f"http://127.0.0.1:{server.server_address[1]}"
    return server
