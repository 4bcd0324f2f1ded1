"""`flask moderators …`: accounts, with passwords asked for at a prompt, never taken as arguments."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from moderation.cli.common import commit_or_fail
from moderation.clock import now
from moderation.extensions import db
from moderation.models import Role
from moderation.services import accounts
from moderation.services.audit import COMMAND_LINE

group = AppGroup("moderators", help="Moderator accounts.")

# The words of `accounts.AccountProblem` for the operator's terminal.
PROBLEMS = {
    accounts.AccountProblem.PASSWORD_TOO_SHORT: f"the password needs at least {accounts.MIN_PASSWORD_LENGTH} characters",
    accounts.AccountProblem.NAME_LENGTH: "the name needs 1 to 40 visible characters",
    accounts.AccountProblem.NAME_TAKEN: "this name is taken",
    accounts.AccountProblem.NAME_RESERVED: "this name is reserved for the audit log's automatic entries",
    accounts.AccountProblem.NAME_LOOKALIKE: "this name looks too much like an existing account's",
    accounts.AccountProblem.NAME_CHARACTERS: "a name holds letters and digits, joined by single . _ or -",
}


def _problem(error: accounts.AccountError) -> str:
    return PROBLEMS[error.problem]


def register(app: Flask) -> None:
    app.cli.add_command(group)


@group.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice([role.value for role in Role]), default=Role.MODERATOR.value)
@click.password_option(prompt="Password (at least 12 characters)")
def create_moderator(name: str, role: str, password: str):
    """Create a moderator account. The password is asked for, hidden and twice; --password is for
    scripts (it stays in the shell's history and the process list)."""
    created = commit_or_fail(
        lambda: accounts.add_moderator(db.session, name, password, role=Role(role), must_change=False,
                                       actor=COMMAND_LINE, now=now(), hasher=accounts.hasher_for(current_app.config)),
        accounts.AccountError, _problem)
    click.echo(f"moderator '{created.name}' created ({role})")


@group.command("set-password")
@click.argument("name")
@click.option("--password", help="For scripts (it stays in the shell's history and the process list).")
def set_password(name: str, password: str | None):
    """Set a moderator's password (asked for, hidden and twice, once the name is found; --password
    for scripts); their open sessions end."""
    moderator = accounts.find_moderator(db.session, name)
    if moderator is None:
        raise click.ClickException(f"no moderator named '{name}'")
    if password is None:
        password = click.prompt("New password (at least 12 characters)", hide_input=True, confirmation_prompt=True)
    commit_or_fail(
        lambda: accounts.reset_password(db.session, moderator, password, must_change=False, actor=COMMAND_LINE,
                                        now=now(), hasher=accounts.hasher_for(current_app.config)),
        accounts.AccountError, _problem)
    click.echo(f"password of '{moderator.name}' set")


@group.command("list")
def list_moderators():
    """Name, role and state of every account (and those restored without a password, which cannot
    sign in until one is set)."""
    for moderator in accounts.all_moderators(db.session):
        state = "active" if moderator.is_active else "disabled"
        unset = "" if accounts.has_password(moderator) else f"\tno password: moderators set-password {moderator.name}"
        click.echo(f"{moderator.name}\t{moderator.role.value}\t{state}{unset}")
