"""`flask init-db` and `flask load-article`: the schema, the seed article, the first admin.

`init-db --empty` makes the schema only, the database `flask import` restores a backup into.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from moderation.article_text import bundled_seed
from moderation.extensions import db
from moderation.models import Moderator, Role
from moderation.services import accounts, transfer
from moderation.services.articles import load_article
from moderation.services.rulebook.starter import load_starter_rules


def register(app: Flask) -> None:
    app.cli.add_command(init_db)
    app.cli.add_command(load_article_command)


@click.command("init-db")
@with_appcontext
@click.option("--empty", is_flag=True,
              help="The schema only: no seed article, starter rules or admin (to restore with `flask import`)")
def init_db(empty: bool):
    """Create or upgrade the schema, then load the bundled seed article, the starter rules and the
    first admin where they are missing."""
    try:
        with db.engine.connect():
            pass
    except OperationalError as error:  # a database not created yet, a server away, a refused password
        raise click.ClickException(f"cannot reach the database ({db.engine.url.render_as_string(hide_password=True)}): "
                                   f"{str(error.orig).strip().splitlines()[-1]}") from None
    upgrade(directory=current_app.extensions["migrate"].directory)
    if empty:
        occupied = transfer.occupied_tables(db.session)
        if occupied:
            click.echo(f"schema ready; nothing loaded, but the database already holds data ({', '.join(occupied)}): "
                       "`flask import` restores only into an empty one")
        else:
            click.echo("empty database ready (schema only); restore a backup with `flask import FILE`")
        return
    article, created = load_article(db.session, bundled_seed(), slug=current_app.config["FRONT_PAGE_ARTICLE"])
    added = load_starter_rules(db.session)
    password = None
    if db.session.scalar(select(func.count()).select_from(Moderator)) == 0:
        password = accounts.one_time_password()
        accounts.create_moderator(db.session, "admin", password, role=Role.ADMIN, must_change=True)
    db.session.commit()
    click.echo(f"database ready; article '{article.slug}' {'loaded' if created else 'already present'}")
    if added:
        click.echo(f"starter screening rules loaded ({added} entries)")
    if password:
        click.echo("first admin account created: name 'admin', one-time password (shown only now): "
                   f"{password}\n  sign in at /moderation/login; you will be asked for a new password")


@click.command("load-article")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--slug", required=True, help="URL name of the article, e.g. my-story")
@click.option("--title", help="Headline; default: the first clause of the text")
def load_article_command(path: Path, slug: str, title: str | None):
    """Load an article text file, in the seed's format: UTF-8, one paragraph per line, an optional
    column mark first (【欄目名】), pinyin glosses after their character (驗(yàn)). A slug already
    stored is left unchanged: edit it at /moderation/admin/articles."""
    article, created = load_article(db.session, path.read_text(encoding="utf-8"), slug=slug, title=title)
    db.session.commit()
    click.echo(f"article '{article.slug}' {'loaded' if created else 'already present; left unchanged'}")
