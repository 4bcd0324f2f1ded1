"""`flask authors …` (suspend, ban, pre-moderate, lift, list) and `flask holds …` (address ranges)."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from moderation.cli.common import commit_or_fail
from moderation.clock import now
from moderation.extensions import db
from moderation.ids import row_id
from moderation.services import sanctions
from moderation.services.audit import COMMAND_LINE
from moderation.services.sanctions import SanctionError, SanctionProblem

authors = AppGroup("authors", help="Suspensions, bans and always-pre-moderate by author tag.")
holds = AppGroup("holds", help="Address ranges whose comments are held for review for a while.")

PROBLEMS = {
    SanctionProblem.UNKNOWN_AUTHOR: "no comment has this author tag",
    SanctionProblem.AMBIGUOUS_AUTHOR: "the tag names more than one author: give more of its hex digits",
    SanctionProblem.STAFF_AUTHOR: "the author of a staff answer cannot be restricted",
    SanctionProblem.ALREADY: "this author already has the same or a stronger restriction (lift it first)",
    SanctionProblem.BAD_CHOICE: "unknown duration or reason",
    SanctionProblem.NOTE_REQUIRED: "--reason other needs a --note",
    SanctionProblem.NOTE_TOO_LONG: f"the note has at most {sanctions.NOTE_MAX_LENGTH} characters",
    SanctionProblem.NOTHING_TO_LIFT: "nothing in force to lift",
    SanctionProblem.BAD_RANGE: "not an IP address or range",
    SanctionProblem.RANGE_TOO_WIDE: "range too wide: at most /16 for IPv4, /48 for IPv6",
    SanctionProblem.RANGE_OVERLAPS: "overlaps an address hold in force",
}


def _describe(error: SanctionError) -> str:
    words = PROBLEMS[error.problem]
    if error.current is not None:
        until = error.current.until.isoformat() if error.current.until else "no end"
        words += f" (in force: {error.current.kind.value} by {error.current.created_by}, until {until})"
    if error.hold_id is not None:
        words += f" (hold {error.hold_id})"
    return words


def register(app: Flask) -> None:
    app.cli.add_command(authors)
    app.cli.add_command(holds)


REASONS = click.Choice([reason.value for reason in sanctions.RestrictionReason])


@authors.command("restrict")
@click.argument("tag")
@click.option("--duration", required=True, type=click.Choice(list(sanctions.DURATIONS)))
@click.option("--reason", required=True, type=REASONS)
@click.option("--note", default="")
@click.option("--reject-pending", is_flag=True, help="Also reject the author's pending comments (each logged)")
def restrict_author(tag: str, duration: str, reason: str, note: str, reject_pending: bool):
    """Suspend (1d, 7d, 30d), ban or always pre-moderate the author with this TAG."""
    def change():
        author_hash = sanctions.author_hash_of_tag(db.session, tag)
        return author_hash, sanctions.restrict(db.session, author_hash, duration, reason, note=note,
                                               actor=COMMAND_LINE, now=now())
    author_hash, restriction = commit_or_fail(change, SanctionError, _describe)
    until = restriction.until.isoformat() if restriction.until else "no end"
    click.echo(f"author {author_hash[:8]}: {restriction.kind.value} until {until}")
    if reject_pending:
        rejected, skipped = sanctions.reject_pending_of(db.session, author_hash, actor=COMMAND_LINE, now=now(),
                                                         note=note, reason=reason)
        click.echo(f"rejected {rejected} pending comments ({skipped} decided by someone else first)")


@authors.command("lift")
@click.argument("tag")
def lift_author(tag: str):
    """End the restriction of the author with this TAG now."""
    commit_or_fail(lambda: sanctions.lift(db.session, sanctions.author_hash_of_tag(db.session, tag),
                                          actor=COMMAND_LINE, now=now()), SanctionError, _describe)
    click.echo(f"author {tag}: lifted")


@authors.command("list")
def list_authors():
    """Restrictions in force: tag, kind, reason, until, set by."""
    for row in sanctions.restrictions_in_force(db.session, now()):
        until = row.until.isoformat() if row.until else "-"
        click.echo(f"{row.author_hash[:8]}\t{row.kind.value}\t{row.reason}\t{until}\t{row.created_by}")


@holds.command("add")
@click.argument("address_or_range")
@click.option("--duration", required=True, type=click.Choice(list(sanctions.HOLD_DURATIONS)))
@click.option("--reason", required=True, type=REASONS)
@click.option("--note", default="")
def add_hold(address_or_range: str, duration: str, reason: str, note: str):
    """Hold comments from an address (its /24 or /64) or a range (at most /16 or /48); only its hash is kept."""
    hold = commit_or_fail(lambda: sanctions.hold_range(db.session, address_or_range, duration, reason, note=note,
                                                       pepper=current_app.config["IP_PEPPER"], actor=COMMAND_LINE,
                                                       now=now()), SanctionError, _describe)
    click.echo(f"hold {hold.id}: IPv{hold.family} /{hold.prefix} until {hold.until.isoformat()}")


@holds.command("list")
def list_holds():
    """Holds in force: id, size, reason, until, set by (no address: none is kept)."""
    for hold in sanctions.holds_in_force(db.session, now()):
        click.echo(f"{hold.id}\tIPv{hold.family} /{hold.prefix}\t{hold.reason}\t{hold.until.isoformat()}\t{hold.created_by}")


@holds.command("lift")
@click.argument("hold_id")
def lift_hold(hold_id: str):
    """End a hold now."""
    try:
        hold_id = row_id(hold_id)
    except ValueError:
        raise click.ClickException(f"no hold '{hold_id}' (the ids are in `flask holds list`)") from None
    commit_or_fail(lambda: sanctions.lift_hold(db.session, hold_id, actor=COMMAND_LINE, now=now()), SanctionError,
                   _describe)
    click.echo(f"hold {hold_id}: lifted")
