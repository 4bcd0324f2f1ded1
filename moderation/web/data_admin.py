"""Blueprint for admins: the site's data out and back in (services/transfer.py) as jobs with progress.

Exporting starts a job that writes `instance/exports/<job>.jsonl`; its page then offers the file
(admins only, never cached, a name made here). Importing takes an uploaded export (at most
IMPORT_MAX_BYTES), checks it whole while the admin waits (a wrong file is refused with the reason
and nothing is stored), keeps it in `instance/imports/` and starts the job, which restores it into
a site that holds no content yet. One export and one import at a time: a second start shows the
running one.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, render_template, request, send_file
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from moderation.extensions import db
from moderation.models import LongJob, LongJobState
from moderation.services import long_jobs, transfer
from moderation.web import guards, jobs_admin

bp = Blueprint("data", __name__, url_prefix="/moderation/admin/data")
guards.protect(bp, guards.require_admin)

RECENT_JOBS = 10


@bp.url_value_preprocessor
def larger_uploads(endpoint, values):
    """Before the app's malformed-body check reads the body: an export is larger than a form."""
    if endpoint == "data.start_import":
        request.max_content_length = current_app.config["IMPORT_MAX_BYTES"]


@bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(error):
    return data_page_with({"problem": "too_large"}, 413)


def data_page_with(problem: dict | None = None, status: int = 200):
    kinds = (long_jobs.Kind.EXPORT.value, long_jobs.Kind.IMPORT.value)
    jobs = db.session.scalars(select(LongJob).where(LongJob.kind.in_(kinds))
                              .order_by(LongJob.created_at.desc(), LongJob.id.desc()).limit(RECENT_JOBS)).all()
    content = transfer.content_tables(db.session)
    # The content may be what an import cut short left: its page can take it back.
    unfinished = next((job for job in jobs if jobs_admin.can_take_back(job)), None) if content else None
    return render_template("admin/data.html", jobs=jobs, problem=problem, content=content, unfinished=unfinished,
                           max_megabytes=current_app.config["IMPORT_MAX_BYTES"] // (1024 * 1024)), status


@bp.get("/")
def data_page():
    return data_page_with()


@bp.post("/export")
def start_export():
    return jobs_admin.start(long_jobs.Kind.EXPORT)


@bp.post("/import")
def start_import():
    upload = request.files.get("file")
    raw = upload.read() if upload is not None else b""
    if not raw.strip():
        return data_page_with({"problem": "no_file"}, 422)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return data_page_with({"problem": "not_utf8"}, 422)
    try:
        if not any(transfer.check_lines(text.splitlines()).values()):
            return data_page_with({"problem": "no_records"}, 422)
        transfer.refuse_unless_site_without_content(db.session)
    except transfer.ImportRefused as refused:
        return data_page_with({"problem": refused.problem, "line": refused.line, "detail": refused.detail}, 422)

    def keep_the_file(job: LongJob) -> None:
        path = transfer.import_file(Path(current_app.instance_path), job.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        for left in path.parent.glob("*.jsonl"):  # by an import whose worker died (this one is the only one now)
            left.unlink(missing_ok=True)
        path.write_bytes(raw)

    return jobs_admin.start(long_jobs.Kind.IMPORT, before_commit=keep_the_file)


@bp.get("/exports/<id:job_id>")
def download(job_id: int):
    job = db.session.get(LongJob, job_id)
    if job is None or job.kind != long_jobs.Kind.EXPORT.value or job.state is not LongJobState.DONE:
        abort(404)
    path = transfer.export_file(Path(current_app.instance_path), job.id)
    if not path.is_file():
        abort(404)  # a newer export replaced it (EXPORTS_KEPT)
    response = send_file(path, mimetype="application/x-ndjson", as_attachment=True, conditional=False,
                         download_name=download_name(job))
    response.headers["Cache-Control"] = "no-store"
    return response


def download_name(job: LongJob) -> str:
    """Its time as the job's page shows it (DISPLAY_TIMEZONE), not in UTC."""
    shown = job.created_at.astimezone(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"]))
    return f"moderation-export-{shown:%Y%m%d-%H%M}-{job.id}.jsonl"


def export_ready(job: LongJob) -> bool:
    return (job.kind == long_jobs.Kind.EXPORT.value and job.state is LongJobState.DONE
            and transfer.export_file(Path(current_app.instance_path), job.id).is_file())
