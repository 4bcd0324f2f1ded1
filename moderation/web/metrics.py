"""Blueprint for the operator's monitoring: /metrics in the Prometheus text format.

Served only when METRICS_TOKEN is set, to a scraper that sends it as `Authorization: Bearer …`
(404 without the setting, 401 with a wrong token), and never cached. The process figures come
from moderation/metrics.py, added up over every gunicorn worker; the database's own figures
(the queue, open reports, deliveries waiting) are read at each scrape from indexed columns. When
the database does not answer, the scrape still succeeds and says so (moderation_database_up 0).
"""

from __future__ import annotations

import glob
import hmac
import os
import time
from datetime import datetime

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import event, func, select
from sqlalchemy.exc import SQLAlchemyError

from moderation import metrics
from moderation.extensions import db
from moderation.models import Comment, CommentReport, CommentStatus, DeliveryState, OutboxEvent, WebhookDelivery
from moderation.web import health

bp = Blueprint("metrics", __name__)


def register(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.before_request
    def start_clock():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def observe(response):
        started = g.pop("metrics_started", None)
        if started is not None:
            metrics.REQUEST_SECONDS.labels(request.endpoint or "unmatched", request.method,
                                           str(response.status_code)).observe(time.perf_counter() - started)
        return response

    with app.app_context():
        engine = db.engine
    # After the engine's own checkout check (database.py): a connection it discards is never counted.
    event.listen(engine, "checkout", lambda *_: metrics.DATABASE_CONNECTIONS_IN_USE.inc())
    event.listen(engine, "checkin", lambda *_: metrics.DATABASE_CONNECTIONS_IN_USE.dec())


@bp.get("/metrics")
def scrape():
    token = current_app.config["METRICS_TOKEN"]
    if not token:
        abort(404)
    if not hmac.compare_digest(request.headers.get("Authorization", "").encode(), f"Bearer {token}".encode()):
        response = Response("a valid metrics token is needed\n", 401, mimetype="text/plain")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return _no_store(response)
    stored = CollectorRegistry(auto_describe=False)
    stored.register(StoredFigures(current_app.config["CLOCK"]()))
    body = generate_latest(_process_figures()) + generate_latest(stored)
    return _no_store(Response(body, 200, content_type=CONTENT_TYPE_LATEST))


def _process_figures() -> CollectorRegistry:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return REGISTRY  # one process (flask run, the tests): its own figures
    registry = CollectorRegistry()
    registry.register(WorkersFigures(folder))
    return registry


class WorkersFigures:
    """Every worker's figures added up, as MultiProcessCollector adds them, without the empty files.

    A worker creates its file for a kind of figure empty and sizes it a moment later; a scrape
    that read it in between failed whole, with a 500 (prometheus/client_python#1199; a killed
    worker can leave it so). An empty file holds no figures."""

    def __init__(self, folder: str):
        self.folder = folder

    def collect(self):
        return MultiProcessCollector.merge([path for path in glob.glob(os.path.join(self.folder, "*.db"))
                                            if _holds_bytes(path)], accumulate=True)


def _holds_bytes(path: str) -> bool:
    try:
        return os.path.getsize(path) > 0
    except FileNotFoundError:  # a live gauge's file, removed when its worker stopped
        return False


class StoredFigures:
    """What the database holds, read at scrape time."""

    def __init__(self, now: datetime):
        self.now = now

    def collect(self):
        disk = GaugeMetricFamily("moderation_instance_disk_free_bytes",
                                 "Free bytes on the instance folder's disk (SQLite, exports, uploads).")
        disk.add_metric([], health.disk_free_bytes())
        yield disk
        up = GaugeMetricFamily("moderation_database_up", "1 when the database answered this scrape.")
        try:
            families = list(self._from_database())
        except SQLAlchemyError:
            db.session.rollback()
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _from_database(self):
        session = db.session
        pending = session.execute(
            select(func.count(), func.min(Comment.created_at)).where(Comment.status == CommentStatus.PENDING)
        ).one()
        queue = GaugeMetricFamily("moderation_queue_pending", "Comments waiting for a moderator.")
        queue.add_metric([], pending[0])
        oldest = GaugeMetricFamily("moderation_queue_oldest_pending_age_seconds",
                                   "How long the oldest pending comment has waited (0 when none waits).")
        oldest.add_metric([], max(0.0, (self.now - pending[1]).total_seconds()) if pending[1] else 0.0)
        reports = GaugeMetricFamily("moderation_reports_open", "Readers' reports not yet closed by a decision.")
        reports.add_metric([], session.scalar(
            select(func.count()).select_from(CommentReport).where(CommentReport.resolved_at.is_(None))))
        deliveries = GaugeMetricFamily("moderation_webhook_deliveries", "Webhook deliveries by state.",
                                       labels=["state"])
        counted = dict(session.execute(
            select(WebhookDelivery.state, func.count()).group_by(WebhookDelivery.state)).all())
        for state in DeliveryState:
            deliveries.add_metric([state.value], counted.get(state, 0))
        outbox = GaugeMetricFamily("moderation_outbox_events", "Events in the outbox (kept until their deliveries end).")
        outbox.add_metric([], session.scalar(select(func.count()).select_from(OutboxEvent)))
        session.rollback()  # a read: nothing to keep open
        yield from (queue, oldest, reports, deliveries, outbox)
        yield from _job_queue_figures()


def _job_queue_figures():
    """The RQ queue's depth and failed jobs, when the jobs run on Redis."""
    runner = current_app.extensions["jobs"]
    if runner.name != "redis":
        return
    from redis.exceptions import RedisError

    try:
        queue = runner.queue()
        depth, failed = queue.count, queue.failed_job_registry.count
    except RedisError:
        depth = failed = None
    reachable = GaugeMetricFamily("moderation_job_queue_up", "1 when Redis answered this scrape.")
    reachable.add_metric([], 0 if depth is None else 1)
    yield reachable
    if depth is not None:
        waiting = GaugeMetricFamily("moderation_job_queue_depth", "Jobs waiting on the queue.")
        waiting.add_metric([], depth)
        failures = GaugeMetricFamily("moderation_job_queue_failed", "Jobs in the queue's failed registry.")
        failures.add_metric([], failed)
        yield from (waiting, failures)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response
