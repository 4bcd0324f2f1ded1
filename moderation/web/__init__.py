"""The web layer: blueprints (one per audience), forms, guards, error pages and response headers.

Views parse the request, call one service and render; services flush and the view commits (only
`decisions.decide` commits itself, and what is built on it).
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from moderation.web import (
    admin,
    api,
    articles_admin,
    dashboard,
    data_admin,
    embed,
    errors,
    health,
    jobs_admin,
    languages,
    metrics,
    moderator,
    reader,
    request_log,
    rules_admin,
    sanctions,
    security_headers,
    template_filters,
    webhooks_admin,
)

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def register(app: Flask) -> None:
    request_log.register(app)
    languages.register(app, str(TRANSLATIONS))
    security_headers.register(app)
    # Before CSRFProtect: once the form is parsed, the raw body can no longer be checked.
    errors.register(app)
    for blueprint in (health.bp, reader.bp, moderator.bp, admin.bp, articles_admin.bp, rules_admin.bp, api.bp,
                      webhooks_admin.bp, jobs_admin.bp, data_admin.bp, sanctions.bp, dashboard.bp, embed.bp):  # webhooks_admin, jobs_admin: moderation/jobs
        app.register_blueprint(blueprint)
    template_filters.register(app)
    metrics.register(app)  # /metrics for the operator's Prometheus
    # Browsers ask for /favicon.ico on every site, whatever the page links.
    app.add_url_rule("/favicon.ico", "favicon", lambda: app.send_static_file("favicon.ico"))
