"""Record, search, export and verify audit events; callers commit with the change they describe."""
from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import has_request_context, request
from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session

from ..database import utcnow
from ..extensions import db
from . import chain
from .models import AuditChainHead, AuditEvent

_order = itertools.count()


def record(action: str, *, user=None, obj=None, detail: str | None = None, ip: str | None = None,
           object_type: str | None = None, object_id: int | None = None) -> AuditEvent:
    """Add an audit event to the session (chained and flushed with the change it describes)."""
    if ip is None and has_request_context():
        ip = request.remote_addr
    event = AuditEvent(
        at=utcnow(),
        action=action,
        user_id=getattr(user, "id", None),
        object_type=obj.__tablename__ if obj is not None else object_type,
        object_id=getattr(obj, "id", None) if obj is not None else object_id,
        ip=ip,
        detail=detail,
    )
    event._chain_order = next(_order)
    db.session.add(event)
    return event


def record_separately(action: str, **kw) -> None:
    """Record and commit one event in its own transaction (for requests that end without a commit)."""
    with Session(db.engine) as session:
        event = AuditEvent(at=utcnow(), action=action, **kw)
        session.add(event)
        session.commit()


# ---------------------------------------------------------------------------------------------
# Searching and exporting


@dataclass
class AuditFilter:
    action: str | None = None  # a prefix: "login" matches login.success and login.failure
    user_id: int | None = None
    object_type: str | None = None
    object_id: int | None = None
    since: date | None = None
    until: date | None = None

    def describe(self) -> str:
        parts = [f"{k}={v}" for k, v in vars(self).items() if v not in (None, "")]
        return " ".join(parts) or "everything"


def _uk_midnight_utc(day: date) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.combine(day, time.min, tzinfo=ZoneInfo("Europe/London"))


def events_query(flt: AuditFilter) -> Select:
    """Newest first, narrowed by the filter."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc())
    if flt.action:
        stmt = stmt.where(AuditEvent.action.startswith(flt.action, autoescape=True))
    if flt.user_id is not None:
        stmt = stmt.where(AuditEvent.user_id == flt.user_id)
    if flt.object_type:
        stmt = stmt.where(AuditEvent.object_type == flt.object_type)
    if flt.object_id is not None:
        stmt = stmt.where(AuditEvent.object_id == flt.object_id)
    if flt.since:
        stmt = stmt.where(AuditEvent.at >= _uk_midnight_utc(flt.since))
    if flt.until:
        stmt = stmt.where(AuditEvent.at < _uk_midnight_utc(flt.until + timedelta(days=1)))
    return stmt


def action_names() -> list[str]:
    return list(db.session.execute(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).scalars())


def object_types() -> list[str]:
    return list(db.session.execute(select(AuditEvent.object_type).where(AuditEvent.object_type.is_not(None))
                                   .distinct().order_by(AuditEvent.object_type)).scalars())


CSV_HEADER = ["seq", "at_utc", "user_id", "user_email", "action", "object_type", "object_id", "ip", "detail",
              "prev_hash", "hash"]


def count_matching(flt: AuditFilter) -> int:
    return db.session.execute(select(func.count()).select_from(events_query(flt).order_by(None).subquery())).scalar_one()


def record_export(user, flt: AuditFilter, rows: int) -> None:
    record("audit.export", user=user, detail=f"filter: {flt.describe()} rows={rows}")


def csv_chunks(flt: AuditFilter) -> Iterator[str]:
    """The filtered events as CSV, streamed in chunks (hashes included so a copy can be checked)."""
    from ..auth.models import User

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_HEADER)
    stmt = events_query(flt).add_columns(User.email).outerjoin(User, User.id == AuditEvent.user_id) \
        .execution_options(yield_per=2000)
    for n, (ev, email) in enumerate(db.session.execute(stmt), start=1):
        writer.writerow([ev.seq, ev.at.isoformat(timespec="seconds"), ev.user_id or "", email or "", ev.action,
                         ev.object_type or "", ev.object_id if ev.object_id is not None else "", ev.ip or "",
                         _csv_safe(ev.detail or ""), ev.prev_hash or "", ev.hash or ""])
        if n % 500 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def _csv_safe(value: str) -> str:
    # A cell starting with = + - @ is run as a formula by spreadsheet programs.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


# ---------------------------------------------------------------------------------------------
# Verifying and pruning


def verify_chain() -> chain.VerifyResult:
    """Check every event's hash and link, in its own read-only session."""
    with Session(db.engine) as session:
        return chain.verify(session)


def prune_before(cutoff: datetime, *, apply: bool, by=None) -> int:
    """Remove audit events older than the cutoff (a prefix of the chain), keeping the chain checkable.

    The head keeps the last removed event's hash as the new anchor, so `crm audit verify` still
    proves nothing was changed in what remains. Returns how many events are (or would be) removed."""
    first_kept = db.session.execute(select(func.min(AuditEvent.seq)).where(AuditEvent.at >= cutoff)).scalar_one()
    stmt = select(func.count(), func.max(AuditEvent.seq)).where(AuditEvent.seq.is_not(None))
    if first_kept is not None:
        stmt = stmt.where(AuditEvent.seq < first_kept)
    count, last_removed = db.session.execute(stmt).one()
    if not apply or not count:
        return count
    connection = db.session.connection()
    chain.lock_head(connection)
    anchor_hash = db.session.execute(select(AuditEvent.hash).where(AuditEvent.seq == last_removed)).scalar_one()
    db.session.execute(delete(AuditEvent).where(AuditEvent.seq <= last_removed)
                       .execution_options(synchronize_session=False))
    db.session.execute(update(AuditChainHead).where(AuditChainHead.id == chain.HEAD_ID)
                       .values(anchor_seq=last_removed, anchor_hash=anchor_hash))
    record("audit.prune", user=by, detail=f"removed={count} through=#{last_removed} anchor={anchor_hash}")
    return count
