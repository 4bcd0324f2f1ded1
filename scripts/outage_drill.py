"""Opt-in outage drill (bounded, loopback only): the app under load while its database goes away.

gunicorn reaches PostgreSQL through a TCP proxy of this script's own. Phases: normal; the proxy
cut (every connection dropped, new ones refused) for --cut seconds; normal; a stall (another
session holds an exclusive lock on the article table for --stall seconds, as a migration or a
stuck transaction would); normal. The machine's PostgreSQL itself is never stopped. Reported per
phase: responses by status, the slowest response, and the app's outage log lines. Expected: no
500 at all, 503 with Retry-After while the database cannot answer, recovery by itself.

Run: `.venv/bin/python scripts/outage_drill.py`; it creates a PostgreSQL database of its own
(TEST_DATABASE_URL's server) and drops it afterwards. `--smoke` runs each phase for half a second
with two clients and one worker, and judges nothing (the test suite runs it so the script keeps
working).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from moderation import create_app  # noqa: E402
from moderation.article_text import bundled_seed  # noqa: E402
from moderation.config import sqlalchemy_url  # noqa: E402
from moderation.extensions import db  # noqa: E402
from moderation.services.articles import load_article  # noqa: E402
from tests.postgres import temporary_database  # noqa: E402
from tests.server_app import CAPTCHA_TEXT  # noqa: E402
from tests.servers import Browser, app_server, free_port  # noqa: E402

SLUG = "drill-article"


class CuttableProxy:
    """Forwards 127.0.0.1:port to the database; `cut()` drops every connection and refuses new ones."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = free_port()
        self.open = True
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            client, _ = self.listener.accept()
            if not self.open:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=3)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:  # a cut that came while connecting must drop this pair too
                if not self.open:
                    self._close(client, upstream)
                    continue
                self.pairs.append((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            CuttableProxy._close(source, sink)

    @staticmethod
    def _close(*sockets):
        """Shut down, then close: a bare close() while the other pump thread still waits in recv()
        on the socket sends no FIN, and PostgreSQL would keep that session (and its locks) open."""
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def cut(self):
        with self.lock:
            self.open = False
            for pair in self.pairs:
                self._close(*pair)
            self.pairs.clear()

    def restore(self):
        self.open = True


def load(base: str, stop: threading.Event, phase: list[str], results: dict, lock: threading.Lock, index: int):
    n = 0
    while not stop.is_set():
        n += 1
        browser = Browser(timeout=15)
        started = time.monotonic()
        current = phase[0]
        try:
            if n % 4 == 0:  # a reader posting
                state = json.loads(browser.get(f"{base}/form-token").body)
                browser.get(f"{base}{state['captcha']['image']}")
                reply = browser.post(f"{base}/articles/{SLUG}/comments", {
                    "csrf_token": state["csrf_token"], "captcha_id": state["captcha"]["id"],
                    "captcha_answer": CAPTCHA_TEXT, "nickname": f"讀者{index}",
                    "body": f"drill-{index}-{n} 停電演練的評論", "action": "post"})
                kept = reply.status != 503 or f"drill-{index}-{n}" in reply.body
                key = f"POST {reply.status}" + ("" if kept else " (text lost)")
            else:
                reply = browser.get(f"{base}/articles/{SLUG}", {"Cookie": "reader=x"} if n % 2 else {})
                key = f"GET {reply.status}"
                if reply.status == 503 and "Retry-After" not in reply.headers:
                    key += " (no Retry-After)"
        except Exception as error:
            key = f"error {type(error).__name__}"
        elapsed = time.monotonic() - started
        with lock:
            results[current]["responses"][key] += 1
            results[current]["slowest_s"] = max(results[current]["slowest_s"], round(elapsed, 2))
        time.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cut", type=float, default=10, help="seconds")
    parser.add_argument("--stall", type=float, default=35, help="seconds")
    parser.add_argument("--normal", type=float, default=5, help="seconds before, between and after")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres-url", default=os.environ.get("TEST_DATABASE_URL", "postgresql://127.0.0.1:5432/test"))
    parser.add_argument("--smoke", action="store_true", help="half a second per phase, nothing judged")
    args = parser.parse_args(argv)
    if args.smoke:
        args.cut, args.stall, args.normal, args.clients, args.workers = 0.5, 0.5, 0.5, 2, 1
    work = Path(tempfile.mkdtemp(prefix="moderation-drill-"))  # instance folder and gunicorn's log
    log = work / "gunicorn.log"
    log.write_text("")

    with temporary_database(args.postgres_url, prefix="moderation_drill") as url:
        direct = make_url(sqlalchemy_url(url))
        proxy = CuttableProxy(direct.host or "127.0.0.1", direct.port or 5432)
        through_proxy = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        config = {"DATABASE_URL": through_proxy, "INSTANCE_PATH": str(work / "instance"),
                  "SECRET_KEY": "drill", "IP_PEPPER": "drill", "CAPTCHA_MIN_SECONDS": 0,
                  "CAPTCHA_IMAGE_RATE_LIMIT": "100000 per minute", "SCREENING_IP_PER_MINUTE": 100000,
                  "REQUEST_LOG": False}
        app = create_app({**config, "DATABASE_URL": url, "CAPTCHA_TEXT_FACTORY": lambda: CAPTCHA_TEXT})
        with app.app_context():
            db.create_all()
            load_article(db.session, bundled_seed(), slug=SLUG)
            db.session.commit()  # services flush; the caller commits
            db.engine.dispose()
        phases = ["normal", "cut", "after cut", "stall", "after stall"]
        results = {name: {"responses": collections.Counter(), "slowest_s": 0.0} for name in phases}
        phase, lock, stop = ["normal"], threading.Lock(), threading.Event()
        stall_failed = None
        locker = sqlalchemy.create_engine(sqlalchemy_url(url))
        with app_server(config, workers=args.workers, log=log) as (base, _):
            threads = [threading.Thread(target=load, args=(base, stop, phase, results, lock, i), daemon=True)
                       for i in range(args.clients)]
            for thread in threads:
                thread.start()
            time.sleep(args.normal)
            phase[0] = "cut"
            proxy.cut()
            time.sleep(args.cut)
            proxy.restore()
            phase[0] = "after cut"
            time.sleep(args.normal)
            phase[0] = "stall"
            try:
                with locker.begin() as connection:  # the lock is held until this transaction ends
                    # Bounded: a session the app left open on the table must not hang the drill.
                    connection.execute(sqlalchemy.text(f"SET LOCAL lock_timeout = {int((args.stall + 10) * 1000)}"))
                    connection.execute(sqlalchemy.text("LOCK TABLE article IN ACCESS EXCLUSIVE MODE"))
                    time.sleep(args.stall)
            except sqlalchemy.exc.OperationalError as error:
                stall_failed = f"the table lock was not granted: {str(error).splitlines()[0]}"
            phase[0] = "after stall"
            time.sleep(args.normal)
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
        locker.dispose()
    outage_lines = [line for line in log.read_text().splitlines() if "database unavailable" in line
                    or "database available again" in line]
    tracebacks = log.read_text().count("Traceback")
    report = {name: {"responses": dict(data["responses"]), "slowest_s": data["slowest_s"]}
              for name, data in results.items()}
    print(json.dumps({"phases": report, "outage_log_lines": outage_lines, "tracebacks_in_log": tracebacks,
                      "stall_failed": stall_failed, "gunicorn_log": str(log)}, ensure_ascii=False, indent=2))
    if args.smoke:
        print("smoke run: nothing judged")
        return 0
    failures = sum(count for data in results.values() for key, count in data["responses"].items()
                   if " 500" in key or "lost" in key or "no Retry-After" in key)
    return 1 if failures or tracebacks or stall_failed else 0


if __name__ == "__main__":
    sys.exit(main())
