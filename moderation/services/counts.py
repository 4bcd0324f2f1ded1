"""Comment counts for the newsroom's list pages and front page, read from what is already kept.

`Article.approved_count` changes in the same transaction as every approval (services.listing), so a
list page's counts are one indexed query on the article table, whatever the number of comments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.orm import Session

from moderation.models import Article, Comment, CommentStatus

# Built once, run with parameters: the counts endpoint is the newsroom's busiest.
_COUNTS = select(Article.key, Article.approved_count).where(Article.key.in_(bindparam("keys", expanding=True)))
_STATE_BY_KEY = select(Article.id, Article.revision, Article.approved_count).where(Article.key == bindparam("key"))


def published_counts(db: Session, keys: list[str]) -> dict[str, int]:
    """key → published comments, for the keys that name an article (one query)."""
    if not keys:
        return {}
    return {key: count for key, count in db.connection().execute(_COUNTS, {"keys": keys})}


def article_state_by_key(db: Session, key: str) -> Row | None:
    """(id, revision, approved_count): enough to answer a conditional request without reading comments."""
    return db.connection().execute(_STATE_BY_KEY, {"key": key}).one_or_none()


@dataclass(frozen=True)
class MostCommented:
    key: str
    slug: str
    title: str
    comments: int  # published comments written in the window


def most_commented(db: Session, *, since: datetime, limit: int) -> list[MostCommented]:
    """Articles by published comments written since `since`, most first (the status/created_at index)."""
    recent = (
        select(Comment.article_id, func.count().label("comments"))
        .where(Comment.status == CommentStatus.APPROVED, Comment.created_at >= since)
        .group_by(Comment.article_id)
        .subquery()
    )
    rows = db.execute(
        select(Article.key, Article.slug, Article.title, recent.c.comments)
        .join(recent, recent.c.article_id == Article.id)
        .order_by(recent.c.comments.desc(), Article.id.desc())
        .limit(limit)
    )
    return [MostCommented(*row) for row in rows]
