"""Blueprint for load balancers: /healthz (the process answers) and /readyz (it can serve).

Neither touches the session nor writes anything; both are never cached.
"""

from __future__ import annotations

import redis
from flask import Blueprint, current_app, jsonify

from moderation.database import database_reachable
from moderation.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return _no_store(jsonify(status="alive"), 200)


@bp.get("/readyz")
def readyz():
    checks = {"database": database_reachable(db.engine)}
    if current_app.config["REDIS_URL"]:
        checks["redis"] = _redis_reachable(current_app.config["REDIS_URL"])
    ready = all(checks.values())
    response = jsonify(
        status="ready" if ready else "unavailable",
        checks={name: "ok" if ok else "unreachable" for name, ok in checks.items()},
    )
    if not ready:
        response.headers["Retry-After"] = str(current_app.config["OUTAGE_RETRY_AFTER_SECONDS"])
    return _no_store(response, 200 if ready else 503)


def _redis_reachable(url: str) -> bool:
    clients = current_app.extensions.setdefault("readiness_redis", {})
    client = clients.get(url)
    if client is None:
        client = clients[url] = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def _no_store(response, status: int):
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
