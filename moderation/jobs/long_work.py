"""The long-work job: one re-screening, erasure, export or import (services/long_jobs.py), run by
`flask worker` with Redis, or by a thread of the web process without it.

The worker claims the job, runs the work with a `Progress` that stores the counts and hears a
cancellation, and records the outcome: done (with its result), cancelled (with what was done),
or failed (with the error's name; the log has the rest).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from flask import Flask, current_app

from moderation.clock import now
from moderation.extensions import db
from moderation.models import LongJob, LongJobState
from moderation.services import long_jobs, transfer
from moderation.services.audit import Actor, AuditAction, record
from moderation.services.retention import erase_author
from moderation.services.rulebook.cache import active_rules
from moderation.services.rulebook.rescreen import rescreen_pending

log = logging.getLogger(__name__)
FAILURE_RECORD_WAITS = (0.5, 1, 2, 4, 8, 15, 30)  # seconds between tries to record a failure


def run_long_job(job_id: int, listener=None) -> str:
    """The queue's job (the worker pushes the app context); `listener(done, total)` hears every step."""
    session = db.session
    job = long_jobs.claim(session, job_id, now=now())
    if job is None:
        return "skipped"  # running elsewhere, finished, or cancelled before it started
    kind = job.kind  # read now: after a database fault the object cannot be read again
    progress = long_jobs.Progress(session, job_id, now, every=float(current_app.config["LONG_JOB_PROGRESS_SECONDS"]),
                                  listener=listener)
    try:
        result = _work(job, progress)
    except Exception as error:
        log.exception("long job %s (%s) failed", job_id, kind)
        _record_failure(job_id, type(error).__name__)
        return "failed"
    progress.store()
    result = {"done": progress.done, "total": progress.total, **result}
    state = LongJobState.CANCELLED if progress.cancelled else LongJobState.DONE
    long_jobs.finish(session, job_id, state, now=now(), result=result)
    return state.value


def _record_failure(job_id: int, error: str) -> None:
    """The job marked failed with its error's name, on a fresh connection: the fault that ended the
    work (a link cut, a database locked) often lasts a while, so it is tried again for about a minute.
    Only if that fails too is the job left to be found stale (LONG_JOB_STALE_SECONDS) and abandoned."""
    for wait in (*FAILURE_RECORD_WAITS, None):
        try:
            db.session.rollback()
            long_jobs.finish(db.session, job_id, LongJobState.FAILED, now=now(), error=error)
            return
        except Exception:
            db.session.remove()
            if wait is None:
                log.exception("long job %s: its failure could not be recorded", job_id)
                return
            time.sleep(wait)


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
    if kind is long_jobs.Kind.EXPORT:
        return _export(job, progress, actor)
    if kind is long_jobs.Kind.IMPORT:
        return _import(job, progress, actor)
    erased = erase_author(session, subject, actor=actor, now=now(), progress=progress,
                          chunk=int(current_app.config["ERASE_CHUNK"]))
    session.commit()
    return {"erased": erased}


def _export(job: LongJob, progress: long_jobs.Progress, actor: Actor) -> dict:
    """Writes `<instance>/exports/<job>.jsonl` (through a `.part` file renamed once complete); a
    cancelled export leaves no file. Progress is committed between the export's batched reads."""
    session = db.session
    target = transfer.export_file(Path(current_app.instance_path), job.id)
    target.parent.mkdir(parents=True, exist_ok=True)
    total = transfer.row_count(session)
    written = transfer.write_export(session, target, progress=lambda done: progress(done, total))
    if written is None:
        return {"records": progress.done}
    _forget_older_exports(target.parent, kept=int(current_app.config["EXPORTS_KEPT"]))
    record(session, actor, AuditAction.EXPORT, now=now(), details={"records": written})
    session.commit()
    return {"records": written, "bytes": target.stat().st_size}


def _forget_older_exports(folder: Path, *, kept: int) -> None:
    """All but the newest `kept` exports, and what exports whose worker died left half-written (one
    export runs at a time, and this one's file is complete)."""
    finished = sorted((path for path in folder.glob("*.jsonl") if path.stem.isdigit()), key=lambda path: int(path.stem))
    for path in [*(finished[:-kept] if kept > 0 else finished), *folder.glob("*.part")]:
        path.unlink(missing_ok=True)


def _import(job: LongJob, progress: long_jobs.Progress, actor: Actor) -> dict:
    """Restores the uploaded file (checked whole before the job began) in committed batches; a
    cancellation stops between batches and keeps them. The file is deleted however the job ends."""
    session = db.session
    source = transfer.import_file(Path(current_app.instance_path), job.id)
    try:
        with source.open(encoding="utf-8") as lines:
            total = transfer.records_in(lines)
            lines.seek(0)
            counts, stopped = transfer.import_into_site(session, lines, progress=progress, total=total,
                                                        batch=int(current_app.config["IMPORT_BATCH"]))
    except transfer.ImportRefused as refused:
        session.rollback()
        return {"refused": refused.problem, "detail": refused.detail}
    finally:
        source.unlink(missing_ok=True)
    record(session, actor, AuditAction.IMPORT, now=now(),
           details={"records": sum(counts.values()), "stopped": stopped})
    session.commit()
    return {"counts": counts, "stopped": stopped}
