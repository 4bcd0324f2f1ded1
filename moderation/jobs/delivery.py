"""The delivery job: one attempt of one webhook delivery.

Claim the delivery (its lease keeps other workers off), check the endpoint's address again (DNS
may have changed since registration), connect to the address that was checked (so a second DNS
answer cannot differ), send the signed JSON, and record the outcome: delivered, the next retry, or
failed. No database transaction is open while the network is used. Bounded in every way: connect
WEBHOOK_CONNECT_TIMEOUT_SECONDS, the whole exchange WEBHOOK_TOTAL_TIMEOUT_SECONDS (a watchdog
closes the socket then, however slowly the receiver drips), no redirect followed, at most
WEBHOOK_MAX_RESPONSE_BYTES of the answer read.
"""

from __future__ import annotations

import http.client
import json
import smtplib
import socket
import ssl
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import Flask, current_app, g, get_template_attribute
from sqlalchemy import select, update

from moderation.clock import now
from moderation.extensions import db
from moderation.jobs.connections import CheckedAddresses, KeptConnections, Watchdog
from moderation.models import DeliveryState, OutboxEvent, WebhookDelivery, WebhookEndpoint
from moderation.services import alerts, webhooks
from moderation.services.webhooks import DeliveryProblem, RegistrationProblem, Target, WebhookError
from moderation.web.languages import DEFAULT, language_of_tag

USER_AGENT = "moderation-webhooks/1"
ADDRESS_PROBLEMS = {
    RegistrationProblem.URL_PRIVATE: DeliveryProblem.PRIVATE_ADDRESS,
    RegistrationProblem.URL_UNRESOLVABLE: DeliveryProblem.UNRESOLVABLE,
}


@dataclass(frozen=True)
class Outgoing:
    """What goes to one endpoint, made before the network is used: a request, or an e-mail."""

    url: str
    headers: dict[str, str]
    body: bytes = b""
    mail: EmailMessage | None = None
    to: tuple[str, ...] = ()


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    problem: DeliveryProblem | None
    body: bytes = b""  # kept only when asked (the external check reads its verdict from it)


def run_delivery(delivery_id: int) -> str:
    """The queue's job for one delivery, as queued before hand-overs went in batches (the worker
    pushes the app context): one attempt; returns what happened."""
    return deliver(delivery_id)


def deliver_in_app(app: Flask, delivery_id: int) -> str:
    with app.app_context():
        try:
            return deliver(delivery_id)
        finally:
            db.session.remove()


def deliver(delivery_id: int) -> str:
    config = current_app.config
    session = db.session
    lease = int(config["WEBHOOK_LEASE_SECONDS"])
    if _wait_for_quiet_period(session, delivery_id, now=now(), quiet_seconds=int(config["ALERT_QUIET_SECONDS"])):
        session.commit()
        return "deferred"  # a chat endpoint had a message moments ago: this joins the next digest
    if not webhooks.claim(session, delivery_id, now=now(), lease_seconds=lease):
        session.rollback()
        return "skipped"  # delivered, failed, not yet due, or in another worker's hands
    session.commit()
    delivery = session.get(WebhookDelivery, delivery_id)
    endpoint, event = delivery.endpoint, delivery.event
    url, secret, allow_private, fmt = endpoint.url, endpoint.secret, endpoint.allow_private, endpoint.format
    batch = [delivery_id]
    if fmt == "json":
        outgoing = Outgoing(url, *signed_event(event.key, event.event, event.created_at, event.payload,
                                               endpoint_id=endpoint.id, secret=secret, at=now()))
    else:
        batch += _claim_due_with(session, endpoint.id, delivery_id, now=now(), lease_seconds=lease,
                                 limit=int(config["ALERT_DIGEST_MAX"]) - 1)
        title, lines = _digest(session, batch)
        outgoing = message_for(config, fmt, url, secret, title, lines, at=now())
    session.commit()  # nothing held open while the network is used

    answer = send_outgoing(config, outgoing, allow_private=allow_private)

    policy = webhooks.RetryPolicy.from_config(config)
    recorded = 0
    for each in batch:
        delivery = session.get(WebhookDelivery, each)
        if delivery is not None:  # else the endpoint was removed meanwhile
            webhooks.record_outcome(session, delivery, status_code=answer.status_code, problem=answer.problem,
                                    now=now(), policy=policy)
            recorded += 1
    session.commit()
    if not recorded:
        return "removed"
    return answer.problem.value if answer.problem else "delivered"


