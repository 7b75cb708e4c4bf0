"""Every figure on the participation dashboard and in the R&R report, within the viewer's scope.

Large sources (contacts, letters, calls, replies, import history) are read from the summary tables
(crm/reports/summaries.py); call-list entries are small enough to count directly when an employer or
workplace is chosen. The activists panel is in crm/reports/activists.py. Every function takes a Scope
built by `scope_for`, which has already intersected the filters with the branches the user covers.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import Select, and_, case, distinct, false, func, select

from ..auth.models import User
from ..calls.models import REACHED_OUTCOMES, CallAttempt, CallEntry, CallList, CallListKind, EntryStatus, Outcome
from ..calls.progress import Figures as CallFigures
from ..campaigns.models import Campaign, Letter, LetterState
from ..contacts.models import ActivistRole, Contact
from ..extensions import db
from ..imports.models import ChangeKind, ImportChange, ImportRun, ImportStatus
from ..region.models import Branch, Employer, ServiceGroup, Workplace, branch_employer
from ..scoping import branch_condition, visible_branches_stmt
from ..vocabulary import ActivistRoleKind, ContactStatus, EmployerKind
from .summaries import CALL_FIGURES, CALLER_FIGURES, active_on, counted_whole
from .models import (
    ActivityDay,
    CallDay,
    CallerDay,
    MemberCell,
    ParticipantCell,
    ParticipantDay,
    PeriodCell,
    ReportTargets,
    WeekCell,
)

SMALL_NUMBER = 5  # counts under this are never shown (diversity figures)
TOP = 10
SENT_STATES = (LetterState.QUEUED, LetterState.OWN_EMAIL)
CALL_KINDS = (CallListKind.NEW_JOINER, CallListKind.DOCAS_LEAVER)


def pct(part: float, whole: float) -> float | None:
    """part ÷ whole as a percentage to one decimal place (None when there is no whole)."""
    return round(100 * part / whole, 1) if whole else None


def shown(count: int) -> int | None:
    """A count that may be shown, or None when it is under the small-number threshold."""
    return count if count >= SMALL_NUMBER else None


# ------------------------------------------------------------------ filters and scope


@dataclass
class ReportFilter:
    date_from: date
    date_to: date
    service_group_id: int | None = None
    branch_id: int | None = None
    employer_id: int | None = None
    workplace_id: int | None = None
    campaign_id: int | None = None

    def as_args(self) -> dict[str, str]:
        """The filter as query arguments (ids and dates only: nothing about a member)."""
        args = {"from": self.date_from.isoformat(), "to": self.date_to.isoformat()}
        for key, value in (("service_group", self.service_group_id), ("branch", self.branch_id),
                           ("employer", self.employer_id), ("workplace", self.workplace_id),
                           ("campaign", self.campaign_id)):
            if value:
                args[key] = str(value)
        return args


@dataclass
class Choices:
    service_groups: list[tuple[int, str]]
    branches: list[tuple[int, str]]
    employers: list[tuple[int, str]]
    workplaces: list[tuple[int, str]]
    campaigns: list[tuple[int, str]]


def _parse_date(raw: str | None, label: str, errors: dict[str, str], key: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        errors[key] = f"Enter the {label} date as a real date, for example 2026-04-01."
        return None


def _parse_id(raw: str | None, allowed: dict[int, str], what: str, errors: dict[str, str], key: str) -> int | None:
    if not raw:
        return None
    value = int(raw) if str(raw).isdigit() else None
    if value not in allowed:
        errors[key] = f"Choose a {what} from the list."
        return None
    return value


def choices_for(user: User, employer_id: int | None = None) -> Choices:
    """What the filter's drop-downs offer this user (only branches they cover and what lies in them)."""
    branches = db.session.execute(visible_branches_stmt(user)).scalars().all()
    group_ids = {b.service_group_id for b in branches}
    groups = db.session.execute(select(ServiceGroup).where(ServiceGroup.id.in_(group_ids))
                                .order_by(ServiceGroup.name)).scalars().all()
    employer_stmt = select(Employer.id, Employer.name).order_by(Employer.name)
    if not user.region_wide:
        employer_stmt = employer_stmt.where(Employer.id.in_(
            select(branch_employer.c.employer_id).where(branch_employer.c.branch_id.in_([b.id for b in branches]))))
    employers = [tuple(r) for r in db.session.execute(employer_stmt)]
    workplaces = []
    if employer_id and employer_id in {e[0] for e in employers}:
        workplaces = [tuple(r) for r in db.session.execute(
            select(Workplace.id, Workplace.name).where(Workplace.employer_id == employer_id).order_by(Workplace.name))]
    campaigns = [tuple(r) for r in db.session.execute(select(Campaign.id, Campaign.name).order_by(Campaign.name))]
    return Choices([(g.id, g.name) for g in groups], [(b.id, str(b)) for b in branches], employers, workplaces,
                   campaigns)


