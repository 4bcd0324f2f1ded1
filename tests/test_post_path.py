"""The comment POST's path: everything read and screened first, then one short burst of writes (on
SQLite the first write takes the database's write lock, held to the commit); its statements
counted, so that they do not grow unseen; the settings it keeps per worker for a few seconds."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select, update

from moderation.models import (
    AddressHold,
    Article,
    CaptchaChallenge,
    CaptchaFailure,
    Comment,
    CommentMode,
    CommentStatus,
    ScreeningReason,
)
from moderation.services import captcha, sanctions, surge
from moderation.services.audit import COMMAND_LINE
from moderation.short_lived import EXTENSION, ShortLived
from tests.conftest import ARTICLE_SLUG, make_comment, make_page

HARNESS = {"SAVEPOINT", "RELEASE", "ROLLBACK"}
WRITES = {"INSERT", "UPDATE", "DELETE"}
# What a new reader's published comment sends, the worker's settings kept (the harness's savepoints
# left out), counted on 2026-12-05: SQLite 15, PostgreSQL 14 (the article, the submission key, the
# captcha's failures and its look, the rules' version, the author's and the address's recent comments,
# the surge, then the minute's count and the text's other authors in one; SQLite the last comment id,
# PostgreSQL the poster's advisory locks), of them after the first write SQLite 5 and PostgreSQL 4 (the captcha's UPDATE,
# SQLite's look for posts stored meanwhile, the comment, the article's count, the hourly rollup).
# Before the reads moved ahead of the writes, the bench's post sent 21 statements, 16 of them from
# the captcha's UPDATE on.
MOST_STATEMENTS = 15
MOST_AFTER_FIRST_WRITE = 5


@contextmanager
def statements(engine):
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.strip().split()[0].upper() not in HARNESS:
            seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def set_mode(db, mode: CommentMode) -> None:
    db.session.execute(update(Article).where(Article.slug == ARTICLE_SLUG).values(comment_mode=mode))
    db.session.commit()


def test_a_new_readers_post_reads_first_and_writes_in_one_short_burst(app, db):
    keep_settings(app)
    set_mode(db, CommentMode.POST_MODERATION)  # published: the article's count moves too
    assert make_page(app).post(body="先來的讀者").status_code == 303  # the worker now keeps the settings
    reader = make_page(app)
    assert reader.load_captcha().status_code == 200
    with statements(db.engine) as sent:
        assert reader.post(solve=False, body="讀完這篇報導，我對檢測流程有了新的認識。").status_code == 303
    assert db.session.scalar(select(Comment.status).where(Comment.body.startswith("讀完"))) is CommentStatus.APPROVED
    first_write = next(index for index, statement in enumerate(sent) if statement.split()[0] in WRITES)
    after = sent[first_write:]
    assert len(sent) <= MOST_STATEMENTS, sent
    assert len(after) <= MOST_AFTER_FIRST_WRITE, after
    assert after[0].startswith("UPDATE captcha_challenge")  # the challenge is consumed with the writes
    # Under the lock nothing is read but what other posters may have stored meanwhile.
    reads_after = [statement for statement in after if statement.startswith("SELECT")]
    assert all("comment.id >" in statement for statement in reads_after), reads_after
    for table in ("author_restriction", "address_hold", "webhook_endpoint", "external_check", "surge"):
        assert not any(f"FROM {table}" in statement for statement in after), table
    assert [statement.split()[2] for statement in after if statement.startswith("INSERT")][-1] == "comment_hour"


def test_a_returning_readers_post_reads_the_rules_version_once(app, db):
    """The captcha's trust question needs the thresholds only, not the compiled rules."""
    keep_settings(app)
    reader = make_page(app)
    assert reader.post(body="第一次留言，謝謝分享").status_code == 303
    reader.open_form()
    with statements(db.engine) as sent:
        assert reader.post(body="第二次留言，內容不同").status_code == 303
    assert len([statement for statement in sent if "FROM word_rule" in statement]) == 1, sent


