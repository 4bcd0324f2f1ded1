"""What the command groups share: committing, with a plain error on refusal."""

from __future__ import annotations

import click

from moderation.extensions import db


def commit_or_fail(change, refused: type[Exception], describe=str):
    """Run `change`; commit, or roll back and exit non-zero with the refusal described."""
    try:
        result = change()
    except refused as error:
        db.session.rollback()
        raise click.ClickException(describe(error)) from None
    db.session.commit()
    return result
