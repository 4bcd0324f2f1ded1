"""Installation: secrets, configuration precedence, init-db, migrations."""

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from moderation import create_app
from moderation.config import ConfigError, sqlalchemy_url
from moderation.extensions import db as _db
from moderation.models import (
    Article,
    Base,
    CommentReport,
    Moderator,
    ReportReason,
    Role,
)
from tests.migrations import schema_at

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.committing  # builds, drops and migrates schemas


def test_secrets_are_generated_once_and_kept(tmp_path):
    config = {"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    first = create_app(config)
    stored = json.loads((tmp_path / "secrets.json").read_text())
    assert first.config["SECRET_KEY"] == stored["SECRET_KEY"]
    assert len(stored["SECRET_KEY"]) >= 64 and stored["SECRET_KEY"] != stored["IP_PEPPER"]
    assert (tmp_path / "secrets.json").stat().st_mode & 0o077 == 0
    second = create_app(config)
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]


def test_secrets_from_the_environment_win(tmp_path, monkeypatch):
    monkeypatch.setenv("MODERATION_SECRET_KEY", "from-env-" + "k" * 32)
    monkeypatch.setenv("MODERATION_CAPTCHA_LENGTH", "6")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SECRET_KEY"] == "from-env-" + "k" * 32
    assert app.config["CAPTCHA_LENGTH"] == 6
    assert len(app.config["CAPTCHA_TEXT_FACTORY"]()) == 6
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.db")


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'moderation.sqlite3'}"


def test_postgresql_urls_use_psycopg3():
    assert sqlalchemy_url("postgresql://127.0.0.1:5432/test") == "postgresql+psycopg://127.0.0.1:5432/test"
    for written in ("postgres://", "postgresql+psycopg://", "postgres+psycopg://"):
        assert sqlalchemy_url(written + "u@h/db") == "postgresql+psycopg://u@h/db"
    assert sqlalchemy_url("sqlite+pysqlite:///x.db") == "sqlite+pysqlite:///x.db"


@pytest.mark.parametrize(("url", "said"), [
    ("mysql://app:s3cret@127.0.0.1/comments", "DATABASE_URL is a mysql:// URL; this service runs on SQLite or PostgreSQL"),
    ("mysql+pymysql://app@127.0.0.1/comments", "DATABASE_URL is a mysql\\+pymysql:// URL"),
    ("postgresql+psycopg2://app:s3cret@127.0.0.1/comments", "DATABASE_URL is a postgresql\\+psycopg2:// URL"),
    ("comments.sqlite3", "DATABASE_URL is not a database URL"),
    ("app:s3cret://@127.0.0.1/comments", "DATABASE_URL is not a database URL"),
])
def test_a_database_the_service_does_not_run_on_is_said_in_one_line(tmp_path, url, said):
    with pytest.raises(ConfigError, match=said) as refused:
        create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": url})
    assert "s3cret" not in str(refused.value)


def test_init_db_is_idempotent_and_keeps_comments(database_url, tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": database_url})
    with app.app_context():
        _db.drop_all()
        _db.session.execute(_db.text("DROP TABLE IF EXISTS alembic_version"))
        _db.session.commit()
    runner = app.test_cli_runner()
    try:
        first = runner.invoke(args=["init-db"])
        assert first.exit_code == 0, first.output
        assert "loaded" in first.output
        assert re.search(r"name 'admin', one-time password \(shown only now\): \S{16}", first.output)
        client = app.test_client()
        assert client.get("/").status_code == 302
        second = runner.invoke(args=["init-db"])
        assert second.exit_code == 0 and "already present" in second.output
        assert "first admin" not in second.output
        with app.app_context():
            assert _db.session.query(Article).count() == 1
            [admin] = _db.session.query(Moderator).all()
            assert admin.role is Role.ADMIN and admin.must_change_password
    finally:
        with app.app_context():
            _db.drop_all()
            _db.session.execute(_db.text("DROP TABLE IF EXISTS alembic_version"))
            _db.session.commit()
            _db.engine.dispose()


def test_migrations_match_the_models(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/m.db"})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        with _db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_migration_0010_gives_stored_glosses_their_language(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/g.db"})
    directory = app.extensions["migrate"].directory
    with app.app_context():
        upgrade(directory=directory, revision="5d2c8e1f7a93")  # 0009: glosses rendered without a language
        _db.session.execute(_db.text(
            "INSERT INTO article (slug, title, column_name, body, body_html, comment_mode, created_at, approved_count, revision) "
            "VALUES ('old', '舊文', '', '網(wǎng)路', '<p><ruby>網<rt>wǎng</rt></ruby>路</p>', 'pre', '2026-11-01 00:00:00', 0, 1)"
        ))
        _db.session.commit()
        upgrade(directory=directory)
        html = _db.session.execute(_db.text("SELECT body_html FROM article WHERE slug = 'old'")).scalar_one()
    assert html == '<p><ruby>網<rt lang="zh-Latn-pinyin">wǎng</rt></ruby>路</p>'


