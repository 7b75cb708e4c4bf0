"""Data-protection pages for regional admins: subject access, erasure, retention, the breach log.

Everything needs MANAGE_PRIVACY; contacts are still loaded through branch scoping."""
from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..auth.models import User
from ..auth.roles import Permission
from ..contacts.models import Contact
from ..database import utcnow
from ..extensions import db
from ..formtools import show_errors
from ..pagination import paginate
from ..queue import get_redis
from ..scoping import get_scoped_or_404, require
from . import bp, breaches, erasure, retention, subject_access
from .forms import (
    ApplyRetentionForm,
    BreachForm,
    ErasureForm,
    RetentionForm,
    SubjectAccessForm,
    utc_to_uk,
)
from .identity import get_settings
from .models import Breach, BreachStatus, ContactErasure

PRIVACY = Permission.MANAGE_PRIVACY


def _me() -> User:
    return current_user._get_current_object()


def _contact(contact_id: int) -> Contact:
    return get_scoped_or_404(Contact, contact_id, _me())


@bp.get("/")
@require(PRIVACY)
def index():
    erasures = db.session.execute(select(ContactErasure).order_by(ContactErasure.erased_at.desc()).limit(10)).scalars().all()
    open_breaches = db.session.execute(select(Breach).where(Breach.status == BreachStatus.OPEN)
                                       .order_by(Breach.discovered_at)).scalars().all()
    plan = retention.plan()
    db.session.commit()  # the settings row (and its salt) may have just been created
    return render_template("privacy/index.html", erasures=erasures, open_breaches=open_breaches, plan=plan,
                           now=utcnow())


# -- Subject access


@bp.get("/contacts/<int:contact_id>/subject-access")
@require(PRIVACY)
def subject_access_page(contact_id: int):
    contact = _contact(contact_id)
    document = subject_access.build(contact)
    subject_access.record_request(contact, _me(), "html", document)
    db.session.commit()
    return render_template("privacy/subject_access.html", contact=contact, doc=document, form=SubjectAccessForm())


@bp.post("/contacts/<int:contact_id>/subject-access.json")
@require(PRIVACY)
def subject_access_json(contact_id: int):
    # POST (with CSRF) rather than a link: the download is a disclosure, audited once per click.
    if not SubjectAccessForm().validate_on_submit():
        abort(400)
    contact = _contact(contact_id)
    document = subject_access.build(contact)
    subject_access.record_request(contact, _me(), "json", document)
    db.session.commit()
    name = f"subject-access-contact-{contact.id}-{utcnow().date().isoformat()}.json"
    return Response(subject_access.to_json(document), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# -- Erasure


@bp.route("/contacts/<int:contact_id>/erase", methods=["GET", "POST"])
@require(PRIVACY)
def erase(contact_id: int):
    contact = _contact(contact_id)
    if erasure.is_erased(contact):
        flash("This contact has already been erased.", "info")
        return redirect(url_for("contacts.show", contact_id=contact.id))
    form = ErasureForm()
    if form.validate_on_submit():
        try:
            result = erasure.erase(contact, by=_me(), reason=erasure.ErasureReason(form.reason.data))
        except erasure.ErasureRefused as exc:
            show_errors(form, {None: str(exc)})
        else:
            db.session.commit()
            removed = result.purge_job_registries(get_redis())
            rows = sum(v for k, v in result.changed.items() if k != "contact")
            flash(f"Contact {contact.id} has been erased: {rows} related record{'s' if rows != 1 else ''} emptied or "
                  f"deleted{f', {removed} background job(s) removed' if removed else ''}. Their email, mobile and "
                  "membership number are kept only as salted hashes, so an import will not bring them back.", "success")
            return redirect(url_for("contacts.show", contact_id=contact.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("privacy/erase.html", contact=contact, form=form), status


# -- Retention


@bp.route("/retention", methods=["GET", "POST"])
@require(PRIVACY)
def retention_page():
    settings = get_settings()
    form = RetentionForm(obj=settings)
    if form.validate_on_submit():
        retention.update_periods(by=_me(), **{f.name: f.data for f in form if f.name != "csrf_token"})
        db.session.commit()
        flash("Retention periods saved.", "success")
        return redirect(url_for(".retention_page"))
    db.session.commit()  # the settings row may have just been created
    status = 422 if form.errors else 200
    return render_template("privacy/retention.html", form=form, plan=retention.plan(), apply_form=ApplyRetentionForm(),
                           settings=settings), status


@bp.post("/retention/apply")
@require(PRIVACY)
def apply_retention():
    if not ApplyRetentionForm().validate_on_submit():
        abort(400)
    lines = retention.apply(by=_me())
    db.session.commit()
    done = sum(line.done for line in lines)
    flash(f"Retention applied: {done:,} record{'s' if done != 1 else ''} emptied, erased or removed.", "success")
    return redirect(url_for(".retention_page"))


# -- Breach log


@bp.get("/breaches/")
@require(PRIVACY)
def breach_list():
    page = paginate(breaches.breaches_query(), request.args.get("page", 1, type=int), 50)
    return render_template("privacy/breaches.html", page=page, now=utcnow())


@bp.route("/breaches/new", methods=["GET", "POST"])
@require(PRIVACY)
def new_breach():
    form = BreachForm()
    if request.method == "GET" and not form.discovered_at.data:
        form.discovered_at.data = utc_to_uk(utcnow()).replace(second=0, microsecond=0)
    if form.validate_on_submit():
        try:
            breach = breaches.create_breach(form.values(), by=_me())
        except breaches.BreachError as exc:
            show_errors(form, {exc.field: str(exc)})
        else:
            db.session.commit()
            flash("Breach recorded. The 72-hour clock is running.", "success")
            return redirect(url_for(".breach", breach_id=breach.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("privacy/breach_form.html", form=form, breach=None, now=utcnow()), status


@bp.route("/breaches/<int:breach_id>", methods=["GET", "POST"])
@require(PRIVACY)
def breach(breach_id: int):
    breach = db.session.get(Breach, breach_id)
    if breach is None:
        abort(404)
    form = BreachForm(obj=breach) if request.method == "GET" else BreachForm()
    if request.method == "GET":
        for name in ("discovered_at", "occurred_at", "reported_to_ico_at", "people_told_at"):
            getattr(form, name).data = utc_to_uk(getattr(breach, name))
        form.risk.data, form.status.data = breach.risk.value, breach.status.value
    elif form.validate_on_submit():
        try:
            breaches.update_breach(breach, form.values(), by=_me())
        except breaches.BreachError as exc:
            show_errors(form, {exc.field: str(exc)})
        else:
            db.session.commit()
            flash("Breach record saved.", "success")
            return redirect(url_for(".breach", breach_id=breach.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("privacy/breach_form.html", form=form, breach=breach, now=utcnow()), status
