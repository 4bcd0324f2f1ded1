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
    pytest.param("ADMlN", "reserved", id="lookalike-l-for-i"),
    pytest.param("adm1n", "reserved", id="digit-1-for-i"),
    pytest.param("4dmin", "reserved", id="digit-4-for-a"),
    pytest.param("m0derator", "reserved", id="digit-0-for-o"),
    pytest.param("rnoderator", "reserved", id="rn-for-m"),
    pytest.param("r00t", "reserved", id="root-with-zeros"),
    pytest.param("ᴀᴅᴍɪɴ", "reserved", id="small-capitals"),
    pytest.param("ádmin", "reserved", id="accented"),
    pytest.param("🇦🇩🇲🇮🇳", "reserved", id="regional-indicators"),
    pytest.param("板主", "reserved", id="staff-title-banzhu"),
    pytest.param("管理人", "reserved", id="staff-title-guanliren"),
    pytest.param("sysadmin", "reserved", id="sysadmin"),
    pytest.param("\u3164", "invisible", id="hangul-filler"),
    pytest.param("\u115f\u1160", "invisible", id="hangul-choseong-jungseong-fillers"),
    pytest.param("\uffa0", "invisible", id="halfwidth-hangul-filler"),
    pytest.param("\u2800", "invisible", id="braille-blank"),
    pytest.param("\u0301", "invisible", id="lone-combining-mark"),
    pytest.param("ad\u3164min", "invisible", id="hangul-filler-inside"),
]

ACCEPTED_NICKNAMES = [
    pytest.param("讀者小林", "讀者小林", id="han"),
    pytest.param("  小林  ", "小林", id="trimmed"),
    pytest.param("ＬＩＮ", "LIN", id="fullwidth-folded"),
    pytest.param("林" * 20, "林" * 20, id="20-characters"),
    pytest.param("model", "model", id="latin-containing-mod"),
    pytest.param("Adminton Fan", "Adminton Fan", id="reserved-only-as-prefix"),
    pytest.param("Lin1995", "Lin1995", id="latin-with-digits"),
    pytest.param("José", "José", id="accented-name"),
    pytest.param("小林2號", "小林2號", id="han-with-digit"),
    pytest.param("Rooter Fan", "Rooter Fan", id="contains-root-as-prefix"),
]

# Comment texts that are stored as typed and must come back escaped, never interpreted.
HOSTILE_TEXTS = [
    pytest.param("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;", id="script-tag"),
    pytest.param('<img src=x onerror="alert(1)">', "&lt;img src=x onerror=", id="img-onerror"),
    pytest.param("javascript:alert(1)", "javascript:alert(1)", id="javascript-url"),
    pytest.param("data:text/html,<b>x</b>", "data:text/html,&lt;b&gt;x&lt;/b&gt;", id="data-url"),
    pytest.param("看這裡 https://spam.example/免費", "https://spam.example/免費", id="plain-url"),
    pytest.param("{{ 7*7 }}", "{{ 7*7 }}", id="template-injection"),
]

# Texts refused because what a reader would see is not what is stored (reordered by bidi controls).
REORDERED_TEXTS = [
    pytest.param("\u202egnp.exe", id="right-to-left-override"),
    pytest.param("看\u2067信微加\u2069", id="right-to-left-isolate"),
    pytest.param("\u202b嵌入\u202c", id="embedding"),
]

# Texts that count as empty.
EMPTY_TEXTS = [
    pytest.param("", id="empty"),
    pytest.param("   \n\t  ", id="whitespace"),
    pytest.param("\u200b\u200b\u200d", id="zero-width-only"),
    pytest.param("\u3000\u3000", id="ideographic-space"),
    pytest.param("\u202a\u202c", id="bidi-only"),
]

