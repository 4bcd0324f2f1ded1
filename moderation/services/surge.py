"""Surge mode: an article flooded with comments, or one text arriving from several authors, switches
itself to pre-moderation; the near-identical comments are held and grouped on one card; admins are
told (the queue's banner, and the `article.surge` event for webhooks and chat alerts).

`check()` runs on every post before the comment is stored (two range reads of the
`(article_id, created_at)` index; the median only when the minute is already busy); `begin_or_extend()`
after it. The article switches back once SURGE_QUIET_MINUTES pass without another post that would
trip it (`calm_down()`: on each post to the article, in the relay, and `flask surge calm`), unless an
admin set its mode meanwhile (`person_chose_mode()`). Each switch is an audit row with its cause.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, func, select, union_all, update
from sqlalchemy.orm import Session

from moderation.models import (
    Article,
    Comment,
    CommentCluster,
    CommentHour,
    CommentMode,
    CommentStatus,
    Surge,
    SurgeCause,
)
from moderation.services import outbox
from moderation.services.audit import SYSTEM, AuditAction, record
from moderation.services.decisions import Decision, decide
from moderation.services.listing import listing_changed

CLUSTER_READ_LIMIT = 500  # comments of one text read per post: a flood must not make each post read it all
MEDIAN_DAYS = 7
MEDIAN_MIN_HOURS = 3  # fewer busy hours than this: no baseline, only the fixed rate applies


@dataclass(frozen=True)
class Settings:
    rate_per_minute: int = 30
    median_factor: float = 10
    min_per_minute: int = 5
    cluster_authors: int = 3
    cluster_minutes: int = 10
    quiet_minutes: int = 30
    cluster_min_length: int = 10

    @classmethod
    def from_config(cls, config) -> Settings:
        return cls(int(config["SURGE_RATE_PER_MINUTE"]), float(config["SURGE_MEDIAN_FACTOR"]),
                   int(config["SURGE_MIN_PER_MINUTE"]), int(config["SURGE_CLUSTER_AUTHORS"]),
                   int(config["SURGE_CLUSTER_MINUTES"]), int(config["SURGE_QUIET_MINUTES"]),
                   int(config["SURGE_CLUSTER_MIN_LENGTH"]))


@dataclass(frozen=True)
class Trip:
    """Why a post trips surge mode, with the figures, and the cluster it belongs to (if one)."""

    cause: SurgeCause
    details: dict
    cluster_key: str | None = None
    cluster_ids: tuple[int, ...] = field(default=())  # the cluster's earlier comments not yet grouped in one
    published_ids: tuple[int, ...] = field(default=())  # the cluster's earlier comments still published
    cluster_id: int | None = None  # the cluster the comment joins, formed earlier in the same surge


def check(db: Session, article_id: int, *, fingerprint: str, reading_fingerprint: str, author_hash: str,
          text_length: int, now: datetime, settings: Settings, surge_id: int | None = None) -> Trip | None:
    """Whether the comment about to be stored trips surge mode (its own post counted). Short texts
    (謝謝分享, 支持) are said by many readers alike: they form no cluster. `surge_id`: the article's
    surge going on; a text of a cluster formed in it joins that cluster at once (one indexed read),
    without the brigade's comments read again for each of its posts."""
    # Counted up to one past the limit: a flood must not make each of its posts count the whole flood
    # (past the limit the figure only says that the limit is passed).
    values = {"article_id": article_id, "since": now - timedelta(minutes=settings.cluster_minutes),
              "author_hash": author_hash, "fingerprint": fingerprint, "reading_fingerprint": reading_fingerprint,
              "minute_ago": now - timedelta(minutes=1), "cap": settings.rate_per_minute + 1}
    # One indexed range per fingerprint (ix_comment_article_fingerprint, ix_comment_article_reading):
    # a flood of other texts is not read (an OR of the two columns read every comment of the minutes).
    clustering = text_length >= settings.cluster_min_length and bool(fingerprint)
    keyed = tuple(name for name in ("fingerprint", "reading_fingerprint") if values[name]) if clustering else ()
    if keyed and surge_id is not None:
        cluster = _cluster_of_surge(db, article_id, surge_id, [values[name] for name in keyed])
        if cluster is not None:
            return cluster
    in_minute, *other_authors = db.execute(_figures(keyed), values).one()
    # Most posts join no cluster: the other authors of each text are counted in the database first,
    # so that one author's flood of copies is not read row by row on each of its posts.
    if other_authors and max(other_authors) + 1 >= settings.cluster_authors:
        cluster = _cluster(db, keyed, values, settings)
        if cluster is not None:
            return cluster
    in_minute += 1
    if in_minute > settings.rate_per_minute:
        return Trip(SurgeCause.RATE, {"per_minute": in_minute, "limit": settings.rate_per_minute})
    if in_minute >= settings.min_per_minute:
        median = median_per_minute(db, article_id, now=now)
        if median is not None and in_minute >= settings.median_factor * median:
            return Trip(SurgeCause.MEDIAN, {"per_minute": in_minute, "median": round(median, 2),
                                            "factor": settings.median_factor})
    return None


