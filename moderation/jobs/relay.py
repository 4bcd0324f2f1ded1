"""The relay: re-reads the outbox for deliveries that are due and not in anyone's hands.

A delivery is due when it is pending, its next attempt has come, no worker holds its lease, and it
was not handed to the queue within OUTBOX_HANDOVER_GRACE_SECONDS (a hand-over that is still in the
queue is left alone; one lost with a dead process or a Redis restart is handed over again). Runs
when a worker starts, every OUTBOX_RELAY_SECONDS in the worker (or the thread runner), and on
`flask outbox relay`. Handing one delivery over twice is harmless: `webhooks.claim` lets only one
attempt through at a time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.orm import Session

from moderation.extensions import db
from moderation.models import DeliveryState, OutboxEvent, WebhookDelivery
from moderation.services import alerts, outbox, rollups, surge


def due_deliveries(session: Session, *, now: datetime, grace_seconds: float, limit: int = 500) -> list[int]:
    """Ids of the due deliveries, marked as handed over now. The caller commits, then hands them over."""
    stale = now - timedelta(seconds=grace_seconds)
    ids = list(session.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.state == DeliveryState.PENDING, WebhookDelivery.next_attempt_at <= now,
               or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until <= now),
               or_(WebhookDelivery.handed_at.is_(None), WebhookDelivery.handed_at <= stale))
        .order_by(WebhookDelivery.id).limit(limit)))
    if ids:
        session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(ids)).values(handed_at=now)
                        .execution_options(synchronize_session=False))
    return ids


def prune(session: Session, *, now: datetime, keep_days: float) -> int:
    """Delete events older than `keep_days` none of whose deliveries is still pending (with their
    deliveries): the outbox holds comments' words, and a delivery's record is kept this long."""
    old = select(OutboxEvent.id).where(
        OutboxEvent.created_at < now - timedelta(days=keep_days),
        ~exists().where(WebhookDelivery.outbox_id == OutboxEvent.id, WebhookDelivery.state == DeliveryState.PENDING))
    ids = list(session.scalars(old.limit(1000)))
    if ids:
        session.execute(delete(WebhookDelivery).where(WebhookDelivery.outbox_id.in_(ids)))
        session.execute(delete(OutboxEvent).where(OutboxEvent.id.in_(ids)))
    return len(ids)


def say_backlog(session: Session, config, *, now: datetime) -> bool:
    """Record a queue.backlog event when an endpoint wants it, the pending queue is over its limits,
    and it was not said within ALERT_BACKLOG_REPEAT_MINUTES."""
    if "queue.backlog" not in outbox.subscribers(session):
        return False
    if alerts.backlog_said_recently(session, now=now, repeat_minutes=int(config["ALERT_BACKLOG_REPEAT_MINUTES"])):
        return False
    found = alerts.backlog(session, now=now, max_pending=int(config["ALERT_QUEUE_SIZE"]),
                           max_age_minutes=int(config["ALERT_QUEUE_AGE_MINUTES"]))
    if found is None:
        return False
    outbox.record(session, "queue.backlog", {"queue": {"pending": found.pending, "oldest_minutes": found.oldest_minutes}},
                  now=now)
    return True


def relay_in_app(app: Flask) -> list[int]:
    """The due deliveries, committed as handed over (old finished events pruned on the way); the
    caller hands them to its runner."""
    with app.app_context():
        try:
            now = app.config["CLOCK"]()
            ids = due_deliveries(db.session, now=now, grace_seconds=float(app.config["OUTBOX_HANDOVER_GRACE_SECONDS"]))
            prune(db.session, now=now, keep_days=float(app.config["OUTBOX_KEEP_DAYS"]))
            say_backlog(db.session, app.config, now=now)  # its deliveries are handed over after the commit
            rollups.sample_queue(db.session, now=now)  # the dashboard's queue over time
            surge.calm_down(db.session, now=now, settings=surge.Settings.from_config(app.config))
            db.session.commit()
            return ids
        finally:
            db.session.remove()


def relay(app: Flask) -> list[int]:
    """Find the due deliveries and hand them to the app's runner."""
    ids = relay_in_app(app)
    if ids:
        app.extensions["jobs"].hand_over(ids, at_once=True)
    return ids
