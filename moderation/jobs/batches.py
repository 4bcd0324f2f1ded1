"""Deliveries in batches: how what posts hand over is sent, by the thread runner (no Redis) and by
the queue's worker (`run_delivery_batch`).

A batch costs the same few statements whatever its size: one UPDATE claims every due delivery of it
to a "json" endpoint (a lease, as `webhooks.claim` takes for one), one SELECT reads their events
and endpoints, a commit; then each is sent (the endpoint's address checked at most every
WEBHOOK_ADDRESS_CHECK_SECONDS and the connection pinned to it and kept open, jobs/connections.py);
then one executemany UPDATE records every outcome, one more the endpoints' last success or problem,
a commit. A worker that dies between the claim and the record lets the batch go when its lease
ends, and the relay hands it over again: at least once, under the same idempotency key. Chat and
e-mail endpoints (quiet period, digests) and whatever the batch did not claim go through
`delivery.deliver` one by one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import Integer, Row, bindparam, case, func, null, select, update
from sqlalchemy.orm import Session

from moderation.clock import now
from moderation.extensions import db
from moderation.jobs.connections import CheckedAddresses, KeptConnections
from moderation.jobs.delivery import Answer, deliver_in_app, post, signed_event
from moderation.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from moderation.services import webhooks
from moderation.services.webhooks import RetryPolicy

log = logging.getLogger(__name__)
_DELIVERY = WebhookDelivery.__table__
_ENDPOINT = WebhookEndpoint.__table__


# Built once, with the batch's values as parameters: a statement made anew for each batch would also
# have its cache key worked out anew.
_NOW = bindparam("b_now", type_=_DELIVERY.c.next_attempt_at.type)
_CLAIM = (
    update(_DELIVERY)
    .where(_DELIVERY.c.id.in_(bindparam("b_ids", expanding=True)), *webhooks.due_and_free(_NOW),
           _DELIVERY.c.endpoint_id.in_(select(_ENDPOINT.c.id).where(_ENDPOINT.c.format == "json")))
    .values(webhooks.claimed(_NOW, bindparam("b_lease_until", type_=_DELIVERY.c.lease_until.type)))
    .returning(_DELIVERY.c.id)
)
_CLAIMED_ROWS = (
    select(WebhookDelivery.id, WebhookDelivery.endpoint_id, WebhookDelivery.attempts, WebhookDelivery.retry_since,
           WebhookEndpoint.url, WebhookEndpoint.secret, WebhookEndpoint.allow_private,
           OutboxEvent.key, OutboxEvent.event, OutboxEvent.created_at, OutboxEvent.payload)
    .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
    .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.outbox_id)
    .where(WebhookDelivery.id.in_(bindparam("b_ids", expanding=True))).order_by(WebhookDelivery.id)
)


def claim_batch(session: Session, ids: Sequence[int], *, now: datetime, lease_seconds: float) -> list[int]:
    """Take those of `ids` that are due, free and for a "json" endpoint, in one UPDATE; the caller commits."""
    if not ids:
        return []
    return list(session.scalars(_CLAIM, {"b_ids": list(ids), "b_now": now,
                                         "b_lease_until": now + timedelta(seconds=lease_seconds)}))


def claimed_rows(session: Session, ids: Sequence[int]) -> list[Row]:
    """What sending the claimed deliveries needs, in one SELECT."""
    if not ids:
        return []
    return list(session.execute(_CLAIMED_ROWS, {"b_ids": list(ids)}))


_RECORD = (
    update(_DELIVERY).where(_DELIVERY.c.id == bindparam("b_id"))
    .values(state=bindparam("b_state", type_=_DELIVERY.c.state.type), lease_until=null(),
            last_status_code=bindparam("b_status", type_=Integer),
            last_problem=bindparam("b_problem", type_=_DELIVERY.c.last_problem.type),
            delivered_at=func.coalesce(bindparam("b_delivered_at", type_=_DELIVERY.c.delivered_at.type),
                                       _DELIVERY.c.delivered_at),
            next_attempt_at=func.coalesce(bindparam("b_next_attempt_at", type_=_DELIVERY.c.next_attempt_at.type),
                                          _DELIVERY.c.next_attempt_at),
            handed_at=case((bindparam("b_retry", type_=Integer) == 1, null()), else_=_DELIVERY.c.handed_at))
)
_ENDPOINT_HEARD = (
    update(_ENDPOINT).where(_ENDPOINT.c.id == bindparam("b_id"))
    .values(last_success_at=func.coalesce(bindparam("b_success_at", type_=_ENDPOINT.c.last_success_at.type),
                                          _ENDPOINT.c.last_success_at),
            last_problem=func.coalesce(bindparam("b_problem", type_=_ENDPOINT.c.last_problem.type),
                                       _ENDPOINT.c.last_problem),
            last_problem_at=func.coalesce(bindparam("b_problem_at", type_=_ENDPOINT.c.last_problem_at.type),
                                          _ENDPOINT.c.last_problem_at))
)


def record_batch(session: Session, outcomes: Sequence[tuple[Row, Answer]], *, now: datetime,
                 policy: RetryPolicy) -> None:
    """Every outcome in one executemany UPDATE, the endpoints' last success or problem in another
    (the same verdict as `webhooks.record_outcome`: `webhooks.attempt_verdict`); the caller commits."""
    if not outcomes:
        return
    deliveries, endpoints = [], {}
    for row, answer in outcomes:
        problem = answer.problem.value if answer.problem else None
        heard = endpoints.setdefault(row.endpoint_id, {"b_id": row.endpoint_id, "b_success_at": None,
                                                       "b_problem": None, "b_problem_at": None})
        state, when = webhooks.attempt_verdict(answer.problem, attempts=row.attempts, retry_since=row.retry_since,
                                               now=now, policy=policy)
        if problem is None:
            heard["b_success_at"] = now
        else:
            heard["b_problem"], heard["b_problem_at"] = problem, now
        deliveries.append({"b_id": row.id, "b_state": state, "b_status": answer.status_code, "b_problem": problem,
                           "b_delivered_at": now if problem is None else None, "b_next_attempt_at": when,
                           "b_retry": 1 if when else 0})
    session.execute(_RECORD, deliveries)
    session.execute(_ENDPOINT_HEARD, list(endpoints.values()))


def release(session: Session, ids: Sequence[int]) -> None:
    """Claimed but not attempted (the batch ran out of its lease's time): free again, attempt not counted."""
    if ids:
        session.execute(update(_DELIVERY).where(_DELIVERY.c.id.in_(ids))
                        .values(lease_until=null(), attempts=_DELIVERY.c.attempts - 1))


class BatchSender:
    """Sends batches for one thread, keeping checked addresses and open connections between them."""

    def __init__(self, app: Flask):
        self.app = app
        config = app.config
        self.addresses = CheckedAddresses(float(config["WEBHOOK_ADDRESS_CHECK_SECONDS"]))
        self.connections = KeptConnections(float(config["WEBHOOK_KEEPALIVE_SECONDS"]))

    def deliver(self, ids: Sequence[int]) -> list[int]:
        """One batch; returns the ids it left for `delivery.deliver` (not claimed here, or not reached)."""
        with self.app.app_context():
            try:
                return self._deliver(ids)
            finally:
                db.session.remove()

    def _deliver(self, ids: Sequence[int]) -> list[int]:
        config, session = self.app.config, db.session
        lease = float(config["WEBHOOK_LEASE_SECONDS"])
        total = float(config["WEBHOOK_TOTAL_TIMEOUT_SECONDS"])
        claimed = claim_batch(session, ids, now=now(), lease_seconds=lease)
        rows = claimed_rows(session, claimed)
        session.commit()  # nothing held open while the network is used
        stop_sending = time.monotonic() + lease - total - 1  # each attempt ends within its lease
        outcomes, unsent = [], []
        for row in rows:
            if time.monotonic() > stop_sending:
                unsent.append(row.id)
            else:
                outcomes.append((row, self._send(row)))
        release(session, unsent)
        record_batch(session, outcomes, now=now(), policy=RetryPolicy.from_config(config))
        session.commit()
        self.connections.close_idle()
        taken = set(claimed)
        return [each for each in ids if each not in taken] + unsent

    def _send(self, row: Row) -> Answer:
        headers, body = signed_event(row.key, row.event, row.created_at, row.payload, endpoint_id=row.endpoint_id,
                                     secret=row.secret, at=now())
        return post(self.app.config, row.url, headers, body, allow_private=row.allow_private,
                    addresses=self.addresses, kept=self.connections)

    def close(self) -> None:
        self.connections.close()


def send_batch(app: Flask, sender: BatchSender, ids: Sequence[int], *, stopped: threading.Event | None = None) -> None:
    """A batch through `sender`, and what it left one by one through `delivery.deliver`."""
    try:
        left = sender.deliver(ids)
    except Exception:
        log.exception("a batch of %d deliveries failed unexpectedly", len(ids))
        left = []  # claimed ones wait out their lease; the relay hands them over again
    for delivery_id in left:
        if stopped is not None and stopped.is_set():
            return
        try:
            deliver_in_app(app, delivery_id)
        except Exception:
            log.exception("delivery %s failed unexpectedly", delivery_id)


_KEPT_SENDER = "delivery_sender"  # app.extensions: the worker's sender, kept from job to job


def run_delivery_batch(ids: list[int]) -> int:
    """The queue's job (RedisRunner hands over a batch; the worker pushes the app context). The worker's
    sender is kept from job to job, with its checked addresses and open connections, until
    `close_kept_sender` when the worker stops."""
    app = current_app._get_current_object()
    sender = app.extensions.get(_KEPT_SENDER)
    if sender is None:
        sender = app.extensions[_KEPT_SENDER] = BatchSender(app)
    send_batch(app, sender, ids)
    return len(ids)


def close_kept_sender(app: Flask) -> None:
    """The worker's kept connections closed (it stops)."""
    sender = app.extensions.pop(_KEPT_SENDER, None)
    if sender is not None:
        sender.close()
