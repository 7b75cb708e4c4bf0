"""The hash chain: each audit event's hash covers its fields and the previous event's hash.

Chaining happens at flush, for every session: the head row is updated first, which serialises
concurrent writers on both engines, so two transactions never chain onto the same predecessor.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import timezone

from sqlalchemy import event, select, text, update
from sqlalchemy.orm import Session

from .models import AuditChainHead, AuditEvent

HEAD_ID = 1


class AuditTamperingRefused(RuntimeError):
    """Raised when code tries to change or delete an audit event through the ORM."""


def event_hash(seq: int, prev_hash: str, *, at, user_id, action, object_type, object_id, ip, detail) -> str:
    """SHA-256 over the canonical JSON of one event and its predecessor's hash."""
    stamp = at.astimezone(timezone.utc).isoformat(timespec="microseconds") if at is not None else None
    payload = json.dumps([seq, prev_hash, stamp, user_id, action, object_type, object_id, ip, detail],
                         separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def hash_of(ev: AuditEvent, seq: int, prev_hash: str) -> str:
    return event_hash(seq, prev_hash, at=ev.at, user_id=ev.user_id, action=ev.action, object_type=ev.object_type,
                      object_id=ev.object_id, ip=ev.ip, detail=ev.detail)


def lock_head(connection) -> tuple[int, str, int, str]:
    """Take the chain's lock (held until commit) and return (seq, hash, anchor_seq, anchor_hash)."""
    table = AuditChainHead.__table__
    locked = connection.execute(update(table).where(table.c.id == HEAD_ID).values(seq=table.c.seq)).rowcount
    if not locked:
        # First event of a new (or emptied) database: the head starts at the last chained event.
        last = connection.execute(select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.seq.is_not(None))
                                  .order_by(AuditEvent.seq.desc()).limit(1)).first()
        from ..database import insert_ignoring_duplicates

        connection.execute(insert_ignoring_duplicates(table).values(
            id=HEAD_ID, seq=last[0] if last else 0, hash=last[1] if last else "", anchor_seq=0, anchor_hash=""))
        connection.execute(update(table).where(table.c.id == HEAD_ID).values(seq=table.c.seq))
    row = connection.execute(select(table.c.seq, table.c.hash, table.c.anchor_seq, table.c.anchor_hash)
                             .where(table.c.id == HEAD_ID)).one()
    return row[0], row[1], row[2], row[3]


@event.listens_for(Session, "before_flush")
def _chain_new_events(session: Session, flush_context, instances) -> None:
    for obj in list(session.dirty):
        if isinstance(obj, AuditEvent) and session.is_modified(obj, include_collections=False):
            raise AuditTamperingRefused("audit events are append-only")
    for obj in session.deleted:
        if isinstance(obj, AuditEvent):
            raise AuditTamperingRefused("audit events are append-only")
    new = [obj for obj in session.new if isinstance(obj, AuditEvent) and obj.hash is None]
    if not new:
        return
    new.sort(key=lambda e: getattr(e, "_chain_order", 0))
    connection = session.connection()
    seq, last_hash, _, _ = lock_head(connection)
    for ev in new:
        seq += 1
        ev.seq, ev.prev_hash = seq, last_hash
        ev.hash = last_hash = hash_of(ev, seq, last_hash)
    table = AuditChainHead.__table__
    connection.execute(update(table).where(table.c.id == HEAD_ID).values(seq=seq, hash=last_hash))


@dataclass
class VerifyResult:
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    first_seq: int | None = None
    last_seq: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session, max_problems: int = 20) -> VerifyResult:
    """Walk the whole chain in order and report every event whose hash or link does not hold."""
    result = VerifyResult()
    head = session.execute(select(AuditChainHead).where(AuditChainHead.id == HEAD_ID)).scalar_one_or_none()
    expected_seq = (head.anchor_seq if head else 0) + 1
    prev = head.anchor_hash if head else ""

    def problem(message: str) -> None:
        if len(result.problems) < max_problems:
            result.problems.append(message)
        elif len(result.problems) == max_problems:
            result.problems.append("… and more")

    unchained = session.execute(text("SELECT COUNT(*) FROM audit_event WHERE seq IS NULL")).scalar_one()
    if unchained:
        problem(f"{unchained} event(s) carry no chain position: they were written around the audit service")
    stmt = select(AuditEvent).where(AuditEvent.seq.is_not(None)).order_by(AuditEvent.seq) \
        .execution_options(yield_per=2000)
    for ev in session.execute(stmt).scalars():
        result.checked += 1
        if result.first_seq is None:
            result.first_seq = ev.seq
        if ev.seq != expected_seq:
            problem(f"event #{ev.seq} (id {ev.id}): expected position {expected_seq} — events are missing or reordered")
        if ev.prev_hash != prev:
            problem(f"event #{ev.seq} (id {ev.id}): does not link to the event before it")
        if hash_of(ev, ev.seq, ev.prev_hash or "") != ev.hash:
            problem(f"event #{ev.seq} (id {ev.id}): its contents were changed after it was written")
        prev = ev.hash or ""
        expected_seq = ev.seq + 1
        result.last_seq = ev.seq
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev):
        problem(f"the chain should end at event #{head.seq} but ends at #{expected_seq - 1}: "
                "the most recent events were removed")
    return result
