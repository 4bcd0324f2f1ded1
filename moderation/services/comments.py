"""The comment service: posting and the public listings. Views and CLI call these."""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from moderation import metrics
from moderation.ids import row_id
from moderation.models import (
    Article,
    Comment,
    CommentMode,
    CommentReport,
    CommentStatus,
    ReportReason,
    RestrictionKind,
    ScreeningReason,
)
from moderation.screening.pipeline import (
    Outcome,
    ReasonKind,
    Rules,
    Submission,
    Verdict,
    screen,
)
from moderation.services import external_check, outbox, rollups, sanctions, surge
from moderation.services.audit import SYSTEM
from moderation.services.author_history import author_facts
from moderation.services.decisions import Decision, decide
from moderation.services.external_check import CheckAnswer
from moderation.services.listing import listing_changed, replies_changed
from moderation.services.protected_names import matcher_for
from moderation.services.rulebook.reasons import reason_values

STATUS_OF_OUTCOME = {
    Outcome.PUBLISHED: CommentStatus.APPROVED,
    Outcome.PENDING: CommentStatus.PENDING,
    Outcome.SPAM: CommentStatus.SPAM,
    Outcome.REJECTED: CommentStatus.REJECTED,
}


@dataclass(frozen=True)
class Posted:
    comment_id: int
    status: CommentStatus
    verdict: Verdict


# The posting path runs these on every comment: built once, executed with parameters.
_INSERT_COMMENT = insert(Comment).returning(Comment.id)
_INSERT_REASONS = insert(ScreeningReason)
_NOT_READ = object()


