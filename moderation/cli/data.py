"""`flask export`, `flask import` and `flask retention`: the data as a whole, and what is forgotten."""

from __future__ import annotations

import errno
import os
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from moderation.clock import now
from moderation.extensions import db
from moderation.services import retention, transfer
from moderation.services.audit import COMMAND_LINE, AuditAction, record


def register(app: Flask) -> None:
    for command in (export_all, import_all, retention_command, erase_author_command):
        app.cli.add_command(command)


@click.command("export")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--include-password-hashes", is_flag=True,
              help="Also moderators' password hashes (keep the file as secret as the database)")
def export_all(path: Path, include_password_hashes: bool):
    """Write articles, comments with their reasons, reports, rules, moderators, the audit log and
    the site's settings (embed origins, webhook endpoints and the external check, with their
    secrets: keep the file as you keep the database) as JSON lines."""
    if not path.parent.is_dir():  # said before the progress bar starts
        raise click.ClickException(f"cannot write {path}: {os.strerror(errno.ENOENT)}")
    try:
        with click.progressbar(length=transfer.row_count(db.session, include_settings=True), label="exporting",
                               show_pos=True, show_eta=True) as bar:
            transfer.write_export(db.session, path, progress=lambda done: bar.update(1) or True,
                                  include_password_hashes=include_password_hashes, include_settings=True)
    except OSError as error:  # no permission, a full disk: said in a line, as every refusal here
        raise click.ClickException(f"cannot write {path}: {error.strerror}") from None
    except SQLAlchemyError as error:
        raise click.ClickException(f"the export stopped ({type(error).__name__}); {path} was left as it was") from None
    record(db.session, COMMAND_LINE, AuditAction.EXPORT, now=now(),
           note=f"{path.name}{' with password hashes' if include_password_hashes else ''}")
    db.session.commit()
    click.echo(f"exported to {path}")


@click.command("import")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_all(path: Path):
    """Restore a `flask export` file into an empty database (all or nothing)."""
    from sqlalchemy import inspect

    from moderation.services import long_jobs

    has_jobs = "long_job" in inspect(db.session.connection()).get_table_names()  # none before any schema
    running = long_jobs.active_job(db.session, long_jobs.Kind.IMPORT) if has_jobs else None
    if running is not None:
        raise click.ClickException(f"an import started from the admin page is running (job {running.id}); "
                                   "wait for it or cancel it on its page")
    with path.open("rb") as raw, click.progressbar(length=path.stat().st_size, label="importing",
                                                   show_eta=True) as bar:
        def lines():
            for line in raw:
                bar.update(len(line))
                yield line.decode("utf-8")

        try:
            counts = transfer.import_lines(db.session, lines())
        except transfer.ImportRefused as error:
            db.session.rollback()
            raise click.ClickException(f"nothing imported: {error}") from None
    db.session.commit()
    click.echo("imported " + ", ".join(f"{name} {count}" for name, count in counts.items()))


@click.command("erase-author")
@with_appcontext
@click.argument("tag")
def erase_author_command(tag: str):
    """Delete every comment of one author tag (the 8 characters moderators see), on the author's
    request, with a progress bar; logged like the button on the author's page."""
    from moderation.cli.common import run_long_job_here
    from moderation.services import review_queue
    from moderation.services.long_jobs import Kind

    parsed = review_queue.parse_author_tag(tag)
    if parsed is None or len(parsed) != review_queue.AUTHOR_TAG_LENGTH:
        raise click.ClickException(f"not an author tag: {tag!r} (8 letters and digits, as on a card)")
    result = run_long_job_here(Kind.ERASE_AUTHOR, parsed, label=f"erasing {parsed}")
    click.echo(f"erased {result['erased']} comments of {parsed}")


@click.command("retention")
@with_appcontext
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="Age in days (default: RETENTION_ADDRESS_DAYS, 90)")
def retention_command(days: int | None):
    """Erase address hashes older than the retention age (run daily from cron)."""
    days = days or current_app.config["RETENTION_ADDRESS_DAYS"]
    erased = retention.erase_address_hashes(db.session, older_than=now() - timedelta(days=days), days=days,
                                            actor=COMMAND_LINE, now=now())
    db.session.commit()
    summary = ", ".join(f"{name} {count}" for name, count in erased.items())
    click.echo(f"erased address hashes older than {days} days: {summary}")
