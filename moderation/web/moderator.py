"""Blueprint for moderators: login, the queue, decisions on one or many comments, author history."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    get_template_attribute,
    jsonify,
    make_response,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from moderation.clock import now
from moderation.extensions import db
from moderation.ids import row_id
from moderation.models import Comment, Role
from moderation.services import accounts, review_queue, surge
from moderation.services.audit import AuditAction, record
from moderation.services.decisions import (
    CHOOSABLE_REASONS,
    Decision,
    Refusal,
    RejectReason,
    Result,
    available_decisions,
    decide,
    decide_many,
    keep_reported,
    undo_of,
)
from moderation.services.own_comments import NOTE_SHARED
from moderation.services.picks import PinOutcome, picks_beside, set_pinned
from moderation.services.rate_limits import LoginLimits, login_retry_after
from moderation.services.rulebook.edits import RuleError, allow_phrase
from moderation.services.rulebook.reasons import removed_rules, report_rule_wrong, rule_reason
from moderation.services.staff_answers import AnswerProblem, answer_as_site
from moderation.web import guards, reader_identity
from moderation.web.queue_cards import cards_of, rule_ids_of
from moderation.web.responses import see_other

bp = Blueprint("moderator", __name__, url_prefix="/moderation")
guards.protect(bp, guards.require_moderator)


def _login_wait(name: str, ip_hash: str) -> int:
    limits = LoginLimits.from_config(current_app.config)
    return login_retry_after(db.session, accounts.name_key(name), ip_hash, now=now(), limits=limits)


def _too_many_attempts(template: str, wait: int, **context):
    response = make_response(render_template(template, wait=wait, **context), 429)
    response.headers["Retry-After"] = str(wait)
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    back = guards.safe_back_url(request.values.get("next"), url_for(".queue_page"))
    if request.method == "GET":
        return render_template("moderator/login.html", back=back)
    name = request.form.get("name", "")[:100]
    password = request.form.get("password", "")[:1000]
    ip_hash = reader_identity.client_ip_hash(request)
    wait = _login_wait(name, ip_hash)
    if wait:
        return _too_many_attempts("moderator/login.html", wait, back=back, name=name, kept=_kept_input())
    moderator = accounts.authenticate(db.session, name, password, ip_hash, now=now(),
                                      hasher=accounts.hasher_for(current_app.config))
    if moderator is None:
        db.session.commit()
        return render_template("moderator/login.html", back=back, name=name, failed=True, kept=_kept_input()), 401
    guards.sign_in(moderator)
    db.session.commit()
    kept = _kept_input()
    if kept and kept["comment_id"]:  # a decision's note typed before the session ended: back into its card
        flash({key: kept[key] for key in ("comment_id", "note", "reason", "share_note")}, "kept")
        return see_other(f"{back}#card-{kept['comment_id']}")
    if kept:  # a surge's cluster card: its reason and note back on it
        flash({"cluster": kept["cluster"], "note": kept["note"], "reason": kept["reason"] or None}, "cluster_kept")
        return see_other(f"{back}#cluster-{kept['cluster']}-reason")
    return see_other(back)


def _kept_input() -> dict | None:
    comment_id = request.form.get("kept_comment", type=row_id)
    cluster = request.form.get("kept_cluster", type=row_id)
    if not (comment_id or cluster):
        return None
    return {"comment_id": comment_id, "cluster": None if comment_id else cluster,
            "note": request.form.get("kept_note", "")[:500], "reason": request.form.get("kept_reason", "")[:40],
            "share_note": request.form.get("kept_share_note") == "1"}


@bp.post("/logout")
def logout():
    guards.sign_out()
    return see_other(url_for(".login"))


@bp.route("/password", methods=["GET", "POST"])
def change_password():
    moderator = guards.current_moderator()
    if request.method == "GET":
        return render_template("moderator/password.html")
    ip_hash = reader_identity.client_ip_hash(request)
    wait = _login_wait(moderator.name, ip_hash)
    if wait:
        return _too_many_attempts("moderator/password.html", wait)
    current, new, again = (request.form.get(key, "") for key in ("current", "new", "again"))
    problem = accounts.change_password(db.session, moderator, current, new, again, ip_hash=ip_hash, now=now(),
                                       hasher=accounts.hasher_for(current_app.config))
    if problem is not None:
        if problem is accounts.PasswordChange.WRONG_CURRENT:
            db.session.commit()  # the failure counts toward the sign-in throttle
        else:
            db.session.rollback()
        return render_template("moderator/password.html", problem=problem.value), 422
    guards.sign_in(moderator)  # every other session of this account has ended
    db.session.commit()
    flash({"kind": "password_changed"}, "result")
    return see_other(url_for(".queue_page"))


def _filters() -> review_queue.Filters:
    article_id = request.args.get("article", type=row_id)
    raw_tag = request.args.get("author", "").strip()
    tag = review_queue.parse_author_tag(raw_tag)
    malformed = bool(raw_tag) and (tag is None or len(tag) > review_queue.AUTHOR_HASH_LENGTH)
    return review_queue.Filters(article_id=article_id, author_tag=None if malformed else tag,
                                text=request.args.get("q", "").strip()[:200],
                                comment_id=request.args.get("comment", type=row_id),
                                malformed_author=raw_tag[:80] if malformed else None,
                                kind=_kind())


def _kind() -> review_queue.Kind | None:
    try:
        return review_queue.Kind(request.args.get("kind", ""))
    except ValueError:
        return None  # anything else: every comment, as without the filter


def _tab() -> review_queue.Tab:
    try:
        return review_queue.Tab(request.args.get("tab", review_queue.Tab.PENDING))
    except ValueError:
        abort(404)


@bp.get("/")
def queue_page():
    tab = _tab()
    filters = _filters()
    after = review_queue.Cursor.decode(request.args.get("after"))
    before = None if after else review_queue.Cursor.decode(request.args.get("before"))
    size = current_app.config["QUEUE_PAGE_SIZE"]
    if filters.malformed_author:  # never the whole queue in place of what was asked for
        found = review_queue.Page(comments=[], next_cursor=None)
    else:
        found = review_queue.page(db.session, tab, filters, after=after, before=before, size=size)
    counts = review_queue.counts(db.session, filters)
    # The page's number only labels it (pages are read by keyset); a link carries it along.
    page_number = max(1, request.args.get("page", 1, type=int) or 1) if found.previous_cursor else 1
    return render_template(
        "moderator/queue.html",
        tab=tab,
        tabs=list(review_queue.Tab),
        counts=counts,
        filters=filters,
        found=found,
        cards=_cards(found, tab),
        articles=review_queue.articles_for_filter(db.session),
        reject_reasons=CHOOSABLE_REASONS,
        bulk_decisions=available_decisions(review_queue.status_listed(tab)),
        back=request.full_path,
        page_number=min(page_number, 100_000),
        page_count=max(1, -(-counts[tab] // size)),
        undo_seconds=current_app.config["QUEUE_UNDO_SECONDS"],
        surges=surge.active_surges(db.session),
        # Near-identical comments from several authors: one card each, on the first page of 待審核
        # (a list narrowed by author, text or kind shows their comments on cards of their own).
        clusters=surge.pending_clusters(db.session, article_id=filters.article_id)
        if tab is review_queue.Tab.PENDING and not (after or before or filters.narrowed) else [],
    )


def _reject_reason() -> RejectReason | None:
    try:
        reason = RejectReason(request.form.get("reason") or "")
    except ValueError:
        return None
    return reason if reason in CHOOSABLE_REASONS else None


def _decision_options(decision: Decision) -> dict:
    """Who, when, and — for a rejection only — why: an approval never carries the form's reject reason.
    A rejection's note reaches its author only when the moderator ticked "share with the author"."""
    reason = _reject_reason() if decision is Decision.REJECT else None
    shared = decision is Decision.REJECT and request.form.get("share_note") == "1"
    return {"actor": guards.actor(), "now": now(), "reason": reason, "note": request.form.get("note", "")[:500],
            "details": {NOTE_SHARED: True} if shared else None}


