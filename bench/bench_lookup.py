"""Campaign target lookup: `crm load-postcodes` on a full-size ONS postcode directory, and the
postcode → constituency → MP lookup on it.

The file is generated in the NSPL layout (its 22 leading columns, values quoted as in the real
CSV): 2,700,000 valid-looking postcodes, one in three terminated (about the real file's share), in
650 constituencies. `--rows N` scales it (e.g. --rows 100000 for a quick run).

(a) The first load into an empty database and (b) a reload of the same generation (the atomic
swap: load beside, switch, drop the old rows), each through loaders.load_postcodes in a child
process of its own so its peak RSS (getrusage RUSAGE_CHILDREN of a small launcher) is the load's
alone. Rows/s = file rows read ÷ seconds. Baseline: the loaded rows written raw into a bare table
with the same columns in one transaction (sqlite3 executemany / psycopg COPY). RSS baseline: an
idle child that has loaded the app and the loader modules.
(c) find_constituency for 10,000 random live postcodes (MPs loaded for every constituency), p50
and p95; goal p95 < 2 ms. Baseline: the raw point query on the postcode table, same engine.

SQLite always; PostgreSQL as well when DATABASE_URL names a bench database.
"""
from __future__ import annotations

import csv
import json
import random
import subprocess
import sys
import time
from pathlib import Path

from bench import BenchError, Context, Result, percentiles_ms, sqlite_executemany_seconds

DEFAULT_ROWS = 2_700_000
LOOKUPS = 10_000
CONSTITUENCIES = 650
TERMINATED_EVERY = 3  # one row in three is a terminated postcode
GENERATION = "2024"
ROOT = Path(__file__).resolve().parent.parent
RESULT_MARK = "BENCH-LOOKUP-RESULT "
RSS_MARK = "BENCH-LOOKUP-PEAK-RSS-KIB"
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
AREAS = ("AB BA BB BD BH BL BN BR BS CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT DY EC EH EN EX "
         "FK FY GL GU HA HD HG HP HR HS HU HX IG IP IV KA KT KW KY LA LD LE LL LN LS LU ME MK ML NE NG NN "
         "NP NR NW OL OX PA PE PH PL PO PR RG RH RM SA SE SG SK SL SM SN SO SP SR SS ST SW SY TA TD TF TN "
         "TQ TR TS TW UB WA WC WD WF WN WR WS WV YO ZE B E G L M N S W").split()
NSPL_COLUMNS = ("pcd", "pcd2", "pcds", "dointr", "doterm", "usertype", "oseast1m", "osnrth1m", "osgrdind",
                "oa21", "cty", "ced", "laua", "ward", "nhser", "ctry", "rgn", "pcon", "ttwa", "itl", "lat", "long")
NOTES = [
    ("load-postcodes rows/s: file rows ÷ seconds of loaders.load_postcodes (child process); baseline: the loaded "
     "rows written raw into a bare table with the same columns, one transaction (sqlite3 executemany / psycopg "
     "COPY); ratio = fraction of that limit"),
    ("load-postcodes peak RSS: the load process's own maximum resident set (RUSAGE_CHILDREN of a launcher), against "
     "an idle process that has loaded the app and the loaders; the database server's memory is not included"),
    "lookup p50/p95: find_constituency on random live postcodes; baseline: the raw point query, same engine",
]


def run(ctx: Context) -> list[Result]:
    rows = getattr(ctx, "rows", None) or DEFAULT_ROWS
    path = ctx.workdir / f"NSPL_bench_{rows}.csv"
    ctx.log(f"writing a {rows:,}-row NSPL-layout file (one in {TERMINATED_EVERY} terminated)")
    started = time.perf_counter()
    live = write_directory(path, rows)
    ctx.log(f"written in {time.perf_counter() - started:.0f} s: {path.stat().st_size / 1e6:,.0f} MB, {live:,} live")
    plan = [("sqlite", Context(members=ctx.members, workdir=ctx.workdir / "sqlite"))]
    if ctx.database_url:
        plan.append(("postgresql", ctx))
    results: list[Result] = []
    try:
        for engine, engine_ctx in plan:
            results.extend(_bench_engine(ctx, engine, engine_ctx, path, rows, live))
    finally:
        for _, engine_ctx in plan:
            engine_ctx.close()
    return results