def test_migration_0011_keeps_earlier_reports_with_no_words(database_url, tmp_path):
    """From the previous head (0010) on either backend: reports made before keep their row, with an
    empty note; a new one can carry words; going back down drops the column."""
    with schema_at("7b41d0c9e2a6", database_url, tmp_path) as directory:  # 0010
        # Rows as the schema of 0010 has them (the models are already of the head).
        article_id = _db.session.execute(_db.text(
            "INSERT INTO article (slug, title, column_name, body, body_html, comment_mode, created_at, "
            "approved_count, revision) VALUES ('old', '舊文', '', '內文', '<p>內文</p>', 'pre', :at, 1, 1) "
            "RETURNING id"), {"at": datetime(2026, 12, 1, tzinfo=UTC)}).scalar_one()
        comment_id = _db.session.execute(_db.text(
            "INSERT INTO comment (article_id, nickname, is_anonymous, body, status, created_at, ip_hash, "
            "author_hash, fingerprint, version) VALUES (:article, '讀者', false, '被檢舉的評論', 'approved', :at, "
            ":ip, :author, '', 1) RETURNING id"),
            {"article": article_id, "at": datetime(2026, 12, 1, tzinfo=UTC), "ip": "a" * 64, "author": "b" * 64},
        ).scalar_one()
        _db.session.execute(_db.text(
            "INSERT INTO comment_report (comment_id, reason, reporter_hash, reporter_ip_hash, created_at) "
            "VALUES (:id, 'other', :reporter, :address, :at)"),
            {"id": comment_id, "reporter": "c" * 64, "address": "d" * 64, "at": datetime(2026, 12, 1, tzinfo=UTC)})
        _db.session.commit()
        upgrade(directory=directory)
        _db.session.expire_all()
        earlier = _db.session.scalars(_db.select(CommentReport)).one()
        assert earlier.note == "" and earlier.reason is ReportReason.OTHER
        _db.session.add(CommentReport(comment_id=comment_id, reason=ReportReason.OTHER, reporter_hash="e" * 64,
                                      reporter_ip_hash="f" * 64, note="冒用記者名義", created_at=earlier.created_at))
        _db.session.commit()
        assert {report.note for report in _db.session.scalars(_db.select(CommentReport))} == {"", "冒用記者名義"}
        _db.session.close()
        downgrade(directory=directory, revision="7b41d0c9e2a6")
        columns = {column["name"] for column in _db.inspect(_db.engine).get_columns("comment_report")}
        assert "note" not in columns and "reporter_ip_hash" in columns


