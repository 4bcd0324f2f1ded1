"""The operator's data, out and back in: every table that matters, as JSON lines.

One record per line, `{"type": "<table>", ...columns}`, tables in an order that import can follow
(articles before their comments, comments before their likes, reasons, reports and audit rows).
Captcha challenges, sessions and throttling rows are transient and stay behind. Password hashes
are left out unless asked for: an imported account without one cannot sign in until
`flask moderators set-password` gives it a password. `flask export` also writes the site's
settings (SETTINGS: the origins allowed to frame the embed, webhook endpoints and the external
check, with the secrets they sign with), so that a restore sends and frames as before.

A restore goes into an empty database: `flask init-db --empty` makes one (the schema, nothing in
it), since plain `init-db` loads the seed article, the starter rules and the first admin.

The admin's page (web/data_admin.py) runs both as jobs (jobs/long_work.py). Its export writes
`instance/exports/<job>.jsonl` (never password hashes, nor the settings and their secrets). Its import restores into a site that holds
no content yet, only accounts and their audit log (an admin must be signed in to press the
button): the file's accounts join the existing ones by name (an existing account is kept as it
is), every reference to an account follows, the file's audit rows come after the site's own; it is
checked whole before the job starts (`check_lines`) and then written in batches, each committed
with the job's progress; an import cancelled or cut short is taken back (take_back_import). The
site's own settings stay as they are: settings in the file are passed over.
"""

from __future__ import annotations

import enum
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, func, insert, inspect, select, text, tuple_
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
    EmbedSite,
    ExternalCheck,
    Moderator,
    ScreeningReason,
    Surge,
    UTCDateTime,
    WebhookEndpoint,
    WordRuleRow,
)
from moderation.services import rollups
from moderation.services.accounts import unusable_password_hash

FORMAT = "moderation-export/2"  # /2 ends with an "end" record counting the records: a file cut short is refused
FORMATS_READ = (FORMAT, "moderation-export/1")  # /1 (no end record) from earlier releases is still read
# Import order: a row only refers to rows of the tables before it.
MODELS: tuple[type[Base], ...] = (
    Article, Moderator, WordRuleRow, DomainRuleRow, Surge, CommentCluster, Comment, CommentLike, ScreeningReason,
    CommentReport, AuditEntry, ApiKey, AuthorRestriction, AddressHold,
)
# The site's settings, after the rest: only `flask export` writes them (with their secrets).
SETTINGS: tuple[type[Base], ...] = (EmbedSite, WebhookEndpoint, ExternalCheck)
ALL_MODELS = MODELS + SETTINGS  # what `flask export` writes and `flask import` reads, in that order
BY_TYPE = {model.__tablename__: model for model in ALL_MODELS}


class ImportRefused(Exception):
    """Why a file cannot be imported: `problem` is a code the page words, `line` where (if one line),
    `detail` what was found there; str() is the command line's English sentence."""

    def __init__(self, problem: str, message: str, *, line: int | None = None, detail: str = ""):
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.problem, self.line, self.detail = problem, line, detail


EXPORT_BATCH = 1000  # rows per query: an export job commits its progress between them
IMPORT_BATCH = 1000  # rows per INSERT; the page's import commits after each (with its progress)
# What a site may already hold when the page imports into it: someone must be signed in to start it.
KEPT_BY_PAGE_IMPORT = (Moderator, AuditEntry)


def export_records(db: Session, *, include_password_hashes: bool = False, include_settings: bool = False,
                   batch: int = EXPORT_BATCH) -> Iterator[dict]:
    """Table by table, each read in keyset batches by primary key: no cursor stays open between
    batches, so the caller may commit between them (the export job stores its progress)."""
    yield {"type": "header", "format": FORMAT}
    written = 0
    for model in _exported(include_settings):
        columns = list(model.__table__.columns)
        key = list(model.__table__.primary_key.columns)
        position = {column.name: index for index, column in enumerate(columns)}
        last = None
        while True:
            statement = select(*columns).order_by(*key).limit(batch)
            if last is not None:
                statement = statement.where(tuple_(*key) > tuple_(*last))
            rows = db.execute(statement).all()
            for row in rows:
                record = {"type": model.__tablename__}
                for column, value in zip(columns, row, strict=True):
                    if model is Moderator and column.name == "password_hash" and not include_password_hashes:
                        continue
                    record[column.name] = _to_json(value)
                written += 1
                yield record
            if len(rows) < batch:
                break
            last = [rows[-1][position[column.name]] for column in key]
    yield {"type": "end", "records": written}


