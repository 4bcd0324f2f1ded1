"""Blueprint for admins: moderator accounts, articles' comment mode, the audit log and its CSV export."""

from __future__ import annotations

import csv
import io
import json
import re
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    get_template_attribute,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from moderation.clock import now
from moderation.extensions import db
from moderation.ids import row_id
from moderation.models import Article, CommentMode, Moderator, Role
from moderation.services import accounts, audit, long_jobs, review_queue
from moderation.services.articles import all_articles, set_comment_mode
from moderation.web import guards, jobs_admin
from moderation.web.responses import (
    confirm_first,
    made_by_this_form,
    new_form_id,
    remember_what_this_form_made,
    see_other,
)
from moderation.web.spreadsheets import csv_safe

bp = Blueprint("admin", __name__, url_prefix="/moderation/admin")
guards.protect(bp, guards.require_admin)

AUDIT_PAGE_SIZE = 100
# The codes and UTC time as stored, each followed by its words in the page's language (and the time in
# DISPLAY_TIMEZONE): a spreadsheet can filter on the codes and a person can read the words.
CSV_COLUMNS = ("id", "at_utc", "at_local", "actor", "action", "action_label", "comment_id", "from_status",
               "from_label", "to_status", "to_label", "reason", "reason_label", "note", "details", "details_label")


SENT_ACCOUNT_FORMS = "sent_account_forms"  # session: the create form's one-time ids already used → the name


def _moderators_page(status: int = 200, **extra):
    html = render_template("admin/moderators.html", moderators=accounts.all_moderators(db.session),
                           roles=list(Role), form_id=new_form_id(), **extra)
    return html, status


@bp.get("/moderators")
def moderators():
    return _moderators_page()


@bp.post("/moderators")
def create_moderator():
    name = request.form.get("name", "")
    try:
        role = Role(request.form.get("role", Role.MODERATOR))
    except ValueError:
        abort(400)
    if (made := made_by_this_form(SENT_ACCOUNT_FORMS)) is not None:  # the same form again: made, not refused
        return _moderators_page(already_created=made)
    password = accounts.one_time_password()
    try:
        created = accounts.add_moderator(db.session, name, password, role=role, must_change=True,
                                         actor=guards.actor(), now=now(), hasher=_hasher())
    except accounts.AccountError as error:
        db.session.rollback()
        return _moderators_page(422, problem=error.problem.value, name=name, new_role=role)
    db.session.commit()
    remember_what_this_form_made(SENT_ACCOUNT_FORMS, created.name)
    # Shown once, in this response only: never in a redirect's flash (the session cookie is readable).
    return _moderators_page(one_time=(created.name, password))


def _hasher():
    return accounts.hasher_for(current_app.config)


def _moderator_or_404(moderator_id: int) -> Moderator:
    found = db.session.get(Moderator, moderator_id)
    if found is None:
        abort(404)
    return found


@bp.post("/moderators/<id:moderator_id>/active")
def set_active(moderator_id: int):
    target = _moderator_or_404(moderator_id)
    active = request.form.get("active") == "1"
    if target.id == guards.current_moderator().id and not active:
        flash({"kind": "cannot_disable_self"}, "result")
        return see_other(url_for(".moderators"))
    if not active and (asked := confirm_first("disable", target.name, url_for(".moderators"))):
        return asked
    accounts.set_active(db.session, target, active, actor=guards.actor(), now=now())
    db.session.commit()
    flash({"kind": "account_active", "name": target.name, "active": active}, "result")
    return see_other(url_for(".moderators"))


@bp.post("/moderators/<id:moderator_id>/role")
def set_role(moderator_id: int):
    """Another role for an account, logged; the last active admin cannot give up the role."""
    target = _moderator_or_404(moderator_id)
    try:
        role = Role(request.form.get("role", ""))
    except ValueError:
        abort(400)
    giving_up_admin = target.id == guards.current_moderator().id and target.role is Role.ADMIN and role is not Role.ADMIN
    if giving_up_admin and (asked := confirm_first("demote_self", target.name, url_for(".moderators"))):
        return asked
    problem = accounts.set_role(db.session, target, role, actor=guards.actor(), now=now())
    if problem is not None:
        db.session.rollback()
        flash({"kind": "role_refused", "name": target.name, "problem": problem.value}, "result")
        return see_other(url_for(".moderators"))
    db.session.commit()
    flash({"kind": "role_changed", "name": target.name, "role": role.value}, "result")
    return see_other(url_for(".moderators"))


@bp.post("/moderators/<id:moderator_id>/password")
def reset_password(moderator_id: int):
    target = _moderator_or_404(moderator_id)
    if asked := confirm_first("reset_password", target.name, url_for(".moderators")):
        return asked
    password = accounts.one_time_password()
    accounts.reset_password(db.session, target, password, must_change=True, actor=guards.actor(), now=now(),
                            hasher=_hasher())
    db.session.commit()
    return _moderators_page(one_time=(target.name, password))