def parse_filter(user: User, args: dict, targets: ReportTargets, today: date | None = None
                 ) -> tuple[ReportFilter, Choices, dict[str, str]]:
    """The dashboard filter from query arguments; anything invalid is left out and explained in `errors`."""
    today = today or date.today()
    errors: dict[str, str] = {}
    date_from = _parse_date(args.get("from"), "start", errors, "from") or targets.baseline_on
    date_to = _parse_date(args.get("to"), "end", errors, "to") or today
    if date_to < date_from:
        errors["to"] = "The end date must be the same as or after the start date."
        date_from, date_to = targets.baseline_on, max(today, targets.baseline_on)
    employer_raw = args.get("employer")
    choices = choices_for(user, int(employer_raw) if str(employer_raw or "").isdigit() else None)
    flt = ReportFilter(
        date_from=date_from, date_to=date_to,
        service_group_id=_parse_id(args.get("service_group"), dict(choices.service_groups), "service group",
                                   errors, "service_group"),
        branch_id=_parse_id(args.get("branch"), dict(choices.branches), "branch", errors, "branch"),
        employer_id=_parse_id(employer_raw, dict(choices.employers), "employer", errors, "employer"),
        campaign_id=_parse_id(args.get("campaign"), dict(choices.campaigns), "campaign", errors, "campaign"),
    )
    if flt.employer_id:
        flt.workplace_id = _parse_id(args.get("workplace"), dict(choices.workplaces), "workplace", errors,
                                     "workplace")
    return flt, choices, errors


@dataclass
class Scope:
    """What every figure is limited to: branches (None: all), place, dates and campaign."""

    branch_ids: list[int] | None
    date_from: date
    date_to: date
    employer_id: int | None = None
    workplace_id: int | None = None
    campaign_id: int | None = None
    # Figures several panels share (branches, members per branch), counted once per page.
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def end_day(self) -> date:
        """The day "now" figures are taken at: the end of the range, or today if that is earlier."""
        return min(self.date_to, date.today())


def scope_for(user: User, flt: ReportFilter) -> Scope:
    """The filter intersected with the branches the user covers."""
    branch_ids: list[int] | None = None
    if not user.region_wide or flt.service_group_id or flt.branch_id:
        stmt = visible_branches_stmt(user).with_only_columns(Branch.id)
        if flt.service_group_id:
            stmt = stmt.where(Branch.service_group_id == flt.service_group_id)
        if flt.branch_id:
            stmt = stmt.where(Branch.id == flt.branch_id)
        branch_ids = list(db.session.execute(stmt).scalars())
    return Scope(branch_ids, flt.date_from, flt.date_to, flt.employer_id, flt.workplace_id, flt.campaign_id)


def branch_scope(branch_id: int, date_from: date, date_to: date) -> Scope:
    """One branch over a period (the R&R report; the caller has checked the user covers it)."""
    return Scope([branch_id], date_from, date_to)


def _place(scope: Scope, branch_col, employer_col=None, workplace_col=None) -> list:
    conditions = []
    if scope.branch_ids is not None:
        conditions.append(branch_col.in_(scope.branch_ids) if scope.branch_ids else false())
    if scope.employer_id and employer_col is not None:
        conditions.append(employer_col == scope.employer_id)
    if scope.workplace_id and workplace_col is not None:
        conditions.append(workplace_col == scope.workplace_id)
    return conditions


def _branches(scope: Scope) -> list[Branch]:
    if "branches" not in scope.cache:
        stmt = select(Branch).order_by(Branch.code)
        if scope.branch_ids is not None:
            stmt = stmt.where(Branch.id.in_(scope.branch_ids))
        scope.cache["branches"] = list(db.session.execute(stmt).scalars())
    return scope.cache["branches"]


def _start(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc)


# ------------------------------------------------------------------ membership


