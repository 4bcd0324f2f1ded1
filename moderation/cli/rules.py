"""`flask rules …`: the screening word and domain lists, through the same functions as the rules page."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from moderation.cli.common import commit_or_fail, run_long_job_here
from moderation.clock import now
from moderation.extensions import db
from moderation.screening.matching import Action
from moderation.services.audit import COMMAND_LINE
from moderation.services.rulebook.edits import (
    FUZZY_CHOICES,
    RuleError,
    RuleProblem,
    domain_rules,
    remove_rule,
    save_domain_rule,
    save_word_rule,
    word_rules,
)
from moderation.services.rulebook.exchange import KINDS, export_rules, import_rules
from moderation.services.rulebook.starter import starter_rules_lacking

group = AppGroup("rules", help="Screening word and domain lists.")

# The words of `RuleProblem` for the operator's terminal (the pages word them in labels.html).
PROBLEMS = {
    RuleProblem.UNKNOWN_ACTION: "unknown action {value!r}: block, hold, spam or allow",
    RuleProblem.BLANK_TERM: "the term is empty once its spaces and punctuation are left out",
    RuleProblem.TERM_TOO_LONG: "a term holds at most {value} characters",
    RuleProblem.DOMAIN_ACTION: "a domain rule is block or allow, not {value!r}",
    RuleProblem.INVALID_DOMAIN: "{value!r} is not a domain name",
    RuleProblem.CONTROL_CHARACTER: "control characters have no place in a rule",
    RuleProblem.PHRASE_WITHOUT_TERM: "the phrase must contain the term {value!r}",
    RuleProblem.UNKNOWN_FUZZY: "unknown fuzzy choice {value!r}: hold, action or off",
    RuleProblem.TWIN_OF_THE_OTHER_KIND: "screening reads this as the same term as the rule {value!r}, and one "
                                        "allows what the other stops: change or remove one of them",
    RuleProblem.NO_TAB: "a line is value<TAB>action; this one has no tab: {value!r}",
}


def worded(error: RuleError) -> str:
    return PROBLEMS[error.problem].format(value=error.value)


def register(app: Flask) -> None:
    app.cli.add_command(group)


@group.command("list")
def list_rules():
    """Print every word and domain rule."""
    for row in word_rules(db.session):
        click.echo(f"word\t{row.action}\t{row.term}\t{row.note}\tfuzzy:{row.fuzzy}")
    for row in domain_rules(db.session):
        click.echo(f"domain\t{row.action}\t{row.domain}")


@group.command("add-word")
@click.argument("action", type=click.Choice([action.value for action in Action]))
@click.argument("term")
@click.option("--note", default="")
@click.option("--fuzzy", type=click.Choice(FUZZY_CHOICES), default="hold", show_default=True,
              help="A fuzzy match (pinyin, homophones, reversal, fillers, look-alikes): hold it, take the "
                   "rule's action, or match exactly only")
def add_word(action: str, term: str, note: str, fuzzy: str):
    """Add (or replace the action of) a word rule."""
    row = commit_or_fail(
        lambda: save_word_rule(db.session, term, action, note, actor=COMMAND_LINE, now=now(), fuzzy=fuzzy), RuleError,
        worded)
    click.echo(f"saved {row.term}")


@group.command("add-domain")
@click.argument("action", type=click.Choice([Action.BLOCK.value, Action.ALLOW.value]))
@click.argument("domain")
def add_domain(action: str, domain: str):
    """Block (spam) or allow (never counted) a link domain and its subdomains."""
    row = commit_or_fail(lambda: save_domain_rule(db.session, domain, action, actor=COMMAND_LINE, now=now()),
                         RuleError, worded)
    click.echo(f"saved {row.domain}")


@group.command("remove")
@click.argument("value")
def remove(value: str):
    """Remove the word or domain rule with this exact text."""
    removed = remove_rule(db.session, value, actor=COMMAND_LINE, now=now())
    db.session.commit()
    click.echo(f"removed {removed}")


@group.command("add-starter")
@click.option("--dry-run", is_flag=True, help="Say what would be added, add nothing")
def add_starter(dry_run: bool):
    """Add the starter list's rules that this database lacks (those new in a later release), except
    those an admin removed. Rules already there, as the admins left them, are not touched."""
    lacking, kept_out = starter_rules_lacking(db.session)
    added, refused = [], []
    for kind, action, value, note in lacking:
        try:  # each refused before anything of it is written (edits.py), so the others still go in
            if kind == "word":
                added.append(save_word_rule(db.session, value, action, note, actor=COMMAND_LINE, now=now()).term)
            else:
                added.append(save_domain_rule(db.session, value, action, actor=COMMAND_LINE, now=now()).domain)
        except RuleError as error:
            refused.append(f"{value}: {worded(error)}")
    if dry_run:  # every check made, nothing kept
        db.session.rollback()
    else:
        db.session.commit()
    verb = "would add" if dry_run else "added"
    click.echo(f"{verb} {len(added)}" + (": " + ", ".join(added) if added else ""))
    if kept_out:
        click.echo(f"left out {len(kept_out)} removed earlier (the audit log's rule removals): " + ", ".join(kept_out)
                   + "; `rules add-word` or `rules add-domain` brings one back")
    for line in refused:
        click.echo(f"refused {line}")


@group.command("rescreen")
def rescreen_command():
    """The current rules applied again to every pending comment, with a progress bar."""
    from moderation.services.long_jobs import Kind

    result = run_long_job_here(Kind.RESCREEN, label="re-screening")
    moved = ", ".join(f"{status} {count}" for status, count in result["moved"].items()) or "none"
    click.echo(f"re-screened {result['done']} pending comments; moved: {moved}")


@group.command("import")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(kind: str, path: Path):
    """Add or update rules from a `value<TAB>action` file (all or nothing)."""
    saved, refused = import_rules(db.session, kind, path.read_text(encoding="utf-8"), actor=COMMAND_LINE, now=now())
    if refused:
        db.session.rollback()
        lines = "\n".join(f"line {line.number}: {worded(line.error)}" for line in refused[:50])
        raise click.ClickException("nothing imported:\n" + lines)
    db.session.commit()
    click.echo(f"imported {saved}")


@group.command("export")
@click.argument("kind", type=click.Choice(KINDS))
def export_command(kind: str):
    """Print the list as `value<TAB>action` lines."""
    click.echo(export_rules(db.session, kind), nl=False)
