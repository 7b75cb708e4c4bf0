"""Reports pages: HTTP only. Every figure comes from crm/reports/service.py within the user's scope."""
from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..audit import service as audit
from ..auth.models import User
from ..auth.roles import Permission
from ..extensions import db
from ..pagination import paginate
from ..region.models import Branch
from ..scoping import get_scoped_or_404, require
from ..vocabulary import ActivistRoleKind
from . import activists, bp, rr, service, summaries
from . import targets as targets_service
from .formatting import Cells
from .forms import NoteForm, TargetsForm

VIEW = Permission.VIEW_REPORTS
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _me() -> User:
    return current_user._get_current_object()


def _current_targets():
    return targets_service.targets_for(targets_service.programme_year())


def _fresh_enough() -> None:
    """Count the summaries now if never done (a new install); ask a worker when they are stale."""
    if summaries.never_counted():
        summaries.refresh(full=True)
        db.session.commit()
    elif summaries.is_stale() and current_app.config.get("REDIS_URL"):
        summaries.ask_for_refresh()


def _period_counted(flt: service.ReportFilter) -> bool:
    """True when the period's figures are ready. A period not counted before (a custom range) is counted
    by a worker while the page says so; in the request itself when no worker can be asked, or when the
    job has waited longer than PERIOD_WAIT_SECONDS (no worker running)."""
    if summaries.counted_whole(flt.date_from, flt.date_to):
        return True
    if current_app.config.get("REDIS_URL"):
        waited = summaries.ask_for_period(flt.date_from, flt.date_to)
        if waited is not None and waited < current_app.config.get("REPORTS_PERIOD_WAIT_SECONDS", 30):
            return False
    summaries.count_period(flt.date_from, flt.date_to)
    db.session.commit()
    return True


@bp.get("/")
@require(VIEW)
def dashboard():
    me = _me()
    _fresh_enough()
    targets = _current_targets()
    flt, choices, errors = service.parse_filter(me, request.args.to_dict(), targets)
    if not _period_counted(flt):
        return render_template("reports/dashboard.html", flt=flt, choices=choices, errors=errors, targets=targets,
                               counting=True, state=summaries.state(), args=flt.as_args()), 202
    scope = service.scope_for(me, flt)
    return render_template(
        "reports/dashboard.html", flt=flt, choices=choices, errors=errors, targets=targets,
        membership=service.membership(scope, targets), calls=service.calls(scope, targets),
        activists=activists.activists(scope, targets), participation=service.participation(scope, targets),
        quality=service.quality(scope), state=summaries.state(), args=flt.as_args(), small=service.SMALL_NUMBER,
        cell=Cells(url_for(".people"), flt.as_args(), me.can(Permission.VIEW_CONTACTS)))


@bp.get("/people")
@require(VIEW)
def people():
    me = _me()
    if not me.can(Permission.VIEW_CONTACTS):
        abort(404)
    figure = request.args.get("figure", "")
    if figure not in service.FIGURES:
        abort(404)
    role = None
    if request.args.get("role"):
        if request.args["role"] not in {r.value for r in ActivistRoleKind}:
            abort(404)
        role = ActivistRoleKind(request.args["role"])
    targets = _current_targets()
    flt, _, errors = service.parse_filter(me, request.args.to_dict(), targets)
    scope = service.scope_for(me, flt)
    page = paginate(service.people_stmt(me, scope, figure, role), request.args.get("page", 1, type=int),
                    current_app.config.get("CONTACTS_PER_PAGE", 50))
    title = service.FIGURES[figure] + (f": {role.label}" if role else "")
    return render_template("reports/people.html", page=page, title=title, flt=flt, errors=errors,
                           args=flt.as_args())


# ------------------------------------------------------------------ targets


def _year_arg() -> int:
    year = request.args.get("year", type=int) or targets_service.programme_year()
    if not 2000 <= year <= 2100:
        abort(404)
    return year


