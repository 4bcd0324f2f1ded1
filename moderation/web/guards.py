"""Who is signed in to the moderation pages, and the guards the moderator and admin blueprints use."""

from __future__ import annotations

from flask import abort, current_app, g, redirect, render_template, request, session, url_for

from moderation.clock import now
from moderation.extensions import db
from moderation.models import Moderator, Role
from moderation.screening.characters import is_control
from moderation.services import accounts, audit
from moderation.web import reader_identity

SESSION_KEY = "moderator_token"
# Pages a signed-out visitor or a moderator with a one-time password may still reach.
OPEN_ENDPOINTS = {"moderator.login"}
PASSWORD_CHANGE_ENDPOINTS = {"moderator.change_password", "moderator.logout"}


def current_moderator() -> Moderator | None:
    if "moderator" not in g:
        g.moderator = None  # if the database cannot say, the error page does not ask it again
        g.moderator = accounts.moderator_for_session(db.session, session.get(SESSION_KEY), now=now())
    return g.moderator


def require_moderator():
    """before_request guard: signed in, active, and with a password of their own."""
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    moderator = current_moderator()
    if moderator is None:
        session.pop(SESSION_KEY, None)
        if request.method == "GET":
            return redirect(url_for("moderator.login", next=request.full_path))
        return signed_out_during_a_post()
    if moderator.must_change_password and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        return redirect(url_for("moderator.change_password"))
    return None


def signed_out_during_a_post():
    """The session ended while a form was being filled in (a decision with its note): the sign-in form,
    which carries the typed note and reason along and then returns to the page the form came from."""
    comment_id = (request.view_args or {}).get("comment_id")
    cluster = request.form.get("cluster", "")[:12]  # a surge's cluster card: its reason and note, kept the same way
    kept = None
    if (comment_id is not None or cluster.isdecimal()) and (request.form.get("note", "").strip() or request.form.get("reason")):
        kept = {"comment_id": comment_id, "cluster": int(cluster) if comment_id is None else None,
                "note": request.form.get("note", "")[:500], "reason": request.form.get("reason", "")[:40],
                "share_note": request.form.get("share_note") == "1"}
    back = safe_back_url(request.form.get("back"), url_for("moderator.queue_page"))
    return render_template("moderator/login.html", back=back, expired=True, kept=kept), 401


def require_admin():
    refused = require_moderator()
    if refused is not None:
        return refused
    if current_moderator().role is not Role.ADMIN:
        abort(403)
    return None


def sign_in(moderator: Moderator) -> None:
    """A fresh session (no fixation: whatever the browser carried before is dropped)."""
    session.clear()
    token = accounts.start_session(
        db.session, moderator, now=now(), lifetime=current_app.config["PERMANENT_SESSION_LIFETIME"]
    )
    session.permanent = True
    session[SESSION_KEY] = token


def sign_out() -> None:
    moderator = current_moderator()
    accounts.end_session(db.session, session.get(SESSION_KEY))
    if moderator is not None:
        audit.record(db.session, actor(), audit.AuditAction.LOGOUT, now=now())
    db.session.commit()
    session.clear()


def actor() -> audit.Actor:
    """The signed-in moderator, as the audit log names them."""
    return audit.Actor.moderator(current_moderator(), ip_hash=reader_identity.client_ip_hash(request))


def protect(blueprint, guard) -> None:
    """What every moderation blueprint shares: the sign-in guard, no caching, the signed-in moderator."""
    blueprint.before_request(guard)

    @blueprint.after_request
    def no_store(response):
        response.headers["Cache-Control"] = "no-store"  # personal data; never kept by a shared cache
        return response

    @blueprint.context_processor
    def signed_in():
        return {"moderator": current_moderator()}


def safe_back_url(raw: str | None, default: str) -> str:
    """Only a path inside the moderation pages: never an open redirect, never a control character
    (CR or LF would break the Location header after the work was done)."""
    if (raw and raw.startswith("/moderation") and "//" not in raw and "\\" not in raw
            and not any(map(is_control, raw))):
        return raw
    return default
