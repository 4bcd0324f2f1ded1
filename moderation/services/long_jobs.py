"""Long work with progress: re-screening the pending queue, erasing an author, exporting the data
and importing it (services/transfer.py), run by the job queue (moderation/jobs/long_work.py) while
the page that started them shows how far they are.

One job of a kind and subject is active at a time (a partial unique index: two admins starting
at once get one job). A job that has not reported progress for LONG_JOB_STALE_SECONDS (its worker
died) is abandoned: a new start marks it failed and begins again from what is left, which both
kinds of work allow (re-screening reads the queue as it is; erasing deletes what remains). An
export abandoned is simply written again; an import abandoned part-way is not resumed (its file is
gone with the job): the site then holds content, and a new import is refused until it is emptied.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from moderation.models import LongJob, LongJobState
from moderation.services.audit import Actor

ACTIVE = (LongJobState.QUEUED, LongJobState.RUNNING)
FINISHED = (LongJobState.DONE, LongJobState.FAILED, LongJobState.CANCELLED)


class Kind(enum.StrEnum):
    RESCREEN = "rescreen"
    ERASE_AUTHOR = "erase_author"
    EXPORT = "export"
    IMPORT = "import"


class AlreadyRunning(Exception):
    def __init__(self, job: LongJob):
        super().__init__(job.id)
        self.job = job


def active_job(db: Session, kind: Kind, subject: str = "") -> LongJob | None:
    return db.scalar(select(LongJob).where(LongJob.kind == kind.value, LongJob.subject == subject,
                                           LongJob.state.in_(ACTIVE)))


def is_stale(job: LongJob, *, now: datetime, stale_seconds: float) -> bool:
    return job.state in ACTIVE and (now - job.updated_at).total_seconds() >= stale_seconds


def start(db: Session, kind: Kind, subject: str = "", *, actor: Actor, now: datetime,
          stale_seconds: float) -> LongJob:
    """A queued job (flushed; the caller commits, then hands it to the runner), or AlreadyRunning."""
    current = active_job(db, kind, subject)
    if current is not None:
        if not is_stale(current, now=now, stale_seconds=stale_seconds):
            raise AlreadyRunning(current)
        current.state, current.error, current.finished_at = LongJobState.FAILED, "abandoned", now
        db.flush()
    job = LongJob(kind=kind.value, subject=subject, state=LongJobState.QUEUED, done=0, started_by=actor.name,
                  moderator_id=actor.moderator_id, created_at=now, updated_at=now, cancel_requested=False)
    try:
        with db.begin_nested():
            db.add(job)
            db.flush()
    except IntegrityError:  # another start won the race between our check and our insert
        raise AlreadyRunning(active_job(db, kind, subject)) from None
    return job


def claim(db: Session, job_id: int, *, now: datetime) -> LongJob | None:
    """The worker's hold on a queued job (commits); None when another worker has it or it was cancelled."""
    claimed = db.execute(update(LongJob).where(LongJob.id == job_id, LongJob.state == LongJobState.QUEUED)
                         .values(state=LongJobState.RUNNING, updated_at=now)
                         .execution_options(synchronize_session=False)).rowcount
    db.commit()
    return db.get(LongJob, job_id) if claimed == 1 else None


def request_cancel(db: Session, job_id: int, *, now: datetime, stale_seconds: float | None = None) -> bool:
    """Asks the job to stop after its current item. A job still queued, or one that has reported no
    progress for `stale_seconds` (nothing is left running it to hear the request), is cancelled at
    once. Flushes."""
    at_once = LongJob.state == LongJobState.QUEUED
    if stale_seconds is not None:
        at_once |= (LongJob.state == LongJobState.RUNNING) & (LongJob.updated_at <= now - timedelta(seconds=stale_seconds))
    if db.execute(update(LongJob).where(LongJob.id == job_id, at_once)
                  .values(state=LongJobState.CANCELLED, cancel_requested=True, finished_at=now, updated_at=now)
                  .execution_options(synchronize_session=False)).rowcount:
        return True
    return bool(db.execute(update(LongJob).where(LongJob.id == job_id, LongJob.state == LongJobState.RUNNING)
                           .values(cancel_requested=True)
                           .execution_options(synchronize_session=False)).rowcount)


def keep_result(db: Session, job_id: int, result: dict) -> None:
    """What a running job must not lose if it ends without finishing (an import's marks). Commits."""
    db.execute(update(LongJob).where(LongJob.id == job_id).values(result=result)
               .execution_options(synchronize_session=False))
    db.commit()


def finish(db: Session, job_id: int, state: LongJobState, *, now: datetime, result: dict | None = None,
           error: str | None = None) -> None:
    """Commits."""
    db.execute(update(LongJob).where(LongJob.id == job_id)
               .values(state=state, result=result, error=error, finished_at=now, updated_at=now)
               .execution_options(synchronize_session=False))
    db.commit()


class Progress:
    """Given to the work as `progress(done, total) -> go on?`: stores the counts (at most every
    `every` seconds, and always at the end) and reads whether someone asked the job to stop."""

    def __init__(self, db: Session, job_id: int, clock: Callable[[], datetime], every: float = 0.5,
                 listener: Callable[[int, int], None] | None = None):
        self.db, self.job_id, self.clock, self.every = db, job_id, clock, every
        self.listener = listener  # the command line's progress bar
        self.stored_at = 0.0
        self.cancelled = False
        self.done, self.total = 0, 0

    def __call__(self, done: int, total: int) -> bool:
        self.done, self.total = done, total
        if self.listener is not None:
            self.listener(done, total)
        if time.monotonic() - self.stored_at >= self.every:
            self.store()
            self.cancelled = bool(self.db.scalar(select(LongJob.cancel_requested).where(LongJob.id == self.job_id)))
        return not self.cancelled

    def store(self) -> None:
        """The last counts heard, committed."""
        self.db.execute(update(LongJob).where(LongJob.id == self.job_id)
                        .values(done=self.done, total=self.total, updated_at=self.clock())
                        .execution_options(synchronize_session=False))
        self.db.commit()
        self.stored_at = time.monotonic()


def estimate_seconds(job: LongJob, *, now: datetime) -> int | None:
    """Time left at the rate so far; None before there is a rate."""
    if job.state is not LongJobState.RUNNING or not job.total or not job.done:
        return None
    elapsed = (now - job.created_at).total_seconds()
    return max(0, round(elapsed / job.done * (job.total - job.done)))
