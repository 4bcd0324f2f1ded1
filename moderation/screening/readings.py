"""How a text sounds: Han characters as toneless pinyin, Latin letters as themselves. Pure.

A term's reading (加微信 → jiaweixin) is found in a text's reading whether the text spells it in
pinyin (jiaweixin, jiā wēi xìn, jia1wei1xin4), in bopomofo (ㄐㄧㄚ ㄨㄟ ㄒㄧㄣ), mixes pinyin and
characters (加weixin), or writes characters that sound the same (家微信, 加威信). Each Han
character reads as its most common reading (pypinyin's table); tone marks and tone numbers are
dropped, ü is written v.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import accumulate, repeat

from pypinyin import Style
from pypinyin.pinyin_dict import pinyin_dict
from pypinyin.style import convert

BOPOMOFO = re.compile(r"[\u3105-\u312f\u31a0-\u31bf]")
BOPOMOFO_TONE_MARKS = "ˉˊˇˋ˙"
_BOPOMOFO_TONES = str.maketrans("", "", BOPOMOFO_TONE_MARKS)


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
    def lengths(self) -> list[int]:
        return list(map(_reading_lengths().get, self.compact, repeat(1)))

    @cached_property
    def starts(self) -> list[int]:
        return [0, *accumulate(self.lengths)][:-1]

    def compact_span(self, start: int, end: int) -> tuple[int, int] | None:
        """Compact [first, last) whose readings make reading [start, end) exactly; None when the
        span begins or ends inside a syllable."""
        starts = self.starts
        first = bisect_right(starts, start) - 1
        last = bisect_right(starts, end - 1) - 1
        if first < 0 or starts[first] != start:
            return None
        lengths = self.lengths
        if starts[last] + lengths[last] != end:
            return None
        while last + 1 < len(lengths) and lengths[last + 1] == 0 and starts[last + 1] == end:
            last += 1  # the rest of a bopomofo syllable, or tone digits, belong to the match
        return first, last + 1


@lru_cache(maxsize=1)
def _reading_lengths() -> dict[str, int]:
    return {chr(code): len(reading) for code, reading in _reading_table().items()}


def reading_view(compact: str) -> ReadingView:
    if BOPOMOFO.search(compact):
        return _bopomofo_view(compact)
    return ReadingView(reading_of(compact), compact)


@lru_cache(maxsize=1)
def _bopomofo_syllables() -> dict[str, str]:
    """ㄐㄧㄚ → jia, for every syllable pypinyin knows."""
    syllables = {}
    for readings in pinyin_dict.values():
        for reading in readings.split(","):
            spelled = convert(reading, Style.BOPOMOFO, strict=True).translate(_BOPOMOFO_TONES)
            syllables.setdefault(spelled, _toneless(reading))
    return syllables


def _bopomofo_view(compact: str) -> ReadingView:
    """Bopomofo runs read syllable by syllable (longest first); a syllable's reading is given to
    its first symbol, so that spans still map back to the symbols."""
    syllables = _bopomofo_syllables()
    pieces: list[str] = []
    index = 0
    while index < len(compact):
        if BOPOMOFO.match(compact, index):
            for size in (4, 3, 2, 1):
                chunk = compact[index:index + size]
                reading = syllables.get(chunk) if len(chunk) == size else None
                if reading:
                    pieces.extend([reading] + [""] * (size - 1))
                    index += size
                    break
            else:
                pieces.append(compact[index])
                index += 1
        elif compact[index] in BOPOMOFO_TONE_MARKS:
            pieces.append("")
            index += 1
        else:
            pieces.append(char_reading(compact[index]))
            index += 1
    view = ReadingView("".join(pieces), compact)
    view.__dict__["lengths"] = [len(piece) for piece in pieces]
    return view


def initials_of(term_compact: str) -> str:
    """jwx for 加微信: the first letter of each character's reading."""
    return "".join(char_reading(char)[:1] for char in term_compact)
