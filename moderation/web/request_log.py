"""One structured line per request: method, path, endpoint, status, duration and request id.

Never the client address, the query string, a header (an API key) or anything posted (comment text, nicknames,
passwords): the line is for operators, and readers' words belong only in the database.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time

from flask import Flask, g, request

logger = logging.getLogger("moderation.requests")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def register(app: Flask) -> None:
    if not app.config["REQUEST_LOG"]:
        return
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False

    @app.before_request
    def start_clock():
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response):
        request_id = _request_id()
        response.headers["X-Request-ID"] = request_id
        started = g.get("request_started")
        line = {
            "method": request.method,
            "path": request.path,
            "endpoint": request.endpoint,
            "status": response.status_code,
            "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
            "request_id": request_id,
        }
        if g.get("api_site"):  # the API key's site, never the key (web/api.py)
            line["site"] = g.api_site
        logger.info(json.dumps(line, ensure_ascii=False))
        return response


def _request_id() -> str:
    """The id a proxy in front gave the request (X-Request-ID), when well-formed; else a new one."""
    if "request_id" not in g:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)
    return g.request_id
