"""Webhook endpoints: registration, the address check against SSRF, signing, and retry timing.

An endpoint is a URL, the events it wants and its own secret. Its URL must not resolve to a
loopback, link-local, private or otherwise non-public address unless the admin allowed that host
(`allow_private`): checked here at registration and again by the delivery job before each
connection, since DNS answers change. Deliveries are signed in the style of Stripe and GitHub:
HMAC-SHA256 of "<timestamp>.<body>" under the endpoint's secret, sent as
`X-Moderation-Signature: t=<timestamp>,v1=<hex>`, beside `X-Moderation-Delivery`, the key a
receiver uses to recognise a delivery it already has.

Pure where it can be: the clock (`now=`) and the resolver (`resolver=`) are passed in.
Problems are codes (`RegistrationProblem`, `DeliveryProblem`); templates and the CLI word them.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import ipaddress
import secrets
import socket
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from moderation import metrics
from moderation.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from moderation.services.outbox import HANDOVER

EVENTS = ("comment.created", "comment.held", "comment.decided", "comment.reported", "article.closed", "queue.backlog",
          "article.surge")
SIGNATURE_HEADER = "X-Moderation-Signature"
DELIVERY_HEADER = "X-Moderation-Delivery"
EVENT_HEADER = "X-Moderation-Event"
MAX_URL_LENGTH = 2000
SECRET_MIN_LENGTH, SECRET_MAX_LENGTH = 16, 200

Resolver = Callable[[str, int], Iterable[str]]


class RegistrationProblem(enum.StrEnum):
    URL_INVALID = "url_invalid"  # not http(s)://host…, credentials in it, too long, control characters
    URL_UNRESOLVABLE = "url_unresolvable"
    URL_PRIVATE = "url_private"  # resolves to loopback/link-local/private, and the host is not allowed
    NO_EVENTS = "no_events"
    UNKNOWN_EVENT = "unknown_event"
    SECRET_INVALID = "secret_invalid"  # 16 to 200 visible ASCII characters, no spaces
    URL_TAKEN = "url_taken"
    UNKNOWN_FORMAT = "unknown_format"
    MAILTO_INVALID = "mailto_invalid"  # format email: mailto: and 1 to 10 addresses, comma-separated
    MAIL_UNCONFIGURED = "mail_unconfigured"  # format email without SMTP_HOST


class DeliveryProblem(enum.StrEnum):
    URL_INVALID = "url_invalid"
    UNRESOLVABLE = "unresolvable"
    PRIVATE_ADDRESS = "private_address"
    REFUSED = "refused"  # connection refused or reset, TLS failure
    TIMEOUT = "timeout"
    REDIRECT = "redirect"  # 3xx: never followed
    HTTP_ERROR = "http_error"  # any other answer outside 2xx
    MAIL_REFUSED = "mail_refused"  # the SMTP server refused the message or its recipients
    MAIL_UNCONFIGURED = "mail_unconfigured"  # SMTP_HOST unset when an e-mail was due


class WebhookError(Exception):
    def __init__(self, problem: RegistrationProblem, detail: str = ""):
        super().__init__(problem.value)
        self.problem = problem
        self.detail = detail


def system_resolver(host: str, port: int) -> list[str]:
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


@dataclass(frozen=True)
class Target:
    """Where a URL points: scheme, host, port, the path with its query, and the checked addresses."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def parse_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an http(s) URL, or WebhookError(URL_INVALID)."""
    if not url or len(url) > MAX_URL_LENGTH or any(ord(char) <= 32 or ord(char) == 127 for char in url):
        raise WebhookError(RegistrationProblem.URL_INVALID)
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookError(RegistrationProblem.URL_INVALID)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise WebhookError(RegistrationProblem.URL_INVALID)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_target(url: str, *, allow_private: bool, resolver: Resolver = system_resolver) -> Target:
    """Resolve the URL's host and refuse any non-public address unless allowed. Every address the
    name has must pass: a name with one public and one private answer is refused."""
    scheme, host, port, path = parse_url(url)
    try:
        addresses = tuple(resolver(host, port))
    except (OSError, UnicodeError, ValueError):
        raise WebhookError(RegistrationProblem.URL_UNRESOLVABLE)
    if not addresses:
        raise WebhookError(RegistrationProblem.URL_UNRESOLVABLE)
    if not allow_private and not all(is_public_address(address) for address in addresses):
        raise WebhookError(RegistrationProblem.URL_PRIVATE, host)
    return Target(scheme, host, port, path, addresses)


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def valid_secret(secret: str) -> bool:
    return (SECRET_MIN_LENGTH <= len(secret) <= SECRET_MAX_LENGTH
            and all(33 <= ord(char) <= 126 for char in secret))


