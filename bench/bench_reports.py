"""The participation dashboard at scale: p50/p95 per panel and for the whole page, and the recounts.

The database: N contacts (default 1,000,000: `--rows N`) in 100 branches over 8 service groups,
300 employers (a mix of NHS trusts, councils, schools, care providers) and 3,000 workplaces (half
with a headcount), 90% members, 80% with a job title; 3% hold an activist role, 20% have a
self-identified group. Actions, 5 × N in all over the last year: 60% campaign letters in 20
campaigns (two letters per submission), 30% calls on new-joiner and DOCAS-leaver lists (two calls
per entry), 5% text replies, 5% joiners and leavers from 12 monthly imports. Everything is written
with crm.database.bulk_insert and ANALYZEd. SQLite always (temporary folder); PostgreSQL too when
DATABASE_URL names a bench database.

Measured per engine:
- the full recount of the summary tables (crm/reports/summaries.refresh(full=True)) and an
  incremental refresh right after (the job's usual work: today's slice plus the member snapshot);
- each dashboard panel's service call (membership, calls, activists, participation, data quality)
  for a campaign lead over the work-programme year, REPEAT times across four filters (none, one
  service group, one campaign, one branch): p50 and p95;
- the whole dashboard page (GET /reports/ through the app, templates included), same filters.
Baseline: the query the summary tables replace — unique participants per campaign × branch over
the year straight from the letters table (the issue's "all campaigns × all branches matrix").
Goal: whole-page p95 < 150 ms at 1M contacts and 5M actions.
"""
from __future__ import annotations

import random
import time
from datetime import date, datetime, timedelta, timezone

from bench import Context, Result, percentiles_ms

DEFAULT_CONTACTS = 1_000_000
REPEAT = 12
BRANCHES = 100
EMPLOYERS = 300
WORKPLACES = 3_000
CAMPAIGNS = 20
PANELS = ("membership", "calls", "activists", "participation", "quality")
NOTES = ["reports: p50/p95 are per panel service call and for the whole GET /reports/ page, over four "
         "filters (none, a service group, a campaign, a branch); baseline: unique participants per "
         "campaign × branch straight from the letters table"]


def run(ctx: Context) -> list[Result]:
    contacts = getattr(ctx, "rows", None) or DEFAULT_CONTACTS
    plan = [("sqlite", Context(members=ctx.members, workdir=ctx.workdir / "reports-sqlite"))]
    if ctx.database_url:
        plan.append(("postgresql", ctx))
    results: list[Result] = []
    try:
        for engine, engine_ctx in plan:
            results.extend(_bench_engine(ctx, engine, engine_ctx, contacts))
    finally:
        for _, engine_ctx in plan:
            engine_ctx.close()
    return results


def _bench_engine(ctx: Context, engine: str, engine_ctx: Context, contacts: int) -> list[Result]:
    from crm.extensions import db
    from crm.reports import summaries

    app = engine_ctx.fresh_app(f"reports-{engine}")
    actions = 5 * contacts
    ctx.log(f"{engine}: building {contacts:,} contacts and {actions:,} actions")
    started = time.perf_counter()
    with app.app_context():
        ids = _build(contacts, actions)
        db.session.commit()
    ctx.log(f"{engine}: built in {time.perf_counter() - started:.0f} s")
    out: list[Result] = []
    with app.app_context():
        baseline_s = _matrix_query_seconds()
        ctx.log(f"{engine}: baseline (participants per campaign × branch from letters): {baseline_s * 1000:,.0f} ms")
        full_s = _timed(lambda: (summaries.refresh(full=True), db.session.commit()))
        incremental_s = _timed(lambda: (summaries.refresh(full=False), db.session.commit()))
        ctx.log(f"{engine}: full recount {full_s:.2f} s, incremental refresh {incremental_s:.2f} s")
        out.append(Result(f"reports {engine}: full recount of summaries", full_s, baseline_s, "s"))
        out.append(Result(f"reports {engine}: incremental refresh", incremental_s, baseline_s, "s"))
        panel_samples = _panels(ids)
    for panel in PANELS:
        p50, p95 = percentiles_ms(panel_samples[panel])
        ctx.log(f"{engine}: {panel:<13} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms")
        out.append(Result(f"reports {engine}: {panel} panel p95", p95, baseline_s * 1000, "ms"))
    page = _page_samples(app, ids)
    p50, p95 = percentiles_ms(page)
    ctx.log(f"{engine}: whole dashboard page p50 {p50:.1f} ms  p95 {p95:.1f} ms (goal p95 < 150 ms)")
    out.append(Result(f"reports {engine}: dashboard page p50", p50, baseline_s * 1000, "ms"))
    out.append(Result(f"reports {engine}: dashboard page p95", p95, baseline_s * 1000, "ms"))
    # A date range nobody asked for before: counted once by a worker, then read like the standard periods.
    custom = {"from": (date.today() - timedelta(days=120)).isoformat(),
              "to": (date.today() - timedelta(days=30)).isoformat()}
    with app.app_context():
        count_s = _timed(lambda: (summaries.count_period(date.fromisoformat(custom["from"]),
                                                         date.fromisoformat(custom["to"])), db.session.commit()))
    ctx.log(f"{engine}: counting a custom period {count_s:.2f} s (a worker's job, once per period)")
    out.append(Result(f"reports {engine}: count a custom period (job)", count_s, baseline_s, "s"))
    p50, p95 = percentiles_ms(_page_samples(app, ids, extra=custom))
    ctx.log(f"{engine}: dashboard page for the custom period p50 {p50:.1f} ms  p95 {p95:.1f} ms")
    out.append(Result(f"reports {engine}: dashboard page p95, custom period", p95, baseline_s * 1000, "ms"))
    return out


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _filters(ids: dict) -> list[dict]:
    return [{}, {"service_group": str(ids["group"])}, {"campaign": str(ids["campaign"])},
            {"branch": str(ids["branch"])}]


