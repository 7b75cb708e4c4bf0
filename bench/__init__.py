"""Benchmarks run by `make bench` (`python -m bench [-k NAME] [--members N]`).

A benchmark is a module `bench/bench_<name>.py` with `run(ctx) -> list[Result]`. Each Result
sets what Branchline measured beside a baseline: the same work done the most direct way the
engine allows (stdlib sqlite3, psycopg COPY, one raw SQL query), so the ratio says how much
our layers cost on top. Every benchmark gets its own fresh, migrated database from
`ctx.fresh_app(name)`: SQLite in a temporary folder, or the PostgreSQL database DATABASE_URL
names (its public schema is dropped and recreated, so its name must contain "bench" or "test").
"""
from __future__ import annotations

import logging
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

DEFAULT_MEMBERS = 200_000


class Result(NamedTuple):
    name: str
    measured: float
    baseline: float
    unit: str  # "s" or "ms": lower is better

    @property
    def ratio(self) -> float:
        """How many times the baseline the measurement is (measured ÷ baseline)."""
        return self.measured / self.baseline if self.baseline else float("inf")


class BenchError(SystemExit):
    """A reason the benchmarks cannot run, said plainly (exit status 1)."""

    def __init__(self, message: str):
        super().__init__(f"bench: {message}")


def postgres_url() -> str | None:
    """The PostgreSQL URL from DATABASE_URL (psycopg 3 driver), or None for SQLite."""
    url = os.environ.get("DATABASE_URL") or ""
    if not url or url.startswith("sqlite"):
        return None
    from sqlalchemy.engine import make_url

    from crm import _database_url

    url = _database_url(url, "")
    name = make_url(url).database or ""
    if "bench" not in name and "test" not in name:
        raise BenchError(
            f"DATABASE_URL names database {name!r}; the benchmarks wipe it, so its name must contain "
            "'bench' or 'test' (e.g. branchline_bench)."
        )
    return url


@dataclass
class Context:
    """What a benchmark gets: the size to run at, a scratch folder and fresh databases."""

    members: int
    workdir: Path
    database_url: str | None = None  # PostgreSQL, else SQLite files under workdir
    _apps: list = field(default_factory=list)

    @property
    def engine_name(self) -> str:
        return "postgresql" if self.database_url else "sqlite"

    def log(self, message: str) -> None:
        print(f"  · {message}", file=sys.stderr, flush=True)

    def fresh_app(self, name: str):
        """A Branchline app on an empty, migrated database of its own."""
        from flask_migrate import upgrade
        from sqlalchemy import create_engine, text

        from crm import create_app
        from crm.extensions import db

        self.close()
        folder = self.workdir / name
        folder.mkdir(parents=True, exist_ok=True)
        if self.database_url:
            engine = create_engine(self.database_url)
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            engine.dispose()
            url = self.database_url
        else:
            url = "sqlite:///" + str(folder / "bench.db")
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": str(folder / "instance"),
            "SECRET_KEY": "bench-secret",
            "REDIS_URL": "redis://127.0.0.1:9/0",  # never contacted by the paths benchmarked
            "RATELIMIT_STORAGE_URI": "memory://",
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
            "LOG_LEVEL": "WARNING",
        })
        logging.disable(logging.INFO)  # Alembic's "Running upgrade …" lines would bury the table
        try:
            with app.app_context():
                upgrade()
        finally:
            logging.disable(logging.NOTSET)
        self._apps.append((app, db))
        return app

    def close(self) -> None:
        """Release the connections of the apps handed out so far."""
        while self._apps:
            app, db = self._apps.pop()
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    """(seconds, result) of one call."""
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def percentiles_ms(samples_s: list[float]) -> tuple[float, float]:
    """(p50, p95) in milliseconds of samples taken in seconds."""
    ms = sorted(s * 1000 for s in samples_s)
    if len(ms) == 1:
        return ms[0], ms[0]
    return statistics.median(ms), statistics.quantiles(ms, n=20, method="inclusive")[-1]


def sqlite_executemany_seconds(path: Path, columns, types, rows) -> float:
    """The raw bulk-load limit on SQLite: stdlib executemany of the rows, one transaction, into a
    bare table of the same columns (no indexes), with the app's journal settings."""
    import sqlite3
    import time

    ddl = ", ".join(f'"{c}" {types[c][0]}' + (" PRIMARY KEY" if types[c][1] else "") for c in columns)
    if path.exists():
        path.unlink()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")  # as the app's connections (crm/database.py)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"CREATE TABLE contact ({ddl})")
        sql = f"INSERT INTO contact VALUES ({', '.join('?' for _ in columns)})"
        started = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        conn.close()
        path.unlink(missing_ok=True)
