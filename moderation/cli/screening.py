"""`flask screening check`: what the active rules decide for a text, or for every line of a file.
Nothing is stored."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from moderation.clock import now
from moderation.extensions import db
from moderation.services.rulebook.cache import active_rules
from moderation.services.rulebook.tester import check_text

group = AppGroup("screening", help="Try the active screening rules.")


def register(app: Flask) -> None:
    app.cli.add_command(group)


@group.command("check")
@click.argument("text", required=False)
@click.option("--lines", "lines_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Screen every line of this UTF-8 file: one JSON verdict per line, in order")
@click.option("--nickname", default=None, help="Screen this nickname too")
@click.option("--post-moderation", is_flag=True, help="As in a post-moderated article")
def check(text: str | None, lines_file: Path | None, nickname: str | None, post_moderation: bool):
    """Print, as JSON, what the active rules decide for TEXT (or for each line of --lines FILE)."""
    if (text is None) == (lines_file is None):
        raise click.UsageError("give either TEXT or --lines FILE")
    rules = active_rules(db.session, current_app.config, current_app.extensions["screening_rules"])

    def verdict(one: str) -> dict:
        return check_text(rules, one, nickname=nickname, post_moderation=post_moderation, now=now())

    if text is not None:
        click.echo(json.dumps(verdict(text), ensure_ascii=False, indent=2))
        return
    with lines_file.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            click.echo(json.dumps({"text": line.rstrip("\n"), **verdict(line.rstrip("\n"))}, ensure_ascii=False))
