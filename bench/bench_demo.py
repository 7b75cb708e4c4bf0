"""The demo region at full size, and the first screen of the contacts page on it.

(a) build_demo_region(members=N), in seconds. Baseline: writing the same N contact rows (read
    back from the built database) straight into a plain table with the same columns, in one
    transaction: stdlib sqlite3 executemany on SQLite, psycopg COPY on PostgreSQL.
(b) GET /contacts/ as the demo admin (every branch), 20 times after a warm-up, p50 and p95 ms.
    Baseline: the raw SQL for the first 50 contacts by last name, first name, id plus the
    count, through the same engine.
(c) The same as a branch officer of two branches: the page and the baseline both scoped to
    the officer's branches.
"""
from __future__ import annotations

import time

from sqlalchemy import select

from bench import BenchError, Context, Result, percentiles_ms, sqlite_executemany_seconds, timed

REQUESTS = 20
NOTES = [
    "demo build baseline: the same contact rows written raw into a plain table "
    "(sqlite3 executemany / psycopg COPY), one transaction",
    "contacts page baseline: raw SQL for the first 50 contacts by name plus the count, same engine",
]


def run(ctx: Context) -> list[Result]:
    from crm.auth.models import User
    from crm.demo.service import DEMO_EMAIL_DOMAIN, build_demo_region
    from crm.extensions import db

    app = ctx.fresh_app("demo")
    results = []
    with app.app_context():
        ctx.log(f"building a demo region of {ctx.members:,} members on {ctx.engine_name}")
        seconds, summary = timed(build_demo_region, members=ctx.members)
        ctx.log(f"built in {seconds:.1f} s: {summary}")
        baseline = _raw_insert_seconds(ctx, db.engine)
        results.append(Result(f"demo region: build {ctx.members:,} members", seconds, baseline, "s"))

        for label, local_part in (("admin", "admin"), ("branch officer", "secretary")):
            user = db.session.execute(
                select(User).where(User.email == f"{local_part}@{DEMO_EMAIL_DOMAIN}")
            ).scalar_one()
            ctx.log(f"contacts page as {label} ({user.email}), {REQUESTS} requests")
            page_p50, page_p95 = _page_percentiles(app, user.email)
            raw_p50, raw_p95 = _raw_query_percentiles(db.engine, None if user.region_wide else user.id)
            results.append(Result(f"contacts page, {label}: p50", page_p50, raw_p50, "ms"))
            results.append(Result(f"contacts page, {label}: p95", page_p95, raw_p95, "ms"))
            db.session.remove()
    return results


def _raw_insert_seconds(ctx: Context, engine) -> float:
    """Seconds to write the contact rows straight into a plain table (the rows are read first, untimed)."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SELECT * FROM contact ORDER BY id")
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
        if engine.dialect.name == "postgresql":
            return _postgres_copy_seconds(raw, cursor, columns, rows)
        cursor.execute("PRAGMA table_info(contact)")
        types = {name: (kind, pk) for _, name, kind, _, _, pk in cursor.fetchall()}
    finally:
        raw.close()
    ctx.log(f"baseline: sqlite3 executemany of {len(rows):,} contact rows")
    return sqlite_executemany_seconds(ctx.workdir / "demo" / "baseline.db", columns, types, rows)


def _postgres_copy_seconds(raw, cursor, columns, rows) -> float:
    names = ", ".join(f'"{c}"' for c in columns)
    cursor.execute("CREATE TEMP TABLE contact_baseline (LIKE contact)")  # columns only: no indexes
    raw.commit()
    started = time.perf_counter()
    with cursor.copy(f"COPY contact_baseline ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    raw.commit()
    seconds = time.perf_counter() - started
    cursor.execute("DROP TABLE contact_baseline")
    raw.commit()
    return seconds


def _page_percentiles(app, email: str) -> tuple[float, float]:
    from crm.demo.service import DEMO_PASSWORD

    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
    if response.status_code != 302:
        raise BenchError(f"could not sign in as {email} (HTTP {response.status_code})")
    warm = client.get("/contacts/")
    if warm.status_code != 200 or b"<table" not in warm.data:
        raise BenchError(f"/contacts/ answered HTTP {warm.status_code} without a table of contacts")
    samples = []
    for _ in range(REQUESTS):
        seconds, response = timed(client.get, "/contacts/")
        if response.status_code != 200:
            raise BenchError(f"/contacts/ answered HTTP {response.status_code}")
        samples.append(seconds)
    return percentiles_ms(samples)


def _raw_query_percentiles(engine, scoped_to_user: int | None) -> tuple[float, float]:
    # Scoped as the app scopes (a subquery on user_branch): with planner statistics SQLite then
    # walks the name index, where a literal IN list of branch ids makes it sort every match.
    where = (f"WHERE branch_id IN (SELECT branch_id FROM user_branch WHERE user_id = {int(scoped_to_user)})"
             if scoped_to_user else "")
    page_sql = f"SELECT * FROM contact {where} ORDER BY last_name, first_name, id LIMIT 50"
    count_sql = f"SELECT count(*) FROM contact {where}"
    samples = []
    with engine.connect() as conn:
        conn.exec_driver_sql(page_sql).all()  # warm-up, as for the page
        conn.exec_driver_sql(count_sql).scalar()
        for _ in range(REQUESTS):
            started = time.perf_counter()
            conn.exec_driver_sql(page_sql).all()
            conn.exec_driver_sql(count_sql).scalar()
            samples.append(time.perf_counter() - started)
    return percentiles_ms(samples)
