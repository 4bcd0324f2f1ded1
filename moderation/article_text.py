"""Seed article text → structured article: column, title, paragraphs of text and ruby glosses.

The seed carries inline pinyin after Han characters, `網(wǎng)`, which the page renders as
`<ruby>網<rt>wǎng</rt></ruby>`. Ordinary parentheses, `(資料參考來源:…)`, stay as written:
a gloss is a single pinyin syllable (lower-case Latin letters with tone marks) directly after
a Han character. The last lines of the seed are the comment form's words (昵稱, 驗證碼, 匿名,
the error message and the disclaimer); they are split off, not shown as article text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

import opencc
from markupsafe import escape

from moderation.screening.characters import HAN_CLASS

HAN = f"[{HAN_CLASS}]"
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ"
_INITIAL = r"(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
_FINAL = rf"[aeiouv{_TONED}][a-z{_TONED}]{{0,4}}"
_SYLLABLE = rf"{_INITIAL}{_FINAL}"
GLOSS = re.compile(rf"(?P<base>{HAN})[(（](?P<reading>{_SYLLABLE})[)）]")

# Known damage in the seed, repaired on import (the file itself is left as delivered).
SEED_REPAIRS: tuple[tuple[str, str], ...] = (
    ("智能及新\n能源汽車", "智能及新能源汽車"),  # a phrase broken across two lines
    ("向?qū)I(yè)化", "向專(zhuān)業(yè)化"),  # mojibake of 專業 (GBK bytes read as Big5)
    # Simplified characters left in the Traditional text (14 of them; the glosses stay as written):
    ("制造", "製造"),  # ×3, 制造業
    ("示范", "示範"),  # ×2
    ("范圍", "範圍"),  # ×4
    ("征集", "徵集"),  # ×2
    ("征求", "徵求"),
    ("勇于", "勇於"),
    ("萬(wàn)余", "萬(wàn)餘"),
)

FORM_WORDS = frozenset({"昵稱", "驗證碼", "匿名", "請輸入正確驗證碼", "所有評論僅代表網友意見,與本站立場無關"})


@dataclass(frozen=True)
class Gloss:
    base: str
    reading: str


Segment = str | Gloss
Paragraph = tuple[Segment, ...]


@dataclass(frozen=True)
class ParsedArticle:
    column: str
    title: Paragraph
    paragraphs: tuple[Paragraph, ...]
    form_lines: tuple[str, ...]  # the seed's trailing UI words, glosses removed

    @property
    def plain_title(self) -> str:
        return plain_text(self.title)


@dataclass(frozen=True)
class ArticleSource:
    """What gets stored: plain column and title, body with glosses kept inline."""

    column: str
    title: str
    body: str


def repair_seed(text: str) -> str:
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n"))
    for broken, fixed in SEED_REPAIRS:
        text = text.replace(broken, fixed)
    return text


def segments(text: str) -> Paragraph:
    """Split a line into plain text and glosses; adjacent plain text stays one segment."""
    parts: list[Segment] = []
    position = 0
    for match in GLOSS.finditer(text):
        if match.start() > position:
            parts.append(text[position:match.start()])
        parts.append(Gloss(match["base"], match["reading"]))
        position = match.end()
    if position < len(text):
        parts.append(text[position:])
    return tuple(parts)


def plain_text(paragraph: Paragraph) -> str:
    return "".join(part.base if isinstance(part, Gloss) else part for part in paragraph)


def strip_glosses(text: str) -> str:
    return GLOSS.sub(lambda match: match["base"], text)


def parse_seed(text: str) -> ArticleSource:
    """Turn the delivered seed file into what is stored: column, headline, body."""
    lines = [line.strip() for line in repair_seed(text).split("\n")]
    lines = [line for line in lines if line]
    # The column mark 【儀器網 時事聚焦】 opens the text but is split over two lines.
    joined = "\n".join(lines)
    column = ""
    match = re.match(r"【\s*(?P<column>[^】]*)】", joined)
    if match:
        column = strip_glosses(match["column"]).strip()
        joined = joined[match.end():]
    body_lines = [line for line in joined.split("\n") if line]
    while body_lines and _is_form_line(body_lines[-1]):
        body_lines.pop()
    # The seed has no headline: its first clause is one ("檢驗檢測是國家質量基礎設施的重要組成部分").
    title = strip_glosses(re.split(r"[,，。]", body_lines[0], maxsplit=1)[0]) if body_lines else ""
    return ArticleSource(column=column, title=title, body="\n\n".join(body_lines))


def _is_form_line(line: str) -> bool:
    return all(word in FORM_WORDS for word in strip_glosses(line).split())


def form_lines_of_seed(text: str) -> tuple[str, ...]:
    lines = [strip_glosses(line.strip()) for line in repair_seed(text).split("\n") if line.strip()]
    trailing: list[str] = []
    while lines and _is_form_line(lines[-1]):
        trailing.insert(0, lines.pop())
    return tuple(trailing)


@lru_cache(maxsize=64)
def parse_body(body: str) -> tuple[Paragraph, ...]:
    """Stored body → paragraphs of segments; cached because every page view needs it."""
    return tuple(segments(paragraph) for paragraph in body.split("\n\n") if paragraph.strip())


# Screen readers must read the glosses as pinyin, not as Chinese (BCP 47: Chinese in Latin letters).
GLOSS_LANGUAGE = "zh-Latn-pinyin"


def render_body_html(body: str) -> str:
    """Stored body → the article's HTML: one <p> per paragraph, glosses as <ruby>, text escaped."""
    return "\n".join(
        "<p>" + "".join(
            f'<ruby>{escape(part.base)}<rt lang="{GLOSS_LANGUAGE}">{escape(part.reading)}</rt></ruby>' if isinstance(part, Gloss)
            else str(escape(part))
            for part in paragraph
        ) + "</p>"
        for paragraph in parse_body(body)
    )


