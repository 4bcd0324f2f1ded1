"""Blueprint for readers: the article page, the comment form and its captcha."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import select

from moderation import captcha, comments, identity
from moderation.article import parse_body
from moderation.extensions import db, limiter
from moderation.forms import WRONG_CAPTCHA, CommentForm
from moderation.models import Article, CaptchaMedium, CommentMode, CommentStatus, ReportReason
from moderation.screening.pipeline import Outcome
from moderation.screening_rules import active_rules

bp = Blueprint("reader", __name__)

PINYIN_COOKIE = "pinyin"
NO_STORE = "no-store"


def now() -> datetime:
    return current_app.config["CLOCK"]()


def browser_nonce(*, create: bool) -> str | None:
    """A random value in the signed session tying captcha challenges to this browser."""
    if "captcha_nonce" not in session and create:
        session["captcha_nonce"] = secrets.token_urlsafe(24)
    return session.get("captcha_nonce")


@bp.get("/")
def front_page():
    slug = current_app.config["FRONT_PAGE_ARTICLE"]
    article = comments.article_by_slug(db.session, slug) or db.session.scalar(
        select(Article).order_by(Article.id)
    )
    if article is None:
        abort(404)
    return redirect(url_for(".article", slug=article.slug))


@bp.get("/articles/<slug>")
def article(slug: str):
    return render_article(_article_or_404(slug), CommentForm(formdata=None))


@bp.post("/articles/<slug>/comments")
def post_comment(slug: str):
    article = _article_or_404(slug)
    form = CommentForm()
    action = request.form.get("action", "post")
    if action in {"new_captcha", "audio"}:  # the form's no-JavaScript controls
        medium = CaptchaMedium.AUDIO if action == "audio" else CaptchaMedium.IMAGE
        return render_article(article, form, medium=medium)
    if article.comment_mode is CommentMode.CLOSED:
        return render_article(article, form, status=403)

    config = current_app.config
    nonce = browser_nonce(create=False)
    ip_hash = identity.client_ip_hash(request)
    wait = captcha.retry_after_failures(
        db.session, browser_nonce=nonce, ip_hash=ip_hash, config=config, now=now()
    )
    if wait:
        form.captcha_answer.errors = [f"嘗試次數過多，請於 {max(1, wait // 60)} 分鐘後再試"]
        return render_article(article, form, status=429, headers={"Retry-After": str(wait)})

    outcome = captcha.check_answer(
        db.session,
        form.captcha_id.data,
        form.captcha_answer.data,
        browser_nonce=nonce,
        ip_hash=ip_hash,
        config=config,
        now=now(),
    )
    form_valid = form.validate()
    if outcome is not captcha.CaptchaOutcome.PASSED:
        current_app.logger.info("captcha refused: %s", outcome.value)
        form.captcha_answer.errors = [*form.captcha_answer.errors, WRONG_CAPTCHA]
    if not form_valid or outcome is not captcha.CaptchaOutcome.PASSED:
        return render_article(article, form, status=422)

    token = identity.reader_token_or_new(request)
    comment, verdict = comments.post_comment(
        db.session,
        article,
        nickname=form.nickname.data or None,
        anonymous=form.anonymous.data,
        body=form.body.data,
        ip_hash=ip_hash,
        author_hash=identity.author_hash(token),
        now=now(),
        rules=active_rules(db.session, config, current_app.extensions["screening_rules"]),
    )
    if verdict.outcome is Outcome.REJECTED:
        # The reader is told, without the term that caught it, and keeps the text to edit.
        form.body.errors = ["您的評論含有不允許的內容，無法發表。請修改後再送出。"]
        return render_article(article, form, status=422)
    flash("comment_approved" if comment.status is CommentStatus.APPROVED else "comment_pending", "notice")
    return redirect(url_for(".article", slug=article.slug, _anchor=f"comment-{comment.id}"))


def form_expired():
    """CSRF failure on the comment form: show it again with everything typed kept."""
    slug = (request.view_args or {}).get("slug", "")
    article = _article_or_404(slug)
    form = CommentForm(meta={"csrf": False})
    form.csrf_expired = True
    return render_article(article, form, status=400)


@bp.post("/articles/<slug>/comments/<id:comment_id>/report")
def report_comment(slug: str, comment_id: int):
    article = _article_or_404(slug)
    try:
        reason = ReportReason(request.form.get("reason", ""))
    except ValueError:
        reason = ReportReason.OTHER
    token = identity.reader_token_or_new(request)
    config = current_app.config
    outcome = comments.report_comment(
        db.session, article, comment_id, reason,
        reporter_hash=identity.author_hash(token),
        now=now(),
        hide_threshold=config["REPORT_HIDE_THRESHOLD"],
        per_hour=config["REPORTS_PER_HOUR"],
    )
    if outcome is comments.ReportOutcome.NOT_FOUND:
        abort(404)
    flash(f"report_{outcome.value}", "notice")
    anchor = "comments-heading" if outcome is comments.ReportOutcome.HIDDEN else f"comment-{comment_id}"
    return redirect(url_for(".article", slug=article.slug, _anchor=anchor))


@bp.get("/captcha/new")
def new_captcha():
    browser_nonce(create=True)
    challenge_id = captcha.new_challenge_id()
    response = jsonify(
        id=challenge_id,
        image=url_for(".captcha_image", challenge_id=challenge_id),
        audio=url_for(".captcha_audio", challenge_id=challenge_id),
    )
    response.headers["Cache-Control"] = NO_STORE
    return response


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
        )
    except captcha.ChallengeUnavailable:
        abort(404)
    response = make_response(media)
    response.mimetype = mimetype
    response.headers["Cache-Control"] = NO_STORE
    return response


@bp.post("/preferences/pinyin")
def toggle_pinyin():
    slug = request.form.get("slug", "")
    target = url_for(".article", slug=slug) if slug else url_for(".front_page")
    response = redirect(target)
    if request.cookies.get(PINYIN_COOKIE) == "hidden":
        response.delete_cookie(PINYIN_COOKIE)
    else:
        response.set_cookie(
            PINYIN_COOKIE, "hidden", max_age=365 * 24 * 3600, samesite="Lax", httponly=True
        )
    return response


def render_article(article: Article, form: CommentForm, *, medium=CaptchaMedium.IMAGE, status=200, headers=None):
    """The article page with its form; every render carries a fresh challenge id."""
    browser_nonce(create=True)
    token = identity.reader_token(request)
    form.captcha_answer.data = ""
    html = render_template(
        "reader/article.html",
        article=article,
        paragraphs=parse_body(article.body),
        form=form,
        challenge_id=captcha.new_challenge_id(),
        captcha_medium=medium.value,
        approved=comments.approved_comments_for(db.session, article),
        waiting=comments.own_waiting_comments(
            db.session, article, identity.author_hash(token) if token else None
        ),
        pinyin_hidden=request.cookies.get(PINYIN_COOKIE) == "hidden",
        comments_closed=article.comment_mode is CommentMode.CLOSED,
    )
    response = make_response(html, status)
    response.headers["Cache-Control"] = NO_STORE
    response.headers.update(headers or {})
    return response


def _article_or_404(slug: str) -> Article:
    found = comments.article_by_slug(db.session, slug)
    if found is None:
        abort(404)
    return found
