"""Editors' picks (「編輯精選」): up to PICKS_PER_ARTICLE published comments per article, shown first.

Pinning bumps the article's revision first: on PostgreSQL that locks the article's row, so two
moderators pinning at once are counted one after the other and a fourth pick is always refused.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from moderation.models import Comment, CommentStatus
from moderation.services.audit import Actor, AuditAction, record
from moderation.services.listing import PICKS_PER_ARTICLE, listing_changed


class PinOutcome(enum.StrEnum):
    PINNED = "pinned"
    UNPINNED = "unpinned"
    NOT_FOUND = "not_found"
    NOT_PUBLISHED = "not_published"  # only published comments are picked
    FULL = "full"  # the article has its PICKS_PER_ARTICLE picks already
    UNCHANGED = "unchanged"  # already pinned (or not pinned, for an unpin)


def set_pinned(db: Session, comment_id: int, pinned: bool, *, actor: Actor, now: datetime) -> PinOutcome:
    """Pin or unpin one comment, logged. Flushes; the caller commits (or rolls back a refusal)."""
    current = db.execute(select(Comment.article_id, Comment.status, Comment.pinned_at)
                         .where(Comment.id == comment_id)).one_or_none()
    if current is None:
        return PinOutcome.NOT_FOUND
    if pinned and current.status is not CommentStatus.APPROVED:
        return PinOutcome.NOT_PUBLISHED
    if (current.pinned_at is not None) == pinned:
        return PinOutcome.UNCHANGED
    listing_changed(db, current.article_id)  # first: the article's row lock serializes pinning
    if pinned and not _room_for_a_pick(db, current.article_id):
        return PinOutcome.FULL
    db.execute(update(Comment).where(Comment.id == comment_id).values(pinned_at=now if pinned else None)
               .execution_options(synchronize_session=False))
    record(db, actor, AuditAction.PIN if pinned else AuditAction.UNPIN, now=now, comment_id=comment_id)
    return PinOutcome.PINNED if pinned else PinOutcome.UNPINNED


def pin_again(db: Session, comment_id: int, article_id: int, pinned_at: datetime) -> bool:
    """An undo puts back a pick its decision took down, at its old place, where the article still has
    room for it (not logged apart: the undo's audit entry says so). Flushes."""
    listing_changed(db, article_id)  # first, as for a pin
    if not _room_for_a_pick(db, article_id):
        return False
    db.execute(update(Comment).where(Comment.id == comment_id).values(pinned_at=pinned_at)
               .execution_options(synchronize_session=False))
    return True


def picks_beside(db: Session, comment_id: int) -> list[int]:
    """The editors' picks of this comment's article (what a refused fourth pick names)."""
    article_id = select(Comment.article_id).where(Comment.id == comment_id).scalar_subquery()
    return list(db.scalars(select(Comment.id).where(*_picks_of(article_id)).order_by(Comment.pinned_at, Comment.id)))


def _picks_of(article_id) -> tuple:
    return Comment.article_id == article_id, Comment.pinned_at.is_not(None), Comment.status == CommentStatus.APPROVED


def _room_for_a_pick(db: Session, article_id: int) -> bool:
    return db.scalar(select(func.count()).select_from(Comment).where(*_picks_of(article_id))) < PICKS_PER_ARTICLE