# ------------------------------------------------------------------------------ the file

def _outward_codes():
    """Outward codes in file order: AB1 … AB99, BA1 …: enough for any size asked."""
    for n in range(1, 100):
        for area in AREAS:
            yield f"{area}{n}"


def postcode_at(i: int, outwards: list[str]) -> str:
    """The i-th postcode of the generated file (4,000 inward codes per outward code)."""
    outward, r = divmod(i, 4000)
    return f"{outwards[outward]} {r // 400}{INWARD_LETTERS[(r // 20) % 20]}{INWARD_LETTERS[r % 20]}"


def _outwards(rows: int) -> list[str]:
    need = rows // 4000 + 1
    out = []
    for code in _outward_codes():
        out.append(code)
        if len(out) >= need:
            return out
    raise BenchError(f"--rows {rows:,} is more postcodes than the generator can make")


def constituency_code(n: int) -> str:
    return f"E14{1063 + n:06d}"


def write_directory(path: Path, rows: int) -> int:
    """Write the NSPL-layout file; returns how many live (loadable) postcodes it has."""
    outwards = _outwards(rows)
    live = 0
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_ALL)
        writer.writerow(NSPL_COLUMNS)
        for i in range(rows):
            pc = postcode_at(i, outwards)
            outward, inward = pc.split(" ")
            terminated = i % TERMINATED_EVERY == 1
            live += not terminated
            # Neighbouring outward codes share a constituency, as they mostly do.
            pcon = constituency_code((i // 4000 // 2) % CONSTITUENCIES)
            writer.writerow((f"{outward:<4}{inward}", f"{outward:<5}{inward}", pc, "198001",
                             "202003" if terminated else "", "0", 334000 + i % 9000, 389000 + i % 7000, "1",
                             "E00033000", "E99999999", "E99999999", "E08000012", "E05015300", "E40000010",
                             "E92000001", "E12000002", pcon, "E30000234", "E06000001", "53.39", "-2.96"))
    return live


# ------------------------------------------------------------------------------ one engine

def _bench_engine(ctx: Context, engine: str, engine_ctx: Context, path: Path, rows: int, live: int) -> list[Result]:
    app = engine_ctx.fresh_app(f"lookup-{engine}")
    spec = {"url": app.config["SQLALCHEMY_DATABASE_URI"], "instance": app.instance_path, "file": str(path)}
    engine_ctx.close()
    size = f"{rows / 1e6:g}M" if rows >= 1_000_000 else f"{rows:,}"
    idle = _child("idle", spec)
    ctx.log(f"{engine}: load-postcodes of {rows:,} rows into an empty database")
    first = _child("load", spec)
    _check(first, rows, live)
    ctx.log(f"{engine}: {first['seconds']:.1f} s, {rows / first['seconds']:,.0f} rows/s, "
            f"peak RSS {first['peak_rss_mb']:,.0f} MB")
    ctx.log(f"{engine}: the same file again (a reload of generation {GENERATION}: load beside, switch, drop)")
    again = _child("load", spec)
    _check(again, rows, live)
    ctx.log(f"{engine}: {again['seconds']:.1f} s, {rows / again['seconds']:,.0f} rows/s, "
            f"peak RSS {again['peak_rss_mb']:,.0f} MB")
    ctx.log(f"{engine}: raw bulk-load limit of {live:,} rows")
    raw = _child("baseline", {**spec, "scratch": str(engine_ctx.workdir / "raw-baseline.db")})
    ctx.log(f"{engine}: {raw['seconds']:.1f} s, {raw['rows'] / raw['seconds']:,.0f} rows/s")
    ctx.log(f"{engine}: {LOOKUPS:,} lookups of random live postcodes")
    lookups = _child("lookups", {**spec, "rows": rows})
    ctx.log(f"{engine}: lookup p50 {lookups['p50']:.3f} ms, p95 {lookups['p95']:.3f} ms "
            f"(raw query p95 {lookups['raw_p95']:.3f} ms)")

    raw_rate = raw["rows"] / raw["seconds"]
    raw_name = "psycopg COPY" if engine == "postgresql" else "sqlite3 executemany"
    label = f"{engine}: load-postcodes {size} rows"
    return [
        Result(f"{label} first, rows/s (fraction of raw {raw_name})", rows / first["seconds"], raw_rate, "rows/s"),
        Result(f"{label} reload, rows/s (fraction of raw {raw_name})", rows / again["seconds"], raw_rate, "rows/s"),
        Result(f"{label} first, peak RSS (× idle app process)", first["peak_rss_mb"], idle["peak_rss_mb"], "MB"),
        Result(f"{label} reload, peak RSS (× idle app process)", again["peak_rss_mb"], idle["peak_rss_mb"], "MB"),
        Result(f"{engine}: postcode lookup p50 (× raw point query)", lookups["p50"], lookups["raw_p50"], "ms"),
        Result(f"{engine}: postcode lookup p95, goal < 2 ms (× raw point query)", lookups["p95"],
               lookups["raw_p95"], "ms"),
    ]


def _check(outcome: dict, rows: int, live: int) -> None:
    """The load did what it should, or the timing means nothing."""
    if outcome.get("error"):
        raise BenchError(f"load-postcodes failed: {outcome['error']}")
    if outcome["rows_read"] != rows or outcome["loaded"] != live or outcome["bad"]:
        raise BenchError(f"load-postcodes read {outcome['rows_read']:,} rows and loaded {outcome['loaded']:,} "
                         f"({outcome['bad']:,} bad); the file has {rows:,} rows, {live:,} live")


# A launcher that runs one task and reports its peak RSS (see bench_import._LAUNCHER for why).
_LAUNCHER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    f"print({RSS_MARK!r}, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, flush=True)\n"
    "sys.exit(code)\n"
)


def _child(task: str, spec: dict) -> dict:
    payload = json.dumps({"task": task, **spec})
    proc = subprocess.run([sys.executable, "-c", _LAUNCHER, sys.executable, "-m", "bench.bench_lookup", payload],
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
    result["peak_rss_mb"] = rss_kib / 1024
    return result


# ------------------------------------------------------------------------------ the child's side

def _child_app(spec: dict):
    from crm import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": spec["url"],
        "INSTANCE_PATH": spec["instance"],
        "SECRET_KEY": "bench-secret",
        "REDIS_URL": "redis://127.0.0.1:9/0",  # never contacted
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_ENABLED": False,
        "POSTCODES_API_URL": "",
        "LOG_LEVEL": "WARNING",
    })