def test_migration_0012_folds_stored_comments_for_the_queue_search(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/s.db"})
    directory = app.extensions["migrate"].directory
    with app.app_context():
        upgrade(directory=directory, revision="7b41d0c9e2a6")  # 0010: no search_text yet
        _db.session.execute(_db.text(
            "INSERT INTO article (slug, title, column_name, body, body_html, comment_mode, created_at, approved_count, revision) "
            "VALUES ('old', '舊文', '', '文', '<p>文</p>', 'pre', '2026-11-01 00:00:00', 0, 1)"
        ))
        _db.session.execute(_db.text(
            "INSERT INTO comment (article_id, nickname, is_anonymous, body, status, created_at, ip_hash, author_hash, "
            "fingerprint, version) VALUES (1, 'ＣＮＡＳ迷', 0, '檢測報告', 'pending', '2026-11-01 00:00:00', 'a', 'b', '', 1)"
        ))
        _db.session.commit()
        upgrade(directory=directory)
        folded = _db.session.execute(_db.text("SELECT search_text FROM comment")).scalar_one()
    assert folded == "cnas迷\n检测报告"


def test_migration_0020_gives_stored_comments_their_hot_key(database_url, tmp_path):
    """From the head before likes (0019) on either backend: stored comments get no likes and the hot
    key of their replies and age, so 最熱 orders them at once; going back down drops it all."""
    from moderation.models import hot_key

    at = datetime(2026, 12, 1, tzinfo=UTC)
    with schema_at("8d1f4b6a2c37", database_url, tmp_path) as directory:  # 0019
        article_id = _db.session.execute(_db.text(
            "INSERT INTO article (key, slug, title, column_name, body, body_html, comment_mode, created_at, "
            "approved_count, revision) VALUES ('old', 'old', '舊文', '', '內文', '<p>內文</p>', 'pre', :at, 1, 1) "
            "RETURNING id"), {"at": at}).scalar_one()
        _db.session.execute(_db.text(
            "INSERT INTO comment (article_id, nickname, is_anonymous, body, status, created_at, ip_hash, "
            "author_hash, fingerprint, version, reply_count, listed) VALUES (:article, '讀者', false, '有回覆的評論', "
            "'approved', :at, 'a', 'b', '', 1, 4, true)"), {"article": article_id, "at": at})
        _db.session.commit()
        upgrade(directory=directory)
        likes, key = _db.session.execute(_db.text("SELECT like_count, hot_key FROM comment")).one()
        assert likes == 0 and key == pytest.approx(hot_key(likes=0, replies=4, created_at=at))
        _db.session.close()
        downgrade(directory=directory, revision="8d1f4b6a2c37")
        columns = {column["name"] for column in _db.inspect(_db.engine).get_columns("comment")}
        assert not {"like_count", "hot_key"} & columns
        assert "comment_like" not in _db.inspect(_db.engine).get_table_names()



def test_migration_0024_words_the_shipped_starter_notes_in_chinese_and_keeps_edited_ones(database_url, tmp_path):
    from moderation.services.rulebook.starter import starter_rules

    shipped = {value: note for kind, _, value, note in starter_rules() if kind == "word"}
    with schema_at("3a9c1e7f5b20", database_url, tmp_path) as directory:  # 0023
        insert = _db.text("INSERT INTO word_rule (term, action, note, created_at, fuzzy) VALUES "
                          "(:term, 'spam', :note, '2026-12-01', 'hold')")
        _db.session.execute(insert, {"term": "加微信", "note": "contact-me advertising"})
        _db.session.execute(insert, {"term": "刷單", "note": "our own words"})
        _db.session.commit()
        upgrade(directory=directory)
        notes = dict(_db.session.execute(_db.text("SELECT term, note FROM word_rule")).all())
        assert notes == {"加微信": shipped["加微信"], "刷單": "our own words"} and shipped["加微信"] == "聯絡方式廣告"
        _db.session.close()
        downgrade(directory=directory, revision="3a9c1e7f5b20")
        assert _db.session.scalar(_db.text("SELECT note FROM word_rule WHERE term = '加微信'")) == "contact-me advertising"

def test_load_article_command(runner, tmp_path, db):
    source = tmp_path / "story.txt"
    source.write_text("【\n儀器網(wǎng) 時事聚焦】新的報導,內容。\n", encoding="utf-8")
    result = runner.invoke(args=["load-article", str(source), "--slug", "new-story", "--title", "新報導"])
    assert result.exit_code == 0, result.output
    article = db.session.query(Article).filter_by(slug="new-story").one()
    assert article.title == "新報導" and article.column_name == "儀器網 時事聚焦"


def test_no_module_of_ours_is_named_like_the_standard_library():
    """`python path/to/script.py` puts the script's folder first on sys.path: a `statistics.py` or
    `queue.py` there would be imported instead of the standard library's, by us and by every
    library we use."""
    root = Path(__file__).resolve().parent.parent
    ours = [path for folder in ("moderation", "bench", "scripts", "tests") for path in (root / folder).rglob("*.py")
            if not any(part.startswith(".") for part in path.relative_to(root).parts)]  # bench/.isso-venv
    assert len(ours) > 50
    assert [str(path.relative_to(root)) for path in ours if path.stem in sys.stdlib_module_names] == []


@pytest.mark.parametrize(("variable", "value", "said"), [
    ("MODERATION_CAPTCHA_LENGTH", "abc", "CAPTCHA_LENGTH (MODERATION_CAPTCHA_LENGTH): a number, not 'abc'"),
    ("MODERATION_SESSION_COOKIE_SECURE", "yes", "SESSION_COOKIE_SECURE (MODERATION_SESSION_COOKIE_SECURE): true or false"),
    ("MODERATION_CAPTCHA_TEXT_FACTORY", "AAAA", "CAPTCHA_TEXT_FACTORY: a function that returns a challenge's text"),
    ("MODERATION_SECRET_KEY", "abc", "MODERATION_SECRET_KEY: at least 32 characters; make one with python3 -c"),
    ("MODERATION_QUEUE_PAGE_SIZE", "50.5", "QUEUE_PAGE_SIZE (MODERATION_QUEUE_PAGE_SIZE): a whole number, not 50.5"),
    ("MODERATION_EMBED_ALLOWED_ORIGINS", "https://x.example/path", "EMBED_ALLOWED_ORIGINS: not an origin"),
])
def test_a_setting_the_service_cannot_start_with_is_said_in_one_line(tmp_path, monkeypatch, variable, value, said):
    """`flask` and gunicorn load wsgi.py, which turns the refusal into one line and exit status 1."""
    env = {**os.environ, variable: value, "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
           "MODERATION_SECRET_KEY": "s" * 32, "MODERATION_IP_PEPPER": "p" * 32}
    env[variable] = value
    finished = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=60)
    assert finished.returncode == 1
    assert finished.stderr.startswith("moderation: cannot start: ") and said in finished.stderr
    assert "Traceback" not in finished.stderr and finished.stderr.count("\n") == 1


