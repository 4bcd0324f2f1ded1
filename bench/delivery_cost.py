"""What one webhook delivery costs its sender: statements, commits and CPU, one at a time
(`delivery.deliver`, as `flask worker` sends) against in batches (`batches.BatchSender`, as the
thread runner sends without Redis), to the test receiver on loopback (HTTP/1.1, checks signatures).

Run: `.venv/bin/python -m bench.delivery_cost [--deliveries 300] [--postgres-url URL]`. Statements
and commits come from SQLAlchemy's engine events; CPU from the sending thread's own clock
(`time.thread_time`) and the whole process's (the receiver's threads are the difference). A
direction-finder for profiling, not a target: `bench.serving --webhooks` judges posting.

Two floors beside them: http.client's request and answer alone to the same receiver (what any
delivery from Python costs, with no database), and what a post pays for its events in its own
transaction (comment.created and comment.held for one endpoint: the outbox's rows).
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import tempfile
import time
import urllib.parse
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event, select, text

from bench.apps import bench_config
from moderation import create_app
from moderation.extensions import db
from moderation.jobs.batches import BatchSender
from moderation.jobs.delivery import deliver_in_app, signed_event
from moderation.models import WebhookDelivery
from moderation.services import outbox, webhooks
from tests.receivers import Receiver, start_receiver

SECRET = "bench-webhook-secret-0123"
BODY = "第1則：檢驗檢測是質量基礎設施的重要部分，希望國產儀器繼續進步。"  # a comment of the serving benchmark's size


def _app(database_url: str, instance: Path):
    """The app as the sender runs it, nothing sent by itself (`JOBS_RUNNER` off)."""
    return create_app(bench_config({"DATABASE_URL": database_url, "INSTANCE_PATH": str(instance),
                                    "SECRET_KEY": "bench-secret-key", "IP_PEPPER": "bench-ip-pepper",
                                    "JOBS_RUNNER": "off", "REQUEST_LOG": False}))


def measure(label: str, database_url: str, instance: Path, count: int, batched: bool) -> None:
    app = _app(database_url, instance)
    receiver = Receiver(secret=SECRET)
    server = start_receiver(receiver)
    try:
        with app.app_context():
            db.drop_all()
            db.create_all()
            webhooks.add_endpoint(db.session, receiver.url("/ok"), webhooks.EVENTS, secret=receiver.secret,
                                  allow_private=True, now=datetime.now(UTC))
            for index in range(count):
                outbox.record(db.session, "article.closed", {"article": {"slug": f"a{index}"}}, now=datetime.now(UTC))
            db.session.commit()
            ids = list(db.session.scalars(select(WebhookDelivery.id).order_by(WebhookDelivery.id)))
            engine = db.engine
        counted = {"statements": 0, "commits": 0}
        event.listen(engine, "before_cursor_execute", lambda *_: counted.__setitem__(
            "statements", counted["statements"] + 1))
        event.listen(engine, "commit", lambda *_: counted.__setitem__("commits", counted["commits"] + 1))
        sender = BatchSender(app) if batched else None
        thread_cpu, process_cpu, wall = time.thread_time(), time.process_time(), time.perf_counter()
        if sender is not None:
            size = int(app.config["WEBHOOK_BATCH_SIZE"])
            for start in range(0, len(ids), size):
                sender.deliver(ids[start:start + size])
            sender.close()
        else:
            for delivery_id in ids:
                deliver_in_app(app, delivery_id)
        thread_cpu = time.thread_time() - thread_cpu
        process_cpu, wall = time.process_time() - process_cpu, time.perf_counter() - wall
        statements, commits = counted["statements"], counted["commits"]
        received = len(receiver.wait_for(count))
        with app.app_context():
            db.drop_all()
            db.engine.dispose()
    finally:
        server.shutdown()
        server.server_close()
    way = "in batches" if batched else "one by one"
    print(f"  {label:<10} {way:<10}  {statements / count:5.2f} statements  {commits / count:5.2f}"
          f" commits  sender CPU {thread_cpu / count * 1000:5.2f} ms  process CPU {process_cpu / count * 1000:5.2f} ms"
          f"  wall {wall / count * 1000:5.2f} ms  per delivery ({received}/{count} received)", flush=True)


def measure_exchange(count: int) -> None:
    """The floor under any delivery: http.client's request and answer alone, one kept connection, to
    the same receiver, bodies of a post's size signed beforehand; no database, no claim, no record."""
    receiver = Receiver(secret=SECRET)
    server = start_receiver(receiver)
    now = datetime.now(UTC)
    payload = json.dumps(outbox.comment_data(1, article_slug="bench-article", article_key="bench-article",
                                             status="pending", nickname="讀者", anonymous=False, body=BODY,
                                             created_at=now), ensure_ascii=False)
    signed = [signed_event(str(uuid.uuid4()), "comment.created", now, payload, endpoint_id=1, secret=receiver.secret,
                           at=now) for _ in range(count)]
    target = urllib.parse.urlsplit(receiver.url("/ok"))
    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
    try:
        thread_cpu, process_cpu = time.thread_time(), time.process_time()
        for headers, body in signed:
            connection.request("POST", target.path, body=body, headers=headers)
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 204, answer.status
        thread_cpu, process_cpu = time.thread_time() - thread_cpu, time.process_time() - process_cpu
        received = len(receiver.wait_for(count))
    finally:
        connection.close()
        server.shutdown()
        server.server_close()
    print(f"  {'':<10} {'exchange':<10}  http.client's request and answer alone: sender CPU {thread_cpu / count * 1000:5.2f} ms"
          f"  process CPU {process_cpu / count * 1000:5.2f} ms per delivery ({received}/{count} received)", flush=True)


