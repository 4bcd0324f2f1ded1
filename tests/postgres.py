"""A PostgreSQL database of one's own: created for a test run or a benchmark, dropped after it.

Two runs against one server never share tables, so they cannot deadlock on each other's schema
or see each other's rows.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy
from sqlalchemy.engine import make_url

from moderation.config import sqlalchemy_url


@contextmanager
def temporary_database(server_url: str, *, prefix: str = "moderation_test") -> Iterator[str]:
    """Yield the URL of a new, empty database on the server of `server_url`; drop it afterwards."""
    url = make_url(sqlalchemy_url(server_url))
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    admin = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
            connection.execute(sqlalchemy.text(f'ALTER DATABASE "{name}" SET synchronous_commit TO off'))
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def client_trace(engine: sqlalchemy.Engine, path) -> Iterator[list[list[str]]]:
    """libpq's own trace of what the client sent on connections checked out in the block (from
    before the pool's ping): yields a list filled, when the block ends, with the client's messages
    split at tabs (`["F", length, "Query", …]`); the whole trace stays in the file at `path`."""
    from psycopg import pq
    from sqlalchemy import event

    def traced(dbapi_connection, record, proxy):
        dbapi_connection.pgconn.trace(out.fileno())
        dbapi_connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)

    def untraced(dbapi_connection, record):
        dbapi_connection.pgconn.untrace()

    sent: list[list[str]] = []
    with open(path, "w") as out:
        event.listen(engine, "checkout", traced, insert=True)
        event.listen(engine, "checkin", untraced)
        try:
            yield sent
        finally:
            event.remove(engine, "checkout", traced)
            event.remove(engine, "checkin", untraced)
    sent.extend(line.split("\t") for line in Path(path).read_text().splitlines() if line.startswith("F\t"))


def round_trips_in(sent: list[list[str]]) -> int:
    """How many times the client waited for the server, in a `client_trace`."""
    return len([message for message in sent if message[2] in ("Query", "Sync")])