@dataclass
class Growth:
    label: str
    members: int = 0           # members now (at the last summary refresh)
    joiners: int = 0           # in the period
    leavers: int = 0
    net_since_start: int = 0   # joiners − leavers from the period's start until now
    target_pct: float | None = None
    key: int | None = None     # branch or service group id, for links

    @property
    def net(self) -> int:
        return self.joiners - self.leavers

    @property
    def members_at_start(self) -> int:
        return self.members - self.net_since_start

    @property
    def growth_pct(self) -> float | None:
        return pct(self.net, self.members_at_start) if self.members_at_start > 0 else None

    @property
    def on_target(self) -> bool | None:
        if self.target_pct is None or self.growth_pct is None:
            return None
        return self.growth_pct >= self.target_pct

    def add(self, other: Growth) -> None:
        self.members += other.members
        self.joiners += other.joiners
        self.leavers += other.leavers
        self.net_since_start += other.net_since_start


@dataclass
class Density:
    workplace_id: int
    workplace: str
    employer: str
    members: int
    headcount: int

    @property
    def density_pct(self) -> float | None:
        return pct(self.members, self.headcount)


@dataclass
class Membership:
    total: Growth
    by_branch: list[Growth]
    by_service_group: list[Growth]
    social_care: Growth
    density: list[Density]


def members_by_branch(scope: Scope, employer_kind: EmployerKind | None = None) -> dict[int, tuple[int, int]]:
    """Members now and ballot-ready members per branch (from the member snapshot)."""
    key = ("members", employer_kind)
    if key not in scope.cache:
        scope.cache[key] = _members_by_branch(scope, employer_kind)
    return scope.cache[key]


def _members_by_branch(scope: Scope, employer_kind: EmployerKind | None) -> dict[int, tuple[int, int]]:
    m = MemberCell
    stmt = (select(m.branch_id, func.sum(m.members), func.sum(m.ballot_ready))
            .where(*_place(scope, m.branch_id, m.employer_id, m.workplace_id)).group_by(m.branch_id))
    if employer_kind:
        stmt = stmt.join(Employer, Employer.id == m.employer_id).where(Employer.kind == employer_kind)
    return {b: (int(n or 0), int(r or 0)) for b, n, r in db.session.execute(stmt)}


def _period_counted(scope: Scope) -> bool:
    """True when the period's calls, replies, joiners and leavers were counted whole."""
    return _has_cells(scope)


def changes_by_branch(scope: Scope, employer_kind: EmployerKind | None = None) -> dict[int, dict[str, int]]:
    """Joiners and leavers in the period, and net change since its start, per branch."""
    if scope.date_to >= date.today() and _period_counted(scope):
        # A period ending today: the change since its start is the change within it.
        c = PeriodCell
        stmt = (select(c.branch_id, func.sum(case((c.kind == "joiner", c.n), else_=0)),
                       func.sum(case((c.kind == "leaver", c.n), else_=0)))
                .where(c.start_on == scope.date_from, c.end_on == scope.date_to, c.kind.in_(("joiner", "leaver")),
                       *_place(scope, c.branch_id, c.employer_id, c.workplace_id))
                .group_by(c.branch_id))
        if employer_kind:
            stmt = stmt.join(Employer, Employer.id == c.employer_id).where(Employer.kind == employer_kind)
        return {b: {"joiners": int(j or 0), "leavers": int(lv or 0), "net_since": int(j or 0) - int(lv or 0)}
                for b, j, lv in db.session.execute(stmt)}
    a = ActivityDay
    in_range = a.day <= scope.date_to
    stmt = (select(a.branch_id,
                   func.sum(case((and_(in_range, a.kind == "joiner"), a.n), else_=0)),
                   func.sum(case((and_(in_range, a.kind == "leaver"), a.n), else_=0)),
                   func.sum(case((a.kind == "joiner", a.n), else_=-a.n)))
            .where(a.kind.in_(("joiner", "leaver")), a.day >= scope.date_from,
                   *_place(scope, a.branch_id, a.employer_id, a.workplace_id))
            .group_by(a.branch_id))
    if employer_kind:
        stmt = stmt.join(Employer, Employer.id == a.employer_id).where(Employer.kind == employer_kind)
    return {b: {"joiners": int(j or 0), "leavers": int(lv or 0), "net_since": int(ns or 0)}
            for b, j, lv, ns in db.session.execute(stmt)}


