"""What screening needs of an author's and an address's earlier comments (`AuthorFacts`), read in
the database: only the rows that decide something come back, so a reader with hundreds of comments
in the hour (a brigade, a spammer, a prolific regular) costs each post a handful of rows, not
hundreds decoded in Python.

Of the author's newest comments (at most `RECENT_LIMIT`, within the trust window and the duplicate
window): the newest `trust_after` (the trust ramp), those of the last minute up to the per-minute
limit (the author's rate), one earlier copy of this text in the duplicate window, and one refused
comment in the trust window. Of the address's: its last minute up to its limit, and one copy.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, literal, select, union_all
from sqlalchemy.orm import Session

from moderation.models import Comment, CommentStatus
from moderation.screening.matching import Thresholds
from moderation.screening.pipeline import AuthorFacts, PastComment

RECENT_LIMIT = 200  # an author's or address's newest comments looked at: a flood must not be read whole
_REFUSED = (CommentStatus.REJECTED, CommentStatus.SPAM)


@cache
def _author_statement(decided_only: bool):
    newest = (select(Comment.id, Comment.fingerprint, Comment.created_at, Comment.status)
              .where(Comment.author_hash == bindparam("author_hash"), Comment.created_at >= bindparam("since"))
              .order_by(Comment.created_at.desc(), Comment.id.desc()).limit(bindparam("cap")).cte("newest"))
    columns = (newest.c.id, newest.c.fingerprint, newest.c.created_at, newest.c.status)
    order = (newest.c.created_at.desc(), newest.c.id.desc())
    trust = select(*columns).order_by(*order).limit(bindparam("trust_after"))
    if decided_only:
        trust = trust.where(newest.c.status != CommentStatus.PENDING)
    parts = (
        trust,
        select(*columns).where(newest.c.created_at > bindparam("minute_ago")).order_by(*order)
        .limit(bindparam("per_minute")),
        select(*columns).where(newest.c.fingerprint == bindparam("fingerprint"),
                               newest.c.created_at >= bindparam("duplicate_since")).limit(1),
        select(*columns).where(newest.c.status.in_(_REFUSED), newest.c.created_at >= bindparam("trust_since")).limit(1),
    )
    return union_all(*(select(part.subquery()) for part in parts))


def _address_statement():
    newest = (select(Comment.fingerprint, Comment.created_at)
              .where(Comment.ip_hash == bindparam("ip_hash"), Comment.created_at >= bindparam("since"))
              .order_by(Comment.created_at.desc()).limit(bindparam("cap")).cte("newest"))
    in_minute = (select(literal(False).label("copy"))
                 .where(newest.c.created_at > bindparam("minute_ago")).limit(bindparam("per_minute")))
    copy = select(literal(True).label("copy")).where(newest.c.fingerprint == bindparam("fingerprint")).limit(1)
    return union_all(select(in_minute.subquery()), select(copy.subquery()))


_ADDRESS = _address_statement()


def author_facts(db: Session, *, author_hash: str, ip_hash: str, now: datetime, limits: Thresholds, fingerprint: str = "",
                 address_duplicates: bool = False, decided_only: bool = False) -> AuthorFacts:
    """`fingerprint`: the text about to be posted (`Submission.fingerprint`); `address_duplicates`:
    look for its copies from the same address too (a poster without an author cookie);
    `decided_only`: the trust ramp counts decided comments only (the captcha's question)."""
    duplicate_since = now - timedelta(seconds=limits.duplicate_window_seconds)
    trust_since = now - timedelta(days=limits.trust_window_days)
    minute_ago = now - timedelta(minutes=1)
    connection = db.connection()
    rows = connection.execute(_author_statement(decided_only), {
        "author_hash": author_hash, "since": min(trust_since, duplicate_since), "trust_after": limits.trust_after,
        "cap": max(RECENT_LIMIT, limits.trust_after, limits.author_per_minute),
        "minute_ago": minute_ago, "per_minute": limits.author_per_minute, "fingerprint": fingerprint,
        "duplicate_since": duplicate_since, "trust_since": trust_since,
    })
    newest_first = sorted({row.id: row for row in rows}.values(), key=lambda row: (row.created_at, row.id),
                          reverse=True)
    in_minute, copied = 0, False
    if ip_hash:
        for (copy,) in connection.execute(_ADDRESS, {
            "ip_hash": ip_hash, "since": duplicate_since, "minute_ago": minute_ago,
            "per_minute": limits.ip_per_minute, "fingerprint": fingerprint,
            "cap": max(RECENT_LIMIT, limits.ip_per_minute),
        }):
            in_minute += not copy
            copied = copied or bool(copy)
    return AuthorFacts(
        recent=tuple(PastComment(row.fingerprint, row.created_at, row.status.value) for row in newest_first),
        ip_comments_last_minute=in_minute,
        address_fingerprints=frozenset((fingerprint,)) if copied and address_duplicates and fingerprint else frozenset(),
    )
