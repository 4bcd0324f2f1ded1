"""Settings an admin changes rarely and every post reads (the external check, the webhook endpoints'
events, the address holds in force), kept per worker for SETTINGS_CACHE_SECONDS.

A change made on any worker (an admin's page, the command line, another server) takes effect in
every worker within that time: the posting path then reads none of these tables, which on SQLite
keeps reads out of the few statements that hold the write lock, and costs no round trip on
PostgreSQL. Expiry follows the app's clock (tests move it), and a clock that went back expires all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from flask import current_app

from moderation.clock import now

T = TypeVar("T")
EXTENSION = "short_lived"


class ShortLived:
    def __init__(self, seconds: float):
        self.lifetime = timedelta(seconds=seconds)
        self._values: dict[str, tuple[datetime, Any]] = {}

    def get(self, key: str, load: Callable[[], T], *, at: datetime) -> T:
        if self.lifetime > timedelta(0):
            kept = self._values.get(key)
            if kept is not None and kept[0] <= at < kept[0] + self.lifetime:
                return kept[1]
        value = load()
        self._values[key] = (at, value)
        return value

    def forget(self) -> None:
        self._values.clear()


def short_lived(key: str, load: Callable[[], T]) -> T:
    """The app's value for `key`: loaded by `load()` at most every SETTINGS_CACHE_SECONDS."""
    cache = current_app.extensions.get(EXTENSION)
    if cache is None:
        cache = current_app.extensions[EXTENSION] = ShortLived(float(current_app.config["SETTINGS_CACHE_SECONDS"]))
    return cache.get(key, load, at=now())
