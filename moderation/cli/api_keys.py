"""`flask api-keys …` (the newsroom's keys to the JSON API), `flask embed …` (who may frame a site's
embedded comments) and `flask articles close-expired` (cron)."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from moderation.cli.common import commit_or_fail
from moderation.clock import now
from moderation.extensions import db
from moderation.models import Scope
from moderation.services import api_keys, embed_sites, newsroom
from moderation.services.audit import COMMAND_LINE

group = AppGroup("api-keys", help="The newsroom's keys to the JSON API (/api/v1).")
articles = AppGroup("articles", help="Articles from the newsroom.")
embed = AppGroup("embed", help="Which pages may frame a site's embedded comment section (/embed/<key>).")

PROBLEMS = {
    api_keys.ApiKeyProblem.SITE_NAME: "the site name needs 1 to 32 of a-z, 0-9, '.' and '-', starting with a letter or digit",
    api_keys.ApiKeyProblem.NO_SCOPE: "give at least one --scope",
    api_keys.ApiKeyProblem.UNKNOWN_SCOPE: "unknown scope",
}


def register(app: Flask) -> None:
    app.cli.add_command(group)
    app.cli.add_command(articles)
    app.cli.add_command(embed)


EMBED_PROBLEMS = {
    embed_sites.OriginProblem.SITE_NAME: PROBLEMS[api_keys.ApiKeyProblem.SITE_NAME],
    embed_sites.OriginProblem.ORIGIN: "not an origin: give scheme://host[:port] (http or https, no path)",
    embed_sites.OriginProblem.TOO_MANY: f"at most {embed_sites.MAX_ORIGINS} origins per site",
}


@embed.command("allow")
@click.argument("site")
@click.argument("origins", nargs=-1)
def embed_allow(site: str, origins: tuple[str, ...]):
    """Let pages of ORIGINS (e.g. https://news.example) frame SITE's articles' comments; they replace
    the site's list. No ORIGINS: the site's list is emptied (its frames are then refused)."""
    row = commit_or_fail(lambda: embed_sites.set_origins(db.session, site, origins, actor=COMMAND_LINE, now=now()),
                         embed_sites.OriginError,
                         lambda error: EMBED_PROBLEMS[error.problem] + (f": {error.value}" if error.value else ""))
    click.echo(f"'{site.strip().lower()}': " + (" ".join(row.origin_list) if row else "no origin may frame its comments"))


@embed.command("list")
def embed_list():
    """Each site and the origins that may frame its comments; the operator's EMBED_ALLOWED_ORIGINS too."""
    for row in embed_sites.all_sites(db.session):
        click.echo(f"{row.site}\t{' '.join(row.origin_list)}")
    operator = current_app.config["EMBED_ALLOWED_ORIGINS"]
    if operator:
        click.echo(f"(every site, EMBED_ALLOWED_ORIGINS)\t{' '.join(operator)}")


@group.command("create")
@click.argument("site")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice([scope.value for scope in Scope]),
              help="What the key may do; repeat for several")
def create_key(site: str, scopes: tuple[str, ...]):
    """Create a key for SITE and print it once (only its hash is kept)."""
    row, key = commit_or_fail(lambda: api_keys.create_key(db.session, site, scopes, actor=COMMAND_LINE, now=now()),
                              api_keys.ApiKeyError, lambda error: "; ".join(PROBLEMS[each] for each in error.problems))
    click.echo(f"key {row.id} for '{row.site}' ({row.scopes}); shown only now, keep it secret:")
    click.echo(key)


@group.command("list")
def list_keys():
    """Id, site, prefix, scopes, created and whether revoked (never the keys)."""
    for row in api_keys.all_keys(db.session):
        state = f"revoked {row.revoked_at.isoformat()}" if row.revoked_at else "active"
        click.echo(f"{row.id}\t{row.site}\t{row.prefix}…\t{row.scopes}\t{row.created_at.isoformat()}\t{state}")


@group.command("revoke")
@click.argument("key_id")
def revoke_key(key_id: str):
    """Revoke a key by its id or the prefix `list` shows; requests with it get 401 at once."""
    row = api_keys.find_key(db.session, key_id)
    if row is None:
        raise click.ClickException(f"no key '{key_id}' (give the id or the prefix from `flask api-keys list`)")
    revoked = api_keys.revoke(db.session, row, actor=COMMAND_LINE, now=now())
    db.session.commit()
    click.echo(f"key {row.id} of '{row.site}' {'revoked' if revoked else 'was already revoked'}")


@articles.command("close-expired")
def close_expired():
    """Close comments on articles past their closing time (COMMENTS_CLOSE_AFTER_DAYS after publication,
    or the article's own days). Run from cron, e.g. every 5 minutes; repeating it is harmless."""
    closed = newsroom.close_expired(db.session, now=now(), default_days=current_app.config["COMMENTS_CLOSE_AFTER_DAYS"])
    db.session.commit()
    click.echo(f"closed {len(closed)} article(s)" + "".join(f"\n  {article.key}" for article in closed))
