"""Subject access (UK GDPR art. 15): one contact's whole record as JSON and a readable page."""
from __future__ import annotations

import json

from sqlalchemy import and_, or_, select

from ..audit import service as audit
from ..audit.models import AuditEvent
from ..auth.models import User
from ..contacts.models import Contact, Tag
from ..database import utcnow
from ..extensions import db
from ..imports.models import ImportRun
from .records import collect, plain
from .registry import TITLES


def _audit_about(contact: Contact, tables: dict[str, list[dict]]) -> list[dict]:
    conditions = [and_(AuditEvent.object_type == "contact", AuditEvent.object_id == contact.id)]
    for name, rows in tables.items():
        ids = [r["id"] for r in rows if isinstance(r.get("id"), int)]
        if ids:
            conditions.append(and_(AuditEvent.object_type == name, AuditEvent.object_id.in_(ids)))
    stmt = (select(AuditEvent, User.role).outerjoin(User, User.id == AuditEvent.user_id)
            .where(or_(*conditions)).order_by(AuditEvent.seq))
    # Staff are shown by role, not name: the request is for the member's data, not colleagues'.
    return [{"at": plain(ev.at), "action": ev.action, "object": f"{ev.object_type} {ev.object_id}",
             "by": role.label if role else "system", "detail": ev.detail}
            for ev, role in db.session.execute(stmt)]


def build(contact: Contact) -> dict:
    """The complete export: details, every contact table's rows about them, imports and audit entries."""
    records = collect(contact)
    details = {c.name: plain(getattr(contact, _attr(c.name))) for c in Contact.__table__.columns}
    details.update(branch=contact.branch.name, employer=contact.employer.name if contact.employer else None,
                   workplace=contact.workplace.name if contact.workplace else None)
    tag_ids = [r["tag_id"] for r in records.tables.get("contact_tag", [])]
    tags = list(db.session.execute(select(Tag.name).where(Tag.id.in_(tag_ids)).order_by(Tag.name)).scalars()) \
        if tag_ids else []
    run_ids = sorted({r["run_id"] for name in ("import_seen", "import_change") for r in records.tables.get(name, [])})
    imports = [{"import": run.id, "file": run.filename, "uploaded_at": plain(run.created_at),
                "finished_at": plain(run.finished_at)}
               for run in db.session.execute(select(ImportRun).where(ImportRun.id.in_(run_ids))
                                             .order_by(ImportRun.id)).scalars()] if run_ids else []
    return {
        "generated_at": plain(utcnow()),
        "contact_id": contact.id,
        "details": details,
        "tags": tags,
        "imports": imports,
        "records": {name: {"title": TITLES.get(name, name.replace("_", " ").capitalize()),
                           "rows": [{k: plain(v) for k, v in row.items()} for row in rows]}
                    for name, rows in records.tables.items()},
        "audit": _audit_about(contact, records.tables),
    }


def _attr(column_name: str) -> str:
    prop = Contact.__mapper__.get_property_by_column(Contact.__table__.c[column_name])
    return prop.key


def to_json(document: dict) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False)


def record_request(contact: Contact, by: User, fmt: str, document: dict) -> None:
    """Audit that a subject-access export was produced (what and how much, never the contents)."""
    rows = sum(len(s["rows"]) for s in document["records"].values())
    audit.record("contact.subject_access", user=by, obj=contact, detail=f"format={fmt} rows={rows}")
