"""The starter list shipped with the package, loaded into empty rule tables."""

from __future__ import annotations

from importlib import resources

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from moderation.models import DomainRuleRow, WordRuleRow
from moderation.screening.matching import Action, WordRule


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
