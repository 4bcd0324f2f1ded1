"""Suspensions, bans and "always pre-moderate" by author tag; holds on address ranges.

An author has at most one effective restriction (one `author_restriction` row, keyed by the author
hash): a second moderator acting at the same moment finds the first one's row (the insert fails on
the key, or the conditional update finds nothing) and is told what is in force. A restriction may
only be made stronger (pre-moderation → suspension → ban) without lifting it first. Expiry needs no
job: a suspension whose `until` is past is no longer in force (the app's clock decides).

Address holds keep a keyed hash of the range (HMAC with IP_PEPPER of the network at its prefix
length), never an address. A poster's address is hashed at every prefix a hold may have (/16-/24
for IPv4, /48-/64 for IPv6) and matched against the holds in force. Holds only hold: people behind
one school or office address are not blocked. Services flush; the caller commits.
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from moderation.models import AddressHold, AuthorRestriction, Comment, CommentStatus, RestrictionKind
from moderation.services import hashing
from moderation.services.audit import Actor, AuditAction, record
from moderation.services.decisions import Decision, RejectReason, decide
from moderation.services.review_queue import AUTHOR_HASH_LENGTH, by_author, parse_author_tag


class RestrictionReason(enum.StrEnum):
    SPAM = "spam"  # 廣告洗版
    ABUSE = "abuse"  # 人身攻擊
    DOXXING = "doxxing"  # 公開他人個人資料
    BRIGADING = "brigading"  # 水軍、帶風向
    EVASION = "evasion"  # 規避處分
    OTHER = "other"  # 其他: the note says


# The choices a moderator has for one author, with how long each lasts (None: until lifted).
DURATIONS = {
    "premoderate": (RestrictionKind.PREMODERATE, None),
    "1d": (RestrictionKind.SUSPENSION, timedelta(days=1)),
    "7d": (RestrictionKind.SUSPENSION, timedelta(days=7)),
    "30d": (RestrictionKind.SUSPENSION, timedelta(days=30)),
    "ban": (RestrictionKind.BAN, None),
}
_STRENGTH = {RestrictionKind.PREMODERATE: 0, RestrictionKind.SUSPENSION: 1, RestrictionKind.BAN: 2}
# An address hold lasts one of these.
HOLD_DURATIONS = {"1h": timedelta(hours=1), "1d": timedelta(days=1), "7d": timedelta(days=7),
                  "30d": timedelta(days=30)}
NOTE_MAX_LENGTH = 500


class SanctionProblem(enum.StrEnum):
    UNKNOWN_AUTHOR = "unknown_author"  # no comment has this author tag
    AMBIGUOUS_AUTHOR = "ambiguous_author"  # the tag names more than one author: open it from a card
    STAFF_AUTHOR = "staff_author"  # the author of a staff answer: a newsroom account, not a reader
    ALREADY = "already"  # this restriction, or a stronger one, is in force
    BAD_CHOICE = "bad_choice"  # no such duration or reason
    NOTE_REQUIRED = "note_required"  # 其他 without a note
    NOTE_TOO_LONG = "note_too_long"
    NOTHING_TO_LIFT = "nothing_to_lift"
    BAD_RANGE = "bad_range"  # not an address or a range
    RANGE_TOO_WIDE = "range_too_wide"  # wider than /16 (IPv4) or /48 (IPv6)
    RANGE_OVERLAPS = "range_overlaps"  # an active hold already covers part of it


class SanctionError(Exception):
    def __init__(self, problem: SanctionProblem, *, current: AuthorRestriction | None = None,
                 hold_id: int | None = None):
        super().__init__(problem.value)
        self.problem = problem
        self.current = current
        self.hold_id = hold_id


def in_force(restriction: AuthorRestriction | None, now: datetime) -> bool:
    return restriction is not None and (restriction.until is None or restriction.until > now)


def restriction_of(db: Session, author_hash: str, now: datetime) -> AuthorRestriction | None:
    """The author's restriction in force, or None."""
    restriction = db.get(AuthorRestriction, author_hash)
    return restriction if in_force(restriction, now) else None


