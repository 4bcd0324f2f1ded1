"""Screening rules as data, and the word matcher compiled from them. Pure.

Terms are matched with Aho-Corasick automata (daachorse's character-wise double array), so the
cost of screening a comment does not grow with the number of terms:
- exactly, over the compact normalised text. Latin-script terms must stand on word boundaries
  ("ass" does not fire inside "class"), except that a distinctive one (6+ letters) also matches
  with more letters or digits glued after it (wechat123, telegrams); Han terms match anywhere;
- fuzzily (see `MatchKind`): by reading (pinyin and homophones), by initials, reversed, with up to
  two filler characters inside, or written with look-alike or split characters. Only terms of
  three or more characters match fuzzily, except look-alike and split forms of the listed terms
  and two-character terms whose pinyin is typed (weixin, 博cai).
A fuzzy match holds the comment for review, unless its rule takes its action on fuzzy matches.
An allow-listed phrase that covers a match cancels it (a place name containing a blocked word).
"""

from __future__ import annotations

import enum
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from itertools import product
from operator import itemgetter

import daachorse

from moderation.screening.characters import is_han, two_byte_form
from moderation.screening.fillers import FILLER_HAN as FILLER_HAN  # read here by the tests
from moderation.screening.fillers import IN_PLACE_FILLERS
from moderation.screening.fillers import NOT_IN_FILLER_VIEW as _NOT_FILLER_VIEW
from moderation.screening.links import spelled_alike
from moderation.screening.normalize import NormalizedText, compact_form
from moderation.screening.readings import (
    OTHER,
    char_reading,
    initials_of,
    reading_view,
    spoken_key,
    syllable_parts,
    typed_reading,
    typed_syllables,
)
from moderation.screening.variants import drawn_alike, lookalikes, shape_classes, split_forms

_LATIN_TERM = re.compile(r"^[a-z0-9]+$")
FUZZY_MIN_LENGTH = 3  # characters a term needs before it matches by reading, reversed or with fillers
DISTINCTIVE_LATIN = 6  # letters a Latin term needs before it matches with more glued after it
MAX_FILLERS = 3  # and fewer than the term has characters: 2 in a term of three
# One character of a term masked: 加*信, 加〇信 (as folded: full-width forms are half-width).
MASKS = "*〇○□×?◯☐⭕✕✖"
PLUS_SIGNS = "+➕﹢"  # read 加 (jiā): +V, ➕微
_MASK_OR_PLUS = re.compile(f"[{re.escape(MASKS + PLUS_SIGNS)}]")
# Latin (1 to 4 letters) or bopomofo (1 to 3) next to a Han character: an initial or final alone
# (j微信, ㄐ微信), a word of a term as its initials (加vx).
# Written to begin with one character class (each branch then checks which kind it began with), so
# that the engine skips to its candidates instead of trying a match at every character.
_TYPED_RUN = re.compile("[a-z0-9\u3105-\u312f〇](?:(?<=[a-z0-9])[a-z0-9]*|(?<=[\u3105-\u312f])[\u3105-\u312f]*|)")
WILD = "\U000f8000"  # stands for the masked or typed character in a masked key
_WINDOW = 12  # characters either side of a mask or short typed run looked at
# Two Latin letters (vx, tg) name something only beside a contact pattern: 加vx, +vx, vx號, vx:abc123.
_CONTACT_BEFORE = re.compile(r"(?:加|[+➕﹢])\s*$")
_CONTACT_AFTER = re.compile(r"^\W{0,2}(?:号|id|[0-9]{5,}|[a-z][a-z0-9_]*[0-9])")


class Action(enum.StrEnum):
    BLOCK = "block"  # rejected; the reader is told it cannot be published
    HOLD = "hold"  # pending, with the reason, for a moderator
    SPAM = "spam"  # to the spam bin, silently
    ALLOW = "allow"  # exception: a phrase containing a listed term that is fine


class Fuzzy(enum.StrEnum):
    """What a rule does with a fuzzy match (reading, reversal, fillers, look-alikes…)."""

    HOLD = "hold"  # hold for review, whatever the rule's action (the default)
    ACTION = "action"  # take the rule's action, as an exact match does
    OFF = "off"  # exact matches only


@dataclass(frozen=True)
class WordRule:
    id: str
    term: str
    action: Action
    fuzzy: Fuzzy = Fuzzy.HOLD