def chosen_secret(secret: str | None) -> str:
    """The secret as typed (trimmed), or a new one when none was; WebhookError when it is not one."""
    secret = new_secret() if secret is None or not secret.strip() else secret.strip()
    if not valid_secret(secret):
        raise WebhookError(RegistrationProblem.SECRET_INVALID)
    return secret


def normalized_events(events: Iterable[str]) -> str:
    chosen = [event.strip() for event in events if event.strip()]
    if not chosen:
        raise WebhookError(RegistrationProblem.NO_EVENTS)
    unknown = [event for event in chosen if event not in EVENTS]
    if unknown:
        raise WebhookError(RegistrationProblem.UNKNOWN_EVENT, unknown[0][:40])
    return " ".join(event for event in EVENTS if event in chosen)


def add_endpoint(db: Session, url: str, events: Iterable[str], *, secret: str | None = None,
                 allow_private: bool = False, now: datetime, resolver: Resolver = system_resolver,
                 format: str = "json", mail_configured: bool = False) -> WebhookEndpoint:
    """Register an endpoint (flushes). `secret` None: one is generated, to be shown once. `format`:
    "json" (the signed event), a chat format of `services.alerts` (a message for people), or
    "email" to a mailto: URL (sent through the SMTP server, so only when one is configured)."""
    from moderation.services.alerts import FORMATS, recipients

    url = url.strip()
    if format not in FORMATS:
        raise WebhookError(RegistrationProblem.UNKNOWN_FORMAT, format[:20])
    if format == "email":
        if recipients(url) is None:
            raise WebhookError(RegistrationProblem.MAILTO_INVALID)
        if not mail_configured:
            raise WebhookError(RegistrationProblem.MAIL_UNCONFIGURED)
    else:
        check_target(url, allow_private=allow_private, resolver=resolver)
    names = normalized_events(events)
    secret = chosen_secret(secret)
    if db.scalar(select(WebhookEndpoint.id).where(WebhookEndpoint.url == url)):
        raise WebhookError(RegistrationProblem.URL_TAKEN)
    endpoint = WebhookEndpoint(url=url, events=names, secret=secret, allow_private=allow_private, created_at=now,
                               format=format)
    db.add(endpoint)
    db.flush()
    return endpoint


def all_endpoints(db: Session) -> list[WebhookEndpoint]:
    return list(db.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def find_endpoint(db: Session, reference: str | int) -> WebhookEndpoint | None:
    """By id, or by its exact URL (the CLI accepts either)."""
    if isinstance(reference, int) or str(reference).isdigit():
        return db.get(WebhookEndpoint, int(reference))
    return db.scalar(select(WebhookEndpoint).where(WebhookEndpoint.url == reference))


def _failed(endpoint: WebhookEndpoint):
    return select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id,
                                         WebhookDelivery.state == DeliveryState.FAILED)


def failed_deliveries(db: Session, endpoint: WebhookEndpoint) -> list[WebhookDelivery]:
    return list(db.scalars(_failed(endpoint)))


def has_failed_deliveries(db: Session, endpoint: WebhookEndpoint) -> bool:
    return db.scalar(select(_failed(endpoint).exists()))


def remove_endpoint(db: Session, endpoint: WebhookEndpoint) -> None:
    """The endpoint and its deliveries (flushes)."""
    db.query(WebhookDelivery).filter(WebhookDelivery.endpoint_id == endpoint.id).delete(synchronize_session=False)
    db.delete(endpoint)
    db.flush()


def recent_deliveries(db: Session, endpoint: WebhookEndpoint, limit: int = 50) -> list[WebhookDelivery]:
    return list(db.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
                           .order_by(WebhookDelivery.id.desc()).limit(limit)))


def counts_by_state(db: Session) -> dict[tuple[int, str], int]:
    rows = db.execute(select(WebhookDelivery.endpoint_id, WebhookDelivery.state, func.count())
                      .group_by(WebhookDelivery.endpoint_id, WebhookDelivery.state))
    return {(endpoint_id, state.value): count for endpoint_id, state, count in rows}


def redeliver(db: Session, delivery: WebhookDelivery, *, now: datetime) -> bool:
    """A failed delivery goes back to the queue with a fresh day of retries, handed over after the
    caller's commit; False if it had not failed."""
    if delivery.state is not DeliveryState.FAILED:
        return False
    delivery.state = DeliveryState.PENDING
    delivery.next_attempt_at = now
    delivery.retry_since = now
    delivery.handed_at = now
    delivery.lease_until = None
    db.flush()
    db.info.setdefault(HANDOVER, []).append(delivery.id)
    return True