def _with_pending_replies(decision: Decision, result: Result, options: dict) -> list[Result]:
    """Rejecting a top comment, the moderator may reject its pending replies too: one decision each."""
    if decision is not Decision.REJECT or not result.ok or request.form.get("with_replies") != "1":
        return []
    return decide_many(db.session, _bulk_items(request.form.getlist("reply_item")), decision,
                       **{**options, "now": now()})


def _undoing() -> bool:
    """The form is a result's 復原: the decision takes back the moderator's own last one."""
    return request.form.get("undo") == "1"


def _decision() -> Decision:
    try:
        return Decision(request.form.get("decision", ""))
    except ValueError:
        abort(400)


def _back() -> str:
    return guards.safe_back_url(request.form.get("back"), url_for(".queue_page"))


def _version() -> int:
    version = request.form.get("version", type=row_id)
    if version is None:
        abort(400)
    return version


@bp.post("/comments/<id:comment_id>/decide")
def decide_one(comment_id: int):
    decision = _decision()
    options = _decision_options(decision)
    result = decide(db.session, comment_id, decision, expected_version=_version(), undoing=_undoing(), **options)
    return _after_one(decision, result, _replies_with(decision, result, options))


def _replies_with(decision: Decision, result: Result, options: dict) -> list[Result]:
    """The replies a decision on their parent acts on too: its pending replies rejected with it, or,
    when it is the undo of that (the decided line's 復原), the replies it took coming back."""
    if _undoing():
        return _undoing_each("undo_reply") if result.ok else []
    return _with_pending_replies(decision, result, options)