class MatchKind(enum.StrEnum):
    EXACT = "exact"
    PREFIX = "prefix"  # a distinctive Latin term with letters or digits glued after it
    READING = "reading"  # pinyin, or characters that sound the same
    INITIALS = "initials"  # jwx for 加微信
    REVERSED = "reversed"
    FILLER = "filler"  # up to two characters inside the term
    LOOKALIKE = "lookalike"  # a character drawn like one of the term's (形近字)
    SPLIT = "split"  # a character written as its parts (拆字)


CERTAIN = frozenset({MatchKind.EXACT, MatchKind.PREFIX})  # the term as written: the rule's own action
# Certain matches first, then the fuzzy ones in the order above.
_RANK = {how: 0 if how in CERTAIN else rank for rank, how in enumerate(MatchKind)}


@dataclass(frozen=True)
class WordMatch:
    rule: WordRule
    start: int  # in the original text
    end: int
    how: MatchKind = MatchKind.EXACT

    @classmethod
    def of(cls, rule: WordRule, start: int, end: int, how: MatchKind) -> WordMatch:
        """The same as WordMatch(rule, start, end, how), at a third of the cost: a frozen dataclass's
        __init__ sets each field through object.__setattr__, and a long word list finds dozens of
        terms in a long comment."""
        match = object.__new__(cls)
        vars(match).update(rule=rule, start=start, end=end, how=how)
        return match

    @property
    def action(self) -> Action:
        """A fuzzy match holds for review, unless its rule says to take the rule's action: a real
        sentence is never spammed by a guess the rule did not ask for."""
        if self.how in CERTAIN or self.rule.fuzzy is Fuzzy.ACTION:
            return self.rule.action
        return Action.HOLD


@dataclass(frozen=True)
class DomainRules:
    blocked: frozenset[str] = frozenset()
    allowed: frozenset[str] = frozenset()

    @cached_property
    def blocked_by_figures(self) -> tuple[dict[str, str], ...]:
        """The blocked domains with figures read as letters (`links.spelled_alike`)."""
        return spelled_alike(self.blocked)


@dataclass(frozen=True)
class Thresholds:
    max_links: int = 2
    duplicate_window_seconds: int = 3600
    author_per_minute: int = 3  # more than this many per author per minute → hold
    ip_per_minute: int = 30  # per address only at a much higher threshold (schools, offices)
    trust_after: int = 3  # previous comments all approved → trusted
    trust_window_days: int = 30
    trust_in_pre_moderation: bool = False


class _Values:
    """What each key of an automaton stands for, kept as figures and strings: a rule is its index in
    the matcher's rules, a MatchKind its value. Tuples of those the garbage collector stops tracking,
    so that 100,000 terms' millions of entries cost no collector time in every comment."""

    __slots__ = ("encoded", "table", "_recent")

    def __init__(self, encoded: tuple[tuple, ...], table: tuple[WordRule, ...]) -> None:
        self.encoded = encoded
        self.table = table
        # Keys found lately, decoded: the same keys turn up comment after comment (common words
        # that sound like a term). Emptied when full, so it stays small for the collector.
        self._recent: dict[int, tuple] = {}

    def __getitem__(self, index: int) -> tuple:
        decoded = self._recent.get(index)
        if decoded is None:
            if len(self._recent) >= _RECENT_KEYS:
                self._recent.clear()
            decoded = self._recent[index] = tuple(self._decoded(value) for value in self.encoded[index])
        return decoded

    def _decoded(self, value):
        if isinstance(value, int):
            return self.table[value]
        if isinstance(value, tuple):
            if len(value) == 2 and value[0] == "kind":
                return _KIND_OF_VALUE[value[1]]
            return tuple(self._decoded(part) for part in value)
        return value


_KIND_OF_VALUE = {kind.value: kind for kind in MatchKind}
_RECENT_KEYS = 4096


def _encoded(value, index_of: dict[int, int]):
    if isinstance(value, WordRule):
        return index_of[id(value)]
    if isinstance(value, MatchKind):
        return ("kind", value.value)
    if isinstance(value, tuple):
        return tuple(_encoded(part, index_of) for part in value)
    return value


