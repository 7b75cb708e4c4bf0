"""Calling under load: many callers claiming from one big call list, straight and through HTTP.

The database: N contacts (default 1,000,000: `--rows N`, else `--members N`) in 12 branches, ~98%
with a mobile, 0.5% do-not-call, written with crm.database.bulk_insert; one call list over 4 of the
branches with 100,000 entries (bulk-inserted, due dates spread over three weeks; fewer when N is
small), the new-joiner script and questions; 1% of its contacts were called from another list in
the last day (so the cross-list cooldown has something to skip). Planner statistics refreshed
(ANALYZE), as the demo build does for contacts. Callers are CALLER users of all 4 of the list's
branches, assigned to it, so they all compete for the head of one queue. SQLite always (temporary
folder); PostgreSQL too when DATABASE_URL names a bench database. The database built for an engine
serves (a) and then (b).

(a) Contention: 50 callers, one thread each with its own app context, session and connection, in a
    child process of their own, loop claims.claim_next → service.record_outcome (answered or no
    answer, half each: either way the entry leaves the queue for the run) → commit, for `--seconds`
    (default 60). Printed: claims/s, p50/p95/p99 of claim_next's own time, and double claims: from
    the callers' log of (entry, caller, claim started, outcome committed), two callers holding the
    same entry at overlapping times; plus the contacts offered that should not have been (no mobile,
    do not call, in another list's cooldown), checked in SQL afterwards. Both must be 0. On SQLite
    the threads' writes are serialised by the database's one write lock (busy_timeout waits), so
    there claims/s is bounded by one writer at a time, whatever the number of callers.
    Claim latency is every claim_next call's own time, including those that failed (e.g. SQLite's
    "database is locked" after its 10 s busy timeout): the caller waited that long either way. The
    callers loop without pause, so this is a saturation test: the latencies are mostly queueing,
    about 50 ÷ claims/s (Little's law) once the database or the one client process is the limit.
    Baseline for the latencies: a plain paged query of the list (the first 20 pending entries of one
    branch by due date, raw driver, same engine: the issue's "< 1 ms on either engine"); for
    claims/s: the 20 claims/s that (b) asks for (the issue's 600 callers each claiming every 30 s),
    so the ratio is the share of that demand the claim path can serve at all.
(b) HTTP: the app served as in production (gunicorn, --workers 4 sync, as the README's production
    command; CSRF on; sign-in throttling off, since every caller signs in from 127.0.0.1) against the
    same database. 100 callers sign in through /login (one argon2 hash made once). Then an open
    loop sends a "call next" step at fixed times, 20 per second, for `--seconds`, each step for the
    next caller in turn. The issue pictures about 600 callers each claiming every 30 s; 100 each
    claiming every 5 s is the same 20 claims/s, and keeps sign-in (argon2: ~0.19 s of CPU each, on
    purpose) to ~10 s instead of ~2 minutes per engine. A caller holding nobody presses Call next
    (POST /calls/lists/<id>/next → 302 → GET the entry page); a caller on a call presses an outcome
    button (POST …/entries/<id>/outcome, answered or no answer, which records the call and claims
    the next member itself → 302 → GET that entry page): every step claims one member and renders
    one entry page, and entries are consumed. Latency: from the step's scheduled time to the end of
    the last page (so a slow server is not hidden by late sends).
    Errors: any step not ending on an entry page with HTTP 200 (or on the list page once the queue
    is empty), not answered within REQUEST_TIMEOUT, or never sent because the server fell so far
    behind that it was still queued GRACE seconds after the last send was due (its latency counts
    as the time it had waited by then, a lower bound). Goal: p95 < 50 ms, no errors. Baseline: the
    same paged query.

The load generators run in child processes (python -m bench.bench_calls …), apart from the
process that built the database.
"""
from __future__ import annotations

import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import BenchError, Context, Result

