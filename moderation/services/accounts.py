"""Moderator accounts: argon2id passwords, sign-in, server-side sessions. No Flask imports.

Every attempt is recorded for `rate_limits.login_retry_after`, which slows guessing without ever
locking the owner out. Sessions are rows: deleting one ends it at once, in every worker.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
import unicodedata
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from moderation.models import Moderator, ModeratorSession, Role
from moderation.services.audit import RESERVED_ACTOR_NAMES, Actor, AuditAction, record
from moderation.services.nicknames import latin_skeleton
from moderation.services.rate_limits import record_login_attempt

MIN_PASSWORD_LENGTH = 12
DEFAULT_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters


class AccountProblem(enum.StrEnum):
    PASSWORD_TOO_SHORT = "password_too_short"
    NAME_LENGTH = "name_length"
    NAME_TAKEN = "name_taken"
    NAME_RESERVED = "name_reserved"
    NAME_LOOKALIKE = "name_lookalike"
    NAME_CHARACTERS = "name_characters"


class AccountError(ValueError):
    """A refused account change: `problem` says what; the UI (or the command line) words it."""

    def __init__(self, problem: AccountProblem):
        super().__init__(problem.value)
        self.problem = problem


@lru_cache(maxsize=4)
def _hasher_with(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    """Verified against when the name is unknown, so that a wrong name costs as much as a wrong password."""
    return hasher.hash(secrets.token_urlsafe(16))


def hasher_for(config) -> PasswordHasher:
    """The argon2id hasher of PASSWORD_HASH_TIME_COST, _MEMORY_KIB and _PARALLELISM (new hashes;
    a stored hash is verified with its own parameters and upgraded at the next sign-in)."""
    return _hasher_with(config["PASSWORD_HASH_TIME_COST"], config["PASSWORD_HASH_MEMORY_KIB"],
                        config["PASSWORD_HASH_PARALLELISM"])


def name_key(name: str) -> str:
    """The name as compared and stored for look-ups: NFKC, case-folded (Straße = STRASSE)."""
    return unicodedata.normalize("NFKC", name.strip()).casefold()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(AccountProblem.PASSWORD_TOO_SHORT)


UNSET_PASSWORD = "!unset:"  # no argon2 hash begins so: an account restored without its hash


def unusable_password_hash() -> str:
    """A hash no password matches, marked as such: the account cannot sign in until a password is set
    (`moderators list` says so), and a sign-in to it costs the same as any other."""
    return UNSET_PASSWORD + secrets.token_urlsafe(16)


def has_password(moderator: Moderator) -> bool:
    return not moderator.password_hash.startswith(UNSET_PASSWORD)


def one_time_password() -> str:
    return secrets.token_urlsafe(12)


def create_moderator(db: Session, name: str, password: str, *, role: Role, must_change: bool = False,
                     hasher: PasswordHasher = DEFAULT_HASHER) -> Moderator:
    name = unicodedata.normalize("NFKC", name.strip())
    if not 1 <= len(name) <= 40 or any(not char.isprintable() for char in name):
        raise AccountError(AccountProblem.NAME_LENGTH)
    if not _well_formed_name(name):
        raise AccountError(AccountProblem.NAME_CHARACTERS)
    if find_moderator(db, name) is not None:
        raise AccountError(AccountProblem.NAME_TAKEN)
    looks_like = latin_skeleton(name)
    if looks_like in {latin_skeleton(actor) for actor in RESERVED_ACTOR_NAMES}:
        raise AccountError(AccountProblem.NAME_RESERVED)
    if any(latin_skeleton(existing) == looks_like for existing in db.scalars(select(Moderator.name))):
        raise AccountError(AccountProblem.NAME_LOOKALIKE)
    check_password_rules(password)
    moderator = Moderator(name=name, name_key=name_key(name), password_hash=hasher.hash(password), role=role,
                          must_change_password=must_change)
    db.add(moderator)
    db.flush()
    return moderator


NAME_SEPARATORS = frozenset("._-")


def _well_formed_name(name: str) -> bool:
    """Letters and digits of any script (王小明, mod2, मोहन and สมศักดิ์ with their vowel signs and
    tone marks), joined by single . _ or - (lin.wei, desk-2): a name is read in the audit log, in
    sentences and in CSV cells, where spaces, quotes and brackets make it look like something else."""
    if not (name[0].isalnum() and (name[-1].isalnum() or _is_mark(name[-1]))):
        return False
    return all(char.isalnum() or (_is_mark(char) and before not in NAME_SEPARATORS)
               or (char in NAME_SEPARATORS and before not in NAME_SEPARATORS)
               for before, char in zip(" " + name, name, strict=False))


def _is_mark(char: str) -> bool:
    """A combining mark: part of the letter before it (Devanagari and Thai vowel signs, accents)."""
    return unicodedata.category(char).startswith("M")


def find_moderator(db: Session, name: str) -> Moderator | None:
    return db.scalar(select(Moderator).where(Moderator.name_key == name_key(name)))


def set_password(db: Session, moderator: Moderator, password: str, *, must_change: bool = False,
                 hasher: PasswordHasher = DEFAULT_HASHER) -> None:
    """Replace the password and end every open session of this account."""
    check_password_rules(password)
    moderator.password_hash = hasher.hash(password)
    moderator.must_change_password = must_change
    end_sessions(db, moderator)


def add_moderator(db: Session, name: str, password: str, *, role: Role, must_change: bool, actor: Actor,
                  now: datetime, hasher: PasswordHasher = DEFAULT_HASHER) -> Moderator:
    """An account created by an admin or an operator, logged."""
    moderator = create_moderator(db, name, password, role=role, must_change=must_change, hasher=hasher)
    record(db, actor, AuditAction.MODERATOR_CREATE, now=now, to_status=role.value, note=moderator.name)
    return moderator


def reset_password(db: Session, moderator: Moderator, password: str, *, must_change: bool, actor: Actor,
                   now: datetime, hasher: PasswordHasher = DEFAULT_HASHER) -> None:
    """A password set by an admin or an operator for someone else, logged."""
    set_password(db, moderator, password, must_change=must_change, hasher=hasher)
    record(db, actor, AuditAction.PASSWORD_RESET, now=now, note=moderator.name)


def set_active(db: Session, moderator: Moderator, active: bool, *, actor: Actor, now: datetime) -> None:
    moderator.is_active = active
    if not active:
        end_sessions(db, moderator)
    record(db, actor, AuditAction.MODERATOR_ENABLE if active else AuditAction.MODERATOR_DISABLE, now=now,
           note=moderator.name)


class RoleProblem(enum.StrEnum):
    UNCHANGED = "unchanged"
    LAST_ADMIN = "last_admin"  # no active admin would be left to manage accounts


def set_role(db: Session, moderator: Moderator, role: Role, *, actor: Actor, now: datetime) -> RoleProblem | None:
    """Another role for an account, logged (from → to); never the last active admin's demotion."""
    if moderator.role is role:
        return RoleProblem.UNCHANGED
    if moderator.role is Role.ADMIN:
        other_admins = db.scalar(select(func.count()).select_from(Moderator).where(
            Moderator.role == Role.ADMIN, Moderator.is_active.is_(True), Moderator.id != moderator.id))
        if not other_admins:
            return RoleProblem.LAST_ADMIN
    record(db, actor, AuditAction.ROLE_CHANGE, now=now, from_status=moderator.role.value, to_status=role.value,
           note=moderator.name)
    moderator.role = role
    db.flush()
    return None