def membership(scope: Scope, targets: ReportTargets) -> Membership:
    """Members now, joiners, leavers, net growth against target per branch and service group, density."""
    members = members_by_branch(scope)
    changes = changes_by_branch(scope)
    groups = {g.id: g.name for g in db.session.execute(select(ServiceGroup)).scalars()}
    total = Growth("All branches in view", target_pct=targets.growth_pct)
    by_branch, by_group = [], {}
    for branch in _branches(scope):
        c = changes.get(branch.id, {})
        row = Growth(str(branch), members.get(branch.id, (0, 0))[0], c.get("joiners", 0), c.get("leavers", 0),
                     c.get("net_since", 0), targets.growth_pct, branch.id)
        by_branch.append(row)
        total.add(row)
        group = by_group.setdefault(branch.service_group_id, Growth(groups.get(branch.service_group_id, ""),
                                                                     target_pct=targets.growth_pct,
                                                                     key=branch.service_group_id))
        group.add(row)
    care = Growth("Adult social care (care-provider employers)", target_pct=targets.social_care_growth_pct)
    care_members = members_by_branch(scope, EmployerKind.CARE_PROVIDER)
    for branch_id, c in changes_by_branch(scope, EmployerKind.CARE_PROVIDER).items():
        care.add(Growth("", 0, c["joiners"], c["leavers"], c["net_since"]))
    care.members = sum(n for n, _ in care_members.values())
    return Membership(total, by_branch, sorted(by_group.values(), key=lambda g: g.label), care,
                      density(scope))


def density(scope: Scope, limit: int = 20) -> list[Density]:
    """Union density (members ÷ headcount) for workplaces with a known headcount, lowest first."""
    m = MemberCell
    members = func.sum(m.members)
    rows = db.session.execute(
        select(Workplace.id, Workplace.name, Employer.name, members, Workplace.headcount)
        .select_from(m).join(Workplace, Workplace.id == m.workplace_id).join(Employer, Employer.id == Workplace.employer_id)
        .where(Workplace.headcount > 0, *_place(scope, m.branch_id, m.employer_id, m.workplace_id))
        .group_by(Workplace.id, Workplace.name, Employer.name, Workplace.headcount)
        .order_by((members * 1.0 / Workplace.headcount), Workplace.name).limit(limit)).all()
    return [Density(wid, name, employer, int(n), int(headcount)) for wid, name, employer, n, headcount in rows]


# ------------------------------------------------------------------ calls


@dataclass
class BranchCalls:
    label: str
    joiners: CallFigures
    leavers: CallFigures
    key: int | None = None


@dataclass
class CallerRow:
    name: str
    attempts: int
    reached: int
    retained: int

    @property
    def reach_pct(self) -> float | None:
        return pct(self.reached, self.attempts)


@dataclass
class Calls:
    total: BranchCalls
    by_branch: list[BranchCalls]
    by_caller: list[CallerRow]
    joiner_target: float
    leaver_target: float


def _entry_columns(today: date):
    e = CallEntry
    closed = e.status.in_([EntryStatus.DONE, EntryStatus.GAVE_UP])
    return (func.count(e.id), func.sum(case((e.status == EntryStatus.DONE, 1), else_=0)),
            func.sum(case((e.status == EntryStatus.GAVE_UP, 1), else_=0)),
            func.sum(case((e.reached.is_(True), 1), else_=0)),
            func.sum(case((and_(~closed, e.due_by < today), 1), else_=0)),
            func.sum(case((e.last_outcome == Outcome.RETAINED, 1), else_=0)),
            func.sum(case((e.attempts > 0, 1), else_=0)))


def _call_figures(row) -> CallFigures:
    total, done, gave_up, reached, overdue, retained, called = (int(v or 0) for v in row)
    return CallFigures(total=total, done=done, gave_up=gave_up, reached=reached,
                       remaining=total - done - gave_up, overdue=overdue, retained=retained, called=called)


def _entry_place(scope: Scope, stmt: Select) -> Select:
    if scope.employer_id or scope.workplace_id:
        stmt = stmt.join(Contact, Contact.id == CallEntry.contact_id)
    return stmt.where(*_place(scope, CallEntry.branch_id, Contact.employer_id, Contact.workplace_id))


