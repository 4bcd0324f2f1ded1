"""A psycopg connection whose every wait for the server ends: the client-side half of
`moderation.database`'s timeouts (imported only when the database is PostgreSQL)."""

from __future__ import annotations

import psycopg

# What psycopg's wait functions raise when their timeout expires (an OperationalError). Private to
# psycopg, hence this one import, pinned by tests/test_database_deadlines.py.
from psycopg.errors import _WaitTimeout
from sqlalchemy import exc

from moderation.database import _limit, answer_deadline


class DatabaseDidNotAnswer(psycopg.OperationalError):
    """The server did not answer within the deadline; the connection was closed."""


class AnswerDeadlineConnection(psycopg.Connection):
    answer_timeout: float = 7.0

    def wait(self, gen, interval: float = 0.1, timeout: float | None = None):
        limit = _limit(self.answer_timeout)
        if timeout is not None:
            limit = min(limit, timeout)
        try:
            return super().wait(gen, interval=interval, timeout=limit)
        except _WaitTimeout:
            # Half a conversation is on the wire: the connection cannot be used again.
            self.pgconn.finish()
            raise DatabaseDidNotAnswer(f"the database did not answer within {limit:.1f} s") from None


def ping(dbapi_connection: psycopg.Connection, *, within: float) -> None:
    """One empty statement, answered within `within` seconds, or the pool discards the connection.
    Sent outside a transaction (as SQLAlchemy's own pre-ping does): it opens none that the request
    would then have to use, so a request that only reads can do without one."""
    # psycopg refuses to switch a connection in a transaction: one left so is pinged inside it, as before.
    switched = (not dbapi_connection.autocommit
                and dbapi_connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE)
    try:
        if switched:
            dbapi_connection.autocommit = True
        with answer_deadline(within), dbapi_connection.cursor() as cursor:
            cursor.execute(";")
    except psycopg.Error as error:
        raise exc.DisconnectionError(f"pooled connection did not answer: {error}") from error
    finally:
        if switched and not dbapi_connection.closed:
            dbapi_connection.autocommit = False
