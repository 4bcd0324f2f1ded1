"""Generated evasions of every starter term, family by family: how many screening catches.

Two generators: the project's own (`tests/evasion_generator.py`, built from the screening's tables,
so it covers each family by construction) and an independent one
(`tests/evasion_generator_independent.py`, written from the families' descriptions with its own
look-alikes, fillers, masks and emoji). Targets for both: at least 90% over all families and at least
60% in each; the rates reached are asserted too (a regression fails). A caught evasion is a comment
a post-moderated article would not publish at once. The tables are printed (pytest -s shows them).
The same evasions written as a nickname are caught as often (nicknames go through the word rules),
and blocked domains written to dodge their rule (dots spelled out, full width, look-alike letters,
punycode, figures for letters) are caught with the same targets.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from moderation.screening.matching import DomainRules, WordMatcher
from moderation.screening.pipeline import AuthorFacts, Outcome, Rules, Submission, screen
from moderation.services.rulebook.starter import starter_word_rules
from tests import evasion_generator, evasion_generator_independent

NOW = datetime(2026, 11, 25, tzinfo=UTC)
OVERALL_TARGET = 0.90
FAMILY_TARGET = 0.60
# Reached on 2026-12-03 (README, "Automatic screening"); a few points of slack for rule-list edits.
REACHED = {"project": (0.97, 0.78), "independent": (0.92, 0.72)}  # overall, weakest family
GENERATORS = {"project": evasion_generator, "independent": evasion_generator_independent}


@pytest.fixture(scope="module")
def rules() -> Rules:
    return Rules(words=WordMatcher.build(starter_word_rules()))


def caught(verdict) -> bool:
    return verdict.outcome is not Outcome.PUBLISHED


@pytest.fixture(scope="module", params=sorted(GENERATORS))
def results(request, rules):
    generator = GENERATORS[request.param]
    outcomes = []
    for evasion in generator.evasions():
        verdict = screen(Submission(evasion.text, post_moderation=True), AuthorFacts(), rules, now=NOW)
        outcomes.append((evasion, verdict))
    return request.param, generator, outcomes


def rates(outcomes) -> tuple[dict[str, float], float, list[str]]:
    total, hits = Counter(), Counter()
    for evasion, verdict in outcomes:
        total[evasion.family] += 1
        hits[evasion.family] += caught(verdict)
    overall = sum(hits.values()) / sum(total.values())
    rows = [f"{family:24} {hits[family]:4} of {total[family]:4}  {hits[family] / total[family]:6.1%}" for family in total]
    rows.append(f"{'all':24} {sum(hits.values()):4} of {sum(total.values()):4}  {overall:6.1%}")
    return {family: hits[family] / total[family] for family in total}, overall, rows


def test_every_family_is_generated_for_the_starter_list(results):
    _, generator, outcomes = results
    assert {evasion.family for evasion, _ in outcomes} == set(generator.FAMILIES)


def test_catch_rate_over_all_families_and_in_each(results):
    name, _, outcomes = results
    by_family, overall, rows = rates(outcomes)
    print(f"\n{name} generator\n" + "\n".join(rows))
    missed = [(evasion.family, evasion.variant) for evasion, verdict in outcomes if not caught(verdict)]
    reached_overall, reached_family = REACHED[name]
    assert overall >= max(OVERALL_TARGET, reached_overall), missed[:40]
    weak = {family: rate for family, rate in by_family.items() if rate < max(FAMILY_TARGET, reached_family)}
    assert not weak, (weak, missed[:40])


def test_the_same_evasions_as_a_nickname_are_caught(results, rules):
    """The same targets, family by family (a nickname is at most 40 characters; a code of two Latin
    letters names a contact only in a sentence that gives one, so it is left out here)."""
    name, _, outcomes = results
    as_nicknames = [(evasion, screen(Submission("謝謝分享", evasion.variant[:40], post_moderation=True),
                                     AuthorFacts(), rules, now=NOW))
                    for evasion, _ in outcomes if not (evasion.variant.isascii() and len(evasion.variant) <= 2)]
    by_family, overall, rows = rates(as_nicknames)
    print(f"\n{name} generator, as nicknames\n" + "\n".join(rows))
    assert overall >= OVERALL_TARGET
    assert not {family: rate for family, rate in by_family.items() if rate < FAMILY_TARGET}


@pytest.fixture(scope="module", params=sorted(GENERATORS))
def domain_results(request, rules):
    """Each generator's domain families over its own blocked domains (the starter list blocks none)."""
    generator = GENERATORS[request.param]
    evasions = generator.domain_evasions()
    blocked = frozenset(evasion.term for evasion in evasions)
    with_domains = Rules(words=rules.words, domains=DomainRules(blocked=blocked))
    return request.param, generator, [
        (evasion, screen(Submission(evasion.text, post_moderation=True), AuthorFacts(), with_domains, now=NOW))
        for evasion in evasions]


def test_blocked_domains_written_to_dodge_are_caught(domain_results):
    name, generator, outcomes = domain_results
    assert {evasion.family for evasion, _ in outcomes} == set(generator.DOMAIN_FAMILIES)
    by_family, overall, rows = rates(outcomes)
    print(f"\n{name} generator, domains\n" + "\n".join(rows))
    missed = [(evasion.family, evasion.variant) for evasion, verdict in outcomes if not caught(verdict)]
    assert overall >= OVERALL_TARGET, missed
    assert not {family: rate for family, rate in by_family.items() if rate < FAMILY_TARGET}, missed
    for evasion, verdict in outcomes:  # caught by the domain rule, not by chance
        assert not caught(verdict) or any(reason.kind.value == "link_domain" for reason in verdict.reasons), evasion


def test_a_fuzzy_match_holds_and_says_how_it_matched(results):
    _, _, outcomes = results
    for evasion, verdict in outcomes:
        words = [reason for reason in verdict.reasons if reason.kind.value == "word"]
        if words and all(reason.how not in ("exact", "prefix") for reason in words):
            assert verdict.outcome is Outcome.PENDING, (evasion, verdict)


def test_spans_point_at_the_evasion_in_the_original_text(results):
    _, _, outcomes = results
    for evasion, verdict in outcomes:
        for reason in verdict.reasons:
            if reason.kind.value == "word" and reason.field == "body":
                assert 0 <= reason.start < reason.end <= len(evasion.text)
                assert evasion.text[reason.start:reason.end].strip(), (evasion, reason)