def _panels(ids: dict) -> dict[str, list[float]]:
    from crm.auth.models import User
    from crm.extensions import db
    from crm.reports import activists, service
    from crm.reports import targets as targets_service

    lead = db.session.get(User, ids["lead"])
    targets = targets_service.targets_for(targets_service.programme_year())
    samples: dict[str, list[float]] = {p: [] for p in PANELS}
    calls = {
        "membership": lambda s: service.membership(s, targets),
        "calls": lambda s: service.calls(s, targets),
        "activists": lambda s: activists.activists(s, targets),
        "participation": lambda s: service.participation(s, targets),
        "quality": lambda s: service.quality(s),
    }
    for _ in range(REPEAT // 4 or 1):
        for args in _filters(ids):
            flt, _, _ = service.parse_filter(lead, args, targets)
            scope = service.scope_for(lead, flt)
            for panel, fn in calls.items():
                samples[panel].append(_timed(lambda: fn(scope)))
    return samples


def _page_samples(app, ids: dict, extra: dict | None = None) -> list[float]:
    from urllib.parse import urlencode

    from crm.extensions import db
    from crm.reports import summaries

    client = app.test_client()
    with app.app_context():
        summaries.refresh(full=False)  # fresh figures: the page would otherwise ask a worker for a refresh
        db.session.commit()
        from crm.auth.models import User

        user = db.session.get(User, ids["lead"])
        session_id = user.get_id()
    with client.session_transaction() as sess:
        sess["_user_id"] = session_id
        sess["_fresh"] = True
        sess["mfa_ok"] = True
    assert client.get("/reports/").status_code == 200  # warm the templates
    samples = []
    for _ in range(REPEAT // 4 or 1):
        for args in _filters(ids):
            args = {**(extra or {}), **args}
            url = "/reports/" + (f"?{urlencode(args)}" if args else "")
            started = time.perf_counter()
            response = client.get(url)
            samples.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"GET {url} answered {response.status_code}")
    return samples


def _matrix_query_seconds() -> float:
    from sqlalchemy import func, select

    from crm.campaigns.models import Letter
    from crm.extensions import db

    since = datetime.now(timezone.utc) - timedelta(days=365)
    stmt = (select(Letter.campaign_id, Letter.branch_id, func.count(func.distinct(Letter.contact_id)))
            .where(Letter.sent_at >= since).group_by(Letter.campaign_id, Letter.branch_id))
    return _timed(lambda: db.session.execute(stmt).all())


# ------------------------------------------------------------------ the generated region


def _build(contacts: int, actions: int) -> dict:
    from crm.auth.models import User
    from crm.auth.roles import Role
    from crm.calls.models import CallList, CallListKind
    from crm.campaigns.models import Campaign, CampaignStatus
    from crm.database import analyze, bulk_insert, utcnow
    from crm.extensions import db
    from crm.imports.models import ImportRun, ImportScope, ImportStatus
    from crm.region.models import Branch, Employer, ServiceGroup, Workplace
    from crm.vocabulary import (
        SERVICE_GROUPS,
        ActivistRoleKind,
        ContactStatus,
        EmployerKind,
        PaymentMethod,
        SelfOrganisedGroup,
    )

    rng = random.Random(7)
    now = utcnow()
    today = date.today()
    groups = [ServiceGroup(name=name) for name in SERVICE_GROUPS]
    db.session.add_all(groups)
    db.session.flush()
    branches = [Branch(code=f"B{i:03d}", name=f"Branch {i}", service_group_id=groups[i % len(groups)].id)
                for i in range(BRANCHES)]
    db.session.add_all(branches)
    db.session.flush()
    kinds = [EmployerKind.NHS_TRUST, EmployerKind.COUNCIL, EmployerKind.SCHOOL, EmployerKind.CARE_PROVIDER,
             EmployerKind.OTHER]
    employers = []
    for i in range(EMPLOYERS):
        employer = Employer(name=f"Employer {i}", kind=kinds[i % len(kinds)])
        employer.branches = [branches[i % BRANCHES]]
        employers.append(employer)
    db.session.add_all(employers)
    db.session.flush()
    workplaces = [Workplace(employer_id=employers[i % EMPLOYERS].id, name=f"Site {i}",
                            headcount=rng.randint(20, 2000) if i % 2 else None) for i in range(WORKPLACES)]
    db.session.add_all(workplaces)
    db.session.flush()
    lead = User(email="lead@bench.example", name="Bench Lead", role=Role.CAMPAIGN_LEAD, password_hash="x",
                trained_on=today)
    db.session.add(lead)
    db.session.flush()
    # A contact's workplace decides its employer and branch, so the figures hang together.
    site_of = [workplaces[rng.randrange(WORKPLACES)] for _ in range(contacts)]
    employer_index = {e.id: i for i, e in enumerate(employers)}
    contact_branch = [branches[employer_index[w.employer_id] % BRANCHES].id for w in site_of]
    contact_rows = []
    for i in range(contacts):
        w = site_of[i]
        contact_rows.append((i + 1, f"{10_000_000 + i}", f"First{i}", f"Last{i}", contact_branch[i], w.employer_id,
                             w.id, "Nurse" if rng.random() < 0.8 else None,
                             ContactStatus.MEMBER if rng.random() < 0.9 else ContactStatus.LAPSED,
                             PaymentMethod.DOCAS, date(2020, 1, 1), False, now, now))
    bulk_insert("contact", ["id", "membership_number", "first_name", "last_name", "branch_id", "employer_id",
                            "workplace_id", "job_title", "status", "payment_method", "joined_on", "do_not_call",
                            "created_at", "updated_at"], contact_rows)
    del contact_rows
    role_kinds = list(ActivistRoleKind)
    bulk_insert("activist_role", ["contact_id", "role", "branch_id", "started_on", "ended_on", "created_at",
                                  "updated_at"],
                ((cid, role_kinds[cid % len(role_kinds)], contact_branch[cid - 1],
                  today - timedelta(days=rng.randint(0, 900)),
                  today - timedelta(days=rng.randint(0, 30)) if rng.random() < 0.1 else None, now, now)
                 for cid in rng.sample(range(1, contacts + 1), contacts * 3 // 100)))
    sog_kinds = list(SelfOrganisedGroup)
    bulk_insert("contact_sog", ["contact_id", "group", "recorded_at"],
                ((cid, sog_kinds[cid % len(sog_kinds)], now)
                 for cid in rng.sample(range(1, contacts + 1), contacts // 5)))

    campaigns = [Campaign(name=f"Campaign {i}", slug=f"campaign-{i}", status=CampaignStatus.OPEN,
                          branch_id=branches[i % BRANCHES].id) for i in range(CAMPAIGNS)]
    db.session.add_all(campaigns)
    db.session.flush()

    def moment() -> datetime:
        return now - timedelta(seconds=rng.randint(0, 365 * 86400))

    letters = actions * 60 // 100
    submissions = letters // 2
    submission_rows, letter_rows = [], []
    for s in range(1, submissions + 1):
        cid = rng.randint(1, contacts)
        campaign = campaigns[rng.randrange(CAMPAIGNS)]
        at = moment()
        submission_rows.append((s, campaign.id, "A", "B", f"w{s}@example.org", "L1 8JQ", "", at, at, cid, at, at))
        w = site_of[cid - 1]
        for position, kind in enumerate(("mp", "employer")):
            letter_rows.append((s, campaign.id, position, kind, f"{kind}:{s}", "Target", "", "t@example.org", "",
                                "", 100, "queued", f"{s}:{kind}", at, cid, contact_branch[cid - 1], w.employer_id,
                                at))
    bulk_insert("campaign_submission", ["id", "campaign_id", "first_name", "last_name", "email", "postcode",
                                        "workplace", "submitted_at", "confirmed_at", "contact_id", "created_at",
                                        "updated_at"], submission_rows)
    bulk_insert("campaign_letter", ["submission_id", "campaign_id", "position", "target_kind", "target_key",
                                    "target_name", "target_title", "target_email", "subject", "body",
                                    "template_share", "state", "sent_key", "sent_at", "contact_id", "branch_id",
                                    "employer_id", "created_at"], letter_rows)
    del submission_rows, letter_rows

    lists = {}
    for b in branches:
        for kind in (CallListKind.NEW_JOINER, CallListKind.DOCAS_LEAVER):
            call_list = CallList(name=f"{kind.label} {b.code}", kind=kind, auto_fill=True)
            call_list.branches = [b]
            db.session.add(call_list)
            lists[(b.id, kind)] = call_list
    db.session.flush()
    attempts = actions * 30 // 100
    entries = attempts // 2
    statuses = ["done", "done", "gave_up", "pending"]
    entry_rows, attempt_rows = [], []
    chosen = rng.sample(range(1, contacts + 1), min(contacts, entries))
    for e, cid in enumerate(chosen, start=1):
        kind = CallListKind.NEW_JOINER if e % 3 else CallListKind.DOCAS_LEAVER
        list_id = lists[(contact_branch[cid - 1], kind)].id
        at = moment()
        status = statuses[e % 4]
        outcome = "retained" if kind is CallListKind.DOCAS_LEAVER and status == "done" else "answered"
        entry_rows.append((e, list_id, cid, contact_branch[cid - 1], status, at.date() + timedelta(days=7), 2,
                           status == "done", outcome, at))
        attempt_rows.append((e, list_id, cid, lead.id, at, "no_answer", {}))
        attempt_rows.append((e, list_id, cid, lead.id, at + timedelta(hours=20), outcome, {}))
    bulk_insert("call_entry", ["id", "list_id", "contact_id", "branch_id", "status", "due_by", "attempts", "reached",
                               "last_outcome", "added_at"], entry_rows)
    bulk_insert("call_attempt", ["entry_id", "list_id", "contact_id", "user_id", "at", "outcome", "answers"],
                attempt_rows)
    del entry_rows, attempt_rows

    replies = actions * 5 // 100
    bulk_insert("inbound_message", ["provider", "provider_id", "channel", "from_address", "body", "kind", "contact_id",
                                    "branch_id", "received_at"],
                (("log", f"SM{r}", "sms", "+447700900000", "Yes", "reply", cid, contact_branch[cid - 1], moment())
                 for r, cid in enumerate((rng.randint(1, contacts) for _ in range(replies)), start=1)))

    runs = []
    for month in range(12):
        run = ImportRun(filename=f"export-{month}.csv", stored_path="/dev/null", file_sha256="0" * 64,
                        scope=ImportScope.REGION, status=ImportStatus.COMPLETED,
                        finished_at=now - timedelta(days=30 * month))
        db.session.add(run)
        runs.append(run)
    db.session.flush()
    changes = actions * 5 // 100
    bulk_insert("import_change", ["run_id", "contact_id", "branch_id", "kind"],
                ((runs[rng.randrange(12)].id, cid, contact_branch[cid - 1], "joiner" if rng.random() < 0.55 else "leaver")
                 for cid in (rng.randint(1, contacts) for _ in range(changes))))
    if db.session.connection().dialect.name == "postgresql":
        from sqlalchemy import text

        for table in ("contact", "campaign_submission", "call_entry"):
            db.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM \"{table}\"))"))
    from crm.reports.models import ActivityDay, MemberCell, ParticipantDay

    db.session.flush()
    tables = [m.__table__ for m in (ActivityDay, MemberCell, ParticipantDay)]
    from crm.calls.models import CallAttempt, CallEntry
    from crm.campaigns.models import Letter
    from crm.contacts.models import ActivistRole, Contact, ContactSelfOrganisedGroup
    from crm.imports.models import ImportChange
    from crm.messaging.models import InboundMessage

    analyze(*[m.__table__ for m in (Contact, ActivistRole, ContactSelfOrganisedGroup, Letter, CallEntry, CallAttempt,
                                    InboundMessage, ImportChange)], *tables)
    return {"lead": lead.id, "group": groups[0].id, "campaign": campaigns[0].id, "branch": branches[0].id}
