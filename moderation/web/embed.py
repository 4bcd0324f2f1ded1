"""Blueprint for the comment section embedded in the newsroom's own pages: /embed/<key>.

A plain `<iframe src=/embed/KEY>` (or static/embed.js, which makes one and sizes it) shows the
article's comment section alone: disclaimer, form, comments, pages, reports. It works without
JavaScript: every link, form action and redirect of the frame stays under /embed/<key>/…, because
the reader's own views (web/reader.py) serve it with `g.embed` set, and `url_for` maps their
endpoints onto this blueprint's.

Who may frame it: `Content-Security-Policy: frame-ancestors` with the origins the article's site
allows (services.embed_sites) and the operator's EMBED_ALLOWED_ORIGINS; 'none' when there are none.
The header is computed for every response, after the page cache, so no site's origins ride on
another site's cached page.

A browser that blocks third-party cookies keeps none for the frame. So the frame's per-reader state
(the reader token, the captcha's browser nonce) rides in its own URLs as `state`, signed and
time-limited with itsdangerous; a POST needs a valid state and a same-origin request, which is the
frame's CSRF check (the session's CSRF token would need the session cookie). Where the browser
allows it, the reader cookie is also set `SameSite=None; Secure; Partitioned` (HTTPS only). The
host page never sees any of it: the frame is on the service's origin, and the only message it sends
out is its height, to the parent origin it was given and found allowed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, g, has_request_context, render_template, request
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadSignature, URLSafeTimedSerializer

from moderation.database import statements_stand_alone
from moderation.extensions import csrf, db, limiter
from moderation.ids import row_id
from moderation.models import Article, CaptchaMedium
from moderation.services import embed_sites, newsroom
from moderation.services.embed_sites import EmbedTarget
from moderation.services.own_comments import own_comments
from moderation.web import reader, reader_identity
from moderation.web.languages import current_language
from moderation.web.security_headers import CONTENT_SECURITY_POLICY

bp = Blueprint("embed", __name__, url_prefix="/embed")
# The frame's POSTs carry its signed state instead of the session's token (see the docstring).
csrf.exempt(bp)

# The reader's endpoints the frame has its own URL for; any other keeps the reader's URL.
FRAMED_ENDPOINTS = frozenset({
    "article", "comment_form", "continue_comment", "post_comment", "thread", "report_form", "report_comment",
    "like_comment", "captcha_image", "captcha_audio",
})
NOTICES = frozenset({"comment_approved", "comment_pending", "report_recorded", "report_hidden", "report_already",
                     "report_too_many", "like_uncounted", "like_recorded", "like_taken_back", "report_already_here"})


@dataclass
class Embedded:
    """This request's frame: which article, who may frame it, and the reader's state."""

    key: str
    target: EmbedTarget | None
    frame_ancestors: str
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    reader: str | None = None  # the reader token (cookie first, else the state's)
    personal: bool = False  # URLs carry the state; the page is this reader's (no-store)
    state_valid: bool = False  # the request came with a state we signed, not expired
    parent_origin: str | None = None  # given by embed.js and allowed to frame: where the height goes
    cookies_possible: bool = False  # HTTPS: a Partitioned cookie may be kept
    # embed.js's data-language-switch="off": the site fixes the frame's language (data-lang), and the
    # frame shows no switch; its URLs carry `switch=off` on, as they carry the origin.
    language_switch: bool = True

    _signed: tuple[str | None, str] | None = None  # (reader, token): one signature per request, not per link

    def state_token(self) -> str:
        if self._signed is None or self._signed[0] != self.reader:
            self._signed = (self.reader, _serializer().dumps({"n": self.nonce, "r": self.reader}))
        return self._signed[1]

    def frame_values(self, values: dict[str, Any]) -> dict[str, Any]:
        values.pop("slug", None)
        values["key"] = self.key
        if self.personal:
            values.setdefault("state", self.state_token())
        if self.parent_origin:
            values.setdefault("origin", self.parent_origin)
        if not self.language_switch:
            values.setdefault("switch", "off")
        return values


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="embed-state")


def _state_of_request() -> dict | None:
    raw = request.args.get("state", "")
    if not raw:
        return None
    try:
        state = _serializer().loads(raw, max_age=current_app.config["EMBED_STATE_MAX_AGE"])
    except BadSignature:  # SignatureExpired included
        return None
    if not isinstance(state, dict) or not isinstance(state.get("n"), str):
        return None
    return state


def _enter(key: str, *, personal: bool = False) -> Embedded:
    """Look the article up (404 in the frame's language if none) and set up `g.embed`."""
    config = current_app.config
    target = embed_sites.embed_target(db.session, key) if newsroom.valid_key(key) else None
    if target is None:
        g.embed = Embedded(key, None, frame_ancestors=_any_site_ancestors())
        abort(404)
    embedded = Embedded(key, target, frame_ancestors=embed_sites.frame_ancestors(
        target.site_origins, config["EMBED_ALLOWED_ORIGINS"]))
    state = _state_of_request()
    if state is not None:
        embedded.nonce, embedded.state_valid = state["n"], True
    cookie_token = reader_identity.reader_token(request)  # before g.embed: the cookie's alone
    state_reader = state.get("r") if state else None
    embedded.reader = cookie_token or (state_reader if isinstance(state_reader, str) else None)
    embedded.personal = personal or state is not None or cookie_token is not None
    embedded.cookies_possible = request.is_secure
    embedded.language_switch = request.args.get("switch") != "off"
    given = embed_sites.normalise_origin(request.args.get("origin", ""))
    if given is not None and given in embedded.frame_ancestors.split():
        embedded.parent_origin = given
    g.embed = embedded
    return embedded


def _any_site_ancestors() -> str:
    """For a page that names no article (an unknown key): the page that asks for it may show the
    frame's 404 when some site allows its origin (embed.js sends it as `origin`), so a newsroom sees
    why its frame is empty. The other sites' origins are not listed: nobody learns them from a 404."""
    given = embed_sites.normalise_origin(request.args.get("origin", ""))
    if g.get("database_answered") is False:
        # An outage (errors.database_unavailable): the sites' origins cannot be read, and asking again
        # would turn the 503 into a 500. The outage page, which holds nothing but the way back, may
        # show in the frame that asked for it, so the reader reads why the comments are missing.
        allowed = [given] if given is not None else []
    else:
        allowed = [given] if given is not None and given in embed_sites.every_sites_origins(db.session) else []
    return embed_sites.frame_ancestors(allowed, current_app.config["EMBED_ALLOWED_ORIGINS"])


def _posted_from_frame(embedded: Embedded) -> bool:
    """The frame's own form, with a state we signed: not another site's page posting into it."""
    return embedded.state_valid and not reader._cross_site()


@bp.after_request
def frame_headers(response: Response) -> Response:
    """Who may frame this response, and nothing of it kept by a shared cache when it is personal."""
    embedded: Embedded | None = g.get("embed")
    ancestors = embedded.frame_ancestors if embedded is not None else _any_site_ancestors()
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        "frame-ancestors 'none'", f"frame-ancestors {ancestors}")
    if embedded is not None and embedded.personal:
        response.headers["Cache-Control"] = "private, no-store"
    return response


