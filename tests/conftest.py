"""Fixtures: a fresh app and database per test, on SQLite and (when reachable) PostgreSQL."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy
from sqlalchemy.orm import Session

from moderation import create_app
from moderation.article import bundled_seed
from moderation.cli import load_article
from moderation.extensions import db as _db
from moderation.screening_rules import load_starter_rules
from tests.postgres import temporary_database

ARTICLE_SLUG = "inspection-testing-excellent-cases"
CAPTCHA_TEXT = "K7PX"
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://127.0.0.1:5432/test")


def _postgres_unreachable_reason() -> str | None:
    from moderation.config import sqlalchemy_url

    try:
        engine = sqlalchemy.create_engine(sqlalchemy_url(POSTGRES_URL), connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except Exception as error:  # any failure to connect means: skip, and say why
        return f"PostgreSQL not reachable at {POSTGRES_URL} ({type(error).__name__}); set TEST_DATABASE_URL"
    return None


@dataclass(frozen=True)
class PostgresForThisRun:
    url: str | None
    skip_reason: str | None


@pytest.fixture(scope="session")
def postgres_database():
    """A database of this run's own on the PostgreSQL server, dropped at the end of the run."""
    reason = _postgres_unreachable_reason()
    if reason:
        yield PostgresForThisRun(None, reason)
        return
    with temporary_database(POSTGRES_URL) as url:
        yield PostgresForThisRun(url, None)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, postgres_database):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    if postgres_database.skip_reason:
        pytest.skip(postgres_database.skip_reason)
    return postgres_database.url


