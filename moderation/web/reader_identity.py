"""Who is asking, without knowing who they are: keyed hashes of the address and browser token."""

from __future__ import annotations

import secrets

from flask import Request, after_this_request, current_app, g
from itsdangerous import BadSignature, URLSafeSerializer

from moderation.services import hashing

READER_COOKIE = "reader"


def keyed_hash(value: str) -> str:
    """Keyed with the app's IP_PEPPER."""
    return hashing.keyed_hash(current_app.config["IP_PEPPER"], value)


def client_ip_hash(request: Request) -> str:
    """Keyed hash of the client address (ProxyFix has already applied TRUSTED_PROXY_COUNT)."""
    return keyed_hash(f"ip:{request.remote_addr or 'unknown'}")


def _reader_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="reader-token")


def reader_token(request: Request) -> str | None:
    """The per-browser token from the signed reader cookie, or None if absent or forged. In the
    embedded comment section (web/embed.py) a browser that keeps no cookie for the frame has the
    token in the frame's signed state instead."""
    raw = request.cookies.get(READER_COOKIE)
    if not raw:
        embedded = g.get("embed")
        return embedded.reader if embedded is not None else None
    try:
        token = _reader_serializer().loads(raw)
    except BadSignature:
        return None
    return token if isinstance(token, str) else None


def new_reader_token() -> str:
    return secrets.token_urlsafe(24)


def set_reader_cookie(response, token: str, *, embedded: bool = False) -> None:
    """Lax on the site's own pages. In a frame on another site a Lax cookie never comes back, so
    there it is `SameSite=None; Secure; Partitioned` (kept per embedding site, where the browser
    allows it), and only over HTTPS, which Secure needs."""
    config = current_app.config
    if embedded:
        response.set_cookie(READER_COOKIE, _reader_serializer().dumps(token), max_age=config["READER_TOKEN_MAX_AGE"],
                            httponly=True, samesite="None", secure=True, partitioned=True)
        return
    response.set_cookie(
        READER_COOKIE,
        _reader_serializer().dumps(token),
        max_age=config["READER_TOKEN_MAX_AGE"],
        httponly=True,
        samesite="Lax",
        secure=config["SESSION_COOKIE_SECURE"],
    )


def reader_token_or_new(request: Request, *, derive_from: str | None = None) -> str:
    """The browser's token; when it has none, a new one, set on this request's response."""
    return reader_token(request) or new_reader_token_remembered(derive_from=derive_from)


def new_reader_token_remembered(*, derive_from: str | None = None) -> str:
    """A new token for a browser that has none, set on this request's response.

    `derive_from` (the browser's session nonce and the submission key) makes the new token the
    same when a form is sent again because its reply was lost: the cookie set on the lost reply
    is set again, and the reader still sees the comment as theirs.
    """
    token = keyed_hash(f"reader-token:{derive_from}")[:32] if derive_from else new_reader_token()
    embedded = g.get("embed")
    if embedded is not None:
        # The frame's state carries it on (every URL of the frame); a cookie only where it can be kept.
        embedded.reader = token
        if not embedded.cookies_possible:
            return token

    @after_this_request
    def remember(response):
        set_reader_cookie(response, token, embedded=embedded is not None)
        return response

    return token


def author_hash(token: str) -> str:
    return keyed_hash(f"author:{token}")
