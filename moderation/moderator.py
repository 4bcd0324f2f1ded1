"""Blueprint for moderators: login, the queue, decisions on one or many comments, author history."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, make_response, render_template, request, url_for
from sqlalchemy import select

from moderation import accounts, auth, identity, queue
from moderation.ids import row_id
from moderation.decisions import Decision, RejectReason, Result, decide, decide_many
from moderation.extensions import db
from moderation.responses import see_other
from moderation.models import Article, AuditEntry, Comment, Role, ScreeningReason
from moderation.screening.normalize import compact_form
from moderation.screening_rules import RULE_KINDS, RuleError, save_word_rule

bp = Blueprint("moderator", __name__, url_prefix="/moderation")
auth.protect(bp, auth.require_moderator)


@bp.route("/login", methods=["GET", "POST"])
def login():
    back = auth.safe_back_url(request.values.get("next"), url_for(".queue_page"))
    if request.method == "GET":
        return render_template("moderator/login.html", back=back)
    name = request.form.get("name", "")[:100]
    password = request.form.get("password", "")[:1000]
    ip_hash = identity.client_ip_hash(request)
    wait = accounts.retry_after(db.session, name, ip_hash, now=auth.now(), limits=_login_limits())
    if wait:
        response = make_response(render_template("moderator/login.html", back=back, name=name, wait=wait), 429)
        response.headers["Retry-After"] = str(wait)
        return response
    moderator = accounts.authenticate(db.session, name, password, ip_hash, now=auth.now())
    if moderator is None:
        return render_template("moderator/login.html", back=back, name=name, failed=True), 401
    auth.sign_in(moderator)
    return see_other(back)


def _login_limits() -> accounts.LoginLimits:
    config = current_app.config
    return accounts.LoginLimits(
        free_failures=config["LOGIN_FREE_FAILURES"], address_failures=config["LOGIN_ADDRESS_FAILURES"],
        account_alarm=config["LOGIN_ACCOUNT_ALARM"], base_delay=config["LOGIN_BASE_DELAY"],
        window=config["LOGIN_WINDOW"],
    )


@bp.post("/logout")
def logout():
    auth.sign_out()
    return see_other(url_for(".login"))


@bp.route("/password", methods=["GET", "POST"])
def change_password():
    moderator = auth.current_moderator()
    if request.method == "GET":
        return render_template("moderator/password.html")
    current, new, again = (request.form.get(key, "") for key in ("current", "new", "again"))
    ip_hash = identity.client_ip_hash(request)
    wait = accounts.retry_after(db.session, moderator.name, ip_hash, now=auth.now(), limits=_login_limits())
    if wait:
        response = make_response(render_template("moderator/password.html", wait=wait), 429)
        response.headers["Retry-After"] = str(wait)
        return response
    problem = None
    if not accounts.verify_password(moderator, current):
        problem = "wrong_current"
        accounts.record_failed_password(db.session, moderator.name, ip_hash, now=auth.now())
        db.session.commit()
    elif new != again:
        problem = "mismatch"
    elif new == current:
        problem = "same"
    else:
        try:
            accounts.set_password(db.session, moderator, new)
        except accounts.AccountError as error:
            problem = str(error)
    if problem:
        db.session.rollback()
        return render_template("moderator/password.html", problem=problem), 422
    auth.record("password_change")
    db.session.commit()
    auth.sign_in(moderator)  # every other session of this account has ended
    flash({"kind": "password_changed"}, "result")
    return see_other(url_for(".queue_page"))


def _filters() -> queue.Filters:
    article_id = request.args.get("article", type=row_id)
    tag = queue.parse_author_tag(request.args.get("author", "").strip())
    return queue.Filters(article_id=article_id, author_tag=tag, text=request.args.get("q", "").strip()[:200])


@bp.get("/")
def queue_page():
    try:
        tab = queue.Tab(request.args.get("tab", queue.Tab.PENDING))
    except ValueError:
        abort(404)
    filters = _filters()
    size = current_app.config["QUEUE_PAGE_SIZE"]
    found = queue.page(db.session, tab, filters, after=queue.Cursor.decode(request.args.get("after")), size=size)
    return render_template(
        "moderator/queue.html",
        tab=tab,
        tabs=list(queue.Tab),
        counts=queue.counts(db.session, filters),
        filters=filters,
        found=found,
        articles=list(db.session.scalars(select(Article).order_by(Article.title))),
        reject_reasons=list(RejectReason),
        back=request.full_path,
        highlighted=queue.highlighted,
        author_tag=queue.author_tag,
        network_tag=lambda ip_hash: queue.network_tag(ip_hash, current_app.config["IP_PEPPER"]),
        now=auth.now(),
    )


def _decision_options() -> dict:
    reason = request.form.get("reason") or None
    try:
        reason = RejectReason(reason) if reason else None
    except ValueError:
        reason = None
    return {
        "actor": auth.current_moderator(),
        "now": auth.now(),
        "reason": reason,
        "note": request.form.get("note", "")[:500],
        "ip_hash": identity.client_ip_hash(request),
    }


def _decision() -> Decision:
    try:
        return Decision(request.form.get("decision", ""))
    except ValueError:
        abort(400)


@bp.post("/comments/<id:comment_id>/decide")
def decide_one(comment_id: int):
    decision = _decision()
    version = request.form.get("version", type=row_id)
    if version is None:
        abort(400)
    result = decide(db.session, comment_id, decision, expected_version=version, **_decision_options())
    flash(_summary(decision, [result]), "result")
    back = auth.safe_back_url(request.form.get("back"), url_for(".queue_page"))
    focus = request.form.get("focus", type=row_id) if result.ok else comment_id
    return see_other(back + (f"#card-{focus}" if focus else ""))


@bp.post("/comments/bulk")
def decide_bulk():
    decision = _decision()
    raw = request.form.getlist("page_item" if request.form.get("scope") == "page" else "item")
    items = []
    for value in raw[:500]:
        comment_id, _, version = value.partition(":")
        try:
            items.append((row_id(comment_id), row_id(version)))
        except ValueError:
            continue
    results = decide_many(db.session, items, decision, **_decision_options())
    flash(_summary(decision, results), "result")
    return see_other(auth.safe_back_url(request.form.get("back"), url_for(".queue_page")))


def _summary(decision: Decision, results: list[Result]) -> dict:
    """What to tell the moderator, as data: the template words it."""
    return {
        "kind": "decision",
        "decision": decision.value,
        "done": [result.comment_id for result in results if result.ok],
        "skipped": [
            {
                "id": result.comment_id,
                "why": result.refusal.value,
                "status": result.status.value if result.status else None,
                "by": result.last_change.actor if result.last_change else None,
                "action": result.last_change.action if result.last_change else None,
                "at": result.last_change.at.isoformat() if result.last_change else None,
            }
            for result in results
            if not result.ok
        ],
    }


@bp.get("/authors/<tag>")
def author_history(tag: str):
    """Every comment of one author (personal data: each viewing is logged)."""
    tag = queue.parse_author_tag(tag)
    if tag is None or len(tag) > 64:
        abort(404)
    comments = list(db.session.scalars(
        select(Comment)
        .where(*queue.by_author(tag))
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(current_app.config["AUTHOR_HISTORY_LIMIT"])
    ))
    auth.record("view_author_history", note=tag)
    db.session.commit()
    histories = queue.author_histories(db.session, {comment.author_hash for comment in comments})
    return render_template("moderator/author.html", tag=tag, comments=comments, histories=histories)


def _reason_or_404(comment_id: int, reason_id: int) -> ScreeningReason:
    reason = db.session.get(ScreeningReason, reason_id)
    if reason is None or reason.comment_id != comment_id or reason.kind not in RULE_KINDS:
        abort(404)
    return reason


@bp.post("/comments/<id:comment_id>/reasons/<id:reason_id>/wrong")
def rule_was_wrong(comment_id: int, reason_id: int):
    """'This rule was wrong here': counted in the rule's statistics, once per moderator and comment."""
    reason = _reason_or_404(comment_id, reason_id)
    moderator = auth.current_moderator()
    already = db.session.scalar(select(AuditEntry.id).where(
        AuditEntry.action == "rule_wrong", AuditEntry.comment_id == comment_id,
        AuditEntry.note == reason.rule_id, AuditEntry.moderator_id == moderator.id))
    if not already:
        auth.record("rule_wrong", comment_id=comment_id, note=reason.rule_id)
        db.session.commit()
    flash({"kind": "message", "text": f"已記錄：規則「{reason.detail}」在 #{comment_id} 誤判"}, "result")
    back = auth.safe_back_url(request.form.get("back"), url_for(".queue_page"))
    return see_other(f"{back}#card-{comment_id}")


