"""Claiming the next contact to call: one atomic statement, so two callers never get the same member.

PostgreSQL: UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED LIMIT 1), so concurrent callers
skip each other's rows instead of queueing behind them. SQLite: the same single UPDATE; SQLite
takes its write lock before the sub-select runs, so the statement is atomic by itself.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, exists, or_, select, update

from ..auth.models import User
from ..contacts.models import Contact
from ..database import utcnow
from ..extensions import db
from ..scoping import branch_condition
from .models import CallAttempt, CallEntry, CallList, EntryStatus


SKIP_REST_MINUTES = 15


def _ready(now: datetime):
    e = CallEntry
    return or_(e.status == EntryStatus.PENDING,
               and_(e.status == EntryStatus.IN_PROGRESS, e.lease_expires_at < now))  # expired leases return


def callable_contact():
    """The entry's contact can be rung: has a mobile, not flagged as a wrong number, not do-not-call."""
    return exists().where(
        Contact.id == CallEntry.contact_id, Contact.do_not_call.is_(False), Contact.mobile.is_not(None),
        Contact.phone_flagged_at.is_(None))


def eligible_condition(call_list: CallList, user: User, now: datetime):
    """Entries of this list the user may be offered now."""
    e = CallEntry
    cooldown = timedelta(hours=current_app.config["CALL_CROSS_LIST_COOLDOWN_HOURS"])
    grace = timedelta(minutes=current_app.config["CALLBACK_GRACE_MINUTES"])
    called_elsewhere = exists().where(
        CallAttempt.contact_id == e.contact_id, CallAttempt.list_id != call_list.id, CallAttempt.at > now - cooldown)
    return and_(
        e.list_id == call_list.id,
        _ready(now),
        or_(e.next_attempt_at.is_(None), e.next_attempt_at <= now),
        # A call-back waits for the caller who arranged it, then goes to anyone.
        or_(e.callback_user_id.is_(None), e.callback_user_id == user.id, e.callback_at <= now - grace),
        branch_condition(user, e.branch_id),
        callable_contact(),
        ~called_elsewhere,
    )


def _return_expired_leases(call_list: CallList, now: datetime) -> None:
    # Few rows are ever in progress, and the index finds them; the claim then needs only PENDING.
    db.session.execute(
        update(CallEntry)
        .where(CallEntry.list_id == call_list.id, CallEntry.status == EntryStatus.IN_PROGRESS,
               CallEntry.lease_expires_at < now)
        .values(status=EntryStatus.PENDING, lease_user_id=None, lease_expires_at=None)
        .execution_options(synchronize_session=False))


def _pick(call_list: CallList, user: User, now: datetime, *, callbacks: bool):
    """The next entry's id: call-backs due now (oldest first), else the oldest due-by. Both orders
    follow an index, so the database stops at the first eligible row instead of sorting the list."""
    e = CallEntry
    stmt = select(e.id).where(eligible_condition(call_list, user, now), e.status == EntryStatus.PENDING)
    if callbacks:
        stmt = stmt.where(e.callback_at <= now).order_by(e.callback_at, e.id)
    else:
        stmt = stmt.order_by(e.due_by, e.id)
    stmt = stmt.limit(1)
    if db.session.connection().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return stmt.scalar_subquery()


def held_entry(call_list: CallList, user: User, now: datetime | None = None) -> CallEntry | None:
    """The entry this user already holds on this list, if their lease is still running."""
    now = now or utcnow()
    return db.session.execute(select(CallEntry).where(
        CallEntry.list_id == call_list.id, CallEntry.status == EntryStatus.IN_PROGRESS,
        CallEntry.lease_user_id == user.id, CallEntry.lease_expires_at > now).limit(1)).scalar_one_or_none()


def claim_next(call_list: CallList, user: User, now: datetime | None = None) -> CallEntry | None:
    """Lease the next contact on the list to this caller (or give back the one they hold); commits."""
    now = now or utcnow()
    held = held_entry(call_list, user, now)
    if held is not None:
        return held
    if not call_list.is_active:
        return None
    db.session.commit()  # end any read transaction: the claim's writes must open their own
    # One write transaction (one commit): return expired leases, then claim a due call-back or
    # else the next entry. On SQLite the first UPDATE takes the write lock for the whole of it.
    _return_expired_leases(call_list, now)
    lease = timedelta(minutes=current_app.config["CALL_LEASE_MINUTES"])
    claimed_id = None
    for callbacks in (True, False):
        claimed_id = db.session.execute(
            update(CallEntry)
            .where(CallEntry.id == _pick(call_list, user, now, callbacks=callbacks),
                   CallEntry.status == EntryStatus.PENDING)
            .values(status=EntryStatus.IN_PROGRESS, lease_user_id=user.id, lease_expires_at=now + lease)
            .returning(CallEntry.id)
            .execution_options(synchronize_session=False)
        ).scalar_one_or_none()
        if claimed_id is not None:
            break
    db.session.commit()
    if claimed_id is None:
        return None
    return db.session.get(CallEntry, claimed_id, populate_existing=True)


def release(entry: CallEntry, user: User) -> None:
    """Give a claimed contact back to the list without calling them."""
    if entry.lease_user_id == user.id and entry.status is EntryStatus.IN_PROGRESS:
        entry.status = EntryStatus.PENDING
        entry.lease_user_id = None
        entry.lease_expires_at = None
        # To the back of the queue for a while, so "Skip" then "Call next" offers someone else.
        entry.next_attempt_at = utcnow() + timedelta(minutes=SKIP_REST_MINUTES)
