"""The dashboard's figures for the last 24 hours, 7 days or 30 days, read from the rollups
(services.rollups) and a few indexed reads: never a scan of the comments, so a million comments
cost what a thousand do. Slots are hours for 24 hours, days in DISPLAY_TIMEZONE otherwise.
"""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from moderation.models import (
    Article,
    AuditEntry,
    Comment,
    CommentHour,
    CommentReport,
    CommentStatus,
    DecisionTimeHour,
    DomainRuleRow,
    Moderator,
    QueueSample,
    RuleHour,
    ScreeningReason,
    WordRuleRow,
)
from moderation.services.audit import AuditAction
from moderation.services.rollups import bucket_seconds, hour_of, pending_now

HELD_SHARE_MIN_COMMENTS = 10  # an article with fewer comments has no meaningful held share


class Span(enum.StrEnum):
    DAY = "24h"
    WEEK = "7d"
    MONTH = "30d"

    @property
    def days(self) -> int:
        return {"24h": 1, "7d": 7, "30d": 30}[self.value]


@dataclass(frozen=True)
class Period:
    span: Span
    slots: list[datetime]  # each slot's start, in the display zone
    since: datetime  # UTC: the first rollup hour read

    @property
    def hourly(self) -> bool:
        return self.span is Span.DAY


def period(span: Span, *, now: datetime, zone: ZoneInfo) -> Period:
    if span is Span.DAY:
        first = hour_of(now) - timedelta(hours=23)
        return Period(span, [(first + timedelta(hours=index)).astimezone(zone) for index in range(24)], first)
    today = now.astimezone(zone).date()
    days = [today - timedelta(days=span.days - 1 - index) for index in range(span.days)]
    starts = [datetime(day.year, day.month, day.day, tzinfo=zone) for day in days]
    return Period(span, starts, hour_of(starts[0].astimezone(UTC)))


def _slot_key(moment: datetime, p: Period, zone: ZoneInfo):
    return hour_of(moment).astimezone(zone) if p.hourly else moment.astimezone(zone).date()


def _keys(p: Period) -> list:
    return list(p.slots) if p.hourly else [slot.date() for slot in p.slots]


def _aware(value) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# --- Comments by outcome ------------------------------------------------------------------------

@dataclass(frozen=True)
class OutcomeRow:
    start: datetime
    approved: int
    pending: int
    rejected: int
    spam: int

    @property
    def total(self) -> int:
        return self.approved + self.pending + self.rejected + self.spam


def outcomes(db: Session, p: Period, zone: ZoneInfo) -> list[OutcomeRow]:
    """Comments posted in each slot, by their status now (published, held, rejected, spam)."""
    sums: dict = defaultdict(lambda: [0, 0, 0, 0])
    query = (select(CommentHour.hour, func.sum(CommentHour.approved), func.sum(CommentHour.pending),
                    func.sum(CommentHour.rejected), func.sum(CommentHour.spam))
             .where(CommentHour.hour >= p.since).group_by(CommentHour.hour))
    for hour, *counts in db.execute(query):
        slot = sums[_slot_key(_aware(hour), p, zone)]
        for index, count in enumerate(counts):
            slot[index] += int(count or 0)
    return [OutcomeRow(start, *sums.get(key, [0, 0, 0, 0])) for start, key in zip(p.slots, _keys(p), strict=True)]


# --- The queue over time -------------------------------------------------------------------------

@dataclass(frozen=True)
class QueueRow:
    start: datetime
    pending: int | None  # None: no sample in this slot
    oldest_wait_minutes: int | None