def export_lines(db: Session, **options) -> Iterator[str]:
    return map(_line, export_records(db, **options))


def _line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"


def write_export(db: Session, target: Path, *, progress: Callable[[int], bool] = lambda done: True,
                 **options) -> int | None:
    """The export written to `target` through a `.part` file beside it, renamed only once complete:
    a fault or a stop half-way leaves any earlier file of that name as it was, and no part behind.
    `progress(records written)` after each record; False stops it. Returns the records written, or
    None when stopped."""
    # A part of its own (two exports to one name at once must not remove each other's), readable by
    # its owner alone, as secrets.json is: it holds webhook secrets and keyed hashes (mkstemp: 0600).
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f"{target.name}.", suffix=".part")
    partial = Path(name)
    records = 0
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            for record in export_records(db, **options):
                out.write(_line(record))
                if record["type"] in ("header", "end"):
                    continue
                records += 1
                if not progress(records):
                    partial.unlink()
                    return None
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return records


def _exported(include_settings: bool) -> tuple[type[Base], ...]:
    return ALL_MODELS if include_settings else MODELS


def row_count(db: Session, *, include_settings: bool = False) -> int:
    """How many records an export writes (besides its header and its end)."""
    return sum(db.scalar(select(func.count()).select_from(model)) for model in _exported(include_settings))


def occupied_tables(db: Session) -> list[str]:
    """The exported tables, settings included, that hold rows (an import refuses them)."""
    return [model.__tablename__ for model in ALL_MODELS if db.scalar(select(func.count()).select_from(model))]


def _parsed(lines: Iterable[str]) -> Iterator[tuple[type[Base], dict]]:
    """Each record's model and row, in the file's order; refuses the first line that is not one, and
    a file of the current format that does not end with its end record (an export cut short)."""
    seen_header, format_, records, ended = False, None, 0, False
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise ImportRefused("not_json", "not JSON", line=number) from None
        if not isinstance(record, dict):
            raise ImportRefused("not_json", "not a JSON object", line=number)
        kind = record.pop("type", None)
        if kind == "header":
            if record.get("format") not in FORMATS_READ:
                raise ImportRefused("unknown_format", f"unknown format {record.get('format')!r}", line=number,
                                    detail=str(record.get("format"))[:80])
            seen_header, format_ = True, record["format"]
            continue
        if not seen_header:
            raise ImportRefused("no_header", "no export header: not a file written by `flask export`")
        if ended:
            raise ImportRefused("after_end", "a record after the export's end record", line=number)
        if kind == "end":
            if record.get("records") != records:
                raise ImportRefused("truncated", f"the end record counts {record.get('records')!r} records, "
                                    f"the file holds {records}", line=number, detail=str(records))
            ended = True
            continue
        if not isinstance(kind, str) or kind not in BY_TYPE:
            raise ImportRefused("unknown_type", f"unknown record type {kind!r}", line=number, detail=str(kind)[:80])
        model = BY_TYPE[kind]
        row = _from_json(model, record, number)
        missing = [name for name in _required(model) if row.get(name) is None]
        if missing:
            raise ImportRefused("missing_field", f"{kind} without {', '.join(missing)}", line=number,
                                detail=", ".join(missing))
        records += 1
        yield model, row
    if not seen_header:
        raise ImportRefused("no_header", "no export header: not a file written by `flask export`")
    if format_ == FORMAT and not ended:
        raise ImportRefused("truncated", "the file stops before its end record: an export cut short",
                            detail=str(records))


def _required(model: type[Base]) -> list[str]:
    """What a record must hold: its key, and what the table cannot do without and has no default for."""
    return [column.name for column in model.__table__.columns
            if column.primary_key or (not column.nullable and column.default is None and column.server_default is None)]


def export_file(folder: Path, job_id: int) -> Path:
    """Where the page's export job writes: `<instance>/exports/<job>.jsonl` (a name made here, never typed)."""
    return folder / "exports" / f"{job_id}.jsonl"


def import_file(folder: Path, job_id: int) -> Path:
    """Where an uploaded file waits for its import job (deleted when the job ends)."""
    return folder / "imports" / f"{job_id}.jsonl"


