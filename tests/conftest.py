"""Fixtures: a fresh app and database per test, on SQLite and (when reachable) PostgreSQL."""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import flask
import jinja2
import pytest
import sqlalchemy
import werkzeug.routing
from sqlalchemy.orm import Session

from moderation import create_app
from moderation.article_text import bundled_seed
from moderation.extensions import db as _db
from moderation.services.articles import load_article
from moderation.services.rulebook.starter import load_starter_rules
from tests.postgres import temporary_database

ARTICLE_SLUG = "inspection-testing-excellent-cases"
# argon2id still, at its lowest cost: a default-cost hash takes 0.15 s here, and most tests sign in.
CHEAP_PASSWORD_HASHES = {"PASSWORD_HASH_TIME_COST": 1, "PASSWORD_HASH_MEMORY_KIB": 8, "PASSWORD_HASH_PARALLELISM": 1}
CAPTCHA_TEXT = "K7PX"
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def pytest_collection_finish(session):
    """The garbage collector, tuned for a process that builds an app, its routes and its sessions
    for every test: what was imported before the first test is frozen out of its scans, and the
    youngest generation is collected every 50,000 new objects instead of 700: the queue, form,
    conversation, captcha, account and data tests took 17% less CPU. `TEST_GC_DEFAULTS=1` compares."""
    if os.environ.get("TEST_GC_DEFAULTS"):
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


# Modules whose tests take from ten seconds to a minute each (Chromium checking every page, the
# attack table, benchmark and drill smoke runs, real gunicorn servers), slowest first. They start
# the run, and workers take tests a few at a time (Makefile: --maxschedchunk), so that no worker is
# left finishing one of them alone while the other has nothing to do. Then the modules whose tests
# mostly wait (receivers, delivery threads, workers, cut connections, lock races): early, their waits
# leave the cores to the other workers; last (alphabetically, test_webhooks.py was), the run's last
# 15 seconds had the cores 60% busy.
RUN_FIRST = ("e2e/test_page_checks.py", "test_attack_inputs.py", "test_restarts.py", "test_several_servers.py",
             "test_api_schema.py", "test_scripts_smoke.py", "e2e/test_sanctions_browser.py", "e2e/test_jobs_browser.py",
             "e2e/test_embed_browser.py", "e2e/test_conversation_browser.py", "e2e/test_moderator_browser.py",
             "test_webhooks.py", "test_delivery_batches.py", "test_database_faults.py", "test_concurrency.py",
             "test_jobs.py", "test_alerts.py", "test_external_check.py", "test_long_jobs.py")
TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    renamed = [module for module in RUN_FIRST if not (TESTS / module).exists()]
    if renamed:
        raise pytest.UsageError(f"RUN_FIRST (tests/conftest.py) names modules that are gone: {renamed}")

    def rank(item) -> int:
        module = item.path.relative_to(TESTS).as_posix()
        return RUN_FIRST.index(module) if module in RUN_FIRST else len(RUN_FIRST)

    items.sort(key=rank)


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


@pytest.fixture
def redis_url():
    """The Redis the job-queue tests use; skips, saying why, when none answers."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({type(error).__name__}); set TEST_REDIS_URL")
    return REDIS_URL


@pytest.fixture
def receiver(clock):
    """A webhook receiver on loopback, checking signatures with `receivers.SECRET` (tests/receivers.py)."""
    from tests.receivers import SECRET, listening

    with listening(SECRET, clock) as running:
        yield running


@dataclass(frozen=True)
class PostgresForThisRun:
    shared_url: str | None  # schema created once; each test runs in a transaction rolled back after it
    scratch_url: str | None  # for `committing` tests, which build and drop their own schema
    skip_reason: str | None


@pytest.fixture(scope="session")
def postgres_database():
    """Two databases of this run's own on the PostgreSQL server, dropped at the end of the run."""
    reason = _postgres_unreachable_reason()
    if reason:
        yield PostgresForThisRun(None, None, reason)
        return
    with temporary_database(POSTGRES_URL) as shared, temporary_database(POSTGRES_URL) as scratch:
        yield PostgresForThisRun(shared, scratch, None)


def _committing(request) -> bool:
    return request.node.get_closest_marker("committing") is not None


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, postgres_database):
    if request.param == "postgresql" and postgres_database.skip_reason:
        pytest.skip(postgres_database.skip_reason)
    return request.param


@pytest.fixture
def database_url(request, backend, tmp_path, postgres_database, prepared_schemas):
    """A `committing` test gets an empty database of its own; any other test the shared one, whose
    schema and seed are built once per run."""
    if _committing(request):
        return f"sqlite:///{tmp_path / 'test.sqlite3'}" if backend == "sqlite" else postgres_database.scratch_url
    return prepared_schemas(backend)


