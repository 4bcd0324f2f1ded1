"""What the batch sender keeps between deliveries: checked addresses, open connections, a watchdog.

An endpoint's address is checked (DNS, the SSRF rules of `services.webhooks.check_target`) at most
every WEBHOOK_ADDRESS_CHECK_SECONDS, and the connection goes to the address that was checked, so a
second DNS answer can never send it elsewhere. A connection to that address is kept open for the
next delivery (HTTP keep-alive) while the receiver allows it, at most WEBHOOK_KEEPALIVE_SECONDS idle.
One watchdog thread bounds each exchange in turn, rather than a timer thread started per delivery.
Used by one sending thread only.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable
from datetime import datetime

from moderation.services import webhooks
from moderation.services.webhooks import Resolver, Target
from moderation.short_lived import ShortLived

Key = tuple[str, str, int, str]  # scheme, host, port, address


class CheckedAddresses:
    def __init__(self, seconds: float):
        self._kept = ShortLived(seconds)

    def target(self, url: str, *, allow_private: bool, resolver: Resolver, at: datetime) -> Target:
        """The checked target of `url` (WebhookError when it fails the check, never kept)."""
        return self._kept.get(f"{allow_private} {url}", lambda: webhooks.check_target(
            url, allow_private=allow_private, resolver=resolver), at=at)


class KeptConnections:
    def __init__(self, idle_seconds: float):
        self.idle_seconds = idle_seconds
        self._idle: dict[Key, tuple[float, http.client.HTTPConnection]] = {}
        self.watchdog = Watchdog()

    def take(self, target: Target) -> http.client.HTTPConnection | None:
        """An open connection to the target's checked address, or None."""
        kept = self._idle.pop(_key(target), None)
        if kept is None:
            return None
        if time.monotonic() - kept[0] > self.idle_seconds:
            kept[1].close()
            return None
        return kept[1]

    def give_back(self, target: Target, connection: http.client.HTTPConnection) -> None:
        previous = self._idle.pop(_key(target), None)
        if previous is not None:
            previous[1].close()
        self._idle[_key(target)] = (time.monotonic(), connection)

    def close_idle(self) -> None:
        """Close the connections unused for WEBHOOK_KEEPALIVE_SECONDS."""
        limit = time.monotonic() - self.idle_seconds
        for key, (used, connection) in list(self._idle.items()):
            if used < limit:
                del self._idle[key]
                connection.close()

    def close(self) -> None:
        for _, connection in self._idle.values():
            connection.close()
        self._idle.clear()
        self.watchdog.close()


def _key(target: Target) -> Key:
    return target.scheme, target.host, target.port, target.addresses[0]


class Watchdog:
    """Calls an exchange's `stop` once it outlasts its bound; armed by one sender, one exchange at a time."""

    def __init__(self):
        self._condition = threading.Condition()
        self._armed: tuple[float, Callable[[], None]] | None = None
        self._waking_at: float | None = None  # when the watching thread wakes by itself; None: only when told
        self._closed = False
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float, stop: Callable[[], None]) -> None:
        with self._condition:
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="webhook-watchdog", daemon=True)
                self._thread.start()
            deadline = time.monotonic() + seconds
            self._armed = (deadline, stop)
            # Woken only when it would wake too late: exchanges of a batch, each bounded alike, each
            # end later than the one before, and a wake-up per exchange is a thread switch in the web process.
            if self._waking_at is None or deadline < self._waking_at:
                self._condition.notify()

    def cancel(self) -> None:
        with self._condition:
            self._armed = None

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify()

    def _watch(self) -> None:
        with self._condition:
            while not self._closed:
                if self._armed is None:
                    self._waking_at = None
                    self._condition.wait()
                    continue
                deadline, stop = self._armed
                remaining = deadline - time.monotonic()
                if remaining > 0:
                    self._waking_at = deadline
                    self._condition.wait(remaining)
                    continue
                self._armed = None
                stop()  # sets an event and shuts a socket down: never blocks
