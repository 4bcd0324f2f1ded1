"""Who is signed in to the moderation pages, and the guards the moderator and admin blueprints use."""

from __future__ import annotations

from datetime import datetime

from flask import abort, current_app, g, redirect, request, session, url_for

from moderation import accounts, identity
from moderation.extensions import db
from moderation.models import AuditEntry, Moderator, Role
from moderation.screening.characters import is_control

SESSION_KEY = "moderator_token"
# Pages a signed-out visitor or a moderator with a one-time password may still reach.
OPEN_ENDPOINTS = {"moderator.login"}
PASSWORD_CHANGE_ENDPOINTS = {"moderator.change_password", "moderator.logout"}


def now() -> datetime:
    return current_app.config["CLOCK"]()


def current_moderator() -> Moderator | None:
    if "moderator" not in g:
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
        abort(401)
    if moderator.must_change_password and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        return redirect(url_for("moderator.change_password"))
    return None


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
        record("logout")
    db.session.commit()
    session.clear()


def record(action: str, **fields) -> AuditEntry:
    """An audit entry by the signed-in moderator (the caller commits)."""
    moderator = current_moderator()
    entry = AuditEntry(
        at=now(),
        moderator_id=moderator.id if moderator else None,
        actor=moderator.name if moderator else "system",
        action=action,
        ip_hash=identity.client_ip_hash(request),
        **fields,
    )
    db.session.add(entry)
    return entry


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
