"""Responses the blueprints share."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import redirect, render_template, request, session


def from_this_host(origin: str) -> bool:
    """A request's Origin names this site. The host name only: a proxy in front may give the app
    another scheme or port than the browser saw."""
    return urlsplit(origin).hostname == urlsplit(f"//{request.host}").hostname


def see_other(location: str):
    """After a successful POST: 303 See Other, so every client follows with a GET (post/redirect/get)."""
    return redirect(location, code=303)


def confirm_first(kind: str, subject: str, back: str, **extra):
    """The confirmation page for an action that is hard to take back, unless this post confirms it."""
    if request.form.get("confirmed") == "1":
        return None
    fields = {key: value for key, value in request.form.items() if key not in {"csrf_token", "confirmed"}}
    return render_template("admin/confirm.html", kind=kind, subject=subject, action=request.path, fields=fields,
                           back=back, **extra)


# A create form that shows a secret once (an API key, an account's one-time password) carries a
# one-time id: sent again (Reload resends it), it is answered with what it made, not made twice.
SENT_FORMS_KEPT = 10


def new_form_id() -> str:
    return secrets.token_urlsafe(12)


def made_by_this_form(kind: str):
    """What this form (its `form_id`) made already, kept in the session under `kind`, or None."""
    return session.get(kind, {}).get(request.form.get("form_id", "")[:32])


def remember_what_this_form_made(kind: str, made) -> None:
    form_id = request.form.get("form_id", "")[:32]
    if form_id:
        sent = session.get(kind, {})
        session[kind] = dict(list(sent.items())[-(SENT_FORMS_KEPT - 1):] + [(form_id, made)])
