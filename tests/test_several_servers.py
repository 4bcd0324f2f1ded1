"""Two app servers (two gunicorn processes, two ports) on one PostgreSQL and one Redis."""

from __future__ import annotations

import os
import re
import secrets

import pytest
import redis
from sqlalchemy import select

from moderation import create_app
from moderation.article_text import bundled_seed
from moderation.extensions import db
from moderation.models import Comment, CommentStatus, Role
from moderation.services import accounts
from moderation.services.articles import load_article
from tests.conftest import ARTICLE_SLUG, PASSWORD, POSTGRES_URL, csrf_token_of
from tests.postgres import temporary_database
from tests.server_app import CAPTCHA_TEXT
from tests.servers import Browser, app_server

pytestmark = pytest.mark.committing  # several servers share one database

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def shared_services(postgres_database, tmp_path):
    if postgres_database.skip_reason:
        pytest.skip(postgres_database.skip_reason)
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({type(error).__name__}); set TEST_REDIS_URL")
    with temporary_database(POSTGRES_URL, prefix="moderation_servers") as url:
        config = {
            "DATABASE_URL": url, "REDIS_URL": REDIS_URL, "INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": "shared-secret", "IP_PEPPER": "shared-pepper", "CAPTCHA_MIN_SECONDS": 0,
            "CAPTCHA_IMAGE_RATE_LIMIT": "3 per minute",
            "RATELIMIT_KEY_PREFIX": f"test-{secrets.token_hex(4)}",  # this run's counters only
            "REQUEST_LOG": False,
        }
        app = create_app({**config, "CAPTCHA_TEXT_FACTORY": lambda: CAPTCHA_TEXT})
        with app.app_context():
            db.create_all()
            load_article(db.session, bundled_seed(), slug=ARTICLE_SLUG)
            accounts.create_moderator(db.session, "mod", PASSWORD, role=Role.MODERATOR)
            db.session.commit()
        yield config, app
        with app.app_context():
            db.engine.dispose()


def test_two_servers_share_challenges_limits_and_decisions(shared_services, tmp_path):
    config, app = shared_services
    log = tmp_path / "gunicorn.log"
    with app_server(config, log=log) as (first, _), app_server(config, log=log) as (second, _):
        reader = Browser()
        state = reader.get(f"{first}/form-token")
        token = re.search(r'"csrf_token":\s*"([^"]+)"', state.body).group(1)
        challenge = re.search(r'"id":\s*"([^"]+)"', state.body).group(1)
        assert reader.get(f"{first}/captcha/{challenge}.png").status == 200

        # A challenge issued by the first server is checked by the second.
        posted = reader.post(f"{second}/articles/{ARTICLE_SLUG}/comments", {
            "csrf_token": token, "captcha_id": challenge, "captcha_answer": CAPTCHA_TEXT,
            "nickname": "兩台伺服器", "body": "負載平衡後面的評論", "action": "post"})
        assert posted.status == 303, posted.body[:500]

        # The image limit (3 a minute) holds across both: counted in Redis, not per process.
        statuses = [reader.get(f"{base}/captcha/{secrets.token_urlsafe(24)}.png").status
                    for base in (second, first, second)]
        assert statuses == [200, 200, 429]

        # A decision on one server is what readers of the other see at once.
        with app.app_context():
            comment = db.session.scalar(select(Comment))
        assert comment.status is CommentStatus.PENDING
        moderator = Browser()
        login = moderator.get(f"{first}/moderation/login")
        signed_in = moderator.post(f"{first}/moderation/login",
                                   {"csrf_token": csrf_token_of(login.body), "name": "mod", "password": PASSWORD})
        assert signed_in.status == 303
        queue = moderator.get(f"{first}/moderation/")
        decided = moderator.post(f"{first}/moderation/comments/{comment.id}/decide", {
            "csrf_token": csrf_token_of(queue.body), "decision": "approve", "version": comment.version,
            "back": "/moderation/"})
        assert decided.status == 303
        assert "負載平衡後面的評論" in Browser().get(f"{second}/articles/{ARTICLE_SLUG}").body
