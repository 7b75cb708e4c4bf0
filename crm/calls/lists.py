"""Managing call lists: create and change them, choose their callers, fill them from a contacts search.

Operations take models and plain values and flush; the views in crm/calls/manage.py commit.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func, select

from ..audit import service as audit
from ..auth.models import User, user_branch
from ..auth.roles import Role
from ..contacts import service as contacts
from ..contacts.models import Contact, Tag
from ..extensions import db
from ..region.models import Branch, Employer, Workplace
from ..scoping import covers_branch, visible_branches_stmt
from . import scripts, service
from .models import CallEntry, CallList, CallListKind, DoneRule

CALLER_ROLES = (Role.CALLER, Role.BRANCH_OFFICER)
KIND_DEFAULTS = {
    CallListKind.NEW_JOINER: (scripts.NEW_JOINER_SCRIPT, scripts.NEW_JOINER_QUESTIONS, 7),
    CallListKind.DOCAS_LEAVER: (scripts.DOCAS_LEAVER_SCRIPT, scripts.DOCAS_LEAVER_QUESTIONS, 14),
}


class ListError(ValueError):
    """A change refused for a reason the user can fix; `errors` maps form field names to messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


# ---------------------------------------------------------------------------------------------
# Operations


@dataclass
class ListSettings:
    name: str
    kind: CallListKind
    branch_ids: list[int]
    script: str
    questions: list[dict]
    cooldown_hours: int
    max_attempts: int
    due_days: int | None
    done_rule: DoneRule
    auto_fill: bool
    is_active: bool


_SETTING_FIELDS = ("name", "kind", "script", "questions", "cooldown_hours", "max_attempts", "due_days",
                   "done_rule", "auto_fill", "is_active")


def branch_choices(user: User) -> list[Branch]:
    """The branches the user may put a list in: their own (every branch for region-wide roles)."""
    return list(db.session.execute(visible_branches_stmt(user)).scalars())


def _chosen_branches(user: User, branch_ids: list[int]) -> list[Branch]:
    ids = [i for i in dict.fromkeys(branch_ids) if covers_branch(user, i)]
    if not ids:
        raise ListError({"branches": "Choose at least one branch."})
    return list(db.session.execute(select(Branch).where(Branch.id.in_(ids)).order_by(Branch.code)).scalars())


def create_list(settings: ListSettings, *, by: User) -> CallList:
    """A new call list in some of the user's branches; audited. Flushes."""
    branches = _chosen_branches(by, settings.branch_ids)
    call_list = CallList(branches=branches, created_by_id=by.id,
                         **{name: getattr(settings, name) for name in _SETTING_FIELDS})
    db.session.add(call_list)
    db.session.flush()
    audit.record("call_list.create", user=by, obj=call_list,
                 detail=f"kind={call_list.kind.value} branches={','.join(b.code for b in branches)}")
    return call_list


def update_list(call_list: CallList, settings: ListSettings, *, by: User) -> list[str]:
    """Change a list's settings and its branches among the user's (others' branches are kept); audited.

    A branch that still has members on the list cannot be taken off it. Returns the changed fields. Flushes.
    """
    mine = _chosen_branches(by, settings.branch_ids)
    kept = [b for b in call_list.branches if not covers_branch(by, b.id)]
    new_branches = sorted({b.id: b for b in kept + mine}.values(), key=lambda b: b.code)
    removed = {b.id for b in call_list.branches} - {b.id for b in new_branches}
    if removed:
        busy = db.session.execute(
            select(Branch.code).where(Branch.id.in_(removed), exists().where(
                CallEntry.list_id == call_list.id, CallEntry.branch_id == Branch.id)).order_by(Branch.code)
        ).scalars().all()
        if busy:
            raise ListError({"branches": f"{', '.join(busy)} still {'has' if len(busy) == 1 else 'have'} members "
                                        "on this list, so it can’t be taken off. Make a new list instead."})
    changed = [name for name in _SETTING_FIELDS if _same(getattr(call_list, name)) != _same(getattr(settings, name))]
    for name in changed:
        setattr(call_list, name, getattr(settings, name))
    if {b.id for b in new_branches} != {b.id for b in call_list.branches}:
        call_list.branches = new_branches
        changed.append("branches")
    if changed:
        db.session.flush()
        audit.record("call_list.update", user=by, obj=call_list, detail="fields=" + ",".join(changed))
    return changed


def _same(value):
    return value.strip() if isinstance(value, str) else value


