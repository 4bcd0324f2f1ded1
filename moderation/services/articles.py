"""Articles: loading one from a text file, listing them, and the comment mode an admin sets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.article_text import parse_seed
from moderation.models import Article, CommentMode
from moderation.services import outbox, surge
from moderation.services.audit import Actor, AuditAction, record
from moderation.services.listing import listing_changed


def load_article(db: Session, text: str, *, slug: str, title: str | None = None) -> tuple[Article, bool]:
    """Store an article parsed from seed text unless one with this slug exists (never replaced)."""
    existing = db.scalar(select(Article).where(Article.slug == slug))
    if existing is not None:
        return existing, False
    source = parse_seed(text)
    article = Article(key=slug, slug=slug, title=title or source.title, column_name=source.column, body=source.body)
    db.add(article)
    db.flush()
    return article, True


def all_articles(db: Session) -> list[Article]:
    return list(db.scalars(select(Article).order_by(Article.id)))


def set_comment_mode(db: Session, article: Article, mode: CommentMode, *, actor: Actor, now: datetime) -> bool:
    """Change whether comments are pre-moderated, post-moderated or closed; False when unchanged."""
    if mode is article.comment_mode:
        return False
    record(db, actor, AuditAction.MODE_CHANGE, now=now, from_status=article.comment_mode.value,
           to_status=mode.value, note=article.slug)
    article.comment_mode = mode
    surge.person_chose_mode(db, article.id)  # a surge in progress leaves the person's choice alone
    listing_changed(db, article.id)
    if mode is CommentMode.CLOSED:  # webhooks (moderation/jobs): committed with the change
        outbox.article_closed(db, slug=article.slug, key=article.key, title=article.title, now=now)
    return True


def find_article(db: Session, slug: str) -> Article | None:
    return db.scalar(select(Article).where(Article.slug == slug))


def front_page_article(db: Session, preferred_slug: str) -> Article | None:
    """The article the front page leads to: the configured one, else the first loaded."""
    return find_article(db, preferred_slug) or db.scalar(select(Article).order_by(Article.id))
