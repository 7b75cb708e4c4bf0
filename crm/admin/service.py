"""Regional admin: service groups, branches, employers, workplaces and user accounts.

Functions take models and plain values, flush, and never commit: the view commits. Every change
records an audit event; details name fields and codes, never member personal data.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from .. import normalise as normal
from ..audit import service as audit
from ..auth import service as accounts
from ..auth.models import User
from ..auth.roles import REGION_WIDE_ROLES, Role
from ..contacts.models import Contact
from ..extensions import db
from ..region.models import Branch, Employer, ServiceGroup, Workplace, branch_employer
from ..vocabulary import SERVICE_GROUPS, ContactStatus, EmployerKind


class AdminError(ValueError):
    """A user-facing reason a change was refused; `field` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# ---------------------------------------------------------------------------------------------
# Normalising what people type

_BRANCH_CODE = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)*$")
BRANCH_CODE_MAX = 20


def normalise_postcode(value: str) -> str:
    """A UK postcode in its canonical form ("sw1a1aa" → "SW1A 1AA"); ValueError if it is not one."""
    try:
        canonical = normal.normalise_postcode(value)
    except normal.FieldError:
        raise ValueError("Enter a real UK postcode, like L3 8EN.") from None
    if canonical is None:
        raise ValueError("Enter a postcode.")
    return canonical


def normalise_branch_code(value: str) -> str:
    """A branch code upper-cased and checked (letters, digits and single hyphens); ValueError if not."""
    code = (value or "").strip().upper()
    if not code:
        raise ValueError("Enter a branch code.")
    if len(code) > BRANCH_CODE_MAX:
        raise ValueError(f"Use {BRANCH_CODE_MAX} characters or fewer for the branch code.")
    if not _BRANCH_CODE.match(code):
        raise ValueError("Use only letters, numbers and hyphens in the branch code, like NW-0123.")
    return code


def normalise_email_address(value: str) -> str:
    """An email address checked for format only (no DNS look-up); ValueError if it is not one."""
    try:
        email = normal.normalise_email(value)
    except normal.FieldError:
        email = None
    if not email:
        raise ValueError("Enter an email address in the right format, like name@example.org.")
    return email


def _clean_name(value: str, what: str) -> str:
    name = " ".join((value or "").split())
    if not name:
        raise AdminError(f"Enter a name for the {what}.", field="name")
    return name


# ---------------------------------------------------------------------------------------------
# What still uses a row (so deletes never orphan or cascade away real data)

# How rows of each table are named in "cannot be deleted" messages; other tables get a generic name.
_NOUNS = {
    "contact": ("contact", "contacts"),
    "user_branch": ("user", "users"),
    "activist_role": ("activist role", "activist roles"),
    "branch": ("branch", "branches"),
    "workplace": ("workplace", "workplaces"),
}


def _count_phrase(table: str, n: int) -> str:
    one, many = _NOUNS.get(table, (f"{table.replace('_', ' ')} record", f"{table.replace('_', ' ')} records"))
    return f"{n:,} {one if n == 1 else many}"


