"""Responses the blueprints share."""

from __future__ import annotations

from flask import redirect


def see_other(location: str):
    """After a successful POST: 303 See Other, so every client follows with a GET (post/redirect/get)."""
    return redirect(location, code=303)