DEFAULT_CONTACTS = 1_000_000
DEFAULT_ENTRIES = 100_000
DEFAULT_SECONDS = 60.0
CALLERS = 50                 # (a)
HTTP_RATE = 20.0             # (b) steps per second, open loop
HTTP_CALLERS = 100           # (b) at most; each claims every HTTP_CALLERS / HTTP_RATE seconds
HTTP_WORKERS = 4             # gunicorn --workers (sync), as in the README's production command
HTTP_CLIENT_THREADS = 64     # the load generator's pool: enough that a send is never late
REQUEST_TIMEOUT = 30         # s, as gunicorn's default worker timeout
GRACE = 15                   # s after the last send was due: steps still queued then are not sent
PAGED_QUERIES = 300          # samples of the baseline query
BRANCHES = 12
LIST_BRANCHES = 4
NO_MOBILE_SHARE = 0.02
DO_NOT_CALL_SHARE = 0.005
CALLED_ELSEWHERE_SHARE = 0.01
SEED = 4
ROOT = Path(__file__).resolve().parent.parent
RESULT_MARK = "BENCH-CALLS-RESULT "
SPEC_ENV = "BRANCHLINE_BENCH_CALLS_SPEC"
PASSWORD = "bench-caller-password"

NOTES = [
    ("calls (a): 50 callers as threads of one child process, each with its own session and connection, loop "
     "claim_next → record_outcome → commit; latency = claim_next alone (failed claims included); double claims "
     "from the callers' own log, ineligible contacts offered and repeat calls checked in SQL (must be 0); latency "
     "baseline = the first 20 pending entries of one branch by due date, raw driver, same engine; claims/s "
     "baseline = the 20 claims/s (b) needs (ratio = share of that demand served)"),
    ("calls (b): gunicorn --workers 4 (sync) on 127.0.0.1, CSRF on; open loop of call-next steps at 20/s (POST "
     "next or POST outcome → 302 → entry page), latency from each step's scheduled time; goal p95 < 50 ms, "
     "no errors"),
]


