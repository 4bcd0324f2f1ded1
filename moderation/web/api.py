"""Blueprint for the newsroom's programs: the JSON API under /api/v1 (JSON only, never a page).

Articles are written by the CMS with a key of scope `articles:write`; published comments are read
as data with `comments:read`; the counts and the most commented list are public (the list page's
count.js asks from the reader's browser, which holds no key). Errors are web.api_errors'.

The API is exempt from CSRF: it reads no cookie and is authenticated by a header a page on another
site cannot make a browser send.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from functools import wraps

from flask import Blueprint, current_app, g, jsonify, request, url_for

from moderation.clock import now
from moderation.database import statements_stand_alone
from moderation.extensions import csrf, db
from moderation.models import Article, CommentMode, Scope
from moderation.services import api_keys, counts, listing, newsroom
from moderation.services.articles import set_comment_mode
from moderation.services.audit import Actor
from moderation.services.paging import Cursor
from moderation.web import api_schema as schema
from moderation.web.api_errors import error_response, field_problems
from moderation.web.languages import LazyText as lazy_gettext
from moderation.web.languages import current_language

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

ANONYMOUS = lazy_gettext("匿名網友")
MODE_FIELDS = frozenset({"comment_mode"})

class ApiError(Exception):
    def __init__(self, status: int, code: str, headers: dict | None = None, **extra):
        super().__init__(code)
        self.status, self.code, self.headers, self.extra = status, code, headers, extra

@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    return error_response(error.status, error.code, headers=error.headers, **error.extra)

@bp.url_value_preprocessor
def larger_bodies(endpoint, values):
    """Before every before_request (the app's malformed-body check reads the body): an article is larger
    than a comment form."""
    request.max_content_length = current_app.config["API_MAX_CONTENT_LENGTH"]

@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 document of this API, generated from the code (web.api_schema)."""
    response = jsonify(schema.served_from(request.url_root))
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _presented_key() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None

def requires(scope: Scope):
    """The view needs a valid key (else 401) with this scope (else 403); the site goes to the request log."""
    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            presented = _presented_key()
            key = api_keys.key_for(db.session, presented)
            if key is None:
                # RFC 6750: a key that was sent but is not one (mistyped, revoked) is an invalid_token;
                # no key at all is only the challenge.
                challenge = 'Bearer realm="api"' + (', error="invalid_token"' if presented else "")
                raise ApiError(401, "unauthorized", headers={"WWW-Authenticate": challenge})
            g.api_site = key.site
            if scope not in key.scope_set:
                raise ApiError(403, "forbidden_scope", scope=scope.value)
            return view(*args, **kwargs)
        return guarded
    return decorate

# Refused before the parser sees it: CPython 3.11's json recursion limit is caught as a
# RecursionError, and a RecursionError caught in a thread can leave the interpreter's depth counter
# wrong for later compiles ("AST constructor recursion depth mismatch").
JSON_MAX_DEPTH = 32
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


def _nested_deeper_than(raw: bytes, limit: int) -> bool:
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub(b'""', raw)):
        depth += 1 if bracket.group() in (b"[", b"{") else -1
        if depth > limit:
            return True
    return False


def _json_object() -> dict:
    if request.mimetype != "application/json":
        raise ApiError(415, "json_expected")
    raw = request.get_data(cache=False)  # past API_MAX_CONTENT_LENGTH: 413 (RequestEntityTooLarge)
    if _nested_deeper_than(raw, JSON_MAX_DEPTH):
        raise ApiError(400, "invalid_json")
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested past the parser's depth
        raise ApiError(400, "invalid_json") from None
    if not isinstance(value, dict):
        raise ApiError(400, "invalid_json")
    return value

def _refuse_unknown_fields(given: dict, known: frozenset[str]) -> None:
    unknown = sorted(name for name in given if name not in known)
    if unknown:
        raise ApiError(400, "unknown_field", unknown=[name[:64] for name in unknown[:10]])

_CONFLICTS = {newsroom.ArticleProblem.SLUG_TAKEN, newsroom.ArticleProblem.KEY_TAKEN}

def _refused(error: newsroom.ArticleRefused):
    db.session.rollback()
    status = 409 if set(error.problems.values()) <= _CONFLICTS else 422
    return error_response(status, "invalid_fields", fields=field_problems(error.problems))

