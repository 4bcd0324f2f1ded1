"""Blueprint for admins: the page of a long job (re-screening, erasing an author, export, import) with its progress,
its status as JSON for the page's script, and cancelling it. `start()` is how the pages that begin
such work hand it over."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, current_app, flash, jsonify, make_response, render_template, url_for
from sqlalchemy import update

from moderation.clock import now
from moderation.extensions import db
from moderation.models import LongJob, LongJobState
from moderation.services import long_jobs, transfer
from moderation.services.audit import AuditAction, record
from moderation.web import guards
from moderation.web.responses import confirm_first, see_other

bp = Blueprint("jobs", __name__, url_prefix="/moderation/admin/jobs")
guards.protect(bp, guards.require_admin)

FLASHED = "jobs"


def start(kind: long_jobs.Kind, subject: str = "", *, before_commit: Callable[[LongJob], None] | None = None):
    """Record the job, hand it to the runner after commit, and show its page; a second start of
    the same work while it runs shows the running one, with a word why. `before_commit(job)` may
    leave what the job will need (an uploaded file) once the job has its id."""
    try:
        job = long_jobs.start(db.session, kind, subject, actor=guards.actor(), now=now(),
                              stale_seconds=float(current_app.config["LONG_JOB_STALE_SECONDS"]))
    except long_jobs.AlreadyRunning as running:
        db.session.rollback()
        flash({"kind": "already_running"}, FLASHED)
        return see_other(url_for("jobs.job_page", job_id=running.job.id))
    if before_commit is not None:
        before_commit(job)
    db.session.commit()
    current_app.extensions["jobs"].start_long_job(job.id)
    return see_other(url_for("jobs.job_page", job_id=job.id))


def _job_or_404(job_id: int) -> LongJob:
    job = db.session.get(LongJob, job_id)
    if job is None:
        abort(404)
    return job


def _status(job: LongJob) -> dict:
    moment = now()
    stale = long_jobs.is_stale(job, now=moment, stale_seconds=float(current_app.config["LONG_JOB_STALE_SECONDS"]))
    return {
        "state": job.state.value, "done": job.done, "total": job.total,
        "estimate_seconds": None if stale else long_jobs.estimate_seconds(job, now=moment),  # no rate to go by
        "stale": stale,
        "finished": job.state in long_jobs.FINISHED,
    }


@bp.get("/<id:job_id>")
def job_page(job_id: int):
    from moderation.web.data_admin import export_ready

    job = _job_or_404(job_id)
    return render_template("admin/job.html", job=job, status=_status(job), export_ready=export_ready(job),
                           can_take_back=can_take_back(job))


@bp.get("/<id:job_id>.json")
def job_status(job_id: int):
    """The progress page's script reads this: a job that is not there is said in JSON too."""
    job = db.session.get(LongJob, job_id)
    response = jsonify(_status(job)) if job is not None else (jsonify(error="not_found"), 404)
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


def can_take_back(job: LongJob) -> bool:
    """An import that ended unfinished (its worker died, or what it wrote could not be removed when
    it failed) and whose marks are known: its page offers to remove what it wrote."""
    result = job.result or {}
    return (job.kind == long_jobs.Kind.IMPORT.value and job.state in (LongJobState.FAILED, LongJobState.CANCELLED)
            and "marks" in result and not result.get("taken_back"))


@bp.post("/<id:job_id>/take-back")
def take_back(job_id: int):
    job = _job_or_404(job_id)
    if not can_take_back(job):
        flash({"kind": "nothing_to_take_back"}, FLASHED)
        return see_other(url_for(".job_page", job_id=job_id))
    if asked := confirm_first("take_back_import", str(job.id), url_for(".job_page", job_id=job_id)):
        return asked
    transfer.take_back_import(db.session, transfer.ImportMarks.from_json(job.result["marks"]))
    db.session.execute(update(LongJob).where(LongJob.id == job_id)
                       .values(result={**job.result, "taken_back": True}).execution_options(synchronize_session=False))
    record(db.session, guards.actor(), AuditAction.IMPORT_TAKEN_BACK, now=now(), details={"job": job_id})
    db.session.commit()
    flash({"kind": "taken_back"}, FLASHED)
    return see_other(url_for(".job_page", job_id=job_id))


@bp.post("/<id:job_id>/cancel")
def cancel(job_id: int):
    _job_or_404(job_id)
    asked = long_jobs.request_cancel(db.session, job_id, now=now(),
                                     stale_seconds=float(current_app.config["LONG_JOB_STALE_SECONDS"]))
    db.session.commit()
    flash({"kind": "cancel_asked" if asked else "not_running"}, FLASHED)
    return see_other(url_for(".job_page", job_id=job_id))
