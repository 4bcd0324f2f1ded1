"""Which of the three languages a request is served in, and how a reader changes it.

zh-Hant (the article's own), zh-Hans and English. A page's language comes from, in order:
the `lang` query argument (a URL per language, which caches can key on alone), the `lang` cookie
set by the language switch (remembered), the browser's Accept-Language, and zh-Hant.

Templates' msgids are the zh-Hant texts; the catalogues live in moderation/translations.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

from babel.support import Translations
from flask import Blueprint, Flask, current_app, g, request
from flask_babel import Babel
from markupsafe import Markup, escape

from moderation.article_text import ArticleWords, simplified_article, simplified_text, traditional_text
from moderation.screening.characters import contains_han, is_control
from moderation.web.responses import see_other

LANGUAGE_COOKIE = "lang"


@dataclass(frozen=True)
class Language:
    tag: str  # BCP 47, for <html lang>, hreflang, Content-Language and URLs
    locale: str  # Babel's name, the catalogue folder
    name: str  # in its own language, for the switch

    @property
    def text_tag(self) -> str:
        """The language of the article as this reader reads it: converted for zh-Hans, else as written."""
        return "zh-Hans" if self.locale == "zh_Hans" else "zh-Hant"


LANGUAGES = (
    Language("zh-Hant", "zh_Hant", "繁體中文"),
    Language("zh-Hans", "zh_Hans", "简体中文"),
    Language("en", "en", "English"),
)
DEFAULT = LANGUAGES[0]
BY_TAG = {language.tag.lower(): language for language in LANGUAGES}

_HANT_REGIONS = ("zh-tw", "zh-hk", "zh-mo")
_HANS_REGIONS = ("zh-cn", "zh-sg", "zh-my")


def language_of_tag(tag: str) -> Language | None:
    """One Accept-Language (or URL) tag mapped onto ours; None when we have nothing close."""
    tag = tag.strip().lower().replace("_", "-")
    if tag in BY_TAG:
        return BY_TAG[tag]
    if tag.startswith("zh-hant") or tag.startswith(_HANT_REGIONS):
        return BY_TAG["zh-hant"]
    if tag.startswith("zh-hans") or tag.startswith(_HANS_REGIONS):
        return BY_TAG["zh-hans"]
    if tag == "zh" or tag.startswith("zh-"):
        return DEFAULT  # zh, or a region we do not list: the article's own script
    if tag == "en" or tag.startswith("en-"):
        return BY_TAG["en"]
    return None


def negotiate(accepted: list[tuple[str, float]]) -> Language:
    """The first of the browser's languages (by quality) that we serve, else zh-Hant."""
    for tag, quality in sorted(accepted, key=lambda pair: -pair[1]):
        if quality <= 0:
            continue
        found = language_of_tag(tag)
        if found is not None:
            return found
    return DEFAULT


def current_language() -> Language:
    """Computed once per request; `g.language_in_url` says whether the URL named it."""
    if "language" not in g:
        raw = request.args.get("lang")
        from_url = language_of_tag(raw) if raw else None
        cookie = request.cookies.get(LANGUAGE_COOKIE)
        g.language_in_url = from_url is not None
        g.language = (
            from_url
            or (language_of_tag(cookie) if cookie else None)
            or negotiate(list(request.accept_languages))
        )
    return g.language


def _locale() -> str:
    return current_language().locale


def article_in_reader_script(article) -> ArticleWords:
    """The article in the reader's script: as stored, or converted to Simplified for zh-Hans
    readers. English readers get the original; the site does not translate articles."""
    if current_language().text_tag == "zh-Hans":
        return simplified_article(article.title, article.column_name or "", article.body)
    return ArticleWords(article.title, article.column_name or "", article.body_html)


def written_language(text) -> Markup:
    """` lang="zh"` for what readers and moderators wrote in Chinese (comments, nicknames, notes) on a
    page in English, so that a screen reader reads it in a Chinese voice, not spelt out in an English
    one. Nothing on a Chinese page, whose language it shares, nor for text without a Han character
    (its language is not known: the page's is the best guess)."""
    if current_language().tag != "en" or not text or not contains_han(str(text)):
        return Markup("")
    return Markup(' lang="zh"')


def comments_convertible() -> bool:
    """Can comments be shown in this reader's script? Only for a Chinese page language."""
    return current_language().tag in ("zh-Hans", "zh-Hant")


def comment_in_reader_script(text: str) -> str:
    """A comment's text in the page's script when the reader asked for it (`g.comments_converted`);
    as written otherwise. The stored text never changes."""
    if not g.get("comments_converted"):
        return text
    tag = current_language().tag
    if tag == "zh-Hans":
        return simplified_text(text)
    if tag == "zh-Hant":
        return traditional_text(text)
    return text


