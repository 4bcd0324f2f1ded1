"""Evasions of every blocking term on the starter list, generated family by family.

Nothing here is a fixed list of disguised strings: each family is a way of rewriting a term
(pinyin in every tone notation, figures for letters, tone figures inside syllables, one syllable as
its initial or final, homophones, variant and look-alike characters, split characters, initials and
code words, fillers, masks, reversal, separators, escapes, homoglyphs, blank letters, glued Latin),
applied to every term the starter list blocks, holds or spams, built from the screening's own
tables (its look-alikes, masks, readings). Each variant is then embedded in a sentence; a code of
two Latin letters (vx, tg) in a sentence that gives a contact, the only place it names one.
`tests/evasion_generator_independent.py` is the check on this one: written from the families'
descriptions without these tables.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import opencc
from pypinyin import Style, lazy_pinyin
from pypinyin.pinyin_dict import pinyin_dict

from moderation.screening.matching import MASKS
from moderation.screening.normalize import compact_form
from moderation.screening.readings import DIGIT_LETTERS, char_reading, syllable_parts
from moderation.screening.variants import _shapes, lookalikes, split_forms
from moderation.services.rulebook.starter import starter_rules

SENTENCES = (
    "這篇寫得不錯，{}，有興趣的朋友可以看看",
    "{}",
    "大家好{}謝謝",
    "最近很多人在問，{}！",
    "想了解更多請 {} 喔",
)
CONTACT_SENTENCES = ("{}：abc12345", "加{} abc_888", "{}號 spam2026")
# Out of place: the grammatical 的 between a modifier and its noun is not a filler (免費的機場接送).
FILLERS = ("1", "2", "x", "各類", "一", "一下", "好友", "個", "。")
SEPARATORS = ("🔥", "👍🏻", "1️⃣", "#️⃣", "<br>", "<br />", "❤️", "🈲")
LETTER_FIGURES = {letter: figure for figure, letters in DIGIT_LETTERS.items() for letter in letters
                  if letter in "ioea"}
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
    """Initials of the whole term (jwx, jvx), and a word of it as its initials (加vx, 代開fp)."""
    syllables = _pinyin(term, Style.NORMAL)
    initials = "".join(syllable[0] for syllable in syllables)
    yield initials
    yield initials.upper()
    yield initials.replace("w", "v")
    for cut in range(1, len(term) - 1):
        yield term[:cut] + initials[cut:].replace("w", "v")
    if term.startswith("加"):
        yield "+" + term[1:]
        yield "➕" + initials[1:].replace("w", "v").upper()
        if len(term) == 3:
            yield "➕" + term[1]


def figure_variants(term: str) -> Iterator[str]:
    """Pinyin with one letter written as the figure drawn like it (j1aweixin)."""
    syllables = _pinyin(term, Style.NORMAL)
    for index, syllable in enumerate(syllables):
        for position, letter in enumerate(syllable):
            if letter in LETTER_FIGURES:
                written = syllable[:position] + LETTER_FIGURES[letter] + syllable[position + 1:]
                yield "".join(syllables[:index] + [written] + syllables[index + 1:])
                break


def tone_inside_variants(term: str) -> Iterator[str]:
    """The tone figure after the syllable's first vowel (jia1we1ixi4n), spaced or not."""
    moved = []
    for syllable in _pinyin(term, Style.TONE3):
        tone, letters = (syllable[-1], syllable[:-1]) if syllable[-1].isdigit() else ("5", syllable)
        vowel = next((i for i, letter in enumerate(letters) if letter in "aeiouv"), len(letters) - 1)
        moved.append(letters[:vowel + 1] + tone + letters[vowel + 1:])
    yield "".join(moved)
    yield " ".join(moved)


def part_variants(term: str) -> Iterator[str]:
    """One character written as its syllable's initial or final alone (j微信, ㄐ微信, 加ei信)."""
    for index, char in enumerate(term):
        for part in sorted(syllable_parts(char_reading(compact_form(char)))):
            yield term[:index] + part + term[index + 1:]


def mask_variants(term: str) -> Iterator[str]:
    for mask in MASKS:
        for index in range(1, len(term) - 1):
            yield term[:index] + mask + term[index + 1:]


def separator_variants(term: str) -> Iterator[str]:
    for separator in SEPARATORS:
        yield separator.join(term)


def derived_lookalike_variants(term: str) -> Iterator[str]:
    """One character swapped for a look-alike from the derived 形近字 table (Simplified)."""
    simplified = compact_form(term)
    for index, char in enumerate(simplified):
        for form in "".join(_shapes().get(char, ()))[:3]:
            yield simplified[:index] + form + simplified[index + 1:]