def post_comment(
    db: Session,
    article: ArticleRef,
    *,
    nickname: str | None,
    anonymous: bool,
    body: str,
    ip_hash: str,
    author_hash: str,
    now: datetime,
    rules: Rules,
    submission_key: str | None = None,
    known_author: bool = True,
    reply_to: ReplyTarget | None = None,
    range_hashes: list[str] | None = None,
    surge_settings: surge.Settings | None = None,
    checked: CheckAnswer | None = None,
    restriction=_NOT_READ,
    holds: tuple[sanctions.HoldInForce, ...] | None = None,
    subscribers: dict[str, list[int]] | None = None,
    take_challenge: Callable[[], bool] | None = None,
) -> Posted:
    """Screen and store a new comment (a reply when `reply_to`, checked by `reply_target`), with the
    reasons for where it went. A reply is screened and moderated as any comment. The caller commits.
    `range_hashes` are the poster's address ranges (`sanctions.range_hashes`), for address holds;
    `checked` what the admin's external check answered (`external_check`), the stricter one winning.
    What the caller already knows saves a read: the author's `restriction` (None: none), the address
    `holds` in force, the webhook `subscribers` (`outbox.subscribers`).

    Everything is read and screened first; then one short burst of writes: `take_challenge()` (the
    captcha's consuming UPDATE; False: another sending took it, `ChallengeTaken`), the comment, its
    reasons, its events, the surge, the listing's counts and the hourly rollup (the rows that every
    poster of the article shares come last, their locks held only until the commit). On SQLite the
    first write takes the database's write lock, so posters wait for each other only over that burst;
    what another poster of the same author or address stored meanwhile is looked for under the lock
    (one statement) and, when there is some, the comment is screened again with it. On PostgreSQL
    the poster's advisory locks, taken first, keep the same order."""
    if article.comment_mode is CommentMode.CLOSED:
        raise CommentsClosed(article.slug)
    nickname = None if anonymous else nickname
    _serialize_poster(db, author_hash, ip_hash)
    sqlite = db.connection().dialect.name == "sqlite"
    seen = db.connection().execute(_LAST_COMMENT_ID).scalar() or 0 if sqlite else None
    if restriction is _NOT_READ:
        restriction = sanctions.restriction_of(db, author_hash, now)
    if restriction is not None and restriction.kind is not RestrictionKind.PREMODERATE:
        raise AuthorRestricted(restriction)
    hold = (sanctions.matching_hold(db, range_hashes or [], now) if holds is None
            else sanctions.matching_hold_in(holds, range_hashes or [], now))
    submission = Submission(text=body, nickname=nickname,
                            post_moderation=article.comment_mode is CommentMode.POST_MODERATION,
                            protected_names=matcher_for(article.protected_name_list),
                            holds=_holds(restriction, hold))

    def screened() -> Verdict:
        facts = author_facts(db, author_hash=author_hash, ip_hash=ip_hash, now=now, limits=rules.thresholds,
                             fingerprint=submission.fingerprint, address_duplicates=not known_author)
        with metrics.SCREENING_SECONDS.time():
            return screen(submission, facts, rules, now=now)

    verdict = screened()
    surge_settings = surge_settings or surge.Settings()
    active = surge.active_surge(db, article.id)
    trip = surge.check(db, article.id, fingerprint=verdict.fingerprint,
                       reading_fingerprint=verdict.reading_fingerprint, author_hash=author_hash,
                       text_length=len("".join(body.split())), now=now, settings=surge_settings,
                       surge_id=active.id if active is not None and not surge.is_quiet(
                           active, now=now, settings=surge_settings) else None)

    # The writes.
    if take_challenge is not None and not take_challenge():
        raise ChallengeTaken
    if sqlite and db.connection().execute(_POSTED_SINCE, {"seen": seen, "author_hash": author_hash,
                                                          "ip_hash": ip_hash}).first() is not None:
        verdict = screened()  # the same author or address posted while this one was screened
    status = STATUS_OF_OUTCOME[verdict.outcome]
    reasons = [reason_values(reason) for reason in verdict.reasons]
    if trip is not None and status is CommentStatus.APPROVED:  # the article is going to pre-moderation
        status = CommentStatus.PENDING
        reasons.append(SURGE_REASON | {"detail": trip.cause.value})
    if checked is not None and status is not CommentStatus.REJECTED:
        status = external_check.stricter(status, checked)
        reasons.append(checked.reason_values())
    if active is not None and surge.is_quiet(active, now=now, settings=surge_settings):
        surge.calm_down(db, now=now, settings=surge_settings, article_id=article.id)
        active = None
    connection = db.connection()
    comment_id = connection.execute(_INSERT_COMMENT, {
        "article_id": article.id, "nickname": nickname, "is_anonymous": anonymous, "body": body,
        "status": status, "created_at": now, "ip_hash": ip_hash, "author_hash": author_hash,
        "fingerprint": verdict.fingerprint, "version": 1, "submission_key": submission_key,
        "thread_id": reply_to.thread_id if reply_to else None, "reply_to_id": reply_to.comment_id if reply_to else None,
        "reading_fingerprint": verdict.reading_fingerprint, "cluster_id": trip.cluster_id if trip else None,
    }).scalar_one()
    if reasons:
        connection.execute(_INSERT_REASONS, [{"comment_id": comment_id, **values} for values in reasons])
    # Webhooks (moderation/jobs): written in this transaction, handed to the queue after commit.
    outbox.comment_posted(db, comment_id, article_slug=article.slug, article_key=article.key, status=status.value,
                          nickname=nickname, anonymous=anonymous, body=body, now=now, article_id=article.id,
                          wanted=subscribers)
    if trip is not None:
        started = surge.begin_or_extend(db, article.id, trip, comment_id=comment_id, now=now, active=active)
        # The cluster's published comments are held too (decide() commits).
        surge.hold_cluster(db, trip.published_ids, surge_id=started.id, now=now)
    # Last before the caller's commit: the article's row (its published count) and its hourly rollup
    # row are shared by every poster, and their locks are held from here to the commit.
    if status is CommentStatus.APPROVED:
        if reply_to is not None:
            replies_changed(db, reply_to.thread_id, 1)
        listing_changed(db, article.id, approved_delta=1)
    rollups.comment_posted(db, article_id=article.id, created_at=now, status=status,
                           rule_ids=[values["rule_id"] for values in reasons if values["kind"] in rollups.RULE_HIT_KINDS])
    metrics.COMMENTS_POSTED.labels(status.value).inc()
    return Posted(comment_id, status, verdict)


_LAST_COMMENT_ID = select(func.max(Comment.id))
_POSTED_SINCE = select(Comment.id).where(
    Comment.id > bindparam("seen"),
    (Comment.author_hash == bindparam("author_hash")) | (Comment.ip_hash == bindparam("ip_hash"))).limit(1)


class ChallengeTaken(Exception):
    """The captcha challenge that `captcha.would_pass` approved was consumed by another sending
    before this one's writes began: this sending is refused as a used challenge."""


# Why a comment that would have been published waits: its article is in a surge (services.surge).
SURGE_REASON = {"kind": "surge", "action": "hold", "rule_id": "surge", "field": None, "span_start": None,
                "span_end": None, "how": "exact"}


