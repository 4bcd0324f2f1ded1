"""The audit log: every decision and every change an operator or moderator makes, through `record`."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from moderation.models import AuditEntry, Moderator


class AuditAction(enum.StrEnum):
    # decisions on comments (the values of `Decision`)
    APPROVE = "approve"
    REJECT = "reject"
    SPAM = "spam"
    RESTORE = "restore"
    KEEP = "keep"  # a reported comment stays published; its reports are closed (note: how many)
    # the conversation
    PIN = "pin"  # an editors' pick (「編輯精選」)
    UNPIN = "unpin"
    STAFF_ANSWER = "staff_answer"  # a reply as the site (「本站編輯」); details: the comment answered
    # accounts
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    MODERATOR_CREATE = "moderator_create"
    MODERATOR_ENABLE = "moderator_enable"
    MODERATOR_DISABLE = "moderator_disable"
    PASSWORD_RESET = "password_reset"
    PASSWORD_CHANGE = "password_change"
    ROLE_CHANGE = "role_change"  # from_status / to_status hold the roles
    # articles
    MODE_CHANGE = "mode_change"
    ARTICLE_CREATE = "article_create"
    ARTICLE_UPDATE = "article_update"
    SURGE_ON = "surge_on"  # surge mode began (details: cause and figures; the modes when it switched)
    SURGE_OFF = "surge_off"  # it ended after a quiet period (details: whether the mode was given back)
    # the newsroom's API keys
    API_KEY_CREATE = "api_key_create"
    API_KEY_REVOKE = "api_key_revoke"
    EMBED_ORIGINS = "embed_origins"  # the origins a site lets frame its embedded comments (note: site, origins)
    # screening rules
    RULE_ADD = "rule_add"
    RULE_REMOVE = "rule_remove"
    RULE_IMPORT = "rule_import"
    RULE_WRONG = "rule_wrong"
    ALLOW_TERM = "allow_term"
    RESCREEN = "rescreen"
    # authors and address ranges (services.sanctions)
    AUTHOR_SUSPEND = "author_suspend"
    AUTHOR_BAN = "author_ban"
    AUTHOR_PREMODERATE = "author_premoderate"
    AUTHOR_LIFT = "author_lift"
    ADDRESS_HOLD = "address_hold"
    ADDRESS_HOLD_LIFT = "address_hold_lift"
    PROTECTED_NAMES = "protected_names"  # an article's list of protected names changed
    # personal data
    VIEW_AUTHOR_HISTORY = "view_author_history"
    ERASE_AUTHOR = "erase_author"
    AUDIT_EXPORT = "audit_export"
    EXPORT = "export"
    IMPORT = "import"
    IMPORT_TAKEN_BACK = "import_taken_back"  # what an import cut short wrote, removed from its page
    RETENTION = "retention"


@dataclass(frozen=True)
class Actor:
    """Who made a change: a moderator, the command line, or the service itself (reports, re-screening)."""

    name: str
    moderator_id: int | None = None
    ip_hash: str | None = None

    @classmethod
    def moderator(cls, moderator: Moderator, *, ip_hash: str | None = None) -> Actor:
        return cls(moderator.name, moderator.id, ip_hash)

    @classmethod
    def site(cls, site: str) -> Actor:
        """A newsroom, through its API key: `api:` + the key's site name (no account name has a colon
        and the prefix, see `API_ACTOR_PREFIX`)."""
        return cls(API_ACTOR_PREFIX + site)

    @classmethod
    def claimed(cls, typed_name: str, moderator: Moderator | None, *, ip_hash: str) -> Actor:
        """A sign-in attempt: the name as typed (the account may not exist)."""
        return cls(typed_name.strip()[:40], moderator.id if moderator else None, ip_hash)


API_ACTOR_PREFIX = "api:"
SYSTEM = Actor("system")
COMMAND_LINE = Actor("cli")
# Names no account may take, so that an entry's actor is never ambiguous.
RESERVED_ACTOR_NAMES = (SYSTEM.name, COMMAND_LINE.name)


def record(
    db: Session,
    actor: Actor,
    action: AuditAction,
    *,
    now: datetime,
    comment_id: int | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    reason: str | None = None,
    note: str = "",
    details: dict | None = None,
) -> AuditEntry:
    """Add one audit entry to the caller's transaction. `note` is what a person typed; `details` what
    the system knows, as codes and numbers (never sentences: the templates word them)."""
    entry = AuditEntry(
        at=now,
        moderator_id=actor.moderator_id,
        actor=actor.name,
        action=AuditAction(action).value,
        ip_hash=actor.ip_hash,
        comment_id=comment_id,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        note=note,
        details=details,
    )
    db.add(entry)
    return entry


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""
    action: str = ""
    comment_id: int | None = None
    nothing: bool = False  # a filter that cannot match (a comment number that is not one): no row

    def query(self) -> Select:
        query = select(AuditEntry)
        if self.nothing:
            query = query.where(false())
        if self.actor:
            query = query.where(AuditEntry.actor == self.actor)
        if self.action:
            query = query.where(AuditEntry.action == self.action)
        if self.comment_id:
            query = query.where(AuditEntry.comment_id == self.comment_id)
        return query


def entries_page(db: Session, filters: AuditFilters, *, before: int | None, size: int) -> tuple[list[AuditEntry], int | None]:
    """Newest first, `size` entries older than entry `before`; and the id to continue from, if any."""
    query = filters.query()
    if before:
        query = query.where(AuditEntry.id < before)
    entries = list(db.scalars(query.order_by(AuditEntry.id.desc()).limit(size + 1)))
    more = len(entries) > size
    entries = entries[:size]
    return entries, (entries[-1].id if more else None)


def all_entries(db: Session, filters: AuditFilters):
    """Oldest first, streamed in batches (for the CSV export)."""
    return db.execute(filters.query().order_by(AuditEntry.id).execution_options(yield_per=1000)).scalars()


def recorded_actions(db: Session) -> list[str]:
    return sorted(db.scalars(select(AuditEntry.action).distinct()))
