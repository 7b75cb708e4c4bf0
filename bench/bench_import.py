"""Importing a national membership export: a first import into an empty database, the same file
again unchanged, and the memory each import needs.

The export comes from crm.imports.exportgen.write_export (realistic values, 0.5% malformed
rows; branch codes of branches created first with the ORM). Each import goes through the real
pipeline (service.create_run → confirm_run → execute_run, region scope, as `crm import-members`
does) in a child process of its own, timed from create_run to the end of execute_run, so its
peak RSS (getrusage(RUSAGE_CHILDREN) in a small launcher process: see _LAUNCHER) is that
import's alone. PostgreSQL's own server memory is not in it.

Rows: rows/s as a fraction of the engine's raw bulk-load limit measured in the same run (the same
number of contact rows, read back from the imported table, written into a bare table with the
same columns in one transaction: stdlib sqlite3 executemany / psycopg COPY); the unchanged
re-import as a multiple of the first import's speed; peak RSS against an idle app process
(interpreter, app and import modules loaded, nothing read) and, to show whether memory stays flat,
the first import of the full file against the first import of a 200,000-row file.

SQLite always (temporary folder), 1,000,000 rows; PostgreSQL as well when DATABASE_URL names a
bench database, 200,000 rows by default (see DEFAULT_POSTGRES_ROWS). `python -m bench -k import
--rows N` sets the size for both (e.g. --rows 20000 for a quick run).
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from bench import BenchError, Context, Result, sqlite_executemany_seconds

DEFAULT_ROWS = 1_000_000
# PostgreSQL imports at ~6-9k rows/s today, so 1M rows there (first + again) alone takes ~5 min of
# the ~10 the whole benchmark may take on the 2-core machine: 200k by default until the import is
# faster. `--rows N` sets both engines.
DEFAULT_POSTGRES_ROWS = 200_000
MEMORY_CHECK_ROWS = 200_000  # the smaller file the full one's memory is compared with
MALFORMED_SHARE = 0.005
BRANCHES = [  # (code, name, service group): the export's branch codes are these
    ("LIVH", "Liverpool Health", "Health"), ("WIRH", "Wirral Health", "Health"),
    ("SEFH", "Sefton Health", "Health"), ("WARH", "Warrington Health", "Health"),
    ("LIVL", "Liverpool Local Government", "Local Government"),
    ("WIRL", "Wirral Local Government", "Local Government"),
    ("SEFL", "Sefton Local Government", "Local Government"),
    ("BOLL", "Bolton Local Government", "Local Government"),
    ("WIGL", "Wigan Local Government", "Local Government"),
    ("LJMU", "Liverpool John Moores University", "Higher Education"),
    ("CMCS", "Merseyside Community and Care Services", "Community"),
    ("MERP", "Merseyside Police Staff", "Police and Justice"),
]
ROOT = Path(__file__).resolve().parent.parent
RESULT_MARK = "BENCH-IMPORT-RESULT "
RSS_MARK = "BENCH-IMPORT-PEAK-RSS-KIB"
NOTES = [
    ("import rows/s: file rows ÷ seconds from create_run to the end of execute_run (region scope, one child "
     "process per import); baseline: the same number of contact rows written raw into a bare table with the "
     "same columns in one transaction (sqlite3 executemany / psycopg COPY); ratio = fraction of that limit"),
    "re-import vs first: the unchanged re-import's rows/s as a multiple of the first import's",
    ("peak RSS: the import process's own maximum resident set (RUSAGE_CHILDREN of a launcher), against an idle "
     "process that has loaded the app and the import modules; PostgreSQL's server memory is not included"),
]


def run(ctx: Context) -> list[Result]:
    chosen = getattr(ctx, "rows", None)  # --rows
    plan = [("sqlite", Context(members=ctx.members, workdir=ctx.workdir / "sqlite"), chosen or DEFAULT_ROWS)]
    if ctx.database_url:
        plan.append(("postgresql", ctx, chosen or DEFAULT_POSTGRES_ROWS))
    codes = [code for code, _, _ in BRANCHES]
    files = ctx.workdir / "exports"
    files.mkdir(exist_ok=True)
    exports = {}

    def export(rows: int):
        # One file per size, shared by the engines: the same bytes are imported everywhere.
        if rows not in exports:
            ctx.log(f"writing a {rows:,}-row export ({MALFORMED_SHARE:.1%} malformed)")
            seconds, info = _timed_export(files / f"national-export-{rows}.csv", rows, codes)
            ctx.log(f"written in {seconds:.0f} s: {info.path.stat().st_size / 1e6:,.0f} MB, {info.rows:,} rows, "
                    f"{len(info.warning_lines):,} with a bad field, {len(info.rejected_lines):,} to reject")
            exports[rows] = info
        return exports[rows]

    results: list[Result] = []
    try:
        for engine, engine_ctx, rows in plan:
            small = min(MEMORY_CHECK_ROWS, rows)
            small_info = export(small) if small < rows else None
            results.extend(_bench_engine(ctx, engine, engine_ctx, export(rows), small_info))
    finally:
        for _, engine_ctx, _ in plan:
            engine_ctx.close()
    return results


def _timed_export(path: Path, rows: int, codes: list[str]):
    from crm.imports.exportgen import write_export

    started = time.perf_counter()
    info = write_export(path, rows, malformed_share=MALFORMED_SHARE, branch_codes=codes)
    return time.perf_counter() - started, info


def _bench_engine(ctx: Context, engine: str, engine_ctx: Context, info, small_info) -> list[Result]:
    size = _size(info.rows)
    label = f"{engine}: import {size}"
    results = []
    small_rss = None
    if small_info is not None:
        ctx.log(f"{engine}: first import of a {small_info.rows:,}-row export (memory check)")
        spec = _prepare_database(engine_ctx, f"import-{engine}-small")
        small = _child("import", spec, file=str(small_info.path))
        _check_import(small, small_info, first=True)
        small_rss = small["peak_rss_mb"]
        ctx.log(f"{engine}: {small_info.rows / small['seconds']:,.0f} rows/s, peak RSS {small_rss:,.0f} MB")

    spec = _prepare_database(engine_ctx, f"import-{engine}")
    idle = _child("idle", spec)
    ctx.log(f"{engine}: first import of {info.rows:,} rows into an empty database")
    first = _child("import", spec, file=str(info.path))
    _check_import(first, info, first=True)
    ctx.log(f"{engine}: {first['seconds']:.1f} s, {info.rows / first['seconds']:,.0f} rows/s, "
            f"peak RSS {first['peak_rss_mb']:,.0f} MB: {first['summary']}")
    ctx.log(f"{engine}: the same file again, unchanged")
    again = _child("import", spec, file=str(info.path))
    _check_import(again, info, first=False)
    ctx.log(f"{engine}: {again['seconds']:.1f} s, {info.rows / again['seconds']:,.0f} rows/s, "
            f"peak RSS {again['peak_rss_mb']:,.0f} MB: {again['summary']}")
    ctx.log(f"{engine}: raw bulk-load limit ({'psycopg COPY' if engine == 'postgresql' else 'sqlite3 executemany'}"
            f" of {info.rows:,} contact rows)")
    raw = _child("baseline", spec, rows=info.rows, scratch=str(engine_ctx.workdir / "raw-baseline.db"))
    raw_rate = raw["rows"] / raw["seconds"]
    ctx.log(f"{engine}: {raw['seconds']:.1f} s, {raw_rate:,.0f} rows/s")

    first_rate, again_rate = info.rows / first["seconds"], info.rows / again["seconds"]
    raw_name = "psycopg COPY" if engine == "postgresql" else "sqlite3 executemany"
    results += [
        Result(f"{label} first, rows/s (fraction of raw {raw_name})", first_rate, raw_rate, "rows/s"),
        Result(f"{label} again unchanged, rows/s (fraction of raw {raw_name})", again_rate, raw_rate, "rows/s"),
        Result(f"{label} again unchanged vs first, rows/s (× first)", again_rate, first_rate, "rows/s"),
        Result(f"{label} first, peak RSS (× idle app process)", first["peak_rss_mb"], idle["peak_rss_mb"], "MB"),
        Result(f"{label} again unchanged, peak RSS (× idle app process)", again["peak_rss_mb"], idle["peak_rss_mb"],
               "MB"),
    ]
    if small_rss is not None:
        results.append(Result(f"{engine}: first import peak RSS, {size} vs {_size(small_info.rows)} rows "
                              f"(× {_size(small_info.rows)})", first["peak_rss_mb"], small_rss, "MB"))
    return results


def _size(rows: int) -> str:
    if rows >= 1_000_000 and rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows >= 1000 and rows % 1000 == 0:
        return f"{rows // 1000}k"
    return f"{rows:,}"


def _check_import(outcome: dict, info, *, first: bool) -> None:
    """The import did what it should, or the timing means nothing."""
    counts = outcome["counts"]
    if outcome["status"] != "completed":
        raise BenchError(f"the import ended {outcome['status']}: {outcome.get('error')}")
    expected_rejects = len(info.rejected_lines)
    if counts["rejected"] != expected_rejects:
        raise BenchError(f"the import rejected {counts['rejected']:,} rows; the export has {expected_rejects:,} "
                         f"rows without identity or with an unknown branch")
    if first and counts["warnings"] != len(info.warning_lines):
        raise BenchError(f"the import reported {counts['warnings']:,} rows with a bad field; the export has "
                         f"{len(info.warning_lines):,}")
    kept = counts["imported"] if first else counts["unchanged"]
    if kept != info.members:
        which = "imported" if first else "left unchanged"
        raise BenchError(f"the import {which} {kept:,} rows of the {info.members:,} it should have "
                         f"({outcome['summary']})")
    if not first and (counts["imported"] or counts["updated"]):
        raise BenchError(f"re-importing the same file changed something: {outcome['summary']}")


# ---------------------------------------------------------------- the parent's side of a child process

def _prepare_database(engine_ctx: Context, name: str) -> dict:
    """A fresh migrated database with the export's branches (created with the ORM), released again."""
    from crm.extensions import db
    from crm.region.models import Branch, ServiceGroup

    app = engine_ctx.fresh_app(name)
    with app.app_context():
        groups = {}
        for code, branch_name, group_name in BRANCHES:
            group = groups.get(group_name)
            if group is None:
                group = groups[group_name] = ServiceGroup(name=group_name)
                db.session.add(group)
            db.session.add(Branch(code=code, name=branch_name, service_group=group))
        db.session.commit()
        spec = {"url": app.config["SQLALCHEMY_DATABASE_URI"], "instance": app.instance_path}
    engine_ctx.close()
    return spec


