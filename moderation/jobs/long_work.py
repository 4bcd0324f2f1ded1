"""The long-work job: one re-screening, erasure, export or import (services/long_jobs.py), run by
`flask worker` with Redis, or by a thread of the web process without it.

The worker claims the job, runs the work with a `Progress` that stores the counts and hears a
cancellation, and records the outcome: done (with its result), cancelled (with what was done),
or failed (with the error's name; the log has the rest).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
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
        _record_failure(job_id, type(error).__name__, result=getattr(error, "job_result", None))
        return "failed"
    progress.store()
    result = {"done": progress.done, "total": progress.total, **result}
    state = LongJobState.CANCELLED if progress.cancelled else LongJobState.DONE
    long_jobs.finish(session, job_id, state, now=now(), result=result)
    return state.value


def _record_failure(job_id: int, error: str, *, result: dict | None = None) -> None:
    """The job marked failed with its error's name. Only if the database does not answer for about a
    minute is the job left to be found stale (LONG_JOB_STALE_SECONDS) and abandoned."""
    _when_the_database_answers(lambda: long_jobs.finish(db.session, job_id, LongJobState.FAILED, now=now(),
                                                        result=result, error=error),
                               f"long job {job_id}: its failure could not be recorded")


def _when_the_database_answers(work: Callable[[], None], gave_up: str) -> bool:
    """`work` on a fresh connection: the fault that ended a job (a link cut, a database locked) often
    lasts a while, so it is tried again for about a minute (FAILURE_RECORD_WAITS). True once done."""
    for wait in (*FAILURE_RECORD_WAITS, None):
        try:
            db.session.rollback()
            work()
            return True
        except Exception:
            db.session.remove()
            if wait is None:
                log.exception(gave_up)
                return False
            time.sleep(wait)
    return False


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
    """Restores the uploaded file (checked whole before the job began) in committed batches, so that
    the site keeps serving and the page shows progress. All or nothing all the same: an import
    cancelled or cut short (a database fault, a worker stopped) is taken back, and the site is as it
    was, ready to import again (transfer.take_back_import). Its marks are kept in the job's result
    first, so that an import whose worker died can be taken back from its page. The file is deleted
    however the job ends."""
    session = db.session
    job_id = job.id
    source = transfer.import_file(Path(current_app.instance_path), job_id)
    marks = None  # until the file is read: nothing written, nothing to take back
    try:
        with source.open(encoding="utf-8") as lines:
            marks, total = transfer.survey_import(session, lines)
            long_jobs.keep_result(session, job_id, {"marks": marks.as_json()})
            lines.seek(0)
            counts, stopped = transfer.import_into_site(session, lines, progress=progress, total=total, marks=marks,
                                                        batch=int(current_app.config["IMPORT_BATCH"]))
    except transfer.ImportRefused as refused:
        session.rollback()
        return {"refused": refused.problem, "detail": refused.detail}
    except Exception as error:
        if marks is not None:
            error.job_result = {"marks": marks.as_json(), "taken_back": _take_back(job_id, marks)}
        raise
    finally:
        source.unlink(missing_ok=True)
    taken_back = stopped and _take_back(job_id, marks)
    record(session, actor, AuditAction.IMPORT, now=now(),
           details={"records": sum(counts.values()), "stopped": stopped, "taken_back": taken_back})
    session.commit()
    return {"counts": counts, "stopped": stopped, "taken_back": taken_back, "marks": marks.as_json()}


def _take_back(job_id: int, marks: transfer.ImportMarks) -> bool:
    return _when_the_database_answers(lambda: transfer.take_back_import(db.session, marks),
                                      f"import job {job_id}: what it wrote could not be taken back")