def _article_or_404(key: str) -> Article:
    article = newsroom.find_by_key(db.session, key) if newsroom.valid_key(key) else None
    if article is None or newsroom.belongs_to_another_site(article, g.api_site):
        raise ApiError(404, "article_not_found")
    return article

def _article_url(slug: str) -> str:
    """The article page's address for a CMS to keep: in no interface language (a `?lang=` on the API
    request would otherwise follow it there and send every reader to that language)."""
    return url_for("reader.article", slug=slug, lang=None, _external=True)


def _article_response(article: Article, status: int = 200):
    response = jsonify(article=newsroom.article_fields_of(article),
                       url=_article_url(article.slug))
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response

@bp.put("/articles/<key>")
@schema.spec.validate(json=schema.ArticleIn, resp=schema.responses(
    {"HTTP_200": schema.ArticleOut, "HTTP_201": schema.ArticleOut}, 400, 401, 403, 409, 413, 415, 422),
    tags=["articles"], security=schema.KEY_NEEDED, skip_validation=True)
@requires(Scope.ARTICLES_WRITE)
def put_article(key: str):
    """Create or update the article the CMS calls `key` (idempotent). 201 when made, else 200."""
    given = _json_object()
    _refuse_unknown_fields(given, newsroom.FIELD_NAMES)
    config = current_app.config
    try:
        fields = newsroom.check_fields(given, body_max=config["ARTICLE_BODY_MAX_LENGTH"])
        saved = newsroom.save_article(db.session, key, fields, actor=Actor.site(g.api_site), now=now(),
                                      default_close_days=config["COMMENTS_CLOSE_AFTER_DAYS"], site=g.api_site)
    except newsroom.ArticleRefused as error:
        return _refused(error)
    db.session.commit()
    response = _article_response(saved.article, 201 if saved.created else 200)
    if saved.created:
        response.headers["Location"] = url_for(".get_article", key=saved.article.key)
    return response

@bp.get("/articles/<key>")
@schema.spec.validate(resp=schema.responses({"HTTP_200": schema.ArticleOut}, 400, 401, 403, 404),
                      tags=["articles"], security=schema.KEY_NEEDED, skip_validation=True)
@requires(Scope.ARTICLES_WRITE)
def get_article(key: str):
    return _article_response(_article_or_404(key))

@bp.put("/articles/<key>/comment-mode")
@schema.spec.validate(json=schema.CommentModeIn, resp=schema.responses(
    {"HTTP_200": schema.ArticleOut}, 400, 401, 403, 404, 413, 415, 422),
    tags=["articles"], security=schema.KEY_NEEDED, skip_validation=True)
@requires(Scope.ARTICLES_WRITE)
def put_comment_mode(key: str):
    """Open, pre- or post-moderate, or close comments without sending the article again."""
    article = _article_or_404(key)
    given = _json_object()
    _refuse_unknown_fields(given, MODE_FIELDS)
    try:
        mode = CommentMode(given.get("comment_mode"))
    except ValueError:
        return _refused(newsroom.ArticleRefused({"comment_mode": newsroom.ArticleProblem.MODE_INVALID}))
    set_comment_mode(db.session, article, mode, actor=Actor.site(g.api_site), now=now())
    db.session.commit()
    return _article_response(article)

def _cacheable(payload: dict, *, max_age: int, cors: bool = False):
    """A public answer with a strong ETag of its bytes (304 when the browser has them)."""
    response = jsonify(payload)
    response.set_etag(hashlib.blake2b(response.get_data(), digest_size=16).hexdigest())
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    if cors:  # read by scripts on the newsroom's pages: public data, no credentials
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response.make_conditional(request)

@bp.get("/counts")
@schema.spec.validate(query=schema.CountsQuery, resp=schema.responses({"HTTP_200": schema.CountsOut, "HTTP_304": None}, 400),
                      tags=["counts"], skip_validation=True)
