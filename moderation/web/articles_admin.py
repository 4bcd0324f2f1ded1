"""Blueprint for admins: articles written here (create, edit, close), the newsroom's API keys and
the origins each site lets frame its embedded comments (services.embed_sites).

Saving goes through `services.newsroom.save_article`, the function the CMS's API calls, so an
article edited here and one sent by the CMS are checked, logged and re-rendered alike: the body
once per save, the article's revision bumped so that every cached page shows the new text.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, render_template, request, url_for

from moderation.clock import now
from moderation.extensions import db
from moderation.models import ApiKey, Article, CommentMode, Scope
from moderation.services import api_keys, embed_sites, newsroom
from moderation.web import guards
from moderation.web.api_errors import problem_message
from moderation.web.languages import LazyText as lazy_gettext
from moderation.web.responses import (
    confirm_first,
    made_by_this_form,
    new_form_id,
    remember_what_this_form_made,
    see_other,
)

bp = Blueprint("articles_admin", __name__, url_prefix="/moderation/admin")
guards.protect(bp, guards.require_admin)

FORM_FIELDS = ("key", "headline", "column", "body", "slug", "published_at", "comment_mode", "close_after_days")


@bp.url_value_preprocessor
def larger_bodies(endpoint, values):
    """Before the app's malformed-body check reads the form: a body percent-encoded is 9 bytes per Han character."""
    request.max_content_length = current_app.config["ARTICLE_FORM_MAX_CONTENT_LENGTH"]


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])


def _form_of(article: Article) -> dict[str, str]:
    """What the form shows for a stored article; its publication time in the site's time zone."""
    published = article.published_at.astimezone(_zone()).strftime("%Y-%m-%dT%H:%M") if article.published_at else ""
    return {"key": article.key, "headline": article.title, "column": article.column_name or "", "body": article.body,
            "slug": article.slug, "published_at": published, "comment_mode": article.comment_mode.value,
            "close_after_days": "" if article.close_after_days is None else str(article.close_after_days)}


def _fields_from_form(form: dict[str, str]) -> dict:
    """The form's values in the API's terms: a local time (datetime-local) becomes one with its offset,
    the days a number (the API takes only a JSON number)."""
    raw = {name: form[name] for name in newsroom.FIELD_NAMES if name in form}
    if "close_after_days" in form:
        days = form["close_after_days"].strip()
        raw["close_after_days"] = int(days) if days.isdecimal() and len(days) <= 5 else days or None
    local = form.get("published_at", "").strip()
    if local:
        try:
            raw["published_at"] = datetime.fromisoformat(local).replace(tzinfo=_zone()).isoformat()
        except ValueError:
            raw["published_at"] = "invalid"
    return raw


# The form's words where the API's would not fit it: its time is a date-and-time picker in the
# display time zone, not an ISO string with an offset.
FORM_PROBLEMS = {newsroom.ArticleProblem.PUBLISHED_AT_INVALID: lazy_gettext("請填寫有效的發布日期與時間，例如 2026-12-03 09:00。")}


def _editor(article: Article | None, form: dict[str, str], *, problems=None, status: int = 200, saved=False):
    html = render_template(
        "admin/article_edit.html", article=article, form=form, modes=list(CommentMode), saved=saved,
        problems={field: FORM_PROBLEMS.get(problem) or problem_message(problem) for field, problem in (problems or {}).items()},
        default_close_days=current_app.config["COMMENTS_CLOSE_AFTER_DAYS"],
        closes_at=newsroom.closing_time(article, current_app.config["COMMENTS_CLOSE_AFTER_DAYS"])
        if article and article.comment_mode is not CommentMode.CLOSED else None,  # closed: nothing left to close
    )
    return html, status


def _article_or_404(article_id: int) -> Article:
    article = db.session.get(Article, article_id)
    if article is None:
        abort(404)
    return article


@bp.get("/articles/new")
def new_article():
    return _editor(None, {"comment_mode": CommentMode.PRE_MODERATION.value})


@bp.get("/articles/<id:article_id>/edit")
def edit_article(article_id: int):
    article = _article_or_404(article_id)
    return _editor(article, _form_of(article), saved=request.args.get("saved", "")[:8])


@bp.post("/articles/new")
def create_article():
    form = {name: request.form.get(name, "") for name in FORM_FIELDS}
    key = form["key"].strip() or form["slug"].strip()
    if not key and form["headline"].strip():  # neither given: the URL is made from the headline
        key = newsroom.key_from_headline(db.session, form["headline"], now=now())
    return _save(None, key, form)


