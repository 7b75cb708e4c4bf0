import io

from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..auth.roles import Permission
from ..extensions import db
from ..pagination import paginate
from ..queue import enqueue_after_commit
from ..region.models import Branch
from ..scoping import get_scoped_or_404, require, scoped, visible_branches_stmt
from . import bp, service
from .forms import ScopeForm, UploadForm
from .mapping import FIELD_LABELS, mapping_notes
from .models import ChangeKind, ImportChange, ImportIssue, ImportRun, ImportScope, ImportStatus, IssueKind

JOB_TIMEOUT = 4 * 3600  # a region export of a million rows takes minutes, not hours


def _run_or_404(run_id: int) -> ImportRun:
    return get_scoped_or_404(ImportRun, run_id, current_user, ImportRun.branch_id)


def _runs_stmt():
    return scoped(select(ImportRun), current_user, ImportRun.branch_id).order_by(ImportRun.id.desc())


@bp.route("/", methods=["GET", "POST"])
@require(Permission.EDIT_CONTACTS)
def index():
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        # A branch user's run belongs to one of their branches from the start (they choose which next).
        branch = None if current_user.region_wide else (current_user.branches or [None])[0]
        run = service.create_run(upload.stream, upload.filename or "export.csv", by=current_user, branch=branch)
        db.session.commit()
        if run.status is ImportStatus.FAILED:
            flash(f"That file could not be read: {run.error}", "error")
            return redirect(url_for(".show", run_id=run.id))
        return redirect(url_for(".mapping", run_id=run.id))
    runs = paginate(_runs_stmt(), request.args.get("page", 1, type=int), 20)
    return render_template("imports/index.html", form=form, runs=runs), 422 if form.errors else 200


@bp.route("/<int:run_id>/mapping", methods=["GET", "POST"])
@require(Permission.EDIT_CONTACTS)
def mapping(run_id: int):
    run = _run_or_404(run_id)
    if run.status is not ImportStatus.UPLOADED:
        return redirect(url_for(".show", run_id=run.id))
    branches = db.session.execute(visible_branches_stmt(current_user)).scalars().all()
    form = ScopeForm()
    form.set_branches(branches, current_user.region_wide)
    problems: list[str] = []
    if request.method == "POST" and form.validate():
        chosen = {i: (request.form.get(f"column-{i}") or None) for i in range(len(run.headers))}
        problems = service.set_mapping(run, chosen)
        if not problems:
            branch = db.session.get(Branch, int(form.branch.data)) if form.branch.data else None
            try:
                service.confirm_run(run, scope=ImportScope(form.scope.data), branch=branch, by=current_user)
            except service.ImportRefused as exc:
                problems.append(str(exc))
            else:
                enqueue_after_commit("jobs.imports.run_import", run.id, job_timeout=JOB_TIMEOUT)
                db.session.commit()
                return redirect(url_for(".show", run_id=run.id))
        db.session.rollback()
        run = _run_or_404(run_id)
    elif request.method == "GET" and run.branch_id:
        form.branch.data = str(run.branch_id)
    current = service.mapping_for(run)
    return render_template("imports/mapping.html", run=run, form=form, problems=problems, current=current,
                           notes=mapping_notes(current), samples=service.sample_rows(run), fields=FIELD_LABELS), \
        422 if problems or form.errors else 200


@bp.get("/<int:run_id>")
@require(Permission.EDIT_CONTACTS)
def show(run_id: int):
    run = _run_or_404(run_id)
    groups = {}
    for kind in ChangeKind:
        stmt = (select(ImportChange).where(ImportChange.run_id == run.id, ImportChange.kind == kind)
                .order_by(ImportChange.id).limit(50))
        groups[kind] = db.session.execute(stmt).scalars().all()
    issues = db.session.execute(select(ImportIssue).where(ImportIssue.run_id == run.id)
                                .order_by(ImportIssue.line_no, ImportIssue.id).limit(50)).scalars().all()
    return render_template("imports/show.html", run=run, groups=groups, issues=issues, IssueKind=IssueKind,
                           stalled=service.is_stalled(run),
                           ChangeKind=ChangeKind, identical=service.previous_identical(run) if run.finished else None)


@bp.get("/<int:run_id>/progress")
@require(Permission.EDIT_CONTACTS)
def progress(run_id: int):
    run = _run_or_404(run_id)
    return jsonify(service.progress(run))


@bp.get("/<int:run_id>/report.csv")
@require(Permission.EDIT_CONTACTS)
def report(run_id: int):
    run = _run_or_404(run_id)
    out = io.StringIO()
    rows = service.write_report(run, out)
    service.audit_report_download(run, current_user, rows)
    db.session.commit()
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="import-{run.id}-report.csv"'})


@bp.post("/<int:run_id>/abort")
@require(Permission.EDIT_CONTACTS)
def abort_import(run_id: int):
    run = _run_or_404(run_id)
    try:
        service.abort_run(run, current_user)
    except service.ImportRefused as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash("The import was stopped. Rows already imported stay imported.", "info")
    return redirect(url_for(".show", run_id=run.id))


@bp.post("/<int:run_id>/resume")
@require(Permission.EDIT_CONTACTS)
def resume(run_id: int):
    run = _run_or_404(run_id)
    if run.status not in (ImportStatus.RUNNING, ImportStatus.QUEUED):
        abort(404)
    enqueue_after_commit("jobs.imports.run_import", run.id, job_timeout=JOB_TIMEOUT)
    db.session.commit()
    flash(f"The import will carry on after line {run.last_line_done}.", "info")
    return redirect(url_for(".show", run_id=run.id))