def run(ctx: Context) -> list[Result]:
    contacts = getattr(ctx, "rows", None) or (ctx.members if getattr(ctx, "members_given", False) else DEFAULT_CONTACTS)
    entries = min(DEFAULT_ENTRIES, max(100, contacts // 10))
    seconds = getattr(ctx, "seconds", None) or DEFAULT_SECONDS
    http_callers = min(HTTP_CALLERS, max(10, round(HTTP_RATE * seconds / 2)))
    plan = [("sqlite", Context(members=ctx.members, workdir=ctx.workdir / "calls-sqlite"))]
    if ctx.database_url:
        plan.append(("postgresql", ctx))
    results: list[Result] = []
    try:
        for engine, engine_ctx in plan:
            results.extend(_bench_engine(ctx, engine, engine_ctx, contacts, entries, seconds, http_callers))
    finally:
        for _, engine_ctx in plan:
            engine_ctx.close()
    return results


def _bench_engine(ctx: Context, engine: str, engine_ctx: Context, contacts: int, entries: int, seconds: float,
                  http_callers: int) -> list[Result]:
    ctx.log(f"{engine}: {contacts:,} contacts, a list of {entries:,} entries, {CALLERS} + {http_callers} callers")
    started = time.perf_counter()
    spec = _prepare_database(engine_ctx, f"calls-{engine}", contacts, entries, http_callers)
    ctx.log(f"{engine}: built in {time.perf_counter() - started:.0f} s")

    paged = _child("paged", spec)
    ctx.log(f"{engine}: paged list query p50 {paged['p50']:.2f} ms, p95 {paged['p95']:.2f} ms, "
            f"p99 {paged['p99']:.2f} ms")

    ctx.log(f"{engine}: (a) {CALLERS} callers claim → outcome for {seconds:g} s")
    con = _child("contention", spec, seconds=seconds)
    ctx.log(f"{engine}: {con['claims']:,} claims in {con['elapsed']:.1f} s = {con['rate']:,.1f}/s; claim p50 "
            f"{con['p50']:.1f} ms, p95 {con['p95']:.1f} ms, p99 {con['p99']:.1f} ms, max {con['max']:.0f} ms; outcome "
            f"p50 {con['outcome_p50']:.1f} ms; double claims {con['double_claims']}, entries held by 2+ callers "
            f"{con['shared']}, "
            f"ineligible offered {con['ineligible']}, errors {con['errors']}"
            + (f"; queue empty after {con['dry_after']:.1f} s" if con["dry_after"] is not None else ""))
    for reason, count in con["error_kinds"].items():
        ctx.log(f"{engine}:   {count} × {reason}")

    ctx.log(f"{engine}: (b) gunicorn --workers {HTTP_WORKERS}, {http_callers} callers sign in, then "
            f"{HTTP_RATE:g} call-next steps/s for {seconds:g} s")
    http = _http_run(ctx, engine, spec, seconds)
    ctx.log(f"{engine}: {http['steps']:,} steps ({http['next_steps']:,} call next, {http['outcome_steps']:,} outcome "
            f"→ next): p50 {http['p50']:.1f} ms, p95 {http['p95']:.1f} ms, p99 {http['p99']:.1f} ms, max "
            f"{http['max']:.0f} ms; call next p95 {http['next_p95']:.1f} ms, outcome → next p95 "
            f"{http['outcome_p95']:.1f} ms; errors {http['errors']}, sent late (>10 ms) {http['late']}, "
            f"achieved {http['achieved_rate']:.1f}/s; sign-in {http['signin_seconds']:.0f} s")
    for reason, count in http["error_kinds"].items():
        ctx.log(f"{engine}:   {count} × {reason}")
    check = _child("check", spec)
    ctx.log(f"{engine}: after both: {check['attempts']:,} calls recorded on {check['entries_called']:,} entries, "
            f"repeat calls {check['repeats']}, ineligible offered {check['ineligible']}")

    label = f"{engine}: calls"
    return [
        Result(f"{label} (a) {CALLERS} callers: claims/s (share of the {HTTP_RATE:g}/s (b) needs)", con["rate"],
               HTTP_RATE, "claims/s"),
        Result(f"{label} (a) claim p50 (× paged list query)", con["p50"], paged["p50"], "ms"),
        Result(f"{label} (a) claim p95 (× paged list query)", con["p95"], paged["p95"], "ms"),
        Result(f"{label} (a) claim p99 (× paged list query)", con["p99"], paged["p99"], "ms"),
        Result(f"{label} (a)+(b) double claims, ineligible offered, repeat calls (must be 0)",
               con["double_claims"] + check["ineligible"] + check["repeats"], 0, "claims"),
        Result(f"{label} (b) HTTP call next, {HTTP_RATE:g}/s: p50 (× paged list query)", http["p50"], paged["p50"],
               "ms"),
        Result(f"{label} (b) HTTP call next, {HTTP_RATE:g}/s: p95, goal < 50 ms (× paged list query)", http["p95"],
               paged["p95"], "ms"),
        Result(f"{label} (b) HTTP errors (must be 0)", http["errors"], 0, "errors"),
    ]


# ---------------------------------------------------------------- the database

def _prepare_database(engine_ctx: Context, name: str, contacts: int, entries: int, http_callers: int) -> dict:
    """A fresh migrated database with the contacts, the list, its entries and the callers; released again."""
    from crm.auth.models import User, user_branch
    from crm.auth.passwords import hash_password
    from crm.auth.roles import Role
    from crm.calls import scripts
    from crm.calls.models import CallAttempt, CallEntry, CallList, CallListKind
    from crm.contacts.models import Contact
    from crm.database import analyze, bulk_insert
    from crm.extensions import db
    from crm.region.models import Branch, Employer, ServiceGroup, Workplace

    app = engine_ctx.fresh_app(name)
    rng = random.Random(SEED)
    now = datetime.now(UTC)
    today = now.date()
    with app.app_context():
        group = ServiceGroup(name="Health")
        branches = [Branch(code=f"BC{i + 1:02d}", name=f"Bench Branch {i + 1}", service_group=group)
                    for i in range(BRANCHES)]
        employers = [Employer(name=f"Bench Employer {i + 1}", branches=[b]) for i, b in enumerate(branches)]
        workplaces = [Workplace(employer=e, name=f"{e.name} site {k + 1}", postcode="L1 8JQ")
                      for e in employers for k in range(5)]
        db.session.add_all([group, *branches, *employers, *workplaces])
        db.session.flush()
        branch_ids = [b.id for b in branches]
        employer_ids = [e.id for e in employers]
        workplace_ids = [[w.id for w in workplaces[5 * i:5 * i + 5]] for i in range(BRANCHES)]

        connection = db.session.connection()
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA cache_size=-262144")  # as the demo build's bulk load
        first_names = ["Amira", "Ben", "Chloe", "Dev", "Erin", "Femi", "Grace", "Hassan", "Isla", "Jack", "Kofi",
                       "Leah", "Mo", "Nadia", "Owen", "Priya", "Quinn", "Rosa", "Sam", "Tariq"]
        last_names = ["Ahmed", "Brown", "Clarke", "Davies", "Evans", "Fletcher", "Green", "Hughes", "Iqbal", "Jones",
                      "Khan", "Lewis", "Morris", "Nolan", "Owens", "Patel", "Roberts", "Smith", "Taylor", "Walsh"]
        titles = ["Staff Nurse", "Healthcare Assistant", "Porter", "Admin Officer", "Cleaner", "Radiographer"]
        columns = ["id", "membership_number", "first_name", "last_name", "email", "mobile", "postcode", "branch_id",
                   "employer_id", "workplace_id", "job_title", "status", "payment_method", "joined_on",
                   "do_not_call", "created_at", "updated_at"]
        callable_ids = []  # contacts of the list's branches that may be called

        def contact_rows():
            for cid in range(1, contacts + 1):
                b = cid % BRANCHES
                mobile = None if rng.random() < NO_MOBILE_SHARE else f"+4477{cid:09d}"
                dnc = rng.random() < DO_NOT_CALL_SHARE
                if b < LIST_BRANCHES:
                    callable_ids.append((cid, b, mobile is not None and not dnc))
                yield (cid, f"{cid:08d}", rng.choice(first_names), rng.choice(last_names), f"member{cid}@example.org",
                       mobile, "L1 8JQ", branch_ids[b], employer_ids[b], rng.choice(workplace_ids[b]),
                       rng.choice(titles), "member", "docas", today - timedelta(days=rng.randrange(2000)), dnc,
                       now, now)

        bulk_insert("contact", columns, contact_rows())

        questions = list(scripts.NEW_JOINER_QUESTIONS)
        call_list = CallList(name="Bench: new joiners", kind=CallListKind.NEW_JOINER, script=scripts.NEW_JOINER_SCRIPT,
                             questions=questions, cooldown_hours=20, max_attempts=3, due_days=7,
                             branches=branches[:LIST_BRANCHES])
        other = CallList(name="Bench: earlier campaign", kind=CallListKind.CAMPAIGN, script="Hi {{ first_name }}",
                         branches=branches[:LIST_BRANCHES])
        db.session.add_all([call_list, other])
        db.session.flush()

        chosen = rng.sample(callable_ids, min(entries, len(callable_ids)))
        entry_columns = ["id", "list_id", "contact_id", "branch_id", "status", "due_by", "attempts", "reached",
                         "added_at", "source"]
        bulk_insert("call_entry", entry_columns, (
            (k + 1, call_list.id, cid, branch_ids[b], "pending", today + timedelta(days=rng.randrange(-7, 15)), 0,
             False, now, "bench") for k, (cid, b, _) in enumerate(chosen)))
        # Some of the list's contacts were called from another list within the cross-list cooldown.
        elsewhere = rng.sample(chosen, max(1, int(len(chosen) * CALLED_ELSEWHERE_SHARE)))
        base = len(chosen)
        bulk_insert("call_entry", entry_columns + ["last_outcome", "completed_at"], (
            (base + k + 1, other.id, cid, branch_ids[b], "done", today, 1, True, now, "bench", "answered", now)
            for k, (cid, b, _) in enumerate(elsewhere)))
        bulk_insert("call_attempt", ["id", "entry_id", "list_id", "contact_id", "user_id", "at", "outcome", "answers"], (
            (k + 1, base + k + 1, other.id, cid, None, now - timedelta(hours=rng.uniform(0.5, 20)), "answered", {})
            for k, (cid, b, _) in enumerate(elsewhere)))
        _sync_id_sequences("contact", "call_entry", "call_attempt")

        password_hash = hash_password(PASSWORD)  # once: argon2 is slow on purpose
        users = [User(email=f"caller{k + 1}@bench.example.org", name=f"Caller {k + 1}", role=Role.CALLER,
                      password_hash=password_hash, branches=branches[:LIST_BRANCHES])
                 for k in range(CALLERS + http_callers)]
        db.session.add_all(users)
        call_list.callers = users
        db.session.commit()
        analyze(Contact.__table__, CallEntry.__table__, CallAttempt.__table__, CallList.__table__, User.__table__,
                user_branch, Branch.__table__)
        db.session.commit()
        spec = {
            "url": app.config["SQLALCHEMY_DATABASE_URI"], "instance": app.instance_path,
            "list_id": call_list.id, "other_list_id": other.id, "branch_id": branch_ids[0],
            "callers": [u.id for u in users[:CALLERS]],
            "http_callers": [u.email for u in users[CALLERS:]],
            "entries": len(chosen),
            "callable_entries": sum(1 for _, _, ok in chosen if ok) - len(elsewhere),
        }
    engine_ctx.close()
    return spec


def _sync_id_sequences(*tables: str) -> None:
    from sqlalchemy import text

    from crm.extensions import db

    if db.session.connection().dialect.name != "postgresql":
        return  # SQLite takes max(id) + 1
    for table in tables:
        db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM \"{table}\"), false)"))


