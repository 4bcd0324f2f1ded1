"""What the service forgets: address hashes past their age, and an author's comments on request."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from moderation.models import (
    AuditEntry,
    CaptchaFailure,
    Comment,
    CommentLike,
    CommentReport,
    CommentStatus,
    LoginAttempt,
    ScreeningReason,
)
from moderation.services import rollups
from moderation.services.audit import Actor, AuditAction, record
from moderation.services.likes import likes_counted
from moderation.services.listing import listing_changed, replies_changed
from moderation.services.review_queue import by_author

ERASED_ADDRESS = ""  # what an erased comment.ip_hash holds (the column is required)


def erase_address_hashes(db: Session, *, older_than: datetime, days: int, actor: Actor, now: datetime) -> dict[str, int]:
    """Forget which address anything older than the cut-off (`days` before) came from; logged."""
    erased = {
        "comments": db.execute(
            update(Comment).where(Comment.created_at < older_than, Comment.ip_hash != ERASED_ADDRESS)
            .values(ip_hash=ERASED_ADDRESS).execution_options(synchronize_session=False)
        ).rowcount,
        "audit_entries": db.execute(
            update(AuditEntry).where(AuditEntry.at < older_than, AuditEntry.ip_hash.is_not(None))
            .values(ip_hash=None).execution_options(synchronize_session=False)
        ).rowcount,
        "login_attempts": db.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < older_than)).rowcount,
        "captcha_failures": db.execute(delete(CaptchaFailure).where(CaptchaFailure.failed_at < older_than)).rowcount,
        "likes": db.execute(
            update(CommentLike).where(CommentLike.created_at < older_than, CommentLike.ip_hash != ERASED_ADDRESS)
            .values(ip_hash=ERASED_ADDRESS).execution_options(synchronize_session=False)
        ).rowcount,
    }
    record(db, actor, AuditAction.RETENTION, now=now, details={"days": days, **erased})
    return erased


def erase_author(db: Session, author_tag: str, *, actor: Actor, now: datetime,
                 progress: Callable[[int, int], bool] | None = None, chunk: int = 500) -> int:
    """Delete every comment of one author tag, with their reasons and reports; logged. Audit rows
    stay, without the link to the deleted comments. A top comment under which others' replies stand
    keeps an empty row (no text, name or hashes) so that its thread stays readable as 「原評論已刪除」.
    Without `progress`, one transaction (the caller commits); with it, a commit per `chunk` comments,
    `progress(done, total)` heard after each, and the work stops when it answers False (what is left
    can be erased by a new start)."""
    rows = db.execute(select(Comment.id, Comment.article_id, Comment.status, Comment.thread_id)
                      .where(*by_author(author_tag))).all()
    everyone = [row.id for row in rows]
    if progress is None:
        erased = _erase(db, rows, everyone)
    else:
        erased = 0
        for start in range(0, len(rows), chunk):
            if not progress(erased, len(rows)):
                break
            erased += _erase(db, rows[start:start + chunk], everyone)
            db.commit()
        else:
            progress(erased, len(rows))
    _erase_likes_by(db, author_tag)
    record(db, actor, AuditAction.ERASE_AUTHOR, now=now, details={"tag": author_tag, "count": erased})
    return erased


def _erase_likes_by(db: Session, author_tag: str) -> None:
    """The author's own likes go too (a reader's likes are kept by the same hash), and their counts."""
    gone = db.execute(delete(CommentLike).where(CommentLike.reader_hash >= author_tag,
                                                CommentLike.reader_hash < author_tag + "~")
                      .returning(CommentLike.comment_id, CommentLike.counted)).all()
    for comment_id, count in Counter(comment_id for comment_id, counted in gone if counted).items():
        likes_counted(db, comment_id, -count)


def _erase(db: Session, rows, everyone: list[int]) -> int:
    """Erase `rows` (some or all of one author's comments, whose ids are `everyone`)."""
    if not rows:
        return 0
    ids = [row.id for row in rows]
    for article_id, approved in Counter(row.article_id for row in rows if row.status is CommentStatus.APPROVED).items():
        listing_changed(db, article_id, approved_delta=-approved)
    erased = set(everyone)
    for thread_id, replies in Counter(row.thread_id for row in rows if row.thread_id is not None
                                      and row.status is CommentStatus.APPROVED).items():
        if thread_id not in erased:
            replies_changed(db, thread_id, -replies)
    tops = [row.id for row in rows if row.thread_id is None]
    kept = set(db.scalars(select(Comment.thread_id).where(Comment.thread_id.in_(tops), Comment.id.not_in(everyone))
                          .distinct())) if tops else set()
    rollups.comments_erased(db, [each for each in ids if each not in kept])  # before their rows go
    if kept:
        db.execute(update(Comment).where(Comment.id.in_(kept)).values(
            body="", nickname=None, is_anonymous=True, search_text="", ip_hash=ERASED_ADDRESS, author_hash="",
            fingerprint="", submission_key=None, status=CommentStatus.REJECTED, pinned_at=None,
            listed=Comment.reply_count > 0, version=Comment.version + 1,
        ).execution_options(synchronize_session=False))
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        db.execute(update(AuditEntry).where(AuditEntry.comment_id.in_(chunk)).values(comment_id=None)
                   .execution_options(synchronize_session=False))
        db.execute(delete(ScreeningReason).where(ScreeningReason.comment_id.in_(chunk)))
        db.execute(delete(CommentReport).where(CommentReport.comment_id.in_(chunk)))
        db.execute(delete(CommentLike).where(CommentLike.comment_id.in_([each for each in chunk if each not in kept])))
        db.execute(delete(Comment).where(Comment.id.in_([each for each in chunk if each not in kept]))
                   .execution_options(synchronize_session=False))
    return len(ids)
