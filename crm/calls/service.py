"""Call lists: finding them within scope, recording outcomes, filling lists from imports, progress."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, exists, func, select

from ..audit import service as audit
from ..auth.models import User
from ..auth.roles import Permission
from ..contacts.models import Contact
from ..database import insert_ignoring_duplicates, utcnow
from ..extensions import db
from ..imports.models import ChangeKind, ImportChange, ImportRun
from ..region.models import Branch
from ..scoping import branch_condition, note_probe
from ..vocabulary import PaymentMethod
from . import scripts
from .claims import callable_contact, eligible_condition
from .models import (
    FINAL_OUTCOMES,
    REACHED_OUTCOMES,
    RETRY_OUTCOMES,
    CallAttempt,
    CallEntry,
    CallList,
    CallListKind,
    DoneRule,
    EntryStatus,
    Outcome,
    call_list_branch,
    call_list_caller,
)


class CallRefused(ValueError):
    """A user-facing reason a call action cannot be done."""


# ---------------------------------------------------------------- finding lists and entries

def lists_stmt(user: User, *, to_message: bool = False):
    """Lists the user may see: those of their branches; a caller only the ones they are assigned to.
    With `to_message`, the lists whose members the user may text or email as an audience: every list
    of their branches for those who send messages (campaign leads are not assigned to lists)."""
    stmt = select(CallList)
    if not user.region_wide:
        stmt = stmt.where(exists().where(call_list_branch.c.list_id == CallList.id,
                                         branch_condition(user, call_list_branch.c.branch_id)))
    if not (user.can(Permission.MANAGE_CALLS) or (to_message and user.can(Permission.SEND_MESSAGES))):
        stmt = stmt.where(exists().where(call_list_caller.c.list_id == CallList.id,
                                         call_list_caller.c.user_id == user.id))
    return stmt


def get_list_or_404(user: User, list_id: int) -> CallList:
    from flask import abort

    found = db.session.execute(lists_stmt(user).where(CallList.id == list_id)).scalar_one_or_none()
    if found is None:
        note_probe(CallList, list_id, user)
        abort(404)
    return found


def get_entry_or_404(user: User, call_list: CallList, entry_id: int) -> CallEntry:
    """An entry of this list in the user's branches; a caller sees only the one they are calling."""
    from flask import abort

    stmt = select(CallEntry).where(CallEntry.id == entry_id, CallEntry.list_id == call_list.id,
                                   branch_condition(user, CallEntry.branch_id))
    if not user.can(Permission.MANAGE_CALLS):
        stmt = stmt.where(CallEntry.lease_user_id == user.id)
    entry = db.session.execute(stmt).scalar_one_or_none()
    if entry is None:
        abort(404)
    return entry


def merge_values(entry: CallEntry, caller: User) -> dict:
    contact = entry.contact
    return {
        "first_name": contact.first_name, "last_name": contact.last_name,
        "workplace": contact.workplace.name if contact.workplace else "",
        "employer": contact.employer.name if contact.employer else "",
        "job_title": contact.job_title or "", "branch": contact.branch.name,
        "caller_first_name": caller.name.split(" ")[0],
    }


def history(entry: CallEntry, limit: int = 20) -> list[CallAttempt]:
    """Earlier calls to this contact on any list (within the entry's branch), newest first."""
    return db.session.execute(select(CallAttempt).where(CallAttempt.contact_id == entry.contact_id)
                              .order_by(CallAttempt.at.desc()).limit(limit)).scalars().all()


# ---------------------------------------------------------------- recording what happened

def record_outcome(entry: CallEntry, outcome: Outcome, *, by: User, note: str | None = None,
                   answers: dict | None = None, callback_at: datetime | None = None,
                   now: datetime | None = None) -> CallAttempt:
    """Record one call and move the entry on; applies the outcome's effect on the contact. Flushes."""
    now = now or utcnow()
    if entry.status in (EntryStatus.DONE, EntryStatus.GAVE_UP):
        raise CallRefused("This call has already been recorded.")
    if entry.lease_user_id not in (None, by.id) and entry.lease_expires_at and entry.lease_expires_at > now:
        raise CallRefused("Someone else is calling this member now.")
    if outcome is Outcome.CALL_BACK:
        if callback_at is None:
            raise CallRefused("Choose when to call back.")
        if callback_at <= now:
            raise CallRefused("The call-back time must be in the future.")
    call_list = entry.call_list
    attempt = CallAttempt(entry_id=entry.id, list_id=entry.list_id, contact_id=entry.contact_id, user_id=by.id,
                          at=now, outcome=outcome, note=(note or "").strip() or None, answers=answers or {},
                          callback_at=callback_at if outcome is Outcome.CALL_BACK else None)
    db.session.add(attempt)
    entry.attempts += 1
    entry.last_outcome = outcome
    entry.lease_user_id = entry.lease_expires_at = None
    entry.reached = entry.reached or outcome in REACHED_OUTCOMES or outcome is Outcome.CALL_BACK
    entry.callback_at = entry.callback_user_id = None
    if outcome in FINAL_OUTCOMES or (outcome is Outcome.ANSWERED):
        _close(entry, EntryStatus.DONE, now)
    elif outcome is Outcome.CALL_BACK:
        entry.status = EntryStatus.PENDING
        entry.next_attempt_at = entry.callback_at = callback_at
        entry.callback_user_id = by.id
    elif outcome in RETRY_OUTCOMES:
        if call_list.done_rule is DoneRule.ANY_OUTCOME:
            _close(entry, EntryStatus.DONE, now)
        elif entry.attempts >= call_list.max_attempts:
            _close(entry, EntryStatus.GAVE_UP, now)
        else:
            entry.status = EntryStatus.PENDING
            entry.next_attempt_at = now + timedelta(hours=call_list.cooldown_hours)
    _apply_to_contact(entry.contact, outcome, by, now)
    audit.record("call.outcome", user=by, obj=entry, detail=f"list={entry.list_id} outcome={outcome.value}")
    return attempt