def measure_outbox(label: str, database_url: str, instance: Path, count: int) -> None:
    """What a post pays for its events with one endpoint wanting every event: its comment.created and
    comment.held rows (the outbox and the deliveries) in a transaction of its own, against the same
    transaction without them; CPU of this thread a post, the two alternated in blocks."""
    app = _app(database_url, instance)
    with app.app_context():
        db.drop_all()
        db.create_all()
        webhooks.add_endpoint(db.session, "http://127.0.0.1:9/ok", webhooks.EVENTS, secret=SECRET,
                              allow_private=True, now=datetime.now(UTC))
        db.session.commit()
        wanted = outbox.subscribers(db.session)
        touch = text("UPDATE webhook_endpoint SET id = id")  # the post's own writes stand in

        def block(posts: int, with_events: bool) -> float:
            cpu = time.thread_time()
            for index in range(posts):
                db.session.execute(touch)
                if with_events:
                    outbox.comment_posted(db.session, index, article_slug="bench-article", article_key="bench-article",
                                          status="pending", nickname="讀者", anonymous=False, body=BODY, now=datetime.now(UTC), article_id=1, wanted=wanted)
                db.session.commit()
                db.session.info.pop(outbox.HANDOVER, None)
            return (time.thread_time() - cpu) / posts

        block(max(count // 5, 1), True)
        without, with_events = [], []
        for _ in range(5):
            without.append(block(count, False))
            with_events.append(block(count, True))
        paid = statistics.median(with_events) - statistics.median(without)
        db.drop_all()
        db.engine.dispose()
    print(f"  {label:<10} {'outbox':<10}  a post's two events for one endpoint, in its transaction: "
          f"{paid * 1000:5.2f} ms of CPU a post (medians of 5 blocks of {count})", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=300)
    parser.add_argument("--postgres-url", default=None, help="also on this PostgreSQL server (a database of its own)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory, ExitStack() as stack:
        work = Path(directory)
        backends = [("SQLite", f"sqlite:///{work / 'cost.sqlite3'}")]
        if args.postgres_url:
            from tests.postgres import temporary_database

            backends.append(("PostgreSQL", stack.enter_context(
                temporary_database(args.postgres_url, prefix="moderation_bench"))))
        for label, url in backends:
            for batched in (False, True):
                measure(label, url, work / "instance", args.deliveries, batched)
            measure_outbox(label, url, work / "instance", args.deliveries)
        measure_exchange(args.deliveries)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
