"""One timeline of everything that happened with a contact, newest first, gathered from providers.

A provider is a function `(contact, viewer) -> iterable of TimelineEntry`. This module provides
the contacts area's own (created, imports, roles, tags, edits and consent changes); other areas add
theirs with the decorator, in the module that owns the data, e.g. in crm/calls/timeline.py:

    from ..contacts.timeline import TimelineEntry, provider

    @provider
    def call_entries(contact, viewer):
        for call in ...:                      # one query for this contact, never one per entry
            yield TimelineEntry(at=call.at, kind="call", title="Called: answered", by=call.caller.name)

and import that module in the area's blueprint package so the provider is registered with the app.
A provider must only return what `viewer` may see; links (`endpoint`, `params`) are optional.
Providers run without a request (they are plain service code), so they never call url_for.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import exists, select

from ..audit.models import AuditEvent
from ..auth.models import User
from ..auth.roles import Permission
from ..extensions import db
from ..imports.models import ChangeKind, ImportChange, ImportRun, ImportSeen
from ..scoping import covers_branch
from ..vocabulary import Channel, ConsentStatus
from .models import ActivistRole, Contact, Tag, contact_tag


@dataclass(frozen=True)
class TimelineEntry:
    """Something that happened with a contact, at a moment (or on a day, when `all_day`)."""

    at: datetime  # timezone-aware
    kind: str  # a short category, also a CSS hook: created, import, role, tag, edit, consent, call …
    title: str
    detail: str | None = None
    by: str | None = None
    # A link to more detail, as an endpoint and its arguments (built into a URL by the template).
    endpoint: str | None = None
    params: Mapping[str, object] = field(default_factory=dict)
    all_day: bool = False
    # Breaks ties between entries at the same moment: higher shows first.
    rank: int = field(default=1, compare=False)


TimelineProvider = Callable[[Contact, User], Iterable[TimelineEntry]]
PROVIDERS: list[TimelineProvider] = []


def provider(fn: TimelineProvider) -> TimelineProvider:
    """Register a timeline provider (a decorator); registering the same function twice is a no-op."""
    if fn not in PROVIDERS:
        PROVIDERS.append(fn)
    return fn


def gather(contact: Contact, viewer: User, providers: Sequence[TimelineProvider] | None = None) -> list[TimelineEntry]:
    """Every entry from every provider (the registered ones unless given), newest first."""
    entries: list[TimelineEntry] = []
    for source in PROVIDERS if providers is None else providers:
        entries.extend(source(contact, viewer))
    return sorted(entries, key=lambda e: (e.at, e.rank), reverse=True)


def on_day(day: date) -> datetime:
    """A date as a moment for sorting: the start of that day (UTC)."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def _names(user_ids: Iterable[int | None]) -> dict[int, str]:
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


# ---------------------------------------------------------------------------------------------
# The contacts area's own providers


@provider
def created_entries(contact: Contact, viewer: User) -> Iterable[TimelineEntry]:
    yield TimelineEntry(at=contact.created_at, kind="created", title="Added to Branchline", rank=0)


def _run_moment(run: ImportRun) -> datetime:
    return run.finished_at or run.started_at or run.created_at


def _run_link(run: ImportRun, viewer: User) -> dict:
    """A link to the import run when the viewer may open it (imports are scoped like contacts)."""
    if not viewer.can(Permission.EDIT_CONTACTS):
        return {}
    if run.branch_id is None and not viewer.region_wide:
        return {}
    if run.branch_id is not None and not covers_branch(viewer, run.branch_id):
        return {}
    return {"endpoint": "imports.show", "params": {"run_id": run.id}}


_CHANGE_TITLES = {
    ChangeKind.JOINER: "New joiner in import #{n}",
    ChangeKind.LEAVER: "Leaver in import #{n}",
    ChangeKind.CHANGE: "Changed in import #{n}",
}


@provider
def import_entries(contact: Contact, viewer: User) -> Iterable[TimelineEntry]:
    """Joiner, leaver and change findings, and every other import whose file had them in it."""
    changes = db.session.execute(
        select(ImportChange.run_id, ImportChange.kind, ImportChange.detail)
        .where(ImportChange.contact_id == contact.id).order_by(ImportChange.id)
    ).all()
    # import_seen's key is (run_id, contact_id): one index probe per run, never a scan of the table.
    seen = select(ImportRun.id).where(
        ImportRun.dry_run.is_(False),
        exists().where(ImportSeen.run_id == ImportRun.id, ImportSeen.contact_id == contact.id))
    run_ids = {c.run_id for c in changes} | set(db.session.execute(seen).scalars())
    if not run_ids:
        return
    runs = {r.id: r for r in db.session.execute(select(ImportRun).where(ImportRun.id.in_(run_ids))).scalars()}
    changed_runs = set()
    for run_id, kind, detail in changes:
        run = runs[run_id]
        changed_runs.add(run_id)
        yield TimelineEntry(at=_run_moment(run), kind="import", title=_CHANGE_TITLES[kind].format(n=run.id),
                            detail=detail, **_run_link(run, viewer))
    for run_id in sorted(run_ids - changed_runs):
        run = runs[run_id]
        yield TimelineEntry(at=_run_moment(run), kind="import", title=f"In import #{run.id}",
                            detail="In the membership export; nothing about them changed.", **_run_link(run, viewer))


