"""`flask` commands for operators: init-db, load-article, rules, screening check."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_migrate import upgrade
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from moderation import retention, transfer
from moderation.article import bundled_seed, parse_seed
from moderation.extensions import db
from moderation import accounts
from moderation.models import Article, AuditEntry, DomainRuleRow, Moderator, Role, WordRuleRow
from moderation.screening.rules import Action
from moderation.screening_rules import (
    RuleError,
    active_rules,
    check_text,
    clean_domain,
    export_rules,
    import_rules,
    load_starter_rules,
    remove_rule,
    save_domain_rule,
    save_word_rule,
)


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
        added = load_starter_rules(db.session)
        if added:
            click.echo(f"starter screening rules loaded ({added} entries)")
        if db.session.scalar(select(func.count()).select_from(Moderator)) == 0:
            password = accounts.one_time_password()
            accounts.create_moderator(db.session, "admin", password, role=Role.ADMIN, must_change=True)
            db.session.commit()
            click.echo("first admin account created: name 'admin', one-time password (shown only now): "
                       f"{password}\n  sign in at /moderation/login; you will be asked for a new password")

    @app.cli.command("load-article")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--slug", required=True, help="URL name of the article, e.g. my-story")
    @click.option("--title", help="Headline; default: the first clause of the text")
    def load_article_command(path: Path, slug: str, title: str | None):
        """Load an article text file (same format as the seed)."""
        article, created = load_article(db.session, path.read_text(encoding="utf-8"), slug=slug, title=title)
        click.echo(f"article '{article.slug}' {'loaded' if created else 'already present; left unchanged'}")

    rules = AppGroup("rules", help="Screening word and domain lists.")
    app.cli.add_command(rules)

    @rules.command("list")
    def list_rules():
        """Print every word and domain rule."""
        for row in db.session.scalars(select(WordRuleRow).order_by(WordRuleRow.action, WordRuleRow.term)):
            click.echo(f"word\t{row.action}\t{row.term}\t{row.note}")
        for row in db.session.scalars(select(DomainRuleRow).order_by(DomainRuleRow.action, DomainRuleRow.domain)):
            click.echo(f"domain\t{row.action}\t{row.domain}")

    @rules.command("add-word")
    @click.argument("action", type=click.Choice([action.value for action in Action]))
    @click.argument("term")
    @click.option("--note", default="")
    def add_word(action: str, term: str, note: str):
        """Add (or replace the action of) a word rule."""
        _save(lambda: save_word_rule(db.session, term, action, note), "rule_add", f"word\t{term.strip()}\t{action}")

    @rules.command("add-domain")
    @click.argument("action", type=click.Choice([Action.BLOCK.value, Action.ALLOW.value]))
    @click.argument("domain")
    def add_domain(action: str, domain: str):
        """Block (spam) or allow (never counted) a link domain and its subdomains."""
        _save(lambda: save_domain_rule(db.session, domain, action), "rule_add", f"domain\t{clean_domain(domain)}\t{action}")

    @rules.command("remove")
    @click.argument("value")
    def remove(value: str):
        """Remove the word or domain rule with this exact text."""
        removed = remove_rule(db.session, value)
        if removed:
            _audit_cli("rule_remove", value.strip())
        db.session.commit()
        click.echo(f"removed {removed}")


    @rules.command("import")
    @click.argument("kind", type=click.Choice(["word", "domain"]))
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def import_command(kind: str, path: Path):
        """Add or update rules from a `value<TAB>action` file (all or nothing)."""
        saved, problems = import_rules(db.session, kind, path.read_text(encoding="utf-8"))
        if problems:
            raise click.ClickException("nothing imported:\n" + "\n".join(problems[:50]))
        _audit_cli("rule_import", f"{kind}: {saved}")
        click.echo(f"imported {saved}")

    @rules.command("export")
    @click.argument("kind", type=click.Choice(["word", "domain"]))
    def export_command(kind: str):
        """Print the list as `value<TAB>action` lines."""
        click.echo(export_rules(db.session, kind), nl=False)

    moderators = AppGroup("moderators", help="Moderator accounts.")
    app.cli.add_command(moderators)

    @moderators.command("create")
    @click.argument("name")
    @click.option("--role", type=click.Choice([role.value for role in Role]), default=Role.MODERATOR.value)
    @click.password_option(prompt="Password (at least 12 characters)")
    def create_moderator(name: str, role: str, password: str):
        """Create a moderator account (the password is asked for, never taken as an argument)."""
        try:
            accounts.create_moderator(db.session, name, password, role=Role(role))
        except accounts.AccountError as error:
            raise click.ClickException(str(error)) from None
        _audit_cli("moderator_create", f"{name.strip()} ({role})")
        click.echo(f"moderator '{name.strip()}' created ({role})")

    @moderators.command("set-password")
    @click.argument("name")
    @click.password_option(prompt="New password (at least 12 characters)")
    def set_password(name: str, password: str):
        """Set a moderator's password (asked for); their open sessions end."""
        moderator = accounts.find_moderator(db.session, name)
        if moderator is None:
            raise click.ClickException(f"no moderator named '{name}'")
        try:
            accounts.set_password(db.session, moderator, password)
        except accounts.AccountError as error:
            raise click.ClickException(str(error)) from None
        _audit_cli("password_reset", moderator.name)
        click.echo(f"password of '{moderator.name}' set")

    @moderators.command("list")
    def list_moderators():
        """Name, role and state of every account."""
        for moderator in db.session.scalars(select(Moderator).order_by(Moderator.name)):
            state = "active" if moderator.is_active else "disabled"
            click.echo(f"{moderator.name}\t{moderator.role.value}\t{state}")

    @app.cli.command("export")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--include-password-hashes", is_flag=True,
                  help="Also moderators' password hashes (keep the file as secret as the database)")
    def export_all(path: Path, include_password_hashes: bool):
        """Write articles, comments with their reasons, reports, rules, moderators and the audit log
        as JSON lines."""
        with path.open("w", encoding="utf-8") as out:
            for line in transfer.export_lines(db.session, include_password_hashes=include_password_hashes):
                out.write(line)
        _audit_cli("export", f"{path.name}{' with password hashes' if include_password_hashes else ''}")
        click.echo(f"exported to {path}")

    @app.cli.command("import")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def import_all(path: Path):
        """Restore a `flask export` file into an empty database (all or nothing)."""
        with path.open(encoding="utf-8") as lines:
            try:
                counts = transfer.import_lines(db.session, lines)
            except transfer.ImportRefused as error:
                db.session.rollback()
                raise click.ClickException(f"nothing imported: {error}") from None
        db.session.commit()
        click.echo("imported " + ", ".join(f"{name} {count}" for name, count in counts.items()))

    @app.cli.command("retention")
    @click.option("--days", type=click.IntRange(min=1), default=None,
                  help="Age in days (default: RETENTION_ADDRESS_DAYS, 90)")
    def retention_command(days: int | None):
        """Erase address hashes older than the retention age (run daily from cron)."""
        days = days or current_app.config["RETENTION_ADDRESS_DAYS"]
        now = current_app.config["CLOCK"]()
        erased = retention.erase_address_hashes(db.session, older_than=now - timedelta(days=days))
        summary = ", ".join(f"{name} {count}" for name, count in erased.items())
        _audit_cli("retention", f"address hashes older than {days} days: {summary}")
        click.echo(f"erased address hashes older than {days} days: {summary}")

    screening = AppGroup("screening", help="Try the active screening rules.")
    app.cli.add_command(screening)

    @screening.command("check")
    @click.argument("text")
    @click.option("--nickname", default=None, help="Screen this nickname too")
    @click.option("--post-moderation", is_flag=True, help="As in a post-moderated article")
    def check(text: str, nickname: str | None, post_moderation: bool):
        """Print, as JSON, what the active rules decide for TEXT; nothing is stored."""
        config = current_app.config
        rules = active_rules(db.session, config, current_app.extensions["screening_rules"])
        result = check_text(rules, text, nickname=nickname, post_moderation=post_moderation, now=config["CLOCK"]())
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))


def _audit_cli(action: str, note: str) -> None:
    db.session.add(AuditEntry(at=current_app.config["CLOCK"](), actor="cli", action=action, note=note))
    db.session.commit()


def _save(change, action: str, note: str) -> None:
    try:
        change()
    except RuleError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    _audit_cli(action, note)
    click.echo(f"saved {note.split(chr(9))[1]}")