@bp.route("/targets", methods=["GET", "POST"])
@require(VIEW)
def targets():
    me = _me()
    year = _year_arg()
    current = targets_service.targets_for(year)
    can_edit = me.can(Permission.MANAGE_REGION)
    form = TargetsForm(obj=current)
    if request.method == "POST":
        if not can_edit:
            abort(404)
        if form.validate_on_submit():
            values = {name: float(form[name].data) for name in targets_service.FIELDS if name != "fragmented_below"}
            values["fragmented_below"] = form.fragmented_below.data
            saved = targets_service.save_targets(year, form.baseline_on.data, values, me)
            audit.record("report_targets.update", user=me, obj=saved, detail=f"year={year}")
            db.session.commit()
            if current_app.config.get("REDIS_URL"):
                summaries.ask_for_refresh()  # the year-to-date figures are counted from the baseline date
            flash(f"Targets for {year} saved.", "success")
            return redirect(url_for(".targets", year=year))
        return render_template("reports/targets.html", form=form, year=year, can_edit=can_edit,
                               saved=targets_service.is_saved(current)), 422
    return render_template("reports/targets.html", form=form, year=year, can_edit=can_edit,
                           saved=targets_service.is_saved(current))


# ------------------------------------------------------------------ R&R report


def _quarter() -> rr.Quarter:
    quarter, error = rr.parse_quarter(request.args.get("quarter"))
    if error:
        flash(error, "error")
    return quarter


@bp.get("/rr")
@require(VIEW)
def rr_index():
    me = _me()
    _fresh_enough()
    quarter = _quarter()
    rows, total = rr.region_rollup(me, quarter, _current_targets())
    return render_template("reports/rr_index.html", rows=rows, total=total, quarter=quarter,
                           quarters=rr.recent_quarters(), columns=rr.COLUMNS, table_row=rr.table_row)


@bp.get("/rr/rollup.xlsx")
@require(VIEW)
def rr_rollup_xlsx():
    me = _me()
    quarter = _quarter()
    rows, total = rr.region_rollup(me, quarter, _current_targets())
    data = rr.region_xlsx(rows, total, quarter)
    audit.record("report.export", user=me, object_type="branch", detail=f"rr rollup {quarter.key} rows={len(rows)}")
    db.session.commit()
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": f'attachment; filename="rr-rollup-{quarter.key}.xlsx"'})


def _branch(branch_id: int) -> Branch:
    return get_scoped_or_404(Branch, branch_id, _me(), Branch.id)


@bp.get("/rr/<int:branch_id>")
@require(VIEW)
def rr_branch(branch_id: int):
    me = _me()
    branch = _branch(branch_id)
    _fresh_enough()
    quarter = _quarter()
    report = rr.branch_report(me, branch, quarter, _current_targets())
    form = NoteForm(formdata=None, data={"text": report.note})
    return render_template("reports/rr_branch.html", report=report, branch=branch, quarter=quarter,
                           quarters=rr.recent_quarters(), sections=rr.branch_sections(report), form=form,
                           can_note=me.can(Permission.EDIT_CONTACTS))


@bp.post("/rr/<int:branch_id>/notes")
@require(VIEW)
def rr_notes(branch_id: int):
    me = _me()
    branch = _branch(branch_id)
    if not me.can(Permission.EDIT_CONTACTS):
        abort(404)
    quarter = _quarter()
    form = NoteForm()
    if not form.validate_on_submit():
        report = rr.branch_report(me, branch, quarter, _current_targets())
        return render_template("reports/rr_branch.html", report=report, branch=branch, quarter=quarter,
                               quarters=rr.recent_quarters(), sections=rr.branch_sections(report), form=form,
                               can_note=True), 422
    note = rr.save_note(branch, quarter, form.text.data, me)
    audit.record("report_note.update", user=me, obj=note, detail=f"branch={branch.id} {quarter.key}")
    db.session.commit()
    flash("Action-plan notes saved.", "success")
    return redirect(url_for(".rr_branch", branch_id=branch.id, quarter=quarter.key))


@bp.get("/rr/<int:branch_id>/xlsx")
@require(VIEW)
def rr_branch_xlsx(branch_id: int):
    me = _me()
    branch = _branch(branch_id)
    quarter = _quarter()
    report = rr.branch_report(me, branch, quarter, _current_targets())
    data = rr.branch_xlsx(report)
    audit.record("report.export", user=me, obj=branch, detail=f"rr branch {quarter.key}")
    db.session.commit()
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": f'attachment; filename="rr-{branch.code}-{quarter.key}.xlsx"'})

