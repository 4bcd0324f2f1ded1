"""Blueprint for readers: the article page (最新 / 最熱), the comment form and its captcha, reports, likes.

The article page is one set of bytes for every reader who holds none of our cookies: public,
cacheable, validated by ETag, and writing nothing (no session, no Set-Cookie, no challenge). What
belongs to one visitor (CSRF token, captcha challenge, notices, their comments still in review)
comes from `/form-token` when they start writing, from the form page without JavaScript, or from
the private variant served to a reader who already holds one of our cookies.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import partial

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    get_flashed_messages,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import generate_csrf

from moderation.clock import now
from moderation.database import answer_deadline, statements_stand_alone
from moderation.extensions import csrf, db, limiter
from moderation.ids import row_id
from moderation.models import (
    Article,
    CaptchaMedium,
    Comment,
    CommentMode,
    CommentStatus,
    ReportReason,
    RestrictionKind,
)
from moderation.screening.pipeline import Outcome
from moderation.services import captcha, comments, external_check, likes, listing, outbox, sanctions, surge
from moderation.services.articles import find_article, front_page_article
from moderation.services.nicknames import check_nickname
from moderation.services.own_comments import OwnComment, own_comments
from moderation.services.paging import Cursor, HotCursor
from moderation.services.rate_limits import captcha_retry_after
from moderation.services.rulebook.cache import active_rules, thresholds_from
from moderation.short_lived import short_lived
from moderation.web import errors, external_checks, languages, reader_identity
from moderation.web.forms import CARRIED_ERRORS, CommentForm, FormError, ReportForm, carried_errors
from moderation.web.languages import article_in_reader_script, comments_convertible, current_language
from moderation.web.outages import UNAVAILABLE
from moderation.web.page_cache import RenderedPage
from moderation.web.responses import from_this_host, see_other

bp = Blueprint("reader", __name__)

PINYIN_COOKIE = "pinyin"
SCRIPT_COOKIE = "script"  # "converted": comments in the reader's script (Simplified or Traditional)
SORTS = ("new", "hot")  # 最新, 最熱
NOTICE_ANCHOR = "notice"
NO_STORE = "no-store"
RECENT_ARTICLES = 256


@dataclass(frozen=True)
class PersonalParts:
    """What only this reader sees on the article page."""

    notices: list[str]
    own: list[OwnComment]  # this reader's comments on the article, with what became of each
    pinyin_hidden: bool
    liked: frozenset[int] = frozenset()  # the comments this reader likes (pressed 讚 without JavaScript)
    reported: frozenset[int] = frozenset()  # the comments this reader reported (已檢舉, not the link)
    notice_about: int | None = None  # the comment the notices are about (a report): said beside it


def browser_nonce(*, create: bool) -> str | None:
    """A random value in the signed session tying captcha challenges to this browser; in the
    embedded comment section, in the frame's signed state (a frame may keep no cookie)."""
    embedded = g.get("embed")
    if embedded is not None:
        return embedded.nonce
    if "captcha_nonce" not in session and create:
        session["captcha_nonce"] = secrets.token_urlsafe(24)
    return session.get("captcha_nonce")


def personal_cookie_names() -> tuple[str, ...]:
    """Our cookies that make a page the reader's own (deploy/nginx.conf passes such readers by)."""
    return current_app.config["SESSION_COOKIE_NAME"], reader_identity.READER_COOKIE, PINYIN_COOKIE, SCRIPT_COOKIE


def is_personal_request() -> bool:
    """Does the browser hold any cookie of ours? Only then may the page differ from the shared one."""
    return any(name in request.cookies for name in personal_cookie_names())


bp.add_app_template_global(frozenset().union(*CARRIED_ERRORS.values()), "carried_errors")  # the form's macro


@bp.get("/")
def front_page():
    article = front_page_article(db.session, current_app.config["FRONT_PAGE_ARTICLE"])
    if article is None:
        abort(404)
    return redirect(url_for(".article", slug=article.slug))


@dataclass(frozen=True)
class PageArgs:
    """What the article's URL asks for: the sort, a keyset page of it, comments in the reader's script."""

    sort: str = "new"
    before: Cursor | HotCursor | None = None
    after: Cursor | None = None

    @property
    def first_page(self) -> bool:
        return self.before is None and self.after is None


def _page_args() -> PageArgs:
    sort = request.args.get("sort", "new")
    if sort not in SORTS:
        abort(404)
    if sort == "hot":
        if "after" in request.args:
            abort(404)
        raw = request.args.get("before")
        before = None if raw is None else HotCursor.decode(raw)
        if raw is not None and before is None:
            abort(404)
        return PageArgs(sort, before)
    before, after = _cursor_arg("before"), _cursor_arg("after")
    if before is not None and after is not None:
        abort(404)
    return PageArgs(sort, before, after)


def _comments_converted() -> bool:
    """Comments in the reader's script: `?script=converted` (its own URL), else the remembered choice."""
    asked = request.args.get("script") or request.cookies.get(SCRIPT_COOKIE)
    return asked == "converted" and comments_convertible()