# A small interpreter that runs one task and reports that task's peak RSS. Linux carries the
# high-water RSS of the process that calls exec into the new program (fork or vfork alike), so a
# task started straight from this ~150 MB bench process would report at least 150 MB whatever
# it used; started from this launcher it inherits only the launcher's ~10 MB, and
# RUSAGE_CHILDREN of a launcher with one child is that child's own peak.
_LAUNCHER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    f"print({RSS_MARK!r}, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, flush=True)\n"
    "sys.exit(code)\n"
)


def _child(task: str, spec: dict, **args) -> dict:
    """Run one task in a fresh interpreter; its result plus its own peak RSS in MB."""
    payload = json.dumps({"task": task, **spec, **args})
    proc = subprocess.run([sys.executable, "-c", _LAUNCHER, sys.executable, "-m", "bench.bench_import", payload],
                          cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        raise BenchError(f"the {task} child process failed (exit status {proc.returncode})")
    result = rss_kib = None
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            result = json.loads(line[len(RESULT_MARK):])
        elif line.startswith(RSS_MARK):
            rss_kib = int(line.split()[-1])
    if result is None or rss_kib is None:
        raise BenchError(f"the {task} child process printed no result")
    result["peak_rss_mb"] = rss_kib / 1024  # ru_maxrss is in KiB on Linux
    return result


# ---------------------------------------------------------------- the child's side

def _child_app(spec: dict):
    from crm import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": spec["url"],
        "INSTANCE_PATH": spec["instance"],
        "SECRET_KEY": "bench-secret",
        "REDIS_URL": "redis://127.0.0.1:9/0",  # never contacted: the import runs in this process
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_ENABLED": False,
        "LOG_LEVEL": "WARNING",
    })


