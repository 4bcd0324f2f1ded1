"""The API's OpenAPI 3.1 document, generated from these pydantic models and the views' decorations
(spectree), served at /api/v1/openapi.json.

The models describe; they do not validate requests (skip_validation): the checks and their error
codes live in services.newsroom and web.api, where the admin page shares them. Schemathesis
(tests/test_api_schema.py) keeps the two honest: every response of the running API must match
this document.
"""

from __future__ import annotations

import copy
import enum
import threading
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from spectree import Response, SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData

from moderation.services.newsroom import ARTICLE_KEY, ArticleProblem
from moderation.web.api_errors import MESSAGES

# Every code the API answers with: `api_errors.error_response` takes only these (the messages' keys).
ErrorCode = enum.StrEnum("ErrorCode", {code: code for code in MESSAGES})


class FieldProblem(BaseModel):
    code: ArticleProblem = Field(description="what is wrong with the field, for programs")
    message: str = Field(description="the same for people, in the request's language, with its limit")


class ErrorDetail(BaseModel):
    code: ErrorCode = Field(description="stable, for programs")
    message: str = Field(description="for people, in the request's language")
    fields: dict[str, FieldProblem] | None = Field(None, description="invalid_fields: field → its problem")
    unknown: list[str] | None = Field(None, description="unknown_field: the fields not known")
    scope: str | None = Field(None, description="forbidden_scope: the scope needed")
    parameter: str | None = Field(None, description="bad_parameter: which one")


class Error(BaseModel):
    error: ErrorDetail


spec = SpecTree(
    "flask",
    title="Comment moderation: the newsroom API",
    version="1",
    # Not registered on the app (web.api serves `document()` at /api/v1/openapi.json); spectree leaves
    # out the routes under its own path, so that path must not be the API's.
    path="openapi",
    mode="strict",  # only the views decorated below
    page_templates={},  # the document only, no documentation pages (their scripts would need a CSP exception)
    annotations=False,
    # What spectree adds to each operation for a request that fails validation is the API's own 400
    # and error object (the views check their input themselves), not pydantic's 422 list.
    validation_error_status=400,
    validation_error_model=Error,
    # Schemas named as the models are (ArticleIn, not ArticleIn.359cc19): stable names for generated clients.
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
    security_schemes=[SecurityScheme(name="apiKey", data=SecuritySchemeData(
        type=SecureType.HTTP, scheme="bearer", description="a key from `flask api-keys create SITE --scope …`"))],
)
KEY_NEEDED = {"apiKey": []}


Mode = Literal["pre", "post", "closed"]


class ArticleIn(BaseModel):
    """An article as the CMS sends it. Body: plain text, paragraphs separated by a blank line, pinyin
    glosses after their character: 網(wǎng)."""

    model_config = ConfigDict(extra="forbid")
    headline: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, description="at most ARTICLE_BODY_MAX_LENGTH characters (50,000)")
    column: str | None = Field(None, max_length=60)
    slug: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$",
                             description="default: the key, when it is a valid slug")
    published_at: datetime | None = Field(None, description="ISO 8601 with an offset")
    comment_mode: Mode | None = Field(None, description="left out: unchanged (pre for a new article)")
    close_after_days: int | None = Field(None, ge=0, le=3650,
                                         description="null: the site's COMMENTS_CLOSE_AFTER_DAYS; 0: never")


class CommentModeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment_mode: Mode


class ArticleFields(BaseModel):
    key: str
    headline: str
    column: str
    body: str
    slug: str
    published_at: datetime | None
    comment_mode: Mode
    close_after_days: int | None
    approved_count: int


class ArticleOut(BaseModel):
    article: ArticleFields
    url: str = Field(description="the article page")


class CountsQuery(BaseModel):
    keys: str = Field(description="article keys separated by commas, at most 100")


class CountsOut(BaseModel):
    counts: dict[str, int] = Field(description="key → published comments; unknown keys left out")


class MostCommentedQuery(BaseModel):
    hours: int = Field(24, ge=1, le=168)
    limit: int = Field(10, ge=1, le=50)


class MostCommentedArticle(BaseModel):
    key: str
    headline: str
    comments: int = Field(description="published comments written in the window")
    url: str


class MostCommentedOut(BaseModel):
    since: datetime
    articles: list[MostCommentedArticle]


class CommentsQuery(BaseModel):
    before: str | None = Field(None, description="from links.older")
    after: str | None = Field(None, description="from links.newer")


class PublishedComment(BaseModel):
    id: int
    nickname: str = Field(description="the nickname, or 匿名網友 in the request's language")
    anonymous: bool
    text: str
    created_at: datetime
    reply_to: int | None = Field(description="a reply: the comment it answers (which may no longer be published)")
    thread: int | None = Field(description="a reply: its thread's top comment; null for a top comment")
    replies: int = Field(description="a top comment: its published replies")
    staff: bool = Field(description="an answer from the site (本站編輯), posted from the moderation pages")


class PageLinks(BaseModel):
    older: str | None
    newer: str | None


class CommentsOut(BaseModel):
    article: str
    total: int = Field(description="published comments of the article")
    comments: list[PublishedComment]
    links: PageLinks


def responses(ok: dict, *codes: int) -> Response:
    """The success models and the JSON errors an operation may answer."""
    return Response(**ok, **{f"HTTP_{code}": Error for code in codes})


_KEY_PARAMETER = {"type": "string", "pattern": ARTICLE_KEY.pattern, "maxLength": 128}
_document: dict | None = None
_lock = threading.Lock()


def _header(description: str) -> dict:
    return {"description": description, "required": True, "schema": {"type": "string"}}


# The headers the views set, by status, which spectree's models cannot say (web.api).
_HEADERS_OF_READS = {"200": {"ETag": _header("of these bytes; send it back in If-None-Match"),
                             "Cache-Control": _header("public, with a max-age")},
                     "304": {"ETag": _header("the one sent in If-None-Match")}}
_HEADERS = {
    "401": {"WWW-Authenticate": _header('Bearer realm="api"')},
    "201": {"Location": _header("the article's URL in this API")},
}


def document() -> dict:
    """The OpenAPI document, built once per process from the app's routes. spectree describes a path's
    `<key>` as any string; the document says what an article key is (services.newsroom.ARTICLE_KEY),
    and which headers the answers carry. The server is the request's own (`served_from`)."""
    global _document
    with _lock:
        if _document is None:
            built = copy.deepcopy(spec.spec)
            for operations in built["paths"].values():
                for operation in operations.values():
                    for parameter in operation.get("parameters", []):
                        if parameter["in"] == "path" and parameter["name"] == "key":
                            parameter["schema"] = dict(_KEY_PARAMETER)
                            parameter["description"] = "the CMS's key of the article"
                    responses = operation["responses"]
                    headers = {**_HEADERS, **(_HEADERS_OF_READS if "304" in responses else {})}
                    for status, response in responses.items():
                        if status in headers:
                            response["headers"] = headers[status]
            _document = built
        return _document


def served_from(url_root: str) -> dict:
    """The document with this server in `servers` (where the API answers, as the request reached it)."""
    return {**document(), "servers": [{"url": url_root.rstrip("/")}]}
