"""Links in comment text, including the obfuscated ones ("abc [dot] com", full-width dots). Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

from moderation.screening.normalize import NormalizedText

# Top-level domains seen in comment spam and in ordinary links; a bare "word.word" with another
# ending is not taken for a link (Chinese text is full of "5.5萬" and "v1.2").
TLDS = (
    "com|net|org|info|biz|xyz|top|vip|cc|tv|me|io|co|cn|tw|hk|mo|sg|my|jp|kr|us|uk|de|ru|fr|"
    "site|online|shop|store|app|link|club|win|bet|live|fun|icu|buzz|cyou|pro|ink|ltd|gov|edu|asia|"
    "work|today|world|space|website|tech|cloud|one|best|life|news|wang|xin|ren|red|mobi|name"
)
# What spammers put in place of a dot; the text is already folded (NFKC, lower case, 點 → 点).
DOT = r"(?:\s*(?:\.|。|点|[\[\(\{<]\s*(?:dot|点|\.)\s*[\]\)\}>])\s*|\s+dot\s+)"
LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
LINK = re.compile(
    rf"(?:(?:https?|hxxps?)\s*:\s*/\s*/\s*)?(?P<host>(?:{LABEL}{DOT})+(?:{TLDS}))(?![a-z0-9])"
    rf"(?P<path>/[^\s]*)?",
)
DOT_PATTERN = re.compile(DOT)


@dataclass(frozen=True)
class Link:
    domain: str  # normalised: "abc.com"
    start: int  # in the original text
    end: int


def find_links(text: NormalizedText) -> list[Link]:
    links = []
    for match in LINK.finditer(text.folded):
        if match.start() > 0 and _continues_word(text.folded[match.start() - 1]):
            continue
        domain = DOT_PATTERN.sub(".", match["host"]).strip(".")
        start = text.folded_to_original[match.start()]
        end = text.folded_to_original[match.end() - 1] + 1
        links.append(Link(domain=domain, start=start, end=end))
    return links


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