def calls_by_branch(scope: Scope, today: date | None = None) -> dict[int, dict[CallListKind, CallFigures]]:
    """New-joiner and DOCAS-leaver call figures per branch, for entries added in the period (from the
    call summary; counted live when an employer or workplace is chosen, which the summary does not hold)."""
    if scope.employer_id or scope.workplace_id:
        return _calls_by_branch_live(scope, today)
    if _period_counted(scope):
        c = PeriodCell
        values: dict[tuple[int, str, str], int] = {}
        for branch_id, kind, n in db.session.execute(
                select(c.branch_id, c.kind, c.n).where(c.start_on == scope.date_from, c.end_on == scope.date_to,
                                                       c.kind.in_([f"{k.value}:{f}" for k in CALL_KINDS
                                                                   for f in CALL_FIGURES]),
                                                       *_place(scope, c.branch_id))):
            list_kind, _, figure = kind.partition(":")
            values[(branch_id, list_kind, figure)] = int(n or 0)
        found: dict[int, dict[CallListKind, CallFigures]] = defaultdict(dict)
        for branch_id in {b for b, _, _ in values}:
            for kind in CALL_KINDS:
                row = [values.get((branch_id, kind.value, f), 0) for f in
                       ("total", "done", "gave_up", "reached", "overdue", "retained", "called")]
                if row[0]:
                    found[branch_id][kind] = _call_figures(row)
        return found
    c = CallDay
    today = today or date.today()
    rows = db.session.execute(
        select(c.branch_id, c.kind, func.sum(c.total), func.sum(c.done), func.sum(c.gave_up), func.sum(c.reached),
               func.sum(case((c.due_by < today, c.still_open), else_=0)), func.sum(c.retained), func.sum(c.called))
        .where(c.day >= scope.date_from, c.day <= scope.date_to, *_place(scope, c.branch_id))
        .group_by(c.branch_id, c.kind))
    found: dict[int, dict[CallListKind, CallFigures]] = defaultdict(dict)
    for branch_id, kind, *row in rows:
        found[branch_id][CallListKind(kind)] = _call_figures(row)
    return found


def _calls_by_branch_live(scope: Scope, today: date | None = None) -> dict[int, dict[CallListKind, CallFigures]]:
    e = CallEntry
    stmt = (select(e.branch_id, CallList.kind, *_entry_columns(today or date.today()))
            .join(CallList, CallList.id == e.list_id)
            .where(CallList.kind.in_(CALL_KINDS), e.added_at >= _start(scope.date_from),
                   e.added_at < _start(scope.date_to + timedelta(days=1)))
            .group_by(e.branch_id, CallList.kind))
    found: dict[int, dict[CallListKind, CallFigures]] = defaultdict(dict)
    for branch_id, kind, *row in db.session.execute(_entry_place(scope, stmt)):
        found[branch_id][kind] = _call_figures(row)
    return found


def calls(scope: Scope, targets: ReportTargets, today: date | None = None) -> Calls:
    """Completion against 100%, overdue, retention and reach, per branch and per caller."""
    found = calls_by_branch(scope, today)
    rows = []
    total = BranchCalls("All branches in view", CallFigures(), CallFigures())
    for branch in _branches(scope):
        kinds = found.get(branch.id, {})
        row = BranchCalls(str(branch), kinds.get(CallListKind.NEW_JOINER, CallFigures()),
                          kinds.get(CallListKind.DOCAS_LEAVER, CallFigures()), branch.id)
        rows.append(row)
        total.joiners = total.joiners + row.joiners
        total.leavers = total.leavers + row.leavers
    return Calls(total, rows, callers(scope), targets.joiner_calls_pct, targets.leaver_calls_pct)


def calls_made_by_branch(scope: Scope) -> dict[int, int]:
    """Calls made (attempts) in the period per branch, on any list (from the activity summary)."""
    a = ActivityDay
    rows = db.session.execute(
        select(a.branch_id, func.sum(a.n)).where(a.kind == "call", a.day >= scope.date_from, a.day <= scope.date_to,
                                                 *_place(scope, a.branch_id, a.employer_id, a.workplace_id))
        .group_by(a.branch_id))
    return {b: int(n or 0) for b, n in rows}


