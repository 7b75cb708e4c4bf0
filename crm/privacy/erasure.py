"""Erasure (UK GDPR art. 17): empty everything personal about a contact, keep anonymous counts."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from sqlalchemy import JSON, String, Text, cast, delete, or_, select, update

from ..audit import service as audit
from ..auth.models import User
from ..contacts.models import Contact
from ..extensions import db
from ..imports.models import ImportIssue
from ..vocabulary import Labelled
from .identity import remember_erased
from .models import ContactErasure
from .records import collect, identifiers
from .registry import DELETE_ROWS, PERSONAL_TEXT

log = logging.getLogger(__name__)

ERASED_FIRST_NAME = "Erased"
ERASED_LAST_NAME = "contact"


class ErasureReason(Labelled):
    REQUEST = ("request", "The person asked us to erase their data")
    OBJECTION = ("objection", "The person objected and we have no overriding reason")
    NO_LONGER_NEEDED = ("no_longer_needed", "We no longer need it (retention)")
    UNLAWFUL = ("unlawful", "It was held unlawfully")


class ErasureRefused(ValueError):
    """A user-facing reason an erasure cannot go ahead."""


@dataclass
class ErasureResult:
    contact_id: int
    changed: dict[str, int] = field(default_factory=dict)  # table → rows emptied or deleted
    # Their identifiers, in memory only, to find their data in Redis after the commit.
    _terms: list[str] = field(default_factory=list, repr=False)
    jobs_removed: int = 0

    def purge_job_registries(self, connection) -> int:
        """Delete queued, scheduled, failed and finished RQ jobs whose text mentions this person."""
        self.jobs_removed = purge_jobs_mentioning(connection, self._terms)
        self._terms = []
        return self.jobs_removed


def is_erased(contact: Contact) -> bool:
    return db.session.get(ContactErasure, contact.id) is not None


def _blank(column):
    if column.nullable:
        return None
    if isinstance(column.type, JSON):
        return {} if column.name == "answers" else []
    return ""


def erase(contact: Contact, *, by: User | None, reason: ErasureReason) -> ErasureResult:
    """Erase one contact: personal fields replaced, notes and bodies emptied, describing rows deleted,
    salted hashes kept so an import never brings them back. The caller commits, then purges Redis."""
    if is_erased(contact):
        raise ErasureRefused("This contact has already been erased.")
    records = collect(contact)
    ids = identifiers(contact)
    terms = list(ids.values())
    if len(contact.full_name) >= 6:
        terms.append(contact.full_name)
    result = ErasureResult(contact.id, _terms=terms)
    for name, rows in records.tables.items():
        if not rows or name not in records.where:
            continue
        table = db.metadata.tables[name]
        where = records.where[name]
        if name in DELETE_ROWS:
            db.session.execute(delete(table).where(where))
        else:
            columns = [c for c in PERSONAL_TEXT.get(name, ()) if c in table.c]
            if not columns:
                continue
            db.session.execute(update(table).where(where).values({c: _blank(table.c[c]) for c in columns}))
        result.changed[name] = len(rows)
    issues = _blank_import_issues(list(ids.values()))
    if issues:
        result.changed["import_issue"] = issues
    remember_erased(email=contact.email, mobile=contact.mobile, membership_number=contact.membership_number)
    db.session.expire(contact, ["tags", "consents", "sogs"])
    # Branch, employer, workplace, status and dates stay: reports count this row without knowing who.
    contact.first_name, contact.last_name = ERASED_FIRST_NAME, ERASED_LAST_NAME
    for attr in ("membership_number", "email", "mobile", "postcode", "job_title", "import_fingerprint",
                 "phone_flagged_at"):
        setattr(contact, attr, None)
    contact.do_not_call = True
    result.changed["contact"] = 1
    db.session.add(ContactErasure(contact_id=contact.id, by_id=getattr(by, "id", None), summary=result.changed))
    audit.record("contact.erase", user=by, obj=contact,
                 detail=f"reason={reason.value} " + " ".join(f"{k}={v}" for k, v in sorted(result.changed.items())))
    return result


def _blank_import_issues(values: list[str]) -> int:
    """Import reports keep each problem row's original cells: empty those that carry this person's
    identifiers (the line number and reason stay, so the report still adds up)."""
    if not values:
        return 0
    text = cast(ImportIssue.original, String) if db.engine.dialect.name == "postgresql" else \
        cast(ImportIssue.original, Text)
    candidates = db.session.execute(select(ImportIssue.id, ImportIssue.original).where(
        or_(*[text.contains(json.dumps(v)[1:-1], autoescape=True) for v in values]))).all()
    wanted = {v.strip().lower() for v in values}
    hits = [i for i, original in candidates
            if any(isinstance(cell, str) and cell.strip().lower() in wanted for cell in (original or []))]
    if hits:
        db.session.execute(update(ImportIssue).where(ImportIssue.id.in_(hits)).values(original=[]))
    return len(hits)


def purge_jobs_mentioning(connection, terms: list[str]) -> int:
    """Remove RQ jobs (not running ones) whose description, arguments, result or failure text
    contains any of the terms. Jobs carry ids only, but a failure's traceback can quote data."""
    from rq import Queue
    from rq.job import Job
    from rq.registry import (
        CanceledJobRegistry,
        DeferredJobRegistry,
        FailedJobRegistry,
        FinishedJobRegistry,
        ScheduledJobRegistry,
    )
    from rq.serializers import JSONSerializer

    needles = [t.lower() for t in terms if t and len(t) >= 5]
    if not needles:
        return 0
    removed = 0
    for queue in Queue.all(connection=connection, serializer=JSONSerializer):
        job_ids = set(queue.get_job_ids())
        registries = [cls(queue=queue) for cls in (FailedJobRegistry, FinishedJobRegistry, DeferredJobRegistry,
                                                   ScheduledJobRegistry, CanceledJobRegistry)]
        for registry in registries:
            job_ids.update(registry.get_job_ids())
        for job in Job.fetch_many(sorted(job_ids), connection=connection, serializer=JSONSerializer):
            if job is None:
                continue
            if any(n in _job_text(job) for n in needles):
                for registry in registries:
                    connection.zrem(registry.key, job.id)
                job.delete(remove_from_queue=True)
                removed += 1
    if removed:
        log.info("erasure removed %d job(s) from Redis", removed)
    return removed


def _stored_exc_info(job) -> str:
    # Older-style failure text kept in the job hash (zlib-compressed), as FailedJobRegistry.add writes it.
    import zlib

    raw = job.connection.hget(job.key, "exc_info")
    if not raw:
        return ""
    try:
        return zlib.decompress(raw).decode("utf-8", "replace")
    except zlib.error:
        return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def _job_text(job) -> str:
    parts = [job.description or "", repr(job.args), repr(job.kwargs), _stored_exc_info(job)]
    try:
        result = job.latest_result()
    except Exception:  # noqa: BLE001 — an unreadable result must not stop the purge
        result = None
    if result is not None:
        parts += [result.exc_string or "", repr(result.return_value)]
    return " ".join(parts).lower()
