"""Text → the form rules match against, with a map back to the original positions. Pure.

HTML entities and escapes are read as the characters they stand for. Then each character folds on
its own: NFKC (full-width → half-width), case folding, letters drawn like Latin ones → Latin
(Cyrillic а, small capital ᴡ, 🇼), variant forms → the standard character (Japanese 発 → 發),
Traditional → Simplified. Zero-width and bidi controls and blank letters vanish; emoji that NFKC
would turn into characters (🈲 → 禁) stay emoji. `compact` additionally drops spaces,
punctuation, symbols and combining marks, so that "免 費 機 場", "免.費" and "w̵e̵c̵h̵a̵t" meet
their terms. Every folded character maps back to the original span it came from.

One `str.translate` of the text gives every view the matcher searches, a lane each (folded,
compact, spoken, the two shape views, the filler view, and which views keep each character), each
view then sliced out: a translate costs mostly what looking each character up costs, not what it
writes, so the lanes cost less than a pass per view.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import compress

from moderation.screening.characters import INVISIBLE, CharacterTable, latin_lookalike, two_byte_bucket
from moderation.screening.chinese import simplified_char
from moderation.screening.escapes import escapes, might_hold_escapes
from moderation.screening.fillers import NOT_IN_FILLER_VIEW
from moderation.screening.readings import ReadingView, reading_view, spoken_char
from moderation.screening.variants import shape_classes, standard_form


@lru_cache(maxsize=65536)
def fold_char(char: str) -> str:
    """One character's folded form (possibly several characters, possibly none)."""
    if char in INVISIBLE or 0xD800 <= ord(char) <= 0xDFFF:
        return ""
    if 0x1F200 <= ord(char) <= 0x1F2FF:  # enclosed ideographs (🈲): an emoji, not a character
        return char
    folded = char
    for _ in range(3):  # iterate to a fixed point so that folding is idempotent
        step = "".join(
            simplified_char(standard_form(latin_lookalike(piece)))
            for piece in unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", folded).casefold())
            if piece not in INVISIBLE
        )
        if step == folded:
            break
        folded = step
    return folded


# Separators: spaces, punctuation, symbols (emoji), controls, format characters, combining marks,
# "_", and unassigned or private-use code points: what is not a letter or a figure (`\w` less "_").
# A regular expression, so that dropping them and mapping around them runs in C.
_SEPARATOR = re.compile(r"[\W_]")


@lru_cache(maxsize=65536)
def is_separator(char: str) -> bool:
    return _SEPARATOR.match(char) is not None


_IRREGULAR: set[str] = set()  # characters that fold to none or to several
# One regular expression for them, compiled again when a block of characters is learnt (rarely
# after the first comments): a scan in C, where `set.isdisjoint(text)` made an object of every character.
_holds_irregular = re.compile("(?!)").search


def _folded_code(code: int) -> str:
    folded = fold_char(chr(code))
    if len(folded) != 1:
        _IRREGULAR.add(chr(code))
    return folded


def _irregular_learnt() -> None:
    global _holds_irregular
    if _IRREGULAR:
        _holds_irregular = re.compile("[" + "".join(map(re.escape, sorted(_IRREGULAR))) + "]").search


LEFT_OUT = "\x00"  # in a lane: the character is not in that view
# The last lane: left out of compact, in compact only, in compact and the filler view.
_IN_COMPACT, _IN_FILLER_VIEW = "\x01", "\x02"
_IN_FILLER_VIEW_ONLY = bytes.maketrans(b"\x01\x02", b"\x00\x01")
_LANES = 7  # folded, compact, spoken, shape view 0, shape view 1, filler view, which views keep it
_FOLDED, _COMPACT, _SPOKEN, _SHAPED, _FILLED, _MASK = 0, 1, 2, 3, 5, 6


def _lanes(folded: str) -> str:
    """A folded character in each lane."""
    if len(folded) != 1:  # folds to none or to several: such a text is folded character by character
        return LEFT_OUT * _LANES
    if is_separator(folded):
        return folded + LEFT_OUT * (_LANES - 1)
    code = ord(folded)
    if NOT_IN_FILLER_VIEW.match(folded):
        filled, kept = LEFT_OUT, _IN_COMPACT
    else:
        filled, kept = folded, _IN_FILLER_VIEW
    shaped = two_byte_bucket(shape_classes(0)[code]) + two_byte_bucket(shape_classes(1)[code])
    return folded * 2 + spoken_char(code) + shaped + filled + kept


# Each character of a text to its folded form's lanes; and of a folded text (escapes read, or
# characters that fold to none or to several), each folded character to its lanes.
_ORIGINAL_LANES = CharacterTable(lambda code: _lanes(_folded_code(code)), _irregular_learnt)
_FOLDED_LANES = CharacterTable(lambda code: _lanes(chr(code)))