def callers(scope: Scope, limit: int = 50) -> list[CallerRow]:
    """Calls made in the period on new-joiner and DOCAS-leaver lists, per caller."""
    if not (scope.employer_id or scope.workplace_id) and _period_counted(scope):
        c = PeriodCell
        people: dict[int | None, list[int]] = defaultdict(lambda: [0, 0, 0])
        for user_id, kind, n in db.session.execute(
                select(c.user_id, c.kind, c.n).where(c.start_on == scope.date_from, c.end_on == scope.date_to,
                                                     c.kind.in_([f"caller:{f}" for f in CALLER_FIGURES]),
                                                     *_place(scope, c.branch_id))):
            people[user_id][CALLER_FIGURES.index(kind.partition(":")[2])] += int(n or 0)
        names = dict(db.session.execute(select(User.id, User.name).where(
            User.id.in_([u for u in people if u is not None]))).all())
        found = [CallerRow(names.get(u) or "A former user", *figures) for u, figures in people.items()]
        return sorted(found, key=lambda c: (-c.attempts, c.name.lower()))[:limit]
    if not (scope.employer_id or scope.workplace_id):
        u = CallerDay
        rows = db.session.execute(
            select(u.user_id, User.name, func.sum(u.attempts), func.sum(u.reached), func.sum(u.retained))
            .select_from(u).outerjoin(User, User.id == u.user_id)
            .where(u.day >= scope.date_from, u.day <= scope.date_to, *_place(scope, u.branch_id))
            .group_by(u.user_id, User.name))
        found = [CallerRow(name or "A former user", int(n or 0), int(r or 0), int(k or 0)) for _, name, n, r, k in rows]
        return sorted(found, key=lambda c: (-c.attempts, c.name.lower()))[:limit]
    a, e = CallAttempt, CallEntry
    stmt = (select(a.user_id, User.name, func.count(a.id),
                   func.sum(case((a.outcome.in_(REACHED_OUTCOMES | {Outcome.CALL_BACK}), 1), else_=0)),
                   func.sum(case((a.outcome == Outcome.RETAINED, 1), else_=0)))
            .select_from(a).join(e, e.id == a.entry_id).join(CallList, CallList.id == a.list_id)
            .outerjoin(User, User.id == a.user_id)
            .where(CallList.kind.in_(CALL_KINDS), a.at >= _start(scope.date_from),
                   a.at < _start(scope.date_to + timedelta(days=1)))
            .group_by(a.user_id, User.name))
    rows = [CallerRow(name or "A former user", int(n), int(r or 0), int(k or 0))
            for _, name, n, r, k in db.session.execute(_entry_place(scope, stmt))]
    return sorted(rows, key=lambda c: (-c.attempts, c.name.lower()))[:limit]


# ------------------------------------------------------------------ campaign participation


@dataclass
class ParticipationRow:
    label: str
    participants: int
    letters: int
    members: int | None = None
    key: int | None = None

    @property
    def rate_pct(self) -> float | None:
        return pct(self.participants, self.members) if self.members else None


@dataclass
class Participation:
    participants: int
    letters: int
    members: int
    calls: int
    replies: int
    fragmented_participants: int
    fragmented_below: int
    weekly: list[ParticipationRow]
    by_branch: list[ParticipationRow]
    by_service_group: list[ParticipationRow]
    by_employer: list[ParticipationRow]
    by_workplace: list[ParticipationRow]

    @property
    def rate_pct(self) -> float | None:
        return pct(self.participants, self.members)

    @property
    def fragmented_pct(self) -> float | None:
        return pct(self.fragmented_participants, self.participants)


def _participant_where(scope: Scope) -> list:
    p = ParticipantDay
    where = [p.day >= scope.date_from, p.day <= scope.date_to,
             *_place(scope, p.branch_id, p.employer_id, p.workplace_id)]
    if scope.campaign_id:
        where.append(p.campaign_id == scope.campaign_id)
    return where


def activity_totals(scope: Scope) -> dict[str, int]:
    """Calls made and text replies in the period (from the activity summary)."""
    if _period_counted(scope):
        c = PeriodCell
        rows = dict(db.session.execute(
            select(c.kind, func.sum(c.n)).where(c.start_on == scope.date_from, c.end_on == scope.date_to,
                                                c.kind.in_(("call", "reply")),
                                                *_place(scope, c.branch_id, c.employer_id, c.workplace_id))
            .group_by(c.kind)).all())
        return {"calls": int(rows.get("call") or 0), "replies": int(rows.get("reply") or 0)}
    a = ActivityDay
    rows = dict(db.session.execute(
        select(a.kind, func.sum(a.n)).where(a.kind.in_(("call", "reply")), a.day >= scope.date_from,
                                            a.day <= scope.date_to,
                                            *_place(scope, a.branch_id, a.employer_id, a.workplace_id))
        .group_by(a.kind)).all())
    return {"calls": int(rows.get("call") or 0), "replies": int(rows.get("reply") or 0)}


def _has_cells(scope: Scope) -> bool:
    """True when the period was counted whole (programme year to date, a recent quarter)."""
    if "counted_whole" not in scope.cache:
        scope.cache["counted_whole"] = counted_whole(scope.date_from, scope.date_to)
    return scope.cache["counted_whole"]


def _cell_where(scope: Scope) -> list:
    c = ParticipantCell
    return [c.start_on == scope.date_from, c.end_on == scope.date_to, c.campaign_id == (scope.campaign_id or 0),
            *_place(scope, c.branch_id, c.employer_id, c.workplace_id)]