@dataclass(frozen=True)
class _Automaton:
    """Distinct keys, what each stands for, and the automaton that finds them (overlapping)."""

    keys: tuple[str, ...]
    rules: _Values
    search: daachorse.CharwiseDoubleArrayAhoCorasick

    @classmethod
    def build(cls, rules: Iterable[WordRule], table: tuple[WordRule, ...]) -> _Automaton | None:
        return cls.of_keys(((compact_form(rule.term), rule) for rule in rules), table)

    @classmethod
    def of_keys(cls, pairs: Iterable[tuple[str, object]], table: tuple[WordRule, ...]) -> _Automaton | None:
        index_of = {id(rule): index for index, rule in enumerate(table)}
        by_key: dict[str, list] = {}
        for key, value in pairs:
            value = _encoded(value, index_of)
            if key and value not in by_key.get(key, ()):
                by_key.setdefault(key, []).append(value)
        if not by_key:
            return None
        keys = tuple(by_key)
        values = _Values(tuple(tuple(by_key[key]) for key in keys), table)
        return cls(keys, values, daachorse.CharwiseDoubleArrayAhoCorasick(keys))

    def matches(self, text: str) -> list[tuple[int, int, int]]:
        """(start, end, key index) of every occurrence, overlapping ones included."""
        return self.search.find_overlapping(text)


