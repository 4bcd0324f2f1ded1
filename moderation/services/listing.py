"""What every reader sees of an article: its approved comments, in keyset pages, newest first.

Newest first, as the comment sections of Chinese news sites open (騰訊新聞, 網易新聞, 聯合新聞網:
「最新評論」): a reader arriving on a story that is still moving sees the current discussion, and
older pages follow. Pages are read by keyset from the (article_id, status, created_at, id) index,
so the first page costs the same at 200 or 20,000 approved comments and other articles' comments
are never scanned.

`Article.approved_count` and `Article.revision` change in the same transaction as anything that
changes what readers see (`listing_changed`), so the heading needs no COUNT and the page's
validator no scan of the comments.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.orm import Session

from moderation.models import Article, Comment, CommentStatus
from moderation.screening.normalize import normalize
from moderation.screening.personal_data import find_personal_data, masked
from moderation.services.paging import Cursor, comment_key, key_of


@dataclass(frozen=True)
class PublicPage:
    comments: list[Comment]
    older: Cursor | None  # where the next page (older comments) starts, if there is one
    newer: Cursor | None  # where the previous page (newer comments) ends; None on the first page

    @property
    def is_first(self) -> bool:
        return self.newer is None


# Run on every read of an article page: built once, executed with parameters.
_ARTICLE_STATE = select(Article.id, Article.revision).where(Article.slug == bindparam("slug"))


def article_state(db: Session, slug: str) -> Row | None:
    """(id, revision) of an article: all a cached page needs to know it is still current."""
    return db.connection().execute(_ARTICLE_STATE, {"slug": slug}).one_or_none()


def approved_page(
    db: Session, article_id: int, *, before: Cursor | None = None, after: Cursor | None = None, size: int
) -> PublicPage:
    """One page of approved comments: the newest, those older than `before`, or newer than `after`."""
    query = select(Comment).where(Comment.article_id == article_id, Comment.status == CommentStatus.APPROVED)
    if after is not None:
        rows = list(db.scalars(
            query.where(comment_key() > key_of(after))
            .order_by(Comment.created_at, Comment.id).limit(size + 1)
        ))
        more_newer = len(rows) > size
        shown = list(reversed(rows[:size]))
        return PublicPage(
            comments=shown,
            older=Cursor.of(shown[-1]) if shown else None,
            newer=Cursor.of(shown[0]) if more_newer else None,
        )
    if before is not None:
        query = query.where(comment_key() < key_of(before))
    rows = list(db.scalars(query.order_by(Comment.created_at.desc(), Comment.id.desc()).limit(size + 1)))
    shown = rows[:size]
    return PublicPage(
        comments=shown,
        older=Cursor.of(shown[-1]) if len(rows) > size else None,
        newer=Cursor.of(shown[0]) if before is not None and shown else None,
    )


def listing_changed(db: Session, article_id: int, *, approved_delta: int = 0) -> None:
    """Record, in the caller's transaction, that what readers see of this article changed."""
    db.execute(
        update(Article)
        .where(Article.id == article_id)
        .values(revision=Article.revision + 1, approved_count=Article.approved_count + approved_delta)
        .execution_options(synchronize_session=False)
    )


def approved_delta(before: CommentStatus, after: CommentStatus) -> int:
    return (after is CommentStatus.APPROVED) - (before is CommentStatus.APPROVED)


def own_waiting_comments(db: Session, article_id: int, author_hash: str | None) -> list[Comment]:
    """The reader's own comments still in review, shown to them alone.

    Spam is listed too, as 審核中: telling a spammer that screening caught them helps them adapt.
    """
    if not author_hash:
        return []
    return list(
        db.scalars(
            select(Comment)
            .where(
                Comment.article_id == article_id,
                Comment.author_hash == author_hash,
                Comment.status.in_([CommentStatus.PENDING, CommentStatus.SPAM]),
            )
            .order_by(Comment.created_at, Comment.id)
        )
    )


def public_text(comment: Comment) -> str:
    """What readers see of a comment: personal data masked in one that screening published and no
    moderator has decided on yet (version 1: post-moderation). The stored text never changes."""
    if comment.status is not CommentStatus.APPROVED or comment.version != 1:
        return comment.body
    return masked(comment.body, find_personal_data(normalize(comment.body)))