def _child_import(spec: dict) -> dict:
    from crm.extensions import db
    from crm.imports import service
    from crm.imports.models import ImportScope, ImportStatus

    app = _child_app(spec)
    path = Path(spec["file"])
    with app.app_context():
        started = time.perf_counter()
        run = service.create_run(path, path.name, by=None, scope=ImportScope.REGION)
        if run.status is ImportStatus.FAILED:
            return {"status": "failed", "error": run.error, "counts": {}, "summary": "", "seconds": 0}
        problems = service.mapping_problems_for(run)
        if problems:
            return {"status": "failed", "error": " ".join(problems), "counts": {}, "summary": "", "seconds": 0}
        service.confirm_run(run, scope=ImportScope.REGION, branch=None, by=None)
        db.session.commit()
        service.execute_run(run)
        seconds = time.perf_counter() - started
        counts = {k: getattr(run, k) for k in ("imported", "updated", "unchanged", "rejected", "warnings",
                                                "joiners", "leavers", "changes")}
        outcome = {"status": run.status.value, "error": run.error, "counts": counts,
                   "summary": run.summary_line(), "seconds": seconds}
        db.session.remove()
        db.engine.dispose()
    return outcome


def _child_idle(spec: dict) -> dict:
    """The floor: an app process with the import modules loaded that reads nothing."""
    from sqlalchemy import func, select

    from crm.contacts.models import Contact
    from crm.extensions import db
    from crm.imports import exportgen, service  # noqa: F401  (loaded, as in an import process)

    app = _child_app(spec)
    with app.app_context():
        db.session.execute(select(func.count(Contact.id))).scalar_one()
        db.session.remove()
        db.engine.dispose()
    return {"seconds": 0}


