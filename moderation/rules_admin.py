"""Blueprint for admins: screening word lists and link domains, import/export, tester, re-screening."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, render_template, request, url_for
from sqlalchemy import select

from moderation import auth
from moderation.extensions import db
from moderation.responses import see_other
from moderation.models import DomainRuleRow, WordRuleRow
from moderation.screening_rules import (
    DOMAIN_ACTIONS,
    WORD_ACTIONS,
    RuleError,
    active_rules,
    check_text,
    export_rules,
    import_rules,
    remove_rule,
    rescreen_pending,
    rule_statistics,
    save_domain_rule,
    save_word_rule,
)

bp = Blueprint("rules", __name__, url_prefix="/moderation/admin/rules")
auth.protect(bp, auth.require_admin)

KINDS = ("word", "domain")
MAX_IMPORT_LINES = 100_000


def _rules():
    return active_rules(db.session, current_app.config, current_app.extensions["screening_rules"])


def render_rules(status: int = 200, **extra):
    stats = rule_statistics(db.session, now=auth.now())
    html = render_template(
        "admin/rules.html",
        words=list(db.session.scalars(select(WordRuleRow).order_by(WordRuleRow.action, WordRuleRow.term))),
        domains=list(db.session.scalars(select(DomainRuleRow).order_by(DomainRuleRow.action, DomainRuleRow.domain))),
        stats=stats,
        word_actions=sorted(WORD_ACTIONS),
        domain_actions=sorted(DOMAIN_ACTIONS),
        **extra,
    )
    return html, status


@bp.get("/")
def rules_page():
    return render_rules()


def _saved(change, audit_note: str, **form_state):
    try:
        change()
    except RuleError as error:
        db.session.rollback()
        return render_rules(422, problem=str(error), **form_state)
    auth.record("rule_add", note=audit_note)
    db.session.commit()
    flash({"kind": "message", "text": "已儲存：" + audit_note.replace("\t", " ")}, "result")
    return see_other(url_for(".rules_page"))


@bp.post("/words")
def add_word():
    term, action, note = (request.form.get(key, "") for key in ("term", "action", "note"))
    return _saved(lambda: save_word_rule(db.session, term, action, note), f"word\t{term.strip()}\t{action}",
                  term=term, note=note)


@bp.post("/domains")
def add_domain():
    domain, action = request.form.get("domain", ""), request.form.get("action", "")
    return _saved(lambda: save_domain_rule(db.session, domain, action), f"domain\t{domain.strip()}\t{action}",
                  domain=domain)


@bp.post("/remove")
def remove():
    value = request.form.get("value", "")
    if remove_rule(db.session, value):
        auth.record("rule_remove", note=value.strip())
        db.session.commit()
        flash({"kind": "message", "text": f"已移除：{value.strip()}"}, "result")
    return see_other(url_for(".rules_page"))


@bp.post("/import")
def import_list():
    kind = request.form.get("kind", "")
    if kind not in KINDS:
        abort(400)
    text = request.files["file"].read().decode("utf-8", "replace") if request.files.get("file") else ""
    text = text or request.form.get("text", "")
    if text.count("\n") > MAX_IMPORT_LINES:
        return render_rules(422, import_problems=[f"一次最多匯入 {MAX_IMPORT_LINES:,} 行"], import_text="")
    saved, problems = import_rules(db.session, kind, text)
    if problems:
        return render_rules(422, import_problems=problems, import_text=text, import_kind=kind)
    auth.record("rule_import", note=f"{kind}: {saved}")
    db.session.commit()
    flash({"kind": "message", "text": f"已匯入 {saved} 條規則"}, "result")
    return see_other(url_for(".rules_page"))


@bp.get("/export/<kind>.txt")
def export_list(kind: str):
    if kind not in KINDS:
        abort(404)
    return Response(export_rules(db.session, kind), mimetype="text/plain",
                    headers={"Content-Disposition": f"attachment; filename={kind}-rules.txt"})


@bp.post("/test")
def tester():
    """The rule tester: what the active rules would decide; nothing is stored."""
    text = request.form.get("text", "")[: current_app.config["COMMENT_MAX_LENGTH"] * 2]
    nickname = request.form.get("nickname", "")[:100] or None
    post = request.form.get("post_moderation") == "y"
    result = check_text(_rules(), text, nickname=nickname, post_moderation=post, now=auth.now())
    return render_rules(tested={"text": text, "nickname": nickname or "", "post": post, "result": result})


@bp.post("/rescreen")
def rescreen():
    outcome = rescreen_pending(db.session, _rules(), now=auth.now(), actor=auth.current_moderator())
    moved = "，".join(f"{status} {count}" for status, count in outcome.moved.items()) or "無"
    auth.record("rescreen", note=f"checked {outcome.checked}; moved: {moved}")
    db.session.commit()
    flash({"kind": "message", "text": f"已重新篩選 {outcome.checked} 則待審評論；移出待審：{moved}"}, "result")
    return see_other(url_for(".rules_page"))