@dataclass(frozen=True)
class WordMatcher:
    """Compiled word rules. Build once per rule revision; `find` is safe to share between threads."""

    rules: tuple[WordRule, ...]
    # The terms as written, and their reversed, look-alike and split forms, in one automaton: at
    # 100,000 terms a pass costs what its memory costs, so the compact text and the filler view
    # both go through this one while it is in the cache. Values: (rule, how).
    _blocking: _Automaton | None = field(default=None, repr=False)
    _allow: _Automaton | None = field(default=None, repr=False)
    _spoken: _Automaton | None = field(default=None, repr=False)  # readings
    # Latin words standing for a term: jwx → 加微信 (initials), weixin → 微信 (a two-character reading)
    _initials: dict[str, tuple[tuple[WordRule, MatchKind], ...]] = field(default_factory=dict, repr=False)
    _typed: _Automaton | None = field(default=None, repr=False)  # two-character readings, typed only
    # Terms of 3+ characters written with one Latin-spelt word (加vx, 代開fp) or one character masked
    # (加*信, j微信); searched only around a mask or a short typed run, built the first time one is seen.
    _keyed: tuple = field(default=(), repr=False)

    @classmethod
    def build(cls, rules: Iterable[WordRule]) -> WordMatcher:
        rules = tuple(rules)
        blocking = [rule for rule in rules if rule.action is not Action.ALLOW]
        keyed = [(compact_form(rule.term), rule) for rule in blocking if rule.fuzzy is not Fuzzy.OFF]
        written = [(compact_form(rule.term), (rule, MatchKind.EXACT)) for rule in blocking]
        written += [pair for key, rule in keyed for pair in _written_keys(key, rule)]
        return cls(
            rules=rules,
            _blocking=_Automaton.of_keys(written, rules),
            _allow=_Automaton.build((rule for rule in rules if rule.action is Action.ALLOW), rules),
            _spoken=_Automaton.of_keys(((reading, rule) for key, rule in keyed
                                        if _fuzzy_length(key) and (reading := _full_reading(key))), rules),
            _initials=_latin_word_index(keyed),
            _typed=_Automaton.of_keys(((reading, rule) for key, rule in keyed
                                       if _readable(key) and not _fuzzy_length(key) and (reading := _full_reading(key))),
                                      rules),
            _keyed=tuple((key, rule) for key, rule in keyed if _fuzzy_length(key)),
        )

    def __post_init__(self) -> None:
        for lazy in ("_shaped", "_masked", "_coded", "_plus_short"):  # built now, not by the first comment
            getattr(self, lazy)

    @cached_property
    def _shaped(self) -> tuple[_Automaton | None, ...]:
        """Terms in their shape classes (徽 and 微 alike), in each of the two groupings: found where a
        text differs from a term only by look-alikes (形近字), then checked character by character. Keys
        in `two_byte_form`, as the text's shape views are."""
        return tuple(_Automaton.of_keys(((two_byte_form(key.translate(shape_classes(grouping))), (rule, key))
                                         for key, rule in self._keyed), self.rules) for grouping in (0, 1))

    @cached_property
    def _masked(self) -> _Automaton | None:
        """Each term of 3+ characters with one character as WILD: (rule, the character masked)."""
        return _Automaton.of_keys(
            ((key[:index] + WILD + key[index + 1:], (rule, key[index]))
             for key, rule in self._keyed for index in range(len(key))), self.rules)

    @cached_property
    def _coded(self) -> _Automaton | None:
        """A term with its head or tail word written as initials (加wx, 加vx, 代開fp, dk發票)."""
        return _Automaton.of_keys((pair for key, rule in self._keyed for pair in _coded_keys(key, rule)), self.rules)

    @cached_property
    def _plus_short(self) -> dict[str, tuple[WordRule, ...]]:
        """Terms of three characters starting with 加, as a plus sign and the next character (➕微)."""
        found: dict[str, list[WordRule]] = {}
        for key, rule in self._keyed:
            if len(key) == 3 and key[0] == "加":
                found.setdefault(key[:2], []).append(rule)
        return {short: tuple(rules) for short, rules in found.items()}

    def find(self, text: NormalizedText) -> list[WordMatch]:
        if self._blocking is None or not text.compact:
            return []
        allowed = []
        if self._allow is not None:
            allowed = [
                (start, end)
                for start, end, index in self._allow.matches(text.compact)
                if _on_word_boundaries(text, start, end, self._allow.keys[index]) is not None
            ]
        found: list[tuple[int, int, WordRule, MatchKind]] = []
        for start, end, index in self._blocking.matches(text.compact):
            for rule, how in self._blocking.rules[index]:
                if how is MatchKind.EXACT:
                    how = _on_word_boundaries(text, start, end, self._blocking.keys[index])
                elif how is MatchKind.REVERSED and len(self._blocking.keys[index]) == 2:
                    how = how if _latin_edges_free(text, start, end) else None
                if how is not None:
                    found.append((start, end, rule, how))
        found.extend(self._spoken_matches(text))
        found.extend(self._initials_matches(text))
        found.extend(self._filled_matches(text))
        found.extend(self._masked_and_coded_matches(text))
        found.extend(self._shaped_matches(text))
        return _without_overlaps_of_the_same_rule(
            [(start, end, rule, how) for start, end, rule, how in found
             if not any(a_start <= start and end <= a_end for a_start, a_end in allowed)],
            text,
        )

    def _spoken_matches(self, text: NormalizedText):
        views = [text.reading]
        if text.reading.figures_in_words:  # ji4: the fourth tone of ji, or jia with 4 for a
            views.append(reading_view(text.compact, prefer_letters=True, spoken=text.spoken))
        for view in views:
            if self._spoken is not None:
                yield from self._read(text, view, self._spoken)
            if self._typed is not None and view.runs:
                # Two-character terms by their typed reading only (weixin, ㄨㄟㄒㄧㄣ): characters
                # that sound alike are often ordinary words (威信, prestige).
                yield from self._read_typed(text, view)

    @staticmethod
    def _read(text: NormalizedText, view, automaton: _Automaton):
        for start, end, index in automaton.matches(view.spoken):
            span = view.compact_span(start, end)
            if not _latin_edges_free(text, *span):
                continue
            for rule in automaton.rules[index]:
                yield span[0], span[1], rule, MatchKind.READING

    def _read_typed(self, text: NormalizedText, view):
        reading, spans = typed_reading(view)
        for start, end, index in self._typed.matches(reading):
            if spans[start] is None or spans[end - 1] is None:
                continue
            span = spans[start][0], spans[end - 1][1]
            if _latin_edges_free(text, *span):
                for rule in self._typed.rules[index]:
                    yield span[0], span[1], rule, MatchKind.READING

    def _initials_matches(self, text: NormalizedText):
        """A Latin word of the folded text that spells a term's initials (jwx, bjl, jvx), or the
        pinyin of a two-character term (weixin, bocai, we1x1n)."""
        if not self._initials:
            return
        for word in _LATIN_WORD.finditer(text.compact):  # compact: "shua dan" is one word here
            written = word.group()
            found = self._initials.get(written)
            if not found and not written.isalpha():
                found = self._initials.get(written.translate(_TONE_DIGITS)) or \
                    self._initials.get(typed_syllables(written))
            if found:
                yield from ((word.start(), word.end(), rule, how) for rule, how in found)

    def _filled_matches(self, text: NormalizedText):
        view = text.filler_view
        if len(view) == len(text.compact):
            return  # nothing was left out: any match here is an exact one
        for start, end, index in self._blocking.matches(view):
            key = self._blocking.keys[index]
            if not (_fuzzy_length(key) and _filler_view(key) == key):
                continue
            to_compact = text.filler_to_compact
            compact_start, compact_end = to_compact[start], to_compact[end - 1] + 1
            fillers = compact_end - compact_start - len(key)
            if not 0 < fillers <= min(MAX_FILLERS, len(key) - 1):
                continue
            if set(text.compact[compact_start:compact_end]) - set(key) <= IN_PLACE_FILLERS:
                continue  # only a 的 between a modifier and its noun: grammatical, not a filler
            for rule, how in self._blocking.rules[index]:
                if how is MatchKind.EXACT and rule.fuzzy is not Fuzzy.OFF:
                    yield compact_start, compact_end, rule, MatchKind.FILLER

    def _masked_and_coded_matches(self, text: NormalizedText):
        """Around each mask (加*信), plus sign (+V, ➕微) and short Latin or bopomofo run next to a
        Han character (j微信, ㄐ微信, 加vx): terms with one character masked or written as its
        initial or final, a word of them written as initials, 加 written as a plus sign."""
        if not self._keyed:
            return
        compact = text.compact
        spots: list[tuple[int, int, str]] = []  # compact [start, end) of the run, or (k, k) for a sign
        for run in _TYPED_RUN.finditer(compact):
            written, start, end = run.group(), run.start(), run.end()
            if written == "〇" or (len(written) <= (4 if written.isascii() else 3) and written.isalpha() and (
                    (start > 0 and is_han(compact[start - 1])) or (end < len(compact) and is_han(compact[end])))):
                spots.append((start, end, written))
        if _MASK_OR_PLUS.search(text.folded):
            to_folded = text.compact_to_folded
            for sign in _MASK_OR_PLUS.finditer(text.folded):
                at = bisect_left(to_folded, sign.start())
                spots.append((at, at, sign.group()))
        for start, end, written in spots:
            if written in PLUS_SIGNS:
                yield from self._plus_matches(text, end)
                continue
            is_mask = written in MASKS
            low, high = max(0, start - _WINDOW), min(len(compact), end + _WINDOW)
            at = start - low  # where WILD stands in the view
            view = compact[low:start] + WILD + compact[end:high]
            masked = self._masked
            for view_start, view_end, index in masked.matches(view) if masked else ():
                if not view_start <= at < view_end:
                    continue
                if is_mask and not view_start < at < view_end - 1:
                    continue  # a mask stands inside a term, never at its ends
                begin, finish = low + view_start, end + view_end - at - 1
                for rule, char in masked.rules[index]:
                    if is_mask:
                        yield begin, finish, rule, MatchKind.FILLER
                    elif written in syllable_parts(char_reading(char)):
                        yield begin, finish, rule, MatchKind.READING
            if not is_mask and written.isascii():
                coded = self._coded
                for found_start, found_end, index in coded.matches(compact[low:high]) if coded else ():
                    begin, finish = low + found_start, low + found_end
                    if begin < end and start < finish and _latin_edges_free(text, begin, finish):
                        for rule in coded.rules[index]:
                            yield begin, finish, rule, MatchKind.INITIALS

    def _shaped_matches(self, text: NormalizedText):
        """Terms of 3+ characters written with look-alike characters (形近字): one in a term of three,
        up to two in a longer one. (Two-character terms only through the maintained table in
        `data/character_variants.tsv`: with a derived look-alike they are too often another word,
        博采 for 博彩.)"""
        compact = text.compact
        seen = set()
        if self._shaped[0] is None and self._shaped[1] is None:
            return
        for grouping, (shaped, view) in enumerate(zip(self._shaped, text.shape_views, strict=True)):
            if shaped is None:
                continue
            classes = shape_classes(grouping)
            for start, end, index in shaped.matches(view):
                written = compact[start:end]
                for rule, key in shaped.rules[index]:
                    if written == key or (start, id(rule)) in seen:
                        continue
                    if written.translate(classes) != key.translate(classes):
                        continue  # only their buckets are the same
                    changed = [(have, want) for have, want in zip(written, key, strict=True) if have != want]
                    if len(changed) <= (1 if len(key) <= 3 else 2) and all(
                            drawn_alike(have, want) for have, want in changed):
                        seen.add((start, id(rule)))
                        yield start, end, rule, MatchKind.LOOKALIKE

    def _plus_matches(self, text: NormalizedText, at: int):
        """加 written as a plus sign before the rest: +V (加v), +vx, ➕微 (加微信 shortened)."""
        following = text.compact[at:at + _WINDOW]
        if not following:
            return
        window = "加" + following
        for start, end, index in self._blocking.matches(window):
            if start != 0:
                continue
            for rule, how in self._blocking.rules[index]:
                if how is MatchKind.EXACT and (not window[end - 1:end].isascii() or
                                               not _is_latin_alnum(window[end:end + 1])):
                    yield at, at + end - 1, rule, MatchKind.READING
        for rule in self._plus_short.get(window[:2], ()):
            yield at, at + 1, rule, MatchKind.READING
        coded = self._coded
        for start, end, index in coded.matches(window) if coded else ():
            if start == 0 and not _is_latin_alnum(window[end:end + 1]):
                for rule in coded.rules[index]:
                    yield at, at + end - 1, rule, MatchKind.INITIALS


