"""Row ids from URLs and forms: positive and within a 32-bit integer column, or not an id at all.

Anything larger would reach the database and fail there (PostgreSQL: integer out of range).
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1


def row_id(value: str) -> int:
    """For `request.args.get(..., type=row_id)`: a ValueError makes Flask return the default."""
    number = int(value)
    if not 1 <= number <= MAX_ID:
        raise ValueError(value)
    return number


class IdConverter(IntegerConverter):
    """`<id:comment_id>` in routes: an out-of-range id is a 404, like an unknown one."""

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, min=1, max=MAX_ID)