def participants_by_branch(scope: Scope) -> dict[int, tuple[int, int]]:
    """Unique participants and letters per branch in the period."""
    if _has_cells(scope):
        c = ParticipantCell
        rows = db.session.execute(select(c.branch_id, func.sum(c.participants), func.sum(c.letters))
                                  .where(*_cell_where(scope)).group_by(c.branch_id))
    else:
        p = ParticipantDay
        rows = db.session.execute(select(p.branch_id, func.count(distinct(p.contact_id)), func.sum(p.actions))
                                  .where(*_participant_where(scope)).group_by(p.branch_id))
    return {b: (int(n or 0), int(a or 0)) for b, n, a in rows}


def _fragmented_workplaces(scope: Scope, below: int) -> Select:
    m = MemberCell
    # Every member of the workplace counts, whichever branch: a site is fragmented by its own size.
    return (select(m.workplace_id).where(m.workplace_id.is_not(None)).group_by(m.workplace_id)
            .having(func.sum(m.members) < below))


def _weekly(scope: Scope) -> list[tuple]:
    """(week, participants, letters) for the weeks starting in the period (from the week cells, or
    counted from the daily rows when a workplace is chosen)."""
    first = scope.date_from - timedelta(days=scope.date_from.weekday())
    if scope.workplace_id:
        p = ParticipantDay
        where = [p.week >= first, p.week <= scope.date_to, *_place(scope, p.branch_id, p.employer_id, p.workplace_id)]
        if scope.campaign_id:
            where.append(p.campaign_id == scope.campaign_id)
        return db.session.execute(select(p.week, func.count(distinct(p.contact_id)), func.sum(p.actions))
                                  .where(*where).group_by(p.week).order_by(p.week)).all()
    w = WeekCell
    return db.session.execute(
        select(w.week, func.sum(w.participants), func.sum(w.letters))
        .where(w.campaign_id == (scope.campaign_id or 0), w.week >= first, w.week <= scope.date_to,
               *_place(scope, w.branch_id, w.employer_id)).group_by(w.week).order_by(w.week)).all()


def participation(scope: Scope, targets: ReportTargets) -> Participation:
    """Unique participants and actions over time and by place; rate against members; fragmented share."""
    fragmented_sites = _fragmented_workplaces(scope, targets.fragmented_below)
    if _has_cells(scope):
        c = ParticipantCell
        where = _cell_where(scope)
        participants, letters = db.session.execute(
            select(func.sum(c.participants), func.sum(c.letters)).where(*where)).one()
        fragmented = db.session.execute(select(func.sum(c.participants))
                                        .where(*where, c.workplace_id.in_(fragmented_sites))).scalar_one()
        people, acts, place = func.sum(c.participants), func.sum(c.letters), c
    else:
        p = ParticipantDay
        where = _participant_where(scope)
        participants, letters = db.session.execute(
            select(func.count(distinct(p.contact_id)), func.sum(p.actions)).where(*where)).one()
        fragmented = db.session.execute(select(func.count(distinct(p.contact_id)))
                                        .where(*where, p.workplace_id.in_(fragmented_sites))).scalar_one()
        people, acts, place = func.count(distinct(p.contact_id)), func.sum(p.actions), p
    weekly = [ParticipationRow(week.isoformat() if isinstance(week, date) else str(week), int(n or 0), int(a or 0))
              for week, n, a in _weekly(scope)]
    members = members_by_branch(scope)
    by_branch_counts = participants_by_branch(scope)
    groups = {g.id: g.name for g in db.session.execute(select(ServiceGroup)).scalars()}
    by_branch, by_group = [], {}
    for branch in _branches(scope):
        n, a = by_branch_counts.get(branch.id, (0, 0))
        row = ParticipationRow(str(branch), n, a, members.get(branch.id, (0, 0))[0], branch.id)
        by_branch.append(row)
        group = by_group.setdefault(branch.service_group_id, ParticipationRow(
            groups.get(branch.service_group_id, ""), 0, 0, 0, branch.service_group_id))
        group.participants += n  # a contact belongs to one branch, so branch counts add up
        group.letters += a
        group.members += row.members
    by_employer = [ParticipationRow(name, int(n), int(a or 0), key=eid) for eid, name, n, a in db.session.execute(
        select(Employer.id, Employer.name, people, acts).select_from(place)
        .join(Employer, Employer.id == place.employer_id)
        .where(*where).group_by(Employer.id, Employer.name).order_by(people.desc(), Employer.name).limit(TOP))]
    by_workplace = [ParticipationRow(f"{name} ({employer})", int(n), int(a or 0), key=wid)
                    for wid, name, employer, n, a in db.session.execute(
        select(Workplace.id, Workplace.name, Employer.name, people, acts).select_from(place)
        .join(Workplace, Workplace.id == place.workplace_id).join(Employer, Employer.id == Workplace.employer_id)
        .where(*where).group_by(Workplace.id, Workplace.name, Employer.name)
        .order_by(people.desc(), Workplace.name).limit(TOP))]
    totals = activity_totals(scope)
    return Participation(int(participants or 0), int(letters or 0), sum(n for n, _ in members.values()),
                         totals["calls"], totals["replies"], int(fragmented or 0), targets.fragmented_below,
                         weekly, by_branch, sorted(by_group.values(), key=lambda g: g.label), by_employer,
                         by_workplace)