def _after_one(decision: str, result: Result, replies: list[Result] = ()):
    """Back to the queue: the result is shown just above the card that takes the decided one's place
    (#result-N lands on both), or, for the last card of a page, found by position (#card-at-N). An
    undo's result is said as one, above the card that came back."""
    summary = _summary(decision, [result, *replies])
    if _undoing() and result.ok:
        summary["undone"] = result.status.value
        flash({**summary, "next": result.comment_id}, "result")
        return see_other(f"{_back()}#result-{result.comment_id}")
    undo = undo_of(result.previous) if result.ok and decision != "keep" and not _undoing() else None
    if undo is not None and any(reply.ok for reply in replies):  # one 復原 for the parent and its replies
        summary["undo_many"] = _undo_items([result, *replies])
    elif undo is not None:  # the page's own 復原 without JavaScript (the script offers it in place)
        summary["undo"] = {"id": result.comment_id, "decision": undo.value, "version": result.version}
    focus = request.form.get("focus", type=row_id) if result.ok else None
    if focus in {reply.comment_id for reply in replies if reply.ok}:
        # The card after it was a reply rejected with it: no card takes its place, so the page opens
        # at the result, shown at the top.
        summary["anchor"] = BULK_RESULT
        flash(summary, "result")
        return see_other(f"{_back()}#{BULK_RESULT}")
    if focus:
        summary["next"] = focus
    if not result.ok:  # told just above the card, which keeps what was chosen and typed
        summary["next"] = focus = result.comment_id
        flash({"comment_id": result.comment_id, "reason": request.form.get("reason", "")[:40],
               "note": request.form.get("note", "")[:500], "share_note": request.form.get("share_note") == "1"},
              "kept")
    flash(summary, "result")
    return see_other(_back() + (f"#result-{focus}" if focus else _focus_anchor(result.ok, result.comment_id)))


BULK_RESULT = "bulk-result"
MAX_BULK_UNDO = 500  # a bulk decision is a page at most; a forged form cannot make the loop long

# A refusal's HTTP status in the JSON answer; its `code` (the Refusal value) is what a script reads.
REFUSAL_STATUS = {Refusal.NOT_FOUND: 404, Refusal.CONFLICT: 409, Refusal.NOT_ALLOWED: 409,
                  Refusal.REASON_REQUIRED: 422}