def filler_variants(term: str) -> Iterator[str]:
    for filler in FILLERS:
        for index in range(1, len(term)):
            yield term[:index] + filler + term[index:]
        if len(term) >= 3 and len(filler) == 1:
            yield filler.join(term[:2]) + filler + term[2:]


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


def _han_of(length: int):
    return lambda term: is_han_term(term) and len(term) >= length


FAMILIES = {
    "pinyin": (is_han_term, pinyin_variants),
    "figures for letters": (is_han_term, figure_variants),
    "tone figures inside": (is_han_term, tone_inside_variants),
    "initial or final": (_han_of(3), part_variants),
    "masks": (_han_of(3), mask_variants),
    "separators": (lambda term: len(term) >= 2, separator_variants),
    "derived look-alikes": (_han_of(3), derived_lookalike_variants),
    "homophones": (lambda term: is_han_term(term) and len(term) >= 3, None),
    "variant forms": (is_han_term, variant_forms),
    "look-alikes": (is_han_term, lookalike_variants),
    "split characters": (is_han_term, split_variants),
    "initials": (lambda term: is_han_term(term) and len(term) >= 3, initials_variants),
    "fillers": (lambda term: is_han_term(term) and len(term) >= 3, filler_variants),
    "reversed": (_han_of(2), reversed_variants),
    "escapes": (lambda term: True, escape_variants),
    "Latin homoglyphs": (lambda term: term.isascii() and term.isalpha() and len(term) >= 4, homoglyph_variants),
    "blank letters": (lambda term: True, blank_letter_variants),
    "glued Latin": (lambda term: term.isascii() and term.isalpha() and len(term) >= 6, glued_variants),
}


# Domains a site blocks (the starter list blocks none: these stand for the ones an operator adds),
# and the families of a domain written to dodge the rule: what `screening/links.py` reads.
BLOCKED_DOMAINS = ("spam-shop.com", "lucky888.net", "weixin-vip.cc", "casino-asia.vip", "fapiao.top")
DOT_FORMS = ("。", "點", "．", "｡", " . ", "[.]", "(.)", "{.}", "<.>", "[dot]", "(dot)", "{dot}", " dot ", "[點]", "(点)")


def _full_width(text: str) -> str:
    return text.translate({code: code + 0xFEE0 for code in range(0x21, 0x7F)})


def _swapped_letters(domain: str, table: dict[str, str]) -> Iterator[str]:
    """Each letter of the name (not the top-level label) that has a look-alike, swapped alone, then all."""
    name, dot, top = domain.rpartition(".")
    for index, char in enumerate(name):
        if char in table:
            yield name[:index] + table[char] + name[index + 1:] + dot + top
    yield "".join(table.get(char, char) for char in name) + dot + top


def domain_dots(domain: str) -> Iterator[str]:
    for form in DOT_FORMS:
        yield domain.replace(".", form)


def domain_widths(domain: str) -> Iterator[str]:
    yield _full_width(domain)
    yield _full_width(domain.upper())
    yield domain.upper()


def domain_prefixes(domain: str) -> Iterator[str]:
    for prefix in ("www.", "http://", "https://www.", "hxxp://", "HTTPS://", "m.", "vip."):
        yield prefix + domain
    yield domain + "/item?id=8"
    yield "https://" + domain + "/#/login"


def domain_lookalikes(domain: str) -> Iterator[str]:
    yield from _swapped_letters(domain, CYRILLIC)
    yield from _swapped_letters(domain, GREEK)


def domain_punycode(domain: str) -> Iterator[str]:
    for variant in domain_lookalikes(domain):
        name, dot, top = variant.rpartition(".")
        yield ".".join(label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii")
                       for label in name.split(".")) + dot + top


def domain_figures(domain: str) -> Iterator[str]:
    yield from _swapped_letters(domain, LETTER_FIGURES)


DOMAIN_FAMILIES = {
    "domain: dots written out": domain_dots,
    "domain: widths and case": domain_widths,
    "domain: scheme, www, path": domain_prefixes,
    "domain: look-alike letters": domain_lookalikes,
    "domain: punycode": domain_punycode,
    "domain: figures for letters": domain_figures,
}


def domain_evasions(seed: int = 2026) -> list[Evasion]:
    """Every domain family over BLOCKED_DOMAINS, each variant in a sentence (`Evasion.term`: the domain)."""
    rng = random.Random(seed)
    return [Evasion(family, domain, variant, rng.choice(SENTENCES).format(variant))
            for domain in BLOCKED_DOMAINS for family, make in DOMAIN_FAMILIES.items()
            for variant in dict.fromkeys(make(domain)) if variant != domain]


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
                two_letters = term.isascii() and len(term) == 2
                sentence = rng.choice(CONTACT_SENTENCES if two_letters else SENTENCES)
                found.append(Evasion(family, term, variant, sentence.format(variant)))
    return found
