"""Screening rules in the database: starter list, compiled-rules cache, changes, tester, statistics."""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from moderation.decisions import Decision, RejectReason, decide
from moderation.models import AuditEntry, Comment, CommentStatus, DomainRuleRow, ScreeningReason, WordRuleRow
from moderation.screening.normalize import compact_form
from moderation.screening.pipeline import AuthorFacts, Outcome, Rules, Submission, Verdict, screen
from moderation.screening.rules import Action, DomainRules, Thresholds, WordMatcher, WordRule


class RulesCache:
    """Compiled rules of one app, with the revision they were built from."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stamp: tuple | None = None
        self.rules: Rules | None = None


def starter_rules() -> list[tuple[str, str, str, str]]:
    text = resources.files("moderation").joinpath("data/starter_rules.tsv").read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            kind, action, value, note = (line.split("\t") + [""])[:4]
            rows.append((kind, action, value, note))
    return rows


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
    db.commit()
    return len(rows)


def thresholds_from(config: Mapping) -> Thresholds:
    return Thresholds(
        max_links=config["SCREENING_MAX_LINKS"],
        duplicate_window_seconds=config["SCREENING_DUPLICATE_WINDOW_SECONDS"],
        author_per_minute=config["SCREENING_AUTHOR_PER_MINUTE"],
        ip_per_minute=config["SCREENING_IP_PER_MINUTE"],
        trust_after=config["SCREENING_TRUST_AFTER"],
        trust_window_days=config["SCREENING_TRUST_WINDOW_DAYS"],
        trust_in_pre_moderation=config["SCREENING_TRUST_IN_PRE_MODERATION"],
    )


_RULES_REVISION = select(
    select(func.count()).select_from(WordRuleRow).scalar_subquery(),
    select(func.max(WordRuleRow.id)).scalar_subquery(),
    select(func.count()).select_from(DomainRuleRow).scalar_subquery(),
    select(func.max(DomainRuleRow.id)).scalar_subquery(),
)


def active_rules(db: Session, config: Mapping, cache: RulesCache) -> Rules:
    """The compiled rules, rebuilt only when the rule tables changed (checked with one query).

    Rules are never edited in place (a change is a delete and an insert), so the row count and
    the highest id together tell whether anything changed, in any worker.
    """
    revision = db.connection().execute(_RULES_REVISION).one()
    stamp = (tuple(revision), thresholds_from(config))
    with cache.lock:
        if cache.stamp == stamp and cache.rules is not None:
            return cache.rules
    words = [WordRule(f"word:{row.id}", row.term, Action(row.action)) for row in db.scalars(select(WordRuleRow))]
    domains = list(db.scalars(select(DomainRuleRow)))
    rules = Rules(
        words=WordMatcher.build(words),
        domains=DomainRules(
            blocked=frozenset(row.domain for row in domains if row.action == Action.BLOCK),
            allowed=frozenset(row.domain for row in domains if row.action == Action.ALLOW),
        ),
        thresholds=stamp[1],
    )
    with cache.lock:
        cache.stamp, cache.rules = stamp, rules
    return rules


def check_text(rules: Rules, text: str, *, nickname: str | None, post_moderation: bool, now) -> dict:
    """The rule tester: what the rules decide for this text, as JSON-ready data. Stores nothing."""
    verdict = screen(Submission(text, nickname, post_moderation=post_moderation), AuthorFacts(), rules, now=now)
    return verdict_as_dict(verdict)


def verdict_as_dict(verdict: Verdict) -> dict:
    return {
        "status": verdict.outcome.value,
        "reasons": [
            {
                "rule": reason.rule_id,
                "kind": reason.kind.value,
                "action": reason.action.value if reason.action else None,
                "term": reason.detail,
                "field": reason.field,
                "span": [reason.start, reason.end] if reason.start is not None else None,
            }
            for reason in verdict.reasons
        ],
    }


class RuleError(ValueError):
    """A refused rule change; the message is shown to the admin."""


WORD_ACTIONS = frozenset(action.value for action in Action)
DOMAIN_ACTIONS = frozenset({Action.BLOCK.value, Action.ALLOW.value})
MAX_TERM_LENGTH = 200


def clean_domain(value: str) -> str:
    return value.strip().lower().strip(".").removeprefix("http://").removeprefix("https://").split("/")[0]


def save_word_rule(db: Session, term: str, action: str, note: str = "") -> WordRuleRow:
    """Add a word rule, or replace the action of an existing one (delete + insert: see active_rules)."""
    term = term.strip()
    _refuse_control_characters(term)
    if action not in WORD_ACTIONS:
        raise RuleError(f"未知的動作：{action}")
    if not compact_form(term):
        raise RuleError("字詞不能只有空白或標點")
    if len(term) > MAX_TERM_LENGTH:
        raise RuleError(f"字詞最多 {MAX_TERM_LENGTH} 個字")
    return _replace(db, WordRuleRow.term, WordRuleRow(term=term, action=action, note=note.strip()[:500]))


def save_domain_rule(db: Session, domain: str, action: str) -> DomainRuleRow:
    _refuse_control_characters(domain)
    domain = clean_domain(domain)
    if action not in DOMAIN_ACTIONS:
        raise RuleError(f"網域規則只能是 block 或 allow：{action}")
    labels = domain.split(".")
    if "." not in domain or len(domain) > 253 or not all(0 < len(label) <= 63 for label in labels):
        raise RuleError(f"不是有效的網域：{domain}")
    return _replace(db, DomainRuleRow.domain, DomainRuleRow(domain=domain, action=action))


def _refuse_control_characters(value: str) -> None:
    if any(unicodedata.category(char) == "Cc" and char not in "\t" for char in value):
        raise RuleError("含有控制字元（例如 NUL）")


def _replace(db: Session, key_column, row):
    """Put `row` in place of any rule with the same key: delete + insert, never an edit in place."""
    db.execute(delete(key_column.class_).where(key_column == getattr(row, key_column.key)))
    db.add(row)
    db.flush()
    return row


def remove_rule(db: Session, value: str) -> int:
    """Remove the word or domain rule with exactly this text; the number removed."""
    removed = 0
    for model, column in ((WordRuleRow, WordRuleRow.term), (DomainRuleRow, DomainRuleRow.domain)):
        for row in db.scalars(select(model).where(column == value.strip())):
            db.delete(row)
            removed += 1
    db.flush()
    return removed


def export_rules(db: Session, kind: str) -> str:
    """One entry a line, `value<TAB>action`, as `import_rules` reads it."""
    if kind == "word":
        rows = db.scalars(select(WordRuleRow).order_by(WordRuleRow.action, WordRuleRow.term))
        return "".join(f"{row.term}\t{row.action}\n" for row in rows)
    rows = db.scalars(select(DomainRuleRow).order_by(DomainRuleRow.action, DomainRuleRow.domain))
    return "".join(f"{row.domain}\t{row.action}\n" for row in rows)


def import_rules(db: Session, kind: str, text: str) -> tuple[int, list[str]]:
    """Add or update every `value<TAB>action` line; the count saved and the lines refused (with why).

    Nothing is saved when any line is refused, so a half-imported list never goes live.
    """
    saved, problems = 0, []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        value, _, action = line.rstrip("\r").partition("\t")
        try:
            if kind == "word":
                save_word_rule(db, value, action.strip().lower())
            else:
                save_domain_rule(db, value, action.strip().lower())
            saved += 1
        except RuleError as error:
            problems.append(f"第 {number} 行：{error}")
    if problems:
        db.rollback()
        return 0, problems
    return saved, []


@dataclass(frozen=True)
class RuleStatistics:
    hits: int  # comments this rule matched in the window
    approved_anyway: int  # of those, how many a moderator approved
    reported_wrong: int  # "this rule was wrong here" clicks

    @property
    def false_positive_rate(self) -> float | None:
        return self.approved_anyway / self.hits if self.hits else None


def rule_statistics(db: Session, *, now: datetime, days: int = 30) -> dict[str, RuleStatistics]:
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
        .where(AuditEntry.action == "rule_wrong", AuditEntry.at >= since)
        .group_by(AuditEntry.note)
    ).all())
    stats = {rule_id: RuleStatistics(count, approved, wrong.get(rule_id, 0)) for rule_id, count, approved in hits}
    for rule_id, count in wrong.items():
        stats.setdefault(rule_id, RuleStatistics(0, 0, count))
    return stats


@dataclass(frozen=True)
class Rescreened:
    checked: int
    moved: dict[str, int]  # new status → how many


def rescreen_pending(db: Session, rules: Rules, *, now: datetime, actor, limit: int = 10_000) -> Rescreened:
    """Apply the current word and link rules to pending comments: reasons are replaced, and comments
    the rules now send to spam or rejection are moved there (each through `decide`, logged)."""
    pending = list(db.scalars(
        select(Comment).where(Comment.status == CommentStatus.PENDING)
        .order_by(Comment.created_at, Comment.id).limit(limit)
    ))
    moved: dict[str, int] = {}
    for comment in pending:
        verdict = screen(Submission(comment.body, comment.nickname), AuthorFacts(), rules, now=now)
        kept = [reason for reason in comment.screening_reasons if reason.kind not in RULE_KINDS]
        fresh = [reason_row(reason) for reason in verdict.reasons if reason.kind.value in RULE_KINDS]
        comment.screening_reasons = kept + fresh
        version = comment.version
        db.commit()
        decision = {Outcome.SPAM: Decision.SPAM, Outcome.REJECTED: Decision.REJECT}.get(verdict.outcome)
        if decision is None:
            continue
        result = decide(db, comment.id, decision, expected_version=version, actor=actor, now=now,
                        reason=RejectReason.OTHER, note="rescreen")
        if result.ok:
            moved[result.status.value] = moved.get(result.status.value, 0) + 1
    return Rescreened(len(pending), moved)


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
    }


def reason_row(reason) -> ScreeningReason:
    return ScreeningReason(**reason_values(reason))
