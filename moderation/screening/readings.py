"""How a text sounds: Han characters as toneless pinyin, Latin letters as themselves. Pure.

A term's reading (加微信 → jiaweixin) is found in a text's reading whether the text spells it in
pinyin (jiaweixin, jiā wēi xìn, jia1wei1xin4), mixes pinyin and characters (加weixin), or writes
characters that sound the same (家微信, 加威信). Each Han character reads as its most common
reading (pypinyin's table); tone marks and tone numbers are dropped, ü is written v.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import accumulate, repeat

from pypinyin.pinyin_dict import pinyin_dict


def _toneless(syllable: str) -> str:
    plain = "".join(char for char in unicodedata.normalize("NFD", syllable) if unicodedata.category(char) != "Mn")
    return plain.replace("ü", "v").replace("u\u0308", "v").lower()


@lru_cache(maxsize=1)
def _reading_table() -> dict[int, str]:
    """str.translate table: Han → toneless pinyin; toned Latin vowels → plain; tone digits dropped."""
    table: dict[int, str] = {code: _toneless(readings.split(",")[0]) for code, readings in pinyin_dict.items()}
    for char in "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ":
        table[ord(char)] = _toneless(char)
    for digit in "012345":
        table[ord(digit)] = ""
    return table


def reading_of(text: str) -> str:
    """The toneless reading of a (folded, compact) text."""
    return text.translate(_reading_table())


def char_reading(char: str) -> str:
    return reading_of(char)


@dataclass(frozen=True)
class ReadingView:
    """The reading of a compact text, with where each compact character's reading starts."""

    reading: str
    compact: str

    @cached_property
    def starts(self) -> list[int]:
        return _starts_of(self.compact)

    def compact_span(self, start: int, end: int) -> tuple[int, int] | None:
        """Compact [first, last) whose readings make reading [start, end) exactly; None when the
        span begins or ends inside a syllable."""
        starts = self.starts
        first = bisect_right(starts, start) - 1
        last = bisect_right(starts, end - 1) - 1
        if first < 0 or starts[first] != start:
            return None
        if starts[last] + len(char_reading(self.compact[last])) != end:
            return None
        return first, last + 1


@lru_cache(maxsize=1)
def _reading_lengths() -> dict[str, int]:
    return {chr(code): len(reading) for code, reading in _reading_table().items()}


def _starts_of(compact: str) -> list[int]:
    """Where each character's reading starts (characters outside the table read as themselves)."""
    return [0, *accumulate(map(_reading_lengths().get, compact, repeat(1)))][:-1]


def reading_view(compact: str) -> ReadingView:
    return ReadingView(reading_of(compact), compact)


def initials_of(term_compact: str) -> str:
    """jwx for 加微信: the first letter of each character's reading."""
    return "".join(char_reading(char)[:1] for char in term_compact)