# ---------------------------------------------------------------- the parent's side of a child process

def _child(task: str, spec: dict, **args) -> dict:
    """Run one task in a fresh interpreter and return its result."""
    payload = json.dumps({"task": task, **spec, **args})
    proc = subprocess.run([sys.executable, "-m", "bench.bench_calls", payload], cwd=ROOT, stdout=subprocess.PIPE,
                          text=True, check=False)
    if proc.returncode != 0:
        raise BenchError(f"the calls {task} child process failed (exit status {proc.returncode})")
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK):])
    raise BenchError(f"the calls {task} child process printed no result")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _http_run(ctx: Context, engine: str, spec: dict, seconds: float) -> dict:
    """Start gunicorn on the database, drive it from a child process, stop it."""
    port = _free_port()
    env = {**os.environ, SPEC_ENV: json.dumps(spec)}
    env.pop("DATABASE_URL", None)  # the app gets its database from the spec
    log_path = Path(spec["instance"]) / "gunicorn.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(HTTP_WORKERS), "--bind", f"127.0.0.1:{port}",
             "--log-level", "warning", "--error-logfile", "-", "bench.bench_calls:wsgi_app()"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_server(server, port, log_path)
        return _child("http", spec, base=f"http://127.0.0.1:{port}", seconds=seconds)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        lines = log_path.read_text().splitlines()
        tracebacks = sum(1 for line in lines if line.startswith("Traceback"))
        raised = Counter(line[:160] for line in lines if re.match(r"^[\w.]+(Error|Exception|Timeout)\b", line))
        if tracebacks or raised:
            ctx.log(f"{engine}: gunicorn logged {tracebacks} traceback(s)" + "".join(
                f"; {count} × {line}" for line, count in raised.most_common(3)))