# Everything above, and what an outside probe sends: each must get an answer below 500 from every
# form and URL that takes text (tests/test_attack_inputs.py), on SQLite and on PostgreSQL.
_PROBES = {
    "nul": "\x00", "nul-inside": "a\x00b", "percent-nul": "%00", "crlf": "\r\n", "crlf-header": "x\r\nSet-Cookie: a=1",
    "lf-only": "\n", "percent-crlf": "%0d%0a", "tab": "\t", "backspace": "\x08", "escape": "\x1b[31m",
    "del": "\x7f", "c1-control": "\x85", "path-traversal": "../../etc/passwd", "encoded-traversal": "..%2f..%2f",
    "backslashes": "..\\..\\windows", "double-slash": "//evil.example", "absolute-url": "http://evil.example/x",
    "javascript-scheme": "javascript:alert(document.cookie)", "sql-quote": "' OR '1'='1",
    "sql-comment": "1; DROP TABLE comment;--", "sql-union": "' UNION SELECT password_hash FROM moderator--",
    "sql-sleep": "1' AND pg_sleep(5)--", "sqlite-function": "' || sqlite_version() || '",
    "like-wildcards": "%_%_%", "attribute-break": '" onmouseover="alert(1)', "single-quote-break": "' autofocus onfocus='x",
    "svg-onload": "<svg onload=alert(1)>", "iframe": "<iframe src=//evil.example>", "style-tag": "<style>*{}</style>",
    "html-comment": "<!-- -->", "cdata": "<![CDATA[x]]>", "jinja": "{{ config }}", "jinja-block": "{% raw %}",
    "dollar-template": "${7*7}", "format-string": "%s%s%s%n", "python-format": "{0.__class__}",
    "json": '{"a": [1, 2]}', "json-array": "[]", "null-word": "null", "undefined": "undefined",
    "negative": "-1", "zero": "0", "huge-number": "99999999999999999999", "float-overflow": "1e309",
    "nan": "NaN", "hex": "0x7fffffff", "int-max": "2147483648", "whitespace-only": "   ",
    "ideographic-space": "\u3000", "nbsp": "\u00a0", "bom": "\ufeff", "zero-width-joiner": "\u200d",
    "rtl-override": "\u202e", "rtl-isolate": "\u2067x\u2069", "combining-storm": "a" + "\u0301" * 200,
    "zalgo": "z\u0336\u0337\u0338a\u0334\u0335l\u0321g\u0322o\u0327", "hangul-filler": "\u3164",
    "braille-blank": "\u2800", "emoji": "😀" * 50, "emoji-zwj": "👨\u200d👩\u200d👧", "flag": "🇹🇼",
    "astral-han": "𠀀𠀁𠀂", "keycap": "1\ufe0f\u20e3", "squared-cjk": "🈲", "arabic": "مرحبا", "hebrew": "שלום",
    "thai": "สวัสดี", "devanagari": "नमस्ते", "cyrillic-admin": "аdmin", "greek": "Ωμέγα",
    "fullwidth-latin": "ＡＢＣ", "fullwidth-digits": "１２３", "fullwidth-url": "ｈｔｔｐｓ：／／ｅｖｉｌ．ｃｏｍ",
    "dotted-spam": "a." * 1000, "wide-dotted-spam": "a。" * 600, "bracket-dots": "a [dot] " * 200,
    "long-1000": "長" * 1000, "long-2000": "長" * 2000, "long-2001": "長" * 2001, "long-10000": "x" * 10000,
    "long-url": "https://" + "a" * 60 + ".com/" + "p" * 3000, "many-links": " ".join(f"s{i}.com" for i in range(100)),
    "many-lines": "\n" * 500, "mixed-newlines": "a\rb\r\nc\nd", "surrogate-like": "\\ud800",
    "unicode-escape": "\\u0000", "html-entity": "&#0;&#x0;&lt;", "entity-han": "&#21152;&#24494;&#20449;",
    "url-encoded-han": "%E5%8A%A0%E5%BE%AE%E4%BF%A1", "double-encoded": "%2500", "plus-signs": "+++",
    "ampersands": "a&b&c=d", "equals": "=cmd|' /C calc'!A0", "fullwidth-formula": "＝1+1",
    "at-formula": "@SUM(A1:A9)", "semicolons": ";;;", "pipes": "| cat /etc/passwd", "backticks": "`id`",
    "shell-subst": "$(id)", "ldap": "*)(uid=*))(|(uid=*", "xpath": "' or '1'='1' or ''='", "crlf-log": "ok\r\nFAKE LOG LINE",
    "regex-bomb": "(a+)+$" + "a" * 30 + "!", "glob": "*?[]", "spaces-inside": "a   b", "only-punctuation": "，。！？",
    "traditional-spam": "請加微信領取免費機場", "simplified-spam": "请加微信领取免费机场", "spaced-spam": "加 微 信",
    "gambling": "百家樂博彩", "allow-phrase": "打擊博彩", "site-name": "儀器網", "reserved-mixed": "Admin管理員",
}
PROBE_INPUTS = (
    [pytest.param(value, id=f"probe-{name}") for name, value in _PROBES.items()]
    + [pytest.param(p.values[0], id=f"nickname-{p.id}") for p in REFUSED_NICKNAMES + ACCEPTED_NICKNAMES]
    + [pytest.param(p.values[0], id=f"text-{p.id}") for p in HOSTILE_TEXTS + EMPTY_TEXTS + REORDERED_TEXTS]
)
