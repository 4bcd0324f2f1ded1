"""The outbox: events that receivers must hear of, written in the same transaction as their cause.

`record()` is called by the services where events happen (posting, `decide()`, reports, closing an
article). When no endpoint wants the event it writes nothing (one look at a small table); else one
`outbox` row and one `webhook_delivery` row per endpoint, in the caller's transaction: the comment
and its event are committed together or not at all. The ids of the new deliveries wait in
`session.info` until the commit, when `moderation.jobs` hands them to the queue; a hand-over that
is lost (the process dies, Redis is down) is made good by the relay, which re-reads the table.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from moderation.models import Article, Comment, DeliveryState, OutboxEvent, WebhookDelivery, WebhookEndpoint

HANDOVER = "outbox_handover"  # session.info key: delivery ids to hand to the queue after commit

_ENDPOINTS = select(WebhookEndpoint.id, WebhookEndpoint.events)
# Built once: a statement made anew on every post would also have its cache key worked out anew.
_INSERT_EVENTS = insert(OutboxEvent).returning(OutboxEvent.key, OutboxEvent.id)
_INSERT_DELIVERIES = insert(WebhookDelivery).returning(WebhookDelivery.id)


def subscribers(db: Session) -> dict[str, list[int]]:
    """event name → ids of the endpoints that want it (one query of a table of a few rows)."""
    wanted: dict[str, list[int]] = {}
    for endpoint_id, events in db.connection().execute(_ENDPOINTS):
        for event in events.split():
            wanted.setdefault(event, []).append(endpoint_id)
    return wanted


def record(db: Session, event: str, data: dict, *, now: datetime, wanted: dict[str, list[int]] | None = None) -> int:
    """Write `event` for every endpoint that wants it; returns how many deliveries. Flushes."""
    return record_all(db, [(event, data)], now=now, wanted=wanted)


def record_all(db: Session, events: list[tuple[str, dict]], *, now: datetime,
               wanted: dict[str, list[int]] | None = None) -> int:
    """Write each (event, data) for every endpoint that wants it: one INSERT for the events and one
    for their deliveries, whatever their number (a post's comment.created and comment.held)."""
    wanted = subscribers(db) if wanted is None else wanted
    chosen = [(event, data) for event, data in events if wanted.get(event)]
    if not chosen:
        return 0
    connection = db.connection()
    keyed = [(str(uuid.uuid4()), event, data) for event, data in chosen]
    # RETURNING in one statement comes in no promised order: each event is found again by its key.
    outbox_ids = dict(connection.execute(_INSERT_EVENTS, [
        {"key": key, "event": event, "created_at": now,
         "payload": json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)} for key, event, data in keyed
    ]).all())
    ids = sorted(connection.execute(_INSERT_DELIVERIES, [
        {"outbox_id": outbox_ids[key], "endpoint_id": endpoint_id, "state": DeliveryState.PENDING, "attempts": 0,
         "next_attempt_at": now, "retry_since": now, "handed_at": now}
        for key, event, _ in keyed for endpoint_id in wanted[event]
    ]).scalars())
    db.info.setdefault(HANDOVER, []).extend(ids)
    return len(ids)


def comment_data(comment_id: int, *, article_slug: str, article_key: str, status: str, nickname: str | None,
                 anonymous: bool, body: str, created_at: datetime, article_id: int | None = None) -> dict:
    """What receivers learn of a comment: never its author's or address's hashes. `article` is the
    article's slug (its URL), `article_key` the newsroom's key (the API's)."""
    return {"id": comment_id, "article": article_slug, "article_key": article_key, "article_id": article_id,
            "status": status, "nickname": None if anonymous else nickname, "anonymous": anonymous, "body": body,
            "created_at": created_at.isoformat()}


def stored_comment_data(db: Session, comment_id: int) -> dict:
    row = db.execute(select(Comment.nickname, Comment.is_anonymous, Comment.body, Comment.status,
                            Comment.created_at, Article.slug, Article.key, Article.id.label("article_id"))
                     .join(Article, Article.id == Comment.article_id).where(Comment.id == comment_id)).one()
    return comment_data(comment_id, article_slug=row.slug, article_key=row.key, status=row.status.value,
                        nickname=row.nickname, anonymous=row.is_anonymous, body=row.body, created_at=row.created_at,
                        article_id=row.article_id)


def comment_posted(db: Session, comment_id: int, *, article_slug: str, article_key: str, status: str,
                   nickname: str | None, anonymous: bool, body: str, now: datetime, article_id: int | None = None,
                   wanted: dict[str, list[int]] | None = None) -> None:
    """comment.created, and comment.held when it waits for a moderator. `wanted`: `subscribers()` as the
    caller already has it (posting keeps it for a few seconds: moderation/short_lived.py)."""
    wanted = subscribers(db) if wanted is None else wanted
    if not wanted:
        return
    data = {"comment": comment_data(comment_id, article_slug=article_slug, article_key=article_key, status=status,
                                    nickname=nickname, anonymous=anonymous, body=body, created_at=now,
                                    article_id=article_id)}
    held = [("comment.held", {**data, "why": "screening"})] if status == "pending" else []
    record_all(db, [("comment.created", data), *held], now=now, wanted=wanted)


def comment_decided(db: Session, comment_id: int, *, decision: str, from_status: str, to_status: str,
                    actor: str, reason: str | None, now: datetime, by_service: bool = False) -> None:
    """comment.decided; and comment.held when the service itself held a published comment (reports)."""
    wanted = subscribers(db)
    if "comment.decided" not in wanted and "comment.held" not in wanted:
        return
    data = {"comment": stored_comment_data(db, comment_id),
            "decision": {"decision": decision, "from": from_status, "to": to_status, "by": actor, "reason": reason}}
    record(db, "comment.decided", data, now=now, wanted=wanted)
    if to_status == "pending" and from_status == "approved" and by_service:
        record(db, "comment.held", {**data, "why": "reports"}, now=now, wanted=wanted)


def comment_reported(db: Session, comment_id: int, *, reason: str, open_reports: int, hides: bool,
                     now: datetime) -> None:
    wanted = subscribers(db)
    if "comment.reported" not in wanted:
        return
    record(db, "comment.reported", {"comment": stored_comment_data(db, comment_id),
                                    "report": {"reason": reason, "open_reports": open_reports, "hides": hides}},
           now=now, wanted=wanted)


def article_closed(db: Session, *, slug: str, key: str, title: str, now: datetime) -> None:
    record(db, "article.closed", {"article": {"slug": slug, "key": key, "title": title}}, now=now)

