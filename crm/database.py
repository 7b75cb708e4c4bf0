"""Engine-specific details kept in one place: SQLite pragmas, time helpers, shared mixins."""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timezone
from enum import Enum

from sqlalchemy import DateTime, event, text
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from .extensions import db


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both engines (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


def engine_name() -> str:
    return db.engine.dialect.name


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    # WAL lets the web process, the worker and readers work side by side; FKs are off by default.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA synchronous=NORMAL")
        # 64 MB page cache: imports insert into several indexes at once; 2 MB default thrashes.
        cur.execute("PRAGMA cache_size=-65536")
        cur.close()


def enum_column(enum_cls, **kw):
    """A portable enum: VARCHAR plus a CHECK constraint, same on SQLite and PostgreSQL."""
    return SAEnum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
        name=kw.pop("name", enum_cls.__name__.lower()),
    )


def _sqlite_value(value):
    # What SQLAlchemy itself stores on SQLite, so rows written here read back identically.
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value


def bulk_insert(table_name: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Insert many rows in the current transaction by the fastest path each engine has:
    COPY on PostgreSQL, a bare executemany on SQLite (SQLAlchemy's per-row parameter
    processing costs more than SQLite's own insert). Values: str, int, date, UTC datetime,
    Enum, dict/list (JSON) or None."""
    connection = db.session.connection()
    raw = connection.connection.driver_connection
    names = ", ".join(f'"{c}"' for c in columns)
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cur, cur.copy(f'COPY "{table_name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([v.value if isinstance(v, Enum) else (json.dumps(v) if isinstance(v, (dict, list)) else v)
                                for v in row])
    else:
        marks = ", ".join("?" for _ in columns)
        cur = raw.cursor()
        try:
            cur.executemany(f'INSERT INTO "{table_name}" ({names}) VALUES ({marks})', _sqlite_rows(rows))
        finally:
            cur.close()


def _sqlite_rows(rows: Iterable[Sequence]):
    # Most columns are str/int/None and pass as they are: convert only the others, and a repeated
    # value (a batch's shared timestamp) once.
    last: dict[int, tuple] = {}
    for row in rows:
        out = list(row)
        for i, value in enumerate(out):
            if value is None or type(value) in (str, int, bool, float):
                continue
            previous = last.get(i)
            if previous is not None and previous[0] is value:
                out[i] = previous[1]
            else:
                converted = _sqlite_value(value)
                last[i] = (value, converted)
                out[i] = converted
        yield out


def analyze(*tables) -> None:
    """Refresh the planner's statistics after a bulk load. Without them SQLite sorts a branch
    officer's whole membership to show 50 names (40 ms at 200,000 contacts) instead of walking
    the name index (0.3 ms)."""
    for table in tables:
        db.session.execute(text(f'ANALYZE "{table.name}"'))


def insert_ignoring_duplicates(table):
    """INSERT that skips rows clashing with a unique key (ON CONFLICT DO NOTHING), per engine."""
    if db.session.connection().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()
