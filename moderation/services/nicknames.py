"""Nickname rules: normalisation, forbidden characters, names that impersonate the site. Pure.

Reserved names are compared by skeleton: NFKC, accents dropped, case-folded, look-alike letters
replaced by their Latin counterparts (Cyrillic `а` → `a` per Unicode's confusables data, small
capitals and regional-indicator letters by their names) and Traditional folded to Simplified; for
Latin names also the digits and letters people swap (`0`→o, `1`/`l`→i, `4`→a, `rn`→m). So
`ＡＤＭＩＮ`, ` Admin `, `аdmin`, `ᴀᴅᴍɪɴ`, `ádmin`, `ADMlN`, `adm1n`, `rnoderator` and 管理员 all
meet 管理員/admin/moderator. A name with no visible character (Hangul fillers, the Braille blank,
a lone combining mark) is refused as invisible.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from moderation.screening.characters import INVISIBLE, draws_something, is_control, latin_lookalike
from moderation.screening.chinese import to_simplified


class NicknameProblem(enum.StrEnum):
    MISSING = "missing"
    TOO_LONG = "too_long"
    INVISIBLE_CHARACTERS = "invisible_characters"
    RESERVED = "reserved"


@dataclass(frozen=True)
class NicknameCheck:
    value: str  # normalised nickname, what gets stored
    problem: NicknameProblem | None


def normalize_nickname(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw).strip()


def check_nickname(raw: str, *, max_length: int, reserved: Iterable[str]) -> NicknameCheck:
    value = normalize_nickname(raw)
    if not value:
        return NicknameCheck(value, NicknameProblem.MISSING)
    if any(char in INVISIBLE or is_control(char) for char in value) or not any(map(draws_something, value)):
        return NicknameCheck(value, NicknameProblem.INVISIBLE_CHARACTERS)
    if len(value) > max_length:
        return NicknameCheck(value, NicknameProblem.TOO_LONG)
    if impersonates(value, reserved):
        return NicknameCheck(value, NicknameProblem.RESERVED)
    return NicknameCheck(value, None)


# Digits and letters swapped in Latin names; "l" and "1" both read as "i" (ADMlN, adm1n).
_SWAPPED = str.maketrans({"0": "o", "1": "i", "l": "i", "|": "i", "!": "i", "3": "e", "4": "a", "@": "a",
                          "5": "s", "$": "s", "7": "t", "8": "b"})


def latin_skeleton(text: str) -> str:
    return _swapped(skeleton(text))


def _swapped(folded: str) -> str:
    return folded.translate(_SWAPPED).replace("rn", "m").replace("vv", "w")


# Words that hold a reserved Han name but name something else: 編輯器 is an editor program
# (編輯器愛好者, a fan of text editors), not the site's 編輯. Taken out when a name begins with one,
# before the names are looked for: 編輯器小編 is still 小編, and 本站編輯器 still reads 本站編輯.
# Written as skeletons (Simplified): Traditional forms meet them folded.
ORDINARY_WORDS = ("编辑器", "编辑软件", "编辑软体")


def impersonates(nickname: str, reserved: Iterable[str]) -> bool:
    """Han names match anywhere (小編小美) but inside an ordinary word the name begins with (編輯器);
    Latin names match a whole word (not `model`)."""
    name = latin_skeleton(nickname)
    squeezed = re.sub(r"[\W_]+", "", name)
    for word in ORDINARY_WORDS:
        if squeezed.startswith(word):
            squeezed = "\x00" + squeezed[len(word):]
    words = set(re.findall(r"[a-z]+|[0-9]+", name))
    for target in reserved_skeletons(tuple(reserved)):
        if target.isascii():
            if target in words or squeezed == target:
                return True
        elif target in squeezed:
            return True
    return False


@lru_cache(maxsize=8)
def reserved_skeletons(reserved: tuple[str, ...]) -> tuple[str, ...]:
    """The reserved list changes only with the configuration: fold it once, not per comment.
    Latin names get the swapped digits and letters too; Han names keep their skeleton."""
    pairs = [(folded, _swapped(folded)) for folded in map(skeleton, reserved)]
    return tuple(latin if latin.isascii() else folded for folded, latin in pairs)


def skeleton(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text))
    unaccented = "".join(char for char in decomposed if unicodedata.category(char) not in {"Mn", "Me"})
    folded = unicodedata.normalize("NFC", unaccented).casefold()
    return to_simplified("".join(latin_lookalike(char) for char in folded))
