"""Articles from the newsroom: created and updated by the CMS's own key, from the API and the admin
page alike, closed by hand or automatically some days after publication.

One function, `save_article`, writes an article whatever the caller (API key or admin), so the
checks, the audit rows and the page's revision are the same for both. It is idempotent: the same
fields twice change nothing the second time (no audit row, no new revision). Two first PUTs of one
key racing each other make one article: the INSERT runs in a savepoint, and the loser of the unique
key updates the winner's row instead.

Automatic closing is stored, not computed per read: `close_expired` (`flask articles close-expired`,
from cron) sets the mode to closed through `set_comment_mode`, as a moderator would. The article
page is a shared, cached page keyed by the article's revision; a stored change bumps the revision,
so every cache (the workers', nginx's, a CDN's after max-age) sees it, the audit log says when it
happened, and the admin page shows the mode readers get. A save whose publication time is already
past the limit closes at once.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from moderation.article_text import HAN
from moderation.models import Article, CommentMode
from moderation.screening.characters import is_control
from moderation.screening.readings import char_reading
from moderation.services.articles import set_comment_mode
from moderation.services.audit import SYSTEM, Actor, AuditAction, record
from moderation.services.listing import listing_changed

# The CMS's key: printable ASCII without slash, backslash, comma (the counts list), space or control.
ARTICLE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:~-]{0,127}$")
SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$")
HEADLINE_MAX = 200
COLUMN_MAX = 60
MAX_CLOSE_AFTER_DAYS = 3650
# Body formats that are not ours: HTML (a CMS's rich text) and pinyin with tone numbers, 網(wang3).
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>|<!--")
_NUMBERED_GLOSS = re.compile(rf"{HAN}[(（][a-zü]{{1,6}}[1-5][)）]")


class ArticleProblem(enum.StrEnum):
    KEY_INVALID = "key_invalid"
    KEY_TAKEN = "key_taken"  # the admin's new article: the key names another one
    HEADLINE_MISSING = "headline_missing"
    HEADLINE_TOO_LONG = "headline_too_long"
    COLUMN_TOO_LONG = "column_too_long"
    BODY_MISSING = "body_missing"
    BODY_TOO_LONG = "body_too_long"
    BODY_IS_HTML = "body_is_html"
    HEADLINE_IS_HTML = "headline_is_html"
    GLOSS_TONE_NUMBERS = "gloss_tone_numbers"
    CONTROL_CHARACTERS = "control_characters"
    NOT_TEXT = "not_text"  # a JSON value that is not a string where text is asked (12, ["a"])
    SLUG_INVALID = "slug_invalid"
    SLUG_TAKEN = "slug_taken"
    PUBLISHED_AT_INVALID = "published_at_invalid"
    MODE_INVALID = "mode_invalid"
    CLOSE_AFTER_DAYS_INVALID = "close_after_days_invalid"


class ArticleRefused(ValueError):
    """`problems` maps a field to what is wrong with it; the API and the admin page word them."""

    def __init__(self, problems: dict[str, ArticleProblem]):
        super().__init__(", ".join(f"{field}: {problem.value}" for field, problem in problems.items()))
        self.problems = problems


FIELD_NAMES = frozenset({"headline", "body", "column", "slug", "published_at", "comment_mode", "close_after_days"})


@dataclass(frozen=True)
class ArticleFields:
    """An article as the newsroom sends it, checked. `None` for mode and days: leave as they are
    (a new article takes pre-moderation and the site's closing setting)."""

    headline: str
    body: str
    column: str = ""
    slug: str | None = None  # None: the key as a slug (slug_from_key), or on an update left out, the article's
    published_at: datetime | None = None
    comment_mode: CommentMode | None = None
    close_after_days: int | None = None
    close_after_days_given: bool = False  # an explicit null means "the site's setting"
    sent: frozenset[str] = FIELD_NAMES  # the fields the request held: an update keeps those left out




def valid_key(key: str) -> bool:
    return bool(ARTICLE_KEY.match(key))


def _text(value: str) -> str:
    return unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n")).strip()


def _has_controls(text: str, *, newlines: bool) -> bool:
    return any(is_control(char) and not (newlines and char in "\n\t") for char in text)


def check_fields(raw: dict, *, body_max: int) -> ArticleFields:
    """Fields as parsed JSON or a form gives them → ArticleFields, or ArticleRefused naming each problem."""
    problems: dict[str, ArticleProblem] = {}

    def text_of(name: str, *, required: bool, limit: int, missing: ArticleProblem, too_long: ArticleProblem,
                newlines: bool = False) -> str:
        value = raw.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            problems[name] = ArticleProblem.NOT_TEXT
            return ""
        value = _text(value)
        if _has_controls(value, newlines=newlines):
            problems[name] = ArticleProblem.CONTROL_CHARACTERS
        elif required and not value:
            problems[name] = missing
        elif len(value) > limit:
            problems[name] = too_long
        return value

    headline = text_of("headline", required=True, limit=HEADLINE_MAX, missing=ArticleProblem.HEADLINE_MISSING,
                       too_long=ArticleProblem.HEADLINE_TOO_LONG)
    column = text_of("column", required=False, limit=COLUMN_MAX, missing=ArticleProblem.COLUMN_TOO_LONG,
                     too_long=ArticleProblem.COLUMN_TOO_LONG)
    body = text_of("body", required=True, limit=body_max, missing=ArticleProblem.BODY_MISSING,
                   too_long=ArticleProblem.BODY_TOO_LONG, newlines=True)
    if "headline" not in problems and _HTML_TAG.search(headline):  # shown as text: a tag would be seen as typed
        problems["headline"] = ArticleProblem.HEADLINE_IS_HTML
    if "body" not in problems:
        if _HTML_TAG.search(body):
            problems["body"] = ArticleProblem.BODY_IS_HTML
        elif _NUMBERED_GLOSS.search(body):
            problems["body"] = ArticleProblem.GLOSS_TONE_NUMBERS
        else:
            body = re.sub(r"\n{3,}", "\n\n", body)

    slug = raw.get("slug")
    if slug in (None, ""):
        slug = None
    elif not isinstance(slug, str) or not SLUG.match(slug):
        problems["slug"] = ArticleProblem.SLUG_INVALID

    published_at = raw.get("published_at")
    if published_at in (None, ""):
        published_at = None
    else:
        published_at = _aware_time(published_at)
        if published_at is None:
            problems["published_at"] = ArticleProblem.PUBLISHED_AT_INVALID

    mode = raw.get("comment_mode")
    if mode in (None, ""):
        mode = None
    else:
        try:
            mode = CommentMode(mode) if isinstance(mode, str) else None
        except ValueError:
            mode = None
        if mode is None:
            problems["comment_mode"] = ArticleProblem.MODE_INVALID

    days = raw.get("close_after_days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_CLOSE_AFTER_DAYS):
        problems["close_after_days"] = ArticleProblem.CLOSE_AFTER_DAYS_INVALID
        days = None

    if problems:
        raise ArticleRefused(problems)
    return ArticleFields(headline=headline, body=body, column=column, slug=slug, published_at=published_at,
                         comment_mode=mode, close_after_days=days, close_after_days_given="close_after_days" in raw,
                         sent=frozenset(raw) & FIELD_NAMES)


_HEADLINE_WORDS = re.compile(r"[A-Za-z0-9]+|[^\W\d_A-Za-z]")  # Latin words and figures; each other letter alone
_KEY_FROM_HEADLINE_LENGTH = 60


def key_from_headline(db: Session, headline: str, *, now: datetime) -> str:
    """A key, and so the URL, for a new article given neither: the headline in Latin letters, each
    Han character by its pinyin (中文標題二 → zhong-wen-biao-ti-er), cut at a word near 60 letters and
    made unique with -2, -3…; the moment, when the headline has nothing to spell (emoji)."""
    words = []
    for word in _HEADLINE_WORDS.findall(unicodedata.normalize("NFKD", headline)):  # José → Jose´: its accent left out
        spelled = word.lower() if word.isascii() else char_reading(word)
        if spelled.isascii() and spelled.isalnum():
            words.append(spelled)
    base = ""
    for word in words:
        if base and len(base) + 1 + len(word) > _KEY_FROM_HEADLINE_LENGTH:
            break
        base = f"{base}-{word}" if base else word[:_KEY_FROM_HEADLINE_LENGTH]
    base = base or f"article-{now:%Y%m%d-%H%M%S}"
    for number in range(1, 1000):
        key = base if number == 1 else f"{base}-{number}"
        if db.scalar(select(Article.id).where(or_(Article.key == key, Article.slug == key)).limit(1)) is None:
            return key
    return f"{base}-{now:%Y%m%d%H%M%S%f}"


def slug_from_key(key: str) -> str | None:
    """The key as the article's URL: what a slug cannot hold (the key's : and ~) becomes a hyphen."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", key).strip("-._")[:120]
    return slug if SLUG.match(slug) else None


def _aware_time(value) -> datetime | None:
    """ISO 8601 with an offset (2026-12-03T09:00:00+08:00); a time without one is ambiguous."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None or not 1970 <= parsed.year <= 9998:
        return None
    return parsed.astimezone(UTC)


@dataclass(frozen=True)
class Saved:
    article: Article
    created: bool
    changed: bool


def find_by_key(db: Session, key: str, *, for_update: bool = False) -> Article | None:
    query = select(Article).where(Article.key == key)
    if for_update:
        query = query.with_for_update()
    return db.scalar(query)


def save_article(db: Session, key: str, given: ArticleFields, *, actor: Actor, now: datetime,
                 default_close_days: int | None, site: str | None = None) -> Saved:
    """Create or update the article with this key (the caller commits; nothing is written on refusal).
    `site`: the API key's site, which the article then belongs to (who may frame its comments,
    services.embed_sites); kept from the first site that sent it. Another site's key is refused
    (`belongs_to_another_site`), judged on the row as locked here."""
    if not valid_key(key):
        raise ArticleRefused({"key": ArticleProblem.KEY_INVALID})
    article = find_by_key(db, key, for_update=True)
    if belongs_to_another_site(article, site):
        raise ArticleRefused({"key": ArticleProblem.KEY_TAKEN})
    if article is not None and "slug" not in given.sent:
        slug = article.slug  # an update that leaves the slug out keeps the article's URL
    else:
        slug = given.slug or slug_from_key(key)
    if slug is None:
        raise ArticleRefused({"slug": ArticleProblem.SLUG_INVALID})
    created = False
    if article is None:
        article = _insert_or_none(db, key, given, slug)
        if article is None:  # another request made it between our read and our INSERT
            article = find_by_key(db, key, for_update=True)
            if article is None:
                raise ArticleRefused({"slug": ArticleProblem.SLUG_TAKEN})
            if belongs_to_another_site(article, site):
                raise ArticleRefused({"key": ArticleProblem.KEY_TAKEN})
        else:
            created = True
            record(db, actor, AuditAction.ARTICLE_CREATE, now=now, note=key)
    if site is not None and article.site is None:
        article.site = site
    if not created:
        _refuse_taken_slug(db, article, slug)
        changed = _update(db, article, given, slug, actor=actor, now=now)
    else:
        changed = True
        if given.comment_mode is not None and given.comment_mode is not article.comment_mode:
            set_comment_mode(db, article, given.comment_mode, actor=actor, now=now)
    if close_if_expired(db, article, now=now, default_days=default_close_days, actor=SYSTEM):
        changed = True
    return Saved(article, created, changed)


def belongs_to_another_site(article: Article | None, site: str | None) -> bool:
    """An article belongs to the site whose key first sent it; another site's key may not read or
    change it (one made in the admin pages belongs to no site until a key sends it; the admin pages,
    `site` None, reach every article)."""
    return article is not None and site is not None and article.site is not None and article.site != site


def _insert_or_none(db: Session, key: str, given: ArticleFields, slug: str) -> Article | None:
    article = Article(key=key, slug=slug, title=given.headline, column_name=given.column, body=given.body,
                      published_at=given.published_at, close_after_days=given.close_after_days)
    savepoint = db.begin_nested()
    db.add(article)
    try:
        db.flush()
    except IntegrityError:
        savepoint.rollback()
        return None
    savepoint.commit()
    return article


def _refuse_taken_slug(db: Session, article: Article, slug: str) -> None:
    if slug != article.slug and db.scalar(select(Article.id).where(Article.slug == slug, Article.id != article.id)):
        raise ArticleRefused({"slug": ArticleProblem.SLUG_TAKEN})


def _update(db: Session, article: Article, given: ArticleFields, slug: str, *, actor: Actor, now: datetime) -> bool:
    wanted = {"title": given.headline, "body": given.body, "slug": slug}
    if "column" in given.sent:
        wanted["column_name"] = given.column
    if "published_at" in given.sent:
        wanted["published_at"] = given.published_at
    if given.close_after_days_given:
        wanted["close_after_days"] = given.close_after_days
    changes = [name for name, value in wanted.items() if getattr(article, name) != value]
    for name in changes:
        setattr(article, name, wanted[name])  # body: re-rendered once, here (Article._render_body)
    if changes:
        record(db, actor, AuditAction.ARTICLE_UPDATE, now=now, note=article.key, details={"fields": sorted(changes)})
        try:
            with db.begin_nested():
                db.flush()
        except IntegrityError:  # the slug, taken since we looked
            raise ArticleRefused({"slug": ArticleProblem.SLUG_TAKEN}) from None
        listing_changed(db, article.id)
    mode_changed = (given.comment_mode is not None
                    and set_comment_mode(db, article, given.comment_mode, actor=actor, now=now))
    return bool(changes) or mode_changed


def close_article(db: Session, article: Article, *, actor: Actor, now: datetime) -> bool:
    return set_comment_mode(db, article, CommentMode.CLOSED, actor=actor, now=now)


def closing_time(article: Article, default_days: int | None) -> datetime | None:
    """When comments close automatically: publication + the article's days or the site's; None: never."""
    days = article.close_after_days if article.close_after_days is not None else default_days
    if article.published_at is None or not days:
        return None
    return article.published_at + timedelta(days=days)


def close_if_expired(db: Session, article: Article, *, now: datetime, default_days: int | None,
                     actor: Actor = SYSTEM) -> bool:
    closes = closing_time(article, default_days)
    if closes is None or closes > now or article.comment_mode is CommentMode.CLOSED:
        return False
    return set_comment_mode(db, article, CommentMode.CLOSED, actor=actor, now=now)


def close_expired(db: Session, *, now: datetime, default_days: int | None) -> list[Article]:
    """Close every open article past its closing time (logged as `system`); the caller commits."""
    candidates = select(Article).where(Article.comment_mode != CommentMode.CLOSED, Article.published_at.is_not(None))
    if not default_days:
        candidates = candidates.where(Article.close_after_days > 0)
    else:
        earliest = now - timedelta(days=min(default_days, MAX_CLOSE_AFTER_DAYS))
        candidates = candidates.where(or_(Article.close_after_days > 0, Article.published_at <= earliest))
    closed = []
    for article in db.scalars(candidates.order_by(Article.id).with_for_update()):
        if close_if_expired(db, article, now=now, default_days=default_days):
            closed.append(article)
    return closed


def article_fields_of(article: Article) -> dict:
    """The article as the API returns it (and the admin form shows it)."""
    return {
        "key": article.key,
        "headline": article.title,
        "column": article.column_name or "",
        "body": article.body,
        "slug": article.slug,
        "published_at": article.published_at.isoformat() if article.published_at else None,
        "comment_mode": article.comment_mode.value,
        "close_after_days": article.close_after_days,
        "approved_count": article.approved_count,
    }

