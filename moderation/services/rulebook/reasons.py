"""Screening reasons as stored rows, and the ones a moderator can report as a rule's mistake."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.models import AuditEntry, DomainRuleRow, ScreeningReason, WordRuleRow
from moderation.services.audit import Actor, AuditAction, record

RULE_KINDS = frozenset({"word", "link_count", "link_domain"})


def reason_values(reason) -> dict:
    """A screening reason as the columns of its stored row."""
    return {
        "kind": reason.kind.value,
        "action": reason.action.value if reason.action else None,
        "rule_id": reason.rule_id,
        "detail": reason.detail,
        "field": reason.field,
        "span_start": reason.start,
        "span_end": reason.end,
        "how": reason.how,
    }


def reason_row(reason) -> ScreeningReason:
    return ScreeningReason(**reason_values(reason))


def rule_reason(db: Session, comment_id: int, reason_id: int) -> ScreeningReason | None:
    """A stored reason of this comment that a rule gave (word, link count, domain), else None."""
    reason = db.get(ScreeningReason, reason_id)
    if reason is None or reason.comment_id != comment_id or reason.kind not in RULE_KINDS:
        return None
    return reason


def report_rule_wrong(db: Session, reason: ScreeningReason, *, actor: Actor, now) -> bool:
    """Count "this rule was wrong here" once per moderator and comment; False when already counted."""
    already = db.scalar(select(AuditEntry.id).where(
        AuditEntry.action == AuditAction.RULE_WRONG, AuditEntry.comment_id == reason.comment_id,
        AuditEntry.note == reason.rule_id, AuditEntry.moderator_id == actor.moderator_id))
    if already:
        return False
    # The rule's id stays in `note` too: the statistics group by it in SQL (a JSON path is not portable).
    record(db, actor, AuditAction.RULE_WRONG, now=now, comment_id=reason.comment_id, note=reason.rule_id,
           details={"rule": reason.rule_id, "term": reason.detail})
    return True


def removed_rules(db: Session, rule_ids: Iterable[str]) -> frozenset[str]:
    """Of these reasons' rule ids, those whose word or domain rule has since been deleted: the reason
    stays true of the comment (it was held for it), but the rule can no longer be judged or counted."""
    asked = {rule_id for rule_id in rule_ids if rule_id.startswith(("word:", "domain:"))}
    words = {int(rule_id[5:]) for rule_id in asked if rule_id.startswith("word:") and rule_id[5:].isdigit()}
    domains = {rule_id[7:] for rule_id in asked if rule_id.startswith("domain:")}
    live = set()
    if words:
        live |= {f"word:{found}" for found in db.scalars(select(WordRuleRow.id).where(WordRuleRow.id.in_(words)))}
    if domains:
        live |= {f"domain:{found}" for found in db.scalars(
            select(DomainRuleRow.domain).where(DomainRuleRow.domain.in_(domains)))}
    return frozenset(asked - live)
