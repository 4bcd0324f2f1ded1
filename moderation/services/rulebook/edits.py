"""Changes to the word and domain lists, each logged, whether made on the rules page or the command line."""

from __future__ import annotations

import enum
import re
import unicodedata
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from moderation.models import DomainRuleRow, ScreeningReason, WordRuleRow
from moderation.screening.matching import Action, Fuzzy
from moderation.screening.normalize import compact_form
from moderation.services.audit import Actor, AuditAction, record

WORD_ACTIONS = frozenset(action.value for action in Action)
DOMAIN_ACTIONS = frozenset({Action.BLOCK.value, Action.ALLOW.value})
FUZZY_CHOICES = tuple(choice.value for choice in Fuzzy)
MAX_TERM_LENGTH = 200


class RuleProblem(enum.StrEnum):
    UNKNOWN_ACTION = "unknown_action"
    BLANK_TERM = "blank_term"
    TERM_TOO_LONG = "term_too_long"
    DOMAIN_ACTION = "domain_action"
    INVALID_DOMAIN = "invalid_domain"
    CONTROL_CHARACTER = "control_character"
    PHRASE_WITHOUT_TERM = "phrase_without_term"
    UNKNOWN_FUZZY = "unknown_fuzzy"
    TWIN_OF_THE_OTHER_KIND = "twin_of_the_other_kind"
    NO_TAB = "no_tab"  # an imported line without the tab between its value and its action


class RuleError(ValueError):
    """A refused rule change: what is wrong (`problem`) and with which value; the UI words it."""

    def __init__(self, problem: RuleProblem, value: str = ""):
        super().__init__(f"{problem.value}: {value}" if value else problem.value)
        self.problem = problem
        self.value = value


def word_rules(db: Session) -> list[WordRuleRow]:
    return list(db.scalars(select(WordRuleRow).order_by(WordRuleRow.action, WordRuleRow.term)))


def domain_rules(db: Session) -> list[DomainRuleRow]:
    return list(db.scalars(select(DomainRuleRow).order_by(DomainRuleRow.action, DomainRuleRow.domain)))


def clean_domain(value: str) -> str:
    """The host of what an admin typed: full-width forms folded (ＥＸＡＭＰＬＥ．ＣＯＭ), scheme and path cut."""
    value = unicodedata.normalize("NFKC", value).strip().lower()
    return value.removeprefix("http://").removeprefix("https://").split("/")[0].strip(".")


# A label of a host name: letters (of any script: an IDN is matched as written), figures, - and _.
# A space, a * or other punctuation can never be in a link's host, so a rule holding one matches nothing.
_DOMAIN_LABEL = re.compile(r"[\w-]+")


def clean_word_rule(term: str, action: str, note: str = "", *, fuzzy: str = Fuzzy.HOLD.value) -> WordRuleRow:
    """A valid word rule row (not yet stored), or RuleError."""
    term = term.strip()
    _refuse_control_characters(term)
    if action not in WORD_ACTIONS:
        raise RuleError(RuleProblem.UNKNOWN_ACTION, action)
    if fuzzy not in FUZZY_CHOICES:
        raise RuleError(RuleProblem.UNKNOWN_FUZZY, fuzzy)
    if not compact_form(term):
        raise RuleError(RuleProblem.BLANK_TERM, term)
    if len(term) > MAX_TERM_LENGTH:
        raise RuleError(RuleProblem.TERM_TOO_LONG, str(MAX_TERM_LENGTH))
    return WordRuleRow(term=term, action=action, note=note.strip()[:500], fuzzy=fuzzy)


def clean_domain_rule(domain: str, action: str) -> DomainRuleRow:
    _refuse_control_characters(domain)
    domain = clean_domain(domain)
    if action not in DOMAIN_ACTIONS:
        raise RuleError(RuleProblem.DOMAIN_ACTION, action)
    labels = domain.split(".")
    if "." not in domain or len(domain) > 253 or not all(
            0 < len(label) <= 63 and _DOMAIN_LABEL.fullmatch(label) for label in labels):
        raise RuleError(RuleProblem.INVALID_DOMAIN, domain)
    return DomainRuleRow(domain=domain, action=action)


def save_word_rule(db: Session, term: str, action: str, note: str = "", *, actor: Actor, now: datetime,
                   fuzzy: str = Fuzzy.HOLD.value) -> WordRuleRow:
    """Add a word rule, or replace the action of an existing one; logged with the stored term."""
    cleaned = clean_word_rule(term, action, note, fuzzy=fuzzy)
    _refuse_a_twin_of_the_other_kind(db, cleaned)
    row = _replace(db, WordRuleRow.term, cleaned)
    record(db, actor, AuditAction.RULE_ADD, now=now,
           details={"kind": "word", "term": row.term, "action": row.action, "fuzzy": row.fuzzy})
    return row


