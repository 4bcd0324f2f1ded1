"""Re-screening: the current word and link rules applied to the comments waiting for review."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

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


def rescreen_pending(db: Session, rules: Rules, *, now: datetime, actor: Actor, limit: int = 10_000,
                     progress: Callable[[int, int], bool] | None = None) -> Rescreened:
    """Reasons are replaced, and comments the rules now send to spam or rejection are moved there
    (each through `decide`, which commits: so does this, once per comment). The moves are the rules'
    decisions, made by the service: not counted as `actor`'s (the dashboard's decisions and waits per
    moderator); `actor` is who started the re-screening, in its own entry. `progress(done, total)`
    hears after each comment, and stops the work when it answers False."""
    pending = list(db.scalars(
        select(Comment).where(Comment.status == CommentStatus.PENDING)
        .order_by(Comment.created_at, Comment.id).limit(limit)
    ))
    moved: dict[str, int] = {}
    checked = 0
    stopped = False
    for comment in pending:
        if progress is not None and not progress(checked, len(pending)):
            stopped = True
            break
        checked += 1
        verdict = screen(Submission(comment.body, comment.nickname), AuthorFacts(), rules, now=now)
        kept = [reason for reason in comment.screening_reasons if reason.kind not in RULE_KINDS]
        fresh = [reason_row(reason) for reason in verdict.reasons if reason.kind.value in RULE_KINDS]
        rollups.rule_hits_replaced(
            db, created_at=comment.created_at,
            before=[reason.rule_id for reason in comment.screening_reasons if reason.kind in rollups.RULE_HIT_KINDS],
            after=[reason.rule_id for reason in fresh if reason.kind in rollups.RULE_HIT_KINDS])
        comment.screening_reasons = kept + fresh
        version = comment.version
        db.commit()
        decision = {Outcome.SPAM: Decision.SPAM, Outcome.REJECTED: Decision.REJECT}.get(verdict.outcome)
        if decision is None:
            continue
        result = decide(db, comment.id, decision, expected_version=version, actor=SYSTEM, now=now,
                        reason=RejectReason.SCREENING, details={"by": "rescreen"})
        if result.ok:
            moved[result.status.value] = moved.get(result.status.value, 0) + 1
    if progress is not None and not stopped:
        progress(checked, len(pending))
    details = {"checked": checked, "moved": moved} | ({"stopped": True} if stopped else {})
    record(db, actor, AuditAction.RESCREEN, now=now, details=details)
    db.commit()
    return Rescreened(checked, moved, stopped)
