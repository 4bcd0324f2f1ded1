"""The comment moderation service: `create_app` builds a configured Flask app."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from moderation import errors, requestlog, security_headers
from moderation.config import load_config
from moderation.database import configure_engine
from moderation.extensions import csrf, db, limiter, migrate
from moderation.ids import IdConverter

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
    if app.config["TRUSTED_PROXY_COUNT"]:
        count = int(app.config["TRUSTED_PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)

    requestlog.register(app)
    security_headers.register(app)
    # Before CSRFProtect: once the form is parsed, the raw body can no longer be checked.
    errors.register(app)
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
        errors.watch_database(db.engine)
    csrf.init_app(app)
    limiter.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS))

    from moderation import admin, cli, health, moderator, reader, rules_admin
    from moderation.page_cache import RenderedPages
    from moderation.screening_rules import RulesCache

    app.extensions["screening_rules"] = RulesCache()
    app.extensions["article_pages"] = RenderedPages(app.config["ARTICLE_PAGE_CACHE_SIZE"])

    app.register_blueprint(health.bp)
    app.register_blueprint(reader.bp)
    app.register_blueprint(moderator.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(rules_admin.bp)
    cli.register(app)
    _register_template_helpers(app)
    return app


def _register_template_helpers(app: Flask) -> None:
    zone = ZoneInfo(app.config["DISPLAY_TIMEZONE"])

    @app.template_filter("local_time")
    def local_time(moment):
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    @app.template_filter("ago")
    def ago(moment):
        """'2 分鐘前': how long ago, from the app's clock (flashed data carries ISO strings)."""
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        seconds = max(0, int((app.config["CLOCK"]() - moment).total_seconds()))
        for unit, size in (("天", 86400), ("小時", 3600), ("分鐘", 60)):
            if seconds >= size:
                return f"{seconds // size} {unit}前"
        return "剛剛"

    @app.template_filter("iso_time")
    def iso_time(moment):
        return moment.astimezone(zone).isoformat(timespec="minutes")
