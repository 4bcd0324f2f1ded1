"""Rule lists as text files: `value<TAB>action`, one rule a line (a word rule may add a third
column, how it treats fuzzy matches: hold, action or off, and a fourth, its note), for export and
all-or-nothing import."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from moderation.models import DomainRuleRow, WordRuleRow
from moderation.services.audit import Actor, AuditAction, record
from moderation.services.rulebook.edits import (
    DOMAIN_ACTIONS,
    FUZZY_CHOICES,
    WORD_ACTIONS,
    RuleError,
    RuleProblem,
    clean_domain_rule,
    clean_word_rule,
    domain_rules,
    twins_of_the_other_kind,
    word_rules,
)

KINDS = ("word", "domain")


@dataclass(frozen=True)
class LineRefused:
    number: int
    error: RuleError


def export_rules(db: Session, kind: str) -> str:
    """One entry a line, `value<TAB>action`, as `import_rules` reads it; a word rule's fuzzy choice
    and note follow when they say something (a note's tabs and line breaks written as spaces)."""
    if kind == "word":
        return "".join(_word_line(row) for row in word_rules(db))
    return "".join(f"{row.domain}\t{row.action}\n" for row in domain_rules(db))


def _word_line(row: WordRuleRow) -> str:
    columns = [row.term, row.action]
    note = " ".join((row.note or "").split())
    if row.fuzzy != "hold" or note:
        columns.append(row.fuzzy)
    if note:
        columns.append(note)
    return "\t".join(columns) + "\n"


def _split_at_spaces(line: str, kind: str) -> tuple[str, str, str] | None:
    """A line typed in a text box, where Tab moves on instead of typing one: `加我私聊 spam` (and, for a
    word, `加我私聊 hold action`), read at its last spaces when what follows them is an action. A term
    may hold spaces itself (博 彩 block): only the last words are taken as the action and choice."""
    actions = WORD_ACTIONS if kind == "word" else DOMAIN_ACTIONS
    three = line.strip().rsplit(None, 2)
    if kind == "word" and len(three) == 3 and three[1].lower() in actions and three[2].lower() in FUZZY_CHOICES:
        return three[0], three[1], three[2]
    two = line.strip().rsplit(None, 1)
    if len(two) == 2 and two[1].lower() in actions:
        return two[0], two[1], ""
    return None


def import_rules(db: Session, kind: str, text: str, *, actor: Actor, now: datetime) -> tuple[int, list[LineRefused]]:
    """Add or update every `value<TAB>action` line; the count saved and the lines refused.

    Nothing is saved when any line is refused, so a half-imported list never goes live.
    """
    rows, refused, lines = {}, [], {}  # lines: a word's line, to name it when refused
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        value, tab, rest = line.rstrip("\r").partition("\t")
        action, _, rest = rest.partition("\t")
        fuzzy, _, note = rest.partition("\t")
        if not tab:
            split = _split_at_spaces(line, kind)
            if split is None:
                refused.append(LineRefused(number, RuleError(RuleProblem.NO_TAB, value.strip()[:40])))
                continue
            value, action, fuzzy = split
        try:
            if kind == "word":
                row = clean_word_rule(value, action.strip().lower(), note, fuzzy=fuzzy.strip().lower() or "hold")
                rows[row.term], lines[row.term] = row, number
            else:
                row = clean_domain_rule(value, action.strip().lower())
                rows[row.domain] = row
        except RuleError as error:
            refused.append(LineRefused(number, error))
    if kind == "word":  # as one rule saved alone: no allow rule that cancels a blocking twin (said with the rest)
        twins = twins_of_the_other_kind(db, list(rows.values()))
        refused = sorted([*refused, *(LineRefused(lines[term], RuleError(RuleProblem.TWIN_OF_THE_OTHER_KIND, other))
                                      for term, other in twins.items())], key=lambda line: line.number)
    if refused:
        return 0, refused
    model, key = (WordRuleRow, WordRuleRow.term) if kind == "word" else (DomainRuleRow, DomainRuleRow.domain)
    keys = list(rows)
    if kind == "word":
        _keep_stored_notes(db, rows)
    for start in range(0, len(keys), 500):
        db.execute(delete(model).where(key.in_(keys[start:start + 500])))
    db.add_all(rows.values())
    record(db, actor, AuditAction.RULE_IMPORT, now=now, details={"kind": kind, "count": len(rows)})
    db.flush()
    return len(rows), []


def _keep_stored_notes(db: Session, rows: dict[str, WordRuleRow]) -> None:
    """A line without a note leaves the stored rule's note as it was (a list typed by hand, or
    exported before notes were)."""
    unnoted = [term for term, row in rows.items() if not row.note]
    for start in range(0, len(unnoted), 500):
        for term, note in db.execute(select(WordRuleRow.term, WordRuleRow.note)
                                     .where(WordRuleRow.term.in_(unnoted[start:start + 500]), WordRuleRow.note != "")):
            rows[term].note = note
