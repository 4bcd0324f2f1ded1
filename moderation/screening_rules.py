"""Screening rules in the database: loading the starter list, compiling, caching per revision."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from importlib import resources

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from moderation.models import DomainRuleRow, WordRuleRow
from moderation.screening.pipeline import AuthorFacts, Rules, Submission, Verdict, screen
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
    for kind, action, value, note in starter_rules():
        Action(action)
        if kind == "word":
            db.add(WordRuleRow(term=value, action=action, note=note))
        else:
            db.add(DomainRuleRow(domain=value.lower(), action=action))
    db.commit()
    return len(starter_rules())


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


def active_rules(db: Session, config: Mapping, cache: RulesCache) -> Rules:
    """The compiled rules, rebuilt only when the rule tables changed (checked with one query).

    Rules are never edited in place (a change is a delete and an insert), so the row count and
    the highest id together tell whether anything changed, in any worker.
    """
    revision = db.execute(
        select(
            select(func.count()).select_from(WordRuleRow).scalar_subquery(),
            select(func.max(WordRuleRow.id)).scalar_subquery(),
            select(func.count()).select_from(DomainRuleRow).scalar_subquery(),
            select(func.max(DomainRuleRow.id)).scalar_subquery(),
        )
    ).one()
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