@bp.post("/comments/<id:comment_id>/reasons/<id:reason_id>/allow")
def allow_term(comment_id: int, reason_id: int):
    """Add a phrase around a matched term to the allow-list (admins: it loosens screening for everyone)."""
    if auth.current_moderator().role is not Role.ADMIN:
        abort(403)
    reason = _reason_or_404(comment_id, reason_id)
    phrase = request.form.get("phrase", "").strip()
    back = auth.safe_back_url(request.form.get("back"), url_for(".queue_page"))
    if reason.kind != "word" or compact_form(reason.detail) not in compact_form(phrase):
        flash({"kind": "message", "text": f"允許的詞語必須包含「{reason.detail}」"}, "result")
        return see_other(f"{back}#card-{comment_id}")
    try:
        save_word_rule(db.session, phrase, "allow", note=f"from comment #{comment_id}")
    except RuleError as error:
        db.session.rollback()
        flash({"kind": "message", "text": str(error)}, "result")
        return see_other(f"{back}#card-{comment_id}")
    auth.record("allow_term", comment_id=comment_id, note=f"{phrase} ({reason.rule_id})")
    db.session.commit()
    flash({"kind": "message", "text": f"已加入允許清單：「{phrase}」"}, "result")
    return see_other(f"{back}#card-{comment_id}")