def _child_baseline(spec: dict) -> dict:
    """Seconds to write `rows` contact rows raw into a bare table (the rows are read first, untimed)."""
    from sqlalchemy import create_engine

    engine = create_engine(spec["url"])
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SELECT * FROM contact ORDER BY id")
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
        rows = _padded(rows, columns, spec["rows"])
        if engine.dialect.name == "postgresql":
            seconds = _copy_seconds(raw, cursor, columns, rows)
        else:
            cursor.execute("PRAGMA table_info(contact)")
            types = {name: (kind, pk) for _, name, kind, _, _, pk in cursor.fetchall()}
            seconds = None
    finally:
        raw.close()
        engine.dispose()
    if seconds is None:
        seconds = sqlite_executemany_seconds(Path(spec["scratch"]), columns, types, rows)
    return {"seconds": seconds, "rows": len(rows)}


def _padded(rows: list, columns: list[str], count: int) -> list:
    """Exactly `count` rows: the imported contacts, topped up with copies under new ids (the import
    rejects a few rows of the file, and the baseline writes as many rows as the file has)."""
    if len(rows) >= count or not rows:
        return rows[:count] if rows else rows
    id_at = columns.index("id")
    number_at = columns.index("membership_number")
    next_id = max(r[id_at] for r in rows) + 1
    extra = []
    for k in range(count - len(rows)):
        row = list(rows[k % len(rows)])
        row[id_at] = next_id + k
        row[number_at] = f"X{next_id + k}"
        extra.append(tuple(row))
    return rows + extra


def _copy_seconds(raw, cursor, columns, rows) -> float:
    names = ", ".join(f'"{c}"' for c in columns)
    # A plain (logged) table like the import's, with the columns and nothing else: no indexes.
    cursor.execute("DROP TABLE IF EXISTS contact_raw_baseline")
    cursor.execute("CREATE TABLE contact_raw_baseline (LIKE contact)")
    raw.commit()
    started = time.perf_counter()
    with cursor.copy(f"COPY contact_raw_baseline ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    raw.commit()
    seconds = time.perf_counter() - started
    cursor.execute("DROP TABLE contact_raw_baseline")
    raw.commit()
    return seconds


def _child_main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    task = {"import": _child_import, "idle": _child_idle, "baseline": _child_baseline}[spec["task"]]
    print(RESULT_MARK + json.dumps(task(spec)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
