"""Contacts pages. Each view: load through branch scoping, parse the form, call one service, commit.

Reading needs VIEW_CONTACTS; changing, bulk tagging and exporting member data need EDIT_CONTACTS.
Everyone else, and every contact of a branch the user does not cover, gets a 404.
"""
from __future__ import annotations

import tempfile
from datetime import date

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from ..auth.models import User
from ..auth.roles import Permission
from ..extensions import db
from ..filters import load_filter, save_filter
from ..formtools import show_errors
from ..region.models import Branch
from ..scoping import covers_branch, require, visible_branches_stmt
from . import bp, export, quality, service, timeline
from .forms import (
    AddRoleForm,
    BulkTagForm,
    ConsentForm,
    ContactEditForm,
    ContactSearchForm,
    EndRoleForm,
    ExportForm,
)

VIEW = Permission.VIEW_CONTACTS
EDIT = Permission.EDIT_CONTACTS
AREA = "contacts"


def _me() -> User:
    return current_user._get_current_object()


def _show_errors(form, exc: service.ContactError, rename: dict[str, str] | None = None) -> None:
    show_errors(form, exc.errors, rename)


def _saved_filter(key: str | None) -> dict | None:
    """The saved search under `key` ({} for none); None when the key is given but has expired."""
    values = load_filter(AREA, key)
    if key and not values:
        return None
    return values


def _list_url(key: str | None) -> str:
    return url_for(".index", f=key) if key else url_for(".index")


def _expired(key: str | None):
    flash("That search has expired. Search again, then try once more.", "error")
    return redirect(url_for(".index"))


# ---------------------------------------------------------------------------------------------
# The list: search, filters, bulk tag and export


@bp.route("/", methods=["GET", "POST"])
@require(VIEW)
def index():
    me = _me()
    branches = db.session.execute(visible_branches_stmt(me)).scalars().all()
    employers = service.employers_for_user(me)
    key = request.args.get("f")
    saved = _saved_filter(key)
    expired = saved is None
    values = {} if expired else saved

    chosen_employer = request.form.get("employer") if request.method == "POST" else values.get("employer")
    employer_ids = {e.id for e in employers}
    chosen_employer_id = int(chosen_employer) if str(chosen_employer or "").isdigit() else None
    workplaces = service.workplaces_of([chosen_employer_id]) if chosen_employer_id in employer_ids else []

    tags = service.all_tags()
    form = ContactSearchForm()
    form.set_choices(branches, employers, workplaces, tags)
    if request.method == "POST":
        if form.validate():
            new_values = {k: form[k].data or "" for k in service.FILTER_KEYS}
            # A workplace left over from another employer would silently match nobody: drop it.
            if new_values["workplace"] not in {str(w.id) for w in workplaces}:
                new_values["workplace"] = ""
            return redirect(url_for(".index", f=save_filter(AREA, new_values)))
        status, values = 422, {}
    else:
        status = 200
        if expired:
            flash("That search has expired, so all your contacts are shown. Search again to narrow them down.", "info")
        form.process(data=values)
    flt = service.filter_from_values(values)
    page = service.search_contacts(me, flt, request.args.get("page", 1, type=int),
                                   current_app.config["CONTACTS_PER_PAGE"])
    filter_key = key if values else None
    return render_template(
        "contacts/index.html", page=page, form=form, filter_key=filter_key, flt=flt,
        filtered=bool(flt.used()), advanced_open=any(values.get(k) for k in form.ADVANCED),
        can_edit=me.can(EDIT), bulk_form=BulkTagForm(formdata=None, data={"f": filter_key or ""}),
        export_form=ExportForm(formdata=None, data={"f": filter_key or ""}), tags=tags,
    ), status


