"""The activists panel: role holders now against the baseline date, reps per 100 members by workplace,
and the diversity of reps compared with members (self-identified data only, small numbers suppressed).

Read from the activist cells a refresh writes for the days the dashboard asks about (crm/reports/summaries.py),
or from the role-holder snapshot for other days and for an employer or workplace.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import distinct, func, select

from ..contacts.models import ContactSelfOrganisedGroup
from ..extensions import db
from ..region.models import Employer, Workplace
from ..vocabulary import ActivistRoleKind, EmployerKind, SelfOrganisedGroup
from .models import ActivistCell, GroupCell, MemberCell, ReportTargets, RoleHolder
from .service import Scope, _place, pct, shown
from .summaries import active_on, counted_activist_day

TARGETED_ROLES = (ActivistRoleKind.STEWARD, ActivistRoleKind.HEALTH_AND_SAFETY, ActivistRoleKind.LEARNING)


def _from_cells(scope: Scope, day: date) -> bool:
    """True when the activist cells can answer for this day and place (they hold branches, not employers
    or workplaces, and only the days a refresh counted)."""
    if scope.employer_id or scope.workplace_id:
        return False
    key = ("activist_day", day)
    if key not in scope.cache:
        scope.cache[key] = counted_activist_day(day)
    return scope.cache[key]


def _cells(scope: Scope, day: date, kind: str) -> list:
    a = ActivistCell
    return [a.day == day, a.kind == kind, *_place(scope, a.branch_id)]


def role_counts(scope: Scope, day: date, employer_kind: EmployerKind | None = None
                ) -> dict[tuple[int, ActivistRoleKind], int]:
    """People holding each role on a day, per branch (a person counts once per role in each branch)."""
    if _from_cells(scope, day):
        a = ActivistCell
        stmt = select(a.branch_id, a.key, func.sum(a.n)).where(*_cells(scope, day, "role")).group_by(a.branch_id, a.key)
        if employer_kind:
            stmt = stmt.where(a.employer_kind == employer_kind.value)
    else:
        r = RoleHolder
        stmt = (select(r.branch_id, r.role, func.count(distinct(r.contact_id)))
                .where(active_on(day, r), *_place(scope, r.branch_id, r.employer_id, r.workplace_id))
                .group_by(r.branch_id, r.role))
        if employer_kind:
            stmt = stmt.where(r.employer_kind == employer_kind.value)
    return {(b, ActivistRoleKind(role)): int(n) for b, role, n in db.session.execute(stmt)}


def _sum_rows(rows) -> dict:
    """{key: total} from (key, count) rows, adding up the rows of each key (one per branch)."""
    out: dict = defaultdict(int)
    for key, n in rows:
        out[key] += int(n or 0)
    return dict(out)


def _reps_by(scope: Scope, day: date, by: str) -> dict:
    """Members holding any role on the day, per workplace (`by="workplace"`) or self-identified group
    (`by="group"`); a person counts once in each branch they hold a role in."""
    key = ("reps_by", day, by)
    if key not in scope.cache:
        scope.cache[key] = _count_reps_by(scope, day, by)
    return scope.cache[key]


def _count_reps_by(scope: Scope, day: date, by: str) -> dict:
    """As _reps_by, uncached; groups are keyed by their stored value, as in the cells."""
    if _from_cells(scope, day):
        a = ActivistCell
        column = a.workplace_id if by == "workplace" else a.key
        return _sum_rows(db.session.execute(select(column, a.n).where(*_cells(scope, day, "rep" if by == "workplace"
                                                                               else "group"))))
    r = RoleHolder
    where = [active_on(day, r), r.is_member.is_(True), *_place(scope, r.branch_id, r.employer_id, r.workplace_id)]
    if by == "workplace":
        return _sum_rows(db.session.execute(
            select(r.workplace_id, func.count(distinct(r.contact_id))).where(*where)
            .group_by(r.branch_id, r.workplace_id)))
    s = ContactSelfOrganisedGroup
    # From the role holders (a few percent of members) into contact_sog's primary key.
    return _sum_rows((group.value, n) for group, n in db.session.execute(
        select(s.group, func.count(distinct(r.contact_id))).select_from(r).join(s, s.contact_id == r.contact_id)
        .where(*where).group_by(s.group, r.branch_id)))


@dataclass
class RoleChange:
    label: str
    baseline: int
    now: int
    target_pct: float | None = None
    role: ActivistRoleKind | None = None

    @property
    def change(self) -> int:
        return self.now - self.baseline

    @property
    def change_pct(self) -> float | None:
        return pct(self.change, self.baseline)

    @property
    def on_target(self) -> bool | None:
        if self.target_pct is None:
            return None
        if self.baseline == 0:
            return self.now > 0
        return self.change_pct >= self.target_pct


@dataclass
class RepsAtWorkplace:
    workplace_id: int
    workplace: str
    employer: str
    members: int
    reps: int

    @property
    def per_100(self) -> float | None:
        return round(100 * self.reps / self.members, 1) if self.members else None


@dataclass
class DiversityRow:
    label: str
    members: int
    reps: int
    members_total: int
    reps_total: int

    @property
    def members_shown(self) -> int | None:
        return shown(self.members)

    @property
    def reps_shown(self) -> int | None:
        return shown(self.reps)

    @property
    def members_pct(self) -> float | None:
        return pct(self.members, self.members_total) if self.members_shown is not None else None

    @property
    def reps_pct(self) -> float | None:
        return pct(self.reps, self.reps_total) if self.reps_shown is not None else None


@dataclass
class Activists:
    baseline_on: date
    now_on: date
    by_role: list[RoleChange]
    schools: RoleChange
    reps_by_workplace: list[RepsAtWorkplace]
    diversity: list[DiversityRow]
    members_total: int
    reps_total: int

    @property
    def reps_total_shown(self) -> int | None:
        return shown(self.reps_total)


def _sum_by_role(counts: dict[tuple[int, ActivistRoleKind], int]) -> dict[ActivistRoleKind, int]:
    return _sum_rows((role, n) for (_, role), n in counts.items())


def activists(scope: Scope, targets: ReportTargets) -> Activists:
    """Role holders now against the baseline date, reps per 100 members by workplace, and diversity."""
    baseline, now = targets.baseline_on, scope.end_day
    before, after = _sum_by_role(role_counts(scope, baseline)), _sum_by_role(role_counts(scope, now))
    by_role = [RoleChange(kind.label, before.get(kind, 0), after.get(kind, 0),
                          targets.activist_growth_pct if kind in TARGETED_ROLES else None, kind)
               for kind in ActivistRoleKind]
    schools = RoleChange("All activist roles in schools",
                         sum(role_counts(scope, baseline, EmployerKind.SCHOOL).values()),
                         sum(role_counts(scope, now, EmployerKind.SCHOOL).values()),
                         targets.schools_activist_growth_pct)
    diversity, members_total, reps_total = diversity_rows(scope, now)
    return Activists(baseline, now, by_role, schools, reps_by_workplace(scope, now), diversity, members_total,
                     reps_total)


def reps_by_workplace(scope: Scope, day: date, limit: int = 15) -> list[RepsAtWorkplace]:
    """Workplaces with the fewest reps per 100 members (where the gaps are), biggest first on ties."""
    m = MemberCell
    members = {w: int(n) for w, n in db.session.execute(
        select(m.workplace_id, func.sum(m.members))
        .where(m.workplace_id.is_not(None), *_place(scope, m.branch_id, m.employer_id, m.workplace_id))
        .group_by(m.workplace_id)) if n}
    reps = _reps_by(scope, day, "workplace")
    # A few thousand workplaces at most: ranked here rather than by a join of two grouped subqueries.
    names = {}
    ranked = sorted(members, key=lambda w: (reps.get(w, 0) / members[w], -members[w], w))[:limit * 2]
    if ranked:
        names = {w: (name, employer) for w, name, employer in db.session.execute(
            select(Workplace.id, Workplace.name, Employer.name).join(Employer, Employer.id == Workplace.employer_id)
            .where(Workplace.id.in_(ranked)))}
    rows = [RepsAtWorkplace(w, *names[w], members[w], int(reps.get(w, 0))) for w in ranked if w in names]
    rows.sort(key=lambda row: (row.reps / row.members, -row.members, row.workplace))
    return rows[:limit]


def diversity_rows(scope: Scope, day: date) -> tuple[list[DiversityRow], int, int]:
    """Self-identified groups among members and among reps (counts under 5 are suppressed when shown).

    Members come from the member snapshots, reps (members holding any role on the day) from the
    activist cells or the role-holder snapshot."""
    m, g = MemberCell, GroupCell
    members_total = db.session.execute(select(func.sum(m.members)).where(
        *_place(scope, m.branch_id, m.employer_id, m.workplace_id))).scalar_one()
    members = dict(db.session.execute(select(g.group, func.sum(g.members)).where(
        *_place(scope, g.branch_id, g.employer_id, g.workplace_id)).group_by(g.group)).all())
    reps_total = sum(_reps_by(scope, day, "workplace").values())
    rep_groups = _reps_by(scope, day, "group")
    out = [DiversityRow(grp.label, int(members.get(grp.value, 0) or 0), int(rep_groups.get(grp.value, 0) or 0),
                        int(members_total or 0), int(reps_total or 0)) for grp in SelfOrganisedGroup]
    return out, int(members_total or 0), int(reps_total or 0)
