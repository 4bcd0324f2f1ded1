"""One table of hostile inputs, reused by the form, screening and view tests."""

import pytest

# Nicknames that must be refused, with the reason class the reader is told.
REFUSED_NICKNAMES = [
    pytest.param("管理員", "reserved", id="reserved-han"),
    pytest.param("管理员", "reserved", id="reserved-simplified"),
    pytest.param("小編", "reserved", id="reserved-xiaobian"),
    pytest.param("儀器網", "reserved", id="reserved-site-name"),
    pytest.param("儀器網小編", "reserved", id="reserved-inside-name"),
    pytest.param("ＡＤＭＩＮ", "reserved", id="reserved-fullwidth"),
    pytest.param(" Admin ", "reserved", id="reserved-padded-mixed-case"),
    pytest.param("\u0430dmin", "reserved", id="reserved-cyrillic-a"),
    pytest.param("\u0391DMIN", "reserved", id="reserved-greek-alpha"),
    pytest.param("Moderator", "reserved", id="reserved-moderator"),
    pytest.param("ad min", "reserved", id="reserved-spaced"),
    pytest.param("ad\u200bmin", "invisible", id="zero-width-space"),
    pytest.param("小\u200d林", "invisible", id="zero-width-joiner"),
    pytest.param("\u202e林小", "invisible", id="bidi-override"),
    pytest.param("林\u2066小", "invisible", id="bidi-isolate"),
    pytest.param("林\u00ad小", "invisible", id="soft-hyphen"),
    pytest.param("林\x07小", "invisible", id="control-bell"),
    pytest.param("林" * 21, "too_long", id="21-characters"),
]

ACCEPTED_NICKNAMES = [
    pytest.param("讀者小林", "讀者小林", id="han"),
    pytest.param("  小林  ", "小林", id="trimmed"),
    pytest.param("ＬＩＮ", "LIN", id="fullwidth-folded"),
    pytest.param("林" * 20, "林" * 20, id="20-characters"),
    pytest.param("model", "model", id="latin-containing-mod"),
    pytest.param("Adminton Fan", "Adminton Fan", id="reserved-only-as-prefix"),
]

# Comment texts that are stored as typed and must come back escaped, never interpreted.
HOSTILE_TEXTS = [
    pytest.param("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;", id="script-tag"),
    pytest.param('<img src=x onerror="alert(1)">', "&lt;img src=x onerror=", id="img-onerror"),
    pytest.param("javascript:alert(1)", "javascript:alert(1)", id="javascript-url"),
    pytest.param("data:text/html,<b>x</b>", "data:text/html,&lt;b&gt;x&lt;/b&gt;", id="data-url"),
    pytest.param("看這裡 https://spam.example/免費", "https://spam.example/免費", id="plain-url"),
    pytest.param("{{ 7*7 }}", "{{ 7*7 }}", id="template-injection"),
    pytest.param("\u202egnp.exe", "\u202egnp.exe", id="bidi-override-text"),
]

# Texts that count as empty.
EMPTY_TEXTS = [
    pytest.param("", id="empty"),
    pytest.param("   \n\t  ", id="whitespace"),
    pytest.param("\u200b\u200b\u200d", id="zero-width-only"),
    pytest.param("\u3000\u3000", id="ideographic-space"),
    pytest.param("\u202a\u202c", id="bidi-only"),
]
