"""Call-list progress in figures: per list, per branch, per caller and per outcome.

Each function is one grouped query over the list's entries (or attempts), always limited to the
branches the user covers, so a list spanning several branches shows a branch officer only their
own branches' figures. Nothing here loops over entries in Python.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, case, func, select

from ..auth.models import User
from ..contacts.models import Contact
from ..extensions import db
from ..region.models import Branch
from ..scoping import branch_condition, visible_branches_stmt
from ..spreadsheets import safe_cell
from .models import (
    REACHED_OUTCOMES,
    CallAttempt,
    CallEntry,
    CallList,
    CallListKind,
    EntryStatus,
    Outcome,
    call_list_caller,
)
from .service import Progress

# An attempt "reached" the member when record_outcome would mark its entry reached: a call-back
# was arranged with them, or the call ended with one of the reached outcomes.
REACHED_ATTEMPT_OUTCOMES = REACHED_OUTCOMES | {Outcome.CALL_BACK}
TARGET_PCT = 100  # the work programme: every new joiner and every DOCAS leaver called


@dataclass
class Figures(Progress):
    """service.Progress plus how many entries have been called at least once (for the reach rate)."""

    called: int = 0

    @property
    def reach_rate(self) -> float:
        """Members reached, as a share of those called at least once."""
        return round(100 * self.reached / self.called, 1) if self.called else 0.0

    @property
    def to_target(self) -> int:
        """Entries still to complete before the list reaches the 100% target."""
        return self.total - self.completed

    def __add__(self, other: Figures) -> Figures:
        return Figures(**{f: getattr(self, f) + getattr(other, f) for f in _FIGURE_FIELDS})


_FIGURE_FIELDS = ("total", "done", "gave_up", "reached", "remaining", "overdue", "retained", "called")


def _figure_columns(today: date):
    e = CallEntry
    closed = e.status.in_([EntryStatus.DONE, EntryStatus.GAVE_UP])
    return (
        func.count(e.id),
        func.sum(case((e.status == EntryStatus.DONE, 1), else_=0)),
        func.sum(case((e.status == EntryStatus.GAVE_UP, 1), else_=0)),
        func.sum(case((e.reached.is_(True), 1), else_=0)),
        func.sum(case((and_(~closed, e.due_by < today), 1), else_=0)),
        func.sum(case((e.last_outcome == Outcome.RETAINED, 1), else_=0)),
        func.sum(case((e.attempts > 0, 1), else_=0)),
    )


def _figures(row: Sequence) -> Figures:
    total, done, gave_up, reached, overdue, retained, called = (int(v or 0) for v in row)
    return Figures(total=total, done=done, gave_up=gave_up, reached=reached, remaining=total - done - gave_up,
                   overdue=overdue, retained=retained, called=called)


def figures_by_list(user: User, list_ids: Iterable[int], today: date | None = None) -> dict[int, Figures]:
    """Figures for each of the given lists within the user's branches (one grouped query)."""
    ids = list(list_ids)
    if not ids:
        return {}
    e = CallEntry
    rows = db.session.execute(
        select(e.list_id, *_figure_columns(today or date.today()))
        .where(e.list_id.in_(ids), branch_condition(user, e.branch_id))
        .group_by(e.list_id)
    ).all()
    found = {row[0]: _figures(row[1:]) for row in rows}
    return {list_id: found.get(list_id, Figures()) for list_id in ids}


def caller_counts(list_ids: Iterable[int]) -> dict[int, int]:
    """How many callers are assigned to each list (one grouped query)."""
    ids = list(list_ids)
    if not ids:
        return {}
    c = call_list_caller.c
    rows = db.session.execute(
        select(c.list_id, func.count(c.user_id)).where(c.list_id.in_(ids)).group_by(c.list_id)).all()
    return {list_id: 0 for list_id in ids} | dict(rows)


@dataclass
class BranchFigures:
    branch: Branch
    figures: Figures