@bp.post("/comments/<id:comment_id>/decision.json")
def decide_in_place(comment_id: int):
    """The same decision as `decide_one`, answered in JSON for the queue's script: the card's
    one-line result (with an undo) or, when refused, the card as it is now with the reason; and the
    tabs' counts. The query string is the queue page's, so the counts are under its filters."""
    keeping = request.form.get("decision") == "keep"  # a reported comment kept: no status change
    replies: list[Result] = []  # rejected with it (their cards become lines too), or back with its undo
    refused_replies: list[Result] = []  # an undo's replies decided on since: each line says why it stays
    try:
        decision = None if keeping else Decision(request.form.get("decision", ""))
    except ValueError:
        return jsonify(ok=False, code="bad_request"), 400
    version = request.form.get("version", type=row_id)
    if version is None:
        return jsonify(ok=False, code="bad_request"), 400
    if keeping:
        result = keep_reported(db.session, comment_id, expected_version=version, actor=guards.actor(), now=now())
    else:
        options = _decision_options(decision)
        result = decide(db.session, comment_id, decision, expected_version=version, undoing=_undoing(), **options)
        acted_on = _replies_with(decision, result, options)
        replies = [each for each in acted_on if each.ok]
        refused_replies = [each for each in acted_on if not each.ok] if _undoing() else []
    decision = "keep" if keeping else decision.value
    filters, tab = _filters(), _tab()
    counts = {each.value: n for each, n in review_queue.counts(db.session, filters).items()}
    back = _back()
    if not result.ok:
        return jsonify(
            ok=False, code=result.refusal.value, counts=counts,
            card=_card_html(comment_id, tab, back, problem=_summary(decision, [result])["skipped"][0]),
        ), REFUSAL_STATUS[result.refusal]
    undo = None if keeping else undo_of(result.previous)  # closed reports are not reopened
    if _undoing():  # an undo done: the card comes back, as it is now, and so do the replies rejected with it
        refusal_line = get_template_attribute("moderator/labels.html", "refusal_line")
        return jsonify(ok=True, code="undone", counts=counts, card=_card_html(comment_id, tab, back),
                       pick={True: "restored", False: "full", None: None}[result.repicked],
                       authors=_author_counts([comment_id, *(reply.comment_id for reply in replies)]),
                       also=[{"id": reply.comment_id, "card": _card_html(reply.comment_id, tab, back)}
                             for reply in replies]
                       + [{"id": item["id"], "problem": refusal_line(item).striptags()}  # the script's textContent
                          for item in _summary(decision, refused_replies)["skipped"]])
    html = render_template("moderator/decided.html", comment_id=comment_id, decision=decision,
                           undo=undo.value if undo else None, version=result.version, back=back,
                           undo_seconds=current_app.config["QUEUE_UNDO_SECONDS"],
                           replies=[each.comment_id for each in replies], undo_replies=_undo_items(replies),
                           unpicked=result.unpicked)
    also = [{"id": reply.comment_id, "html": render_template("moderator/decided.html", comment_id=reply.comment_id,
                                                             decision=decision, undo=None, version=None, back=back,
                                                             undo_seconds=0)}
            for reply in replies]
    return jsonify(ok=True, code="decided", counts=counts, status=result.status.value, html=html, also=also,
                   authors=_author_counts([comment_id, *(reply.comment_id for reply in replies)]))


def _author_counts(comment_ids: list[int]) -> list[dict]:
    """The authors of these comments with their counts by status now: the queue's script updates the
    other cards of the same author after a decision in place."""
    hashes = set(db.session.scalars(select(Comment.author_hash).where(Comment.id.in_(comment_ids))))
    return [{"tag": review_queue.author_tag(author_hash), **vars(history)}
            for author_hash, history in review_queue.author_histories(db.session, hashes).items()]