def _cluster_of_surge(db, article_id: int, surge_id: int, keys: list[str]) -> Trip | None:
    found = db.execute(_CLUSTER_OF_SURGE, {"article_id": article_id, "surge_id": surge_id, "keys": keys}).first()
    if found is None:
        return None
    return Trip(SurgeCause.CLUSTER, {"cluster": found.id}, cluster_key=found.key, cluster_id=found.id)


def _cluster(db, keyed: tuple[str, ...], values: dict, settings: Settings) -> Trip | None:
    columns = (Comment.id, Comment.author_hash, Comment.fingerprint, Comment.reading_fingerprint, Comment.status,
               Comment.cluster_id, Comment.created_at)
    ranges = [select(copies) for copies in _copies(keyed, columns)]
    found = {row.id: row for row in db.execute(union_all(*ranges) if len(ranges) > 1 else ranges[0], values)}
    rows = sorted(found.values(), key=lambda row: row.created_at, reverse=True)[:CLUSTER_READ_LIMIT]
    for column in keyed:
        key = values[column]
        same = [row for row in rows if getattr(row, column) == key]
        authors = {row.author_hash for row in same} | {values["author_hash"]}
        if len(authors) >= settings.cluster_authors:
            return Trip(SurgeCause.CLUSTER, {"authors": len(authors), "comments": len(same) + 1,
                                             "minutes": settings.cluster_minutes, "by_reading": column != "fingerprint"},
                        cluster_key=key, cluster_ids=tuple(row.id for row in same if row.cluster_id is None),
                        published_ids=tuple(row.id for row in same if row.status is CommentStatus.APPROVED))
    return None


def _copies(keyed: tuple[str, ...], columns) -> list:
    """The article's newest comments of the text by each of its fingerprints (`keyed`: which ones)."""
    return [select(*columns).where(Comment.article_id == bindparam("article_id"),
                                   getattr(Comment, name) == bindparam(name), Comment.created_at >= bindparam("since"))
            .order_by(Comment.created_at.desc()).limit(CLUSTER_READ_LIMIT).subquery() for name in keyed]


@cache
def _figures(keyed: tuple[str, ...]):
    """One row: the article's comments of the last minute (up to `cap`), then for each fingerprint
    in `keyed` the other authors among the text's newest copies."""
    in_minute = select(func.count()).select_from(
        select(Comment.id).where(Comment.article_id == bindparam("article_id"),
                                 Comment.created_at > bindparam("minute_ago")).limit(bindparam("cap")).subquery())
    other_authors = (select(func.count(func.distinct(copies.c.author_hash)))
                     .where(copies.c.author_hash != bindparam("author_hash"))
                     for copies in _copies(keyed, (Comment.author_hash,)))
    return select(*(figure.scalar_subquery() for figure in (in_minute, *other_authors)))


_CLUSTER_OF_SURGE = (select(CommentCluster.id, CommentCluster.key)
                     .where(CommentCluster.article_id == bindparam("article_id"),
                            CommentCluster.key.in_(bindparam("keys", expanding=True)),
                            CommentCluster.surge_id == bindparam("surge_id"))
                     .order_by(CommentCluster.id.desc()).limit(1))


def median_per_minute(db: Session, article_id: int, *, now: datetime) -> float | None:
    """The article's median rate over its hours with comments in the last week (this hour left
    out), from the hourly rollup; None without enough such hours to call it usual."""
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    totals = [row[0] for row in db.execute(_HOURLY_TOTALS, {
        "article_id": article_id, "since": this_hour - timedelta(days=MEDIAN_DAYS), "until": this_hour}) if row[0] > 0]
    if len(totals) < MEDIAN_MIN_HOURS:
        return None
    return statistics.median(totals) / 60


