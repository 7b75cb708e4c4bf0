"""Everything held about one contact, found through the introspected registry."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum

from sqlalchemy import and_, func, or_, select

from ..contacts.models import Contact
from ..extensions import db
from .registry import IDENTIFIER_COLUMNS, ContactTable, contact_tables


@dataclass
class Records:
    contact: Contact
    tables: dict[str, list[dict]] = field(default_factory=dict)  # table → rows (column → value)
    where: dict[str, object] = field(default_factory=dict)  # table → the condition that found them
    found_by: dict[str, ContactTable] = field(default_factory=dict)


def identifiers(contact: Contact) -> dict[str, str]:
    return {k: v for k, v in (("email", contact.email), ("mobile", contact.mobile),
                              ("membership_number", contact.membership_number)) if v}


def collect(contact: Contact) -> Records:
    """Every row of every contact table that is about this contact: linked to them by id, a child of
    such a row, or (when linked to nobody) carrying one of their identifiers."""
    records = Records(contact)
    ids = identifiers(contact)
    for ct in contact_tables(db.metadata):
        t = ct.table
        own = or_(*[c == contact.id for c in ct.contact_columns]) if ct.contact_columns else None
        unlinked = and_(*[c.is_(None) for c in ct.contact_columns]) if ct.contact_columns else None
        alternatives = []
        for column, parent_column in ct.parent_links:
            values = [r[parent_column.name] for r in records.tables.get(parent_column.table.name, [])]
            if values:
                alternatives.append(column.in_(values))
        for name, attrs in IDENTIFIER_COLUMNS.get(t.name, {}).items():
            values = sorted({ids[a].lower() for a in attrs if a in ids})
            if values and name in t.c:
                alternatives.append(func.lower(t.c[name]).in_(values))
        conditions = []
        if own is not None:
            conditions.append(own)
        if alternatives:
            extra = or_(*alternatives)
            conditions.append(and_(unlinked, extra) if unlinked is not None else extra)
        if not conditions:
            records.tables[t.name] = []
            continue
        where = or_(*conditions)
        records.where[t.name] = where
        records.found_by[t.name] = ct
        records.tables[t.name] = [dict(r) for r in db.session.execute(select(t).where(where)).mappings()]
    return records


def plain(value):
    """A JSON-ready value."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value
