"""A migration test's database: emptied, brought to an earlier revision, emptied again afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask_migrate import upgrade

from moderation import create_app
from moderation.extensions import db as _db


@contextmanager
def schema_at(revision: str, database_url: str, tmp_path) -> Iterator[str]:
    """Inside the app's context, the schema of `revision` built by the migrations on an emptied
    database; yields the migrations' directory for further upgrades and downgrades. The database is
    emptied again whatever the test does (a `committing` test's own database, or SQLite's file)."""
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": database_url})
    directory = app.extensions["migrate"].directory
    with app.app_context():
        _db.drop_all()
        _db.session.execute(_db.text("DROP TABLE IF EXISTS alembic_version"))
        _db.session.commit()
        try:
            upgrade(directory=directory, revision=revision)
            yield directory
        finally:
            _db.session.rollback()
            _db.drop_all()
            _db.session.execute(_db.text("DROP TABLE IF EXISTS alembic_version"))
            _db.session.commit()
            _db.engine.dispose()