def check_lines(lines: Iterable[str]) -> dict[str, int]:
    """Read a whole file without storing anything: its records per table, or ImportRefused."""
    counts = {model.__tablename__: 0 for model in ALL_MODELS}
    for model, _row in _parsed(lines):
        counts[model.__tablename__] += 1
    return counts


def _require_schema(db: Session) -> None:
    existing = set(inspect(db.connection()).get_table_names())
    missing = [model.__tablename__ for model in MODELS if model.__tablename__ not in existing]
    if missing:
        raise ImportRefused("no_schema", f"the database has no schema ({', '.join(missing)} missing): "
                            "make an empty one with `flask init-db --empty` first")


def import_lines(db: Session, lines: Iterable[str]) -> dict[str, int]:
    """Restore an export into an empty database; all or nothing (the caller commits)."""
    _require_schema(db)
    occupied = occupied_tables(db)
    if occupied:
        raise ImportRefused("not_empty", f"the database is not empty ({', '.join(occupied)}): restore into one "
                            "made with `flask init-db --empty`", detail=", ".join(occupied))
    counts = {model.__tablename__: 0 for model in ALL_MODELS}
    batches: dict[str, list[dict]] = {name: [] for name in counts}
    for model, row in _parsed(lines):
        batches[model.__tablename__].append(row)
    for model in ALL_MODELS:
        rows = batches[model.__tablename__]
        for start in range(0, len(rows), IMPORT_BATCH):
            db.execute(insert(model), rows[start:start + IMPORT_BATCH])
        counts[model.__tablename__] = len(rows)
    _advance_sequences(db)
    rollups.rebuild(db)  # the dashboard's figures follow the comments (they are not exported)
    return counts


def content_tables(db: Session) -> list[str]:
    """The exported tables that hold rows, besides the accounts and the audit log (the page's import
    refuses them)."""
    return [name for name in occupied_tables(db)
            if name not in {model.__tablename__ for model in KEPT_BY_PAGE_IMPORT + SETTINGS}]


def refuse_unless_site_without_content(db: Session) -> None:
    _require_schema(db)
    occupied = content_tables(db)
    if occupied:
        raise ImportRefused("not_empty", f"the site already holds {', '.join(occupied)}", detail=", ".join(occupied))


AUDIT_ID_GAP = 100_000  # audit rows the site may write during an import, at most
ACCOUNT_ID_GAP = 1_000  # accounts an admin may add during an import, at most


@dataclass(frozen=True)
class ImportMarks:
    """What a page import will add beside what the site holds, known before it writes anything: the
    file's audit rows take the ids after `audit_offset` up to `audit_to`, and its accounts the site
    does not have (`new_accounts`) the ids from `first_account` on. Kept in the job's result, so that
    an import cut short can be taken back later, by another process."""

    audit_offset: int
    audit_to: int
    first_account: int
    new_accounts: tuple[str, ...]

    def as_json(self) -> dict:
        return {"audit_offset": self.audit_offset, "audit_to": self.audit_to, "first_account": self.first_account,
                "new_accounts": list(self.new_accounts)}

    @classmethod
    def from_json(cls, value: dict) -> ImportMarks:
        return cls(int(value["audit_offset"]), int(value["audit_to"]), int(value["first_account"]),
                   tuple(value["new_accounts"]))


def survey_import(db: Session, lines: Iterable[str]) -> tuple[ImportMarks, int]:
    """The marks of an import of a file already checked (`check_lines`), read from the site and the
    file, and the file's records (its lines but the header and the end), in one reading of it."""
    audit_ids, names = [0], set()
    count, last = 0, ""
    for line in lines:
        if line.strip():
            count, last = count + 1, line
        if '"audit_entry"' in line or '"moderator"' in line:
            record = json.loads(line)
            if record.get("type") == AuditEntry.__tablename__:
                audit_ids.append(int(record["id"]))
            elif record.get("type") == Moderator.__tablename__:
                names.add(record["name"])
    # A gap after the site's own ids: rows the site writes while the import runs (a sign-in, a
    # decision) take the ids after its highest, and must not take one the file's rows are given.
    audit_offset = (db.scalar(select(func.max(AuditEntry.id))) or 0) + AUDIT_ID_GAP
    existing = set(db.scalars(select(Moderator.name).where(Moderator.name.in_(names)))) if names else set()
    ended = json.loads(last).get("type") == "end" if count > 1 else False
    return ImportMarks(audit_offset=audit_offset, audit_to=audit_offset + max(audit_ids),
                       first_account=(db.scalar(select(func.max(Moderator.id))) or 0) + 1 + ACCOUNT_ID_GAP,
                       new_accounts=tuple(sorted(names - existing))), count - 1 - int(ended)


