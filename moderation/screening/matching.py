"""Screening rules as data, and the word matcher compiled from them. Pure.

Terms are matched with one Aho-Corasick automaton (ahocorasick_rs, a DFA) over the compact
normalised text, so the cost of screening a comment does not grow with the number of terms. Latin-script terms must
stand on word boundaries ("ass" does not fire inside "class"); Han terms match anywhere.
An allow-listed phrase that covers a match cancels it (a place name containing a blocked word).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import ahocorasick_rs

from moderation.screening.normalize import NormalizedText, compact_form

_LATIN_TERM = re.compile(r"^[a-z0-9]+$")


class Action(enum.StrEnum):
    BLOCK = "block"  # rejected; the reader is told it cannot be published
    HOLD = "hold"  # pending, with the reason, for a moderator
    SPAM = "spam"  # to the spam bin, silently
    ALLOW = "allow"  # exception: a phrase containing a listed term that is fine


@dataclass(frozen=True)
class WordRule:
    id: str
    term: str
    action: Action


@dataclass(frozen=True)
class WordMatch:
    rule: WordRule
    start: int  # in the original text
    end: int


@dataclass(frozen=True)
class DomainRules:
    blocked: frozenset[str] = frozenset()
    allowed: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Thresholds:
    max_links: int = 2
    duplicate_window_seconds: int = 3600
    author_per_minute: int = 3  # more than this many per author per minute → hold
    ip_per_minute: int = 30  # per address only at a much higher threshold (schools, offices)
    trust_after: int = 3  # previous comments all approved → trusted
    trust_window_days: int = 30
    trust_in_pre_moderation: bool = False


@dataclass(frozen=True)
class _Automaton:
    """Distinct compact keys, their rules, and the automaton that finds them (overlapping)."""

    keys: tuple[str, ...]
    rules: tuple[tuple[WordRule, ...], ...]
    search: ahocorasick_rs.AhoCorasick

    @classmethod
    def build(cls, rules: Iterable[WordRule]) -> _Automaton | None:
        by_key: dict[str, list[WordRule]] = {}
        for rule in rules:
            key = compact_form(rule.term)
            if key:
                by_key.setdefault(key, []).append(rule)
        if not by_key:
            return None
        keys = tuple(by_key)
        return cls(keys, tuple(tuple(by_key[key]) for key in keys), ahocorasick_rs.AhoCorasick(keys))

    def matches(self, text: str) -> list[tuple[int, int, int]]:
        """(key index, start, end) of every occurrence, overlapping ones included."""
        return self.search.find_matches_as_indexes(text, overlapping=True)


@dataclass(frozen=True)
class WordMatcher:
    """Compiled word rules. Build once per rule revision; `find` is safe to share between threads."""

    rules: tuple[WordRule, ...]
    _blocking: _Automaton | None = field(default=None, repr=False)
    _allow: _Automaton | None = field(default=None, repr=False)

    @classmethod
    def build(cls, rules: Iterable[WordRule]) -> WordMatcher:
        rules = tuple(rules)
        return cls(
            rules=rules,
            _blocking=_Automaton.build(rule for rule in rules if rule.action is not Action.ALLOW),
            _allow=_Automaton.build(rule for rule in rules if rule.action is Action.ALLOW),
        )

    def find(self, text: NormalizedText) -> list[WordMatch]:
        if self._blocking is None or not text.compact:
            return []
        allowed = []
        if self._allow is not None:
            allowed = [
                (start, end)
                for index, start, end in self._allow.matches(text.compact)
                if _on_word_boundaries(text, start, end, self._allow.keys[index])
            ]
        found: list[WordMatch] = []
        for index, start, end in self._blocking.matches(text.compact):
            if not _on_word_boundaries(text, start, end, self._blocking.keys[index]):
                continue
            if any(a_start <= start and end <= a_end for a_start, a_end in allowed):
                continue
            original_start, original_end = text.original_span(start, end)
            found.extend(WordMatch(rule, original_start, original_end) for rule in self._blocking.rules[index])
        return found


def _on_word_boundaries(text: NormalizedText, start: int, end: int, key: str) -> bool:
    """Latin terms need a non-alphanumeric neighbour (in the folded text) on both sides."""
    if not _LATIN_TERM.match(key):
        return True
    folded_start, folded_end = text.folded_span(start, end)
    before = text.folded[folded_start - 1] if folded_start > 0 else ""
    after = text.folded[folded_end] if folded_end < len(text.folded) else ""
    return not (_is_latin_alnum(before) or _is_latin_alnum(after))


def _is_latin_alnum(char: str) -> bool:
    return bool(char) and char.isascii() and char.isalnum()