def _cards(found: review_queue.Page, tab: review_queue.Tab) -> list:
    return cards_of(found, pepper=current_app.config["IP_PEPPER"], tab=tab,
                    removed=removed_rules(db.session, rule_ids_of(found)))


def _card_html(comment_id: int, tab: review_queue.Tab, back: str, problem: dict | None = None,
               pinned: dict | None = None) -> str | None:
    found = review_queue.page_of(db.session, [comment_id])
    if not found.comments:
        return None
    [card] = _cards(found, tab)
    return render_template("moderator/one_card.html", card=card, back=back, reject_reasons=CHOOSABLE_REASONS,
                           problem=problem, pinned=pinned)


def _focus_anchor(decided: bool, comment_id: int) -> str:
    """Where the keyboard goes next: the card that moves up into the decided one's place. For the
    last card on the page that one is not known yet (it comes from the next page), so its position."""
    if not decided:
        return f"#card-{comment_id}"
    focus = request.form.get("focus", type=row_id)
    if focus:
        return f"#card-{focus}"
    position = request.form.get("position", type=int)
    return f"#card-at-{position}" if position is not None and 0 <= position < 1000 else ""


@bp.post("/comments/<id:comment_id>/keep")
def keep(comment_id: int):
    """A reported comment stays published: its open reports are closed, and the audit says who kept it."""
    result = keep_reported(db.session, comment_id, expected_version=_version(), actor=guards.actor(), now=now())
    return _after_one("keep", result)


def _bulk_items(raw: list[str]) -> list[tuple[int, int]]:
    items = []
    for value in raw[:500]:
        comment_id, _, version = value.partition(":")
        try:
            items.append((row_id(comment_id), row_id(version)))
        except ValueError:
            continue
    return items


@bp.post("/comments/bulk")
def decide_bulk():
    """Selected comments, or the whole page. The whole page is asked once more, with its count and
    reason, before anything is done (a confirmation page: no script needed)."""
    decision = _decision()
    whole_page = request.form.get("scope") == "page"
    items = _bulk_items(request.form.getlist("page_item" if whole_page else "item"))
    if not items:
        flash({"kind": "nothing_selected"}, "result")
        return see_other(_back())
    options = _decision_options(decision)
    if decision is Decision.REJECT and (options["reason"] is None
                                        or (options["reason"] is RejectReason.OTHER and not options["note"].strip())):
        kept = {"reason": options["reason"].value if options["reason"] else None, "note": options["note"][:500]}
        cluster = request.form.get("cluster", "")
        if cluster.isdecimal():  # a surge's cluster card: its own reason, kept on it
            flash({"kind": "bulk_reason_required"}, "result")  # once, not once per comment
            flash({**kept, "cluster": int(cluster)}, "cluster_kept")
            return see_other(f"{_back()}#cluster-{int(cluster)}-reason")
        # The selection and the reason come back as they were, the refusal said once, in the bar.
        flash({"items": [comment_id for comment_id, _ in items], "scope": "page" if whole_page else "selected",
               **kept}, "bulk_kept")
        return see_other(_back() + "#bulk-reason")  # where the missing choice is made
    if whole_page and request.form.get("confirmed") != "1":
        return render_template("moderator/confirm_bulk.html", decision=decision.value, items=items,
                               reason=options["reason"].value if options["reason"] else None,
                               note=options["note"], back=_back())
    results = decide_many(db.session, items, decision, **options)
    summary = _summary(decision, results)
    # One 復原 for the lot: each comment back through decide(), its reports and pick with it.
    summary["undo_many"] = _undo_items(results)
    return _bulk_result(summary)


def _undo_items(results: list[Result]) -> list[str]:
    """`id:version:decision` of each decision that can be taken back (what `_undoing_each` reads)."""
    return [f"{result.comment_id}:{result.version}:{undo.value}" for result in results
            if result.ok and (undo := undo_of(result.previous)) is not None]


