"""Error pages and the refusal of malformed request bodies (400, never a 500)."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge

FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


class MalformedBody(BadRequest):
    """The body is not valid UTF-8 or holds NUL characters."""


def register(app: Flask) -> None:
    app.before_request(refuse_malformed_bodies)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error):
        return render_template("error.html", kind="too_large"), 400

    @app.errorhandler(MalformedBody)
    def malformed(error):
        return render_template("error.html", kind="malformed"), 400

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        from moderation import reader

        if request.endpoint == "reader.post_comment":
            return reader.form_expired()
        return render_template("error.html", kind="csrf"), 400

    @app.errorhandler(HTTPException)
    def http_error(error):
        return render_template("error.html", kind=error.code, error=error), error.code

    @app.errorhandler(Exception)
    def unexpected(error):
        app.logger.exception("unhandled error")
        return render_template("error.html", kind=500), 500


def refuse_malformed_bodies() -> None:
    """Also query strings: PostgreSQL refuses NUL in text, which would otherwise surface as a 500."""
    if any("\x00" in text for pair in request.args.items(multi=True) for text in pair):
        raise MalformedBody()
    if request.method not in {"POST", "PUT", "PATCH"} or request.mimetype not in FORM_TYPES:
        return
    raw = request.get_data(cache=True)  # raises RequestEntityTooLarge past MAX_CONTENT_LENGTH
    if request.mimetype == "application/x-www-form-urlencoded":
        # One pass over the whole body: percent-decoded, it must be UTF-8 without NUL.
        try:
            decoded = unquote_to_bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedBody() from None
        if "\x00" in decoded:
            raise MalformedBody()
        return
    else:
        values = [key for key in request.form] + [value for value in request.form.values()]
    if any("\x00" in text for text in values):
        raise MalformedBody()
