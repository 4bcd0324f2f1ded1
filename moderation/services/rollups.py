"""Rolled-up figures for the dashboard, kept in the transaction of each post and decision.

The dashboard must answer in well under a second at a million comments, so it never reads the
comment table for a period: `comment_hour` holds the comments of each article and UTC hour of
posting by their status now (a decision moves one count to another), `rule_hour` each rule's hits
and how many of those are approved now, `decision_time_hour` a histogram of waits per moderator and
hour of decision, `queue_sample` the pending queue at its largest per hour (sampled by the relay).
Each write is one upsert on a primary key. `rebuild()` refills them from the comments and the audit
log (`flask dashboard rebuild`: after an import, an erasure or restoring a backup).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, case, delete, func, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from moderation.models import (
    AuditEntry,
    Comment,
    CommentHour,
    CommentStatus,
    DecisionTimeHour,
    QueueSample,
    RuleHour,
    ScreeningReason,
)

# Histogram buckets of waits: bucket 0 up to 1 s, bucket n up to RATIO**n s. A percentile read back is
# the bucket's geometric middle: within 12 % of the true wait, from a few rows per hour and moderator.
RATIO = 1.25
RULE_HIT_KINDS = ("word", "link_domain")  # as services.rulebook.rule_hits counts them
DECISIONS = ("approve", "reject", "spam")


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def bucket_of(seconds: float) -> int:
    return 0 if seconds <= 1 else math.ceil(math.log(seconds) / math.log(RATIO) - 1e-9)


def bucket_seconds(bucket: int) -> float:
    """The wait a bucket stands for: its geometric middle (half a second for the first)."""
    return 0.5 if bucket == 0 else RATIO ** (bucket - 0.5)


def _upsert(db: Session, model, keys: dict, increments: dict) -> None:
    db.execute(_upsert_statement(db.connection().dialect.name, model, tuple(keys), tuple(increments)),
               {**keys, **increments})


@cache
def _upsert_statement(dialect_name: str, model, keys: tuple[str, ...], increments: tuple[str, ...]):
    table = model.__table__
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(table).values({name: bindparam(name) for name in keys + increments})
    return statement.on_conflict_do_update(
        index_elements=list(keys), set_={name: table.c[name] + statement.excluded[name] for name in increments})


def _held_on_arrival():
    """A comment was held on arrival, told from its screening reasons as screening decided it: by the
    article's pre-moderation, or by a hold reason with no spam or block reason beside it (the
    strongest action wins: held and spammed arrived as spam)."""
    reasons = select(ScreeningReason.id).where(ScreeningReason.comment_id == Comment.id)
    return (reasons.where((ScreeningReason.kind == "pre_moderation") | (ScreeningReason.action == "hold")).exists()
            & ~reasons.where(ScreeningReason.action.in_(("spam", "block"))).exists())


def comment_posted(db: Session, *, article_id: int, created_at: datetime, status: CommentStatus,
                   rule_ids: Iterable[str]) -> None:
    hour = hour_of(created_at)
    _upsert(db, CommentHour, {"hour": hour, "article_id": article_id},
            {status.value: 1, "held_on_arrival": int(status is CommentStatus.PENDING)})
    for rule_id in sorted(set(rule_ids)):
        _upsert(db, RuleHour, {"hour": hour, "rule_id": rule_id},
                {"hits": 1, "approved": int(status is CommentStatus.APPROVED)})


def comment_moved(db: Session, comment_id: int, *, article_id: int, created_at: datetime,
                  from_status: CommentStatus, to_status: CommentStatus, moderator_id: int | None,
                  now: datetime) -> None:
    """A decision: the counts follow the comment, and a moderator's decision on a waiting comment
    adds its wait to the histogram."""
    hour = hour_of(created_at)
    _upsert(db, CommentHour, {"hour": hour, "article_id": article_id}, {from_status.value: -1, to_status.value: 1})
    if CommentStatus.APPROVED in (from_status, to_status):
        delta = 1 if to_status is CommentStatus.APPROVED else -1
        rule_ids = db.scalars(select(ScreeningReason.rule_id).distinct().where(
            ScreeningReason.comment_id == comment_id, ScreeningReason.kind.in_(RULE_HIT_KINDS)))
        for rule_id in sorted(rule_ids):
            _upsert(db, RuleHour, {"hour": hour, "rule_id": rule_id}, {"approved": delta})
    if moderator_id is not None and from_status is CommentStatus.PENDING and to_status is not CommentStatus.PENDING:
        waited = max(0.0, (now - created_at).total_seconds())
        _upsert(db, DecisionTimeHour, {"hour": hour_of(now), "moderator_id": moderator_id,
                                       "bucket": bucket_of(waited)}, {"decisions": 1})


def rule_hits_replaced(db: Session, *, created_at: datetime, before: Iterable[str], after: Iterable[str]) -> None:
    """A waiting comment re-screened: the rules that no longer match it lose its hit, new ones gain it."""
    before, after = set(before), set(after)
    for rule_id, delta in sorted([(rule_id, -1) for rule_id in before - after] + [(rule_id, 1) for rule_id in after - before]):
        _upsert(db, RuleHour, {"hour": hour_of(created_at), "rule_id": rule_id}, {"hits": delta})


def comments_erased(db: Session, comment_ids: list[int]) -> None:
    """Comments about to be deleted (an author's erasure): their counts leave the rollups. Held on
    arrival is told as by `rebuild()` (`_held_on_arrival`). Flushes."""
    held = _held_on_arrival()
    for start in range(0, len(comment_ids), 500):
        chunk = comment_ids[start:start + 500]
        for comment_id, article_id, created_at, status, was_held in db.execute(
                select(Comment.id, Comment.article_id, Comment.created_at, Comment.status, held)
                .where(Comment.id.in_(chunk))):
            hour = hour_of(created_at)
            _upsert(db, CommentHour, {"hour": hour, "article_id": article_id},
                    {status.value: -1, "held_on_arrival": -int(bool(was_held))})
            rule_ids = db.scalars(select(ScreeningReason.rule_id).distinct().where(
                ScreeningReason.comment_id == comment_id, ScreeningReason.kind.in_(RULE_HIT_KINDS)))
            for rule_id in sorted(rule_ids):
                _upsert(db, RuleHour, {"hour": hour, "rule_id": rule_id},
                        {"hits": -1, "approved": -int(status is CommentStatus.APPROVED)})


def pending_now(db: Session, *, now: datetime) -> tuple[int, int]:
    """How many comments wait, and how long the oldest has waited (seconds): one indexed query."""
    count, oldest = db.execute(select(func.count(), func.min(Comment.created_at))
                               .where(Comment.status == CommentStatus.PENDING)).one()
    if not count:
        return 0, 0
    if oldest.tzinfo is None:  # min() over the column bypasses its type on some backends
        oldest = oldest.replace(tzinfo=UTC)
    return count, max(0, int((now - oldest).total_seconds()))


def sample_queue(db: Session, *, now: datetime) -> None:
    """Keep the hour's largest queue and longest wait. Flushes; the caller commits."""
    pending, waited = pending_now(db, now=now)
    table = QueueSample.__table__
    dialect = postgresql if db.connection().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(hour=hour_of(now), pending=pending, oldest_wait_seconds=waited)
    excluded = statement.excluded
    db.execute(statement.on_conflict_do_update(index_elements=["hour"], set_={
        "pending": case((table.c.pending < excluded.pending, excluded.pending), else_=table.c.pending),
        "oldest_wait_seconds": case((table.c.oldest_wait_seconds < excluded.oldest_wait_seconds,
                                     excluded.oldest_wait_seconds), else_=table.c.oldest_wait_seconds),
    }))


def _hour_expression(db: Session, column):
    if db.connection().dialect.name == "postgresql":
        return func.date_trunc("hour", column)
    return func.strftime("%Y-%m-%d %H:00:00.000000", column)


def _as_hour(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def rebuild(db: Session) -> dict[str, int]:
    """Refill the comment, rule and decision-time rollups from the comments and the audit log (a few
    grouped scans). The queue's samples cannot be recomputed and are kept. Flushes."""
    for model in (CommentHour, RuleHour, DecisionTimeHour):
        db.execute(delete(model))
    hour = _hour_expression(db, Comment.created_at).label("hour")
    counts: dict[tuple, dict[str, int]] = {}
    for row in db.execute(select(hour, Comment.article_id, Comment.status, func.count())
                          .group_by(literal_column("hour"), Comment.article_id, Comment.status)):
        values = counts.setdefault((_as_hour(row[0]), row[1]), {status.value: 0 for status in CommentStatus})
        values[row[2].value] = row[3]
    held = dict(((_as_hour(row[0]), row[1]), row[2]) for row in db.execute(
        select(hour, Comment.article_id, func.count()).where(_held_on_arrival())
        .group_by(literal_column("hour"), Comment.article_id)))
    if counts:
        db.execute(CommentHour.__table__.insert(), [
            {"hour": key[0], "article_id": key[1], **values, "held_on_arrival": held.get(key, 0)}
            for key, values in counts.items()])
    rules = [
        {"hour": _as_hour(row[0]), "rule_id": row[1], "hits": row[2], "approved": row[3]}
        for row in db.execute(
            select(hour, ScreeningReason.rule_id, func.count(func.distinct(Comment.id)),
                   func.count(func.distinct(case((Comment.status == CommentStatus.APPROVED, Comment.id)))))
            .join(Comment, Comment.id == ScreeningReason.comment_id)
            .where(ScreeningReason.kind.in_(RULE_HIT_KINDS))
            .group_by(literal_column("hour"), ScreeningReason.rule_id))]
    if rules:
        db.execute(RuleHour.__table__.insert(), rules)
    waits: dict[tuple, int] = {}
    decided = (select(AuditEntry.at, AuditEntry.moderator_id, Comment.created_at)
               .join(Comment, Comment.id == AuditEntry.comment_id)
               .where(AuditEntry.action.in_(DECISIONS), AuditEntry.from_status == CommentStatus.PENDING.value,
                      AuditEntry.moderator_id.is_not(None)))
    for at, moderator_id, created_at in db.execute(decided).yield_per(10_000):
        key = (hour_of(at), moderator_id, bucket_of(max(0.0, (at - created_at).total_seconds())))
        waits[key] = waits.get(key, 0) + 1
    if waits:
        db.execute(DecisionTimeHour.__table__.insert(), [
            {"hour": key[0], "moderator_id": key[1], "bucket": key[2], "decisions": count}
            for key, count in waits.items()])
    db.flush()
    return {"comment_hours": len(counts), "rule_hours": len(rules), "decision_buckets": len(waits)}


def hours_back(now: datetime, hours: int) -> datetime:
    """The first hour of a period of `hours` hours ending with the current one."""
    return hour_of(now) - timedelta(hours=hours - 1)