@pytest.mark.committing  # the other sending's commit must outlast this request's rollback
def test_a_challenge_taken_by_another_sending_meanwhile_refuses_this_one(app, db, monkeypatch):
    """Between the look at the answer and the writes, another sending of the same challenge (a second
    tab, a replay) consumed it: this one is refused as a used challenge and stores nothing."""
    looked = captcha.would_pass

    def look_then_lose_the_race(session, challenge_id, *args, **kwargs):
        passes = looked(session, challenge_id, *args, **kwargs)
        db.session.execute(update(CaptchaChallenge).where(CaptchaChallenge.id == challenge_id)
                           .values(used_at=datetime.now(UTC)))
        db.session.commit()
        return passes

    monkeypatch.setattr(captcha, "would_pass", look_then_lose_the_race)
    reader = make_page(app)
    response = reader.post(body="這一則的驗證碼被另一個分頁用掉了")
    assert response.status_code == 422 and "這張驗證碼已經用過，請輸入這張新的驗證碼。" in response.get_data(as_text=True)
    assert "這一則的驗證碼被另一個分頁用掉了" in response.get_data(as_text=True)  # the text is kept
    assert db.session.scalar(select(Comment.id)) is None
    assert db.session.scalar(select(CaptchaFailure.reason)) is None


def test_a_post_stored_by_the_same_author_during_screening_is_seen_under_the_lock(app, db, backend, monkeypatch):
    """SQLite: the reads run before the write lock is taken; a comment the same author stored
    meanwhile is looked for under the lock, and the post screened again with it (here: the same
    text twice, the second is spam). PostgreSQL orders one author's posts by advisory locks taken
    before the reads, which this test's own connection cannot show."""
    if backend != "sqlite":
        pytest.skip("PostgreSQL serialises one author's posts with advisory locks taken before the reads")
    checked = surge.check

    def check_while_the_same_author_posts(session, article_id, **kwargs):
        make_comment(db, author_hash=kwargs["author_hash"], fingerprint=kwargs["fingerprint"], created_at=kwargs["now"],
                     body="同一個作者剛送出的同一段文字", status=CommentStatus.APPROVED)
        return checked(session, article_id, **kwargs)

    monkeypatch.setattr(surge, "check", check_while_the_same_author_posts)
    set_mode(db, CommentMode.POST_MODERATION)
    reader = make_page(app)
    assert reader.post(body="同一個作者剛送出的同一段文字").status_code == 303
    statuses = db.session.scalars(select(Comment.status).order_by(Comment.id)).all()
    assert statuses == [CommentStatus.APPROVED, CommentStatus.SPAM]


def keep_settings(app, seconds: float = 5) -> None:
    """As in production (SETTINGS_CACHE_SECONDS); the other tests read them on every post."""
    app.extensions[EXTENSION] = ShortLived(seconds)


def test_an_address_hold_reaches_posting_within_the_settings_cache_seconds(app, db, clock):
    keep_settings(app)
    set_mode(db, CommentMode.POST_MODERATION)
    reader = make_page(app)
    reader.client.environ_base["REMOTE_ADDR"] = "203.0.113.200"

    def post(body: str) -> CommentStatus:
        reader.open_form()
        assert reader.post(body=body).status_code == 303
        return db.session.scalar(select(Comment.status).where(Comment.body == body))

    assert post("還沒有任何限制的時候") is CommentStatus.APPROVED  # the worker now keeps "no holds"
    sanctions.hold_range(db.session, "203.0.113.7", "1d", "brigading", note="", pepper=app.config["IP_PEPPER"],
                         actor=COMMAND_LINE, now=clock())
    db.session.commit()
    assert db.session.scalar(select(AddressHold.id)) is not None
    clock.advance(seconds=4)
    assert post("限制剛設下的四秒內") is CommentStatus.APPROVED  # within SETTINGS_CACHE_SECONDS
    clock.advance(seconds=1)
    assert post("限制設下五秒之後") is CommentStatus.PENDING
    held = db.session.scalars(select(ScreeningReason.kind).join(Comment)
                              .where(Comment.body == "限制設下五秒之後")).all()
    assert "address_hold" in held


def test_a_kept_setting_is_read_again_after_its_time_or_when_the_clock_went_back():
    loads = []
    cache = ShortLived(5)
    start = datetime(2026, 12, 4, 12, tzinfo=UTC)

    def load():
        loads.append(1)
        return len(loads)

    assert cache.get("k", load, at=start) == 1
    assert cache.get("k", load, at=start + timedelta(seconds=4.9)) == 1
    assert cache.get("k", load, at=start + timedelta(seconds=5)) == 2
    assert cache.get("k", load, at=start) == 3  # the clock went back: read again
    assert ShortLived(0).get("k", load, at=start) == 4  # 0: read every time