def _join(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _dependents(targets: dict[str, Sequence[int]], include: Iterable[str] = ()) -> dict[str, int]:
    """Rows in every table that point at the target rows and would stop a delete or be lost with it.

    Foreign keys declared ON DELETE CASCADE / SET NULL are link rows that go quietly with the
    target, unless their table is in `include`. Walking the metadata means tables added by other
    areas later (call lists, campaigns …) are protected too.
    """
    include = set(include)
    counts: dict[str, int] = {}
    for table in db.metadata.sorted_tables:
        conditions = []
        for fk in table.foreign_keys:
            target = fk.column.table.name
            ids = targets.get(target)
            if not ids or table.name in targets:
                continue
            if (fk.ondelete or "").upper() in {"CASCADE", "SET NULL"} and table.name not in include:
                continue
            conditions.append(fk.parent.in_(list(ids)))
        if conditions:
            n = db.session.execute(
                select(func.count()).select_from(table).where(or_(*conditions))
            ).scalar_one()
            if n:
                counts[table.name] = n
    return counts


def _blocker(label: str, counts: dict[str, int], advice: str) -> str | None:
    if not counts:
        return None
    return f"{label} cannot be deleted while it still has {_join([_count_phrase(t, n) for t, n in counts.items()])}. {advice}"


# ---------------------------------------------------------------------------------------------
# Overview


def admin_counts() -> dict[str, int]:
    """How many of each region object (and users) there are, for the admin index."""
    def count(model) -> int:
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()

    return {
        "service_groups": count(ServiceGroup),
        "branches": count(Branch),
        "employers": count(Employer),
        "workplaces": count(Workplace),
        "users": count(User),
    }


# ---------------------------------------------------------------------------------------------
# Service groups


def service_groups() -> list[ServiceGroup]:
    """Every service group in name order."""
    return list(db.session.execute(select(ServiceGroup).order_by(ServiceGroup.name)).scalars())


def service_groups_with_branch_counts() -> list[tuple[ServiceGroup, int]]:
    """Every service group in name order with how many branches belong to it."""
    counts = dict(db.session.execute(
        select(Branch.service_group_id, func.count()).group_by(Branch.service_group_id)
    ).all())
    return [(group, counts.get(group.id, 0)) for group in service_groups()]


def _service_group_named(name: str) -> ServiceGroup | None:
    return db.session.execute(
        select(ServiceGroup).where(func.lower(ServiceGroup.name) == name.lower())
    ).scalars().first()


def create_service_group(name: str, by: User) -> ServiceGroup:
    """Add a service group; the name must not already be used (ignoring case)."""
    name = _clean_name(name, "service group")
    if _service_group_named(name) is not None:
        raise AdminError(f"There is already a service group called {name}.", field="name")
    group = ServiceGroup(name=name)
    db.session.add(group)
    db.session.flush()
    audit.record("service_group.create", user=by, obj=group, detail=f"name={name}")
    return group


def rename_service_group(group: ServiceGroup, name: str, by: User) -> ServiceGroup:
    """Rename a service group; the new name must not be another group's."""
    name = _clean_name(name, "service group")
    other = _service_group_named(name)
    if other is not None and other.id != group.id:
        raise AdminError(f"There is already a service group called {other.name}.", field="name")
    old = group.name
    if name != old:
        group.name = name
        db.session.flush()
        audit.record("service_group.rename", user=by, obj=group, detail=f"name={old} → {name}")
    return group


def missing_standard_service_groups() -> list[str]:
    """The standard service groups (crm.vocabulary.SERVICE_GROUPS) the region does not have yet."""
    have = {g.name.lower() for g in service_groups()}
    return [name for name in SERVICE_GROUPS if name.lower() not in have]


def add_standard_service_groups(by: User) -> list[ServiceGroup]:
    """Add whichever standard service groups are missing; returns the ones added."""
    added = []
    for name in missing_standard_service_groups():
        group = ServiceGroup(name=name)
        db.session.add(group)
        db.session.flush()
        audit.record("service_group.create", user=by, obj=group, detail=f"name={name} (standard)")
        added.append(group)
    return added


def service_group_delete_blocker(group: ServiceGroup) -> str | None:
    """Why this service group cannot be deleted yet, or None when nothing uses it."""
    return _blocker(f"The service group {group.name}", _dependents({"service_group": [group.id]}),
                    "Move its branches to another service group first.")


def delete_service_group(group: ServiceGroup, by: User) -> None:
    """Delete a service group that no branch belongs to."""
    blocker = service_group_delete_blocker(group)
    if blocker:
        raise AdminError(blocker)
    audit.record("service_group.delete", user=by, obj=group, detail=f"name={group.name}")
    db.session.delete(group)
    db.session.flush()


# ---------------------------------------------------------------------------------------------
# Branches


def branches_query(service_group_id: int | None = None) -> Select:
    """Branches in code order, optionally only one service group's."""
    stmt = select(Branch).options(selectinload(Branch.service_group)).order_by(Branch.code)
    if service_group_id:
        stmt = stmt.where(Branch.service_group_id == service_group_id)
    return stmt


def all_branches() -> list[Branch]:
    """Every branch in code order (for choosing branches on a form)."""
    return list(db.session.execute(select(Branch).order_by(Branch.code)).scalars())


def branch_counts(branch_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """For each branch id: members (contacts with member status) and employers covered."""
    result = {i: {"members": 0, "employers": 0} for i in branch_ids}
    if not branch_ids:
        return result
    members = db.session.execute(
        select(Contact.branch_id, func.count())
        .where(Contact.branch_id.in_(branch_ids), Contact.status == ContactStatus.MEMBER)
        .group_by(Contact.branch_id)
    )
    for branch_id, n in members:
        result[branch_id]["members"] = n
    employers = db.session.execute(
        select(branch_employer.c.branch_id, func.count())
        .where(branch_employer.c.branch_id.in_(branch_ids))
        .group_by(branch_employer.c.branch_id)
    )
    for branch_id, n in employers:
        result[branch_id]["employers"] = n
    return result


def _check_branch_code(code: str, branch: Branch | None) -> str:
    try:
        code = normalise_branch_code(code)
    except ValueError as exc:
        raise AdminError(str(exc), field="code") from None
    other = db.session.execute(
        select(Branch).where(func.upper(Branch.code) == code)
    ).scalars().first()
    if other is not None and (branch is None or other.id != branch.id):
        raise AdminError(
            f"The branch code {code} is already used by {other.name}. Each branch needs its own code.",
            field="code",
        )
    return code


def create_branch(code: str, name: str, service_group: ServiceGroup, employers: Sequence[Employer],
                  by: User) -> Branch:
    """Add a branch; its code is upper-cased and must be unique."""
    code = _check_branch_code(code, None)
    name = _clean_name(name, "branch")
    branch = Branch(code=code, name=name, service_group=service_group, employers=list(employers))
    db.session.add(branch)
    db.session.flush()
    audit.record("branch.create", user=by, obj=branch,
                 detail=f"code={code} service_group={service_group.id} employers={sorted(e.id for e in employers)}")
    return branch


def update_branch(branch: Branch, *, code: str, name: str, service_group: ServiceGroup,
                  employers: Sequence[Employer], by: User) -> Branch:
    """Change a branch's code, name, service group and the employers it covers."""
    code = _check_branch_code(code, branch)
    name = _clean_name(name, "branch")
    changed = []
    if code != branch.code:
        changed.append(f"code={branch.code} → {code}")
    if name != branch.name:
        changed.append("name")
    if service_group.id != branch.service_group_id:
        changed.append(f"service_group={branch.service_group_id} → {service_group.id}")
    if {e.id for e in employers} != {e.id for e in branch.employers}:
        changed.append(f"employers={sorted(e.id for e in employers)}")
    branch.code, branch.name, branch.service_group = code, name, service_group
    branch.employers = list(employers)
    db.session.flush()
    if changed:
        audit.record("branch.update", user=by, obj=branch, detail="; ".join(changed))
    return branch


def branch_delete_blocker(branch: Branch) -> str | None:
    """Why this branch cannot be deleted yet (contacts, users …), or None when nothing uses it."""
    counts = _dependents({"branch": [branch.id]}, include={"user_branch"})
    return _blocker(f"Branch {branch.code}", counts, "Move them to another branch first.")


def delete_branch(branch: Branch, by: User) -> None:
    """Delete a branch that has no contacts, users or other records."""
    blocker = branch_delete_blocker(branch)
    if blocker:
        raise AdminError(blocker)
    audit.record("branch.delete", user=by, obj=branch, detail=f"code={branch.code}")
    db.session.delete(branch)
    db.session.flush()


# ---------------------------------------------------------------------------------------------
# Employers


def employers_query(q: str = "") -> Select:
    """Employers in name order whose name contains the search text."""
    stmt = select(Employer).order_by(Employer.name)
    q = " ".join((q or "").split())
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Employer.name.ilike(f"%{escaped}%", escape="\\"))
    return stmt


def all_employers() -> list[Employer]:
    """Every employer in name order (for choosing employers on a form)."""
    return list(db.session.execute(select(Employer).order_by(Employer.name)).scalars())


def workplace_counts(employer_ids: Sequence[int]) -> dict[int, int]:
    """How many workplaces each employer has."""
    if not employer_ids:
        return {}
    rows = db.session.execute(
        select(Workplace.employer_id, func.count())
        .where(Workplace.employer_id.in_(employer_ids))
        .group_by(Workplace.employer_id)
    )
    return {i: 0 for i in employer_ids} | {employer_id: n for employer_id, n in rows}


def _check_employer_name(name: str, employer: Employer | None) -> str:
    name = _clean_name(name, "employer")
    other = db.session.execute(
        select(Employer).where(func.lower(Employer.name) == name.lower())
    ).scalars().first()
    if other is not None and (employer is None or other.id != employer.id):
        raise AdminError(f"There is already an employer called {other.name}.", field="name")
    return name


def _check_chief_executive(name: str | None, email: str | None) -> tuple[str | None, str | None]:
    name = " ".join((name or "").split()) or None
    email = (email or "").strip() or None
    if email:
        try:
            email = normalise_email_address(email)
        except ValueError as exc:
            raise AdminError(str(exc), field="chief_executive_email") from None
    return name, email


def create_employer(name: str, kind: EmployerKind, chief_executive_name: str | None,
                    chief_executive_email: str | None, branches: Sequence[Branch], by: User) -> Employer:
    """Add an employer; its name must be unique (ignoring case)."""
    name = _check_employer_name(name, None)
    ce_name, ce_email = _check_chief_executive(chief_executive_name, chief_executive_email)
    employer = Employer(name=name, kind=kind, chief_executive_name=ce_name,
                        chief_executive_email=ce_email, branches=list(branches))
    db.session.add(employer)
    db.session.flush()
    audit.record("employer.create", user=by, obj=employer,
                 detail=f"kind={kind.value} branches={sorted(b.id for b in branches)}")
    return employer


def update_employer(employer: Employer, *, name: str, kind: EmployerKind, chief_executive_name: str | None,
                    chief_executive_email: str | None, branches: Sequence[Branch], by: User) -> Employer:
    """Change an employer's details, chief executive (the campaign letter target) and branches."""
    name = _check_employer_name(name, employer)
    ce_name, ce_email = _check_chief_executive(chief_executive_name, chief_executive_email)
    changed = [
        label for label, old, new in [
            ("name", employer.name, name),
            ("kind", employer.kind, kind),
            ("chief_executive_name", employer.chief_executive_name, ce_name),
            ("chief_executive_email", employer.chief_executive_email, ce_email),
        ] if old != new
    ]
    if {b.id for b in branches} != {b.id for b in employer.branches}:
        changed.append(f"branches={sorted(b.id for b in branches)}")
    employer.name, employer.kind = name, kind
    employer.chief_executive_name, employer.chief_executive_email = ce_name, ce_email
    employer.branches = list(branches)
    db.session.flush()
    if changed:
        audit.record("employer.update", user=by, obj=employer, detail="changed: " + ", ".join(changed))
    return employer


def employer_delete_blocker(employer: Employer) -> str | None:
    """Why this employer cannot be deleted yet (contacts at it or its workplaces), or None."""
    workplace_ids = [w.id for w in employer.workplaces]
    counts = _dependents({"employer": [employer.id], "workplace": workplace_ids})
    return _blocker(employer.name, counts, "Move them to another employer first.")


def delete_employer(employer: Employer, by: User) -> None:
    """Delete an employer nobody is recorded at, with its workplaces and branch links."""
    blocker = employer_delete_blocker(employer)
    if blocker:
        raise AdminError(blocker)
    audit.record("employer.delete", user=by, obj=employer,
                 detail=f"name={employer.name} workplaces={len(employer.workplaces)}")
    db.session.delete(employer)
    db.session.flush()


# ---------------------------------------------------------------------------------------------
# Workplaces


def _check_workplace(employer: Employer, name: str, postcode: str | None, headcount: int | None,
                     workplace: Workplace | None) -> tuple[str, str | None]:
    name = _clean_name(name, "workplace")
    other = db.session.execute(
        select(Workplace).where(Workplace.employer_id == employer.id, func.lower(Workplace.name) == name.lower())
    ).scalars().first()
    if other is not None and (workplace is None or other.id != workplace.id):
        raise AdminError(f"{employer.name} already has a workplace called {other.name}.", field="name")
    if postcode and postcode.strip():
        try:
            postcode = normalise_postcode(postcode)
        except ValueError as exc:
            raise AdminError(str(exc), field="postcode") from None
    else:
        postcode = None
    if headcount is not None and headcount < 1:
        raise AdminError("Enter a headcount of 1 or more, or leave it blank.", field="headcount")
    return name, postcode


def create_workplace(employer: Employer, name: str, postcode: str | None, headcount: int | None,
                     notes: str | None, by: User) -> Workplace:
    """Add a workplace (site) to an employer; its name must be unique within the employer."""
    name, postcode = _check_workplace(employer, name, postcode, headcount, None)
    workplace = Workplace(employer=employer, name=name, postcode=postcode, headcount=headcount,
                          notes=(notes or "").strip() or None)
    db.session.add(workplace)
    db.session.flush()
    audit.record("workplace.create", user=by, obj=workplace, detail=f"employer={employer.id}")
    return workplace


def update_workplace(workplace: Workplace, *, name: str, postcode: str | None, headcount: int | None,
                     notes: str | None, by: User) -> Workplace:
    """Change a workplace's name, postcode, headcount and notes."""
    name, postcode = _check_workplace(workplace.employer, name, postcode, headcount, workplace)
    notes = (notes or "").strip() or None
    changed = [
        label for label, old, new in [
            ("name", workplace.name, name),
            ("postcode", workplace.postcode, postcode),
            ("headcount", workplace.headcount, headcount),
            ("notes", workplace.notes, notes),
        ] if old != new
    ]
    workplace.name, workplace.postcode, workplace.headcount, workplace.notes = name, postcode, headcount, notes
    db.session.flush()
    if changed:
        audit.record("workplace.update", user=by, obj=workplace, detail="changed: " + ", ".join(changed))
    return workplace


def workplace_delete_blocker(workplace: Workplace) -> str | None:
    """Why this workplace cannot be deleted yet (contacts recorded there), or None."""
    return _blocker(workplace.name, _dependents({"workplace": [workplace.id]}),
                    "Move them to another workplace first.")


def delete_workplace(workplace: Workplace, by: User) -> None:
    """Delete a workplace nobody is recorded at."""
    blocker = workplace_delete_blocker(workplace)
    if blocker:
        raise AdminError(blocker)
    audit.record("workplace.delete", user=by, obj=workplace,
                 detail=f"employer={workplace.employer_id} name={workplace.name}")
    workplace.employer.workplaces.remove(workplace)
    db.session.delete(workplace)
    db.session.flush()


# ---------------------------------------------------------------------------------------------
# Users


def users_query(role: Role | None = None) -> Select:
    """User accounts in name order, optionally one role's."""
    stmt = select(User).options(selectinload(User.branches)).order_by(func.lower(User.name), User.id)
    if role is not None:
        stmt = stmt.where(User.role == role)
    return stmt


def branch_problem(role: Role, has_branches: bool) -> str | None:
    """Why a user of this role cannot be saved with (or without) branches, or None."""
    if role not in REGION_WIDE_ROLES and not has_branches:
        return f"Choose at least one branch. A {role.label.lower()} sees only the branches they are given."
    return None


def _branches_for_role(role: Role, branches: Sequence[Branch]) -> list[Branch]:
    problem = branch_problem(role, bool(branches))
    if problem:
        raise AdminError(problem, field="branches")
    # Region-wide roles see every branch; a list kept for them would only mislead.
    return [] if role in REGION_WIDE_ROLES else list(branches)


def create_user(*, name: str, email: str, role: Role, password: str, branches: Sequence[Branch],
                by: User) -> User:
    """Create an account; branch officers and callers need at least one branch."""
    branches = _branches_for_role(role, branches)
    try:
        return accounts.create_user(email, name, role, password, branches=branches, by=by)
    except accounts.AccountError as exc:
        raise AdminError(str(exc), field=exc.field) from None


def update_user(user: User, *, name: str, email: str, role: Role, branches: Sequence[Branch],
                is_enabled: bool, by: User) -> User:
    """Change an account's details, role, branches and whether it can sign in."""
    branches = _branches_for_role(role, branches)
    try:
        return accounts.update_user(user, name=name, email=email, role=role, branches=branches,
                                    is_enabled=is_enabled, by=by)
    except accounts.AccountError as exc:
        raise AdminError(str(exc), field=exc.field) from None


def set_user_password(user: User, password: str, by: User) -> None:
    """Give an account a new password; signs that user out everywhere."""
    try:
        accounts.set_password(user, password, by=by)
    except accounts.AccountError as exc:
        raise AdminError(str(exc), field="password") from None
