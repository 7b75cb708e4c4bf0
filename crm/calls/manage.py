"""List management for branch officers and organisers: lists, callers, filling from contacts, progress.

Every route needs MANAGE_CALLS (branch officers for their branches; organisers and admins region-wide)
and loads the list through service.get_list_or_404, so another branch's list is a 404 exactly like a
missing id. Figures and entries are always limited to the branches the user covers.

The operations at the top take models and plain values and flush; the views below parse the request,
call one operation, commit and redirect.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import exists, func, select
from sqlalchemy.orm import selectinload

from ..audit import service as audit
from ..auth.models import User, user_branch
from ..auth.roles import Permission, Role
from ..contacts import service as contacts
from ..contacts.models import Contact, Tag
from ..extensions import db
from ..filters import load_filter, saved_filters
from ..formtools import choices
from ..region.models import Branch, Employer, Workplace
from ..scoping import covers_branch, require, visible_branches_stmt
from . import bp, progress, scripts, service
from .manage_forms import (
    AddFromContactsForm,
    CallersForm,
    CallListForm,
    KindForm,
    question_rows_data,
)
from .models import CallEntry, CallList, CallListKind, DoneRule, EntryStatus

MANAGE = Permission.MANAGE_CALLS
CONTACTS_AREA = "contacts"  # where crm.contacts.views saves its searches (crm.filters)
CALLER_ROLES = (Role.CALLER, Role.BRANCH_OFFICER)
KIND_DEFAULTS = {
    CallListKind.NEW_JOINER: (scripts.NEW_JOINER_SCRIPT, scripts.NEW_JOINER_QUESTIONS, 7),
    CallListKind.DOCAS_LEAVER: (scripts.DOCAS_LEAVER_SCRIPT, scripts.DOCAS_LEAVER_QUESTIONS, 14),
}
SAMPLE_MEMBER = {
    "first_name": "Sam", "last_name": "Sample", "workplace": "Sample Hospital", "employer": "Sample NHS Trust",
    "job_title": "healthcare assistant",
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


def _me() -> User:
    return current_user._get_current_object()


def _show_errors(form, exc: ListError) -> None:
    for name, message in exc.errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)


@bp.get("/lists/")
@require(MANAGE)
def manage_lists():
    me = _me()
    lists = db.session.execute(service.lists_stmt(me).options(selectinload(CallList.branches))
                               .order_by(CallList.is_active.desc(), CallList.name, CallList.id)).scalars().all()
    ids = [lst.id for lst in lists]
    figures = progress.figures_by_list(me, ids)
    callers = progress.caller_counts(ids)
    rows = [(lst, figures[lst.id], callers[lst.id]) for lst in lists]
    return render_template("calls/manage/lists.html", rows=rows, target=progress.TARGET_PCT)


def _settings(form: CallListForm, existing_questions: list[dict]) -> ListSettings:
    return ListSettings(
        name=" ".join(form.name.data.split()), kind=CallListKind(form.kind.data),
        branch_ids=list(form.branches.data or []), script=form.script.data.replace("\r\n", "\n").strip(),
        questions=form.parsed_questions(existing_questions), cooldown_hours=form.cooldown_hours.data,
        max_attempts=form.max_attempts.data, due_days=form.due_days.data, done_rule=DoneRule(form.done_rule.data),
        auto_fill=bool(form.auto_fill.data), is_active=bool(form.is_active.data))


def _preview(form: CallListForm, me: User, branches: list[Branch]):
    """The script as a caller would see it, for a made-up member (never a real one)."""
    chosen = [b for b in branches if b.id in set(form.branches.data or [])] or branches
    values = {**SAMPLE_MEMBER, "branch": chosen[0].name if chosen else "your branch",
              "caller_first_name": me.name.split(" ")[0]}
    return scripts.render_script(form.script.data or "", values)


def _list_form_page(form, *, call_list, preview, status=200):
    other_branches = [b for b in call_list.branches if not covers_branch(_me(), b.id)] if call_list else []
    return render_template("calls/manage/list_form.html", form=form, call_list=call_list, preview=preview,
                           merge_fields=scripts.MERGE_FIELDS, other_branches=other_branches), status


def _save_list(form: CallListForm, call_list: CallList | None, branches: list[Branch]):
    """Shared by new and edit: preview, or validate and save."""
    me = _me()
    wants_preview = request.form.get("action") == "preview"
    if wants_preview:
        form.validate()  # show any mistakes alongside the preview, but save nothing
        return _list_form_page(form, call_list=call_list, preview=_preview(form, me, branches))
    if form.validate():
        settings = _settings(form, call_list.questions if call_list else [])
        try:
            if call_list is None:
                call_list = create_list(settings, by=me)
                message = f"List ‘{call_list.name}’ created. Now assign callers and add members."
                category = "success"
            else:
                changed = update_list(call_list, settings, by=me)
                message = "Changes saved." if changed else "Nothing was changed."
                category = "success" if changed else "info"
        except ListError as exc:
            db.session.rollback()
            _show_errors(form, exc)
        else:
            db.session.commit()
            flash(message, category)
            return redirect(url_for(".manage_list", list_id=call_list.id))
    return _list_form_page(form, call_list=call_list, preview=None, status=422)


@bp.route("/lists/new", methods=["GET", "POST"])
@require(MANAGE)
def new_list():
    me = _me()
    branches = branch_choices(me)
    if request.method == "GET":
        raw = request.args.get("kind")
        if raw not in {k.value for k in CallListKind}:
            kind_form = KindForm(formdata=None)
            if raw is not None:  # the step was submitted without a choice
                kind_form.kind.errors = ["Choose the kind of list."]
            return render_template("calls/manage/new_kind.html", form=kind_form), 200 if raw is None else 422
        kind = CallListKind(raw)
        script, questions, due_days = KIND_DEFAULTS.get(kind, ("", [], None))
        only = branches[0] if len(branches) == 1 else None  # most branch officers: preselect their branch
        form = CallListForm(formdata=None, data={
            "kind": kind.value, "name": f"{kind.label} – {only.code}" if only and kind in KIND_DEFAULTS else "",
            "branches": [only.id] if only else [],
            "script": script, "questions": question_rows_data(list(questions)), "cooldown_hours": 20,
            "max_attempts": 3, "due_days": due_days, "done_rule": DoneRule.REACHED.value,
            "auto_fill": False, "is_active": True})
        form.set_choices(branches)
        return _list_form_page(form, call_list=None, preview=None)
    form = CallListForm()
    form.set_choices(branches)
    return _save_list(form, None, branches)


@bp.route("/lists/<int:list_id>/edit", methods=["GET", "POST"])
@require(MANAGE)
def edit_list(list_id: int):
    me = _me()
    call_list = service.get_list_or_404(me, list_id)
    branches = branch_choices(me)
    if request.method == "GET":
        form = CallListForm(formdata=None, data={
            "name": call_list.name, "kind": call_list.kind.value,
            "branches": [b.id for b in call_list.branches if covers_branch(me, b.id)],
            "script": call_list.script, "questions": question_rows_data(list(call_list.questions or [])),
            "cooldown_hours": call_list.cooldown_hours, "max_attempts": call_list.max_attempts,
            "due_days": call_list.due_days, "done_rule": call_list.done_rule.value,
            "auto_fill": call_list.auto_fill, "is_active": call_list.is_active})
        form.set_choices(branches)
        return _list_form_page(form, call_list=call_list, preview=_preview(form, me, branches))
    form = CallListForm()
    form.set_choices(branches)
    return _save_list(form, call_list, branches)


@bp.route("/lists/<int:list_id>/callers", methods=["GET", "POST"])
@require(MANAGE)
def list_callers(list_id: int):
    me = _me()
    call_list = service.get_list_or_404(me, list_id)
    candidates = caller_candidates(call_list, me)
    candidate_ids = {u.id for u in candidates}
    others = [u for u in call_list.callers if u.id not in candidate_ids]
    if request.method == "GET":
        form = CallersForm(formdata=None, data={"callers": [u.id for u in call_list.callers if u.id in candidate_ids]})
        form.set_choices(candidates)
        status = 200
    else:
        form = CallersForm()
        form.set_choices(candidates)
        if form.validate():
            added, removed = set_callers(call_list, list(form.callers.data or []), by=me)
            db.session.commit()
            if added or removed:
                flash(f"Callers saved: {len(added)} added, {len(removed)} removed.", "success")
            else:
                flash("Nothing was changed.", "info")
            return redirect(url_for(".manage_list", list_id=call_list.id))
        status = 422
    return render_template("calls/manage/callers.html", call_list=call_list, form=form, others=others,
                           branches=[b for b in call_list.branches if covers_branch(me, b.id)]), status


def _saved_searches() -> list[tuple[str, str]]:
    """The user's contacts searches in this session as (key, description), newest first."""
    found: dict[str, str] = {}
    for key, values in saved_filters(CONTACTS_AREA):
        description = describe_filter(contacts.filter_from_values(values))
        found.setdefault(description, key)  # the same search made twice is offered once
    return [(key, text) for text, key in found.items()]