@bp.get("/articles/<slug>")
def article(slug: str):
    args = _page_args()
    g.comments_converted = _comments_converted()
    if is_personal_request():
        found = find_article(db.session, slug)
        if found is None:
            abort(404)
        return _personal_article_page(found, args)
    statements_stand_alone(db.session())  # the shared page only reads
    state = listing.article_state(db.session, slug)
    if state is None:
        abort(404)
    return shared_page((state.id, state.revision, args, g.comments_converted, current_language().tag),
                       lambda: _render_article_page(db.session.get(Article, state.id), args, personal=None))


def shared_page(key: tuple, render) -> Response:
    """The page every reader without a cookie gets, from the page cache by `key` (`render()` on a
    miss): public, briefly cacheable, answered 304 by its ETag."""
    pages = current_app.extensions["article_pages"]
    # Likes change counts and 最熱 without changing the revision: a page is rendered again at most
    # every ARTICLE_COUNTS_REFRESH_SECONDS (the same bytes keep the same ETag, so 304 still answers).
    refresh = max(1, current_app.config["ARTICLE_COUNTS_REFRESH_SECONDS"])
    key = (*key, int(now().timestamp()) // refresh)
    page = pages.get(key)
    if page is None:
        page = RenderedPage.of(render())
        pages.put(key, page)
    response = Response(page.body, mimetype="text/html")
    response.set_etag(page.etag)
    shared_cache_headers(response)
    return response.make_conditional(request)


def shared_cache_headers(response: Response) -> None:
    """Shared caches (a CDN, deploy/nginx.conf, which keys the page by the `lang` cookie too) keep a
    shared page for ARTICLE_CACHE_S_MAXAGE; a browser asks again each time, answered 304 by the
    ETag. A browser's cache cannot tell that the page's language, script and glosses follow our
    cookies: kept for a few seconds, the page came back in the old language after the language
    switch, and unchanged after the pinyin or script switch."""
    response.cache_control.public = True
    response.cache_control.max_age = 0
    response.cache_control.s_maxage = current_app.config["ARTICLE_CACHE_S_MAXAGE"]


def _notice_at(personal: PersonalParts | None, page, replies: dict) -> int | None:
    """The comment a notice is about (a report), when this page shows it: the notice stands beside it."""
    about = personal.notice_about if personal is not None else None
    if about is None:
        return None
    shown = any(comment.id == about for comment in page.comments) or any(
        reply.comment.id == about for found in replies.values() for reply in found)
    return about if shown else None


def _personal_article_page(article: Article, args: PageArgs):
    token = reader_identity.reader_token(request)
    reader_hash = reader_identity.author_hash(token) if token else None
    personal = PersonalParts(
        notices=get_flashed_messages(category_filter=["notice"]),
        own=own_comments(db.session, article.id, reader_hash if args.first_page else None),
        pinyin_hidden=request.cookies.get(PINYIN_COOKIE) == "hidden",
        notice_about=(get_flashed_messages(category_filter=["notice_about"]) or [None])[0],
        **marks_of(article.id, token),
    )
    response = make_response(_render_article_page(article, args, personal=personal))
    # What became of this reader's comments is theirs alone: no cache, shared or not, keeps it.
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _render_article_page(article: Article, args: PageArgs, *, personal: PersonalParts | None,
                         template: str = "reader/article.html") -> str:
    size = current_app.config["COMMENTS_PAGE_SIZE"]
    if args.sort == "hot":
        page = listing.hot_page(db.session, article.id, before=args.before, size=size)
    else:
        page = listing.approved_page(db.session, article.id, before=args.before, after=args.after, size=size,
                                     threads=True)
    # The same number of queries whatever the page holds: one for every thread's first replies.
    replies = listing.first_replies(db.session, [comment.id for comment in page.comments if comment.reply_count])
    return render_template(
        template,
        article=article,
        text=article_in_reader_script(article),
        listing=page,
        sort=args.sort,
        replies=replies,
        # A report's notice beside the comment reported, when the page shows it; else at the top.
        notice_at=_notice_at(personal, page, replies),
        picks=listing.picks(db.session, article.id) if page.is_first else [],
        form=CommentForm(formdata=None),
        personal=personal,
        liked=personal.liked if personal else frozenset(),
        reported=personal.reported if personal else frozenset(),
        comments_converted=g.comments_converted,
        comments_convertible=comments_convertible(),
        # Links keep what the URL asked for: 最熱, and the script when the URL (not a cookie) chose it.
        sort_arg="hot" if args.sort == "hot" else None,
        script_arg=request.args.get("script") if request.args.get("script") in ("converted", "original") else None,
        script_remembered=personal is not None and request.cookies.get(SCRIPT_COOKIE) == "converted",
        comments_closed=article.comment_mode is CommentMode.CLOSED,
    )


def _cursor_arg(name: str) -> Cursor | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    cursor = Cursor.decode(raw)
    if cursor is None:
        abort(404)
    return cursor


def _form_with_unreadable_characters(slug: str):
    """A comment form whose body was not UTF-8, or held NUL (a broken client, text pasted from a
    binary file): the form again with what could be read, each field that lost something saying so.
    Nothing is stored, and the challenge was not used: it comes back with the answer typed."""
    article = _article_or_404(slug)
    readable, changed = errors.readable_form()
    form = CommentForm(formdata=readable)
    fields = [field for field in (form.nickname, form.body, form.captcha_answer) if field.name in changed]
    if not fields:  # a field the reader does not see: said above the box, the one they wrote
        fields = [form.body]
    for field in fields:
        field.errors = [FormError.UNREADABLE_CHARACTERS]
    return render_form_page(article, form, status=400, keep_challenge=True)


@bp.record_once
def _salvage_malformed_comment_forms(state) -> None:
    state.app.extensions.setdefault("malformed_form_pages", {}).update(
        {"reader.post_comment": _form_with_unreadable_characters, "reader.continue_comment": _form_with_unreadable_characters})


@bp.get("/articles/<slug>/comment")
def comment_form(slug: str):
    """The form page; `?reply_to=<id>` opens it as a reply (the 回覆 link without JavaScript)."""
    form = CommentForm(formdata=None)
    form.reply_to.data = request.args.get("reply_to", "")[:40]
    return render_form_page(_article_or_404(slug), form)


@csrf.exempt
@bp.post("/articles/<slug>/comment")
def continue_comment(slug: str):
    """The shared page's form without JavaScript: keep what was typed, add a token and a captcha.
    Also where the form page's language buttons send the form: the page again, in that language,
    with the draft (a link would drop it without JavaScript).

    Stores nothing, so it needs no CSRF token (the shared page cannot carry one).
    """
    # In the embedded frame the URL carries the language on (a cookie there may not be kept).
    language = languages.switched_language(request.form.get("switch_language"), in_url=g.get("embed") is not None)
    form = CommentForm()
    refused = language is not None and carried_errors(form, request.form.getlist("shown_error"))
    if language is None:
        # The nickname's rules (a reserved name, a control character) and the text's (bidi controls
        # that reorder it, its length) are said now, beside the captcha, not after it: they need no
        # captcha and store nothing, and a reader told after would answer a second captcha.
        nickname_ok = not form.nickname.data or form.nickname.validate(form, [CommentForm.validate_nickname])
        body_ok = not (form.body.data or "").strip() or form.body.validate(form, [CommentForm.validate_body])
        refused = not (nickname_ok and body_ok)
    form.continued = not refused and (language is None or bool((form.body.data or "").strip()))  # says the draft was kept
    response = render_form_page(_article_or_404(slug), form)
    if language is not None:
        languages.remember_language(response, language)
    return response


@bp.get("/articles/<slug>/comments/<id:comment_id>/replies")
def thread(slug: str, comment_id: int):
    """All the published replies of one thread, in keyset pages (「查看全部 N 則回覆」): the same for
    every reader, so public and cacheable by its URL; reader.js appends it in place."""
    article = _article_or_404(slug)
    later = _cursor_arg("after")
    found = listing.thread_page(db.session, comment_id, after=later, size=current_app.config["COMMENTS_PAGE_SIZE"])
    if found.top is None or found.top.article_id != article.id or found.top.is_reply or not found.top.listed:
        abort(404)
    response = make_response(render_template("reader/thread.html", article=article, thread=found, after=later,
                                             back_to_thread=True))
    response.add_etag()
    shared_cache_headers(response)
    return response.make_conditional(request)


@bp.get("/form-token")
def form_token():
    """What a reader's browser needs to post from the shared page: a CSRF token and a challenge;
    with `?article=<id>`, the comments of that article this reader likes (its pressed 讚 buttons);
    with `&parts=likes` only those (reader.js asks on load once the browser has liked something)."""
    token = reader_identity.reader_token(request)
    if request.args.get("parts") == "likes":  # the pressed buttons only: no challenge, no session
        response = jsonify(liked=_liked_by_reader(token))
    else:
        response = jsonify(captcha=_new_challenge(), csrf_token=generate_csrf(),
                           captcha_needed=_captcha_needed(token), liked=_liked_by_reader(token))
    response.headers["Cache-Control"] = NO_STORE
    return response


def _liked_by_reader(token: str | None) -> list[int]:
    article_id = request.args.get("article", type=row_id)
    if token is None or article_id is None:
        return []
    try:
        return likes.liked_on_article(db.session, article_id, reader_identity.author_hash(token))
    except UNAVAILABLE:
        db.session.rollback()
        return []


def _reader_limit_key() -> str:
    """Flask-Limiter's key for a reader: their token, or their address when they have none yet."""
    token = reader_identity.reader_token(request)
    return f"reader:{reader_identity.author_hash(token)}" if token else f"address:{request.remote_addr}"


def _cross_site() -> bool:
    """A like sent from another site's page (the shared page's form carries no CSRF token: the
    browser's Origin and Sec-Fetch-Site headers say where it comes from)."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return True
    origin = request.headers.get("Origin")
    return origin is not None and not from_this_host(origin)


@csrf.exempt
@bp.post("/articles/<slug>/comments/<id:comment_id>/like")
@limiter.limit(lambda: current_app.config["LIKE_RATE_LIMIT_PER_ADDRESS"])
@limiter.limit(lambda: current_app.config["LIKE_RATE_LIMIT_PER_READER"], key_func=_reader_limit_key)
def like_comment(slug: str, comment_id: int):
    """讚, or its undo: `like=1` / `like=0` (reader.js), or a flip (the shared page's form without
    JavaScript), then 303 back to the comment. No captcha, never on a GET; per reader by their
    cookie (a reader without one gets one), counted as services.likes says."""
    wants_json = request.accept_mimetypes.best == "application/json"
    if _cross_site():
        return _like_refused("like_forbidden", 403, wants_json)
    statements_stand_alone(db.session())  # the article and the like: one statement on PostgreSQL
    wanted = {"1": True, "0": False}.get(request.form.get("like", ""))
    token = reader_identity.reader_token_or_new(request)
    result = likes.set_like_on_article(
        db.session, slug, comment_id, reader_hash=reader_identity.author_hash(token),
        ip_hash=reader_identity.client_ip_hash(request), like=wanted, now=now(),
        per_address=current_app.config["LIKES_COUNTED_PER_ADDRESS"])
    if result.outcome is likes.LikeOutcome.NO_ARTICLE:
        db.session.rollback()
        abort(404)
    if result.refused:
        db.session.rollback()
        kind = "like_missing" if result.outcome is likes.LikeOutcome.NOT_FOUND else "like_unpublished"
        return _like_refused(kind, 404 if kind == "like_missing" else 409, wants_json)
    db.session.commit()
    if wants_json:
        response = jsonify(outcome=result.outcome.value, liked=result.liked, like_count=result.like_count,
                           counted=result.counted)
        response.headers["Cache-Control"] = NO_STORE
        return response
    # Where the form came from is in its action's query (a page cached before it moved there: in its fields).
    thread = request.values.get("thread", type=row_id)
    if thread is None and request.values.get("sort") != "hot":
        # Said beside the comment, as reader.js says it (a pressed button alone is not announced); and
        # that the count did not move, when it did not.
        notice = "like_uncounted" if result.liked and not result.counted else (
            "like_recorded" if result.liked else "like_taken_back")
        return back_with_notice(slug, notice, about=comment_id)
    if thread is not None:  # liked on the thread's own page: back there
        return see_other(url_for(".thread", slug=slug, comment_id=thread, _anchor=f"comment-{comment_id}"))
    sort = request.values.get("sort")
    return see_other(url_for(".article", slug=slug, sort="hot" if sort == "hot" else None,
                             _anchor=f"comment-{comment_id}"))


def _like_refused(kind: str, status: int, wants_json: bool):
    if wants_json:
        response = jsonify(outcome=kind)
    else:
        response = make_response(render_template("error.html", kind=kind))
    response.status_code = status
    response.headers["Cache-Control"] = NO_STORE
    return response


@bp.get("/nickname-check")
def nickname_check():
    """The server's own nickname rules for the form as the reader types (reader.js words the code).
    The answer depends on the configuration only, so caches may keep it; the request log never
    records the query string."""
    config = current_app.config
    result = check_nickname(request.args.get("nickname", ""), max_length=config["NICKNAME_MAX_LENGTH"],
                            reserved=config["RESERVED_NICKNAMES"])
    response = jsonify(problem=result.problem.value if result.problem else None)
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


@bp.post("/articles/<slug>/comments")
def post_comment(slug: str):
    article = _article_or_404(slug)
    form = CommentForm()
    action = request.form.get("action", "post")
    if action in {"new_captcha", "audio", "image"}:  # the form's no-JavaScript controls
        medium = {"audio": CaptchaMedium.AUDIO, "image": CaptchaMedium.IMAGE}.get(action)
        return render_form_page(article, form, medium=medium)
    if article.comment_mode is CommentMode.CLOSED:
        return render_form_page(article, form, status=403)

    config = current_app.config
    nonce = browser_nonce(create=False)
    reply_to = comments.reply_target(db.session, article, form.reply_to.data)
    # A reply to a comment that cannot be answered is refused like a field (the form page says why).
    if not form.validate() or isinstance(reply_to, comments.ReplyProblem):
        # The other fields first: a form refused for them neither consumes the challenge nor counts
        # as a captcha failure, and the same challenge (and the answer typed for it) comes back.
        db.session.rollback()
        return render_form_page(article, form, status=422, keep_challenge=True)
    key = submission_key_of(form)
    earlier = _earlier_sending(form, key)
    if earlier is not None and earlier.received:
        # The same form again, its reply lost (a dropped connection, a commit whose answer never
        # came, a worker killed after the commit): it was received once; say so again, store nothing.
        db.session.rollback()
        return _received_before(article, earlier, nonce=nonce, key=key)
    if earlier is not None:
        # This form's key is spent on another text (or on the same text, refused): a new sending.
        db.session.rollback()
        form.submission_key.data = comments.new_submission_key()
        form.body.errors = [FormError.BODY_REFUSED if earlier.same_content else FormError.ALREADY_SENT]
        return render_form_page(article, form, status=422)

    ip_hash = reader_identity.client_ip_hash(request)
    token = reader_identity.reader_token(request)
    # A new reader's author (no token yet) can have no restriction; a returning one's is read once.
    restriction = sanctions.restriction_of(db.session, reader_identity.author_hash(token), now()) if token else None
    if restriction is not None and restriction.kind is not RestrictionKind.PREMODERATE:
        return _restricted(article, form, restriction)  # told before the captcha: no answer is wasted
    if not _captcha_needed(token):
        # A returning author whom the trust ramp trusts: no captcha; the submission key still
        # makes the same form sent twice one comment.
        return _store_comment(article, form, token=token, ip_hash=ip_hash, key=key, nonce=nonce, reply_to=reply_to,
                              checked=_ask_external_check(article, form, reply_to), restriction=restriction)
    wait = captcha_retry_after(
        db.session, browser_nonce=nonce, ip_hash=ip_hash, config=config, now=now()
    )
    if wait:
        db.session.rollback()
        form.captcha_answer.errors = [FormError.CAPTCHA_WAIT]
        form.captcha_answer.retry_after = wait
        return render_form_page(article, form, status=429, headers={"Retry-After": str(wait)})
    # The admin's own classifier, when one is set: asked once the reader may answer the captcha and
    # before the answer is judged, with no transaction open (judging the answer and storing the
    # comment are then one transaction).
    checked = _ask_external_check(article, form, reply_to)
    # A right answer is only looked at here; the challenge is consumed in the posting's closing
    # writes (comments.post_comment), so that on SQLite the write lock is not held while the
    # comment is read about and screened.
    if not captcha.would_pass(db.session, form.captcha_id.data, form.captcha_answer.data, browser_nonce=nonce,
                              config=config, now=now()):
        return _captcha_refused(article, form, token=token, ip_hash=ip_hash, key=key, nonce=nonce,
                                reply_to=reply_to, checked=checked, restriction=restriction)
    return _store_comment(article, form, token=token, ip_hash=ip_hash, key=key, nonce=nonce, reply_to=reply_to,
                          checked=checked, restriction=restriction, challenge=form.captcha_id.data)


def _captcha_refused(article, form: CommentForm, *, token, ip_hash: str, key: str | None, nonce: str | None,
                     reply_to, checked, restriction):
    """The challenge consumed and the failure counted (the caller's look said it would not pass, or
    another sending took it meanwhile): the form again with a new challenge."""
    outcome = captcha.check_answer(db.session, form.captcha_id.data, form.captcha_answer.data, browser_nonce=nonce,
                                   ip_hash=ip_hash, config=current_app.config, now=now())
    if outcome is captcha.CaptchaOutcome.PASSED:  # the look and the judging disagree only on a clock's edge
        return _store_comment(article, form, token=token, ip_hash=ip_hash, key=key, nonce=nonce, reply_to=reply_to,
                              checked=checked, restriction=restriction)
    current_app.logger.info("captcha refused: %s", outcome.value)
    db.session.commit()  # the challenge is used up, and a wrong answer counted (captcha.check_answer)
    if outcome is captcha.CaptchaOutcome.ALREADY_USED:
        # The same form sent twice at once: the other sending took the challenge and stored the comment.
        earlier = _earlier_sending(form, key)
        if earlier is not None and earlier.received:
            return _received_before(article, earlier, nonce=nonce, key=key)
    form.captcha_answer.errors = [{captcha.CaptchaOutcome.ALREADY_USED: FormError.CAPTCHA_USED,
                                   captcha.CaptchaOutcome.EXPIRED: FormError.CAPTCHA_EXPIRED,
                                   captcha.CaptchaOutcome.UNKNOWN: FormError.CAPTCHA_NOT_LOADED}
                                  .get(outcome, FormError.CAPTCHA_WRONG)]
    form.submission_key.data = key
    return render_form_page(article, form, status=422)


def _earlier_sending(form: CommentForm, key: str | None):
    """What became of an earlier sending of this form (its submission key), if there was one."""
    return comments.earlier_submission(db.session, key, body=form.body.data, nickname=form.nickname.data,
                                       anonymous=bool(form.anonymous.data))


def _received_before(article, earlier, *, nonce: str | None, key: str | None):
    """This form was stored by an earlier sending: told received again, under the same author cookie."""
    reader_identity.reader_token_or_new(request, derive_from=f"{nonce}:{key}")
    return _posted(article, earlier.status)


def _ask_external_check(article, form: CommentForm, reply_to):
    return external_checks.ask(text=form.body.data, nickname=form.nickname.data or None,
                               anonymous=bool(form.anonymous.data), article_key=article.slug,
                               reply=reply_to is not None)


def _store_comment(article, form: CommentForm, *, token: str | None, ip_hash: str, key: str | None, nonce: str | None,
                   reply_to: comments.ReplyTarget | None = None, checked=None, restriction=None,
                   challenge: str | None = None):
    known_author = token is not None
    token = token or reader_identity.new_reader_token_remembered(derive_from=f"{nonce}:{key}")
    take = (lambda: captcha.take(db.session, challenge, now=now())) if challenge else None
    try:
        posted = _post(article, form, token=token, ip_hash=ip_hash, key=key, known_author=known_author,
                       reply_to=reply_to, checked=checked[1] if checked else None, restriction=restriction,
                       take_challenge=take)
    except comments.AuthorRestricted as refused:
        return _restricted(article, form, refused.restriction)
    except comments.ChallengeTaken:
        db.session.rollback()
        return _captcha_refused(article, form, token=None if not known_author else token, ip_hash=ip_hash, key=key,
                                nonce=nonce, reply_to=reply_to, checked=checked, restriction=restriction)
    if checked is not None:
        external_check.record_outcome(db.session, checked[0], checked[1], now=now())
    try:
        db.session.commit()
    except UNAVAILABLE as error:
        return _after_unanswered_commit(article, key, error)
    if posted.verdict.outcome is Outcome.REJECTED:
        # The reader is told, without the term that caught it, and keeps the text to edit.
        form.body.errors = [FormError.BODY_REFUSED]
        form.submission_key.data = comments.new_submission_key()
        return render_form_page(article, form, status=422)
    # A reply's notice stands in its thread (beside the comment that heads it), where the reader was.
    return _posted(article, posted.status, about=reply_to.thread_id if reply_to is not None else None)


def _restricted(article, form: CommentForm, restriction):
    """A suspended or banned author: told until when and why, with the text kept (no shadow ban)."""
    told = {"until": restriction.until, "reason": restriction.reason}
    db.session.rollback()
    form.body.errors = [FormError.AUTHOR_BANNED if told["until"] is None else FormError.AUTHOR_SUSPENDED]
    form.body.restriction = told
    return render_form_page(article, form, status=403)


def _post(article, form: CommentForm, *, token: str, ip_hash: str, key: str | None, known_author: bool,
          reply_to: comments.ReplyTarget | None, checked: external_check.CheckAnswer | None, restriction,
          take_challenge):
    config = current_app.config
    holds = short_lived("address_holds", lambda: sanctions.hold_ranges_in_force(db.session, now()))
    return comments.post_comment(
        db.session,
        article,
        nickname=form.nickname.data or None,
        anonymous=form.anonymous.data,
        body=form.body.data,
        ip_hash=ip_hash,
        author_hash=reader_identity.author_hash(token),
        now=now(),
        rules=active_rules(db.session, config, current_app.extensions["screening_rules"]),
        submission_key=key,
        known_author=known_author,
        reply_to=reply_to,
        # Hashed only while a hold is in force: nine keyed hashes of the address's ranges per post.
        range_hashes=sanctions.range_hashes(config["IP_PEPPER"], request.remote_addr or "") if holds else [],
        surge_settings=surge.Settings.from_config(config),
        checked=checked,
        restriction=restriction,
        holds=holds,
        subscribers=short_lived("webhook_subscribers", lambda: outbox.subscribers(db.session)),
        take_challenge=take_challenge,
    )


def submission_key_of(form: CommentForm) -> str | None:
    """The form's own key; a form from the shared page has none yet, and its challenge names it."""
    for candidate in (form.submission_key.data, form.captcha_id.data):
        if candidate and comments.SUBMISSION_KEY.match(candidate):
            return candidate
    return None


def _after_unanswered_commit(article, key: str | None, error: Exception):
    """The connection failed while committing: the comment may be stored or not. Look before
    answering: stored, the reader is told it was received; not (or the database cannot say), the
    form again with its key, so that sending it again cannot store it twice."""
    try:
        db.session.rollback()
        # A quick question: the reader is waiting, and the database may be stalled, not cut.
        with answer_deadline(current_app.config["READINESS_TIMEOUT_SECONDS"]):
            stored = comments.earlier_submission(db.session, key, body=None, nickname=None, anonymous=False)
    except UNAVAILABLE:
        raise error from None
    if stored is None:
        raise error
    current_app.logger.warning("a commit's answer was lost; comment %s was stored", stored.comment_id)
    return _posted(article, stored.status)


def _captcha_needed(token: str | None) -> bool:
    """A captcha unless the trust ramp says otherwise; also while the database cannot say (the
    token endpoint and the form page still answer in an outage)."""
    config = current_app.config
    if token is None or not config["CAPTCHA_SKIP_FOR_TRUSTED"]:
        return True
    try:
        return captcha.needed_for(
            db.session, reader_identity.author_hash(token),
            limits=thresholds_from(config), config=config, now=now(),
        )
    except UNAVAILABLE:
        db.session.rollback()
        return True


def _posted(article, status: CommentStatus, *, about: int | None = None):
    return back_with_notice(article.slug, "comment_approved" if status is CommentStatus.APPROVED else "comment_pending",
                            about=about)


def back_with_notice(slug: str, notice: str, *, about: int | None = None):
    """To the article's notice, which takes the focus: a screen reader hears it, and it is in view
    (beside the comment it is `about`, when the page shows that comment). The notice is flashed;
    the embedded comment section, which may keep no session, names it in its URL instead (web/embed.py)."""
    embedded = g.get("embed")
    if embedded is None:
        flash(notice, "notice")
        if about is not None:
            flash(about, "notice_about")
    return see_other(url_for(".article", slug=slug, notice=notice if embedded else None,
                             about=about if embedded else None, _anchor=NOTICE_ANCHOR))


def form_expired(slug: str | None = None):
    """CSRF failure on the comment form: show it again with everything typed kept."""
    article = comments.article_by_slug(db.session, slug or (request.view_args or {}).get("slug", ""))
    if article is None:
        return render_template("error.html", kind=404), 404
    form = CommentForm()
    form.csrf_expired = True
    return render_form_page(article, form, status=400)


def form_during_outage(*, headers: dict):
    """The database is unreachable while posting: the form again, with everything typed and its
    submission key, and nothing that needs the database (the article as this worker last saw it)."""
    slug = (request.view_args or {}).get("slug", "")
    form = CommentForm()
    form.outage = True
    article = _recent_articles().get(slug) or comments.ArticleRef(
        id=0, slug=slug, title="", comment_mode=CommentMode.PRE_MODERATION)
    return render_form_page(article, form, status=503, headers=headers, database=False)


def _recent_articles() -> dict[str, comments.ArticleRef]:
    return current_app.extensions.setdefault("recent_articles", {})


def _remember(article: comments.ArticleRef) -> None:
    """Enough of the articles this worker served to name one on the page of an outage."""
    recent = _recent_articles()
    recent[article.slug] = article
    if len(recent) > RECENT_ARTICLES:
        del recent[next(iter(recent))]


@bp.get("/articles/<slug>/comments/<id:comment_id>/report")
def report_form(slug: str, comment_id: int):
    article = _article_or_404(slug)
    comment = comments.reportable_comment(db.session, article, comment_id)
    if comment is None:
        abort(404)
    response = make_response(render_template("reader/report.html", article=article, comment=comment,
                                             form=ReportForm(formdata=None)))
    response.headers["Cache-Control"] = NO_STORE
    return response


def marks_of(article_id: int, token: str | None) -> dict[str, frozenset[int]]:
    """The comments a reader's own page marks: those they like (pressed 讚) and those they reported
    (已檢舉). With a token, the reporter is the reader's author hash, the key of their likes too."""
    reporter = reporter_hash(token)
    return {"liked": frozenset(likes.liked_on_article(db.session, article_id, reporter)) if token else frozenset(),
            "reported": frozenset(comments.reported_on_article(db.session, article_id, reporter))}


def reporter_hash(token: str | None) -> str:
    """Who reports: a reader with a token as themselves; one without as their address, once
    (dropping the cookie must not make a new reporter)."""
    if token:
        return reader_identity.author_hash(token)
    return reader_identity.keyed_hash(f"reporter:{reader_identity.client_ip_hash(request)}")


@bp.post("/articles/<slug>/comments/<id:comment_id>/report")
def report_comment(slug: str, comment_id: int):
    article = _article_or_404(slug)
    form = ReportForm()
    noted = form.validate()
    chosen = request.form.get("reason", "")
    if not chosen:  # none is chosen for the reader
        return _report_refused(article, comment_id, None, form, problem="reason_missing")
    try:
        reason = ReportReason(chosen)
    except ValueError:
        reason = ReportReason.OTHER
    if not noted:
        # The note cannot be stored as typed: say why, keeping the reason and the words.
        return _report_refused(article, comment_id, reason, form)
    ip_hash = reader_identity.client_ip_hash(request)
    config = current_app.config
    token = reader_identity.reader_token(request)
    outcome = comments.report_comment(
        db.session, article, comment_id, reason,
        reporter_hash=reporter_hash(token),
        reporter_ip_hash=ip_hash,
        now=now(),
        hide_threshold=config["REPORT_HIDE_THRESHOLD"],
        per_hour=config["REPORTS_PER_HOUR"],
        per_hour_per_address=config["REPORTS_PER_HOUR_PER_ADDRESS"],
        note=form.note.data or "",
    )
    if outcome is comments.ReportOutcome.NOT_FOUND:
        abort(404)
    db.session.commit()
    # A browser without a cookie reports as its address: "already" may be a colleague's report there.
    said = "already_here" if outcome is comments.ReportOutcome.ALREADY and token is None else outcome.value
    if request.accept_mimetypes.best == "application/json":  # reader.js reports in place
        response = jsonify(outcome=said)
        response.headers["Cache-Control"] = NO_STORE
        return response
    return back_with_notice(article.slug, f"report_{said}", about=comment_id)


def _report_refused(article: comments.ArticleRef, comment_id: int, reason: ReportReason | None, form: ReportForm,
                    problem: str | None = None):
    comment = comments.reportable_comment(db.session, article, comment_id)
    if comment is None:
        abort(404)
    if request.accept_mimetypes.best == "application/json":  # reader.js words the code
        response = jsonify(outcome="refused", problem=problem or form.note.errors[0])
    else:
        response = make_response(render_template("reader/report.html", article=article, comment=comment,
                                                 reason=reason.value if reason else None, form=form,
                                                 missing=problem == "reason_missing"))
    response.status_code = 422
    response.headers["Cache-Control"] = NO_STORE
    return response


@bp.get("/captcha/new")
def new_captcha():
    response = jsonify(_new_challenge())
    response.headers["Cache-Control"] = NO_STORE
    return response


def _new_challenge() -> dict:
    """A fresh challenge id for this browser and where its image and audio are (nothing stored yet)."""
    browser_nonce(create=True)
    challenge_id = captcha.new_challenge_id()
    return {
        "id": challenge_id,
        "image": url_for(".captcha_image", challenge_id=challenge_id),
        "audio": url_for(".captcha_audio", challenge_id=challenge_id),
    }


@bp.get("/captcha/<challenge_id>.png")
@limiter.limit(lambda: current_app.config["CAPTCHA_IMAGE_RATE_LIMIT"])
def captcha_image(challenge_id: str):
    return _captcha_media(challenge_id, CaptchaMedium.IMAGE, "image/png")


@bp.get("/captcha/<challenge_id>.wav")
@limiter.limit(lambda: current_app.config["CAPTCHA_AUDIO_RATE_LIMIT"])
def captcha_audio(challenge_id: str):
    return _captcha_media(challenge_id, CaptchaMedium.AUDIO, "audio/wav")


def _captcha_media(challenge_id: str, medium: CaptchaMedium, mimetype: str):
    try:
        media = captcha.challenge_media(
            db.session,
            challenge_id,
            medium,
            browser_nonce=browser_nonce(create=False),
            config=current_app.config,
            now=now(),
            # Read in Mandarin to a Chinese reader, in English to an English one.
            render=partial(captcha.render_media, voice=captcha.voice_for(current_language().tag)),
        )
    except captcha.ChallengeUnavailable:
        abort(404)
    db.session.commit()
    response = make_response(media)
    response.mimetype = mimetype
    response.headers["Cache-Control"] = NO_STORE
    return response


@csrf.exempt
@bp.post("/preferences/pinyin")
def toggle_pinyin():
    """Flip the gloss preference cookie (the path without JavaScript).

    No CSRF token: the shared page cannot carry one, and a forged request could only show or hide
    the glosses in the sender's own browser.
    """
    return _flipped_preference(PINYIN_COOKIE, "hidden")


@csrf.exempt
@bp.post("/preferences/script")
def toggle_comment_script():
    """Remember (or forget) showing comments in the reader's script: a cookie, like the pinyin one,
    and for the same reason without a CSRF token."""
    return _flipped_preference(SCRIPT_COOKIE, "converted")


def _flipped_preference(cookie: str, value: str):
    """Set a preference cookie, or clear it when it is set, and go back to the article (`slug`)."""
    slug = request.form.get("slug", "")
    response = see_other(url_for(".article", slug=slug) if slug else url_for(".front_page"))
    if request.cookies.get(cookie) == value:
        response.delete_cookie(cookie)
    else:
        response.set_cookie(cookie, value, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


# A wait shorter than this passes while the reader solves the captcha; a longer one would leave them
# solving a captcha that cannot be answered yet, so the form says when instead of showing one.
CAPTCHA_SHOWN_DURING_WAIT_SECONDS = 60


def render_form_page(article: comments.ArticleRef, form: CommentForm, *, medium: CaptchaMedium | None = None,
                     status=200, headers=None, keep_challenge=False, database=True):
    """The form page; it is never cached. The captcha keeps the medium the reader chose (a blind
    reader must not hunt for 改聽語音 after each mistake). Every render carries a fresh challenge id,
    except a form refused for its other fields (`keep_challenge`): its challenge was not used, so it
    comes back with the answer typed for it. A browser that must wait out its wrong answers is told
    how long instead of being shown a captcha (`database=False` during an outage: nothing to ask)."""
    nonce = browser_nonce(create=True)
    if medium is None:
        medium = CaptchaMedium.AUDIO if form.captcha_medium.data == "audio" else CaptchaMedium.IMAGE
    form.captcha_medium.data = medium.value
    if not comments.SUBMISSION_KEY.match(form.submission_key.data or ""):
        form.submission_key.data = submission_key_of(form) or comments.new_submission_key()
    kept = keep_challenge and captcha.CHALLENGE_ID.match(form.captcha_id.data or "")
    answer = (form.captcha_answer.data or "") if kept else ""
    needed = not database or _captcha_needed(reader_identity.reader_token(request))
    wait = getattr(form.captcha_answer, "retry_after", None)
    if wait is None and database and needed:
        wait = captcha_retry_after(db.session, browser_nonce=nonce, ip_hash=reader_identity.client_ip_hash(request),
                                   config=current_app.config, now=now())
    reply = comments.reply_target(db.session, article, form.reply_to.data) if database else None
    if isinstance(reply, comments.ReplyProblem):
        form.reply_to.errors = [FormError(reply.value)]
        form.reply_to.data = ""  # sent again, it is a comment of its own (the message says so)
        reply = None
    comments_closed = article.comment_mode is CommentMode.CLOSED
    html = render_template(
        "reader/comment_form.html",
        article=article,
        form=form,
        reply=reply,
        quoted=_quoted(reply) if reply else None,
        challenge_id=form.captcha_id.data if kept else captcha.new_challenge_id(),
        answer=answer,
        captcha_medium=medium.value,
        captcha_needed=needed,
        # The language switch sends the form to the form page, the draft with it (continue_comment).
        language_switch_action=None if comments_closed else url_for(".continue_comment", slug=article.slug),
        language_return_path=url_for(".comment_form", slug=article.slug),
        captcha_wait=wait if wait and wait >= CAPTCHA_SHOWN_DURING_WAIT_SECONDS else 0,
        comments_closed=comments_closed,
    )
    response = make_response(html, status)
    response.headers["Cache-Control"] = NO_STORE
    response.headers.update(headers or {})
    return response


# The start of the comment a reply answers, quoted on the form page: the reader who followed 回覆
# without JavaScript has left the article, and with it the comment.
QUOTED_CHARACTERS = 120


def _quoted(reply: comments.ReplyTarget) -> str:
    text = listing.public_text(db.session.get(Comment, reply.comment_id))
    return text if len(text) <= QUOTED_CHARACTERS else text[:QUOTED_CHARACTERS].rstrip() + "…"


def _article_or_404(slug: str) -> comments.ArticleRef:
    found = comments.article_by_slug(db.session, slug)
    if found is None:
        abort(404)
    _remember(found)
    return found
