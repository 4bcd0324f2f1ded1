"""What the service forgets: address hashes past their age, and an author's comments on request."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from moderation.models import (
    AuditEntry,
    CaptchaFailure,
    Comment,
    CommentReport,
    CommentStatus,
    LoginAttempt,
    ScreeningReason,
)
from moderation.services import rollups
from moderation.services.audit import Actor, AuditAction, record
from moderation.services.listing import listing_changed
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
    }
    record(db, actor, AuditAction.RETENTION, now=now, details={"days": days, **erased})
    return erased


def erase_author(db: Session, author_tag: str, *, actor: Actor, now: datetime) -> int:
    """Delete every comment of one author tag, with their reasons and reports; logged. Audit rows
    stay, without the link to the deleted comments."""
    rows = db.execute(select(Comment.id, Comment.article_id, Comment.status).where(*by_author(author_tag))).all()
    record(db, actor, AuditAction.ERASE_AUTHOR, now=now, details={"tag": author_tag, "count": len(rows)})
    if not rows:
        return 0
    ids = [row.id for row in rows]
    rollups.comments_erased(db, ids)
    for article_id, approved in Counter(row.article_id for row in rows if row.status is CommentStatus.APPROVED).items():
        listing_changed(db, article_id, approved_delta=-approved)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        db.execute(update(AuditEntry).where(AuditEntry.comment_id.in_(chunk)).values(comment_id=None)
                   .execution_options(synchronize_session=False))
        db.execute(delete(ScreeningReason).where(ScreeningReason.comment_id.in_(chunk)))
        db.execute(delete(CommentReport).where(CommentReport.comment_id.in_(chunk)))
        db.execute(delete(Comment).where(Comment.id.in_(chunk)).execution_options(synchronize_session=False))
    return len(ids)
