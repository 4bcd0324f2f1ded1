"""The comment moderation service: `create_app` builds a configured Flask app."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from moderation import cli, jobs, web
from moderation.config import load_config
from moderation.database import configure_engine
from moderation.extensions import csrf, db, limiter, migrate
from moderation.ids import IdConverter
from moderation.services.rulebook.cache import RulesCache
from moderation.web import errors
from moderation.web.page_cache import RenderedPages

PACKAGE_DIR = Path(__file__).resolve().parent
MIGRATIONS = PACKAGE_DIR / "migrations"


def _source_checkout() -> Path | None:
    """The repository, when running from it (templates/ and static/ beside the package)."""
    root = PACKAGE_DIR.parent
    return root if (root / "pyproject.toml").exists() and (root / "templates").is_dir() else None


def _asset_root() -> Path:
    """templates/ and static/: the repository's when running from it, else the wheel's copies."""
    return _source_checkout() or PACKAGE_DIR


def _instance_path() -> str | None:
    """MODERATION_INSTANCE_PATH, else the checkout's instance/, else Flask's default for an
    installed package (<prefix>/var/moderation-instance)."""
    if os.environ.get("MODERATION_INSTANCE_PATH"):
        return os.environ["MODERATION_INSTANCE_PATH"]
    checkout = _source_checkout()
    return str(checkout / "instance") if checkout else None


def create_app(config: dict | None = None) -> Flask:
    assets = _asset_root()
    app = Flask(
        __name__,
        instance_path=_instance_path(),
        instance_relative_config=True,
        template_folder=str(assets / "templates"),
        static_folder=str(assets / "static"),
    )
    if config and config.get("INSTANCE_PATH"):
        app.instance_path = config["INSTANCE_PATH"]
        app.config.root_path = app.instance_path
    load_config(app, config)

    app.url_map.converters["id"] = IdConverter
    if app.config["TEMPLATE_BYTECODE_CACHE"] is not None:
        app.jinja_env.bytecode_cache = app.config["TEMPLATE_BYTECODE_CACHE"]
    if app.config["TRUSTED_PROXY_COUNT"]:
        count = int(app.config["TRUSTED_PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine, app.config)
        errors.watch_database(db.engine)
    app.extensions["screening_rules"] = RulesCache()
    app.extensions["article_pages"] = RenderedPages(app.config["ARTICLE_PAGE_CACHE_SIZE"])
    web.register(app)  # first: its malformed-body check must run before CSRFProtect parses the form
    csrf.init_app(app)
    web.embed.install(app)  # after CSRFProtect: the frame's forms carry its state, not the session's token
    limiter.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS))
    jobs.init_app(app)  # webhook deliveries after commit (moderation/jobs)
    cli.register(app)
    return app