# --- Signing ------------------------------------------------------------------------------------

def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, *, now: datetime, tolerance_seconds: int = 300) -> bool:
    """What a receiver does (and the README shows): the signature matches, and it is recent."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (ValueError, KeyError):
        return False
    if abs(now.timestamp() - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), fields.get("v1", ""))


def delivery_key(event_key: str, endpoint_id: int) -> str:
    """The idempotency key: one event, one endpoint. The same on every retry and redelivery."""
    return f"{event_key}.{endpoint_id}"


# --- Retry timing -------------------------------------------------------------------------------

@dataclass(frozen=True)
class RetryPolicy:
    first_seconds: int = 30
    max_seconds: int = 7200
    window_seconds: int = 86400

    @classmethod
    def from_config(cls, config) -> RetryPolicy:
        return cls(int(config["WEBHOOK_RETRY_FIRST_SECONDS"]), int(config["WEBHOOK_RETRY_MAX_SECONDS"]),
                   int(config["WEBHOOK_RETRY_WINDOW_SECONDS"]))

    def next_attempt(self, attempts: int, *, retry_since: datetime, now: datetime) -> datetime | None:
        """When to try again after `attempts` failed tries: doubling from `first_seconds`, at most
        `max_seconds` apart; None once that would be past the window (the delivery has failed)."""
        wait = min(self.first_seconds * 2 ** max(attempts - 1, 0), self.max_seconds)
        when = now + timedelta(seconds=wait)
        return None if when > retry_since + timedelta(seconds=self.window_seconds) else when


def claim(db: Session, delivery_id: int, *, now: datetime, lease_seconds: int) -> bool:
    """Take a due delivery for one attempt (a conditional UPDATE: two workers never both get it;
    a worker that died holding it lets go when its lease ends). The caller commits."""
    return db.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, *due_and_free(now))
        .values(claimed(now, now + timedelta(seconds=lease_seconds)))
        .execution_options(synchronize_session=False)
    ).rowcount == 1


def due_and_free(now) -> tuple:
    """What a delivery must be for an attempt to take it at `now` (a value, or a bound parameter):
    pending, due, and leased to no one (or its lease ran out)."""
    return (WebhookDelivery.state == DeliveryState.PENDING, WebhookDelivery.next_attempt_at <= now,
            or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until <= now))


def claimed(now, lease_until) -> dict:
    """What taking a delivery for an attempt writes: its lease, and the attempt counted."""
    return {WebhookDelivery.lease_until: lease_until, WebhookDelivery.attempts: WebhookDelivery.attempts + 1,
            WebhookDelivery.last_attempt_at: now}


def attempt_verdict(problem: DeliveryProblem | None, *, attempts: int, retry_since: datetime | None, now: datetime,
                    policy: RetryPolicy) -> tuple[DeliveryState, datetime | None]:
    """After an attempt: delivered, or still pending until the returned retry time, or failed for good.
    Counts the failed attempt (and the delivery given up) for /metrics."""
    if problem is None:
        return DeliveryState.DELIVERED, None
    metrics.WEBHOOK_ATTEMPT_FAILURES.labels(problem.value).inc()
    retry_at = policy.next_attempt(attempts, retry_since=retry_since, now=now)
    if retry_at is None:
        metrics.WEBHOOK_DELIVERIES_GIVEN_UP.inc()
        return DeliveryState.FAILED, None
    return DeliveryState.PENDING, retry_at


def record_outcome(db: Session, delivery: WebhookDelivery, *, status_code: int | None,
                   problem: DeliveryProblem | None, now: datetime, policy: RetryPolicy) -> None:
    """After an attempt: delivered, or the next retry, or failed; the endpoint keeps its last problem."""
    endpoint = delivery.endpoint
    delivery.last_status_code = status_code
    delivery.last_problem = problem.value if problem else None
    delivery.lease_until = None
    delivery.state, retry_at = attempt_verdict(problem, attempts=delivery.attempts, retry_since=delivery.retry_since,
                                               now=now, policy=policy)
    if problem is None:
        delivery.delivered_at = now
        endpoint.last_success_at = now
    else:
        endpoint.last_problem, endpoint.last_problem_at = problem.value, now
    if retry_at is not None:
        delivery.next_attempt_at = retry_at
        delivery.handed_at = None  # the relay hands it over when it is due
    db.flush()