def _full_reading(key: str) -> str:
    """The term's reading in the spoken view, or "" when a character of it has none."""
    reading = spoken_key(key)
    return "" if OTHER in reading else reading


def _filler_view(key: str) -> str:
    return _NOT_FILLER_VIEW.sub("", key)


def _readable(key: str) -> bool:
    return len(key) >= 2 and all(map(is_han, key))


def _fuzzy_length(key: str) -> bool:
    """Only terms of three or more Han characters match by reading, reversed or with fillers."""
    return len(key) >= FUZZY_MIN_LENGTH and _readable(key)


def _written_keys(key: str, rule: WordRule):
    if _readable(key) and key[::-1] != key:  # 信微加, 彩博 (also shown the right way round by U+202E)
        yield key[::-1], (rule, MatchKind.REVERSED)
    if _readable(key) and not _fuzzy_length(key):  # 博cai, bo彩: one character, the other in pinyin
        yield key[0] + char_reading(key[1]), (rule, MatchKind.READING)
        yield char_reading(key[0]) + key[1], (rule, MatchKind.READING)
    term = rule.term.strip()
    for index, char in enumerate(term):
        for form in lookalikes(char):
            yield compact_form(term[:index] + form + term[index + 1:]), (rule, MatchKind.LOOKALIKE)
        for form in split_forms(char):
            yield compact_form(term[:index] + form + term[index + 1:]), (rule, MatchKind.SPLIT)
    choices = [(char, *split_forms(char)) for char in term]
    if sum(1 for options in choices if len(options) > 1) > 1 and len(term) <= 8:
        for written in product(*choices):
            if sum(1 for char, options in zip(written, choices, strict=True) if char != options[0]) > 1:
                yield compact_form("".join(written)), (rule, MatchKind.SPLIT)


