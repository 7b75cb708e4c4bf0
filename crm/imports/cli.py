"""`crm import-members FILE [--branch CODE] [--scope …] [--dry-run] [--report PATH]`."""
from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from ..cli import crm_cli
from ..extensions import db
from ..region.models import Branch
from . import service
from .models import ImportScope, ImportStatus


@crm_cli.command("import-members")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--branch", "branch_code", help="Branch of rows without a branch code (and of a branch export).")
@click.option("--scope", type=click.Choice([s.value for s in ImportScope]), default=None,
              help="region: a full region export; branch: a full export of --branch; partial: nobody is a leaver. "
                   "Default: branch with --branch, else partial.")
@click.option("--dry-run", is_flag=True, help="Read and check everything, change nothing.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the rejects/warnings report (default FILE.report.csv).")
def import_members_command(file: Path, branch_code, scope, dry_run, report_path):
    """Import a membership export (CSV or XLSX) and print the closing summary line."""
    branch = None
    if branch_code:
        branch = db.session.execute(select(Branch).where(Branch.code == branch_code.strip().upper())).scalar_one_or_none()
        if branch is None:
            raise click.ClickException(f"No branch with code {branch_code!r}. An admin adds branches in Admin → Branches.")
    chosen = ImportScope(scope) if scope else (ImportScope.BRANCH if branch else ImportScope.PARTIAL)
    run = service.create_run(file, file.name, by=None, scope=chosen, branch=branch, dry_run=dry_run)
    if run.status is ImportStatus.FAILED:
        if not dry_run:
            db.session.commit()
        raise click.ClickException(f"{file} could not be read: {run.error}")
    problems = service.mapping_problems_for(run)
    if problems:
        db.session.rollback()
        raise click.ClickException(" ".join(problems))
    try:
        service.confirm_run(run, scope=chosen, branch=branch, by=None)
    except service.ImportRefused as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    if not dry_run:
        db.session.commit()
    identical = service.previous_identical(run)
    service.execute_run(run)
    report_path = report_path or file.with_name(file.name + ".report.csv")
    with open(report_path, "w", newline="", encoding="utf-8") as out:
        service.write_report(run, out)
    summary = run.summary_line()
    if dry_run:
        db.session.rollback()
        click.echo("Dry run: nothing was changed.")
    elif identical is not None and run.imported == run.updated == 0:
        click.echo(f"This file was already imported (import #{identical.id}); nothing changed.")
    if run.status is ImportStatus.FAILED:
        raise click.ClickException(f"{file} could not be read: {run.error}")
    click.echo(f"Report: {report_path}")
    click.echo(summary)