bp = Blueprint("languages", __name__)


@bp.get("/language/<tag>")
def switch(tag: str):
    """The switch: remember the choice, then back to the page it was made on, in that language."""
    language = BY_TAG.get(tag.lower())
    response = see_other(_same_site_path(request.args.get("next", "/")))
    if language is not None:
        remember_language(response, language)
    response.headers["Cache-Control"] = "no-store"
    return response


def switched_language(tag: str | None, *, in_url: bool = False) -> Language | None:
    """A switch made by a form's button (the draft travels with it): this request is served in the
    language named, as if the cookie had said it (`in_url`: as if the URL had, so that its links
    carry it on, where no cookie may be kept). None for a tag we do not serve."""
    language = BY_TAG.get((tag or "").lower())
    if language is not None:
        g.language, g.language_in_url = language, in_url
    return language


def remember_language(response, language: Language) -> None:
    response.set_cookie(
        LANGUAGE_COOKIE, language.tag, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )


def _same_site_path(target: str) -> str:
    """Only a path on this site (never an open redirect: no scheme, host, `//`, backslash or
    control character), without its `lang` argument (the cookie now says it)."""
    parts = urlsplit(target)
    if (parts.scheme or parts.netloc or not parts.path.startswith("/") or "//" in target or "\\" in target
            or any(map(is_control, target))):
        return "/"
    query = "&".join(pair for pair in parts.query.split("&") if pair and not pair.startswith("lang="))
    return parts.path + (f"?{query}" if query else "")


class LazyText:
    """A msgid worded when it is shown, in the language of the page showing it: the label tables of
    `moderator/labels.html` are built once per process and serve every language."""

    __slots__ = ("context", "msgid")

    def __init__(self, msgid: str, context: str | None = None):
        self.msgid, self.context = msgid, context

    def __str__(self) -> str:
        translations = _translations()
        if self.context is None:
            return translations.ugettext(self.msgid)
        return translations.upgettext(self.context, self.msgid)

    def __html__(self) -> str:
        return str(escape(str(self)))


@cache
def _catalogue(folder: str, locale: str) -> Translations:
    return Translations.load(folder, [locale])


def _translations() -> Translations:
    """The catalogue of this request's language, loaded once per process.

    Not Flask-Babel's own lookup, which walks its context, domain and locale on every string:
    about 50 µs, which made 16 of a queue page's 75 ms (some 330 strings per page)."""
    return _catalogue(current_app.config["BABEL_TRANSLATION_DIRECTORIES"], current_language().locale)


def _install_template_gettext(app: Flask) -> None:
    """The templates' _(), ngettext, pgettext and the lazy texts of the label tables."""
    app.jinja_env.globals.update(lazy_gettext=LazyText, lazy_pgettext=lambda context, msgid: LazyText(msgid, context))
    app.jinja_env.install_gettext_callables(
        gettext=lambda string: _translations().ugettext(string),
        ngettext=lambda singular, plural, n: _translations().ungettext(singular, plural, n),
        pgettext=lambda context, string: _translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: _translations().unpgettext(context, singular, plural, n),
        newstyle=True,
    )


def register(app: Flask, translations: str) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT.locale)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = translations
    Babel(app, locale_selector=_locale)
    _install_template_gettext(app)
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.register_blueprint(bp)

    @app.url_defaults
    def keep_url_language(endpoint: str, values: dict) -> None:
        """A page reached by a language URL links on in the same language."""
        if endpoint != "static" and "lang" not in values and request:
            language = current_language()
            if g.language_in_url:
                values["lang"] = language.tag

    @app.context_processor
    def language_context() -> dict:
        language = current_language()
        return {"language": language, "languages": LANGUAGES, "text_language": language.text_tag}

    @app.template_filter("in_reader_script")
    def in_reader_script(text: str) -> str:
        return simplified_text(text) if current_language().text_tag == "zh-Hans" else text

    app.add_template_filter(comment_in_reader_script, "comment_text")
    app.add_template_filter(written_language, "written_language")

    @app.after_request
    def language_headers(response):
        if request.endpoint == "static" or "language" not in g:
            return response
        response.headers["Content-Language"] = g.language.tag
        if not g.language_in_url:
            # Not Cookie: that would keep every shared cache from storing the article page. The
            # `lang` cookie is part of the proxy's cache key instead (deploy/nginx.conf).
            response.vary.add("Accept-Language")
        return response