def _close(entry: CallEntry, status: EntryStatus, now: datetime) -> None:
    entry.status = status
    entry.completed_at = now
    entry.next_attempt_at = None


def _apply_to_contact(contact: Contact, outcome: Outcome, by: User, now: datetime) -> None:
    if outcome is Outcome.WRONG_NUMBER:
        contact.phone_flagged_at = now  # for data cleaning; nobody is offered this number meanwhile
        audit.record("contact.phone_flagged", user=by, obj=contact)
    elif outcome is Outcome.DO_NOT_CALL:
        contact.do_not_call = True
        audit.record("contact.do_not_call", user=by, obj=contact)
    elif outcome is Outcome.RETAINED:
        contact.payment_method = PaymentMethod.DIRECT_DEBIT
        audit.record("contact.update", user=by, obj=contact, detail="fields=payment_method (retained by a call)")


# ---------------------------------------------------------------- filling lists

AUTO_LISTS = {
    ChangeKind.JOINER: (CallListKind.NEW_JOINER, "New joiners", scripts.NEW_JOINER_SCRIPT,
                        scripts.NEW_JOINER_QUESTIONS, 7),
    ChangeKind.LEAVER: (CallListKind.DOCAS_LEAVER, "DOCAS leavers", scripts.DOCAS_LEAVER_SCRIPT,
                        scripts.DOCAS_LEAVER_QUESTIONS, 14),
}


def auto_list_for(branch: Branch, change_kind: ChangeKind) -> CallList:
    """The branch's active automatically-filled list of this kind, created the first time."""
    kind, label, script, questions, due_days = AUTO_LISTS[change_kind]
    found = db.session.execute(
        select(CallList).join(call_list_branch, call_list_branch.c.list_id == CallList.id)
        .where(CallList.kind == kind, CallList.auto_fill.is_(True), CallList.is_active.is_(True),
               call_list_branch.c.branch_id == branch.id).order_by(CallList.id).limit(1)).scalar_one_or_none()
    if found is None:
        found = CallList(name=f"{label} – {branch.code}", kind=kind, script=script, questions=list(questions),
                         due_days=due_days, auto_fill=True, branches=[branch])
        db.session.add(found)
        db.session.flush()
    return found


def add_import_changes(run: ImportRun) -> dict[str, int]:
    """Put an import's joiners and leavers on their branches' call lists (each contact once). Flushes."""
    added = {}
    for change_kind in (ChangeKind.JOINER, ChangeKind.LEAVER):
        branch_ids = db.session.execute(select(ImportChange.branch_id).where(
            ImportChange.run_id == run.id, ImportChange.kind == change_kind).distinct()).scalars().all()
        total = 0
        for branch_id in branch_ids:
            call_list = auto_list_for(db.session.get(Branch, branch_id), change_kind)
            source = select(ImportChange.contact_id).where(
                ImportChange.run_id == run.id, ImportChange.kind == change_kind, ImportChange.branch_id == branch_id)
            total += add_contacts(call_list, source, source_label=f"import #{run.id}")
        added[change_kind.value] = total
    return added


def add_contacts(call_list: CallList, contact_ids_select, *, source_label: str) -> int:
    """Add the contacts a select of contact ids returns (those in the list's branches); skips any
    already on the list. Returns how many were added. Flushes."""
    today = date.today()
    branch_ids = [b.id for b in call_list.branches]
    rows = db.session.execute(
        select(Contact.id, Contact.branch_id, Contact.joined_on)
        .where(Contact.id.in_(contact_ids_select), Contact.branch_id.in_(branch_ids))
    ).all()
    if not rows:
        return 0
    before = db.session.execute(select(func.count(CallEntry.id)).where(CallEntry.list_id == call_list.id)).scalar_one()
    now = utcnow()
    values = []
    for contact_id, branch_id, joined_on in rows:
        due_by = today
        if call_list.due_days is not None:
            # Joiners are due N days after joining; everyone else N days after being added.
            base = joined_on if call_list.kind is CallListKind.NEW_JOINER and joined_on else today
            due_by = base + timedelta(days=call_list.due_days)
        values.append({"list_id": call_list.id, "contact_id": contact_id, "branch_id": branch_id,
                       "status": EntryStatus.PENDING.value, "due_by": due_by, "attempts": 0, "reached": False,
                       "added_at": now, "source": source_label})
    for start in range(0, len(values), 2000):
        db.session.execute(insert_ignoring_duplicates(CallEntry.__table__), values[start:start + 2000])
    after = db.session.execute(select(func.count(CallEntry.id)).where(CallEntry.list_id == call_list.id)).scalar_one()
    return after - before


