"""Character classes shared by the form rules and the screening normaliser. Pure."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from confusable_homoglyphs import confusables

ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e")
BIDI_CONTROLS = frozenset("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Letters that draw nothing: Hangul fillers and the Braille blank pass for names and text.
BLANK_LETTERS = frozenset("\u3164\u115f\u1160\uffa0\u2800")
INVISIBLE = ZERO_WIDTH | BIDI_CONTROLS | BLANK_LETTERS
# Han characters (CJK unified ideographs, extension A, compatibility, the supplementary planes), as
# a regular-expression class body.
HAN_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
_HAN = re.compile(f"[{HAN_CLASS}]")


def is_han(char: str) -> bool:
    return _HAN.match(char) is not None


def contains_han(text: str) -> bool:
    return _HAN.search(text) is not None


_TWO_BYTE_FIRST, _TWO_BYTE_COUNT = 0x80, 0x800 - 0x80


def two_byte_bucket(char: str) -> str:
    """ASCII stays; any other character becomes one of the code points UTF-8 writes in two bytes
    (by its code point modulo their number): a Han character's three bytes become two, so an automaton
    reads a third less. Characters that share a bucket are told apart by checking each match."""
    code = ord(char)
    return char if code < _TWO_BYTE_FIRST else chr(_TWO_BYTE_FIRST + code % _TWO_BYTE_COUNT)


def two_byte_form(text: str) -> str:
    return "".join(map(two_byte_bucket, text))
# Embeddings, overrides and isolates reorder what follows them (信微加 shown as 加微信); the marks
# LRM, RLM and ALM only nudge neutral characters and stay allowed.
BIDI_REORDERING = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def is_control(char: str) -> bool:
    """C0/C1 controls and other format characters that have no place in a name."""
    return unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn"}


def is_invisible(char: str) -> bool:
    return char in INVISIBLE or (unicodedata.category(char) == "Cf")


def draws_something(char: str) -> bool:
    """Not a space, a combining mark, a control or an invisible letter: something a reader sees."""
    return unicodedata.category(char) not in {"Zs", "Mn", "Me", "Cf", "Cc"} and char not in INVISIBLE


def visible_text(text: str) -> str:
    """The text without invisible characters and surrounding whitespace: empty means empty."""
    return "".join(char for char in text if not is_invisible(char)).strip()


# Scripts whose letters are drawn like Latin ones (Cyrillic а, Greek ο, small capital ᴡ, 🇼).
_LOOKALIKE_SCRIPTS = ("CYRILLIC ", "GREEK ", "LATIN ", "ARMENIAN ", "CHEROKEE ", "REGIONAL INDICATOR ")
_NAMED_LATIN = ("LATIN LETTER SMALL CAPITAL ", "REGIONAL INDICATOR SYMBOL LETTER ")
# Greek small letters drawn like a Latin one that Unicode's confusables map elsewhere (ε to ɛ, τ to ᴛ)
# or not at all: wεchατ, lucκy-casino.com.
_GREEK_DRAWN_LATIN = {"ε": "e", "η": "n", "κ": "k", "τ": "t", "χ": "x", "ω": "w"}


@lru_cache(maxsize=4096)
def latin_lookalike(char: str) -> str:
    """The ASCII letter or digit a letter of a Latin-like script is drawn as (Unicode's confusables),
    else the character itself. Han and other scripts are left alone."""
    if char.isascii():
        return char
    name = unicodedata.name(char, "")
    if not name.startswith(_LOOKALIKE_SCRIPTS):
        return char
    if char in _GREEK_DRAWN_LATIN:
        return _GREEK_DRAWN_LATIN[char]
    for prefix in _NAMED_LATIN:
        if name.startswith(prefix) and len(name) == len(prefix) + 1:
            return name[-1].lower()
    base = unicodedata.normalize("NFD", char)[0]
    if base.isascii():
        return base  # an accented Latin letter: é → e
    found = confusables.is_confusable(char, preferred_aliases=["latin"])
    if found:
        for homoglyph in found[0]["homoglyphs"]:
            candidate = homoglyph["c"].casefold()
            if len(candidate) == 1 and candidate.isascii() and candidate.isalnum():
                return candidate
    return char


class CharacterTable:
    """A `str.translate` table (code point → string) learnt 256 code points at a time.

    `str.translate` looks every character of the text up in its table. A dict subclass that learns
    in `__missing__` is looked up through CPython's generic slot, a Python-level call of the
    inherited `__getitem__` per character (about ten times a plain dict's cost, most of screening's
    time in translating), so the table is a plain dict: before a text is translated, one regular
    expression (compiled again when a block is added) finds a character of a block not learnt yet,
    and that block's 256 values are worked out. `value_of` must be pure; `learnt` is called after
    each block (under the lock)."""

    def __init__(self, value_of: Callable[[int], str], learnt: Callable[[], None] | None = None) -> None:
        self.table: dict[int, str] = {}
        self._value_of = value_of
        self._learnt = learnt
        self._blocks: set[int] = set()
        self._unlearnt = re.compile("[\x00-\U0010ffff]").search
        self._lock = threading.Lock()

    def translate(self, text: str) -> str:
        found = self._unlearnt(text)
        while found is not None:
            self._learn(ord(found.group()) >> 8)
            found = self._unlearnt(text, found.start())
        return text.translate(self.table)

    def __getitem__(self, code: int) -> str:
        if code >> 8 not in self._blocks:
            self._learn(code >> 8)
        return self.table[code]

    def _learn(self, block: int) -> None:
        with self._lock:
            if block in self._blocks:
                return
            for code in range(block << 8, (block + 1) << 8):
                self.table[code] = self._value_of(code)
            if self._learnt is not None:
                self._learnt()
            self._blocks.add(block)
            ranges = []
            for learnt in sorted(self._blocks):
                if ranges and ranges[-1][1] == learnt - 1:
                    ranges[-1][1] = learnt
                else:
                    ranges.append([learnt, learnt])
            body = "".join(f"{re.escape(chr(first << 8))}-{re.escape(chr((last << 8) + 255))}" for first, last in ranges)
            self._unlearnt = re.compile(f"[^{body}]").search
