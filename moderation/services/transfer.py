"""The operator's data, out and back in: every table that matters, as JSON lines.

One record per line, `{"type": "<table>", ...columns}`, tables in an order that import can follow
(articles before their comments, comments before their likes, reasons, reports and audit rows).
Captcha challenges, sessions and throttling rows are transient and stay behind. Password hashes
are left out unless asked for: an imported account without one cannot sign in until
`flask moderators set-password` gives it a password.

A restore goes into an empty database: `flask init-db --empty` makes one (the schema, nothing in
it), since plain `init-db` loads the seed article, the starter rules and the first admin.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Iterator
from datetime import datetime

from sqlalchemy import func, insert, inspect, select, text
from sqlalchemy.orm import Session

from moderation.models import (
    AddressHold,
    ApiKey,
    Article,
    AuditEntry,
    AuthorRestriction,
    Base,
    Comment,
    CommentCluster,
    CommentLike,
    CommentReport,
    DomainRuleRow,
    Moderator,
    ScreeningReason,
    Surge,
    UTCDateTime,
    WordRuleRow,
)
from moderation.services import rollups
from moderation.services.accounts import unusable_password_hash

FORMAT = "moderation-export/1"
# Import order: a row only refers to rows of the tables before it.
MODELS: tuple[type[Base], ...] = (
    Article, Moderator, WordRuleRow, DomainRuleRow, Surge, CommentCluster, Comment, CommentLike, ScreeningReason,
    CommentReport, AuditEntry, ApiKey, AuthorRestriction, AddressHold,
)
BY_TYPE = {model.__tablename__: model for model in MODELS}


class ImportRefused(Exception):
    pass


def export_records(db: Session, *, include_password_hashes: bool = False) -> Iterator[dict]:
    yield {"type": "header", "format": FORMAT}
    for model in MODELS:
        columns = list(model.__table__.columns)
        statement = select(*columns).order_by(model.__table__.primary_key.columns.values()[0])
        for row in db.execute(statement.execution_options(yield_per=1000)):
            record = {"type": model.__tablename__}
            for column, value in zip(columns, row, strict=True):
                if model is Moderator and column.name == "password_hash" and not include_password_hashes:
                    continue
                record[column.name] = _to_json(value)
            yield record


def export_lines(db: Session, **options) -> Iterator[str]:
    for record in export_records(db, **options):
        yield json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"


def row_count(db: Session) -> int:
    """How many records an export writes (besides its header)."""
    return sum(db.scalar(select(func.count()).select_from(model)) for model in MODELS)


def occupied_tables(db: Session) -> list[str]:
    """The exported tables that hold rows (an import refuses them)."""
    return [model.__tablename__ for model in MODELS if db.scalar(select(func.count()).select_from(model))]


def import_lines(db: Session, lines: Iterable[str]) -> dict[str, int]:
    """Restore an export into an empty database; all or nothing (the caller commits)."""
    existing = set(inspect(db.connection()).get_table_names())
    missing = [model.__tablename__ for model in MODELS if model.__tablename__ not in existing]
    if missing:
        raise ImportRefused(f"the database has no schema ({', '.join(missing)} missing): "
                            "make an empty one with `flask init-db --empty` first")
    occupied = occupied_tables(db)
    if occupied:
        raise ImportRefused(f"the database is not empty ({', '.join(occupied)}): restore into one made with "
                            "`flask init-db --empty`")
    counts = {model.__tablename__: 0 for model in MODELS}
    batches: dict[str, list[dict]] = {name: [] for name in counts}
    seen_header = False
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise ImportRefused(f"line {number}: not JSON") from None
        kind = record.pop("type", None)
        if kind == "header":
            if record.get("format") != FORMAT:
                raise ImportRefused(f"line {number}: unknown format {record.get('format')!r}")
            seen_header = True
            continue
        if kind not in BY_TYPE:
            raise ImportRefused(f"line {number}: unknown record type {kind!r}")
        batches[kind].append(_from_json(BY_TYPE[kind], record, number))
    if not seen_header:
        raise ImportRefused("no export header: not a file written by `flask export`")
    for model in MODELS:
        rows = batches[model.__tablename__]
        for start in range(0, len(rows), 1000):
            db.execute(insert(model), rows[start:start + 1000])
        counts[model.__tablename__] = len(rows)
    _advance_sequences(db)
    rollups.rebuild(db)  # the dashboard's figures follow the comments (they are not exported)
    return counts


def _to_json(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _from_json(model: type[Base], record: dict, number: int) -> dict:
    row = {}
    for column in model.__table__.columns:
        if column.name not in record:
            continue
        value = record[column.name]
        if value is not None and isinstance(column.type, UTCDateTime):
            try:
                value = datetime.fromisoformat(value)
            except (TypeError, ValueError):
                raise ImportRefused(f"line {number}: {column.name} is not a time") from None
        row[column.name] = value
    if model is Article and "key" not in row and "slug" in row:  # written before articles had keys
        row["key"] = row["slug"]
    if model is Moderator and "password_hash" not in row:
        row["password_hash"] = unusable_password_hash()
        row["must_change_password"] = True
    return row


def _advance_sequences(db: Session) -> None:
    """PostgreSQL hands out ids from sequences, which inserting ids by hand does not advance."""
    if db.get_bind().dialect.name != "postgresql":
        return
    for model in MODELS:
        table = model.__tablename__
        if "id" not in model.__table__.columns:  # keyed by what it holds (an author hash): no sequence
            continue
        db.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        ))