@bp.post("/bulk-tag")
@require(EDIT)
def bulk_tag():
    me = _me()
    form = BulkTagForm()
    key = form.f.data or None
    values = _saved_filter(key)
    if values is None:
        return _expired(key)
    flt = service.filter_from_values(values)
    tags = service.all_tags()
    page = {"form": form, "flt": flt, "tags": tags, "back": _list_url(key), "preview": None}
    if not form.validate():
        return render_template("contacts/bulk_tag.html", **page), 422
    add = form.action.data == "add"
    try:
        if form.confirm.data == "yes":
            tag, rows = service.bulk_tag(me, flt, form.tag.data, add)
            db.session.commit()
            noun = "contact" if rows == 1 else "contacts"
            flash(f"Tag ‘{tag.name}’ {'added to' if add else 'removed from'} {rows:,} {noun}.", "success")
            return redirect(_list_url(key))
        page["preview"] = service.preview_bulk_tag(me, flt, form.tag.data, add)
    except service.ContactError as exc:
        _show_errors(form, exc)
        return render_template("contacts/bulk_tag.html", **page), 422
    return render_template("contacts/bulk_tag.html", **page)


@bp.post("/export")
@require(EDIT)
def export_contacts():
    me = _me()
    form = ExportForm()
    key = form.f.data or None
    values = _saved_filter(key)
    if values is None:
        return _expired(key)
    if not form.validate():
        flash("Choose CSV or Excel for the export.", "error")
        return redirect(_list_url(key))
    flt = service.filter_from_values(values)
    try:
        export.check_exportable(flt)
    except export.ExportRefused as exc:
        flash(str(exc), "error")
        return redirect(_list_url(key))
    fmt = form.format.data
    export.record_export(me, flt, fmt, service.count_matching(me, flt))
    db.session.commit()
    name = f"branchline-contacts-{date.today().isoformat()}.{fmt}"
    rows = export.export_rows(me, flt)
    if fmt == "csv":
        return Response(stream_with_context(export.csv_chunks(rows)), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    # The workbook is assembled in a temporary file (a zip cannot be streamed before it is complete).
    out = tempfile.TemporaryFile()  # noqa: SIM115 (closed by _chunks_then_close once sent)
    try:
        export.write_xlsx(rows, out)
        size = out.tell()
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return Response(_chunks_then_close(out), mimetype=XLSX_MIMETYPE,
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Content-Length": str(size)})


XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _chunks_then_close(f, size: int = 256 * 1024):
    try:
        while chunk := f.read(size):
            yield chunk
    finally:
        f.close()


# ---------------------------------------------------------------------------------------------
# Data quality


@bp.get("/quality")
@require(VIEW)
def data_quality():
    rows = quality.quality_by_branch(_me())
    return render_template("contacts/quality.html", rows=rows, total=quality.totals(rows),
                           measures=quality.MEASURES)


@bp.get("/quality/gaps")
@require(VIEW)
def quality_gaps():
    """Open the contacts list on one branch's (or every branch's) members missing a field."""
    me = _me()
    gap = request.args.get("gap", "")
    if gap not in {g for _, _, g in quality.MEASURES}:
        abort(404)
    branch_id = request.args.get("branch", type=int)
    if branch_id is not None and (db.session.get(Branch, branch_id) is None or not covers_branch(me, branch_id)):
        abort(404)
    values = dict.fromkeys(service.FILTER_KEYS, "")
    values.update(branch=str(branch_id or ""), status="member")
    if gap == "ballot":
        values["ballot"] = "no"
    else:
        values["missing"] = gap
    return redirect(url_for(".index", f=save_filter(AREA, values)))


# ---------------------------------------------------------------------------------------------
# One contact


@bp.get("/<int:contact_id>")
@require(VIEW)
def show(contact_id: int):
    me = _me()
    contact = service.get_contact_for_view(me, contact_id)
    entries = timeline.gather(contact, me)
    db.session.commit()
    from ..privacy.erasure import is_erased

    return render_template("contacts/show.html", contact=contact, entries=entries, can_edit=me.can(EDIT),
                           can_privacy=me.can(Permission.MANAGE_PRIVACY), erased=is_erased(contact))


def _edit_data(contact) -> dict:
    return {
        "first_name": contact.first_name, "last_name": contact.last_name, "email": contact.email,
        "mobile": contact.mobile, "postcode": contact.postcode, "employer_id": contact.employer_id,
        "workplace_id": contact.workplace_id, "job_title": contact.job_title, "status": contact.status,
        "payment_method": contact.payment_method, "joined_on": contact.joined_on, "left_on": contact.left_on,
        "docas_ended_on": contact.docas_ended_on, "tags": [t.name for t in contact.tags],
    }


@bp.route("/<int:contact_id>/edit", methods=["GET", "POST"])
@require(EDIT)
def edit(contact_id: int):
    me = _me()
    if request.method == "GET":
        contact = service.get_contact_for_view(me, contact_id)
        db.session.commit()
    else:
        contact = service.get_contact(me, contact_id)
    employers = service.employers_for_contact(contact)
    form = ContactEditForm(data=_edit_data(contact))
    form.set_choices(employers, service.workplaces_of([e.id for e in employers]), contact.tags)
    if form.validate_on_submit():
        details = service.ContactDetails(
            first_name=form.first_name.data or "", last_name=form.last_name.data or "",
            email=form.email.data or "", mobile=form.mobile.data or "", postcode=form.postcode.data or "",
            employer_id=form.employer_id.data, workplace_id=form.workplace_id.data,
            job_title=form.job_title.data or "", status=form.status.data, payment_method=form.payment_method.data,
            joined_on=form.joined_on.data, left_on=form.left_on.data, docas_ended_on=form.docas_ended_on.data,
            tag_names=form.tag_names(),
        )
        try:
            changed = service.update_contact(contact, details, by=me)
        except service.ContactError as exc:
            _show_errors(form, exc, rename={"tags": "new_tags"})
        else:
            db.session.commit()
            flash("Changes saved." if changed else "Nothing was changed.", "success" if changed else "info")
            return redirect(url_for(".show", contact_id=contact.id))
    status = 422 if form.is_submitted() else 200
    return render_template("contacts/edit.html", contact=contact, form=form, all_tags=service.all_tags()), status


def _roles_page(contact, add_form=None, end_forms=None, status=200):
    forms = {r.id: EndRoleForm(prefix=f"end-{r.id}", formdata=None) for r in contact.current_roles()}
    forms.update(end_forms or {})
    add_form = add_form or AddRoleForm(formdata=None, data={"started_on": date.today()})
    return render_template("contacts/roles.html", contact=contact, add_form=add_form, end_forms=forms), status


@bp.route("/<int:contact_id>/roles", methods=["GET", "POST"])
@require(EDIT)
def roles(contact_id: int):
    me = _me()
    contact = service.get_contact(me, contact_id)
    if request.method == "GET":
        return _roles_page(contact)
    form = AddRoleForm()
    if form.validate():
        try:
            role = service.add_role(contact, form.kind.data, form.started_on.data, by=me)
        except service.ContactError as exc:
            _show_errors(form, exc)
        else:
            db.session.commit()
            flash(f"{role.role.label} role added.", "success")
            return redirect(url_for(".roles", contact_id=contact.id))
    return _roles_page(contact, add_form=form, status=422)


@bp.post("/<int:contact_id>/roles/<int:role_id>/end")
@require(EDIT)
def end_role(contact_id: int, role_id: int):
    me = _me()
    contact = service.get_contact(me, contact_id)
    role = service.get_role(me, contact, role_id)
    form = EndRoleForm(prefix=f"end-{role.id}")
    if form.validate():
        try:
            service.end_role(role, form.ended_on.data, by=me)
        except service.ContactError as exc:
            _show_errors(form, exc)
        else:
            db.session.commit()
            flash(f"{role.role.label} role ended.", "success")
            return redirect(url_for(".roles", contact_id=contact.id))
    return _roles_page(contact, end_forms={role.id: form}, status=422)


@bp.route("/<int:contact_id>/consent", methods=["GET", "POST"])
@require(EDIT)
def consent(contact_id: int):
    me = _me()
    contact = service.get_contact(me, contact_id)
    form = ConsentForm(data={"channel": request.args.get("channel")} if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            service.record_consent(contact, form.channel.data, form.status.data, form.wording_version.data, by=me)
        except service.ContactError as exc:
            _show_errors(form, exc)
        else:
            db.session.commit()
            flash(f"{form.channel.data.label} consent recorded: {form.status.data.label.lower()}.", "success")
            return redirect(url_for(".show", contact_id=contact.id))
    status = 422 if form.is_submitted() else 200
    return render_template("contacts/consent.html", contact=contact, form=form), status