def author_hash_of_tag(db: Session, raw_tag: str) -> str:
    """The whole author hash that a tag (its first hex digits) names, or SanctionError."""
    tag = parse_author_tag(raw_tag.strip())
    if tag is None or len(tag) > AUTHOR_HASH_LENGTH:
        raise SanctionError(SanctionProblem.UNKNOWN_AUTHOR)
    hashes = list(db.scalars(select(Comment.author_hash).where(*by_author(tag)).distinct().limit(2)))
    if not hashes:
        raise SanctionError(SanctionProblem.UNKNOWN_AUTHOR)
    if len(hashes) > 1:
        raise SanctionError(SanctionProblem.AMBIGUOUS_AUTHOR)
    if _is_staff(db, hashes[0]):
        raise SanctionError(SanctionProblem.STAFF_AUTHOR)
    return hashes[0]


def _is_staff(db: Session, author_hash: str) -> bool:
    """Staff answers carry the moderator's account that wrote them (`staff_account_id`); their
    author is not a reader to sanction."""
    return db.scalar(select(Comment.id).where(Comment.author_hash == author_hash,
                                              Comment.staff_account_id.is_not(None)).limit(1)) is not None


@dataclass(frozen=True)
class Restricted:
    restriction: AuthorRestriction
    rejected: int  # pending comments rejected with it
    skipped: int  # pending comments someone else decided on first


def _checked_note(reason: str, note: str) -> tuple[RestrictionReason, str]:
    try:
        chosen = RestrictionReason(reason)
    except ValueError:
        raise SanctionError(SanctionProblem.BAD_CHOICE) from None
    note = note.strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise SanctionError(SanctionProblem.NOTE_TOO_LONG)
    if chosen is RestrictionReason.OTHER and not note:
        raise SanctionError(SanctionProblem.NOTE_REQUIRED)
    return chosen, note