def signed_event(key: str, name: str, created_at: datetime, payload: str, *, endpoint_id: int, secret: str,
                 at: datetime) -> tuple[dict[str, str], bytes]:
    """The headers and body of a "json" endpoint's delivery: the event, signed, with its idempotency key."""
    # The stored payload is JSON already: set in the envelope as it is, not parsed and written again.
    body = (f'{{"id":{json.dumps(key)},"type":{json.dumps(name)},"created_at":{json.dumps(created_at.isoformat())},'
            f'"data":{payload}}}').encode()
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        webhooks.EVENT_HEADER: name,
        webhooks.DELIVERY_HEADER: webhooks.delivery_key(key, endpoint_id),
        webhooks.SIGNATURE_HEADER: webhooks.signature_header(secret, int(at.timestamp()), body),
    }, body


def message_for(config, fmt: str, url: str, secret: str, title: str, lines: list[alerts.Line], *,
                at: datetime) -> Outgoing:
    """A chat or e-mail endpoint's message for people: a chat platform's JSON, or a plain e-mail."""
    if fmt == "email":
        to = tuple(alerts.recipients(url) or ())
        return Outgoing(url, {}, mail=alerts.email_message(list(to), config["SMTP_FROM"], title, lines, now=at), to=to)
    message = alerts.chat_message(fmt, url, secret, title, lines, now=at)
    return Outgoing(message.url, {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT},
                    message.body)


def send_test(config, endpoint: WebhookEndpoint, *, at: datetime) -> Answer:
    """A test sent at once, as the endpoint's deliveries are (a signed `ping` event, or a chat
    message or e-mail saying it is a test); nothing is stored or retried (`flask webhooks ping`,
    and the endpoint's page)."""
    if endpoint.format == "json":
        payload = json.dumps({"endpoint": endpoint.id, "events": endpoint.event_names}, ensure_ascii=False)
        outgoing = Outgoing(endpoint.url, *signed_event(str(uuid.uuid4()), "ping", at, payload, endpoint_id=endpoint.id,
                                                        secret=endpoint.secret, at=at))
    else:
        outgoing = message_for(config, endpoint.format, endpoint.url, endpoint.secret, "Moderation test message",
                               [alerts.Line(f"endpoint {endpoint.id}: {endpoint.events}")], at=at)
    return send_outgoing(config, outgoing, allow_private=endpoint.allow_private)


def send_outgoing(config, outgoing: Outgoing, *, allow_private: bool) -> Answer:
    """Send what `message_for` or a signed event made; never raises."""
    if outgoing.mail is not None:
        return send_mail(config, list(outgoing.to), outgoing.mail)
    return post(config, outgoing.url, outgoing.headers, outgoing.body, allow_private=allow_private)


def post(config, url: str, headers: dict[str, str], body: bytes, *, allow_private: bool,
         total_timeout: float | None = None, max_bytes: int | None = None, keep_body: bool = False,
         addresses: CheckedAddresses | None = None, kept: KeptConnections | None = None) -> Answer:
    """Check the URL's address again (DNS may have changed) and POST to it; never raises. The
    bounds are the webhooks' unless given (the external check has a budget of its own). The batch
    sender passes its `addresses` (checked at most every WEBHOOK_ADDRESS_CHECK_SECONDS) and its
    `kept` connections."""
    resolver = config["WEBHOOK_RESOLVER"] or webhooks.system_resolver
    try:
        if addresses is None:
            target = webhooks.check_target(url, allow_private=allow_private, resolver=resolver)
        else:
            target = addresses.target(url, allow_private=allow_private, resolver=resolver, at=now())
    except WebhookError as error:
        return Answer(None, ADDRESS_PROBLEMS.get(error.problem, DeliveryProblem.URL_INVALID))
    total = float(config["WEBHOOK_TOTAL_TIMEOUT_SECONDS"]) if total_timeout is None else total_timeout
    return send(target, headers, body, connect_timeout=min(total, float(config["WEBHOOK_CONNECT_TIMEOUT_SECONDS"])),
                total_timeout=total, max_bytes=int(config["WEBHOOK_MAX_RESPONSE_BYTES"]) if max_bytes is None
                else max_bytes, keep_body=keep_body, kept=kept)


