"""How a text sounds, one syllable at a time: Han characters as toneless pinyin, pinyin and
bopomofo typed out cut into their syllables. Pure.

A term's reading (加微信 → |jia|wei|xin|) is found in a text's reading whether the text spells it
in pinyin (jiaweixin, jiā wēi xìn, jia1wei1xin4), in bopomofo (ㄐㄧㄚ ㄨㄟ ㄒㄧㄣ), mixes pinyin and
characters (加weixin), or writes characters that sound the same (家微信, 加威信). Each Han
character reads as its most common reading (pypinyin's table); tone marks and tone numbers are
dropped, ü is written v. Terms are searched in the spoken view, one character per syllable
(`spoken_char`), so a reading is only ever found whole (shijian is not found inside xishijiang)
and the search reads two bytes a syllable; the separated reading (|jia|wei|xin|) is what the
reading fingerprint hashes.
"""

from __future__ import annotations

import codecs
import os
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import accumulate, repeat

# Readings here come from pypinyin's single-character table alone. Unless told not to, importing
# pypinyin also loads and copies its phrase table: 0.45 s of CPU and 45 MB in every process (each
# gunicorn worker, each command).
os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "1")

from pypinyin import Style  # noqa: E402
from pypinyin.pinyin_dict import pinyin_dict  # noqa: E402
from pypinyin.style import convert  # noqa: E402

from moderation.screening.characters import CharacterTable

SEPARATOR = "|"
OTHER = "#"  # what a character that is not a syllable reads as: it breaks any reading
_OTHER_UNIT = OTHER + SEPARATOR
BOPOMOFO_TONE_MARKS = "ˉˊˇˋ˙"
_BOPOMOFO_TONES = str.maketrans("", "", BOPOMOFO_TONE_MARKS)
# The spoken view's characters for syllables start here: code points below 0x800 are two bytes in
# UTF-8, which the automata search byte by byte.
_SPOKEN_BASE = 0x100
# Typed pinyin (letters, with tone figures or figures for letters among them) and bopomofo.
# Meaning `[a-z0-9]*[a-z][a-z0-9]*|[ㄅ-ㄯㆠ-ㆿˉˊˇˋ˙]+`, written to begin with one character class (each
# branch then checks which kind of character it began with): the regular-expression engine then
# skips to the candidates instead of trying a match at every character of a Chinese text.
_BOPOMOFO = "\u3105-\u312f\u31a0-\u31bfˉˊˇˋ˙"
TYPED_RUN = re.compile(rf"[a-z0-9{_BOPOMOFO}](?:(?<=[0-9])[0-9]*[a-z][a-z0-9]*|(?<=[a-z])[a-z0-9]*|(?<=[{_BOPOMOFO}])[{_BOPOMOFO}]*)")


def _toneless(syllable: str) -> str:
    plain = "".join(char for char in unicodedata.normalize("NFD", syllable) if unicodedata.category(char) != "Mn")
    return plain.replace("ü", "v").lower()


@lru_cache(maxsize=1)
def _syllables() -> tuple[str, ...]:
    found = {_toneless(reading) for readings in pinyin_dict.values() for reading in readings.split(",")}
    return tuple(sorted(syllable for syllable in found if syllable.isascii() and syllable.isalpha()))


@lru_cache(maxsize=1)
def _syllable_ids() -> dict[str, int]:
    return {syllable: index for index, syllable in enumerate(_syllables())}


@lru_cache(maxsize=1)
def _pinyin_syllables() -> dict[str, str]:
    """Each pinyin syllable to itself: looked up like the bopomofo ones, without a Python call."""
    return {syllable: syllable for syllable in _syllable_ids()}


@lru_cache(maxsize=1)
def _bopomofo_syllables() -> dict[str, str]:
    """ㄐㄧㄚ → jia, for every syllable pypinyin knows."""
    spelled = {}
    for readings in pinyin_dict.values():
        for reading in readings.split(","):
            spelled.setdefault(convert(reading, Style.BOPOMOFO, strict=True).translate(_BOPOMOFO_TONES),
                               _toneless(reading))
    return spelled


@lru_cache(maxsize=1)
def _units() -> dict[int, str]:
    """Han character (code point) → its toneless syllable."""
    return {code: _toneless(readings.split(",")[0]) for code, readings in pinyin_dict.items()}


@lru_cache(maxsize=1)
def _table() -> CharacterTable:
    """Every character becomes one unit and its separator; one that is not a syllable (a figure, a
    character without a reading) reads OTHER."""
    units = _units()
    return CharacterTable(lambda code: units[code] + SEPARATOR if code in units else _OTHER_UNIT)


