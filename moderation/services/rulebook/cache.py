"""The compiled rules of one app, rebuilt only when the rule tables changed."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from moderation.models import DomainRuleRow, WordRuleRow
from moderation.screening.matching import Action, DomainRules, Fuzzy, Thresholds, WordMatcher, WordRule
from moderation.screening.pipeline import Rules


class RulesCache:
    """Compiled rules of one app, with the revision they were built from."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stamp: tuple | None = None
        self.rules: Rules | None = None


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
    rules = compile_rules(db, stamp[1])
    with cache.lock:
        cache.stamp, cache.rules = stamp, rules
    return rules


def word_rule_of(row: WordRuleRow) -> WordRule:
    """A stored word rule as the screening core takes it."""
    return WordRule(f"word:{row.id}", row.term, Action(row.action), Fuzzy(row.fuzzy))


def compile_rules(db: Session, thresholds: Thresholds) -> Rules:
    words = [word_rule_of(row) for row in db.scalars(select(WordRuleRow))]
    domains = list(db.scalars(select(DomainRuleRow)))
    return Rules(
        words=WordMatcher.build(words),
        domains=DomainRules(
            blocked=frozenset(row.domain for row in domains if row.action == Action.BLOCK),
            allowed=frozenset(row.domain for row in domains if row.action == Action.ALLOW),
        ),
        thresholds=thresholds,
    )
