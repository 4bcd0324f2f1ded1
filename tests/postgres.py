"""A PostgreSQL database of one's own: created for a test run or a benchmark, dropped after it.

Two runs against one server never share tables, so they cannot deadlock on each other's schema
or see each other's rows.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

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
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