def all_moderators(db: Session) -> list[Moderator]:
    return list(db.scalars(select(Moderator).order_by(Moderator.name)))


def authenticate(db: Session, name: str, password: str, ip_hash: str, *, now: datetime,
                 hasher: PasswordHasher = DEFAULT_HASHER) -> Moderator | None:
    """The active moderator with this name and password, or None; the attempt is recorded."""
    moderator = find_moderator(db, name)
    try:
        usable = moderator is not None and has_password(moderator)
        hasher.verify(moderator.password_hash if usable else _dummy_hash(hasher), password)
        valid = usable and moderator.is_active
    except (VerificationError, InvalidHashError):
        valid = False
    record_login_attempt(db, name_key(name), ip_hash, now=now, succeeded=valid)
    record(db, Actor.claimed(name, moderator, ip_hash=ip_hash),
           AuditAction.LOGIN if valid else AuditAction.LOGIN_FAILED, now=now)
    if valid and hasher.check_needs_rehash(moderator.password_hash):
        moderator.password_hash = hasher.hash(password)
    db.flush()
    return moderator if valid else None


class PasswordChange(enum.StrEnum):
    WRONG_CURRENT = "wrong_current"
    MISMATCH = "mismatch"
    SAME = "same"


def change_password(db: Session, moderator: Moderator, current: str, new: str, again: str, *,
                    ip_hash: str, now: datetime, hasher: PasswordHasher = DEFAULT_HASHER,
                    ) -> PasswordChange | AccountProblem | None:
    """The moderator's own change of password: None when done (logged), else what was wrong.
    A wrong current password counts like a failed sign-in. A new password too short is said before a
    repeat that differs: typing it again the same would not do."""
    if not verify_password(moderator, current):
        record_login_attempt(db, name_key(moderator.name), ip_hash, now=now, succeeded=False)
        return PasswordChange.WRONG_CURRENT
    try:
        check_password_rules(new)
    except AccountError as error:
        return error.problem
    if new != again:
        return PasswordChange.MISMATCH
    if new == current:
        return PasswordChange.SAME
    try:
        set_password(db, moderator, new, hasher=hasher)
    except AccountError as error:
        return error.problem
    record(db, Actor.moderator(moderator, ip_hash=ip_hash), AuditAction.PASSWORD_CHANGE, now=now)
    return None


def verify_password(moderator: Moderator, password: str) -> bool:
    try:
        return has_password(moderator) and DEFAULT_HASHER.verify(moderator.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def start_session(db: Session, moderator: Moderator, *, now: datetime, lifetime: timedelta) -> str:
    """A new session token for the cookie; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    db.execute(delete(ModeratorSession).where(ModeratorSession.expires_at < now))
    db.add(ModeratorSession(id=_token_hash(token), moderator_id=moderator.id, created_at=now,
                            expires_at=now + lifetime))
    db.flush()
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
