"""Blueprint for admins: screening word lists and link domains, import/export, tester, re-screening."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, render_template, request, url_for
from sqlalchemy import select

from moderation.clock import now
from moderation.extensions import db
from moderation.models import WordRuleRow
from moderation.screening.normalize import compact_form
from moderation.services import long_jobs
from moderation.services.rulebook.cache import active_rules
from moderation.services.rulebook.dry_run import dry_run_word
from moderation.services.rulebook.edits import (
    DOMAIN_ACTIONS,
    FUZZY_CHOICES,
    WORD_ACTIONS,
    RuleError,
    clean_word_rule,
    domain_rules,
    remove_rule,
    save_domain_rule,
    save_word_rule,
    word_rules,
)
from moderation.services.rulebook.exchange import KINDS, export_rules, import_rules
from moderation.services.rulebook.rule_hits import hits_per_rule
from moderation.services.rulebook.tester import check_text
from moderation.web import guards, jobs_admin
from moderation.web.responses import confirm_first, see_other

bp = Blueprint("rules", __name__, url_prefix="/moderation/admin/rules")
guards.protect(bp, guards.require_admin)

MAX_IMPORT_LINES = 100_000


def _rules():
    return active_rules(db.session, current_app.config, current_app.extensions["screening_rules"])


def render_rules(status: int = 200, **extra):
    html = render_template(
        "admin/rules.html",
        words=word_rules(db.session),
        domains=domain_rules(db.session),
        stats=hits_per_rule(db.session, now=now()),
        word_actions=sorted(WORD_ACTIONS),
        fuzzy_choices=FUZZY_CHOICES,
        domain_actions=sorted(DOMAIN_ACTIONS),
        **extra,
    )
    return html, status


@bp.get("/")
def rules_page():
    return render_rules()


def _saved(change, **form_state):
    try:
        row = change()
    except RuleError as error:
        db.session.rollback()
        return render_rules(422, problem=error, **form_state)
    db.session.commit()
    kind, value = ("word", row.term) if isinstance(row, WordRuleRow) else ("domain", row.domain)
    flash({"kind": "rule_saved", "kind_of_rule": kind, "value": value, "action": row.action}, "result")
    return see_other(url_for(".rules_page"))


@bp.post("/words")
def add_word():
    term, action, note = (request.form.get(key, "") for key in ("term", "action", "note"))
    fuzzy = request.form.get("fuzzy", "hold")
    # One character (的, a) is in nearly every comment: asked once more, the dry run offered.
    if action != "allow" and len(compact_form(term)) == 1 and (
            asked := confirm_first("one_character_rule", compact_form(term), url_for(".rules_page"))):
        return asked
    # The same term with another action replaces the rule (博彩 拒絕 made 允許): asked, naming both.
    current = _current_action(term, action, fuzzy)
    if current is not None and (asked := confirm_first("replace_rule_action", term.strip(), url_for(".rules_page"),
                                                       current=current, wanted=action)):
        return asked
    return _saved(lambda: save_word_rule(db.session, term, action, note, actor=guards.actor(), now=now(), fuzzy=fuzzy),
                  term=term, note=note, chosen_action=action, chosen_fuzzy=fuzzy)


def _current_action(term: str, action: str, fuzzy: str) -> str | None:
    """The action of the word rule this form would replace, when it is another one."""
    try:
        cleaned = clean_word_rule(term, action, fuzzy=fuzzy)
    except RuleError:
        return None  # refused on saving, with the reason
    found = db.session.scalar(select(WordRuleRow.action).where(WordRuleRow.term == cleaned.term))
    return found if found is not None and found != action else None


@bp.post("/domains")
def add_domain():
    domain, action = request.form.get("domain", ""), request.form.get("action", "")
    return _saved(lambda: save_domain_rule(db.session, domain, action, actor=guards.actor(), now=now()),
                  domain=domain, chosen_domain_action=action)


@bp.post("/remove")
def remove():
    value = request.form.get("value", "")
    if asked := confirm_first("remove_rule", value.strip(), url_for(".rules_page")):
        return asked
    if remove_rule(db.session, value, actor=guards.actor(), now=now()):
        db.session.commit()
        flash({"kind": "rule_removed", "value": value.strip()}, "result")
    return see_other(url_for(".rules_page"))


@bp.post("/import")
def import_list():
    kind = request.form.get("kind", "")
    if kind not in KINDS:
        abort(400)
    text = request.files["file"].read().decode("utf-8", "replace") if request.files.get("file") else ""
    text = text or request.form.get("text", "")
    if text.count("\n") > MAX_IMPORT_LINES:
        return render_rules(422, import_limit=MAX_IMPORT_LINES, import_text="")
    saved, refused = import_rules(db.session, kind, text, actor=guards.actor(), now=now())
    if refused:
        db.session.rollback()
        return render_rules(422, import_problems=refused, import_text=text, import_kind=kind)
    db.session.commit()
    flash({"kind": "rules_imported", "count": saved}, "result")
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
    result = check_text(_rules(), text, nickname=nickname, post_moderation=post, now=now())
    return render_rules(tested={"text": text, "nickname": nickname or "", "post": post, "result": result})


@bp.post("/dry-run")
def dry_run():
    """What adding, changing or removing a word rule would do to the last 30 days; nothing is saved."""
    term, action, fuzzy = request.form.get("term", ""), request.form.get("action", ""), request.form.get("fuzzy", "hold")
    kept = {"term": term, "note": request.form.get("note", ""), "chosen_action": action, "chosen_fuzzy": fuzzy}
    try:
        outcome = dry_run_word(db.session, _rules(), term, action, now=now(), fuzzy=fuzzy)
    except RuleError as error:
        return render_rules(422, problem=error, **kept)
    return render_rules(dry_run=outcome, **kept)


@bp.post("/rescreen")
def rescreen():
    """A job with progress (moderation/jobs/long_work.py): the queue may hold thousands of comments."""
    return jobs_admin.start(long_jobs.Kind.RESCREEN)