def take_back_import(db: Session, marks: ImportMarks) -> None:
    """What an import cut short or cancelled wrote, so that the site is as it was and can import
    again (a half-restored site is no site to serve): every content table (the site held no content
    when the import began, refuse_unless_site_without_content; a reader's comment on an imported
    article since goes with it), and the file's audit rows and new accounts. Commits."""
    for model in reversed(MODELS):
        if model not in KEPT_BY_PAGE_IMPORT:
            db.execute(delete(model))
    db.execute(delete(AuditEntry).where(AuditEntry.id > marks.audit_offset, AuditEntry.id <= marks.audit_to))
    if marks.new_accounts:
        db.execute(delete(Moderator).where(Moderator.id >= marks.first_account,
                                           Moderator.name.in_(marks.new_accounts)))
    rollups.rebuild(db)
    db.commit()


def import_into_site(db: Session, lines: Iterable[str], *, progress: Callable[[int, int], bool],
                     total: int, marks: ImportMarks, batch: int = IMPORT_BATCH) -> tuple[dict[str, int], bool]:
    """The page's import (see the module's docstring): commits each batch, then calls
    `progress(done, total)`; stops when it answers False. Returns the rows written per table and
    whether it was stopped. A site that gained content since the check is refused first."""
    refuse_unless_site_without_content(db)
    accounts = dict(db.execute(select(Moderator.name, Moderator.id)).all())
    next_account, audit_offset = marks.first_account, marks.audit_offset
    account_of: dict[int, int] = {}  # the file's account id -> the site's
    counts = {model.__tablename__: 0 for model in MODELS}
    pending: list[dict] = []
    pending_model: type[Base] | None = None
    done, stopped = 0, False

    def write() -> bool:
        nonlocal done
        if pending:
            db.execute(insert(pending_model), pending)
            counts[pending_model.__tablename__] += len(pending)
            done += len(pending)
            pending.clear()
        db.commit()
        return progress(done, total)

    try:
        for model, row in _parsed(lines):
            if model in SETTINGS:  # the site keeps its own
                done += 1
                continue
            if model is Moderator:
                if row["name"] in accounts:
                    account_of[row["id"]] = accounts[row["name"]]
                    done += 1
                    continue
                account_of[row["id"]], row["id"] = next_account, next_account
                accounts[row["name"]] = next_account
                next_account += 1
            else:
                for column in _account_columns(model):
                    if row.get(column) is not None:
                        row[column] = account_of.get(row[column])
            if model is AuditEntry and audit_offset:
                row["id"] += audit_offset
            if model is not pending_model or len(pending) >= batch:
                if not write():
                    stopped = True
                    break
                pending_model = model
            pending.append(row)
        if not stopped:
            write()
    finally:  # however it ended (a failed batch rolled back, the committed ones kept): new rows fit beside them
        db.rollback()
        _advance_sequences(db)
        rollups.rebuild(db)
        db.commit()
    return counts, stopped


def _account_columns(model: type[Base]) -> list[str]:
    """The columns of `model` that hold an account's id (its foreign keys to moderator.id)."""
    return [column.name for column in model.__table__.columns
            if any(key.column.table.name == Moderator.__tablename__ for key in column.foreign_keys)]


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
        if isinstance(value, str) and "\x00" in value:  # PostgreSQL's text cannot hold it
            raise ImportRefused("nul", f"{column.name} holds a NUL character", line=number, detail=column.name)
        if value is not None and isinstance(column.type, UTCDateTime):
            try:
                value = datetime.fromisoformat(value)
            except (TypeError, ValueError):
                raise ImportRefused("not_a_time", f"{column.name} is not a time", line=number,
                                    detail=column.name) from None
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
    for model in ALL_MODELS:
        table = model.__tablename__
        if "id" not in model.__table__.columns:  # keyed by what it holds (an author hash): no sequence
            continue
        db.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        ))
