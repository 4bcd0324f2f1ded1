"""/metrics: the Prometheus text format behind a token, figures from the process and from the
database, and the figures of several gunicorn workers added up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from moderation import create_app
from moderation.models import CommentStatus
from tests.conftest import make_comment

TOKEN = "scrape-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def app_config(app_config):
    return {**app_config, "METRICS_TOKEN": TOKEN}


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    assert response.headers["Cache-Control"] == "no-store"
    return samples(response.get_data(as_text=True))


def test_metrics_answer_only_a_scraper_with_the_token(client, app):
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-it"})
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Bearer")
    assert "moderation_" not in wrong.get_data(as_text=True)
    app.config["METRICS_TOKEN"] = None
    assert client.get("/metrics", headers=AUTH).status_code == 404


def test_posting_deciding_and_failing_the_captcha_are_counted(client, page, moderator, db):
    before = scrape(client)
    assert page.post(answer="WRONG").status_code == 422 and "請輸入正確驗證碼" in page.html
    page.open_form()
    assert page.post(body="想要的話請加微信聊").status_code == 303  # a starter rule: spam
    comment = make_comment(db)
    moderator.post(f"/moderation/comments/{comment.id}/decide", decision="approve", version=comment.version)
    after = scrape(client)

    def grew(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("moderation_captcha_failures_total", cause="wrong") == 1
    assert grew("moderation_comments_posted_total", status="spam") == 1
    assert grew("moderation_decisions_total", decision="approve", moderator="mod") == 1
    assert grew("moderation_screening_duration_seconds_count") == 1
    assert grew("moderation_http_request_duration_seconds_count", endpoint="reader.post_comment", method="POST",
                status="303") == 1


def test_the_queue_and_the_open_reports_are_read_from_the_database(client, db, clock):
    make_comment(db, created_at=clock() - timedelta(hours=2))
    make_comment(db, created_at=clock() - timedelta(minutes=5))
    make_comment(db, status=CommentStatus.APPROVED, created_at=clock() - timedelta(days=3))
    figures = scrape(client)
    assert figures[("moderation_database_up", ())] == 1
    assert figures[("moderation_queue_pending", ())] == 2
    assert figures[("moderation_queue_oldest_pending_age_seconds", ())] == 7200
    assert figures[("moderation_reports_open", ())] == 0
    assert figures[("moderation_webhook_deliveries", (("state", "failed"),))] == 0


def test_a_database_that_does_not_answer_is_said_and_the_scrape_still_succeeds(tmp_path):
    from tests.test_production import UNREACHABLE_DATABASE

    app = create_app({"TESTING": True, "DATABASE_URL": UNREACHABLE_DATABASE, "INSTANCE_PATH": str(tmp_path),
                      "SECRET_KEY": "k", "IP_PEPPER": "p", "METRICS_TOKEN": TOKEN,
                      "DATABASE_CONNECT_TIMEOUT_SECONDS": 1})
    figures = scrape(app.test_client())
    assert figures[("moderation_database_up", ())] == 0
    assert ("moderation_queue_pending", ()) not in figures


def test_a_workers_file_still_empty_does_not_fail_the_scrape(client, tmp_path, monkeypatch):
    """A worker creates its figures' file empty and sizes it a moment later: a scrape in between
    answered 500 (seen once under load in the suite)."""
    from prometheus_client.mmap_dict import MmapedDict, mmap_key

    written = MmapedDict(str(tmp_path / "counter_101.db"))
    written.write_value(mmap_key("moderation_comments_posted_total", "moderation_comments_posted_total",
                                 ["status"], ["pending"], "Comments stored."), 4.0, 0.0)
    written.close()
    (tmp_path / "counter_102.db").touch()  # the other worker, between creating its file and sizing it
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    assert scrape(client)[("moderation_comments_posted_total", (("status", "pending"),))] == 4.0


@pytest.mark.committing
def test_gunicorn_workers_figures_are_added_up(tmp_path, database_url):
    from tests.servers import ROOT, Browser, app_server

    config = {"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "k",
              "IP_PEPPER": "p", "REQUEST_LOG": False, "METRICS_TOKEN": TOKEN,
              "CAPTCHA_TEXT_FACTORY": None}
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    with app_server(config, workers=2, gunicorn_conf=ROOT / "gunicorn.conf.py", env=env) as (base, _):
        browser = Browser()
        for _ in range(30):
            assert browser.get(base + "/healthz").status == 200
        counts = set()
        for _ in range(6):  # whichever worker answers, it reports both workers' requests
            reply = browser.get(base + "/metrics", headers=AUTH)
            assert reply.status == 200
            key = ("moderation_http_request_duration_seconds_count",
                   (("endpoint", "health.healthz"), ("method", "GET"), ("status", "200")))
            counts.add(samples(reply.body)[key])
    # The first answer (the wait for the server to start) also asked /healthz.
    assert len(counts) == 1 and counts.pop() >= 30

