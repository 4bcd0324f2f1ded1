"""`flask dashboard rebuild|sample` and `flask surge calm|list`: the dashboard's rollups and surge mode by hand or cron."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from moderation.clock import now
from moderation.extensions import db
from moderation.services import rollups, surge

dashboard = AppGroup("dashboard", help="The dashboard's rolled-up figures.")
surges = AppGroup("surge", help="Surge mode: articles flooded with comments.")


def register(app: Flask) -> None:
    app.cli.add_command(dashboard)
    app.cli.add_command(surges)


@dashboard.command("rebuild")
def rebuild_command():
    """Refill the hourly rollups from the stored comments and the audit log (after an import or an erasure)."""
    counts = rollups.rebuild(db.session)
    db.session.commit()
    click.echo(f"rebuilt {counts['comment_hours']} comment hours, {counts['rule_hours']} rule hours, "
               f"{counts['decision_buckets']} decision-time buckets")


@dashboard.command("sample")
def sample_command():
    """Record the pending queue's size and oldest wait for this hour (the relay does it every OUTBOX_RELAY_SECONDS)."""
    rollups.sample_queue(db.session, now=now())
    db.session.commit()
    pending, waited = rollups.pending_now(db.session, now=now())
    click.echo(f"{pending} pending, the oldest waiting {waited // 60} minutes")


@surges.command("calm")
def calm_command():
    """End the surges that have been quiet for SURGE_QUIET_MINUTES (the relay does it too)."""
    ended = surge.calm_down(db.session, now=now(), settings=surge.Settings.from_config(current_app.config))
    db.session.commit()
    click.echo(f"ended {len(ended)} surges")


@surges.command("list")
def list_command():
    """The articles in a surge now."""
    for each in surge.active_surges(db.session):
        click.echo(f"{each.article_id}\t{each.started_at.isoformat()}\t{each.cause}\t"
                   f"{'switched to pre-moderation' if each.switched else 'mode unchanged'}\t{each.article_title}")
