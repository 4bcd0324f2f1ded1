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
import socket
import ssl
import threading
import time
from dataclasses import dataclass

from flask import Flask, current_app

from moderation.clock import now
from moderation.extensions import db
from moderation.models import WebhookDelivery
from moderation.services import webhooks
from moderation.services.webhooks import DeliveryProblem, RegistrationProblem, Target, WebhookError

USER_AGENT = "moderation-webhooks/1"
_ADDRESS_PROBLEMS = {
    RegistrationProblem.URL_PRIVATE: DeliveryProblem.PRIVATE_ADDRESS,
    RegistrationProblem.URL_UNRESOLVABLE: DeliveryProblem.UNRESOLVABLE,
}


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    problem: DeliveryProblem | None


def run_delivery(delivery_id: int) -> str:
    """The queue's job (the worker pushes the app context): one attempt; returns what happened."""
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
    if not webhooks.claim(session, delivery_id, now=now(), lease_seconds=int(config["WEBHOOK_LEASE_SECONDS"])):
        session.rollback()
        return "skipped"  # delivered, failed, not yet due, or in another worker's hands
    session.commit()
    delivery = session.get(WebhookDelivery, delivery_id)
    endpoint, event = delivery.endpoint, delivery.event
    url, secret, allow_private = endpoint.url, endpoint.secret, endpoint.allow_private
    key = webhooks.delivery_key(event.key, endpoint.id)
    body = json.dumps({"id": event.key, "type": event.event, "created_at": event.created_at.isoformat(),
                       "data": json.loads(event.payload)}, ensure_ascii=False, separators=(",", ":")).encode()
    session.commit()  # nothing held open while the network is used

    timestamp = int(now().timestamp())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        webhooks.EVENT_HEADER: event.event,
        webhooks.DELIVERY_HEADER: key,
        webhooks.SIGNATURE_HEADER: webhooks.signature_header(secret, timestamp, body),
    }
    resolver = config["WEBHOOK_RESOLVER"] or webhooks.system_resolver
    try:
        target = webhooks.check_target(url, allow_private=allow_private, resolver=resolver)
    except WebhookError as error:
        answer = Answer(None, _ADDRESS_PROBLEMS.get(error.problem, DeliveryProblem.URL_INVALID))
    else:
        answer = send(target, headers, body, connect_timeout=float(config["WEBHOOK_CONNECT_TIMEOUT_SECONDS"]),
                      total_timeout=float(config["WEBHOOK_TOTAL_TIMEOUT_SECONDS"]),
                      max_bytes=int(config["WEBHOOK_MAX_RESPONSE_BYTES"]))

    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:  # the endpoint was removed meanwhile
        session.rollback()
        return "removed"
    webhooks.record_outcome(session, delivery, status_code=answer.status_code, problem=answer.problem, now=now(),
                            policy=webhooks.RetryPolicy.from_config(config))
    session.commit()
    return answer.problem.value if answer.problem else "delivered"


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked; the Host header still names the host."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self):
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def send(target: Target, headers: dict[str, str], body: bytes, *, connect_timeout: float, total_timeout: float,
         max_bytes: int) -> Answer:
    """POST `body` to the first checked address of `target`; never raises."""
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = kind(target.host, target.port, target.addresses[0], connect_timeout)
    expired = threading.Event()

    def stop():
        expired.set()
        sock = connection.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    watchdog = threading.Timer(total_timeout, stop)
    watchdog.daemon = True
    deadline = time.monotonic() + total_timeout
    watchdog.start()
    try:
        connection.connect()
        connection.sock.settimeout(max(deadline - time.monotonic(), 0.01))
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        remaining = max_bytes
        while remaining > 0 and not expired.is_set():
            chunk = response.read(min(remaining, 16384))
            if not chunk:
                break
            remaining -= len(chunk)  # the rest of a huge answer is never read
        status = response.status
    except TimeoutError:
        return Answer(None, DeliveryProblem.TIMEOUT)
    except (OSError, http.client.HTTPException):
        return Answer(None, DeliveryProblem.TIMEOUT if expired.is_set() else DeliveryProblem.REFUSED)
    finally:
        watchdog.cancel()
        connection.close()
    if expired.is_set():
        return Answer(status, DeliveryProblem.TIMEOUT)
    if 200 <= status < 300:
        return Answer(status, None)
    if 300 <= status < 400:
        return Answer(status, DeliveryProblem.REDIRECT)
    return Answer(status, DeliveryProblem.HTTP_ERROR)