_ROLE_ID = re.compile(r"\brole_id=(\d+)\b")


@provider
def role_entries(contact: Contact, viewer: User) -> Iterable[TimelineEntry]:
    """Activist roles taken on and ended, on their dates, with who recorded them."""
    roles = db.session.execute(select(ActivistRole).where(ActivistRole.contact_id == contact.id)).scalars().all()
    if not roles:
        return
    recorded: dict[tuple[int, str], int | None] = {}
    for action, detail, user_id in db.session.execute(
        select(AuditEvent.action, AuditEvent.detail, AuditEvent.user_id).where(
            AuditEvent.object_type == "contact", AuditEvent.object_id == contact.id,
            AuditEvent.action.in_(["contact.role_add", "contact.role_end"]))
    ):
        match = _ROLE_ID.search(detail or "")
        if match:
            recorded[(int(match.group(1)), action)] = user_id
    names = _names(recorded.values())
    for role in roles:
        by = names.get(recorded.get((role.id, "contact.role_add")))
        yield TimelineEntry(at=on_day(role.started_on), all_day=True, kind="role",
                            title=f"Became {role.role.label}", by=by)
        if role.ended_on:
            by = names.get(recorded.get((role.id, "contact.role_end")))
            yield TimelineEntry(at=on_day(role.ended_on), all_day=True, kind="role",
                                title=f"Stopped being {role.role.label}", by=by)


@provider
def tag_entries(contact: Contact, viewer: User) -> Iterable[TimelineEntry]:
    """The tags the contact carries now, when they were put on (by an edit or a bulk tag)."""
    rows = db.session.execute(
        select(Tag.name, contact_tag.c.added_at, contact_tag.c.added_by_id)
        .join(Tag, Tag.id == contact_tag.c.tag_id)
        .where(contact_tag.c.contact_id == contact.id, contact_tag.c.added_at.is_not(None))
    ).all()
    names = _names(r.added_by_id for r in rows)
    for name, added_at, added_by in rows:
        yield TimelineEntry(at=added_at, kind="tag", title=f"Tagged ‘{name}’", by=names.get(added_by))


_FIELD_LABELS = {
    "first_name": "first name", "last_name": "last name", "email": "email", "mobile": "mobile",
    "postcode": "postcode", "employer_id": "employer", "workplace_id": "workplace", "job_title": "job title",
    "status": "status", "payment_method": "payment method", "joined_on": "date joined", "left_on": "date left",
    "docas_ended_on": "DOCAS end date", "tags": "tags",
}
_CHANNELS = {c.value: c.label for c in Channel}
_CONSENT_WORDS = {ConsentStatus.GRANTED.value: "agreed", ConsentStatus.WITHDRAWN.value: "opted out",
                  "none": "never asked"}
_KV = re.compile(r"(\w+)=(\S+)")


def _edit_entry(event: AuditEvent, by: str | None) -> TimelineEntry | None:
    detail = event.detail or ""
    if event.action == "contact.update":
        fields = [f.strip() for f in detail.removeprefix("changed:").split(",") if f.strip()]
        changed = ", ".join(_FIELD_LABELS.get(f, f) for f in fields)
        return TimelineEntry(at=event.at, kind="edit", title="Details edited",
                             detail=f"Changed: {changed}." if changed else None, by=by)
    if event.action == "contact.consent":
        values = dict(_KV.findall(detail))
        channel = _CHANNELS.get(values.get("channel"), values.get("channel", ""))
        now = _CONSENT_WORDS.get(values.get("to"), values.get("to", ""))
        before = _CONSENT_WORDS.get(values.get("from"), values.get("from", ""))
        note = f"Was: {before}." + (f" Wording {values['wording']}." if values.get("wording") else "")
        return TimelineEntry(at=event.at, kind="consent", title=f"{channel}: {now}", detail=note, by=by)
    return None


@provider
def edit_entries(contact: Contact, viewer: User) -> Iterable[TimelineEntry]:
    """Edits of the contact's details and consent made in Branchline (from the audit trail)."""
    events = db.session.execute(
        select(AuditEvent).where(AuditEvent.object_type == "contact", AuditEvent.object_id == contact.id,
                                 AuditEvent.action.in_(["contact.update", "contact.consent"]))
    ).scalars().all()
    names = _names(e.user_id for e in events)
    for event in events:
        entry = _edit_entry(event, names.get(event.user_id))
        if entry is not None:
            yield entry
