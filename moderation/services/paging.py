"""Keyset cursors: a page boundary as (created_at, id), written into URLs as exact integers.

Microseconds since the epoch as an integer, not a float: a float of ~1.8e9 seconds cannot hold
every microsecond, and a rounded boundary would repeat or skip comments that share a timestamp.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Float, literal, tuple_

from moderation.ids import row_id
from moderation.models import Comment, UTCDateTime

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
_ENCODED = re.compile(r"^(\d{1,17})_(\d{1,10})$")


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    id: int

    @classmethod
    def of(cls, comment: Comment) -> Cursor:
        return cls(comment.created_at, comment.id)

    def encode(self) -> str:
        return f"{(self.created_at - EPOCH) // MICROSECOND}_{self.id}"

    @classmethod
    def decode(cls, raw: str | None) -> Cursor | None:
        match = _ENCODED.match(raw or "")
        if not match:
            return None
        try:
            return cls(EPOCH + int(match[1]) * MICROSECOND, row_id(match[2]))
        except (ValueError, OverflowError):
            return None


_HOT_ENCODED = re.compile(r"^(-?\d{1,12}\.\d{1,20})_(\d{1,10})$")


@dataclass(frozen=True)
class HotCursor:
    """A 最熱 page boundary: (hot_key, id). The key is written with repr(), which reads back exactly."""

    hot_key: float
    id: int

    @classmethod
    def of(cls, comment: Comment) -> HotCursor:
        return cls(comment.hot_key, comment.id)

    def encode(self) -> str:
        return f"{self.hot_key!r}_{self.id}"

    @classmethod
    def decode(cls, raw: str | None) -> HotCursor | None:
        match = _HOT_ENCODED.match(raw or "")
        if not match:
            return None
        try:
            return cls(float(match[1]), row_id(match[2]))
        except (ValueError, OverflowError):
            return None


def hot_key_of(cursor: HotCursor):
    return tuple_(literal(cursor.hot_key, Float), cursor.id)


def comment_key():
    return tuple_(Comment.created_at, Comment.id)


def key_of(cursor: Cursor):
    """A row-value comparison target, which both SQLite and PostgreSQL answer from the index."""
    return tuple_(literal(cursor.created_at, UTCDateTime), cursor.id)