def test_an_instance_folder_it_cannot_write_is_named_not_taken_for_a_database_outage(tmp_path, monkeypatch):
    """A read-only folder (a read-only mount, where even root cannot write) made every page a 503
    and the log say "database outage"; the start now says what is wrong. os.access is what the check
    asks, and what a read-only mount answers: the folder's mode cannot show it here, the suite runs as root."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("MODERATION_SECRET_KEY", raising=False)
    instance = tmp_path / "instance"
    instance.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if Path(path) == instance else real_access(path, mode))
    with pytest.raises(ConfigError, match=r"instance folder .*instance is not writable by this user \(the SQLite"):
        create_app({"INSTANCE_PATH": str(instance)})
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    with pytest.raises(ConfigError, match="cannot create the instance folder"):
        create_app({"INSTANCE_PATH": str(blocked / "instance")})


def test_a_short_ip_pepper_is_warned_of_not_refused(tmp_path, monkeypatch, caplog):
    """It keys every stored address hash, author tag and address hold: a site already running on a
    short one keeps it (a new one would unlink them all); the log says what a new install should use."""
    monkeypatch.setenv("MODERATION_IP_PEPPER", "short pepper")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/db.sqlite3")
    with caplog.at_level("WARNING", logger="moderation"):
        app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["IP_PEPPER"] == "short pepper"
    assert "MODERATION_IP_PEPPER is shorter than 32 characters" in caplog.text


def test_fractional_durations_and_whole_numbers_written_as_decimals_are_taken(tmp_path, monkeypatch):
    monkeypatch.setenv("MODERATION_CAPTCHA_MIN_SECONDS", "2.5")
    monkeypatch.setenv("MODERATION_QUEUE_PAGE_SIZE", "30.0")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/db.sqlite3")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["CAPTCHA_MIN_SECONDS"] == 2.5 and app.config["QUEUE_PAGE_SIZE"] == 30.0


def test_init_db_says_in_one_line_that_it_cannot_reach_the_database(tmp_path):
    """A database not created yet (PostgreSQL) or a folder that is not there (SQLite): the operator's
    first command said so at the end of a hundred lines of traceback."""
    from tests.conftest import POSTGRES_URL

    urls = [f"sqlite:///{tmp_path}/no-such-folder/db.sqlite3"]
    if POSTGRES_URL:
        urls.append(POSTGRES_URL.rsplit("/", 1)[0] + "/no_such_database_for_init_db")
    for url in urls:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "k", "IP_PEPPER": "p", "INSTANCE_PATH": str(tmp_path)})
        result = app.test_cli_runner().invoke(args=["init-db"])
        assert result.exit_code == 1, result.output
        assert result.output.startswith("Error: cannot reach the database (") and result.output.count("\n") == 1
        assert "Traceback" not in result.output
