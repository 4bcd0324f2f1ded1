"""`flask` commands for operators: init-db, load-article."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask_migrate import upgrade
from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.article import bundled_seed, parse_seed
from moderation.extensions import db
from moderation.models import Article


def load_article(session: Session, text: str, *, slug: str, title: str | None = None) -> tuple[Article, bool]:
    """Store an article parsed from seed text unless one with this slug exists (never replaced)."""
    existing = session.scalar(select(Article).where(Article.slug == slug))
    if existing is not None:
        return existing, False
    source = parse_seed(text)
    article = Article(slug=slug, title=title or source.title, column_name=source.column, body=source.body)
    session.add(article)
    session.commit()
    return article, True


def register(app: Flask) -> None:
    @app.cli.command("init-db")
    def init_db():
        """Create or upgrade the schema, then load the bundled seed article if it is missing."""
        upgrade(directory=current_app.extensions["migrate"].directory)
        article, created = load_article(
            db.session, bundled_seed(), slug=current_app.config["FRONT_PAGE_ARTICLE"]
        )
        state = "loaded" if created else "already present"
        click.echo(f"database ready; article '{article.slug}' {state}")

    @app.cli.command("load-article")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--slug", required=True, help="URL name of the article, e.g. my-story")
    @click.option("--title", help="Headline; default: the first clause of the text")
    def load_article_command(path: Path, slug: str, title: str | None):
        """Load an article text file (same format as the seed)."""
        article, created = load_article(db.session, path.read_text(encoding="utf-8"), slug=slug, title=title)
        click.echo(f"article '{article.slug}' {'loaded' if created else 'already present; left unchanged'}")
