"""Finished article pages kept in this process, keyed by what they show.

A key holds the article's revision, which changes in the same transaction as anything readers
see; so a stale page is never served, only no longer asked for, and falls out of the LRU. Each
worker holds its own copy: the revision check costs one indexed query per request, and a reverse
proxy in front (deploy/nginx.conf) takes the rest.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class RenderedPage:
    body: bytes
    etag: str  # strong: identical bytes on every worker and server give the same validator

    @classmethod
    def of(cls, html: str) -> RenderedPage:
        body = html.encode("utf-8")
        return cls(body, hashlib.blake2b(body, digest_size=16).hexdigest())


class RenderedPages:
    def __init__(self, capacity: int):
        self.capacity = capacity
        self._pages: OrderedDict[Hashable, RenderedPage] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> RenderedPage | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: Hashable, page: RenderedPage) -> None:
        if self.capacity <= 0:
            return
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.capacity:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