# -- the pages ------------------------------------------------------------------------------------

@bp.get("/<key>")
def article(key: str):
    """The comment section. Without state or cookie it is one set of bytes for every reader (and
    kept in the page cache like the article page); with them, the reader's notices and comments."""
    statements_stand_alone(db.session())  # either way it only reads
    embedded = _enter(key)
    target = embedded.target
    args = reader._page_args()
    g.comments_converted = reader._comments_converted()
    if embedded.personal:
        return _personal_page(embedded, args)
    return reader.shared_page(
        ("embed", target.id, target.revision, args, g.comments_converted, current_language().tag,
         embedded.parent_origin, embedded.language_switch),
        lambda: reader._render_article_page(db.session.get(Article, target.id), args, personal=None,
                                            template="embed/article.html"))


def _personal_page(embedded: Embedded, args: reader.PageArgs) -> str:
    found = db.session.get(Article, embedded.target.id)
    reader_hash = reader_identity.author_hash(embedded.reader) if embedded.reader else None
    notice = request.args.get("notice")
    personal = reader.PersonalParts(
        notices=[notice] if notice in NOTICES else [],
        own=own_comments(db.session, found.id, reader_hash if args.first_page else None),
        pinyin_hidden=False,
        notice_about=request.args.get("about", type=row_id) if notice in NOTICES else None,
        **reader.marks_of(found.id, embedded.reader),
    )
    return reader._render_article_page(found, args, personal=personal, template="embed/article.html")


