"""Character classes shared by the form rules and the screening normaliser. Pure."""

from __future__ import annotations

import unicodedata

ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e")
BIDI_CONTROLS = frozenset("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Letters that draw nothing: Hangul fillers and the Braille blank pass for names and text.
BLANK_LETTERS = frozenset("\u3164\u115f\u1160\uffa0\u2800")
INVISIBLE = ZERO_WIDTH | BIDI_CONTROLS | BLANK_LETTERS


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
