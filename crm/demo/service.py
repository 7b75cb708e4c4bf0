"""Build a synthetic demo region (clearly fake people, example.org emails)."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, select, text

from ..audit import service as audit
from ..auth.models import User
from ..auth.passwords import hash_password
from ..auth.roles import Role
from ..contacts.models import ActivistRole, Consent, Contact, ContactSelfOrganisedGroup, Tag, contact_tag
from ..database import analyze, bulk_insert
from ..extensions import db
from ..region.models import Branch, Employer, RegionSettings, ServiceGroup, Workplace
from .generator import RegionPlan

DEMO_PASSWORD = "branchline-demo"
DEMO_EMAIL_DOMAIN = "demo.branchline.example"
REGION_NAME = "North West"
REGION_TIMEZONE = "Europe/London"


class DemoRegionError(RuntimeError):
    """The demo region cannot be built here (the database is not empty)."""


@dataclass(frozen=True)
class DemoSummary:
    branches: int
    employers: int
    workplaces: int
    contacts: int
    activist_roles: int
    users: int

    def __str__(self) -> str:
        return (f"{self.branches:,} branches, {self.employers:,} employers, {self.workplaces:,} workplaces, "
                f"{self.contacts:,} contacts, {self.activist_roles:,} activist roles, {self.users:,} users")


def demo_logins() -> list[tuple[str, str, str]]:
    """(role, email, password) of the demo users present in the database."""
    users = db.session.execute(
        select(User).where(User.email.like(f"%@{DEMO_EMAIL_DOMAIN}")).order_by(User.role, User.email)
    ).scalars().all()
    return [(u.role.value, u.email, DEMO_PASSWORD) for u in users]


def demo_plan(members: int = 20000, seed: int = 1, today: date | None = None) -> RegionPlan:
    """The region build_demo_region would write, as plain rows (same seed and day, same region)."""
    today = today or datetime.now(ZoneInfo(REGION_TIMEZONE)).date()
    return RegionPlan.generate(members=members, seed=seed, today=today)


def build_demo_region(members: int = 20000, seed: int = 1, today: date | None = None) -> DemoSummary:
    """Fill an empty database with a synthetic North West region and its demo users; commits."""
    if db.session.execute(select(func.count(Branch.id))).scalar_one():
        raise DemoRegionError("The database already has branches: the demo region only goes into an empty one.")
    plan = demo_plan(members, seed, today)
    try:
        branch_ids, employer_ids, workplace_ids = _write_layout(plan)
        contacts, roles = _write_people(plan, branch_ids, employer_ids, workplace_ids)
        users = _write_users(plan, branch_ids)
        _write_call_lists(plan.today)
        from .messaging import seed_messaging

        seed_messaging(seed)
        from ..auth.demo import prepare_demo_accounts

        prepare_demo_accounts(plan.today)  # training dates; the published demo second factor
        summary = DemoSummary(branches=len(branch_ids), employers=len(employer_ids), workplaces=len(workplace_ids),
                              contacts=contacts, activist_roles=roles, users=users)
        audit.record("demo.build", detail=f"seed={seed}: {summary}")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    _refresh_planner_statistics()
    # Sample postcode directory and MPs files, so campaign pages find every demo member's MP offline.
    from .sample_postcodes import load_demo_lookups

    load_demo_lookups()
    # A letter campaign with a few weeks of letters (it needs the lookups above to find MPs).
    from .campaigns import seed_campaign

    seed_campaign(seed, plan.today)
    return summary


def _write_layout(plan: RegionPlan) -> tuple[list[int], list[int], list[int]]:
    """Region settings, service groups, branches, employers and workplaces (a few hundred ORM rows)."""
    if db.session.execute(select(RegionSettings.id)).first() is None:
        db.session.add(RegionSettings(name=REGION_NAME, timezone=REGION_TIMEZONE, default_phone_region="GB"))
    groups = {g.name: g for g in db.session.execute(select(ServiceGroup)).scalars()}
    for name in plan.service_groups:
        if name not in groups:
            groups[name] = ServiceGroup(name=name)
            db.session.add(groups[name])
    branches = [Branch(code=b.code, name=b.name, service_group=groups[b.service_group]) for b in plan.branches]
    employers = [
        Employer(name=e.name, kind=e.kind, chief_executive_name=e.chief_executive_name,
                 chief_executive_email=e.chief_executive_email, branches=[branches[b] for b in e.branches])
        for e in plan.employers
    ]
    workplaces = [
        Workplace(employer=employers[w.employer], name=w.name, postcode=w.postcode, headcount=w.headcount)
        for w in plan.workplaces
    ]
    db.session.add_all(branches + employers + workplaces)
    db.session.flush()
    return [b.id for b in branches], [e.id for e in employers], [w.id for w in workplaces]


def _write_people(plan: RegionPlan, branch_ids: list[int], employer_ids: list[int],
                  workplace_ids: list[int]) -> tuple[int, int]:
    """Contacts and what hangs off them, in chunks of bulk inserts (200,000 people in seconds)."""
    tags = [Tag(name=name) for name in plan.tags]
    db.session.add_all(tags)
    db.session.flush()
    tag_ids = [t.id for t in tags]
    # Contact ids are given, not returned, so consents and roles can point at them in the same pass.
    offset = db.session.execute(select(func.coalesce(func.max(Contact.id), 0))).scalar_one()
    contacts = roles = 0
    with _bulk_load():
        for batch in plan.batches():
            for row in batch.contacts:
                row["id"] += offset
                row["branch_id"] = branch_ids[row["branch_id"]]
                if row["employer_id"] is not None:
                    row["employer_id"] = employer_ids[row["employer_id"]]
                if row["workplace_id"] is not None:
                    row["workplace_id"] = workplace_ids[row["workplace_id"]]
            for row in batch.consents + batch.sogs:
                row["contact_id"] += offset
            for row in batch.roles:
                row["contact_id"] += offset
                row["branch_id"] = branch_ids[row["branch_id"]]
            for row in batch.tags:
                row["contact_id"] += offset
                row["tag_id"] = tag_ids[row["tag_id"]]
            _bulk_insert(Contact.__table__, batch.contacts)
            _bulk_insert(Consent.__table__, batch.consents)
            _bulk_insert(ActivistRole.__table__, batch.roles)
            _bulk_insert(ContactSelfOrganisedGroup.__table__, batch.sogs)
            _bulk_insert(contact_tag, batch.tags)
            contacts += len(batch.contacts)
            roles += len(batch.roles)
    _sync_id_sequence(Contact.__table__)
    return contacts, roles


# Bulk loading: crm.database.bulk_insert (COPY on PostgreSQL, bare executemany on SQLite) with a
# page cache big enough for the contact indexes (the 2 MB default thrashes: 26 s instead of 19 s).

@contextmanager
def _bulk_load():
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    previous = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql("PRAGMA cache_size=-262144")  # KiB; pages are taken only as needed
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={int(previous)}")


def _bulk_insert(table: Table, rows: list[dict]) -> None:
    if rows:
        columns = list(rows[0])
        bulk_insert(table.name, columns, ([row[c] for c in columns] for row in rows))


def _refresh_planner_statistics() -> None:
    analyze(Contact.__table__, Consent.__table__, ActivistRole.__table__, ContactSelfOrganisedGroup.__table__,
            contact_tag, Workplace.__table__, Branch.__table__)
    db.session.commit()


def _sync_id_sequence(table: Table) -> None:
    # PostgreSQL's serial sequence has not seen the ids we gave; SQLite takes max(id) + 1 anyway.
    if db.session.connection().dialect.name == "postgresql":
        db.session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
            f"(SELECT COALESCE(MAX(id), 0) + 1 FROM \"{table.name}\"), false)"
        ))


def _write_call_lists(today: date) -> None:
    """Each branch's new-joiner and DOCAS-leaver lists, filled as an import would, with the demo
    callers assigned to their branches' lists: so a caller has someone to call on first sign-in."""
    from ..calls import service as calls
    from ..imports.models import ChangeKind

    joiners = select(Contact.id).where(Contact.joined_on >= today - timedelta(days=30),
                                       Contact.membership_number.is_not(None))
    leavers = select(Contact.id).where(Contact.docas_ended_on.is_not(None))
    callers = db.session.execute(select(User).where(User.role == Role.CALLER)).scalars().all()
    for branch in db.session.execute(select(Branch).order_by(Branch.code)).scalars():
        for kind, ids in ((ChangeKind.JOINER, joiners), (ChangeKind.LEAVER, leavers)):
            in_branch = ids.where(Contact.branch_id == branch.id)
            if db.session.execute(in_branch.limit(1)).first() is None:
                continue
            call_list = calls.auto_list_for(branch, kind)
            calls.add_contacts(call_list, in_branch, source_label="demo region")
            call_list.callers = [u for u in callers if any(b.id == branch.id for b in u.branches)]


def _write_users(plan: RegionPlan, branch_ids: list[int]) -> int:
    """The demo sign-ins, all with DEMO_PASSWORD (hashed once: argon2 is slow on purpose)."""
    password_hash = hash_password(DEMO_PASSWORD)
    branch_by_code = {b.code: db.session.get(Branch, branch_ids[i]) for i, b in enumerate(plan.branches)}
    existing = set(db.session.execute(select(User.email)).scalars())
    created = 0
    for spec in plan.users:
        email = f"{spec.local_part}@{DEMO_EMAIL_DOMAIN}"
        if email in existing:
            continue
        db.session.add(User(email=email, name=spec.name, role=spec.role, password_hash=password_hash,
                            branches=[branch_by_code[code] for code in spec.branch_codes]))
        created += 1
    db.session.flush()
    return created