def comment_counts():
    """Published comments per article key: `?keys=a,b,c` (at most COUNTS_MAX_KEYS); unknown keys are left out."""
    raw = request.args.get("keys", "")
    keys = sorted({key for key in raw.split(",") if key})
    if not keys:
        raise ApiError(400, "keys_missing")
    if len(keys) > current_app.config["COUNTS_MAX_KEYS"]:
        raise ApiError(400, "too_many_keys")
    statements_stand_alone(db.session())  # it only reads
    found = counts.published_counts(db.session, [key for key in keys if newsroom.valid_key(key)])
    return _cacheable({"counts": found}, max_age=current_app.config["COUNTS_CACHE_MAX_AGE"], cors=True)

def _bounded_int(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or len(raw) > 4 or not low <= int(raw) <= high:
        raise ApiError(400, "bad_parameter", parameter=name)
    return int(raw)

@bp.get("/most-commented")
@schema.spec.validate(query=schema.MostCommentedQuery, resp=schema.responses(
    {"HTTP_200": schema.MostCommentedOut, "HTTP_304": None}, 400), tags=["counts"], skip_validation=True)
def most_commented():
    """The front page's list: articles by published comments written in the last `hours` (24)."""
    config = current_app.config
    hours = _bounded_int("hours", 24, 1, 168)
    limit = _bounded_int("limit", config["MOST_COMMENTED_LIMIT"], 1, 50)
    # The window starts on the minute, so that answers within a minute are the same bytes (one ETag).
    since = (now() - timedelta(hours=hours)).replace(second=0, microsecond=0)
    articles = counts.most_commented(db.session, since=since, limit=limit)
    return _cacheable({
        "since": since.isoformat(),
        "articles": [{"key": item.key, "headline": item.title, "comments": item.comments,
                      "url": _article_url(item.slug)} for item in articles],
    }, max_age=config["MOST_COMMENTED_CACHE_MAX_AGE"], cors=True)

def _cursor(name: str) -> Cursor | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    cursor = Cursor.decode(raw)
    if cursor is None:
        raise ApiError(400, "bad_cursor")
    return cursor

@bp.get("/articles/<key>/comments")
@schema.spec.validate(query=schema.CommentsQuery, resp=schema.responses(
    {"HTTP_200": schema.CommentsOut, "HTTP_304": None}, 400, 401, 403, 404),
    tags=["comments"], security=schema.KEY_NEEDED, skip_validation=True)
@requires(Scope.COMMENTS_READ)
def article_comments(key: str):
    """Published comments, newest first, in keyset pages (`before` / `after` from `links`).

    Cacheable like the article page: the ETag comes from the article's revision (changed in the
    same transaction as anything readers see), so a conditional request is answered without reading
    a comment. Public for shared caches, which keep one copy per key (Vary: Authorization).
    """
    before, after = _cursor("before"), _cursor("after")
    if before is not None and after is not None:
        raise ApiError(400, "bad_cursor")
    state = counts.article_state_by_key(db.session, key) if newsroom.valid_key(key) else None
    if state is None:
        raise ApiError(404, "article_not_found")
    config = current_app.config
    size = config["COMMENTS_PAGE_SIZE"]
    language = current_language().tag
    etag = hashlib.blake2b(
        f"{state.id}:{state.revision}:{before}:{after}:{size}:{language}".encode(), digest_size=16).hexdigest()
    if request.if_none_match.contains(etag):
        response = current_app.response_class(status=304)
    else:
        page = listing.approved_page(db.session, state.id, before=before, after=after, size=size)
        anonymous = str(ANONYMOUS)
        response = jsonify(
            article=key,
            total=state.approved_count,
            comments=[{
                "id": comment.id,
                "nickname": comment.display_name or anonymous,
                "anonymous": comment.display_name is None,
                "text": listing.public_text(comment),
                "created_at": comment.created_at.isoformat(),
                "reply_to": comment.reply_to_id,
                "thread": comment.thread_id,
                "replies": comment.reply_count,
                "staff": comment.staff_account_id is not None,
            } for comment in page.comments],
            links={
                "older": url_for(".article_comments", key=key, before=page.older.encode()) if page.older else None,
                "newer": url_for(".article_comments", key=key, after=page.newer.encode()) if page.newer else None,
            },
        )
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = config["ARTICLE_CACHE_MAX_AGE"]
    response.cache_control.s_maxage = config["ARTICLE_CACHE_S_MAXAGE"]
    response.vary.add("Authorization")
    return response