def _coded_keys(key: str, rule: WordRule):
    """The term with a head or tail of two or more characters written as its initials (加wx, 加vx,
    代開fp, dk發票): the word spelt the way chat abbreviates it."""
    for cut in range(1, len(key)):
        head, tail = key[:cut], key[cut:]
        if len(tail) >= 2:
            for code in _initial_spellings(tail):
                yield head + code, rule
        if len(head) >= 2:
            for code in _initial_spellings(head):
                yield code + tail, rule


def _initial_spellings(key: str) -> set[str]:
    """jwx, and jvx: chat writes v for the w of wei (微 → v, vx)."""
    initials = initials_of(key)
    return {initials, initials.replace("w", "v")}


def _latin_word_index(keyed) -> dict[str, tuple[tuple[WordRule, MatchKind], ...]]:
    """Latin words that stand for a term: the initials of one of 3+ characters (jwx), the pinyin
    of one of two (weixin: two-character terms match by sound only when pinyin is typed, since
    other characters that sound alike are often ordinary words, 威信)."""
    index: dict[str, list[tuple[WordRule, MatchKind]]] = {}
    for key, rule in keyed:
        if _fuzzy_length(key):
            for initials in _initial_spellings(key):
                index.setdefault(initials, []).append((rule, MatchKind.INITIALS))
        elif _readable(key):
            index.setdefault("".join(map(char_reading, key)), []).append((rule, MatchKind.READING))
    return {word: tuple(found) for word, found in index.items()}


_LATIN_WORD = re.compile(r"[a-z](?<![a-z0-9][a-z])[a-z0-9]{2,}(?![a-z0-9])")  # a class first: see _TYPED_RUN
_TONE_DIGITS = str.maketrans("", "", "012345")