@bp.route("/lists/<int:list_id>/add-from-contacts", methods=["GET", "POST"])
@require(MANAGE)
def add_from_contacts(list_id: int):
    me = _me()
    call_list = service.get_list_or_404(me, list_id)
    searches = _saved_searches()
    keys = {k for k, _ in searches}
    page = {"call_list": call_list, "searches": searches, "preview": None, "description": None,
            "can_search": me.can(Permission.VIEW_CONTACTS)}
    if request.method == "GET":
        wanted = request.args.get("f")
        form = AddFromContactsForm(formdata=None, data={"f": wanted if wanted in keys else
                                                        (searches[0][0] if len(searches) == 1 else None)})
        form.f.choices = choices(searches)
        return render_template("calls/manage/add_from_contacts.html", form=form, **page)
    form = AddFromContactsForm()
    form.f.choices = choices(searches)
    if form.validate():
        values = load_filter(CONTACTS_AREA, form.f.data)
        if not values:
            form.f.errors = ["That search has expired. Search the contacts again, then come back here."]
        else:
            flt = contacts.filter_from_values(values)
            page["description"] = describe_filter(flt)
            if flt.uses_sog:
                form.f.errors = [SOG_REFUSAL]
            elif form.confirm.data == "yes":
                added = add_from_filter(call_list, me, flt)
                db.session.commit()
                noun = "member" if added == 1 else "members"
                flash(f"{added:,} {noun} added to ‘{call_list.name}’.", "success" if added else "info")
                return redirect(url_for(".manage_list", list_id=call_list.id))
            else:
                page["preview"] = preview_add(call_list, me, flt)
                return render_template("calls/manage/add_from_contacts.html", form=form, **page)
    return render_template("calls/manage/add_from_contacts.html", form=form, **page), 422