@lru_cache(maxsize=1)
def _spoken_chars() -> dict[str, str]:
    """Each syllable a character or a typed run may read as → its character in the spoken view."""
    syllables = sorted({*_units().values(), *_syllable_ids()})
    if _SPOKEN_BASE + len(syllables) > 0x800:
        raise ValueError("more syllables than two-byte characters")
    return {syllable: chr(_SPOKEN_BASE + index) for index, syllable in enumerate(syllables)}


@lru_cache(maxsize=1)
def _separated_units() -> list[str | None]:
    """str.translate table from the spoken view back to separated units: a list, indexed by the few
    code points the spoken view uses, looks a character up faster than a dict."""
    table: list[str | None] = [None] * (_SPOKEN_BASE + len(_spoken_chars()))
    table[ord(OTHER)] = _OTHER_UNIT
    for syllable, char in _spoken_chars().items():
        table[ord(char)] = syllable + SEPARATOR
    return table


_SEPARATOR_UTF8 = SEPARATOR.encode()


@lru_cache(maxsize=1)
def _separated_units_utf8() -> dict[int, bytes]:
    """`_separated_units` in UTF-8, as a charmap codec's table."""
    return {code: unit.encode() for code, unit in enumerate(_separated_units()) if unit is not None}


def spoken_char(code: int) -> str:
    """The spoken view's character for a character's syllable, OTHER for a character without one."""
    syllable = _units().get(code)
    return OTHER if syllable is None else _spoken_chars()[syllable]


@lru_cache(maxsize=1)
def _spoken_table() -> CharacterTable:
    return CharacterTable(spoken_char)


def reading_key(compact: str) -> str:
    """A text's reading with its syllables separated (|jia|wei|xin|): what the reading fingerprint hashes."""
    return SEPARATOR + _table().translate(compact)


def spoken_key(compact: str) -> str:
    """A term's reading as it is searched for in the spoken view: one character per syllable."""
    return _spoken_table().translate(compact)


def char_reading(char: str) -> str:
    return _table()[ord(char)].rstrip(SEPARATOR)


def initials_of(term_compact: str) -> str:
    """jwx for 加微信: the first letter of each character's reading."""
    return "".join(char_reading(char)[:1] for char in term_compact)


# Figures written for the letters they look like inside a typed word (j1aweixin, we1x1n).
DIGIT_LETTERS = {"0": "o", "1": "il", "2": "z", "3": "e", "4": "a", "5": "s", "6": "bg", "7": "t", "8": "b", "9": "gq"}
_LONGEST_DIGIT_RUN = 64  # a longer run with figures is cut greedily (figures as tones): bounded cost


def _typed_units(run: str, offset: int, prefer_letters: bool = False) -> list[tuple[str, int, int]]:
    """A typed run cut into syllables: (syllable or OTHER, start, end) in the compact. From the left,
    the longest syllable each time; a tone (a figure, a bopomofo mark) joins the syllable before it."""
    if run[0].isascii() and len(run) <= _LONGEST_DIGIT_RUN and not run.isalpha():
        return _pinyin_with_figures(run, offset, prefer_letters)
    pinyin = run[0].isascii()  # letters; TYPED_RUN's other kind of run is bopomofo
    syllable_of = _pinyin_syllables() if pinyin else _bopomofo_syllables()
    pieces = _pieces(pinyin).findall(run)  # in C: a run of a thousand letters is one call, not a loop
    bounds = list(accumulate(map(len, pieces), initial=offset))
    units = list(zip(map(syllable_of.get, pieces, repeat(OTHER)), bounds[:-1], bounds[1:], strict=True))
    if _TONE.search(run) is None:
        return units
    joined: list[tuple[str, int, int]] = []
    for unit, piece in zip(units, pieces, strict=True):
        if _TONE.fullmatch(piece) is None:
            joined.append(unit)
        elif joined:  # a tone before any syllable is left out
            joined[-1] = (joined[-1][0], joined[-1][1], unit[2])
    return joined


_TONE = re.compile(f"[0-9{BOPOMOFO_TONE_MARKS}]")


def _longest_first(words) -> str:
    """A regular expression for the longest of `words` that starts where it is tried: a trie of
    nested groups, each node's longer ways on before the word that ends there."""
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def branches(node: dict) -> str:
        ways = [re.escape(char) + branches(child) for char, child in sorted(node.items()) if char]
        return "(?:" + "|".join(ways + ([""] if "" in node else [])) + ")"

    return branches(trie)


