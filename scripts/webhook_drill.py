"""Opt-in delivery drill (bounded, loopback only): webhooks under load while the receiver fails half
of what it is sent, the queue's worker is killed mid-work twice, and Redis restarts.

It starts its own redis-server on a free loopback port (the machine's Redis is never touched), makes
a PostgreSQL database of its own (TEST_DATABASE_URL's server), and runs the app under gunicorn with
that REDIS_URL (deliveries go on the queue) and two `flask worker` processes. A receiver on loopback
checks each delivery's signature and key, as a careful receiver does, and answers every second
delivery with a 500. Posters post for --seconds; meanwhile a worker is killed (SIGKILL) and started
again, twice, and Redis is stopped for --redis-down seconds and started again, empty. Then the drill
waits, at most --settle seconds, until every event is delivered: the retries (after 1 s here) and
the relay (every second here) bring back what the failures, the dead worker and the emptied queue
dropped.

Reported: events recorded, events delivered (distinct keys the receiver accepted), missing, the
deliveries the receiver got a second time and ignored by their key, the 500s it answered, workers
killed, Redis restarts. Expected: none missing (at least once), none accepted twice, no unsigned one.
Run: `.venv/bin/python scripts/webhook_drill.py` (about a minute); `--smoke`: brief, nothing judged.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy  # noqa: E402

from moderation import create_app  # noqa: E402
from moderation.article_text import bundled_seed  # noqa: E402
from moderation.config import sqlalchemy_url  # noqa: E402
from moderation.extensions import db  # noqa: E402
from moderation.services import webhooks  # noqa: E402
from moderation.services.articles import load_article  # noqa: E402
from tests.postgres import temporary_database  # noqa: E402
from tests.receivers import Receiver, start_receiver  # noqa: E402
from tests.server_app import CAPTCHA_TEXT  # noqa: E402
from tests.servers import Browser, app_server, free_port  # noqa: E402

SLUG = "drill-article"
SECRET = "drill-secret-0123456789"
FLASK = Path(sys.executable).parent / "flask"


class OwnRedis:
    """A redis-server of the drill's own, without persistence: a restart empties the queue."""

    def __init__(self):
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def start_worker(config: dict, log) -> subprocess.Popen:
    env = {**os.environ, "TEST_SERVER_CONFIG": json.dumps(config)}
    return subprocess.Popen([str(FLASK), "--app", "tests.server_app:app", "worker"], env=env, cwd=ROOT,
                            stdout=log, stderr=log)


def stop_worker(process: subprocess.Popen) -> bool:
    """SIGTERM is RQ's warm shutdown (the job in hand is finished); a second one its cold shutdown,
    and a worker still there after that is killed, so that no drill leaves one taking later jobs.
    True when the first signal was not enough."""
    for attempt, send in enumerate((process.terminate, process.terminate, process.kill)):
        send()
        try:
            process.wait(timeout=20)
            return attempt > 0
        except subprocess.TimeoutExpired:
            continue
    return True


def poster(base: str, stop: threading.Event, number: int, posted: list[str]) -> None:
    browser = Browser(timeout=15)
    count = 0
    while not stop.is_set():
        page = browser.get(f"{base}/articles/{SLUG}/comment")
        token = _field(page.body, "csrf_token")
        challenge = _field(page.body, "captcha_id")
        if page.status != 200 or not token or not challenge:
            time.sleep(0.2)
            continue
        browser.get(f"{base}/captcha/{challenge}.png")
        body = f"演練留言 {number}-{count}"
        answer = browser.post(f"{base}/articles/{SLUG}/comments", {
            "csrf_token": token, "captcha_id": challenge, "captcha_answer": CAPTCHA_TEXT,
            "nickname": f"讀者{number}", "body": body, "action": "post"})
        if answer.status == 303:
            posted.append(body)
        count += 1