def _undoing_each(field: str) -> list[Result]:
    """Each `id:version:decision` of the form's `field` taken back on its own, as a single undo is;
    one that someone has decided on since is skipped and said so."""
    items = []
    for value in request.form.getlist(field)[:MAX_BULK_UNDO]:
        comment_id, version, decision = (value.split(":") + ["", ""])[:3]
        try:
            items.append((row_id(comment_id), row_id(version), Decision(decision)))
        except ValueError:
            continue
    actor = guards.actor()
    return [decide(db.session, comment_id, decision, expected_version=version, actor=actor, now=now(), undoing=True)
            for comment_id, version, decision in items]


def _bulk_result(summary: dict):
    """Back to the queue with the result in focus (read out; Tab goes on to 全部復原)."""
    flash({**summary, "anchor": BULK_RESULT}, "result")
    return see_other(f"{_back()}#{BULK_RESULT}")


@bp.post("/comments/bulk-undo")
def undo_bulk():
    """The 復原 of a bulk decision, or of a rejection that took pending replies with it."""
    return _bulk_result(_summary("undo", _undoing_each("undo_item")))


def _summary(decision: str, results: list[Result]) -> dict:
    """What to tell the moderator, as data: the template words it."""
    return {
        "kind": "decision",
        "decision": str(decision),
        "done": sorted(result.comment_id for result in results if result.ok),  # in id order, not the ticks' order
        "unpicked": [result.comment_id for result in results if result.unpicked],
        "repicked": [result.comment_id for result in results if result.repicked],
        "not_repicked": [result.comment_id for result in results if result.repicked is False],
        "skipped": [
            {
                "id": result.comment_id,
                "why": _why_refused(result.refusal),
                "status": result.status.value if result.status else None,
                "by": result.last_change.actor if result.last_change else None,
                "action": result.last_change.action if result.last_change else None,
                "at": result.last_change.at.isoformat() if result.last_change else None,
            }
            for result in results
            if not result.ok
        ],
    }


def _why_refused(refusal: Refusal) -> str:
    """The refusal as the moderator is told it: 其他 chosen without its note is said as the note missing."""
    if refusal is Refusal.REASON_REQUIRED and request.form.get("reason") == "other":
        return "note_required"
    return refusal.value


@bp.get("/comments/<id:comment_id>")
def comment_in_queue(comment_id: int):
    """One comment's card, on the tab it is listed on now (where an audit row links)."""
    tab = review_queue.tab_of(db.session, comment_id)
    if tab is None:
        abort(404)
    return see_other(url_for(".queue_page", tab=tab.value, comment=comment_id))


@bp.post("/comments/<id:comment_id>/pin")
def pin(comment_id: int):
    """Make a published comment an editors' pick (「編輯精選」), or stop; at most 3 per article."""
    outcome = set_pinned(db.session, comment_id, request.form.get("pinned") == "1", actor=guards.actor(), now=now())
    if outcome in (PinOutcome.PINNED, PinOutcome.UNPINNED):
        db.session.commit()
    else:
        db.session.rollback()
    picks = picks_beside(db.session, comment_id) if outcome is PinOutcome.FULL else []  # which one to unpin
    result = {"kind": "pin", "outcome": outcome.value, "comment_id": comment_id, "next": comment_id, "picks": picks,
              "pinned": request.form.get("pinned") == "1"}  # what was asked: an unchanged pick says it is so
    if request.accept_mimetypes.best == "application/json":  # the queue's script: the card as it is now, said on it
        card = _card_html(comment_id, _tab(), _back(), pinned=result)
        ok = outcome in (PinOutcome.PINNED, PinOutcome.UNPINNED, PinOutcome.UNCHANGED)
        return jsonify(ok=ok, code=outcome.value, card=card), 200 if ok else (404 if card is None else 409)
    flash(result, "result")
    return see_other(f"{_back()}#result-{comment_id}")


def _answer_page(comment_id: int, *, body: str = "", problem: str | None = None, status: int = 200):
    parent = db.session.get(Comment, comment_id)
    if parent is None:
        abort(404)
    back = guards.safe_back_url(request.values.get("back"), url_for(".queue_page"))
    if parent.is_staff:  # said before anything is typed: the site does not answer itself
        problem = AnswerProblem.SITE_ANSWER.value
    return render_template("moderator/answer.html", parent=parent, body=body, problem=problem, back=back), status


