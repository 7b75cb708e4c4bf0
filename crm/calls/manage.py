"""List management for branch officers and organisers: lists, callers, filling from contacts, progress.

Every route needs MANAGE_CALLS (branch officers for their branches; organisers and admins region-wide)
and loads the list through service.get_list_or_404, so another branch's list is a 404 exactly like a
missing id. Figures and entries are always limited to the branches the user covers.

The operations live in crm/calls/lists.py; these views parse the request, call one operation,
commit and redirect.
"""
from __future__ import annotations

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
from sqlalchemy.orm import selectinload

from ..audit import service as audit
from ..auth.models import User
from ..auth.roles import Permission
from ..contacts import service as contacts
from ..extensions import db
from ..filters import load_filter, saved_filters
from ..formtools import choices, show_errors
from ..region.models import Branch
from ..scoping import covers_branch, require
from . import bp, progress, scripts, service
from .lists import (
    KIND_DEFAULTS,
    SOG_REFUSAL,
    ListError,
    ListSettings,
    add_from_filter,
    branch_choices,
    caller_candidates,
    create_list,
    describe_filter,
    preview_add,
    set_callers,
    update_list,
)
from .manage_forms import (
    AddFromContactsForm,
    CallersForm,
    CallListForm,
    FollowUpForm,
    KindForm,
    question_rows_data,
)
from .models import CallList, CallListKind, DoneRule, EntryStatus

MANAGE = Permission.MANAGE_CALLS
CONTACTS_AREA = "contacts"  # where crm.contacts.views saves its searches (crm.filters)
SAMPLE_MEMBER = {
    "first_name": "Sam", "last_name": "Sample", "workplace": "Sample Hospital", "employer": "Sample NHS Trust",
    "job_title": "healthcare assistant",
}


def _me() -> User:
    return current_user._get_current_object()


def _show_errors(form, exc: ListError) -> None:
    show_errors(form, exc.errors)


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


@bp.route("/lists/<int:list_id>/follow-up", methods=["GET", "POST"])
@require(MANAGE)
def list_follow_up(list_id: int):
    from ..messaging import rendering
    from ..messaging import service as messaging
    from ..vocabulary import Channel

    me = _me()
    call_list = service.get_list_or_404(me, list_id)
    offered = messaging.templates(Channel.SMS)
    current = call_list.follow_up_template
    if current is not None and current not in offered:
        offered = [current, *offered]  # an archived choice stays visible until it is changed
    status = 200
    if request.method == "GET":
        form = FollowUpForm(formdata=None, data={"template": str(call_list.follow_up_template_id or "")})
        form.set_choices(offered)
    else:
        form = FollowUpForm()
        form.set_choices(offered)
        chosen = next((t for t in offered if str(t.id) == form.template.data), None)
        if form.validate() and (chosen is not None or not form.template.data):
            try:
                changed = messaging.set_follow_up_template(call_list, chosen, by=me)
            except messaging.MessagingError as exc:
                db.session.rollback()
                show_errors(form, exc.errors)
            else:
                db.session.commit()
                flash(("Follow-up text saved." if chosen else "Callers will no longer be offered a follow-up text.")
                      if changed else "Nothing was changed.", "success" if changed else "info")
                return redirect(url_for(".manage_list", list_id=call_list.id))
        elif not form.template.errors:
            form.template.errors = ["Choose one of the SMS templates listed."]
        status = 422
    samples = {t.id: messaging.sample_rendering(Channel.SMS, t.body) for t in offered}
    return render_template("calls/manage/follow_up.html", call_list=call_list, form=form, templates=offered,
                           samples=samples, sample_name=rendering.SAMPLE_VALUES["full_name"],
                           can_write=me.can(Permission.SEND_MESSAGES)), status


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