@pytest.fixture(scope="session")
def prepared_schemas(tmp_path_factory, postgres_database):
    """backend → URL of a database with the schema, the seed article and the starter rules, committed."""
    prepared: dict[str, str] = {}

    def prepare(backend: str) -> str:
        if backend not in prepared:
            url = (f"sqlite:///{tmp_path_factory.mktemp('shared') / 'shared.sqlite3'}" if backend == "sqlite"
                   else postgres_database.shared_url)
            app = create_app({"DATABASE_URL": url, "SECRET_KEY": "k", "IP_PEPPER": "p",
                              "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance"))})
            with app.app_context():
                _db.drop_all()
                _create_schema_and_seed()
                _db.engine.dispose()
            prepared[backend] = url
        return prepared[backend]

    return prepare


def _create_schema_and_seed() -> None:
    _db.create_all()
    load_article(_db.session, bundled_seed(), slug=ARTICLE_SLUG)
    load_starter_rules(_db.session)
    _db.session.commit()


class TemplatesCompiledOnce(jinja2.BytecodeCache):
    """Jinja's compiled templates kept in memory for every app of a test process. Compiling the
    templates took half the time of an ordinary test; the key includes a checksum of the source."""

    def __init__(self) -> None:
        self._compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self._compiled:
            bucket.bytecode_from_string(self._compiled[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = TemplatesCompiledOnce()


class UrlRulesCompiledOnce(werkzeug.routing.Rule):
    """Werkzeug parses each rule into regular expressions and compiles two URL builder functions
    per rule from a generated syntax tree: two thirds of building an app, and the tests build one
    per test. What it makes depends only on the rule's text, its defaults and its converters' classes:
    kept here, apps share it; each app still gets its own converter objects."""

    _parsed: dict = {}
    _builders: dict = {}

    def compile(self) -> None:
        key = (self.rule, self.subdomain, self.host, self.merge_slashes, self.map.host_matching,
               tuple(sorted(self.map.converters.items())))
        parsed = self._parsed.get(key)
        if parsed is None:
            self._made_converters: list[tuple] = []
            super().compile()
            self._parsed[key] = (tuple(self._parts), tuple(self._trace), tuple(self._made_converters))
            return
        parts, trace, converters = parsed
        self._parts, self._trace = list(parts), list(trace)
        self._converters = {}
        for variable, name, args, kwargs in converters:
            self._converters[variable] = super().get_converter(variable, name, args, kwargs)
            self.arguments.add(variable)
        self._build = self._compile_builder(False).__get__(self, None)
        self._build_unknown = self._compile_builder(True).__get__(self, None)

    def get_converter(self, variable_name, converter_name, args, kwargs):
        self._made_converters.append((variable_name, converter_name, args, dict(kwargs)))
        return super().get_converter(variable_name, converter_name, args, kwargs)

    def _compile_builder(self, append_unknown: bool = True):
        key = (self.rule, tuple(self._trace), append_unknown, repr(sorted((self.defaults or {}).items())),
               tuple((name, type(converter)) for name, converter in self._converters.items()))
        builder = self._builders.get(key)
        if builder is None:
            builder = self._builders[key] = super()._compile_builder(append_unknown)
        return builder


@pytest.fixture(scope="session", autouse=True)
def url_rules_compiled_once():
    if not all(callable(getattr(werkzeug.routing.Rule, name, None)) for name in ("_compile_builder", "_parse_rule")):
        yield  # a Werkzeug without these methods: each app compiles its own, as in production
        return
    plain, flask.Flask.url_rule_class = flask.Flask.url_rule_class, UrlRulesCompiledOnce
    yield
    flask.Flask.url_rule_class = plain


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
        "TEMPLATE_BYTECODE_CACHE": COMPILED_TEMPLATES,
        "RATELIMIT_ENABLED": True,
        # The pool's ping left out for a connection given back within a minute: a test's requests
        # follow one another however slow the machine (the round-trip tests count on it).
        "DATABASE_PING_AFTER_IDLE_SECONDS": 60,
        # Tests change settings and post within one moment of their clock: read them on every post
        # (test_settings_cache.py checks the cache itself).
        "SETTINGS_CACHE_SECONDS": 0,
        **CHEAP_PASSWORD_HASHES,
    }


@pytest.fixture
def app(request, app_config, shared_engines):
    """A fresh app; no app context stays pushed (requests must not share `g`).

    By default the app's sessions, and the test's own (`db`), work inside one transaction on one
    connection, rolled back after the test: what they commit is a savepoint released. A test
    marked `committing` gets real commits on an empty database of its own, schema built for it.
    """
    app = create_app(app_config)
    if _committing(request):
        with app.app_context():
            _db.drop_all()
            _create_schema_and_seed()
        yield app
        app.extensions["jobs"].stop()  # a delivery thread must not outlive its database
        with app.app_context():
            _db.session.remove()
            _db.drop_all()
            _db.engine.dispose()
        return
    with app.app_context():
        own_engine = _db.engine
    engine = shared_engines.setdefault(_engine_key(app.config), own_engine)
    with rolled_back_connection(engine) as connection:
        engines = _db._app_engines[app]
        engines[None] = connection
        app.extensions["test_connection"] = TestConnection(engine, connection)
        yield app
        app.extensions["jobs"].stop()
        with app.app_context():
            _db.session.remove()
        engines[None] = own_engine
    if engine is not own_engine:
        own_engine.dispose()


def _engine_key(config) -> tuple:
    return tuple(sorted((key, repr(value)) for key, value in config.items()
                        if key.startswith(("DATABASE_", "SQLALCHEMY_"))))


@pytest.fixture(scope="session")
def shared_engines():
    """The engine of the first app of a test process on each database (and its settings), lent to
    every later app's rolled-back test: SQLAlchemy's compiled statements are kept per engine (a new
    engine per test compiled four in five statements again), and PostgreSQL's pooled connection is
    reused instead of a new server process per test."""
    engines: dict[tuple, sqlalchemy.Engine] = {}
    yield engines
    for engine in engines.values():
        engine.dispose()


@dataclass(frozen=True)
class TestConnection:
    engine: sqlalchemy.Engine
    connection: sqlalchemy.Connection


@contextmanager
def rolled_back_connection(engine: sqlalchemy.Engine) -> Iterator[sqlalchemy.Connection]:
    """One connection in one transaction, rolled back at the end; sessions join it with savepoints."""
    factory = _db.session.session_factory
    factory.kw["join_transaction_mode"] = "create_savepoint"
    connection = engine.connect()
    try:
        if engine.dialect.name == "sqlite":
            # pysqlite begins transactions itself, which breaks SAVEPOINT; let SQLAlchemy's BEGIN do it.
            connection.connection.driver_connection.isolation_level = None
            transaction = connection.begin()
            connection.exec_driver_sql("BEGIN")
        else:
            transaction = connection.begin()
        yield connection
        transaction.rollback()
    finally:
        connection.close()
        factory.kw.pop("join_transaction_mode", None)


@dataclass
class Database:
    """The test's own view of the app's database, outside any request."""

    session: Session
    engine: sqlalchemy.Engine


@pytest.fixture
def db(app):
    shared = app.extensions.get("test_connection")
    if shared is None:
        with app.app_context():
            engine = _db.engine
        session = Session(engine)
    else:
        engine = shared.engine
        session = Session(shared.connection, join_transaction_mode="create_savepoint")
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
    from moderation.models import Article, Comment, CommentStatus
    from moderation.services.listing import listing_changed

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
    from moderation.models import Role
    from moderation.services import accounts

    moderator = accounts.create_moderator(db.session, name, password, role=Role(role),
                                          hasher=accounts.hasher_for(CHEAP_PASSWORD_HASHES))
    db.session.commit()
    return moderator


class ModeratorBrowser:
    """A moderator's browser, through the test client."""

    def __init__(self, client):
        self.client = client
        self._csrf_token: str | None = None

    def login(self, name: str = "mod", password: str = PASSWORD):
        page = self.client.get("/moderation/login").get_data(as_text=True)
        self._csrf_token = None  # a new session, a new token
        return self.client.post(
            "/moderation/login", data={"csrf_token": csrf_token_of(page), "name": name, "password": password}
        )

    def csrf(self) -> str:
        """The session's CSRF token, read from a page once: it stays valid for the session (a page per
        post cost a fifth of the attack table's time)."""
        if self._csrf_token is None:
            self._csrf_token = csrf_token_of(self.client.get("/moderation/password").get_data(as_text=True))
        return self._csrf_token

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


def signed_in(client, account) -> ModeratorBrowser:
    """A browser holding what a successful sign-in leaves it: a session token of `account`'s. The sign-in
    form itself is tested in tests/test_moderator_accounts.py; through it, every fixture's sign-in
    rendered the form and checked a password (a twentieth of the queue and account tests' time)."""
    from moderation.services import accounts
    from moderation.web.guards import SESSION_KEY

    app = client.application
    with app.app_context():
        token = accounts.start_session(_db.session, _db.session.merge(account), now=app.config["CLOCK"](),
                                       lifetime=app.config["PERMANENT_SESSION_LIFETIME"])
        _db.session.commit()
    with client.session_transaction() as session:
        session.permanent = True
        session[SESSION_KEY] = token
    return ModeratorBrowser(client)


@pytest.fixture
def moderator(client, moderator_account):
    """A signed-in moderator."""
    return signed_in(client, moderator_account)


@pytest.fixture
def admin(app, admin_account):
    return signed_in(app.test_client(), admin_account)