_HOURLY_TOTALS = select(CommentHour.approved + CommentHour.pending + CommentHour.rejected + CommentHour.spam).where(
    CommentHour.article_id == bindparam("article_id"), CommentHour.hour >= bindparam("since"),
    CommentHour.hour < bindparam("until"))
_ACTIVE_SURGE = (select(Surge).where(Surge.article_id == bindparam("article_id"), Surge.ended_at.is_(None))
                 .order_by(Surge.id.desc()).limit(1))


def active_surge(db: Session, article_id: int) -> Surge | None:
    return db.scalar(_ACTIVE_SURGE, {"article_id": article_id})


EXTEND_EVERY = timedelta(seconds=30)


_NOT_READ = object()


def begin_or_extend(db: Session, article_id: int, trip: Trip, *, comment_id: int, now: datetime,
                    active=_NOT_READ) -> Surge:
    """A tripping post: the article's surge begins (the mode switches to pre-moderation, logged with
    its cause, the event recorded) or goes on; a cluster gathers its comments. Flushes.
    Only a start locks the article's row (two posters tripping it at once start one surge, not
    two); while the surge goes on, posters do not wait on each other: its `last_seen_at` moves at
    most every EXTEND_EVERY, which is all the quiet period needs. `active`: the article's surge as
    the caller already read it (`active_surge`), saving the read.
    A cluster's comments join it once: a post adds itself and the comments not yet in a cluster,
    never rewrites the ones already in (a brigade's posts would otherwise each rewrite, and on
    PostgreSQL lock, the whole cluster)."""
    surge = active_surge(db, article_id) if active is _NOT_READ else active
    if surge is None:
        # FOR NO KEY UPDATE: each poster's insert already holds a key-share lock on this row, which
        # FOR UPDATE would wait for (two posters starting a surge at once deadlocked).
        db.execute(select(Article.id).where(Article.id == article_id).with_for_update(key_share=True))
        surge = active_surge(db, article_id)  # another poster may have started it meanwhile
    if surge is None:
        article = db.get(Article, article_id)
        switched = article.comment_mode is CommentMode.POST_MODERATION
        surge = Surge(article_id=article_id, cause=trip.cause, details=trip.details, started_at=now,
                      last_seen_at=now, previous_mode=article.comment_mode if switched else None)
        db.add(surge)
        if switched:
            article.comment_mode = CommentMode.PRE_MODERATION
            listing_changed(db, article_id)
        db.flush()
        record(db, SYSTEM, AuditAction.SURGE_ON, now=now,
               from_status=surge.previous_mode.value if switched else None,
               to_status=CommentMode.PRE_MODERATION.value if switched else None,
               details={"article": article.slug, "title": article.title, "cause": trip.cause.value,
                        "switched": switched, **trip.details})
        outbox.record(db, "article.surge", {
            "article": {"slug": article.slug, "title": article.title},
            "surge": {"cause": trip.cause.value, "switched": switched, **trip.details}}, now=now)
    elif now - surge.last_seen_at >= EXTEND_EVERY:
        db.execute(update(Surge).where(Surge.id == surge.id, Surge.last_seen_at < now).values(last_seen_at=now)
                   .execution_options(synchronize_session=False))
    if trip.cluster_key and trip.cluster_id is None:  # with a cluster_id, the comment was stored in it
        cluster = db.scalar(select(CommentCluster).where(CommentCluster.article_id == article_id,
                                                         CommentCluster.key == trip.cluster_key)
                            .order_by(CommentCluster.id.desc()).limit(1))
        if cluster is None:
            cluster = CommentCluster(article_id=article_id, surge_id=surge.id, key=trip.cluster_key, created_at=now)
            db.add(cluster)
            db.flush()
        db.execute(update(Comment).where(Comment.id.in_([*trip.cluster_ids, comment_id]))
                   .values(cluster_id=cluster.id).execution_options(synchronize_session=False))
    db.flush()
    return surge