@bp.get("/<key>/comment")
def comment_form(key: str):
    return reader.comment_form(_enter(key, personal=True).target.slug)


@bp.post("/<key>/comment")
def continue_comment(key: str):
    """The shared frame's form (no state yet): what was typed kept, a state and a captcha added."""
    return reader.continue_comment(_enter(key, personal=True).target.slug)


@bp.post("/<key>/comments")
def post_comment(key: str):
    embedded = _enter(key, personal=True)
    if not _posted_from_frame(embedded):
        return reader.form_expired(embedded.target.slug)  # the form again, all typed kept, a fresh state
    return reader.post_comment(embedded.target.slug)


@bp.get("/<key>/comments/<id:comment_id>/replies")
def thread(key: str, comment_id: int):
    return reader.thread(_enter(key).target.slug, comment_id)


@bp.get("/<key>/comments/<id:comment_id>/report")
def report_form(key: str, comment_id: int):
    return reader.report_form(_enter(key, personal=True).target.slug, comment_id)


@bp.post("/<key>/comments/<id:comment_id>/report")
def report_comment(key: str, comment_id: int):
    embedded = _enter(key, personal=True)
    if not _posted_from_frame(embedded):
        return render_template("error.html", kind="csrf"), 400
    return reader.report_comment(embedded.target.slug, comment_id)


@bp.post("/<key>/comments/<id:comment_id>/like")
@limiter.limit(lambda: current_app.config["LIKE_RATE_LIMIT_PER_ADDRESS"])
def like_comment(key: str, comment_id: int):
    """讚 from the frame, shared or not: like the reader's, it needs no token, only a request from
    the frame's own origin (reader._cross_site); a reader without one gets one, in the state."""
    return reader.like_comment(_enter(key, personal=True).target.slug, comment_id)


@bp.get("/<key>/captcha/<challenge_id>.png")
@limiter.limit(lambda: current_app.config["CAPTCHA_IMAGE_RATE_LIMIT"])
def captcha_image(key: str, challenge_id: str):
    _enter(key, personal=True)
    return reader._captcha_media(challenge_id, CaptchaMedium.IMAGE, "image/png")


@bp.get("/<key>/captcha/<challenge_id>.wav")
@limiter.limit(lambda: current_app.config["CAPTCHA_AUDIO_RATE_LIMIT"])
def captcha_audio(key: str, challenge_id: str):
    _enter(key, personal=True)
    return reader._captcha_media(challenge_id, CaptchaMedium.AUDIO, "audio/wav")


# -- the frame's URLs -----------------------------------------------------------------------------

def _framed(endpoint: str, values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The reader's endpoint as the frame's: under /embed/<key>, carrying state and parent origin."""
    embedded: Embedded | None = g.get("embed")
    if embedded is None:
        return endpoint, values
    if embedded.target is None:  # an unknown key's 404: only its language switch stays in the frame
        if endpoint == "languages.switch":
            return "embed.article", {"key": embedded.key, "lang": values.get("tag")}
        return endpoint, values
    if endpoint.startswith("."):
        endpoint = f"{request.blueprint}{endpoint}"
    blueprint, _, name = endpoint.partition(".")
    if blueprint in ("reader", "embed") and name in FRAMED_ENDPOINTS:
        return f"embed.{name}", embedded.frame_values(dict(values))
    if endpoint == "languages.switch":  # no cookie to remember it in: the frame's URL says it
        framed = embedded.frame_values({"lang": values.get("tag")})
        return "embed.article", framed
    return endpoint, values


def install(app: Flask) -> None:
    """`url_for` (views' and templates') maps the reader's URLs onto the frame's; the frame's forms
    carry no session CSRF token (it would set a session cookie the frame may not keep). After
    CSRFProtect.init_app, whose template global this replaces."""
    plain_url_for = app.url_for

    def url_for(endpoint: str, **values: Any) -> str:
        if has_request_context() and "embed" in g:
            endpoint, values = _framed(endpoint, values)
        return plain_url_for(endpoint, **values)

    def csrf_token() -> str:
        return "" if has_request_context() and "embed" in g else generate_csrf()

    app.url_for = url_for  # type: ignore[method-assign]
    app.jinja_env.globals.update(url_for=url_for, csrf_token=csrf_token)
    app.context_processor(lambda: {"csrf_token": csrf_token, "embedded": g.get("embed")})
