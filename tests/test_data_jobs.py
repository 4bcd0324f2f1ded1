"""Export and import from the admin's page, as jobs with progress: the export's file offered for
download (admins only, never cached), an upload checked whole before its job starts (a wrong file
refused in the page's language, nothing stored), a restore into a site without content, one import
at a time, and cancelling each."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select

from moderation.extensions import db as _db
from moderation.jobs import long_work
from moderation.jobs.long_work import run_long_job, run_long_job_in_app
from moderation.models import (
    Article,
    AuditEntry,
    AuthorRestriction,
    Comment,
    CommentStatus,
    LongJob,
    LongJobState,
    Moderator,
    RestrictionKind,
    Role,
)
from moderation.services import long_jobs, transfer
from moderation.services.listing import replies_changed
from moderation.web.languages import LANGUAGE_COOKIE
from tests.conftest import make_comment, make_moderator

DATA = "/moderation/admin/data/"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "JOBS_RUNNER": "off"}


def started(response) -> int:
    assert response.status_code == 303 and response.location.startswith("/moderation/admin/jobs/"), response
    return int(response.location.rsplit("/", 1)[1])


def job(db, job_id: int) -> LongJob:
    return db.session.get(LongJob, job_id, populate_existing=True)


def job_page(admin, job_id: int) -> str:
    return admin.client.get(f"/moderation/admin/jobs/{job_id}").get_data(as_text=True)


def upload(admin, content: bytes, name: str = "backup.jsonl"):
    return admin.client.post(DATA + "import", data={"csrf_token": admin.csrf(), "file": (io.BytesIO(content), name)},
                             content_type="multipart/form-data")


def count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def run_cancelled_after(app, job_id: int, done_at_least: int) -> str:
    """Runs the job here, asking it to stop once `done_at_least` records are reported."""
    app.config["LONG_JOB_PROGRESS_SECONDS"] = 0  # every report looks whether it was asked to stop
    with app.app_context():
        def listener(done: int, total: int) -> None:
            if done >= done_at_least:
                long_jobs.request_cancel(_db.session, job_id, now=app.config["CLOCK"]())

        try:
            return run_long_job(job_id, listener=listener)
        finally:
            _db.session.remove()


def test_an_export_from_the_page_shows_its_progress_then_offers_its_file(admin, app, db):
    top = make_comment(db, status=CommentStatus.APPROVED, body="要匯出的評論")
    make_comment(db, status=CommentStatus.APPROVED, body="要匯出的回覆", thread_id=top.id, reply_to_id=top.id)
    page = admin.client.get(DATA).get_data(as_text=True)
    assert "資料匯出與匯入" in page and 'action="/moderation/admin/data/export"' in page
    job_id = started(admin.post(DATA + "export"))
    queued = job_page(admin, job_id)
    assert "匯出資料" in queued and "排隊中" in queued and "/cancel" in queued

    records = transfer.row_count(db.session)  # the export's own audit row comes after
    assert run_long_job_in_app(app, job_id) == "done"
    finished = job(db, job_id)
    assert (finished.done, finished.total) == (records, records)
    page = job_page(admin, job_id)
    assert f"已匯出 {records} 筆紀錄" in page and "/cancel" not in page
    assert f'href="/moderation/admin/data/exports/{job_id}"' in page

    download = admin.client.get(f"/moderation/admin/data/exports/{job_id}")
    body = download.get_data(as_text=True)
    download.close()  # the file it streamed
    assert download.status_code == 200 and download.headers["Cache-Control"] == "no-store"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=moderation-export-") and disposition.endswith(f"-{job_id}.jsonl")
    shown = job(db, job_id).created_at.astimezone(ZoneInfo("Asia/Taipei"))  # the job page's time, not UTC
    assert f"moderation-export-{shown:%Y%m%d-%H%M}-{job_id}.jsonl" in disposition
    lines = body.splitlines()
    assert json.loads(lines[0]) == {"type": "header", "format": transfer.FORMAT} and len(lines) == records + 2
    assert json.loads(lines[-1]) == {"type": "end", "records": records}  # a file cut short is known as such
    assert "要匯出的回覆" in body
    assert not any('"password_hash"' in line for line in lines)  # never from the page
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export"))
    assert entry.actor == "boss" and entry.details == {"records": records}


def test_the_export_read_in_small_batches_is_the_same_file(db):
    for index in range(5):
        make_comment(db, body=f"第{index}則")
    db.session.add(AuthorRestriction(author_hash="c" * 64, kind=RestrictionKind.BAN, reason="spam",
                                     created_at=db.session.scalar(select(func.min(Comment.created_at))), created_by="boss"))
    db.session.add(AuthorRestriction(author_hash="d" * 64, kind=RestrictionKind.BAN, reason="spam",
                                     created_at=db.session.scalar(select(func.min(Comment.created_at))), created_by="boss"))
    db.session.flush()
    assert list(transfer.export_lines(db.session, batch=2)) == list(transfer.export_lines(db.session, batch=10**6))


def test_only_admins_see_the_data_page_and_the_files(admin, moderator, app, db):
    job_id = started(admin.post(DATA + "export"))
    assert run_long_job_in_app(app, job_id) == "done"
    for url in (DATA, f"/moderation/admin/data/exports/{job_id}"):
        assert moderator.client.get(url).status_code == 403
    assert moderator.post(DATA + "export").status_code == 403
    assert admin.client.get("/moderation/admin/data/exports/999999").status_code == 404


def test_a_second_export_while_one_runs_shows_the_running_one(admin, db):
    first = started(admin.post(DATA + "export"))
    second = admin.post(DATA + "export")
    assert started(second) == first
    assert "同樣的工作已在進行中" in admin.client.get(second.location).get_data(as_text=True)
    assert count(db, LongJob) == 1


def test_a_cancelled_export_leaves_no_file(admin, app, db):
    for index in range(5):
        make_comment(db, body=f"第{index}則")
    job_id = started(admin.post(DATA + "export"))
    assert run_cancelled_after(app, job_id, 2) == "cancelled"
    assert "匯出已停止，沒有留下檔案" in job_page(admin, job_id)
    assert admin.client.get(f"/moderation/admin/data/exports/{job_id}").status_code == 404
    assert not transfer.export_file(transfer.Path(app.instance_path), job_id).with_suffix(".part").exists()


def test_only_the_newest_exports_are_kept(admin, app, db):
    app.config["EXPORTS_KEPT"] = 1
    first = started(admin.post(DATA + "export"))
    assert run_long_job_in_app(app, first) == "done"
    second = started(admin.post(DATA + "export"))
    assert run_long_job_in_app(app, second) == "done"
    assert admin.client.get(f"/moderation/admin/data/exports/{first}").status_code == 404
    assert "檔案已被較新的匯出取代" in job_page(admin, first)
    newest = admin.client.get(f"/moderation/admin/data/exports/{second}")
    newest.get_data()
    newest.close()
    assert newest.status_code == 200


HEADER = json.dumps({"type": "header", "format": transfer.FORMAT}) + "\n"
END = json.dumps({"type": "end", "records": 0}) + "\n"
COMMENT = {"type": "comment", "id": 1, "article_id": 1, "body": "x", "ip_hash": "a" * 64, "author_hash": "b" * 64}


@pytest.mark.parametrize(("content", "zh", "en"), [
    (b"", "請選擇一個檔案", "Choose a file"),
    (b"\xff\xfe\x00x", "不是 UTF-8 文字", "not UTF-8 text"),
    (b"not json\n", "第 1 行不是 JSON 物件", "Line 1 is not a JSON object"),
    (b"[1, 2]\n", "第 1 行不是 JSON 物件", "Line 1 is not a JSON object"),
    (json.dumps(COMMENT).encode(), "沒有匯出標頭", "no export header"),
    (b'{"type": "header", "format": "isso/1"}\n', "不認得的匯出格式「isso/1」", "Unknown export format"),
    ((HEADER + '{"type": "<script>"}\n').encode(), "第 2 行的資料類型「&lt;script&gt;」不認得", "Line 2"),
    ((HEADER + json.dumps({**COMMENT, "created_at": "昨天"})).encode(), "第 2 行的 created_at 不是時間",
     "created_at on line 2 is not a time"),
    ((HEADER + json.dumps({**COMMENT, "body": None})).encode(), "第 2 行缺少 body", "Line 2 lacks body"),
    ((HEADER + json.dumps({**COMMENT, "body": "a\x00b"})).encode(), "第 2 行含有 NUL 字元", "NUL character"),
    ((HEADER + END).encode(), "只有標頭，沒有任何資料", "only a header"),
    ((HEADER + json.dumps(COMMENT) + "\n").encode(), "檔案不完整：匯出在寫完之前中斷了（檔案裡有 1 筆紀錄）",
     "The file is incomplete"),
    ((HEADER + json.dumps(COMMENT) + "\n" + END).encode(), "檔案不完整", "The file is incomplete"),  # counts 0
    ((HEADER + END + json.dumps(COMMENT) + "\n").encode(), "結尾之後還有資料", "goes on after the export's end"),
], ids=["empty", "not-utf8", "not-json", "not-an-object", "no-header", "other-format", "unknown-type",
        "not-a-time", "missing-field", "nul", "header-only", "cut-short", "miscounted", "after-the-end"])
@pytest.mark.parametrize("language", ["zh-Hant", "en"])
def test_a_wrong_file_is_refused_with_the_reason_and_starts_nothing(admin, db, content, zh, en, language):
    admin.client.set_cookie(LANGUAGE_COOKIE, language)
    response = upload(admin, content)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert (zh if language == "zh-Hant" else en) in page
    assert ("沒有匯入任何資料" if language == "zh-Hant" else "Nothing was imported") in page
    assert count(db, LongJob) == 0


def test_a_file_too_large_is_refused_on_the_page(admin, app, db):
    app.config["IMPORT_MAX_BYTES"] = 1024
    response = upload(admin, HEADER.encode() + b" " * 4096)
    assert response.status_code == 413
    assert "檔案超過" in response.get_data(as_text=True) and count(db, LongJob) == 0


def test_an_import_into_a_site_with_content_is_refused_before_any_job(admin, db):
    make_comment(db, body="已有的評論")
    response = upload(admin, (HEADER + json.dumps(COMMENT) + "\n" + END.replace("0", "1")).encode())
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "網站已有內容（文章、字詞規則、網域規則、評論）。" in page
    assert count(db, LongJob) == 0


def test_a_site_with_content_offers_no_import_and_names_what_it_holds(admin, db):
    make_comment(db, body="已有的評論")
    page = admin.client.get(DATA).get_data(as_text=True)
    assert "這個網站已有內容（文章、字詞規則、網域規則、評論），無法匯入" in page
    form = page[page.index('action="/moderation/admin/data/import"'):]
    form = form[:form.index("</form>")]
    assert form.count(" disabled") == 2 and form.count('aria-describedby="import-refused"') == 2


def a_site_to_export(db):
    """Comments, a reply, the site's answer by a second account; then the export's lines."""
    other = make_moderator(db, "editor")
    top = make_comment(db, status=CommentStatus.APPROVED, body="還原後還在的評論")
    make_comment(db, status=CommentStatus.APPROVED, body="還原後還在的回覆", thread_id=top.id, reply_to_id=top.id,
                 staff_account_id=other.id, created_at=top.created_at + timedelta(minutes=1))
    replies_changed(db.session, top.id, 1)
    for index in range(6):
        make_comment(db, body=f"待審{index}")
    db.session.add(AuditEntry(at=top.created_at, actor="editor", moderator_id=other.id, action="approve",
                              comment_id=top.id))
    db.session.commit()
    return list(transfer.export_lines(db.session))


def empty_the_site_but_the_admin(db) -> None:
    """What `init-db --empty` and one admin account leave (the admin's own audit rows stay)."""
    for model in reversed(transfer.MODELS):
        if model is Moderator:
            db.session.execute(delete(Moderator).where(Moderator.name != "boss"))
        elif model is not AuditEntry:
            db.session.execute(delete(model))
    db.session.execute(delete(AuditEntry).where(AuditEntry.actor != "boss"))
    db.session.commit()


@pytest.mark.committing  # PostgreSQL's sequences, set by the import, are not rolled back
def test_an_import_restores_an_export_into_a_site_without_content(admin, app, db):
    lines = a_site_to_export(db)
    empty_the_site_but_the_admin(db)
    boss_id = db.session.scalar(select(Moderator.id).where(Moderator.name == "boss"))
    own_audit = count(db, AuditEntry)
    file_audit = sum('"type": "audit_entry"' in line for line in lines)
    page = admin.client.get(DATA).get_data(as_text=True)
    assert "這個網站已有內容" not in page and " disabled" not in page

    job_id = started(upload(admin, "".join(lines).encode()))
    assert transfer.import_file(transfer.Path(app.instance_path), job_id).is_file()
    assert "匯入資料" in job_page(admin, job_id)
    assert run_long_job_in_app(app, job_id) == "done"
    assert not transfer.import_file(transfer.Path(app.instance_path), job_id).exists()

    expected = len(lines) - 2  # the header and the end are no records
    finished = job(db, job_id)
    assert (finished.done, finished.total) == (expected, expected)
    assert finished.result["counts"]["comment"] == 8 and finished.result["stopped"] is False
    page = job_page(admin, job_id)
    assert "已匯入" in page and "comment 8" in page
    assert count(db, Comment) == 8
    # The file's boss is the site's boss; its editor is added and every reference to it follows.
    assert db.session.scalar(select(Moderator.id).where(Moderator.name == "boss")) == boss_id
    editor_id = db.session.scalar(select(Moderator.id).where(Moderator.name == "editor"))
    answer = db.session.scalar(select(Comment).where(Comment.body == "還原後還在的回覆"))
    assert answer.staff_account_id == editor_id
    assert db.session.scalar(select(AuditEntry.moderator_id).where(AuditEntry.actor == "editor")) == editor_id
    assert count(db, AuditEntry) == own_audit + file_audit + 1  # and the import's own row
    reader_page = app.test_client().get("/articles/" + db.session.get(Article, answer.article_id).slug)
    assert "還原後還在的回覆" in reader_page.get_data(as_text=True)


def test_a_second_import_while_one_runs_is_refused(admin, db):
    lines = a_site_to_export(db)
    empty_the_site_but_the_admin(db)
    first = started(upload(admin, "".join(lines).encode()))
    second = upload(admin, "".join(lines).encode())
    assert started(second) == first
    assert "同樣的工作已在進行中" in admin.client.get(second.location).get_data(as_text=True)
    assert count(db, LongJob) == 1


@pytest.mark.committing  # PostgreSQL's sequences, set by the import, are not rolled back
def test_an_import_cancelled_between_batches_takes_back_what_it_wrote_and_can_be_run_again(admin, app, db):
    """All or nothing for the site: batches are committed (the site keeps serving, the page shows
    progress), and a cancelled import removes them, the file's accounts and audit rows with them."""
    lines = a_site_to_export(db)
    empty_the_site_but_the_admin(db)
    own_audit, own_accounts = count(db, AuditEntry), count(db, Moderator)
    app.config["IMPORT_BATCH"] = 2
    job_id = started(upload(admin, "".join(lines).encode()))
    first_comment = next(index for index, line in enumerate(lines) if '"type": "comment"' in line)  # the header is 0
    assert run_cancelled_after(app, job_id, first_comment - 1 + 4) == "cancelled"  # once 4 of the 8 comments are in
    finished = job(db, job_id)
    assert finished.result["stopped"] is True and finished.result["taken_back"] is True
    assert 4 <= finished.result["counts"]["comment"] < 8
    assert transfer.content_tables(db.session) == [] and count(db, Comment) == 0
    assert count(db, Moderator) == own_accounts  # the file's editor went with it; boss stays
    assert count(db, AuditEntry) == own_audit + 1  # the file's rows gone, the import's own row kept
    page = job_page(admin, job_id)
    assert "寫入的資料已全部移除，網站回到匯入前的狀態，可以重新匯入" in page and "移除這次匯入寫入的資料" not in page
    assert not transfer.import_file(transfer.Path(app.instance_path), job_id).exists()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "import"))
    assert entry.details["stopped"] is True and entry.details["taken_back"] is True
    app.config["IMPORT_BATCH"] = 1000
    again = started(upload(admin, "".join(lines).encode()))  # the site is empty again: it imports
    assert run_long_job_in_app(app, again) == "done" and count(db, Comment) == 8
    # PostgreSQL's sequences were moved past the rows written: a new comment takes an id of its own.
    written_ids = list(db.session.scalars(select(Comment.id)))
    added = make_comment(db, article_id=db.session.scalar(select(Article.id)), body="還原後的新評論")
    assert added.id > max(written_ids, default=0)


