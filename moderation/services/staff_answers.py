"""Answers written by a moderator as the site: published at once, in the thread of the comment
answered, marked 「本站編輯」 by `Comment.staff_account_id` (no nickname can make that badge)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from moderation.models import Comment, CommentStatus
from moderation.screening.characters import BIDI_REORDERING, visible_text
from moderation.services import outbox
from moderation.services.audit import Actor, AuditAction, record
from moderation.services.listing import listing_changed, replies_changed


class AnswerProblem(enum.StrEnum):
    BODY_EMPTY = "body_empty"
    BODY_TOO_LONG = "body_too_long"
    BODY_REORDERED = "body_reordered"
    NOT_FOUND = "not_found"
    NOT_PUBLISHED = "reply_not_published"  # the comment answered is not published (any more)
    SITE_ANSWER = "answers_the_site"  # the comment is the site's own answer: answer the reader instead


@dataclass(frozen=True)
class Answered:
    comment_id: int | None = None
    problem: AnswerProblem | None = None


def answer_problem(body: str, *, max_length: int) -> AnswerProblem | None:
    if not visible_text(body):
        return AnswerProblem.BODY_EMPTY
    if any(char in BIDI_REORDERING for char in body):
        return AnswerProblem.BODY_REORDERED
    if len(body) > max_length:
        return AnswerProblem.BODY_TOO_LONG
    return None


def answer_as_site(db: Session, parent_id: int, body: str, *, actor: Actor, author_hash: str, ip_hash: str,
                   now: datetime, max_length: int) -> Answered:
    """Post the site's answer under a published comment, published at once and logged. Flushes."""
    body = body.replace("\r\n", "\n").replace("\r", "\n").strip()
    problem = answer_problem(body, max_length=max_length)
    if problem:
        return Answered(problem=problem)
    parent = db.get(Comment, parent_id)
    if parent is None:
        return Answered(problem=AnswerProblem.NOT_FOUND)
    if parent.status is not CommentStatus.APPROVED:
        return Answered(problem=AnswerProblem.NOT_PUBLISHED)
    if parent.is_staff:
        return Answered(problem=AnswerProblem.SITE_ANSWER)
    thread_id = parent.thread_id or parent.id
    comment_id = db.execute(insert(Comment).returning(Comment.id), {
        "article_id": parent.article_id, "nickname": None, "is_anonymous": False, "body": body,
        "status": CommentStatus.APPROVED, "created_at": now, "ip_hash": ip_hash, "author_hash": author_hash,
        "version": 1, "thread_id": thread_id, "reply_to_id": parent.id, "staff_account_id": actor.moderator_id,
    }).scalar_one()
    listing_changed(db, parent.article_id, approved_delta=1)
    replies_changed(db, thread_id, 1)
    record(db, actor, AuditAction.STAFF_ANSWER, now=now, comment_id=comment_id, to_status=CommentStatus.APPROVED.value,
           details={"answers": parent.id})
    outbox.comment_posted(db, comment_id, article_slug=parent.article.slug, article_key=parent.article.key,
                          status=CommentStatus.APPROVED.value, nickname=None, anonymous=False, body=body, now=now,
                          article_id=parent.article_id)
    return Answered(comment_id=comment_id)