def _wait_for_server(server: subprocess.Popen, port: int, log_path: Path) -> None:
    import http.client

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"gunicorn exited ({server.returncode}): {log_path.read_text()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/login")
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchError("gunicorn did not answer within 60 s")


# ---------------------------------------------------------------- served by gunicorn

def wsgi_app():
    """The app as gunicorn serves it for (b): `bench.bench_calls:wsgi_app()`, database from the spec."""
    spec = json.loads(os.environ[SPEC_ENV])
    from crm import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": spec["url"],
        "INSTANCE_PATH": spec["instance"],
        "SECRET_KEY": "bench-secret",  # the same in every worker
        "REDIS_URL": "redis://127.0.0.1:9/0",  # never contacted by the pages driven
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_ENABLED": False,  # every caller signs in from 127.0.0.1
        "SESSION_COOKIE_SECURE": False,  # plain HTTP on loopback
        "REMEMBER_COOKIE_SECURE": False,
        "LOG_LEVEL": "WARNING",
    })


# ---------------------------------------------------------------- the child's side

def _child_app(spec: dict, pool: int = 5):
    from crm import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": spec["url"],
        "INSTANCE_PATH": spec["instance"],
        "SECRET_KEY": "bench-secret",
        "REDIS_URL": "redis://127.0.0.1:9/0",
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        # One connection per caller, as one per web process: the pool must not be what they queue on.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "pool_size": pool, "max_overflow": 10},
    })


def _percentiles(samples_ms: list[float]) -> dict:
    if not samples_ms:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}
    ordered = sorted(samples_ms)
    if len(ordered) == 1:
        return {"p50": ordered[0], "p95": ordered[0], "p99": ordered[0], "max": ordered[0]}
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50": statistics.median(ordered), "p95": cuts[94], "p99": cuts[98], "max": ordered[-1]}


