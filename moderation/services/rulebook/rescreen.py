"""Re-screening: the current word and link rules applied to the comments waiting for review."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session, selectinload

from moderation.models import Comment, CommentStatus
from moderation.screening.pipeline import AuthorFacts, Outcome, Rules, Submission, screen
from moderation.services import rollups
from moderation.services.audit import SYSTEM, Actor, AuditAction, record
from moderation.services.decisions import Decision, RejectReason, decide
from moderation.services.rulebook.reasons import RULE_KINDS, reason_row


@dataclass(frozen=True)
class Rescreened:
    checked: int
    moved: dict[str, int]  # new status → how many
    stopped: bool = False  # asked to stop (a cancelled job) before the end of the queue


RESCREEN_BATCH = 50  # comments screened between commits: on SQLite the write lock is held that long


def rescreen_pending(db: Session, rules: Rules, *, now: datetime, actor: Actor, limit: int | None = None,
                     progress: Callable[[int, int], bool] | None = None, batch: int = RESCREEN_BATCH) -> Rescreened:
    """Every comment waiting for review (or the oldest `limit`), oldest first, in keyset batches: their
    rule reasons replaced and committed batch by batch, then the comments the rules now send to spam
    or rejection moved there, each through `decide` (which commits). The moves are the rules'
    decisions, made by the service: not counted as `actor`'s (the dashboard's decisions and waits per
    moderator); `actor` is who started the re-screening, in its own entry. `progress(done, total)`
    hears before each comment and at the end, and stops the work when it answers False."""
    waiting = Comment.status == CommentStatus.PENDING
    total = db.scalar(select(func.count()).select_from(Comment).where(waiting)) or 0
    if limit is not None:
        total = min(total, limit)
    moved: dict[str, int] = {}
    checked, stopped, after = 0, False, None
    while checked < total and not stopped:
        query = (select(Comment).where(waiting).options(selectinload(Comment.screening_reasons))
                 .order_by(Comment.created_at, Comment.id).limit(min(batch, total - checked)))
        if after is not None:
            query = query.where(tuple_(Comment.created_at, Comment.id) > after)
        comments = list(db.scalars(query))
        if not comments:
            break
        moves = []
        for comment in comments:
            if progress is not None and not progress(checked, total):
                stopped = True
                break
            checked += 1
            decision = _screened_again(db, comment, rules, now)
            if decision is not None:
                moves.append((comment.id, comment.version, decision))
        after = (comments[-1].created_at, comments[-1].id)
        db.commit()
        for comment_id, version, decision in moves:
            result = decide(db, comment_id, decision, expected_version=version, actor=SYSTEM, now=now,
                            reason=RejectReason.SCREENING, details={"by": "rescreen"})
            if result.ok:
                moved[result.status.value] = moved.get(result.status.value, 0) + 1
    if progress is not None and not stopped:
        progress(checked, total)
    details = {"checked": checked, "moved": moved} | ({"stopped": True} if stopped else {})
    record(db, actor, AuditAction.RESCREEN, now=now, details=details)
    db.commit()
    return Rescreened(checked, moved, stopped)


def _screened_again(db: Session, comment: Comment, rules: Rules, now: datetime) -> Decision | None:
    """The comment's rule reasons replaced by today's (flushed with the batch); the decision the rules
    now take on it, if they move it out of the queue."""
    verdict = screen(Submission(comment.body, comment.nickname), AuthorFacts(), rules, now=now)
    kept = [reason for reason in comment.screening_reasons if reason.kind not in RULE_KINDS]
    fresh = [reason_row(reason) for reason in verdict.reasons if reason.kind.value in RULE_KINDS]
    rollups.rule_hits_replaced(
        db, created_at=comment.created_at,
        before=[reason.rule_id for reason in comment.screening_reasons if reason.kind in rollups.RULE_HIT_KINDS],
        after=[reason.rule_id for reason in fresh if reason.kind in rollups.RULE_HIT_KINDS])
    comment.screening_reasons = kept + fresh
    return {Outcome.SPAM: Decision.SPAM, Outcome.REJECTED: Decision.REJECT}.get(verdict.outcome)