def restrict(db: Session, author_hash: str, duration: str, reason: str, *, note: str, actor: Actor,
             now: datetime) -> AuthorRestriction:
    """Suspend, ban or pre-moderate an author; logged. One effective state: what is already in force
    is refused (SanctionError ALREADY, with it), unless this is stronger (`_stronger`). Flushes."""
    if duration not in DURATIONS:
        raise SanctionError(SanctionProblem.BAD_CHOICE)
    kind, length = DURATIONS[duration]
    chosen, note = _checked_note(reason, note)
    until = now + length if length else None
    values = {"kind": kind, "reason": chosen.value, "note": note, "created_at": now, "until": until,
              "created_by": actor.name}
    current = db.get(AuthorRestriction, author_hash)
    if current is not None:
        db.refresh(current)
    if current is not None and in_force(current, now) and not _stronger(kind, length, than=current):
        raise SanctionError(SanctionProblem.ALREADY, current=current)
    if current is None:
        restriction = AuthorRestriction(author_hash=author_hash, version=1, **values)
        try:
            with db.begin_nested():
                db.add(restriction)
        except IntegrityError:  # another moderator's, at the same moment
            raise SanctionError(SanctionProblem.ALREADY, current=_reread(db, author_hash)) from None
    else:  # expired, or milder: replaced only if it is still the one we read
        changed = db.execute(
            update(AuthorRestriction)
            .where(AuthorRestriction.author_hash == author_hash, AuthorRestriction.version == current.version)
            .values(version=current.version + 1, **values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed != 1:
            raise SanctionError(SanctionProblem.ALREADY, current=_reread(db, author_hash))
        restriction = _reread(db, author_hash)
    action = {RestrictionKind.BAN: AuditAction.AUTHOR_BAN, RestrictionKind.SUSPENSION: AuditAction.AUTHOR_SUSPEND,
              RestrictionKind.PREMODERATE: AuditAction.AUTHOR_PREMODERATE}[kind]
    record(db, actor, action, now=now, reason=chosen.value, note=note,
           details={"author": author_hash[:8], "duration": duration, "until": until.isoformat() if until else None})
    return restriction


def _stronger(kind: RestrictionKind, length: timedelta | None, *, than: AuthorRestriction) -> bool:
    """A harsher kind, or a longer suspension (7 days made 30 without lifting it first; the same
    length again is the same sanction, not a day more)."""
    if _STRENGTH[kind] != _STRENGTH[than.kind]:
        return _STRENGTH[kind] > _STRENGTH[than.kind]
    return length is not None and than.until is not None and length > than.until - than.created_at


def _reread(db: Session, author_hash: str) -> AuthorRestriction | None:
    db.expire_all()
    return db.get(AuthorRestriction, author_hash)


def lift(db: Session, author_hash: str, *, actor: Actor, now: datetime, note: str = "") -> None:
    """End an author's restriction early; logged. Flushes."""
    current = db.get(AuthorRestriction, author_hash)
    if not in_force(current, now):
        raise SanctionError(SanctionProblem.NOTHING_TO_LIFT)
    deleted = db.execute(delete(AuthorRestriction).where(AuthorRestriction.author_hash == author_hash,
                                                         AuthorRestriction.version == current.version)
                         .execution_options(synchronize_session=False)).rowcount
    if deleted != 1:
        raise SanctionError(SanctionProblem.NOTHING_TO_LIFT)
    db.expunge(current)
    record(db, actor, AuditAction.AUTHOR_LIFT, now=now, note=note.strip()[:NOTE_MAX_LENGTH],
           details={"author": author_hash[:8], "kind": current.kind.value})


# The rejection's reason that says the sanction's, where there is one; else 其他 with the note.
_REJECTED_AS = {RestrictionReason.SPAM: RejectReason.ADVERTISING, RestrictionReason.ABUSE: RejectReason.ABUSE}
SANCTION_NOTE = "sanction"  # the note of a rejection 其他 that came with a sanction given without one


def reject_pending_of(db: Session, author_hash: str, *, actor: Actor, now: datetime, note: str,
                      reason: str = RestrictionReason.OTHER) -> tuple[int, int]:
    """Reject every pending comment of the author, each through `decide()` (one audit row each, and
    each commits), for the sanction's `reason`. Returns (rejected, skipped: decided by someone else first)."""
    rejected_as = _REJECTED_AS.get(reason, RejectReason.OTHER)
    pending = db.execute(select(Comment.id, Comment.version).where(
        Comment.author_hash == author_hash, Comment.status == CommentStatus.PENDING).order_by(Comment.id)).all()
    rejected = skipped = 0
    for comment_id, version in pending:
        result = decide(db, comment_id, Decision.REJECT, expected_version=version, actor=actor, now=now,
                        reason=rejected_as, note=note or SANCTION_NOTE, details={"sanction": True})
        rejected += result.ok
        skipped += not result.ok
    return rejected, skipped


def restrictions_in_force(db: Session, now: datetime) -> list[AuthorRestriction]:
    rows = db.scalars(select(AuthorRestriction).order_by(AuthorRestriction.created_at.desc()))
    return [row for row in rows if in_force(row, now)]


# Address ranges.

IPV4_WIDEST, IPV4_HELD = 16, 24
IPV6_WIDEST, IPV6_HELD = 48, 64


def _range_hash(pepper: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    return hashing.keyed_hash(pepper, f"range:{network.with_prefixlen}")


def range_hashes(pepper: str, address: str) -> list[str]:
    """The poster's address hashed as every range a hold may name (its /16 to /24, or /48 to /64)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return []
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    widest, held = (IPV4_WIDEST, IPV4_HELD) if ip.version == 4 else (IPV6_WIDEST, IPV6_HELD)
    return [_range_hash(pepper, ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
            for prefix in range(widest, held + 1)]


def parse_range(raw: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """An address (held as its /24 or /64) or a range no wider than /16 or /48 (narrower ones are
    held as their /24 or /64)."""
    text = raw.strip()
    if not text or len(text) > 100:
        raise SanctionError(SanctionProblem.BAD_RANGE)
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise SanctionError(SanctionProblem.BAD_RANGE) from None
    widest, held = (IPV4_WIDEST, IPV4_HELD) if network.version == 4 else (IPV6_WIDEST, IPV6_HELD)
    if network.prefixlen < widest:
        raise SanctionError(SanctionProblem.RANGE_TOO_WIDE)
    if network.prefixlen > held:
        network = network.supernet(new_prefix=held)
    return network


_ENUMERATED_SUBRANGES = 512  # narrower holds inside a new one are looked for up to this many ranges


def _overlapping_hold(db: Session, pepper: str, network, now: datetime) -> AddressHold | None:
    held = IPV4_HELD if network.version == 4 else IPV6_HELD
    widest = IPV4_WIDEST if network.version == 4 else IPV6_WIDEST
    hashes = [_range_hash(pepper, network.supernet(new_prefix=prefix)) for prefix in range(widest, network.prefixlen)]
    hashes.append(_range_hash(pepper, network))
    count = 0
    for prefix in range(network.prefixlen + 1, held + 1):
        count += 2 ** (prefix - network.prefixlen)
        if count > _ENUMERATED_SUBRANGES:
            break
        hashes += [_range_hash(pepper, inner) for inner in network.subnets(new_prefix=prefix)]
    return db.scalar(select(AddressHold).where(AddressHold.range_hash.in_(hashes), AddressHold.until > now,
                                               AddressHold.lifted_at.is_(None)).limit(1))


def hold_range(db: Session, raw_range: str, duration: str, reason: str, *, note: str, pepper: str,
               actor: Actor, now: datetime) -> AddressHold:
    """Hold comments from a range for a while; logged without the range (its size only). Flushes."""
    network = parse_range(raw_range)
    if duration not in HOLD_DURATIONS:
        raise SanctionError(SanctionProblem.BAD_CHOICE)
    chosen, note = _checked_note(reason, note)
    overlapping = _overlapping_hold(db, pepper, network, now)
    if overlapping is not None:
        raise SanctionError(SanctionProblem.RANGE_OVERLAPS, hold_id=overlapping.id)
    hold = AddressHold(range_hash=_range_hash(pepper, network), prefix=network.prefixlen, family=network.version,
                       reason=chosen.value, note=note, created_at=now, until=now + HOLD_DURATIONS[duration],
                       created_by=actor.name)
    db.add(hold)
    db.flush()
    record(db, actor, AuditAction.ADDRESS_HOLD, now=now, reason=chosen.value, note=note,
           details={"hold": hold.id, "prefix": hold.prefix, "duration": duration, "until": hold.until.isoformat()})
    return hold


def lift_hold(db: Session, hold_id: int, *, actor: Actor, now: datetime) -> None:
    changed = db.execute(update(AddressHold).where(AddressHold.id == hold_id, AddressHold.lifted_at.is_(None),
                                                   AddressHold.until > now)
                         .values(lifted_at=now).execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise SanctionError(SanctionProblem.NOTHING_TO_LIFT)
    record(db, actor, AuditAction.ADDRESS_HOLD_LIFT, now=now, details={"hold": hold_id})


def holds_in_force(db: Session, now: datetime) -> list[AddressHold]:
    return list(db.scalars(select(AddressHold).where(AddressHold.until > now, AddressHold.lifted_at.is_(None))
                           .order_by(AddressHold.created_at.desc())))


@dataclass(frozen=True)
class HoldInForce:
    id: int
    range_hash: str
    until: datetime


def hold_ranges_in_force(db: Session, now: datetime) -> tuple[HoldInForce, ...]:
    """Every address hold not lifted and not yet expired (a short table): the posting path keeps them
    for a few seconds (moderation/short_lived.py) and matches each poster's ranges against them."""
    return tuple(HoldInForce(*row) for row in db.execute(
        select(AddressHold.id, AddressHold.range_hash, AddressHold.until)
        .where(AddressHold.until > now, AddressHold.lifted_at.is_(None)).order_by(AddressHold.id)))


def matching_hold_in(holds: tuple[HoldInForce, ...], hashes: list[str], now: datetime) -> HoldInForce | None:
    """The first of `holds` (as `matching_hold` orders them) on one of these ranges, in force at `now`."""
    wanted = set(hashes)
    return next((hold for hold in holds if hold.range_hash in wanted and hold.until > now), None)


def matching_hold(db: Session, hashes: list[str], now: datetime) -> AddressHold | None:
    if not hashes:
        return None
    return db.scalar(select(AddressHold).where(AddressHold.range_hash.in_(hashes), AddressHold.until > now,
                                               AddressHold.lifted_at.is_(None)).order_by(AddressHold.id).limit(1))
