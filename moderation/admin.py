"""Blueprint for admins: moderator accounts, articles' comment mode, the audit log and its CSV export."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, flash, render_template, request, stream_with_context, url_for
from sqlalchemy import select

from moderation import accounts, auth, queue, retention
from moderation.ids import row_id
from moderation.extensions import db
from moderation.responses import see_other
from moderation.listing import listing_changed
from moderation.queue import AUTHOR_TAG_LENGTH
from moderation.models import Article, AuditEntry, CommentMode, Moderator, Role

bp = Blueprint("admin", __name__, url_prefix="/moderation/admin")
auth.protect(bp, auth.require_admin)

AUDIT_PAGE_SIZE = 100
CSV_COLUMNS = ("id", "at", "actor", "action", "comment_id", "from_status", "to_status", "reason", "note")


@bp.get("/moderators")
def moderators():
    return render_template("admin/moderators.html", moderators=_all_moderators(), roles=list(Role))


def _all_moderators() -> list[Moderator]:
    return list(db.session.scalars(select(Moderator).order_by(Moderator.name)))


@bp.post("/moderators")
def create_moderator():
    name = request.form.get("name", "")
    try:
        role = Role(request.form.get("role", Role.MODERATOR))
    except ValueError:
        abort(400)
    password = accounts.one_time_password()
    try:
        created = accounts.create_moderator(db.session, name, password, role=role, must_change=True)
    except accounts.AccountError as error:
        db.session.rollback()
        return render_template("admin/moderators.html", moderators=_all_moderators(), roles=list(Role),
                               problem=str(error), name=name), 422
    auth.record("moderator_create", note=f"{created.name} ({role.value})")
    db.session.commit()
    # Shown once, in this response only: never in a redirect's flash (the session cookie is readable).
    return render_template("admin/moderators.html", moderators=_all_moderators(), roles=list(Role),
                           one_time=(created.name, password))


def _moderator_or_404(moderator_id: int) -> Moderator:
    found = db.session.get(Moderator, moderator_id)
    if found is None:
        abort(404)
    return found


@bp.post("/moderators/<id:moderator_id>/active")
def set_active(moderator_id: int):
    target = _moderator_or_404(moderator_id)
    active = request.form.get("active") == "1"
    if target.id == auth.current_moderator().id and not active:
        flash({"kind": "cannot_disable_self"}, "result")
        return see_other(url_for(".moderators"))
    accounts.set_active(db.session, target, active)
    auth.record("moderator_enable" if active else "moderator_disable", note=target.name)
    db.session.commit()
    return see_other(url_for(".moderators"))


@bp.post("/moderators/<id:moderator_id>/password")
def reset_password(moderator_id: int):
    target = _moderator_or_404(moderator_id)
    password = accounts.one_time_password()
    accounts.set_password(db.session, target, password, must_change=True)
    auth.record("password_reset", note=target.name)
    db.session.commit()
    return render_template("admin/moderators.html", moderators=_all_moderators(), roles=list(Role),
                           one_time=(target.name, password))


@bp.post("/authors/<tag>/erase")
def erase_author(tag: str):
    """Delete every comment of one author tag, on the author's request (typed again to confirm)."""
    tag = queue.parse_author_tag(tag)
    if tag is None or len(tag) != AUTHOR_TAG_LENGTH:
        abort(404)
    if request.form.get("confirm", "").strip().lower() != tag:
        flash("erase_unconfirmed", "admin")
        return see_other(url_for("moderator.author_history", tag=tag))
    erased = retention.erase_author(db.session, tag)
    auth.record("erase_author", note=f"{tag}: {erased}")
    db.session.commit()
    flash(f"erased:{erased}", "admin")
    return see_other(url_for("moderator.author_history", tag=tag))


@bp.get("/articles")
def articles():
    return render_template("admin/articles.html", articles=list(db.session.scalars(select(Article).order_by(Article.id))),
                           modes=list(CommentMode))


@bp.post("/articles/<id:article_id>/mode")
def set_mode(article_id: int):
    article = db.session.get(Article, article_id)
    if article is None:
        abort(404)
    try:
        mode = CommentMode(request.form.get("mode", ""))
    except ValueError:
        abort(400)
    if mode is not article.comment_mode:
        auth.record("mode_change", from_status=article.comment_mode.value, to_status=mode.value, note=article.slug)
        article.comment_mode = mode
        listing_changed(db.session, article.id)
        db.session.commit()
    return see_other(url_for(".articles"))


def _audit_query():
    query = select(AuditEntry)
    actor = request.args.get("actor", "").strip()
    action = request.args.get("action", "").strip()
    comment_id = request.args.get("comment", type=row_id)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action == action)
    if comment_id:
        query = query.where(AuditEntry.comment_id == comment_id)
    return query


@bp.get("/audit")
def audit():
    before = request.args.get("before", type=row_id)
    query = _audit_query()
    if before:
        query = query.where(AuditEntry.id < before)
    entries = list(db.session.scalars(query.order_by(AuditEntry.id.desc()).limit(AUDIT_PAGE_SIZE + 1)))
    more = len(entries) > AUDIT_PAGE_SIZE
    entries = entries[:AUDIT_PAGE_SIZE]
    actions = sorted(db.session.scalars(select(AuditEntry.action).distinct()))
    return render_template("admin/audit.html", entries=entries, actions=actions,
                           next_before=entries[-1].id if more else None, args=request.args)


@bp.get("/audit.csv")
def audit_csv():
    def rows():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        yield "\ufeff" + buffer.getvalue()  # BOM: spreadsheet programs then read the Chinese correctly
        result = db.session.execute(_audit_query().order_by(AuditEntry.id).execution_options(yield_per=1000))
        for entry in result.scalars():
            buffer.seek(0)
            buffer.truncate()
            writer.writerow([_csv_safe(getattr(entry, column)) for column in CSV_COLUMNS])
            yield buffer.getvalue()

    auth.record("audit_export")
    db.session.commit()
    return Response(stream_with_context(rows()), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=audit.csv"})


# What a spreadsheet may run as a formula when a cell starts with it, half- and full-width.
FORMULA_STARTERS = frozenset("=+-@\t\r＝＋－＠﹦﹢﹣")


def _csv_safe(value) -> str:
    """Text a spreadsheet would run as a formula gets a leading quote (CSV injection), also when
    the formula starter comes after leading spaces."""
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    first = text.lstrip(" \u3000")[:1]
    return "'" + text if first and (first in FORMULA_STARTERS or text[:1] in FORMULA_STARTERS) else text