def figures_by_branch(call_list: CallList, user: User, today: date | None = None) -> list[BranchFigures]:
    """The list's figures for each of its branches the user covers, by branch code (one grouped query).

    A branch of the list with nobody on it yet still gets a row of zeros.
    """
    e = CallEntry
    rows = db.session.execute(
        select(e.branch_id, *_figure_columns(today or date.today()))
        .where(e.list_id == call_list.id, branch_condition(user, e.branch_id))
        .group_by(e.branch_id)
    ).all()
    found = {row[0]: _figures(row[1:]) for row in rows}
    branches = {b.id: b for b in call_list.branches}
    missing = [bid for bid in found if bid not in branches]  # contacts who moved after the list lost a branch
    if missing:
        branches.update({b.id: b for b in db.session.execute(select(Branch).where(Branch.id.in_(missing))).scalars()})
    visible = [b for b in branches.values() if b.id in found or _covers(user, b.id)]
    return [BranchFigures(b, found.get(b.id, Figures())) for b in sorted(visible, key=lambda b: b.code)]


def _covers(user: User, branch_id: int) -> bool:
    return user.region_wide or any(b.id == branch_id for b in user.branches)


def total_of(rows: Iterable[BranchFigures]) -> Figures:
    """The sum of some branches' figures."""
    total = Figures()
    for row in rows:
        total = total + row.figures
    return total


def status_counts(call_list: CallList, user: User) -> dict[EntryStatus, int]:
    """How many of the list's entries (in the user's branches) are in each status."""
    e = CallEntry
    rows = dict(db.session.execute(
        select(e.status, func.count(e.id))
        .where(e.list_id == call_list.id, branch_condition(user, e.branch_id)).group_by(e.status)).all())
    return {status: rows.get(status, 0) for status in EntryStatus}


@dataclass
class OutcomeRow:
    outcome: Outcome | None  # None: entries not called yet
    entries: int = 0         # entries whose latest call ended this way
    attempts: int = 0        # calls (attempts) that ended this way


def outcome_rows(call_list: CallList, user: User) -> list[OutcomeRow]:
    """By outcome: entries by their latest outcome, and every attempt by its outcome (two grouped queries)."""
    e, a = CallEntry, CallAttempt
    latest = dict(db.session.execute(
        select(e.last_outcome, func.count(e.id))
        .where(e.list_id == call_list.id, branch_condition(user, e.branch_id)).group_by(e.last_outcome)).all())
    attempts = dict(db.session.execute(
        select(a.outcome, func.count(a.id)).join(e, e.id == a.entry_id)
        .where(a.list_id == call_list.id, branch_condition(user, e.branch_id)).group_by(a.outcome)).all())
    rows = [OutcomeRow(o, latest.get(o, 0), attempts.get(o, 0)) for o in Outcome
            if latest.get(o) or attempts.get(o)]
    if latest.get(None):
        rows.append(OutcomeRow(None, latest[None], 0))
    return rows


@dataclass
class CallerFigures:
    user_id: int | None
    name: str
    attempts: int = 0
    reached: int = 0
    retained: int = 0
    members: int = 0  # different members called
    last_call_at: datetime | None = None

    @property
    def reach_rate(self) -> float:
        return round(100 * self.reached / self.attempts, 1) if self.attempts else 0.0


def figures_by_caller(call_list: CallList, user: User) -> list[CallerFigures]:
    """Calls made on the list per caller, counting only calls to members of the user's branches (one query)."""
    e, a = CallEntry, CallAttempt
    rows = db.session.execute(
        select(a.user_id, User.name, func.count(a.id),
               func.sum(case((a.outcome.in_(REACHED_ATTEMPT_OUTCOMES), 1), else_=0)),
               func.sum(case((a.outcome == Outcome.RETAINED, 1), else_=0)),
               func.count(a.entry_id.distinct()), func.max(a.at))
        .join(e, e.id == a.entry_id)
        .outerjoin(User, User.id == a.user_id)
        .where(a.list_id == call_list.id, branch_condition(user, e.branch_id))
        .group_by(a.user_id, User.name)
    ).all()
    found = [CallerFigures(user_id, name or "A former user", int(n), int(reached or 0), int(retained or 0),
                           int(members), last) for user_id, name, n, reached, retained, members, last in rows]
    return sorted(found, key=lambda c: (-c.attempts, c.name.lower()))


@dataclass
class OverdueEntry:
    entry_id: int
    contact_id: int
    first_name: str
    last_name: str
    branch_code: str
    due_by: date
    status: EntryStatus
    attempts: int
    last_outcome: Outcome | None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or "(no name)"


