"""HTML entities and escapes (`&#21152;`, `&#x52a0;`, `&amp;`, `\\u52a0`, `%E5%8A%A0`) found in a text,
so that screening reads what a browser or a copy-paste would show. Pure.

HTML tags without attributes (`<br>`, `<br/>`, `</p>`; one with attributes may hold a link) and keycap emoji (`1️⃣`, `#️⃣`: a figure, VS16 and the
enclosing keycap) read as a space: a separator between characters, not letters or figures inside a
term (加<br>微<br>信, 加1️⃣微信)."""

from __future__ import annotations

import html.entities
import re
from urllib.parse import unquote_to_bytes

ESCAPE = re.compile(
    r"&#(?P<dec>\d{1,7});?"
    r"|&#[xX](?P<hex>[0-9a-fA-F]{1,6});?"
    r"|&(?P<name>[A-Za-z][A-Za-z0-9]{1,31};)"
    r"|\\[uU](?P<u>[0-9a-fA-F]{4})"
    r"|(?P<pct>(?:%[0-9a-fA-F]{2})+)"
    r"|(?P<tag></?\s*(?:br|wbr|p|div|span|b|i|u|s|em|strong|font|a|hr|li|ul|ol|sup|sub|small|big|mark|del|ins"
    r"|code)\s*/?\s*>)"
    r"|(?P<keycap>[0-9#*]\ufe0f?\u20e3)",
    re.IGNORECASE,
)
_MAX_CODE_POINT = 0x10FFFF


def might_hold_escapes(text: str) -> bool:
    return "&" in text or "\\" in text or "%" in text or "<" in text or "\u20e3" in text


def escapes(text: str) -> list[tuple[int, int, str]]:
    """(start, end, decoded) of every escape in the text that decodes to something."""
    found = []
    for match in ESCAPE.finditer(text):
        decoded = _decode(match)
        if decoded:
            found.append((match.start(), match.end(), decoded))
    return found


def _decode(match: re.Match) -> str:
    if match["dec"] or match["hex"]:
        code = int(match["dec"], 10) if match["dec"] else int(match["hex"], 16)
        return chr(code) if 0 < code <= _MAX_CODE_POINT and not 0xD800 <= code <= 0xDFFF else ""
    if match["tag"] or match["keycap"]:
        return " "
    if match["name"]:
        return html.entities.html5.get(match["name"], "")
    if match["u"]:
        code = int(match["u"], 16)
        return "" if 0xD800 <= code <= 0xDFFF else chr(code)
    return unquote_to_bytes(match["pct"]).decode("utf-8", "ignore")
