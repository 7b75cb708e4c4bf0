"""Regional admin pages. Each view: load, parse the form, call one service function, commit, redirect.

Region objects need MANAGE_REGION and user accounts MANAGE_USERS; anyone else gets a 404.
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user
from sqlalchemy import select

from ..api import tokens as api_tokens
from ..api.forms import RevokeForm
from ..auth import mfa
from ..auth import service as auth_service
from ..auth.forms import TrainingForm as UserTrainingForm
from ..auth.models import User
from ..auth.roles import Permission, Role
from ..extensions import db
from ..formtools import show_errors
from ..pagination import paginate
from ..region.models import Branch, Employer, ServiceGroup, Workplace
from ..scoping import require
from ..vocabulary import EmployerKind
from . import bp, service
from .forms import (
    AddStandardServiceGroupsForm,
    BranchFilterForm,
    BranchForm,
    ConfirmDeleteForm,
    EditUserForm,
    EmployerForm,
    EmployerSearchForm,
    NewUserForm,
    ServiceGroupForm,
    SetPasswordForm,
    UserFilterForm,
    WorkplaceForm,
)

REGION = Permission.MANAGE_REGION
USERS = Permission.MANAGE_USERS


def _me() -> User:
    return current_user._get_current_object()


def _per_page() -> int:
    return current_app.config["ADMIN_PER_PAGE"]


def _page_number() -> int:
    return request.args.get("page", 1, type=int)


def _show_error(form, exc: service.AdminError) -> None:
    show_errors(form, {exc.field: str(exc)})


def _by_ids(model, ids: list[int]) -> list:
    if not ids:
        return []
    return list(db.session.execute(select(model).where(model.id.in_(ids)).order_by(model.id)).scalars())


def _confirm_delete(form, *, what: str, kind: str, blocker: str | None, back: str,
                    consequences: list[str] | None = None, status: int = 200):
    return render_template("admin/confirm_delete.html", form=form, what=what, kind=kind, blocker=blocker,
                           back=back, consequences=consequences or []), status


# ---------------------------------------------------------------------------------------------
# Index


@bp.get("/")
@require(REGION)
def index():
    return render_template("admin/index.html", counts=service.admin_counts(),
                           missing_groups=service.missing_standard_service_groups())


# ---------------------------------------------------------------------------------------------
# Service groups


@bp.get("/service-groups/")
@require(REGION)
def service_groups():
    return render_template("admin/service_groups.html", rows=service.service_groups_with_branch_counts(),
                           missing=service.missing_standard_service_groups(),
                           standard_form=AddStandardServiceGroupsForm())


@bp.post("/service-groups/standard")
@require(REGION)
def add_standard_service_groups():
    form = AddStandardServiceGroupsForm()
    if not form.validate_on_submit():
        flash("That did not work: reload the page and try again.", "error")
        return redirect(url_for(".service_groups"))
    added = service.add_standard_service_groups(by=_me())
    db.session.commit()
    if added:
        flash(f"Added {len(added)} standard service group{'s' if len(added) != 1 else ''}: "
              f"{', '.join(g.name for g in added)}.", "success")
    else:
        flash("All the standard service groups are already here.", "info")
    return redirect(url_for(".service_groups"))


@bp.route("/service-groups/new", methods=["GET", "POST"])
@require(REGION)
def new_service_group():
    form = ServiceGroupForm()
    if form.validate_on_submit():
        try:
            group = service.create_service_group(form.name.data, by=_me())
        except service.AdminError as exc:
            _show_error(form, exc)
        else:
            db.session.commit()
            flash(f"Service group {group.name} added.", "success")
            return redirect(url_for(".service_groups"))
    status = 422 if form.is_submitted() else 200
    return render_template("admin/service_group_form.html", form=form, group=None), status


@bp.route("/service-groups/<int:service_group_id>/edit", methods=["GET", "POST"])
@require(REGION)
def edit_service_group(service_group_id: int):
    group = db.get_or_404(ServiceGroup, service_group_id)
    form = ServiceGroupForm(data={"name": group.name})
    if form.validate_on_submit():
        try:
            service.rename_service_group(group, form.name.data, by=_me())
        except service.AdminError as exc:
            _show_error(form, exc)
        else:
            db.session.commit()
            flash(f"Service group renamed to {group.name}.", "success")
            return redirect(url_for(".service_groups"))
    status = 422 if form.is_submitted() else 200
    return render_template("admin/service_group_form.html", form=form, group=group), status


@bp.route("/service-groups/<int:service_group_id>/delete", methods=["GET", "POST"])
@require(REGION)
def delete_service_group(service_group_id: int):
    group = db.get_or_404(ServiceGroup, service_group_id)
    form = ConfirmDeleteForm()
    back = url_for(".service_groups")
    if form.validate_on_submit():
        name = group.name
        try:
            service.delete_service_group(group, by=_me())
        except service.AdminError as exc:
            return _confirm_delete(form, what=name, kind="service group", blocker=str(exc), back=back, status=409)
        db.session.commit()
        flash(f"Service group {name} deleted.", "success")
        return redirect(back)
    return _confirm_delete(form, what=group.name, kind="service group", back=back,
                           blocker=service.service_group_delete_blocker(group),
                           status=422 if form.is_submitted() else 200)


# ---------------------------------------------------------------------------------------------
# Branches


@bp.get("/branches/")
@require(REGION)
def branches():
    groups = service.service_groups()
    filter_form = BranchFilterForm(formdata=request.args)
    filter_form.set_choices(groups)
    group_id = filter_form.service_group.data if any(g.id == filter_form.service_group.data for g in groups) else None
    page = paginate(service.branches_query(group_id), _page_number(), _per_page())
    return render_template("admin/branches.html", page=page, filter_form=filter_form, filtered=bool(group_id),
                           counts=service.branch_counts([b.id for b in page.items]), has_groups=bool(groups))


def _branch_form_page(form, branch):
    status = 422 if form.is_submitted() else 200
    return render_template("admin/branch_form.html", form=form, branch=branch), status


@bp.route("/branches/new", methods=["GET", "POST"])
@require(REGION)
def new_branch():
    form = BranchForm()
    form.set_choices(service.service_groups(), service.all_employers())
    if form.validate_on_submit():
        try:
            branch = service.create_branch(
                form.code.data, form.name.data, db.session.get(ServiceGroup, form.service_group.data),
                _by_ids(Employer, form.employers.data or []), by=_me())
        except service.AdminError as exc:
            _show_error(form, exc)
        else:
            db.session.commit()
            flash(f"Branch {branch.code} ({branch.name}) added.", "success")
            return redirect(url_for(".branches"))
    return _branch_form_page(form, None)


@bp.route("/branches/<int:branch_id>/edit", methods=["GET", "POST"])
@require(REGION)
def edit_branch(branch_id: int):
    branch = db.get_or_404(Branch, branch_id)
    form = BranchForm(data={"code": branch.code, "name": branch.name, "service_group": branch.service_group_id,
                            "employers": [e.id for e in branch.employers]})
    form.set_choices(service.service_groups(), service.all_employers())
    if form.validate_on_submit():
        try:
            service.update_branch(
                branch, code=form.code.data, name=form.name.data,
                service_group=db.session.get(ServiceGroup, form.service_group.data),
                employers=_by_ids(Employer, form.employers.data or []), by=_me())
        except service.AdminError as exc:
            _show_error(form, exc)
        else:
            db.session.commit()
            flash(f"Branch {branch.code} saved.", "success")
            return redirect(url_for(".branches"))
    return _branch_form_page(form, branch)


@bp.route("/branches/<int:branch_id>/delete", methods=["GET", "POST"])
@require(REGION)
def delete_branch(branch_id: int):
    branch = db.get_or_404(Branch, branch_id)
    form = ConfirmDeleteForm()
    back = url_for(".branches")
    what = f"{branch.code} – {branch.name}"
    consequences = ["It will no longer be listed as covering its employers."] if branch.employers else []
    if form.validate_on_submit():
        code = branch.code
        try:
            service.delete_branch(branch, by=_me())
        except service.AdminError as exc:
            return _confirm_delete(form, what=what, kind="branch", blocker=str(exc), back=back, status=409)
        db.session.commit()
        flash(f"Branch {code} deleted.", "success")
        return redirect(back)
    return _confirm_delete(form, what=what, kind="branch", blocker=service.branch_delete_blocker(branch),
                           back=back, consequences=consequences, status=422 if form.is_submitted() else 200)


# ---------------------------------------------------------------------------------------------
# Employers and their workplaces


@bp.get("/employers/")
@require(REGION)
def employers():
    search = EmployerSearchForm(formdata=request.args)
    q = search.q.data if search.validate() else ""
    page = paginate(service.employers_query(q or ""), _page_number(), _per_page())
    return render_template("admin/employers.html", page=page, search=search, q=q,
                           workplaces=service.workplace_counts([e.id for e in page.items]))


@bp.get("/employers/<int:employer_id>")
@require(REGION)
def employer(employer_id: int):
    return render_template("admin/employer.html", employer=db.get_or_404(Employer, employer_id))


def _employer_values(form) -> dict:
    return dict(
        name=form.name.data, kind=EmployerKind(form.kind.data),
        chief_executive_name=form.chief_executive_name.data,
        chief_executive_email=form.chief_executive_email.data,
        branches=_by_ids(Branch, form.branches.data or []),
    )


def _employer_form_page(form, employer):
    status = 422 if form.is_submitted() else 200
    return render_template("admin/employer_form.html", form=form, employer=employer), status


@bp.route("/employers/new", methods=["GET", "POST"])
@require(REGION)
def new_employer():
    form = EmployerForm()
    form.set_choices(service.all_branches())
    if form.validate_on_submit():
        try:
            employer = service.create_employer(by=_me(), **_employer_values(form))
        except service.AdminError as exc:
            _show_error(form, exc)
        else:
            db.session.commit()
            flash(f"{employer.name} added. Now add its workplaces.", "success")
            return redirect(url_for(".employer", employer_id=employer.id))
    return _employer_form_page(form, None)


@bp.route("/employers/<int:employer_id>/edit", methods=["GET", "POST"])
@require(REGION)
def edit_employer(employer_id: int):
    employer = db.get_or_404(Employer, employer_id)
    form = EmployerForm(data={
        "name": employer.name, "kind": employer.kind.value,
        "chief_executive_name": employer.chief_executive_name or "",
        "chief_executive_email": employer.chief_executive_email or "",
        "branches": [b.id for b in employer.branches],
    })
    form.set_choices(service.all_branches())
    if form.validate_on_submit():
        try:
            service.update_employer(employer, by=_me(), **_employer_values(form))
        except service.AdminError as exc:
            _show_error(form, exc)
        else:
            db.session.commit()
            flash(f"{employer.name} saved.", "success")
            return redirect(url_for(".employer", employer_id=employer.id))
    return _employer_form_page(form, employer)


@bp.route("/employers/<int:employer_id>/delete", methods=["GET", "POST"])
@require(REGION)
def delete_employer(employer_id: int):
    employer = db.get_or_404(Employer, employer_id)
    form = ConfirmDeleteForm()
    back = url_for(".employer", employer_id=employer.id)
    consequences = []
    if employer.workplaces:
        n = len(employer.workplaces)
        consequences.append(f"Its {n} workplace{'s' if n != 1 else ''} will be deleted too.")
    if employer.branches:
        consequences.append("Branches will no longer be listed as covering it.")
    if form.validate_on_submit():
        name = employer.name
        try:
            service.delete_employer(employer, by=_me())
        except service.AdminError as exc:
            return _confirm_delete(form, what=name, kind="employer", blocker=str(exc), back=back, status=409)
        db.session.commit()
        flash(f"{name} deleted.", "success")
        return redirect(url_for(".employers"))
    return _confirm_delete(form, what=employer.name, kind="employer", back=back, consequences=consequences,
                           blocker=service.employer_delete_blocker(employer),
                           status=422 if form.is_submitted() else 200)


def _workplace_form_page(form, employer, workplace):
    status = 422 if form.is_submitted() else 200
    return render_template("admin/workplace_form.html", form=form, employer=employer, workplace=workplace), status


@bp.route("/employers/<int:employer_id>/workplaces/new", methods=["GET", "POST"])
@require(REGION)
def new_workplace(employer_id: int):
    employer = db.get_or_404(Employer, employer_id)
    form = WorkplaceForm()
    if form.validate_on_submit():
        try:
            workplace = service.create_workplace(employer, form.name.data, form.postcode.data, form.headcount.data,
                                                 form.notes.data, by=_me())
        except service.AdminError as exc:
            _show_error(form, exc)
        else:
            db.session.commit()
            flash(f"Workplace {workplace.name} added to {employer.name}.", "success")
            return redirect(url_for(".employer", employer_id=employer.id))
    return _workplace_form_page(form, employer, None)


@bp.route("/workplaces/<int:workplace_id>/edit", methods=["GET", "POST"])
@require(REGION)
def edit_workplace(workplace_id: int):
    workplace = db.get_or_404(Workplace, workplace_id)
    form = WorkplaceForm(data={"name": workplace.name, "postcode": workplace.postcode or "",
                               "headcount": workplace.headcount, "notes": workplace.notes or ""})
    if form.validate_on_submit():
        try:
            service.update_workplace(workplace, name=form.name.data, postcode=form.postcode.data,
                                     headcount=form.headcount.data, notes=form.notes.data, by=_me())
        except service.AdminError as exc:
            _show_error(form, exc)
        else:
            db.session.commit()
            flash(f"Workplace {workplace.name} saved.", "success")
            return redirect(url_for(".employer", employer_id=workplace.employer_id))
    return _workplace_form_page(form, workplace.employer, workplace)


@bp.route("/workplaces/<int:workplace_id>/delete", methods=["GET", "POST"])
@require(REGION)
def delete_workplace(workplace_id: int):
    workplace = db.get_or_404(Workplace, workplace_id)
    employer_id = workplace.employer_id
    form = ConfirmDeleteForm()
    back = url_for(".employer", employer_id=employer_id)
    what = f"{workplace.name} ({workplace.employer.name})"
    if form.validate_on_submit():
        name = workplace.name
        try:
            service.delete_workplace(workplace, by=_me())
        except service.AdminError as exc:
            return _confirm_delete(form, what=what, kind="workplace", blocker=str(exc), back=back, status=409)
        db.session.commit()
        flash(f"Workplace {name} deleted.", "success")
        return redirect(back)
    return _confirm_delete(form, what=what, kind="workplace", blocker=service.workplace_delete_blocker(workplace),
                           back=back, status=422 if form.is_submitted() else 200)


# ---------------------------------------------------------------------------------------------
# Users


@bp.get("/users/")
@require(USERS)
def users():
    filter_form = UserFilterForm(formdata=request.args)
    filter_form.set_choices()
    raw_role = filter_form.role.data
    role = Role(raw_role) if raw_role in {r.value for r in Role} else None
    valid_days = current_app.config["TRAINING_VALID_DAYS"]
    due_only = request.args.get("training") == "due"
    stmt = auth_service.training_due_stmt(valid_days) if due_only else service.users_query(role)
    if due_only and role is not None:
        stmt = stmt.where(User.role == role)
    page = paginate(stmt, _page_number(), _per_page())
    return render_template("admin/users.html", page=page, filter_form=filter_form,
                           filtered=role is not None or due_only, due_only=due_only, valid_days=valid_days)


def _user_form_page(form, user):
    if user is not None:
        valid_days = current_app.config["TRAINING_VALID_DAYS"]
        extra = {"training_form": UserTrainingForm(), "reset_form": ConfirmDeleteForm(),
                 "training_due": user.training_due(valid_days), "training_due_on": user.training_due_on(valid_days),
                 "api_tokens": api_tokens.tokens_of(user), "revoke_form": RevokeForm()}
    else:
        extra = {}
    return _render_user_form(form, user, extra)


def _render_user_form(form, user, extra):
    status = 422 if form.is_submitted() else 200
    return render_template("admin/user_form.html", form=form, user=user, **extra), status


@bp.route("/users/new", methods=["GET", "POST"])
@require(USERS)
def new_user():
    form = NewUserForm()
    form.set_choices(service.all_branches())
    if form.validate_on_submit():
        try:
            user = service.create_user(name=form.name.data, email=form.email.data, role=Role(form.role.data),
                                       password=form.password.data,
                                       branches=_by_ids(Branch, form.branch_ids()), by=_me())
        except service.AdminError as exc:
            _show_error(form, exc)
        else:
            db.session.commit()
            flash(f"Account for {user.name} created. Give them their password privately.", "success")
            return redirect(url_for(".users"))
    return _user_form_page(form, None)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@require(USERS)
def edit_user(user_id: int):
    user = db.get_or_404(User, user_id)
    form = EditUserForm(data={"name": user.name, "email": user.email, "role": user.role.value,
                              "branches": [b.id for b in user.branches], "is_enabled": user.is_enabled})
    form.set_choices(service.all_branches())
    if form.validate_on_submit():
        me = _me()
        try:
            service.update_user(user, name=form.name.data, email=form.email.data, role=Role(form.role.data),
                                branches=_by_ids(Branch, form.branch_ids()), is_enabled=form.is_enabled.data,
                                by=me)
        except service.AdminError as exc:
            _show_error(form, exc)
        else:
            db.session.commit()
            if user.id == me.id:
                login_user(user)  # keep this session if the change bumped the session version
            flash(f"{user.name}'s account saved.", "success")
            return redirect(url_for(".users"))
    return _user_form_page(form, user)


@bp.post("/users/<int:user_id>/training")
@require(USERS)
def record_user_training(user_id: int):
    """An admin records the date a user completed data-protection training (e.g. from a course register)."""
    user = db.get_or_404(User, user_id)
    form = UserTrainingForm()
    if form.validate_on_submit():
        try:
            auth_service.record_training(user, form.completed_on.data,
                                         valid_days=current_app.config["TRAINING_VALID_DAYS"], by=_me())
        except auth_service.AccountError as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(f"Training recorded for {user.name}.", "success")
    else:
        flash("Enter the date the training was completed.", "error")
    return redirect(url_for(".edit_user", user_id=user.id))


@bp.post("/users/<int:user_id>/two-step-reset")
@require(USERS)
def reset_user_mfa(user_id: int):
    """Remove a user's second factor (a lost phone); they set it up again when they next sign in."""
    user = db.get_or_404(User, user_id)
    if not ConfirmDeleteForm().validate_on_submit():
        abort(400)
    mfa.reset(user, by=_me())
    db.session.commit()
    flash(f"Two-step sign-in reset for {user.name}. They have been signed out and will set it up again at their next sign-in.",
          "success")
    return redirect(url_for(".edit_user", user_id=user.id))


@bp.post("/users/<int:user_id>/api-tokens/<int:token_id>/revoke")
@require(USERS)
def revoke_user_api_token(user_id: int, token_id: int):
    """Stop one of a user's API tokens (someone left, a token leaked) without disabling the account."""
    user = db.get_or_404(User, user_id)
    token = api_tokens.get_own_token_or_404(user, token_id)
    if RevokeForm().validate_on_submit() and api_tokens.revoke(token, by=_me()):
        db.session.commit()
        flash(f"{user.name}'s token ‘{token.name}’ was revoked: it no longer works.", "success")
    return redirect(url_for(".edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@require(USERS)
def set_user_password(user_id: int):
    user = db.get_or_404(User, user_id)
    form = SetPasswordForm()
    if form.validate_on_submit():
        me = _me()
        try:
            service.set_user_password(user, form.password.data, by=me)
        except service.AdminError as exc:
            _show_error(form, exc)
        else:
            db.session.commit()
            if user.id == me.id:
                login_user(user)  # the new password signs out other sessions, not this one
            flash(f"New password set for {user.name}. They have been signed out everywhere.", "success")
            return redirect(url_for(".users"))
    status = 422 if form.is_submitted() else 200
    return render_template("admin/user_password.html", form=form, user=user), status
