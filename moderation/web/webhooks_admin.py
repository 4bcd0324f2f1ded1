"""Blueprint for admins: webhook endpoints (add, remove), their deliveries, and redelivery."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, render_template, request, url_for

from moderation.clock import now
from moderation.extensions import db
from moderation.models import WebhookDelivery, WebhookEndpoint
from moderation.services import alerts, external_check, webhooks
from moderation.services.webhooks import WebhookError
from moderation.web import guards
from moderation.web.responses import confirm_first, see_other

bp = Blueprint("webhooks", __name__, url_prefix="/moderation/admin/webhooks")
guards.protect(bp, guards.require_admin)

FLASHED = "webhooks"


def _list_page(status: int = 200, **extra):
    html = render_template("admin/webhooks.html", endpoints=webhooks.all_endpoints(db.session),
                           counts=webhooks.counts_by_state(db.session), events=webhooks.EVENTS,
                           formats=alerts.FORMATS, check=external_check.current(db.session), **extra)
    return html, status


@bp.post("/check")
def set_check():
    """The external check asked about each new comment (services/external_check.py); replaces any other."""
    url = request.form.get("check_url", "")[: webhooks.MAX_URL_LENGTH + 1]
    secret = request.form.get("check_secret", "")[: webhooks.SECRET_MAX_LENGTH + 1]
    allow_private = request.form.get("check_allow_private") == "y"
    try:
        check = external_check.set_check(db.session, url, secret=secret or None, allow_private=allow_private,
                                         now=now(), resolver=current_app.config["WEBHOOK_RESOLVER"]
                                         or webhooks.system_resolver)
    except WebhookError as error:
        db.session.rollback()
        return _list_page(422, check_problem=error.problem.value, check_problem_detail=error.detail,
                          check_url=url, check_secret=secret, check_allow_private=allow_private)
    db.session.commit()
    return _list_page(check_set=check, check_set_secret=check.secret)


@bp.post("/check/remove")
def remove_check():
    removed = external_check.remove_check(db.session)
    db.session.commit()
    flash({"kind": "check_removed" if removed else "check_none"}, FLASHED)
    return see_other(url_for(".endpoints") + "#external-check")


@bp.get("/")
def endpoints():
    return _list_page()


@bp.post("/")
def add_endpoint():
    url = request.form.get("url", "")[: webhooks.MAX_URL_LENGTH + 1]
    chosen = request.form.getlist("events")
    secret = request.form.get("secret", "")[: webhooks.SECRET_MAX_LENGTH + 1]
    allow_private = request.form.get("allow_private") == "y"
    chosen_format = request.form.get("format", "json")[:20]
    try:
        endpoint = webhooks.add_endpoint(db.session, url, chosen, secret=secret or None, allow_private=allow_private,
                                         now=now(), resolver=current_app.config["WEBHOOK_RESOLVER"]
                                         or webhooks.system_resolver, format=chosen_format,
                                         mail_configured=bool(current_app.config["SMTP_HOST"]))
    except WebhookError as error:
        db.session.rollback()
        problems = {error.problem.value: error.detail, **_other_problems(chosen, secret, error.problem.value)}
        return _list_page(422, problems=problems, url=url,
                          chosen=[event for event in chosen if event in webhooks.EVENTS], secret=secret,
                          allow_private=allow_private, chosen_format=chosen_format)
    db.session.commit()
    # The secret in this response only: never in a redirect's flash (the session cookie is readable).
    return _list_page(added=endpoint, added_secret=endpoint.secret)


def _other_problems(chosen: list[str], secret: str, found: str) -> dict[str, str]:
    """What else is wrong with the form than the problem the service stopped at (the events, the
    secret): every problem is said at once, not one per try."""
    others = {}
    for check in (lambda: webhooks.normalized_events(chosen), lambda: webhooks.chosen_secret(secret)):
        try:
            check()
        except WebhookError as error:
            others[error.problem.value] = error.detail
    others.pop(found, None)
    return others


def _endpoint_or_404(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        abort(404)
    return endpoint


@bp.get("/<id:endpoint_id>")
def endpoint_page(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    return render_template("admin/webhook.html", endpoint=endpoint,
                           deliveries=webhooks.recent_deliveries(db.session, endpoint),
                           any_failed=webhooks.has_failed_deliveries(db.session, endpoint))


@bp.post("/<id:endpoint_id>/remove")
def remove_endpoint(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    url = endpoint.url
    if asked := confirm_first("remove_endpoint", url, url_for(".endpoint_page", endpoint_id=endpoint.id)):
        return asked
    webhooks.remove_endpoint(db.session, endpoint)
    db.session.commit()
    flash({"kind": "removed", "url": url}, FLASHED)
    return see_other(url_for(".endpoints"))


@bp.post("/<id:endpoint_id>/test")
def send_test(endpoint_id: int):
    """A test sent at once from the page, as `flask webhooks ping` sends it: what came back is said."""
    from moderation.jobs import delivery

    endpoint = _endpoint_or_404(endpoint_id)
    # No transaction open while the network is waited on: the endpoint leaves the session first, so
    # that what it holds is not expired by the rollback and read again (in a new transaction).
    db.session.expunge(endpoint)
    db.session.rollback()
    answer = delivery.send_test(current_app.config, endpoint, at=now())
    flash({"kind": "tested", "problem": answer.problem.value if answer.problem else None,
           "status": answer.status_code}, FLASHED)
    return see_other(url_for(".endpoint_page", endpoint_id=endpoint_id))


@bp.post("/<id:endpoint_id>/redeliver")
def redeliver(endpoint_id: int):
    """One failed delivery (`delivery` in the form), or every failed one of the endpoint."""
    endpoint = _endpoint_or_404(endpoint_id)
    chosen = request.form.get("delivery", "")
    if chosen:
        delivery = db.session.get(WebhookDelivery, int(chosen)) if chosen.isdigit() and len(chosen) < 18 else None
        if delivery is None or delivery.endpoint_id != endpoint.id:
            abort(404)
        failed = [delivery]
    else:
        failed = webhooks.failed_deliveries(db.session, endpoint)
    count = sum(webhooks.redeliver(db.session, delivery, now=now()) for delivery in failed)
    db.session.commit()  # hands them to the queue
    flash({"kind": "redelivered", "count": count}, FLASHED)
    return see_other(url_for(".endpoint_page", endpoint_id=endpoint.id))