@lru_cache(maxsize=2)
def _pieces(pinyin: bool) -> re.Pattern:
    """A typed run's pieces: a tone, the longest syllable (up to six letters of pinyin, four bopomofo),
    else one character."""
    syllables, longest = (_pinyin_syllables(), 6) if pinyin else (_bopomofo_syllables(), 4)
    return re.compile(f"{_TONE.pattern}|{_longest_first(s for s in syllables if len(s) <= longest)}|.", re.S)


@lru_cache(maxsize=4096)
def _spellings(chunk: str) -> frozenset[str]:
    """What a chunk of letters and figures may spell: each figure a tone (dropped, never first) or
    the letter it is drawn like."""
    spelled = {""}
    for position, char in enumerate(chunk):
        if char.isdigit():
            options = DIGIT_LETTERS[char] + ("" if position == 0 else "-")
            spelled = {word + ("" if option == "-" else option) for word in spelled for option in options}
        else:
            spelled = {word + char for word in spelled}
    return frozenset(spelled)


def _pinyin_with_figures(run: str, offset: int, prefer_letters: bool) -> list[tuple[str, int, int]]:
    """A Latin run with figures in it, cut into the most syllables: a figure is a tone wherever it
    stands (jia1we1ixi4n) or the letter it is drawn like (j1aweixin). Dynamic programming over
    the run's positions (a run is at most 64 characters). Where both read (ji4: ji in the fourth
    tone, or jia), the tone wins, or the letter when `prefer_letters`."""
    sign = -1 if prefer_letters else 1
    ids = _syllable_ids()
    size = len(run)
    best: list[tuple[float, list] | None] = [None] * (size + 1)
    best[0] = (0.0, [])
    for start in range(size):
        if best[start] is None:
            continue
        cost, units = best[start]
        options = []
        if run[start].isdigit() and units:  # a tone after a syllable
            options.append((start + 1, cost, units[:-1] + [(units[-1][0], units[-1][1], offset + start + 1)]))
        for end in range(start + 1, min(size, start + 8) + 1):
            chunk = run[start:end]
            figures = sum(char.isdigit() for char in chunk)
            if figures > 2:
                break
            letters = end - start - figures
            # A figure read as a tone before one read as a letter (xi4n is xin, not xian).
            syllable = min((word for word in _spellings(chunk) if word in ids),
                           key=lambda word: (sign * (len(word) - letters), word), default=None)
            if syllable:
                substituted = len(syllable) - letters
                options.append((end, cost + 1 + 0.1 * sign * substituted, units + [(syllable, offset + start, offset + end)]))
        options.append((start + 1, cost + 10, units + [(OTHER, offset + start, offset + start + 1)]))
        for end, new_cost, new_units in options:
            if best[end] is None or new_cost < best[end][0]:
                best[end] = (new_cost, new_units)
    return best[size][1]


def typed_syllables(word: str) -> str:
    """A Latin word's syllables joined (we1x1n → weixin), or "" when a piece is not a syllable."""
    units = _typed_units(word, 0)
    if any(syllable == OTHER for syllable, _, _ in units):
        return ""
    return "".join(syllable for syllable, _, _ in units)


@dataclass(frozen=True)
class _TypedRun:
    first_unit: int  # the index of its first syllable among all units
    compact_start: int
    compact_end: int
    spans: tuple[tuple[int, int], ...]  # compact span of each of its syllables
    names: tuple[str, ...]  # each syllable (or OTHER)


@dataclass(frozen=True)
class ReadingView:
    """The syllables of a compact text, and which compact characters each came from."""

    compact: str
    spoken: str  # one character per unit (`spoken_char`): what the terms' readings are searched in
    runs: tuple[_TypedRun, ...]  # pinyin or bopomofo typed out; elsewhere one unit per character
    compact_spoken: str = ""  # each compact character's own syllable (typed runs not read)
    figures_in_words: bool = False  # a typed word holds a figure: a tone or a letter (ji4)

    @property
    def plain(self) -> str:
        """The reading `reading_key` gives the same text (|jia|wei|xin|)."""
        return SEPARATOR + self.compact_spoken.translate(_separated_units())

    def plain_utf8(self) -> bytes:
        """`plain` in UTF-8, what the reading fingerprint hashes, made in one step (charmap encoding)."""
        return _SEPARATOR_UTF8 + codecs.charmap_encode(self.compact_spoken, "strict", _separated_units_utf8())[0]

    @cached_property
    def _run_starts(self) -> list[int]:
        return [run.first_unit for run in self.runs]

    def compact_span(self, start: int, end: int) -> tuple[int, int]:
        """Compact [first, last) of the units [start, end) of the spoken view."""
        return self._unit_span(start)[0], self._unit_span(end - 1)[1]

    def _unit_span(self, unit: int) -> tuple[int, int]:
        index = bisect_right(self._run_starts, unit) - 1
        if index < 0:
            return unit, unit + 1
        run = self.runs[index]
        inside = unit - run.first_unit
        if inside < len(run.spans):
            return run.spans[inside]
        position = run.compact_end + inside - len(run.spans)
        return position, position + 1


