"""How the app talks to its database: timeouts, pool checks and per-backend settings.

A database that is down or stalled must cost a request seconds, not a worker. The server's own
limits (`statement_timeout`, `lock_timeout`) only help while bytes reach it; a link that stops
passing bytes without closing (a partition, a hung proxy or pooler, a frozen VM) is seen only by
the client. So every PostgreSQL round trip is bounded here, on the client side:

- connecting: DATABASE_CONNECT_TIMEOUT_SECONDS (psycopg applies it to the whole handshake);
- each query, commit and rollback: DATABASE_ANSWER_TIMEOUT_SECONDS (`AnswerDeadlineConnection`),
  after which the connection is closed and the request gets the 503 of any outage;
- the check of a pooled connection before use: DATABASE_PING_TIMEOUT_SECONDS, shorter, so that a
  stalled pool costs a request a ping and a connect attempt, not a full answer timeout; a connection
  given back less than DATABASE_PING_AFTER_IDLE_SECONDS ago goes unchecked (it answered a moment
  ago: under load no request pays the ping's round trip; its first statement bears the answer
  timeout instead);
- the kernel gives up on a peer that stops acknowledging (`tcp_user_timeout`, keepalives);
- waiting for a free pooled connection: DATABASE_POOL_TIMEOUT_SECONDS.

On the server's side, a session left idle in a transaction by a client that vanished is ended after
DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS, and server keepalives notice a dead client: its locks
(a poster's advisory lock, a captcha row) are not held for the hours TCP would take.

`answer_deadline(seconds)` shortens all of these for a block (the readiness probe uses it).
SQLite's one wait, for another writer's lock, is bounded by the statement timeout.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import sqlalchemy
from sqlalchemy import event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("database_deadline", default=None)


@contextmanager
def answer_deadline(seconds: float) -> Iterator[None]:
    """Every database round trip inside the block ends within `seconds` from now, in all."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def _limit(default: float) -> float:
    deadline = _deadline.get()
    if deadline is None:
        return default
    return max(0.0, min(default, deadline - time.monotonic()))


def engine_options(url: str, config: Mapping) -> dict:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": config["DATABASE_STATEMENT_TIMEOUT_MS"] / 1000}}
    options: dict = {"pool_timeout": config["DATABASE_POOL_TIMEOUT_SECONDS"]}
    if url.startswith("postgresql"):
        answer_ms = int(config["DATABASE_ANSWER_TIMEOUT_SECONDS"] * 1000)
        options["connect_args"] = {
            "connect_timeout": config["DATABASE_CONNECT_TIMEOUT_SECONDS"],
            # The server's side of the same: a session whose client vanished mid-transaction (a
            # partition, a killed worker) gives its locks back instead of blocking every poster.
            "options": f"-c statement_timeout={int(config['DATABASE_STATEMENT_TIMEOUT_MS'])}"
                       f" -c lock_timeout={int(config['DATABASE_LOCK_TIMEOUT_MS'])}"
                       f" -c idle_in_transaction_session_timeout={int(config['DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS'])}"
                       " -c tcp_keepalives_idle=10 -c tcp_keepalives_interval=3 -c tcp_keepalives_count=3",
            # A peer that stops acknowledging what we send: the kernel closes the link.
            "tcp_user_timeout": answer_ms,
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 3,
            "keepalives_count": 3,
        }
    else:
        options["pool_pre_ping"] = True
    return options


def configure_engine(engine: sqlalchemy.Engine, config: Mapping) -> None:
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    elif engine.dialect.driver == "psycopg":
        _bound_every_round_trip(engine, answer_timeout=config["DATABASE_ANSWER_TIMEOUT_SECONDS"],
                                ping_timeout=config["DATABASE_PING_TIMEOUT_SECONDS"],
                                connect_timeout=config["DATABASE_CONNECT_TIMEOUT_SECONDS"],
                                ping_after_idle=config["DATABASE_PING_AFTER_IDLE_SECONDS"])


def _bound_every_round_trip(engine: sqlalchemy.Engine, *, answer_timeout: float, ping_timeout: float,
                            connect_timeout: float, ping_after_idle: float) -> None:
    from moderation.database_psycopg import AnswerDeadlineConnection, ping

    @event.listens_for(engine, "do_connect")
    def connect(dialect, record, cargs, cparams):
        cparams["connect_timeout"] = max(2, round(_limit(connect_timeout)))  # libpq's floor is 2 s
        connection = AnswerDeadlineConnection.connect(*cargs, **cparams)
        connection.answer_timeout = answer_timeout
        return connection

    @event.listens_for(engine, "connect")
    def fresh(dbapi_connection, record):
        record.info["fresh"] = True

    @event.listens_for(engine, "checkin")
    def given_back(dbapi_connection, record):
        record.info["given_back_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def check_before_use(dbapi_connection, record, proxy):
        """SQLAlchemy's pre-ping, with its own short deadline: a pooled connection that does not
        answer within it is discarded, and the pool makes a new one (or the request gets a 503).
        Not for a new connection, nor one given back within `ping_after_idle` seconds."""
        if record.info.pop("fresh", False):
            return
        given_back_at = record.info.get("given_back_at")
        if given_back_at is not None and time.monotonic() - given_back_at < ping_after_idle:
            return
        ping(dbapi_connection, within=ping_timeout)


def statements_stand_alone(session: Session) -> None:
    """Bind the session, for a request that only reads or whose one write is one statement (a like
    on PostgreSQL), to a connection outside a transaction: on PostgreSQL its statements go without
    the BEGIN and COMMIT or ROLLBACK around them (a cached article page is asked for in two round
    trips, the pool's ping and its state, instead of four). Each statement still sees what was
    committed before it began, as under READ COMMITTED, and commits on its own. SQLite's driver begins
    no transaction for a read, so there is nothing to save there. A session already in a
    transaction, or bound to one connection (the tests' rolled-back one), is left as it is."""
    bind = session.get_bind()
    if session.in_transaction() or not isinstance(bind, sqlalchemy.Engine) or bind.dialect.name != "postgresql":
        return
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def database_reachable(engine: sqlalchemy.Engine, *, within: float) -> bool:
    try:
        with answer_deadline(within), engine.connect() as connection:
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
