"""Generated evasions of every starter term, family by family: how many screening catches.

Targets: at least 90% over all families and at least 60% in each. A caught evasion is a comment a
post-moderated article would not publish at once. The table is printed (pytest -s shows it).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from moderation.screening.matching import WordMatcher
from moderation.screening.pipeline import AuthorFacts, Outcome, Rules, Submission, screen
from moderation.services.rulebook.starter import starter_word_rules
from tests.evasion_generator import FAMILIES, evasions

NOW = datetime(2026, 11, 25, tzinfo=UTC)
OVERALL_TARGET = 0.90
FAMILY_TARGET = 0.60


@pytest.fixture(scope="module")
def rules() -> Rules:
    return Rules(words=WordMatcher.build(starter_word_rules()))


@pytest.fixture(scope="module")
def results(rules):
    outcomes = []
    for evasion in evasions():
        verdict = screen(Submission(evasion.text, post_moderation=True), AuthorFacts(), rules, now=NOW)
        outcomes.append((evasion, verdict))
    return outcomes


def caught(verdict) -> bool:
    return verdict.outcome is not Outcome.PUBLISHED


def test_every_family_is_generated_for_the_starter_list(results):
    assert {evasion.family for evasion, _ in results} == set(FAMILIES)


def test_catch_rate_over_all_families_and_in_each(results):
    total, hits = Counter(), Counter()
    for evasion, verdict in results:
        total[evasion.family] += 1
        hits[evasion.family] += caught(verdict)
    rows = [f"{family:18} {hits[family]:4} of {total[family]:4}  {hits[family] / total[family]:6.1%}"
            for family in FAMILIES]
    overall = sum(hits.values()) / sum(total.values())
    print("\n" + "\n".join(rows) + f"\n{'all':18} {sum(hits.values()):4} of {sum(total.values()):4}  {overall:6.1%}")
    missed = [(evasion.family, evasion.variant) for evasion, verdict in results if not caught(verdict)]
    assert overall >= OVERALL_TARGET, missed[:40]
    weak = {family: hits[family] / total[family] for family in FAMILIES if hits[family] / total[family] < FAMILY_TARGET}
    assert not weak, (weak, missed[:40])


def test_a_fuzzy_match_holds_and_says_how_it_matched(results):
    for evasion, verdict in results:
        words = [reason for reason in verdict.reasons if reason.kind.value == "word"]
        if words and all(reason.how not in ("exact", "prefix") for reason in words):
            assert verdict.outcome is Outcome.PENDING, (evasion, verdict)


def test_spans_point_at_the_evasion_in_the_original_text(results):
    for evasion, verdict in results:
        for reason in verdict.reasons:
            if reason.kind.value == "word" and reason.field == "body":
                assert 0 <= reason.start < reason.end <= len(evasion.text)
                assert evasion.text[reason.start:reason.end].strip(), (evasion, reason)