def hold_cluster(db: Session, comment_ids: tuple[int, ...], *, surge_id: int, now: datetime) -> int:
    """The cluster's published comments (`Trip.published_ids`) go back to pending, each through
    `decide()` (an audit row each, by `system`). Commits when there is one."""
    if not comment_ids:
        return 0
    published = db.execute(select(Comment.id, Comment.version).where(
        Comment.id.in_(comment_ids), Comment.status == CommentStatus.APPROVED)).all()
    held = 0
    for comment_id, version in published:
        held += decide(db, comment_id, Decision.RESTORE, expected_version=version, actor=SYSTEM, now=now,
                       details={"surge": surge_id}).ok
    return held


def is_quiet(surge: Surge, *, now: datetime, settings: Settings) -> bool:
    """The surge has had no tripping post for SURGE_QUIET_MINUTES: `calm_down` ends it."""
    return surge.last_seen_at <= now - timedelta(minutes=settings.quiet_minutes)


def calm_down(db: Session, *, now: datetime, settings: Settings, article_id: int | None = None) -> list[Surge]:
    """End the surges that have been quiet for SURGE_QUIET_MINUTES: the article gets back the mode it
    had, unless an admin chose one meanwhile. Each end is logged. Flushes; the caller commits."""
    query = select(Surge).where(Surge.ended_at.is_(None),
                                Surge.last_seen_at <= now - timedelta(minutes=settings.quiet_minutes))
    if article_id is not None:
        query = query.where(Surge.article_id == article_id)
    ended = list(db.scalars(query))
    for surge in ended:
        article = db.get(Article, surge.article_id)
        restore = (surge.previous_mode is not None and not surge.person_chose
                   and article.comment_mode is CommentMode.PRE_MODERATION)
        if restore:
            article.comment_mode = surge.previous_mode
            listing_changed(db, article.id)
        surge.ended_at = now
        record(db, SYSTEM, AuditAction.SURGE_OFF, now=now,
               from_status=CommentMode.PRE_MODERATION.value if restore else None,
               to_status=surge.previous_mode.value if restore else None,
               details={"article": article.slug, "title": article.title, "cause": surge.cause.value,
                        "quiet_minutes": settings.quiet_minutes, "restored": restore,
                        "person_chose": surge.person_chose})
    db.flush()
    return ended


def person_chose_mode(db: Session, article_id: int) -> None:
    """An admin set the article's mode during its surge: the surge will not switch it back."""
    db.execute(update(Surge).where(Surge.article_id == article_id, Surge.ended_at.is_(None))
               .values(person_chose=True).execution_options(synchronize_session=False))


@dataclass(frozen=True)
class ActiveSurge:
    article_title: str
    article_id: int
    cause: str
    details: dict
    started_at: datetime
    switched: bool


def active_surges(db: Session) -> list[ActiveSurge]:
    """The queue's banner: every article in a surge now."""
    rows = db.execute(select(Surge, Article.title).join(Article, Article.id == Surge.article_id)
                      .where(Surge.ended_at.is_(None)).order_by(Surge.started_at)).all()
    return [ActiveSurge(title, surge.article_id, surge.cause.value, surge.details or {}, surge.started_at,
                        surge.previous_mode is not None) for surge, title in rows]


@dataclass(frozen=True)
class ClusterCard:
    cluster_id: int
    article_title: str
    comments: list[Comment]

    @property
    def authors(self) -> int:
        return len({comment.author_hash for comment in self.comments})


def pending_clusters(db: Session, *, article_id: int | None = None, limit: int = 20) -> list[ClusterCard]:
    """Clusters with comments still waiting, newest first: one card each at the top of 待審核."""
    query = (select(CommentCluster.id, Article.title).join(Article, Article.id == CommentCluster.article_id)
             .where(select(Comment.id).where(Comment.cluster_id == CommentCluster.id,
                                             Comment.status == CommentStatus.PENDING).exists())
             .order_by(CommentCluster.id.desc()).limit(limit))
    if article_id is not None:
        query = query.where(CommentCluster.article_id == article_id)
    cards = []
    for cluster_id, title in db.execute(query).all():
        comments = list(db.scalars(select(Comment).where(Comment.cluster_id == cluster_id,
                                                         Comment.status == CommentStatus.PENDING)
                                   .order_by(Comment.created_at, Comment.id).limit(500)))
        cards.append(ClusterCard(cluster_id, title, comments))
    return cards
