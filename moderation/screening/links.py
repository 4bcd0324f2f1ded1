"""Links in comment text, including the obfuscated ones ("abc [dot] com", full-width dots). Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

from moderation.screening.normalize import NormalizedText, fold

# Top-level domains seen in comment spam and in ordinary links; a bare "word.word" with another
# ending is not taken for a link (Chinese text is full of "5.5萬" and "v1.2").
TLDS = (
    "com|net|org|info|biz|xyz|top|vip|cc|tv|me|io|co|cn|tw|hk|mo|sg|my|jp|kr|us|uk|de|ru|fr|"
    "site|online|shop|store|app|link|club|win|bet|live|fun|icu|buzz|cyou|pro|ink|ltd|gov|edu|asia|"
    "work|today|world|space|website|tech|cloud|one|best|life|news|wang|xin|ren|red|mobi|name|"
    "ly|gl|gd|im"  # the link shorteners' (bit.ly, goo.gl, is.gd, suo.im)
)
# What spammers put in place of a dot; the text is already folded (NFKC, lower case, 點 → 点).
DOT = r"(?:\s*(?:\.|。|点|[\[\(\{<]\s*(?:dot|点|\.)\s*[\]\)\}>])\s*|\s+dot\s+)"
LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# A maximal run of labels joined by dots, matched once: the host inside it is chosen in Python.
# (One pattern ending in a top-level domain made the regex engine try every position of a run
# like "a.a.a.a…" again, quadratic in its length.)
# Meaning `(?:(?:https?|hxxps?)\s*:\s*/\s*/\s*)?(?P<run>{LABEL}(?:{DOT}{LABEL})+)`, written to begin
# with one character class so that the engine skips to the letters and figures of a Chinese text
# instead of trying a match at every character: a scheme's h or a label's first character, then
# either the scheme and the run (group "run"), or the rest of the run begun by that character.
RUN = re.compile(rf"[a-z0-9](?:(?<=h)(?:ttps?|xxps?)\s*:\s*/\s*/\s*(?P<run>{LABEL}(?:{DOT}{LABEL})+)"
                 rf"|(?:[a-z0-9-]{{0,61}}[a-z0-9])?(?:{DOT}{LABEL})+)")
PATH = re.compile(r"/[^\s]*")
DOT_PATTERN = re.compile(DOT)
TOP_LEVEL = frozenset(TLDS.split("|"))


@dataclass(frozen=True)
class Link:
    domain: str  # normalised: "abc.com"
    start: int  # in the original text
    end: int


def find_links(text: NormalizedText) -> list[Link]:
    """Links in time linear in the text: each run of dotted labels is read once."""
    folded = text.folded
    links = []
    for match in RUN.finditer(folded):
        if match.start() > 0 and _continues_word(folded[match.start() - 1]):
            continue
        run_start = match.start() if match["run"] is None else match.start("run")
        run = folded[run_start:match.end()]
        host_end = _host_end(run)
        if host_end is None:
            continue
        end = run_start + host_end
        if end == match.end():
            path = PATH.match(folded, end)
            end = path.end() if path else end
        domain = DOT_PATTERN.sub(".", run[:host_end]).strip(".")
        links.append(Link(
            domain=domain, start=text.folded_to_original[match.start()], end=text.folded_to_original[end - 1] + 1,
        ))
    return links


def _host_end(run: str) -> int | None:
    """Where the host ends in a run of labels: after its last label that is a top-level domain,
    not the first label (a host has at least one label before its ending)."""
    separators = [(separator.start(), separator.end()) for separator in DOT_PATTERN.finditer(run)]
    label_ends = [start for start, _ in separators] + [len(run)]
    label_starts = [0] + [end for _, end in separators]
    for index in range(len(label_ends) - 1, 0, -1):
        if run[label_starts[index]:label_ends[index]] in TOP_LEVEL:
            return label_ends[index]
    return None


# Link shorteners hide where a link goes: a comment with one is held for a moderator to look (an
# admin's allow rule for one, `bit.ly`, takes it off this list for the site).
LINK_SHORTENERS = frozenset({
    "bit.ly", "tinyurl.com", "goo.gl", "t.co", "is.gd", "ow.ly", "buff.ly", "cutt.ly", "rebrand.ly",
    "reurl.cc", "ppt.cc", "lihi.cc", "lihi1.cc", "pse.is", "myppt.cc", "t.cn", "url.cn", "dwz.cn", "suo.im",
})


def domain_listed(domain: str, listed: frozenset[str]) -> str | None:
    """The listed entry that covers this domain (itself or a parent), if any."""
    parts = domain.split(".")
    for index in range(len(parts) - 1):
        candidate = ".".join(parts[index:])
        if candidate in listed:
            return candidate
    return None


def _continues_word(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char in "@-")


# Figures read as the letters they are drawn like (sh0p → shop; 1 → l, or i): a guess, so a blocked
# domain found this way is held, not spammed.
_FIGURE_LETTERS = (str.maketrans("013457", "oleast"), str.maketrans("013457", "oieast"))


def readable_domain(domain: str) -> str:
    """The domain as a reader sees it: punycode labels (xn--…) decoded and folded like text, so a
    look-alike letter written in punycode (xn--spam-shp-tbh.com, Cyrillic о) reads spam-shop.com."""
    labels = []
    for label in domain.split("."):
        if label.startswith("xn--"):
            try:
                label = label[4:].encode("ascii").decode("punycode")
            except (UnicodeError, ValueError):
                pass
        labels.append(fold(label))
    return ".".join(labels)


def spelled_alike(domains: frozenset[str]) -> tuple[dict[str, str], ...]:
    """For each way of reading figures as letters, the domains so read → the domain as listed: a
    listed domain with figures of its own (bet365asia.com) is compared read the same way."""
    return tuple({domain.translate(table): domain for domain in domains} for table in _FIGURE_LETTERS)


def listed_by_figures(domain: str, spelled: tuple[dict[str, str], ...]) -> str | None:
    """The listed domain (from `spelled_alike`) this one spells with figures for letters: sh0p.com
    for shop.com, bet365as1a.com for bet365asia.com."""
    if not any(char.isdigit() for char in domain):
        return None
    for table, listed in zip(_FIGURE_LETTERS, spelled, strict=True):
        found = domain_listed(domain.translate(table), listed.keys())
        if found:
            return listed[found]
    return None
