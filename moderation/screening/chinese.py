"""Traditional → Simplified folding with OpenCC, one character at a time.

Character by character (not OpenCC's phrase mode) so that each original character folds to
exactly one character and matched spans map straight back to the original text.
"""

from __future__ import annotations

from functools import lru_cache

import opencc

_converter = opencc.OpenCC("t2s")


def _is_han(char: str) -> bool:
    code = ord(char)
    return 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x3FFFF


@lru_cache(maxsize=65536)
def simplified_char(char: str) -> str:
    if not _is_han(char):
        return char
    converted = _converter.convert(char)
    return converted if len(converted) == 1 else char


def to_simplified(text: str) -> str:
    return "".join(simplified_char(char) for char in text)