@bp.post("/articles/<id:article_id>/edit")
def update_article(article_id: int):
    article = _article_or_404(article_id)
    form = {name: request.form.get(name, "") for name in FORM_FIELDS}
    form["key"] = article.key
    return _save(article, article.key, form)


def _save(article: Article | None, key: str, form: dict[str, str]):
    config = current_app.config
    problems: dict[str, newsroom.ArticleProblem] = {}
    try:
        fields = newsroom.check_fields(_fields_from_form(form), body_max=config["ARTICLE_BODY_MAX_LENGTH"])
    except newsroom.ArticleRefused as error:
        problems.update(error.problems)
    if article is None and newsroom.find_by_key(db.session, key) is not None:
        # Said with the fields' problems, not after them. A key left empty is the slug's: then the
        # slug is what another article has.
        if form["key"].strip():
            problems.setdefault("key", newsroom.ArticleProblem.KEY_TAKEN)
        else:
            problems.setdefault("slug", newsroom.ArticleProblem.SLUG_TAKEN)
    try:
        if problems:
            raise newsroom.ArticleRefused(problems)
        saved = newsroom.save_article(db.session, key, fields, actor=guards.actor(), now=now(),
                                      default_close_days=config["COMMENTS_CLOSE_AFTER_DAYS"])
    except newsroom.ArticleRefused as error:
        db.session.rollback()
        return _editor(article, form, problems=error.problems, status=422)
    db.session.commit()
    return see_other(url_for(".edit_article", article_id=saved.article.id, saved="1"))


@bp.post("/articles/<id:article_id>/close")
def close_article(article_id: int):
    article = _article_or_404(article_id)
    newsroom.close_article(db.session, article, actor=guards.actor(), now=now())
    db.session.commit()
    return see_other(url_for(".edit_article", article_id=article.id, saved="closed"))


# -- API keys ----------------------------------------------------------------------------------------

def _keys_page(status: int = 200, **extra):
    return render_template("admin/api_keys.html", keys=api_keys.all_keys(db.session), scopes=list(Scope),
                           form_id=new_form_id(),
                           embed_sites=embed_sites.all_sites(db.session),
                           operator_origins=current_app.config["EMBED_ALLOWED_ORIGINS"], **extra), status


@bp.get("/api-keys")
def keys():
    return _keys_page()


SENT_KEY_FORMS = "sent_key_forms"  # session: the create form's one-time ids already used → the key's prefix


@bp.post("/api-keys")
def create_key():
    site = request.form.get("site", "")
    chosen = request.form.getlist("scope")
    if (made := made_by_this_form(SENT_KEY_FORMS)) is not None:  # the same form again: no second key
        return _keys_page(already_created=made)
    try:
        row, key = api_keys.create_key(db.session, site, chosen, actor=guards.actor(), now=now())
    except api_keys.ApiKeyError as error:
        db.session.rollback()
        return _keys_page(422, problems=[problem.value for problem in error.problems], site=site, chosen=chosen)
    db.session.commit()
    remember_what_this_form_made(SENT_KEY_FORMS, row.prefix)
    # Shown once, in this response only (never in a flash: the session cookie is readable; the
    # prefix kept there to say which key a resent form made is not secret).
    return _keys_page(created=(row, key))


@bp.post("/api-keys/<id:key_id>/revoke")
def revoke_key(key_id: int):
    row = db.session.get(ApiKey, key_id)
    if row is None:
        abort(404)
    if not row.revoked_at and (asked := confirm_first("revoke_key", row.prefix, url_for(".keys"), site=row.site)):
        return asked
    already = row.revoked_at is not None
    api_keys.revoke(db.session, row, actor=guards.actor(), now=now())
    db.session.commit()
    flash({"prefix": row.prefix, "site": row.site, "already": already}, "key_revoked")
    return see_other(url_for(".keys"))


@bp.post("/embed-sites")
def set_embed_origins():
    """A site's origins, one a line, replacing its list; an empty list removes the site."""
    site, origins = request.form.get("site", ""), request.form.get("origins", "")
    try:
        row = embed_sites.set_origins(db.session, site, [origins], actor=guards.actor(), now=now())
    except embed_sites.OriginError as error:
        db.session.rollback()
        return _keys_page(422, embed_problem=error.problem.value, embed_values=error.values, embed_site=site,
                          embed_origins=origins)
    db.session.commit()
    site = api_keys.site_name(site)
    flash({"kind": "embed_origins_saved", "site": site, "count": len(row.origin_list) if row is not None else 0,
           "keyless": row is not None and not api_keys.site_has_key(db.session, site)}, "result")
    return see_other(url_for(".keys", _anchor="embed-sites"))
