"""The comment service: posting and the public listings. Views and CLI call these."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.models import Article, Comment, CommentMode, CommentStatus


def post_comment(
    db: Session,
    article: Article,
    *,
    nickname: str | None,
    anonymous: bool,
    body: str,
    ip_hash: str,
    author_hash: str,
    now: datetime,
) -> Comment:
    """Store a new comment; whether it waits for a moderator depends on the article's mode."""
    if article.comment_mode is CommentMode.CLOSED:
        raise CommentsClosed(article.slug)
    status = (
        CommentStatus.APPROVED
        if article.comment_mode is CommentMode.POST_MODERATION
        else CommentStatus.PENDING
    )
    comment = Comment(
        article=article,
        nickname=None if anonymous else nickname,
        is_anonymous=anonymous,
        body=body,
        status=status,
        created_at=now,
        ip_hash=ip_hash,
        author_hash=author_hash,
    )
    db.add(comment)
    db.commit()
    return comment


class CommentsClosed(Exception):
    pass


def approved_comments_for(db: Session, article: Article) -> list[Comment]:
    return list(
        db.scalars(
            select(Comment)
            .where(Comment.article_id == article.id, Comment.status == CommentStatus.APPROVED)
            .order_by(Comment.created_at, Comment.id)
        )
    )


def own_waiting_comments(db: Session, article: Article, author_hash: str | None) -> list[Comment]:
    """The reader's own comments still in review, shown to them alone."""
    if not author_hash:
        return []
    return list(
        db.scalars(
            select(Comment)
            .where(
                Comment.article_id == article.id,
                Comment.author_hash == author_hash,
                Comment.status == CommentStatus.PENDING,
            )
            .order_by(Comment.created_at, Comment.id)
        )
    )


def article_by_slug(db: Session, slug: str) -> Article | None:
    return db.scalar(select(Article).where(Article.slug == slug))