@dataclass
class Clock:
    """A clock tests move by hand: no sleeping."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 24, 2, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def app_config(database_url, tmp_path, clock):
    """Override in a test module to change settings; the app fixture applies it."""
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret-key",
        "IP_PEPPER": "test-ip-pepper",
        "CAPTCHA_MIN_SECONDS": 0,
        "CAPTCHA_TEXT_FACTORY": lambda: CAPTCHA_TEXT,
        "CLOCK": clock,
        "RATELIMIT_ENABLED": True,
    }


@pytest.fixture
def app(app_config):
    """A fresh app and schema. No app context stays pushed: requests must not share `g`."""
    app = create_app(app_config)
    with app.app_context():
        _db.drop_all()
        _db.create_all()
        load_article(_db.session, bundled_seed(), slug=ARTICLE_SLUG)
        load_starter_rules(_db.session)
    yield app
    with app.app_context():
        _db.session.remove()
        _db.drop_all()
        _db.engine.dispose()


@dataclass
class Database:
    """The test's own view of the app's database, outside any request."""

    session: Session
    engine: sqlalchemy.Engine


@pytest.fixture
def db(app):
    with app.app_context():
        engine = _db.engine
    session = Session(engine)
    yield Database(session=session, engine=engine)
    session.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def challenge_id_of(html: str) -> str:
    return re.search(r'name="captcha_id" value="([^"]+)"', html).group(1)


def has_form_tokens(html: str) -> bool:
    return re.search(r'name="captcha_id" value="[^"]+"', html) is not None


class ArticlePage:
    """What a reader does on the article page, through the test client.

    The article page is shared and carries no token; as the page's script does when the reader
    starts writing (or as the form page does without JavaScript), `open_form` gets this browser's
    CSRF token and a captcha challenge.
    """

    def __init__(self, client, slug: str = ARTICLE_SLUG):
        self.client = client
        self.slug = slug
        self.url = f"/articles/{slug}"
        self.html = ""

    def open(self):
        response = self.client.get(self.url)
        assert response.status_code == 200
        self.html = response.get_data(as_text=True)
        return response

    def open_form(self):
        response = self.client.get(f"{self.url}/comment")
        assert response.status_code == 200
        self.html = response.get_data(as_text=True)
        return response

    def _form_html(self) -> str:
        if not has_form_tokens(self.html):
            self.open_form()
        return self.html

    @property
    def csrf_token(self) -> str:
        return csrf_token_of(self._form_html())

    @property
    def challenge_id(self) -> str:
        return challenge_id_of(self._form_html())

    def load_captcha(self, medium: str = "png"):
        """The browser fetching the captcha image: this creates the challenge."""
        return self.client.get(f"/captcha/{self.challenge_id}.{medium}")

    def post(self, *, solve: bool = True, answer: str = CAPTCHA_TEXT, **fields):
        """Fill in the form and send it; `solve` loads the captcha first, as a browser would."""
        if solve:
            assert self.load_captcha().status_code == 200
        data = {
            "csrf_token": self.csrf_token,
            "captcha_id": self.challenge_id,
            "captcha_answer": answer,
            "nickname": "讀者小林",
            "body": "這篇報導很有參考價值。",
            "action": "post",
        }
        data.update({key: value for key, value in fields.items() if value is not None})
        for key in [key for key, value in fields.items() if value is None]:
            data.pop(key, None)
        response = self.client.post(f"{self.url}/comments", data=data)
        self.html = response.get_data(as_text=True)
        return response


@pytest.fixture
def page(client):
    return ArticlePage(client)


def make_page(app) -> ArticlePage:
    """A second, independent browser."""
    return ArticlePage(app.test_client())


PASSWORD = "correct horse battery"


def make_comment(db: Database, **overrides):
    """A stored comment on the seed article; keyword arguments override any column."""
    from moderation.listing import listing_changed
    from moderation.models import Article, Comment, CommentStatus

    article = db.session.scalar(sqlalchemy.select(Article).where(Article.slug == ARTICLE_SLUG))
    values = {
        "article_id": article.id,
        "nickname": "讀者",
        "body": "一則評論",
        "status": CommentStatus.PENDING,
        "created_at": datetime(2026, 11, 24, 1, 0, tzinfo=UTC),
        "ip_hash": "a" * 64,
        "author_hash": "b" * 64,
    }
    values.update(overrides)
    comment = Comment(**values)
    db.session.add(comment)
    if comment.status is CommentStatus.APPROVED:  # as post_comment and decide() keep it
        listing_changed(db.session, comment.article_id, approved_delta=1)
    db.session.commit()
    return comment


def make_moderator(db: Database, name: str = "mod", *, role: str = "moderator", password: str = PASSWORD):
    from moderation import accounts
    from moderation.models import Role

    moderator = accounts.create_moderator(db.session, name, password, role=Role(role))
    db.session.commit()
    return moderator


class ModeratorBrowser:
    """A moderator's browser, through the test client."""

    def __init__(self, client):
        self.client = client

    def login(self, name: str = "mod", password: str = PASSWORD):
        page = self.client.get("/moderation/login").get_data(as_text=True)
        return self.client.post(
            "/moderation/login", data={"csrf_token": csrf_token_of(page), "name": name, "password": password}
        )

    def csrf(self) -> str:
        return csrf_token_of(self.client.get("/moderation/password").get_data(as_text=True))

    def post(self, url: str, **data):
        data.setdefault("csrf_token", self.csrf())
        return self.client.post(url, data=data)

    def queue(self, **params):
        response = self.client.get("/moderation/", query_string=params)
        assert response.status_code == 200, response.status_code
        return response.get_data(as_text=True)

    def decide(self, comment, decision: str, *, version: int | None = None, **data):
        return self.post(
            f"/moderation/comments/{comment.id}/decide",
            decision=decision,
            version=comment.version if version is None else version,
            back="/moderation/",
            **data,
        )


@pytest.fixture
def moderator_account(db):
    return make_moderator(db)


@pytest.fixture
def admin_account(db):
    return make_moderator(db, "boss", role="admin")


@pytest.fixture
def moderator(client, moderator_account):
    """A signed-in moderator."""
    browser = ModeratorBrowser(client)
    assert browser.login().status_code == 303
    return browser


@pytest.fixture
def admin(app, admin_account):
    browser = ModeratorBrowser(app.test_client())
    assert browser.login("boss").status_code == 303
    return browser