class ReplyProblem(enum.StrEnum):
    """Why a reply cannot be posted under the comment named; the form words it."""

    NOT_FOUND = "reply_not_found"  # no such comment on this article (or not an id at all)
    NOT_PUBLISHED = "reply_not_published"  # waiting for review, refused, or no longer published


@dataclass(frozen=True)
class ReplyTarget:
    """The published comment a reply answers, and the thread it goes in (one level of nesting)."""

    comment_id: int
    thread_id: int
    nickname: str | None  # None: 匿名網友 (「回覆 @匿名網友」)


_REPLY_TARGET = select(Comment.id, Comment.article_id, Comment.status, Comment.thread_id, Comment.nickname,
                       Comment.is_anonymous).where(Comment.id == bindparam("id"))


def reply_target(db: Session, article: ArticleRef, raw_id: str | None) -> ReplyTarget | ReplyProblem | None:
    """The comment a form's `reply_to` names: None when it names none, a problem when it cannot be
    answered. A reply to a reply goes in the same thread, under its top comment."""
    if not raw_id:
        return None
    try:
        comment_id = row_id(raw_id.strip())
    except ValueError:
        return ReplyProblem.NOT_FOUND
    row = db.connection().execute(_REPLY_TARGET, {"id": comment_id}).one_or_none()
    if row is None or row.article_id != article.id:
        return ReplyProblem.NOT_FOUND
    if row.status is not CommentStatus.APPROVED:
        return ReplyProblem.NOT_PUBLISHED
    return ReplyTarget(row.id, row.thread_id or row.id, None if row.is_anonymous else row.nickname)


def _holds(restriction, hold) -> tuple:
    holds = []
    if restriction is not None:  # always pre-moderate
        holds.append((ReasonKind.AUTHOR_HOLD, "author", restriction.created_by))
    if hold is not None:
        holds.append((ReasonKind.ADDRESS_HOLD, f"address:{hold.id}", f"#{hold.id}"))
    return tuple(holds)


class AuthorRestricted(Exception):
    """A suspended or banned author tried to post: the form says until when, and why."""

    def __init__(self, restriction):
        super().__init__(restriction.kind.value)
        self.restriction = restriction


_POSTER_LOCKS = text("SELECT pg_advisory_xact_lock(:first), pg_advisory_xact_lock(:second)")


def _serialize_poster(db: Session, author_hash: str, ip_hash: str) -> None:
    """Posts of one author or one address wait for each other until commit, so that the duplicate
    and rate checks see every earlier post (SQLite already serializes writers: PostgreSQL needs
    this). Keys in a fixed order: two posters can never wait for each other in a circle."""
    connection = db.connection()
    if connection.dialect.name != "postgresql":
        return
    first, second = sorted(_lock_key(f"{kind}:{value}") for kind, value in (("a", author_hash), ("i", ip_hash)))
    connection.execute(_POSTER_LOCKS, {"first": first, "second": second})


def _lock_key(value: str) -> int:
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), "big", signed=True)


# A submission key names one sending of the form, whatever happens to its captcha: the form page
# carries it across errors and outages, so that a form sent again after a lost reply is recognised.
SUBMISSION_KEY = re.compile(r"^[A-Za-z0-9_-]{32}$")


def new_submission_key() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class EarlierSubmission:
    """The comment already stored under a submission key, and whether this sending is the same."""

    comment_id: int
    status: CommentStatus
    same_content: bool

    @property
    def received(self) -> bool:
        """The same comment sent again: it was received once, and that is the answer."""
        return self.same_content and self.status is not CommentStatus.REJECTED


_BY_SUBMISSION_KEY = select(Comment.id, Comment.status, Comment.body, Comment.nickname, Comment.is_anonymous).where(
    Comment.submission_key == bindparam("key"))


def earlier_submission(db: Session, submission_key: str | None, *, body: str | None, nickname: str | None,
                       anonymous: bool) -> EarlierSubmission | None:
    """What is stored under this key, compared with what is sent now; None when nothing is."""
    if not submission_key:
        return None
    row = db.connection().execute(_BY_SUBMISSION_KEY, {"key": submission_key}).one_or_none()
    if row is None:
        return None
    same = row.body == body and row.is_anonymous == anonymous and (anonymous or row.nickname == (nickname or None))
    return EarlierSubmission(row.id, row.status, same)


class CommentsClosed(Exception):
    pass


