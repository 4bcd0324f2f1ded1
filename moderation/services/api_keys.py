"""The newsroom's API keys: created with scopes for one site, shown once, kept only as a hash, revoked.

A key is 32 random bytes (`mk_` + URL-safe base64). Its SHA-256 is stored and looked up by index:
unlike a password it is not guessable, so a slow or salted hash would only slow every API request.
"""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.models import ApiKey, Scope
from moderation.services.audit import Actor, AuditAction, record

KEY_PREFIX = "mk_"
SHOWN_PREFIX_LENGTH = 10  # "mk_" and 7 characters: enough to tell a site's keys apart in a list
# A site's name appears in the audit log (api:<site>) and the request log: lower-case, short, no spaces.
SITE_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{0,31}$")
_WELL_FORMED_KEY = re.compile(r"^mk_[A-Za-z0-9_-]{43}$")


class ApiKeyProblem(enum.StrEnum):
    SITE_NAME = "site_name"
    NO_SCOPE = "no_scope"
    UNKNOWN_SCOPE = "unknown_scope"


class ApiKeyError(ValueError):
    """Each problem of a key's request (a form says them all at once)."""

    def __init__(self, *problems: ApiKeyProblem):
        super().__init__(" ".join(problem.value for problem in problems))
        self.problems = problems


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_scopes(values: Iterable[str]) -> frozenset[Scope]:
    try:
        scopes = frozenset(Scope(value.strip()) for value in values if value.strip())
    except ValueError:
        raise ApiKeyError(ApiKeyProblem.UNKNOWN_SCOPE) from None
    if not scopes:
        raise ApiKeyError(ApiKeyProblem.NO_SCOPE)
    return scopes


def site_name(raw: str) -> str:
    """A site's name as stored (keys and embed sites): trimmed, lower case; SITE_NAME says if it is one."""
    return raw.strip().lower()


def site_has_key(db: Session, site: str) -> bool:
    """Does `site` hold a key not revoked?"""
    return db.scalar(select(ApiKey.id).where(ApiKey.site == site, ApiKey.revoked_at.is_(None)).limit(1)) is not None


def create_key(db: Session, site: str, scopes: Iterable[str], *, actor: Actor, now: datetime) -> tuple[ApiKey, str]:
    """A new key for `site`; returns the row and the key itself, which is never stored or shown again."""
    site = site_name(site)
    problems = [] if SITE_NAME.match(site) else [ApiKeyProblem.SITE_NAME]
    try:
        granted = parse_scopes(scopes)
    except ApiKeyError as error:
        problems.extend(error.problems)
    if problems:
        raise ApiKeyError(*problems)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(site=site, key_hash=_digest(key), prefix=key[:SHOWN_PREFIX_LENGTH],
                 scopes=" ".join(sorted(scope.value for scope in granted)), created_at=now)
    db.add(row)
    db.flush()
    record(db, actor, AuditAction.API_KEY_CREATE, now=now, note=f"{site} {row.prefix}… {row.scopes}")
    return row, key


def key_for(db: Session, presented: str | None) -> ApiKey | None:
    """The active key presented with a request, or None (unknown, malformed or revoked)."""
    if not presented or not _WELL_FORMED_KEY.match(presented):
        return None
    row = db.scalar(select(ApiKey).where(ApiKey.key_hash == _digest(presented)))
    return row if row is not None and row.revoked_at is None else None


def revoke(db: Session, row: ApiKey, *, actor: Actor, now: datetime) -> bool:
    """False when it was revoked already."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = now
    record(db, actor, AuditAction.API_KEY_REVOKE, now=now, note=f"{row.site} {row.prefix}…")
    return True


def find_key(db: Session, id_or_prefix: str) -> ApiKey | None:
    """By id, or by the prefix a list shows (unique among keys, else None)."""
    if id_or_prefix.isdigit():
        return db.get(ApiKey, int(id_or_prefix)) if len(id_or_prefix) < 10 else None
    rows = list(db.scalars(select(ApiKey).where(ApiKey.prefix == id_or_prefix[:SHOWN_PREFIX_LENGTH]).limit(2)))
    return rows[0] if len(rows) == 1 and len(id_or_prefix) >= SHOWN_PREFIX_LENGTH else None


def all_keys(db: Session) -> list[ApiKey]:
    return list(db.scalars(select(ApiKey).order_by(ApiKey.site, ApiKey.id)))
