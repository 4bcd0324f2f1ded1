"""`flask webhooks …`: endpoints for automation (add prints the secret once; list; ping; remove; redeliver)."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from moderation.cli.common import commit_or_fail
from moderation.clock import now
from moderation.extensions import db
from moderation.models import DeliveryState
from moderation.services import alerts, webhooks
from moderation.services.webhooks import RegistrationProblem, WebhookError

group = AppGroup("webhooks", help="Webhook endpoints: signed JSON deliveries of comment and article events.")

# The words of `RegistrationProblem` for the operator's terminal.
PROBLEMS = {
    RegistrationProblem.URL_INVALID: "the URL must be http:// or https:// with a host, no user or password, "
                                     f"at most {webhooks.MAX_URL_LENGTH} characters",
    RegistrationProblem.URL_UNRESOLVABLE: "the URL's host does not resolve",
    RegistrationProblem.URL_PRIVATE: "the URL's host resolves to a loopback, link-local or private address "
                                     "(add --allow-private if that host is yours)",
    RegistrationProblem.NO_EVENTS: "name at least one event with --event",
    RegistrationProblem.UNKNOWN_EVENT: "unknown event; the events are " + ", ".join(webhooks.EVENTS),
    RegistrationProblem.SECRET_INVALID: f"the secret needs {webhooks.SECRET_MIN_LENGTH} to "
                                        f"{webhooks.SECRET_MAX_LENGTH} visible ASCII characters, no spaces",
    RegistrationProblem.URL_TAKEN: "an endpoint with this URL exists",
    RegistrationProblem.UNKNOWN_FORMAT: "unknown format; the formats are " + ", ".join(alerts.FORMATS),
    RegistrationProblem.MAILTO_INVALID: f"format email needs mailto: and 1 to {alerts.MAX_RECIPIENTS} addresses, "
                                        "comma-separated",
    RegistrationProblem.MAIL_UNCONFIGURED: "format email needs an SMTP server: set MODERATION_SMTP_HOST",
}


check_group = AppGroup("external-check", help="The HTTP check screening asks about each new comment.")


def register(app: Flask) -> None:
    app.cli.add_command(group)
    app.cli.add_command(check_group)


@check_group.command("set")
@click.argument("url")
@click.option("--allow-private", is_flag=True, help="Allow this host to resolve to a loopback or private address.")
@click.option("--secret", default=None, help="Your own secret (16-200 visible characters); default: generated.")
def set_check(url: str, allow_private: bool, secret: str | None):
    """Ask URL about each new comment (replaces any other check); prints its signing secret once."""
    from moderation.services import external_check

    check = commit_or_fail(
        lambda: external_check.set_check(db.session, url, secret=secret, allow_private=allow_private, now=now(),
                                         resolver=_resolver()),
        WebhookError, lambda error: PROBLEMS[error.problem])
    click.echo(f"external check set: {check.url}")
    click.echo(f"secret (shown only now): {check.secret}")


@check_group.command("show")
def show_check():
    from moderation.services import external_check

    check = external_check.current(db.session)
    if check is None:
        click.echo("no external check")
        return
    problem = f"{check.last_problem} at {check.last_problem_at:%Y-%m-%d %H:%M} UTC" if check.last_problem else "none"
    click.echo(f"{check.url}  last problem: {problem}")


@check_group.command("remove")
def remove_check():
    from moderation.services import external_check

    removed = external_check.remove_check(db.session)
    db.session.commit()
    click.echo("external check removed" if removed else "no external check")


def _resolver():
    return current_app.config["WEBHOOK_RESOLVER"] or webhooks.system_resolver


@group.command("add")
@click.argument("url")
@click.option("--event", "events", multiple=True, required=True, type=click.Choice(webhooks.EVENTS),
              help="An event to deliver (repeat for several).")
@click.option("--allow-private", is_flag=True, help="Allow this host to resolve to a loopback or private address.")
@click.option("--secret", default=None, help="Your own secret (16-200 visible characters); default: generated. "
              "DingTalk: the robot's SEC… secret; Feishu: the bot's signing secret.")
@click.option("--format", "fmt", type=click.Choice(alerts.FORMATS), default="json",
              help="json: the signed event; a chat format or email (URL mailto:…): a message for moderators, "
              "digests per quiet period.")
def add(url: str, events: tuple[str, ...], allow_private: bool, secret: str | None, fmt: str):
    """Register an endpoint; prints its signing secret, once."""
    endpoint = commit_or_fail(
        lambda: webhooks.add_endpoint(db.session, url, events, secret=secret, allow_private=allow_private,
                                      now=now(), resolver=_resolver(), format=fmt,
                                      mail_configured=bool(current_app.config["SMTP_HOST"])),
        WebhookError, lambda error: PROBLEMS[error.problem])
    click.echo(f"endpoint {endpoint.id} added: {endpoint.url} ({endpoint.events}; {endpoint.format})")
    click.echo(f"secret (shown only now): {endpoint.secret}")


@group.command("list")
def list_endpoints():
    """Id, URL, events, deliveries pending/delivered/failed and the last problem of every endpoint."""
    counts = webhooks.counts_by_state(db.session)
    endpoints = webhooks.all_endpoints(db.session)
    if not endpoints:
        click.echo("no webhook endpoints (add one: flask webhooks add URL --event …)")
    for endpoint in endpoints:
        tally = "/".join(str(counts.get((endpoint.id, state.value), 0)) for state in DeliveryState)
        private = " allow-private" if endpoint.allow_private else ""
        click.echo(f"{endpoint.id}\t{endpoint.url}\t{endpoint.format}\t{endpoint.events}\t{tally}\t"
                   f"{_last_problem(endpoint)}{private}")


def _last_problem(endpoint) -> str:
    """The last problem and when; said to be past when a delivery succeeded after it."""
    if not endpoint.last_problem:
        return "-"
    when = endpoint.last_problem_at.isoformat(timespec="minutes") if endpoint.last_problem_at else "?"
    past = endpoint.last_success_at and endpoint.last_problem_at and endpoint.last_success_at > endpoint.last_problem_at
    return f"{endpoint.last_problem} at {when}" + (" (delivered since)" if past else "")


@group.command("ping")
@click.argument("endpoint")
def ping(endpoint: str):
    """Send the endpoint a test at once, as its deliveries are sent (a signed `ping` event, or a chat
    message or e-mail saying it is a test), and say what came back. Nothing is stored or retried."""
    from moderation.jobs import delivery

    answer = delivery.send_test(current_app.config, _endpoint_or_fail(endpoint), at=now())
    code = f" (HTTP {answer.status_code})" if answer.status_code else ""
    if answer.problem:
        raise click.ClickException(f"not delivered: {answer.problem.value}{code}")
    click.echo(f"delivered{code}")


def _endpoint_or_fail(reference: str):
    found = webhooks.find_endpoint(db.session, reference)
    if found is None:
        raise click.ClickException(f"no endpoint '{reference}'")
    return found


@group.command("remove")
@click.argument("endpoint")
def remove(endpoint: str):
    """Remove an endpoint (by id or URL) and its deliveries."""
    found = _endpoint_or_fail(endpoint)
    webhooks.remove_endpoint(db.session, found)
    db.session.commit()
    click.echo(f"endpoint {found.id} removed")


@group.command("redeliver")
@click.argument("endpoint")
def redeliver(endpoint: str):
    """Send every failed delivery of an endpoint again (a fresh day of retries)."""
    found = _endpoint_or_fail(endpoint)
    failed = webhooks.failed_deliveries(db.session, found)
    for delivery in failed:
        webhooks.redeliver(db.session, delivery, now=now())
    db.session.commit()  # hands them to the queue
    click.echo(f"{len(failed)} deliveries sent again")
