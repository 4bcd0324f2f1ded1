"""The long-work job: one re-screening or erasure (services/long_jobs.py), run by `flask worker`
with Redis, or by a thread of the web process without it.

The worker claims the job, runs the work with a `Progress` that stores the counts and hears a
cancellation, and records the outcome: done (with its result), cancelled (with what was done),
or failed (with the error's name; the log has the rest).
"""

from __future__ import annotations

import logging

from flask import Flask, current_app

from moderation.clock import now
from moderation.extensions import db
from moderation.models import LongJob, LongJobState
from moderation.services import long_jobs
from moderation.services.audit import Actor
from moderation.services.retention import erase_author
from moderation.services.rulebook.cache import active_rules
from moderation.services.rulebook.rescreen import rescreen_pending

log = logging.getLogger(__name__)


def run_long_job(job_id: int, listener=None) -> str:
    """The queue's job (the worker pushes the app context); `listener(done, total)` hears every step."""
    session = db.session
    job = long_jobs.claim(session, job_id, now=now())
    if job is None:
        return "skipped"  # running elsewhere, finished, or cancelled before it started
    progress = long_jobs.Progress(session, job_id, now, listener=listener)
    try:
        result = _work(job, progress)
    except Exception as error:
        session.rollback()
        log.exception("long job %s (%s) failed", job_id, job.kind)
        long_jobs.finish(session, job_id, LongJobState.FAILED, now=now(), error=type(error).__name__)
        return "failed"
    progress.store()
    result = {"done": progress.done, "total": progress.total, **result}
    state = LongJobState.CANCELLED if progress.cancelled else LongJobState.DONE
    long_jobs.finish(session, job_id, state, now=now(), result=result)
    return state.value


def run_long_job_in_app(app: Flask, job_id: int) -> str:
    with app.app_context():
        try:
            return run_long_job(job_id)
        finally:
            db.session.remove()


def _work(job: LongJob, progress: long_jobs.Progress) -> dict:
    session = db.session
    actor = Actor(job.started_by, job.moderator_id)
    kind, subject = long_jobs.Kind(job.kind), job.subject
    if kind is long_jobs.Kind.RESCREEN:
        rules = active_rules(session, current_app.config, current_app.extensions["screening_rules"])
        outcome = rescreen_pending(session, rules, now=now(), actor=actor, progress=progress)
        return {"moved": outcome.moved}
    erased = erase_author(session, subject, actor=actor, now=now(), progress=progress,
                          chunk=int(current_app.config["ERASE_CHUNK"]))
    session.commit()
    return {"erased": erased}
