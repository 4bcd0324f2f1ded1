"""Blueprint for load balancers: /healthz (the process answers) and /readyz (it can serve).

Neither touches the session nor writes anything; both are never cached. /healthz never touches the
database; /readyz asks it within READINESS_TIMEOUT_SECONDS, so a probe of a stalled database costs
a worker that long and no more. While the drain file exists, /readyz answers 503 "draining": a
load balancer stops sending new requests before the server is stopped. A disk nearly full under the
instance folder is a warning (`warnings: ["disk_low"]`), not unreadiness: pages are still read. So
is Redis unreachable (`"redis_unreachable"`): readers post and like, moderators decide, rate limits
fall back to each worker's memory and deliveries wait in the outbox; a load balancer that took every
server out for it would turn an optional service's outage into the site's.
"""

from __future__ import annotations

import shutil
from pathlib import Path

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
    config = current_app.config
    if draining():
        response = jsonify(status="draining", checks={})
        response.headers["Retry-After"] = str(config["OUTAGE_RETRY_AFTER_SECONDS"])
        return _no_store(response, 503)
    within = config["READINESS_TIMEOUT_SECONDS"]
    checks = {"database": database_reachable(db.engine, within=within)}
    if config["REDIS_URL"]:
        checks["redis"] = _redis_reachable(config["REDIS_URL"], within=within)
    ready = checks["database"]  # without Redis the server still serves (see the module's docstring)
    warnings = [*(["redis_unreachable"] if checks.get("redis") is False else []),
                *(["disk_low"] if disk_free_bytes() < config["DISK_LOW_BYTES"] else [])]
    response = jsonify(
        status="ready" if ready else "unavailable",
        checks={name: "ok" if ok else "unreachable" for name, ok in checks.items()},
        warnings=warnings,
    )
    if not ready:
        response.headers["Retry-After"] = str(config["OUTAGE_RETRY_AFTER_SECONDS"])
    return _no_store(response, 200 if ready else 503)


def disk_free_bytes() -> int:
    """Free bytes on the instance folder's disk (where SQLite, exports and uploads are written), or
    on the disk it would be made on while it does not exist yet."""
    folder = Path(current_app.instance_path)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return 0


def draining() -> bool:
    name = current_app.config["DRAIN_FILE"]
    return bool(name) and (Path(current_app.instance_path) / name).exists()


def _redis_reachable(url: str, *, within: float) -> bool:
    clients = current_app.extensions.setdefault("readiness_redis", {})
    client = clients.get(url)
    if client is None:
        client = clients[url] = redis.Redis.from_url(url, socket_connect_timeout=within, socket_timeout=within)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def _no_store(response, status: int):
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