def _overdue_condition(call_list: CallList, user: User, today: date):
    e = CallEntry
    return and_(e.list_id == call_list.id, branch_condition(user, e.branch_id),
                e.status.not_in([EntryStatus.DONE, EntryStatus.GAVE_UP]), e.due_by < today)


def overdue_entries(call_list: CallList, user: User, limit: int = 100,
                    today: date | None = None) -> list[OverdueEntry]:
    """Entries past their due-by date and not yet completed, most overdue first (one query)."""
    e = CallEntry
    rows = db.session.execute(
        select(e.id, e.contact_id, Contact.first_name, Contact.last_name, Branch.code, e.due_by, e.status,
               e.attempts, e.last_outcome)
        .join(Contact, Contact.id == e.contact_id).join(Branch, Branch.id == e.branch_id)
        .where(_overdue_condition(call_list, user, today or date.today()))
        .order_by(e.due_by, Contact.last_name, Contact.first_name, e.id).limit(limit)
    ).all()
    return [OverdueEntry(*row) for row in rows]


# ---------------------------------------------------------------- across lists, per branch

@dataclass
class BranchOverview:
    branch: Branch
    joiners: Figures = field(default_factory=Figures)
    leavers: Figures = field(default_factory=Figures)


def overview_by_branch(user: User, today: date | None = None) -> list[BranchOverview]:
    """For each branch the user covers: new-joiner and DOCAS-leaver call figures over all lists (one query)."""
    e = CallEntry
    kinds = (CallListKind.NEW_JOINER, CallListKind.DOCAS_LEAVER)
    rows = db.session.execute(
        select(e.branch_id, CallList.kind, *_figure_columns(today or date.today()))
        .join(CallList, CallList.id == e.list_id)
        .where(CallList.kind.in_(kinds), branch_condition(user, e.branch_id))
        .group_by(e.branch_id, CallList.kind)
    ).all()
    by_branch: dict[int, dict[CallListKind, Figures]] = {}
    for branch_id, kind, *figures in rows:
        by_branch.setdefault(branch_id, {})[kind] = _figures(figures)
    result = []
    for branch in db.session.execute(visible_branches_stmt(user)).scalars():
        found = by_branch.get(branch.id, {})
        result.append(BranchOverview(branch, found.get(CallListKind.NEW_JOINER, Figures()),
                                     found.get(CallListKind.DOCAS_LEAVER, Figures())))
    return result


# ---------------------------------------------------------------- CSV

CSV_HEADERS = [
    "Breakdown", "Branch code", "Branch", "Caller", "On the list", "Done", "Not reached after last attempt",
    "Completed", "Completion %", "Target %", "Remaining", "Overdue", "Reached", "Reach rate %", "Retained",
    "Retention %", "Calls made", "Calls that reached the member",
]



def _figure_cells(f: Figures, leavers: bool) -> list:
    return [f.total, f.done, f.gave_up, f.completed, f.completion_pct, TARGET_PCT, f.remaining, f.overdue,
            f.reached, f.reach_rate, f.retained if leavers else "", f.retention_pct if leavers else ""]


def progress_csv_rows(call_list: CallList, user: User) -> list[list]:
    """The list's figures per branch, in total and per caller, as CSV rows (no member personal data)."""
    leavers = call_list.kind is CallListKind.DOCAS_LEAVER
    branches = figures_by_branch(call_list, user)
    rows: list[list] = []
    for row in branches:
        rows.append(["Branch", row.branch.code, row.branch.name, "", *_figure_cells(row.figures, leavers), "", ""])
    rows.append(["All your branches", "", "", "", *_figure_cells(total_of(branches), leavers), "", ""])
    for caller in figures_by_caller(call_list, user):
        rows.append(["Caller", "", "", caller.name, *[""] * 10, caller.retained if leavers else "", "",
                     caller.attempts, caller.reached])
    return [[safe_cell(v) for v in row] for row in rows]


def csv_text(rows: Iterable[list]) -> str:
    """CSV with a header row and a BOM (so Excel reads UTF-8)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    writer.writerows(rows)
    return buffer.getvalue()