def _raw_connection(url: str):
    """A plain driver connection (sqlite3 / psycopg) and its parameter mark."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        import sqlite3

        conn = sqlite3.connect(parsed.database, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn, "?"
    import psycopg

    conn = psycopg.connect(parsed.set(drivername="postgresql").render_as_string(hide_password=False),
                           autocommit=True)
    return conn, "%s"


def _child_paged(spec: dict) -> dict:
    """The baseline: the first 20 pending entries of one branch of the list by due date, raw driver."""
    conn, mark = _raw_connection(spec["url"])
    sql = (f"SELECT id, contact_id, status, due_by FROM call_entry WHERE list_id = {mark} AND status = 'pending' "
           f"AND branch_id = {mark} ORDER BY due_by, id LIMIT 20")
    params = (spec["list_id"], spec["branch_id"])
    samples = []
    for k in range(PAGED_QUERIES + 20):
        started = time.perf_counter()
        rows = conn.execute(sql, params).fetchall()
        if k >= 20:  # the first few warm the cache
            samples.append((time.perf_counter() - started) * 1000)
    conn.close()
    if len(rows) != 20:
        raise BenchError(f"the paged list query returned {len(rows)} rows")
    return _percentiles(samples)


def _child_contention(spec: dict) -> dict:
    from sqlalchemy.exc import SQLAlchemyError

    from crm.auth.models import User
    from crm.calls import claims, service
    from crm.calls.models import CallList, Outcome
    from crm.extensions import db

    failures = (SQLAlchemyError, service.CallRefused)
    callers = spec["callers"]
    seconds = spec["seconds"]
    app = _child_app(spec, pool=len(callers) + 5)
    barrier = threading.Barrier(len(callers) + 1)
    lock = threading.Lock()
    log: list[tuple] = []  # (entry, caller, claim started, claimed, outcome done, outcome recorded)
    claim_ms: list[float] = []
    outcome_ms: list[float] = []
    errors: Counter = Counter()
    dry: list[float] = []
    window = {}

    def work(user_id: int, seed: int) -> None:
        rng = random.Random(seed)
        mine, mine_claim, mine_outcome = [], [], []
        with app.app_context():
            user = db.session.get(User, user_id)
            call_list = db.session.get(CallList, spec["list_id"])
            db.session.commit()
            barrier.wait()
            deadline = window["deadline"]
            while True:
                started = time.perf_counter()
                if started >= deadline:
                    break
                try:
                    entry = claims.claim_next(call_list, user)
                except failures as exc:  # counted, and the caller carries on as a person would
                    db.session.rollback()
                    mine_claim.append((time.perf_counter() - started) * 1000)
                    with lock:
                        errors[f"claim: {_why(exc)}"] += 1
                    continue
                claimed = time.perf_counter()
                mine_claim.append((claimed - started) * 1000)
                if entry is None:
                    with lock:
                        dry.append(claimed - window["start"])
                    break
                entry_id = entry.id
                recorded = False
                try:
                    service.record_outcome(entry, Outcome.ANSWERED if rng.random() < 0.5 else Outcome.NO_ANSWER,
                                           by=user)
                    db.session.commit()
                    recorded = True
                except failures as exc:
                    db.session.rollback()
                    with lock:
                        errors[f"outcome: {_why(exc)}"] += 1
                released = time.perf_counter()
                mine.append((entry_id, user_id, started, claimed, released, recorded))
                mine_outcome.append((released - claimed) * 1000)
            db.session.remove()
        with lock:
            log.extend(mine)
            claim_ms.extend(mine_claim)
            outcome_ms.extend(mine_outcome)

    threads = [threading.Thread(target=work, args=(uid, k)) for k, uid in enumerate(callers)]
    for t in threads:
        t.start()
    window["start"] = time.perf_counter()
    window["deadline"] = window["start"] + seconds
    barrier.wait()
    for t in threads:
        t.join()
    ended = time.perf_counter()
    with app.app_context():
        db.engine.dispose()

    # Claims finished within the window, over the window (or until the queue ran dry).
    dry_after = min(dry) if dry else None
    horizon = window["start"] + (dry_after if dry_after is not None else seconds)
    # A claim is an entry newly leased to a caller: getting back one's own lease (after a failed
    # outcome) is not another claim.
    first_claimed: dict[tuple[int, int], float] = {}
    for entry_id, user_id, _, claimed, _, _ in log:
        key = (entry_id, user_id)
        first_claimed[key] = min(claimed, first_claimed.get(key, claimed))
    in_window = sum(1 for claimed in first_claimed.values() if claimed <= horizon)
    elapsed = horizon - window["start"]
    double, shared = _double_claims(log)
    stats = _percentiles(claim_ms)
    return {
        "claims": len(first_claimed), "elapsed": elapsed, "rate": in_window / elapsed if elapsed else 0.0,
        **stats, "outcome_p50": statistics.median(outcome_ms) if outcome_ms else 0.0,
        "double_claims": double, "shared": shared, "errors": sum(errors.values()),
        "error_kinds": dict(errors.most_common(5)), "dry_after": dry_after, "wall": ended - window["start"],
        "ineligible": _ineligible(spec),
    }


def _why(exc: Exception) -> str:
    """An exception in one short line: the driver's own message when there is one."""
    message = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {message[0][:120] if message else ''}"


