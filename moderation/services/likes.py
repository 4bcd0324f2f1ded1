"""Likes (讚): one per reader per comment, counted on the comment in the same transaction.

A like is a row with a unique (comment_id, reader_hash): a reader's second like of a comment, even
sent twice at the same moment, stores nothing. The comment's row is locked first (PostgreSQL: `SELECT
… FOR NO KEY UPDATE`, the lock an UPDATE takes, which does not wait for a like or report being stored
for the comment; SQLite: an UPDATE that changes nothing, which takes its one write lock), and its
`like_count` moves by an UPDATE that adds to the stored value (`like_count = like_count + 1`),
never by a value read earlier, so fifty readers liking at once lose no like; the same statement
stores 最熱's key from the counts the lock made current.

Not every like counts. A like by the comment's own author is stored (the button shows it pressed)
but not counted; nor is a like from an address that already gave the comment `per_address` counted
likes: one household or office counts, one client with many cookies does not count more, even
sending them all at once (the comment's row is locked before anything is read).

On PostgreSQL the same steps run in the server, in one call of `set_comment_like`
(moderation/database_functions.py): a like is otherwise mostly round trips.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, bindparam, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from moderation.models import Article, Comment, CommentLike, CommentStatus, hot_key
from moderation.services.listing import refresh_hot_key


class LikeOutcome(enum.StrEnum):
    LIKED = "liked"
    UNLIKED = "unliked"
    UNCHANGED = "unchanged"  # already as asked (a second tab, a double click)
    NOT_FOUND = "not_found"  # no such comment on this article
    NOT_PUBLISHED = "not_published"  # pending, refused or taken down: nothing to like
    NO_ARTICLE = "no_article"  # no article has that slug (set_like_on_article)


@dataclass(frozen=True)
class LikeResult:
    outcome: LikeOutcome
    liked: bool = False
    like_count: int = 0
    counted: bool = False  # the like or its undo moved the count (not the author's own, not past the address's)

    @property
    def refused(self) -> bool:
        return self.outcome in (LikeOutcome.NOT_FOUND, LikeOutcome.NOT_PUBLISHED, LikeOutcome.NO_ARTICLE)


# Every like runs these: built once, executed with parameters on the session's connection (an ORM
# statement is built and keyed again on each call, which cost more than the database's work).
_LOCKED_COLUMNS = (Comment.article_id, Comment.status, Comment.author_hash, Comment.like_count, Comment.reply_count,
                   Comment.created_at)
# SQLite has no row locks; a write takes the database's write lock before anything is read.
_LOCK_DATABASE = (update(Comment).where(Comment.id == bindparam("comment_id")).values(like_count=Comment.like_count)
                  .returning(*_LOCKED_COLUMNS))
_LOOK = select(
    select(CommentLike.id).where(CommentLike.comment_id == bindparam("comment_id"),
                                 CommentLike.reader_hash == bindparam("reader_hash")).scalar_subquery(),
    select(func.count()).select_from(CommentLike).where(
        CommentLike.comment_id == bindparam("comment_id"), CommentLike.ip_hash == bindparam("ip_hash"),
        CommentLike.counted.is_(True)).scalar_subquery())
_INSERT = insert(CommentLike)
_ARTICLE_ID = select(Article.id).where(Article.slug == bindparam("slug"))
_DELETE = delete(CommentLike).where(CommentLike.id == bindparam("like_id")).returning(CommentLike.counted)
_CALL_SET_LIKE = ("SELECT outcome, liked, like_count, counted FROM set_comment_like("
                  "{article}, :comment_id, :reader_hash, :ip_hash, :like, :now, :per_address)")
_SET_LIKE_IN_POSTGRESQL = text(_CALL_SET_LIKE.format(article=":article_id"))
# The article named by its slug, found in the same statement (no article: NULL, 'no_article').
_SET_LIKE_BY_SLUG_IN_POSTGRESQL = text(_CALL_SET_LIKE.format(article="(SELECT id FROM article WHERE slug = :slug)"))
_COUNT = (update(Comment).where(Comment.id == bindparam("comment_id"))
          .values(like_count=Comment.like_count + bindparam("delta"), hot_key=bindparam("hot_key"))
          .returning(Comment.like_count))


def set_like(db: Session, article_id: int, comment_id: int, *, reader_hash: str, ip_hash: str, like: bool | None,
             now: datetime, per_address: int) -> LikeResult:
    """Like (`like=True`), undo (`False`) or flip (`None`: the button's form without JavaScript).
    Flushes; the caller commits. Four statements for a like: lock, look, insert, count (on PostgreSQL
    one, which runs them)."""
    connection = db.connection()
    if connection.dialect.name == "postgresql":
        return _set_like_in_postgresql(connection, _SET_LIKE_IN_POSTGRESQL, {
            "article_id": article_id, "comment_id": comment_id, "reader_hash": reader_hash, "ip_hash": ip_hash,
            "like": like, "now": now, "per_address": per_address})
    # First the lock (SQLite's write lock), before anything is read, so that the likes of one comment
    # are decided one after another: a reader's two clicks store one like, and a burst from one
    # address cannot count more than `per_address`. What it returns is current until the caller commits.
    comment = connection.execute(_LOCK_DATABASE, {"comment_id": comment_id}).one_or_none()
    if comment is None or comment.article_id != article_id:
        return LikeResult(LikeOutcome.NOT_FOUND)
    if comment.status is not CommentStatus.APPROVED:
        return LikeResult(LikeOutcome.NOT_PUBLISHED)
    liked_id, counted_from_address = connection.execute(
        _LOOK, {"comment_id": comment_id, "reader_hash": reader_hash, "ip_hash": ip_hash}).one()
    liked = liked_id is not None
    if like is None:
        like = not liked
    if like == liked:
        return LikeResult(LikeOutcome.UNCHANGED, liked=liked, like_count=comment.like_count)
    if like:
        counted = comment.author_hash != reader_hash and counted_from_address < per_address
        connection.execute(_INSERT, {"comment_id": comment_id, "article_id": article_id, "reader_hash": reader_hash,
                                     "ip_hash": ip_hash, "counted": counted, "created_at": now})
    else:
        counted = connection.execute(_DELETE, {"like_id": liked_id}).scalar_one()
    count = _count_moved(connection, comment_id, comment, (1 if like else -1) if counted else 0)
    return LikeResult(LikeOutcome.LIKED if like else LikeOutcome.UNLIKED, liked=like, like_count=count,
                      counted=bool(counted))


def set_like_on_article(db: Session, slug: str, comment_id: int, **liking) -> LikeResult:
    """`set_like` (`liking`: its keyword arguments) on the article named by `slug` (NO_ARTICLE when
    none is): the like POST's. On PostgreSQL the article is found in the same statement as the like,
    one round trip for both."""
    connection = db.connection()
    if connection.dialect.name == "postgresql":
        return _set_like_in_postgresql(connection, _SET_LIKE_BY_SLUG_IN_POSTGRESQL,
                                       {"slug": slug, "comment_id": comment_id, **liking})
    article_id = connection.execute(_ARTICLE_ID, {"slug": slug}).scalar_one_or_none()
    if article_id is None:
        return LikeResult(LikeOutcome.NO_ARTICLE)
    return set_like(db, article_id, comment_id, **liking)


def _set_like_in_postgresql(connection, statement, parameters: dict) -> LikeResult:
    outcome, liked, like_count, counted = connection.execute(statement, parameters).one()
    return LikeResult(LikeOutcome(outcome), liked=bool(liked), like_count=like_count or 0, counted=bool(counted))


def _count_moved(connection, comment_id: int, comment: Row, delta: int) -> int:
    """The locked comment's count and 最熱 key in one UPDATE (its counts are current under the lock)."""
    if not delta:
        return comment.like_count
    key = hot_key(likes=comment.like_count + delta, replies=comment.reply_count, created_at=comment.created_at)
    return connection.execute(_COUNT, {"comment_id": comment_id, "delta": delta, "hot_key": key}).scalar_one()


def likes_counted(db: Session, comment_id: int, delta: int) -> int:
    """Add `delta` to the comment's counted likes (in SQL, never from a value read before) and store
    最熱's key from the counts; the new count."""
    counts = db.execute(
        update(Comment).where(Comment.id == comment_id)
        .values(like_count=Comment.like_count + delta)
        .returning(Comment.like_count, Comment.reply_count, Comment.created_at)
        .execution_options(synchronize_session=False)
    ).one()
    refresh_hot_key(db, comment_id, counts)
    return counts.like_count


def liked_on_article(db: Session, article_id: int, reader_hash: str) -> list[int]:
    """The comments of an article this reader likes (the token endpoint's answer: pressed buttons)."""
    return list(db.scalars(
        select(CommentLike.comment_id)
        .where(CommentLike.reader_hash == reader_hash, CommentLike.article_id == article_id)
        .order_by(CommentLike.comment_id)
    ))