@dataclass(frozen=True)
class ArticleRef:
    """What posting, reporting and the form pages need of an article: not its text."""

    id: int
    slug: str
    title: str
    comment_mode: CommentMode
    protected_names: str | None = None  # one a line (services.protected_names), read with the rest
    key: str = ""  # the newsroom's key (webhooks name the article by it too)

    @property
    def protected_name_list(self) -> tuple[str, ...]:
        return tuple(name for name in (self.protected_names or "").split("\n") if name)


_ARTICLE_BY_SLUG = select(Article.id, Article.slug, Article.title, Article.comment_mode,
                          Article.protected_names, Article.key).where(Article.slug == bindparam("slug"))


def article_by_slug(db: Session, slug: str) -> ArticleRef | None:
    row = db.connection().execute(_ARTICLE_BY_SLUG, {"slug": slug}).one_or_none()
    return ArticleRef(*row) if row else None


def reportable_comment(db: Session, article: ArticleRef, comment_id: int) -> Comment | None:
    """A published comment of this article, or None."""
    comment = db.get(Comment, comment_id)
    if comment is None or comment.article_id != article.id or comment.status is not CommentStatus.APPROVED:
        return None
    return comment


class ReportOutcome(enum.StrEnum):
    RECORDED = "recorded"
    HIDDEN = "hidden"  # recorded, and enough readers reported it to hide it until a moderator decides
    ALREADY = "already"  # this reader reported this comment before
    TOO_MANY = "too_many"  # this reader's hourly limit
    NOT_FOUND = "not_found"


def reported_on_article(db: Session, article_id: int, reporter_hash: str) -> list[int]:
    """The comments of an article this reader has reported (their page says 已檢舉 under each)."""
    return list(db.scalars(
        select(CommentReport.comment_id).join(Comment, Comment.id == CommentReport.comment_id)
        .where(Comment.article_id == article_id, CommentReport.reporter_hash == reporter_hash)
        .order_by(CommentReport.comment_id)
    ))


def report_comment(
    db: Session,
    article: ArticleRef,
    comment_id: int,
    reason: ReportReason,
    *,
    reporter_hash: str,
    reporter_ip_hash: str,
    now: datetime,
    hide_threshold: int,
    per_hour: int,
    per_hour_per_address: int,
    note: str = "",
) -> ReportOutcome:
    """A reader's report of a published comment; it is hidden once readers from enough distinct
    addresses reported it (several readers behind one office address count once toward hiding,
    though each may report). `note` is the reader's own words beside the reason (mostly with 其他),
    already checked by the caller (`forms.ReportForm`). Flushes; hiding goes through `decide`,
    which commits."""
    comment = reportable_comment(db, article, comment_id)
    if comment is None:
        return ReportOutcome.NOT_FOUND
    hour_ago = now - timedelta(hours=1)
    by_reader, by_address = db.execute(
        select(
            func.count().filter(CommentReport.reporter_hash == reporter_hash),
            func.count().filter(CommentReport.reporter_ip_hash == reporter_ip_hash),
        ).where(CommentReport.created_at > hour_ago,
                (CommentReport.reporter_hash == reporter_hash) | (CommentReport.reporter_ip_hash == reporter_ip_hash))
    ).one()
    if by_reader >= per_hour or by_address >= per_hour_per_address:
        return ReportOutcome.TOO_MANY
    already = db.scalar(
        select(CommentReport.id).where(CommentReport.comment_id == comment_id,
                                       CommentReport.reporter_hash == reporter_hash)
    )
    if already:
        return ReportOutcome.ALREADY
    db.add(CommentReport(comment_id=comment_id, reason=reason, reporter_hash=reporter_hash,
                         reporter_ip_hash=reporter_ip_hash, note=note, created_at=now))
    try:
        db.flush()
    except IntegrityError:  # the same reader's second click, in a race with the first
        db.rollback()
        return ReportOutcome.ALREADY
    addresses = db.scalar(
        select(func.count(func.distinct(CommentReport.reporter_ip_hash)))
        .where(CommentReport.comment_id == comment_id, CommentReport.resolved_at.is_(None))
    )
    # Webhooks (moderation/jobs): committed with the report (decide() below commits both).
    outbox.comment_reported(db, comment_id, reason=reason.value, open_reports=addresses,
                            hides=addresses >= hide_threshold > 0, now=now)
    if addresses >= hide_threshold > 0:
        result = decide(db, comment_id, Decision.RESTORE, expected_version=comment.version, actor=SYSTEM, now=now,
                        note=f"reports:{addresses}")
        if result.ok:
            return ReportOutcome.HIDDEN
    return ReportOutcome.RECORDED
