"""What one webhook delivery costs its sender: statements, commits and CPU, one at a time
(`delivery.deliver`, as `flask worker` sends) against in batches (`batches.BatchSender`, as the
thread runner sends without Redis), to the test receiver on loopback (HTTP/1.1, checks signatures).

Run: `.venv/bin/python -m bench.delivery_cost [--deliveries 300] [--postgres-url URL]`. Statements
and commits come from SQLAlchemy's engine events; CPU from the sending thread's own clock
(`time.thread_time`) and the whole process's (the receiver's threads are the difference). A
direction-finder for profiling, not a target: `bench.serving --webhooks` judges posting.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event, select

from bench.apps import bench_config
from moderation import create_app
from moderation.extensions import db
from moderation.jobs.batches import BatchSender
from moderation.jobs.delivery import deliver_in_app
from moderation.models import WebhookDelivery
from moderation.services import outbox, webhooks
from tests.receivers import Receiver, start_receiver


def measure(label: str, database_url: str, instance: Path, count: int, batched: bool) -> None:
    app = create_app(bench_config({"DATABASE_URL": database_url, "INSTANCE_PATH": str(instance),
                                   "SECRET_KEY": "bench-secret-key", "IP_PEPPER": "bench-ip-pepper",
                                   "JOBS_RUNNER": "off", "REQUEST_LOG": False}))
    receiver = Receiver(secret="bench-webhook-secret-0123")
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