def _caller_screen_url(call_list: CallList) -> str | None:
    # The caller screens are another module; link to them only once the route exists.
    if "calls.show_list" in current_app.view_functions:
        return url_for("calls.show_list", list_id=call_list.id)
    return None


@bp.get("/lists/<int:list_id>/manage")
@require(MANAGE)
def manage_list(list_id: int):
    me = _me()
    call_list = service.get_list_or_404(me, list_id)
    by_branch = progress.figures_by_branch(call_list, me)
    overdue_limit = 100
    return render_template(
        "calls/manage/dashboard.html", call_list=call_list, by_branch=by_branch,
        figures=progress.total_of(by_branch), statuses=progress.status_counts(call_list, me),
        outcomes=progress.outcome_rows(call_list, me), callers=progress.figures_by_caller(call_list, me),
        overdue=progress.overdue_entries(call_list, me, limit=overdue_limit), overdue_limit=overdue_limit,
        target=progress.TARGET_PCT, leavers=call_list.kind is CallListKind.DOCAS_LEAVER,
        can_view_contacts=me.can(Permission.VIEW_CONTACTS), caller_screen=_caller_screen_url(call_list),
        my_branches=[b for b in call_list.branches if covers_branch(me, b.id)], EntryStatus=EntryStatus)


@bp.get("/lists/<int:list_id>/progress.csv")
@require(MANAGE)
def progress_csv(list_id: int):
    me = _me()
    call_list = service.get_list_or_404(me, list_id)
    rows = progress.progress_csv_rows(call_list, me)
    audit.record("call_list.export", user=me, obj=call_list, detail=f"format=csv rows={len(rows)} kind=progress")
    db.session.commit()
    name = f"branchline-call-list-{call_list.id}-progress-{date.today().isoformat()}.csv"
    return Response(progress.csv_text(rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/progress")
@require(MANAGE)
def progress_overview():
    me = _me()
    rows = progress.overview_by_branch(me)
    joiners = sum((r.joiners for r in rows), progress.Figures())
    leavers = sum((r.leavers for r in rows), progress.Figures())
    return render_template("calls/manage/overview.html", rows=rows, joiners=joiners, leavers=leavers,
                           target=progress.TARGET_PCT)