def _without_overlaps_of_the_same_rule(found, text: NormalizedText) -> list[WordMatch]:
    """Each rule once per place, an exact match before a fuzzy one; and no guess about characters
    a term already matched exactly (加微信 written out is not also 加薇信 by its sound).
    Linear in the number of matches, up to a log factor (a 100 KB text may hold thousands)."""
    kept: list[tuple[int, int, WordRule, MatchKind]] = []
    by_rule: dict[int, tuple[list[int], list[int]]] = {}  # id(rule) → kept starts, ends (sorted, disjoint)
    exact_starts: list[int] = []
    exact_reach: list[int] = []  # the furthest end among exact matches starting at or before each
    rank = _RANK
    for _, start, end, rule, how in sorted([(rank[item[3]], *item) for item in found], key=_FIRST_THREE):
        fuzzy = how not in CERTAIN
        if fuzzy and exact_starts:
            index = bisect_right(exact_starts, start) - 1
            if index >= 0 and exact_reach[index] >= end:
                continue
        kept_of_rule = by_rule.get(id(rule))
        if kept_of_rule is None:
            by_rule[id(rule)] = ([start], [end])
        else:
            starts, ends = kept_of_rule
            index = bisect_left(starts, end)
            if index > 0 and ends[index - 1] > start:
                continue
            starts.insert(index, start)
            ends.insert(index, end)
        kept.append((start, end, rule, how))
        if not fuzzy:  # exact ones come first, in order of start
            exact_starts.append(start)
            exact_reach.append(max(end, exact_reach[-1]) if exact_reach else end)
    kept.sort(key=_FIRST_TWO)
    original_span = text.original_span
    return [WordMatch.of(rule, *original_span(start, end), how) for start, end, rule, how in kept]


_FIRST_TWO = itemgetter(0, 1)
_FIRST_THREE = itemgetter(0, 1, 2)


def _is_latin_letter(char: str) -> bool:
    return bool(char) and char.isascii() and char.isalpha()


def _neighbours(text: NormalizedText, start: int, end: int) -> tuple[str, str, str, str]:
    """The folded characters just before, first in, last in and just after a compact span ("" past
    either end): in the folded text spaces still separate words."""
    folded_start, folded_end = text.folded_span(start, end)
    folded = text.folded
    before = folded[folded_start - 1] if folded_start > 0 else ""
    after = folded[folded_end] if folded_end < len(folded) else ""
    return before, folded[folded_start], folded[folded_end - 1], after


def _latin_edges_free(text: NormalizedText, start: int, end: int) -> bool:
    """A span that begins or ends with a Latin letter must not continue a Latin word there."""
    compact = text.compact
    if not (compact[start].isascii() or compact[end - 1].isascii()):
        return True  # most spans are Han at both ends: no need to look at their neighbours
    before, first, last, after = _neighbours(text, start, end)
    return not ((_is_latin_letter(first) and _is_latin_letter(before))
                or (_is_latin_letter(last) and _is_latin_letter(after)))


def _on_word_boundaries(text: NormalizedText, start: int, end: int, key: str) -> MatchKind | None:
    """Latin terms need a non-alphanumeric neighbour (in the folded text) on both sides; a
    distinctive one may have letters or digits glued after it. A term that begins or ends with a
    Latin letter (加v) must not continue a Latin word there (加vip). None: not a match here."""
    if not _LATIN_TERM.match(key):
        return MatchKind.EXACT if _latin_edges_free(text, start, end) else None
    before, _, _, after = _neighbours(text, start, end)
    if _is_latin_alnum(before):
        return None
    if len(key) == 2 and not _beside_contact_pattern(text, start, end):
        return None
    if not _is_latin_alnum(after):
        return MatchKind.EXACT
    return MatchKind.PREFIX if len(key) >= DISTINCTIVE_LATIN and key.isalpha() else None


def _is_latin_alnum(char: str) -> bool:
    return bool(char) and char.isascii() and char.isalnum()


def _beside_contact_pattern(text: NormalizedText, start: int, end: int) -> bool:
    """Two Latin letters (vx, tg) name a contact only beside 加, a plus sign, 號, ID or a handle with
    figures: ＶＸ alone is the nerve agent, TG a thyroid test."""
    folded_start, folded_end = text.folded_span(start, end)
    before = text.folded[max(0, folded_start - 3):folded_start]
    after = text.folded[folded_end:folded_end + 16]
    return bool(_CONTACT_BEFORE.search(before) or _CONTACT_AFTER.match(after.lstrip()))
