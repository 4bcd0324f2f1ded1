"""The WSGI apps the serving benchmark starts under gunicorn (`bench.apps:moderation_app`, …).

Both read their settings from the environment the benchmark sets, so every worker of a server
builds the same app.
"""

from __future__ import annotations

import json
import os

from flask import Flask, render_template_string

from moderation import create_app
from moderation.warm_up import warm_up

BENCH_CAPTCHA_TEXT = "K7PX"

# What the POST benchmark relaxes: prepared challenges are answered at once. Per-address limits
# stay as configured: each request names its own address in X-Forwarded-For, which the app
# trusts as it would behind one reverse proxy.
RELAXED = {
    "CAPTCHA_MIN_SECONDS": 0,
    "TRUSTED_PROXY_COUNT": 1,
}


def bench_config(settings: dict) -> dict:
    return {**settings, **RELAXED, "CAPTCHA_TEXT_FACTORY": lambda: BENCH_CAPTCHA_TEXT}


def _moderation_app():
    if "BENCH_APP_CONFIG" not in os.environ:
        return None
    app = create_app(bench_config(json.loads(os.environ["BENCH_APP_CONFIG"])))
    # What gunicorn.conf.py's post_worker_init does for each production worker (this module is
    # imported in each worker): without it a worker's first post compiled the screening rules, and
    # a one-second run on a loaded machine could end before any post was answered.
    warm_up(app)
    return app


CEILING_TEMPLATE = """<!doctype html>
<html lang="zh-Hant"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><main><h1>{{ title }}</h1>
{% for paragraph in paragraphs %}<p>{{ paragraph }}</p>
{% endfor %}</main></body></html>"""


def _ceiling_app():
    """The bare-Flask ceiling: one Jinja page of BENCH_CEILING_BYTES bytes, no database."""
    size = int(os.environ.get("BENCH_CEILING_BYTES", "10240"))
    sentence = "檢驗檢測是國家質量基礎設施的重要組成部分，儀器網報導。"
    per_paragraph = len(f"<p>{sentence * 4}</p>\n".encode())
    paragraphs = [sentence * 4] * max(1, (size - 200) // per_paragraph)
    app = Flask(__name__)

    @app.get("/")
    def page():
        return render_template_string(CEILING_TEMPLATE, title="天花板", paragraphs=paragraphs)

    return app


moderation_app = _moderation_app()
ceiling_app = _ceiling_app()