@dataclass(frozen=True)
class NormalizedText:
    original: str
    folded: str  # every character folded, separators kept
    folded_to_original: Sequence[int]  # start of the original character (or escape) it came from
    compact: str  # folded, without separators
    folded_to_original_end: Sequence[int] | None = None  # when escapes were read: where each source ends
    lanes: str = field(default="", repr=False, compare=False)  # each folded character's `_LANES` lanes

    @cached_property
    def compact_to_folded(self) -> Sequence[int]:
        """Worked out only when a span is asked for (most comments match nothing)."""
        if len(self.compact) == len(self.folded):
            return range(len(self.folded))
        return list(compress(range(len(self.folded)), self.lanes[_MASK::_LANES].encode("latin-1")))

    def _lane(self, lane: int) -> str:
        return self.lanes[lane::_LANES].replace(LEFT_OUT, "")

    @cached_property
    def spoken(self) -> str:
        """Each compact character as the spoken view's character for its syllable (`spoken_key`)."""
        return self._lane(_SPOKEN)

    @cached_property
    def shape_views(self) -> tuple[str, str]:
        """The compact text in shape classes, in groupings 0 and 1 (`shape_classes`), each class in its
        `two_byte_bucket`."""
        return self._lane(_SHAPED), self._lane(_SHAPED + 1)

    @cached_property
    def filler_view(self) -> str:
        """The compact text's Han characters, fillers left out."""
        return self._lane(_FILLED)

    @cached_property
    def filler_to_compact(self) -> Sequence[int]:
        """Where each character of the filler view stands in the compact text."""
        kept = self._lane(_MASK).encode("latin-1").translate(_IN_FILLER_VIEW_ONLY)
        return list(compress(range(len(self.compact)), kept))

    @cached_property
    def reading(self) -> ReadingView:
        """The compact text's syllables, read once for the matcher and the reading fingerprint."""
        return reading_view(self.compact, spoken=self.spoken)

    def original_span(self, compact_start: int, compact_end: int) -> tuple[int, int]:
        """Original [start, end) covering compact characters [compact_start, compact_end)."""
        first = self.folded_to_original[self.compact_to_folded[compact_start]]
        last_folded = self.compact_to_folded[compact_end - 1]
        if self.folded_to_original_end is not None:
            return first, self.folded_to_original_end[last_folded]
        return first, self.folded_to_original[last_folded] + 1

    def folded_span(self, compact_start: int, compact_end: int) -> tuple[int, int]:
        return self.compact_to_folded[compact_start], self.compact_to_folded[compact_end - 1] + 1


def fold(text: str) -> str:
    return "".join(fold_char(char) for char in text)


def normalize(text: str) -> NormalizedText:
    found = escapes(text) if might_hold_escapes(text) else []
    if found:
        return _normalize_with_escapes(text, found)
    lanes = _ORIGINAL_LANES.translate(text)
    if not _holds_irregular(text):  # the usual case: each character folds to one
        return NormalizedText(text, lanes[_FOLDED::_LANES], range(len(text)),
                              lanes[_COMPACT::_LANES].replace(LEFT_OUT, ""), None, lanes)
    pieces = [fold_char(char) for char in text]
    folded_to_original = [index for index, piece in enumerate(pieces) for _ in piece]
    return _compacted(text, "".join(pieces), folded_to_original, None)


def _normalize_with_escapes(text: str, found: list[tuple[int, int, str]]) -> NormalizedText:
    """Each escape is one source: its decoded characters fold and map back to the whole escape."""
    folded_parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    position = 0

    def add(source_start: int, source_end: int, decoded: str) -> None:
        piece = fold(decoded)
        folded_parts.append(piece)
        starts.extend([source_start] * len(piece))
        ends.extend([source_end] * len(piece))

    for start, end, decoded in found:
        for index in range(position, start):
            add(index, index + 1, text[index])
        add(start, end, decoded)
        position = end
    for index in range(position, len(text)):
        add(index, index + 1, text[index])
    return _compacted(text, "".join(folded_parts), starts, ends)


def _compacted(text: str, folded: str, folded_to_original: Sequence[int],
               folded_to_original_end: Sequence[int] | None) -> NormalizedText:
    lanes = _FOLDED_LANES.translate(folded)
    return NormalizedText(
        original=text,
        folded=folded,
        folded_to_original=folded_to_original,
        compact=lanes[_COMPACT::_LANES].replace(LEFT_OUT, ""),
        folded_to_original_end=folded_to_original_end,
        lanes=lanes,
    )


def compact_form(text: str) -> str:
    """A term or phrase as the matcher sees it."""
    return normalize(text).compact