# ------------------------------------------------------------------ data quality


@dataclass
class QualityRow:
    label: str
    members: int
    ballot_ready: int
    key: int | None = None

    @property
    def ballot_ready_pct(self) -> float | None:
        return pct(self.ballot_ready, self.members)


def quality(scope: Scope) -> tuple[list[QualityRow], QualityRow]:
    """Ballot-ready members (employer, workplace and job title present) per branch, and in total."""
    members = members_by_branch(scope)
    rows = [QualityRow(str(b), *members.get(b.id, (0, 0)), key=b.id) for b in _branches(scope)]
    return rows, QualityRow("All branches in view", sum(r.members for r in rows), sum(r.ballot_ready for r in rows))


# ------------------------------------------------------------------ the people behind a figure


FIGURES = {
    "members": "Members",
    "joiners": "Joiners in the period",
    "leavers": "Leavers in the period",
    "participants": "Campaign participants in the period",
    "reps": "Activists holding a role",
    "not_ballot_ready": "Members not ballot-ready",
    "overdue_calls": "Overdue new-joiner and DOCAS-leaver calls",
}


def people_stmt(user: User, scope: Scope, figure: str, role: ActivistRoleKind | None = None) -> Select:
    """The contacts behind one dashboard figure, within the user's branches, in name order."""
    c = Contact
    where = [branch_condition(user, c.branch_id)]
    if figure in ("members", "not_ballot_ready"):
        where += [c.status == ContactStatus.MEMBER, *_place(scope, c.branch_id, c.employer_id, c.workplace_id)]
        if figure == "not_ballot_ready":
            where.append(~and_(c.employer_id.is_not(None), c.workplace_id.is_not(None), c.job_title.is_not(None),
                               c.job_title != ""))
    elif figure in ("joiners", "leavers"):
        when = func.coalesce(ImportRun.finished_at, ImportRun.created_at)
        kind = ChangeKind.JOINER if figure == "joiners" else ChangeKind.LEAVER
        ids = (select(ImportChange.contact_id).join(ImportRun, ImportRun.id == ImportChange.run_id)
               .where(ImportChange.kind == kind, ImportRun.status == ImportStatus.COMPLETED,
                      ImportRun.dry_run.is_(False), when >= _start(scope.date_from),
                      when < _start(scope.date_to + timedelta(days=1)),
                      *_place(scope, ImportChange.branch_id)))
        where += [c.id.in_(ids), *_place(scope, c.branch_id, c.employer_id, c.workplace_id)]
    elif figure == "participants":
        ids = select(Letter.contact_id).where(
            Letter.state.in_(SENT_STATES), Letter.sent_at >= _start(scope.date_from),
            Letter.sent_at < _start(scope.date_to + timedelta(days=1)), *_place(scope, Letter.branch_id),
            *([Letter.campaign_id == scope.campaign_id] if scope.campaign_id else []))
        where += [c.id.in_(ids), *_place(scope, c.branch_id, c.employer_id, c.workplace_id)]
    elif figure == "reps":
        ids = select(ActivistRole.contact_id).where(active_on(scope.end_day, ActivistRole),
                                                    *_place(scope, ActivistRole.branch_id))
        if role:
            ids = ids.where(ActivistRole.role == role)
        where += [c.id.in_(ids), *_place(scope, c.branch_id, c.employer_id, c.workplace_id)]
    elif figure == "overdue_calls":
        e = CallEntry
        ids = (select(e.contact_id).join(CallList, CallList.id == e.list_id)
               .where(CallList.kind.in_(CALL_KINDS), e.status.not_in([EntryStatus.DONE, EntryStatus.GAVE_UP]),
                      e.due_by < date.today(), e.added_at >= _start(scope.date_from),
                      e.added_at < _start(scope.date_to + timedelta(days=1)), *_place(scope, e.branch_id)))
        where += [c.id.in_(ids), *_place(scope, c.branch_id, c.employer_id, c.workplace_id)]
    else:
        raise ValueError(f"unknown figure {figure!r}")
    return select(c).where(*where).order_by(c.last_name, c.first_name, c.id)
