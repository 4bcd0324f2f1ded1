"""Redis configured but not answering: the rate limits fall back to each worker's memory (logged
once), so a reader still gets a captcha, posts and likes; nothing answers 500."""

from __future__ import annotations

import logging

import pytest

from moderation.extensions import limiter
from moderation.models import CommentStatus
from tests.conftest import ARTICLE_SLUG, ArticlePage, make_comment

NOTHING_LISTENS = "redis://127.0.0.1:1/0"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "REDIS_URL": NOTHING_LISTENS, "JOBS_RUNNER": "off"}


@pytest.fixture(autouse=True)
def limiter_on_its_own_storage_afterwards():
    """Flask-Limiter's extension is one per process and remembers a dead storage: the next test's app
    (another storage) must not start out counting in the fallback."""
    yield
    limiter._storage_dead = False


def test_a_reader_gets_a_captcha_posts_and_likes_while_redis_is_away(app, db, caplog):
    liked = make_comment(db, status=CommentStatus.APPROVED)
    page = ArticlePage(app.test_client())
    page.open_form()
    with caplog.at_level(logging.WARNING, logger="flask-limiter"):
        assert page.load_captcha().status_code == 200
        posted = page.post(solve=False, body="Redis 停了也能留言")
        like = page.client.post(f"/articles/{ARTICLE_SLUG}/comments/{liked.id}/like", data={"like": "1"},
                                headers={"Accept": "application/json"})
    assert posted.status_code == 303
    assert like.status_code == 200 and like.get_json()["liked"] is True
    fallbacks = [record for record in caplog.records if "falling back to in-memory" in record.getMessage()]
    assert len(fallbacks) == 1  # said once, not per request