def _field(html: str, name: str) -> str | None:
    marker = f'name="{name}" value="'
    start = html.find(marker)
    if start < 0:
        marker = f'name="{name}" type="hidden" value="'
        start = html.find(marker)
    if start < 0:
        return None
    start += len(marker)
    return html[start:html.index('"', start)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30, help="posting time")
    parser.add_argument("--posters", type=int, default=4)
    parser.add_argument("--redis-down", type=float, default=3, help="seconds Redis stays stopped")
    parser.add_argument("--settle", type=float, default=60, help="longest wait for every event to be delivered")
    parser.add_argument("--postgres-url", default=os.environ.get("TEST_DATABASE_URL", "postgresql://127.0.0.1:5432/test"))
    parser.add_argument("--smoke", action="store_true", help="brief, nothing judged")
    args = parser.parse_args(argv)
    if args.smoke:
        args.seconds, args.posters, args.redis_down, args.settle = 2, 1, 0.5, 30
    if not shutil.which("redis-server"):
        print("webhook drill: redis-server not installed", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="moderation-webhook-drill-"))
    log = open(work / "processes.log", "ab")
    receiver = Receiver(secret=SECRET)
    server = start_receiver(receiver)
    redis_server = OwnRedis()
    redis_server.start()
    killed = 0
    workers: list[subprocess.Popen] = []
    try:
        with temporary_database(args.postgres_url, prefix="moderation_webhook_drill") as url:
            config = {"DATABASE_URL": url, "INSTANCE_PATH": str(work / "instance"), "SECRET_KEY": "drill",
                      "IP_PEPPER": "drill", "CAPTCHA_MIN_SECONDS": 0, "REDIS_URL": redis_server.url,
                      "CAPTCHA_IMAGE_RATE_LIMIT": "100000 per minute", "SCREENING_IP_PER_MINUTE": 100000,
                      "SCREENING_AUTHOR_PER_MINUTE": 100000, "CAPTCHA_MAX_FAILURES_PER_IP": 100000,
                      "RATELIMIT_ENABLED": False, "REQUEST_LOG": False, "JOBS_REDIS_PAUSE_SECONDS": 1,
                      "OUTBOX_RELAY_SECONDS": 1, "OUTBOX_HANDOVER_GRACE_SECONDS": 3,
                      "WEBHOOK_RETRY_FIRST_SECONDS": 1, "WEBHOOK_RETRY_MAX_SECONDS": 2, "WEBHOOK_LEASE_SECONDS": 10}
            app = create_app({**config, "CAPTCHA_TEXT_FACTORY": lambda: CAPTCHA_TEXT})
            with app.app_context():
                db.create_all()
                load_article(db.session, bundled_seed(), slug=SLUG)
                webhooks.add_endpoint(db.session, receiver.url("/half"), ["comment.created"], secret=SECRET,
                                      allow_private=True, now=app.config["CLOCK"]())
                db.session.commit()
                db.engine.dispose()
            workers += [start_worker(config, log) for _ in range(2)]
            posted: list[str] = []
            with app_server(config, workers=2, log=work / "gunicorn.log") as (base, _):
                stop = threading.Event()
                threads = [threading.Thread(target=poster, args=(base, stop, number, posted), daemon=True)
                           for number in range(args.posters)]
                for thread in threads:
                    thread.start()
                step = args.seconds / 4
                for _ in range(2):  # a worker killed mid-work, and started again
                    time.sleep(step)
                    workers[0].send_signal(signal.SIGKILL)
                    workers[0].wait(timeout=10)
                    killed += 1
                    workers[0] = start_worker(config, log)
                time.sleep(step)
                redis_server.stop()  # the queue's contents are gone with it
                time.sleep(args.redis_down)
                redis_server.start()
                redis_server.restarts += 1
                time.sleep(step)
                stop.set()
                for thread in threads:
                    thread.join(timeout=30)
            engine = sqlalchemy.create_engine(sqlalchemy_url(url))
            deadline = time.monotonic() + args.settle
            with engine.connect() as connection:
                events = {key for (key,) in connection.execute(sqlalchemy.text("SELECT key FROM outbox"))}
                while time.monotonic() < deadline and {item.body["id"] for item in receiver.accepted()} < events:
                    time.sleep(0.5)
                stored = connection.execute(sqlalchemy.text("SELECT count(*) FROM comment")).scalar_one()
            engine.dispose()
    finally:
        slow_stops = sum(stop_worker(each) for each in workers)
        redis_server.stop()
        server.shutdown()
        server.server_close()
        log.close()
    accepted = receiver.accepted()
    delivered = {item.body["id"] for item in accepted}
    report = {
        "posts acknowledged": len(posted), "comments stored": stored, "events": len(events),
        "delivered": len(delivered & events), "missing": sorted(events - delivered),
        "accepted twice": len(accepted) - len(delivered), "ignored by key": len(receiver.duplicates),
        "unsigned": sum(not item.signed for item in accepted), "answered 500": receiver.hits.get("/half", 0) // 2,
        "workers killed": killed, "redis restarts": redis_server.restarts,
        "workers needing more than SIGTERM to stop": slow_stops,
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    if args.smoke:
        return 0
    problems = [report["missing"], report["accepted twice"], report["unsigned"], not report["events"]]
    return 1 if any(problems) else 0


if __name__ == "__main__":
    raise SystemExit(main())
