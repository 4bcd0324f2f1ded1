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
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
DEFAULTS = Path(__file__).resolve().parent / "gunicorn_defaults.py"


# socketserver checks for shutdown every poll interval: at its default 0.5 s, each test's stop of
# a receiver or live server waited a quarter of a second on average, doing nothing.
POLL_SECONDS = 0.02


def serving_in_background(server) -> threading.Thread:
    """A socketserver (http.server, werkzeug's make_server) serving from a daemon thread until shut down."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, daemon=True)
    thread.start()
    return thread


@contextmanager
def in_thread(server) -> Iterator:
    """`serving_in_background` for the block, then shut down and closed."""
    thread = serving_in_background(server)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(app: str, *, workers: int = 1, env: dict | None = None, log: Path | None = None, args=(),
             conf: Path | None = None, ready_path: str = "/", executable: Path = GUNICORN,
             port: int | None = None, cwd: Path = ROOT):
    """A gunicorn process on a loopback port until the block ends; yields (base URL, process).

    Its settings file is named, never implied: gunicorn would otherwise read the
    gunicorn.conf.py of whatever folder it starts in. It counts as started once `ready_path`
    answers at all, with any HTTP status.
    """
    port = port or free_port()
    output = open(log, "ab") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        [str(executable), "--config", str(conf or DEFAULTS), *args, "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--chdir", str(cwd), app],
        env={**os.environ, **(env or {})}, stdout=output, stderr=output, cwd=cwd,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(base + ready_path, process)
        yield base, process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        if log:
            output.close()


def wait_for(condition, *, what: str, timeout: float = 30) -> None:
    """Until `condition()` is true (something another process does); fails naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what} after {timeout} s")
        time.sleep(POLL_SECONDS)


def _wait_until_answering(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn for {url} exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextmanager
def app_server(config: dict, *, workers: int = 1, log: Path | None = None, module: str = "tests.server_app:app",
               gunicorn_conf: Path | None = None, env: dict | None = None):
    """The app under gunicorn with `config` (through tests.server_app); yields (base URL, process)."""
    with gunicorn(module, workers=workers, env={**(env or {}), "TEST_SERVER_CONFIG": json.dumps(config)},
                  log=log, conf=gunicorn_conf, args=["--graceful-timeout", "5"], ready_path="/healthz") as server:
        yield server


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
