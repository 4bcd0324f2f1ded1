"""Blueprint for moderators: suspensions, bans and "always pre-moderate" by author tag, address-range
holds, the list of what is in force (services.sanctions), and an article's protected names."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, render_template, request, url_for

from moderation.clock import now
from moderation.extensions import db
from moderation.ids import row_id
from moderation.models import Article
from moderation.services import sanctions
from moderation.services.protected_names import MAX_NAME_LENGTH, MAX_NAMES, parse_names, set_names
from moderation.services.review_queue import AUTHOR_TAG_LENGTH
from moderation.services.sanctions import SanctionError, SanctionProblem
from moderation.web import guards
from moderation.web.responses import see_other

bp = Blueprint("sanctions", __name__, url_prefix="/moderation")
guards.protect(bp, guards.require_moderator)

# A refusal's HTTP status: what is in force already is a conflict, the rest is the form's input.
PROBLEM_STATUS = {SanctionProblem.UNKNOWN_AUTHOR: 404, SanctionProblem.ALREADY: 409,
                  SanctionProblem.RANGE_OVERLAPS: 409, SanctionProblem.NOTHING_TO_LIFT: 409}


def _tag_shown(raw: str) -> str:
    return raw[:AUTHOR_TAG_LENGTH * 2]


def _author_page(tag: str, *, problem: SanctionError | None = None, kept: dict | None = None, status: int = 200):
    author_hash = None
    current = None
    if problem is None or problem.problem is not SanctionProblem.UNKNOWN_AUTHOR:
        try:
            author_hash = sanctions.author_hash_of_tag(db.session, tag)
        except SanctionError as error:
            problem, status = error, PROBLEM_STATUS.get(error.problem, 422)
    if author_hash is not None:
        current = sanctions.restriction_of(db.session, author_hash, now())
    return render_template(
        "moderator/restriction.html", tag=_tag_shown(tag), known=author_hash is not None, current=current,
        problem=problem.problem.value if problem else None,
        in_force=problem.current if problem and sanctions.in_force(problem.current, now()) else None,
        kept=kept or {}, durations=list(sanctions.DURATIONS), reasons=list(sanctions.RestrictionReason),
        note_max=sanctions.NOTE_MAX_LENGTH, back=_back(),
    ), status


def _back() -> str:
    """The queue page the moderator came from (a card's link), or "" when none or not ours."""
    return guards.safe_back_url(request.values.get("back"), "")


@bp.get("/authors/<tag>/restriction")
def author_restriction(tag: str):
    page, status = _author_page(tag)
    return page, status


def _kept_author_form() -> dict:
    return {"duration": request.form.get("duration", "")[:16], "reason": request.form.get("reason", "")[:32],
            "note": request.form.get("note", "")[:sanctions.NOTE_MAX_LENGTH * 2],
            "reject_pending": request.form.get("reject_pending") == "1"}


@bp.post("/authors/<tag>/restriction")
def restrict_author(tag: str):
    kept = _kept_author_form()
    actor = guards.actor()
    try:
        author_hash = sanctions.author_hash_of_tag(db.session, tag)
        restriction = sanctions.restrict(db.session, author_hash, kept["duration"], kept["reason"], note=kept["note"],
                                         actor=actor, now=now())
    except SanctionError as error:
        db.session.rollback()
        if not _the_same_sent_twice(error, kept, actor):
            return _author_page(tag, problem=error, kept=kept, status=PROBLEM_STATUS.get(error.problem, 422))
        restriction = error.current  # a double click: the first click's restriction is the answer
    db.session.commit()
    rejected = skipped = 0
    if kept["reject_pending"]:
        rejected, skipped = sanctions.reject_pending_of(db.session, author_hash, actor=actor, now=now(),
                                                         note=kept["note"], reason=kept["reason"])
    back, shown = _back(), _tag_shown(tag)
    flash({"kind": "restricted", "restriction": restriction.kind.value, "duration": kept["duration"],
           "until": restriction.until.isoformat() if restriction.until else None, "rejected": rejected,
           "skipped": skipped, "tag": shown if back else None}, "sanction")
    # From a card: back to the queue being worked, the result said at its top with the way to lift it.
    return see_other(f"{back}#sanction-result" if back else url_for(".author_restriction", tag=shown))


SENT_TWICE_SECONDS = 60


def _the_same_sent_twice(error: SanctionError, kept: dict, actor) -> bool:
    """The restriction in force is the one this moderator set a moment ago with the same choices."""
    current = error.current
    if error.problem is not SanctionProblem.ALREADY or current is None or kept["duration"] not in sanctions.DURATIONS:
        return False
    return (current.created_by == actor.name and current.kind is sanctions.DURATIONS[kept["duration"]][0]
            and current.reason == kept["reason"]
            and (now() - current.created_at).total_seconds() < SENT_TWICE_SECONDS)


@bp.post("/authors/<tag>/restriction/lift")
def lift_author(tag: str):
    try:
        author_hash = sanctions.author_hash_of_tag(db.session, tag)
        sanctions.lift(db.session, author_hash, actor=guards.actor(), now=now(), note=request.form.get("note", ""))
    except SanctionError as error:
        db.session.rollback()
        return _author_page(tag, problem=error, status=PROBLEM_STATUS.get(error.problem, 422))
    db.session.commit()
    flash({"kind": "lifted"}, "sanction")
    return see_other(url_for(".author_restriction", tag=_tag_shown(tag), back=_back() or None))


def _sanctions_page(*, problem: SanctionError | None = None, kept: dict | None = None, status: int = 200):
    return render_template(
        "moderator/sanctions.html", restrictions=sanctions.restrictions_in_force(db.session, now()),
        holds=sanctions.holds_in_force(db.session, now()), problem=problem.problem.value if problem else None,
        overlapping=problem.hold_id if problem else None, kept=kept or {},
        hold_durations=list(sanctions.HOLD_DURATIONS), reasons=list(sanctions.RestrictionReason),
        note_max=sanctions.NOTE_MAX_LENGTH,
    ), status


@bp.get("/sanctions")
def sanctions_page():
    page, status = _sanctions_page()
    return page, status


@bp.post("/sanctions/holds")
def hold_range():
    kept = {"range": request.form.get("range", "")[:100], "duration": request.form.get("duration", "")[:16],
            "reason": request.form.get("reason", "")[:32],
            "note": request.form.get("note", "")[:sanctions.NOTE_MAX_LENGTH * 2]}
    try:
        hold = sanctions.hold_range(db.session, kept["range"], kept["duration"], kept["reason"], note=kept["note"],
                                    pepper=current_app.config["IP_PEPPER"], actor=guards.actor(), now=now())
    except SanctionError as error:
        db.session.rollback()
        return _sanctions_page(problem=error, kept=kept, status=PROBLEM_STATUS.get(error.problem, 422))
    db.session.commit()
    flash({"kind": "held", "id": hold.id, "prefix": hold.prefix, "until": hold.until.isoformat()}, "sanction")
    return see_other(url_for(".sanctions_page"))


@bp.post("/sanctions/holds/<hold_id>/lift")
def lift_hold(hold_id: str):
    try:
        identifier = row_id(hold_id)
    except ValueError:
        abort(404)
    try:
        sanctions.lift_hold(db.session, identifier, actor=guards.actor(), now=now())
    except SanctionError as error:
        db.session.rollback()
        return _sanctions_page(problem=error, status=PROBLEM_STATUS.get(error.problem, 422))
    db.session.commit()
    flash({"kind": "hold_lifted", "id": identifier}, "sanction")
    return see_other(url_for(".sanctions_page"))


@bp.route("/articles/<id:article_id>/protected-names", methods=["GET", "POST"])
def protected_names(article_id: int):
    """The article's protected names (victims, minors): comments naming them are held."""
    article = db.session.get(Article, article_id)
    if article is None:
        abort(404)
    if request.method == "GET":
        return render_template("moderator/protected_names.html", article=article, names=article.protected_names,
                               problems=[], max_names=MAX_NAMES, max_length=MAX_NAME_LENGTH)
    typed = request.form.get("names", "")[:MAX_NAMES * (MAX_NAME_LENGTH + 2) * 2]
    names, problems = parse_names(typed)
    if problems:
        db.session.rollback()
        return render_template("moderator/protected_names.html", article=article, names=typed, problems=problems,
                               max_names=MAX_NAMES, max_length=MAX_NAME_LENGTH), 422
    set_names(db.session, article, names, actor=guards.actor(), now=now())
    db.session.commit()
    flash({"kind": "names_saved", "count": len(names)}, "sanction")
    return see_other(url_for(".protected_names", article_id=article_id))
