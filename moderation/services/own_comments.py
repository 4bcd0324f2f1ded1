"""What became of a reader's own comments on an article, for their browser alone.

審核中 (waiting: pending, and spam that was never published, since telling a spammer that screening
caught them helps them adapt), 已公開 (published), 未通過 (refused before it was ever published, with
the moderator's reason code, and their note only when they chose to share it with the author), and
已刪除 (published, then taken down). Erased comments are gone, for the author as for everyone.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from moderation.models import AuditEntry, Comment, CommentStatus

OWN_COMMENTS_SHOWN = 50  # the newest of this reader's comments on one article


class OwnState(enum.StrEnum):
    WAITING = "waiting"  # 審核中
    PUBLISHED = "published"  # 已公開
    REFUSED = "refused"  # 未通過
    REMOVED = "removed"  # 已刪除


@dataclass(frozen=True)
class OwnComment:
    comment: Comment
    state: OwnState
    reason: str | None = None  # decisions.RejectReason value, for 未通過 and 已刪除
    note: str = ""  # the moderator's note, only when shared with the author
    answers_name: str | None = None  # a reply: the nickname it answers (「回覆 @暱稱」); None: 匿名網友
    answers_gone: bool = False  # a reply whose comment was rejected or erased since: 「原評論已刪除」

    @property
    def is_reply(self) -> bool:
        return self.comment.reply_to_id is not None


# Set in the audit row's details by a moderator who ticks "share the note with the author".
NOTE_SHARED = "note_shared"


def own_comments(db: Session, article_id: int, author_hash: str | None) -> list[OwnComment]:
    """This author's comments on the article, newest first, each with its state (two queries)."""
    if not author_hash:
        return []
    answered = aliased(Comment)  # what a reply answers, named in the reader's own list while it waits too
    rows = db.execute(
        select(Comment, answered.nickname, answered.is_anonymous, answered.status)
        .outerjoin(answered, answered.id == Comment.reply_to_id)
        .where(Comment.article_id == article_id, Comment.author_hash == author_hash)
        .order_by(Comment.created_at.desc(), Comment.id.desc()).limit(OWN_COMMENTS_SHOWN)
    ).all()
    comments = [row[0] for row in rows]
    last: dict[int, AuditEntry] = {}
    if comments:
        for entry in db.scalars(
            select(AuditEntry)
            .where(AuditEntry.comment_id.in_([comment.id for comment in comments]), AuditEntry.to_status.is_not(None))
            .order_by(AuditEntry.at, AuditEntry.id)
        ):
            last[entry.comment_id] = entry
    return [_own(comment, last.get(comment.id), _answered(comment, *answered_facts))
            for comment, *answered_facts in rows]


def _answered(comment: Comment, nickname: str | None, anonymous: bool | None, status: CommentStatus | None) -> dict:
    if comment.reply_to_id is None:
        return {}
    if status is not CommentStatus.APPROVED:
        return {"answers_gone": True}
    return {"answers_name": None if anonymous else nickname}


def _own(comment: Comment, last: AuditEntry | None, answered: dict) -> OwnComment:
    status = comment.status
    if status is CommentStatus.APPROVED:
        return OwnComment(comment, OwnState.PUBLISHED, **answered)
    taken_down = last is not None and last.from_status == CommentStatus.APPROVED.value
    if status is CommentStatus.PENDING or (status is CommentStatus.SPAM and not taken_down):
        return OwnComment(comment, OwnState.WAITING, **answered)
    reason = last.reason if last is not None and last.to_status == CommentStatus.REJECTED.value else None
    shared = last is not None and bool((last.details or {}).get(NOTE_SHARED))
    return OwnComment(comment, OwnState.REMOVED if taken_down else OwnState.REFUSED, reason,
                      last.note if shared and reason else "", **answered)