def queue_over_time(db: Session, p: Period, zone: ZoneInfo, *, now: datetime) -> list[QueueRow]:
    """The largest queue and longest wait per slot, from the hourly samples and, for the current
    slot, the queue as it is now."""
    found: dict = {}
    samples = db.execute(select(QueueSample.hour, QueueSample.pending, QueueSample.oldest_wait_seconds)
                         .where(QueueSample.hour >= p.since)).all()
    current_pending, current_wait = pending_now(db, now=now)
    for hour, pending, waited in [*samples, (now, current_pending, current_wait)]:
        key = _slot_key(_aware(hour), p, zone)
        before = found.get(key, (0, 0))
        found[key] = (max(before[0], pending), max(before[1], waited))
    return [QueueRow(start, *((found[key][0], found[key][1] // 60) if key in found else (None, None)))
            for start, key in zip(p.slots, _keys(p), strict=True)]


# --- Time to decision ----------------------------------------------------------------------------

@dataclass(frozen=True)
class DecisionTimes:
    decisions: int
    median_seconds: float | None
    p90_seconds: float | None


def _times(histogram: Counter) -> DecisionTimes:
    total = sum(histogram.values())
    if not total:
        return DecisionTimes(0, None, None)
    return DecisionTimes(total, _percentile(histogram, total, 0.5), _percentile(histogram, total, 0.9))


def _percentile(histogram: Counter, total: int, share: float) -> float:
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= share * total:
            return bucket_seconds(bucket)
    return bucket_seconds(max(histogram))


@dataclass(frozen=True)
class DecisionTimeRow:
    start: datetime
    times: DecisionTimes


@dataclass(frozen=True)
class ModeratorTimes:
    name: str
    times: DecisionTimes


def decision_times(db: Session, p: Period, zone: ZoneInfo) -> tuple[list[DecisionTimeRow], list[ModeratorTimes]]:
    """Median and 90th percentile of the wait for a moderator's decision, per slot and per moderator
    over the whole period (from the histograms: within 12 % of the exact figure)."""
    per_slot: dict = defaultdict(Counter)
    per_moderator: dict = defaultdict(Counter)
    query = (select(DecisionTimeHour.hour, DecisionTimeHour.moderator_id, DecisionTimeHour.bucket,
                    func.sum(DecisionTimeHour.decisions))
             .where(DecisionTimeHour.hour >= p.since)
             .group_by(DecisionTimeHour.hour, DecisionTimeHour.moderator_id, DecisionTimeHour.bucket))
    for hour, moderator_id, bucket, count in db.execute(query):
        per_slot[_slot_key(_aware(hour), p, zone)][bucket] += int(count)
        per_moderator[moderator_id][bucket] += int(count)
    names = dict(db.execute(select(Moderator.id, Moderator.name).where(Moderator.id.in_(list(per_moderator)))).all())
    rows = [DecisionTimeRow(start, _times(per_slot.get(key, Counter()))) for start, key in zip(p.slots, _keys(p), strict=True)]
    moderators = sorted((ModeratorTimes(names.get(moderator_id, "?"), _times(histogram))
                         for moderator_id, histogram in per_moderator.items()),
                        key=lambda row: (-row.times.decisions, row.name))
    return rows, moderators


# --- Reports -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportRow:
    reason: str
    open: int  # no decision yet (the comment published, or hidden by reports and waiting)
    kept: int  # a moderator kept the comment published
    removed: int  # rejected or marked spam

    @property
    def total(self) -> int:
        return self.open + self.kept + self.removed


def reports(db: Session, p: Period) -> list[ReportRow]:
    """Readers' reports made in the period, by reason and by what became of them."""
    rows: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    query = (select(CommentReport.reason, CommentReport.resolved_at.is_(None), Comment.status, func.count())
             .join(Comment, Comment.id == CommentReport.comment_id)
             .where(CommentReport.created_at >= p.since)
             .group_by(CommentReport.reason, CommentReport.resolved_at.is_(None), Comment.status))
    for reason, unresolved, status, count in db.execute(query):
        index = 0 if unresolved else (1 if status is CommentStatus.APPROVED else 2)
        rows[reason.value][index] += count
    return [ReportRow(reason, *counts) for reason, counts in sorted(rows.items(), key=lambda item: -sum(item[1]))]


# --- Rules ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RuleRow:
    rule_id: str
    term: str
    hits: int
    approved: int  # of the comments it matched, how many are published now: its 誤判 (false hit) count
    reported_wrong: int

    @property
    def false_hit_rate(self) -> float | None:
        return self.approved / self.hits if self.hits else None


def top_rules(db: Session, p: Period, *, limit: int) -> list[RuleRow]:
    hits = func.sum(RuleHour.hits)
    found = db.execute(select(RuleHour.rule_id, hits, func.sum(RuleHour.approved))
                       .where(RuleHour.hour >= p.since).group_by(RuleHour.rule_id)
                       .order_by(hits.desc(), RuleHour.rule_id).limit(limit)).all()
    wrong = dict(db.execute(select(AuditEntry.note, func.count())
                            .where(AuditEntry.action == AuditAction.RULE_WRONG, AuditEntry.at >= p.since,
                                   AuditEntry.note.in_([row[0] for row in found]))
                            .group_by(AuditEntry.note)).all())
    return [RuleRow(rule_id, _rule_term(db, rule_id), int(count), int(approved or 0), wrong.get(rule_id, 0))
            for rule_id, count, approved in found if count]


def _rule_term(db: Session, rule_id: str) -> str:
    kind, _, value = rule_id.partition(":")
    if kind == "word" and value.isdigit():
        term = db.scalar(select(WordRuleRow.term).where(WordRuleRow.id == int(value)))
        if term is None:  # deleted since: the term its reasons recorded
            term = db.scalar(select(ScreeningReason.detail).where(ScreeningReason.rule_id == rule_id).limit(1))
        return term if term is not None else rule_id
    if kind == "domain":
        exists = db.scalar(select(DomainRuleRow.id).where(DomainRuleRow.domain == value))
        return value if exists is not None or value else rule_id
    return rule_id


# --- Articles ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ArticleRow:
    article_id: int
    title: str
    comments: int
    held_on_arrival: int

    @property
    def held_share(self) -> float:
        return self.held_on_arrival / self.comments if self.comments else 0.0


def top_articles(db: Session, p: Period, *, limit: int) -> tuple[list[ArticleRow], list[ArticleRow]]:
    """The most commented articles, and those with the largest share of comments held on arrival
    (among articles with at least HELD_SHARE_MIN_COMMENTS comments)."""
    total = func.sum(CommentHour.approved + CommentHour.pending + CommentHour.rejected + CommentHour.spam)
    held = func.sum(CommentHour.held_on_arrival)
    base = select(CommentHour.article_id, total, held).where(CommentHour.hour >= p.since).group_by(CommentHour.article_id)
    by_count = db.execute(base.order_by(total.desc(), CommentHour.article_id).limit(limit)).all()
    share = held * 1.0 / total
    by_share = db.execute(base.having(total >= HELD_SHARE_MIN_COMMENTS)
                          .order_by(share.desc(), total.desc(), CommentHour.article_id).limit(limit)).all()
    ids = {row[0] for row in [*by_count, *by_share]}
    titles = dict(db.execute(select(Article.id, Article.title).where(Article.id.in_(ids))).all()) if ids else {}

    def rows(found) -> list[ArticleRow]:
        return [ArticleRow(article_id, titles.get(article_id, ""), int(count), int(held_count or 0))
                for article_id, count, held_count in found if count]

    return rows(by_count), rows(by_share)


@dataclass(frozen=True)
class Dashboard:
    period: Period
    outcomes: list[OutcomeRow]
    queue: list[QueueRow]
    decision_times: list[DecisionTimeRow]
    moderator_times: list[ModeratorTimes] | None  # admins only
    reports: list[ReportRow]
    rules: list[RuleRow]
    articles_by_comments: list[ArticleRow]
    articles_by_held_share: list[ArticleRow]


def dashboard(db: Session, span: Span, *, now: datetime, zone: ZoneInfo, per_moderator: bool, top: int) -> Dashboard:
    p = period(span, now=now, zone=zone)
    times, moderators = decision_times(db, p, zone)
    by_comments, by_share = top_articles(db, p, limit=top)
    return Dashboard(p, outcomes(db, p, zone), queue_over_time(db, p, zone, now=now), times,
                     moderators if per_moderator else None, reports(db, p), top_rules(db, p, limit=top),
                     by_comments, by_share)

