"""The comment moderation service: `create_app` builds a configured Flask app."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from moderation import errors
from moderation.config import load_config
from moderation.database import configure_engine
from moderation.extensions import csrf, db, limiter, migrate
from moderation.ids import IdConverter

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    if config and config.get("INSTANCE_PATH"):
        app.instance_path = config["INSTANCE_PATH"]
        app.config.root_path = app.instance_path
    load_config(app, config)

    app.url_map.converters["id"] = IdConverter
    if app.config["TRUSTED_PROXY_COUNT"]:
        count = int(app.config["TRUSTED_PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)

    # Before CSRFProtect: once the form is parsed, the raw body can no longer be checked.
    errors.register(app)
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    csrf.init_app(app)
    limiter.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS))

    from moderation import admin, cli, moderator, reader, rules_admin
    from moderation.page_cache import RenderedPages
    from moderation.screening_rules import RulesCache

    app.extensions["screening_rules"] = RulesCache()
    app.extensions["article_pages"] = RenderedPages(app.config["ARTICLE_PAGE_CACHE_SIZE"])

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
