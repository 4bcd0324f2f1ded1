"""What the command groups share: committing, with a plain error on refusal."""

from __future__ import annotations

import click

from moderation.extensions import db


def commit_or_fail(change, refused: type[Exception], describe=str):
    """Run `change`; commit, or roll back and exit non-zero with the refusal described."""
    try:
        result = change()
    except refused as error:
        db.session.rollback()
        raise click.ClickException(describe(error)) from None
    db.session.commit()
    return result


def run_long_job_here(kind, subject: str = "", *, label: str) -> dict:
    """Long work (services/long_jobs.py) run in this process with a progress bar, recorded like a
    job started from a page: refused while the same work runs elsewhere. Returns its result."""
    from flask import current_app

    from moderation.clock import now
    from moderation.jobs.long_work import run_long_job
    from moderation.models import LongJob
    from moderation.services import long_jobs
    from moderation.services.audit import COMMAND_LINE

    try:
        job = long_jobs.start(db.session, kind, subject, actor=COMMAND_LINE, now=now(),
                              stale_seconds=float(current_app.config["LONG_JOB_STALE_SECONDS"]))
    except long_jobs.AlreadyRunning as running:
        db.session.rollback()
        raise click.ClickException(f"the same work is running (job {running.job.id}, started by "
                                   f"{running.job.started_by}); wait for it or cancel it on its page") from None
    db.session.commit()
    job_id = job.id
    with click.progressbar(length=1, label=label, show_pos=True, show_eta=True) as bar:
        def moved(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        outcome = run_long_job(job_id, listener=moved)
    finished = db.session.get(LongJob, job_id, populate_existing=True)
    if outcome != "done":
        raise click.ClickException(f"job {job_id} {outcome}" + (f": {finished.error}" if finished.error else ""))
    return finished.result