def caller_candidates(call_list: CallList, user: User) -> list[User]:
    """Enabled branch callers and branch officers of the list's branches that the user also covers."""
    branch_ids = [b.id for b in call_list.branches if covers_branch(user, b.id)]
    if not branch_ids:
        return []
    return list(db.session.execute(
        select(User).where(User.role.in_(CALLER_ROLES), User.is_enabled.is_(True), exists().where(
            user_branch.c.user_id == User.id, user_branch.c.branch_id.in_(branch_ids)))
        .order_by(User.name, User.id)).scalars())


def set_callers(call_list: CallList, chosen_ids: list[int], *, by: User) -> tuple[list[int], list[int]]:
    """Assign exactly the chosen callers among those the user may assign; others' assignments are kept.

    Returns (added ids, removed ids); audited when anything changed. Flushes.
    """
    candidates = {u.id: u for u in caller_candidates(call_list, by)}
    chosen = {i for i in chosen_ids if i in candidates}
    current = {u.id for u in call_list.callers}
    added = sorted(chosen - current)
    removed = sorted((current & candidates.keys()) - chosen)
    if added or removed:
        call_list.callers = [u for u in call_list.callers if u.id not in removed] + [candidates[i] for i in added]
        db.session.flush()
        audit.record("call_list.callers", user=by, obj=call_list,
                     detail=f"added={','.join(map(str, added)) or '-'} removed={','.join(map(str, removed)) or '-'}")
    return added, removed


@dataclass
class AddPreview:
    matching: int     # contacts the search matches (in the user's branches)
    in_branches: int  # of those, in the list's branches
    already: int      # of those, already on the list

    @property
    def will_add(self) -> int:
        return self.in_branches - self.already


def _in_list_branches(call_list: CallList, user: User, flt: contacts.ContactFilter):
    branch_ids = [b.id for b in call_list.branches]
    return select(Contact.id).where(Contact.id.in_(contacts.matching_ids(user, flt)), Contact.branch_id.in_(branch_ids))


def preview_add(call_list: CallList, user: User, flt: contacts.ContactFilter) -> AddPreview:
    """How many contacts a saved search would add to the list (three counts)."""
    wanted = _in_list_branches(call_list, user, flt)
    in_branches = db.session.execute(select(func.count()).select_from(wanted.subquery())).scalar_one()
    already = db.session.execute(select(func.count(CallEntry.id)).where(
        CallEntry.list_id == call_list.id, CallEntry.contact_id.in_(wanted))).scalar_one()
    return AddPreview(contacts.count_matching(user, flt), in_branches, already)


def add_from_filter(call_list: CallList, user: User, flt: contacts.ContactFilter) -> int:
    """Put the contacts matching a saved contacts search (and in the list's branches) on the list, each once.

    Refused for a search by self-organised group: the list would show who is in the group. Audited with
    the count and the filter's fields (never the search text). Returns how many were added. Flushes.
    """
    if flt.uses_sog:
        raise ListError({"f": SOG_REFUSAL})
    added = service.add_contacts(call_list, _in_list_branches(call_list, user, flt), source_label="contact filter")
    audit.record("call_list.add_contacts", user=user, obj=call_list,
                 detail=f"added={added} filter={flt.audit_summary()}")
    return added


SOG_REFUSAL = ("A search filtered by self-organised group can’t fill a call list: the list would show who is in "
               "the group, which is special-category data. Choose another search.")


_FILTER_TITLES = {"status": "Status", "payment_method": "Payment", "role": "Activist role",
                  "sog": "Self-organised group", "missing": "Missing"}


def describe_filter(flt: contacts.ContactFilter) -> str:
    """A contacts search in words, like ‘Status: Member · Branch: NW01’ (for the user who made it)."""
    labels = []
    for name, value in flt.used().items():
        if name == "q":
            labels.append(f"Search: ‘{value}’")
        elif name == "branch_id":
            branch = db.session.get(Branch, value)
            labels.append(f"Branch: {branch.code if branch else value}")
        elif name == "employer_id":
            employer = db.session.get(Employer, value)
            labels.append(f"Employer: {employer.name if employer else value}")
        elif name == "workplace_id":
            workplace = db.session.get(Workplace, value)
            labels.append(f"Workplace: {workplace.name if workplace else value}")
        elif name == "tag_id":
            tag = db.session.get(Tag, value)
            labels.append(f"Tag: {tag.name if tag else value}")
        elif name == "consent":
            labels.append(contacts.CONSENT_FILTERS.get(value, ("", "", value))[2])
        elif name == "ballot_ready":
            labels.append("Ballot-ready" if value else "Not ballot-ready")
        else:
            title = _FILTER_TITLES.get(name, name.replace("_", " ").capitalize())
            labels.append(f"{title}: {getattr(value, 'label', value)}")
    return " · ".join(labels) or "Everyone (no filters)"


# ---------------------------------------------------------------------------------------------
# Views
