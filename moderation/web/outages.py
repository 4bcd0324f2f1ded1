"""Database outages as readers and operators should see them: 503 with Retry-After, and one log
line when an outage starts and one when it ends (its cause, how long, how many 503s), not a
traceback per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import exc

# What a database that is down, restarting, stalled or unreachable raises through SQLAlchemy.
UNAVAILABLE = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError)

logger = logging.getLogger("moderation.web.outages")


# What PostgreSQL answers when it fails one transaction to let others on: a deadlock, a serialization
# failure, a lock waited for past `lock_timeout`. The database is up; only that request failed.
LOCK_CONFLICTS = frozenset({"40P01", "40001", "55P03"})


def is_lock_conflict(error: BaseException) -> bool:
    return getattr(getattr(error, "orig", None), "sqlstate", None) in LOCK_CONFLICTS


def is_database_outage(error: BaseException) -> bool:
    return isinstance(error, UNAVAILABLE) or (
        isinstance(error, exc.DBAPIError) and error.connection_invalidated
    )


def outage_cause(error: BaseException) -> str:
    """What an operator should look at: the pool (too few connections for the load), a stall (the
    link passes no bytes: partition, hung proxy or pooler), or a cut (refused, reset, closed)."""
    if isinstance(error, exc.TimeoutError):
        return "pool exhausted"
    text = str(error)
    if "did not answer" in text or "timeout expired" in text or "timed out" in text:
        return "stall"
    return "cut"


@dataclass
class OutageLog:
    """One worker's view of the current outage, if any."""

    clock: Callable[[], float] = time.monotonic
    _started: float | None = None
    _cause: str = ""
    _failures: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def failed(self, error: BaseException) -> None:
        with self._lock:
            self._failures += 1
            if self._started is not None:
                return
            self._started = self.clock()
            self._cause = outage_cause(error)
        logger.warning("database outage started (%s; %s: %s); answering 503 until it is back",
                       self._cause, type(error).__name__, _first_line(error))

    def conflicted(self, error: BaseException) -> None:
        """A lock conflict: one line for that request, no outage begun (the next request may pass)."""
        said = getattr(error, "orig", error)  # the driver's error: SQLAlchemy's wrapper only names it
        logger.warning("database lock conflict (%s: %s); that request answered 503, the database is up",
                       type(said).__name__, _first_line(said))

    def succeeded(self) -> None:
        if self._started is None:
            return
        with self._lock:
            if self._started is None:
                return
            seconds, failures, cause = self.clock() - self._started, self._failures, self._cause
            self._started, self._failures = None, 0
        logger.warning("database outage over (%s): %.1f s, %d requests answered 503", cause, seconds, failures)

    @property
    def in_outage(self) -> bool:
        return self._started is not None


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:200] if lines else ""
