"""The one way a comment's status changes: allowed transitions, optimistic concurrency, audit row.

`decide()` updates the row only if it still has the status and version the moderator saw
(`UPDATE … WHERE id = ? AND version = ? AND status = ?`), writes the audit entry and resolves open
reader reports in the same transaction, together with the article's approved count and revision
when the comment enters or leaves the public list (so cached pages of it go stale at once). When
another moderator got there first, nothing is written and the caller learns who did what, and when.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from moderation import metrics
from moderation.models import AuditEntry, Comment, CommentReport, CommentStatus
from moderation.services import outbox, picks, rollups
from moderation.services.audit import SYSTEM, Actor, AuditAction, record
from moderation.services.listing import approved_delta, listing_changed, replies_changed

P, A, R, S = CommentStatus.PENDING, CommentStatus.APPROVED, CommentStatus.REJECTED, CommentStatus.SPAM


class Decision(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    SPAM = "spam"
    RESTORE = "restore"  # back to pending


class RejectReason(enum.StrEnum):
    ADVERTISING = "advertising"  # 廣告
    ABUSE = "abuse"  # 人身攻擊
    OFF_TOPIC = "off_topic"  # 離題
    ILLEGAL = "illegal"  # 違法
    OTHER = "other"  # 其他: a note is required
    SCREENING = "screening"  # the screening rules (re-screening): never offered to a moderator


# The reasons a moderator picks from (the forms' lists; a form cannot name another).
CHOOSABLE_REASONS = [reason for reason in RejectReason if reason is not RejectReason.SCREENING]


TARGET = {Decision.APPROVE: A, Decision.REJECT: R, Decision.SPAM: S, Decision.RESTORE: P}
ALLOWED_FROM = {
    Decision.APPROVE: {P, R, S},
    Decision.REJECT: {P, A, S},
    Decision.SPAM: {P, A, R},
    Decision.RESTORE: {A, R, S},
}


class Refusal(enum.StrEnum):
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"  # changed by someone else since the moderator loaded it
    NOT_ALLOWED = "not_allowed"  # e.g. approving an approved comment
    REASON_REQUIRED = "reason_required"


@dataclass(frozen=True)
class Result:
    comment_id: int
    refusal: Refusal | None = None
    status: CommentStatus | None = None  # the comment's status afterwards (or as found)
    last_change: AuditEntry | None = None  # on conflict: the change that got there first
    previous: CommentStatus | None = None  # applied: the status before (what an undo goes back to)
    version: int | None = None  # applied: the comment's version afterwards
    unpicked: bool = False  # applied: the comment was an editors' pick, and no longer is
    repicked: bool | None = None  # an undo of a decision that took a pick down: put back, or not (no room)

    @property
    def ok(self) -> bool:
        return self.refusal is None


def decide(
    db: Session,
    comment_id: int,
    decision: Decision,
    *,
    expected_version: int,
    actor: Actor,
    now: datetime,
    reason: RejectReason | None = None,
    note: str = "",
    details: dict | None = None,
    undoing: bool = False,
) -> Result:
    """Apply one moderator's decision, or explain why it was not applied. Commits.

    What a decision changes besides the status is logged with it (the reports it closed, the pick it
    took down); `undoing` the moderator's own last decision puts those back too."""
    note = note.strip()
    if decision is not Decision.REJECT:
        reason = None  # a reason is a rejection's: an approval stores none, whatever the form sent
    elif reason is None or (reason is RejectReason.OTHER and not note):
        return Result(comment_id, Refusal.REASON_REQUIRED)
    current = db.execute(
        select(Comment.status, Comment.version, Comment.article_id, Comment.thread_id, Comment.created_at,
               Comment.pinned_at)
        .where(Comment.id == comment_id)
    ).one_or_none()
    if current is None:
        return Result(comment_id, Refusal.NOT_FOUND)
    if current.version != expected_version:
        repeated = _repeated(db, comment_id, decision, reason, current.status, current.version, expected_version, actor)
        return repeated or _conflict(db, comment_id, current.status)
    if current.status not in ALLOWED_FROM[decision]:
        return Result(comment_id, Refusal.NOT_ALLOWED, current.status)

    target = TARGET[decision]
    changed = db.execute(
        update(Comment)
        .where(Comment.id == comment_id, Comment.version == expected_version, Comment.status == current.status)
        .values(status=target, version=Comment.version + 1, listed=_heads_a_thread(target),
                **({} if target is A else {"pinned_at": None}))  # a pick taken down stops being one
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:  # another transaction committed between our read and our write
        db.rollback()
        return _conflict(db, comment_id, None)
    undone = _own_last_change(db, comment_id, current.status, actor) if undoing else None
    details = {**(details or {}), **(_put_back(db, comment_id, current.article_id, undone, target) if undone else
                                     _side_effects(db, comment_id, current.pinned_at, target, now))}
    record(db, actor, AuditAction(decision.value), now=now, comment_id=comment_id, from_status=current.status.value,
           to_status=target.value, reason=reason.value if reason else None, note=note, details=details or None)
    # Webhooks (moderation/jobs): the event is committed with the decision, or not at all.
    outbox.comment_decided(db, comment_id, decision=decision.value, from_status=current.status.value,
                           to_status=target.value, actor=actor.name, reason=reason.value if reason else None,
                           now=now, by_service=actor is SYSTEM)
    rollups.comment_moved(db, comment_id, article_id=current.article_id, created_at=current.created_at,
                          from_status=current.status, to_status=target, moderator_id=actor.moderator_id, now=now)
    if A in (current.status, target):
        listing_changed(db, current.article_id, approved_delta=approved_delta(current.status, target))
        if current.thread_id is not None:
            replies_changed(db, current.thread_id, approved_delta(current.status, target))
    db.commit()
    metrics.DECISIONS.labels(decision.value, actor.name).inc()
    return Result(comment_id, None, target, previous=current.status, version=expected_version + 1,
                  unpicked="unpinned" in details, repicked=details.get("pin_restored"))


def _side_effects(db: Session, comment_id: int, pinned_at: datetime | None, target: CommentStatus,
                  now: datetime) -> dict:
    """A decision out of the queue closes the comment's open reports, and one that unpublishes it
    takes down its pick: what the audit keeps so that an undo can put them back."""
    done = {}
    if target is not P:
        closed = db.scalars(
            update(CommentReport)
            .where(CommentReport.comment_id == comment_id, CommentReport.resolved_at.is_(None))
            .values(resolved_at=now)
            .returning(CommentReport.id)
            .execution_options(synchronize_session=False)
        ).all()
        if closed:
            done["reports_closed"] = sorted(closed)
    if pinned_at is not None and target is not A:
        done["unpinned"] = pinned_at.isoformat()
    return done


def _own_last_change(db: Session, comment_id: int, status: CommentStatus, actor: Actor) -> AuditEntry | None:
    """The decision an undo takes back: the last one on the comment, made by this moderator, that
    left it in the status it had before the undo."""
    change = last_change(db, comment_id)
    if change is None or actor.moderator_id is None or change.moderator_id != actor.moderator_id:
        return None
    return change if change.to_status == status.value else None


def _put_back(db: Session, comment_id: int, article_id: int, undone: AuditEntry, target: CommentStatus) -> dict:
    """The reports the undone decision closed are open again, and its pick pinned again where the
    article still has room for it."""
    done: dict = {"undo_of": undone.id}
    reports = (undone.details or {}).get("reports_closed") or []
    if reports:
        db.execute(update(CommentReport).where(CommentReport.id.in_(reports), CommentReport.comment_id == comment_id)
                   .values(resolved_at=None).execution_options(synchronize_session=False))
        done["reports_reopened"] = len(reports)
    pinned = (undone.details or {}).get("unpinned")
    if pinned and target is A:  # False: the article has its picks already
        done["pin_restored"] = picks.pin_again(db, comment_id, article_id, datetime.fromisoformat(pinned))
    return done


def _heads_a_thread(status: CommentStatus):
    """Whether a comment that now has `status` heads a thread in the article's list (`Comment.listed`)."""
    if status is A:
        return Comment.thread_id.is_(None)
    return Comment.thread_id.is_(None) & (Comment.reply_count > 0)


def keep_reported(db: Session, comment_id: int, *, expected_version: int, actor: Actor, now: datetime) -> Result:
    """A reported comment stays published: its open reports are closed and the audit says who kept it.
    The status does not change (so neither does the version); a comment someone else has decided on
    since it was seen is a conflict, as in `decide()`. Commits."""
    current = db.execute(select(Comment.status, Comment.version).where(Comment.id == comment_id)).one_or_none()
    if current is None:
        return Result(comment_id, Refusal.NOT_FOUND)
    if current.version != expected_version:
        return _conflict(db, comment_id, current.status)
    closed = db.execute(
        update(CommentReport)
        .where(CommentReport.comment_id == comment_id, CommentReport.resolved_at.is_(None))
        .values(resolved_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if current.status is not A or not closed:
        db.rollback()
        return Result(comment_id, Refusal.NOT_ALLOWED, current.status)
    record(db, actor, AuditAction.KEEP, now=now, comment_id=comment_id, from_status=A.value,
           details={"reports": closed})
    db.commit()
    return Result(comment_id, None, A, previous=A, version=current.version)


# The decision that takes a comment back to where it was (the undo offered after a decision in place).
# A rejection needs its reason again, so a comment that was rejected is not undone with one click.
def available_decisions(status: CommentStatus) -> list[str]:
    """The decisions that can change a comment of this status (a bulk bar offers no other)."""
    return [decision.value for decision in Decision if status in ALLOWED_FROM[decision]]


UNDO = {P: Decision.RESTORE, A: Decision.APPROVE, S: Decision.SPAM}


def undo_of(previous: CommentStatus | None) -> Decision | None:
    return UNDO.get(previous) if previous is not None else None


def decide_many(
    db: Session, items: list[tuple[int, int]], decision: Decision, **options
) -> list[Result]:
    """The same decision on each (comment id, version seen); each succeeds or is skipped alone."""
    return [decide(db, comment_id, decision, expected_version=version, **options) for comment_id, version in items]


def last_change(db: Session, comment_id: int) -> AuditEntry | None:
    return db.scalar(
        select(AuditEntry)
        .where(AuditEntry.comment_id == comment_id, AuditEntry.to_status.is_not(None))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(1)
    )


def _repeated(db: Session, comment_id: int, decision: Decision, reason: RejectReason | None, status: CommentStatus,
              version: int, expected_version: int, actor: Actor) -> Result | None:
    """The same decision sent again by the same person (its first answer was lost with the connection,
    after the commit): already done, so done, not "someone decided before you". Nothing is written twice."""
    if actor.moderator_id is None or version != expected_version + 1 or status is not TARGET[decision]:
        return None
    change = last_change(db, comment_id)
    if change is None or change.moderator_id != actor.moderator_id or change.action != decision.value:
        return None
    if change.reason != (reason.value if reason else None):
        return None  # not the same form: a rejection for another reason is the moderator's new choice
    return Result(comment_id, None, status, previous=CommentStatus(change.from_status), version=version)


def _conflict(db: Session, comment_id: int, status: CommentStatus | None) -> Result:
    if status is None:
        status = db.scalar(select(Comment.status).where(Comment.id == comment_id))
    return Result(comment_id, Refusal.CONFLICT, status, last_change(db, comment_id))
