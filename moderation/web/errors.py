"""Error pages and the refusal of malformed request bodies (400, never a 500)."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote_to_bytes

from flask import Flask, g, has_request_context, jsonify, render_template, request
from flask_wtf.csrf import CSRFError, generate_csrf
from sqlalchemy import event
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge

from moderation.database import answer_deadline
from moderation.extensions import db
from moderation.web import api_errors
from moderation.web.languages import LazyText as lazy_gettext
from moderation.web.outages import OutageLog, is_database_outage, is_lock_conflict
from moderation.web.responses import from_this_host

# Every page under /moderation: their errors keep the moderators' layout and way back to the queue.
MODERATION_BLUEPRINTS = frozenset({"moderator", "admin", "rules", "articles_admin", "dashboard", "data", "jobs",
                                   "sanctions", "webhooks"})
OUTAGE_DURING_A_DECISION = lazy_gettext("系統暫時無法儲存，這個決定尚未套用；您的選擇與備註都還在，請稍候片刻再按一次。")
FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


class MalformedBody(BadRequest):
    """The body is not valid UTF-8 or holds NUL characters."""


def register(app: Flask) -> None:
    app.before_request(refuse_malformed_bodies)
    app.jinja_env.globals["MODERATION_BLUEPRINTS"] = MODERATION_BLUEPRINTS

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error):
        if api_errors.is_api_request():
            return api_errors.error_response(413, "too_large")
        return render_template("error.html", kind="too_large"), 400

    @app.errorhandler(MalformedBody)
    def malformed(error):
        if api_errors.is_api_request():
            return api_errors.error_response(400, "malformed")
        salvage = app.extensions.get("malformed_form_pages", {}).get(request.endpoint)
        if salvage is not None and "\x00" not in request.path:  # a form's body, not its address
            return salvage(**(request.view_args or {}))
        return render_template("error.html", kind="malformed"), 400

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        from moderation.web import reader

        if request.endpoint == "reader.post_comment":
            if not request.form:  # no form at all (JSON, a broken body): nothing typed to keep
                return render_template("error.html", kind=400), 400
            return reader.form_expired()
        if request.blueprint in MODERATION_BLUEPRINTS and request.endpoint != "moderator.login":
            from moderation.web import guards

            if guards.current_moderator() is None:  # the whole session is gone: sign in, keep the input
                return guards.signed_out_during_a_post()
            if sent_from_this_site():  # a tab left open past the token's hour: what was sent, sent again
                if request.endpoint == "moderator.decide_in_place":  # the queue's script retries with it
                    return jsonify(ok=False, code="form_expired", csrf_token=generate_csrf()), 400
                return render_template("error.html", kind="csrf", resend=True), 400
        return render_template("error.html", kind="csrf"), 400

    @app.errorhandler(HTTPException)
    def http_error(error):
        if api_errors.is_api_request():
            return api_errors.for_http_error(error)
        # The exception's own headers (Allow on a 405, WWW-Authenticate, …), not its content type.
        headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
        extra = {}
        if request.blueprint is None and request.path.startswith("/moderation/"):
            # No route matched (/moderation/comments/abc): the moderation pages' navigation all the same.
            extra["moderator"] = _signed_in_moderator()
            headers.append(("Cache-Control", "no-store"))
        return render_template("error.html", kind=error.code, error=error, **extra), error.code, headers

    outages = app.extensions["outages"] = OutageLog()

    @app.errorhandler(Exception)
    def unexpected(error):
        if is_database_outage(error):
            return database_unavailable(app, outages, error)
        app.logger.exception("unhandled error")
        if api_errors.is_api_request():
            return api_errors.error_response(500, "server_error")
        return render_template("error.html", kind=500), 500

    @app.teardown_appcontext
    def end_transaction(error):
        """What Flask-SQLAlchemy's teardown does next (close the session, rolling back an open
        transaction), within the short ping deadline: a stall that begins after the response is
        built must neither delay it by a full answer timeout nor turn it into a 500. A connection
        that does not answer is dropped (the server rolls back a transaction whose client is gone)."""
        try:
            with answer_deadline(app.config["DATABASE_PING_TIMEOUT_SECONDS"]):
                db.session.close()
        except Exception as failure:
            if not is_database_outage(failure):
                raise
            db.session().invalidate()

    @app.after_request
    def outage_over(response):
        # Only a request whose statements the database answered says the outage is over.
        if outages.in_outage and g.get("database_answered"):
            outages.succeeded()
        return response


def watch_database(engine) -> None:
    """Note in the request's `g` that the database answered a statement."""

    @event.listens_for(engine, "after_cursor_execute")
    def answered(*args):
        if has_request_context():
            g.database_answered = True


def database_unavailable(app: Flask, outages: OutageLog, error: BaseException):
    """503 with Retry-After; a reader who was posting gets the form back with everything typed."""
    if is_lock_conflict(error):
        outages.conflicted(error)
    else:
        outages.failed(error)
        g.database_answered = False  # what it answered earlier in this request does not end the outage
    try:
        db.session.rollback()
    except Exception:  # the connection is gone; the session is discarded at teardown anyway
        pass
    retry_after = {"Retry-After": str(app.config["OUTAGE_RETRY_AFTER_SECONDS"])}
    if request.endpoint == "reader.post_comment" or (request.endpoint == "embed.post_comment" and g.get("embed")):
        from moderation.web import reader

        return reader.form_during_outage(headers=retry_after)
    if api_errors.is_api_request():
        return api_errors.error_response(503, "unavailable", headers=retry_after)
    if request.endpoint == "moderator.decide_in_place":  # the queue's script says it on the card, the note kept
        return jsonify(ok=False, code="unavailable", message=str(OUTAGE_DURING_A_DECISION)), 503, retry_after
    response = app.make_response((render_template("error.html", kind=503), 503, retry_after))
    response.headers["Cache-Control"] = "no-store"
    return response


def _signed_in_moderator():
    from moderation.web import guards

    try:
        return guards.current_moderator()
    except Exception:  # the database cannot say: the page without the navigation
        db.session.rollback()
        return None


def sent_from_this_site() -> bool:
    """The browser says the request came from one of this site's pages (Sec-Fetch-Site, else Origin).
    A form from another site must never come back as a page of ours with a fresh token to press."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("Origin")
    return origin is not None and from_this_host(origin)


def readable_form() -> tuple[MultiDict, set[str]]:
    """What can be read of a malformed form body: bytes that are not UTF-8 as U+FFFD, NUL taken out;
    and the names of the fields that lost something."""
    if request.mimetype == "application/x-www-form-urlencoded":
        text = request.get_data(cache=True).decode("utf-8", "replace")
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace")
    else:
        pairs = list(request.form.items(multi=True))
    form, changed = MultiDict(), set()
    for name, value in pairs:
        name = name.replace("\x00", "")
        readable = value.replace("\x00", "")
        if readable != value or "\ufffd" in readable:
            changed.add(name)
        form.add(name, readable)
    return form, changed


def refuse_malformed_bodies() -> None:
    """Also paths and query strings: PostgreSQL refuses NUL in text, which would otherwise surface
    as a 500 wherever a path segment or a parameter reaches a query."""
    if "\x00" in request.path or any("\x00" in text for pair in request.args.items(multi=True) for text in pair):
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