@cache
def _converter(config: str) -> opencc.OpenCC:
    """Loaded when a text is first converted: its dictionaries take 90 ms to load, and most processes
    (commands, a worker serving zh-Hant readers) never convert."""
    return opencc.OpenCC(config)


@dataclass(frozen=True)
class ArticleWords:
    """What a reader reads of an article, in one script."""

    title: str
    column_name: str
    body_html: str


# OpenCC's t2s keeps 著 (it is also Simplified: 著名, 显著, 著作), so the aspect particle stays
# 著 where mainland text writes 着: 发挥著 → 发挥着. After the verbs that take the particle (the last
# character of the verb, so that a gloss inside it, 发(fā)挥著, does not hide it), and
# not where 著 opens a word of its own (著作, 著名, 著称).
_PARTICLE_ZHE = re.compile(
    "(挥|伴随|随|意味|拥有|有|带|存在|面临|承担|扮演|肩负|代表|标志|推动|引领|朝|沿|靠|看|对|保持|持续"
    "|发生|充满|蕴含|承载|联系|关系|进行|影响|支撑|决定|做|写|想|等|望|跟|向)著(?![作名称])"
)


def _mainland_particles(text: str) -> str:
    return _PARTICLE_ZHE.sub(r"\1着", text)


@lru_cache(maxsize=256)
def simplified_text(text: str) -> str:
    """Simplified characters for a reader, by OpenCC `t2s`: the script changes, the vocabulary does
    not (that would be `tw2sp`), and its phrase table picks the character where one Traditional
    character has several Simplified ones. Screening folds one character at a time instead
    (`screening.chinese`), because its spans must map back."""
    return _mainland_particles(_converter("t2s").convert(text))


@lru_cache(maxsize=4096)
def traditional_text(text: str) -> str:
    """Traditional characters for a zh-Hant reader who asked for comments in their script (`s2t`)."""
    return _converter("s2t").convert(text)


@lru_cache(maxsize=32)
def simplified_article(title: str, column_name: str, body: str) -> ArticleWords:
    """The article for zh-Hans readers, converted once per text; the glosses are Latin and pass
    through unchanged."""
    return ArticleWords(
        title=simplified_text(title),
        column_name=simplified_text(column_name),
        body_html=render_body_html(simplified_text(body)),
    )


def bundled_seed() -> str:
    """The seed article shipped inside the package (a deployed app has no ../shared)."""
    return resources.files("moderation").joinpath("data/article.txt").read_text(encoding="utf-8")
