"""A second evasion generator, written from the descriptions of the evasion families alone.

It does not import the screening code (nor its character tables): the look-alike characters,
fillers, masks, emoji and code words here were chosen by hand from public 形近字 lists and from
what spammers are seen to write, with its own random choices and its own sentences. It measures
the screening, where `tests/evasion_generator.py` (built from the same tables) mirrors it.

Families, each applied to the starter list's terms that it fits:
- look-alikes: one character swapped for one drawn like it (形近字);
- code words: initials (jwx), initials with v for w (vx), a word of the term as its initials (加vx),
  the plus sign for 加 (+V, ➕微, ＋vx);
- digits for letters: pinyin with a letter written as a digit (j1aweixin, we1x1n);
- tone digits: the tone figure after the vowel rather than the syllable (jia1we1ixi4n), and the whole
  term in bopomofo;
- initial or final only: one syllable as its pinyin initial, its final or its bopomofo initial;
- fillers: digits or Latin letters inside a term of three characters, Han fillers (一下, 好友, 個);
- masks: one inner character masked (*, 〇, ○, □, ×, ?);
- reversed: a term of two or three characters backwards, plain or behind U+202E;
- separators: emoji, keycaps or HTML line breaks between the characters.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin

from moderation.services.rulebook.starter import starter_rules

SENTENCES = (
    "樓主說得對{}歡迎交流",
    "{}，想賺錢的來",
    "看完這篇報導 {} 了解一下",
    "有需要的話{}",
    "【推廣】{}【限時】",
    "小編辛苦了～{}",
)
CONTACT_SENTENCES = ("我的{}：qq88996677", "+{} 請備註來意", "{} ID: lucky_2026")
# Hand-picked 形近字 (public look-alike lists: 己已巳, 戊戌戍 …), for the characters of the starter
# list; written without looking at the screening's own table.
LOOKALIKES = {
    "加": "迦架駕", "微": "徵徽黴", "信": "佶詰", "薇": "徽微", "賴": "獺瀨", "代": "伐岱",
    "開": "閑閉閒", "發": "潑撥", "票": "漂標", "免": "兔冤", "費": "沸拂", "機": "譏璣",
    "場": "湯揚腸", "翻": "番幡", "牆": "檣薔", "網": "綱惘", "賺": "謙嫌", "兼": "廉謙",
    "職": "識織幟", "日": "曰目", "結": "詰桔", "刷": "唰", "單": "彈禪", "百": "白佰",
    "家": "稼傢", "樂": "礫櫟", "六": "亢", "合": "含佮", "彩": "採綵", "博": "搏傅",
    "裸": "棵稞", "聊": "柳卿", "私": "仫秘", "訊": "迅汛", "我": "找俄", "個": "固",
}
HAN_FILLERS = ("一下", "好友", "個", "下", "一個", "個人")
LATIN_FILLERS = ("8", "0", "q", "z", "66", "b")
MASKS = ("*", "〇", "○", "□", "×", "?", "＊", "？")
EMOJI = ("🔥", "💰", "👉", "❤️", "😘", "✨", "1️⃣", "#️⃣", "<br>", "<br/>", "<BR />")
DIGIT_FOR_LETTER = {"i": "1", "o": "0", "e": "3", "a": "4", "s": "5", "l": "1"}
TONE_MARKS = "ˉˊˇˋ"


@dataclass(frozen=True)
class Evasion:
    family: str
    term: str
    variant: str
    text: str


def _terms() -> list[str]:
    return [value for kind, action, value, _ in starter_rules() if kind == "word" and action != "allow"]


def _han(term: str) -> bool:
    return all("\u4e00" <= char <= "\u9fff" for char in term)


def _syllables(term: str) -> list[str]:
    return lazy_pinyin(term)


def lookalike(term: str, rng: random.Random) -> list[str]:
    out = []
    for index, char in enumerate(term):
        for other in LOOKALIKES.get(char, ""):
            out.append(term[:index] + other + term[index + 1:])
    return rng.sample(out, min(4, len(out)))


def code_words(term: str, rng: random.Random) -> list[str]:
    initials = "".join(syllable[0] for syllable in _syllables(term))
    out = []
    if len(term) >= 3:
        out += [initials, initials.upper()]
    if "w" in initials and len(term) >= 3:
        out.append(initials.replace("w", "v"))
    if len(term) >= 3:  # the first character kept, the word after it as initials
        rest = initials[1:]
        out += [term[0] + rest, term[0] + rest.replace("w", "v").upper()]
    if term.startswith("加") and len(term) == 3:
        rest = initials[1:]
        out += [rng.choice("+➕＋") + rest.replace("w", "v").upper()[:1],
                rng.choice("+➕＋") + term[1], "+" + rest.replace("w", "v")]
    return out


def digits_for_letters(term: str, rng: random.Random) -> list[str]:
    syllables = _syllables(term)
    out = []
    for _ in range(3):
        index = rng.randrange(len(syllables))
        syllable = syllables[index]
        positions = [i for i, letter in enumerate(syllable) if letter in DIGIT_FOR_LETTER]
        if not positions:
            continue
        position = rng.choice(positions)
        changed = syllable[:position] + DIGIT_FOR_LETTER[syllable[position]] + syllable[position + 1:]
        out.append("".join(syllables[:index] + [changed] + syllables[index + 1:]))
    return list(dict.fromkeys(out))


def tone_digits(term: str, rng: random.Random) -> list[str]:
    toned = lazy_pinyin(term, style=Style.TONE3, neutral_tone_with_five=True)
    out = []
    moved = []
    for syllable in toned:  # the tone figure after the first vowel instead of the end
        tone, letters = syllable[-1], syllable[:-1]
        vowel = next((i for i, letter in enumerate(letters) if letter in "aeiouv"), len(letters) - 1)
        moved.append(letters[:vowel + 1] + tone + letters[vowel + 1:])
    out.append("".join(moved))
    out.append(" ".join(moved))
    bopomofo = lazy_pinyin(term, style=Style.BOPOMOFO)
    out.append("".join(bopomofo))
    out.append("".join(syllable.strip(TONE_MARKS) for syllable in bopomofo))
    out.append(" ".join(bopomofo))
    return out


def initial_or_final(term: str, rng: random.Random) -> list[str]:
    initials = lazy_pinyin(term, style=Style.INITIALS, strict=False)
    finals = lazy_pinyin(term, style=Style.FINALS, strict=False)
    bopomofo = lazy_pinyin(term, style=Style.BOPOMOFO)
    out = []
    for index in range(len(term)):
        for written in (initials[index], finals[index], bopomofo[index][:1]):
            if written and written != term[index]:
                out.append(term[:index] + written + term[index + 1:])
    return rng.sample(out, min(5, len(out)))


def fillers(term: str, rng: random.Random) -> list[str]:
    out = []
    if len(term) == 3:
        for filler in rng.sample(LATIN_FILLERS, 3):
            index = rng.randrange(1, len(term))
            out.append(term[:index] + filler + term[index:])
    for filler in rng.sample(HAN_FILLERS, 3):
        index = 1 if len(term) <= 3 else rng.randrange(1, len(term))
        out.append(term[:index] + filler + term[index:])
    return out


def masks(term: str, rng: random.Random) -> list[str]:
    out = []
    for mask in rng.sample(MASKS, 4):
        index = rng.randrange(1, len(term) - 1)
        out.append(term[:index] + mask + term[index + 1:])
    return out


def reversed_terms(term: str, rng: random.Random) -> list[str]:
    return [term[::-1], "\u202e" + term[::-1]]


def separators(term: str, rng: random.Random) -> list[str]:
    out = []
    for _ in range(4):
        out.append("".join(char + (rng.choice(EMOJI) if index < len(term) - 1 else "")
                           for index, char in enumerate(term)))
    return out


FAMILIES = {
    "look-alikes": (lambda term: _han(term), lookalike),
    "code words": (lambda term: _han(term) and len(term) >= 3, code_words),
    "digits for letters": (lambda term: _han(term), digits_for_letters),
    "tone digits, bopomofo": (lambda term: _han(term), tone_digits),
    "initial or final only": (lambda term: _han(term) and len(term) >= 3, initial_or_final),
    "fillers": (lambda term: _han(term) and len(term) >= 3, fillers),
    "masks": (lambda term: _han(term) and len(term) >= 3, masks),
    "reversed": (lambda term: _han(term) and len(term) in (2, 3), reversed_terms),
    "emoji, keycaps, <br>": (lambda term: len(term) >= 2, separators),
}


# Domains: a blocked domain written to dodge the rule. Hand-picked look-alike letters (Cyrillic,
# Greek, Armenian) from public homoglyph lists, not from the screening's confusables.
DOMAINS = ("lucky-casino.com", "fake-invoice.net", "weixin88.cc", "shopvip.top", "bet365asia.com")
HOMOGLYPHS = {"a": "а", "o": "ο", "e": "е", "p": "р", "c": "ϲ", "i": "і", "s": "ѕ", "l": "ӏ", "n": "ո", "k": "κ",
              "v": "ν", "x": "х", "y": "у", "t": "τ", "u": "υ"}
DOT_SPELLINGS = ("。", "點", "(點)", "[dot]", " dot ", "(.)", "．", "[.]")
FIGURES = {"o": "0", "i": "1", "e": "3", "a": "4", "s": "5", "l": "1"}


def _one_letter(domain: str, table: dict[str, str], rng: random.Random, count: int) -> list[str]:
    name, _, top = domain.rpartition(".")
    spots = [index for index, char in enumerate(name) if char in table]
    return [name[:index] + table[name[index]] + name[index + 1:] + "." + top
            for index in rng.sample(spots, min(count, len(spots)))]


def dots_spelled(domain: str, rng: random.Random) -> list[str]:
    return [domain.replace(".", spelling) for spelling in DOT_SPELLINGS]


def wide_or_loud(domain: str, rng: random.Random) -> list[str]:
    wide = "".join(chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char for char in domain)
    return [wide, domain.upper(), domain.capitalize()]


def dressed_up(domain: str, rng: random.Random) -> list[str]:
    return ["www." + domain, "https://" + domain + "/promo", "http://www." + domain, "Www." + domain.upper()]


def homoglyph_letters(domain: str, rng: random.Random) -> list[str]:
    return _one_letter(domain, HOMOGLYPHS, rng, 3)


def punycode_names(domain: str, rng: random.Random) -> list[str]:
    out = []
    for variant in homoglyph_letters(domain, rng):
        name, _, top = variant.rpartition(".")
        out.append("xn--" + name.encode("punycode").decode() + "." + top)
    return out


def figure_letters(domain: str, rng: random.Random) -> list[str]:
    return _one_letter(domain, FIGURES, rng, 2)


DOMAIN_FAMILIES = {
    "domain: dots spelled": dots_spelled,
    "domain: full width, capitals": wide_or_loud,
    "domain: www, scheme, path": dressed_up,
    "domain: homoglyph letters": homoglyph_letters,
    "domain: punycode": punycode_names,
    "domain: figures for letters": figure_letters,
}


def domain_evasions(seed: int = 4471) -> list[Evasion]:
    """Each domain family over DOMAINS, in this generator's own sentences."""
    rng = random.Random(seed)
    found = []
    for domain in DOMAINS:
        for family, make in DOMAIN_FAMILIES.items():
            for variant in dict.fromkeys(make(domain, rng)):
                if variant != domain:
                    found.append(Evasion(family, domain, variant, rng.choice(SENTENCES).format(variant)))
    return found


def evasions(seed: int = 8817) -> list[Evasion]:
    rng = random.Random(seed)
    found = []
    for term in _terms():
        for family, (applies, make) in FAMILIES.items():
            if not applies(term):
                continue
            for variant in dict.fromkeys(make(term, rng)):
                if variant and variant != term:
                    # A code of two Latin letters (vx, tg) names a contact only beside one (加, 號, an ID).
                    sentences = CONTACT_SENTENCES if term.isascii() and len(term) == 2 else SENTENCES
                    found.append(Evasion(family, term, variant, rng.choice(sentences).format(variant)))
    return found