@pytest.mark.committing
def test_the_site_goes_on_writing_its_audit_log_and_accounts_while_an_import_runs(admin, app, db):
    """A sign-in or a new account during the import takes an id after the site's highest: never one
    the file's rows are given (before, the import then failed on a taken id)."""
    from sqlalchemy.orm import Session

    from moderation.services import accounts
    from moderation.services.audit import Actor, AuditAction, record

    lines = a_site_to_export(db)
    empty_the_site_but_the_admin(db)
    app.config.update(IMPORT_BATCH=2, LONG_JOB_PROGRESS_SECONDS=0)
    job_id = started(upload(admin, "".join(lines).encode()))
    written = []

    def the_site_meanwhile(done: int, total: int) -> None:
        if done >= 3 and not written:
            with Session(_db.engine) as session:
                record(session, Actor("boss"), AuditAction.LOGIN, now=app.config["CLOCK"]())
                written.append(accounts.create_moderator(session, "新來的版主", "a long enough password",
                                                         role=Role.MODERATOR).name)
                session.commit()

    with app.app_context():
        try:
            assert run_long_job(job_id, listener=the_site_meanwhile) == "done"
        finally:
            _db.session.remove()
    assert written and count(db, Comment) == 8
    assert db.session.scalar(select(Moderator.id).where(Moderator.name == "新來的版主")) is not None
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "login"))