def _wait_for_quiet_period(session, delivery_id: int, *, now, quiet_seconds: int) -> bool:
    """A chat endpoint's deliveries wait until ALERT_QUIET_SECONDS after its last message."""
    row = session.execute(select(WebhookEndpoint.format, WebhookEndpoint.last_success_at,
                                 WebhookDelivery.next_attempt_at)
                          .join(WebhookDelivery, WebhookDelivery.endpoint_id == WebhookEndpoint.id)
                          .where(WebhookDelivery.id == delivery_id,
                                 WebhookDelivery.state == DeliveryState.PENDING)).one_or_none()
    if row is None or row.format == "json" or row.last_success_at is None:
        return False
    until = row.last_success_at + timedelta(seconds=quiet_seconds)
    if until <= now:
        return False
    session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id,
                                                  WebhookDelivery.next_attempt_at < until)
                    .values(next_attempt_at=until, handed_at=None).execution_options(synchronize_session=False))
    return True


def _claim_due_with(session, endpoint_id: int, first: int, *, now, lease_seconds: int, limit: int) -> list[int]:
    """The endpoint's other due deliveries, claimed for the same digest."""
    candidates = session.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.id != first,
               WebhookDelivery.state == DeliveryState.PENDING, WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.id).limit(max(limit, 0))).all()
    return [each for each in candidates if webhooks.claim(session, each, now=now, lease_seconds=lease_seconds)]


def _digest(session, batch: list[int]) -> tuple[str, list[alerts.Line]]:
    """The title and lines of one message for the events of `batch`, worded in ALERT_LANGUAGE, with
    links to the queue."""
    config = current_app.config
    events = session.execute(select(OutboxEvent.event, OutboxEvent.payload).join(WebhookDelivery)
                             .where(WebhookDelivery.id.in_(batch)).order_by(WebhookDelivery.id)).all()
    base = (config["PUBLIC_BASE_URL"] or "").rstrip("/")
    with current_app.app_context():  # a context of its own, whose language is ALERT_LANGUAGE
        g.language, g.language_in_url = language_of_tag(config["ALERT_LANGUAGE"]) or DEFAULT, False
        line, title = (get_template_attribute("alerts/words.txt", name) for name in ("line", "title"))
        lines = []
        for name, payload in events:
            data = json.loads(payload)
            lines.append(alerts.Line(str(line(name, data)).strip(), _link(base, name, data)))
        heading = str(title(len(lines))).strip()
    return heading, lines


def _link(base: str, event: str, data: dict) -> str | None:
    """The card in the queue (the comment's article, its card), or the queue itself."""
    if not base:
        return None
    comment = data.get("comment")
    if comment and comment.get("id"):
        article = f"?article={comment['article_id']}" if comment.get("article_id") else ""
        return f"{base}/moderation/{article}#card-{comment['id']}"
    return f"{base}/moderation/" if event in ("queue.backlog", "article.surge") else None


def send_mail(config, to: list[str], message) -> Answer:
    """Hand `message` to SMTP_HOST; never raises. The SMTP code of a refusal is kept as the status."""
    if not config["SMTP_HOST"]:
        return Answer(None, DeliveryProblem.MAIL_UNCONFIGURED)
    timeout = float(config["WEBHOOK_TOTAL_TIMEOUT_SECONDS"])
    kind = smtplib.SMTP_SSL if config["SMTP_SSL"] else smtplib.SMTP
    try:
        with kind(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=timeout) as server:
            if config["SMTP_STARTTLS"] and not config["SMTP_SSL"]:
                server.starttls(context=ssl.create_default_context())
            if config["SMTP_USERNAME"]:
                server.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
            refused = server.send_message(message, to_addrs=to)
    except smtplib.SMTPRecipientsRefused as error:
        return Answer(_first_code(error.recipients), DeliveryProblem.MAIL_REFUSED)
    except smtplib.SMTPResponseException as error:
        return Answer(error.smtp_code, DeliveryProblem.MAIL_REFUSED)
    except TimeoutError:
        return Answer(None, DeliveryProblem.TIMEOUT)
    except (OSError, smtplib.SMTPException):
        return Answer(None, DeliveryProblem.REFUSED)
    if refused:  # some recipients were taken, some not: the message is not delivered to all
        return Answer(_first_code(refused), DeliveryProblem.MAIL_REFUSED)
    return Answer(250, None)