# ---------------------------------------------------------------- when the queue is empty

@dataclass
class EmptyQueue:
    reason: str
    detail: str | None = None


def why_empty(call_list: CallList, user: User, now: datetime | None = None) -> EmptyQueue:
    """Why there is nobody to call right now, in words a caller understands."""
    now = now or utcnow()
    e = CallEntry
    scope = and_(e.list_id == call_list.id, branch_condition(user, e.branch_id))
    counts = dict(db.session.execute(select(e.status, func.count()).where(scope).group_by(e.status)).all())
    open_count = counts.get(EntryStatus.PENDING, 0) + counts.get(EntryStatus.IN_PROGRESS, 0)
    if not call_list.callers and not user.can(Permission.MANAGE_CALLS):
        return EmptyQueue("No callers are assigned to this list yet.")
    if sum(counts.values()) == 0:
        return EmptyQueue("There is nobody on this list yet.",
                          "New joiners and DOCAS leavers arrive with each membership import.")
    if open_count == 0:
        return EmptyQueue("Everyone on this list has been called. Thank you!")
    held = db.session.execute(select(func.count()).where(
        scope, e.status == EntryStatus.IN_PROGRESS, e.lease_expires_at > now)).scalar_one()
    resting = db.session.execute(select(func.min(e.next_attempt_at)).where(
        scope, e.status == EntryStatus.PENDING, e.next_attempt_at > now)).scalar_one()
    blocked = db.session.execute(select(func.count()).where(
        scope, e.status == EntryStatus.PENDING, ~callable_contact())).scalar_one()
    parts = []
    if held:
        parts.append(f"{held} being called by others right now")
    if blocked:
        parts.append(f"{blocked} with no usable mobile number or who asked not to be called")
    if resting is not None:
        from ..templating import UK

        parts.append("the rest are resting between attempts until "
                     + resting.astimezone(UK).strftime("%-d %b at %H:%M"))
    if not parts:
        parts.append("the rest were called from another list recently, or are waiting for the caller who arranged a call-back")
    detail = "; ".join(parts)
    return EmptyQueue("There is nobody to call right now.", detail[:1].upper() + detail[1:] + ".")


def waiting_count(call_list: CallList, user: User, now: datetime | None = None) -> int:
    """How many contacts this user could be offered right now."""
    now = now or utcnow()
    return db.session.execute(select(func.count(CallEntry.id)).where(
        eligible_condition(call_list, user, now))).scalar_one()


# ---------------------------------------------------------------- progress

@dataclass
class Progress:
    total: int = 0
    done: int = 0
    gave_up: int = 0
    reached: int = 0
    remaining: int = 0
    overdue: int = 0
    retained: int = 0
    called: int = 0  # entries with at least one call made

    @property
    def completed(self) -> int:
        return self.done + self.gave_up

    @property
    def completion_pct(self) -> float:
        return round(100 * self.completed / self.total, 1) if self.total else 0.0

    @property
    def reach_pct(self) -> float:
        return round(100 * self.reached / self.called, 1) if self.called else 0.0

    @property
    def retention_pct(self) -> float:
        return round(100 * self.retained / self.total, 1) if self.total else 0.0


def progress(call_list: CallList, user: User, branch_id: int | None = None) -> Progress:
    """Completion, reach and retention for the list within the user's branches (one query)."""
    e = CallEntry
    today = date.today()
    closed = e.status.in_([EntryStatus.DONE, EntryStatus.GAVE_UP])
    stmt = select(
        func.count(e.id),
        func.sum(case((e.status == EntryStatus.DONE, 1), else_=0)),
        func.sum(case((e.status == EntryStatus.GAVE_UP, 1), else_=0)),
        func.sum(case((e.reached.is_(True), 1), else_=0)),
        func.sum(case((and_(~closed, e.due_by < today), 1), else_=0)),
        func.sum(case((e.last_outcome == Outcome.RETAINED, 1), else_=0)),
        func.sum(case((e.attempts > 0, 1), else_=0)),
    ).where(e.list_id == call_list.id, branch_condition(user, e.branch_id))
    if branch_id:
        stmt = stmt.where(e.branch_id == branch_id)
    total, done, gave_up, reached, overdue, retained, called = (v or 0 for v in db.session.execute(stmt).one())
    return Progress(total=total, done=done, gave_up=gave_up, reached=reached,
                    remaining=total - done - gave_up, overdue=overdue, retained=retained, called=called)
