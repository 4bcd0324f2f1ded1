"""The operator owns the data: export and import, retention of address hashes, erasing an author."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from moderation import create_app
from moderation.extensions import db as _db
from moderation.jobs.long_work import run_long_job_in_app
from moderation.models import (
    Article,
    AuditEntry,
    Comment,
    CommentReport,
    CommentStatus,
    EmbedSite,
    ExternalCheck,
    Moderator,
    ReportReason,
    WebhookEndpoint,
)
from moderation.services import sanctions
from moderation.services.audit import SYSTEM
from moderation.services.decisions import Decision, RejectReason, decide
from moderation.services.likes import set_like
from moderation.services.review_queue import author_tag
from tests.conftest import (
    ARTICLE_SLUG,
    CHEAP_PASSWORD_HASHES,
    PASSWORD,
    POSTGRES_URL,
    ModeratorBrowser,
    csrf_token_of,
    make_comment,
    make_moderator,
)
from tests.postgres import temporary_database

pytestmark = pytest.mark.committing  # exports, drops the schema and imports again

OLD = datetime(2026, 6, 1, tzinfo=UTC)


def some_history(db, page, clock):
    """Comments in every state, with reasons, a report, decisions and their audit rows."""
    page.post(body="請加微信 abc123 了解更多")  # screening reasons
    page.open_form()
    page.post(body="一般的讀者意見")
    approved = make_comment(db, body="已通過的評論", status=CommentStatus.APPROVED)
    rejected = make_comment(db, body="會被拒絕的評論")
    decide(db.session, rejected.id, Decision.REJECT, expected_version=1, actor=SYSTEM, now=clock(),
           reason=RejectReason.ABUSE)
    db.session.add(CommentReport(comment_id=approved.id, reason=ReportReason.SPAM, reporter_hash="c" * 64,
                                 created_at=clock()))
    set_like(db.session, approved.article_id, approved.id, reader_hash="d" * 64, ip_hash="e" * 64, like=True,
             now=clock(), per_address=3)
    db.session.commit()
    make_moderator(db, "版主小王")
    sanctions.restrict(db.session, approved.author_hash, "7d", "abuse", note="", actor=SYSTEM, now=clock())
    sanctions.hold_range(db.session, "192.0.2.1", "1d", "spam", note="", pepper="p", actor=SYSTEM, now=clock())
    db.session.add_all([  # the site's settings, after the posts (no delivery waits on them)
        EmbedSite(site="news.example", origins="https://news.example", updated_at=clock()),
        WebhookEndpoint(url="https://hooks.example/moderation", events="comment.created comment.held",
                        secret="whsec_the-receiver-knows-this-one", created_at=clock()),
        ExternalCheck(url="https://check.example/verdict", secret="whsec_the-check-knows-this-one", created_at=clock()),
    ])
    db.session.commit()


def export_file(runner, path, *extra):
    result = runner.invoke(args=["export", str(path), *extra])
    assert result.exit_code == 0, result.output
    return path.read_text(encoding="utf-8")


def test_export_then_import_into_an_empty_database_loses_and_changes_nothing(
        app, db, page, clock, runner, tmp_path, database_url):
    some_history(db, page, clock)
    first = export_file(runner, tmp_path / "first.jsonl", "--include-password-hashes")
    types = {json.loads(line)["type"] for line in first.splitlines()}
    assert {"header", "article", "comment", "comment_like", "screening_reason", "comment_report", "audit_entry",
            "word_rule", "domain_rule", "moderator", "author_restriction", "address_hold",
            "embed_site", "webhook_endpoint", "external_check"} <= types

    with app.app_context():
        _db.drop_all()
        _db.create_all()
    result = runner.invoke(args=["import", str(tmp_path / "first.jsonl")])
    assert result.exit_code == 0, result.output
    second = export_file(runner, tmp_path / "second.jsonl", "--include-password-hashes")
    assert strip_export_audit(second) == strip_export_audit(first)

    db.session.expire_all()
    assert db.session.scalar(select(Article)).approved_count == 1
    make_comment(db, body="匯入之後的新評論")  # ids continue after the imported ones (PostgreSQL sequences)


def strip_export_audit(text):
    return [line for line in text.splitlines() if '"action": "export"' not in line]


@pytest.fixture
def app_config(app_config):
    """Erasing an author is a job: the tests run it themselves (tests/test_long_jobs.py: the runners)."""
    return {**app_config, "JOBS_RUNNER": "off"}


@pytest.fixture
def new_server(backend, tmp_path, app):
    """A fresh install elsewhere: a database no instance has used, its own instance folder, the
    same secrets (the README: they travel with the backup)."""
    def install(database_url):
        return create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / "new-instance"),
                           "SECRET_KEY": app.config["SECRET_KEY"], "IP_PEPPER": app.config["IP_PEPPER"],
                           **CHEAP_PASSWORD_HASHES})
    if backend == "sqlite":
        fresh = install(f"sqlite:///{tmp_path / 'new-server.sqlite3'}")
        yield fresh
    else:
        with temporary_database(POSTGRES_URL, prefix="moderation_restore") as url:
            fresh = install(url)
            yield fresh
            with fresh.app_context():
                _db.engine.dispose()


def test_an_operator_restores_a_backup_on_a_fresh_install_with_the_documented_commands(
        db, page, clock, runner, tmp_path, new_server):
    some_history(db, page, clock)
    backup = tmp_path / "backup.jsonl"
    original = export_file(runner, backup, "--include-password-hashes")

    operator = new_server.test_cli_runner()
    made = operator.invoke(args=["init-db", "--empty"])
    assert made.exit_code == 0 and "empty database ready" in made.output, made.output
    restored = operator.invoke(args=["import", str(backup)])
    assert restored.exit_code == 0, restored.output
    assert "comment 4" in restored.output and "moderator 1" in restored.output
    assert "embed_site 1" in restored.output and "webhook_endpoint 1" in restored.output
    with new_server.app_context():  # the receivers and the check verify the same secrets as before
        assert _db.session.scalar(select(WebhookEndpoint.secret)) == "whsec_the-receiver-knows-this-one"
        assert _db.session.scalar(select(ExternalCheck.secret)) == "whsec_the-check-knows-this-one"

    assert strip_export_audit(export_file(operator, tmp_path / "again.jsonl", "--include-password-hashes")) \
        == strip_export_audit(original)
    reader = new_server.test_client()
    article_page = reader.get(f"/articles/{ARTICLE_SLUG}").get_data(as_text=True)
    assert "已通過的評論" in article_page and "一般的讀者意見" not in article_page
    moderator = new_server.test_client()
    token = csrf_token_of(moderator.get("/moderation/login").get_data(as_text=True))
    signed_in = moderator.post("/moderation/login", data={"csrf_token": token, "name": "版主小王", "password": PASSWORD})
    assert signed_in.status_code == 303 and signed_in.location.endswith("/moderation/")
    assert "會被拒絕的評論" in moderator.get("/moderation/?tab=rejected").get_data(as_text=True)


def test_import_names_the_command_that_makes_an_empty_database(runner, tmp_path, new_server):
    backup = tmp_path / "backup.jsonl"
    export_file(runner, backup)
    operator = new_server.test_cli_runner()

    no_schema = operator.invoke(args=["import", str(backup)])
    assert no_schema.exit_code == 1 and "no schema" in no_schema.output
    assert "flask init-db --empty" in no_schema.output and "Traceback" not in no_schema.output

    assert operator.invoke(args=["init-db"]).exit_code == 0  # seed article, starter rules, first admin
    seeded = operator.invoke(args=["import", str(backup)])
    assert seeded.exit_code == 1 and "not empty" in seeded.output and "flask init-db --empty" in seeded.output
    told = operator.invoke(args=["init-db", "--empty"])
    assert told.exit_code == 0 and "already holds data" in told.output


def test_accounts_exported_without_hashes_must_get_a_new_password(app, db, runner, tmp_path):
    make_moderator(db, "版主小王")
    exported = export_file(runner, tmp_path / "export.jsonl")
    assert "password_hash" not in exported
    with app.app_context():
        _db.drop_all()
        _db.create_all()
    assert runner.invoke(args=["import", str(tmp_path / "export.jsonl")]).exit_code == 0
    db.session.expire_all()
    moderator = db.session.scalar(select(Moderator).where(Moderator.name == "版主小王"))
    assert moderator.must_change_password
    # The list says which accounts need one (they cannot sign in), and with which command.
    assert "版主小王\tmoderator\tactive\tno password: moderators set-password 版主小王" in \
        runner.invoke(args=["moderators", "list"]).output
    assert ModeratorBrowser(app.test_client()).login("版主小王", "").status_code == 401
    assert runner.invoke(args=["moderators", "set-password", "版主小王", "--password", "a new long secret"]).exit_code == 0
    listed = runner.invoke(args=["moderators", "list"]).output
    assert "版主小王\tmoderator\tactive\n" in listed
    assert ModeratorBrowser(app.test_client()).login("版主小王", "a new long secret").status_code == 303


def test_import_refuses_a_database_that_is_not_empty(app, runner, tmp_path):
    path = tmp_path / "export.jsonl"
    export_file(runner, path)
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code != 0 and "not empty" in result.output


def test_import_refuses_a_damaged_file_and_keeps_nothing(app, db, runner, tmp_path):
    path = tmp_path / "export.jsonl"
    export_file(runner, path)
    with app.app_context():
        _db.drop_all()
        _db.create_all()
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text(path.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
    result = runner.invoke(args=["import", str(damaged)])
    assert result.exit_code != 0 and "not JSON" in result.output
    assert db.session.scalar(select(func.count()).select_from(Article)) == 0


def test_password_hashes_are_exported_only_when_asked(db, runner, tmp_path):
    make_moderator(db, "admin2", role="admin")
    assert "password_hash" in export_file(runner, tmp_path / "with.jsonl", "--include-password-hashes")


def test_an_export_is_readable_by_its_owner_alone_whatever_the_umask(db, runner, tmp_path):
    """It holds webhook secrets and keyed hashes: as secrets.json, mode 0600, also over an older file."""
    (tmp_path / "backup.jsonl").write_text("older")
    (tmp_path / "backup.jsonl").chmod(0o644)
    previous = os.umask(0o022)
    try:
        export_file(runner, tmp_path / "backup.jsonl")
    finally:
        os.umask(previous)
    assert (tmp_path / "backup.jsonl").stat().st_mode & 0o777 == 0o600


def test_an_export_to_a_folder_that_is_not_there_is_refused_in_a_line(db, runner, tmp_path):
    result = runner.invoke(args=["export", str(tmp_path / "no-such-folder" / "out.jsonl")])
    assert result.exit_code == 1 and result.output.startswith("Error: cannot write ")
    assert "No such file or directory" in result.output and "Traceback" not in result.output


def test_an_export_that_stops_half_way_leaves_the_earlier_file_whole(db, runner, tmp_path, monkeypatch):
    """The database went away in the middle: the backup already at that name is not overwritten
    (the export is written beside it and renamed only when complete), and nothing half-written stays."""
    from sqlalchemy.exc import OperationalError

    from moderation.services import transfer

    folder = tmp_path / "backups"
    folder.mkdir()
    backup = folder / "backup.jsonl"
    assert runner.invoke(args=["export", str(backup)]).exit_code == 0
    earlier = backup.read_bytes()
    assert json.loads(earlier.decode().splitlines()[-1])["type"] == "end"
    records = transfer.export_records

    def stops_after_three(session, **options):
        for index, record in enumerate(records(session, **options)):
            if index == 3:
                raise OperationalError("SELECT", {}, Exception("server closed the connection unexpectedly"))
            yield record

    monkeypatch.setattr(transfer, "export_records", stops_after_three)
    result = runner.invoke(args=["export", str(backup)])
    assert result.exit_code == 1 and "the export stopped (OperationalError)" in result.output
    assert "Traceback" not in result.output
    assert backup.read_bytes() == earlier and list(folder.iterdir()) == [backup]


def test_retention_erases_address_hashes_older_than_the_age(db, runner, clock):
    old = make_comment(db, body="舊評論", created_at=clock() - timedelta(days=91))
    recent = make_comment(db, body="新評論", created_at=clock() - timedelta(days=1))
    db.session.add(AuditEntry(at=clock() - timedelta(days=100), actor="mod", action="login", ip_hash="d" * 64))
    db.session.commit()
    result = runner.invoke(args=["retention"])
    assert result.exit_code == 0 and "comments 1" in result.output
    db.session.expire_all()
    assert db.session.get(Comment, old.id).ip_hash == ""
    assert db.session.get(Comment, recent.id).ip_hash == "a" * 64
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.ip_hash.is_not(None))) == 0
    details = db.session.scalar(select(AuditEntry.details).where(AuditEntry.action == "retention"))
    assert details["days"] == 90 and details["comments"] == 1


def test_an_admin_erases_every_comment_of_one_author_and_it_is_logged(admin, db, app, clock):
    author = "e" * 64
    make_comment(db, body="要刪除的公開評論", author_hash=author, status=CommentStatus.APPROVED)
    make_comment(db, body="要刪除的待審評論", author_hash=author)
    make_comment(db, body="別人的評論", status=CommentStatus.APPROVED)
    tag = author_tag(author)

    refused = admin.post(f"/moderation/admin/authors/{tag}/erase", confirm="wrong")
    assert refused.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 3

    erasing = admin.post(f"/moderation/admin/authors/{tag}/erase", confirm=tag)
    assert erasing.status_code == 303 and erasing.location.startswith("/moderation/admin/jobs/")
    assert run_long_job_in_app(app, int(erasing.location.rsplit("/", 1)[1])) == "done"
    db.session.expire_all()
    assert [c.body for c in db.session.scalars(select(Comment))] == ["別人的評論"]
    assert db.session.scalar(select(Article)).approved_count == 1
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "erase_author"))
    assert entry.actor == "boss" and entry.details == {"tag": tag, "count": 2}
    page = app.test_client().get(f"/articles/{ARTICLE_SLUG}").get_data(as_text=True)
    assert "要刪除的公開評論" not in page and "別人的評論" in page


def test_moderators_cannot_erase_authors(moderator, db):
    make_comment(db, author_hash="e" * 64)
    response = moderator.post("/moderation/admin/authors/eeeeeeee/erase", confirm="eeeeeeee")
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 1


class Collected(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def test_each_request_is_one_log_line_without_address_or_text(page, app):
    collected, logger = Collected(), logging.getLogger("moderation.requests")
    logger.addHandler(collected)
    try:
        response = page.post(nickname="記錄測試", body="這段評論文字不該進入日誌", solve=True)
    finally:
        logger.removeHandler(collected)
    caplog = collected
    lines = [json.loads(r.getMessage()) for r in caplog.records]
    posted = [line for line in lines if line["method"] == "POST"]
    assert len(posted) == 1
    assert posted[0]["status"] == 303 and posted[0]["path"].endswith("/comments")
    assert posted[0]["ms"] >= 0 and posted[0]["request_id"] == response.headers["X-Request-ID"]
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "127.0.0.1" not in text and "這段評論文字" not in text and "記錄測試" not in text


def test_a_well_formed_request_id_from_the_proxy_is_kept(client):
    assert client.get("/healthz", headers={"X-Request-ID": "lb-1234"}).headers["X-Request-ID"] == "lb-1234"
    assert client.get("/healthz", headers={"X-Request-ID": "bad id;<x>"}).headers["X-Request-ID"] != "bad id;<x>"
