"""How the app talks to its database: per-backend connection settings."""

from __future__ import annotations

import sqlalchemy
from sqlalchemy import event


def configure_engine(engine: sqlalchemy.Engine) -> None:
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)


def _sqlite_pragmas(connection, record) -> None:
    """WAL lets readers go on while a comment is written; with it, synchronous=NORMAL is safe
    against corruption and saves an fsync per commit (a power cut may lose the last commits,
    never the file). busy_timeout makes concurrent writers from several workers wait, not fail."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
