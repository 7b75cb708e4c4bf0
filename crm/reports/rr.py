"""The quarterly Recruitment & Retention report: per branch, the region roll-up for the ROC, and XLSX.

The HTML and the XLSX are drawn from the same rows and the same column definitions, so the
spreadsheet always says what the page says.
"""
from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from ..auth.models import User
from ..calls.models import CallListKind
from ..calls.progress import Figures as CallFigures
from ..extensions import db
from ..region.models import Branch
from ..scoping import visible_branches_stmt
from ..spreadsheets import safe_cell
from ..vocabulary import ActivistRoleKind
from . import service
from .activists import TARGETED_ROLES, RoleChange, role_counts
from .models import ActionPlanNote, ReportTargets
from .service import Growth, Scope

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
NOTE_MAX = 5000


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        following = date(self.year + 1, 1, 1) if self.number == 4 else date(self.year, 3 * self.number + 1, 1)
        return following - timedelta(days=1)

    @property
    def key(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def label(self) -> str:
        first = MONTHS[3 * self.number - 3]
        last = MONTHS[3 * self.number - 1]
        return f"{self.year} Q{self.number} ({first}–{last})"

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)


def quarter_of(day: date) -> Quarter:
    return Quarter(day.year, (day.month - 1) // 3 + 1)


_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def parse_quarter(raw: str | None, today: date | None = None) -> tuple[Quarter, str | None]:
    """The quarter named like "2026-Q3" (default: the current one), and an error message if it was not valid."""
    current = quarter_of(today or date.today())
    if not raw:
        return current, None
    match = _QUARTER.match(raw.strip().upper())
    if not match or not 2000 <= int(match.group(1)) <= 2100:
        return current, "Choose a quarter from the list, such as 2026-Q3."
    return Quarter(int(match.group(1)), int(match.group(2))), None


def recent_quarters(today: date | None = None, count: int = 8) -> list[Quarter]:
    quarter = quarter_of(today or date.today())
    out = []
    for _ in range(count):
        out.append(quarter)
        quarter = quarter.previous()
    return out


@dataclass
class BranchReport:
    branch_id: int | None
    label: str
    code: str
    quarter: Quarter
    growth: Growth
    joiner_calls: CallFigures
    leaver_calls: CallFigures
    calls_made: int
    roles: list[RoleChange]
    participants: int
    letters: int
    members: int
    ballot_ready: int
    note: str = ""
    note_updated: object = None
    extra: dict = field(default_factory=dict)

    @property
    def participation_pct(self) -> float | None:
        return service.pct(self.participants, self.members)

    @property
    def ballot_ready_pct(self) -> float | None:
        return service.pct(self.ballot_ready, self.members)

    def role(self, kind: ActivistRoleKind) -> RoleChange:
        return next(r for r in self.roles if r.role is kind)


def _reports(user: User, quarter: Quarter, targets: ReportTargets, branches: list[Branch]) -> list[BranchReport]:
    ids = [b.id for b in branches]
    scope = Scope(ids, quarter.start, quarter.end)
    members = service.members_by_branch(scope)
    changes = service.changes_by_branch(scope)
    calls = service.calls_by_branch(scope)
    made = service.calls_made_by_branch(scope)
    before = role_counts(scope, quarter.start - timedelta(days=1))
    after = role_counts(scope, min(quarter.end, date.today()))
    participants = service.participants_by_branch(scope)
    notes = {n.branch_id: n for n in db.session.execute(
        select(ActionPlanNote).where(ActionPlanNote.branch_id.in_(ids), ActionPlanNote.year == quarter.year,
                                     ActionPlanNote.quarter == quarter.number)).scalars()}
    out = []
    for branch in branches:
        c = changes.get(branch.id, {})
        n_members, ready = members.get(branch.id, (0, 0))
        growth = Growth(str(branch), n_members, c.get("joiners", 0), c.get("leavers", 0), c.get("net_since", 0),
                        targets.growth_pct, branch.id)
        kinds = calls.get(branch.id, {})
        roles = [RoleChange(kind.label, before.get((branch.id, kind), 0), after.get((branch.id, kind), 0),
                            targets.activist_growth_pct if kind in TARGETED_ROLES else None, kind)
                 for kind in ActivistRoleKind]
        n, letters = participants.get(branch.id, (0, 0))
        note = notes.get(branch.id)
        out.append(BranchReport(branch.id, str(branch), branch.code, quarter, growth,
                                kinds.get(CallListKind.NEW_JOINER, CallFigures()),
                                kinds.get(CallListKind.DOCAS_LEAVER, CallFigures()), made.get(branch.id, 0), roles,
                                n, letters, n_members, ready, note.text if note else "",
                                note.updated_at if note else None))
    return out


def branch_report(user: User, branch: Branch, quarter: Quarter, targets: ReportTargets) -> BranchReport:
    """One branch's R&R report for a quarter (the caller has checked the user covers the branch)."""
    return _reports(user, quarter, targets, [branch])[0]


def region_rollup(user: User, quarter: Quarter, targets: ReportTargets) -> tuple[list[BranchReport], BranchReport]:
    """Every branch the user covers for the quarter, and their total (the ROC's roll-up)."""
    branches = list(db.session.execute(visible_branches_stmt(user)).scalars())
    rows = _reports(user, quarter, targets, branches)
    total = BranchReport(None, "All branches", "", quarter, Growth("All branches", target_pct=targets.growth_pct),
                         CallFigures(), CallFigures(), 0,
                         [RoleChange(k.label, 0, 0, targets.activist_growth_pct if k in TARGETED_ROLES
                                     else None, k) for k in ActivistRoleKind], 0, 0, 0, 0)
    for row in rows:
        total.growth.add(row.growth)
        total.joiner_calls = total.joiner_calls + row.joiner_calls
        total.leaver_calls = total.leaver_calls + row.leaver_calls
        total.calls_made += row.calls_made
        for mine, theirs in zip(total.roles, row.roles):
            mine.baseline += theirs.baseline
            mine.now += theirs.now
        total.participants += row.participants
        total.letters += row.letters
        total.members += row.members
        total.ballot_ready += row.ballot_ready
    return rows, total


def save_note(branch: Branch, quarter: Quarter, text: str, by: User) -> ActionPlanNote:
    """Create or replace the branch's action-plan notes for the quarter (flushes; the caller commits)."""
    text = (text or "").strip()
    if len(text) > NOTE_MAX:
        raise ValueError(f"Keep the action-plan notes under {NOTE_MAX:,} characters.")
    note = db.session.execute(select(ActionPlanNote).where(
        ActionPlanNote.branch_id == branch.id, ActionPlanNote.year == quarter.year,
        ActionPlanNote.quarter == quarter.number)).scalar_one_or_none()
    if note is None:
        note = ActionPlanNote(branch_id=branch.id, year=quarter.year, quarter=quarter.number)
        db.session.add(note)
    note.text = text
    note.updated_by_id = by.id
    db.session.flush()
    return note


# ------------------------------------------------------------------ the columns (HTML and XLSX)


def _blank(value):
    return "" if value is None else value


Column = tuple[str, Callable[[BranchReport], object]]

COLUMNS: list[Column] = [
    ("Members now", lambda r: r.growth.members),
    ("Joiners", lambda r: r.growth.joiners),
    ("Leavers", lambda r: r.growth.leavers),
    ("Net change", lambda r: r.growth.net),
    ("Growth %", lambda r: _blank(r.growth.growth_pct)),
    ("New-joiner calls due", lambda r: r.joiner_calls.total),
    ("New-joiner calls completed", lambda r: r.joiner_calls.completed),
    ("New-joiner completion %", lambda r: _blank(service.pct(r.joiner_calls.completed, r.joiner_calls.total))),
    ("DOCAS-leaver calls due", lambda r: r.leaver_calls.total),
    ("DOCAS-leaver calls completed", lambda r: r.leaver_calls.completed),
    ("DOCAS-leaver completion %", lambda r: _blank(service.pct(r.leaver_calls.completed, r.leaver_calls.total))),
    ("Leavers retained", lambda r: r.leaver_calls.retained),
    ("Retention %", lambda r: _blank(service.pct(r.leaver_calls.retained, r.leaver_calls.total))),
    ("Calls made", lambda r: r.calls_made),
    *[(f"{kind.label}: change", (lambda k: lambda r: r.role(k).change)(kind))
      for kind in (*TARGETED_ROLES, ActivistRoleKind.EQUALITY, ActivistRoleKind.ENVIRONMENTAL)],
    ("Campaign participants", lambda r: r.participants),
    ("Letters", lambda r: r.letters),
    ("Participation %", lambda r: _blank(r.participation_pct)),
    ("Ballot-ready %", lambda r: _blank(r.ballot_ready_pct)),
]


def table_row(report: BranchReport) -> list:
    return [getter(report) for _, getter in COLUMNS]


def _branch_sections(r: BranchReport) -> list[tuple[str, list[tuple[str, object]]]]:
    sections = [
        ("Membership", [("Members now", r.growth.members), ("Members at the start of the quarter",
                                                            r.growth.members_at_start),
                        ("Joiners", r.growth.joiners), ("Leavers", r.growth.leavers), ("Net change", r.growth.net),
                        ("Growth %", _blank(r.growth.growth_pct)), ("Target %", r.growth.target_pct)]),
        ("Calls", [("New-joiner calls due", r.joiner_calls.total),
                   ("New-joiner calls completed", r.joiner_calls.completed),
                   ("New-joiner completion %", _blank(service.pct(r.joiner_calls.completed, r.joiner_calls.total))),
                   ("DOCAS-leaver calls due", r.leaver_calls.total),
                   ("DOCAS-leaver calls completed", r.leaver_calls.completed),
                   ("DOCAS-leaver completion %", _blank(service.pct(r.leaver_calls.completed, r.leaver_calls.total))),
                   ("Leavers retained", r.leaver_calls.retained),
                   ("Retention %", _blank(service.pct(r.leaver_calls.retained, r.leaver_calls.total))),
                   ("Overdue calls", r.joiner_calls.overdue + r.leaver_calls.overdue),
                   ("Calls made", r.calls_made)]),
        ("Activists (start of quarter → end)", [(f"{role.label}", f"{role.baseline} → {role.now} ({role.change:+d})")
                                                for role in r.roles]),
        ("Campaign participation", [("Participants", r.participants), ("Letters", r.letters),
                                    ("Participation %", _blank(r.participation_pct))]),
        ("Data quality", [("Members", r.members), ("Ballot-ready", r.ballot_ready),
                          ("Ballot-ready %", _blank(r.ballot_ready_pct))]),
    ]
    return sections


def branch_sections(report: BranchReport) -> list[tuple[str, list[tuple[str, object]]]]:
    """The branch report as titled sections of (measure, value), for the page and the spreadsheet."""
    return _branch_sections(report)


def _workbook():
    from openpyxl import Workbook

    return Workbook()


def branch_xlsx(report: BranchReport) -> bytes:
    """The branch's R&R report as an XLSX workbook (aggregates only, plus the branch's own notes)."""
    from openpyxl.styles import Font

    book = _workbook()
    sheet = book.active
    sheet.title = "R&R report"
    sheet.append([f"Recruitment & Retention report: {report.label}", report.quarter.label])
    sheet["A1"].font = Font(bold=True)
    for title, lines in branch_sections(report):
        sheet.append([])
        sheet.append([title])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
        for measure, value in lines:
            sheet.append([measure, safe_cell(value) if isinstance(value, str) else value])
    sheet.append([])
    sheet.append(["Action-plan notes"])
    sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
    sheet.append([safe_cell(report.note or "None recorded")])
    sheet.column_dimensions["A"].width = 42
    sheet.column_dimensions["B"].width = 28
    return _save(book)


def region_xlsx(rows: list[BranchReport], total: BranchReport, quarter: Quarter) -> bytes:
    """The region roll-up: one row per branch and a total, the same columns as the page."""
    from openpyxl.styles import Font

    book = _workbook()
    sheet = book.active
    sheet.title = "Region roll-up"
    sheet.append([f"Recruitment & Retention roll-up {quarter.label}"])
    sheet["A1"].font = Font(bold=True)
    sheet.append(["Branch code", "Branch", *[name for name, _ in COLUMNS], "Action-plan notes"])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([row.code, safe_cell(row.label), *table_row(row), "yes" if row.note else "no"])
    sheet.append(["", total.label, *table_row(total), ""])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "C3"
    notes = book.create_sheet("Action-plan notes")
    notes.append(["Branch code", "Branch", "Notes"])
    for row in rows:
        if row.note:
            notes.append([row.code, safe_cell(row.label), safe_cell(row.note)])
    return _save(book)


def _save(book) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
