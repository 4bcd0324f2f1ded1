"""Responses the blueprints share."""

from __future__ import annotations

from flask import redirect, render_template, request


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
