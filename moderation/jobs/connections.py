"""What the batch sender keeps between deliveries: checked addresses and open connections.

An endpoint's address is checked (DNS, the SSRF rules of `services.webhooks.check_target`) at most
every WEBHOOK_ADDRESS_CHECK_SECONDS, and the connection goes to the address that was checked, so a
second DNS answer can never send it elsewhere. A connection to that address is kept open for the
next delivery (HTTP keep-alive) while the receiver allows it, at most WEBHOOK_KEEPALIVE_SECONDS idle.
Used by one thread only.
"""

from __future__ import annotations

import http.client
import time
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


def _key(target: Target) -> Key:
    return target.scheme, target.host, target.port, target.addresses[0]