def reading_view(compact: str, prefer_letters: bool = False, spoken: str | None = None) -> ReadingView:
    """Typed runs become one unit per syllable; every other character is one unit. `spoken`: the
    compact text's characters as `spoken_key` gives them, when the caller has them already (the
    normaliser reads them in the same pass as it folds): nothing else, since `plain_utf8` encodes
    only the spoken view's characters.
    `prefer_letters`: a figure that reads either way is the letter it is drawn like (ji4 → jia)."""
    if spoken is None:
        spoken = spoken_key(compact)
    typed = list(TYPED_RUN.finditer(compact))
    if not typed:
        return ReadingView(compact, spoken, (), spoken, False)
    ids = _syllable_ids()
    chars = _spoken_chars()
    runs: list[_TypedRun] = []
    pieces: list[str] = []
    position = 0
    for run in typed:
        units = _typed_units(run.group(), run.start(), prefer_letters)
        previous = runs[-1] if runs else None
        first_unit = (run.start() if previous is None else
                      previous.first_unit + len(previous.spans) + run.start() - previous.compact_end)
        names = tuple(syllable if syllable in ids else OTHER for syllable, _, _ in units)
        runs.append(_TypedRun(first_unit, run.start(), run.end(), tuple((a, b) for _, a, b in units), names))
        pieces += (spoken[position:run.start()], "".join(OTHER if name == OTHER else chars[name] for name in names))
        position = run.end()
    pieces.append(spoken[position:])
    figures = any(not run.group().isalpha() for run in typed if run.group()[0].isascii())
    return ReadingView(compact, "".join(pieces), tuple(runs), spoken, figures)


@lru_cache(maxsize=1)
def _pinyin_to_bopomofo() -> dict[str, str]:
    return {pinyin: bopomofo for bopomofo, pinyin in _bopomofo_syllables().items()}


_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "z",
             "c", "s", "y", "w")
_BOPOMOFO_INITIALS = frozenset("ㄅㄆㄇㄈㄉㄊㄋㄌㄍㄎㄏㄐㄑㄒㄓㄔㄕㄖㄗㄘㄙ")


@lru_cache(maxsize=4096)
def syllable_parts(syllable: str) -> frozenset[str]:
    """How one syllable is written by its initial or its final alone: jia → j, ia, ㄐ, ㄧㄚ; wei → w,
    v (chat's v for w), ei, ㄨㄟ. Empty for what is not a syllable."""
    if not syllable or syllable == OTHER:
        return frozenset()
    parts = {syllable[0]}
    initial = next((start for start in _INITIALS if syllable.startswith(start)), "")
    if initial:
        parts.add(initial)
        if len(syllable) > len(initial) + 1:
            parts.add(syllable[len(initial):])
    if syllable[0] == "w":
        parts.add("v")
    bopomofo = _pinyin_to_bopomofo().get(syllable, "")
    if bopomofo:
        if bopomofo[0] in _BOPOMOFO_INITIALS:
            parts.add(bopomofo[0])
            if len(bopomofo) > 1:
                parts.add(bopomofo[1:])
        elif len(bopomofo) > 1:
            parts.add(bopomofo[0])
    parts.discard(syllable)
    return frozenset(parts)


def typed_reading(view: ReadingView) -> tuple[str, list[tuple[int, int] | None]]:
    """Only the typed syllables of a view, run by run (an OTHER between runs), one character each as
    in the spoken view, and the compact span of each: what two-character terms are searched in
    (weixin, ㄨㄟ ㄒㄧㄣ, not 威信)."""
    chars = _spoken_chars()
    pieces: list[str] = []
    spans: list[tuple[int, int] | None] = []
    for run in view.runs:
        for name, span in zip(run.names, run.spans, strict=True):
            pieces.append(OTHER if name == OTHER else chars[name])
            spans.append(span)
        pieces.append(OTHER)
        spans.append(None)
    return "".join(pieces), spans