@bp.get("/comments/<id:comment_id>/answer")
def answer_form(comment_id: int):
    """The site's answer to a comment (「本站編輯」): a page of its own, so it works without a script."""
    return _answer_page(comment_id)


@bp.post("/comments/<id:comment_id>/answer")
def answer(comment_id: int):
    body = request.form.get("body", "")[:20_000]
    answered = answer_as_site(
        db.session, comment_id, body, actor=guards.actor(),
        author_hash=reader_identity.keyed_hash(f"staff:{guards.current_moderator().id}"),
        ip_hash=reader_identity.client_ip_hash(request), now=now(), max_length=current_app.config["COMMENT_MAX_LENGTH"],
    )
    if answered.problem is AnswerProblem.NOT_FOUND:
        abort(404)
    if answered.problem:
        db.session.rollback()
        return _answer_page(comment_id, body=body, problem=answered.problem.value, status=422)
    db.session.commit()
    flash({"kind": "answered", "comment_id": answered.comment_id, "parent_id": comment_id, "next": comment_id},
          "result")
    return see_other(f"{_back()}#result-{comment_id}")  # back to the card answered, as after a pin


@bp.get("/authors/<tag>")
def author_history(tag: str):
    """Every comment of one author (personal data: each viewing is logged)."""
    tag = review_queue.parse_author_tag(tag)
    if tag is None or len(tag) > 64:
        abort(404)
    comments = review_queue.comments_of_author(db.session, tag, limit=current_app.config["AUTHOR_HISTORY_LIMIT"])
    if not comments:  # no author has this tag (as its restriction page says): nothing viewed, nothing logged
        abort(404)
    record(db.session, guards.actor(), AuditAction.VIEW_AUTHOR_HISTORY, now=now(), note=tag)
    db.session.commit()
    return render_template("moderator/author.html", tag=tag, comments=comments)


def _rule_reason_or_404(comment_id: int, reason_id: int):
    reason = rule_reason(db.session, comment_id, reason_id)
    if reason is None:
        abort(404)
    return reason


@bp.post("/comments/<id:comment_id>/reasons/<id:reason_id>/wrong")
def rule_was_wrong(comment_id: int, reason_id: int):
    """'This rule was wrong here': counted in the rule's statistics, once per moderator and comment."""
    reason = _rule_reason_or_404(comment_id, reason_id)
    if reason.rule_id in removed_rules(db.session, [reason.rule_id]):
        flash({"kind": "wrong_hit_of_a_removed_rule", "term": reason.detail, "next": comment_id}, "result")
        return see_other(f"{_back()}#result-{comment_id}")
    report_rule_wrong(db.session, reason, actor=guards.actor(), now=now())
    db.session.commit()
    flash({"kind": "rule_wrong", "term": reason.detail, "comment_id": comment_id, "next": comment_id}, "result")
    return see_other(f"{_back()}#result-{comment_id}")


@bp.post("/comments/<id:comment_id>/reasons/<id:reason_id>/allow")
def allow_term(comment_id: int, reason_id: int):
    """Add a phrase around a matched term to the allow-list (admins: it loosens screening for everyone)."""
    if guards.current_moderator().role is not Role.ADMIN:
        abort(403)
    reason = _rule_reason_or_404(comment_id, reason_id)
    phrase = request.form.get("phrase", "").strip()
    try:
        allow_phrase(db.session, reason, phrase, actor=guards.actor(), now=now())
    except RuleError as error:
        db.session.rollback()
        flash({"kind": "rule_problem", "problem": error.problem.value, "value": error.value, "next": comment_id},
              "result")
    else:
        db.session.commit()
        flash({"kind": "allowed", "phrase": phrase, "next": comment_id}, "result")
    return see_other(f"{_back()}#result-{comment_id}")