@pytest.mark.committing
def test_an_import_whose_worker_died_is_taken_back_from_its_page(admin, app, db, monkeypatch):
    """The process that ran it is gone (its batches in, nothing taken back): once cancelled as stale,
    its page offers to remove what it wrote, asks first, and logs it."""
    lines = a_site_to_export(db)
    empty_the_site_but_the_admin(db)
    app.config["IMPORT_BATCH"] = 2
    job_id = started(upload(admin, "".join(lines).encode()))
    first_comment = next(index for index, line in enumerate(lines) if '"type": "comment"' in line)
    with monkeypatch.context() as patched:  # as if the process ended before it could take anything back
        patched.setattr(long_work, "FAILURE_RECORD_WAITS", ())
        patched.setattr(transfer, "take_back_import", lambda *args: (_ for _ in ()).throw(RuntimeError("gone")))
        assert run_cancelled_after(app, job_id, first_comment - 1 + 4) == "cancelled"
    assert job(db, job_id).result["taken_back"] is False and count(db, Comment) >= 4
    page = job_page(admin, job_id)
    assert "寫入的資料未能移除" in page and f'action="/moderation/admin/jobs/{job_id}/take-back"' in page
    data_page = admin.client.get(DATA).get_data(as_text=True)
    assert f'href="/moderation/admin/jobs/{job_id}">這些內容來自未完成的匯入 #{job_id}' in data_page
    asked = admin.post(f"/moderation/admin/jobs/{job_id}/take-back").get_data(as_text=True)
    assert "要移除匯入工作" in asked and count(db, Comment) >= 4
    done = admin.post(f"/moderation/admin/jobs/{job_id}/take-back", confirmed="1")
    assert "已移除這次匯入寫入的資料" in admin.client.get(done.location).get_data(as_text=True)
    assert transfer.content_tables(db.session) == [] and job(db, job_id).result["taken_back"] is True
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "import_taken_back"))
    assert "移除這次匯入寫入的資料" not in job_page(admin, job_id)  # nothing more to take back


def test_the_command_line_import_waits_for_the_pages(admin, db, runner, tmp_path):
    lines = a_site_to_export(db)
    empty_the_site_but_the_admin(db)
    started(upload(admin, "".join(lines).encode()))
    path = tmp_path / "backup.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code != 0 and "an import started from the admin page is running" in result.output
    assert count(db, LongJob, LongJob.state == LongJobState.QUEUED) == 1
