"""The dashboard: rollups kept with each post and decision, the page's charts and tables in three
languages, moderators without the per-moderator figures, and each table as CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from moderation.jobs.dispatch import runner_for
from moderation.jobs.long_work import run_long_job_in_app
from moderation.models import (
    Article,
    Comment,
    CommentHour,
    CommentReport,
    CommentStatus,
    DecisionTimeHour,
    Moderator,
    QueueSample,
    ReportReason,
    RuleHour,
)
from moderation.services import dashboard, rollups
from moderation.services.audit import Actor
from moderation.services.decisions import Decision, RejectReason, decide
from moderation.web.dashboard import TABLES
from moderation.web.languages import LANGUAGE_COOKIE
from tests.conftest import make_comment, make_page

ZONE = ZoneInfo("Asia/Taipei")


def _comment_hours(db) -> list[tuple]:
    return [(row.hour, row.article_id, row.approved, row.pending, row.rejected, row.spam, row.held_on_arrival)
            for row in db.session.scalars(select(CommentHour).order_by(CommentHour.hour, CommentHour.article_id))]


def _decision_buckets(db) -> list[tuple]:
    return [(row.hour, row.moderator_id, row.bucket, row.decisions)
            for row in db.session.scalars(select(DecisionTimeHour).order_by(DecisionTimeHour.bucket))]


def test_posts_and_decisions_keep_the_hourly_counts_and_a_rebuild_agrees(app, admin, db, clock):
    for number in range(3):
        make_page(app).post(body=f"第 {number} 則讀者意見，寫得很認真", nickname=f"讀者{number}")
    waiting = db.session.scalars(select(Comment).order_by(Comment.id)).all()
    assert [comment.status for comment in waiting] == [CommentStatus.PENDING] * 3  # pre-moderation
    clock.advance(minutes=10)
    admin.decide(waiting[0], "approve")
    admin.decide(waiting[1], "reject", reason="off_topic")

    hour = rollups.hour_of(clock.now - timedelta(minutes=10))
    article_id = waiting[0].article_id
    assert _comment_hours(db) == [(hour, article_id, 1, 1, 1, 0, 3)]
    boss = db.session.scalar(select(Moderator.id).where(Moderator.name == "boss"))
    assert _decision_buckets(db) == [(rollups.hour_of(clock.now), boss, rollups.bucket_of(600), 2)]

    incremental = (_comment_hours(db), _decision_buckets(db))
    rollups.rebuild(db.session)
    db.session.commit()
    assert (_comment_hours(db), _decision_buckets(db)) == incremental


def test_a_rule_hit_approved_anyway_counts_toward_its_false_hit_rate(app, admin, db, clock):
    make_page(app).post(body="我的微信號是 abc123，歡迎來聊")  # 微信號: a hold rule of the starter list
    held = db.session.scalar(select(Comment))
    assert held.status is CommentStatus.PENDING
    admin.decide(held, "approve")
    rules = dashboard.top_rules(db.session, dashboard.period(dashboard.Span.DAY, now=clock(), zone=ZONE), limit=10)
    assert [(row.term, row.hits, row.approved, row.false_hit_rate) for row in rules] == [("微信號", 1, 1, 1.0)]
    html = admin.client.get("/moderation/dashboard/").get_data(as_text=True)
    assert "微信號" in html and "100.0%" in html


def test_waits_give_the_median_and_90th_percentile_within_the_histograms_precision(db, admin_account, clock):
    posted = clock.now - timedelta(hours=2)
    waits = [60] * 5 + [600] * 4 + [3600]
    for wait in waits:
        rollups.comment_moved(db.session, 1, article_id=1, created_at=posted, from_status=CommentStatus.PENDING,
                              to_status=CommentStatus.APPROVED, moderator_id=admin_account.id,
                              now=posted + timedelta(seconds=wait))
    db.session.commit()
    slots, moderators = dashboard.decision_times(
        db.session, dashboard.period(dashboard.Span.WEEK, now=clock(), zone=ZONE), ZONE)
    assert sum(row.times.decisions for row in slots) == 10
    [boss] = moderators
    assert boss.name == "boss" and boss.times.decisions == 10
    assert boss.times.median_seconds == pytest.approx(60, rel=0.12)
    assert boss.times.p90_seconds == pytest.approx(600, rel=0.12)


def test_reports_are_counted_by_reason_and_by_what_became_of_them(db, admin, clock):
    removed = make_comment(db, status=CommentStatus.APPROVED, created_at=clock.now - timedelta(hours=1))
    still_open = make_comment(db, status=CommentStatus.APPROVED, created_at=clock.now - timedelta(hours=1))
    for comment, reporter in ((removed, "c"), (removed, "d"), (still_open, "e")):
        db.session.add(CommentReport(comment_id=comment.id, reason=ReportReason.ABUSE, reporter_hash=reporter * 64,
                                     reporter_ip_hash=reporter * 64, created_at=clock.now - timedelta(minutes=30)))
    db.session.commit()
    decide(db.session, removed.id, Decision.REJECT, expected_version=removed.version, actor=Actor("boss"),
           now=clock(), reason=RejectReason.ABUSE)
    rows = dashboard.reports(db.session, dashboard.period(dashboard.Span.DAY, now=clock(), zone=ZONE))
    assert [(row.reason, row.open, row.kept, row.removed) for row in rows] == [("abuse", 1, 0, 2)]
    page = admin.client.get("/moderation/dashboard/?span=day").get_data(as_text=True)
    chart = re.search(r'<svg[^>]*>(?:(?!</svg>).)*?人身攻擊(?:(?!</svg>).)*</svg>', page, re.S)
    assert chart and "abuse" not in chart.group()  # the chart's axis worded as its table


def test_the_queue_sample_keeps_each_hours_largest_queue_and_longest_wait(db, clock):
    make_comment(db, created_at=clock.now - timedelta(minutes=90))
    rollups.sample_queue(db.session, now=clock())
    make_comment(db, created_at=clock.now)
    rollups.sample_queue(db.session, now=clock())
    db.session.commit()
    sample = db.session.scalar(select(QueueSample))
    assert (sample.pending, sample.oldest_wait_seconds) == (2, 90 * 60)
    clock.advance(minutes=5)
    db.session.execute(Comment.__table__.update().values(status=CommentStatus.APPROVED))
    rollups.sample_queue(db.session, now=clock())
    db.session.commit()
    db.session.expire_all()
    assert db.session.scalar(select(QueueSample.pending)) == 2  # the hour's largest stays


def test_the_page_draws_each_chart_as_an_image_with_a_table_beside_it(app, admin, db, clock):
    make_page(app).post(body="第一則留言，內容很長很清楚")
    html = admin.client.get("/moderation/dashboard/?range=24h").get_data(as_text=True)
    assert html.count('role="img"') >= 3
    for chart_id in ("outcomes", "queue", "queue-age", "decision-times"):
        assert f'<title id="chart-{chart_id}-title">' in html and f'aria-labelledby="chart-{chart_id}-title' in html
    assert html.count("<table") >= 7
    assert "每小時的評論（依目前結果）" in html and 'aria-current="page">最近 24 小時' in html
    assert "時間以 UTC+8, Asia/Taipei 顯示" in html  # the zone's offset first, then its name
    assert "共 1 則：已公開 0、待審中 1" in html  # the chart's description says the totals
    # The queue's part has two charts: each says what it is, on the page as well.
    assert '<p class="chart-caption" aria-hidden="true">待審評論數（各時段最多）</p>' in html
    assert '<p class="chart-caption" aria-hidden="true">最久的待審評論已等（分鐘，各時段最長）</p>' in html
    week = admin.client.get("/moderation/dashboard/?range=30d").get_data(as_text=True)
    assert "每日的評論（依目前結果）" in week and week.count("<tr><th scope=\"row\">2026-") >= 60


def test_an_unknown_period_is_said_and_the_last_24_hours_shown(admin):
    response = admin.client.get("/moderation/dashboard/", query_string={"range": "<b>forever</b>"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "沒有「&lt;b&gt;forever&lt;/b&gt;」這個期間，以下是最近 24 小時。" in html


@pytest.mark.parametrize(("language", "heading"), [("zh-Hant", "儀表板"), ("zh-Hans", "仪表板"), ("en", "Dashboard")])
def test_the_dashboard_speaks_each_language(admin, language, heading):
    admin.client.set_cookie(LANGUAGE_COOKIE, language)
    html = admin.client.get("/moderation/dashboard/").get_data(as_text=True)
    assert f"<h1>{heading}</h1>" in html


def test_moderators_see_the_dashboard_without_figures_per_moderator(moderator, admin):
    html = moderator.client.get("/moderation/dashboard/").get_data(as_text=True)
    assert "<h1>儀表板</h1>" in html and "各版主" not in html
    assert moderator.client.get("/moderation/dashboard/moderators.csv").status_code == 404
    assert "各版主" in admin.client.get("/moderation/dashboard/").get_data(as_text=True)
    assert moderator.client.get("/moderation/dashboard/outcomes.csv").status_code == 200


def test_signed_out_readers_get_no_dashboard(client):
    assert client.get("/moderation/dashboard/").status_code in (302, 303, 401)
    assert client.get("/moderation/dashboard/outcomes.csv").status_code in (302, 303, 401)


def test_each_table_downloads_as_csv_with_formula_cells_defused(app, admin, db):
    article = db.session.scalar(select(Article))
    article.title = "=HYPERLINK(\"http://evil\")"
    db.session.commit()
    make_page(app).post(body="一則留言，讓文章上榜看看")
    for name in TABLES:
        response = admin.client.get(f"/moderation/dashboard/{name}.csv", query_string={"range": "7d"})
        assert response.status_code == 200 and response.mimetype == "text/csv", name
        assert f"dashboard-{name}-7d.csv" in response.headers["Content-Disposition"]
        text = response.get_data(as_text=True)
        assert text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(text[1:])))
        assert rows[0], name
    articles = list(csv.reader(io.StringIO(admin.client.get("/moderation/dashboard/articles.csv")
                                           .get_data(as_text=True)[1:])))
    assert articles[0] == ["article_id", "title", "comments", "held_on_arrival", "held_share"]
    assert articles[1][1:] == ["'=HYPERLINK(\"http://evil\")", "1", "1", "1.0000"]
    assert admin.client.get("/moderation/dashboard/nothing.csv").status_code == 404


def test_held_share_lists_only_articles_with_enough_comments(db, clock):
    article_id = db.session.scalar(select(Article.id))
    hour = rollups.hour_of(clock.now)
    db.session.add(CommentHour(hour=hour, article_id=article_id, approved=6, pending=4, rejected=0, spam=0,
                               held_on_arrival=7))
    db.session.commit()
    period = dashboard.period(dashboard.Span.DAY, now=clock(), zone=ZONE)
    by_count, by_share = dashboard.top_articles(db.session, period, limit=5)
    assert [(row.comments, row.held_share) for row in by_count] == [(10, 0.7)]
    assert [row.article_id for row in by_share] == [article_id]
    db.session.execute(CommentHour.__table__.update().values(approved=5))
    assert dashboard.top_articles(db.session, period, limit=5)[1] == []  # 9 comments: too few for a share


def test_rule_hours_follow_a_comment_into_and_out_of_approval(app, admin, db):
    make_page(app).post(body="我的微信號是 abc123，歡迎來聊")
    held = db.session.scalar(select(Comment))
    admin.decide(held, "approve")
    db.session.refresh(held)
    admin.decide(held, "spam")
    assert db.session.execute(select(RuleHour.hits, RuleHour.approved)).all() == [(1, 0)]


def run_as_job(app, started) -> None:
    """Re-screening and erasing are jobs (tests/test_long_jobs.py): run here, not in a thread."""
    assert run_long_job_in_app(app, int(started.location.rsplit("/", 1)[1])) == "done"


def test_erasing_an_author_takes_their_comments_out_of_the_counts(app, admin, db, clock):
    make_page(app).post(body="我的微信號是 abc123，歡迎來聊")  # held by a rule: counted as a hit
    make_page(app).post(body="另一位讀者的正常留言")
    erased = db.session.scalar(select(Comment).order_by(Comment.id))
    tag, erased_id = erased.author_hash[:8], erased.id
    app.config["JOBS_RUNNER"] = "off"
    app.extensions["jobs"] = runner_for(app)
    page = admin.client.get(f"/moderation/authors/{tag}")
    assert page.status_code == 200
    run_as_job(app, admin.post(f"/moderation/admin/authors/{tag}/erase", confirm=tag))
    db.session.expire_all()
    assert db.session.scalar(select(Comment.id).where(Comment.id == erased_id)) is None
    assert [row[2:] for row in _comment_hours(db)] == [(0, 1, 0, 0, 1)]
    assert db.session.execute(select(RuleHour.hits, RuleHour.approved)).all() == [(0, 0)]
    incremental = _comment_hours(db)
    rollups.rebuild(db.session)
    assert _comment_hours(db) == incremental


def test_a_comment_held_and_spammed_by_two_rules_arrived_as_spam_not_held(app, admin, db, clock):
    """The strongest rule decides how it arrived: held on arrival stays 0 when it is erased and when
    the counts are rebuilt (a hold reason beside a spam one once made the held count -1)."""
    make_page(app).post(body="我的微信號是 abc123，加微信聊")  # 微信號: hold; 加微信: spam
    spammed = db.session.scalar(select(Comment))
    assert spammed.status is CommentStatus.SPAM
    assert [row[2:] for row in _comment_hours(db)] == [(0, 0, 0, 1, 0)]
    rollups.rebuild(db.session)
    assert [row[2:] for row in _comment_hours(db)] == [(0, 0, 0, 1, 0)]
    app.config["JOBS_RUNNER"] = "off"
    app.extensions["jobs"] = runner_for(app)
    tag = spammed.author_hash[:8]
    run_as_job(app, admin.post(f"/moderation/admin/authors/{tag}/erase", confirm=tag))
    db.session.expire_all()
    assert [row[2:] for row in _comment_hours(db)] == [(0, 0, 0, 0, 0)]


def test_an_import_rebuilds_the_rollups_and_keeps_surges_and_clusters(app, db, clock, tmp_path):
    from moderation.extensions import db as _db
    from moderation.models import CommentCluster, Surge
    from moderation.services import transfer

    article_id = db.session.scalar(select(Article.id))
    surge = Surge(article_id=article_id, cause="cluster", details={"authors": 3}, started_at=clock.now,
                  last_seen_at=clock.now, previous_mode="post")
    db.session.add(surge)
    db.session.flush()
    cluster = CommentCluster(article_id=article_id, surge_id=surge.id, key="f" * 64, created_at=clock.now)
    db.session.add(cluster)
    db.session.commit()
    make_comment(db, cluster_id=cluster.id, created_at=clock.now)
    lines = list(transfer.export_lines(db.session))
    with app.app_context():
        for table in reversed(_db.metadata.sorted_tables):
            _db.session.execute(table.delete())
        counts = transfer.import_lines(_db.session, lines)
        _db.session.commit()
    assert counts["surge"] == 1 and counts["comment_cluster"] == 1 and counts["comment"] == 1
    db.session.expire_all()
    assert [row[2:] for row in _comment_hours(db)] == [(0, 1, 0, 0, 0)]  # no reason: not held on arrival
    assert db.session.scalar(select(Comment.cluster_id)) == cluster.id


def test_rescreening_moves_a_waiting_comments_hit_to_the_rule_that_now_matches(app, admin, db):
    make_page(app).post(body="這是新型廣告詞，別理它")
    app.config["JOBS_RUNNER"] = "off"
    app.extensions["jobs"] = runner_for(app)
    admin.post("/moderation/admin/rules/words", term="新型廣告詞", action="hold")
    run_as_job(app, admin.post("/moderation/admin/rules/rescreen"))
    db.session.expire_all()
    rule_id = db.session.scalar(select(Comment)).screening_reasons[-1].rule_id
    assert db.session.execute(select(RuleHour.rule_id, RuleHour.hits)).all() == [(rule_id, 1)]
    incremental = db.session.execute(select(RuleHour.rule_id, RuleHour.hits, RuleHour.approved)).all()
    rollups.rebuild(db.session)
    assert db.session.execute(select(RuleHour.rule_id, RuleHour.hits, RuleHour.approved)).all() == incremental
