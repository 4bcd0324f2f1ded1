"""Evasions of every blocking term on the starter list, generated family by family.

Nothing here is a fixed list of disguised strings: each family is a way of rewriting a term
(pinyin in every tone notation, homophones, variant and look-alike characters, split characters,
initials, fillers, reversal, escapes, homoglyphs, blank letters, glued Latin), applied to every
term the starter list blocks, holds or spams. Each variant is then embedded in a sentence.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import opencc
from pypinyin import Style, lazy_pinyin
from pypinyin.pinyin_dict import pinyin_dict

from moderation.screening.readings import char_reading
from moderation.screening.variants import lookalikes, split_forms
from moderation.services.rulebook.starter import starter_rules

SENTENCES = (
    "這篇寫得不錯，{}，有興趣的朋友可以看看",
    "{}",
    "大家好{}謝謝",
    "最近很多人在問，{}！",
    "想了解更多請 {} 喔",
)
FILLERS = ("1", "2", "x", "的", "各類", "一", "我", "。")
HANGUL_BLANKS = ("\u3164", "\uffa0", "\u115f")
CYRILLIC = {"a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "h": "һ", "i": "і"}
GREEK = {"a": "α", "e": "ε", "o": "ο", "t": "τ", "i": "ι"}
_japanese = opencc.OpenCC("t2jp")


@dataclass(frozen=True)
class Evasion:
    family: str
    term: str
    variant: str
    text: str


def blocking_terms() -> list[str]:
    return [value for kind, action, value, _ in starter_rules() if kind == "word" and action != "allow"]


def is_han_term(term: str) -> bool:
    return all("\u4e00" <= char <= "\u9fff" for char in term)


@lru_cache(maxsize=1)
def _homophones() -> dict[str, list[str]]:
    """toneless reading → the characters of the CJK basic block that read so."""
    by_reading: dict[str, list[str]] = {}
    for code in pinyin_dict:
        if 0x4E00 <= code <= 0x9FA5:
            by_reading.setdefault(char_reading(chr(code)), []).append(chr(code))
    return by_reading


def _pinyin(term: str, style: Style) -> list[str]:
    return lazy_pinyin(term, style=style, neutral_tone_with_five=True)


def pinyin_variants(term: str) -> Iterator[str]:
    plain = _pinyin(term, Style.NORMAL)
    toned = _pinyin(term, Style.TONE)
    numbered = _pinyin(term, Style.TONE3)
    yield "".join(plain)
    yield " ".join(plain)
    yield " ".join(toned)
    yield "".join(toned)
    yield "".join(numbered)
    yield "".join(plain).upper()
    yield "-".join(plain)
    yield " ".join(_pinyin(term, Style.BOPOMOFO))
    yield "".join(_pinyin(term, Style.BOPOMOFO))
    for index in range(len(term)):  # one syllable written out among the characters, and the reverse
        yield term[:index] + plain[index] + term[index + 1:]
        yield "".join(plain[:index]) + term[index] + "".join(plain[index + 1:])


def homophone_variants(term: str, rng: random.Random) -> Iterator[str]:
    table = _homophones()
    for index, char in enumerate(term):
        others = [other for other in table.get(char_reading(char), []) if other != char]
        for other in rng.sample(others, min(3, len(others))):
            yield term[:index] + other + term[index + 1:]


def variant_forms(term: str) -> Iterator[str]:
    japanese = _japanese.convert(term)
    if japanese != term:
        yield japanese


def lookalike_variants(term: str) -> Iterator[str]:
    for index, char in enumerate(term):
        for form in lookalikes(char):
            yield term[:index] + form + term[index + 1:]


def split_variants(term: str) -> Iterator[str]:
    for index, char in enumerate(term):
        for form in split_forms(char)[:1]:
            yield term[:index] + form + term[index + 1:]
    if sum(1 for char in term if split_forms(char)) > 1:
        yield "".join(split_forms(char)[0] if split_forms(char) else char for char in term)


def initials_variants(term: str) -> Iterator[str]:
    initials = "".join(syllable[0] for syllable in _pinyin(term, Style.NORMAL))
    yield initials
    yield initials.upper()


def filler_variants(term: str) -> Iterator[str]:
    for filler in FILLERS:
        for index in range(1, len(term)):
            yield term[:index] + filler + term[index:]
        if len(term) >= 3:
            yield filler.join(term[:2]) + filler + term[2:] if len(filler) == 1 else term


def reversed_variants(term: str) -> Iterator[str]:
    yield term[::-1]
    yield "\u202e" + term[::-1] + "\u202c"


def escape_variants(term: str) -> Iterator[str]:
    yield "".join(f"&#{ord(char)};" for char in term)
    yield "".join(f"&#x{ord(char):x};" for char in term)
    yield "".join(f"\\u{ord(char):04x}" for char in term)
    yield "".join("".join(f"%{byte:02X}" for byte in char.encode()) for char in term)
    yield term[0] + "".join(f"&#{ord(char)};" for char in term[1:])


def homoglyph_variants(term: str) -> Iterator[str]:
    yield "".join(CYRILLIC.get(char, char) for char in term)
    yield "".join(GREEK.get(char, char) for char in term)
    yield "".join(chr(0x1F1E6 + ord(char) - ord("a")) if char.isalpha() else char for char in term)
    small = {"a": "ᴀ", "c": "ᴄ", "e": "ᴇ", "h": "ʜ", "t": "ᴛ", "w": "ᴡ", "g": "ɢ", "l": "ʟ", "r": "ʀ", "m": "ᴍ"}
    yield "".join(small.get(char, char) for char in term)
    yield term.upper().translate({code: code + 0xFEE0 for code in range(0x41, 0x5B)})


def blank_letter_variants(term: str) -> Iterator[str]:
    for blank in HANGUL_BLANKS:
        yield blank.join(term)


def glued_variants(term: str) -> Iterator[str]:
    yield term + "123"
    yield term.capitalize() + "ID"
    yield term + "s"


FAMILIES = {
    "pinyin": (is_han_term, pinyin_variants),
    "homophones": (lambda term: is_han_term(term) and len(term) >= 3, None),
    "variant forms": (is_han_term, variant_forms),
    "look-alikes": (is_han_term, lookalike_variants),
    "split characters": (is_han_term, split_variants),
    "initials": (lambda term: is_han_term(term) and len(term) >= 3, initials_variants),
    "fillers": (lambda term: is_han_term(term) and len(term) >= 3, filler_variants),
    "reversed": (lambda term: is_han_term(term) and len(term) >= 3, reversed_variants),
    "escapes": (lambda term: True, escape_variants),
    "Latin homoglyphs": (lambda term: term.isascii() and term.isalpha() and len(term) >= 4, homoglyph_variants),
    "blank letters": (lambda term: True, blank_letter_variants),
    "glued Latin": (lambda term: term.isascii() and term.isalpha() and len(term) >= 6, glued_variants),
}


def evasions(seed: int = 2026) -> list[Evasion]:
    rng = random.Random(seed)
    found: list[Evasion] = []
    for term in blocking_terms():
        for family, (applies, make) in FAMILIES.items():
            if not applies(term):
                continue
            variants = homophone_variants(term, rng) if family == "homophones" else make(term)
            for variant in dict.fromkeys(variants):
                if variant == term:
                    continue
                sentence = rng.choice(SENTENCES)
                found.append(Evasion(family, term, variant, sentence.format(variant)))
    return found
