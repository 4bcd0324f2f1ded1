"""The RQ worker of `flask worker`: jobs run inside the app's context, and the relay runs beside it.

A SimpleWorker (no process per job): deliveries are short and wait on the network, and the app's
database pool is reused from job to job. A worker killed mid-job loses nothing: the delivery's
lease ends and the relay hands it over again.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask
from rq import Queue, SimpleWorker

from moderation.extensions import db
from moderation.jobs.relay import relay

log = logging.getLogger(__name__)
PUBSUB_READ_SECONDS = 1.0


class AppWorker(SimpleWorker):
    app: Flask

    def perform_job(self, *args, **kwargs):
        with self.app.app_context():
            try:
                return super().perform_job(*args, **kwargs)
            finally:
                db.session.remove()

    def subscribe(self):
        """RQ's command channel, read in a thread that waits at most PUBSUB_READ_SECONDS per read.

        RQ reads for 60 s at a time, and redis-py 8.2 joins that thread without a limit when the worker
        stops: a burst, or a worker told to stop, could then wait a minute for its last read to end.
        """
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=PUBSUB_READ_SECONDS, daemon=True, exception_handler=self._pubsub_exception_handler)


def make_worker(app: Flask, queue_name: str | None = None) -> AppWorker:
    from redis import Redis

    connection = Redis.from_url(app.config["REDIS_URL"])
    worker = AppWorker([Queue(queue_name or app.config["JOBS_QUEUE"], connection=connection)], connection=connection)
    worker.app = app
    return worker


def start_relay_thread(app: Flask, stop: threading.Event) -> threading.Thread:
    """Relays every OUTBOX_RELAY_SECONDS until `stop` is set."""
    interval = float(app.config["OUTBOX_RELAY_SECONDS"])

    def loop():
        while not stop.wait(interval):
            try:
                relay(app)
            except Exception:
                log.exception("relaying the outbox failed")

    thread = threading.Thread(target=loop, name="outbox-relay", daemon=True)
    thread.start()
    return thread