def _double_claims(log) -> tuple[int, int]:
    """(entries held by two different callers at overlapping times, entries held by more than one
    caller at any time). A caller holds an entry from before its claim started until its outcome
    was committed, or, when recording the outcome failed, for the rest of the run (the 10-minute
    lease outlives it), so a real double claim always overlaps. The second number should be 0 too:
    once recorded, an entry is closed or rests for the list's 20-hour cooldown. (The same caller
    claiming an entry again after a failed outcome gets back the lease they hold: not counted.)"""
    by_entry: dict[int, list] = {}
    for entry_id, user_id, started, _, released, recorded in log:
        by_entry.setdefault(entry_id, []).append((started, released if recorded else float("inf"), user_id))
    double = shared = 0
    for holds in by_entry.values():
        if len({user for _, _, user in holds}) < 2:
            continue
        shared += 1
        holds.sort()
        double += any(start_j < end_i and user_j != user_i
                      for i, (_, end_i, user_i) in enumerate(holds) for start_j, _, user_j in holds[i + 1:])
    return double, shared


def _ineligible(spec: dict) -> int:
    """Calls recorded on the list to contacts that must not have been offered: no mobile, do not
    call, or called from another list within the cross-list cooldown before this call."""
    conn, mark = _raw_connection(spec["url"])
    try:
        return conn.execute(
            f"SELECT count(*) FROM call_attempt a JOIN contact c ON c.id = a.contact_id "
            f"WHERE a.list_id = {mark} AND (c.mobile IS NULL OR c.do_not_call "
            f"OR EXISTS (SELECT 1 FROM call_attempt o WHERE o.contact_id = a.contact_id AND o.list_id = {mark}))",
            (spec["list_id"], spec["other_list_id"])).fetchone()[0]
    finally:
        conn.close()


def _child_check(spec: dict) -> dict:
    """After both runs: each entry called at most once, and nobody offered who should not have been."""
    conn, mark = _raw_connection(spec["url"])
    try:
        attempts, entries_called = conn.execute(
            f"SELECT count(*), count(DISTINCT entry_id) FROM call_attempt WHERE list_id = {mark}",
            (spec["list_id"],)).fetchone()
    finally:
        conn.close()
    return {"attempts": attempts, "entries_called": entries_called, "repeats": attempts - entries_called,
            "ineligible": _ineligible(spec)}


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
_ENTRY = re.compile(r"/calls/lists/(\d+)/entries/(\d+)$")


def _csrf_token(html: str) -> str:
    found = _CSRF.search(html)
    if not found:
        raise BenchError("no CSRF token on the page")
    return found.group(1) or found.group(2)


class _Caller:
    def __init__(self, email: str):
        import requests

        self.email = email
        self.http = requests.Session()
        self.token = ""
        self.held: int | None = None
        self.lock = threading.Lock()
        self.rng = random.Random(email)


