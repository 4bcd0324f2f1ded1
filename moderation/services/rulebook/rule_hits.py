"""How each rule has done lately: hits, how many of those a moderator approved anyway, "wrong here" reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from moderation.models import AuditEntry, Comment, CommentStatus, ScreeningReason
from moderation.services.audit import AuditAction


@dataclass(frozen=True)
class RuleHits:
    hits: int  # comments this rule matched in the window
    approved_anyway: int  # of those, how many a moderator approved
    reported_wrong: int  # "this rule was wrong here" clicks

    @property
    def false_positive_rate(self) -> float | None:
        return self.approved_anyway / self.hits if self.hits else None


def hits_per_rule(db: Session, *, now: datetime, days: int = 30) -> dict[str, RuleHits]:
    """Per rule id ("word:12", "domain:bad.com"): hits in the last `days`, and how many were approved."""
    since = now - timedelta(days=days)
    hits = db.execute(
        select(
            ScreeningReason.rule_id,
            func.count(func.distinct(Comment.id)),
            func.count(func.distinct(case((Comment.status == CommentStatus.APPROVED, Comment.id)))),
        )
        .join(Comment, Comment.id == ScreeningReason.comment_id)
        .where(Comment.created_at >= since, ScreeningReason.kind.in_(["word", "link_domain"]))
        .group_by(ScreeningReason.rule_id)
    ).all()
    wrong = dict(db.execute(
        select(AuditEntry.note, func.count())
        .where(AuditEntry.action == AuditAction.RULE_WRONG, AuditEntry.at >= since)
        .group_by(AuditEntry.note)
    ).all())
    stats = {rule_id: RuleHits(count, approved, wrong.get(rule_id, 0)) for rule_id, count, approved in hits}
    for rule_id, count in wrong.items():
        stats.setdefault(rule_id, RuleHits(0, 0, count))
    return stats
