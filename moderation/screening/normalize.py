"""Text → the form rules match against, with a map back to the original positions. Pure.

Each original character folds on its own: NFKC (full-width → half-width), case folding,
Traditional → Simplified. Zero-width and bidi controls vanish. `compact` additionally drops
spaces, punctuation, symbols and combining marks, so that "免 費 機 場", "免.費" and "w̵e̵c̵h̵a̵t"
meet their terms; `compact_to_original[i]` is the original index of compact character i.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from moderation.screening.characters import INVISIBLE
from moderation.screening.chinese import simplified_char

SEPARATOR_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Mn", "Me", "Mc"})


@lru_cache(maxsize=65536)
def fold_char(char: str) -> str:
    """One character's folded form (possibly several characters, possibly none)."""
    if char in INVISIBLE or 0xD800 <= ord(char) <= 0xDFFF:
        return ""
    folded = char
    for _ in range(3):  # iterate to a fixed point so that folding is idempotent
        step = "".join(
            simplified_char(piece)
            for piece in unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", folded).casefold())
            if piece not in INVISIBLE
        )
        if step == folded:
            break
        folded = step
    return folded


@lru_cache(maxsize=65536)
def is_separator(char: str) -> bool:
    category = unicodedata.category(char)
    return category in SEPARATOR_CATEGORIES or category[0] in {"P", "S"} or char == "_"


@dataclass(frozen=True)
class NormalizedText:
    original: str
    folded: str  # every character folded, separators kept
    folded_to_original: Sequence[int]
    compact: str  # folded, without separators
    compact_to_folded: Sequence[int]

    def original_span(self, compact_start: int, compact_end: int) -> tuple[int, int]:
        """Original [start, end) covering compact characters [compact_start, compact_end)."""
        first = self.folded_to_original[self.compact_to_folded[compact_start]]
        last = self.folded_to_original[self.compact_to_folded[compact_end - 1]]
        return first, last + 1

    def folded_span(self, compact_start: int, compact_end: int) -> tuple[int, int]:
        return self.compact_to_folded[compact_start], self.compact_to_folded[compact_end - 1] + 1


def fold(text: str) -> str:
    return "".join(fold_char(char) for char in text)


def normalize(text: str) -> NormalizedText:
    pieces = [fold_char(char) for char in text]
    folded = "".join(pieces)
    if len(folded) == len(text) and "" not in pieces:  # the usual case: one character each
        folded_to_original: Sequence[int] = range(len(text))
    else:
        folded_to_original = [index for index, piece in enumerate(pieces) for _ in piece]
    compact_to_folded = [index for index, char in enumerate(folded) if not is_separator(char)]
    return NormalizedText(
        original=text,
        folded=folded,
        folded_to_original=folded_to_original,
        compact="".join([folded[index] for index in compact_to_folded]),
        compact_to_folded=compact_to_folded,
    )


def compact_form(text: str) -> str:
    """A term or phrase as the matcher sees it."""
    return normalize(text).compact