@bp.post("/authors/<tag>/erase")
def erase_author(tag: str):
    """Delete every comment of one author tag, on the author's request (typed again to confirm)."""
    tag = review_queue.parse_author_tag(tag)
    if tag is None or len(tag) != review_queue.AUTHOR_TAG_LENGTH:
        abort(404)
    if request.form.get("confirm", "").strip().lower() != tag:
        flash("erase_unconfirmed", "admin")
        return see_other(url_for("moderator.author_history", tag=tag))
    return jobs_admin.start(long_jobs.Kind.ERASE_AUTHOR, tag)


@bp.get("/articles")
def articles():
    return render_template("admin/articles.html", articles=all_articles(db.session), modes=list(CommentMode))


@bp.post("/articles/<id:article_id>/mode")
def set_mode(article_id: int):
    article = db.session.get(Article, article_id)
    if article is None:
        abort(404)
    try:
        mode = CommentMode(request.form.get("mode", ""))
    except ValueError:
        abort(400)
    changed = set_comment_mode(db.session, article, mode, actor=guards.actor(), now=now())
    if changed:
        db.session.commit()
    flash({"kind": "mode_saved", "title": article.title, "mode": mode.value, "changed": changed}, "result")
    return see_other(url_for(".articles"))


def _audit_filters() -> audit.AuditFilters:
    """The log's filters as typed: an account's name in any case, a comment as 43 or #43 (as the log
    shows it). A comment number that is not one matches nothing, and the page says so; an action that
    is none of the log's is no filter."""
    actor = _stored_actor(request.args.get("actor", "").strip())
    account = accounts.find_moderator(db.session, actor) if actor else None
    written = _written_comment()
    try:
        comment_id = row_id(written) if written else None
    except ValueError:
        comment_id = None
    action = request.args.get("action", "").strip()
    known = action in audit.AuditAction.__members__.values()  # anything else is no filter, as the menu's 全部 says
    return audit.AuditFilters(actor=account.name if account else actor, action=action if known else "",
                              comment_id=comment_id, nothing=bool(written) and comment_id is None)


# Who made a change as the log shows it (labels.actor), in any of the languages, back to how it is stored.
_ACTORS_AS_SHOWN = {"系統": "system", "系统": "system", "system": "system",
                    "命令列": "cli", "命令行": "cli", "command line": "cli"}
_API_AS_SHOWN = re.compile(r"^api\s*[:：]\s*(\S.*)$", re.IGNORECASE)


def _stored_actor(typed: str) -> str:
    if typed.casefold() in _ACTORS_AS_SHOWN:
        return _ACTORS_AS_SHOWN[typed.casefold()]
    api = _API_AS_SHOWN.match(typed)
    return f"api:{api.group(1).strip()}" if api else typed


def _written_comment() -> str:
    return request.args.get("comment", "").strip().removeprefix("#").strip()


@bp.get("/audit", endpoint="audit")
def audit_log():
    filters = _audit_filters()
    entries, next_before = audit.entries_page(db.session, filters, before=request.args.get("before", type=row_id),
                                              size=AUDIT_PAGE_SIZE)
    # A number no comment can have (beyond the ids' range) is said as such, not as "not a number".
    problem = ("no_such_comment" if _written_comment().isdecimal() else "unreadable") if filters.nothing else None
    unknown_action = request.args.get("action", "").strip() if not filters.action else ""
    return render_template("admin/audit.html", entries=entries, actions=audit.recorded_actions(db.session),
                           next_before=next_before, args=request.args, comment_problem=problem,
                           unknown_action=unknown_action[:64])


@bp.get("/audit.csv")
def audit_csv():
    filters = _audit_filters()
    zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    words = {name: get_template_attribute("moderator/labels.html", name) for name in ("state", "audit_details")}
    tables = {name: get_template_attribute("moderator/labels.html", name) for name in ("AUDIT_ACTION", "REJECT_REASON")}

    def cells(entry) -> list:
        return [
            entry.id, entry.at.isoformat(), entry.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"), entry.actor,
            entry.action, str(tables["AUDIT_ACTION"].get(entry.action, entry.action)), entry.comment_id,
            entry.from_status, str(words["state"](entry.from_status)), entry.to_status,
            str(words["state"](entry.to_status)), entry.reason,
            str(tables["REJECT_REASON"].get(entry.reason, entry.reason)) if entry.reason else "", entry.note,
            json.dumps(entry.details, ensure_ascii=False, sort_keys=True) if entry.details else "",
            str(words["audit_details"](entry)).strip(),
        ]

    def rows():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        yield "\ufeff" + buffer.getvalue()  # BOM: spreadsheet programs then read the Chinese correctly
        for entry in audit.all_entries(db.session, filters):
            buffer.seek(0)
            buffer.truncate()
            writer.writerow([csv_safe(value) for value in cells(entry)])
            yield buffer.getvalue()

    audit.record(db.session, guards.actor(), audit.AuditAction.AUDIT_EXPORT, now=now())
    db.session.commit()
    return Response(stream_with_context(rows()), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=audit-{now().astimezone(zone):%Y%m%d-%H%M}.csv"})
