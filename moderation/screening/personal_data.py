"""Personal data in a comment (the doxxing shield): identity numbers with their check digits, mobile
numbers, landline numbers with their area code, e-mail addresses, street addresses with a number. Pure.

It reads the folded text screening already builds (full-width figures are figures, letters lower
case, Traditional as Simplified). Figures are read across the spaces and punctuation people put
between them to dodge ("0912-345 678", "A 1 2 3…"), but not across a line or a sentence's end.
Identity numbers count only when their check digit is right, so ordinary numbers do not trigger;
mobile numbers of Hong Kong and Macau (eight figures, which prices and counts also have) only with
their country code or a word like 電話 just before them. Every span points into the original text.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from moderation.screening.normalize import NormalizedText


class PersonalKind(enum.StrEnum):
    TW_ID = "tw_id"  # Taiwan national ID, and resident (ARC) numbers old and new
    HK_ID = "hk_id"
    CN_ID = "cn_id"  # mainland 18-digit resident ID
    PHONE = "phone"  # a mobile number of Taiwan, Hong Kong, Macau or the mainland
    LANDLINE = "landline"  # a fixed-line number of Taiwan or the mainland, with its area code
    EMAIL = "email"
    ADDRESS = "address"


@dataclass(frozen=True)
class PersonalMatch:
    kind: PersonalKind
    start: int  # in the original text
    end: int


_HAS_FIGURE = re.compile(r"\d")

_TW_ID = re.compile(r"([a-z])([1289a-d])(\d{8})(?!\d)")
_HK_ID = re.compile(r"([a-z]{1,2})(\d{6})([0-9a])(?![\da-z])")
_CN_ID = re.compile(r"(?<!\d)([1-8]\d{5})((?:19|20)\d{6})(\d{3})([\dx])(?![\da-z])")
_PHONE = re.compile(
    r"(?<!\d)(?:(?:0086|86)?1[3-9]\d{9}|(?:00886|886)9\d{8}|09\d{8}|(?:00852|852)[569]\d{7}|(?:00853|853)6\d{7})(?!\d)"
)
# Landlines are read as written, on the folded text, not from a run of figures as mobiles are: a
# landline is an area code and seven or eight figures, which lists of decimals (0.35、0.42…), lottery
# draws, room numbers and dates also make once their separators are left out. So: the area code
# (0 and one to three figures, or bracketed, or after +886/+86 without its 0), at most one space or
# dash or slash, then the number in one group or two. Taiwan: 02 and eight figures, 03–08 (and 037, 049,
# 082, 089, 0826, 0836) and six to eight; the mainland: 010 or 02X and eight, 0XXX and seven or eight.
# Not 0800 or 0809: toll-free lines are the published numbers of businesses and offices.
_DASH = "[ \\-\u2013\u2014/]"  # a space, a dash (hyphen, en, em: ０１０—６５０９２８２４) or a slash (02/2345/6789)
_SUBSCRIBER = rf"\d{{3,4}}{_DASH}\d{{3,4}}|\d{{6,8}}"
_LANDLINE = re.compile(
    r"(?<![0-9a-z+/])(?<![0-9]\.)"  # not after a slash: a path or a date (…/2025/03/1234567)
    rf"(?:(?:\+|00)(?P<country>886|86){_DASH}?(?:\((?:0)?(?P<area_cc>\d{{1,3}})\)|0?(?P<area_bare>\d{{1,3}}))"
    r"|\(0(?P<area_bracketed>\d{1,3})\)|0(?P<area>\d{1,3}))"
    rf"(?P<between>{_DASH}?)(?P<number>{_SUBSCRIBER})"
    r"(?![0-9a-z])(?!\.[0-9])"
)
_TOLL_FREE = ("800", "809")  # 0800, 0809 (and +886 800…): businesses' published lines
_TAIWAN_AREAS = re.compile(r"2|[3-8]|37|49|82|89|826|836")
_MAINLAND_AREAS = re.compile(r"10|2\d|[3-9]\d\d")


def _landline(match: re.Match) -> bool:
    """Whether an area code and number as written make a landline of Taiwan or the mainland; written
    without a bracket or separator after the area code (0223456789), each way of cutting it is tried."""
    country, number = match["country"], re.sub(r"\D", "", match["number"])
    area = match["area_cc"] or match["area_bracketed"] or match["area_bare"] or match["area"]
    figures = area + number
    if figures.startswith(_TOLL_FREE):
        return False
    if match["area_cc"] or match["area_bracketed"] or match["between"]:  # the area code as written
        return _area_and_number(country, area, len(number))
    return any(_area_and_number(country, figures[:cut], len(figures) - cut) for cut in (1, 2, 3))


def _area_and_number(country: str | None, area: str, figures: int) -> bool:
    taiwan = country in (None, "886") and _TAIWAN_AREAS.fullmatch(area) is not None and (
        figures == 8 if area == "2" else 6 <= figures <= 8 and len(area) + figures in (8, 9))
    mainland = country in (None, "86") and _MAINLAND_AREAS.fullmatch(area) is not None and (
        figures == 8 if len(area) == 2 else figures in (7, 8))
    return taiwan or mainland


_LOCAL_EIGHT = re.compile(r"(?<!\d)[569]\d{7}(?!\d)")
_PHONE_WORDS = re.compile(r"(电话|手机|联络|联系|致电|打给|call|tel|phone|whatsapp|wa|短信|sms)[\W_]{0,3}$")
_EMAIL = re.compile(r"(?<![\w.+-])[a-z0-9][a-z0-9._%+-]{0,63}@[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63})*\.[a-z]{2,24}(?![a-z0-9])")
_NUMERAL = r"[\d一二三四五六七八九十百零〇]+"
# `[\u4e00-\u9fff]{1,6}?` written as one class and then the rest: the engine skips to the candidates.
_ADDRESS = re.compile(
    r"[\u4e00-\u9fff][\u4e00-\u9fff]{0,5}?(?<![知报频难说味轨通渠赛车跑人航街])(?:路|街|大道|道)"
    rf"(?:{_NUMERAL}段)?(?:{_NUMERAL}巷)?(?:{_NUMERAL}弄)?\d+(?:之\d+)?(?:号|巷|弄)"
)

_TW_LETTER = dict(zip("abcdefghjklmnpqrstuvxywzio", range(10, 36), strict=True))
_CN_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CN_CHECK = "10x98765432"


def tw_id_valid(value: str) -> bool:
    """A Taiwan national ID (A123456789), old resident number (AB12345678) or new one (A812345678)."""
    letter, second, digits = value[0], value[1], value[2:]
    if letter not in _TW_LETTER or not digits.isdigit() or len(digits) != 8:
        return False
    code = _TW_LETTER[letter]
    second_value = _TW_LETTER[second] % 10 if second in "abcd" else int(second)
    if second not in "abcd" and second not in "1289":
        return False
    figures = [code // 10, code % 10, second_value, *map(int, digits)]
    weights = (1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1)
    return sum(figure * weight for figure, weight in zip(figures, weights, strict=True)) % 10 == 0


def hk_id_valid(letters: str, digits: str, check: str) -> bool:
    values = [36] * (2 - len(letters)) + [ord(letter) - ord("a") + 10 for letter in letters]
    values += [int(digit) for digit in digits]
    remainder = sum(value * weight for value, weight in zip(values, range(9, 1, -1), strict=True)) % 11
    expected = (11 - remainder) % 11
    return check == ("a" if expected == 10 else str(expected))


def cn_id_valid(value: str) -> bool:
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    total = sum(int(figure) * weight for figure, weight in zip(value[:17], _CN_WEIGHTS, strict=True))
    return _CN_CHECK[total % 11] == value[17]


# A run of figures with what people put between them, possibly led by the letters of an identity number:
# only such runs are read further (most comments have few figures, and none of these runs).
_SEPARATOR = r"(?:[^\w\n。！？!?；;]|_)"
# Meaning `(?:[a-z]S*){0,2}\d(?:S*\d)*(?:S*[xa])?`, written to begin with one character class (a
# letter or a figure, then the branch for the kind it was), so that the engine skips to the letters
# and figures instead of trying a match at every character.
_FIGURE_RUN = re.compile(rf"[a-z\d](?:(?<=[a-z]){_SEPARATOR}*(?:[a-z]{_SEPARATOR}*)?\d(?:{_SEPARATOR}*\d)*(?:{_SEPARATOR}*[xa])?"
                         rf"|(?<=\d)(?:{_SEPARATOR}*\d)*(?:{_SEPARATOR}*[xa])?)")
_FIGURES_AT_LEAST = 7  # the shortest thing looked for: a Hong Kong ID's six figures and check digit
_ADDRESS_END = re.compile(r"\d(?:之\d+)?[号巷弄]")


def find_personal_data(text: NormalizedText) -> list[PersonalMatch]:
    """Personal data in the text, left to right, with spans in the original."""
    folded = text.folded
    found: list[tuple[PersonalKind, int, int]] = []  # folded spans
    if "@" in folded:
        found += [(PersonalKind.EMAIL, match.start(), match.end()) for match in _EMAIL.finditer(folded)]
    if _HAS_FIGURE.search(folded):
        for run in _FIGURE_RUN.finditer(folded):
            if sum(char.isdigit() for char in run.group()) >= _FIGURES_AT_LEAST:
                found += _in_run(folded, run.start(), run.end())
                # A landline's figures are such a run too; as written, with the "+" or "(" before it.
                found += [(PersonalKind.LANDLINE, match.start(), match.end())
                          for match in _LANDLINE.finditer(folded, max(0, run.start() - 1), run.end()) if _landline(match)]
        if _ADDRESS_END.search(folded):
            found += [(PersonalKind.ADDRESS, match.start(), match.end()) for match in _ADDRESS.finditer(folded)]
    found.sort(key=lambda item: (item[1], -item[2]))
    matches: list[PersonalMatch] = []
    reach = -1
    for kind, start, end in found:
        if start < reach:  # inside one already found (an e-mail's figures, a number in an address)
            continue
        reach = end
        matches.append(PersonalMatch(kind, *_original_span(text, start, end)))
    return matches


# An amount written with thousands separators (13,800,000,000) is a quantity, however many figures it has.
_GROUPED_AMOUNT = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def _in_run(folded: str, run_start: int, run_end: int) -> list[tuple[PersonalKind, int, int]]:
    """The figures of one run without the separators between them, read; spans back in the folded text."""
    if _GROUPED_AMOUNT.fullmatch(folded, run_start, run_end):
        return []
    kept = [index for index in range(run_start, run_end) if folded[index].isalnum()]
    view = "".join(folded[index] for index in kept)
    found = []
    for kind, start, end in _figures(view, folded[max(0, run_start - 12):run_start]):
        first = kept[start]
        if kind in _LETTER_LED and first and folded[first - 1].isascii() and folded[first - 1].isalnum():
            continue  # the letter is inside a word (QQ282369262): not the start of an identity number
        found.append((kind, first, kept[end - 1] + 1))
    return found


def _original_span(text: NormalizedText, start: int, end: int) -> tuple[int, int]:
    first = text.folded_to_original[start]
    if text.folded_to_original_end is not None:
        return first, text.folded_to_original_end[end - 1]
    return first, text.folded_to_original[end - 1] + 1


def _figures(view: str, before: str) -> list[tuple[PersonalKind, int, int]]:
    """`before`: the text just before the run, where a word like 電話 makes eight figures a phone number."""
    found = []
    for match in _CN_ID.finditer(view):
        if cn_id_valid(match.group()):
            found.append((PersonalKind.CN_ID, match.start(), match.end()))
    for match in _TW_ID.finditer(view):
        if tw_id_valid(match.group()):
            found.append((PersonalKind.TW_ID, match.start(), match.end()))
    for match in _HK_ID.finditer(view):
        letters, digits, check = match.groups()
        if hk_id_valid(letters, digits, check):
            found.append((PersonalKind.HK_ID, match.start(), match.end()))
        elif len(letters) == 2 and hk_id_valid(letters[1], digits, check):
            found.append((PersonalKind.HK_ID, match.start() + 1, match.end()))
    found += [(PersonalKind.PHONE, match.start(), match.end()) for match in _PHONE.finditer(view)]
    for match in _LOCAL_EIGHT.finditer(view):
        if _PHONE_WORDS.search(before + view[:match.start()]):
            found.append((PersonalKind.PHONE, match.start(), match.end()))
    return found


_LETTER_LED = {PersonalKind.TW_ID, PersonalKind.HK_ID}
MASK = "*"


def masked(original: str, matches: Sequence[PersonalMatch]) -> str:
    """The text with each piece of personal data masked past its first three characters (A12*******);
    what people type between the figures is masked too."""
    pieces = []
    position = 0
    for match in matches:
        pieces.append(original[position:match.start])
        span = original[match.start:match.end]
        keep = 3 if match.kind is not PersonalKind.EMAIL else 1
        for char in span:
            shown = keep > 0 or char.isspace() or not char.isalnum() and match.kind is not PersonalKind.EMAIL
            keep -= char.isalnum()
            pieces.append(char if shown else MASK)
        position = match.end
    pieces.append(original[position:])
    return "".join(pieces)
