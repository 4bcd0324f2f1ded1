"""The starter list shipped with the package, loaded into empty rule tables; and, for a database
loaded from an earlier release, the starter rules it lacks."""

from __future__ import annotations

from importlib import resources

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from moderation.models import AuditEntry, DomainRuleRow, WordRuleRow
from moderation.screening.matching import Action, WordRule
from moderation.services.audit import AuditAction


def starter_rules() -> list[tuple[str, str, str, str]]:
    text = resources.files("moderation").joinpath("data/starter_rules.tsv").read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            kind, action, value, note = (line.split("\t") + [""])[:4]
            rows.append((kind, action, value, note))
    return rows


def starter_word_rules() -> list[WordRule]:
    """The starter list's word rules as the screening core takes them (for tests and benchmarks
    that screen without a database)."""
    return [WordRule(f"word:{index}", value, Action(action))
            for index, (kind, action, value, _) in enumerate(starter_rules()) if kind == "word"]


def load_starter_rules(db: Session) -> int:
    """Add the starter list to empty rule tables (a list the operator emptied stays empty)."""
    if db.scalar(select(func.count()).select_from(WordRuleRow)) or db.scalar(
        select(func.count()).select_from(DomainRuleRow)
    ):
        return 0
    rows = starter_rules()
    for kind, action, value, note in rows:
        Action(action)
        if kind == "word":
            db.add(WordRuleRow(term=value, action=action, note=note))
        else:
            db.add(DomainRuleRow(domain=value.lower(), action=action))
    db.flush()
    return len(rows)


def starter_rules_lacking(db: Session) -> tuple[list[tuple[str, str, str, str]], list[str]]:
    """The starter list's rules that this database has no rule for (a rule an admin changed counts as
    there), and, kept out of them, those that an admin removed (the audit log's removals)."""
    words = set(db.scalars(select(WordRuleRow.term)))
    domains = set(db.scalars(select(DomainRuleRow.domain)))
    removed = {(details or {}).get("term") for details in
               db.scalars(select(AuditEntry.details).where(AuditEntry.action == AuditAction.RULE_REMOVE))}
    lacking, kept_out = [], []
    for kind, action, value, note in starter_rules():
        value = value if kind == "word" else value.lower()
        if value in (words if kind == "word" else domains):
            continue
        if value in removed:
            kept_out.append(value)
        else:
            lacking.append((kind, action, value, note))
    return lacking, kept_out
