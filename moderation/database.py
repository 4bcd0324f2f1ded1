"""How the app talks to its database: timeouts, pool checks and per-backend settings.

A database that is down or stalled must cost a request seconds, not a worker: connections time
out after DATABASE_CONNECT_TIMEOUT_SECONDS, statements after DATABASE_STATEMENT_TIMEOUT_MS, lock
waits after DATABASE_LOCK_TIMEOUT_MS (PostgreSQL), a pooled connection is checked before use
(pre-ping), and waiting for one from the pool is bounded. SQLite's one wait, for another writer's
lock, is bounded by the statement timeout.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy
from sqlalchemy import event, text
from sqlalchemy.exc import SQLAlchemyError


def engine_options(url: str, config: Mapping) -> dict:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": config["DATABASE_STATEMENT_TIMEOUT_MS"] / 1000}}
    options = {
        "pool_pre_ping": True,
        "pool_timeout": config["DATABASE_POOL_TIMEOUT_SECONDS"],
    }
    if url.startswith("postgresql"):
        options["connect_args"] = {
            "connect_timeout": config["DATABASE_CONNECT_TIMEOUT_SECONDS"],
            "options": f"-c statement_timeout={int(config['DATABASE_STATEMENT_TIMEOUT_MS'])}"
                       f" -c lock_timeout={int(config['DATABASE_LOCK_TIMEOUT_MS'])}",
        }
    return options


def configure_engine(engine: sqlalchemy.Engine) -> None:
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)


def database_reachable(engine: sqlalchemy.Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError:
        return False


def _sqlite_pragmas(connection, record) -> None:
    """WAL lets readers go on while a comment is written; with it, synchronous=NORMAL is safe
    against corruption and saves an fsync per commit (a power cut may lose the last commits,
    never the file). Concurrent writers from several workers wait for each other (the connection's
    timeout, see engine_options), not fail."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
