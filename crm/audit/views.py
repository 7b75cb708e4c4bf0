"""Admin pages for the audit trail: search with filters, CSV export, chain verification."""
from __future__ import annotations

from datetime import date

from flask import Response, abort, current_app, render_template, request, stream_with_context
from flask_login import current_user
from sqlalchemy import select

from ..auth.models import User
from ..auth.roles import Permission
from ..extensions import db
from ..pagination import paginate
from ..scoping import require
from . import bp, service
from .forms import AuditFilterForm, VerifyForm

PRIVACY = Permission.MANAGE_PRIVACY


def _filter_form() -> tuple[AuditFilterForm, service.AuditFilter]:
    form = AuditFilterForm(formdata=request.args)
    actions = service.action_names()
    prefixes = sorted({a.split(".")[0] for a in actions})
    form.action.choices = [("", "Anything")] + [(p, f"{p} (all)") for p in prefixes] + [(a, a) for a in actions]
    users = db.session.execute(select(User.id, User.name, User.email).order_by(User.name)).all()
    form.user.choices = [("", "Anyone")] + [(str(u.id), f"{u.name} ({u.email})") for u in users]
    form.object_type.choices = [("", "Any")] + [(t, t) for t in service.object_types()]
    flt = service.AuditFilter()
    if form.validate():
        flt.action = form.action.data or None
        flt.user_id = int(form.user.data) if (form.user.data or "").isdigit() else None
        flt.object_type = form.object_type.data or None
        flt.object_id = form.object_id.data
        flt.since, flt.until = form.since.data, form.until.data
    return form, flt


@bp.get("/")
@require(PRIVACY)
def index():
    form, flt = _filter_form()
    page = paginate(service.events_query(flt), request.args.get("page", 1, type=int),
                    current_app.config["ADMIN_PER_PAGE"])
    users = {u.id: u for u in db.session.execute(
        select(User).where(User.id.in_({e.user_id for e in page.items if e.user_id}))).scalars()}
    status = 422 if form.errors else 200
    return render_template("audit/index.html", form=form, page=page, users=users, flt=flt,
                           verify_form=VerifyForm()), status


@bp.get("/export.csv")
@require(PRIVACY)
def export_csv():
    form, flt = _filter_form()
    rows = service.count_matching(flt)
    service.record_export(current_user._get_current_object(), flt, rows)
    db.session.commit()
    name = f"branchline-audit-{date.today().isoformat()}.csv"
    return Response(stream_with_context(service.csv_chunks(flt)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/verify")
@require(PRIVACY)
def verify():
    if not VerifyForm().validate_on_submit():
        abort(400)
    result = service.verify_chain()
    service.record("audit.verify", user=current_user._get_current_object(),
                   detail=f"checked={result.checked} ok={result.ok}")
    db.session.commit()
    return render_template("audit/verify.html", result=result)
