"""Long work as jobs with progress: re-screening and erasing an author started from their pages, a
page that shows how far they are (JSON for its script), cancelling, one at a time, a dead worker's
job taken up again, and the command line's progress bars."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from moderation.extensions import db as _db
from moderation.jobs import dispatch
from moderation.jobs.long_work import run_long_job, run_long_job_in_app
from moderation.models import AuditEntry, Comment, CommentStatus, LongJob, LongJobState
from moderation.services import long_jobs
from moderation.services.audit import COMMAND_LINE
from moderation.services.review_queue import author_tag
from moderation.services.rulebook.cache import active_rules
from moderation.services.rulebook.rescreen import rescreen_pending
from tests.conftest import make_comment

RULES = "/moderation/admin/rules/"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "JOBS_RUNNER": "off"}


def started(response) -> int:
    assert response.status_code == 303 and response.location.startswith("/moderation/admin/jobs/")
    return int(response.location.rsplit("/", 1)[1])


def job(db, job_id: int) -> LongJob:
    return db.session.get(LongJob, job_id, populate_existing=True)


def spam_word(admin, term="新型廣告詞"):
    assert admin.post(RULES + "words", term=term, action="spam").status_code == 303


def test_rescreening_shows_its_progress_then_its_result(admin, app, db):
    for index in range(3):
        make_comment(db, body=f"新型廣告詞 第{index}則")
    make_comment(db, body="普通的留言")
    spam_word(admin)
    job_id = started(admin.post(RULES + "rescreen"))
    queued = admin.client.get(f"/moderation/admin/jobs/{job_id}").get_data(as_text=True)
    assert "狀態：<strong data-job-state>排隊中</strong>" in queued and "正在計算總數" in queued
    assert f'action="/moderation/admin/jobs/{job_id}/cancel"' in queued  # still cancellable
    status = admin.client.get(f"/moderation/admin/jobs/{job_id}.json")
    assert status.headers["Cache-Control"] == "no-store"
    assert status.get_json() == {"state": "queued", "done": 0, "total": None, "estimate_seconds": None,
                                 "stale": False, "finished": False}
    missing = admin.client.get(f"/moderation/admin/jobs/{job_id + 1000}.json")
    assert missing.status_code == 404 and missing.get_json() == {"error": "not_found"}  # JSON for its script too

    assert run_long_job_in_app(app, job_id) == "done"
    assert admin.client.get(f"/moderation/admin/jobs/{job_id}.json").get_json() | {"estimate_seconds": None} == {
        "state": "done", "done": 4, "total": 4, "estimate_seconds": None, "stale": False, "finished": True}
    page = admin.client.get(f"/moderation/admin/jobs/{job_id}").get_data(as_text=True)
    assert "已重新篩選 4 則待審評論；移出待審：垃圾 3" in page and "/cancel" not in page
    assert db.session.scalar(select(func.count()).select_from(Comment).where(Comment.status == CommentStatus.SPAM)) == 3


def test_a_second_start_while_one_runs_shows_the_running_one(admin, db):
    first = started(admin.post(RULES + "rescreen"))
    second = admin.post(RULES + "rescreen")
    assert started(second) == first
    page = admin.client.get(second.location).get_data(as_text=True)
    assert "同樣的工作已在進行中" in page
    assert db.session.scalar(select(func.count()).select_from(LongJob)) == 1


def test_a_job_whose_worker_died_is_taken_up_again(admin, app, db, clock):
    first = started(admin.post(RULES + "rescreen"))
    clock.advance(seconds=app.config["LONG_JOB_STALE_SECONDS"] + 1)
    page = admin.client.get(f"/moderation/admin/jobs/{first}").get_data(as_text=True)
    assert "秒沒有進度" in page and "再重新篩選一次" in page
    second = started(admin.post(RULES + "rescreen"))
    assert second != first
    assert (job(db, first).state, job(db, first).error) == (LongJobState.FAILED, "abandoned")
    assert run_long_job_in_app(app, second) == "done"
    assert run_long_job_in_app(app, first) == "skipped"  # a late worker finds it no longer queued


def test_a_running_job_nothing_runs_any_more_is_cancelled_at_once_and_shows_no_estimate(admin, app, db, clock):
    """Its worker died mid-way: nobody is left to hear a request to stop, so 取消 ends it now; and
    while it sits there the page promises no time left."""
    job_id = started(admin.post(RULES + "rescreen"))
    db.session.execute(LongJob.__table__.update().where(LongJob.id == job_id)
                       .values(state=LongJobState.RUNNING, done=3, total=10, updated_at=clock()))
    db.session.commit()
    clock.advance(seconds=app.config["LONG_JOB_STALE_SECONDS"] + 1)
    status = admin.client.get(f"/moderation/admin/jobs/{job_id}.json").get_json()
    assert status["stale"] is True and status["estimate_seconds"] is None
    assert "可以取消" in admin.client.get(f"/moderation/admin/jobs/{job_id}").get_data(as_text=True)
    admin.post(f"/moderation/admin/jobs/{job_id}/cancel")
    assert job(db, job_id).state is LongJobState.CANCELLED


def test_a_queued_job_cancelled_never_runs(admin, app, db):
    job_id = started(admin.post(RULES + "rescreen"))
    cancelled = admin.post(f"/moderation/admin/jobs/{job_id}/cancel")
    assert cancelled.status_code == 303
    assert "已要求取消" in admin.client.get(cancelled.location).get_data(as_text=True)
    assert job(db, job_id).state is LongJobState.CANCELLED
    assert run_long_job_in_app(app, job_id) == "skipped"
    again = admin.post(f"/moderation/admin/jobs/{job_id}/cancel")
    assert "這項工作已經結束" in admin.client.get(again.location).get_data(as_text=True)


def test_a_running_rescreen_stops_at_the_next_comment_when_cancelled(app, db, clock):
    for index in range(3):
        make_comment(db, body=f"留言{index}")
    running = long_jobs.start(db.session, long_jobs.Kind.RESCREEN, actor=COMMAND_LINE, now=clock(), stale_seconds=60)
    db.session.commit()
    assert long_jobs.claim(db.session, running.id, now=clock()) is not None
    assert long_jobs.request_cancel(db.session, running.id, now=clock())
    db.session.commit()
    progress = long_jobs.Progress(db.session, running.id, clock)
    with app.app_context():
        rules = active_rules(db.session, app.config, app.extensions["screening_rules"])
    outcome = rescreen_pending(db.session, rules, now=clock(), actor=COMMAND_LINE, progress=progress)
    assert (outcome.checked, outcome.stopped, progress.cancelled) == (0, True, True)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "rescreen"))
    assert entry.details == {"checked": 0, "moved": {}, "stopped": True}
    assert job(db, running.id).total == 3


def test_a_rescreen_goes_through_the_whole_queue_in_batches_oldest_first(app, db, clock, admin):
    """No cap (it stopped at 10,000 without a word); the rule reasons of each batch are committed
    together, the moves one by one through decide()."""
    spam_word(admin)
    comments = [make_comment(db, body=f"留言{index}" + ("新型廣告詞" if index % 10 == 0 else ""),
                             created_at=clock() - timedelta(minutes=200 - index)) for index in range(120)]
    heard = []
    with app.app_context():
        rules = active_rules(db.session, app.config, app.extensions["screening_rules"])
    outcome = rescreen_pending(db.session, rules, now=clock(), actor=COMMAND_LINE, batch=50,
                               progress=lambda done, total: heard.append((done, total)) or True)
    assert outcome.checked == 120 and outcome.moved == {"spam": 12} and not outcome.stopped
    assert heard[0] == (0, 120) and heard[-1] == (120, 120) and len(heard) == 121
    db.session.expire_all()
    assert sum(db.session.get(Comment, each.id).status is CommentStatus.SPAM for each in comments) == 12


def test_erasing_an_author_in_chunks_reports_each_and_keeps_the_count(admin, app, db):
    author = "f" * 64
    for index in range(5):
        make_comment(db, body=f"作者的第{index}則", author_hash=author, status=CommentStatus.APPROVED)
    tag = author_tag(author)
    job_id = started(admin.post(f"/moderation/admin/authors/{tag}/erase", confirm=tag))
    app.config["ERASE_CHUNK"] = 2
    heard = []
    with app.app_context():
        try:
            assert run_long_job(job_id, listener=lambda done, total: heard.append((done, total))) == "done"
        finally:
            _db.session.remove()
    assert heard == [(0, 5), (2, 5), (4, 5), (5, 5)]
    page = admin.client.get(f"/moderation/admin/jobs/{job_id}").get_data(as_text=True)
    assert "已刪除這位作者的 5 則評論" in page and f"返回作者 {tag}" in page
    assert db.session.scalar(select(func.count()).select_from(Comment).where(Comment.author_hash == author)) == 0


def test_moderators_cannot_see_or_cancel_jobs(moderator, admin, db):
    job_id = started(admin.post(RULES + "rescreen"))
    assert moderator.client.get(f"/moderation/admin/jobs/{job_id}").status_code == 403
    assert moderator.post(f"/moderation/admin/jobs/{job_id}/cancel").status_code == 403
    assert admin.client.get("/moderation/admin/jobs/999999").status_code == 404


def test_the_command_line_rescreens_with_a_progress_bar_and_refuses_a_second_run(app, db, runner, clock):
    make_comment(db, body="新型廣告詞")
    runner.invoke(args=["rules", "add-word", "spam", "新型廣告詞"])
    result = runner.invoke(args=["rules", "rescreen"])
    assert result.exit_code == 0, result.output
    assert "re-screening" in result.output and "re-screened 1 pending comments; moved: spam 1" in result.output
    long_jobs.start(db.session, long_jobs.Kind.RESCREEN, actor=COMMAND_LINE, now=clock(), stale_seconds=60)
    db.session.commit()
    refused = runner.invoke(args=["rules", "rescreen"])
    assert refused.exit_code != 0 and "the same work is running" in refused.output


def test_the_command_line_erases_an_author(db, runner):
    author = "a" * 64
    make_comment(db, author_hash=author)
    result = runner.invoke(args=["erase-author", author_tag(author)])
    assert result.exit_code == 0 and f"erased 1 comments of {author_tag(author)}" in result.output
    bad = runner.invoke(args=["erase-author", "no/tag"])
    assert bad.exit_code != 0 and "not an author tag" in bad.output


@pytest.mark.committing
def test_two_admins_starting_at_once_get_one_job(app, db, clock):
    outcomes = []
    barrier = threading.Barrier(2)

    def start():
        with app.app_context():
            barrier.wait()
            try:
                long_jobs.start(_db.session, long_jobs.Kind.RESCREEN, actor=COMMAND_LINE, now=clock(), stale_seconds=60)
                _db.session.commit()
                outcomes.append("started")
            except long_jobs.AlreadyRunning:
                _db.session.rollback()
                outcomes.append("refused")
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(outcomes) == ["refused", "started"]
    assert db.session.scalar(select(func.count()).select_from(LongJob)) == 1


@pytest.mark.committing
def test_without_redis_the_job_runs_in_a_thread_of_the_web_process(app, db, admin):
    import time

    app.config["JOBS_RUNNER"] = None
    app.extensions["jobs"] = dispatch.runner_for(app)
    make_comment(db, body="普通的留言")
    job_id = started(admin.post(RULES + "rescreen"))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status = admin.client.get(f"/moderation/admin/jobs/{job_id}.json").get_json()
        if status["finished"]:
            break
        time.sleep(0.05)
    assert status["state"] == "done" and status["done"] == status["total"] == 1


def test_the_estimate_follows_the_rate_so_far(clock):
    running = LongJob(state=LongJobState.RUNNING, total=100, done=25, created_at=clock() - timedelta(seconds=30))
    assert long_jobs.estimate_seconds(running, now=clock()) == 90
