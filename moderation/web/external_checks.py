"""Asking the admin's external check about a comment being posted (services/external_check.py), with
no database transaction open while the network is used."""

from __future__ import annotations

from flask import current_app

from moderation.clock import now
from moderation.extensions import db
from moderation.jobs.delivery import USER_AGENT, post
from moderation.services import external_check, webhooks
from moderation.services.external_check import CheckAnswer, CheckProblem
from moderation.services.webhooks import DeliveryProblem
from moderation.short_lived import short_lived

UNREACHABLE = (DeliveryProblem.REFUSED, DeliveryProblem.UNRESOLVABLE, DeliveryProblem.PRIVATE_ADDRESS,
               DeliveryProblem.URL_INVALID)


def _current() -> tuple[int, str, str, bool] | None:
    check = external_check.current(db.session)
    return None if check is None else (check.id, check.url, check.secret, check.allow_private)


def ask(*, text: str, nickname: str | None, anonymous: bool, article_key: str, reply: bool) -> tuple[int, CheckAnswer] | None:
    """(the check's id, its answer), or None when no check is set (kept for SETTINGS_CACHE_SECONDS).
    Ends the session's (read-only) transaction first: a reader's post never holds the database while
    a classifier thinks."""
    check = short_lived("external_check", _current)
    if check is None:
        return None
    check_id, url, secret, allow_private = check
    db.session.commit()
    config = current_app.config
    body = external_check.request_body(text=text, nickname=nickname, anonymous=anonymous, article_key=article_key,
                                       reply=reply)
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
               webhooks.EVENT_HEADER: "comment.check",
               webhooks.SIGNATURE_HEADER: webhooks.signature_header(secret, int(now().timestamp()), body)}
    answer = post(config, url, headers, body, allow_private=allow_private,
                  total_timeout=float(config["EXTERNAL_CHECK_TIMEOUT_SECONDS"]), max_bytes=16 * 1024, keep_body=True)
    problem = None
    if answer.problem is DeliveryProblem.TIMEOUT:
        problem = CheckProblem.TIMEOUT
    elif answer.problem in UNREACHABLE:
        problem = CheckProblem.UNREACHABLE
    elif answer.problem is not None:
        problem = CheckProblem.HTTP_ERROR  # a redirect (never followed) or an answer outside 2xx
    return check_id, external_check.interpret(answer.status_code, answer.body, problem)
