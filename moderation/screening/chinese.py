"""Traditional → Simplified folding with OpenCC, one character at a time.

Character by character (not OpenCC's phrase mode) so that each original character folds to
exactly one character and matched spans map straight back to the original text.
"""

from __future__ import annotations

from functools import lru_cache

import opencc

from moderation.screening.characters import is_han

_converter = opencc.OpenCC("t2s")


@lru_cache(maxsize=65536)
def simplified_char(char: str) -> str:
    if not is_han(char):
        return char
    converted = _converter.convert(char)
    return converted if len(converted) == 1 else char


def to_simplified(text: str) -> str:
    return "".join(simplified_char(char) for char in text)
