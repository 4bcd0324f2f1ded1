"""Moderator accounts: argon2id passwords, login throttling, server-side sessions. No Flask imports.

Password guessing is slowed, never turned into a lockout (which would let anyone lock a moderator
out): only failures count, and they delay only the address they come from. An address that keeps
failing for one account waits longer after each failure; an address that fails across many names
waits too; an account under attack from many addresses gives every address that has failed for it
a delay from its first failure. The owner, signing in from an address that has not been failing,
is never kept out. Sessions are rows: deleting one ends it at once, in every worker.
"""

from __future__ import annotations

import hashlib
import math
import unicodedata
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from moderation.models import AuditEntry, LoginAttempt, Moderator, ModeratorSession, Role
from moderation.nicknames import latin_skeleton

MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the name is unknown, so that a wrong name costs as much as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A refused account change; the message is shown to the person who asked."""


@dataclass(frozen=True)
class LoginLimits:
    free_failures: int = 5  # of one account from one address, before delays start
    address_failures: int = 30  # from one address across all names (stuffing many accounts)
    account_alarm: int = 20  # of one account from anywhere: then delays start at the first failure
    base_delay: timedelta = timedelta(seconds=30)  # doubles with each further failure
    window: timedelta = timedelta(minutes=15)  # failures older than this are forgotten; also the longest delay


# Names the audit log gives automatic actors: no account may take them (or look like them).
ACTOR_NAMES = ("system", "cli")


def name_key(name: str) -> str:
    """The name as compared and stored for look-ups: NFKC, case-folded (Straße = STRASSE)."""
    return unicodedata.normalize("NFKC", name.strip()).casefold()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"密碼至少需要 {MIN_PASSWORD_LENGTH} 個字元")


def unusable_password_hash() -> str:
    """A hash no password is known for: the account cannot sign in until a password is set."""
    return _hasher.hash(secrets.token_urlsafe(32))


def one_time_password() -> str:
    return secrets.token_urlsafe(12)


def create_moderator(db: Session, name: str, password: str, *, role: Role, must_change: bool = False) -> Moderator:
    name = unicodedata.normalize("NFKC", name.strip())
    if not 1 <= len(name) <= 40 or any(not char.isprintable() for char in name):
        raise AccountError("帳號名稱需為 1 到 40 個可見字元")
    if find_moderator(db, name) is not None:
        raise AccountError("這個帳號名稱已被使用")
    looks_like = latin_skeleton(name)
    if looks_like in {latin_skeleton(actor) for actor in ACTOR_NAMES}:
        raise AccountError("這個名稱保留給系統紀錄使用")
    if any(latin_skeleton(existing) == looks_like for existing in db.scalars(select(Moderator.name))):
        raise AccountError("這個帳號名稱與現有帳號太相似，容易混淆")
    check_password_rules(password)
    moderator = Moderator(name=name, name_key=name_key(name), password_hash=_hasher.hash(password), role=role,
                          must_change_password=must_change)
    db.add(moderator)
    db.flush()
    return moderator


def find_moderator(db: Session, name: str) -> Moderator | None:
    return db.scalar(select(Moderator).where(Moderator.name_key == name_key(name)))


def set_password(db: Session, moderator: Moderator, password: str, *, must_change: bool = False) -> None:
    """Replace the password and end every open session of this account."""
    check_password_rules(password)
    moderator.password_hash = _hasher.hash(password)
    moderator.must_change_password = must_change
    end_sessions(db, moderator)


def set_active(db: Session, moderator: Moderator, active: bool) -> None:
    moderator.is_active = active
    if not active:
        end_sessions(db, moderator)


def retry_after(db: Session, name: str, ip_hash: str, *, now: datetime, limits: LoginLimits) -> int:
    """Seconds this address must wait before trying this name again (0: now). Failures only."""
    key = name_key(name)[:64]
    pair = (LoginAttempt.name_key == key) & (LoginAttempt.ip_hash == ip_hash)
    address = LoginAttempt.ip_hash == ip_hash
    account = LoginAttempt.name_key == key
    row = db.execute(
        select(
            func.count().filter(pair), func.max(LoginAttempt.attempted_at).filter(pair),
            func.count().filter(address), func.max(LoginAttempt.attempted_at).filter(address),
            func.count().filter(account),
        ).where(LoginAttempt.attempted_at > now - limits.window, LoginAttempt.succeeded.is_(False),
                address | account)
    ).one()
    pair_failures, pair_last, address_failures, address_last, account_failures = row
    free = 1 if account_failures >= limits.account_alarm else limits.free_failures
    waits = [
        _growing_wait(pair_failures, free, pair_last, now, limits),
        _growing_wait(address_failures, limits.address_failures, address_last, now, limits),
    ]
    return max(waits)


def _growing_wait(failures: int, free: int, last: datetime | None, now: datetime, limits: LoginLimits) -> int:
    if last is None or failures < free:
        return 0
    delay = min(limits.window, limits.base_delay * 2 ** (failures - free))
    remaining = (last.replace(tzinfo=now.tzinfo) + delay - now).total_seconds()
    return max(0, math.ceil(remaining))


def record_failed_password(db: Session, name: str, ip_hash: str, *, now: datetime) -> None:
    """A wrong current password on the change-password form counts like a failed sign-in."""
    db.add(LoginAttempt(name_key=name_key(name)[:64], ip_hash=ip_hash, attempted_at=now, succeeded=False))


def authenticate(db: Session, name: str, password: str, ip_hash: str, *, now: datetime) -> Moderator | None:
    """The active moderator with this name and password, or None; the attempt is recorded."""
    moderator = find_moderator(db, name)
    try:
        _hasher.verify(moderator.password_hash if moderator else _DUMMY_HASH, password)
        valid = moderator is not None and moderator.is_active
    except (VerificationError, InvalidHashError):
        valid = False
    db.add(LoginAttempt(name_key=name_key(name)[:64], ip_hash=ip_hash, attempted_at=now, succeeded=valid))
    db.add(AuditEntry(
        at=now,
        moderator_id=moderator.id if moderator else None,
        actor=name.strip()[:40],
        action="login" if valid else "login_failed",
        ip_hash=ip_hash,
    ))
    if valid and _hasher.check_needs_rehash(moderator.password_hash):
        moderator.password_hash = _hasher.hash(password)
    db.commit()
    return moderator if valid else None


def verify_password(moderator: Moderator, password: str) -> bool:
    try:
        return _hasher.verify(moderator.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def start_session(db: Session, moderator: Moderator, *, now: datetime, lifetime: timedelta) -> str:
    """A new session token for the cookie; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    db.execute(delete(ModeratorSession).where(ModeratorSession.expires_at < now))
    db.add(ModeratorSession(id=_token_hash(token), moderator_id=moderator.id, created_at=now,
                            expires_at=now + lifetime))
    db.commit()
    return token


def moderator_for_session(db: Session, token: str | None, *, now: datetime) -> Moderator | None:
    if not token:
        return None
    row = db.get(ModeratorSession, _token_hash(token))
    if row is None or row.expires_at <= now:
        return None
    moderator = db.get(Moderator, row.moderator_id)
    return moderator if moderator is not None and moderator.is_active else None


def end_session(db: Session, token: str | None) -> None:
    if token:
        db.execute(delete(ModeratorSession).where(ModeratorSession.id == _token_hash(token)))


def end_sessions(db: Session, moderator: Moderator) -> None:
    db.execute(delete(ModeratorSession).where(ModeratorSession.moderator_id == moderator.id))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