def _child_idle(spec: dict) -> dict:
    from sqlalchemy import func, select

    from crm.campaigns import loaders, lookup  # noqa: F401  (loaded, as in a load process)
    from crm.campaigns.geography import BoundaryGeneration
    from crm.extensions import db

    app = _child_app(spec)
    with app.app_context():
        db.session.execute(select(func.count(BoundaryGeneration.id))).scalar_one()
        db.session.remove()
        db.engine.dispose()
    return {}


def _child_load(spec: dict) -> dict:
    from crm.campaigns import loaders
    from crm.extensions import db

    app = _child_app(spec)
    with app.app_context():
        started = time.perf_counter()
        try:
            report = loaders.load_postcodes(Path(spec["file"]), generation=GENERATION, label="2024 constituencies")
        except loaders.LoadError as exc:
            return {"error": str(exc)}
        seconds = time.perf_counter() - started
        outcome = {"seconds": seconds, "rows_read": report.rows_read, "loaded": report.loaded, "bad": report.bad,
                   "terminated": report.skipped_terminated}
        db.session.remove()
        db.engine.dispose()
    return outcome


def _child_baseline(spec: dict) -> dict:
    """Seconds to write the loaded rows raw into a bare table (the rows are read first, untimed)."""
    from sqlalchemy import create_engine

    engine = create_engine(spec["url"])
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SELECT generation_id, postcode, constituency_code FROM postcode_constituency")
        rows = cursor.fetchall()
        columns = ["generation_id", "postcode", "constituency_code"]
        if engine.dialect.name == "postgresql":
            cursor.execute("DROP TABLE IF EXISTS postcode_raw_baseline")
            cursor.execute("CREATE TABLE postcode_raw_baseline (generation_id integer NOT NULL, "
                           "postcode varchar(8) NOT NULL, constituency_code varchar(9) NOT NULL)")
            raw.commit()
            started = time.perf_counter()
            with cursor.copy("COPY postcode_raw_baseline (generation_id, postcode, constituency_code) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            raw.commit()
            seconds = time.perf_counter() - started
            cursor.execute("DROP TABLE postcode_raw_baseline")
            raw.commit()
            return {"seconds": seconds, "rows": len(rows)}
    finally:
        raw.close()
        engine.dispose()
    types = {"generation_id": ("INTEGER", 0), "postcode": ("VARCHAR(8)", 0), "constituency_code": ("VARCHAR(9)", 0)}
    return {"seconds": sqlite_executemany_seconds(Path(spec["scratch"]), columns, types, rows), "rows": len(rows)}


def _child_lookups(spec: dict) -> dict:
    from sqlalchemy import select

    from crm.campaigns import loaders
    from crm.campaigns.geography import BoundaryGeneration, Constituency
    from crm.campaigns.lookup import find_constituency
    from crm.extensions import db

    app = _child_app(spec)
    rng = random.Random(7)
    outwards = _outwards(spec["rows"])
    sample = []
    while len(sample) < LOOKUPS:
        i = rng.randrange(spec["rows"])
        if i % TERMINATED_EVERY != 1:
            sample.append(postcode_at(i, outwards))
    mps = Path(spec["instance"]) / "mps.csv"
    with app.app_context():
        codes = db.session.execute(select(Constituency.code).join(
            BoundaryGeneration, BoundaryGeneration.id == Constituency.generation_id)
            .where(BoundaryGeneration.is_current.is_(True))).scalars().all()
        with open(mps, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["Constituency code", "Constituency name", "Name", "Party", "Email"])
            for n, code in enumerate(codes):
                writer.writerow([code, f"Constituency {n}", f"Member {n}", "Party", f"mp{n}@example.org"])
        loaders.load_representatives(mps)
        for pc in sample[:200]:  # warm-up
            find_constituency(pc)
        samples = []
        for pc in sample:
            started = time.perf_counter()
            result = find_constituency(pc)
            samples.append(time.perf_counter() - started)
            if not result.found:
                raise BenchError(f"a loaded postcode was not found: {result.status}")
        p50, p95 = percentiles_ms(samples)
        gen_id = db.session.execute(select(BoundaryGeneration.id).where(BoundaryGeneration.is_current.is_(True))).scalar()
        db.session.remove()
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            mark = "%s" if db.engine.dialect.name == "postgresql" else "?"
            sql = (f"SELECT constituency_code FROM postcode_constituency WHERE generation_id = {mark} "
                   f"AND postcode = {mark}")
            raw_samples = []
            for pc in sample:
                started = time.perf_counter()
                cursor.execute(sql, (gen_id, pc))
                cursor.fetchone()
                raw_samples.append(time.perf_counter() - started)
        finally:
            raw.close()
        raw_p50, raw_p95 = percentiles_ms(raw_samples)
        db.engine.dispose()
    return {"p50": p50, "p95": p95, "raw_p50": raw_p50, "raw_p95": raw_p95}


def _child_main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    task = {"idle": _child_idle, "load": _child_load, "baseline": _child_baseline,
            "lookups": _child_lookups}[spec["task"]]
    print(RESULT_MARK + json.dumps(task(spec)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
