"""Flask-Limiter's counters kept in the worker when there is no REDIS_URL (`swept-memory://`).

The `limits` package's own memory storage starts a timer thread after nearly every hit (whenever
its previous one, 10 ms long, has ended), and that thread walks every counter the worker holds.
With the likes' per-hour limits, a busy hour holds a counter per reader and per address: each like
then paid for a thread and a walk of tens of thousands of entries. A counter past its window is
already dropped when it is read (`MemoryStorage.get`), so the walk only frees memory: here it runs
at most every SWEEP_SECONDS.
"""

from __future__ import annotations

import time

from limits.storage import MemoryStorage

SCHEME = "swept-memory"
SWEEP_SECONDS = 10.0


class SweptMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = [SCHEME]  # registered with `limits` as this class is defined

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        self._next_sweep = 0.0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    def _MemoryStorage__schedule_expiry(self) -> None:  # the hook MemoryStorage calls after each hit
        moment = time.monotonic()
        if moment < self._next_sweep:
            return
        self._next_sweep = moment + SWEEP_SECONDS
        super()._MemoryStorage__schedule_expiry()
