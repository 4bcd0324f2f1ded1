"""Real app servers for tests and drills: gunicorn processes on loopback ports, and a browser-like
HTTP client (cookies shared across ports, as behind one load balancer; redirects not followed)."""

from __future__ import annotations

import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def app_server(config: dict, *, workers: int = 1, log: Path | None = None, module: str = "tests.server_app:app",
               gunicorn_conf: Path | None = None, env: dict | None = None):
    """A gunicorn process serving the app with `config`; yields (base URL, process)."""
    port = free_port()
    env = {**os.environ, **(env or {}), "TEST_SERVER_CONFIG": json.dumps(config)}
    output = open(log, "ab") if log else subprocess.DEVNULL
    settings = ["-c", str(gunicorn_conf)] if gunicorn_conf else []
    process = subprocess.Popen(
        [str(GUNICORN), *settings, "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT),
         "--graceful-timeout", "5", module],
        env=env, stdout=output, stderr=output,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}")
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield base, process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        if log:
            output.close()


@dataclass
class Reply:
    status: int
    headers: dict
    body: str


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    def __init__(self, timeout: float = 30):
        self.timeout = timeout
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect())

    def get(self, url: str, headers: dict | None = None) -> Reply:
        return self._open(urllib.request.Request(url, headers=headers or {}))

    def post(self, url: str, data: dict) -> Reply:
        body = urllib.parse.urlencode(data).encode()
        return self._open(urllib.request.Request(url, data=body, method="POST"))

    def _open(self, request) -> Reply:
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return Reply(response.status, dict(response.headers), response.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as error:
            return Reply(error.code, dict(error.headers), error.read().decode("utf-8", "replace"))