def _child_http(spec: dict) -> dict:
    from concurrent.futures import ThreadPoolExecutor

    import requests

    base = spec["base"]
    list_url = f"{base}/calls/lists/{spec['list_id']}"
    callers = [_Caller(email) for email in spec["http_callers"]]

    def sign_in(caller: _Caller) -> None:
        page = caller.http.get(f"{base}/login")
        response = caller.http.post(f"{base}/login", data={
            "email": caller.email, "password": PASSWORD, "csrf_token": _csrf_token(page.text)}, allow_redirects=False)
        if response.status_code != 302:
            raise BenchError(f"{caller.email} could not sign in (HTTP {response.status_code})")
        # Sign-in starts a new session: its CSRF token is on every page (the sign-out form); /account is
        # the cheapest (the list page counts the whole queue).
        page = caller.http.get(f"{base}/account")
        if page.status_code != 200:
            raise BenchError(f"{caller.email} got HTTP {page.status_code} for /account")
        caller.token = _csrf_token(page.text)

    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(sign_in, callers))
    signin_seconds = time.perf_counter() - started

    lock = threading.Lock()
    samples: list[tuple[str, float]] = []
    errors: Counter = Counter()
    late = [0]
    empty = [0]

    def step(caller: _Caller, due: float, give_up: float) -> None:
        sent = time.perf_counter()
        if sent - due > 0.010:
            with lock:
                late[0] += 1
        if sent > give_up:
            with lock:
                samples.append(("unsent", (sent - due) * 1000))
                errors["not sent: still queued in the client after the grace period"] += 1
            return
        with caller.lock:
            kind = "next" if caller.held is None else "outcome"
            try:
                if kind == "next":
                    response = caller.http.post(f"{list_url}/next", data={"csrf_token": caller.token},
                                                timeout=REQUEST_TIMEOUT)
                else:
                    outcome = "answered" if caller.rng.random() < 0.5 else "no_answer"
                    response = caller.http.post(f"{list_url}/entries/{caller.held}/outcome",
                                                data={"csrf_token": caller.token, "outcome": outcome},
                                                timeout=REQUEST_TIMEOUT)
                done = time.perf_counter()
                problem = None
                redirected = response.history and response.history[0].status_code == 302
                landed = _ENTRY.search(response.url.split("?")[0])
                if response.status_code != 200 or not redirected:
                    problem = f"{kind}: HTTP {response.status_code}" + (
                        f" after {response.history[0].status_code}" if response.history else "")
                elif landed:
                    caller.held = int(landed.group(2))
                elif response.url.rstrip("/").endswith(f"/calls/lists/{spec['list_id']}"):
                    caller.held = None
                    with lock:
                        empty[0] += 1
                else:
                    problem = f"{kind}: ended on {response.url}"
            except requests.RequestException as exc:  # timeouts, refused connections
                done = time.perf_counter()
                problem = f"{kind}: {type(exc).__name__}"
                caller.held = None
        with lock:
            samples.append((kind, (done - due) * 1000))
            if problem:
                errors[problem] += 1

    # Warm every worker's templates and connections: one untimed step per worker and then some.
    for caller in callers[-HTTP_WORKERS * 2:]:
        step(caller, time.perf_counter(), float("inf"))
    samples.clear()
    errors.clear()
    late[0] = empty[0] = 0

    seconds, rate = spec["seconds"], HTTP_RATE
    total = int(seconds * rate)
    pool = ThreadPoolExecutor(HTTP_CLIENT_THREADS)
    t0 = time.perf_counter() + 0.5
    give_up = t0 + seconds + GRACE
    futures = []
    for i in range(total):
        due = t0 + i / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        futures.append(pool.submit(step, callers[i % len(callers)], due, give_up))
    for future in futures:
        future.result()
    finished = time.perf_counter()
    pool.shutdown()
    all_ms = [ms for _, ms in samples]  # the unsent too, at the wait they had had
    next_ms = [ms for kind, ms in samples if kind == "next"]
    outcome_ms = [ms for kind, ms in samples if kind == "outcome"]
    stats = _percentiles(all_ms)
    return {
        "steps": len(samples), "next_steps": len(next_ms), "outcome_steps": len(outcome_ms), **stats,
        "next_p95": _percentiles(next_ms)["p95"], "outcome_p95": _percentiles(outcome_ms)["p95"],
        "errors": sum(errors.values()), "error_kinds": dict(errors.most_common(5)), "late": late[0],
        "empty": empty[0], "signin_seconds": signin_seconds,
        "achieved_rate": sum(1 for kind, _ in samples if kind != "unsent") / (finished - t0),
    }


def _child_main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    task = {"paged": _child_paged, "contention": _child_contention, "http": _child_http,
            "check": _child_check}[spec["task"]]
    print(RESULT_MARK + json.dumps(task(spec)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