def test_the_rate_limit_counters_are_swept_now_and_then_not_after_every_hit():
    from limits.storage import storage_from_string

    from moderation.rate_limit_storage import SCHEME, SweptMemoryStorage

    storage = storage_from_string(f"{SCHEME}://")
    assert isinstance(storage, SweptMemoryStorage)
    storage.incr("first", 60)
    sweeper = storage.timer
    for number in range(200):  # a reader and an address each, as likes from new readers make them
        storage.incr(f"reader:{number}", 3600)
    assert storage.timer is sweeper  # no thread started for these hits
    assert storage.get("reader:7") == 1
    storage.incr("gone", -1)  # a counter whose window has passed
    assert storage.get("gone") == 0  # dropped when read, whatever the sweep


def test_the_like_sends_its_four_statements_and_postgresql_one(app, db):
    from tests.conftest import ARTICLE_SLUG as SLUG

    set_mode(db, CommentMode.POST_MODERATION)
    comment_id = make_comment(db, status=CommentStatus.APPROVED).id
    client = app.test_client()
    with statements(db.engine) as sent:
        response = client.post(f"/articles/{SLUG}/comments/{comment_id}/like", data={"like": "1"},
                               headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.get_json()["like_count"] == 1
    # On SQLite the article, the lock (an UPDATE that changes nothing takes its write lock), the look,
    # the insert, the count; on PostgreSQL one call that finds the article and runs them in the server.
    if db.engine.dialect.name == "sqlite":
        assert [statement.split()[0] for statement in sent] == ["SELECT", "UPDATE", "SELECT", "INSERT", "UPDATE"]
    else:
        assert [statement.split()[0] for statement in sent] == ["SELECT"]
        assert "FROM set_comment_like((SELECT id FROM article WHERE slug = " in sent[0]


def test_a_brigades_later_post_joins_its_cluster_without_reading_the_brigade_again(app, db, clock):
    set_mode(db, CommentMode.POST_MODERATION)
    brigade = "市府這次的檢測報告根本造假，大家一起來抗議！"

    def post_from(number: int):
        reader = make_page(app)
        reader.client.environ_base["REMOTE_ADDR"] = f"198.51.100.{number + 1}"
        assert reader.load_captcha().status_code == 200
        with statements(db.engine) as sent:
            assert reader.post(solve=False, body=brigade + "！" * number, nickname=f"路人{number}").status_code == 303
        clock.advance(seconds=20)
        return sent

    for number in range(3):  # the third author forms the cluster and starts the surge
        post_from(number)
    sent = post_from(3)
    db.session.expire_all()
    comments = db.session.scalars(select(Comment).order_by(Comment.id)).all()
    assert len({comment.cluster_id for comment in comments}) == 1 and comments[0].cluster_id is not None
    assert {comment.status for comment in comments} == {CommentStatus.PENDING}
    assert not any("comment.fingerprint IN" in statement for statement in sent)  # the brigade is not read again
    assert not any(statement.startswith("UPDATE comment SET cluster_id") for statement in sent)


@pytest.mark.committing  # builds, migrates and drops a schema of its own
def test_migration_0022_adds_the_cluster_indexes_and_takes_them_back(database_url, tmp_path):
    from flask_migrate import downgrade, upgrade

    from moderation.extensions import db as _db
    from tests.migrations import schema_at

    wanted = {"ix_comment_article_fingerprint", "ix_comment_article_reading"}
    with schema_at("2e6b9d4f8a13", database_url, tmp_path) as directory:  # 0021
        assert not wanted & {index["name"] for index in _db.inspect(_db.engine).get_indexes("comment")}
        upgrade(directory=directory)
        assert wanted <= {index["name"] for index in _db.inspect(_db.engine).get_indexes("comment")}
        downgrade(directory=directory, revision="2e6b9d4f8a13")
        assert not wanted & {index["name"] for index in _db.inspect(_db.engine).get_indexes("comment")}
