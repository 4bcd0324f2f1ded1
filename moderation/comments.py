"""The comment service: posting and the public listings. Views and CLI call these."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from moderation.decisions import Decision, decide
from moderation.listing import listing_changed
from moderation.models import (
    Article,
    Comment,
    CommentMode,
    CommentReport,
    CommentStatus,
    ReportReason,
)
from moderation.screening_rules import reason_row
from moderation.screening.pipeline import (
    AuthorFacts,
    Outcome,
    PastComment,
    Rules,
    Submission,
    Verdict,
    screen,
)

STATUS_OF_OUTCOME = {
    Outcome.PUBLISHED: CommentStatus.APPROVED,
    Outcome.PENDING: CommentStatus.PENDING,
    Outcome.SPAM: CommentStatus.SPAM,
    Outcome.REJECTED: CommentStatus.REJECTED,
}


def post_comment(
    db: Session,
    article: Article,
    *,
    nickname: str | None,
    anonymous: bool,
    body: str,
    ip_hash: str,
    author_hash: str,
    now: datetime,
    rules: Rules,
) -> tuple[Comment, Verdict]:
    """Screen and store a new comment, with the reasons for where it went. Flushes; the caller commits."""
    if article.comment_mode is CommentMode.CLOSED:
        raise CommentsClosed(article.slug)
    nickname = None if anonymous else nickname
    verdict = screen(
        Submission(text=body, nickname=nickname,
                   post_moderation=article.comment_mode is CommentMode.POST_MODERATION),
        author_facts(db, author_hash=author_hash, ip_hash=ip_hash, now=now, rules=rules),
        rules,
        now=now,
    )
    comment = Comment(
        article=article,
        nickname=nickname,
        is_anonymous=anonymous,
        body=body,
        status=STATUS_OF_OUTCOME[verdict.outcome],
        created_at=now,
        ip_hash=ip_hash,
        author_hash=author_hash,
        fingerprint=verdict.fingerprint,
        screening_reasons=[reason_row(reason) for reason in verdict.reasons],
    )
    db.add(comment)
    if comment.status is CommentStatus.APPROVED:
        listing_changed(db, article.id, approved_delta=1)
    db.flush()
    return comment, verdict


def author_facts(db: Session, *, author_hash: str, ip_hash: str, now: datetime, rules: Rules) -> AuthorFacts:
    """What screening needs to know of an author's recent comments (two indexed queries)."""
    limits = rules.thresholds
    horizon = now - max(timedelta(days=limits.trust_window_days),
                        timedelta(seconds=limits.duplicate_window_seconds))
    rows = db.execute(
        select(Comment.fingerprint, Comment.created_at, Comment.status)
        .where(Comment.author_hash == author_hash, Comment.created_at >= horizon)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(200)
    )
    ip_count = db.scalar(
        select(func.count())
        .select_from(Comment)
        .where(Comment.ip_hash == ip_hash, Comment.created_at > now - timedelta(minutes=1))
    )
    return AuthorFacts(
        recent=tuple(PastComment(row.fingerprint, row.created_at, row.status.value) for row in rows),
        ip_comments_last_minute=ip_count or 0,
    )


class CommentsClosed(Exception):
    pass


def article_by_slug(db: Session, slug: str) -> Article | None:
    """The article without its text, which views that only post or link to it never read."""
    return db.scalar(select(Article).where(Article.slug == slug).options(defer(Article.body), defer(Article.body_html)))


def reportable_comment(db: Session, article: Article, comment_id: int) -> Comment | None:
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


def report_comment(
    db: Session,
    article: Article,
    comment_id: int,
    reason: ReportReason,
    *,
    reporter_hash: str,
    now: datetime,
    hide_threshold: int,
    per_hour: int,
) -> ReportOutcome:
    """A reader's report of a published comment; at the threshold of distinct readers it is hidden."""
    comment = reportable_comment(db, article, comment_id)
    if comment is None:
        return ReportOutcome.NOT_FOUND
    recent = db.scalar(
        select(func.count()).select_from(CommentReport)
        .where(CommentReport.reporter_hash == reporter_hash, CommentReport.created_at > now - timedelta(hours=1))
    )
    if recent >= per_hour:
        return ReportOutcome.TOO_MANY
    already = db.scalar(
        select(CommentReport.id).where(CommentReport.comment_id == comment_id,
                                       CommentReport.reporter_hash == reporter_hash)
    )
    if already:
        return ReportOutcome.ALREADY
    db.add(CommentReport(comment_id=comment_id, reason=reason, reporter_hash=reporter_hash, created_at=now))
    try:
        db.commit()
    except IntegrityError:  # the same reader's second click, in a race with the first
        db.rollback()
        return ReportOutcome.ALREADY
    reporters = db.scalar(
        select(func.count(func.distinct(CommentReport.reporter_hash)))
        .where(CommentReport.comment_id == comment_id, CommentReport.resolved_at.is_(None))
    )
    if reporters >= hide_threshold > 0:
        result = decide(db, comment_id, Decision.RESTORE, expected_version=comment.version, actor=None, now=now,
                        note=f"reports:{reporters}")
        if result.ok:
            return ReportOutcome.HIDDEN
    return ReportOutcome.RECORDED