def _first_code(refused: dict) -> int | None:
    return next((code for code, _ in refused.values()), None)


def _no_delay(sock: socket.socket) -> socket.socket:
    """As http.client's own connect does: the body follows the headers in a second write, which on a
    kept connection would otherwise wait for the receiver's delayed acknowledgement (about 40 ms)."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked; the Host header still names the host."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = _no_delay(socket.create_connection((self.address, self.port), self.timeout))


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self):
        raw = _no_delay(socket.create_connection((self.address, self.port), self.timeout))
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def send(target: Target, headers: dict[str, str], body: bytes, *, connect_timeout: float, total_timeout: float,
         max_bytes: int, keep_body: bool = False, kept: KeptConnections | None = None) -> Answer:
    """POST `body` to the first checked address of `target`; never raises. With `kept`, a connection
    kept open to that address is used (once more on a new one if the receiver had closed it), and
    this one is kept when the receiver allows it."""
    reused = kept.take(target) if kept is not None else None
    if reused is not None:
        answer, reusable = _exchange(reused, target, headers, body, total_timeout=total_timeout,
                                     max_bytes=max_bytes, keep_body=keep_body, reused=True, watchdog=kept.watchdog)
        if answer is not None:
            if reusable:
                kept.give_back(target, reused)
            return answer
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = kind(target.host, target.port, target.addresses[0], connect_timeout)
    answer, reusable = _exchange(connection, target, headers, body, total_timeout=total_timeout,
                                 max_bytes=max_bytes, keep_body=keep_body, reused=False,
                                 watchdog=kept.watchdog if kept is not None else None)
    if reusable and kept is not None:
        kept.give_back(target, connection)
    elif reusable:
        connection.close()
    return answer


_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


def _exchange(connection: http.client.HTTPConnection, target: Target, headers: dict[str, str], body: bytes, *,
              total_timeout: float, max_bytes: int, keep_body: bool, reused: bool,
              watchdog: Watchdog | None) -> tuple[Answer | None, bool]:
    """One request on `connection`, bounded by the watchdog (a timer of its own without one); (answer,
    whether the connection may be used again). The answer is None when a reused connection turned
    out closed before any answer."""
    expired = threading.Event()

    def stop():
        expired.set()
        sock = connection.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    if watchdog is None:
        timer = threading.Timer(total_timeout, stop)
        timer.daemon = True
        timer.start()
        cancel = timer.cancel
    else:
        watchdog.arm(total_timeout, stop)
        cancel = watchdog.cancel
    deadline = time.monotonic() + total_timeout
    answered = reusable = complete = False
    try:
        if connection.sock is None:
            connection.connect()
        connection.sock.settimeout(max(deadline - time.monotonic(), 0.01))
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        answered = True
        remaining = max_bytes
        chunks = []
        while remaining > 0 and not expired.is_set():
            chunk = response.read(min(remaining, 16384))
            if not chunk:
                break
            remaining -= len(chunk)  # the rest of a huge answer is never read
            if keep_body:
                chunks.append(chunk)
        status = response.status
        complete = response.isclosed()  # the whole answer was read
        reusable = complete and not response.will_close and not expired.is_set()
    except TimeoutError:
        return Answer(None, DeliveryProblem.TIMEOUT), False
    except (OSError, http.client.HTTPException) as error:
        if reused and not answered and not expired.is_set() and isinstance(error, _STALE):
            return None, False
        return Answer(None, DeliveryProblem.TIMEOUT if expired.is_set() else DeliveryProblem.REFUSED), False
    finally:
        cancel()
        if expired.is_set():  # the watchdog may fire after the answer was read: its socket is shut down
            reusable = False
        if not reusable:
            connection.close()
    if expired.is_set() and not complete:
        return Answer(status, DeliveryProblem.TIMEOUT), False
    if 200 <= status < 300:
        return Answer(status, None, b"".join(chunks)), reusable
    if 300 <= status < 400:
        return Answer(status, DeliveryProblem.REDIRECT), reusable
    return Answer(status, DeliveryProblem.HTTP_ERROR), reusable