def allow_phrase(db: Session, reason: ScreeningReason, phrase: str, *, actor: Actor, now: datetime) -> WordRuleRow:
    """Allow a phrase around the term a word rule matched in a comment (the phrase must contain it)."""
    if reason.kind != "word" or compact_form(reason.detail) not in compact_form(phrase):
        raise RuleError(RuleProblem.PHRASE_WITHOUT_TERM, reason.detail)
    cleaned = clean_word_rule(phrase, Action.ALLOW.value, f"from comment #{reason.comment_id}")
    _refuse_a_twin_of_the_other_kind(db, cleaned)
    row = _replace(db, WordRuleRow.term, cleaned)
    record(db, actor, AuditAction.ALLOW_TERM, now=now, comment_id=reason.comment_id,
           details={"term": row.term, "rule": reason.rule_id, "matched": reason.detail})
    return row


def save_domain_rule(db: Session, domain: str, action: str, *, actor: Actor, now: datetime) -> DomainRuleRow:
    """Block or allow a domain; logged with the domain as stored (cleaned)."""
    row = _replace(db, DomainRuleRow.domain, clean_domain_rule(domain, action))
    record(db, actor, AuditAction.RULE_ADD, now=now, details={"kind": "domain", "term": row.domain, "action": row.action})
    return row


def _refuse_a_twin_of_the_other_kind(db: Session, row: WordRuleRow) -> None:
    """An allow rule and a blocking one that screening reads as the same term (Traditional and
    Simplified, full-width, spacing: 賭博 and 赌博): the allow rule would cancel the other without a
    word. Refused, naming the rule already there."""
    other = twins_of_the_other_kind(db, [row]).get(row.term)
    if other is not None:
        raise RuleError(RuleProblem.TWIN_OF_THE_OTHER_KIND, other)


def twins_of_the_other_kind(db: Session, rows: list[WordRuleRow]) -> dict[str, str]:
    """For rules about to be saved together (one, or an imported list), each one's twin of the other
    kind (allow against hold/spam/block) among the stored rules they leave in place and among
    themselves: new term → the twin's term. A stored rule that one of them replaces (the same term)
    is no twin. Only the stored rules of a kind that could conflict are read."""
    allows = {row.action == Action.ALLOW.value for row in rows}
    stored = select(WordRuleRow.term, WordRuleRow.action)
    if allows == {True}:
        stored = stored.where(WordRuleRow.action != Action.ALLOW.value)
    elif allows == {False}:
        stored = stored.where(WordRuleRow.action == Action.ALLOW.value)
    replaced = {row.term for row in rows}
    by_kind: dict[bool, dict[str, str]] = {True: {}, False: {}}  # allow? → compact form → a term
    for term, action in db.execute(stored):
        if term not in replaced:
            by_kind[action == Action.ALLOW.value].setdefault(compact_form(term), term)
    keys = {row.term: compact_form(row.term) for row in rows}
    for row in rows:
        by_kind[row.action == Action.ALLOW.value].setdefault(keys[row.term], row.term)
    found = {}
    for row in rows:
        other = by_kind[row.action != Action.ALLOW.value].get(keys[row.term])
        if other is not None:
            found[row.term] = other
    return found


def _refuse_control_characters(value: str) -> None:
    if any(unicodedata.category(char) == "Cc" and char not in "\t" for char in value):
        raise RuleError(RuleProblem.CONTROL_CHARACTER)


def _replace(db: Session, key_column, row):
    """Put `row` in place of any rule with the same key: delete + insert, never an edit in place
    (the rules cache relies on it)."""
    db.execute(delete(key_column.class_).where(key_column == getattr(row, key_column.key)))
    db.add(row)
    db.flush()
    return row


def remove_rule(db: Session, value: str, *, actor: Actor, now: datetime) -> int:
    """Remove the word or domain rule with exactly this text; the number removed (logged when any)."""
    value = value.strip()
    removed = 0
    for model, column in ((WordRuleRow, WordRuleRow.term), (DomainRuleRow, DomainRuleRow.domain)):
        for row in db.scalars(select(model).where(column == value)):
            db.delete(row)
            removed += 1
    if removed:
        record(db, actor, AuditAction.RULE_REMOVE, now=now, details={"term": value, "removed": removed})
    db.flush()
    return removed
